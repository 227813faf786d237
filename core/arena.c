/*
 * The scratch arena (see arena.h).  Blocks are chained newest first; an
 * allocation that does not fit the newest block starts a new one, sized for
 * it when it is larger than a block.  Handed-over pointers are kept in a
 * list whose nodes come from the arena itself.  Each thread keeps one
 * released block for its next arena (spare).
 */
#include <stdalign.h>
#include "sx.h"
#include "arena.h"

#define ARENA_BLOCK (8u << 10)
#define ARENA_ALIGN alignof(max_align_t)

struct sx_arena_block {
	struct sx_arena_block *next;
	size_t used, size;
	alignas(max_align_t) unsigned char data[];
};

struct sx_arena_owned {
	struct sx_arena_owned *next;
	void *p;
};

/*
 * One released standard-size block, kept for the next arena of the same
 * thread: an API worker's requests, or an agent step after step, then
 * allocate their first block without malloc and free nothing at release.
 *
 * It is never freed, on purpose: arenas are used only on the main thread
 * of sextant-api's and sextant-agent's worker processes, which live until
 * the process exits, so one block per process is all it can cost.  No
 * thread of ours that ends (browser pool, egress, heartbeat) uses an arena;
 * one that did would leave its spare block behind (8 KiB) at its exit.
 */
static _Thread_local struct sx_arena_block *spare;

/* A block of size bytes of data: the spare one when it fits, else a new one. */
static struct sx_arena_block *arena_block_new(size_t size)
{
	struct sx_arena_block *b;

	if (size == ARENA_BLOCK && spare) {
		b = spare;
		spare = NULL;
	} else {
		if (size > SIZE_MAX - sizeof(*b))
			abort();
		b = xmalloc(sizeof(*b) + size);
	}
	b->used = 0;
	b->size = size;
	return b;
}

static void arena_block_free(struct sx_arena_block *b)
{
	if (b->size == ARENA_BLOCK && !spare)
		spare = b;
	else
		free(b);
}

void sx_arena_init(struct sx_arena *a)
{
	a->blocks = NULL;
	a->owned = NULL;
}

void sx_arena_release(struct sx_arena *a)
{
	struct sx_arena_block *b = a->blocks, *next;

	for (struct sx_arena_owned *o = a->owned; o; o = o->next)
		free(o->p);
	for (; b; b = next) {
		next = b->next;
		arena_block_free(b);
	}
	sx_arena_init(a);
}

void *sx_arena_alloc(struct sx_arena *a, size_t n)
{
	struct sx_arena_block *b = a->blocks;
	size_t need = (n + ARENA_ALIGN - 1) & ~(ARENA_ALIGN - 1);
	void *p;

	if (need < n)
		abort();
	if (!b || b->size - b->used < need) {
		b = arena_block_new(need > ARENA_BLOCK ? need : ARENA_BLOCK);
		b->next = a->blocks;
		a->blocks = b;
	}
	p = b->data + b->used;
	b->used += need;
	return p;
}

char *sx_arena_strndup(struct sx_arena *a, const char *s, size_t n)
{
	size_t len = strnlen(s, n);
	char *d = sx_arena_alloc(a, len + 1);

	memcpy(d, s, len);
	d[len] = '\0';
	return d;
}

char *sx_arena_strdup(struct sx_arena *a, const char *s)
{
	return s ? sx_arena_strndup(a, s, SIZE_MAX) : NULL;
}

char *sx_arena_printf(struct sx_arena *a, const char *fmt, ...)
{
	va_list ap;
	char *s;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	/* vsnprintf fails only on an impossible format. */
	if (n < 0)
		abort();
	s = sx_arena_alloc(a, (size_t)n + 1);
	va_start(ap, fmt);
	vsnprintf(s, (size_t)n + 1, fmt, ap);
	va_end(ap);
	return s;
}

void *sx_arena_own(struct sx_arena *a, void *p)
{
	struct sx_arena_owned *o;

	if (p) {
		o = sx_arena_alloc(a, sizeof(*o));
		o->p = p;
		o->next = a->owned;
		a->owned = o;
	}
	return p;
}
