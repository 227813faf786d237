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
 *   [e62] button "Delete" row="Maria Lopez"
 *   [e70] button "Add to cart" in="Trailblazer 2 Tent"
 *   [e80] listbox "Languages" value="French, German" options=["English","French","German"] multiple
 *
 * i.e. `[ID] KIND "LABEL"` then optional attributes; the label is the first
 * double-quoted string on the line (inner quotes escaped as \").  row= and
 * in= are only on elements whose label is not unique on the page: the
 * text that tells them apart (the row's first cells, the card's heading).
 *
 * Before it reads the page, scrape_page waits for it to settle (settle.js:
 * loaded, no request finishing, no DOM change and no input or click for
 * SCRAPE_SETTLE_QUIET_MS, no loading indicator), at most
 * SCRAPE_SETTLE_MAX_MS; a page already quiet that long is read at once.
 */
#include "sx.h"
#include <json-c/json.h>

struct webdriver_session;

#define SCRAPE_BUCKETS 4

struct scrape_result {
	char *url;
	char *title;
	char *elements;      /* the element lines, '\n'-separated (owned) */
	size_t nelements;
	char *text;          /* visible page text, capped (owned) */
	bool truncated;      /* the element list or text hit its cap */
	char *fingerprint;   /* a hash of URL + elements + values, for loop detection */
	json_object *index;  /* id -> {"frame":[…path…], "kind", "label", "name", "dom_id", "group",
			        "far": rank, "context": …} in document order (owned); context
			        only on elements whose label repeats */
	size_t dropped[SCRAPE_BUCKETS]; /* left out by the caps: fields, buttons, links, others */
	int64_t settle_ms;   /* how long the page was waited for before it was read */
	bool settled;        /* it settled within SCRAPE_SETTLE_MAX_MS */
};

/* The settle wait: the quiet period that counts as settled, and its bound. */
#define SCRAPE_SETTLE_QUIET_MS 200
#define SCRAPE_SETTLE_MAX_MS 1500

/* Caps: the element list and the page text, in bytes. */
#define SCRAPE_MAX_ELEMENTS_BYTES (12 * 1024)
#define SCRAPE_MAX_TEXT_BYTES (16 * 1024)

/*
 * The element list for the decide prompt.  Links and other clickables out
 * of the viewport (the index marks them "far") are kept within
 * SCRAPE_BRIEF_FAR_BYTES: first those that bear on goal (relevant_score),
 * then the nearest; the others are counted in the last line ("… 2150 more
 * links not shown (scroll to reach them)") with what the scraper left
 * out.  What the viewport shows, every form field and every button stay.
 * A list whose far lines fit is returned as it is.  A new string (caller
 * frees).
 */
#define SCRAPE_BRIEF_FAR_BYTES 2048
char *scrape_elements_brief(const struct scrape_result *page, const char *goal);

/*
 * Scrapes the current page into out.  SX_ESESSION when the browser is gone;
 * other WebDriver errors as returned.  out is released by scrape_release().
 */
enum sx_rc scrape_page(struct webdriver_session *s, struct scrape_result *out);

/*
 * Readies a new session for scrape_page: the settle wait's tracker runs in
 * every document from its start, so a page that has been quiet long enough
 * is read without waiting.  Best effort: without it (an endpoint with no
 * CDP route) the first wait on each document is the whole quiet period.
 */
void scrape_session_prepare(struct webdriver_session *s);
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
 * the field as WebDriver's Element Clear does and focus it; *value is true
 * when it is a writable text field of the top document that has the focus), "select" (scroll, then pick
 * the options arg names, a string or an array; *value is {chosen, click}
 * or {missing} or {single}, see locate.js), "set"
 * (scroll, then set the value to arg with input and change events).  arg is
 * borrowed and may be NULL; *value, when value is not NULL, is the script's
 * value (caller puts; NULL for null).  The script runs in the page: *value
 * is page-controlled, check its type.
 */
enum sx_rc scrape_locate_op(struct webdriver_session *s, const struct scrape_result *last, const char *id,
			    const char *op, json_object *arg, char **element_id, json_object **value);
#endif
