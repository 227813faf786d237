/*
 * The `totp_codes` table (see totp_db.h).
 */
#include "sx.h"
#include "totp_db.h"
#include "crypto.h"
#include "db.h"

/* The database's form of a time cell, "" for NULL. */
static void time_cell(const char *cell, char out[TOTP_DB_TIME_MAX])
{
	snprintf(out, TOTP_DB_TIME_MAX, "%s", cell ? cell : "");
}

enum sx_rc totp_db_insert(struct sx_db *db, const struct totp_db_push *in, char id[SX_ID_MAX],
			  char created_at[TOTP_DB_TIME_MAX], char expired_at[TOTP_DB_TIME_MAX])
{
	static const char q_insert[] =
		"INSERT INTO totp_codes (id, org_id, totp_identifier, task_id, content, code, source, "
		"expired_at, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, UTC_TIMESTAMP(6))";
	static const char q_read[] = "SELECT created_at, expired_at FROM totp_codes WHERE id = ?";
	struct sx_rows *rows = NULL;
	enum sx_rc rc;

	created_at[0] = expired_at[0] = '\0';
	sx_id_new(id, "totp_");
	{
		struct sx_param p[] = { sx_p_str(id), sx_p_str(in->org_id), sx_p_str(in->identifier),
					sx_p_str(in->task_id), sx_p_strn(in->content, in->content_len),
					sx_p_str(in->code), sx_p_str(in->source),
					sx_p_str(in->expired_at) };

		rc = sx_db_exec(db, q_insert, p, SX_ARRAY_LEN(p), NULL);
	}
	if (rc == SX_OK) {
		struct sx_param p[] = { sx_p_str(id) };

		rc = sx_db_query(db, q_read, p, 1, &rows);
		if (rc == SX_OK && rows->nrows != 1)
			rc = SX_ENOTFOUND;
	}
	if (rc == SX_OK) {
		time_cell(sx_rows_get(rows, 0, 0), created_at);
		time_cell(sx_rows_get(rows, 0, 1), expired_at);
	}
	sx_rows_free(rows);
	return rc;
}

struct pick_tx {
	const struct totp_db_want *w;
	char *code;
	char *unread;
};

/*
 * Marks row id used and erases its code and message: a used code is a
 * secret with no further use, and a hash of six digits would hide nothing.
 * *used is false when another task used it first.
 */
static enum sx_rc pick_use(struct sx_db *db, const char *id, bool *used)
{
	static const char q_use[] =
		"UPDATE totp_codes SET used_at = UTC_TIMESTAMP(6), code = NULL, content = '' "
		"WHERE id = ? AND used_at IS NULL";
	struct sx_param p[] = { sx_p_str(id) };
	unsigned long long n = 0;
	enum sx_rc rc = sx_db_exec(db, q_use, p, 1, &n);

	*used = rc == SX_OK && n == 1;
	return rc;
}

static enum sx_rc pick_tx_fn(struct sx_db *db, void *arg)
{
	static const char q_pick[] =
		"SELECT id, code FROM totp_codes WHERE org_id = ? AND used_at IS NULL "
		"AND (expired_at IS NULL OR expired_at > UTC_TIMESTAMP(6)) "
		"AND (task_id = ? OR (task_id IS NULL "
		"  AND (totp_identifier = ? OR (? = 1 AND LOWER(totp_identifier) = LOWER(?))) "
		"  AND created_at >= UTC_TIMESTAMP(6) - INTERVAL ? SECOND)) "
		"ORDER BY created_at DESC, id DESC LIMIT 20 FOR UPDATE";
	struct pick_tx *pk = arg;
	const struct totp_db_want *w = pk->w;
	const char *ident = w->identifier ? w->identifier : "";
	struct sx_param p[] = { sx_p_str(w->org_id), sx_p_str(w->task_id), sx_p_str(ident),
				sx_p_i64(w->identifier_ci), sx_p_str(ident), sx_p_i64(w->max_age_s) };
	struct sx_rows *rows = NULL;
	enum sx_rc rc;

	pk->code[0] = '\0';
	pk->unread[0] = '\0';
	rc = sx_db_query(db, q_pick, p, SX_ARRAY_LEN(p), &rows);
	for (size_t i = 0; rc == SX_OK && i < rows->nrows; i++) {
		const char *id = sx_rows_get(rows, i, 0), *code = sx_rows_get(rows, i, 1);
		bool used = false;

		if (!code || !*code) {
			if (!w->tried || !w->tried(w->arg, id)) {
				snprintf(pk->unread, TOTP_DB_ID_MAX, "%s", id);
				break;
			}
			continue;
		}
		if (strlen(code) >= TOTP_CODE_MAX)
			continue;
		rc = pick_use(db, id, &used);
		if (used) {
			snprintf(pk->code, TOTP_CODE_MAX, "%s", code);
			break;
		}
	}
	sx_rows_free(rows);
	return rc;
}

enum sx_rc totp_db_pick(struct sx_db *db, const struct totp_db_want *w, char code[TOTP_CODE_MAX],
			char unread[TOTP_DB_ID_MAX])
{
	struct pick_tx pk = { w, code, unread };
	enum sx_rc rc = sx_db_tx(db, pick_tx_fn, &pk);

	/* A code marked used by a transaction that did not commit is not the task's. */
	if (rc) {
		crypto_wipe(code, TOTP_CODE_MAX);
		unread[0] = '\0';
	}
	return rc;
}

enum sx_rc totp_db_content(struct sx_db *db, const char *org_id, const char *id, char **content)
{
	static const char q[] = "SELECT content FROM totp_codes WHERE id = ? AND org_id = ?";
	struct sx_param p[] = { sx_p_str(id), sx_p_str(org_id) };
	struct sx_rows *rows = NULL;
	enum sx_rc rc = sx_db_query(db, q, p, 2, &rows);

	*content = NULL;
	if (rc == SX_OK && rows->nrows != 1)
		rc = SX_ENOTFOUND;
	if (rc == SX_OK)
		*content = xstrdup(sx_rows_get(rows, 0, 0) ? sx_rows_get(rows, 0, 0) : "");
	if (rows && rows->nrows == 1 && sx_rows_get(rows, 0, 0))
		crypto_wipe(rows->cells[0], rows->lens[0]);
	sx_rows_free(rows);
	return rc;
}

enum sx_rc totp_db_set_code(struct sx_db *db, const char *id, const char *code)
{
	static const char q[] =
		"UPDATE totp_codes SET code = ? WHERE id = ? AND code IS NULL AND used_at IS NULL";
	struct sx_param p[] = { sx_p_str(code), sx_p_str(id) };

	return sx_db_exec(db, q, p, 2, NULL);
}
