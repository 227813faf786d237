/*
 * Fuzzes the FastCGI side of POST /api/v1/tasks: the input is the CGI
 * parameters nginx passes ("NAME=value" lines: REQUEST_URI, QUERY_STRING,
 * HTTP_X_API_KEY, HTTP_AUTHORIZATION, HTTP_X_MAX_STEPS_OVERRIDE,
 * HTTP_IDEMPOTENCY_KEY, CONTENT_LENGTH…), an empty line, then the body.
 * It runs http_req_init() and http_api_key() (fcgi/request.c) and the
 * create handler tasks_create() (fcgi/tasks.c) over in-memory streams, with
 * the database replaced by fuzz_stub_db.c.
 *
 * Beyond "no crash" it checks:
 *  - the decoded path has no trailing '/' (except "/") and is no longer
 *    than the raw one;
 *  - the API key found is NULL or non-empty, starts with no blank and is
 *    the tail of the x-api-key or Authorization header it came from;
 *  - the handler writes exactly one answer: a status of 200, 400, 413 or
 *    422, a Content-Length equal to the body's length, an RFC 8259 JSON body;
 *  - 200 exactly when a task was stored, and then the stored max_steps lies
 *    in [1, max_steps_limit] (equal to the override header when there is
 *    one) and the stored Idempotency-Key is the header, 1 to 255 bytes.
 */
#include <strings.h>
#include "fuzz_fcgi.h"
#include "fuzz_stub_db.h"
#include "conf.h"
#include "log.h"
#include "router.h"
#include "task.h"

static struct sx_conf conf;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	sx_log_min = SX_LOG_ERROR;
	sx_conf_defaults(&conf);
	conf.api_max_body = 64 * 1024;
	return 0;
}

static void check_path(const struct http_req *req, const char *raw_uri)
{
	size_t n = strlen(req->path);

	FUZZ_CHECK(n <= 1 || req->path[n - 1] != '/', "trailing slash kept: %s", req->path);
	FUZZ_CHECK(!raw_uri || n <= strlen(raw_uri) || n == 1, "path longer than the URI");
}

static void check_api_key(const struct http_req *req)
{
	const char *key = http_api_key(req);
	const char *x = http_param(req, "HTTP_X_API_KEY");
	const char *auth = http_param(req, "HTTP_AUTHORIZATION");
	const char *from;
	size_t n;

	if (!key)
		return;
	FUZZ_CHECK(*key && *key != ' ' && *key != '\t', "key empty or starting with a blank");
	from = x && x[strspn(x, " \t")] ? x : auth;
	FUZZ_CHECK(from != NULL, "a key without a header");
	n = strlen(from);
	FUZZ_CHECK(key >= from && key < from + n, "the key is not a tail of its header");
	if (from == auth)
		FUZZ_CHECK(strncasecmp(auth, "Bearer ", 7) == 0, "Authorization without Bearer");
}

/* Splits the answer "Status: N …\r\n…\r\n\r\nbody"; returns the status. */
static int check_answer(const char *answer, size_t answerlen)
{
	const char *sep = strstr(answer, "\r\n\r\n"), *cl;
	const char *body;
	long long status = 0, declared = -1;
	char err[128];
	json_object *o;

	FUZZ_CHECK(strncmp(answer, "Status: ", 8) == 0 && sep, "no status line: %s", answer);
	status = strtoll(answer + 8, NULL, 10);
	cl = strstr(answer, "Content-Length: ");
	FUZZ_CHECK(cl && cl < sep, "no Content-Length");
	declared = strtoll(cl + 16, NULL, 10);
	body = sep + 4;
	FUZZ_CHECK((size_t)declared == answerlen - (size_t)(body - answer),
		   "Content-Length %lld for %zu bytes", declared, answerlen - (size_t)(body - answer));
	FUZZ_CHECK(fuzz_json_valid(body, (size_t)declared), "the answer is not JSON: %s", body);
	o = sx_json_parse(body, (size_t)declared, 128, err, sizeof(err));
	FUZZ_CHECK(o != NULL, "the answer is not strict JSON (%s): %s", err, body);
	json_object_put(o);
	FUZZ_CHECK(status == 200 || status == 400 || status == 413 || status == 422,
		   "status %lld: %s", status, answer);
	return (int)status;
}

static void check_created(const struct http_req *req, int status)
{
	const char *override = http_param(req, "HTTP_X_MAX_STEPS_OVERRIDE");
	const char *idem = http_param(req, "HTTP_IDEMPOTENCY_KEY");
	long long want = 0;

	FUZZ_CHECK((status == 200) == (fuzz_created.calls == 1) && fuzz_created.calls <= 1,
		   "status %d after %d inserts", status, fuzz_created.calls);
	if (status != 200)
		return;
	FUZZ_CHECK(fuzz_created.has_request, "stored without a request");
	FUZZ_CHECK(fuzz_created.max_steps >= 1 && fuzz_created.max_steps <= conf.max_steps_limit,
		   "stored max_steps %lld", fuzz_created.max_steps);
	if (override)
		FUZZ_CHECK(sx_parse_ll(override, 1, conf.max_steps_limit, &want) &&
			   want == fuzz_created.max_steps,
			   "override '%s' stored as %lld", override, fuzz_created.max_steps);
	FUZZ_CHECK((idem == NULL) == (fuzz_created.idem_key == NULL), "Idempotency-Key lost");
	if (idem)
		FUZZ_CHECK(strcmp(idem, fuzz_created.idem_key) == 0 && *idem &&
			   strlen(idem) <= TASK_IDEMPOTENCY_KEY_MAX,
			   "Idempotency-Key '%s' stored as '%s'", idem, fuzz_created.idem_key);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_fcgi f;
	struct http_req req;
	int status;

	fuzz_fcgi_init(&f, data, size);
	fuzz_created_reset();
	http_req_init(&req, &f.req, &conf, NULL);
	check_path(&req, http_param(&req, "REQUEST_URI"));
	check_api_key(&req);
	snprintf(req.org_id, sizeof(req.org_id), "org_%s", "00000000000000000000000000");
	tasks_create(&req);
	FUZZ_CHECK(req.replied, "no answer");
	fuzz_fcgi_flush(&f);
	status = check_answer(f.answer, f.answerlen);
	FUZZ_CHECK(status == req.status, "status %d written, %d recorded", status, req.status);
	check_created(&req, status);
	http_req_release(&req);
	fuzz_created_reset();
	fuzz_fcgi_release(&f);
	return 0;
}
