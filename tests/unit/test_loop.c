/*
 * Loop detection: the same action on an unchanged page is warned once, then
 * stopped; a different action or a changed page is not a loop, nor is the
 * retry of an action that failed.
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

Test(loop, a_failed_action_retried_is_not_a_loop)
{
	struct loop_guard g = { 0 };

	/* Each try of the step records the action, fails, and forgets it. */
	for (int retry = 0; retry < 3; retry++) {
		cr_assert_eq(loop_judge(&g, "fp1", "upload_file e4 http://x/cv.pdf"), LOOP_OK, "retry %d", retry);
		loop_record(&g, "fp1", "upload_file e4 http://x/cv.pdf");
		loop_forget(&g);
		cr_assert_not(g.warned);
	}
	/* Once it succeeds, the same action on the same page again is a loop as before. */
	loop_record(&g, "fp1", "upload_file e4 http://x/cv.pdf");
	cr_assert_eq(loop_judge(&g, "fp1", "upload_file e4 http://x/cv.pdf"), LOOP_WARN);
	cr_assert_eq(loop_judge(&g, "fp1", "upload_file e4 http://x/cv.pdf"), LOOP_STOP);
}

Test(loop, forgetting_after_a_warning_clears_it)
{
	struct loop_guard g = { 0 };

	loop_record(&g, "fp1", "click e1");
	cr_assert_eq(loop_judge(&g, "fp1", "click e1"), LOOP_WARN);
	loop_record(&g, "fp1", "click e1");
	loop_forget(&g);
	cr_assert_not(g.warned, "the prompt no longer carries the warning");
	cr_assert_eq(loop_judge(&g, "fp1", "click e1"), LOOP_OK);
}
