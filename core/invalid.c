/*
 * Refused input as plain data (see invalid.h).
 */
#include <stdarg.h>
#include "sx.h"
#include "invalid.h"

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
