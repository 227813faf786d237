/*
 * What both LLM wire formats share: the client and its key, the request
 * body (and its image-free copy for the artifacts), retries with backoff,
 * token accounting and cost.  The provider specifics live in openai.c and
 * anthropic.c behind struct llm_wire_ops (wire.h).
 *
 * The key is read once from the environment, kept only in the client, sent
 * only as a header, wiped on free, and scrubbed from any error text or
 * response body we keep in case a provider echoes it back.  Prompts are
 * never logged: they carry the navigation payload.
 */
#include "sx.h"
#include "buf.h"
#include "conf.h"
#include "crypto.h"
#include "http.h"
#include "id.h"
#include "log.h"
#include "timeutil.h"
#include "llm.h"
#include "wire.h"

#include <assert.h>

/* Answers above this are an error, never an unbounded allocation. */
#define LLM_MAX_RESPONSE (4u << 20)
#define LLM_BACKOFF_BASE_MS 1000
#define LLM_BACKOFF_CAP_MS 30000
#define LLM_RETRY_AFTER_CAP_MS 60000

struct llm_client {
	const struct llm_wire_ops *wire;
	char *url;
	char *model;
	char *key;                  /* NULL when the variable is unset or empty */
	bool vision;
	char *image_detail;         /* sent when not "auto" (wire.h) */
	long timeout_ms;
	long long max_tokens;
	int max_retries;
	double price_in;            /* per million tokens */
	double price_out;
	struct http_client *http;
	const atomic_int *stop;   /* ends a backoff wait early; may be NULL */
};

void llm_wire_header_add(struct llm_wire_headers *out, const char *name, char *value)
{
	assert(out->n < LLM_WIRE_MAX_HEADERS);
	out->h[out->n].name = name;
	out->h[out->n].value = value;
	out->n++;
}

static void wire_headers_release(struct llm_wire_headers *wh)
{
	size_t i;

	for (i = 0; i < wh->n; i++) {
		crypto_wipe(wh->h[i].value, strlen(wh->h[i].value));
		free(wh->h[i].value);
	}
	wh->n = 0;
}

enum sx_rc llm_client_new(const struct sx_conf *c, struct llm_client **out)
{
	enum sx_rc rc = SX_OK;
	struct llm_client *lc = NULL;
	const struct llm_wire_ops *wire = NULL;
	const char *key = NULL;
	size_t blen;

	*out = NULL;
	if (c->llm_provider && strcmp(c->llm_provider, "openai") == 0)
		wire = &llm_openai_wire;
	else if (c->llm_provider && strcmp(c->llm_provider, "anthropic") == 0)
		wire = &llm_anthropic_wire;
	if (!wire || !c->llm_base_url || !*c->llm_base_url || !c->llm_model || !*c->llm_model) {
		rc = SX_ECONFIG;
		log_error("llm", "msg=\"bad LLM configuration\" provider=%s",
			  sx_log_quote(c->llm_provider ? c->llm_provider : ""));
		goto out;
	}
	lc = xcalloc(1, sizeof(*lc));
	lc->wire = wire;
	/* A trailing slash on the base URL would double up with the path. */
	blen = strlen(c->llm_base_url);
	while (blen && c->llm_base_url[blen - 1] == '/')
		blen--;
	lc->url = xasprintf("%.*s%s", (int)blen, c->llm_base_url, wire->path);
	lc->model = xstrdup(c->llm_model);
	if (c->llm_api_key_env && *c->llm_api_key_env)
		key = getenv(c->llm_api_key_env);
	if (key && *key)
		lc->key = xstrdup(key);
	lc->vision = c->llm_vision;
	lc->image_detail = c->llm_image_detail && strcmp(c->llm_image_detail, "auto") != 0 ?
			   xstrdup(c->llm_image_detail) : NULL;
	lc->timeout_ms = (long)c->llm_timeout * 1000;
	lc->max_tokens = c->llm_max_tokens;
	lc->max_retries = (int)c->llm_max_retries;
	lc->price_in = c->llm_price_input;
	lc->price_out = c->llm_price_output;
	lc->http = http_client_new();
	*out = lc;
out:
	return rc;
}

void llm_client_free(struct llm_client *lc)
{
	if (!lc)
		return;
	if (lc->key) {
		crypto_wipe(lc->key, strlen(lc->key));
		free(lc->key);
	}
	free(lc->url);
	free(lc->model);
	free(lc->image_detail);
	http_client_free(lc->http);
	free(lc);
}

int llm_screenshot_width(const struct sx_conf *c)
{
	bool low = c->llm_image_detail && strcmp(c->llm_image_detail, "low") == 0;

	if (low && (c->llm_image_width <= 0 || c->llm_image_width > LLM_LOW_DETAIL_WIDTH))
		return LLM_LOW_DETAIL_WIDTH;
	return (int)c->llm_image_width;
}

bool llm_client_has_key(const struct llm_client *lc)
{
	return lc && lc->key != NULL;
}

void llm_client_set_stop(struct llm_client *lc, const atomic_int *stop)
{
	lc->stop = stop;
}

/* Standard base64 with padding, as both providers expect for image data. */
static char *base64_encode(const unsigned char *p, size_t n)
{
	size_t cap = crypto_base64_size(n, CRYPTO_B64_STD);
	char *out = xmalloc(cap);

	crypto_base64_encode(p, n, CRYPTO_B64_STD, out, cap);
	return out;
}

/* Serializes without escaping '/', which base64 is full of. */
static char *json_text(json_object *o)
{
	return xstrdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
						      JSON_C_TO_STRING_NOSLASHESCAPE));
}

/* Masks every occurrence of the key in s, in place, in case a provider echoes it. */
static void scrub_key(const struct llm_client *lc, char *s)
{
	size_t klen;
	char *p;

	if (!lc->key || !s)
		return;
	klen = strlen(lc->key);
	while ((p = strstr(s, lc->key)) != NULL)
		memset(p, '*', klen);
}

/*
 * Exponential backoff with jitter: the n-th retry waits between half and all
 * of min(base * 2^(n-1), cap), so that workers that failed together do not
 * come back together.
 */
static int64_t backoff_ms(int retry)
{
	int64_t d = LLM_BACKOFF_BASE_MS;
	uint32_t r;
	int i;

	for (i = 1; i < retry && d < LLM_BACKOFF_CAP_MS; i++)
		d *= 2;
	if (d > LLM_BACKOFF_CAP_MS)
		d = LLM_BACKOFF_CAP_MS;
	crypto_random_bytes(&r, sizeof(r));
	return d / 2 + (int64_t)(r % (uint32_t)(d / 2 + 1));
}

/* Retry-After in its seconds form, capped; -1 when absent or a date. */
static int64_t retry_after_ms(const char *v)
{
	long long s;
	int64_t ms = -1;

	if (v && sx_parse_ll(v, 0, 1000000000LL, &s)) {
		ms = s * 1000;
		if (ms > LLM_RETRY_AFTER_CAP_MS)
			ms = LLM_RETRY_AFTER_CAP_MS;
	}
	return ms;
}

/*
 * The provider's error message from an error body, or the start of the body
 * when it is not the JSON we expect (a proxy's HTML page, say), flattened
 * onto one line.
 */
static void error_detail(const struct llm_client *lc, const struct http_response *hr,
			 char *out, size_t outlen)
{
	json_object *resp = json_tokener_parse(sx_buf_str(&hr->body));
	const char *msg = resp ? lc->wire->error_message(resp) : NULL;
	size_t i;

	if (msg)
		snprintf(out, outlen, "%s", msg);
	else if (hr->body.len)
		snprintf(out, outlen, "%.160s", sx_buf_str(&hr->body));
	else
		snprintf(out, outlen, "(empty body)");
	for (i = 0; out[i]; i++)
		if (out[i] == '\n' || out[i] == '\r' || out[i] == '\t')
			out[i] = ' ';
	json_object_put(resp);
}

/*
 * Reads one 2xx answer into res.  SX_OK, or SX_ELLM with err set when the
 * body is not the provider's response shape.
 */
static enum sx_rc take_answer(const struct llm_client *lc, const struct http_response *hr,
			      struct llm_result *res, char *err, size_t errlen)
{
	enum sx_rc rc = SX_OK;
	struct llm_wire_answer ans = { 0 };
	json_object *resp = json_tokener_parse(sx_buf_str(&hr->body));
	char why[160] = "";

	if (!resp || !json_object_is_type(resp, json_type_object)) {
		rc = SX_ELLM;
		snprintf(err, errlen, "HTTP %ld from %s but the body is not a JSON object",
			 hr->status, lc->wire->name);
		goto out;
	}
	if (lc->wire->parse(resp, &ans, why, sizeof(why)) != SX_OK) {
		rc = SX_ELLM;
		snprintf(err, errlen, "HTTP %ld from %s but %s", hr->status, lc->wire->name, why);
	}
	res->input_tokens += ans.input_tokens;
	res->output_tokens += ans.output_tokens;
	res->truncated = ans.truncated;
	if (rc == SX_OK) {
		res->text = ans.text;
		ans.text = NULL;
	}
out:
	free(ans.text);
	json_object_put(resp);
	return rc;
}

/*
 * The request body to send (*body, caller frees) and the copy kept for the
 * artifacts in res->request_json, with the image replaced by a placeholder.
 */
static void request_bodies(const struct llm_client *lc, const struct llm_request *req,
			   struct llm_result *res, char **body)
{
	struct llm_wire_params params = { lc->model, lc->max_tokens, lc->image_detail };
	json_object *body_obj;
	char *image_b64 = NULL, *placeholder = NULL;

	if (lc->vision && req->image_png && req->image_len) {
		image_b64 = base64_encode(req->image_png, req->image_len);
		placeholder = xasprintf("<image %zu bytes>", req->image_len);
	}
	body_obj = lc->wire->build(&params, req, image_b64);
	*body = json_text(body_obj);
	json_object_put(body_obj);
	/* The base64 copy is as big as the screenshot again; drop it early. */
	free(image_b64);
	if (placeholder) {
		body_obj = lc->wire->build(&params, req, placeholder);
		res->request_json = json_text(body_obj);
		json_object_put(body_obj);
	} else {
		res->request_json = xstrdup(*body);
	}
	free(placeholder);
}

/*
 * One attempt: sends hreq and reads the answer into res.  On failure,
 * detail says why, *retry whether another attempt may help and *delay
 * (when >= 0) how long the provider asked us to wait.
 */
static enum sx_rc attempt_once(struct llm_client *lc, const struct http_request *hreq,
			       struct llm_result *res, char *detail, size_t detaillen,
			       bool *retry, int64_t *delay, long *status)
{
	struct http_response hr;
	enum sx_rc rc, hrc;

	*retry = false;
	*delay = -1;
	hrc = http_perform(lc->http, hreq, &hr);
	*status = hr.status;
	if (hrc == SX_ETIMEOUT) {
		rc = SX_ETIMEOUT;
		*retry = true;
		snprintf(detail, detaillen, "no answer within %ld s", lc->timeout_ms / 1000);
	} else if (hrc == SX_ETOOBIG) {
		rc = SX_ELLM;
		snprintf(detail, detaillen, "answer larger than %u bytes", LLM_MAX_RESPONSE);
	} else if (hrc != SX_OK) {
		/* Refused or reset connections are the step retry's business. */
		rc = SX_ELLM;
		snprintf(detail, detaillen, "%s", hr.error);
	} else {
		free(res->response_json);
		res->response_json = xstrdup(sx_buf_str(&hr.body));
		if (hr.status >= 200 && hr.status < 300) {
			rc = take_answer(lc, &hr, res, detail, detaillen);
		} else {
			char msg[200];

			rc = SX_ELLM;
			error_detail(lc, &hr, msg, sizeof(msg));
			snprintf(detail, detaillen, "HTTP %ld from %s: %s", hr.status, lc->wire->name, msg);
			*retry = hr.status == 429 || hr.status >= 500;
			if (*retry)
				*delay = retry_after_ms(hr.retry_after);
		}
	}
	http_response_release(&hr);
	return rc;
}

/* Sets the cost, scrubs the key from what is kept, and logs the call's end. */
static void call_done(const struct llm_client *lc, struct llm_result *res, enum sx_rc rc, char *detail,
		      long last_status, int64_t started)
{
	res->cost = (double)res->input_tokens / 1e6 * lc->price_in +
		    (double)res->output_tokens / 1e6 * lc->price_out;
	scrub_key(lc, res->response_json);
	if (rc != SX_OK) {
		scrub_key(lc, detail);
		snprintf(res->error, sizeof(res->error), "%.220s (after %d attempt%s)",
			 detail, res->attempts, res->attempts == 1 ? "" : "s");
		log_warn("llm", "msg=\"call failed\" provider=%s model=%s attempts=%d status=%ld ms=%lld error=%s",
			 lc->wire->name, sx_log_quote(lc->model), res->attempts, last_status,
			 (long long)(sx_mono_ms() - started), sx_log_quote(res->error));
	} else {
		log_info("llm", "msg=\"call done\" provider=%s model=%s attempts=%d in=%lld out=%lld "
			 "truncated=%d ms=%lld",
			 lc->wire->name, sx_log_quote(lc->model), res->attempts, res->input_tokens,
			 res->output_tokens, res->truncated, (long long)(sx_mono_ms() - started));
	}
}

enum sx_rc llm_complete(struct llm_client *lc, const struct llm_request *req,
			struct llm_result *res)
{
	enum sx_rc rc = SX_ELLM;
	struct llm_wire_headers wh = { 0 };
	struct http_header headers[LLM_WIRE_MAX_HEADERS + 1];
	struct http_request hreq = { 0 };
	char *body = NULL;
	char detail[256] = "";
	long last_status = 0;
	int64_t started = sx_mono_ms(), delay;
	size_t i, nh = 0;
	int attempt;

	memset(res, 0, sizeof(*res));
	request_bodies(lc, req, res, &body);
	headers[nh++] = (struct http_header){ "Content-Type", "application/json" };
	lc->wire->headers(lc->key, &wh);
	for (i = 0; i < wh.n; i++)
		headers[nh++] = (struct http_header){ wh.h[i].name, wh.h[i].value };
	hreq.method = "POST";
	hreq.url = lc->url;
	hreq.headers = headers;
	hreq.nheaders = nh;
	hreq.body = body;
	hreq.body_len = strlen(body);
	hreq.timeout_ms = lc->timeout_ms;
	hreq.max_response = LLM_MAX_RESPONSE;

	for (attempt = 1;; attempt++) {
		bool retry;

		res->attempts = attempt;
		rc = attempt_once(lc, &hreq, res, detail, sizeof(detail), &retry, &delay, &last_status);
		if (rc == SX_OK || !retry || attempt > lc->max_retries)
			break;
		if (delay < 0)
			delay = backoff_ms(attempt);
		scrub_key(lc, detail);
		log_warn("llm", "msg=\"retrying\" provider=%s attempt=%d status=%ld wait_ms=%lld error=%s",
			 lc->wire->name, attempt, last_status, (long long)delay, sx_log_quote(detail));
		sx_sleep_ms(delay, lc->stop);
		if (lc->stop && *lc->stop)
			break;
	}
	call_done(lc, res, rc, detail, last_status, started);
	wire_headers_release(&wh);
	free(body);
	return rc;
}

void llm_result_release(struct llm_result *res)
{
	if (!res)
		return;
	free(res->text);
	free(res->request_json);
	free(res->response_json);
	res->text = NULL;
	res->request_json = NULL;
	res->response_json = NULL;
}
