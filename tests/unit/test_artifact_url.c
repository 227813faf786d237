/*
 * Signed artifact URLs: what verifies, what does not, and which paths are
 * refused before any signature is looked at.
 */
#include <criterion/criterion.h>
#include "sx.h"
#include "artifact_url.h"
#include "crypto.h"

#define KEY "k3y-for-tests-0123456789abcdef"
#define PATH "o_abc/tsk_def/01h_screenshot_final.png"
#define NOW 1800000000LL

/* Pulls expires and sig out of a signed URL. */
static void split(const char *url, char *exp, size_t elen, char *sig, size_t slen)
{
	const char *e = strstr(url, "?expires="), *s = strstr(url, "&sig=");

	cr_assert(e && s);
	snprintf(exp, elen, "%.*s", (int)(s - e - 9), e + 9);
	snprintf(sig, slen, "%s", s + 5);
}

Test(artifact_url, sign_then_verify)
{
	char *url = arturl_sign("http://h:1", KEY, 3600, NOW, PATH);
	char exp[32], sig[80];

	cr_assert_not_null(url);
	cr_assert(strncmp(url, "http://h:1/artifacts/" PATH "?expires=", 21 + strlen(PATH) + 9) == 0, "%s", url);
	split(url, exp, sizeof(exp), sig, sizeof(sig));
	cr_assert_str_eq(exp, "1800003600");
	cr_assert_eq(strlen(sig), 64);
	cr_assert_eq(arturl_verify(KEY, PATH, exp, sig, NOW), ARTURL_OK);
	cr_assert_eq(arturl_verify(KEY, PATH, exp, sig, NOW + 3600), ARTURL_OK);
	free(url);
}

Test(artifact_url, the_message_is_path_newline_expiry)
{
	char want[65], *url = arturl_sign("", KEY, 10, NOW, PATH), exp[32], sig[80];
	const char msg[] = "/artifacts/" PATH "\n1800000010";

	crypto_hmac_sha256_hex(KEY, strlen(KEY), msg, strlen(msg), want);
	split(url, exp, sizeof(exp), sig, sizeof(sig));
	cr_assert_str_eq(sig, want);
	free(url);
}

Test(artifact_url, expired)
{
	char *url = arturl_sign("", KEY, 60, NOW, PATH), exp[32], sig[80];

	split(url, exp, sizeof(exp), sig, sizeof(sig));
	cr_assert_eq(arturl_verify(KEY, PATH, exp, sig, NOW + 61), ARTURL_EXPIRED);
	free(url);
}

Test(artifact_url, tampered_signature_path_expiry_or_key)
{
	char *url = arturl_sign("", KEY, 60, NOW, PATH), exp[32], sig[80];

	split(url, exp, sizeof(exp), sig, sizeof(sig));
	/* Extending the lifetime breaks the signature, it does not expire it. */
	cr_assert_eq(arturl_verify(KEY, PATH, "1900000000", sig, NOW), ARTURL_BAD_SIG);
	cr_assert_eq(arturl_verify(KEY, "o_abc/tsk_def/other.png", exp, sig, NOW), ARTURL_BAD_SIG);
	cr_assert_eq(arturl_verify("another key", PATH, exp, sig, NOW), ARTURL_BAD_SIG);
	sig[0] = sig[0] == '0' ? '1' : '0';
	cr_assert_eq(arturl_verify(KEY, PATH, exp, sig, NOW), ARTURL_BAD_SIG);
	sig[0] = sig[0] == '0' ? '1' : '0';
	sig[63] = '\0';
	cr_assert_eq(arturl_verify(KEY, PATH, exp, sig, NOW), ARTURL_BAD_SIG);
	cr_assert_eq(arturl_verify(KEY, PATH, NULL, sig, NOW), ARTURL_BAD_SIG);
	cr_assert_eq(arturl_verify(KEY, PATH, exp, NULL, NOW), ARTURL_BAD_SIG);
	cr_assert_eq(arturl_verify(KEY, PATH, "12x", sig, NOW), ARTURL_BAD_SIG);
	free(url);
}

/* The signature covers the number: any other spelling of it is refused. */
Test(artifact_url, expires_has_one_spelling)
{
	char *url = arturl_sign("", KEY, 60, NOW, PATH), exp[32], sig[80], other[40];
	/* Text before and after the canonical digits. */
	static const char *const forms[][2] = {
		{ "0", "" }, { "00", "" }, { "+", "" }, { "-", "" }, { " ", "" }, { "", " " }, { "", ".0" },
	};

	split(url, exp, sizeof(exp), sig, sizeof(sig));
	cr_assert_eq(arturl_verify(KEY, PATH, exp, sig, NOW), ARTURL_OK);
	for (size_t i = 0; i < SX_ARRAY_LEN(forms); i++) {
		snprintf(other, sizeof(other), "%s%s%s", forms[i][0], exp, forms[i][1]);
		cr_assert_eq(arturl_verify(KEY, PATH, other, sig, NOW), ARTURL_BAD_SIG, "expires=%s", other);
	}
	cr_assert_eq(arturl_verify(KEY, PATH, "", sig, NOW), ARTURL_BAD_SIG);
	cr_assert_eq(arturl_verify(KEY, PATH, "0", sig, NOW), ARTURL_BAD_SIG);
	free(url);
}

Test(artifact_url, no_key_no_url_and_nothing_verifies)
{
	cr_assert_null(arturl_sign("http://h", "", 60, NOW, PATH));
	cr_assert_null(arturl_sign("http://h", NULL, 60, NOW, PATH));
	cr_assert_null(arturl_sign("http://h", KEY, 60, NOW, NULL));
	cr_assert_eq(arturl_verify("", PATH, "1900000000",
				   "0000000000000000000000000000000000000000000000000000000000000000", NOW),
		     ARTURL_BAD_SIG);
}

Test(artifact_url, traversal_and_odd_paths_are_refused)
{
	static const char *const bad[] = {
		"../etc/passwd", "o/../../x.png", "o/t/..", "/etc/passwd", "o//t/x.png", "o/t/",
		"o/t/.hidden", "o/%2e%2e/x", "o%2Ft%2Fx.png", "o/t/x y.png", "o/t/x\\y.png",
		"o/t/x.png?", "", ".", "o/./x.png",
	};
	char sig[65];

	for (size_t i = 0; i < SX_ARRAY_LEN(bad); i++) {
		char *m = xasprintf("/artifacts/%s\n1900000000", bad[i]);

		cr_assert_not(arturl_path_safe(bad[i]), "accepted %s", bad[i]);
		cr_assert_null(arturl_sign("", KEY, 60, NOW, bad[i]), "signed %s", bad[i]);
		/* Even a correct signature over a bad path is refused. */
		crypto_hmac_sha256_hex(KEY, strlen(KEY), m, strlen(m), sig);
		cr_assert_eq(arturl_verify(KEY, bad[i], "1900000000", sig, NOW), ARTURL_BAD_PATH, "%s", bad[i]);
		free(m);
	}
	cr_assert(arturl_path_safe(PATH));
	cr_assert(arturl_path_safe("o_1/tsk_2/recording.webm"));
}

Test(artifact_url, content_types)
{
	cr_assert_str_eq(arturl_content_type("a/b/c.png"), "image/png");
	cr_assert_str_eq(arturl_content_type("a/b/c.webm"), "video/webm");
	cr_assert_str_eq(arturl_content_type("a/b/c.json"), "application/json");
	cr_assert_str_eq(arturl_content_type("a/b/c"), "application/octet-stream");
}
