#ifndef SX_LOG_H
#define SX_LOG_H
/*
 * Logfmt logging to stderr, one line per event:
 *   ts=2026-11-28T12:00:00.123Z level=info comp=api pid=123 msg="…" key=value
 * The level is checked before anything is formatted.  Values that may hold
 * spaces or quotes are passed through sx_log_quote().  Secrets (API keys,
 * navigation payloads, TOTP codes, LLM keys, database passwords) are never
 * passed to these macros.
 */
#include "sx.h"

enum sx_log_level { SX_LOG_DEBUG, SX_LOG_INFO, SX_LOG_WARN, SX_LOG_ERROR };

extern enum sx_log_level sx_log_min;

void sx_log_init(const char *program, enum sx_log_level min);
bool sx_log_level_parse(const char *s, enum sx_log_level *out);
void sx_log_write(enum sx_log_level lvl, const char *comp, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/*
 * Renders s as a logfmt value: bare when it is safe, otherwise double-quoted
 * with escapes, cut at 200 bytes.  Returns one of a small ring of static
 * buffers, so up to four may be used in one log call.
 */
const char *sx_log_quote(const char *s);

#define SX_LOG(lvl, comp, ...) \
	do { if ((lvl) >= sx_log_min) sx_log_write((lvl), (comp), __VA_ARGS__); } while (0)
#define log_debug(comp, ...) SX_LOG(SX_LOG_DEBUG, comp, __VA_ARGS__)
#define log_info(comp, ...)  SX_LOG(SX_LOG_INFO, comp, __VA_ARGS__)
#define log_warn(comp, ...)  SX_LOG(SX_LOG_WARN, comp, __VA_ARGS__)
#define log_error(comp, ...) SX_LOG(SX_LOG_ERROR, comp, __VA_ARGS__)
#endif
