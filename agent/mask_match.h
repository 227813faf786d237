#ifndef SX_MASK_MATCH_H
#define SX_MASK_MATCH_H
/*
 * Finding one secret in its encoded forms (mask.h): read from a position
 * of the text through 0 to MASK_JSON_DEPTH layers of JSON-string escapes
 * and, optionally, a layer of URL percent-encoding on top, the bytes equal
 * the secret's.
 */
#include "sx.h"

/*
 * The end (exclusive) of the longest encoded form of secret s (slen bytes)
 * that starts at text[pos] and ends on the boundary of an escape; 0 when
 * there is none.
 */
size_t mask_match_at(const char *text, size_t len, size_t pos, const char *s, size_t slen);
#endif
