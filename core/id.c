/*
 * ULID-style identifiers: 48 bits of Unix milliseconds followed by 80
 * random bits, written as 26 Crockford base32 digits in lower case.  The
 * time comes first so ids sort by creation; the random part comes from the
 * CSPRNG (crypto.h) so that an id cannot be guessed from another.
 */
#include "id.h"
#include "crypto.h"
#include "timeutil.h"

#define ID_CHARS 26

static const char id_alphabet[] = "0123456789abcdefghjkmnpqrstvwxyz";

/*
 * The 128 bits are encoded as 130 bits with two leading zero bits, so the
 * first character is always 0-7, as in the ULID specification.
 */
void sx_id_new(char out[SX_ID_MAX], const char *prefix)
{
	unsigned char bits[16];
	uint64_t ms = (uint64_t)(sx_now_us() / 1000);
	size_t plen = strlen(prefix), i;
	unsigned bitpos;

	if (plen + ID_CHARS + 1 > SX_ID_MAX) {
		fprintf(stderr, "sextant: id prefix '%s' too long\n", prefix);
		abort();
	}
	for (i = 0; i < 6; i++)
		bits[i] = (unsigned char)(ms >> (8 * (5 - i)));
	crypto_random_bytes(bits + 6, 10);
	memcpy(out, prefix, plen);
	/* Character i covers bits [5i - 2, 5i + 3) of the 128-bit value. */
	for (i = 0; i < ID_CHARS; i++) {
		unsigned v = 0, b;

		for (b = 0; b < 5; b++) {
			int pos = (int)(i * 5 + b) - 2;

			v <<= 1;
			if (pos >= 0) {
				bitpos = (unsigned)pos;
				v |= (bits[bitpos / 8] >> (7 - bitpos % 8)) & 1u;
			}
		}
		out[plen + i] = id_alphabet[v];
	}
	out[plen + ID_CHARS] = '\0';
	crypto_wipe(bits, sizeof(bits));
}

bool sx_id_valid(const char *s, const char *prefix)
{
	size_t plen = strlen(prefix), i;
	bool ok = false;

	if (!s || strncmp(s, prefix, plen) != 0)
		goto out;
	s += plen;
	if (strlen(s) != ID_CHARS || s[0] > '7')
		goto out;
	for (i = 0; i < ID_CHARS; i++)
		if (s[i] == '\0' || !strchr(id_alphabet, s[i]))
			goto out;
	ok = true;
out:
	return ok;
}
