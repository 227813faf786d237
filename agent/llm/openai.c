/*
 * The OpenAI Chat Completions wire format, which OpenAI-compatible servers
 * (vLLM, llama.cpp server, Ollama, OpenRouter) speak too:
 *
 *   POST {base}/chat/completions   Authorization: Bearer KEY
 *   {"model", "messages":[{"role":"system","content":S},
 *                         {"role":"user","content":[{"type":"text","text":U},
 *                            {"type":"image_url","image_url":{"url":"data:image/png;base64,…",
 *                                                             "detail":"low"}}]}],
 *    "max_tokens", "temperature":0}
 *
 *   200 {"choices":[{"message":{"content":"…"},"finish_reason":"stop"}],
 *        "usage":{"prompt_tokens":N,"completion_tokens":M}}
 *   4xx/5xx {"error":{"message":"…","type":"…"}}
 *
 * max_tokens (not max_completion_tokens) is used because every compatible
 * server accepts it; "detail" is sent only when llm_image_detail is low or
 * high (absent, OpenAI reads it as auto, and compatible servers never see it).
 */
#include "sx.h"
#include "buf.h"
#include "http.h"
#include "wire.h"

static json_object *openai_build(const struct llm_wire_params *p, const struct llm_request *req,
				 const char *image_data)
{
	json_object *body = json_object_new_object();
	json_object *messages = json_object_new_array();
	json_object *sys = json_object_new_object();
	json_object *user = json_object_new_object();
	json_object *parts = json_object_new_array();
	json_object *text = json_object_new_object();

	json_object_object_add(body, "model", json_object_new_string(p->model));
	json_object_object_add(sys, "role", json_object_new_string("system"));
	json_object_object_add(sys, "content", json_object_new_string(req->system ? req->system : ""));
	json_object_array_add(messages, sys);

	json_object_object_add(text, "type", json_object_new_string("text"));
	json_object_object_add(text, "text", json_object_new_string(req->user ? req->user : ""));
	json_object_array_add(parts, text);
	if (image_data) {
		json_object *img = json_object_new_object();
		json_object *url = json_object_new_object();
		char *data_url = xasprintf("data:image/png;base64,%s", image_data);

		json_object_object_add(url, "url", json_object_new_string(data_url));
		if (p->image_detail)
			json_object_object_add(url, "detail", json_object_new_string(p->image_detail));
		json_object_object_add(img, "type", json_object_new_string("image_url"));
		json_object_object_add(img, "image_url", url);
		json_object_array_add(parts, img);
		free(data_url);
	}
	json_object_object_add(user, "role", json_object_new_string("user"));
	json_object_object_add(user, "content", parts);
	json_object_array_add(messages, user);

	json_object_object_add(body, "messages", messages);
	json_object_object_add(body, "max_tokens", json_object_new_int64(p->max_tokens));
	json_object_object_add(body, "temperature", json_object_new_int(0));
	return body;
}

static void openai_headers(const char *key, struct llm_wire_headers *out)
{
	if (key)
		llm_wire_header_add(out, "Authorization", xasprintf("Bearer %s", key));
}

/*
 * content is normally a string; a few compatible servers answer an array
 * of {"type":"text","text":…} parts, which are joined.  NULL when there is
 * no text at all.
 */
static char *openai_content_text(json_object *content)
{
	char *out = NULL;
	struct sx_buf b;
	size_t i, n;

	if (json_object_is_type(content, json_type_string)) {
		out = xstrdup(json_object_get_string(content));
	} else if (json_object_is_type(content, json_type_array)) {
		sx_buf_init(&b, SIZE_MAX / 2);
		n = json_object_array_length(content);
		for (i = 0; i < n; i++) {
			json_object *part = json_object_array_get_idx(content, i), *t;

			if (json_object_object_get_ex(part, "text", &t) &&
			    json_object_is_type(t, json_type_string))
				sx_buf_puts(&b, json_object_get_string(t));
		}
		if (b.len)
			out = sx_buf_detach(&b, NULL);
		sx_buf_release(&b);
	}
	return out;
}

static enum sx_rc openai_parse(json_object *resp, struct llm_wire_answer *ans,
			       char *err, size_t errlen)
{
	enum sx_rc rc = SX_OK;
	json_object *usage, *v, *choices, *choice, *message, *content, *finish;

	if (json_object_object_get_ex(resp, "usage", &usage)) {
		if (json_object_object_get_ex(usage, "prompt_tokens", &v))
			ans->input_tokens = json_object_get_int64(v);
		if (json_object_object_get_ex(usage, "completion_tokens", &v))
			ans->output_tokens = json_object_get_int64(v);
	}
	if (!json_object_object_get_ex(resp, "choices", &choices) ||
	    !json_object_is_type(choices, json_type_array) ||
	    json_object_array_length(choices) == 0) {
		rc = SX_EPARSE;
		snprintf(err, errlen, "response has no choices");
		goto out;
	}
	choice = json_object_array_get_idx(choices, 0);
	if (!json_object_object_get_ex(choice, "message", &message)) {
		rc = SX_EPARSE;
		snprintf(err, errlen, "response choice has no message");
		goto out;
	}
	if (json_object_object_get_ex(choice, "finish_reason", &finish) &&
	    json_object_is_type(finish, json_type_string) &&
	    strcmp(json_object_get_string(finish), "length") == 0)
		ans->truncated = true;
	json_object_object_get_ex(message, "content", &content);
	ans->text = openai_content_text(content);
	if (!ans->text) {
		rc = SX_EPARSE;
		/* A refusal comes back with content null and the reason beside it. */
		if (json_object_object_get_ex(message, "refusal", &v) &&
		    json_object_is_type(v, json_type_string))
			snprintf(err, errlen, "model refused: %s", json_object_get_string(v));
		else
			snprintf(err, errlen, "response message has no text content");
	}
out:
	return rc;
}

static const char *openai_error_message(json_object *resp)
{
	const char *msg = NULL;
	json_object *e, *m;

	if (json_object_object_get_ex(resp, "error", &e)) {
		if (json_object_is_type(e, json_type_string))
			msg = json_object_get_string(e);     /* some compatible servers */
		else if (json_object_object_get_ex(e, "message", &m) &&
			 json_object_is_type(m, json_type_string))
			msg = json_object_get_string(m);
	} else if (json_object_object_get_ex(resp, "message", &m) &&
		   json_object_is_type(m, json_type_string)) {
		msg = json_object_get_string(m);
	}
	return msg;
}

const struct llm_wire_ops llm_openai_wire = {
	.name = "openai",
	.path = "/chat/completions",
	.build = openai_build,
	.headers = openai_headers,
	.parse = openai_parse,
	.error_message = openai_error_message,
};
