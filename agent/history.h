#ifndef SX_HISTORY_H
#define SX_HISTORY_H
/*
 * The history the model sees: one line per earlier action of the task with
 * its result ("step 3: click e12 -> ok"), the last HISTORY_KEEP of them,
 * secrets masked.  A resumed task rebuilds it from its completed steps.
 */
#include "sx.h"

#define HISTORY_KEEP 30

struct run;

/* Adds line (masked here) as an event of step order. */
void history_add(struct run *run, long long order, const char *line);
/* The lines, '\n'-terminated ("" when none); caller frees. */
char *history_text(const struct run *run);
#endif
