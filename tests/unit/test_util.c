#include "sx.h"
#include "crypto.h"

#include <errno.h>
#include <limits.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>
#include <criterion/criterion.h>

Test(util, strerror_describes_every_code)
{
	int i, j;

	for (i = 0; i < SX_RC_MAX; i++) {
		const char *s = sx_strerror((enum sx_rc)i);

		cr_assert_not_null(s);
		cr_assert_neq(strcmp(s, "unknown error"), 0, "code %d has no text", i);
		for (j = 0; j < i; j++)
			cr_assert_neq(strcmp(s, sx_strerror((enum sx_rc)j)), 0,
				      "codes %d and %d share a text", i, j);
	}
	cr_assert_str_eq(sx_strerror(SX_RC_MAX), "unknown error");
	cr_assert_str_eq(sx_strerror((enum sx_rc)-1), "unknown error");
}

Test(util, parse_ll_accepts_plain_decimal)
{
	long long v = 0;

	cr_assert(sx_parse_ll("0", 0, 10, &v));
	cr_assert_eq(v, 0);
	cr_assert(sx_parse_ll("42", 0, 100, &v));
	cr_assert_eq(v, 42);
	cr_assert(sx_parse_ll("-17", -20, 0, &v));
	cr_assert_eq(v, -17);
	cr_assert(sx_parse_ll("-0", -1, 1, &v));
	cr_assert_eq(v, 0);
	cr_assert(sx_parse_ll("007", 0, 10, &v));
	cr_assert_eq(v, 7);
	cr_assert(sx_parse_ll("9223372036854775807", LLONG_MIN, LLONG_MAX, &v));
	cr_assert_eq(v, LLONG_MAX);
	cr_assert(sx_parse_ll("-9223372036854775808", LLONG_MIN, LLONG_MAX, &v));
	cr_assert_eq(v, LLONG_MIN);
}

Test(util, parse_ll_rejects_junk_and_leaves_out_alone)
{
	static const char *const bad[] = {
		"", "-", "abc", "12a", " 1", "1 ", "+1", "0x10", "1.0", "1e3", "--1", "\t1", "1\n",
	};
	long long v = 1234;
	size_t i;

	for (i = 0; i < SX_ARRAY_LEN(bad); i++) {
		cr_assert_not(sx_parse_ll(bad[i], LLONG_MIN, LLONG_MAX, &v), "accepted '%s'", bad[i]);
		cr_assert_eq(v, 1234);
	}
	cr_assert_not(sx_parse_ll(NULL, 0, 1, &v));
}

Test(util, parse_ll_checks_range_and_overflow_without_touching_errno)
{
	long long v = 5;

	errno = EBADF;
	cr_assert_not(sx_parse_ll("99999999999", 0, 2147483647LL, &v));
	cr_assert_not(sx_parse_ll("2147483648", 0, 2147483647LL, &v));
	cr_assert(sx_parse_ll("2147483647", 0, 2147483647LL, &v));
	cr_assert_eq(v, 2147483647LL);
	cr_assert_not(sx_parse_ll("99999999999999999999", LLONG_MIN, LLONG_MAX, &v));
	cr_assert_not(sx_parse_ll("-99999999999999999999", LLONG_MIN, LLONG_MAX, &v));
	cr_assert_not(sx_parse_ll("-1", 0, 10, &v));
	cr_assert_not(sx_parse_ll("11", 0, 10, &v));
	cr_assert_eq(errno, EBADF);
}

Test(util, parse_double)
{
	static const char *const bad[] = {
		"", "-", ".", "abc", "1.5x", " 1", "1 ", "+1", "inf", "nan", "0x1p3", "1e", "1e+",
		"1e400", "e5",
	};
	double d = 0;
	size_t i;

	cr_assert(sx_parse_double("0.15", 0, 1e6, &d));
	cr_assert_float_eq(d, 0.15, 1e-12);
	cr_assert(sx_parse_double("-2.5e2", -1000, 0, &d));
	cr_assert_float_eq(d, -250.0, 1e-9);
	cr_assert(sx_parse_double(".5", 0, 1, &d));
	cr_assert_float_eq(d, 0.5, 1e-12);
	cr_assert(sx_parse_double("3", 0, 10, &d));
	cr_assert_float_eq(d, 3.0, 1e-12);
	for (i = 0; i < SX_ARRAY_LEN(bad); i++)
		cr_assert_not(sx_parse_double(bad[i], -1e300, 1e300, &d), "accepted '%s'", bad[i]);
	cr_assert_not(sx_parse_double("1000001", 0, 1e6, &d));
	cr_assert_not(sx_parse_double("-0.1", 0, 1e6, &d));
}

Test(util, string_helpers)
{
	char *s = xstrdup("hello");
	char *t = xstrndup("hello", 3);
	char *u = xstrndup("hi", 10);
	char *v = xasprintf("%s-%d", "x", 42);

	cr_assert_str_eq(s, "hello");
	cr_assert_str_eq(t, "hel");
	cr_assert_str_eq(u, "hi");
	cr_assert_str_eq(v, "x-42");
	free(s);
	free(t);
	free(u);
	free(v);
}

Test(util, allocators_never_return_null)
{
	char *p = xmalloc(0);
	int *q = xcalloc(4, sizeof(int));

	cr_assert_not_null(p);
	cr_assert_eq(q[0] | q[1] | q[2] | q[3], 0);
	q = xrealloc(q, 100 * sizeof(int));
	q[99] = 7;
	cr_assert_eq(q[99], 7);
	free(p);
	free(q);
}

/*
 * Under AddressSanitizer an impossible malloc is a fatal report unless the
 * allocator is told to return NULL, which is what xmalloc must handle.
 */
const char *__asan_default_options(void);
const char *__asan_default_options(void)
{
	return "allocator_may_return_null=1";
}

Test(util, xmalloc_aborts_on_exhaustion, .signal = SIGABRT)
{
	volatile size_t huge = SIZE_MAX - 16;

	free(xmalloc(huge));
}

Test(util, wipe_zeroes)
{
	char secret[] = "hunter2";
	size_t i;

	crypto_wipe(secret, sizeof(secret));
	for (i = 0; i < sizeof(secret); i++)
		cr_assert_eq(secret[i], 0);
	crypto_wipe(NULL, 10);
}

Test(util, mkdirs_makes_every_level_and_names_the_first_failure)
{
	char tmpl[] = "/tmp/sx-mkdirs-XXXXXX";
	char *deep, *file, *below;
	struct stat st;
	int err = -1, fd;

	cr_assert_not_null(mkdtemp(tmpl));
	deep = xasprintf("%s/a/b/c", tmpl);
	cr_assert_eq(sx_mkdirs(deep, &err), SX_OK);
	cr_assert_eq(err, 0);
	cr_assert(stat(deep, &st) == 0 && S_ISDIR(st.st_mode));
	/* Already there is fine. */
	cr_assert_eq(sx_mkdirs(deep, &err), SX_OK);
	/* A file in the way: the level that fails (ENOTDIR below it), not a later ENOENT. */
	file = xasprintf("%s/f", tmpl);
	fd = open(file, O_WRONLY | O_CREAT, 0644);
	cr_assert_geq(fd, 0);
	close(fd);
	below = xasprintf("%s/x/y", file);
	cr_assert_eq(sx_mkdirs(below, &err), SX_EIO);
	cr_assert_eq(err, ENOTDIR, "%s", strerror(err));
	sx_rm_tree(tmpl);
	free(below);
	free(file);
	free(deep);
}
