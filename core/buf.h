#ifndef SX_BUF_H
#define SX_BUF_H
/*
 * A growable byte buffer with a hard cap.  Every outside input (request
 * bodies, HTTP answers, WebDriver and LLM responses) is read into one of
 * these: going past `max` is SX_ETOOBIG, never a crash or an unbounded
 * allocation.  The data is always NUL-terminated for convenience; `len`
 * does not count the terminator.
 */
#include "sx.h"
#include <stdarg.h>

struct sx_buf {
	char *data;
	size_t len;
	size_t cap;
	size_t max;
};

/* Initializes an empty buffer holding at most max bytes (no allocation). */
void sx_buf_init(struct sx_buf *b, size_t max);
/* Frees the contents; the buffer may be reused after sx_buf_init. */
void sx_buf_release(struct sx_buf *b);
/* Empties the buffer, keeping its memory. */
void sx_buf_reset(struct sx_buf *b);
/* Hands the NUL-terminated data to the caller (free()) and empties b. */
char *sx_buf_detach(struct sx_buf *b, size_t *len);

enum sx_rc sx_buf_append(struct sx_buf *b, const void *p, size_t n);
enum sx_rc sx_buf_puts(struct sx_buf *b, const char *s);
enum sx_rc sx_buf_putc(struct sx_buf *b, char c);
enum sx_rc sx_buf_printf(struct sx_buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
enum sx_rc sx_buf_vprintf(struct sx_buf *b, const char *fmt, va_list ap)
	__attribute__((format(printf, 2, 0)));

/* Always-NUL-terminated text, even when empty. */
static inline const char *sx_buf_str(const struct sx_buf *b)
{
	return b->data ? b->data : "";
}
#endif
