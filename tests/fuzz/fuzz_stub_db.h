#ifndef SX_FUZZ_STUB_DB_H
#define SX_FUZZ_STUB_DB_H
/*
 * The stand-in for the database layer linked into the fuzz targets that
 * drive FastCGI handlers (fuzz_stub_db.c).
 */
#include "fuzz.h"

/* What the last task_db_create() call was asked to store. */
struct fuzz_created {
	int calls;
	long long max_steps;
	char *idem_key;        /* owned copy, NULL when none was given */
	bool has_request;
};
extern struct fuzz_created fuzz_created;

/* Forgets the recorded call (frees the key copy). */
void fuzz_created_reset(void);
#endif
