#ifndef SX_TRACE_H
#define SX_TRACE_H
/*
 * The trace of a solved task, what replay repeats (replay.h): its model,
 * kept apart from the agent loop so that every rule can be tested alone.
 *
 * A trace is JSON:
 *
 *   {"steps": [{"page": {"url": PATTERN, "title": "…", "labels": ["Email", …]},
 *               "actions": [{"action": "input_text",
 *                            "element": {"frame": [], "kind": "input:email",
 *                                        "label": "Email", "name": "email",
 *                                        "dom_id": "email", "group": "",
 *                                        "ordinal": 0, "count": 1},
 *                            "text": {"ref": "$.email"}}, …],
 *               "complete": true}, …],
 *    "evidence": {"url": PATTERN, "title": "…", "text": ["line", …]}}
 *
 * A page is named by a URL pattern (scheme, host, port and path; query and
 * fragment dropped; a path segment that holds a payload value, a number or
 * a long hex id is "*"), its title ("" when it shows a payload value: not
 * checked) and the labels of the elements its actions used.  An element is
 * named by a fingerprint that does not depend on data-sx-id: its frame
 * path, kind (the role for ARIA widgets), label, name and id attributes
 * (an id the page's framework generated, "" instead: it changes per load),
 * radio/checkbox group, and its ordinal among the elements equal in all of
 * those (with their count).  A typed or chosen value is a reference into
 * the navigation payload ({"ref": "$.a.b[0]"}) when it is one of the
 * payload's values, else a literal; a literal derived from a payload value
 * (containing one, or contained in one) cannot be replayed for another
 * payload, and a value two payload fields share has no one source: either
 * makes the run's trace unstorable, as does a one-time code entered.
 * Evidence is what the page the task completed on showed: its URL pattern,
 * title and up to TRACE_EVIDENCE_LINES lines of text that were not on the
 * page before and hold no payload value.
 */
#include "sx.h"
#include <json-c/json.h>

struct scrape_result;
struct mask;

#define TRACE_EVIDENCE_LINES 3

/*
 * The key of a task as canonical JSON: {"url" (normalized: scheme and host
 * lower-cased, default port and fragment dropped), "navigation_goal",
 * "data_extraction_goal", "schema", "payload_keys" (the sorted paths of the
 * payload's leaves: the set of keys, never the values)}.  Caller frees;
 * NULL when url is NULL.
 */
char *trace_key_json(const char *url, const char *nav_goal, const char *extract_goal, json_object *schema,
		     json_object *payload);

/* url normalized as the key has it (caller frees); NULL when it is no http(s) URL. */
char *trace_url_normalize(const char *url);

/* The URL pattern of url (see above; caller frees), or NULL when it is no http(s) URL. */
char *trace_url_pattern(const char *url, json_object *payload);

/* Whether url fits pattern: the same origin and path, "*" matching any one segment. */
bool trace_url_matches(const char *pattern, const char *url);

/*
 * The fingerprint of element id in a scrape's index (scrape.h), a new
 * object, or NULL when the index has no such element.
 */
json_object *trace_fingerprint(json_object *index, const char *id);

/*
 * The id of the one element of index that fp names: the element equal to
 * fp in frame, kind, label, name, id attribute and group, at fp's ordinal
 * among as many equals as fp counted.  NULL when none, or when the count
 * differs (the element cannot be told apart without guessing), with why
 * filled.  The id is borrowed from index.
 */
const char *trace_resolve(json_object *index, json_object *fp, char *why, size_t whylen);

/*
 * The source of value: {"ref": "$.path"} or {"literal": value}, a new
 * object; NULL with why filled when the value cannot be stored (derived
 * from a payload value, or two payload fields hold it).
 */
json_object *trace_value_source(json_object *payload, const char *value, char *why, size_t whylen);

/*
 * The value src names for payload: the payload's value at the reference
 * (caller frees), or the literal; NULL when the payload has no value there.
 */
char *trace_value_resolve(json_object *payload, json_object *src);

/*
 * Builds a run's trace step by step.  A recorder that met something it
 * cannot store (see above) is spoiled: it says why and yields no trace.
 */
struct trace_recorder {
	json_object *steps;       /* the recorded steps */
	json_object *evidence;    /* set by the step that completed */
	char *prev_text;          /* the page text of the last step recorded */
	bool spoiled;
	char why[200];
};

void trace_recorder_init(struct trace_recorder *r);
void trace_recorder_release(struct trace_recorder *r);
/* Marks r spoiled with why (the first reason is kept). */
void trace_recorder_spoil(struct trace_recorder *r, const char *why);

/*
 * Records one step: page is what it observed, actions the actions it ran
 * (as given to the browser, values unmasked) and done the actions as the
 * step recorded them, in the same order, each with its result.  Actions
 * that succeeded are kept with fingerprints and value sources; a verified
 * `complete` ends the trace with the page's evidence.
 */
void trace_record_step(struct trace_recorder *r, json_object *payload, const struct scrape_result *page,
		       json_object *actions, json_object *done);

/*
 * The trace recorded (caller puts), or NULL with r->why filled: spoiled, no
 * completed step, or it would hold a secret (mask finds one in its text).
 */
json_object *trace_recorder_take(struct trace_recorder *r, const struct mask *mask);

/*
 * Whether t, a trace read back from the database, has the shape above
 * where replay relies on it: "steps" an array of objects, each with an
 * "actions" array of objects whose "element", when present, is an object;
 * "evidence" an object whose "text" is an array of strings.  why is filled
 * when not.  Members only compared (URL patterns, labels) may hold anything.
 */
bool trace_valid(json_object *t, char *why, size_t whylen);

/* Whether the page's url and title fit a trace page or evidence object (why filled when not). */
bool trace_page_matches(json_object *want, const struct scrape_result *page, char *why, size_t whylen);

/* Whether page shows the evidence (URL, title, every text line); why filled when not. */
bool trace_evidence_matches(json_object *evidence, const struct scrape_result *page, char *why, size_t whylen);
#endif
