/*
 * One-time codes (core/totp_code.c): base32, RFC 6238 against the RFC's own
 * test vectors, otpauth:// URIs, and reading codes out of real-looking
 * e-mail and SMS bodies without a model.
 */
#include <criterion/criterion.h>
#include "sx.h"
#include "totp_code.h"

#define SEED20 "12345678901234567890"
#define SEED32 "12345678901234567890123456789012"
#define SEED64 "1234567890123456789012345678901234567890123456789012345678901234"
#define B32_SEED20 "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"
#define B32_SEED32 "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQGEZA===="
#define B32_SEED64 "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ" \
	"GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQGEZDGNA="

static void params_raw(struct totp_params *p, const char *seed, enum totp_algo algo, int digits)
{
	memset(p, 0, sizeof(*p));
	p->keylen = strlen(seed);
	memcpy(p->key, seed, p->keylen);
	p->algo = algo;
	p->digits = digits;
	p->period = 30;
}

/* RFC 6238 Appendix B: every time, every algorithm, 8 digits. */
Test(totp, rfc6238_appendix_b_vectors)
{
	static const struct { long long t; const char *sha1, *sha256, *sha512; } v[] = {
		{ 59, "94287082", "46119246", "90693936" },
		{ 1111111109, "07081804", "68084774", "25091201" },
		{ 1111111111, "14050471", "67062674", "99943326" },
		{ 1234567890, "89005924", "91819424", "93441116" },
		{ 2000000000, "69279037", "90698825", "38618901" },
		{ 20000000000LL, "65353130", "77737706", "47863826" },
	};
	struct totp_params p;
	char code[TOTP_CODE_MAX];

	for (size_t i = 0; i < SX_ARRAY_LEN(v); i++) {
		params_raw(&p, SEED20, TOTP_SHA1, 8);
		totp_code_at(&p, v[i].t, code);
		cr_assert_str_eq(code, v[i].sha1, "SHA1 at %lld", v[i].t);
		params_raw(&p, SEED32, TOTP_SHA256, 8);
		totp_code_at(&p, v[i].t, code);
		cr_assert_str_eq(code, v[i].sha256, "SHA256 at %lld", v[i].t);
		params_raw(&p, SEED64, TOTP_SHA512, 8);
		totp_code_at(&p, v[i].t, code);
		cr_assert_str_eq(code, v[i].sha512, "SHA512 at %lld", v[i].t);
	}
}

/* The default, 6 digits, is the last six of the 8-digit value, zero-padded. */
Test(totp, six_digits_is_the_low_six)
{
	struct totp_params p;
	char code[TOTP_CODE_MAX];

	cr_assert_eq(totp_parse_secret(B32_SEED20, &p), SX_OK);
	cr_assert_eq(p.digits, 6);
	cr_assert_eq(p.period, 30);
	cr_assert_eq(p.algo, TOTP_SHA1);
	totp_code_at(&p, 1111111109, code);
	cr_assert_str_eq(code, "081804");
	totp_code_at(&p, 59, code);
	cr_assert_str_eq(code, "287082");
	/* Same 30-second window, same code; the next window differs. */
	totp_code_at(&p, 60, code);
	cr_assert_str_neq(code, "287082");
}

Test(totp, base32_forms)
{
	unsigned char out[128];
	size_t n = 0;

	cr_assert_eq(totp_base32_decode(B32_SEED20, out, sizeof(out), &n), SX_OK);
	cr_assert_eq(n, 20);
	cr_assert(memcmp(out, SEED20, 20) == 0);
	/* Lower case, grouped with spaces, as authenticator set-up pages show it. */
	cr_assert_eq(totp_base32_decode("gezd gnbv gy3t qojq gezd gnbv gy3t qojq", out, sizeof(out), &n), SX_OK);
	cr_assert_eq(n, 20);
	cr_assert(memcmp(out, SEED20, 20) == 0);
	/* Padding, and the same without it. */
	cr_assert_eq(totp_base32_decode(B32_SEED32, out, sizeof(out), &n), SX_OK);
	cr_assert_eq(n, 32);
	cr_assert(memcmp(out, SEED32, 32) == 0);
	cr_assert_eq(totp_base32_decode("GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQGEZA", out, sizeof(out), &n), SX_OK);
	cr_assert_eq(n, 32);
	cr_assert_eq(totp_base32_decode("JBSWY3DPEHPK3PXP", out, sizeof(out), &n), SX_OK);
	cr_assert_eq(n, 10);
	cr_assert(memcmp(out, "Hello!\xde\xad\xbe\xef", 10) == 0);
	cr_assert_eq(totp_base32_decode("jbsw-y3dp-ehpk-3pxp", out, sizeof(out), &n), SX_OK);
	cr_assert_eq(n, 10);
	/* Not base32: 0, 1, 8, 9 and punctuation; data after padding; nothing at all. */
	cr_assert_eq(totp_base32_decode("JBSWY3DPEHPK3PX1", out, sizeof(out), &n), SX_EINVAL);
	cr_assert_eq(totp_base32_decode("JBSW!3DP", out, sizeof(out), &n), SX_EINVAL);
	cr_assert_eq(totp_base32_decode("JBSW==Y3", out, sizeof(out), &n), SX_EINVAL);
	cr_assert_eq(totp_base32_decode("  ", out, sizeof(out), &n), SX_EINVAL);
	cr_assert_eq(totp_base32_decode("", out, sizeof(out), &n), SX_EINVAL);
	/* A result larger than the output is refused, not overflowed. */
	cr_assert_eq(totp_base32_decode(B32_SEED20, out, 8, &n), SX_ETOOBIG);
}

Test(totp, otpauth_uris)
{
	struct totp_params p;
	char code[TOTP_CODE_MAX];

	cr_assert_eq(totp_parse_secret("otpauth://totp/ACME:alice@example.com?secret=" B32_SEED20
				       "&issuer=ACME", &p), SX_OK);
	cr_assert_eq(p.keylen, 20);
	cr_assert_eq(p.digits, 6);
	cr_assert_eq(p.algo, TOTP_SHA1);

	cr_assert_eq(totp_parse_secret("otpauth://totp/x?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQGEZA"
				       "&algorithm=SHA256&digits=8&period=30", &p), SX_OK);
	cr_assert_eq(p.algo, TOTP_SHA256);
	cr_assert_eq(p.digits, 8);
	totp_code_at(&p, 1234567890, code);
	cr_assert_str_eq(code, "91819424");

	/* Padding escaped as %3D, lower-case algorithm name, another period. */
	cr_assert_eq(totp_parse_secret("otpauth://totp/Bank%20X?period=60&digits=8&algorithm=sha512"
				       "&secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"
				       "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQGEZDGNA%3D", &p), SX_OK);
	cr_assert_eq(p.algo, TOTP_SHA512);
	cr_assert_eq(p.period, 60);
	cr_assert_eq(p.keylen, 64);
	/* With a 60 s period, t = 118 is counter 1 — the RFC's t = 59 with 30 s. */
	totp_code_at(&p, 118, code);
	cr_assert_str_eq(code, "90693936");

	cr_assert_eq(totp_parse_secret("otpauth://hotp/x?secret=" B32_SEED20 "&counter=1", &p), SX_EINVAL);
	cr_assert_eq(totp_parse_secret("otpauth://totp/x?issuer=nosecret", &p), SX_EINVAL);
	cr_assert_eq(totp_parse_secret("otpauth://totp/x?secret=" B32_SEED20 "&algorithm=MD5", &p), SX_EINVAL);
	cr_assert_eq(totp_parse_secret("otpauth://totp/x?secret=" B32_SEED20 "&digits=4", &p), SX_EINVAL);
	cr_assert_eq(totp_parse_secret("otpauth://totp/x?secret=" B32_SEED20 "&period=0", &p), SX_EINVAL);
	cr_assert_eq(totp_parse_secret("not a secret at all", &p), SX_EINVAL);
	cr_assert_eq(totp_parse_secret("123456", &p), SX_EINVAL);
}

static void expect_code(const char *text, const char *want)
{
	char code[TOTP_CODE_MAX];
	bool found = totp_extract_code(text, code);

	if (want) {
		cr_assert(found, "no code found in: %s", text);
		cr_assert_str_eq(code, want, "in: %s", text);
	} else {
		cr_assert_not(found, "found %s in: %s", code, text);
		cr_assert_str_eq(code, "");
	}
}

Test(totp, extract_from_emails)
{
	expect_code("Hi Alice,\n\nYour verification code is:\n\n    483920\n\nThis code expires in 10 "
		    "minutes. If you did not request it, call us on +1 (555) 123-4567.\n\n"
		    "Northwind Bank, 1200 Market Street, Suite 400, San Francisco, CA 94103\n"
		    "(c) 2024 Northwind Bank", "483920");
	expect_code("Subject: Your sign-in code\r\n\r\nUse 7730 to sign in to your account. "
		    "Order #123456 shipped on 2024-05-01.", "7730");
	expect_code("<html><body style=\"font-size:16px;color:#333333\"><p>Your one-time passcode"
		    "</p><td style=\"padding:20px\"><b>90 21 44</b></td><p>Your passcode is "
		    "<strong>552019</strong>. It is valid for 15 minutes.</p>"
		    "<p>Reference 8812345678 &copy; 2025</p></body></html>", "552019");
	/* Two numbers: the one next to the word wins over one farther away. */
	expect_code("Account 93812 update. Security notice: your OTP: 660142. Ticket 77120.", "660142");
	/* Grouped as many senders print it. */
	expect_code("Your Microsoft account security code is 384 921.", "384921");
	/* Eight digits, and a code in a link. */
	expect_code("Your login code: 12345678", "12345678");
	expect_code("Click https://example.com/verify?code=245810 to confirm your email.", "245810");
}

Test(totp, extract_from_sms)
{
	expect_code("G-482913 is your Google verification code.", "482913");
	expect_code("123456 is your Instagram code. Don't share it.", "123456");
	expect_code("[Acme] Your verification code is 0071. Valid for 5 min.", "0071");
	expect_code("Your PIN is 8842", "8842");
	expect_code("Use code 9134-77? No: your code is 913477", "913477");
	expect_code("WhatsApp code 734-562\nYou can also tap this link to verify your phone: v.whatsapp.com/734562",
		    "734562");
}

Test(totp, extract_finds_nothing_in_junk)
{
	expect_code(NULL, NULL);
	expect_code("", NULL);
	expect_code("Hello, nothing to see here.", NULL);
	/* Numbers without a code word. */
	expect_code("Your order 48213377 has shipped and arrives on Tuesday.", NULL);
	/* Years, dates, times, phone numbers, money, percentages, ids glued to letters. */
	expect_code("Your code: call +1 555 123 4567 or (555) 987-6543 before 10:30 on 2024-05-01.", NULL);
	expect_code("Verification of your 2024 tax return: amount due $1234, rate 4500%.", NULL);
	expect_code("Promo code SAVE2024 and coupon ABC12345 apply until 12/31/2025.", NULL);
	/* Too short, too long. */
	expect_code("Your code is 123.", NULL);
	expect_code("Your code is 1234567890123.", NULL);
	/* A code word far from any number. */
	expect_code("Your verification code will arrive shortly. "
		    "................................................................................"
		    "................................................................................"
		    "Invoice 553311", NULL);
}
