#ifndef SX_EGRESS_H
#define SX_EGRESS_H
/*
 * The egress proxy: every request one browser session makes goes through
 * it, and it applies the SSRF guard's address policy (ssrf.h) to each.
 * Chromium is started with --proxy-server=http://127.0.0.1:<egress_port()>
 * and --proxy-bypass-list=<-loopback>, so that the start URL, navigations,
 * redirects, subresources, fetch/XHR, WebSockets and service-worker
 * fetches all come here, loopback included.
 *
 * For each request (a CONNECT tunnel or an absolute-URI plain HTTP request,
 * see egress_head.h) the destination host is resolved once and every
 * answer checked (ssrf_resolve); the connection then goes to exactly the
 * checked address, so a name cannot be re-pointed (DNS rebinding) between
 * the check and the connect.  A refused destination gets 403 and is
 * recorded (egress_take_refusals).  With an upstream proxy (the task's
 * proxy_map URL) the destination is checked the same way, then the
 * upstream is asked for it by name (egress_upstream.h).
 *
 * One listener per browser session, on 127.0.0.1 and an ephemeral port, so
 * every refusal belongs to one task.  An accept thread and one thread per
 * connection; at most max_conns connections at once (more wait in the
 * listen backlog); a head is read by a deadline into a 16 KiB cap (431
 * past it); a relay ends after idle_ms without traffic.  Nothing here is
 * ever waited on by the caller except egress_stop().
 */
#include <sys/socket.h>
#include <json-c/json.h>
#include "sx.h"

struct ssrf_allow;

/*
 * How a destination host is resolved and checked: ssrf_resolve()'s
 * contract (on SX_EBLOCKED *out holds the refused address).  Tests pass
 * their own to answer a name differently from one call to the next.
 */
typedef enum sx_rc (*egress_resolve_fn)(const char *host, unsigned port, const struct ssrf_allow *allow,
					struct sockaddr_storage *out, char *why, size_t whylen);

struct egress_opts {
	const char *allow;           /* outbound_allow text (ssrf_allow_parse) */
	const char *upstream;        /* the task's proxy URL (may hold credentials), or NULL */
	const char *task_id;         /* for the log, or NULL */
	unsigned max_conns;          /* 0: 64 */
	long idle_ms;                /* 0: 120000 */
	long connect_ms;             /* 0: 15000, also the head-read deadline */
	egress_resolve_fn resolve;   /* NULL: ssrf_resolve */
};

struct egress;

/* The longest task id the proxy's log lines carry (longer ones are cut). */
#define EGRESS_TASK_ID_MAX 64

/*
 * Starts a proxy listening on 127.0.0.1 (an ephemeral port) for one
 * browser session.  SX_ECONFIG when allow does not parse or upstream is a
 * SOCKS URL with credentials; SX_EIO when the socket or thread cannot be
 * had.  The caller frees *out with egress_free().
 */
enum sx_rc egress_start(const struct egress_opts *opts, struct egress **out);
/* The port the proxy listens on. */
int egress_port(const struct egress *e);

/*
 * Hands a proxy started without a task (a warm browser's, browser_pool.h)
 * to task_id: its log lines and refusals name that task from now on, the
 * refusals recorded before are dropped, and the connections opened before
 * are ended, so nothing the idle browser had open is carried into the
 * task.  The address policy and the upstream are the ones it was started
 * with: only a proxy started like the task's own (the same outbound_allow,
 * no upstream) may be adopted.
 */
void egress_adopt(struct egress *e, const char *task_id);

/*
 * Takes the refusals recorded since the last call: a JSON array (caller
 * puts; empty when none) of {"host", "port", "address", "reason",
 * "count"}, one entry per distinct host:port, the first 64 only.
 */
json_object *egress_take_refusals(struct egress *e);

/*
 * True when a refusal of host:port is waiting to be taken; why then gets
 * its reason.  host is compared as the browser sends it (lower-case, an
 * IPv6 literal without brackets).
 */
bool egress_refused(struct egress *e, const char *host, unsigned port, char *why, size_t whylen);

/*
 * True when the refusals waiting to be taken name url's host and port (the
 * host as the browser sends it: lower-case, IPv4 in dotted form); why then
 * gets a sentence for the task's failure_reason.  For the runner to know
 * that the start URL itself was refused.
 */
bool egress_refused_url(struct egress *e, const char *url, char *why, size_t whylen);

/*
 * Takes the refusals (egress_take_refusals) and, when there are any, adds
 * them to a step's output as "egress_refused".
 */
void egress_record_refusals(struct egress *e, json_object *output);

/* Total requests refused since the start (for tests and logs). */
unsigned long egress_refused_total(struct egress *e);

/*
 * Stops accepting, ends every connection and waits (bounded) for their
 * threads.  Refusals stay readable.  Idempotent.
 */
void egress_stop(struct egress *e);
/* Stops e and frees it; accepts NULL. */
void egress_free(struct egress *e);
#endif
