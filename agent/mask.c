/*
 * Secret masking (see mask.h).  The secrets are kept as JSON the masker
 * walks: {"payload": <navigation_payload>, "totp_codes": [codes]} masks
 * the payload's secret-keyed values and every code (the key "totp_codes"
 * itself names a secret); {"totp_codes": [codes]} masks the codes alone.
 */
#include "sx.h"
#include "buf.h"
#include "mask.h"

#define MASK_MIN_LEN 3
#define MASK_SHOWN "********"

struct mask {
	json_object *codes;        /* array of the codes obtained */
	json_object *secrets;      /* the payload and the codes */
	json_object *code_masks;   /* the codes alone */
};

struct mask *mask_new(json_object *payload)
{
	struct mask *m = xcalloc(1, sizeof(*m));

	m->codes = json_object_new_array();
	m->secrets = json_object_new_object();
	json_object_object_add(m->secrets, "payload", json_object_get(payload));
	json_object_object_add(m->secrets, "totp_codes", json_object_get(m->codes));
	m->code_masks = json_object_new_object();
	json_object_object_add(m->code_masks, "totp_codes", json_object_get(m->codes));
	return m;
}

void mask_free(struct mask *m)
{
	if (!m)
		return;
	json_object_put(m->secrets);
	json_object_put(m->code_masks);
	json_object_put(m->codes);
	free(m);
}

void mask_add_code(struct mask *m, const char *code)
{
	json_object_array_add(m->codes, json_object_new_string(code));
}

char *mask_text(const struct mask *m, const char *text)
{
	return mask_secrets(text, m->secrets);
}

/* A new string: v with the codes masked. */
static json_object *masked_string(const struct mask *m, json_object *v)
{
	char *s = mask_secrets(json_object_get_string(v), m->code_masks);
	json_object *o = json_object_new_string(s);

	free(s);
	return o;
}

void mask_codes_in_json(const struct mask *m, json_object *o)
{
	if (!o || json_object_array_length(m->codes) == 0)
		return;
	if (json_object_is_type(o, json_type_object)) {
		json_object_object_foreach(o, k, v) {
			/* Replacing an existing key's value leaves the iteration intact. */
			if (v && json_object_is_type(v, json_type_string))
				json_object_object_add(o, k, masked_string(m, v));
			else
				mask_codes_in_json(m, v);
		}
	} else if (json_object_is_type(o, json_type_array)) {
		for (size_t i = 0; i < json_object_array_length(o); i++) {
			json_object *v = json_object_array_get_idx(o, i);

			if (v && json_object_is_type(v, json_type_string))
				json_object_array_put_idx(o, i, masked_string(m, v));
			else
				mask_codes_in_json(m, v);
		}
	}
}

static bool key_is_secret(const char *key)
{
	static const char *const words[] = {
		"pass", "secret", "token", "otp", "totp", "pin", "ssn", "cvv", "cvc",
		"card", "iban", "apikey", "api_key", "credential", "code"
	};
	char low[128];
	size_t n = strlen(key);

	if (n >= sizeof(low))
		n = sizeof(low) - 1;
	for (size_t i = 0; i < n; i++)
		low[i] = (char)((key[i] >= 'A' && key[i] <= 'Z') ? key[i] + 32 : key[i]);
	low[n] = '\0';
	for (size_t i = 0; i < SX_ARRAY_LEN(words); i++)
		if (strstr(low, words[i]))
			return true;
	return false;
}

/* Collects secret string values (at least MASK_MIN_LEN bytes) of o, recursively. */
static void collect_secrets(json_object *o, bool secret, json_object *out)
{
	if (!o)
		return;
	switch (json_object_get_type(o)) {
	case json_type_object: {
		json_object_object_foreach(o, k, v)
			collect_secrets(v, secret || key_is_secret(k), out);
		break;
	}
	case json_type_array:
		for (size_t i = 0; i < json_object_array_length(o); i++)
			collect_secrets(json_object_array_get_idx(o, i), secret, out);
		break;
	case json_type_string:
	case json_type_int:
		if (secret && strlen(json_object_get_string(o)) >= MASK_MIN_LEN)
			json_object_array_add(out, json_object_new_string(json_object_get_string(o)));
		break;
	default:
		break;
	}
}

char *mask_secrets(const char *text, json_object *secrets)
{
	json_object *values = json_object_new_array();
	char *cur = xstrdup(text ? text : "");

	collect_secrets(secrets, false, values);
	for (size_t i = 0; i < json_object_array_length(values); i++) {
		const char *s = json_object_get_string(json_object_array_get_idx(values, i));
		size_t sl = strlen(s);
		struct sx_buf b;
		const char *p = cur, *hit;

		sx_buf_init(&b, SIZE_MAX);
		while ((hit = strstr(p, s)) != NULL) {
			sx_buf_append(&b, p, (size_t)(hit - p));
			sx_buf_puts(&b, MASK_SHOWN);
			p = hit + sl;
		}
		sx_buf_puts(&b, p);
		free(cur);
		cur = sx_buf_detach(&b, NULL);
		if (!cur)
			cur = xstrdup("");
	}
	json_object_put(values);
	return cur;
}
