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
