/*
 * Logfmt lines on stderr.  Each line is built in a stack buffer and handed
 * to the kernel with a single write(), so lines from several processes or
 * threads sharing stderr never interleave mid-line.
 */
#include "log.h"

#include <stdarg.h>
#include <time.h>
#include <unistd.h>

enum sx_log_level sx_log_min = SX_LOG_INFO;

/* Used as the component when a caller passes NULL. */
static char log_program[32] = "sextant";

/* Longer lines are cut and end in "…" rather than being split. */
#define LOG_LINE_MAX 4096
/* Bytes of a value shown by sx_log_quote before it is cut. */
#define LOG_QUOTE_CUT 200
/* Worst case: every byte becomes \u00XX, plus quotes, "…" and NUL. */
#define LOG_QUOTE_SIZE (LOG_QUOTE_CUT * 6 + 8)

static const char *const log_level_names[] = {
	[SX_LOG_DEBUG] = "debug",
	[SX_LOG_INFO] = "info",
	[SX_LOG_WARN] = "warn",
	[SX_LOG_ERROR] = "error",
};

void sx_log_init(const char *program, enum sx_log_level min)
{
	if (program && *program)
		snprintf(log_program, sizeof(log_program), "%s", program);
	sx_log_min = min;
}

bool sx_log_level_parse(const char *s, enum sx_log_level *out)
{
	bool ok = false;
	size_t i;

	for (i = 0; s && i < SX_ARRAY_LEN(log_level_names); i++) {
		if (strcmp(s, log_level_names[i]) == 0) {
			*out = (enum sx_log_level)i;
			ok = true;
			break;
		}
	}
	return ok;
}

/*
 * Writes `ts=… level=… comp=… pid=… ` and the caller's text.  Newlines in
 * the text become spaces so that one event stays one line and a value
 * cannot forge a second entry.
 */
void sx_log_write(enum sx_log_level lvl, const char *comp, const char *fmt, ...)
{
	static const char ellipsis[] = "\xe2\x80\xa6";
	char line[LOG_LINE_MAX];
	struct timespec ts;
	struct tm tm;
	va_list ap;
	size_t len = 0, i;
	int n;
	ssize_t w;

	if ((unsigned)lvl >= SX_ARRAY_LEN(log_level_names))
		lvl = SX_LOG_ERROR;
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	n = snprintf(line, sizeof(line),
		     "ts=%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ level=%s comp=%s pid=%ld ",
		     tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
		     tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000000L,
		     log_level_names[lvl], comp ? comp : log_program, (long)getpid());
	if (n < 0)
		n = 0;
	len = (size_t)n < sizeof(line) ? (size_t)n : sizeof(line) - 1;

	va_start(ap, fmt);
	n = vsnprintf(line + len, sizeof(line) - len, fmt, ap);
	va_end(ap);
	if (n > 0) {
		for (i = len; i < sizeof(line) - 1 && line[i]; i++)
			if (line[i] == '\n' || line[i] == '\r')
				line[i] = ' ';
		if ((size_t)n >= sizeof(line) - len) {
			/* Cut: leave room for the ellipsis and newline. */
			len = sizeof(line) - sizeof(ellipsis) - 1;
			/* Do not leave half a UTF-8 sequence before the ellipsis. */
			while (len > 0 && ((unsigned char)line[len] & 0xC0) == 0x80)
				len--;
			memcpy(line + len, ellipsis, sizeof(ellipsis) - 1);
			len += sizeof(ellipsis) - 1;
		} else {
			len += (size_t)n;
		}
	}
	line[len++] = '\n';
	w = write(STDERR_FILENO, line, len);
	(void)w; /* Nowhere better to report a failing stderr. */
}

/*
 * Bare values are what logfmt parsers read without quotes: printable, no
 * space, quote, equals sign or backslash, and not empty.
 */
static bool log_is_bare(const unsigned char *s, size_t n)
{
	size_t i;
	bool bare = n > 0;

	for (i = 0; bare && i < n; i++)
		if (s[i] <= 0x20 || s[i] == 0x7f || s[i] == '"' || s[i] == '=' || s[i] == '\\')
			bare = false;
	return bare;
}

/*
 * The ring is thread-local so worker threads do not hand each other's
 * buffers out; four slots allow four quoted values in one log call.
 */
const char *sx_log_quote(const char *s)
{
	static _Thread_local char ring[4][LOG_QUOTE_SIZE];
	static _Thread_local unsigned next;
	static const char hex[] = "0123456789abcdef";
	const unsigned char *u = (const unsigned char *)(s ? s : "");
	char *out = ring[next++ % 4];
	size_t n = strlen((const char *)u), cut = n, o = 0, i;

	if (cut > LOG_QUOTE_CUT) {
		cut = LOG_QUOTE_CUT;
		/* Cut on a character boundary, not inside a UTF-8 sequence. */
		while (cut > 0 && (u[cut] & 0xC0) == 0x80)
			cut--;
	}
	if (log_is_bare(u, cut)) {
		memcpy(out, u, cut);
		o = cut;
	} else {
		out[o++] = '"';
		for (i = 0; i < cut; i++) {
			unsigned char c = u[i];

			if (c == '"' || c == '\\') {
				out[o++] = '\\';
				out[o++] = (char)c;
			} else if (c == '\n') {
				out[o++] = '\\';
				out[o++] = 'n';
			} else if (c == '\r') {
				out[o++] = '\\';
				out[o++] = 'r';
			} else if (c == '\t') {
				out[o++] = '\\';
				out[o++] = 't';
			} else if (c < 0x20 || c == 0x7f) {
				memcpy(out + o, "\\u00", 4);
				o += 4;
				out[o++] = hex[c >> 4];
				out[o++] = hex[c & 0xf];
			} else {
				out[o++] = (char)c;
			}
		}
	}
	if (cut < n) {
		memcpy(out + o, "\xe2\x80\xa6", 3);
		o += 3;
	}
	if (out[0] == '"')
		out[o++] = '"';
	out[o] = '\0';
	return out;
}
