#ifndef SX_MASK_H
#define SX_MASK_H
/*
 * Secret masking: nothing the agent keeps — an artifact (LLM request and
 * response), a step's output (reasoning, typed text, page URLs), the
 * history the model sees, the task's failure reason and extracted data, a
 * log line — may show the task's secrets.  A task's secrets are the values
 * of its navigation_payload under keys that name a secret
 * (mask_key_is_secret) and every one-time code obtained for it; each is
 * replaced by MASK_SHOWN.
 *
 * A secret is found in every form the agent's text can hold it in: raw,
 * JSON-escaped (`\"`, `\\`, `\/`, `\u00e9`, surrogate pairs; the same
 * escapes nested up to MASK_JSON_DEPTH times, as a JSON answer inside a
 * JSON response body is) and percent-encoded as in a URL (`%2F`, `+`),
 * also inside JSON.  Values shorter than MASK_MIN_LEN bytes are not
 * masked: two characters would mask too much of ordinary text.
 */
#include "sx.h"
#include <json-c/json.h>

#define MASK_SHOWN "********"
#define MASK_MIN_LEN 3
#define MASK_JSON_DEPTH 3

/* The secrets of one task. */
struct mask;

/*
 * The mask of a task whose navigation_payload is payload (may be NULL; the
 * secret values are copied, no reference is kept).  extra_keys is the
 * config's mask_keys (may be NULL or ""): terms added to the built-in ones
 * (see mask_key_is_secret).  Free with mask_free.
 */
struct mask *mask_new(json_object *payload, const char *extra_keys);
/* Frees m, wiping the secrets it holds; accepts NULL. */
void mask_free(struct mask *m);

/* Adds a one-time code obtained for the task: masked from now on. */
void mask_add_code(struct mask *m, const char *code);

/*
 * A copy of text (NULL reads as "") with every secret masked in each of
 * its encoded forms.  Caller frees.
 */
char *mask_text(const struct mask *m, const char *text);

/*
 * Masks every string value of o, at any depth, in place: a step's output,
 * the extracted data.  Keys and non-string values stay as they are.
 */
void mask_json(const struct mask *m, json_object *o);

/*
 * A copy of json, the text of a JSON document (an LLM request or response
 * body), with the secrets masked: its string values are masked as values
 * (mask_json) and the document serialized again; then, and for text that
 * does not parse, the text itself is masked (mask_text), which also covers
 * keys.  Caller frees.
 */
char *mask_json_text(const struct mask *m, const char *json);

/*
 * Whether a navigation_payload key names a secret.  The key is split into
 * words at every character that is not a letter or a digit and between a
 * lower-case letter and an upper-case one ("user_password" and
 * "userPassword" are both "user" "password"), lower-cased, and joined again
 * ("userpassword").  It names a secret when the joined key contains one of
 * the built-in terms (pass, pwd, secret, token, otp, pin, ssn, cvv, cvc,
 * card, iban, apikey, privatekey, credential, code, …: mask.c) or one of
 * extra (comma-separated, normalized the same way; may be NULL), or when
 * one of its words is a short term that would match too much as part of a
 * word (pw, key, csc, sin).
 */
bool mask_key_is_secret(const char *key, const char *extra);
#endif
