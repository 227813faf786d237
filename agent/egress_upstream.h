#ifndef SX_EGRESS_UPSTREAM_H
#define SX_EGRESS_UPSTREAM_H
/*
 * The upstream proxy the egress proxy (egress.h) chains to: the task's
 * proxy_map URL (proxy.h).  The egress proxy has already checked the
 * destination against the address policy; the upstream then reaches it by
 * name, as a proxy must (it resolves where it stands, which is what a
 * proxy_location is for).
 *
 * An http:// upstream gets CONNECT for tunnels and the absolute-form
 * request for plain HTTP, with `Proxy-Authorization: Basic` when the URL
 * has credentials.  A socks5:// upstream gets a SOCKS5 CONNECT by name
 * (RFC 1928, no authentication) for both.  The credentials are secrets:
 * never logged, wiped when released.
 */
#include <stdatomic.h>
#include <sys/socket.h>
#include "sx.h"
#include "egress_head.h"

struct egress_upstream {
	bool socks;
	char host[EGRESS_HOST_MAX];
	unsigned port;
	char *auth;                  /* "Basic …" (http:// with credentials), or NULL */
};

/*
 * Parses a proxy_map URL into u.  SX_EINVAL for a URL proxy_map_valid()
 * would refuse; SX_ECONFIG for a socks5:// URL with credentials (SOCKS
 * authentication is not implemented).  u is released on failure.
 */
enum sx_rc egress_upstream_parse(const char *url, struct egress_upstream *u);
/* Wipes and frees the credentials. */
void egress_upstream_release(struct egress_upstream *u);

/* Resolves the upstream's own host (no policy: the operator configured it). */
enum sx_rc egress_upstream_address(const struct egress_upstream *u, struct sockaddr_storage *out);

/*
 * On fd, connected to the upstream, asks it for a tunnel to host:port by
 * deadline: CONNECT (http://, answered 2xx) or SOCKS5 CONNECT.  When the
 * upstream answers otherwise, SX_EHTTP with why ("the upstream proxy
 * answered 407").
 */
enum sx_rc egress_upstream_tunnel(const struct egress_upstream *u, int fd, const char *host,
				  unsigned port, int64_t deadline, const atomic_int *stop,
				  char *why, size_t whylen);
#endif
