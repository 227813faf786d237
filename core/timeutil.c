/*
 * Clocks, the database-to-API timestamp conversion, and an interruptible
 * sleep for worker loops that must notice a shutdown request promptly.
 */
#include "timeutil.h"

#include <time.h>

int64_t sx_now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

int64_t sx_mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Reads exactly n digits at s into *v; false when any is not a digit. */
static bool time_digits(const char *s, int n, int lo, int hi, int *v)
{
	int i, x = 0;
	bool ok = true;

	for (i = 0; i < n && ok; i++) {
		if (s[i] < '0' || s[i] > '9')
			ok = false;
		else
			x = x * 10 + (s[i] - '0');
	}
	if (ok && (x < lo || x > hi))
		ok = false;
	if (ok)
		*v = x;
	return ok;
}

/*
 * Accepts "YYYY-MM-DD HH:MM:SS" with an optional "." and 1 to 6 fraction
 * digits; a 'T' separator is accepted too so that the conversion is
 * idempotent.  The fraction is right-padded with zeros to six digits.
 */
bool sx_time_db_to_iso(const char *s, char out[32])
{
	int y, mo, d, h, mi, sec;
	char frac[7] = "000000";
	size_t i;
	bool ok = false;

	if (!s || strnlen(s, 20) < 19)
		goto out;
	if (!time_digits(s, 4, 0, 9999, &y) || s[4] != '-' ||
	    !time_digits(s + 5, 2, 1, 12, &mo) || s[7] != '-' ||
	    !time_digits(s + 8, 2, 1, 31, &d) || (s[10] != ' ' && s[10] != 'T') ||
	    !time_digits(s + 11, 2, 0, 23, &h) || s[13] != ':' ||
	    !time_digits(s + 14, 2, 0, 59, &mi) || s[16] != ':' ||
	    !time_digits(s + 17, 2, 0, 60, &sec))
		goto out;
	s += 19;
	if (*s == '.') {
		for (i = 0, s++; i < 6 && *s >= '0' && *s <= '9'; i++, s++)
			frac[i] = *s;
		if (i == 0)
			goto out;
	}
	if (*s != '\0')
		goto out;
	snprintf(out, 32, "%04d-%02d-%02dT%02d:%02d:%02d.%s", y, mo, d, h, mi, sec, frac);
	ok = true;
out:
	return ok;
}

static int64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/*
 * Sleeps in slices of at most 100 ms against a monotonic deadline, so a
 * signal neither shortens nor lengthens the sleep, and a stop flag set by a
 * signal handler or another thread is seen within 100 ms.
 */
void sx_sleep_ms(int64_t ms, const atomic_int *stop)
{
	int64_t deadline = mono_ns() + ms * 1000000, left;
	struct timespec req;

	while (!(stop && *stop)) {
		left = deadline - mono_ns();
		if (left <= 0)
			break;
		if (left > 100 * 1000000)
			left = 100 * 1000000;
		req.tv_sec = 0;
		req.tv_nsec = (long)left;
		/* EINTR just ends this slice early; the loop re-checks stop. */
		nanosleep(&req, NULL);
	}
}
