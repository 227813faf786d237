#ifndef SX_CRYPTO_H
#define SX_CRYPTO_H
/*
 * The cryptography adapter: the only file that includes OpenSSL.  Hashing,
 * HMAC, the CSPRNG, wiping secrets, constant-time comparison and base64.
 * Nothing here can fail short of a broken OpenSSL or memory exhaustion, and
 * either aborts: a process that cannot hash or draw random bytes must not
 * hand out keys, ids or signatures.
 */
#include "sx.h"

/* The hashes the project uses (TOTP needs all three; the rest SHA-256). */
enum crypto_hash { CRYPTO_SHA1, CRYPTO_SHA256, CRYPTO_SHA512 };

/* The longest digest, SHA-512's, in bytes. */
#define CRYPTO_DIGEST_MAX 64
/* A SHA-256 digest as hex: 64 characters and a NUL. */
#define CRYPTO_SHA256_HEX 65

/* Fills p with n bytes from the CSPRNG; aborts if the CSPRNG fails. */
void crypto_random_bytes(void *p, size_t n);

/* Wipes memory that held a secret so it does not linger (the compiler keeps it). */
void crypto_wipe(void *p, size_t n);

/*
 * True when a[0..n) equals b[0..n), in time that depends on n only: for
 * signatures and other secrets an attacker may probe byte by byte.
 */
bool crypto_equal(const void *a, const void *b, size_t n);

/* Writes n bytes as 2n lower-case hex digits and a NUL into out. */
void crypto_hex(const unsigned char *p, size_t n, char *out);

/* Hex SHA-256 of data: 64 characters and a NUL. */
void crypto_sha256_hex(const void *data, size_t len, char out[CRYPTO_SHA256_HEX]);

/*
 * HMAC of data under key with hash h into out (CRYPTO_DIGEST_MAX bytes);
 * returns the digest length (20, 32 or 64).  The caller wipes out when the
 * MAC is itself a secret (a TOTP code is derived from it).
 */
size_t crypto_hmac(enum crypto_hash h, const void *key, size_t keylen, const void *data,
		   size_t len, unsigned char out[CRYPTO_DIGEST_MAX]);

/* Hex HMAC-SHA256 of data under key: 64 characters and a NUL. */
void crypto_hmac_sha256_hex(const void *key, size_t keylen, const void *data, size_t len,
			    char out[CRYPTO_SHA256_HEX]);

/*
 * RFC 4648 alphabets: standard (`+/`, padded with `=`), as image data and
 * WebDriver use, and URL-safe (`-_`, unpadded), as API keys and secrets use.
 */
enum crypto_b64 { CRYPTO_B64_STD, CRYPTO_B64_URL };

/* The bytes crypto_base64_encode() writes for len bytes of input, NUL included. */
size_t crypto_base64_size(size_t len, enum crypto_b64 alphabet);

/*
 * Encodes data[0..len) into out, which holds crypto_base64_size(len,
 * alphabet) bytes or more (a smaller out is a bug and aborts).
 */
void crypto_base64_encode(const void *data, size_t len, enum crypto_b64 alphabet, char *out,
			  size_t cap);

/*
 * Decodes strict standard base64 (padded, no whitespace), as WebDriver sends
 * it, into a new buffer the caller frees.  SX_EPARSE on any malformed input
 * (and *out stays NULL).
 */
enum sx_rc crypto_base64_decode(const char *in, size_t n, unsigned char **out, size_t *outlen);
#endif
