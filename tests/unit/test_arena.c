/*
 * The scratch arena: allocations are aligned and distinct, large ones fit,
 * strings are copied, handed-over pointers are freed with the arena (the
 * sanitizer run would report a leak otherwise), and a released arena can
 * be used again.
 */
#include <criterion/criterion.h>
#include <stdalign.h>
#include "sx.h"
#include "arena.h"

Test(arena, allocations_are_aligned_and_distinct)
{
	struct sx_arena a;
	char *p[100];

	sx_arena_init(&a);
	for (size_t i = 0; i < SX_ARRAY_LEN(p); i++) {
		p[i] = sx_arena_alloc(&a, i + 1);
		cr_assert_eq((uintptr_t)p[i] % alignof(max_align_t), 0);
		memset(p[i], (int)i, i + 1);
	}
	for (size_t i = 0; i < SX_ARRAY_LEN(p); i++)
		cr_assert_eq((unsigned char)p[i][i], (unsigned char)i, "allocation %zu was overwritten", i);
	sx_arena_release(&a);
}

Test(arena, larger_than_a_block)
{
	struct sx_arena a;
	size_t n = 1u << 20;
	char *small, *big;

	sx_arena_init(&a);
	small = sx_arena_strdup(&a, "before");
	big = sx_arena_alloc(&a, n);
	memset(big, 'x', n);
	cr_assert_str_eq(small, "before");
	cr_assert_str_eq(sx_arena_strdup(&a, "after"), "after");
	sx_arena_release(&a);
}

Test(arena, strings)
{
	struct sx_arena a;
	const char *src = "step 3: click e12";

	sx_arena_init(&a);
	cr_assert_str_eq(sx_arena_strdup(&a, src), src);
	cr_assert_neq(sx_arena_strdup(&a, src), src);
	cr_assert_null(sx_arena_strdup(&a, NULL));
	cr_assert_str_eq(sx_arena_strndup(&a, src, 6), "step 3");
	cr_assert_str_eq(sx_arena_strndup(&a, "ab", 10), "ab");
	cr_assert_str_eq(sx_arena_printf(&a, "%s -> %s%d", "click e1", "ok", 7), "click e1 -> ok7");
	sx_arena_release(&a);
}

Test(arena, owned_pointers_are_freed_on_release_and_it_is_reusable)
{
	struct sx_arena a;
	char *s;

	sx_arena_init(&a);
	s = sx_arena_own(&a, xstrdup("from malloc"));
	cr_assert_str_eq(s, "from malloc");
	cr_assert_null(sx_arena_own(&a, NULL));
	sx_arena_release(&a);
	cr_assert_null(a.blocks);
	cr_assert_null(a.owned);
	cr_assert_str_eq(sx_arena_printf(&a, "%d", 42), "42");
	sx_arena_release(&a);
}
