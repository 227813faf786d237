#ifndef SX_H
#define SX_H
/*
 * The one header every Sextant source includes first.  It brings the error
 * enum shared by every module, the allocation helpers that abort on
 * exhaustion, and the banned-call list.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/*
 * One error type for the whole project (curl's CURLcode).  Foreign errors are
 * turned into one of these at the adapter that met them, and logged there
 * once with their detail.
 */
enum sx_rc {
	SX_OK = 0,
	SX_ENOMEM,      /* allocation failed (normally aborts instead) */
	SX_EINVAL,      /* bad argument or malformed input */
	SX_ENOTFOUND,   /* no such row, key, file or element */
	SX_ECONFLICT,   /* state does not allow the operation */
	SX_ETOOBIG,     /* a capped buffer would overflow */
	SX_EIO,         /* a system call failed */
	SX_ETIMEOUT,    /* an operation ran out of time */
	SX_EDB,         /* the database refused a statement */
	SX_EDBDOWN,     /* the database cannot be reached */
	SX_EDEADLOCK,   /* a transaction lost a lock race; retry it */
	SX_EHTTP,       /* an outbound HTTP request failed */
	SX_EWEBDRIVER,  /* the WebDriver endpoint reported an error */
	SX_ESESSION,    /* the browser session is gone */
	SX_ELLM,        /* the language model call failed */
	SX_EPARSE,      /* an answer could not be parsed */
	SX_EAUTH,       /* missing or wrong credentials */
	SX_ECANCELED,   /* the task was canceled */
	SX_EBLOCKED,    /* refused by policy (SSRF guard, allow-list) */
	SX_ECONFIG,     /* bad configuration */
	SX_EDONE,       /* iteration finished; not an error */
	SX_RC_MAX
};

/* A static, human-readable description of rc; never NULL. */
const char *sx_strerror(enum sx_rc rc);

/* Allocation that aborts on exhaustion: the supervisor restarts the process. */
void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
/* Formats into a new string; aborts on exhaustion. */
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#define SX_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* The value of a hex digit (either case), or -1 when c is not one. */
int sx_hex_value(int c);
/* Parses a whole decimal integer in [min, max]; false on any junk. */
bool sx_parse_ll(const char *s, long long min, long long max, long long *out);
/* Parses a whole decimal number in [min, max]; false on any junk. */
bool sx_parse_double(const char *s, double min, double max, double *out);

/* Removes dir and everything below it (symlinks are removed, not followed). */
void sx_rm_tree(const char *dir);

/*
 * mkdir -p for path (mode 0755).  SX_OK when it is there, else SX_EIO with
 * the errno of the first directory that could not be made in *err (so a
 * read-only file system reads EROFS, not the ENOENT of the levels below).
 */
enum sx_rc sx_mkdirs(const char *path, int *err);

#include "banned.h"
#endif
