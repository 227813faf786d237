/*
 * Integration-test helpers (see client.h).
 */
#include <stdarg.h>
#include <strings.h>
#include <curl/curl.h>
#include <criterion/criterion.h>
#include "sx.h"
#include "client.h"
#include "conf.h"
#include "db.h"
#include "buf.h"
#include "json.h"
#include "wait.h"
#include "openapi.h"

const char *tenv(const char *name)
{
	const char *v = getenv(name);

	cr_assert(v && *v, "%s is not set: run the integration tests with ./stack test", name);
	return v;
}

static size_t on_body(char *p, size_t size, size_t n, void *arg)
{
	struct sx_buf *b = arg;

	return sx_buf_append(b, p, size * n) == SX_OK ? size * n : 0;
}

void resp_check_contract(const char *method, const char *path, const struct resp *r)
{
	char err[128], why[1536];

	/* Every JSON answer, of every test, must be strict RFC 8259 JSON (issue 9). */
	if (strncmp(r->content_type, "application/json", 16) == 0)
		cr_assert_eq(sx_json_check(r->body, r->len, 512, err, sizeof(err)), SX_OK,
			     "%s %s answered JSON that is not strict (%s): %.300s", method, path, err, r->body);
	/* Every answer, of every test, must be what api/openapi.json says it is (issue 10). */
	cr_assert(openapi_check(method, path, r->status, r->content_type, r->body, r->len, why, sizeof(why)),
		  "the answer does not match api/openapi.json: %s", why);
}

struct resp *api_call(const char *method, const char *path, const char *key,
		      const char *body, size_t len, const char *const *headers)
{
	struct resp *r = xcalloc(1, sizeof(*r));
	struct curl_slist *h = NULL;
	struct sx_buf b, hb;
	char *url = xasprintf("%s%s", tenv("SX_URL"), path);
	char *keyh = NULL;
	CURL *c = curl_easy_init();
	char *ct = NULL;

	sx_buf_init(&b, 64 << 20);
	sx_buf_init(&hb, 64 << 10);
	if (key) {
		keyh = xasprintf("x-api-key: %s", key);
		h = curl_slist_append(h, keyh);
	}
	if (body)
		h = curl_slist_append(h, "Content-Type: application/json");
	h = curl_slist_append(h, "Expect:");
	for (size_t i = 0; headers && headers[i]; i++)
		h = curl_slist_append(h, headers[i]);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_body);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, &hb);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 30L);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	if (body) {
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
	} else if (strcmp(method, "POST") == 0) {
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, "");
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)0);
	}
	if (curl_easy_perform(c) == CURLE_OK) {
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r->status);
		curl_easy_getinfo(c, CURLINFO_CONTENT_TYPE, &ct);
		if (ct)
			snprintf(r->content_type, sizeof(r->content_type), "%s", ct);
	}
	r->body = sx_buf_detach(&b, &r->len);
	if (!r->body)
		r->body = xstrdup("");
	r->headers = sx_buf_detach(&hb, NULL);
	if (!r->headers)
		r->headers = xstrdup("");
	/* A list page nests two levels deeper than the requests it shows. */
	r->json = sx_json_parse_stored(r->body, r->len, 512, NULL, 0);
	resp_check_contract(method, path, r);
	curl_easy_cleanup(c);
	curl_slist_free_all(h);
	free(keyh);
	free(url);
	return r;
}

struct resp *api_get(const char *path, const char *key)
{
	return api_call("GET", path, key, NULL, 0, NULL);
}

struct resp *api_post_json(const char *path, const char *key, const char *body)
{
	return api_call("POST", path, key, body, body ? strlen(body) : 0, NULL);
}

json_object *api_get_json(const char *key, const char *fmt, ...)
{
	va_list ap;
	char path[512];
	struct resp *r;
	json_object *o;

	va_start(ap, fmt);
	vsnprintf(path, sizeof(path), fmt, ap);
	va_end(ap);
	r = api_get(path, key);
	cr_assert_eq(r->status, 200, "GET %s: %ld %s", path, r->status, r->body);
	o = json_object_get(r->json);
	resp_free(r);
	return o;
}

char *metrics_scrape(void)
{
	struct resp *r = api_get("/metrics", NULL);
	char *text;

	cr_assert_eq(r->status, 200, "/metrics: %ld", r->status);
	cr_assert(strncmp(r->content_type, "text/plain; version=0.0.4", 25) == 0, "%s", r->content_type);
	text = xstrdup(r->body);
	resp_free(r);
	return text;
}

double metric_value(const char *text, const char *name)
{
	size_t n = strlen(name);
	const char *hit = NULL;

	for (const char *p = text; !hit && p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL)
		if (strncmp(p, name, n) == 0 && p[n] == ' ')
			hit = p + n + 1;
	return hit ? strtod(hit, NULL) : -1;
}

void resp_free(struct resp *r)
{
	if (!r)
		return;
	json_object_put(r->json);
	free(r->body);
	free(r->headers);
	free(r);
}

bool resp_header(const struct resp *r, const char *name, char *out, size_t outlen)
{
	size_t n = strlen(name), vlen;
	const char *line, *v;
	bool found = false;

	for (line = r->headers; *line && !found; line += strcspn(line, "\n"), line += *line == '\n') {
		if (strncasecmp(line, name, n) != 0 || line[n] != ':')
			continue;
		v = line + n + 1;
		v += strspn(v, " \t");
		vlen = strcspn(v, "\r\n");
		while (vlen > 0 && (v[vlen - 1] == ' ' || v[vlen - 1] == '\t'))
			vlen--;
		snprintf(out, outlen, "%.*s", (int)vlen, v);
		found = true;
	}
	return found;
}

json_object *jget(const struct resp *r, const char *key)
{
	json_object *v = NULL;

	if (!r->json || !json_object_is_type(r->json, json_type_object))
		return NULL;
	json_object_object_get_ex(r->json, key, &v);
	return v;
}

const char *jstr(json_object *o, const char *key)
{
	json_object *v = NULL;

	if (!o || !json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

char *admin(const char *fmt, ...)
{
	va_list ap;
	char args[512], line[512];
	char *cmd;
	FILE *p;
	size_t n = 0;

	va_start(ap, fmt);
	vsnprintf(args, sizeof(args), fmt, ap);
	va_end(ap);
	cmd = xasprintf("'%s' --config '%s' %s 2>/dev/null", tenv("SX_ADMIN"), tenv("SX_CONF"), args);
	p = popen(cmd, "r");
	free(cmd);
	if (!p)
		return NULL;
	line[0] = '\0';
	if (fgets(line, sizeof(line), p))
		n = strcspn(line, "\r\n");
	line[n] = '\0';
	if (pclose(p) != 0)
		return NULL;
	return xstrdup(line);
}

void test_org_new(struct test_org *o, const char *name)
{
	char *id = admin("org create '%s'", name);
	char *key;

	cr_assert(id && *id, "sextant-admin org create failed");
	key = admin("key create --org %s", id);
	cr_assert(key && *key, "sextant-admin key create failed");
	snprintf(o->id, sizeof(o->id), "%s", id);
	snprintf(o->key, sizeof(o->key), "%s", key);
	free(id);
	free(key);
}

static struct sx_db *the_db;
static struct sx_conf the_conf;

struct sx_db *tdb(void)
{
	char err[512];

	if (the_db)
		return the_db;
	memset(&the_conf, 0, sizeof(the_conf));
	cr_assert(sx_conf_load(&the_conf, tenv("SX_CONF"), err, sizeof(err)) == SX_OK, "%s", err);
	cr_assert(sx_db_open(&the_db, &the_conf) == SX_OK, "database: %s", sx_db_error(the_db));
	return the_db;
}

struct sx_rows *db_rows1(const char *sql, const char *param)
{
	struct sx_param p[] = { sx_p_str(param) };
	struct sx_rows *rows = NULL;

	cr_assert(sx_db_query(tdb(), sql, p, 1, &rows) == SX_OK, "query failed: %s [%s]", sx_db_error(tdb()), sql);
	return rows;
}

long long db_count1(const char *sql, const char *param)
{
	struct sx_rows *rows = db_rows1(sql, param);
	long long n;

	n = rows->nrows ? sx_rows_i64(rows, 0, 0, -1) : -1;
	sx_rows_free(rows);
	return n;
}

bool db_count_reached(void *arg)
{
	const struct db_count *c = arg;

	return db_count1(c->sql, c->param) >= c->min;
}

void wait_db_count(const char *sql, const char *param, long long min, int timeout_s)
{
	struct db_count c = { sql, param, min };

	cr_assert(wait_until(db_count_reached, &c, timeout_s * 1000), "after %d s, %lld < %lld for %s [%s]",
		  timeout_s, db_count1(sql, param), min, sql, param);
}

void db_exec2(const char *sql, const char *p1, const char *p2)
{
	struct sx_param p[] = { sx_p_str(p1), sx_p_str(p2) };
	size_t np = p2 ? 2 : 1;

	cr_assert(sx_db_exec(tdb(), sql, p, np, NULL) == SX_OK, "exec failed: %s", sx_db_error(tdb()));
}

char *create_task(const char *key, const char *url)
{
	char *body = xasprintf("{\"url\":\"%s\",\"navigation_goal\":\"look\"}", url);
	struct resp *r = api_post_json("/api/v1/tasks", key, body);
	const char *id;
	char *out;

	cr_assert_eq(r->status, 200, "create: %ld %s", r->status, r->body);
	id = jstr(r->json, "task_id");
	cr_assert(id, "no task_id in %s", r->body);
	out = xstrdup(id);
	resp_free(r);
	free(body);
	return out;
}
