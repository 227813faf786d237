#ifndef SX_LLM_WIRE_H
#define SX_LLM_WIRE_H
/*
 * The internal interface between llm.c (retries, accounting, transport) and
 * the one file per provider wire format (openai.c, anthropic.c).  Only llm.c
 * includes this header.  A wire file knows three things: how to lay out the
 * request body, which headers carry the key, and where the answer text, the
 * token counts and the error message sit in a response.
 */
#include "sx.h"
#include "llm.h"
#include <json-c/json.h>

/* What a wire file needs to build a request; all borrowed from the client. */
struct llm_wire_params {
	const char *model;
	long long max_tokens;
	const char *image_detail;   /* "low" or "high" for OpenAI's image part; NULL: the provider's default */
};

/* The headers a wire file adds; the values are owned (wiped and freed by llm.c). */
#define LLM_WIRE_MAX_HEADERS 4
struct llm_wire_header {
	const char *name;           /* static */
	char *value;                /* owned; may hold the key */
};
struct llm_wire_headers {
	struct llm_wire_header h[LLM_WIRE_MAX_HEADERS];
	size_t n;
};

/* What a wire file found in a successful (2xx) response. */
struct llm_wire_answer {
	char *text;                 /* owned */
	long long input_tokens;
	long long output_tokens;
	bool truncated;             /* the provider says the output hit max_tokens */
};

struct llm_wire_ops {
	const char *name;           /* "openai", "anthropic": for logs and errors */
	const char *path;           /* appended to the base URL */
	/*
	 * Builds the request body.  image_data is the base64 text of the PNG
	 * (or, for request_json, a placeholder), NULL when no image is sent.
	 * Returns a new object the caller puts.
	 */
	json_object *(*build)(const struct llm_wire_params *p, const struct llm_request *req,
			      const char *image_data);
	/* Adds the provider's headers; key may be NULL (no auth header). */
	void (*headers)(const char *key, struct llm_wire_headers *out);
	/*
	 * Reads a 2xx response.  SX_OK with ans filled, or SX_EPARSE with err
	 * saying what was missing.  Usage found is kept in ans even on error.
	 */
	enum sx_rc (*parse)(json_object *resp, struct llm_wire_answer *ans,
			    char *err, size_t errlen);
	/*
	 * The provider's own error message in an error response, or NULL.  The
	 * string is borrowed from resp.
	 */
	const char *(*error_message)(json_object *resp);
};

extern const struct llm_wire_ops llm_openai_wire;
extern const struct llm_wire_ops llm_anthropic_wire;

/* Adds one header to out, taking ownership of value (an assertion guards the cap). */
void llm_wire_header_add(struct llm_wire_headers *out, const char *name, char *value);
#endif
