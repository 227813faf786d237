/*
 * Pure one-time-code functions (see totp_code.h): no I/O, no logging.
 */
#include <ctype.h>
#include <strings.h>

#include "sx.h"
#include "crypto.h"
#include "totp_code.h"

/* Candidates farther than this from a code word are not codes. */
#define KEYWORD_REACH 150

/* ---- RFC 4648 base32 and RFC 6238 ----------------------------------------- */

enum sx_rc totp_base32_decode(const char *s, unsigned char *out, size_t outmax, size_t *outlen)
{
	enum sx_rc rc = SX_OK;
	unsigned long long acc = 0;
	int bits = 0;
	bool padding = false;
	size_t n = 0;

	*outlen = 0;
	for (; *s; s++) {
		int c = (unsigned char)*s, v;

		if (c == ' ' || c == '-' || c == '\t')
			continue;
		if (c == '=') {
			padding = true;
			continue;
		}
		if (padding) {
			/* Nothing but padding may follow padding. */
			rc = SX_EINVAL;
			goto out;
		}
		c = toupper(c);
		if (c >= 'A' && c <= 'Z')
			v = c - 'A';
		else if (c >= '2' && c <= '7')
			v = c - '2' + 26;
		else {
			rc = SX_EINVAL;
			goto out;
		}
		acc = (acc << 5) | (unsigned)v;
		bits += 5;
		if (bits >= 8) {
			if (n >= outmax) {
				rc = SX_ETOOBIG;
				goto out;
			}
			out[n++] = (unsigned char)(acc >> (bits - 8));
			bits -= 8;
		}
	}
	if (n == 0)
		rc = SX_EINVAL;
out:
	*outlen = rc ? 0 : n;
	return rc;
}

/* Decodes %XX escapes and '+' of a query value into out (capped). */
static void url_unescape(const char *s, size_t len, char *out, size_t outlen)
{
	size_t o = 0;

	for (size_t i = 0; i < len && o + 1 < outlen; i++) {
		if (s[i] == '%' && i + 2 < len && isxdigit((unsigned char)s[i + 1]) &&
		    isxdigit((unsigned char)s[i + 2])) {
			char hex[3] = { s[i + 1], s[i + 2], 0 };

			out[o++] = (char)strtol(hex, NULL, 16);
			i += 2;
		} else {
			out[o++] = s[i] == '+' ? ' ' : s[i];
		}
	}
	out[o] = '\0';
}

/* Reads the query of an otpauth://totp/ URI into p. */
static enum sx_rc parse_otpauth(const char *uri, struct totp_params *p)
{
	enum sx_rc rc = SX_OK;
	const char *q = strchr(uri, '?');
	bool have_secret = false;
	char val[256];

	if (strncasecmp(uri, "otpauth://totp/", 15) != 0 || !q) {
		rc = SX_EINVAL;
		goto out;
	}
	q++;
	while (*q) {
		size_t len = strcspn(q, "&");
		const char *eq = memchr(q, '=', len);
		size_t klen = eq ? (size_t)(eq - q) : len;
		long long n;

		if (eq)
			url_unescape(eq + 1, len - klen - 1, val, sizeof(val));
		else
			val[0] = '\0';
		if (klen == 6 && strncasecmp(q, "secret", 6) == 0) {
			rc = totp_base32_decode(val, p->key, sizeof(p->key), &p->keylen);
			have_secret = rc == SX_OK;
		} else if (klen == 6 && strncasecmp(q, "digits", 6) == 0) {
			if (sx_parse_ll(val, 6, 8, &n))
				p->digits = (int)n;
			else
				rc = SX_EINVAL;
		} else if (klen == 6 && strncasecmp(q, "period", 6) == 0) {
			if (sx_parse_ll(val, 1, 3600, &n))
				p->period = (int)n;
			else
				rc = SX_EINVAL;
		} else if (klen == 9 && strncasecmp(q, "algorithm", 9) == 0) {
			if (strcasecmp(val, "SHA1") == 0)
				p->algo = TOTP_SHA1;
			else if (strcasecmp(val, "SHA256") == 0)
				p->algo = TOTP_SHA256;
			else if (strcasecmp(val, "SHA512") == 0)
				p->algo = TOTP_SHA512;
			else
				rc = SX_EINVAL;
		}
		if (rc)
			goto out;
		q += len;
		if (*q == '&')
			q++;
	}
	if (!have_secret)
		rc = SX_EINVAL;
out:
	crypto_wipe(val, sizeof(val));
	return rc;
}

enum sx_rc totp_parse_secret(const char *s, struct totp_params *out)
{
	enum sx_rc rc;

	memset(out, 0, sizeof(*out));
	out->digits = 6;
	out->period = 30;
	out->algo = TOTP_SHA1;
	while (*s == ' ' || *s == '\t' || *s == '\n')
		s++;
	if (strncasecmp(s, "otpauth:", 8) == 0)
		rc = parse_otpauth(s, out);
	else
		rc = totp_base32_decode(s, out->key, sizeof(out->key), &out->keylen);
	/* RFC 4226 asks for 128 bits; 80 is the shortest authenticator apps issue. */
	if (rc == SX_OK && out->keylen < TOTP_KEY_MIN)
		rc = SX_EINVAL;
	if (rc) {
		crypto_wipe(out, sizeof(*out));
		rc = SX_EINVAL;
	}
	return rc;
}

void totp_code_at(const struct totp_params *p, int64_t t, char out[TOTP_CODE_MAX])
{
	static const uint32_t pow10[] = { 1, 10, 100, 1000, 10000, 100000, 1000000,
					  10000000, 100000000 };
	enum crypto_hash h = p->algo == TOTP_SHA512 ? CRYPTO_SHA512 :
			     p->algo == TOTP_SHA256 ? CRYPTO_SHA256 : CRYPTO_SHA1;
	uint64_t counter = (uint64_t)(t < 0 ? 0 : t) / (uint64_t)(p->period > 0 ? p->period : 30);
	unsigned char msg[8], mac[CRYPTO_DIGEST_MAX];
	size_t maclen, off;
	int digits = p->digits >= 1 && p->digits <= 8 ? p->digits : 6;
	uint32_t bin;

	for (int i = 7; i >= 0; i--) {
		msg[i] = (unsigned char)(counter & 0xff);
		counter >>= 8;
	}
	maclen = crypto_hmac(h, p->key, p->keylen, msg, sizeof(msg), mac);
	/* RFC 4226 dynamic truncation. */
	off = mac[maclen - 1] & 0x0f;
	bin = ((uint32_t)(mac[off] & 0x7f) << 24) | ((uint32_t)mac[off + 1] << 16) |
	      ((uint32_t)mac[off + 2] << 8) | (uint32_t)mac[off + 3];
	snprintf(out, TOTP_CODE_MAX, "%0*u", digits, (unsigned)(bin % pow10[digits]));
	crypto_wipe(mac, sizeof(mac));
}

/* ---- reading a code out of a message -------------------------------------- */

/* The words a code sits next to; matched at the start of a word. */
static const char *const code_words[] = {
	"code", "verif", "otp", "passcode", "pin", "one-time", "one time", "2fa", "mfa",
	"totp", "two-factor", "security", "authentication", "login", "sign-in",
};

static bool is_alpha(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c >= 0x80;
}

/*
 * The distance from [s,e) to the nearest code word, or SIZE_MAX.  A word
 * after the number counts one character more, so that "code: 123456"
 * wins a tie over "123456 is your code".
 */
static size_t keyword_distance(const char *text, size_t tlen, size_t s, size_t e)
{
	size_t best = SIZE_MAX;

	for (size_t i = 0; i < tlen; i++) {
		if (i > 0 && is_alpha((unsigned char)text[i - 1]))
			continue;
		for (size_t k = 0; k < SX_ARRAY_LEN(code_words); k++) {
			size_t wl = strlen(code_words[k]), d;

			if (i + wl > tlen || strncasecmp(text + i, code_words[k], wl) != 0)
				continue;
			/* "pin" must be a whole word ("shipping", "pinned" are not). */
			if (strcmp(code_words[k], "pin") == 0 && i + wl < tlen &&
			    is_alpha((unsigned char)text[i + wl]))
				continue;
			if (i + wl <= s)
				d = s - (i + wl);
			else if (i >= e)
				d = i - e + 1;
			else
				continue;
			if (d < best)
				best = d;
		}
	}
	return best;
}

/* True for the single characters that join the groups of one number. */
static bool number_joint(char c)
{
	return c == ' ' || c == '-' || c == '.' || c == '/' || c == ':' || c == ',' ||
	       c == '(' || c == ')' || c == '+';
}

bool totp_extract_code(const char *text, char out[TOTP_CODE_MAX])
{
	size_t tlen = text ? strlen(text) : 0, best_d = SIZE_MAX, i = 0;
	bool found = false;

	out[0] = '\0';
	while (i < tlen) {
		size_t start = i, groups = 0, glen[8] = { 0 }, gstart[8] = { 0 };
		char cand[TOTP_CODE_MAX];
		size_t clen = 0, d;
		unsigned char before, after;
		bool ok = true;

		if (!isdigit((unsigned char)text[i])) {
			i++;
			continue;
		}
		/* The whole number cluster: digit groups joined by single separators. */
		for (;;) {
			size_t g = i;

			while (i < tlen && isdigit((unsigned char)text[i]))
				i++;
			if (groups < SX_ARRAY_LEN(glen)) {
				gstart[groups] = g;
				glen[groups] = i - g;
			}
			groups++;
			if (i + 1 < tlen && number_joint(text[i]) && isdigit((unsigned char)text[i + 1]))
				i++;
			else
				break;
		}
		before = start > 0 ? (unsigned char)text[start - 1] : ' ';
		after = i < tlen ? (unsigned char)text[i] : ' ';
		if (groups == 1 && glen[0] >= 4 && glen[0] <= 8) {
			memcpy(cand, text + gstart[0], glen[0]);
			clen = glen[0];
		} else if (groups == 2 && glen[0] == 3 && glen[1] == 3 &&
			   (text[gstart[1] - 1] == ' ' || text[gstart[1] - 1] == '-')) {
			/* "123 456" and "123-456", as some senders print codes. */
			memcpy(cand, text + gstart[0], 3);
			memcpy(cand + 3, text + gstart[1], 3);
			clen = 6;
		} else {
			ok = false;   /* phone numbers, dates, times, amounts, long ids */
		}
		/* Glued to letters (ids, CSS like 16px), or money, a hash, a phone prefix, a percentage. */
		if (is_alpha(before) || is_alpha(after) || before == '$' || before == '#' ||
		    before == '+' || before == '@' || after == '%' || before == 0xa3 /* £ */ ||
		    before == 0xac /* last byte of € */)
			ok = false;
		if (ok && clen == 4) {
			long long year = 0;

			cand[4] = '\0';
			if (sx_parse_ll(cand, 1900, 2099, &year))
				ok = false;
		}
		if (!ok)
			continue;
		cand[clen] = '\0';
		d = keyword_distance(text, tlen, start, i);
		if (d <= KEYWORD_REACH && d < best_d) {
			best_d = d;
			memcpy(out, cand, clen + 1);
			found = true;
		}
	}
	return found;
}

