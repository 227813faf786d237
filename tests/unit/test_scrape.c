/* scrape_elements_brief: the decide prompt's element list of a page with thousands of links. */
#include <criterion/criterion.h>
#include <string.h>

#include "sx.h"
#include "buf.h"
#include "scrape.h"

/*
 * A page of a search field, a button, near links e3..e12 and far links
 * e13..e212 (rank 100 + i: the first nearest), the tent at e150, and a
 * scraper trailer counting 1,000 links it left out.
 */
static void catalog(struct scrape_result *page)
{
	struct sx_buf b;

	memset(page, 0, sizeof(*page));
	sx_buf_init(&b, 1 << 20);
	page->index = json_object_new_object();
	sx_buf_puts(&b, "[e1] input:search \"Search products\"\n[e2] button \"Search\"\n");
	for (int i = 3; i <= 212; i++) {
		json_object *e = json_object_new_object();
		char id[16];

		snprintf(id, sizeof(id), "e%d", i);
		if (i == 150)
			sx_buf_printf(&b, "[%s] link \"Summit Ridge 3 Tent $349.00\" href=\"/p?sku=%d\"\n", id, i);
		else
			sx_buf_printf(&b, "[%s] link \"Alder %d Boot $%d.00\" href=\"/p?sku=%d\"\n", id, i, i, i);
		if (i > 12)
			json_object_object_add(e, "far", json_object_new_int64(100 + i));
		json_object_object_add(page->index, id, e);
	}
	sx_buf_puts(&b, "\xe2\x80\xa6 1000 more links not shown (scroll to reach them)\n");
	page->dropped[2] = 1000;
	page->elements = sx_buf_detach(&b, NULL);
}

Test(scrape, brief_keeps_near_lines_the_goal_and_the_nearest_far_ones)
{
	struct scrape_result page;
	const char *t;
	char *s;

	catalog(&page);
	s = scrape_elements_brief(&page, "Find the Summit Ridge 3 Tent");
	cr_assert(strstr(s, "[e1] input:search"), "form fields stay");
	cr_assert(strstr(s, "[e2] button"), "buttons stay");
	cr_assert(strstr(s, "[e3] link") && strstr(s, "[e12] link"), "links in the viewport stay");
	cr_assert(strstr(s, "[e150] link \"Summit Ridge 3 Tent"), "the far link the goal names stays:\n%s", s);
	cr_assert(strstr(s, "[e13] link"), "the nearest far link stays");
	cr_assert_null(strstr(s, "[e212] link"), "the farthest link is left out");
	cr_assert_lt(strlen(s), 2048 + 1024 + 200, "%zu bytes", strlen(s));
	/* One last line counts what the scraper and the brief list left out. */
	t = strstr(s, "\n\xe2\x80\xa6 ");
	cr_assert_not_null(t, "%s", s);
	cr_assert_null(strstr(t + 4, "\xe2\x80\xa6"), "one count line:\n%s", s);
	cr_assert_gt(strtol(t + 5, NULL, 10), 1000, "%s", t);
	cr_assert_str_eq(strchr(t + 5, ' '), " more links not shown (scroll to reach them)\n");
	free(s);
	scrape_release(&page);
}

Test(scrape, brief_leaves_a_list_whose_far_lines_fit)
{
	struct scrape_result page;
	char *s;

	memset(&page, 0, sizeof(page));
	page.index = json_tokener_parse("{\"e1\":{},\"e2\":{\"far\":7}}");
	page.elements = xstrdup("[e1] button \"Go\"\n[e2] link \"Footer\" href=\"/f\"\n");
	s = scrape_elements_brief(&page, "Go");
	cr_assert_str_eq(s, page.elements);
	free(s);
	scrape_release(&page);
}
