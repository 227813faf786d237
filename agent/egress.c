/*
 * The egress proxy (see egress.h).
 *
 * The struct is shared by the owner and every connection thread, and is
 * freed by whichever of them lets go of it last (refs), so that stopping
 * never has to wait for a thread stuck in a slow name lookup.
 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <unistd.h>

#include "sx.h"
#include "egress.h"
#include "buf.h"
#include "crypto.h"
#include "egress_head.h"
#include "egress_net.h"
#include "egress_upstream.h"
#include "log.h"
#include "ssrf.h"
#include "timeutil.h"

#define REFUSALS_MAX 64
#define STOP_WAIT_MS 3000
#define THREAD_STACK (512u << 10)

struct refusal {
	char host[EGRESS_HOST_MAX];
	unsigned port;
	char address[64];
	char reason[256];
	unsigned count;
};

struct conn {
	struct egress *e;
	int client, server;          /* -1 when none; closed under e->mu */
	struct conn *prev, *next;
};

struct egress {
	int listen_fd;
	int wake[2];                 /* a byte here ends the accept thread */
	int port;
	pthread_t acceptor;
	bool acceptor_running;
	pthread_mutex_t mu;
	pthread_cond_t cv;           /* a connection ended, or stop */
	atomic_int stop;
	bool stopped;
	unsigned active, refs;
	struct conn *conns;
	struct ssrf_allow *allow;
	struct egress_upstream up;
	bool has_up;
	char task_id[EGRESS_TASK_ID_MAX];   /* "-" when none; under mu once started (egress_adopt) */
	unsigned max_conns;
	long idle_ms, connect_ms;
	egress_resolve_fn resolve;
	struct refusal refusals[REFUSALS_MAX];
	size_t nrefusals;
	unsigned long refused_total;
};

/* ---- lifetime -------------------------------------------------------------- */

static void destroy(struct egress *e)
{
	ssrf_allow_free(e->allow);
	if (e->has_up)
		egress_upstream_release(&e->up);
	if (e->listen_fd >= 0)
		close(e->listen_fd);
	if (e->wake[0] >= 0)
		close(e->wake[0]);
	if (e->wake[1] >= 0)
		close(e->wake[1]);
	pthread_cond_destroy(&e->cv);
	pthread_mutex_destroy(&e->mu);
	free(e);
}

/* Drops one reference (the caller holds e->mu); frees e after the last. */
static void unref_locked(struct egress *e)
{
	bool last = --e->refs == 0;

	pthread_mutex_unlock(&e->mu);
	if (last)
		destroy(e);
}

/* Unlinks c, closes its sockets and drops its reference. */
static void conn_end(struct conn *c)
{
	struct egress *e = c->e;

	pthread_mutex_lock(&e->mu);
	if (c->prev)
		c->prev->next = c->next;
	else
		e->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	if (c->client >= 0)
		close(c->client);
	if (c->server >= 0)
		close(c->server);
	e->active--;
	pthread_cond_broadcast(&e->cv);
	free(c);
	unref_locked(e);
}

/* egress_net_connect's set_fd: the socket is known before it connects, so stop can shut it. */
static void conn_set_server(void *arg, int fd)
{
	struct conn *c = arg;

	pthread_mutex_lock(&c->e->mu);
	c->server = fd;
	if (atomic_load(&c->e->stop))
		shutdown(fd, SHUT_RDWR);
	pthread_mutex_unlock(&c->e->mu);
}

/* ---- refusals -------------------------------------------------------------- */

static void refusal_record(struct egress *e, const struct egress_request *r,
			   const struct sockaddr_storage *addr, const char *why)
{
	struct refusal *f = NULL;
	char task[EGRESS_TASK_ID_MAX];
	bool fresh = false;

	pthread_mutex_lock(&e->mu);
	e->refused_total++;
	for (size_t i = 0; i < e->nrefusals && !f; i++)
		if (e->refusals[i].port == r->port && strcmp(e->refusals[i].host, r->host) == 0)
			f = &e->refusals[i];
	if (!f && e->nrefusals < REFUSALS_MAX) {
		f = &e->refusals[e->nrefusals++];
		memset(f, 0, sizeof(*f));
		snprintf(f->host, sizeof(f->host), "%s", r->host);
		f->port = r->port;
		if (addr->ss_family)
			ssrf_addr_text((const struct sockaddr *)addr, f->address, sizeof(f->address));
		snprintf(f->reason, sizeof(f->reason), "%s", why);
		fresh = true;
	}
	if (f)
		f->count++;
	memcpy(task, e->task_id, sizeof(task));
	pthread_mutex_unlock(&e->mu);
	if (fresh)
		log_info("egress", "msg=\"refused\" task=%s host=%s port=%u reason=%s",
			 task, sx_log_quote(r->host), r->port, sx_log_quote(why));
}

json_object *egress_take_refusals(struct egress *e)
{
	json_object *a = json_object_new_array();

	pthread_mutex_lock(&e->mu);
	for (size_t i = 0; i < e->nrefusals; i++) {
		const struct refusal *f = &e->refusals[i];
		json_object *o = json_object_new_object();

		json_object_object_add(o, "host", json_object_new_string(f->host));
		json_object_object_add(o, "port", json_object_new_int64(f->port));
		json_object_object_add(o, "address", f->address[0] ? json_object_new_string(f->address) : NULL);
		json_object_object_add(o, "reason", json_object_new_string(f->reason));
		json_object_object_add(o, "count", json_object_new_int64(f->count));
		json_object_array_add(a, o);
	}
	e->nrefusals = 0;
	pthread_mutex_unlock(&e->mu);
	return a;
}

bool egress_refused(struct egress *e, const char *host, unsigned port, char *why, size_t whylen)
{
	bool hit = false;

	pthread_mutex_lock(&e->mu);
	for (size_t i = 0; i < e->nrefusals && !hit; i++) {
		if (e->refusals[i].port == port && strcmp(e->refusals[i].host, host) == 0) {
			hit = true;
			snprintf(why, whylen, "%s", e->refusals[i].reason);
		}
	}
	pthread_mutex_unlock(&e->mu);
	return hit;
}

bool egress_refused_url(struct egress *e, const char *url, char *why, size_t whylen)
{
	char host[EGRESS_HOST_MAX], reason[300];
	unsigned port = 0;
	bool hit = url && ssrf_url_host(url, host, sizeof(host), &port) &&
		   egress_refused(e, host, port, reason, sizeof(reason));

	if (hit)
		snprintf(why, whylen, "The start URL was refused by the browser's egress guard (%s): the browser "
			 "may reach only public addresses and those listed in outbound_allow", reason);
	return hit;
}

void egress_record_refusals(struct egress *e, json_object *output)
{
	json_object *a = egress_take_refusals(e);

	if (json_object_array_length(a) > 0)
		json_object_object_add(output, "egress_refused", a);
	else
		json_object_put(a);
}

unsigned long egress_refused_total(struct egress *e)
{
	unsigned long n;

	pthread_mutex_lock(&e->mu);
	n = e->refused_total;
	pthread_mutex_unlock(&e->mu);
	return n;
}

/* ---- one connection -------------------------------------------------------- */

/* Answers the browser with the proxy's own status and a one-line body. */
static void reply(struct conn *c, int status, const char *phrase, const char *body)
{
	char *msg = xasprintf("HTTP/1.1 %d %s\r\nContent-Type: text/plain; charset=utf-8\r\n"
			      "Content-Length: %zu\r\nConnection: close\r\nCache-Control: no-store\r\n"
			      "X-Sextant-Egress: %s\r\n\r\n%s\n",
			      status, phrase, strlen(body) + 1, status == 403 ? "refused" : "error", body);

	egress_net_write(c->client, msg, strlen(msg), sx_mono_ms() + 5000, &c->e->stop);
	free(msg);
}

/*
 * Reads the request head into head (EGRESS_HEAD_MAX).  Returns its length,
 * 0 when the browser went away or was answered (431) instead.  *len is all
 * that was read: what follows the head is the start of the body.
 */
static size_t read_head(struct conn *c, char *head, size_t *len)
{
	int64_t deadline = sx_mono_ms() + c->e->connect_ms;
	size_t end = 0, got = 1;
	enum sx_rc rc = SX_OK;

	*len = 0;
	while (rc == SX_OK && !end && got && *len < EGRESS_HEAD_MAX) {
		rc = egress_net_read(c->client, head + *len, EGRESS_HEAD_MAX - *len, deadline, &c->e->stop, &got);
		*len += got;
		end = egress_head_end(head, *len);
	}
	if (rc == SX_OK && !end && *len == EGRESS_HEAD_MAX)
		reply(c, 431, "Request Header Fields Too Large", "the request head is larger than 16 KiB");
	return rc == SX_OK ? end : 0;
}

/*
 * Opens the way to r's destination, checked address first: the socket to
 * the destination (or to the upstream, with a tunnel asked for when one is
 * needed) in c->server.  On failure the browser has been answered.
 */
static bool open_destination(struct conn *c, const struct egress_request *r)
{
	struct egress *e = c->e;
	struct sockaddr_storage addr;
	char why[320] = "";
	int64_t deadline = sx_mono_ms() + e->connect_ms;
	enum sx_rc rc = e->resolve(r->host, r->port, e->allow, &addr, why, sizeof(why));
	int fd = -1;

	if (rc == SX_EBLOCKED) {
		refusal_record(e, r, &addr, why);
		reply(c, 403, "Forbidden", why);
		goto out;
	}
	if (rc) {
		reply(c, 502, "Bad Gateway", why[0] ? why : "the destination could not be resolved");
		goto out;
	}
	if (e->has_up && (rc = egress_upstream_address(&e->up, &addr)) != SX_OK) {
		reply(c, 502, "Bad Gateway", "the upstream proxy's name does not resolve");
		goto out;
	}
	rc = egress_net_connect(&addr, deadline, &e->stop, conn_set_server, c, &fd);
	if (rc == SX_OK && e->has_up && (e->up.socks || r->kind == EGRESS_TUNNEL))
		rc = egress_upstream_tunnel(&e->up, fd, r->host, r->port, deadline, &e->stop, why, sizeof(why));
	if (rc)
		reply(c, rc == SX_ETIMEOUT ? 504 : 502, rc == SX_ETIMEOUT ? "Gateway Timeout" : "Bad Gateway",
		      why[0] ? why : e->has_up ? "the upstream proxy cannot be reached"
					       : "the destination cannot be reached");
out:
	return rc == SX_OK;
}

/* Sends the forwarded head (or the tunnel's 200) and whatever followed the head. */
static bool start_relay(struct conn *c, const struct egress_request *r, const char *head, size_t len)
{
	struct egress *e = c->e;
	int64_t deadline = sx_mono_ms() + e->connect_ms;
	bool absolute = e->has_up && !e->up.socks;
	struct sx_buf fwd;
	enum sx_rc rc;

	sx_buf_init(&fwd, EGRESS_HEAD_MAX + 1024);
	if (r->kind == EGRESS_TUNNEL) {
		static const char ok[] = "HTTP/1.1 200 Connection established\r\n\r\n";

		rc = egress_net_write(c->client, ok, sizeof(ok) - 1, deadline, &e->stop);
	} else {
		rc = egress_head_forward(head, r, absolute, absolute ? e->up.auth : NULL, &fwd);
		if (rc == SX_ETOOBIG)
			reply(c, 431, "Request Header Fields Too Large", "the request head is too large");
		if (rc == SX_OK)
			rc = egress_net_write(c->server, fwd.data, fwd.len, deadline, &e->stop);
	}
	if (rc == SX_OK && len > r->end)
		rc = egress_net_write(c->server, head + r->end, len - r->end, deadline, &e->stop);
	if (fwd.data)
		crypto_wipe(fwd.data, fwd.len);   /* it may hold the upstream's credentials */
	sx_buf_release(&fwd);
	return rc == SX_OK;
}

static void *conn_main(void *arg)
{
	struct conn *c = arg;
	struct egress_request r;
	char *head = xmalloc(EGRESS_HEAD_MAX + 1);
	char why[128], task[EGRESS_TASK_ID_MAX];
	size_t len = 0, end;
	uint64_t up = 0, down = 0;

	end = read_head(c, head, &len);
	if (!end)
		goto out;
	if (egress_head_parse(head, end, &r, why, sizeof(why)) != SX_OK) {
		reply(c, 400, "Bad Request", why);
		goto out;
	}
	if (!open_destination(c, &r) || !start_relay(c, &r, head, len))
		goto out;
	egress_net_relay(c->client, c->server, c->e->idle_ms, &c->e->stop, &up, &down);
	pthread_mutex_lock(&c->e->mu);
	memcpy(task, c->e->task_id, sizeof(task));
	pthread_mutex_unlock(&c->e->mu);
	log_debug("egress", "msg=\"relayed\" task=%s host=%s port=%u sent=%llu received=%llu",
		  task, sx_log_quote(r.host), r.port,
		  (unsigned long long)up, (unsigned long long)down);
out:
	free(head);
	conn_end(c);
	return NULL;
}

/* ---- the listener ---------------------------------------------------------- */

/* Waits for a free connection slot; false when stopping. */
static bool slot_wait(struct egress *e)
{
	bool ok;

	pthread_mutex_lock(&e->mu);
	while (e->active >= e->max_conns && !atomic_load(&e->stop))
		pthread_cond_wait(&e->cv, &e->mu);
	ok = !atomic_load(&e->stop);
	pthread_mutex_unlock(&e->mu);
	return ok;
}

static void conn_spawn(struct egress *e, int fd)
{
	struct conn *c = xcalloc(1, sizeof(*c));
	pthread_attr_t attr;
	pthread_t t;

	c->e = e;
	c->client = fd;
	c->server = -1;
	pthread_mutex_lock(&e->mu);
	c->next = e->conns;
	if (e->conns)
		e->conns->prev = c;
	e->conns = c;
	e->active++;
	e->refs++;
	pthread_mutex_unlock(&e->mu);
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	pthread_attr_setstacksize(&attr, THREAD_STACK);
	if (pthread_create(&t, &attr, conn_main, c) != 0) {
		log_warn("egress", "msg=\"cannot start a connection thread\" error=%s",
			 sx_log_quote(strerror(errno)));
		conn_end(c);
	}
	pthread_attr_destroy(&attr);
}

static void *accept_main(void *arg)
{
	struct egress *e = arg;

	while (slot_wait(e)) {
		struct pollfd p[2] = { { e->listen_fd, POLLIN, 0 }, { e->wake[0], POLLIN, 0 } };
		int fd;

		if (poll(p, 2, -1) < 0 && errno != EINTR)
			break;
		if (p[1].revents)
			break;
		if (!(p[0].revents & POLLIN))
			continue;
		fd = accept4(e->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd >= 0)
			conn_spawn(e, fd);
	}
	return NULL;
}

/* Binds and listens on 127.0.0.1, port 0. */
static enum sx_rc listen_loopback(struct egress *e)
{
	struct sockaddr_in a;
	socklen_t al = sizeof(a);
	enum sx_rc rc = SX_EIO;

	e->listen_fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (e->listen_fd >= 0 && bind(e->listen_fd, (struct sockaddr *)&a, sizeof(a)) == 0 &&
	    listen(e->listen_fd, 128) == 0 && getsockname(e->listen_fd, (struct sockaddr *)&a, &al) == 0) {
		e->port = ntohs(a.sin_port);
		rc = SX_OK;
	}
	return rc;
}

/* The options' settings, defaults filled in. */
static enum sx_rc configure(struct egress *e, const struct egress_opts *o)
{
	char err[200];
	enum sx_rc rc = ssrf_allow_parse(o->allow, &e->allow, err, sizeof(err));

	if (rc) {
		log_error("egress", "msg=\"outbound_allow does not parse\" error=%s", sx_log_quote(err));
		goto out;
	}
	if (o->upstream && *o->upstream) {
		rc = egress_upstream_parse(o->upstream, &e->up);
		if (rc) {
			log_error("egress", "msg=\"the upstream proxy URL cannot be used\" error=%s",
				  rc == SX_ECONFIG ? "\"SOCKS with credentials\"" : "invalid");
			rc = SX_ECONFIG;
			goto out;
		}
		e->has_up = true;
	}
	snprintf(e->task_id, sizeof(e->task_id), "%s", o->task_id ? o->task_id : "-");
	e->max_conns = o->max_conns ? o->max_conns : 64;
	e->idle_ms = o->idle_ms > 0 ? o->idle_ms : 120000;
	e->connect_ms = o->connect_ms > 0 ? o->connect_ms : 15000;
	e->resolve = o->resolve ? o->resolve : ssrf_resolve;
out:
	return rc;
}

enum sx_rc egress_start(const struct egress_opts *opts, struct egress **out)
{
	struct egress *e = xcalloc(1, sizeof(*e));
	pthread_condattr_t ca;
	enum sx_rc rc;

	*out = NULL;
	e->listen_fd = e->wake[0] = e->wake[1] = -1;
	e->refs = 1;
	pthread_mutex_init(&e->mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&e->cv, &ca);
	pthread_condattr_destroy(&ca);
	atomic_init(&e->stop, 0);
	rc = configure(e, opts);
	if (rc == SX_OK)
		rc = listen_loopback(e);
	if (rc == SX_OK && pipe2(e->wake, O_CLOEXEC) != 0)
		rc = SX_EIO;
	if (rc == SX_OK && pthread_create(&e->acceptor, NULL, accept_main, e) != 0)
		rc = SX_EIO;
	if (rc) {
		if (rc == SX_EIO)
			log_error("egress", "msg=\"cannot start the egress proxy\" error=%s",
				  sx_log_quote(strerror(errno)));
		destroy(e);
		goto out;
	}
	e->acceptor_running = true;
	log_debug("egress", "msg=\"listening\" task=%s port=%d", e->task_id, e->port);
	*out = e;
out:
	return rc;
}

int egress_port(const struct egress *e)
{
	return e->port;
}

void egress_adopt(struct egress *e, const char *task_id)
{
	pthread_mutex_lock(&e->mu);
	snprintf(e->task_id, sizeof(e->task_id), "%s", task_id);
	e->nrefusals = 0;
	e->refused_total = 0;
	for (struct conn *c = e->conns; c; c = c->next) {
		shutdown(c->client, SHUT_RDWR);
		if (c->server >= 0)
			shutdown(c->server, SHUT_RDWR);
	}
	pthread_mutex_unlock(&e->mu);
}

void egress_stop(struct egress *e)
{
	int64_t until = sx_mono_ms() + STOP_WAIT_MS;

	pthread_mutex_lock(&e->mu);
	if (e->stopped) {
		pthread_mutex_unlock(&e->mu);
		return;
	}
	e->stopped = true;
	atomic_store(&e->stop, 1);
	for (struct conn *c = e->conns; c; c = c->next) {
		shutdown(c->client, SHUT_RDWR);
		if (c->server >= 0)
			shutdown(c->server, SHUT_RDWR);
	}
	pthread_cond_broadcast(&e->cv);
	pthread_mutex_unlock(&e->mu);
	if (write(e->wake[1], "x", 1) < 0)
		log_warn("egress", "msg=\"cannot wake the accept thread\"");
	if (e->acceptor_running)
		pthread_join(e->acceptor, NULL);
	e->acceptor_running = false;
	close(e->listen_fd);
	e->listen_fd = -1;
	/* Bounded: a thread in a slow name lookup finishes on its own and frees e if last. */
	pthread_mutex_lock(&e->mu);
	while (e->active > 0 && sx_mono_ms() < until) {
		struct timespec ts;

		clock_gettime(CLOCK_MONOTONIC, &ts);
		ts.tv_nsec += 100 * 1000000L;
		if (ts.tv_nsec >= 1000000000L) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000L;
		}
		pthread_cond_timedwait(&e->cv, &e->mu, &ts);
	}
	pthread_mutex_unlock(&e->mu);
}

void egress_free(struct egress *e)
{
	if (!e)
		return;
	egress_stop(e);
	pthread_mutex_lock(&e->mu);
	unref_locked(e);
}
