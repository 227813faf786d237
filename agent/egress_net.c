/*
 * Socket work of the egress proxy (see egress_net.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <unistd.h>

#include "sx.h"
#include "egress_net.h"
#include "timeutil.h"

/* The longest one poll sleeps, so that a stop is seen promptly. */
#define SLICE_MS 200
#define RELAY_BUF 16384

bool egress_net_nonblock(int fd)
{
	int fl = fcntl(fd, F_GETFL);

	return fl >= 0 && fcntl(fd, F_SETFL, fl | O_NONBLOCK) == 0;
}

/* Waits for events on fd until deadline or *stop; SX_OK when they came. */
static enum sx_rc wait_fd(int fd, short events, int64_t deadline, const atomic_int *stop)
{
	enum sx_rc rc = SX_ETIMEOUT;

	for (;;) {
		int64_t left = deadline - sx_mono_ms();
		struct pollfd p = { fd, events, 0 };
		int n;

		if (atomic_load(stop)) {
			rc = SX_ECANCELED;
			break;
		}
		if (left <= 0)
			break;
		n = poll(&p, 1, (int)(left < SLICE_MS ? left : SLICE_MS));
		if (n > 0) {
			rc = SX_OK;
			break;
		}
		if (n < 0 && errno != EINTR) {
			rc = SX_EIO;
			break;
		}
	}
	return rc;
}

enum sx_rc egress_net_connect(const struct sockaddr_storage *sa, int64_t deadline,
			      const atomic_int *stop, void (*set_fd)(void *arg, int fd), void *arg,
			      int *fd)
{
	socklen_t len = sa->ss_family == AF_INET6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in);
	enum sx_rc rc = SX_EHTTP;
	int s = socket(sa->ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	int err = 0;
	socklen_t errlen = sizeof(err);

	*fd = -1;
	if (s < 0) {
		rc = SX_EIO;
		goto out;
	}
	if (set_fd)
		set_fd(arg, s);
	if (connect(s, (const struct sockaddr *)sa, len) == 0) {
		rc = SX_OK;
		goto out;
	}
	if (errno != EINPROGRESS)
		goto out;
	rc = wait_fd(s, POLLOUT, deadline, stop);
	if (rc)
		goto out;
	rc = getsockopt(s, SOL_SOCKET, SO_ERROR, &err, &errlen) == 0 && err == 0 ? SX_OK : SX_EHTTP;
out:
	if (rc == SX_OK)
		*fd = s;
	else if (s >= 0 && !set_fd)
		close(s);            /* with set_fd, the socket is the caller's to close */
	return rc;
}

enum sx_rc egress_net_write(int fd, const void *p, size_t n, int64_t deadline, const atomic_int *stop)
{
	const char *c = p;
	enum sx_rc rc = SX_OK;

	while (rc == SX_OK && n > 0) {
		ssize_t w = send(fd, c, n, MSG_NOSIGNAL);

		if (w > 0) {
			c += w;
			n -= (size_t)w;
		} else if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) {
			rc = wait_fd(fd, POLLOUT, deadline, stop);
		} else {
			rc = SX_EIO;
		}
	}
	return rc;
}

enum sx_rc egress_net_read(int fd, void *p, size_t cap, int64_t deadline, const atomic_int *stop,
			   size_t *got)
{
	enum sx_rc rc = SX_OK;

	*got = 0;
	for (;;) {
		ssize_t r = recv(fd, p, cap, 0);

		if (r >= 0) {
			*got = (size_t)r;
			break;
		}
		if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
			rc = SX_EIO;
			break;
		}
		rc = wait_fd(fd, POLLIN, deadline, stop);
		if (rc)
			break;
	}
	return rc;
}

/* One direction of a relay. */
struct dir {
	int from, to;
	char buf[RELAY_BUF];
	size_t off, len;
	bool eof, shut;
	uint64_t moved;
};

/* Moves what it can in one direction; false on a failure that ends the relay. */
static bool dir_step(struct dir *d, short from_ev, short to_ev)
{
	if (d->len == 0 && !d->eof && (from_ev & (POLLIN | POLLHUP | POLLERR))) {
		ssize_t r = recv(d->from, d->buf, sizeof(d->buf), 0);

		if (r > 0) {
			d->off = 0;
			d->len = (size_t)r;
		} else if (r == 0) {
			d->eof = true;
		} else if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
			return false;
		}
	}
	if (d->len > 0 && (to_ev & (POLLOUT | POLLHUP | POLLERR))) {
		ssize_t w = send(d->to, d->buf + d->off, d->len, MSG_NOSIGNAL);

		if (w > 0) {
			d->off += (size_t)w;
			d->len -= (size_t)w;
			d->moved += (uint64_t)w;
		} else if (w < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
			return false;
		}
	}
	return true;
}

/* The poll events dir d needs on its two ends. */
static void dir_want(const struct dir *d, struct pollfd *from, struct pollfd *to)
{
	if (d->len == 0 && !d->eof)
		from->events |= POLLIN;
	if (d->len > 0)
		to->events |= POLLOUT;
}

void egress_net_relay(int a, int b, int64_t idle_ms, const atomic_int *stop, uint64_t *a_to_b,
		      uint64_t *b_to_a)
{
	struct dir *up = xcalloc(1, sizeof(*up)), *down = xcalloc(1, sizeof(*down));
	int64_t last = sx_mono_ms();
	bool ok = true;

	up->from = a;
	up->to = b;
	down->from = b;
	down->to = a;
	while (ok && !atomic_load(stop) && !(down->eof && down->len == 0)) {
		struct pollfd p[2] = { { a, 0, 0 }, { b, 0, 0 } };
		uint64_t before = up->moved + down->moved + up->eof + down->eof;
		int n;

		if (up->eof && up->len == 0 && !up->shut) {
			shutdown(b, SHUT_WR);  /* the browser is done sending */
			up->shut = true;
		}
		dir_want(up, &p[0], &p[1]);
		dir_want(down, &p[1], &p[0]);
		n = poll(p, 2, SLICE_MS);
		if (n < 0 && errno != EINTR)
			break;
		if (n > 0) {
			ok = dir_step(up, p[0].revents, p[1].revents) &&
			     dir_step(down, p[1].revents, p[0].revents);
			if ((p[0].revents | p[1].revents) & POLLNVAL)
				ok = false;
		}
		if (up->moved + down->moved + up->eof + down->eof != before)
			last = sx_mono_ms();
		else if (sx_mono_ms() - last > idle_ms)
			break;
	}
	*a_to_b = up->moved;
	*b_to_a = down->moved;
	free(up);
	free(down);
}
