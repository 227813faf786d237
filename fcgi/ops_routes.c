/*
 * Operations endpoints: GET /healthz for load balancers, GET /metrics for
 * Prometheus and GET /api/v1/openapi.json, the API's description.  None
 * takes an API key; nginx lets /metrics through from loopback only
 * (nginx/sextant.conf).
 */
#include "sx.h"
#include "router.h"
#include "buf.h"
#include "log.h"
#include "metrics.h"
#include "conf.h"

/* api/openapi.json, compiled in by gen-js.sh (fcgi/openapi_json.c). */
extern const char openapi_json[];

/* A scrape is a few hundred lines at most; the cap only guards a bug. */
#define METRICS_MAX (1u << 20)

/*
 * The artifacts directory's problem for /healthz ("" when it is writable):
 * "not writable: EROFS (Read-only file system)".
 */
static void ops_artifacts_problem(const struct sx_conf *c, char *out, size_t outlen)
{
	int err = 0;

	out[0] = '\0';
	if (metrics_dir_writable(c->artifacts_dir, &err) != SX_OK) {
		snprintf(out, outlen, "not writable: %s (%s)", strerrorname_np(err) ? strerrorname_np(err) : "?",
			 strerror(err));
		log_warn("api", "msg=\"artifacts directory not writable\" path=%s error=%s",
			 sx_log_quote(c->artifacts_dir), sx_log_quote(strerror(err)));
	}
}

/*
 * 200 {"status":"ok"} when the database answers and artifacts_dir is
 * writable.  A database that does not answer is 503 "unhealthy": this host
 * cannot serve the API.  An artifacts directory this host cannot write is
 * 200 "degraded", with "checks" naming it: the API still serves every
 * request (the agents lose screenshots and recordings, and say so in the
 * tasks' errors), so a load balancer must not take every API host out of
 * rotation for a full disk, while a monitor reading the body sees it.
 */
void ops_healthz(struct http_req *req)
{
	json_object *o = json_object_new_object(), *checks;
	enum sx_rc rc = metrics_health(req->db);
	char art[160];

	ops_artifacts_problem(req->conf, art, sizeof(art));
	json_object_object_add(o, "status", json_object_new_string(rc ? "unhealthy" : art[0] ? "degraded" : "ok"));
	if (rc)
		json_object_object_add(o, "detail", json_object_new_string(
			rc == SX_EDBDOWN ? "database not reachable" : "database error"));
	else if (art[0])
		json_object_object_add(o, "detail", json_object_new_string("artifacts directory not writable"));
	if (art[0]) {
		checks = json_object_new_object();
		json_object_object_add(checks, "database", json_object_new_string(rc ? "unhealthy" : "ok"));
		json_object_object_add(checks, "artifacts_dir", json_object_new_string(art));
		json_object_object_add(o, "checks", checks);
	}
	http_reply_json(req, rc ? 503 : 200, o, NULL);
}

void ops_metrics(struct http_req *req)
{
	struct sx_buf b;
	enum sx_rc rc;

	sx_buf_init(&b, METRICS_MAX);
	rc = metrics_render(req->db, &b);
	if (rc) {
		log_warn("api", "msg=\"metrics failed\" error=%s", sx_log_quote(sx_strerror(rc)));
		http_reply_db_error(req, rc);
		goto out;
	}
	http_reply_raw(req, 200, "text/plain; version=0.0.4; charset=utf-8", sx_buf_str(&b), b.len, NULL);
out:
	sx_buf_release(&b);
}

/*
 * The OpenAPI document of this build, from memory: the binary and the
 * document it answers with cannot disagree, and nothing is read from disk.
 */
void ops_openapi(struct http_req *req)
{
	http_reply_raw(req, 200, "application/json", openapi_json, strlen(openapi_json), NULL);
}
