#ifndef SX_ARENA_H
#define SX_ARENA_H
/*
 * A scratch arena: memory that lives for one unit of work and is freed
 * once, at its end (nginx's pools).  The agent gives every step one
 * (agent/agent_step.h), so the step's transient strings — prompts, history text,
 * masked copies, log lines — need no free() of their own and no cleanup
 * path each.
 *
 * Small allocations are carved from blocks; a malloc'd pointer from
 * elsewhere can be handed to the arena (sx_arena_own) and is freed with it.
 * Out of memory aborts, as xmalloc does.  Nothing is freed before
 * sx_arena_release: an arena is for bounded work, not for a loop that runs
 * as long as a task.
 */
#include "sx.h"
#include <stdarg.h>

struct sx_arena_block;
struct sx_arena_owned;

struct sx_arena {
	struct sx_arena_block *blocks;   /* the block being carved first */
	struct sx_arena_owned *owned;    /* malloc'd pointers freed with the arena */
};

/* An empty arena (no allocation). */
void sx_arena_init(struct sx_arena *a);
/*
 * Frees everything allocated from or handed to a; a is empty afterwards
 * and may be used again.
 */
void sx_arena_release(struct sx_arena *a);

/* n bytes aligned for any type, uninitialized; lives until release. */
void *sx_arena_alloc(struct sx_arena *a, size_t n);
/* A copy of s (NULL gives NULL). */
char *sx_arena_strdup(struct sx_arena *a, const char *s);
/* A copy of at most n bytes of s, NUL-terminated. */
char *sx_arena_strndup(struct sx_arena *a, const char *s, size_t n);
/* A formatted string. */
char *sx_arena_printf(struct sx_arena *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/*
 * Hands p (from malloc, or NULL) to a, which frees it at release; returns
 * p, so that `s = sx_arena_own(a, make_string())` reads as one step.
 */
void *sx_arena_own(struct sx_arena *a, void *p);
#endif
