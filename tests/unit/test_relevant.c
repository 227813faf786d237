/* relevant_lines: what verification and extraction read of a long page. */
#include <criterion/criterion.h>
#include <string.h>

#include "sx.h"
#include "buf.h"
#include "relevant.h"

Test(relevant, short_text_is_kept_whole)
{
	char *s = relevant_lines("Order placed\nThank you", "order", 100);

	cr_assert_str_eq(s, "Order placed\nThank you");
	free(s);
}

Test(relevant, null_text_is_empty)
{
	char *s = relevant_lines(NULL, "x", 10);

	cr_assert_str_eq(s, "");
	free(s);
}

/* A catalog of 2,000 lines: the one the goal names is kept, within the budget. */
Test(relevant, goal_lines_win_in_a_catalog)
{
	struct sx_buf b;
	char *text, *s;

	sx_buf_init(&b, 1 << 20);
	sx_buf_puts(&b, "All products A-Z\n2000 products\n");
	for (int i = 0; i < 2000; i++)
		sx_buf_printf(&b, "Basalt %d Backpack $%d.00\n", i, 20 + i % 300);
	sx_buf_puts(&b, "Summit Ridge 3 Tent $349.00\n");
	for (int i = 0; i < 500; i++)
		sx_buf_printf(&b, "Alder %d Tent $%d.00\n", i, 99 + i % 100);
	text = sx_buf_detach(&b, NULL);
	s = relevant_lines(text, "Extract the name and price of the Summit Ridge 3 Tent", 2000);
	cr_assert(strstr(s, "Summit Ridge 3 Tent $349.00\n"), "the named product is kept");
	cr_assert(strncmp(s, "All products A-Z\n", 17) == 0, "the heading is kept");
	cr_assert(strstr(s, "…\n"), "a gap is marked");
	cr_assert_leq(strlen(s), 2000 + 200);
	/* The lines sharing the most goal words come before the filler from the start. */
	cr_assert(strstr(s, "Alder 0 Tent"), "lines sharing a goal word are chosen:\n%s", s);
	free(s);
	free(text);
}

/* Kept lines stay in page order. */
Test(relevant, page_order)
{
	char *s = relevant_lines("intro\nalpha price 1\nfiller filler filler filler\nbeta price 2\n", "price", 30);

	const char *alpha = strstr(s, "alpha price 1"), *beta = strstr(s, "beta price 2");

	cr_assert_not_null(alpha, "the first line sharing a goal word is kept:\n%s", s);
	cr_assert(!beta || alpha < beta, "kept lines keep their page order:\n%s", s);
	free(s);
}

/* One line longer than the budget (a page without newlines) is cut, never dropped whole. */
Test(relevant, one_long_line_is_cut_on_a_character_boundary)
{
	char text[3001];
	char *s;

	for (int i = 0; i < 3000; i += 3)
		memcpy(text + i, "\xc3\xa9x", 3);
	text[3000] = '\0';
	s = relevant_lines(text, NULL, 300);
	cr_assert_gt(strlen(s), 50);
	cr_assert_leq(strlen(s), 300 + 64);
	for (const char *p = s; *p; p++)
		if ((unsigned char)*p == 0xc3)
			cr_assert(p[1] && ((unsigned char)p[1] & 0xC0) == 0x80, "no sequence cut in half");
	free(s);
}

/* Text lines that only repeat a listed element's label are left to the element list. */
Test(relevant, unlisted_drops_labels_the_list_shows)
{
	const char *elements = "[e1] link \"Tents\" href=\"#t\"\n"
			       "[e2] input:text \"Full \\\"legal\\\" name\" required\n"
			       "[e3] button \"Send\"\n"
			       "[e4] select \"Country\" options=[\"France\",\"Spain\"] +90 more required\n";
	const char *text = "Tents\n\n\n  Full \"legal\" name \nPlease enter your name as on your passport\n"
			   "Send\nTents and tarps\nCountry\nFrance\nSpain\nPortugal\n";
	char *s = relevant_unlisted(text, elements);

	cr_assert_str_eq(s, "Please enter your name as on your passport\nTents and tarps\nPortugal\n");
	free(s);
	s = relevant_unlisted(NULL, elements);
	cr_assert_str_eq(s, "");
	free(s);
	s = relevant_unlisted("a\nb", NULL);
	cr_assert_str_eq(s, "a\nb\n");
	free(s);
}

/* A catalog whose goal names one product: extraction reads its line, not a page of near misses. */
Test(relevant, data_lines_keep_the_named_thing_and_little_else)
{
	struct sx_buf b;
	char *text, *s;

	sx_buf_init(&b, 1 << 20);
	sx_buf_puts(&b, "All products A-Z\n2400 products\n");
	for (int i = 1; i <= 10; i++)
		sx_buf_printf(&b, "Summit Ridge %d Tent $%d.00\n", i, i == 3 ? 349 : 20 + i);
	for (int i = 1; i <= 10; i++)
		sx_buf_printf(&b, "Summit Ridge %d Backpack $%d.00\n", i, 40 + i);
	for (int i = 0; i < 500; i++)
		sx_buf_printf(&b, "Alder %d Tent $%d.00\n", i, 99 + i % 100);
	sx_buf_puts(&b, "Prices in USD, shipping free over $75\n");
	text = sx_buf_detach(&b, NULL);
	s = relevant_data_lines(text, "Find the Summit Ridge 3 Tent\nExtract the name and price of the "
				"Summit Ridge 3 Tent", 6000);
	cr_assert(strstr(s, "Summit Ridge 3 Tent $349.00\n"), "the named product is kept:\n%s", s);
	cr_assert(strncmp(s, "All products A-Z\n", 17) == 0, "the heading is kept");
	cr_assert(strstr(s, "Summit Ridge 4 Tent"), "the lines after the named one are kept");
	cr_assert(strstr(s, "Prices in USD"), "a goal word no kept line had brings its line:\n%s", s);
	cr_assert_null(strstr(s, "Alder 400 Tent"), "lines sharing one word do not fill the budget");
	cr_assert_lt(strlen(s), 2000, "%zu bytes:\n%s", strlen(s), s);
	free(s);
	/* A goal naming nothing on the page reads as relevant_lines does. */
	s = relevant_data_lines(text, "Extract every product name", 6000);
	cr_assert_gt(strlen(s), 5000);
	free(s);
	free(text);
}

/* A line's score: its goal words, and the run of them it holds in a row. */
Test(relevant, score_counts_words_and_the_named_run)
{
	const char *goal = "Extract the price of the Summit Ridge 3 Tent";
	const char *exact = "Summit Ridge 3 Tent $349.00", *near = "Summit Ridge 1 Tent $26.00";
	const char *other = "Alder 3 Backpack";
	struct relevant_goal *g = relevant_goal_new(goal), *none = relevant_goal_new(NULL);

	cr_assert_gt(relevant_score(g, exact, strlen(exact)), relevant_score(g, near, strlen(near)));
	cr_assert_gt(relevant_score(g, near, strlen(near)), 0);
	cr_assert_eq(relevant_score(g, other, strlen(other)), 0);
	cr_assert_eq(relevant_score(none, exact, strlen(exact)), 0);
	relevant_goal_free(g);
	relevant_goal_free(none);
	relevant_goal_free(NULL);
}
