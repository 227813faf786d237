#ifndef SX_INVALID_H
#define SX_INVALID_H
/*
 * Why a client's input was refused, as plain data.  Core validates and fills
 * one of these; fcgi/ decides what it looks like on the wire (FastAPI's
 * shapes, fcgi/errors.h).  Two kinds, as FastAPI has them: a shape problem
 * (not a JSON object, a field missing or of the wrong JSON type) is a
 * validation error, and a value problem (the right type, an unacceptable
 * value) is a plain refusal with a message.
 */
#include "sx.h"

enum sx_invalid_kind {
	SX_INVALID_SHAPE,  /* a validation error: field, msg and type all matter */
	SX_INVALID_VALUE,  /* a refused value: msg says why */
};

struct sx_invalid {
	enum sx_invalid_kind kind;
	const char *field;       /* the body member at fault (static); NULL for the whole body */
	const char *type;        /* pydantic's error type for a shape problem (static), or NULL */
	char *msg;               /* owned; sx_invalid_release() frees it */
};

/*
 * Fills e (whose msg must be NULL or owned) and returns SX_EINVAL, so that a
 * validator can `rc = sx_invalid_set(...); goto out;`.
 */
enum sx_rc sx_invalid_set(struct sx_invalid *e, enum sx_invalid_kind kind, const char *field,
			  const char *type, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));

/*
 * When e is about the field `from` (static), makes it about `to` (static),
 * in e->field and in the message: a validator's error then names the field
 * as the client sent it (the run API's `prompt` for the task's
 * `navigation_goal`).  Nothing changes when e is about another field.
 */
void sx_invalid_rename(struct sx_invalid *e, const char *from, const char *to);

/* Frees e->msg and clears e; e may be NULL. */
void sx_invalid_release(struct sx_invalid *e);
#endif
