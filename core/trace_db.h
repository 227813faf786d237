#ifndef SX_TRACE_DB_H
#define SX_TRACE_DB_H
/*
 * The `traces` table (sql/005_replay.sql): one trace per organization and
 * key, what replay repeats (agent/replay.h).  Every statement on the table
 * is here.  A trace holds no secret value (agent/trace.c checks before it
 * stores), so reading one is harmless; every statement still names the
 * organization, so no path reads or removes another organization's trace.
 */
#include "sx.h"
#include <json-c/json.h>
#include "id.h"

struct sx_db;

/* A stored trace.  Strings are owned (trace_row_release frees them). */
struct trace_row {
	char id[SX_ID_MAX];          /* trc_… */
	char *org_id;
	char *trace_key;             /* hex SHA-256 of key_json */
	char *key_json;              /* the key's canonical JSON (agent/trace.h) */
	char *trace_json;
	long long version;           /* 1, raised by every replacement */
	long long step_count;
	long long model_tokens;      /* what the run that recorded it spent on the model */
	char *source_task_id;        /* the task that recorded it */
	char *created_at, *updated_at;   /* ISO 8601 */
};

void trace_row_release(struct trace_row *r);

/* The trace of org under key (hex SHA-256): SX_ENOTFOUND when there is none. */
enum sx_rc trace_db_get(struct sx_db *db, const char *org_id, const char *key, struct trace_row *out);

/*
 * Stores in's trace (org_id, trace_key, key_json, trace_json, step_count,
 * model_tokens, source_task_id are read): a new row under a new id, or the
 * replacement of the row with the same key, whose version goes up by one
 * (two tasks ending at once both store; the last one wins).  stored, when
 * not NULL, receives the id and version this very statement left in the
 * row (RETURNING, so another task's store cannot come in between); its
 * other members stay empty, and the caller releases it as any row.
 */
enum sx_rc trace_db_put(struct sx_db *db, const struct trace_row *in, struct trace_row *stored);

/*
 * The row t as a new JSON object (caller puts): {id, version, step_count,
 * model_tokens, source_task_id, created_at, updated_at, key}, and trace
 * too when with_trace.  key and trace are the stored JSON parsed (null
 * when absent or unreadable).
 */
json_object *trace_row_to_json(const struct trace_row *t, bool with_trace);

/*
 * The traces of org, newest first, as a JSON array of trace_row_to_json()
 * without the trace (caller puts).
 */
enum sx_rc trace_db_list(struct sx_db *db, const char *org_id, json_object **out);

/* The trace of org with this id (trc_…): SX_ENOTFOUND when there is none. */
enum sx_rc trace_db_find(struct sx_db *db, const char *org_id, const char *id, struct trace_row *out);

/* Removes org's trace with this id: SX_ENOTFOUND when there was none. */
enum sx_rc trace_db_delete(struct sx_db *db, const char *org_id, const char *id);
#endif
