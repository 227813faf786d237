#ifndef SX_SCRAPE_H
#define SX_SCRAPE_H
/*
 * The page scraper.  scrape.js (compiled into the binary) runs in the page
 * through WebDriver "Execute Script", walks the document, open shadow roots
 * and same-origin iframes (cross-origin iframes are entered with a frame
 * switch and scraped separately), and tags every visible interactive element
 * with a short id (data-sx-id="e12").  The element list is serialized for
 * the prompt one line per element, in this exact form (the LLM test double
 * parses it):
 *
 *   [e12] input:text "Full name" value="Chris" required
 *   [e13] select "Country" value="France" options=["France","Spain"]
 *   [e14] checkbox "I agree" unchecked
 *   [e15] button "Submit application"
 *   [e16] link "Careers" href="/jobs"
 *
 * i.e. `[ID] KIND "LABEL"` then optional attributes; the label is the first
 * double-quoted string on the line (inner quotes escaped as \").
 */
#include "sx.h"
#include <json-c/json.h>

struct webdriver_session;

struct scrape_result {
	char *url;
	char *title;
	char *elements;      /* the element lines, '\n'-separated (owned) */
	size_t nelements;
	char *text;          /* visible page text, capped (owned) */
	bool truncated;      /* the element list or text hit its cap */
	char *fingerprint;   /* a hash of URL + elements + values, for loop detection */
	json_object *index;  /* id -> {"frame":[…path…], "kind", "label", "name", "dom_id", "group"}
			      * in document order (owned) */
};

/* Caps: the element list and the page text, in bytes. */
#define SCRAPE_MAX_ELEMENTS_BYTES (12 * 1024)
#define SCRAPE_MAX_TEXT_BYTES (16 * 1024)

/*
 * Scrapes the current page into out.  SX_ESESSION when the browser is gone;
 * other WebDriver errors as returned.  out is released by scrape_release().
 */
enum sx_rc scrape_page(struct webdriver_session *s, struct scrape_result *out);
void scrape_release(struct scrape_result *r);

/*
 * Finds element `id` of the last scrape again: switches into its frame and
 * returns a WebDriver element reference id (caller frees), usable with the
 * webdriver_element_* calls.  The caller switches back to the top frame afterwards
 * (webdriver_switch_frame(s, NULL)).  SX_ENOTFOUND when it is gone.
 */
enum sx_rc scrape_locate(struct webdriver_session *s, const struct scrape_result *last,
			 const char *id, char **element_id);

/*
 * scrape_locate, and in the same script call (locate.js) the preparation an
 * action needs, named by op: "find" (none), "scroll" (into view; *value is
 * the element's checked state as a boolean), "clear" (scroll, then empty
 * the field as WebDriver's Element Clear does), "select" (scroll, then pick
 * the option arg names; *value is its text, or NULL when none fits), "set"
 * (scroll, then set the value to arg with input and change events).  arg is
 * borrowed and may be NULL; *value, when value is not NULL, is the script's
 * value (caller puts; NULL for null).  The script runs in the page: *value
 * is page-controlled, check its type.
 */
enum sx_rc scrape_locate_op(struct webdriver_session *s, const struct scrape_result *last, const char *id,
			    const char *op, json_object *arg, char **element_id, json_object **value);
#endif
