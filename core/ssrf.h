#ifndef SX_SSRF_H
#define SX_SSRF_H
/*
 * The SSRF guard's address policy, for requests made on a user's behalf
 * (webhooks, TOTP verification URLs, upload_file downloads): a URL a client
 * gives us must not make the server reach into its own network.  An address
 * is refused when it is loopback, unspecified, private, shared (CGNAT),
 * link-local, a cloud metadata endpoint, multicast, broadcast, reserved,
 * benchmarking or documentation space, including such IPv4 addresses carried
 * inside IPv6 (IPv4-mapped and -compatible, NAT64 64:ff9b::/96, 6to4
 * 2002::/16), unless the operator's allow list (outbound_allow) names it.
 *
 * core/http.c applies this to every resolved address of a guarded request
 * and pins the connection to the checked one.
 */
#include <sys/socket.h>
#include "sx.h"

/* A parsed allow list: addresses and CIDR blocks, IPv4 and IPv6. */
struct ssrf_allow;

/*
 * Parses list ("127.0.0.0/8, ::1, 10.1.2.3"): comma-separated addresses or
 * address/prefix blocks; spaces around entries are ignored; NULL or an empty
 * string is an empty list.  On a bad entry returns SX_ECONFIG, *out NULL and
 * err naming the entry.  The caller frees *out with ssrf_allow_free().
 */
enum sx_rc ssrf_allow_parse(const char *list, struct ssrf_allow **out, char *err, size_t errlen);
void ssrf_allow_free(struct ssrf_allow *a);

/*
 * True when list parses; otherwise false with `outbound_allow: …` in err.
 * For start-up checks in both programs: a bad allow list stops start-up.
 */
bool ssrf_allow_valid(const char *list, char *err, size_t errlen);

/*
 * Start-up check of both outbound settings of c, shared by sextant-agent
 * and sextant-api: outbound_allow must parse (ssrf_allow_valid) and so must
 * proxy_map (proxy_map_valid).  False with the first problem in err.
 */
struct sx_conf;
bool ssrf_conf_valid(const struct sx_conf *c, char *err, size_t errlen);

/*
 * Checks one address.  SX_OK when it may be contacted (a public address, or
 * one the allow list names); SX_EBLOCKED otherwise, with *reason set to a
 * static phrase such as "a loopback address".  allow may be NULL (empty).
 * An address family other than IPv4/IPv6 is refused.
 */
enum sx_rc ssrf_check_addr(const struct sockaddr *sa, const struct ssrf_allow *allow,
			   const char **reason);

/*
 * Resolves host once (getaddrinfo, both families) and checks every answer.
 * The whole name is refused when any answer is refused: a name that points
 * into our network at all is either misconfigured or a rebinding attempt,
 * and refusing does not depend on the order the resolver returned.  On
 * SX_OK *out holds the first answer with its port set to port, for the
 * caller to pin the connection to; on SX_EBLOCKED it holds the refused
 * answer (no port), for the caller's record.  SX_EBLOCKED and SX_EHTTP
 * (the name does not resolve) write a message into why, such as
 * `refused: hooks.example resolves to a loopback address (127.0.0.1)`.
 */
enum sx_rc ssrf_resolve(const char *host, unsigned port, const struct ssrf_allow *allow,
			struct sockaddr_storage *out, char *why, size_t whylen);

/*
 * The host and port of an http(s) URL as a browser sends them on: the
 * host lower-case, an IPv6 literal without brackets, an IPv4 address in
 * any form browsers accept (127.1, 0x7f.0.0.1, 2130706433) written dotted,
 * no trailing dot; the port 80/443 when absent.  False for another scheme
 * or a host that does not fit in hostlen.
 */
bool ssrf_url_host(const char *url, char *host, size_t hostlen, unsigned *port);

/*
 * The create-time check of a task's URL: SX_EBLOCKED, with why, when its
 * host is a literal address the policy refuses.  Names pass (they are
 * checked when the browser goes there), and so does what ssrf_url_host()
 * cannot read (the syntax check is the caller's).
 */
enum sx_rc ssrf_check_url_literal(const char *url, const struct ssrf_allow *allow, char *why,
				  size_t whylen);

/* Writes sa's address (no port) as text: "127.0.0.1", "::1". */
void ssrf_addr_text(const struct sockaddr *sa, char *out, size_t outlen);
#endif
