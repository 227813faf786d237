/*
 * A growable byte buffer with a hard cap (curl's dynbuf).  The invariant,
 * once data is allocated: len <= max, len < cap, data[len] == '\0'.  A call
 * that would pass the cap returns SX_ETOOBIG and leaves the contents exactly
 * as they were.
 */
#include "buf.h"

#include <stdarg.h>

#define SX_BUF_MIN_CAP 64

void sx_buf_init(struct sx_buf *b, size_t max)
{
	b->data = NULL;
	b->len = 0;
	b->cap = 0;
	b->max = max;
}

void sx_buf_release(struct sx_buf *b)
{
	free(b->data);
	b->data = NULL;
	b->len = 0;
	b->cap = 0;
}

void sx_buf_reset(struct sx_buf *b)
{
	b->len = 0;
	if (b->data)
		b->data[0] = '\0';
}

/*
 * The caller owns the returned string (free()).  An empty buffer still gives
 * a fresh "" so the caller never has to special-case NULL.
 */
char *sx_buf_detach(struct sx_buf *b, size_t *len)
{
	char *p = b->data;

	if (!p)
		p = xcalloc(1, 1);
	if (len)
		*len = b->len;
	b->data = NULL;
	b->len = 0;
	b->cap = 0;
	return p;
}

/*
 * Makes room for `extra` more bytes plus the terminator.  Growth doubles so
 * appends are amortized O(1), but never allocates past max + 1.
 */
static enum sx_rc buf_reserve(struct sx_buf *b, size_t extra)
{
	enum sx_rc rc = SX_OK;
	size_t need, cap;

	if (extra > b->max || b->len > b->max - extra) {
		rc = SX_ETOOBIG;
		goto out;
	}
	need = b->len + extra + 1;
	if (b->data && need <= b->cap)
		goto out;
	cap = b->cap ? b->cap : SX_BUF_MIN_CAP;
	while (cap < need)
		cap = cap > SIZE_MAX / 2 ? need : cap * 2;
	if (b->max < SIZE_MAX && cap > b->max + 1)
		cap = b->max + 1;
	b->data = xrealloc(b->data, cap);
	b->cap = cap;
	b->data[b->len] = '\0';
out:
	return rc;
}

enum sx_rc sx_buf_append(struct sx_buf *b, const void *p, size_t n)
{
	enum sx_rc rc;

	rc = buf_reserve(b, n);
	if (rc)
		goto out;
	if (n)
		memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = '\0';
out:
	return rc;
}

enum sx_rc sx_buf_puts(struct sx_buf *b, const char *s)
{
	return sx_buf_append(b, s, strlen(s));
}

enum sx_rc sx_buf_putc(struct sx_buf *b, char c)
{
	return sx_buf_append(b, &c, 1);
}

/*
 * Formats once to measure, checks the cap, then formats into place, so a
 * result that would not fit leaves the buffer untouched.
 */
enum sx_rc sx_buf_vprintf(struct sx_buf *b, const char *fmt, va_list ap)
{
	enum sx_rc rc = SX_OK;
	va_list ap2;
	int n;

	va_copy(ap2, ap);
	n = vsnprintf(NULL, 0, fmt, ap2);
	va_end(ap2);
	if (n < 0) {
		rc = SX_EINVAL;
		goto out;
	}
	rc = buf_reserve(b, (size_t)n);
	if (rc)
		goto out;
	va_copy(ap2, ap);
	n = vsnprintf(b->data + b->len, b->cap - b->len, fmt, ap2);
	va_end(ap2);
	if (n < 0) {
		b->data[b->len] = '\0';
		rc = SX_EINVAL;
		goto out;
	}
	b->len += (size_t)n;
out:
	return rc;
}

enum sx_rc sx_buf_printf(struct sx_buf *b, const char *fmt, ...)
{
	enum sx_rc rc;
	va_list ap;

	va_start(ap, fmt);
	rc = sx_buf_vprintf(b, fmt, ap);
	va_end(ap);
	return rc;
}
