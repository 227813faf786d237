/*
 * The FastCGI connections of one API worker (see conns.h).  Slot i holds a
 * connection when slots[i].ipcFd >= 0.  A wait polls the held connections
 * and, while a slot is free, the listening socket; the scan for a ready
 * one goes round all of them, the listening socket included, starting
 * after the one served last, so that neither a busy connection nor the
 * held ones as a whole starve the others.  (A new connection is a request
 * nginx is waiting to send: with the listening socket scanned last, a
 * worker whose held connections were never all idle at once left it in
 * the accept queue for seconds under load — wrk's 2 s timeouts at c32.)
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <fcgiapp.h>
#include "sx.h"
#include "conns.h"
#include "log.h"
#include "supervise.h"
#include "timeutil.h"

/*
 * Connections one worker holds at most.  nginx keeps at most `keepalive`
 * idle ones per nginx worker process, sized to api_workers, so a worker
 * rarely holds more than a few; a full set stops accepting, and the other
 * workers take the new connections.
 */
#define CONNS_MAX 32

struct fcgi_conns {
	int listen_fd;
	size_t next;                   /* where the next scan starts: a slot, or CONNS_MAX for the listening socket */
	FCGX_Request slots[CONNS_MAX];
};

struct fcgi_conns *fcgi_conns_new(int listen_fd)
{
	struct fcgi_conns *c = xcalloc(1, sizeof(*c));
	int fl = fcntl(listen_fd, F_GETFL);

	/* An accept that another worker won must not block this one. */
	if (fl < 0 || fcntl(listen_fd, F_SETFL, fl | O_NONBLOCK) < 0)
		log_warn("api", "msg=\"cannot make the socket non-blocking\" error=%s",
			 sx_log_quote(strerror(errno)));
	c->listen_fd = listen_fd;
	for (size_t i = 0; i < CONNS_MAX; i++)
		FCGX_InitRequest(&c->slots[i], listen_fd, 0);
	return c;
}

void fcgi_conns_free(struct fcgi_conns *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < CONNS_MAX; i++)
		FCGX_Free(&c->slots[i], c->slots[i].ipcFd >= 0);
	free(c);
}

/*
 * Reads the next request into slot i: from its connection when it holds
 * one (libfcgi accepts a new one in its place when nginx closed it), else
 * from a newly accepted connection.  False when there was none to read:
 * nginx closed the connection, or another worker won the accept.
 */
static bool conns_read(struct fcgi_conns *c, size_t i)
{
	int rc = FCGX_Accept_r(&c->slots[i]);

	if (rc < 0 && rc != -EAGAIN && rc != -EWOULDBLOCK && rc != -EINTR)
		log_warn("api", "msg=\"accept failed\" error=%s", sx_log_quote(strerror(-rc)));
	return rc >= 0;
}

void fcgi_conns_finish(void *req)
{
	FCGX_Request *r = req;
	char chunk[4096];

	while (r->in && FCGX_GetStr(chunk, sizeof(chunk), r->in) > 0)
		;
	FCGX_Finish_r(r);
}

enum sx_rc fcgi_conns_next(struct fcgi_conns *c, void **out)
{
	struct pollfd pfd[CONNS_MAX + 1];
	size_t slot_of[CONNS_MAX + 1], pos_of[CONNS_MAX + 1];

	while (!sx_stopping) {
		size_t n = 0, free_slot = CONNS_MAX;
		int r;

		for (size_t i = 0; i < CONNS_MAX && free_slot == CONNS_MAX; i++)
			if (c->slots[i].ipcFd < 0)
				free_slot = i;
		/* Position CONNS_MAX of the rotation is the listening socket (while a slot is free). */
		for (size_t k = 0; k <= CONNS_MAX; k++) {
			size_t pos = (c->next + k) % (CONNS_MAX + 1);

			if (pos == CONNS_MAX && free_slot < CONNS_MAX) {
				pfd[n].fd = c->listen_fd;
				slot_of[n] = free_slot;
			} else if (pos < CONNS_MAX && c->slots[pos].ipcFd >= 0) {
				pfd[n].fd = c->slots[pos].ipcFd;
				slot_of[n] = pos;
			} else {
				continue;
			}
			pfd[n].events = POLLIN;
			pos_of[n++] = pos;
		}
		r = poll(pfd, (nfds_t)n, -1);
		if (r < 0) {
			if (errno != EINTR) {
				log_error("api", "msg=\"poll failed\" error=%s",
					  sx_log_quote(strerror(errno)));
				sx_sleep_ms(100, NULL);
			}
			continue;
		}
		for (size_t k = 0; k < n; k++) {
			size_t i = slot_of[k];

			if (!pfd[k].revents || !conns_read(c, i))
				continue;
			c->next = (pos_of[k] + 1) % (CONNS_MAX + 1);
			*out = &c->slots[i];
			return SX_OK;
		}
	}
	return SX_EDONE;
}
