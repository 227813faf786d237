#ifndef SX_ORG_DB_H
#define SX_ORG_DB_H
/*
 * Organizations and their API keys.  A key is shown once, when created;
 * only its SHA-256 (hex) is stored, and lookups hash the presented key.
 */
#include "sx.h"
#include "crypto.h"
#include "id.h"
#include "sign.h"

struct sx_db;

/* Length of a generated API key: "sx_" + 43 base64url characters. */
#define SX_API_KEY_LEN 46

/* Creates an organization with a fresh signing secret; writes its id. */
enum sx_rc org_db_create(struct sx_db *db, const char *name, char id_out[SX_ID_MAX]);

/*
 * Creates an API key for org_id.  key_out receives the key (shown once);
 * key_id_out its id, which names it for revocation.  SX_ENOTFOUND when the
 * organization does not exist.
 */
enum sx_rc org_db_key_create(struct sx_db *db, const char *org_id,
			     char key_out[SX_API_KEY_LEN + 1], char key_id_out[SX_ID_MAX]);

/* Revokes a key named by its id or by the key itself.  SX_ENOTFOUND if none. */
enum sx_rc org_db_key_revoke(struct sx_db *db, const char *id_or_key);

/*
 * The rows of api_keys that a presented key's hash (the one parameter)
 * matches and that are not revoked: the WHERE of every statement that
 * authenticates by key, for the statements that fold the key check into
 * their own work (core/task_db.c).
 */
#define API_KEY_ACTIVE "api_keys WHERE key_hash = ? AND revoked_at IS NULL"

/*
 * Writes the hex SHA-256 of the keylen bytes of key into hash, which is all
 * of a key that reaches the database (so timing reveals nothing of it).
 * False, with hash untouched, when keylen is 0 or over 256: no key we issue
 * is, so such a key matches nothing and costs no statement.
 */
bool auth_key_hash(const char *key, size_t keylen, char hash[CRYPTO_SHA256_HEX]);

/*
 * Finds the organization of an API key (revoked keys do not match).
 * SX_EAUTH when no key matches.
 */
enum sx_rc auth_lookup_key(struct sx_db *db, const char *key, size_t keylen,
			   char org_id[SX_ID_MAX]);

/* Room for a signing secret and its NUL. */
#define SX_SIGNING_SECRET_MAX 129

/*
 * Reads the organization's webhook signing secret and signature mode.  The
 * secret is a credential: the caller wipes it (crypto_wipe) when done and never
 * logs it.  SX_ENOTFOUND when the organization does not exist.
 */
enum sx_rc org_db_signing_get(struct sx_db *db, const char *org_id,
			      char secret[SX_SIGNING_SECRET_MAX], enum sign_mode *mode);

/*
 * Replaces the organization's signing secret with a fresh random one and
 * writes it to secret (the caller wipes it).  Deliveries signed from now on
 * use the new secret.  SX_ENOTFOUND when the organization does not exist.
 */
enum sx_rc org_db_secret_rotate(struct sx_db *db, const char *org_id,
				char secret[SX_SIGNING_SECRET_MAX]);

/* Sets how the organization's webhooks are signed.  SX_ENOTFOUND if unknown. */
enum sx_rc org_db_signature_mode_set(struct sx_db *db, const char *org_id, enum sign_mode mode);
#endif
