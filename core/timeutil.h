#ifndef SX_TIMEUTIL_H
#define SX_TIMEUTIL_H
#include <stdatomic.h>
#include "sx.h"

/* Microseconds since the epoch (wall clock). */
int64_t sx_now_us(void);
/* Milliseconds of a monotonic clock, for timeouts and durations. */
int64_t sx_mono_ms(void);
/*
 * Turns MariaDB's "YYYY-MM-DD HH:MM:SS[.ffffff]" into the API's ISO 8601
 * form "YYYY-MM-DDTHH:MM:SS.ffffff" (always six fraction digits).  out must
 * hold 32 bytes.  Returns false when s is not of that form.
 */
bool sx_time_db_to_iso(const char *s, char out[32]);
/* Sleeps for ms milliseconds, resuming after signals unless *stop is set. */
void sx_sleep_ms(int64_t ms, const atomic_int *stop);
#endif
