/*
 * The route table.
 */
#include "sx.h"
#include "router.h"
#include "log.h"

/*
 * ARG_REST: everything after the prefix (e.g. an artifact path), no suffix.
 * ARG_TASK_STEP: "{task id}/steps/{step id}" then the suffix; the handler
 * gets "<task id>/<step id>".
 */
enum route_arg { ARG_NONE, ARG_TASK, ARG_REST, ARG_TASK_STEP };

struct route {
	const char *method;
	const char *prefix;       /* path before the task id, or the whole path */
	enum route_arg arg;
	const char *suffix;       /* after the task id ("" for none) */
	void (*plain)(struct http_req *);
	void (*with_id)(struct http_req *, const char *);
	bool open;                /* the router checks no key: the route has its own credential,
				     none, or checks the key itself */
};

static const struct route routes[] = {
	/* Clients create with this one: the task's INSERT checks the key itself. */
	{ "POST", "/api/v1/tasks", ARG_NONE, "", tasks_create, NULL, true },
	{ "GET", "/api/v1/tasks", ARG_NONE, "", tasks_list, NULL, false },
	/* Clients poll this one: it checks the key itself, in the query that reads the task. */
	{ "GET", "/api/v1/tasks/", ARG_TASK, "", NULL, tasks_get, true },
	{ "GET", "/api/v1/tasks/", ARG_TASK, "/steps", NULL, tasks_steps, false },
	{ "POST", "/api/v1/tasks/", ARG_TASK, "/cancel", NULL, tasks_cancel, false },
	{ "POST", "/api/v1/tasks/", ARG_TASK, "/retry_webhook", NULL, tasks_retry_webhook, false },
	{ "GET", "/api/v1/tasks/", ARG_TASK, "/artifacts", NULL, artifacts_of_task, false },
	{ "GET", "/api/v1/tasks/", ARG_TASK, "/actions", NULL, tasks_actions, false },
	{ "GET", "/api/v1/tasks/", ARG_TASK_STEP, "/artifacts", NULL, artifacts_of_step, false },
	/* Skyvern's older SDK spells this one with a singular "task". */
	{ "GET", "/api/v1/task/", ARG_TASK, "/artifacts", NULL, artifacts_of_task, false },
	{ "POST", "/v1/run/tasks", ARG_NONE, "", runs_create, NULL, false },
	{ "GET", "/v1/runs/", ARG_TASK, "", NULL, runs_get, false },
	{ "POST", "/v1/runs/", ARG_TASK, "/cancel", NULL, runs_cancel, false },
	{ "GET", "/v1/runs/", ARG_TASK, "/artifacts", NULL, runs_artifacts, false },
	{ "POST", "/v1/runs/", ARG_TASK, "/retry_webhook", NULL, runs_retry_webhook, false },
	{ "POST", "/api/v1/totp", ARG_NONE, "", totp_push, NULL, false },
	/* Today's Skyvern SDKs push codes here (send_totp_code). */
	{ "POST", "/v1/credentials/totp", ARG_NONE, "", totp_push, NULL, false },
	{ "GET", "/artifacts/", ARG_REST, "", NULL, artifacts_serve, true },
	/* The API's description needs no key, as FastAPI serves its own openly. */
	{ "GET", "/api/v1/openapi.json", ARG_NONE, "", ops_openapi, NULL, true },
	{ "GET", "/healthz", ARG_NONE, "", ops_healthz, NULL, true },
	{ "GET", "/metrics", ARG_NONE, "", ops_metrics, NULL, true },
};

/* Matches path against r; writes the id segment into id when it has one. */
static bool route_match(const struct route *r, const char *path, char *id, size_t idlen)
{
	size_t plen = strlen(r->prefix);
	const char *seg, *end;
	size_t slen = strlen(r->suffix);

	if (r->arg == ARG_NONE)
		return strcmp(path, r->prefix) == 0;
	if (strncmp(path, r->prefix, plen) != 0)
		return false;
	seg = path + plen;
	if (r->arg == ARG_REST) {
		if (!*seg || strlen(seg) >= idlen)
			return false;
		memcpy(id, seg, strlen(seg) + 1);
		return true;
	}
	end = strchr(seg, '/');
	if (!end)
		end = seg + strlen(seg);
	if (r->arg == ARG_TASK_STEP) {
		/* Past "{task id}/steps/" to the end of the step id. */
		if (end == seg || strncmp(end, "/steps/", 7) != 0 || !end[7] || end[7] == '/')
			return false;
		end = strchr(end + 7, '/');
		if (!end)
			return false;
	}
	if (end == seg || strcmp(end, r->suffix) != 0 || (slen == 0 && *end))
		return false;
	if ((size_t)(end - seg) >= idlen)
		return false;
	memcpy(id, seg, (size_t)(end - seg));
	id[end - seg] = '\0';
	return true;
}

void router_print_routes(FILE *out)
{
	for (size_t i = 0; i < SX_ARRAY_LEN(routes); i++) {
		const struct route *r = &routes[i];
		const char *arg = r->arg == ARG_TASK ? "{id}" : r->arg == ARG_TASK_STEP ? "{id}/steps/{step_id}" :
				  r->arg == ARG_REST ? "{path+}" : "";

		fprintf(out, "%s %s%s%s\n", r->method, r->prefix, arg, r->suffix);
	}
}

/*
 * Whether the request target holds an escaped NUL (%00) in its path or its
 * query.  Decoded into a C string it would cut the value short, so that
 * "task_status=queued%00x" would read as "queued": one spelling, one
 * meaning.  nginx refuses %00 in the path itself; the query reaches the API
 * raw, and other front ends may pass either.
 */
static bool target_has_nul(const struct http_req *req)
{
	const char *uri = http_param(req, "REQUEST_URI");

	return strstr(req->query, "%00") || (uri && strstr(uri, "%00"));
}

void router_dispatch(struct http_req *req)
{
	const struct route *hit = NULL;
	char id[640], allow[64] = "";
	bool path_known = false;
	enum sx_rc rc;

	if (target_has_nul(req)) {
		http_reply_detail(req, 400, "Bad Request: the URL holds an escaped NUL byte (%00)");
		return;
	}

	for (size_t i = 0; i < SX_ARRAY_LEN(routes); i++) {
		char tmp[640];

		if (!route_match(&routes[i], req->path, tmp, sizeof(tmp)))
			continue;
		path_known = true;
		if (!strstr(allow, routes[i].method)) {
			size_t l = strlen(allow);

			snprintf(allow + l, sizeof(allow) - l, "%s%s", l ? ", " : "", routes[i].method);
		}
		if (strcmp(req->method, routes[i].method) == 0 && !hit) {
			hit = &routes[i];
			memcpy(id, tmp, sizeof(id));
		}
	}
	if (!path_known) {
		http_reply_detail(req, 404, "Not Found");
		return;
	}
	if (!hit) {
		char hdr[96];

		snprintf(hdr, sizeof(hdr), "Allow: %s\r\n", allow);
		http_reply_json(req, 405, http_error_detail("Method Not Allowed"), hdr);
		return;
	}
	if (hit->open) {
		if (hit->arg == ARG_NONE)
			hit->plain(req);
		else
			hit->with_id(req, id);
		return;
	}
	rc = http_authenticate(req);
	if (rc == SX_EAUTH) {
		http_reply_detail(req, 403, "Invalid credentials");
		return;
	}
	if (rc) {
		http_reply_db_error(req, rc);
		return;
	}
	if (hit->arg != ARG_NONE)
		hit->with_id(req, id);
	else
		hit->plain(req);
}
