/*
 * The scratch arena (see arena.h).  Blocks are chained newest first; an
 * allocation that does not fit the newest block starts a new one, sized for
 * it when it is larger than a block.  Handed-over pointers are kept in a
 * list whose nodes come from the arena itself.
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
		free(b);
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
		size_t size = need > ARENA_BLOCK ? need : ARENA_BLOCK;

		if (size > SIZE_MAX - sizeof(*b))
			abort();
		b = xmalloc(sizeof(*b) + size);
		b->used = 0;
		b->size = size;
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
