#ifndef SX_WEBHOOK_MSG_H
#define SX_WEBHOOK_MSG_H
/*
 * The signed body of a task's webhook, as the agent's sender posts it
 * (agent/webhook.h) and as both retry_webhook routes send it: one body for
 * a receiver written against either surface, whichever surface created the
 * task.  It is the task object without `request`, updated with the run
 * object without `run_request` (Skyvern's merge: a member both have takes
 * the run's value and keeps the task's place; the run's other members follow
 * in the run object's order), as compact JSON, signed for the task's
 * organization (core/sign.h) at the current time.  The signing secret never
 * leaves webhook_msg_build().
 */
#include "sx.h"
#include <json-c/json.h>

struct sx_db;
struct sx_conf;
struct task;

struct webhook_msg {
	char *body;              /* the JSON text that was signed (owned) */
	size_t len;
	char timestamp[24];      /* x-skyvern-timestamp: unix seconds */
	char signature[72];      /* x-skyvern-signature */
};

/*
 * The webhook body of t before serialization (see above); app_base is the
 * public base URL the run object's app_url is made from (may be NULL).  The
 * caller owns the result.
 */
json_object *webhook_msg_body(const struct task *t, const char *app_base);

/*
 * Builds the message for task_id of org_id, with artifact URLs signed from
 * c.  SX_ENOTFOUND when the task is not org_id's; database failures as
 * task_db_get() and org_db_signing_get() report them.  The caller releases
 * *out with webhook_msg_release() whatever the result.
 */
enum sx_rc webhook_msg_build(struct sx_db *db, const struct sx_conf *c, const char *org_id,
			     const char *task_id, struct webhook_msg *out);

/* Frees m's body and clears m. */
void webhook_msg_release(struct webhook_msg *m);

struct http_client;
struct http_response;

/*
 * POSTs m to url through client with the signature headers, through the
 * outbound guard (c->outbound_allow) and c->webhook_timeout, reading at
 * most 1 MiB of the answer into *res (a longer answer is a transport
 * error, which the outbox retries; the caller releases *res with
 * http_response_release).  delivery_id (may be NULL) goes out as
 * x-sextant-delivery-id.  Returns http_perform's code.
 */
enum sx_rc webhook_msg_post(struct http_client *client, const struct sx_conf *c,
			    const struct webhook_msg *m, const char *url, const char *delivery_id,
			    struct http_response *res);
#endif
