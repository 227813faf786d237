/*
 * Secret masking (see mask.h): the mask object, which keys name a secret,
 * and the masking of text and JSON.  Finding a secret in its encoded forms
 * is mask_match.c's.
 */
#include <ctype.h>

#include "sx.h"
#include "buf.h"
#include "crypto.h"
#include "mask.h"
#include "mask_match.h"

#define KEY_MAX 256

struct mask {
	char **vals;     /* the secret values, each at least MASK_MIN_LEN bytes */
	size_t n, cap;
};

/*
 * Terms a normalized key may contain anywhere.  "pass" covers password,
 * passwd, passcode, passphrase; "otp" covers totp and hotp; "card" covers
 * card_number and credit_card; "code" covers verification, security and
 * auth codes (and postal codes, which is harmless).
 */
static const char *const secret_terms[] = {
	"pass", "pwd", "secret", "token", "otp", "pin", "ssn", "cvv", "cvc", "ccv", "card", "iban",
	"apikey", "accesskey", "privatekey", "signingkey", "credential", "code", "mfa", "2fa",
	"authorization", "bearer", "cookie", "session", "accountnumber", "routingnumber",
	"socialsecurity", "taxid", "nationalid", "securityanswer", "mnemonic", "seedphrase",
};

/* Terms too short to look for inside a word ("upward", "monkey"): whole words only. */
static const char *const secret_words[] = { "pw", "key", "csc", "sin" };

/*
 * Writes key's words, lower-cased, into words (" user password ": one
 * space around each) and joined ("userpassword").  A key longer than the
 * buffers is cut, which can only lose a term at its very end.
 */
static void key_normalize(const char *key, char *words, char *joined)
{
	size_t w = 0, j = 0;
	bool gap = true;

	words[w++] = ' ';
	for (const char *p = key; *p && w < KEY_MAX - 3; p++) {
		unsigned char c = (unsigned char)*p;

		if (!isalnum(c) || (isupper(c) && p > key && islower((unsigned char)p[-1]))) {
			if (!gap)
				words[w++] = ' ';
			gap = true;
		}
		if (isalnum(c)) {
			words[w++] = (char)tolower(c);
			joined[j++] = (char)tolower(c);
			gap = false;
		}
	}
	if (!gap)
		words[w++] = ' ';
	words[w] = '\0';
	joined[j] = '\0';
}

/* Whether joined contains one of extra's comma-separated terms, each normalized like a key. */
static bool key_has_extra(const char *joined, const char *extra)
{
	char words[KEY_MAX], term[KEY_MAX], *item;
	const char *p = extra ? extra : "";
	bool hit = false;

	while (!hit && *p) {
		size_t n = strcspn(p, ",");

		item = xstrndup(p, n);
		key_normalize(item, words, term);
		hit = term[0] && strstr(joined, term);
		free(item);
		p += n + (p[n] == ',');
	}
	return hit;
}

bool mask_key_is_secret(const char *key, const char *extra)
{
	char words[KEY_MAX], joined[KEY_MAX], word[16];
	bool hit = false;

	key_normalize(key, words, joined);
	for (size_t i = 0; !hit && i < SX_ARRAY_LEN(secret_terms); i++)
		hit = strstr(joined, secret_terms[i]) != NULL;
	for (size_t i = 0; !hit && i < SX_ARRAY_LEN(secret_words); i++) {
		snprintf(word, sizeof(word), " %s ", secret_words[i]);
		hit = strstr(words, word) != NULL;
	}
	return hit || key_has_extra(joined, extra);
}

/* Keeps a copy of value as a secret when it is long enough to mask. */
static void mask_add(struct mask *m, const char *value)
{
	if (strlen(value) < MASK_MIN_LEN)
		return;
	if (m->n == m->cap) {
		m->cap = m->cap ? m->cap * 2 : 8;
		m->vals = xrealloc(m->vals, m->cap * sizeof(*m->vals));
	}
	m->vals[m->n++] = xstrdup(value);
}

/* Adds the scalar values of o that sit, at any depth, under a key naming a secret. */
static void collect_secrets(struct mask *m, json_object *o, bool secret, const char *extra)
{
	switch (o ? json_object_get_type(o) : json_type_null) {
	case json_type_object: {
		json_object_object_foreach(o, k, v)
			collect_secrets(m, v, secret || mask_key_is_secret(k, extra), extra);
		break;
	}
	case json_type_array:
		for (size_t i = 0; i < json_object_array_length(o); i++)
			collect_secrets(m, json_object_array_get_idx(o, i), secret, extra);
		break;
	case json_type_string:
	case json_type_int:
	case json_type_double:
		if (secret)
			mask_add(m, json_object_get_string(o));
		break;
	default:
		break;
	}
}

struct mask *mask_new(json_object *payload, const char *extra_keys)
{
	struct mask *m = xcalloc(1, sizeof(*m));

	collect_secrets(m, payload, false, extra_keys);
	return m;
}

void mask_free(struct mask *m)
{
	if (!m)
		return;
	for (size_t i = 0; i < m->n; i++) {
		crypto_wipe(m->vals[i], strlen(m->vals[i]));
		free(m->vals[i]);
	}
	free(m->vals);
	free(m);
}

void mask_add_code(struct mask *m, const char *code)
{
	mask_add(m, code);
}

/*
 * The end of the longest secret, in any encoded form, that starts at
 * text[pos]; pos when none does.
 */
static size_t longest_secret(const struct mask *m, const char *text, size_t len, size_t pos)
{
	size_t best = pos;

	for (size_t i = 0; i < m->n; i++) {
		size_t end = mask_match_at(text, len, pos, m->vals[i], strlen(m->vals[i]));

		if (end > best)
			best = end;
	}
	return best;
}

/* Whether text[from, to) ends in an odd run of backslashes: an escape left open. */
static bool ends_in_escape(const char *text, size_t from, size_t to)
{
	size_t n = 0;

	while (to > from && text[to - 1] == '\\') {
		n++;
		to--;
	}
	return n % 2 == 1;
}

char *mask_text(const struct mask *m, const char *text)
{
	const char *t = text ? text : "";
	size_t len = strlen(t), start = 0, pos = 0, end;
	struct sx_buf b;
	char *out;

	sx_buf_init(&b, SIZE_MAX);
	while (pos < len) {
		end = m->n ? longest_secret(m, t, len, pos) : pos;
		if (end == pos) {
			pos++;
			continue;
		}
		/*
		 * A secret right after an open escape ("\n" before "nabc"...) takes
		 * the backslash with it, so masked JSON text stays JSON.
		 */
		sx_buf_append(&b, t + start, pos - start - ends_in_escape(t, start, pos));
		sx_buf_puts(&b, MASK_SHOWN);
		start = pos = end;
	}
	sx_buf_append(&b, t + start, len - start);
	out = sx_buf_detach(&b, NULL);
	return out ? out : xstrdup("");
}

/* The string v, masked: a new string, or NULL when it holds no secret. */
static json_object *masked_string(const struct mask *m, json_object *v)
{
	const char *s = json_object_get_string(v);
	char *masked = mask_text(m, s);
	json_object *o = strcmp(masked, s) ? json_object_new_string(masked) : NULL;

	free(masked);
	return o;
}

void mask_json(const struct mask *m, json_object *o)
{
	json_object *masked;

	if (!o || m->n == 0)
		return;
	if (json_object_is_type(o, json_type_object)) {
		json_object_object_foreach(o, k, v) {
			/* Replacing an existing key's value leaves the iteration intact. */
			if (v && json_object_is_type(v, json_type_string)) {
				if ((masked = masked_string(m, v)) != NULL)
					json_object_object_add(o, k, masked);
			} else {
				mask_json(m, v);
			}
		}
	} else if (json_object_is_type(o, json_type_array)) {
		for (size_t i = 0; i < json_object_array_length(o); i++) {
			json_object *v = json_object_array_get_idx(o, i);

			if (v && json_object_is_type(v, json_type_string)) {
				if ((masked = masked_string(m, v)) != NULL)
					json_object_array_put_idx(o, i, masked);
			} else {
				mask_json(m, v);
			}
		}
	}
}

char *mask_json_text(const struct mask *m, const char *json)
{
	json_object *o = m->n && json ? json_tokener_parse(json) : NULL;
	char *out;

	if (o) {
		mask_json(m, o);
		out = mask_text(m, json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
								    JSON_C_TO_STRING_NOSLASHESCAPE));
	} else {
		out = mask_text(m, json);
	}
	json_object_put(o);
	return out;
}
