#ifndef SX_FCGI_ROUTER_H
#define SX_FCGI_ROUTER_H
/*
 * Maps a request's method and path to its handler.  A target with an
 * escaped NUL (%00) in its path or query is 400 first.  An unknown path is
 * 404, a known path with another method 405 (with Allow), both before any
 * authentication, as FastAPI answers them.  Matched routes authenticate
 * (except the open ones: /healthz, /metrics, signed /artifacts/, and the
 * task GET and POST, whose own statement checks the key),
 * then call the handler with the path's task id (or NULL).
 */
#include "request.h"
#include "errors.h"
#include "task.h"

void router_dispatch(struct http_req *req);

/*
 * Writes the route table to out, one "METHOD TEMPLATE" line a route, in
 * table order: {id} for the task (or run) id segment, {id}/steps/{step_id}
 * for a step's, {path+} for "the rest of the path" (one or more segments).
 * The test that holds api/openapi.json to the router reads it
 * (sextant-api --routes), so the list is the table itself, not a copy.
 */
void router_print_routes(FILE *out);

/* Handlers, in task_routes.c.  Each writes exactly one reply. */
void tasks_create(struct http_req *req);
void tasks_list(struct http_req *req);
void tasks_get(struct http_req *req, const char *task_id);
void tasks_steps(struct http_req *req, const char *task_id);
void tasks_cancel(struct http_req *req, const char *task_id);
void tasks_retry_webhook(struct http_req *req, const char *task_id);

/*
 * The create both surfaces share (task_routes.c): x-max-steps-override and
 * Idempotency-Key, the body under its cap, parse (the surface's validator),
 * the url's address check, and the insert.  Writes the error answer itself
 * and returns false; on true, id holds the task's id and nothing is written
 * yet.
 */
typedef enum sx_rc (*create_parse_fn)(const char *body, size_t len, int max_depth,
				      const struct task_limits *lim, json_object **request,
				      json_object **run_extra, struct sx_invalid *why);
bool tasks_create_stored(struct http_req *req, create_parse_fn parse, char id[SX_ID_MAX]);

/* GET /api/v1/tasks/{id}/actions: the task's actions in order (task_routes.c). */
void tasks_actions(struct http_req *req, const char *task_id);

/*
 * The run API (run_routes.c, docs/run-api.md): POST /v1/run/tasks and
 * GET /v1/runs/{id}, its cancel, artifacts and retry_webhook.
 */
void runs_create(struct http_req *req);
void runs_get(struct http_req *req, const char *run_id);
void runs_cancel(struct http_req *req, const char *run_id);
void runs_artifacts(struct http_req *req, const char *run_id);
void runs_retry_webhook(struct http_req *req, const char *run_id);

/* In totp_routes.c: POST /api/v1/totp, a pushed 2FA code or the message holding one. */
void totp_push(struct http_req *req);

/*
 * In artifact_routes.c: GET /api/v1/tasks/{id}/artifacts (authenticated), and
 * GET /artifacts/<path>?expires=…&sig=… (no key: the signature is the
 * credential), answered with X-Accel-Redirect to nginx's internal location.
 */
void artifacts_of_task(struct http_req *req, const char *task_id);
/* GET /api/v1/tasks/{id}/steps/{step_id}/artifacts; ids is "<task id>/steps/<step id>". */
void artifacts_of_step(struct http_req *req, const char *ids);
void artifacts_serve(struct http_req *req, const char *rest);

/* In ops_routes.c: GET /healthz and GET /metrics (no key; nginx limits /metrics to loopback). */
void ops_healthz(struct http_req *req);
void ops_metrics(struct http_req *req);
/* In ops_routes.c: GET /api/v1/openapi.json, the document built into the binary (no key). */
void ops_openapi(struct http_req *req);
#endif
