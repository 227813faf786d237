/*
 * Organizations and API keys.
 */
#include "sx.h"
#include "org_db.h"
#include "crypto.h"
#include "db.h"
#include "log.h"

/* n random bytes as unpadded base64url text into out (cap bytes). */
static void random_b64url(char *out, size_t cap, size_t n)
{
	unsigned char raw[64];

	if (n > sizeof(raw))
		abort();
	crypto_random_bytes(raw, n);
	crypto_base64_encode(raw, n, CRYPTO_B64_URL, out, cap);
	crypto_wipe(raw, sizeof(raw));
}

enum sx_rc org_db_create(struct sx_db *db, const char *name, char id_out[SX_ID_MAX])
{
	static const char q[] =
		"INSERT INTO organizations (id, name, signing_secret, created_at) "
		"VALUES (?, ?, ?, UTC_TIMESTAMP(6))";
	char secret[64];
	enum sx_rc rc;

	sx_id_new(id_out, "o_");
	random_b64url(secret, sizeof(secret), 32);
	{
		struct sx_param p[] = { sx_p_str(id_out), sx_p_str(name), sx_p_str(secret) };

		rc = sx_db_exec(db, q, p, 3, NULL);
	}
	crypto_wipe(secret, sizeof(secret));
	return rc;
}

/* SX_OK when the organization exists, SX_ENOTFOUND when it does not. */
static enum sx_rc org_exists(struct sx_db *db, const char *org_id)
{
	static const char q[] = "SELECT 1 FROM organizations WHERE id = ?";
	struct sx_param p[] = { sx_p_str(org_id) };
	struct sx_rows *rows = NULL;
	enum sx_rc rc = sx_db_query(db, q, p, 1, &rows);

	if (rc == SX_OK && rows->nrows == 0)
		rc = SX_ENOTFOUND;
	sx_rows_free(rows);
	return rc;
}

enum sx_rc org_db_key_create(struct sx_db *db, const char *org_id,
			     char key_out[SX_API_KEY_LEN + 1], char key_id_out[SX_ID_MAX])
{
	static const char q_ins[] =
		"INSERT INTO api_keys (id, org_id, key_hash, key_prefix, created_at) "
		"VALUES (?, ?, ?, ?, UTC_TIMESTAMP(6))";
	char hash[CRYPTO_SHA256_HEX], prefix[8];
	enum sx_rc rc;

	rc = org_exists(db, org_id);
	if (rc)
		goto out;
	memcpy(key_out, "sx_", 3);
	random_b64url(key_out + 3, SX_API_KEY_LEN - 2, 32);
	crypto_sha256_hex(key_out, strlen(key_out), hash);
	snprintf(prefix, sizeof(prefix), "%.7s", key_out);
	sx_id_new(key_id_out, "key_");
	{
		struct sx_param p[] = { sx_p_str(key_id_out), sx_p_str(org_id),
					sx_p_str(hash), sx_p_str(prefix) };

		rc = sx_db_exec(db, q_ins, p, 4, NULL);
	}
out:
	return rc;
}

enum sx_rc org_db_key_revoke(struct sx_db *db, const char *id_or_key)
{
	static const char q[] =
		"UPDATE api_keys SET revoked_at = UTC_TIMESTAMP(6) "
		"WHERE (id = ? OR key_hash = ?) AND revoked_at IS NULL";
	char hash[CRYPTO_SHA256_HEX];
	unsigned long long n = 0;
	enum sx_rc rc;

	crypto_sha256_hex(id_or_key, strlen(id_or_key), hash);
	{
		struct sx_param p[] = { sx_p_str(id_or_key), sx_p_str(hash) };

		rc = sx_db_exec(db, q, p, 2, &n);
	}
	if (rc == SX_OK && n == 0)
		rc = SX_ENOTFOUND;
	return rc;
}

bool auth_key_hash(const char *key, size_t keylen, char hash[CRYPTO_SHA256_HEX])
{
	if (keylen == 0 || keylen > 256)
		return false;
	crypto_sha256_hex(key, keylen, hash);
	return true;
}

enum sx_rc auth_lookup_key(struct sx_db *db, const char *key, size_t keylen,
			   char org_id[SX_ID_MAX])
{
	static const char q[] = "SELECT org_id FROM " API_KEY_ACTIVE;
	struct sx_rows *rows = NULL;
	char hash[CRYPTO_SHA256_HEX];
	enum sx_rc rc;

	if (!auth_key_hash(key, keylen, hash))
		return SX_EAUTH;
	{
		struct sx_param p[] = { sx_p_str(hash) };

		rc = sx_db_query(db, q, p, 1, &rows);
	}
	if (rc)
		goto out;
	if (rows->nrows == 0) {
		rc = SX_EAUTH;
		goto out;
	}
	snprintf(org_id, SX_ID_MAX, "%s", sx_rows_get(rows, 0, 0));
out:
	sx_rows_free(rows);
	return rc;
}

enum sx_rc org_db_signing_get(struct sx_db *db, const char *org_id,
			      char secret[SX_SIGNING_SECRET_MAX], enum sign_mode *mode)
{
	static const char q[] =
		"SELECT signing_secret, signature_mode FROM organizations WHERE id = ?";
	struct sx_param p[] = { sx_p_str(org_id) };
	struct sx_rows *rows = NULL;
	enum sx_rc rc;

	secret[0] = '\0';
	*mode = SIGN_SLACK;
	rc = sx_db_query(db, q, p, 1, &rows);
	if (rc)
		goto out;
	if (rows->nrows == 0) {
		rc = SX_ENOTFOUND;
		goto out;
	}
	snprintf(secret, SX_SIGNING_SECRET_MAX, "%s", sx_rows_get(rows, 0, 0));
	/* A mode the code does not know signs as the contract's default. */
	if (!sign_mode_parse(sx_rows_get(rows, 0, 1), mode))
		*mode = SIGN_SLACK;
out:
	if (rows && rows->nrows > 0 && rows->cells[0])
		crypto_wipe(rows->cells[0], strlen(rows->cells[0]));
	sx_rows_free(rows);
	return rc;
}

enum sx_rc org_db_secret_rotate(struct sx_db *db, const char *org_id,
				char secret[SX_SIGNING_SECRET_MAX])
{
	static const char q[] = "UPDATE organizations SET signing_secret = ? WHERE id = ?";
	unsigned long long n = 0;
	enum sx_rc rc;

	random_b64url(secret, SX_SIGNING_SECRET_MAX, 32);
	{
		struct sx_param p[] = { sx_p_str(secret), sx_p_str(org_id) };

		rc = sx_db_exec(db, q, p, 2, &n);
	}
	/* 256 fresh random bits never equal the old secret: no change means no row. */
	if (rc == SX_OK && n == 0)
		rc = SX_ENOTFOUND;
	if (rc)
		crypto_wipe(secret, SX_SIGNING_SECRET_MAX);
	return rc;
}

enum sx_rc org_db_signature_mode_set(struct sx_db *db, const char *org_id, enum sign_mode mode)
{
	static const char q[] = "UPDATE organizations SET signature_mode = ? WHERE id = ?";
	struct sx_param p[] = { sx_p_str(mode == SIGN_SKYVERN ? "skyvern" : "slack"), sx_p_str(org_id) };
	/* Checked apart: an UPDATE to the same mode changes no row either. */
	enum sx_rc rc = org_exists(db, org_id);

	if (rc == SX_OK)
		rc = sx_db_exec(db, q, p, 2, NULL);
	return rc;
}
