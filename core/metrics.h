#ifndef SX_METRICS_H
#define SX_METRICS_H
/*
 * Operational state read from the database for GET /healthz and
 * GET /metrics.  Everything is computed at scrape time by a few aggregate
 * queries over the shared tables, so every API host reports the same numbers
 * and there is no in-process counter to lose on a restart.
 */
#include "sx.h"
#include "buf.h"

struct sx_db;

/* One `SELECT 1` round trip: SX_OK, or the database error (SX_EDBDOWN…). */
enum sx_rc metrics_health(struct sx_db *db);

/*
 * Whether this host can write in dir (artifacts_dir): creates a file with a
 * fresh name there, writes a byte to it (so a full file system shows too)
 * and removes it.  SX_OK, or SX_EIO with the errno of the first step that
 * failed in *err.
 */
enum sx_rc metrics_dir_writable(const char *dir, int *err);

/*
 * Appends the Prometheus text exposition (format 0.0.4) of the service's
 * state to out.  On a database error nothing useful is appended and the
 * error is returned.
 */
enum sx_rc metrics_render(struct sx_db *db, struct sx_buf *out);
#endif
