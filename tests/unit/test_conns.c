/*
 * The FastCGI connections of an API worker (fcgi/conns.c), driven as nginx
 * drives them: FastCGI records written by hand over the unix socket to one
 * worker process that answers each request with the value of its parameter
 * N (and, in a header, how many requests it had answered before).  A
 * connection whose requests set FCGI_KEEP_CONN stays open and carries the
 * next request; an idle kept connection does not keep the worker from
 * answering on another one; busy kept connections do not keep a new one
 * waiting; a connection the client closes is dropped.
 * Reads carry a 10 s timeout only so that a regression fails instead of
 * hanging; nothing is timed.
 */
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>
#include <fcgiapp.h>
#include "sx.h"
#include "conns.h"
#include "supervise.h"

#include <criterion/criterion.h>

enum { T_BEGIN = 1, T_END = 3, T_PARAMS = 4, T_STDIN = 5, T_STDOUT = 6 };

static char sock_path[108];
static pid_t worker = -1;

/* The worker: answers "n=<N>" until SIGTERM, after 5 ms when N starts with "slow". */
static void serve(int listen_fd)
{
	struct fcgi_conns *conns = fcgi_conns_new(listen_fd);
	unsigned long seq = 0;
	void *req;

	sx_stop_signals_install();
	while (fcgi_conns_next(conns, &req) == SX_OK) {
		FCGX_Request *r = req;
		const char *n = FCGX_GetParam("N", r->envp);

		if (n && strncmp(n, "slow", 4) == 0)
			usleep(5000);
		FCGX_FPrintF(r->out, "Content-Type: text/plain\r\nX-Seq: %lu\r\n\r\nn=%s", seq++, n ? n : "");
		fcgi_conns_finish(r);
	}
	fcgi_conns_free(conns);
	_exit(0);
}

static void start_worker(void)
{
	char dir[] = "/tmp/sx_conns_XXXXXX";
	int fd;

	cr_assert_not_null(mkdtemp(dir));
	snprintf(sock_path, sizeof(sock_path), "%s/s", dir);
	FCGX_Init();
	fd = FCGX_OpenSocket(sock_path, 16);
	cr_assert_geq(fd, 0);
	worker = fork();
	cr_assert_geq(worker, 0);
	if (worker == 0)
		serve(fd);
	close(fd);
}

static void stop_worker(void)
{
	if (worker > 0) {
		kill(worker, SIGTERM);
		waitpid(worker, NULL, 0);
	}
	unlink(sock_path);
}

TestSuite(conns, .init = start_worker, .fini = stop_worker);

static int dial(void)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct timeval tv = { .tv_sec = 10 };
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);

	cr_assert_geq(fd, 0);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", sock_path);
	cr_assert_eq(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	return fd;
}

/* Appends one record of type with len bytes of content to out at *n. */
static void record(unsigned char *out, size_t *n, int type, const void *content, size_t len)
{
	unsigned char h[8] = { 1, (unsigned char)type, 0, 1, (unsigned char)(len >> 8),
			       (unsigned char)len, 0, 0 };

	memcpy(out + *n, h, 8);
	memcpy(out + *n + 8, content, len);
	*n += 8 + len;
}

/* Sends a request whose parameter N is n; keep sets FCGI_KEEP_CONN; with_stdin false leaves out its body's end. */
static void send_request_part(int fd, const char *n, bool keep, bool with_stdin)
{
	unsigned char buf[256], begin[8] = { 0, 1, keep ? 1 : 0 }, params[64];
	size_t len = 0, plen = strlen(n);

	params[0] = 1;
	params[1] = (unsigned char)plen;
	params[2] = 'N';
	memcpy(params + 3, n, plen);
	record(buf, &len, T_BEGIN, begin, sizeof(begin));
	record(buf, &len, T_PARAMS, params, 3 + plen);
	record(buf, &len, T_PARAMS, "", 0);
	if (with_stdin)
		record(buf, &len, T_STDIN, "", 0);
	cr_assert_eq(write(fd, buf, len), (ssize_t)len);
}

static void send_request(int fd, const char *n, bool keep)
{
	send_request_part(fd, n, keep, true);
}

static bool read_full(int fd, unsigned char *p, size_t len)
{
	while (len) {
		ssize_t r = read(fd, p, len);

		if (r <= 0)
			return false;
		p += r;
		len -= (size_t)r;
	}
	return true;
}

/*
 * Reads records up to FCGI_END_REQUEST; returns the body after the headers,
 * and in *seq (when not NULL) how many requests the worker had answered before.
 */
static char *read_answer_seq(int fd, unsigned long *seq)
{
	static char out[512];
	size_t n = 0;
	unsigned char h[8], content[65536 + 256];
	char *body;

	for (;;) {
		size_t clen, pad;

		cr_assert(read_full(fd, h, 8), "no answer (connection closed or 10 s passed)");
		clen = (size_t)h[4] << 8 | h[5];
		pad = h[6];
		cr_assert(read_full(fd, content, clen + pad));
		if (h[1] == T_END)
			break;
		if (h[1] == T_STDOUT && n + clen < sizeof(out)) {
			memcpy(out + n, content, clen);
			n += clen;
		}
	}
	out[n] = '\0';
	if (seq) {
		const char *x = strstr(out, "X-Seq: ");

		cr_assert_not_null(x, "no X-Seq header in %s", out);
		*seq = strtoul(x + 7, NULL, 10);
	}
	body = strstr(out, "\r\n\r\n");
	return body ? body + 4 : out;
}

static char *read_answer(int fd)
{
	return read_answer_seq(fd, NULL);
}

Test(conns, kept_connection_carries_the_next_request)
{
	int fd = dial();

	send_request(fd, "1", true);
	cr_assert_str_eq(read_answer(fd), "n=1");
	send_request(fd, "2", true);
	cr_assert_str_eq(read_answer(fd), "n=2");
	close(fd);
}

Test(conns, connection_without_keep_conn_is_closed_after_its_answer)
{
	int fd = dial();
	char c;

	send_request(fd, "1", false);
	cr_assert_str_eq(read_answer(fd), "n=1");
	cr_assert_eq(read(fd, &c, 1), 0, "the responder kept a connection nginx did not ask to keep");
	close(fd);
}

Test(conns, idle_kept_connection_does_not_pin_the_worker)
{
	int idle = dial(), other = dial();

	send_request(idle, "1", true);
	cr_assert_str_eq(read_answer(idle), "n=1");
	/* The one worker holds `idle` open and idle: a second connection is still answered. */
	send_request(other, "2", true);
	cr_assert_str_eq(read_answer(other), "n=2");
	send_request(idle, "3", true);
	cr_assert_str_eq(read_answer(idle), "n=3");
	close(idle);
	close(other);
}

/*
 * nginx opens a connection when its kept ones are all in use: the worker
 * must take it while its kept connections still have requests, not once
 * they all fall idle.  Three kept connections, each sent its next slow
 * request as soon as the last is answered (nginx sends one request at a
 * time on a connection), up to 20 each; a new connection's request is
 * answered within a round of them.
 */
Test(conns, busy_kept_connections_do_not_starve_a_new_one)
{
	enum { HELD = 3, QUEUED = 20 };
	struct pollfd pfd[HELD + 1];
	int sent[HELD], fresh;
	unsigned long before = 0, at = 0, seq;
	bool answered = false;

	for (int i = 0; i < HELD; i++) {
		pfd[i] = (struct pollfd){ .fd = dial(), .events = POLLIN };
		send_request(pfd[i].fd, "0", true);
		read_answer_seq(pfd[i].fd, &before);
	}
	for (int i = 0; i < HELD; i++) {
		send_request(pfd[i].fd, "slow", true);
		sent[i] = 1;
	}
	fresh = dial();
	send_request(fresh, "new", true);
	pfd[HELD] = (struct pollfd){ .fd = fresh, .events = POLLIN };
	while (!answered) {
		cr_assert_gt(poll(pfd, HELD + 1, 10000), 0, "nothing answered in 10 s");
		for (int i = 0; i < HELD; i++) {
			if (!pfd[i].revents)
				continue;
			cr_assert_str_eq(read_answer(pfd[i].fd), "n=slow");
			if (sent[i] < QUEUED) {
				send_request(pfd[i].fd, "slow", true);
				sent[i]++;
			} else {
				pfd[i].events = 0;
			}
		}
		if (pfd[HELD].revents) {
			cr_assert_str_eq(read_answer_seq(fresh, &at), "n=new");
			answered = true;
		}
	}
	seq = at - before - 1;
	cr_assert_leq(seq, 2 * HELD, "the new connection waited for %lu slow requests of the kept ones", seq);
	for (int i = 0; i < HELD; i++) {
		/* The request each kept connection still has out, if any. */
		if (pfd[i].events)
			cr_assert_str_eq(read_answer(pfd[i].fd), "n=slow");
		close(pfd[i].fd);
	}
	close(fresh);
}

/*
 * Apache sends a request's parameters, then its body (an empty FCGI_STDIN
 * record for a GET) in a write of its own: the body's end, arriving after
 * the handler has its answer, is read with its request and not taken for
 * the next request, which the kept connection carries.
 */
Test(conns, body_end_sent_late_stays_with_its_request)
{
	unsigned char end[8] = { 1, T_STDIN, 0, 1, 0, 0, 0, 0 };
	int fd = dial();

	send_request_part(fd, "1", true, false);
	usleep(50000);
	cr_assert_eq(write(fd, end, sizeof(end)), (ssize_t)sizeof(end));
	cr_assert_str_eq(read_answer(fd), "n=1");
	send_request(fd, "2", true);
	cr_assert_str_eq(read_answer(fd), "n=2", "the kept connection lost the request after a late body end");
	close(fd);
}

Test(conns, connection_closed_by_the_client_is_dropped)
{
	int first = dial(), second;

	send_request(first, "1", true);
	cr_assert_str_eq(read_answer(first), "n=1");
	close(first);
	second = dial();
	send_request(second, "2", true);
	cr_assert_str_eq(read_answer(second), "n=2");
	close(second);
}
