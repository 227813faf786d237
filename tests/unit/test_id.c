#include "id.h"
#include "crypto.h"
#include "timeutil.h"

#include <criterion/criterion.h>

static const char alphabet[] = "0123456789abcdefghjkmnpqrstvwxyz";

static int cmp_str(const void *a, const void *b)
{
	return strcmp((const char *)a, (const char *)b);
}

Test(id, has_prefix_length_and_charset)
{
	static const char *const prefixes[] = { "tsk_", "stp_", "o_", "art_", "" };
	char id[SX_ID_MAX];
	size_t i, j, plen;

	for (i = 0; i < SX_ARRAY_LEN(prefixes); i++) {
		plen = strlen(prefixes[i]);
		sx_id_new(id, prefixes[i]);
		cr_assert_eq(strncmp(id, prefixes[i], plen), 0);
		cr_assert_eq(strlen(id), plen + 26, "%s", id);
		for (j = plen; id[j]; j++)
			cr_assert_not_null(strchr(alphabet, id[j]), "bad char in %s", id);
		cr_assert(id[plen] <= '7', "first char must carry only 3 bits: %s", id);
		cr_assert(sx_id_valid(id, prefixes[i]));
	}
}

Test(id, unique_over_ten_thousand)
{
	enum { N = 10000 };
	char (*ids)[SX_ID_MAX] = xcalloc(N, SX_ID_MAX);
	size_t i;

	for (i = 0; i < N; i++)
		sx_id_new(ids[i], "tsk_");
	qsort(ids, N, SX_ID_MAX, cmp_str);
	for (i = 1; i < N; i++)
		cr_assert_neq(strcmp(ids[i - 1], ids[i]), 0, "duplicate %s", ids[i]);
	free(ids);
}

Test(id, later_ids_sort_after_earlier_ones)
{
	char a[SX_ID_MAX], b[SX_ID_MAX];
	int i;

	for (i = 0; i < 5; i++) {
		int64_t ms;

		sx_id_new(a, "tsk_");
		/* Ids carry the wall clock's millisecond: the next one must be a later millisecond. */
		ms = sx_now_us() / 1000;
		while (sx_now_us() / 1000 <= ms)
			continue;
		sx_id_new(b, "tsk_");
		cr_assert_lt(strcmp(a, b), 0, "%s !< %s", a, b);
	}
}

Test(id, timestamp_is_the_current_millisecond)
{
	char id[SX_ID_MAX];
	int64_t before = sx_now_us() / 1000, after, ms = 0;
	const char *p;
	int i;

	sx_id_new(id, "x_");
	after = sx_now_us() / 1000;
	/* The first ten characters hold the 48-bit time (two leading zero bits). */
	for (i = 0; i < 10; i++) {
		p = strchr(alphabet, id[2 + i]);
		cr_assert_not_null(p);
		ms = ms * 32 + (p - alphabet);
	}
	cr_assert_geq(ms, before);
	cr_assert_leq(ms, after);
}

Test(id, valid_rejects_wrong_prefix_length_and_chars)
{
	static const char wrong[] = { 'i', 'l', 'o', 'u', 'A', 'Z', '-', '_', ' ', '!' };
	char id[SX_ID_MAX], bad[SX_ID_MAX + 8];
	size_t n, i;

	sx_id_new(id, "tsk_");
	n = strlen(id);
	cr_assert(sx_id_valid(id, "tsk_"));
	cr_assert_not(sx_id_valid(id, "stp_"));
	cr_assert_not(sx_id_valid(id + 1, "tsk_"));
	cr_assert_not(sx_id_valid(NULL, "tsk_"));
	cr_assert_not(sx_id_valid("", "tsk_"));
	cr_assert_not(sx_id_valid("tsk_", "tsk_"));

	memcpy(bad, id, n + 1);
	bad[n - 1] = '\0';
	cr_assert_not(sx_id_valid(bad, "tsk_"), "25 chars");
	snprintf(bad, sizeof(bad), "%sa", id);
	cr_assert_not(sx_id_valid(bad, "tsk_"), "27 chars");

	for (i = 0; i < sizeof(wrong); i++) {
		memcpy(bad, id, n + 1);
		bad[n - 3] = wrong[i];
		cr_assert_not(sx_id_valid(bad, "tsk_"), "accepted '%c'", wrong[i]);
	}
	memcpy(bad, id, n + 1);
	bad[4] = '8';
	cr_assert_not(sx_id_valid(bad, "tsk_"), "first char above 7 overflows 128 bits");
	cr_assert(sx_id_valid("tsk_01arz3ndektsv4rrffq69g5fav", "tsk_"));
	cr_assert_not(sx_id_valid("tsk_01ARZ3NDEKTSV4RRFFQ69G5FAV", "tsk_"));
}

Test(id, random_bytes_fill)
{
	unsigned char a[64] = { 0 }, b[64] = { 0 };

	crypto_random_bytes(a, sizeof(a));
	crypto_random_bytes(b, sizeof(b));
	cr_assert_neq(memcmp(a, b, sizeof(a)), 0);
	crypto_random_bytes(a, 0);
}
