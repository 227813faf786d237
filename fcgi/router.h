#ifndef SX_FCGI_ROUTER_H
#define SX_FCGI_ROUTER_H
/*
 * Maps a request's method and path to its handler.  An unknown path is 404,
 * a known path with another method 405 (with Allow), both before any
 * authentication, as FastAPI answers them.  Matched routes authenticate,
 * then call the handler with the path's task id (or NULL).
 */
#include "request.h"

void router_dispatch(struct http_req *req);

/* Handlers, in tasks.c.  Each writes exactly one reply. */
void tasks_create(struct http_req *req);
void tasks_list(struct http_req *req);
void tasks_get(struct http_req *req, const char *task_id);
void tasks_steps(struct http_req *req, const char *task_id);
void tasks_cancel(struct http_req *req, const char *task_id);
void tasks_retry_webhook(struct http_req *req, const char *task_id);

/* In totp.c: POST /api/v1/totp, a pushed 2FA code or the message holding one. */
void totp_push(struct http_req *req);
#endif
