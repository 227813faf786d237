#ifndef SX_TOTP_DB_H
#define SX_TOTP_DB_H
/*
 * The `totp_codes` table: 2FA codes (or the messages holding them) pushed
 * to POST /api/v1/totp, and their use by the agent.  Every statement on the
 * table is here, with its rule: a code is used at most once, marked used in
 * the transaction that picks it.  Contents and codes are secrets: nothing
 * here logs one.
 */
#include "sx.h"
#include "id.h"
#include "totp_code.h"

struct sx_db;

/* Room for a DATETIME(6) as the database writes it, and its NUL. */
#define TOTP_DB_TIME_MAX 32
/* Room for a totp_codes id, and its NUL. */
#define TOTP_DB_ID_MAX 48

/* A pushed code to store.  Every pointer is borrowed; NULL stores SQL NULL. */
struct totp_db_push {
	const char *org_id;
	const char *identifier;
	const char *task_id;
	const char *content;
	size_t content_len;
	const char *code;         /* the code read from content, or NULL */
	const char *source;
	const char *expired_at;   /* UTC, the database's form, or NULL */
};

/*
 * Stores a pushed code under a new id (written to id) and reads back its
 * created_at and expired_at in the database's form ("" for NULL).
 */
enum sx_rc totp_db_insert(struct sx_db *db, const struct totp_db_push *in, char id[SX_ID_MAX],
			  char created_at[TOTP_DB_TIME_MAX], char expired_at[TOTP_DB_TIME_MAX]);

/* Which pushed codes a task may use. */
struct totp_db_want {
	const char *org_id;
	const char *task_id;
	const char *identifier;   /* totp_identifier, or NULL */
	bool identifier_ci;       /* compare the identifier without case (an e-mail address) */
	long long max_age_s;      /* codes pushed for the identifier: at most this old */
	/* Rows without a code that were already given to the model; may be NULL. */
	bool (*tried)(void *arg, const char *id);
	void *arg;
};

/*
 * In one transaction, picks the newest unused, unexpired code pushed for
 * the task's id (any age) or its identifier (within max_age_s) and marks it
 * used, so two tasks never enter one code; writes it to code.  The used
 * row keeps when it was used, not the code nor its message (both erased).  When the
 * newest candidate has no code (the patterns found none in its message) and
 * was not tried, its id is written to unread instead, for the model to
 * read.  Both are "" when nothing is usable yet.
 */
enum sx_rc totp_db_pick(struct sx_db *db, const struct totp_db_want *w, char code[TOTP_CODE_MAX],
			char unread[TOTP_DB_ID_MAX]);

/*
 * The message of the organization's row id; the caller wipes and frees
 * *content.  SX_ENOTFOUND when there is no such row.
 */
enum sx_rc totp_db_content(struct sx_db *db, const char *org_id, const char *id, char **content);

/* Stores the code read from row id's message, if the row has none and is unused. */
enum sx_rc totp_db_set_code(struct sx_db *db, const char *id, const char *code);
#endif
