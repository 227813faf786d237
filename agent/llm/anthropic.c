/*
 * The Anthropic Messages wire format:
 *
 *   POST {base}/messages   x-api-key: KEY   anthropic-version: 2023-06-01
 *   {"model", "max_tokens", "temperature":0, "system":S,
 *    "messages":[{"role":"user","content":[
 *        {"type":"image","source":{"type":"base64","media_type":"image/png","data":…}},
 *        {"type":"text","text":U}]}]}
 *
 *   200 {"type":"message","content":[{"type":"text","text":"…"}],
 *        "stop_reason":"end_turn","usage":{"input_tokens":N,"output_tokens":M}}
 *   4xx/5xx {"type":"error","error":{"type":"…","message":"…"}}
 *
 * The image goes before the text, as Anthropic recommends for vision prompts.
 * There is no detail setting: llm_image_detail = low reaches Anthropic as
 * a smaller screenshot (llm_screenshot_width in llm.h).
 */
#include "sx.h"
#include "buf.h"
#include "http.h"
#include "wire.h"

#define ANTHROPIC_VERSION "2023-06-01"

static json_object *anthropic_build(const struct llm_wire_params *p, const struct llm_request *req,
				    const char *image_data)
{
	json_object *body = json_object_new_object();
	json_object *messages = json_object_new_array();
	json_object *user = json_object_new_object();
	json_object *parts = json_object_new_array();
	json_object *text = json_object_new_object();

	json_object_object_add(body, "model", json_object_new_string(p->model));
	json_object_object_add(body, "max_tokens", json_object_new_int64(p->max_tokens));
	json_object_object_add(body, "temperature", json_object_new_int(0));
	json_object_object_add(body, "system", json_object_new_string(req->system ? req->system : ""));

	if (image_data) {
		json_object *img = json_object_new_object();
		json_object *src = json_object_new_object();

		json_object_object_add(src, "type", json_object_new_string("base64"));
		json_object_object_add(src, "media_type", json_object_new_string("image/png"));
		json_object_object_add(src, "data", json_object_new_string(image_data));
		json_object_object_add(img, "type", json_object_new_string("image"));
		json_object_object_add(img, "source", src);
		json_object_array_add(parts, img);
	}
	json_object_object_add(text, "type", json_object_new_string("text"));
	json_object_object_add(text, "text", json_object_new_string(req->user ? req->user : ""));
	json_object_array_add(parts, text);

	json_object_object_add(user, "role", json_object_new_string("user"));
	json_object_object_add(user, "content", parts);
	json_object_array_add(messages, user);
	json_object_object_add(body, "messages", messages);
	return body;
}

static void anthropic_headers(const char *key, struct llm_wire_headers *out)
{
	llm_wire_header_add(out, "anthropic-version", xstrdup(ANTHROPIC_VERSION));
	if (key)
		llm_wire_header_add(out, "x-api-key", xstrdup(key));
}

static enum sx_rc anthropic_parse(json_object *resp, struct llm_wire_answer *ans,
				  char *err, size_t errlen)
{
	enum sx_rc rc = SX_OK;
	json_object *usage, *v, *content, *stop;
	struct sx_buf b;
	size_t i, n;
	bool any = false;

	sx_buf_init(&b, SIZE_MAX / 2);
	if (json_object_object_get_ex(resp, "usage", &usage)) {
		if (json_object_object_get_ex(usage, "input_tokens", &v))
			ans->input_tokens = json_object_get_int64(v);
		if (json_object_object_get_ex(usage, "output_tokens", &v))
			ans->output_tokens = json_object_get_int64(v);
	}
	if (json_object_object_get_ex(resp, "stop_reason", &stop) &&
	    json_object_is_type(stop, json_type_string) &&
	    strcmp(json_object_get_string(stop), "max_tokens") == 0)
		ans->truncated = true;
	if (!json_object_object_get_ex(resp, "content", &content) ||
	    !json_object_is_type(content, json_type_array)) {
		rc = SX_EPARSE;
		snprintf(err, errlen, "response has no content array");
		goto out;
	}
	/* Only text blocks are the answer; others (thinking, tool use) are skipped. */
	n = json_object_array_length(content);
	for (i = 0; i < n; i++) {
		json_object *block = json_object_array_get_idx(content, i), *type, *t;

		if (json_object_object_get_ex(block, "type", &type) &&
		    json_object_is_type(type, json_type_string) &&
		    strcmp(json_object_get_string(type), "text") == 0 &&
		    json_object_object_get_ex(block, "text", &t) &&
		    json_object_is_type(t, json_type_string)) {
			sx_buf_puts(&b, json_object_get_string(t));
			any = true;
		}
	}
	if (!any) {
		rc = SX_EPARSE;
		snprintf(err, errlen, "response has no text block");
		goto out;
	}
	ans->text = sx_buf_detach(&b, NULL);
out:
	sx_buf_release(&b);
	return rc;
}

static const char *anthropic_error_message(json_object *resp)
{
	const char *msg = NULL;
	json_object *e, *m;

	if (json_object_object_get_ex(resp, "error", &e) &&
	    json_object_object_get_ex(e, "message", &m) &&
	    json_object_is_type(m, json_type_string))
		msg = json_object_get_string(m);
	return msg;
}

const struct llm_wire_ops llm_anthropic_wire = {
	.name = "anthropic",
	.path = "/messages",
	.build = anthropic_build,
	.headers = anthropic_headers,
	.parse = anthropic_parse,
	.error_message = anthropic_error_message,
};
