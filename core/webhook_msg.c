/*
 * The signed webhook body of a task (see webhook_msg.h).
 */
#include "sx.h"
#include "webhook_msg.h"
#include "crypto.h"
#include "conf.h"
#include "http.h"
#include "org_db.h"
#include "run.h"
#include "sign.h"
#include "task.h"
#include "task_db.h"
#include "timeutil.h"

json_object *webhook_msg_body(const struct task *t, const char *app_base)
{
	json_object *body = task_to_json(t, false), *run = run_to_json(t, app_base);

	/* json-c replaces an existing member in place, as a Python dict's update() does. */
	json_object_object_foreach(run, key, val) {
		if (strcmp(key, "run_request") != 0)
			json_object_object_add(body, key, json_object_get(val));
	}
	json_object_put(run);
	return body;
}

enum sx_rc webhook_msg_build(struct sx_db *db, const struct sx_conf *c, const char *org_id,
			     const char *task_id, struct webhook_msg *out)
{
	char secret[SX_SIGNING_SECRET_MAX];
	enum sign_mode mode = SIGN_SLACK;
	json_object *o = NULL;
	const char *body;
	long long ts;
	struct task t;
	enum sx_rc rc;

	memset(out, 0, sizeof(*out));
	memset(&t, 0, sizeof(t));
	secret[0] = '\0';
	rc = task_db_get(db, org_id, task_id, c, &t);
	if (rc == SX_OK)
		rc = org_db_signing_get(db, org_id, secret, &mode);
	if (rc)
		goto out;
	o = webhook_msg_body(&t, c->public_base_url);
	body = json_object_to_json_string_length(o, JSON_C_TO_STRING_PLAIN |
						 JSON_C_TO_STRING_NOSLASHESCAPE, &out->len);
	out->body = xstrdup(body);
	/* A fresh timestamp per message: receivers reject old ones. */
	ts = (long long)(sx_now_us() / 1000000);
	snprintf(out->timestamp, sizeof(out->timestamp), "%lld", ts);
	sign_request(mode, secret, ts, out->body, out->len, out->signature);
out:
	crypto_wipe(secret, sizeof(secret));
	json_object_put(o);
	task_release(&t);
	return rc;
}

void webhook_msg_release(struct webhook_msg *m)
{
	free(m->body);
	memset(m, 0, sizeof(*m));
}

enum sx_rc webhook_msg_post(struct http_client *client, const struct sx_conf *c,
			    const struct webhook_msg *m, const char *url, const char *delivery_id,
			    struct http_response *res)
{
	struct http_header h[] = {
		{ "Content-Type", "application/json" },
		{ "x-skyvern-timestamp", m->timestamp },
		{ "x-skyvern-signature", m->signature },
		{ "User-Agent", "Sextant-Webhook/1" },
		{ "x-sextant-delivery-id", delivery_id },
	};
	struct http_request req = {
		.method = "POST", .url = url, .headers = h,
		.nheaders = SX_ARRAY_LEN(h) - (delivery_id ? 0 : 1),
		.body = m->body, .body_len = m->len, .timeout_ms = c->webhook_timeout * 1000,
		.max_response = 1024 * 1024, .guarded = true, .allow = c->outbound_allow,
	};

	return http_perform(client, &req, res);
}
