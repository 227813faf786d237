/*
 * The strict JSON checker and the parsers over it (core/json.c): a table of
 * texts RFC 8259 accepts and of texts it refuses, the depth limit, and the
 * re-serialization of numbers.
 */
#include "json.h"

#include <criterion/criterion.h>

#define DEPTH SX_JSON_MAX_DEPTH

/* A text with its length, so NUL bytes can be part of it. */
struct text {
	const char *s;
	size_t len;
};
#define T(lit) { lit, sizeof(lit) - 1 }

static const struct text accepted[] = {
	T("0"), T("-0"), T("1"), T("-1"), T("0.5"), T("-0.5"), T("1.0"), T("1e5"), T("1E5"),
	T("1e+5"), T("1e-5"), T("1.5E-300"), T("123456789012345678"),
	T("9223372036854775807"), T("-9223372036854775808"), T("18446744073709551615"),
	T("true"), T("false"), T("null"), T("\"\""), T("\"a\""), T("[]"), T("{}"),
	T(" [ 1 , 2 ] "), T("\t\r\n{}\n"), T("{\"a\":{\"b\":[true,false,null]}}"),
	T("{\"a\":1,\"a\":2}"),
	T("\"\\\" \\\\ \\/ \\b \\f \\n \\r \\t\""),
	T("\"\\u00e9\\u20AC\""),
	T("\"\\ud83d\\ude00\""),            /* a surrogate pair */
	T("\"\\\\u0000\""),                  /* an escaped backslash, then text */
	T("\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\""),
	T("\"\xf4\x8f\xbf\xbf\""),           /* U+10FFFF */
	T("\"\xed\x9f\xbf\""),               /* U+D7FF, just below the surrogates */
	T("\"\x7f\""),                       /* DEL is not a control character to JSON */
};

static const struct text refused[] = {
	/* numbers */
	T("1."), T("-.5"), T(".5"), T("1.e5"), T("[0.]"), T("+1"), T("01"), T("-01"), T("00"),
	T("1e"), T("1e+"), T("-"), T("0x10"), T("1_000"), T("NaN"), T("-NaN"), T("Infinity"),
	T("-Infinity"), T("[NaN]"), T("{\"a\":Infinity}"), T("9223372036854775808x"),
	T("18446744073709551616"), T("-9223372036854775809"), T("100000000000000000000000"),
	/* literals and structure */
	T(""), T(" "), T("tru"), T("True"), T("nul"), T("nulll"), T("[1,]"), T("[,1]"), T("{,}"),
	T("{\"a\":1,}"), T("{\"a\" 1}"), T("{a:1}"), T("{'a':1}"), T("['a']"), T("[1 2]"),
	T("{\"a\"}"), T("[1"), T("{\"a\":1"), T("[] []"), T("{} x"), T("1 2"), T("/* c */ 1"),
	T("[1] // c"), T("\xef\xbb\xbf{}"),    /* a byte-order mark */
	/* strings */
	T("\"abc"), T("\"a\\\""), T("\"\\x41\""), T("\"\\u12\""), T("\"\\u12g4\""), T("\"\\U0041\""),
	T("\"a\tb\""), T("\"a\nb\""), T("\"\x1f\""), T("\"a\0b\""), T("\"\\u0000\""),
	T("{\"x\\u0000\":1}"), T("\"\\ud800\""), T("\"\\ud800x\""), T("\"\\ud800\\u0041\""),
	T("\"\\ud800\\ud800\""), T("\"\\udc00\""), T("\"\\ude00\\ud83d\""), T("\"\\ud83d\\"),
	/* UTF-8 */
	T("\"\xc0\x80\""),                   /* overlong NUL */
	T("\"\xc1\xbf\""),                   /* overlong */
	T("\"\xe0\x80\xaf\""),               /* overlong '/' */
	T("\"\xf0\x80\x80\xaf\""),           /* overlong '/' */
	T("\"\xed\xa0\x80\""),               /* U+D800 encoded in UTF-8 */
	T("\"\xed\xbf\xbf\""),               /* U+DFFF encoded in UTF-8 */
	T("\"\xf4\x90\x80\x80\""),           /* U+110000 */
	T("\"\xf5\x80\x80\x80\""), T("\"\xff\""), T("\"\x80\""), T("\"\xc3\""), T("\"\xe2\x82\""),
	T("\"\xf0\x9f\x98\""), T("\"\xc3\x28\""), T("\xc3\xa9"),
};

Test(json, check_accepts_rfc8259)
{
	char err[128];
	size_t i;

	for (i = 0; i < SX_ARRAY_LEN(accepted); i++) {
		cr_assert_eq(sx_json_check(accepted[i].s, accepted[i].len, DEPTH, err, sizeof(err)), SX_OK,
			     "refused %s: %s", accepted[i].s, err);
		cr_assert_eq(err[0], '\0');
	}
}

Test(json, check_refuses_everything_else)
{
	char err[128];
	size_t i;

	for (i = 0; i < SX_ARRAY_LEN(refused); i++) {
		err[0] = '\0';
		cr_assert_eq(sx_json_check(refused[i].s, refused[i].len, DEPTH, err, sizeof(err)), SX_EINVAL,
			     "accepted #%zu %s", i, refused[i].s);
		cr_assert(strstr(err, " at offset "), "no offset in '%s' for #%zu", err, i);
	}
}

/* The parser refuses the same table, and accepts it, with a value for each. */
Test(json, parse_follows_the_check)
{
	char err[128];
	json_object *o;
	size_t i;

	for (i = 0; i < SX_ARRAY_LEN(refused); i++) {
		err[0] = '\0';
		o = sx_json_parse(refused[i].s, refused[i].len, DEPTH, err, sizeof(err));
		cr_assert_null(o, "parsed #%zu %s", i, refused[i].s);
		cr_assert_neq(err[0], '\0');
	}
	for (i = 0; i < SX_ARRAY_LEN(accepted); i++) {
		o = sx_json_parse(accepted[i].s, accepted[i].len, DEPTH, err, sizeof(err));
		/* null parses to NULL, as json-c represents it. */
		if (strcmp(accepted[i].s, "null") != 0)
			cr_assert_not_null(o, "refused %s: %s", accepted[i].s, err);
		json_object_put(o);
	}
}

Test(json, messages_name_the_problem_and_offset)
{
	static const struct {
		const char *text, *msg;
	} cases[] = {
		{ "[1.]", "no digit after the decimal point at offset 3" },
		{ "[01]", "leading zero in a number at offset 2" },
		{ "[+1]", "not a JSON value at offset 1" },
		{ "\"\\ud800\"", "lone UTF-16 surrogate at offset 7" },
		{ "\"\xed\xa0\x80\"", "invalid UTF-8 at offset 1" },
		{ "\"a\tb\"", "control character in a string at offset 2" },
		{ "[1] x", "unexpected data after the JSON value at offset 4" },
		{ "[1,", "unexpected end of input at offset 3" },
		{ "18446744073709551616", "integer out of range at offset 0" },
	};
	char err[128];
	size_t i;

	for (i = 0; i < SX_ARRAY_LEN(cases); i++) {
		sx_json_check(cases[i].text, strlen(cases[i].text), DEPTH, err, sizeof(err));
		cr_assert_str_eq(err, cases[i].msg);
	}
}

/* Only len bytes are read, even when more follow. */
Test(json, reads_only_len_bytes)
{
	char err[128];
	json_object *o;

	cr_assert_eq(sx_json_check("[1]xyz", 3, DEPTH, err, sizeof(err)), SX_OK);
	o = sx_json_parse("[1]xyz", 3, DEPTH, err, sizeof(err));
	cr_assert_not_null(o, "%s", err);
	json_object_put(o);
	o = sx_json_parse("123", 3, DEPTH, err, sizeof(err));
	cr_assert_eq(json_object_get_int64(o), 123);
	json_object_put(o);
}

Test(json, error_fits_errlen)
{
	char err[8];

	memset(err, 'x', sizeof(err));
	cr_assert_null(sx_json_parse("{", 1, DEPTH, err, sizeof(err)));
	cr_assert_eq(strlen(err), sizeof(err) - 1);
	cr_assert_null(sx_json_parse("{", 1, DEPTH, NULL, 0));
	cr_assert_eq(sx_json_check("{", 1, DEPTH, NULL, 0), SX_EINVAL);
	cr_assert_null(sx_json_parse(NULL, 0, DEPTH, err, sizeof(err)));
}

/* n nested arrays around 1. */
static char *nested(size_t n)
{
	char *s = xmalloc(2 * n + 2);

	memset(s, '[', n);
	s[n] = '1';
	memset(s + n + 1, ']', n);
	s[2 * n + 1] = '\0';
	return s;
}

Test(json, depth_limit_is_exact)
{
	char err[128];
	json_object *o;
	char *s;
	int d;

	for (d = 1; d <= 40; d++) {
		s = nested((size_t)d);
		cr_assert_eq(sx_json_check(s, strlen(s), DEPTH, err, sizeof(err)),
			     d <= DEPTH ? SX_OK : SX_EINVAL, "depth %d: %s", d, err);
		o = sx_json_parse(s, strlen(s), DEPTH, err, sizeof(err));
		cr_assert_eq(o != NULL, d <= DEPTH, "depth %d: %s", d, err);
		json_object_put(o);
		o = sx_json_parse_stored(s, strlen(s), DEPTH, err, sizeof(err));
		cr_assert_eq(o != NULL, d <= DEPTH, "stored, depth %d: %s", d, err);
		json_object_put(o);
		free(s);
	}
	cr_assert_eq(sx_json_check("[[[1]]]", 7, 3, err, sizeof(err)), SX_OK);
	cr_assert_eq(sx_json_check("[[[[1]]]]", 9, 3, err, sizeof(err)), SX_EINVAL);
	cr_assert_str_eq(err, "nested too deep at offset 3");
	/* 0 means the project's limit. */
	s = nested(DEPTH + 1);
	cr_assert_eq(sx_json_check(s, strlen(s), 0, NULL, 0), SX_EINVAL);
	free(s);
}

Test(json, deep_input_is_refused_without_recursing_through_it)
{
	size_t n = 1000000;
	char *s = nested(n);

	cr_assert_eq(sx_json_check(s, 2 * n + 1, 100000, NULL, 0), SX_EINVAL);
	cr_assert_null(sx_json_parse(s, 2 * n + 1, 100000, NULL, 0));
	free(s);
}

/* Serializes o the way the task request is stored. */
static void expect_text(const char *in, const char *out)
{
	char err[128];
	json_object *o = sx_json_parse(in, strlen(in), DEPTH, err, sizeof(err));

	cr_assert_not_null(o, "%s: %s", in, err);
	cr_assert_str_eq(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN), out, "from %s", in);
	json_object_put(o);
}

Test(json, numbers_are_reserialized_from_their_value)
{
	expect_text("[0.1,1.0,1.50,-0.0,2.5e-3,1E2]", "[0.1,1.0,1.5,-0.0,0.0025,100.0]");
	expect_text("[1e300,123456789.123456789,0.30000000000000004]",
		    "[1e+300,123456789.12345679,0.30000000000000004]");
	expect_text("[1e-400]", "[0.0]");
	expect_text("[0,-1,18446744073709551615]", "[0,-1,18446744073709551615]");
	cr_assert_null(sx_json_parse("[1e400]", 7, DEPTH, NULL, 0));
	cr_assert_null(sx_json_parse("-1e400", 6, DEPTH, NULL, 0));
}

/* A row stored before the checker existed still reads, and is JSON on the way out. */
Test(json, stored_text_is_read_leniently_and_reserialized)
{
	static const char legacy[] = "{\"navigation_payload\":[1.,-.5,1.e5,[0.]]}";
	char err[128];
	json_object *o = sx_json_parse_stored(legacy, sizeof(legacy) - 1, DEPTH, err, sizeof(err));
	const char *out;

	cr_assert_not_null(o, "%s", err);
	out = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
	cr_assert_str_eq(out, "{\"navigation_payload\":[1.0,-0.5,100000.0,[0.0]]}");
	cr_assert_eq(sx_json_check(out, strlen(out), DEPTH, NULL, 0), SX_OK);
	json_object_put(o);
	cr_assert_null(sx_json_parse_stored("{", 1, DEPTH, err, sizeof(err)));
	cr_assert_neq(err[0], '\0');
}
