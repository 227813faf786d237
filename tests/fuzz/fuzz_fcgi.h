#ifndef SX_FUZZ_FCGI_H
#define SX_FUZZ_FCGI_H
/*
 * A FastCGI request held in memory, for targets that drive fcgi/ code
 * without a web server: the parameters nginx would send (CGI environment),
 * a body stream to read and an output stream that collects the answer.
 */
#include <fcgiapp.h>
#include "fuzz.h"

struct fuzz_fcgi {
	FCGX_Request req;
	FCGX_Stream in, out;        /* stderr goes to out too */
	char **envp;                 /* owned "NAME=value" strings, NULL-terminated */
	size_t nenv;
	unsigned char *body;         /* owned copy of the body */
	size_t bodylen;
	unsigned char outbuf[256];   /* the writer's window, flushed into answer */
	char *answer;                /* everything written, NUL-terminated */
	size_t answerlen;
};

/*
 * Reads "NAME=value" lines up to the first empty line (or the end) as the
 * CGI parameters, and everything after that empty line as the body.
 */
void fuzz_fcgi_init(struct fuzz_fcgi *f, const uint8_t *data, size_t size);
/* Flushes what is pending in the output stream into f->answer. */
void fuzz_fcgi_flush(struct fuzz_fcgi *f);
void fuzz_fcgi_release(struct fuzz_fcgi *f);
#endif
