/*
 * In-memory FastCGI streams (see fuzz_fcgi.h).  libfcgi exposes
 * FCGX_Stream so that a stream can be backed by anything: the reader gets
 * the whole body as its one buffer and closes when asked for more; the
 * writer flushes its window into a growing string.
 */
#include <string.h>
#include "fuzz_fcgi.h"

static void reader_fill(FCGX_Stream *s)
{
	s->isClosed = 1;
}

static void writer_empty(FCGX_Stream *s, int do_close)
{
	struct fuzz_fcgi *f = s->data;
	size_t n = (size_t)(s->wrNext - f->outbuf);

	f->answer = xrealloc(f->answer, f->answerlen + n + 1);
	memcpy(f->answer + f->answerlen, f->outbuf, n);
	f->answerlen += n;
	f->answer[f->answerlen] = '\0';
	s->wrNext = f->outbuf;
	if (do_close)
		s->isClosed = 1;
}

static void add_param(struct fuzz_fcgi *f, const uint8_t *line, size_t n)
{
	if (!memchr(line, '=', n))
		return;
	f->envp = xrealloc(f->envp, (f->nenv + 2) * sizeof(*f->envp));
	f->envp[f->nenv++] = xstrndup((const char *)line, n);
	f->envp[f->nenv] = NULL;
}

void fuzz_fcgi_init(struct fuzz_fcgi *f, const uint8_t *data, size_t size)
{
	size_t i = 0;

	memset(f, 0, sizeof(*f));
	f->envp = xcalloc(1, sizeof(*f->envp));
	while (i < size) {
		const uint8_t *nl = memchr(data + i, '\n', size - i);
		size_t n = nl ? (size_t)(nl - (data + i)) : size - i;

		if (n == 0) {
			i++;
			break;
		}
		add_param(f, data + i, n);
		i += n + (nl ? 1 : 0);
	}
	f->bodylen = size - i;
	f->body = xmalloc(f->bodylen + 1);
	memcpy(f->body, data + i, f->bodylen);

	f->in.rdNext = f->in.stopUnget = f->body;
	f->in.wrNext = f->in.stop = f->body + f->bodylen;
	f->in.isReader = 1;
	f->in.fillBuffProc = reader_fill;
	f->in.data = f;

	f->out.rdNext = f->out.stopUnget = f->out.wrNext = f->outbuf;
	f->out.stop = f->outbuf + sizeof(f->outbuf);
	f->out.emptyBuffProc = writer_empty;
	f->out.data = f;
	f->answer = xstrdup("");

	f->req.in = &f->in;
	f->req.out = &f->out;
	f->req.err = &f->out;
	f->req.envp = f->envp;
	f->req.ipcFd = -1;
}

void fuzz_fcgi_flush(struct fuzz_fcgi *f)
{
	writer_empty(&f->out, 0);
}

void fuzz_fcgi_release(struct fuzz_fcgi *f)
{
	for (size_t i = 0; i < f->nenv; i++)
		free(f->envp[i]);
	free(f->envp);
	free(f->body);
	free(f->answer);
	memset(f, 0, sizeof(*f));
}
