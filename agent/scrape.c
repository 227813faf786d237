/*
 * The page scraper's C half: runs scrape.js (compiled in as scrape_js[]) in
 * the page and in each frame the script could not enter itself, and turns
 * its JSON into the prompt's element lines (the exact format documented in
 * scrape.h), the visible text, a fingerprint and an id index.
 *
 * Frames: scrape.js walks same-origin iframes itself.  Frames it cannot
 * enter (cross-origin ones, and every file:// frame, since Chromium gives
 * file: documents opaque origins) come back as frame paths; they are
 * entered here with WebDriver frame switches and scraped separately, up to
 * SCRAPE_MAX_FRAMES of them, SCRAPE_MAX_DEPTH deep.  Their elements follow
 * the top document's in the list.  A frame that cannot be entered or
 * scraped is skipped with a warning rather than failing the whole scrape.
 *
 * Everything the script returns is page-controlled (a page may redefine
 * JSON.stringify or Array methods), so ids and kinds are checked against a
 * strict character set and every string is escaped before it reaches a
 * line.
 */
#include "sx.h"
#include "buf.h"
#include "crypto.h"
#include "json.h"
#include "log.h"
#include "scrape.h"
#include "relevant.h"
#include "scrape_js.h"
#include "timeutil.h"
#include "webdriver.h"

/* Frames entered by frame switch per scrape, and how deep. */
#define SCRAPE_MAX_FRAMES 8
#define SCRAPE_MAX_DEPTH 4
/* Room kept at the end of a capped list for the "… N more" line. */
#define SCRAPE_TRAILER_RESERVE 200
/* One element line; scrape.js cuts labels and values well below this. */
#define SCRAPE_MAX_LINE 16384
/* The script's JSON answer for one document. */
#define SCRAPE_MAX_JSON (8u << 20)
/* Room kept at the end of a capped page text for the line saying what was cut. */
#define SCRAPE_TEXT_NOTE_RESERVE 64

/* The buckets the trailer line counts dropped elements in. */
enum scrape_bucket { B_FIELD, B_BUTTON, B_LINK, B_OTHER, B_MAX };
_Static_assert(B_MAX == SCRAPE_BUCKETS, "scrape_result.dropped has a count per bucket");
static const char *const bucket_names[B_MAX][2] = {
	{"form field", "form fields"}, {"button", "buttons"}, {"link", "links"},
	{"other element", "other elements"}
};

struct scrape_item {
	json_object *el;        /* borrowed from a document's answer */
	char *line;             /* rendered, without '\n' */
	size_t len;
	long long prio;         /* the script's rank within its document */
	size_t seq;             /* position in document (then frame) order */
	bool kept;
};

/* Everything gathered from the documents of one page, before packing. */
struct scrape_acc {
	json_object *docs;      /* array of parsed answers (owns them) */
	struct scrape_item *items;
	size_t nitems, capitems;
	size_t dropped[B_MAX];
	struct sx_buf text;
	size_t text_dropped;    /* characters of page text left out, by either half */
	bool truncated;
	long long next;         /* highest id counter seen */
};

/* An id is "e" and 1 to 9 digits: anything else came from a tampered page. */
static bool valid_id(const char *id)
{
	size_t n;

	if (!id || id[0] != 'e')
		return false;
	n = strspn(id + 1, "0123456789");
	return n >= 1 && n <= 9 && id[1 + n] == '\0';
}

/* A kind is short, lower-case letters, ':' and '-' ("input:datetime-local"). */
static bool valid_kind(const char *k)
{
	size_t n;

	if (!k)
		return false;
	n = strspn(k, "abcdefghijklmnopqrstuvwxyz:-");
	return n >= 1 && n <= 32 && k[n] == '\0';
}

/* A frame path is an array of at most SCRAPE_MAX_DEPTH small non-negative ints. */
static bool valid_path(json_object *p)
{
	size_t n;

	if (!p || !json_object_is_type(p, json_type_array))
		return false;
	n = json_object_array_length(p);
	if (n > SCRAPE_MAX_DEPTH)
		return false;
	for (size_t i = 0; i < n; i++) {
		json_object *v = json_object_array_get_idx(p, i);

		if (!json_object_is_type(v, json_type_int) || json_object_get_int64(v) < 0 ||
		    json_object_get_int64(v) > 10000)
			return false;
	}
	return true;
}

static enum scrape_bucket bucket_of(const char *kind)
{
	if (strcmp(kind, "link") == 0)
		return B_LINK;
	if (strcmp(kind, "button") == 0)
		return B_BUTTON;
	if (strcmp(kind, "clickable") == 0 || strcmp(kind, "option") == 0 ||
	    strcmp(kind, "menuitem") == 0 || strcmp(kind, "tab") == 0)
		return B_OTHER;
	return B_FIELD;
}

static enum scrape_bucket bucket_by_name(const char *name)
{
	if (strcmp(name, "link") == 0)
		return B_LINK;
	if (strcmp(name, "button") == 0)
		return B_BUTTON;
	if (strcmp(name, "field") == 0)
		return B_FIELD;
	return B_OTHER;
}

/*
 * Appends s as a double-quoted string: '"' and '\' are escaped with '\',
 * control characters become spaces, so a line never breaks.
 */
static enum sx_rc put_quoted(struct sx_buf *b, const char *s)
{
	enum sx_rc rc = sx_buf_putc(b, '"');

	for (const char *p = s ? s : ""; !rc && *p; p++) {
		unsigned char c = (unsigned char)*p;

		if (c == '"' || c == '\\') {
			rc = sx_buf_putc(b, '\\');
			if (!rc)
				rc = sx_buf_putc(b, (char)c);
		} else {
			rc = sx_buf_putc(b, c < 0x20 || c == 0x7f ? ' ' : (char)c);
		}
	}
	if (!rc)
		rc = sx_buf_putc(b, '"');
	return rc;
}

/* Appends ` key="value"` when value is a non-empty string. */
static enum sx_rc put_attr(struct sx_buf *b, const char *key, const char *value)
{
	enum sx_rc rc = SX_OK;

	if (!value || !*value)
		goto out;
	rc = sx_buf_printf(b, " %s=", key);
	if (!rc)
		rc = put_quoted(b, value);
out:
	return rc;
}

/* Appends ` options=["a","b"]` and ` +N more` for a select's options. */
static enum sx_rc put_options(struct sx_buf *b, json_object *el)
{
	enum sx_rc rc = SX_OK;
	json_object *opts;
	long long more = sx_json_int(el, "more", 0);

	if (!json_object_object_get_ex(el, "options", &opts) ||
	    !json_object_is_type(opts, json_type_array))
		goto out;
	rc = sx_buf_puts(b, " options=[");
	for (size_t i = 0; !rc && i < json_object_array_length(opts); i++) {
		json_object *o = json_object_array_get_idx(opts, i);

		if (i)
			rc = sx_buf_putc(b, ',');
		if (!rc)
			rc = put_quoted(b, json_object_get_string(o));
	}
	if (!rc)
		rc = sx_buf_putc(b, ']');
	if (!rc && more > 0)
		rc = sx_buf_printf(b, " +%lld more", more);
out:
	return rc;
}

/*
 * Renders one element as its prompt line (scrape.h):
 *   [ID] KIND "LABEL" row="…"|in="…" value="…" options=[…] checked|unchecked
 *        group="…" selected href="…" multiple required disabled readonly covered
 */
static enum sx_rc render_line(json_object *el, struct sx_buf *b)
{
	static const char *const flags[] = {
		"selected", "multiple", "required", "disabled", "readonly", "covered"
	};
	enum sx_rc rc;

	rc = sx_buf_printf(b, "[%s] %s ", sx_json_string(el, "id"), sx_json_string(el, "kind"));
	if (!rc)
		rc = put_quoted(b, sx_json_string(el, "label"));
	if (!rc)
		rc = put_attr(b, "row", sx_json_string(el, "row"));
	if (!rc)
		rc = put_attr(b, "in", sx_json_string(el, "in"));
	if (!rc)
		rc = put_attr(b, "value", sx_json_string(el, "value"));
	if (!rc)
		rc = put_options(b, el);
	if (!rc && sx_json_member(el, "checked"))
		rc = sx_buf_puts(b, sx_json_bool(el, "checked") ? " checked" : " unchecked");
	if (!rc)
		rc = put_attr(b, "group", sx_json_string(el, "group"));
	if (!rc)
		rc = put_attr(b, "href", sx_json_string(el, "href"));
	for (size_t i = 0; !rc && i < SX_ARRAY_LEN(flags); i++)
		if (sx_json_bool(el, flags[i]))
			rc = sx_buf_printf(b, " %s", flags[i]);
	return rc;
}

/* Runs script with one options object (consumed); *out is the script's value (caller puts). */
static enum sx_rc run_script(struct webdriver_session *s, const char *script, json_object *opts,
			     json_object **out)
{
	enum sx_rc rc;
	json_object *args = json_object_new_array();

	json_object_array_add(args, opts);
	rc = webdriver_execute(s, script, args, out);
	json_object_put(args);
	return rc;
}

/* Runs scrape.js with one options object (consumed). */
static enum sx_rc run_js(struct webdriver_session *s, json_object *opts, json_object **out)
{
	return run_script(s, scrape_js, opts, out);
}

/*
 * Switches to the top document (no command when the session is there
 * already), then down the frame path, finding each frame by its index in
 * walk.js's tree walk with the small locate.js.  SX_ENOTFOUND when a frame
 * is gone.
 */
static enum sx_rc enter_frame_path(struct webdriver_session *s, json_object *path)
{
	enum sx_rc rc;
	size_t n = path ? json_object_array_length(path) : 0;

	rc = webdriver_switch_frame(s, NULL);
	for (size_t i = 0; !rc && i < n; i++) {
		json_object *opts = json_object_new_object();
		json_object *ref = NULL;
		const char *fid;

		json_object_object_add(opts, "op", json_object_new_string("frame"));
		json_object_object_add(opts, "index",
				       json_object_get(json_object_array_get_idx(path, i)));
		rc = run_script(s, locate_js, opts, &ref);
		fid = rc ? NULL : webdriver_element_id(ref);
		if (!rc && !fid)
			rc = SX_ENOTFOUND;
		if (!rc)
			rc = webdriver_switch_frame(s, fid);
		json_object_put(ref);
	}
	return rc;
}

/*
 * Scrapes the current document (the top one, or the frame at path) and
 * returns the parsed answer in *doc (caller puts).  The script answers a
 * JSON string so the page's objects never go through WebDriver's own
 * serialization.
 */
static enum sx_rc scrape_doc(struct webdriver_session *s, json_object *path, long long next,
			     json_object **doc)
{
	enum sx_rc rc;
	json_object *opts = json_object_new_object();
	json_object *v = NULL;
	json_tokener *tok = NULL;
	const char *str;
	size_t len;

	*doc = NULL;
	json_object_object_add(opts, "maxElementsBytes",
			       json_object_new_int(SCRAPE_MAX_ELEMENTS_BYTES));
	json_object_object_add(opts, "maxTextBytes", json_object_new_int(SCRAPE_MAX_TEXT_BYTES));
	json_object_object_add(opts, "next", json_object_new_int64(next));
	json_object_object_add(opts, "path", path ? json_object_get(path) : json_object_new_array());
	rc = run_js(s, opts, &v);
	if (rc)
		goto out;
	if (!v || !json_object_is_type(v, json_type_string)) {
		log_warn("scrape", "msg=\"scraper answered no JSON string\"");
		rc = SX_EPARSE;
		goto out;
	}
	str = json_object_get_string(v);
	len = (size_t)json_object_get_string_len(v);
	if (len > SCRAPE_MAX_JSON) {
		log_warn("scrape", "msg=\"scraper answer over its cap\" bytes=%zu", len);
		rc = SX_ETOOBIG;
		goto out;
	}
	tok = json_tokener_new();
	*doc = json_tokener_parse_ex(tok, str, (int)len);
	if (!*doc || json_tokener_get_error(tok) != json_tokener_success ||
	    !json_object_is_type(*doc, json_type_object)) {
		log_warn("scrape", "msg=\"scraper answer is not a JSON object\"");
		json_object_put(*doc);
		*doc = NULL;
		rc = SX_EPARSE;
	}
out:
	if (tok)
		json_tokener_free(tok);
	json_object_put(v);
	return rc;
}

static void acc_init(struct scrape_acc *a)
{
	memset(a, 0, sizeof(*a));
	a->docs = json_object_new_array();
	sx_buf_init(&a->text, SCRAPE_MAX_TEXT_BYTES + 1);
}

static void acc_release(struct scrape_acc *a)
{
	for (size_t i = 0; i < a->nitems; i++)
		free(a->items[i].line);
	free(a->items);
	sx_buf_release(&a->text);
	json_object_put(a->docs);
	memset(a, 0, sizeof(*a));
}

/* The UTF-8 characters in t[0..n): every byte that does not continue one. */
static size_t utf8_chars(const char *t, size_t n)
{
	size_t c = 0;

	for (size_t i = 0; i < n; i++)
		c += ((unsigned char)t[i] & 0xC0) != 0x80;
	return c;
}

/*
 * Appends one document's text to the page text, cutting at the cap (less
 * room for the line that says what was cut) on a UTF-8 character boundary.
 * script_dropped is what scrape.js already left out of that text, in
 * characters.  Either cut marks the result truncated and adds to the
 * characters left out, which acc_text_note reports in one line: the
 * script never writes that line itself, so the page text has one note
 * with one total.
 */
static void acc_text(struct scrape_acc *a, const char *t, size_t script_dropped)
{
	size_t room, n, cap = SCRAPE_MAX_TEXT_BYTES - SCRAPE_TEXT_NOTE_RESERVE;

	if (script_dropped) {
		a->text_dropped += script_dropped;
		a->truncated = true;
	}
	if (!t || !*t)
		return;
	if (a->text.len && a->text.len < cap)
		(void)sx_buf_putc(&a->text, '\n');
	room = a->text.len < cap ? cap - a->text.len : 0;
	n = strlen(t);
	if (n > room) {
		size_t keep = room;

		while (keep > 0 && ((unsigned char)t[keep] & 0xC0) == 0x80)
			keep--;
		a->text_dropped += utf8_chars(t + keep, n - keep);
		n = keep;
		a->truncated = true;
	}
	(void)sx_buf_append(&a->text, t, n);
}

/* Ends a page text that was cut with the line that says how much was left out. */
static void acc_text_note(struct scrape_acc *a)
{
	if (a->text_dropped)
		(void)sx_buf_printf(&a->text, "\n\xe2\x80\xa6 %zu more characters of page text not shown",
				    a->text_dropped);
}

/*
 * Takes one document's answer into the accumulator: renders its valid
 * elements, adds its text and dropped counts, and queues the frames it
 * could not enter into opaque (an array of paths).
 */
static void acc_doc(struct scrape_acc *a, json_object *doc, json_object *opaque)
{
	json_object *els, *dropped, *op;
	struct sx_buf line;
	long long td;

	json_object_array_add(a->docs, json_object_get(doc));
	if (sx_json_bool(doc, "truncated"))
		a->truncated = true;
	if (sx_json_int(doc, "next", 0) > a->next)
		a->next = sx_json_int(doc, "next", 0);
	td = sx_json_int(doc, "textDropped", 0);
	acc_text(a, sx_json_string(doc, "text"), td > 0 && td < (1LL << 40) ? (size_t)td : 0);
	if (json_object_object_get_ex(doc, "dropped", &dropped) &&
	    json_object_is_type(dropped, json_type_object)) {
		json_object_object_foreach(dropped, key, val) {
			long long n = json_object_get_int64(val);

			if (n > 0 && n < 1000000)
				a->dropped[bucket_by_name(key)] += (size_t)n;
		}
	}
	if (opaque && json_object_object_get_ex(doc, "opaque", &op) &&
	    json_object_is_type(op, json_type_array)) {
		for (size_t i = 0; i < json_object_array_length(op); i++) {
			json_object *p = json_object_array_get_idx(op, i);

			if (valid_path(p) && json_object_array_length(p) > 0)
				json_object_array_add(opaque, json_object_get(p));
		}
	}
	if (!json_object_object_get_ex(doc, "elements", &els) ||
	    !json_object_is_type(els, json_type_array))
		return;
	sx_buf_init(&line, SCRAPE_MAX_LINE);
	for (size_t i = 0; i < json_object_array_length(els); i++) {
		json_object *el = json_object_array_get_idx(els, i);
		json_object *path;
		struct scrape_item *it;

		if (!json_object_is_type(el, json_type_object) || !valid_id(sx_json_string(el, "id")) ||
		    !valid_kind(sx_json_string(el, "kind")) || !json_object_object_get_ex(el, "frame", &path) ||
		    !valid_path(path))
			continue;
		sx_buf_reset(&line);
		if (render_line(el, &line)) {
			a->dropped[bucket_of(sx_json_string(el, "kind"))]++;
			continue;
		}
		if (a->nitems == a->capitems) {
			a->capitems = a->capitems ? 2 * a->capitems : 64;
			a->items = xrealloc(a->items, a->capitems * sizeof(*a->items));
		}
		it = &a->items[a->nitems];
		it->el = el;
		it->seq = a->nitems;
		it->prio = sx_json_int(el, "p", 1000000);
		it->line = sx_buf_detach(&line, &it->len);
		it->kept = false;
		a->nitems++;
	}
	sx_buf_release(&line);
}

static int cmp_prio(const void *x, const void *y)
{
	const struct scrape_item *const *a = x, *const *b = y;

	if ((*a)->prio != (*b)->prio)
		return (*a)->prio < (*b)->prio ? -1 : 1;
	return (*a)->seq < (*b)->seq ? -1 : (*a)->seq > (*b)->seq;
}

/*
 * Chooses the lines that fit SCRAPE_MAX_ELEMENTS_BYTES.  When everything
 * fits and the script dropped nothing, all are kept.  Otherwise lines are
 * taken in the script's rank order (form fields, then buttons and what is in
 * the viewport, then the rest by distance) until the first one that would
 * not fit in the cap less room for the trailer line; that one and all after
 * it are counted as dropped, so a short far-away link never displaces a
 * nearer one.
 */
static void acc_pack(struct scrape_acc *a)
{
	struct scrape_item **order = NULL;
	size_t total = 0, used = 0;
	bool any_dropped = false, full = false;

	for (size_t i = 0; i < B_MAX; i++)
		any_dropped = any_dropped || a->dropped[i];
	for (size_t i = 0; i < a->nitems; i++)
		total += a->items[i].len + 1;
	if (!any_dropped && total <= SCRAPE_MAX_ELEMENTS_BYTES) {
		for (size_t i = 0; i < a->nitems; i++)
			a->items[i].kept = true;
		return;
	}
	order = xcalloc(a->nitems ? a->nitems : 1, sizeof(*order));
	for (size_t i = 0; i < a->nitems; i++)
		order[i] = &a->items[i];
	qsort(order, a->nitems, sizeof(*order), cmp_prio);
	for (size_t i = 0; i < a->nitems; i++) {
		struct scrape_item *it = order[i];

		if (!full && used + it->len + 1 <= SCRAPE_MAX_ELEMENTS_BYTES - SCRAPE_TRAILER_RESERVE) {
			it->kept = true;
			used += it->len + 1;
		} else {
			full = true;
			a->dropped[bucket_of(sx_json_string(it->el, "kind"))]++;
		}
	}
	free(order);
}

/* Appends the last line, e.g. "… 2603 more links, 2 more buttons not shown (…)". */
static enum sx_rc put_trailer(struct sx_buf *b, const size_t dropped[B_MAX])
{
	enum sx_rc rc = SX_OK;
	bool first = true;

	for (size_t i = 0; !rc && i < B_MAX; i++) {
		if (!dropped[i])
			continue;
		rc = sx_buf_printf(b, "%s%zu more %s", first ? "\xe2\x80\xa6 " : ", ",
				   dropped[i], bucket_names[i][dropped[i] != 1]);
		first = false;
	}
	if (!rc && !first)
		rc = sx_buf_puts(b, " not shown (scroll to reach them)\n");
	return rc;
}

/* SHA-256 of the URL and the element lines, as 64 hex digits (caller frees). */
static char *fingerprint(const char *url, const char *elements)
{
	char *text = xasprintf("%s\n%s", url, elements);
	char *hex = xmalloc(CRYPTO_SHA256_HEX);

	crypto_sha256_hex(text, strlen(text), hex);
	free(text);
	return hex;
}

/* Adds to an index entry the context that tells the element apart (its row, or what it is in). */
static void index_context(json_object *entry, json_object *el)
{
	const char *row = sx_json_string(el, "row"), *in = sx_json_string(el, "in");

	if (row || in)
		json_object_object_add(entry, "context", json_object_new_string(row ? row : in));
}

/*
 * Adds what replay's fingerprints read besides frame, kind and label
 * (agent/trace.h) to an index entry: the element's name and id attributes
 * and a radio's or checkbox's group, "" when absent.  The script's values
 * are page-controlled: only strings are kept.
 */
static void index_attrs(json_object *entry, json_object *el)
{
	static const char *const keys[] = { "name", "dom_id", "group" };

	for (size_t i = 0; i < SX_ARRAY_LEN(keys); i++) {
		const char *v = sx_json_string(el, keys[i]);

		json_object_object_add(entry, keys[i], json_object_new_string(v ? v : ""));
	}
}

/*
 * Fills out from the accumulated documents: the kept lines in document
 * order, then the trailer; the index of the kept ids; text, flags and the
 * fingerprint.
 */
static enum sx_rc acc_finish(struct scrape_acc *a, struct scrape_result *out)
{
	enum sx_rc rc = SX_OK;
	struct sx_buf lines;
	bool dropped = false;

	/* The trailer may use the reserve; the cap itself is never passed. */
	sx_buf_init(&lines, SCRAPE_MAX_ELEMENTS_BYTES);
	out->index = json_object_new_object();
	for (size_t i = 0; !rc && i < a->nitems; i++) {
		struct scrape_item *it = &a->items[i];
		json_object *entry, *path;
		const char *id = sx_json_string(it->el, "id");

		if (!it->kept)
			continue;
		if (json_object_object_get_ex(out->index, id, NULL)) {
			/* Two frames claim one id (a page copied our attribute): keep the first. */
			a->dropped[bucket_of(sx_json_string(it->el, "kind"))]++;
			continue;
		}
		rc = sx_buf_append(&lines, it->line, it->len);
		if (!rc)
			rc = sx_buf_putc(&lines, '\n');
		if (rc)
			break;
		entry = json_object_new_object();
		json_object_object_get_ex(it->el, "frame", &path);
		json_object_object_add(entry, "frame", json_object_get(path));
		json_object_object_add(entry, "kind", json_object_new_string(sx_json_string(it->el, "kind")));
		json_object_object_add(entry, "label",
				       json_object_new_string(sx_json_string(it->el, "label") ? sx_json_string(it->el, "label") : ""));
		if (sx_json_bool(it->el, "far"))
			json_object_object_add(entry, "far", json_object_new_int64(it->prio));
		index_context(entry, it->el);
		index_attrs(entry, it->el);
		json_object_object_add(out->index, id, entry);
		out->nelements++;
	}
	for (size_t i = 0; i < B_MAX; i++)
		dropped = dropped || a->dropped[i];
	if (!rc)
		rc = put_trailer(&lines, a->dropped);
	if (rc) {
		/* Cannot happen: acc_pack left room.  Say so rather than send a cut list. */
		log_error("scrape", "msg=\"element list over its cap\" bytes=%zu", lines.len);
		goto out;
	}
	memcpy(out->dropped, a->dropped, sizeof(out->dropped));
	out->truncated = a->truncated || dropped;
	acc_text_note(a);
	out->elements = sx_buf_detach(&lines, NULL);
	out->text = sx_buf_detach(&a->text, NULL);
	out->fingerprint = fingerprint(out->url, out->elements);
out:
	sx_buf_release(&lines);
	return rc;
}

/*
 * Scrapes every frame the top document's script could not enter, breadth
 * first, each with the id counter raised past every id given so far.
 * Frames that fail are skipped with a warning; a dead session is not.
 */
static enum sx_rc scrape_opaque_frames(struct webdriver_session *s, struct scrape_acc *a,
				       json_object *queue)
{
	enum sx_rc rc = SX_OK;
	size_t i;

	for (i = 0; i < json_object_array_length(queue) && i < SCRAPE_MAX_FRAMES; i++) {
		json_object *path = json_object_array_get_idx(queue, i);
		json_object *doc = NULL;
		enum sx_rc frc;

		frc = enter_frame_path(s, path);
		if (!frc)
			frc = scrape_doc(s, path, a->next, &doc);
		if (frc == SX_ESESSION || frc == SX_ETIMEOUT) {
			rc = frc;
			break;
		}
		if (frc) {
			log_warn("scrape", "msg=\"frame skipped\" path=%s err=%s detail=%s",
				 json_object_to_json_string(path), sx_strerror(frc),
				 sx_log_quote(webdriver_last_error(s)));
			continue;
		}
		/* Nested opaque frames join the end of the queue. */
		acc_doc(a, doc, queue);
		json_object_put(doc);
	}
	if (!rc && i < json_object_array_length(queue)) {
		log_info("scrape", "msg=\"frames left unscraped\" count=%zu",
			 json_object_array_length(queue) - i);
		a->truncated = true;
	}
	return rc;
}

/*
 * Waits for the top document to settle (settle.js), at most
 * SCRAPE_SETTLE_MAX_MS, and notes the wait in out.  A page that navigates
 * away meanwhile, or a script error, only ends the wait: the scrape reads
 * whatever page is there.  A lost session is returned.
 */
static enum sx_rc settle(struct webdriver_session *s, struct scrape_result *out)
{
	json_object *opts = json_object_new_object(), *v = NULL;
	int64_t t0 = sx_mono_ms();
	enum sx_rc rc;

	json_object_object_add(opts, "quietMs", json_object_new_int(SCRAPE_SETTLE_QUIET_MS));
	json_object_object_add(opts, "maxMs", json_object_new_int(SCRAPE_SETTLE_MAX_MS));
	rc = run_script(s, settle_js, opts, &v);
	out->settle_ms = sx_mono_ms() - t0;
	out->settled = rc == SX_OK && sx_json_bool(v, "settled");
	if (rc && rc != SX_ESESSION) {
		log_debug("scrape", "msg=\"settle wait ended\" err=%s detail=%s", sx_strerror(rc),
			  sx_log_quote(webdriver_last_error(s)));
		rc = SX_OK;
	}
	json_object_put(v);
	return rc;
}

void scrape_session_prepare(struct webdriver_session *s)
{
	char *src = xasprintf("(function () {\n%s\n}).call(this, {install: true});", settle_js);

	if (webdriver_document_script(s, src) != SX_OK)
		log_debug("scrape", "msg=\"no settle tracker for new documents\" detail=%s",
			  sx_log_quote(webdriver_last_error(s)));
	free(src);
}

enum sx_rc scrape_page(struct webdriver_session *s, struct scrape_result *out)
{
	enum sx_rc rc;
	struct scrape_acc a;
	json_object *top = NULL, *queue = json_object_new_array(), *opts = NULL, *v = NULL;

	memset(out, 0, sizeof(*out));
	acc_init(&a);
	rc = webdriver_switch_frame(s, NULL);
	if (!rc)
		rc = settle(s, out);
	if (!rc)
		rc = scrape_doc(s, NULL, 1, &top);
	if (rc)
		goto out;
	out->url = xstrdup(sx_json_string(top, "url") ? sx_json_string(top, "url") : "");
	out->title = xstrdup(sx_json_string(top, "title") ? sx_json_string(top, "title") : "");
	acc_doc(&a, top, queue);
	if (json_object_array_length(queue) > 0) {
		rc = scrape_opaque_frames(s, &a, queue);
		/* Back on top, the counter moves past the frames' ids for the next scrape. */
		if (!rc)
			rc = webdriver_switch_frame(s, NULL);
		if (!rc) {
			opts = json_object_new_object();
			json_object_object_add(opts, "op", json_object_new_string("next"));
			json_object_object_add(opts, "next", json_object_new_int64(a.next));
			rc = run_js(s, opts, &v);
		}
		if (rc)
			goto out;
	}
	acc_pack(&a);
	rc = acc_finish(&a, out);
out:
	if (rc) {
		log_warn("scrape", "msg=\"scrape failed\" err=%s detail=%s", sx_strerror(rc),
			 sx_log_quote(webdriver_last_error(s)));
		scrape_release(out);
	}
	json_object_put(v);
	json_object_put(top);
	json_object_put(queue);
	acc_release(&a);
	return rc;
}

void scrape_release(struct scrape_result *r)
{
	if (!r)
		return;
	free(r->url);
	free(r->title);
	free(r->elements);
	free(r->text);
	free(r->fingerprint);
	json_object_put(r->index);
	memset(r, 0, sizeof(*r));
}

enum sx_rc scrape_locate_op(struct webdriver_session *s, const struct scrape_result *last, const char *id,
			    const char *op, json_object *arg, char **element_id, json_object **value)
{
	enum sx_rc rc = SX_ENOTFOUND;
	json_object *entry, *path, *opts = NULL, *found = NULL;
	const char *eid;

	*element_id = NULL;
	if (value)
		*value = NULL;
	if (!last || !last->index || !valid_id(id) ||
	    !json_object_object_get_ex(last->index, id, &entry) ||
	    !json_object_object_get_ex(entry, "frame", &path))
		goto out;
	rc = enter_frame_path(s, path);
	if (rc)
		goto out;
	opts = json_object_new_object();
	json_object_object_add(opts, "op", json_object_new_string(op));
	json_object_object_add(opts, "id", json_object_new_string(id));
	if (arg)
		json_object_object_add(opts, "arg", json_object_get(arg));
	rc = run_script(s, locate_js, opts, &found);
	if (rc)
		goto out;
	/* [element, value], or null when the element is gone. */
	eid = json_object_is_type(found, json_type_array) && json_object_array_length(found) == 2 ?
	      webdriver_element_id(json_object_array_get_idx(found, 0)) : NULL;
	if (!eid) {
		rc = SX_ENOTFOUND;
		goto out;
	}
	*element_id = xstrdup(eid);
	if (value)
		*value = json_object_get(json_object_array_get_idx(found, 1));
out:
	if (rc == SX_ENOTFOUND)
		log_debug("scrape", "msg=\"element not found\" id=%s", sx_log_quote(id ? id : ""));
	json_object_put(found);
	return rc;
}

enum sx_rc scrape_locate(struct webdriver_session *s, const struct scrape_result *last,
			 const char *id, char **element_id)
{
	return scrape_locate_op(s, last, id, "find", NULL, element_id, NULL);
}

/* ---- the decide prompt's element list ------------------------------------ */

/* One far element line of a brief list. */
struct brief_line {
	const char *at;
	size_t len;
	long long far;          /* the scraper's rank: nearer to the viewport first */
	int score;              /* how much it bears on the goal */
	bool keep;
};

static int cmp_brief(const void *x, const void *y)
{
	const struct brief_line *const *a = x, *const *b = y;

	if ((*a)->score != (*b)->score)
		return (*a)->score > (*b)->score ? -1 : 1;
	return (*a)->far < (*b)->far ? -1 : (*a)->far > (*b)->far;
}

/* The "far" rank of the element line at p (its id looked up in the index), or -1 when it is near. */
static long long line_far(const struct scrape_result *page, const char *p, size_t len)
{
	char id[16];
	const char *close = memchr(p, ']', len);
	json_object *entry, *far;

	if (p[0] != '[' || !close || close - p - 1 >= (ptrdiff_t)sizeof(id))
		return -1;
	snprintf(id, sizeof(id), "%.*s", (int)(close - p - 1), p + 1);
	if (!json_object_object_get_ex(page->index, id, &entry) ||
	    !json_object_object_get_ex(entry, "far", &far))
		return -1;
	return json_object_get_int64(far);
}

/* The bucket of the element line at p, from its kind (the word after "] "). */
static enum scrape_bucket line_bucket(const char *p, size_t len)
{
	const char *k = memchr(p, ']', len);
	char kind[33];

	if (!k || k + 2 >= p + len)
		return B_OTHER;
	snprintf(kind, sizeof(kind), "%.*s", (int)strcspn(k + 2, " "), k + 2);
	return bucket_of(kind);
}

char *scrape_elements_brief(const struct scrape_result *page, const char *goal)
{
	struct brief_line *far = NULL, **order = NULL;
	size_t nfar = 0, cap = 1, far_bytes = 0, used = 0, i, dropped[B_MAX];
	const char *p, *end;
	struct relevant_goal *g;
	struct sx_buf b;
	char *s;

	if (!page->elements)
		return xstrdup("");
	for (p = page->elements; *p; p++)
		cap += *p == '\n';
	far = xcalloc(cap, sizeof(*far));
	g = relevant_goal_new(goal);
	for (p = page->elements; *p; p = *end ? end + 1 : end) {
		long long rank;

		end = strchr(p, '\n');
		if (!end)
			end = p + strlen(p);
		rank = line_far(page, p, (size_t)(end - p));
		if (rank < 0)
			continue;
		far[nfar] = (struct brief_line){ p, (size_t)(end - p), rank,
						 relevant_score(g, p, (size_t)(end - p)), false };
		far_bytes += far[nfar].len + 1;
		nfar++;
	}
	relevant_goal_free(g);
	if (far_bytes <= SCRAPE_BRIEF_FAR_BYTES) {
		free(far);
		return xstrdup(page->elements);
	}
	order = xcalloc(nfar, sizeof(*order));
	for (i = 0; i < nfar; i++)
		order[i] = &far[i];
	qsort(order, nfar, sizeof(*order), cmp_brief);
	memcpy(dropped, page->dropped, sizeof(dropped));
	for (i = 0; i < nfar; i++) {
		if (used + order[i]->len + 1 <= SCRAPE_BRIEF_FAR_BYTES) {
			order[i]->keep = true;
			used += order[i]->len + 1;
		} else {
			dropped[line_bucket(order[i]->at, order[i]->len)]++;
		}
	}
	/* The kept lines in their order, then the trailer counting what is left out. */
	sx_buf_init(&b, strlen(page->elements) + 256);
	for (p = page->elements, i = 0; *p; p = *end ? end + 1 : end) {
		bool left_out = false;

		end = strchr(p, '\n');
		if (!end)
			end = p + strlen(p);
		if (i < nfar && far[i].at == p)
			left_out = !far[i++].keep;
		/* The scraper's trailer is written again below, with the far lines left out added. */
		if (left_out || strncmp(p, "\xe2\x80\xa6 ", 4) == 0)
			continue;
		sx_buf_append(&b, p, (size_t)(end - p));
		sx_buf_putc(&b, '\n');
	}
	put_trailer(&b, dropped);
	s = sx_buf_detach(&b, NULL);
	free(order);
	free(far);
	return s ? s : xstrdup("");
}
