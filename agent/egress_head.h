#ifndef SX_EGRESS_HEAD_H
#define SX_EGRESS_HEAD_H
/*
 * The request heads the egress proxy (egress.h) reads from Chromium and
 * writes to a destination or an upstream proxy.  Pure text work, no
 * sockets, so every rule here is unit-tested (tests/unit/test_egress_head.c).
 *
 * A browser talks to an HTTP proxy in two ways: `CONNECT host:port` for
 * every TLS connection and every WebSocket, and an absolute URI
 * (`GET http://host/path HTTP/1.1`) for plain HTTP.  Anything else (an
 * origin-form request, an https:// or ftp:// absolute URI, a user:pass@ in
 * the authority, a folded header) is not what Chromium sends and is refused
 * with 400.
 */
#include "sx.h"
#include "buf.h"

/* The most a request head may take, request line and headers (431 past it). */
#define EGRESS_HEAD_MAX 16384
/* The longest host name (RFC 1035: 253 characters, plus the NUL). */
#define EGRESS_HOST_MAX 256

enum egress_kind {
	EGRESS_TUNNEL,      /* CONNECT: a blind byte relay after the policy check */
	EGRESS_FORWARD,     /* an absolute http:// URI: the head is rewritten, then a relay */
};

/*
 * A parsed request head.  Offsets point into the head text the parse was
 * given, which must outlive the struct.
 */
struct egress_request {
	enum egress_kind kind;
	char host[EGRESS_HOST_MAX];  /* lower-case; an IPv6 literal without brackets */
	unsigned port;
	bool upgrade;                /* an Upgrade header: keep Connection as sent */
	size_t method_len;           /* the method is head[0 .. method_len) */
	size_t path, path_len;       /* origin form ("/a?b"); path_len 0 means "/" */
	size_t version;              /* "HTTP/1.x", 8 bytes */
	size_t headers;              /* just past the request line's CRLF */
	size_t end;                  /* just past the blank line */
};

/*
 * Finds the end of a head in buf[0..len): the offset just past the first
 * CRLFCRLF, or 0 when it has not arrived yet.
 */
size_t egress_head_end(const char *buf, size_t len);

/*
 * Parses head[0..len) (len = egress_head_end()).  SX_OK fills r; SX_EINVAL
 * writes why (for the 400 answer, never quoting more than the host) into
 * why.
 */
enum sx_rc egress_head_parse(const char *head, size_t len, struct egress_request *r,
			     char *why, size_t whylen);

/*
 * Writes the head to send on for a forwarded (EGRESS_FORWARD) request into
 * out: the request line in origin form, or in absolute form when absolute
 * is true (for an upstream HTTP proxy); the client's headers without the
 * proxy-only ones (Proxy-Connection, Proxy-Authorization) and, unless the
 * request upgrades, without Connection and Keep-Alive, to which
 * `Connection: close` is added: one request per upstream connection.  A
 * missing Host is added.  proxy_auth, when not NULL, is sent as the
 * Proxy-Authorization value (it is a secret: out must be wiped).
 * SX_ETOOBIG when out's cap is reached.
 */
enum sx_rc egress_head_forward(const char *head, const struct egress_request *r, bool absolute,
			       const char *proxy_auth, struct sx_buf *out);

/*
 * Parses an authority s[0..len) ("host", "host:port", "[v6]:port") into
 * host (lower-case, IPv6 without brackets) and *port; a missing port is
 * def, and def 0 makes the port required.  False when it is not one.
 */
bool egress_authority_parse(const char *s, size_t len, unsigned def, char host[EGRESS_HOST_MAX],
			    unsigned *port);

/* Writes "host:port" into out, bracketing an IPv6 literal ("[::1]:443"). */
void egress_authority(const char *host, unsigned port, char *out, size_t outlen);
#endif
