#ifndef SX_FUZZ_H
#define SX_FUZZ_H
/*
 * What the libFuzzer targets under tests/fuzz/ share: the entry points
 * libFuzzer calls, and a check that aborts with a message so that a broken
 * invariant is recorded as a crash (with its input) like a sanitizer report.
 * Each fuzz_<target>.c says at its top what it checks beyond "no crash".
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include "sx.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

#define FUZZ_CHECK(cond, ...)                                                   \
	do {                                                                    \
		if (!(cond)) {                                                  \
			fprintf(stderr, "fuzz invariant failed: %s: ", #cond);  \
			fprintf(stderr, __VA_ARGS__);                           \
			fputc('\n', stderr);                                    \
			abort();                                                \
		}                                                               \
	} while (0)

/*
 * The bytes of data before the first '\n' as a string (*line, caller frees)
 * and a pointer to what follows it (*rest, *restlen); without a '\n' the
 * line is all of data and rest is empty.  A NUL in the line ends it early,
 * as it would for the C string the product receives.
 */
void fuzz_first_line(const uint8_t *data, size_t size, char **line,
		     const uint8_t **rest, size_t *restlen);

/*
 * True when text[0..len) is one JSON value by RFC 8259 and nothing else
 * (blanks around it allowed): the number grammar, string escapes with no
 * lone surrogate, no control characters in strings, valid UTF-8.  Written
 * independently of json-c so that it can judge what json-c emits, the way
 * a strict client (Python's json) would.
 */
bool fuzz_json_valid(const char *text, size_t len);
#endif
