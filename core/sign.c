/*
 * HMAC-SHA256 request signing (see sign.h).
 */
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include "sx.h"
#include "buf.h"
#include "sign.h"

bool sign_mode_parse(const char *s, enum sign_mode *out)
{
	if (s && strcmp(s, "slack") == 0)
		*out = SIGN_SLACK;
	else if (s && strcmp(s, "skyvern") == 0)
		*out = SIGN_SKYVERN;
	else
		return false;
	return true;
}

void sign_hmac_sha256_hex(const char *key, size_t keylen, const void *data, size_t len, char out[65])
{
	static const char hex[] = "0123456789abcdef";
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;

	if (!HMAC(EVP_sha256(), key, (int)keylen, data, len, md, &mdlen) || mdlen != 32)
		abort();
	for (unsigned i = 0; i < 32; i++) {
		out[2 * i] = hex[md[i] >> 4];
		out[2 * i + 1] = hex[md[i] & 15];
	}
	out[64] = '\0';
	OPENSSL_cleanse(md, sizeof(md));
}

void sign_request(enum sign_mode mode, const char *secret, long long ts,
		  const char *body, size_t len, char out[72])
{
	char hex[65];

	if (mode == SIGN_SKYVERN) {
		sign_hmac_sha256_hex(secret, strlen(secret), body, len, hex);
		snprintf(out, 72, "%s", hex);
	} else {
		struct sx_buf msg;

		sx_buf_init(&msg, SIZE_MAX);
		if (sx_buf_printf(&msg, "v0:%lld:", ts) || sx_buf_append(&msg, body, len))
			abort();
		sign_hmac_sha256_hex(secret, strlen(secret), msg.data, msg.len, hex);
		snprintf(out, 72, "v0=%s", hex);
		sx_buf_release(&msg);
	}
}

bool sign_verify(enum sign_mode mode, const char *secret, long long ts,
		 const char *body, size_t len, const char *signature)
{
	char want[72];
	size_t n = strlen(signature);
	bool ok;

	sign_request(mode, secret, ts, body, len, want);
	ok = n == strlen(want) && CRYPTO_memcmp(want, signature, n) == 0;
	OPENSSL_cleanse(want, sizeof(want));
	return ok;
}
