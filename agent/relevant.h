#ifndef SX_RELEVANT_H
#define SX_RELEVANT_H
/*
 * The part of a long text that a goal asks about.  Verification and
 * extraction need the lines that mention what the goal names, not a whole
 * catalog: relevant_lines keeps a text that fits its budget as it is, and
 * otherwise keeps the page's first lines (its heading and messages), then
 * the lines that share the most words with the goal, then what still fits
 * from the start, all in page order, with a line "…" where lines were left
 * out.
 */
#include <stddef.h>

/*
 * A new string (caller frees) of at most budget bytes (plus the "…" lines'
 * few bytes) chosen from text for goal; "" for a NULL text.  Lines are cut
 * whole, never inside a UTF-8 sequence.  goal may be NULL (then the start of
 * the text is kept).
 */
char *relevant_lines(const char *text, const char *goal, size_t budget);

/*
 * A goal read once (its words and their order) for scoring many lines;
 * goal may be NULL (nothing then scores).  relevant_goal_free accepts NULL.
 */
struct relevant_goal;
struct relevant_goal *relevant_goal_new(const char *goal);
void relevant_goal_free(struct relevant_goal *g);

/*
 * How much one line (len bytes at line) bears on goal g: the goal words it
 * has, plus the weight of the run of the goal's words it holds in a row
 * when that is 2 or more; 0 when nothing.
 */
int relevant_score(const struct relevant_goal *g, const char *line, size_t len);

/*
 * relevant_lines for extraction, where the goal usually names the thing
 * whose data it wants: when some line holds a run of the goal's words that
 * names something (3 or more of its numbers and content words in a row,
 * "Summit Ridge 3 Tent"), only the page's first lines, the lines holding
 * the heaviest such run with the line before and the two after each, and
 * for every goal word still missing the line that best covers it are kept,
 * rather than filling the budget with lines that share a word or two.
 * Otherwise it is relevant_lines.  Same contract.
 */
char *relevant_data_lines(const char *text, const char *goal, size_t budget);

/*
 * A new string (caller frees): text without the lines that only repeat the
 * label of an element in elements (the scraper's "[e1] kind \"label\"" lines),
 * and without runs of blank lines.  The element list already shows those
 * labels, with the ids the model needs; the rest of the text is what it adds.
 */
char *relevant_unlisted(const char *text, const char *elements);

#endif
