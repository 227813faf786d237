/*
 * Refused input as plain data (see invalid.h).
 */
#include <stdarg.h>
#include "sx.h"
#include "invalid.h"
#include "buf.h"

enum sx_rc sx_invalid_set(struct sx_invalid *e, enum sx_invalid_kind kind, const char *field,
			  const char *type, const char *fmt, ...)
{
	va_list ap;
	char *msg = NULL;

	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) < 0)
		abort();
	va_end(ap);
	free(e->msg);
	e->kind = kind;
	e->field = field;
	e->type = type;
	e->msg = msg;
	return SX_EINVAL;
}

void sx_invalid_release(struct sx_invalid *e)
{
	if (e) {
		free(e->msg);
		memset(e, 0, sizeof(*e));
	}
}

void sx_invalid_rename(struct sx_invalid *e, const char *from, const char *to)
{
	struct sx_buf b;
	const char *p, *hit;
	size_t flen = strlen(from);

	if (!e->field || strcmp(e->field, from) != 0)
		return;
	e->field = to;
	if (!e->msg)
		return;
	sx_buf_init(&b, 65536);
	for (p = e->msg; (hit = strstr(p, from)) != NULL; p = hit + flen) {
		sx_buf_append(&b, p, (size_t)(hit - p));
		sx_buf_puts(&b, to);
	}
	sx_buf_puts(&b, p);
	free(e->msg);
	e->msg = sx_buf_detach(&b, NULL);
}
