#ifndef SX_SCHEMA_H
#define SX_SCHEMA_H
/*
 * Checks extracted data against a task's extracted_information_schema: the
 * subset of JSON Schema that extraction schemas use in practice.
 *
 *   type                  "string" "number" "integer" "boolean" "object"
 *                         "array" "null", or a list of them
 *   properties, required, additionalProperties (false or a schema)
 *   items (one schema for every element), minItems, maxItems
 *   enum, minimum, maximum, minLength, maxLength
 *
 * A boolean schema (true / false) is honoured; unknown keywords are ignored,
 * so richer schemas are checked as far as this subset goes.  An integer
 * written as 3.0 counts as an integer, as JSON Schema says.
 */
#include "sx.h"
#include <json-c/json.h>

/*
 * True when value matches schema.  Otherwise false, with the first
 * violation in err, naming its path from the root "$":
 *   $.price: expected number, got string
 *   $: missing required property "price"
 *   $.items[2].sku: value "x" is not one of the allowed values ["a","b"]
 */
bool schema_check(json_object *schema, json_object *value, char *err, size_t errlen);
#endif
