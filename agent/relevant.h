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
 * A new string (caller frees): text without the lines that only repeat the
 * label of an element in elements (the scraper's "[e1] kind \"label\"" lines),
 * and without runs of blank lines.  The element list already shows those
 * labels, with the ids the model needs; the rest of the text is what it adds.
 */
char *relevant_unlisted(const char *text, const char *elements);

#endif
