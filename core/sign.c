/*
 * HMAC-SHA256 request signing (see sign.h).
 */
#include "sx.h"
#include "buf.h"
#include "crypto.h"
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

void sign_request(enum sign_mode mode, const char *secret, long long ts,
		  const char *body, size_t len, char out[72])
{
	char hex[CRYPTO_SHA256_HEX];

	if (mode == SIGN_SKYVERN) {
		crypto_hmac_sha256_hex(secret, strlen(secret), body, len, hex);
		snprintf(out, 72, "%s", hex);
	} else {
		struct sx_buf msg;

		sx_buf_init(&msg, SIZE_MAX);
		if (sx_buf_printf(&msg, "v0:%lld:", ts) || sx_buf_append(&msg, body, len))
			abort();
		crypto_hmac_sha256_hex(secret, strlen(secret), msg.data, msg.len, hex);
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
	ok = n == strlen(want) && crypto_equal(want, signature, n);
	crypto_wipe(want, sizeof(want));
	return ok;
}
