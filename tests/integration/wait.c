/*
 * Waits on conditions with deadlines (see wait.h).
 */
#include "sx.h"
#include "timeutil.h"
#include "wait.h"

bool wait_until(wait_cond cond, void *arg, int timeout_ms)
{
	int64_t deadline = sx_mono_ms() + timeout_ms;
	bool ok = cond(arg);

	while (!ok && sx_mono_ms() < deadline) {
		sx_sleep_ms(WAIT_POLL_MS, NULL);
		ok = cond(arg);
	}
	return ok;
}

bool holds_for(wait_cond cond, void *arg, int ms)
{
	int64_t end = sx_mono_ms() + ms;
	bool ok = cond(arg);

	while (ok && sx_mono_ms() < end) {
		sx_sleep_ms(WAIT_POLL_MS, NULL);
		ok = cond(arg);
	}
	return ok;
}
