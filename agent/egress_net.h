#ifndef SX_EGRESS_NET_H
#define SX_EGRESS_NET_H
/*
 * The socket work of the egress proxy (egress.h): a connect, a write and a
 * read that each end by a deadline, and the byte relay between the browser
 * and a destination.  Every socket here is non-blocking and every wait is a
 * poll in short slices that also ends when *stop becomes non-zero, so
 * stopping a proxy never waits for a slow peer.
 *
 * Deadlines are sx_mono_ms() values.  Failures return SX_ETIMEOUT (the
 * deadline passed), SX_ECANCELED (*stop), SX_EIO (the peer reset or
 * closed), or SX_EHTTP (a connect was refused or unreachable).
 */
#include <stdatomic.h>
#include <sys/socket.h>
#include "sx.h"

/*
 * Connects a new non-blocking TCP socket to exactly sa (no name is looked
 * up here) by deadline.  *fd is the socket on SX_OK, -1 otherwise; set_fd,
 * when not NULL, is called with the socket as soon as it exists, so that a
 * stop can shut it down while the connect is pending.
 */
enum sx_rc egress_net_connect(const struct sockaddr_storage *sa, int64_t deadline,
			      const atomic_int *stop, void (*set_fd)(void *arg, int fd), void *arg,
			      int *fd);

/* Writes all of p[0..n) to fd by deadline. */
enum sx_rc egress_net_write(int fd, const void *p, size_t n, int64_t deadline, const atomic_int *stop);

/*
 * Reads what is there (at most cap bytes) into p once fd is readable, by
 * deadline.  *got is 0 at end of stream.
 */
enum sx_rc egress_net_read(int fd, void *p, size_t cap, int64_t deadline, const atomic_int *stop,
			   size_t *got);

/*
 * Relays bytes both ways between a (the browser) and b (the destination)
 * until b has closed and everything it sent is delivered, either side
 * fails, nothing has moved for idle_ms, or *stop.  The end of a's stream is
 * passed on to b as a half close.  Returns the bytes relayed each way.
 */
void egress_net_relay(int a, int b, int64_t idle_ms, const atomic_int *stop, uint64_t *a_to_b,
		      uint64_t *b_to_a);

/* Makes fd non-blocking; false on failure. */
bool egress_net_nonblock(int fd);
#endif
