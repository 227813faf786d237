/*
 * Fuzzes the one-time-code readers of core/totp_code.c with the input as
 * a message body (totp_extract_code, what POST /api/v1/totp runs on a pushed
 * e-mail or SMS) and as a shared secret (totp_parse_secret, base32 or
 * otpauth:// URI, what the agent runs on a payload's secret).
 *
 * Beyond "no crash" it checks:
 *  - a code found is 4 to 8 ASCII digits that occur in the message, as
 *    they are or as two groups of three split by one blank or dash; no
 *    code leaves out empty;
 *  - a secret accepted has a key of TOTP_KEY_MIN..TOTP_KEY_MAX bytes, 6 to
 *    8 digits and a positive period, and the code it gives at any time is
 *    exactly that many digits;
 *  - base32 decoding never writes past the buffer it is given.
 */
#include <ctype.h>
#include "fuzz.h"
#include "crypto.h"
#include "totp_code.h"

/* True when code occurs in text, or as "ddd ddd" / "ddd-ddd" for a six-digit code. */
static bool code_in_text(const char *text, const char *code)
{
	char split[TOTP_CODE_MAX + 1];
	bool found = strstr(text, code) != NULL;

	if (!found && strlen(code) == 6) {
		snprintf(split, sizeof(split), "%.3s %.3s", code, code + 3);
		found = strstr(text, split) != NULL;
		split[3] = '-';
		found = found || strstr(text, split) != NULL;
	}
	return found;
}

static void check_extract(const char *text)
{
	char code[TOTP_CODE_MAX];
	size_t n;

	memset(code, 'x', sizeof(code));
	if (!totp_extract_code(text, code)) {
		FUZZ_CHECK(code[0] == '\0', "no code but out is not empty");
		return;
	}
	n = strnlen(code, sizeof(code));
	FUZZ_CHECK(n >= 4 && n <= 8, "code of %zu characters", n);
	for (size_t i = 0; i < n; i++)
		FUZZ_CHECK(code[i] >= '0' && code[i] <= '9', "non-digit in code %s", code);
	FUZZ_CHECK(code_in_text(text, code), "code %s is not in the message", code);
}

static void check_secret(const char *text, int64_t t)
{
	struct totp_params p;
	unsigned char small[16];
	char code[TOTP_CODE_MAX];
	size_t outlen = 0, n;

	if (totp_base32_decode(text, small, sizeof(small), &outlen) == SX_OK)
		FUZZ_CHECK(outlen >= 1 && outlen <= sizeof(small), "decoded %zu bytes", outlen);
	if (totp_parse_secret(text, &p) != SX_OK)
		return;
	FUZZ_CHECK(p.keylen >= TOTP_KEY_MIN && p.keylen <= TOTP_KEY_MAX, "key of %zu bytes",
		   p.keylen);
	FUZZ_CHECK(p.digits >= 6 && p.digits <= 8 && p.period > 0, "digits %d period %d",
		   p.digits, p.period);
	totp_code_at(&p, t, code);
	n = strnlen(code, sizeof(code));
	FUZZ_CHECK(n == (size_t)p.digits, "code of %zu characters for %d digits", n, p.digits);
	for (size_t i = 0; i < n; i++)
		FUZZ_CHECK(isdigit((unsigned char)code[i]), "non-digit in code");
	crypto_wipe(&p, sizeof(p));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = xstrndup((const char *)data, size);
	uint64_t raw = 0;
	int64_t t;

	/* The time of the code comes from the input's first bytes: any time up to year 36812. */
	memcpy(&raw, data, size < sizeof(raw) ? size : sizeof(raw));
	t = (int64_t)(raw % (1ULL << 40));
	check_extract(text);
	check_secret(text, t);
	free(text);
	return 0;
}
