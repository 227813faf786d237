#ifndef SX_LLM_H
#define SX_LLM_H
/*
 * Calling a language model.  One file per wire format (openai.c for
 * OpenAI-compatible Chat Completions — OpenAI, vLLM, llama.cpp server,
 * Ollama, OpenRouter — and anthropic.c for Anthropic Messages); llm.c holds
 * what they share: retries with backoff on 429/5xx/timeouts honouring
 * Retry-After, token accounting and cost.
 */
#include <stdatomic.h>
#include "sx.h"
#include <json-c/json.h>

struct sx_conf;
struct http_client;

struct llm_client;

/*
 * Creates a client from the config.  The API key is read from the
 * environment variable the config names (llm_api_key_env); an unset
 * variable is allowed (local servers need no key) and no header is sent.
 * SX_ECONFIG for an unknown provider.  A client holds one HTTP connection:
 * one per worker process or thread.
 */
enum sx_rc llm_client_new(const struct sx_conf *c, struct llm_client **out);
void llm_client_free(struct llm_client *lc);
/*
 * The width the model's screenshots are scaled to (0: as taken): the
 * config's llm_image_width, and with llm_image_detail = low at most
 * LLM_LOW_DETAIL_WIDTH.  OpenAI's low detail reads an image at 512x512
 * whatever it is sent, for 85 tokens; Anthropic has no detail setting and
 * bills an image by its pixels (about width x height / 750 tokens), so
 * there a smaller image is what low detail means.
 */
#define LLM_LOW_DETAIL_WIDTH 512
int llm_screenshot_width(const struct sx_conf *c);

/* True when the configured key variable is set and non-empty. */
bool llm_client_has_key(const struct llm_client *lc);
/*
 * Lets a shutdown flag end a retry wait early (a Retry-After may ask for a
 * minute); the call then fails with the last error.  stop may be NULL.
 */
void llm_client_set_stop(struct llm_client *lc, const atomic_int *stop);

struct llm_request {
	const char *system;                 /* instructions */
	const char *user;                   /* the prompt text */
	const unsigned char *image_png;     /* a screenshot, sent only when vision is on; may be NULL */
	size_t image_len;
};

struct llm_result {
	char *text;                 /* the model's answer text (owned) */
	long long input_tokens;
	long long output_tokens;
	double cost;                /* from the configured per-million prices */
	char *request_json;         /* the request body as sent, image data elided (owned) */
	char *response_json;        /* the raw body of the last answer (owned); NULL when none came */
	int attempts;
	bool truncated;             /* the provider says the answer hit max_tokens */
	char error[256];            /* why it failed, when it did */
};

/*
 * Sends one request and waits for the answer, retrying 429, 5xx and
 * timeouts up to llm_max_retries times with exponential backoff (or the
 * server's Retry-After, capped).  SX_OK with res->text set, or SX_ELLM /
 * SX_ETIMEOUT with res->error.  Tokens and cost are counted even for
 * failed attempts that reported usage.
 */
enum sx_rc llm_complete(struct llm_client *lc, const struct llm_request *req,
			struct llm_result *res);
void llm_result_release(struct llm_result *res);

/*
 * Extracts the JSON value from a model's answer: code fences removed, prose
 * around the JSON skipped (first balanced {…} or […]), trailing commas
 * tolerated.  NULL when nothing parses (err says why).
 */
json_object *llm_parse_answer(const char *text, char *err, size_t errlen);
#endif
