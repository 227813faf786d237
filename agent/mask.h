#ifndef SX_MASK_H
#define SX_MASK_H
/*
 * Secret masking: nothing the agent keeps — an artifact (LLM request and
 * response), a step's output, the history the model sees — may show the
 * task's secrets.  A task's secrets are the values of its
 * navigation_payload under keys that name a secret (password, token, code,
 * PIN, card number, …) and every one-time code obtained for it; each is
 * replaced by "********".
 */
#include "sx.h"
#include <json-c/json.h>

/* The secrets of one task. */
struct mask;

/*
 * The mask of a task whose navigation_payload is payload (may be NULL; a
 * reference is taken).  Free with mask_free.
 */
struct mask *mask_new(json_object *payload);
/* Frees m; accepts NULL. */
void mask_free(struct mask *m);

/* Adds a one-time code obtained for the task: masked from now on. */
void mask_add_code(struct mask *m, const char *code);

/* A copy of text with the payload's secrets and the codes masked; caller frees. */
char *mask_text(const struct mask *m, const char *text);

/*
 * Masks the codes (not the payload, which the step's output may show) in
 * every string of o, a step's output — reasoning, typed text, URLs such as
 * ?code=… — in place.
 */
void mask_codes_in_json(const struct mask *m, json_object *o);

/*
 * A copy of text (NULL reads as "") with the secret values of secrets
 * replaced: string and number values of at least 3 characters that sit,
 * at any depth, under a key naming a secret.  Caller frees.
 */
char *mask_secrets(const char *text, json_object *secrets);
#endif
