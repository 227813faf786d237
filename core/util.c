/*
 * The small helpers every module leans on: the error-code table, allocation
 * that aborts on exhaustion, strict number parsing and secret wiping.
 */
#include <ftw.h>
#include <sys/stat.h>
#include "sx.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>

/*
 * Indexed by enum sx_rc.  The designated initializers keep each text next to
 * its code, and the static assertion below catches a code added to the enum
 * without a description here.
 */
static const char *const sx_rc_text[] = {
	[SX_OK] = "success",
	[SX_ENOMEM] = "out of memory",
	[SX_EINVAL] = "invalid argument or malformed input",
	[SX_ENOTFOUND] = "not found",
	[SX_ECONFLICT] = "state does not allow the operation",
	[SX_ETOOBIG] = "size limit exceeded",
	[SX_EIO] = "system call failed",
	[SX_ETIMEOUT] = "timed out",
	[SX_EDB] = "database error",
	[SX_EDBDOWN] = "database unreachable",
	[SX_EDEADLOCK] = "transaction deadlock; retry",
	[SX_EHTTP] = "outbound HTTP request failed",
	[SX_EWEBDRIVER] = "WebDriver error",
	[SX_ESESSION] = "browser session lost",
	[SX_ELLM] = "language model call failed",
	[SX_EPARSE] = "answer could not be parsed",
	[SX_EAUTH] = "missing or wrong credentials",
	[SX_ECANCELED] = "canceled",
	[SX_EBLOCKED] = "refused by policy",
	[SX_ECONFIG] = "bad configuration",
	[SX_EDONE] = "done",
};

_Static_assert(SX_ARRAY_LEN(sx_rc_text) == SX_RC_MAX,
	       "sx_rc_text must describe every enum sx_rc value");

/* Never NULL: an out-of-range code (a memory corruption) still prints. */
const char *sx_strerror(enum sx_rc rc)
{
	const char *s = "unknown error";

	if ((unsigned)rc < SX_ARRAY_LEN(sx_rc_text) && sx_rc_text[rc])
		s = sx_rc_text[rc];
	return s;
}

/*
 * Out of memory is not recoverable in a useful way here: say so on stderr
 * (without allocating) and abort so the supervisor restarts us.
 */
static void oom(size_t n)
{
	char msg[96];
	int len = snprintf(msg, sizeof(msg), "sextant: out of memory allocating %zu bytes\n", n);

	if (len > 0)
		fwrite(msg, 1, (size_t)len < sizeof(msg) ? (size_t)len : sizeof(msg) - 1, stderr);
	abort();
}

/* A zero-byte request still returns a unique pointer, never NULL. */
void *xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);

	if (!p)
		oom(n);
	return p;
}

void *xcalloc(size_t n, size_t size)
{
	void *p;

	if (n == 0 || size == 0) {
		n = 1;
		size = 1;
	}
	p = calloc(n, size);
	if (!p)
		oom(n > SIZE_MAX / size ? SIZE_MAX : n * size);
	return p;
}

void *xrealloc(void *p, size_t n)
{
	void *q = realloc(p, n ? n : 1);

	if (!q)
		oom(n);
	return q;
}

char *xstrdup(const char *s)
{
	return xstrndup(s, strlen(s));
}

/* Copies at most n bytes of s and always terminates the copy. */
char *xstrndup(const char *s, size_t n)
{
	size_t len = strnlen(s, n);
	char *p;

	if (len == SIZE_MAX)
		oom(len);
	p = xmalloc(len + 1);
	memcpy(p, s, len);
	p[len] = '\0';
	return p;
}

char *xasprintf(const char *fmt, ...)
{
	va_list ap;
	char *s = NULL;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&s, fmt, ap);
	va_end(ap);
	/* vasprintf fails only on exhaustion or an impossible format. */
	if (n < 0)
		oom(0);
	return s;
}

/*
 * strtoll alone accepts leading whitespace and '+', and reports overflow
 * only through errno; configuration and HTTP parameters want exactly
 * `-?[0-9]+` and a range check, so the characters are vetted first.
 */
bool sx_parse_ll(const char *s, long long min, long long max, long long *out)
{
	const char *p;
	char *end = NULL;
	long long v;
	int saved_errno = errno;
	bool ok = false;

	if (!s || !out)
		goto out;
	p = s[0] == '-' ? s + 1 : s;
	if (*p < '0' || *p > '9')
		goto out;
	for (; *p; p++)
		if (*p < '0' || *p > '9')
			goto out;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno || !end || *end != '\0')
		goto out;
	if (v < min || v > max)
		goto out;
	*out = v;
	ok = true;
out:
	errno = saved_errno;
	return ok;
}

int sx_hex_value(int c)
{
	int v = -1;

	if (c >= '0' && c <= '9')
		v = c - '0';
	else if (c >= 'a' && c <= 'f')
		v = c - 'a' + 10;
	else if (c >= 'A' && c <= 'F')
		v = c - 'A' + 10;
	return v;
}

/*
 * Accepts plain decimal notation with an optional exponent
 * (`-?digits[.digits][e[+-]digits]`); strtod's hex floats, "inf", "nan" and
 * leading whitespace are refused.
 */
bool sx_parse_double(const char *s, double min, double max, double *out)
{
	const char *p;
	char *end = NULL;
	double v;
	int saved_errno = errno;
	bool digits = false;
	bool ok = false;

	if (!s || !out)
		goto out;
	p = s[0] == '-' ? s + 1 : s;
	for (; *p >= '0' && *p <= '9'; p++)
		digits = true;
	if (*p == '.')
		for (p++; *p >= '0' && *p <= '9'; p++)
			digits = true;
	if (!digits)
		goto out;
	if (*p == 'e' || *p == 'E') {
		p++;
		if (*p == '+' || *p == '-')
			p++;
		if (*p < '0' || *p > '9')
			goto out;
		while (*p >= '0' && *p <= '9')
			p++;
	}
	if (*p != '\0')
		goto out;
	errno = 0;
	v = strtod(s, &end);
	if (errno || !end || *end != '\0' || !isfinite(v))
		goto out;
	if (v < min || v > max)
		goto out;
	*out = v;
	ok = true;
out:
	errno = saved_errno;
	return ok;
}

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	remove(path);
	return 0;
}

void sx_rm_tree(const char *dir)
{
	if (dir && *dir)
		nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

enum sx_rc sx_mkdirs(const char *path, int *err)
{
	char *p = xstrdup(path);

	*err = 0;
	for (char *s = p + 1; *s && !*err; s++) {
		if (*s != '/')
			continue;
		*s = '\0';
		if (mkdir(p, 0755) != 0 && errno != EEXIST)
			*err = errno;
		*s = '/';
	}
	if (!*err && mkdir(p, 0755) != 0 && errno != EEXIST)
		*err = errno;
	free(p);
	return *err ? SX_EIO : SX_OK;
}
