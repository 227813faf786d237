/*
 * The scraper against the fixture sites in real headless Chromium: the
 * element lines the LLM sees (format of scrape.h), stable ids, values,
 * shadow-DOM and iframe fields found again by id, the modal, password
 * masking and the cap on a huge page.  Pages are loaded from file:// so no
 * server is needed; the element-list size of every fixture is logged for
 * the benchmark.  Needs chromedriver and Chromium (browser.h).
 */
#include <criterion/criterion.h>
#include <criterion/logging.h>
#include <regex.h>
#include <time.h>
#include <unistd.h>
#include "sx.h"
#include "browser.h"
#include "scrape.h"
#include "webdriver.h"

#ifndef SRCDIR
#error "SRCDIR must be defined (the absolute top source directory)"
#endif

/* The element-list size every form fixture should stay under (≈ 2,000 tokens). */
#define FORM_FIXTURE_AIM 8000

static struct test_browser br;

static void browser_up(void)
{
	browser_start(&br, "scrape", 1280, 900, 30000);
}

static void browser_down(void)
{
	browser_stop(&br);
}

TestSuite(scrape, .init = browser_up, .fini = browser_down, .timeout = 60);

static void load(const char *page)
{
	char url[1024];

	snprintf(url, sizeof(url), "file://%s/tests/sites/%s", SRCDIR, page);
	cr_assert_eq(webdriver_navigate(br.ses, url), SX_OK, "navigate %s: %s", url, webdriver_last_error(br.ses));
}

static void scrape(struct scrape_result *r)
{
	cr_assert_eq(scrape_page(br.ses, r), SX_OK, "scrape: %s", webdriver_last_error(br.ses));
	cr_assert_not_null(r->elements);
	cr_assert_not_null(r->text);
	cr_assert_not_null(r->fingerprint);
}

/*
 * The line of the element of kind with exactly this label, copied into
 * line; false when there is none.
 */
static bool find_line(const char *elements, const char *kind, const char *label,
		      char *line, size_t n)
{
	char needle[512];
	const char *p, *end;

	snprintf(needle, sizeof(needle), "] %s \"%s\"", kind, label);
	p = strstr(elements, needle);
	if (!p)
		return false;
	while (p > elements && p[-1] != '\n')
		p--;
	end = strchr(p, '\n');
	if (!end)
		end = p + strlen(p);
	snprintf(line, n, "%.*s", (int)(end - p), p);
	return true;
}

static void need_line(const struct scrape_result *r, const char *kind, const char *label,
		      char *line, size_t n)
{
	cr_assert(find_line(r->elements, kind, label, line, n),
		  "no %s \"%s\" in:\n%s", kind, label, r->elements);
}

/* The id ("e12") at the start of line. */
static void id_of(const char *line, char *id, size_t n)
{
	const char *end = strchr(line, ']');

	cr_assert(line[0] == '[' && end, "bad line %s", line);
	snprintf(id, n, "%.*s", (int)(end - line - 1), line + 1);
}

static char *locate(const struct scrape_result *r, const char *kind, const char *label)
{
	char line[2048], id[32], *el = NULL;

	need_line(r, kind, label, line, sizeof(line));
	id_of(line, id, sizeof(id));
	cr_assert_eq(scrape_locate(br.ses, r, id, &el), SX_OK, "locate %s: %s", id,
		     webdriver_last_error(br.ses));
	cr_assert_not_null(el);
	return el;
}

static void type_into(const struct scrape_result *r, const char *kind, const char *label,
		      const char *text)
{
	char *el = locate(r, kind, label);

	cr_assert_eq(webdriver_element_send_keys(br.ses, el, text), SX_OK, "send keys: %s",
		     webdriver_last_error(br.ses));
	free(el);
	cr_assert_eq(webdriver_switch_frame(br.ses, NULL), SX_OK);
}

static void click(const struct scrape_result *r, const char *kind, const char *label)
{
	char *el = locate(r, kind, label);

	cr_assert_eq(webdriver_element_click(br.ses, el), SX_OK, "click: %s", webdriver_last_error(br.ses));
	free(el);
	cr_assert_eq(webdriver_switch_frame(br.ses, NULL), SX_OK);
}

/* Every line is `[eN] kind "label"…` and the ids are unique; returns the count. */
static size_t check_format(const char *elements)
{
	regex_t re, trailer;
	char *copy = xstrdup(elements), *save = NULL;
	size_t n = 0;
	json_object *seen = json_object_new_object();

	cr_assert_eq(regcomp(&re, "^\\[e[0-9]+\\] [a-z:-]+ \"([^\"\\\\]|\\\\.)*\"( .*)?$",
			     REG_EXTENDED | REG_NOSUB), 0);
	cr_assert_eq(regcomp(&trailer, "^\xe2\x80\xa6 [0-9]+ more .* not shown", REG_EXTENDED | REG_NOSUB), 0);
	for (char *l = strtok_r(copy, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
		char id[32];

		if (regexec(&trailer, l, 0, NULL, 0) == 0) {
			cr_assert_null(strtok_r(NULL, "\n", &save), "the trailer is not the last line");
			break;
		}
		cr_assert_eq(regexec(&re, l, 0, NULL, 0), 0, "malformed line: %s", l);
		id_of(l, id, sizeof(id));
		cr_assert_not(json_object_object_get_ex(seen, id, NULL), "duplicate id %s", id);
		json_object_object_add(seen, id, NULL);
		n++;
	}
	regfree(&re);
	regfree(&trailer);
	json_object_put(seen);
	free(copy);
	return n;
}

Test(scrape, job_form_lists_every_field)
{
	struct scrape_result r;
	char line[2048];

	load("job/index.html");
	scrape(&r);
	cr_assert_str_eq(r.title, "Software Engineer \xe2\x80\x93 Apply | Northwind Careers");
	cr_assert(strstr(r.url, "/tests/sites/job/index.html"), "url %s", r.url);
	need_line(&r, "input:text", "Full name", line, sizeof(line));
	cr_assert(strstr(line, " required"), "%s", line);
	cr_assert_null(strstr(line, "value="), "empty field shows a value: %s", line);
	need_line(&r, "input:email", "Email", line, sizeof(line));
	need_line(&r, "input:tel", "Phone", line, sizeof(line));
	need_line(&r, "input:file", "Upload resume", line, sizeof(line));
	need_line(&r, "textarea", "Cover letter", line, sizeof(line));
	need_line(&r, "select", "How did you hear about us?", line, sizeof(line));
	cr_assert(strstr(line, "options=[\"Select one\xe2\x80\xa6\",\"LinkedIn\",\"Employee referral\","
			 "\"Job board\",\"Search engine\",\"Other\"]"), "%s", line);
	need_line(&r, "checkbox",
		  "I agree to the processing of my personal data for recruitment purposes",
		  line, sizeof(line));
	cr_assert(strstr(line, " unchecked"), "%s", line);
	need_line(&r, "button", "Submit application", line, sizeof(line));
	need_line(&r, "link", "Privacy policy", line, sizeof(line));
	cr_assert(strstr(line, "href=\""), "%s", line);
	cr_assert_eq(check_format(r.elements), r.nelements);
	cr_assert_not(r.truncated);
	cr_assert(strstr(r.text, "Software Engineer, Platform"), "text: %s", r.text);
	cr_assert_eq(strlen(r.fingerprint), 64);
	cr_assert_eq(json_object_object_length(r.index), (int)r.nelements);
	scrape_release(&r);
}

Test(scrape, values_show_and_ids_stay_stable)
{
	struct scrape_result a, b;
	char la[2048], lb[2048];
	char *el, path[256];
	json_object *v = NULL;
	FILE *f;

	load("job/index.html");
	scrape(&a);
	type_into(&a, "input:text", "Full name", "Chris P. Bacon");
	el = locate(&a, "checkbox",
		    "I agree to the processing of my personal data for recruitment purposes");
	cr_assert_eq(webdriver_element_click(br.ses, el), SX_OK, "%s", webdriver_last_error(br.ses));
	free(el);
	/* The resume input is visually hidden behind its label, yet takes a file. */
	snprintf(path, sizeof(path), "%s/resume.pdf", br.root);
	f = fopen(path, "w");
	cr_assert_not_null(f);
	fputs("%PDF-1.4\n", f);
	fclose(f);
	type_into(&a, "input:file", "Upload resume", path);
	cr_assert_eq(webdriver_execute(br.ses, "document.getElementById('source').value='referral';",
				NULL, &v), SX_OK);
	json_object_put(v);
	scrape(&b);
	/* The same elements, the same ids, in the same order. */
	cr_assert_eq(a.nelements, b.nelements);
	json_object_object_foreach(a.index, key, val) {
		json_object *other;

		(void)val;
		cr_assert(json_object_object_get_ex(b.index, key, &other), "id %s lost", key);
	}
	need_line(&b, "input:text", "Full name", lb, sizeof(lb));
	cr_assert(strstr(lb, " value=\"Chris P. Bacon\""), "%s", lb);
	need_line(&a, "input:text", "Full name", la, sizeof(la));
	cr_assert_eq(strncmp(la, lb, (size_t)(strchr(la, ']') - la)), 0, "%s vs %s", la, lb);
	need_line(&b, "checkbox",
		  "I agree to the processing of my personal data for recruitment purposes",
		  lb, sizeof(lb));
	cr_assert(strstr(lb, " checked"), "%s", lb);
	need_line(&b, "select", "How did you hear about us?", lb, sizeof(lb));
	cr_assert(strstr(lb, " value=\"Employee referral\""), "%s", lb);
	need_line(&b, "input:file", "Upload resume", lb, sizeof(lb));
	cr_assert(strstr(lb, " value=\"resume.pdf\""), "%s", lb);
	cr_assert_str_neq(a.fingerprint, b.fingerprint);
	scrape_release(&a);
	scrape_release(&b);
}

Test(scrape, shadow_dom_and_iframe_fields)
{
	struct scrape_result a, b;
	char line[2048], id[32];
	json_object *entry, *frame;

	load("shadow/index.html");
	scrape(&a);
	need_line(&a, "input:text", "Your name", line, sizeof(line));
	need_line(&a, "input:email", "Newsletter email", line, sizeof(line));
	need_line(&a, "button", "Subscribe", line, sizeof(line));
	need_line(&a, "input:email", "Your email", line, sizeof(line));
	need_line(&a, "textarea", "Message", line, sizeof(line));
	id_of(line, id, sizeof(id));
	cr_assert(json_object_object_get_ex(a.index, id, &entry));
	cr_assert(json_object_object_get_ex(entry, "frame", &frame));
	cr_assert_str_eq(json_object_to_json_string_ext(frame, JSON_C_TO_STRING_PLAIN), "[0]");
	need_line(&a, "button", "Send message", line, sizeof(line));
	cr_assert_eq(check_format(a.elements), a.nelements);

	type_into(&a, "input:text", "Your name", "Ada");
	type_into(&a, "input:email", "Newsletter email", "ada@example.org");
	type_into(&a, "input:email", "Your email", "ada@example.org");
	type_into(&a, "textarea", "Message", "Please call me back.");
	scrape(&b);
	need_line(&b, "input:text", "Your name", line, sizeof(line));
	cr_assert(strstr(line, "value=\"Ada\""), "%s", line);
	need_line(&b, "textarea", "Message", line, sizeof(line));
	cr_assert(strstr(line, "value=\"Please call me back.\""), "%s", line);
	cr_assert_eq(a.nelements, b.nelements);

	click(&b, "button", "Subscribe");
	click(&b, "button", "Send message");
	scrape_release(&a);
	scrape(&a);
	cr_assert(strstr(a.text, "Thanks, Ada! You are subscribed."), "text: %s", a.text);
	cr_assert(strstr(a.text, "Message sent."), "text: %s", a.text);
	cr_assert_not(find_line(a.elements, "button", "Subscribe", line, sizeof(line)),
		      "the submitted shadow form is hidden");
	scrape_release(&a);
	scrape_release(&b);
}

Test(scrape, modal_lists_accept_and_hides_inert_form)
{
	struct scrape_result a, b;
	char line[2048];

	load("modal/index.html");
	scrape(&a);
	need_line(&a, "button", "Accept", line, sizeof(line));
	cr_assert_not(find_line(a.elements, "input:email", "Email address", line, sizeof(line)),
		      "inert field listed:\n%s", a.elements);
	click(&a, "button", "Accept");
	scrape(&b);
	need_line(&b, "input:email", "Email address", line, sizeof(line));
	need_line(&b, "input:password", "Password", line, sizeof(line));
	need_line(&b, "checkbox", "Remember this device", line, sizeof(line));
	cr_assert_not(find_line(b.elements, "button", "Accept", line, sizeof(line)));
	scrape_release(&a);
	scrape_release(&b);
}

/*
 * The page text starts with what needs attention, alerts first, then
 * toasts, then errors next to fields; a class that only contains such a
 * word ("notifications-settings") is no message.
 */
Test(scrape, messages_come_first_by_kind)
{
	static const char head[] = "Alert: Your session ends in 2 minutes.\n"
				   "Message: Settings saved.\n"
				   "Error: Enter a full email address.\n\n";
	struct scrape_result r;

	load("messages/index.html");
	scrape(&r);
	cr_assert(strncmp(r.text, head, sizeof(head) - 1) == 0, "text:\n%s", r.text);
	cr_assert_null(strstr(r.text, ": Notifications are sent weekly."), "text:\n%s", r.text);
	cr_assert_not_null(strstr(r.text, "Notifications are sent weekly."), "text:\n%s", r.text);
	scrape_release(&r);
}

/*
 * A listbox that marks its selection with aria-checked: the scrape shows
 * it, "select" asks to click only the options not yet checked (clicking a
 * checked one would uncheck it), and "selection" reads it back.
 */
Test(scrape, aria_checked_options_count_as_selected)
{
	struct scrape_result r;
	char line[2048], id[32], *el = NULL;
	json_object *want = json_object_new_array(), *v = NULL, *click;

	load("listbox/index.html");
	scrape(&r);
	need_line(&r, "listbox", "Skills", line, sizeof(line));
	cr_assert(strstr(line, "value=\"Python\""), "%s", line);
	id_of(line, id, sizeof(id));
	json_object_array_add(want, json_object_new_string("Python"));
	json_object_array_add(want, json_object_new_string("Go"));
	cr_assert_eq(scrape_locate_op(br.ses, &r, id, "select", want, &el, &v), SX_OK, "%s",
		     webdriver_last_error(br.ses));
	cr_assert(json_object_object_get_ex(v, "click", &click) && json_object_array_length(click) == 1,
		  "%s", json_object_to_json_string(v));
	cr_assert_eq(webdriver_element_click(br.ses, webdriver_element_id(json_object_array_get_idx(click, 0))),
		     SX_OK);
	free(el);
	json_object_put(v);
	cr_assert_eq(scrape_locate_op(br.ses, &r, id, "selection", NULL, &el, &v), SX_OK);
	cr_assert_str_eq(json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN), "[\"Python\",\"Go\"]");
	free(el);
	json_object_put(v);
	json_object_put(want);
	scrape_release(&r);
}

Test(scrape, password_values_are_masked)
{
	struct scrape_result a, b;
	char line[2048];

	load("modal/index.html");
	scrape(&a);
	click(&a, "button", "Accept");
	scrape_release(&a);
	scrape(&a);
	type_into(&a, "input:password", "Password", "hunter2-Secret!");
	scrape(&b);
	need_line(&b, "input:password", "Password", line, sizeof(line));
	cr_assert(strstr(line, "value=\"\xe2\x80\xa2\xe2\x80\xa2\xe2\x80\xa2\xe2\x80\xa2\""), "%s", line);
	cr_assert_null(strstr(b.elements, "hunter2"), "%s", b.elements);
	cr_assert_null(strstr(b.text, "hunter2"), "%s", b.text);
	scrape_release(&a);
	scrape_release(&b);
}

Test(scrape, wizard_radio_checkbox_and_date)
{
	struct scrape_result r;
	char line[2048];

	load("wizard/index.html");
	scrape(&r);
	need_line(&r, "input:date", "Date of birth", line, sizeof(line));
	need_line(&r, "select", "State", line, sizeof(line));
	cr_assert(strstr(line, "\"California\""), "%s", line);
	scrape_release(&r);

	load("wizard/vehicle.html?name=Ann&dob=1990-04-02&state=OR");
	scrape(&r);
	need_line(&r, "radio", "Personal use", line, sizeof(line));
	cr_assert(strstr(line, " unchecked group=\"How is the vehicle used?\""), "%s", line);
	need_line(&r, "radio", "Business use", line, sizeof(line));
	need_line(&r, "checkbox", "The car is kept in a garage overnight", line, sizeof(line));
	need_line(&r, "select", "Vehicle year", line, sizeof(line));
	scrape_release(&r);

	load("wizard/quote.html?name=Ann");
	scrape(&r);
	cr_assert(strstr(r.text, "Your quote: $123.45/month"), "%s", r.text);
	scrape_release(&r);

	load("job/thanks.html?full_name=Chris+P.+Bacon&email=chris%40pbacon.com");
	scrape(&r);
	cr_assert(strstr(r.text, "Application submitted! Thank you, Chris P. Bacon"), "%s", r.text);
	scrape_release(&r);
}

Test(scrape, big_page_is_capped)
{
	struct scrape_result r;
	char line[2048];
	const char *last, *note;
	regex_t cut_note;
	size_t len;

	load("big/index.html");
	scrape(&r);
	len = strlen(r.elements);
	cr_assert_leq(len, SCRAPE_MAX_ELEMENTS_BYTES);
	cr_assert(r.truncated);
	cr_assert_lt(r.nelements, 3000);
	cr_assert_gt(r.nelements, 20);
	/* Form fields far below the viewport are kept over links. */
	need_line(&r, "input:email", "Email for the briefing", line, sizeof(line));
	need_line(&r, "input:text", "ZIP code", line, sizeof(line));
	/* The first links (in the viewport) are kept, the last ones are not. */
	need_line(&r, "link", "Housing: city council report, part 1", line, sizeof(line));
	cr_assert_not(find_line(r.elements, "link", "Markets: city council report, part 3000",
				line, sizeof(line)));
	cr_assert(len > 0 && r.elements[len - 1] == '\n');
	for (last = r.elements + len - 1; last > r.elements && last[-1] != '\n'; last--)
		;
	cr_assert(strncmp(last, "\xe2\x80\xa6 ", 4) == 0, "last line: %s", last);
	cr_assert(strstr(last, "more links") && strstr(last, "not shown"), "last line: %s", last);
	cr_assert_eq(check_format(r.elements), r.nelements);
	cr_assert_leq(strlen(r.text), SCRAPE_MAX_TEXT_BYTES);
	/* The text was cut once (by the script or by scrape.c), and says so in one last line. */
	note = strstr(r.text, "\n\xe2\x80\xa6 ");
	cr_assert_not_null(note, "no cut note in the page text");
	cr_assert_eq(regcomp(&cut_note, "^\n\xe2\x80\xa6 [1-9][0-9]* more characters of page text not shown$",
			     REG_EXTENDED | REG_NOSUB), 0);
	cr_assert_eq(regexec(&cut_note, note, 0, NULL, 0), 0, "cut note: %s", note);
	regfree(&cut_note);
	scrape_release(&r);
}

Test(scrape, locate_unknown_id_is_not_found)
{
	struct scrape_result r;
	char *el = NULL;

	load("product/index.html");
	scrape(&r);
	cr_assert_eq(scrape_locate(br.ses, &r, "e9999", &el), SX_ENOTFOUND);
	cr_assert_null(el);
	cr_assert_eq(scrape_locate(br.ses, &r, "\"];alert(1)//", &el), SX_ENOTFOUND);
	cr_assert_eq(scrape_locate(br.ses, NULL, "e1", &el), SX_ENOTFOUND);
	cr_assert(strstr(r.text, "$39.95") && strstr(r.text, "In stock"), "%s", r.text);
	cr_assert(strstr(r.text, "10 oz (300 ml)"), "%s", r.text);
	scrape_release(&r);
}

/* The benchmark's figures: element-list bytes and scrape time per fixture. */
Test(scrape, element_list_size_per_fixture)
{
	static const struct { const char *page; bool form; } pages[] = {
		{"job/index.html", true},
		{"wizard/index.html", true},
		{"wizard/vehicle.html", true},
		{"wizard/review.html?name=Ann", true},
		{"product/index.html", false},
		{"shadow/index.html", true},
		{"modal/index.html", true},
		{"never/index.html", true},
		{"big/index.html", false},
	};

	for (size_t i = 0; i < SX_ARRAY_LEN(pages); i++) {
		struct scrape_result r;
		struct timespec t0, t1;
		size_t bytes;
		double ms;

		load(pages[i].page);
		clock_gettime(CLOCK_MONOTONIC, &t0);
		scrape(&r);
		clock_gettime(CLOCK_MONOTONIC, &t1);
		ms = (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6;
		bytes = strlen(r.elements);
		cr_log_info("scrape page=%s elements=%zu bytes=%zu tokens~%zu text_bytes=%zu ms=%.0f",
			    pages[i].page, r.nelements, bytes, bytes / 4, strlen(r.text), ms);
		cr_assert_gt(r.nelements, 0, "%s lists nothing", pages[i].page);
		cr_assert_leq(bytes, SCRAPE_MAX_ELEMENTS_BYTES);
		if (pages[i].form)
			cr_assert_leq(bytes, FORM_FIXTURE_AIM, "%s: %zu bytes", pages[i].page, bytes);
		check_format(r.elements);
		scrape_release(&r);
	}
}
