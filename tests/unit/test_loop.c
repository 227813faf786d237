/*
 * Loop detection: the same action on an unchanged page is warned once, then
 * stopped; a different action or a changed page is not a loop.
 */
#include <criterion/criterion.h>
#include "sx.h"
#include "loop.h"

Test(loop, first_action_is_never_a_loop)
{
	struct loop_guard g = { 0 };

	cr_assert_eq(loop_judge(&g, "fp1", "click e1"), LOOP_OK);
}

Test(loop, same_action_same_page_warns_then_stops)
{
	struct loop_guard g = { 0 };

	loop_record(&g, "fp1", "click e1");
	cr_assert_eq(loop_judge(&g, "fp1", "click e1"), LOOP_WARN);
	cr_assert(g.warned, "the prompt must now carry the warning");
	cr_assert_eq(loop_judge(&g, "fp1", "click e1"), LOOP_STOP);
}

Test(loop, same_action_on_a_changed_page_is_fine)
{
	struct loop_guard g = { 0 };

	loop_record(&g, "fp1", "click e1");
	cr_assert_eq(loop_judge(&g, "fp2", "click e1"), LOOP_OK);
	cr_assert_not(g.warned);
}

Test(loop, a_different_answer_after_the_warning_clears_it)
{
	struct loop_guard g = { 0 };

	loop_record(&g, "fp1", "click e1");
	cr_assert_eq(loop_judge(&g, "fp1", "click e1"), LOOP_WARN);
	cr_assert_eq(loop_judge(&g, "fp1", "input_text e2 hello"), LOOP_OK);
	cr_assert_not(g.warned);
	loop_record(&g, "fp1", "input_text e2 hello");
	/* A later repeat starts the count again: warned first, not stopped. */
	cr_assert_eq(loop_judge(&g, "fp1", "input_text e2 hello"), LOOP_WARN);
}

Test(loop, no_action_signature_is_not_judged)
{
	struct loop_guard g = { 0 };

	loop_record(&g, "fp1", "");
	cr_assert_eq(loop_judge(&g, "fp1", ""), LOOP_OK);
	cr_assert_eq(loop_judge(&g, NULL, NULL), LOOP_OK);
}

Test(loop, page_without_fingerprint_is_not_a_loop)
{
	struct loop_guard g = { 0 };

	loop_record(&g, NULL, "click e1");
	cr_assert_eq(loop_judge(&g, NULL, "click e1"), LOOP_OK);
}
