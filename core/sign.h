#ifndef SX_SIGN_H
#define SX_SIGN_H
/*
 * Signing of outbound requests (webhooks, TOTP verification URLs), as the
 * contract describes: Slack's scheme, `v0=` + hex HMAC-SHA256 of
 * `v0:{timestamp}:{body}`, or Skyvern's, hex HMAC-SHA256 of the body alone.
 */
#include "sx.h"

enum sign_mode { SIGN_SLACK, SIGN_SKYVERN };

/* Parses "slack" / "skyvern"; false otherwise. */
bool sign_mode_parse(const char *s, enum sign_mode *out);

/*
 * The x-skyvern-signature value for body sent at unix time ts, in mode.
 * out holds at least 72 bytes.
 */
void sign_request(enum sign_mode mode, const char *secret, long long ts,
		  const char *body, size_t len, char out[72]);

/* Constant-time check of a received signature (for receivers and tests). */
bool sign_verify(enum sign_mode mode, const char *secret, long long ts,
		 const char *body, size_t len, const char *signature);
#endif
