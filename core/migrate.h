#ifndef SX_MIGRATE_H
#define SX_MIGRATE_H
/*
 * The migration runner.  Files `NNN_name.sql` in `<data_dir>/sql` are
 * applied in order of NNN; each applied version is recorded in
 * schema_migrations, so running it twice applies nothing the second time.
 * A named lock keeps two runners from racing.
 */
#include "sx.h"

struct sx_db;

/* Applies what is missing; *applied counts the files applied now. */
enum sx_rc migrate_run(struct sx_db *db, const char *data_dir, int *applied);
#endif
