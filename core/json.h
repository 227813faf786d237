#ifndef SX_JSON_H
#define SX_JSON_H
/*
 * JSON helpers over json-c: parsing outside input with the project's limits,
 * and reading members without repeating json-c's three-step dance.  json-c's
 * own types stay the project's JSON values; this file adds the rules.
 */
#include "sx.h"
#include <json-c/json.h>

/*
 * Parses exactly one JSON value from text[0..len) in strict mode, validating
 * UTF-8 strictly and refusing containers nested more than max_depth deep
 * (`[[1]]` is depth 2; json-c's default when max_depth <= 0).  NUL bytes and
 * \u0000 escapes are refused anywhere, and so are NaN and infinite numbers.
 * Only whitespace may follow the value.  Returns a new reference, or NULL
 * with a message such as "invalid UTF-8 at offset 3" (bounded by errlen) in
 * err; err may be NULL.
 */
json_object *sx_json_parse(const char *text, size_t len, int max_depth, char *err, size_t errlen);

/* The member key of o, or NULL when o is NULL or the member is absent or JSON null. */
json_object *sx_json_member(json_object *o, const char *key);

/*
 * The member's text as json-c gives it (a number reads as its digits), or
 * NULL when absent or null.  Borrowed from o.
 */
const char *sx_json_member_text(json_object *o, const char *key);

/* The member when it is a JSON string, else NULL.  Borrowed from o. */
const char *sx_json_string(json_object *o, const char *key);

/* The member when it is a JSON integer, else def. */
long long sx_json_int(json_object *o, const char *key, long long def);

/* True only when the member is the JSON literal true. */
bool sx_json_bool(json_object *o, const char *key);

/* A new JSON string, or NULL (which json-c encodes as null) when s is NULL. */
json_object *sx_json_string_or_null(const char *s);
#endif
