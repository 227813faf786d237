/*
 * The OpenSSL adapter (see crypto.h), and the project's one base64.
 */
#include <limits.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <pthread.h>
#include "sx.h"
#include "crypto.h"

static const char b64_std[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
static const char b64_url[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/* Aborts: running without a working CSPRNG would hand out guessable ids and keys. */
void crypto_random_bytes(void *p, size_t n)
{
	unsigned char *u = p;
	size_t chunk;

	while (n > 0) {
		chunk = n > INT_MAX ? INT_MAX : n;
		if (RAND_bytes(u, (int)chunk) != 1) {
			fputs("sextant: RAND_bytes failed; the CSPRNG is unusable\n", stderr);
			abort();
		}
		u += chunk;
		n -= chunk;
	}
}

/* OPENSSL_cleanse cannot be optimized away like a final memset. */
void crypto_wipe(void *p, size_t n)
{
	if (p && n)
		OPENSSL_cleanse(p, n);
}

bool crypto_equal(const void *a, const void *b, size_t n)
{
	return CRYPTO_memcmp(a, b, n) == 0;
}

void crypto_hex(const unsigned char *p, size_t n, char *out)
{
	static const char hex[] = "0123456789abcdef";

	for (size_t i = 0; i < n; i++) {
		out[2 * i] = hex[p[i] >> 4];
		out[2 * i + 1] = hex[p[i] & 15];
	}
	out[2 * n] = '\0';
}

/*
 * SHA-256 fetched from OpenSSL's provider once per process.  EVP_sha256()
 * is looked up again on every use (a locked name lookup in the provider's
 * store): on the API's hot path, hashing the key of every request, that
 * lookup cost more than the hash (bench/README.md).
 */
static EVP_MD *sha256_md;
static pthread_once_t sha256_once = PTHREAD_ONCE_INIT;

static void sha256_fetch(void)
{
	sha256_md = EVP_MD_fetch(NULL, "SHA256", NULL);
}

void crypto_sha256_hex(const void *data, size_t len, char out[CRYPTO_SHA256_HEX])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;

	pthread_once(&sha256_once, sha256_fetch);
	/* One-shot hashing fails only when OpenSSL cannot allocate. */
	if (!EVP_Digest(data, len, md, &mdlen, sha256_md ? sha256_md : EVP_sha256(), NULL) || mdlen != 32)
		abort();
	crypto_hex(md, 32, out);
}

size_t crypto_hmac(enum crypto_hash h, const void *key, size_t keylen, const void *data,
		   size_t len, unsigned char out[CRYPTO_DIGEST_MAX])
{
	const EVP_MD *md = h == CRYPTO_SHA512 ? EVP_sha512() :
			   h == CRYPTO_SHA256 ? EVP_sha256() : EVP_sha1();
	unsigned char mac[EVP_MAX_MD_SIZE];
	unsigned int maclen = 0;

	if (keylen > INT_MAX || !HMAC(md, key, (int)keylen, data, len, mac, &maclen) ||
	    maclen < 20 || maclen > CRYPTO_DIGEST_MAX)
		abort();
	memcpy(out, mac, maclen);
	OPENSSL_cleanse(mac, sizeof(mac));
	return maclen;
}

void crypto_hmac_sha256_hex(const void *key, size_t keylen, const void *data, size_t len,
			    char out[CRYPTO_SHA256_HEX])
{
	unsigned char mac[CRYPTO_DIGEST_MAX];

	if (crypto_hmac(CRYPTO_SHA256, key, keylen, data, len, mac) != 32)
		abort();
	crypto_hex(mac, 32, out);
	OPENSSL_cleanse(mac, sizeof(mac));
}

size_t crypto_base64_size(size_t len, enum crypto_b64 alphabet)
{
	if (alphabet == CRYPTO_B64_STD)
		return (len + 2) / 3 * 4 + 1;
	return len / 3 * 4 + (len % 3 ? len % 3 + 1 : 0) + 1;
}

void crypto_base64_encode(const void *data, size_t len, enum crypto_b64 alphabet, char *out,
			  size_t cap)
{
	const unsigned char *p = data;
	const char *tab = alphabet == CRYPTO_B64_STD ? b64_std : b64_url;
	bool pad = alphabet == CRYPTO_B64_STD;
	size_t i, o = 0;

	if (cap < crypto_base64_size(len, alphabet))
		abort();
	for (i = 0; i + 2 < len; i += 3) {
		uint32_t v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8 | p[i + 2];

		out[o++] = tab[v >> 18 & 63];
		out[o++] = tab[v >> 12 & 63];
		out[o++] = tab[v >> 6 & 63];
		out[o++] = tab[v & 63];
	}
	if (i < len) {
		uint32_t v = (uint32_t)p[i] << 16 | (i + 1 < len ? (uint32_t)p[i + 1] << 8 : 0);

		out[o++] = tab[v >> 18 & 63];
		out[o++] = tab[v >> 12 & 63];
		if (i + 1 < len)
			out[o++] = tab[v >> 6 & 63];
		else if (pad)
			out[o++] = '=';
		if (pad)
			out[o++] = '=';
	}
	out[o] = '\0';
}

/* The value of a standard base64 digit, or -1. */
static int b64_value(unsigned char c)
{
	int v = -1;

	if (c >= 'A' && c <= 'Z')
		v = c - 'A';
	else if (c >= 'a' && c <= 'z')
		v = c - 'a' + 26;
	else if (c >= '0' && c <= '9')
		v = c - '0' + 52;
	else if (c == '+')
		v = 62;
	else if (c == '/')
		v = 63;
	return v;
}

enum sx_rc crypto_base64_decode(const char *in, size_t n, unsigned char **out, size_t *outlen)
{
	enum sx_rc rc = SX_EPARSE;
	unsigned char *o = NULL;
	size_t pad = 0, j = 0;

	*out = NULL;
	*outlen = 0;
	if (n == 0 || n % 4 != 0)
		goto out;
	if (in[n - 1] == '=')
		pad++;
	if (in[n - 2] == '=')
		pad++;
	o = xmalloc(n / 4 * 3);
	for (size_t i = 0; i < n; i += 4) {
		int v[4];

		for (int k = 0; k < 4; k++) {
			bool in_pad = i + 4 == n && k >= 4 - (int)pad;

			v[k] = in_pad ? 0 : b64_value((unsigned char)in[i + k]);
			if (v[k] < 0)
				goto out;
		}
		o[j++] = (unsigned char)(v[0] << 2 | v[1] >> 4);
		o[j++] = (unsigned char)((v[1] & 15) << 4 | v[2] >> 2);
		o[j++] = (unsigned char)((v[2] & 3) << 6 | v[3]);
	}
	*outlen = j - pad;
	*out = o;
	o = NULL;
	rc = SX_OK;
out:
	free(o);
	return rc;
}
