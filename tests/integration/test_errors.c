/*
 * Every error is JSON, whoever produces it: each malformed request is sent
 * as raw bytes on a socket (no HTTP library would send most of them), and
 * the answer must be the expected status with Content-Type application/json
 * and a body that parses as a JSON object holding "detail".  The errors
 * here are nginx's own (nginx/sextant-rules.conf), before or after location
 * matching, plus the API's refusal of an escaped NUL in the query.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>
#include <criterion/criterion.h>
#include "sx.h"
#include "client.h"
#include "artifact_url.h"
#include "buf.h"

static struct test_org org;

static void setup(void)
{
	test_org_new(&org, "errors");
}

TestSuite(errors, .init = setup);

/* A connected socket to the stack's nginx (127.0.0.1:SX_PORT), 10 s timeouts. */
static int stack_connect(void)
{
	struct sockaddr_in a;
	struct timeval tv = { .tv_sec = 10 };
	long long port = 0;
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	cr_assert(fd >= 0);
	cr_assert(sx_parse_ll(tenv("SX_PORT"), 1, 65535, &port), "SX_PORT %s", tenv("SX_PORT"));
	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_port = htons((uint16_t)port);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	cr_assert_eq(connect(fd, (struct sockaddr *)&a, sizeof(a)), 0, "connect to nginx: %s",
		     strerror(errno));
	return fd;
}

/*
 * Fills r from one raw HTTP/1.1 answer: the status, the Content-Type and the
 * body (Content-Length bytes after the head).
 */
static void parse_answer(const char *raw, size_t len, struct resp *r)
{
	const char *end = memmem(raw, len, "\r\n\r\n", 4), *ct, *cl;
	size_t body_len;

	cr_assert_not_null(end, "no complete head in %zu bytes: %.200s", len, raw);
	cr_assert(sscanf(raw, "HTTP/1.1 %ld", &r->status) == 1, "status line: %.80s", raw);
	ct = strcasestr(raw, "\r\nContent-Type: ");
	if (ct && ct < end)
		snprintf(r->content_type, sizeof(r->content_type), "%.*s",
			 (int)strcspn(ct + 16, "\r"), ct + 16);
	cl = strcasestr(raw, "\r\nContent-Length: ");
	cr_assert(cl && cl < end, "no Content-Length in %.300s", raw);
	body_len = (size_t)strtoul(cl + 18, NULL, 10);
	cr_assert_leq(end + 4 + body_len, raw + len, "body cut short: %.300s", raw);
	r->body = xstrndup(end + 4, body_len);
	r->len = body_len;
	r->json = json_tokener_parse(r->body);
}

/*
 * Sends len raw bytes as one request and reads the answer until nginx
 * closes the connection (every request here asks for that, and nginx closes
 * after an error anyway).
 */
static struct resp *raw_request(const char *req, size_t len)
{
	struct resp *r = xcalloc(1, sizeof(*r));
	struct sx_buf b;
	char chunk[8192];
	ssize_t n;
	int fd = stack_connect();

	sx_buf_init(&b, 1 << 20);
	cr_assert_eq(send(fd, req, len, MSG_NOSIGNAL), (ssize_t)len, "send: %s", strerror(errno));
	while ((n = recv(fd, chunk, sizeof(chunk), 0)) > 0)
		cr_assert_eq(sx_buf_append(&b, chunk, (size_t)n), SX_OK);
	close(fd);
	cr_assert_gt(b.len, 0, "no answer at all");
	sx_buf_putc(&b, '\0');
	parse_answer(b.data, b.len - 1, r);
	sx_buf_release(&b);
	return r;
}

/* The answer is status, application/json, a JSON object with a string "detail". */
static void assert_json_error(struct resp *r, long status, const char *what)
{
	json_object *d = jget(r, "detail");

	cr_assert_eq(r->status, status, "%s: want %ld, got %ld: %.300s", what, status, r->status, r->body);
	cr_assert_str_eq(r->content_type, "application/json", "%s: Content-Type %s", what, r->content_type);
	cr_assert(r->json && json_object_is_type(r->json, json_type_object), "%s: not JSON: %.300s", what,
		  r->body);
	cr_assert(d && json_object_is_type(d, json_type_string), "%s: no detail: %.300s", what, r->body);
}

static void raw_error(const char *req, size_t len, long status, const char *what)
{
	struct resp *r = raw_request(req, len);

	assert_json_error(r, status, what);
	resp_free(r);
}

#define RAW_ERROR(lit, status) raw_error(lit, sizeof(lit) - 1, status, #status " " lit)

#define HOST "Host: localhost\r\nConnection: close\r\n"

/* Malformed framing of the body: found while reading the request or its body. */
Test(errors, bad_content_length)
{
	RAW_ERROR("POST /api/v1/tasks HTTP/1.1\r\n" HOST "Content-Length: abc\r\n\r\n", 400);
	RAW_ERROR("POST /api/v1/tasks HTTP/1.1\r\n" HOST "Content-Length: -1\r\n\r\n", 400);
	RAW_ERROR("POST /api/v1/tasks HTTP/1.1\r\n" HOST "Content-Length: 2\r\nContent-Length: 3\r\n\r\n{}", 400);
}

Test(errors, bad_chunking)
{
	RAW_ERROR("POST /api/v1/tasks HTTP/1.1\r\n" HOST "Transfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n", 400);
	RAW_ERROR("POST /api/v1/tasks HTTP/1.1\r\n" HOST "Transfer-Encoding: chunked\r\n\r\n2\r\n{}xx0\r\n\r\n", 400);
	RAW_ERROR("POST /api/v1/tasks HTTP/1.1\r\n" HOST "Transfer-Encoding: gzip\r\n\r\n", 501);
	RAW_ERROR("POST /api/v1/tasks HTTP/1.1\r\n" HOST "Transfer-Encoding: chunked\r\nContent-Length: 2\r\n\r\n2\r\n{}\r\n0\r\n\r\n", 400);
}

Test(errors, nul_and_cr_in_headers)
{
	RAW_ERROR("GET /api/v1/tasks HTTP/1.1\r\n" HOST "X-A: a\0b\r\n\r\n", 400);
	RAW_ERROR("GET /api/v1/tasks HTTP/1.1\r\n" HOST "X\0A: ab\r\n\r\n", 400);
	RAW_ERROR("GET /api/v1/tasks HTTP/1.1\r\n" HOST "X-A: a\rb\r\n\r\n", 400);
	RAW_ERROR("GET /api/v1/tasks HTTP/1.1\r\n" HOST "X-A\r: ab\r\n\r\n", 400);
}

/* Before any location is chosen: the request line and the Host header. */
Test(errors, malformed_request_line_and_host)
{
	RAW_ERROR("GARBAGE\r\n\r\n", 400);
	RAW_ERROR("GET /api/v1/tasks HTTP/1.1 junk\r\n" HOST "\r\n", 400);
	RAW_ERROR("GET /api/v1/tasks HTTP/2.0\r\n" HOST "\r\n", 505);
	RAW_ERROR("GET /api/v1/tasks HTTP/1.1\r\nConnection: close\r\n\r\n", 400);
	RAW_ERROR("GET /api/v1/tasks HTTP/1.1\r\n" HOST "Host: other\r\n\r\n", 400);
	RAW_ERROR("GET /api/v1/tasks%00 HTTP/1.1\r\n" HOST "\r\n", 400);
	RAW_ERROR("TRACE /api/v1/tasks HTTP/1.1\r\n" HOST "\r\n", 405);
}

/* A request that holds one big header (431) or a big URI (414). */
static void oversized(bool in_header, long status)
{
	struct sx_buf b;

	sx_buf_init(&b, 1 << 20);
	sx_buf_puts(&b, in_header ? "GET /api/v1/tasks" : "GET /api/v1/tasks?page=1&x=");
	if (in_header)
		sx_buf_puts(&b, " HTTP/1.1\r\n" HOST "X-Big: ");
	for (int i = 0; i < 20000; i++)
		sx_buf_putc(&b, 'a');
	sx_buf_puts(&b, in_header ? "\r\n\r\n" : " HTTP/1.1\r\n" HOST "\r\n");
	raw_error(b.data, b.len, status, in_header ? "20 kB header" : "20 kB URI");
	sx_buf_release(&b);
}

/* nginx's own "400 Request Header Or Cookie Too Large" is answered as 431. */
Test(errors, oversized_header) { oversized(true, 431); }
Test(errors, oversized_uri) { oversized(false, 414); }

/* The API refuses a value that an escaped NUL would cut short. */
Test(errors, nul_in_query_value)
{
	static const char *const paths[] = {
		"/api/v1/tasks?task_status=queued%00x",
		"/api/v1/tasks?page_size=1%00",
		"/api/v1/tasks?%00=1",
	};

	for (size_t i = 0; i < SX_ARRAY_LEN(paths); i++) {
		struct resp *r = api_get(paths[i], org.key);

		assert_json_error(r, 400, paths[i]);
		resp_free(r);
	}
}

/* Locations that answer errors of their own: internal, unknown, not a method. */
Test(errors, internal_and_unknown_locations)
{
	static const char *const paths[] = {
		"/_artifacts_internal/x/y/z.png",
		"/_artifacts_internal/",
		"/_sextant_error/400",
		"/nothing-here.html",
	};

	for (size_t i = 0; i < SX_ARRAY_LEN(paths); i++) {
		struct resp *r = api_get(paths[i], NULL);

		assert_json_error(r, 404, paths[i]);
		resp_free(r);
	}
}

/*
 * Around a signed artifact: no unsigned path reaches the file (404), a
 * range past its end is 416 from nginx's internal location after
 * sextant-api said yes, and expires with a leading zero is 403 from the API.
 */
Test(errors, signed_artifact_range_and_expires_spelling)
{
	char *keyfile = xasprintf("%s/artifact_url.key", tenv("SX_VAR"));
	char *rel = xasprintf("%s/tsk_errors/range.png", org.id);
	char *dir = xasprintf("%s/artifacts/%s", tenv("SX_VAR"), org.id);
	char *file = xasprintf("%s/artifacts/%s", tenv("SX_VAR"), rel);
	char *mk = xasprintf("mkdir -p '%s/tsk_errors' && printf PNG > '%s'", dir, file);
	char *rm = xasprintf("rm -rf '%s'", dir), key[128] = "", *url, *zero, *unsigned_url;
	const char *range[] = { "Range: bytes=1000-", NULL };
	FILE *f = fopen(keyfile, "r");
	struct resp *r;

	cr_assert_not_null(f, "no %s", keyfile);
	cr_assert_not_null(fgets(key, sizeof(key), f));
	fclose(f);
	key[strcspn(key, "\r\n")] = '\0';
	cr_assert_eq(system(mk), 0);
	url = arturl_sign("", key, 600, (long long)time(NULL), rel);
	r = api_get(url, NULL);
	cr_assert_eq(r->status, 200, "signed URL: %ld %s", r->status, r->body);
	resp_free(r);
	/* No unsigned view of the artifacts directory, not even on the dev stack. */
	unsigned_url = xasprintf("/bench/static/%s", rel);
	r = api_get(unsigned_url, NULL);
	assert_json_error(r, 404, unsigned_url);
	resp_free(r);
	r = api_call("GET", url, NULL, NULL, 0, range);
	assert_json_error(r, 416, "range past the end");
	resp_free(r);
	zero = xasprintf("%.*s0%s", (int)(strstr(url, "expires=") + 8 - url), url, strstr(url, "expires=") + 8);
	r = api_get(zero, NULL);
	assert_json_error(r, 403, zero);
	resp_free(r);
	cr_assert_eq(system(rm), 0);
	free(unsigned_url);
	free(zero);
	free(url);
	free(rm);
	free(mk);
	free(file);
	free(dir);
	free(rel);
	free(keyfile);
}

/*
 * A FastCGI backend that is not there: the dev stack's /bench/bare/ has no
 * responder unless bench/api runs, so nginx sees 502 and answers JSON 503.
 */
Test(errors, backend_down_is_json_503)
{
	struct resp *r = api_get("/bench/bare/x", NULL);

	if (r->status == 200)
		cr_skip_test("bench/api's bare responder is running");
	assert_json_error(r, 503, "no responder");
	resp_free(r);
}
