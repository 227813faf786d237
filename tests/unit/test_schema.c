/*
 * schema_check: each keyword of the subset, nested paths, and the exact
 * error texts the failure_reason will carry.
 */
#include <criterion/criterion.h>
#include "sx.h"
#include "schema.h"

/* Checks value against schema (both JSON text); returns the error, "" when valid. */
static const char *check(const char *schema, const char *value)
{
	static char err[256];
	json_object *s = json_tokener_parse(schema);
	json_object *v = json_tokener_parse(value);
	bool ok;

	cr_assert(s || strcmp(schema, "null") == 0, "bad schema text %s", schema);
	cr_assert(v || strcmp(value, "null") == 0, "bad value text %s", value);
	ok = schema_check(s, v, err, sizeof(err));
	cr_assert_eq(ok, err[0] == '\0', "ok=%d but err=\"%s\"", ok, err);
	json_object_put(s);
	json_object_put(v);
	return err;
}

Test(schema, type_each)
{
	cr_assert_str_eq(check("{\"type\":\"string\"}", "\"x\""), "");
	cr_assert_str_eq(check("{\"type\":\"number\"}", "1.5"), "");
	cr_assert_str_eq(check("{\"type\":\"number\"}", "2"), "");
	cr_assert_str_eq(check("{\"type\":\"integer\"}", "2"), "");
	cr_assert_str_eq(check("{\"type\":\"integer\"}", "2.0"), "");
	cr_assert_str_eq(check("{\"type\":\"boolean\"}", "false"), "");
	cr_assert_str_eq(check("{\"type\":\"object\"}", "{}"), "");
	cr_assert_str_eq(check("{\"type\":\"array\"}", "[]"), "");
	cr_assert_str_eq(check("{\"type\":\"null\"}", "null"), "");
}

Test(schema, type_mismatch_messages)
{
	cr_assert_str_eq(check("{\"type\":\"number\"}", "\"12\""), "$: expected number, got string");
	cr_assert_str_eq(check("{\"type\":\"integer\"}", "2.5"), "$: expected integer, got number");
	cr_assert_str_eq(check("{\"type\":\"string\"}", "null"), "$: expected string, got null");
	cr_assert_str_eq(check("{\"type\":\"boolean\"}", "\"true\""), "$: expected boolean, got string");
	cr_assert_str_eq(check("{\"type\":\"object\"}", "[1]"), "$: expected object, got array");
	cr_assert_str_eq(check("{\"type\":\"array\"}", "{}"), "$: expected array, got object");
	cr_assert_str_eq(check("{\"type\":\"string\"}", "7"), "$: expected string, got integer");
}

Test(schema, type_list)
{
	cr_assert_str_eq(check("{\"type\":[\"string\",\"null\"]}", "null"), "");
	cr_assert_str_eq(check("{\"type\":[\"string\",\"null\"]}", "\"a\""), "");
	cr_assert_str_eq(check("{\"type\":[\"string\",\"null\"]}", "1"),
			 "$: expected string or null, got integer");
}

Test(schema, required)
{
	const char *s = "{\"type\":\"object\",\"required\":[\"price\",\"name\"]}";

	cr_assert_str_eq(check(s, "{\"price\":1,\"name\":\"x\"}"), "");
	cr_assert_str_eq(check(s, "{\"name\":\"x\"}"), "$: missing required property \"price\"");
	/* A present null satisfies required (the type check is separate). */
	cr_assert_str_eq(check(s, "{\"price\":null,\"name\":\"x\"}"), "");
}

Test(schema, properties_nested_path)
{
	const char *s = "{\"type\":\"object\",\"properties\":{\"price\":{\"type\":\"number\"},"
			"\"seller\":{\"type\":\"object\",\"properties\":{\"rating\":{\"type\":\"integer\"}},"
			"\"required\":[\"rating\"]}}}";

	cr_assert_str_eq(check(s, "{\"price\":\"9.99\"}"), "$.price: expected number, got string");
	cr_assert_str_eq(check(s, "{\"price\":9.99,\"seller\":{\"rating\":\"high\"}}"),
			 "$.seller.rating: expected integer, got string");
	cr_assert_str_eq(check(s, "{\"price\":9.99,\"seller\":{}}"),
			 "$.seller: missing required property \"rating\"");
	cr_assert_str_eq(check(s, "{\"price\":9.99,\"seller\":{\"rating\":4},\"other\":[1]}"), "");
}

Test(schema, odd_property_names_are_bracketed)
{
	cr_assert_str_eq(check("{\"properties\":{\"unit price\":{\"type\":\"number\"}}}",
			       "{\"unit price\":\"x\"}"),
			 "$[\"unit price\"]: expected number, got string");
}

Test(schema, items_with_index_in_path)
{
	const char *s = "{\"type\":\"array\",\"items\":{\"type\":\"object\","
			"\"properties\":{\"sku\":{\"type\":\"string\"}},\"required\":[\"sku\"]}}";

	cr_assert_str_eq(check(s, "[{\"sku\":\"a\"},{\"sku\":\"b\"}]"), "");
	cr_assert_str_eq(check(s, "[{\"sku\":\"a\"},{\"sku\":\"b\"},{\"sku\":3}]"),
			 "$[2].sku: expected string, got integer");
	cr_assert_str_eq(check(s, "[{\"sku\":\"a\"},{}]"), "$[1]: missing required property \"sku\"");
}

Test(schema, min_max_items)
{
	const char *s = "{\"type\":\"array\",\"minItems\":1,\"maxItems\":2}";

	cr_assert_str_eq(check(s, "[1]"), "");
	cr_assert_str_eq(check(s, "[]"), "$: expected at least 1 item, got 0");
	cr_assert_str_eq(check(s, "[1,2,3]"), "$: expected at most 2 items, got 3");
}

Test(schema, enum_values)
{
	const char *s = "{\"enum\":[\"red\",\"green\",1]}";

	cr_assert_str_eq(check(s, "\"red\""), "");
	cr_assert_str_eq(check(s, "1.0"), "");
	cr_assert_str_eq(check(s, "\"blue\""),
			 "$: value \"blue\" is not one of the allowed values [\"red\",\"green\",1]");
}

Test(schema, additional_properties_false)
{
	const char *s = "{\"type\":\"object\",\"properties\":{\"a\":{}},\"additionalProperties\":false}";

	cr_assert_str_eq(check(s, "{\"a\":1}"), "");
	cr_assert_str_eq(check(s, "{\"a\":1,\"b\":2}"), "$: property \"b\" is not allowed");
}

Test(schema, additional_properties_schema)
{
	const char *s = "{\"type\":\"object\",\"additionalProperties\":{\"type\":\"number\"}}";

	cr_assert_str_eq(check(s, "{\"x\":1,\"y\":2.5}"), "");
	cr_assert_str_eq(check(s, "{\"x\":1,\"y\":\"no\"}"), "$.y: expected number, got string");
}

Test(schema, minimum_maximum)
{
	const char *s = "{\"type\":\"number\",\"minimum\":0,\"maximum\":100}";

	cr_assert_str_eq(check(s, "0"), "");
	cr_assert_str_eq(check(s, "100"), "");
	cr_assert_str_eq(check(s, "-1"), "$: -1 is less than the minimum 0");
	cr_assert_str_eq(check(s, "100.5"), "$: 100.5 is greater than the maximum 100");
}

Test(schema, min_max_length)
{
	const char *s = "{\"type\":\"string\",\"minLength\":2,\"maxLength\":3}";

	cr_assert_str_eq(check(s, "\"\xc3\xa9t\xc3\xa9\""), "");   /* 3 code points, 5 bytes */
	cr_assert_str_eq(check(s, "\"a\""), "$: expected at least 2 characters, got 1");
	cr_assert_str_eq(check(s, "\"abcd\""), "$: expected at most 3 characters, got 4");
}

Test(schema, unknown_keywords_ignored)
{
	cr_assert_str_eq(check("{\"type\":\"string\",\"format\":\"email\",\"pattern\":\"^x\","
			       "\"description\":\"anything\"}", "\"not an email\""), "");
}

Test(schema, boolean_schemas)
{
	cr_assert_str_eq(check("true", "{\"a\":1}"), "");
	cr_assert_str_eq(check("{\"properties\":{\"a\":false}}", "{\"a\":1}"),
			 "$.a: no value is allowed here");
}

Test(schema, empty_schema_accepts_anything)
{
	cr_assert_str_eq(check("{}", "[1,{\"a\":null}]"), "");
}

Test(schema, skyvern_style_example)
{
	const char *s = "{\"type\":\"object\",\"properties\":{\"products\":{\"type\":\"array\","
			"\"items\":{\"type\":\"object\",\"properties\":{\"name\":{\"type\":\"string\"},"
			"\"price\":{\"type\":\"number\"},\"in_stock\":{\"type\":\"boolean\"}},"
			"\"required\":[\"name\",\"price\"]}}},\"required\":[\"products\"]}";

	cr_assert_str_eq(check(s, "{\"products\":[{\"name\":\"Lamp\",\"price\":19.5,\"in_stock\":true}]}"), "");
	cr_assert_str_eq(check(s, "{\"products\":[{\"name\":\"Lamp\",\"price\":\"$19.50\"}]}"),
			 "$.products[0].price: expected number, got string");
	cr_assert_str_eq(check(s, "{\"items\":[]}"), "$: missing required property \"products\"");
}
