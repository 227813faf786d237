#ifndef SX_TOTP_CODE_H
#define SX_TOTP_CODE_H
/*
 * One-time codes without I/O, shared by the API (reading the code out of a
 * pushed message) and the agent (computing RFC 6238 codes from a secret):
 * base32, HOTP/TOTP (the HMAC from crypto.h), otpauth:// URIs, and code
 * extraction from e-mail and SMS bodies.  Nothing here logs; codes and
 * secrets are the caller's to protect.
 */
#include "sx.h"

/* A code and its NUL fit in this many bytes. */
#define TOTP_CODE_MAX 16
/* The longest shared secret accepted (SHA-512 keys are 64 bytes). */
#define TOTP_KEY_MAX 128
/* The shortest shared secret accepted: 80 bits, 16 base32 characters. */
#define TOTP_KEY_MIN 10

enum totp_algo { TOTP_SHA1, TOTP_SHA256, TOTP_SHA512 };

struct totp_params {
	unsigned char key[TOTP_KEY_MAX];
	size_t keylen;
	int digits;            /* 6 to 8 */
	int period;            /* seconds */
	enum totp_algo algo;
};

/*
 * Decodes RFC 4648 base32: case-insensitive, with or without '=' padding,
 * spaces and dashes ignored (authenticator apps show secrets in groups).
 * SX_EINVAL on any other character or a result that is empty;
 * SX_ETOOBIG when it does not fit in outmax bytes.
 */
enum sx_rc totp_base32_decode(const char *s, unsigned char *out, size_t outmax, size_t *outlen);

/*
 * Reads a secret: a base32 string (SHA-1, 30 s, 6 digits) or an
 * `otpauth://totp/…?secret=…&digits=…&period=…&algorithm=SHA1|SHA256|SHA512`
 * URI.  SX_EINVAL when it is neither, the key is shorter than
 * TOTP_KEY_MIN bytes, or a parameter is out of range.
 * The caller wipes *out after use (crypto_wipe).
 */
enum sx_rc totp_parse_secret(const char *s, struct totp_params *out);

/* The code for unix time t (RFC 6238 with T0 = 0), zero-padded. */
void totp_code_at(const struct totp_params *p, int64_t t, char out[TOTP_CODE_MAX]);

/*
 * Finds the one-time code in a message (an e-mail or SMS body) without a
 * model: 4 to 8 digits (or two groups of three, "123 456" or "123-456")
 * near a word such as code, verification, OTP or passcode, the closest one
 * winning.  Years, phone numbers, dates, times, amounts and digits glued to
 * letters are not codes.  Returns false, with out empty, when no candidate qualifies.
 */
bool totp_extract_code(const char *text, char out[TOTP_CODE_MAX]);

#endif
