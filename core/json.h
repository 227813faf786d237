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
 * The deepest nesting of containers accepted in a task request and read
 * back from storage, the body object itself being level 1 (`{"a":[1]}` is
 * depth 2).  One limit for writing and reading, so whatever is accepted can
 * be read back.  It is 31 because MariaDB's JSON functions give up at 32
 * levels, and the webhook query reads the stored request with JSON_VALUE.
 */
#define SX_JSON_MAX_DEPTH 31

/*
 * Checks that text[0..len) is exactly one JSON text as RFC 8259 defines it,
 * with optional whitespace around the value, without allocating.  On top
 * of the grammar it refuses: containers nested more than max_depth deep
 * (SX_JSON_MAX_DEPTH when max_depth <= 0; at most 512 is honoured),
 * invalid UTF-8 (overlong forms, encoded surrogates, code points above
 * U+10FFFF, truncated sequences), lone UTF-16 surrogate escapes, \u0000
 * and integers outside [-2^63, 2^64 - 1], which json-c would clamp.
 * Returns SX_OK, or SX_EINVAL with a message such as "leading zero in a
 * number at offset 7" (bounded by errlen) in err; err may be NULL.
 */
enum sx_rc sx_json_check(const char *text, size_t len, int max_depth, char *err, size_t errlen);

/*
 * Parses exactly one JSON value from text[0..len) after sx_json_check has
 * accepted it (same max_depth rule), and refuses numbers that overflow a
 * double (1e400).  Every double of the result serializes from its value
 * (the shortest text that reads back the same), never from the client's
 * text.  Returns a new reference, or NULL with a message in err (bounded
 * by errlen); err may be NULL.
 */
json_object *sx_json_parse(const char *text, size_t len, int max_depth, char *err, size_t errlen);

/*
 * Parses text the project stored itself, which json-c wrote: json-c alone,
 * without sx_json_check, so that a row written before the checker existed
 * (a number such as `1.`) still reads, and comes out re-serialized as JSON.
 * The same max_depth rule as sx_json_parse: pass the limit the text was
 * accepted with.  Returns a new reference, or NULL with a message in err.
 */
json_object *sx_json_parse_stored(const char *text, size_t len, int max_depth, char *err, size_t errlen);

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
