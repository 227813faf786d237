#ifndef SX_ERRCODE_H
#define SX_ERRCODE_H
/*
 * A task's error_code_mapping (Skyvern's: an object of error code ->
 * the condition, in natural language, under which it applies) and the
 * codes a model names from it.
 *
 * The API checks the mapping a client sends (errcode_mapping_check), after
 * the type and byte-size checks of core/task.h.  When a task with a
 * mapping fails or terminates, the agent asks the model which codes apply,
 * and keeps only what errcode_answer_errors accepts, in Skyvern's
 * UserDefinedError shape: {"error_code", "reasoning", "confidence_float",
 * "error_type": "USER_DEFINED_ERROR"}.  A code the mapping does not have,
 * or an entry of another shape, is dropped: a model's garbage never
 * reaches the task.  Pure functions: no I/O.
 */
#include "sx.h"
#include "invalid.h"
#include <json-c/json.h>

/* At most this many codes in one mapping. */
#define ERRCODE_MAX_CODES 50
/* A code is 1 to this many bytes. */
#define ERRCODE_CODE_MAX 128
/* A model's reasoning for a code is kept up to this many bytes (cut on a character). */
#define ERRCODE_REASONING_MAX 1000

/*
 * Checks a mapping whose type (an object of strings) and total size were
 * already checked: at most ERRCODE_MAX_CODES codes, each 1 to
 * ERRCODE_CODE_MAX bytes.  SX_EINVAL with why filled (SX_INVALID_SHAPE,
 * field error_code_mapping, as pydantic's too_long / string_too_short
 * would be) when not; SX_OK otherwise, also for mapping NULL.
 */
enum sx_rc errcode_mapping_check(json_object *mapping, struct sx_invalid *why);

/*
 * The acceptable entries of holder's "errors" member (holder: the model's
 * answer object, or its terminate action), each rebuilt in the
 * UserDefinedError shape: error_code a key of mapping, reasoning a
 * non-empty string (cut to ERRCODE_REASONING_MAX bytes), confidence_float
 * a number from 0 to 1.  A code named twice is kept once, the first time.
 * A new array the caller owns, or NULL when no entry is acceptable (or
 * mapping, holder or its errors are missing or of another type).
 */
json_object *errcode_answer_errors(json_object *holder, json_object *mapping);

/*
 * The failure_reason Skyvern gives a task terminated with errors: their
 * reasonings joined by "; ".  errors is what errcode_answer_errors
 * returned.  The caller frees the result.
 */
char *errcode_failure_reason(json_object *errors);
#endif
