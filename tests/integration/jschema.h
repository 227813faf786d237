#ifndef SX_TEST_JSCHEMA_H
#define SX_TEST_JSCHEMA_H
/*
 * The JSON Schema (2020-12) checker the integration tests use to hold every
 * answer of the API against api/openapi.json.  It knows a strict subset:
 *
 *   $ref ("#/…" pointers into the same document), type (a name or a list),
 *   enum, const, properties, required, additionalProperties (a boolean or
 *   a schema), items, minItems, maxItems, minimum, maximum, minLength,
 *   maxLength, pattern (POSIX extended), anyOf, oneOf, allOf,
 *
 * and ignores the annotations (description, title, format, examples,
 * default, deprecated, $comment).  Any other keyword is an error, not a
 * pass: a document that leans on a rule this checker would skip must fail
 * loudly, or the check would silently prove less than it says.
 *
 * Unlike agent/schema.c (extraction schemas from clients, where unknown
 * keywords are tolerated by design), this is a test oracle: strict about
 * the schema as well as the value.
 */
#include <stdbool.h>
#include <stddef.h>
#include <json-c/json.h>

/*
 * True when value matches schema; $refs resolve against root (the whole
 * document).  Otherwise false, with one message in err naming the JSON
 * pointer of the offending value (RFC 6901, "" is the whole body) and the
 * rule it broke, e.g.
 *   /0/status: "paused" is not one of ["created","queued",…] (at #/components/schemas/TaskStatus)
 *   /run_request: required member "prompt" is missing (at #/components/schemas/RunRequestStored)
 */
bool jschema_check(json_object *root, json_object *schema, json_object *value, char *err,
		   size_t errlen);
#endif
