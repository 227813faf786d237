/*
 * The OpenSSL adapter against published vectors: FIPS 180-2 SHA-256,
 * RFC 4231 HMAC-SHA256/512, RFC 2202 HMAC-SHA1, RFC 4648 base64.
 */
#include "sx.h"
#include "crypto.h"

#include <criterion/criterion.h>

static void hex_of(const unsigned char *p, size_t n, char *out)
{
	crypto_hex(p, n, out);
}

Test(crypto, sha256_known_vectors)
{
	char hex[CRYPTO_SHA256_HEX];

	crypto_sha256_hex("abc", 3, hex);
	cr_assert_str_eq(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	crypto_sha256_hex("", 0, hex);
	cr_assert_str_eq(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	crypto_sha256_hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", 56, hex);
	cr_assert_str_eq(hex, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
}

Test(crypto, hmac_sha256_rfc4231)
{
	unsigned char key[20];
	char hex[CRYPTO_SHA256_HEX];

	memset(key, 0x0b, sizeof(key));
	crypto_hmac_sha256_hex(key, sizeof(key), "Hi There", 8, hex);
	cr_assert_str_eq(hex, "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
	crypto_hmac_sha256_hex("Jefe", 4, "what do ya want for nothing?", 28, hex);
	cr_assert_str_eq(hex, "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

Test(crypto, hmac_sha1_and_sha512_lengths_and_values)
{
	unsigned char key[20], mac[CRYPTO_DIGEST_MAX];
	char hex[2 * CRYPTO_DIGEST_MAX + 1];
	size_t n;

	memset(key, 0x0b, sizeof(key));
	n = crypto_hmac(CRYPTO_SHA1, key, sizeof(key), "Hi There", 8, mac);
	cr_assert_eq(n, 20);
	hex_of(mac, n, hex);
	cr_assert_str_eq(hex, "b617318655057264e28bc0b6fb378c8ef146be00");
	n = crypto_hmac(CRYPTO_SHA512, "Jefe", 4, "what do ya want for nothing?", 28, mac);
	cr_assert_eq(n, 64);
	hex_of(mac, n, hex);
	cr_assert_str_eq(hex, "164b7a7bfcf819e2e395fbe73b56e0a387bd64222e831fd610270cd7ea250554"
			      "9758bf75c05a994a6d034f65f8f0e6fdcaeab1a34d4a6b4b636e070a38bce737");
	n = crypto_hmac(CRYPTO_SHA256, "Jefe", 4, "what do ya want for nothing?", 28, mac);
	cr_assert_eq(n, 32);
}

Test(crypto, base64_rfc4648_vectors)
{
	static const char *const in[] = { "", "f", "fo", "foo", "foob", "fooba", "foobar" };
	static const char *const std[] = { "", "Zg==", "Zm8=", "Zm9v", "Zm9vYg==", "Zm9vYmE=", "Zm9vYmFy" };
	static const char *const url[] = { "", "Zg", "Zm8", "Zm9v", "Zm9vYg", "Zm9vYmE", "Zm9vYmFy" };
	char out[16];

	for (size_t i = 0; i < SX_ARRAY_LEN(in); i++) {
		size_t n = strlen(in[i]);

		cr_assert_eq(crypto_base64_size(n, CRYPTO_B64_STD), strlen(std[i]) + 1);
		crypto_base64_encode(in[i], n, CRYPTO_B64_STD, out, sizeof(out));
		cr_assert_str_eq(out, std[i]);
		cr_assert_eq(crypto_base64_size(n, CRYPTO_B64_URL), strlen(url[i]) + 1);
		crypto_base64_encode(in[i], n, CRYPTO_B64_URL, out, sizeof(out));
		cr_assert_str_eq(out, url[i]);
	}
}

Test(crypto, base64_alphabets_differ_in_two_digits)
{
	static const unsigned char b[] = { 0xfb, 0xff, 0xbf };
	char out[8];

	crypto_base64_encode(b, 3, CRYPTO_B64_STD, out, sizeof(out));
	cr_assert_str_eq(out, "+/+/");
	crypto_base64_encode(b, 3, CRYPTO_B64_URL, out, sizeof(out));
	cr_assert_str_eq(out, "-_-_");
}

Test(crypto, base64_decode_round_trip)
{
	static const char *const std[] = { "Zg==", "Zm8=", "Zm9v", "Zm9vYg==", "Zm9vYmE=", "Zm9vYmFy" };
	static const char *const want[] = { "f", "fo", "foo", "foob", "fooba", "foobar" };
	unsigned char *o = NULL;
	size_t n = 0;

	for (size_t i = 0; i < SX_ARRAY_LEN(std); i++) {
		cr_assert_eq(crypto_base64_decode(std[i], strlen(std[i]), &o, &n), SX_OK);
		cr_assert_eq(n, strlen(want[i]));
		cr_assert_eq(memcmp(o, want[i], n), 0);
		free(o);
	}
}

Test(crypto, base64_decode_is_strict)
{
	static const char *const bad[] = {
		"", "Zg=", "Zg", "Zm9v\n", "Z===", "Zm=v", "Zg==Zg==", "Zm9-", "Zm9_", " Zm9",
	};
	unsigned char *o = (unsigned char *)1;
	size_t n = 1;

	for (size_t i = 0; i < SX_ARRAY_LEN(bad); i++) {
		cr_assert_eq(crypto_base64_decode(bad[i], strlen(bad[i]), &o, &n), SX_EPARSE,
			     "accepted '%s'", bad[i]);
		cr_assert_null(o);
		cr_assert_eq(n, 0);
	}
}

Test(crypto, equal_compares_every_byte)
{
	cr_assert(crypto_equal("abcdef", "abcdef", 6));
	cr_assert_not(crypto_equal("abcdef", "abcdeg", 6));
	cr_assert_not(crypto_equal("xbcdef", "abcdef", 6));
	cr_assert(crypto_equal("ab", "ac", 1));
}

Test(crypto, wipe_and_random)
{
	unsigned char a[32], b[32], zero[32] = { 0 };

	crypto_random_bytes(a, sizeof(a));
	crypto_random_bytes(b, sizeof(b));
	cr_assert_neq(memcmp(a, b, sizeof(a)), 0);
	crypto_wipe(a, sizeof(a));
	cr_assert_eq(memcmp(a, zero, sizeof(a)), 0);
	crypto_wipe(NULL, 4);
}
