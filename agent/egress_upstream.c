/*
 * Chaining to the task's upstream proxy (see egress_upstream.h).
 */
#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <strings.h>

#include "sx.h"
#include "egress_upstream.h"
#include "buf.h"
#include "crypto.h"
#include "egress_net.h"
#include "proxy.h"

enum sx_rc egress_upstream_parse(const char *url, struct egress_upstream *u)
{
	char *plain = NULL, *user = NULL, *pass = NULL, *both = NULL;
	const char *auth;
	char *b64 = NULL;
	enum sx_rc rc = SX_EINVAL;

	memset(u, 0, sizeof(*u));
	if (!url)
		goto out;
	u->socks = proxy_url_is_socks(url);
	if (u->socks && proxy_url_has_credentials(url)) {
		rc = SX_ECONFIG;
		goto out;
	}
	plain = proxy_url_strip_credentials(url);
	auth = strstr(plain, "://");          /* NULL for a URL proxy_map_valid() refuses */
	if (!auth || !egress_authority_parse(auth + 3, strcspn(auth + 3, "/"), u->socks ? 1080 : 80,
					     u->host, &u->port))
		goto out;
	if (proxy_url_credentials(url, &user, &pass)) {
		size_t n;

		both = xasprintf("%s:%s", user, pass);
		n = crypto_base64_size(strlen(both), CRYPTO_B64_STD);
		b64 = xmalloc(n);
		crypto_base64_encode(both, strlen(both), CRYPTO_B64_STD, b64, n);
		u->auth = xasprintf("Basic %s", b64);
		crypto_wipe(b64, n);
		free(b64);
	}
	rc = SX_OK;
out:
	if (user) {
		crypto_wipe(user, strlen(user));
		crypto_wipe(pass, strlen(pass));
		free(user);
		free(pass);
	}
	if (both) {
		crypto_wipe(both, strlen(both));
		free(both);
	}
	free(plain);
	if (rc)
		egress_upstream_release(u);
	return rc;
}

void egress_upstream_release(struct egress_upstream *u)
{
	if (u->auth) {
		crypto_wipe(u->auth, strlen(u->auth));
		free(u->auth);
	}
	memset(u, 0, sizeof(*u));
}

enum sx_rc egress_upstream_address(const struct egress_upstream *u, struct sockaddr_storage *out)
{
	struct addrinfo hints, *res = NULL;
	enum sx_rc rc = SX_EHTTP;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	memset(out, 0, sizeof(*out));
	if (getaddrinfo(u->host, NULL, &hints, &res) == 0 && res &&
	    res->ai_addrlen <= sizeof(*out)) {
		memcpy(out, res->ai_addr, res->ai_addrlen);
		if (out->ss_family == AF_INET)
			((struct sockaddr_in *)(void *)out)->sin_port = htons((uint16_t)u->port);
		else
			((struct sockaddr_in6 *)(void *)out)->sin6_port = htons((uint16_t)u->port);
		rc = SX_OK;
	}
	if (res)
		freeaddrinfo(res);
	return rc;
}

/* HTTP CONNECT: sends the request, reads the answer's head, wants a 2xx. */
static enum sx_rc http_tunnel(const struct egress_upstream *u, int fd, const char *host, unsigned port,
			      int64_t deadline, const atomic_int *stop, char *why, size_t whylen)
{
	char authority[EGRESS_HOST_MAX + 16], *head = xmalloc(EGRESS_HEAD_MAX);
	struct sx_buf req;
	size_t len = 0, got = 1;
	enum sx_rc rc;

	sx_buf_init(&req, EGRESS_HEAD_MAX);
	egress_authority(host, port, authority, sizeof(authority));
	rc = sx_buf_printf(&req, "CONNECT %s HTTP/1.1\r\nHost: %s\r\n%s%s%s\r\n", authority, authority,
			   u->auth ? "Proxy-Authorization: " : "", u->auth ? u->auth : "",
			   u->auth ? "\r\n" : "");
	if (rc == SX_OK)
		rc = egress_net_write(fd, req.data, req.len, deadline, stop);
	/* Reads byte by byte: what follows the answer's head belongs to the tunnel. */
	while (rc == SX_OK && got && len < EGRESS_HEAD_MAX - 1 && !egress_head_end(head, len)) {
		rc = egress_net_read(fd, head + len, 1, deadline, stop, &got);
		len += got;
	}
	head[len] = '\0';
	if (rc == SX_OK && (len < 12 || strncmp(head, "HTTP/1.", 7) != 0 || head[9] != '2')) {
		snprintf(why, whylen, "the upstream proxy answered %.3s", len >= 12 ? head + 9 : "nothing");
		rc = SX_EHTTP;
	}
	crypto_wipe(req.data, req.len);
	sx_buf_release(&req);
	free(head);
	return rc;
}

/* Reads exactly n bytes. */
static enum sx_rc read_exact(int fd, unsigned char *p, size_t n, int64_t deadline, const atomic_int *stop)
{
	enum sx_rc rc = SX_OK;
	size_t got = 1;

	while (rc == SX_OK && n > 0) {
		rc = egress_net_read(fd, p, n, deadline, stop, &got);
		if (rc == SX_OK && got == 0)
			rc = SX_EIO;
		p += got;
		n -= got;
	}
	return rc;
}

/* SOCKS5 CONNECT by name, no authentication (RFC 1928). */
static enum sx_rc socks_tunnel(int fd, const char *host, unsigned port, int64_t deadline,
			       const atomic_int *stop, char *why, size_t whylen)
{
	static const unsigned char hello[] = { 5, 1, 0 };
	static const size_t addr_len[] = { [1] = 4, [4] = 16 };
	unsigned char msg[EGRESS_HOST_MAX + 8];
	size_t hl = strlen(host), n = 0;
	enum sx_rc rc = egress_net_write(fd, hello, sizeof(hello), deadline, stop);

	if (rc == SX_OK)
		rc = read_exact(fd, msg, 2, deadline, stop);
	if (rc == SX_OK && (msg[0] != 5 || msg[1] != 0)) {
		snprintf(why, whylen, "the upstream SOCKS proxy wants authentication");
		rc = SX_EHTTP;
		goto out;
	}
	msg[n++] = 5;
	msg[n++] = 1;
	msg[n++] = 0;
	if (inet_pton(AF_INET, host, msg + n + 1) == 1) {
		msg[n++] = 1;
		n += 4;
	} else if (inet_pton(AF_INET6, host, msg + n + 1) == 1) {
		msg[n++] = 4;
		n += 16;
	} else {
		msg[n++] = 3;
		msg[n++] = (unsigned char)hl;
		memcpy(msg + n, host, hl);
		n += hl;
	}
	msg[n++] = (unsigned char)(port >> 8);
	msg[n++] = (unsigned char)(port & 0xff);
	if (rc == SX_OK)
		rc = egress_net_write(fd, msg, n, deadline, stop);
	if (rc == SX_OK)
		rc = read_exact(fd, msg, 5, deadline, stop);
	if (rc == SX_OK && (msg[0] != 5 || msg[1] != 0)) {
		snprintf(why, whylen, "the upstream SOCKS proxy answered %u", msg[1]);
		rc = SX_EHTTP;
		goto out;
	}
	/* The bound address: 4 or 16 bytes, or a name of msg[4] bytes (one read already), then the port. */
	if (rc == SX_OK && msg[3] != 1 && msg[3] != 3 && msg[3] != 4)
		rc = SX_EIO;
	if (rc == SX_OK)
		rc = read_exact(fd, msg, (msg[3] == 3 ? msg[4] : addr_len[msg[3]] - 1) + 2, deadline, stop);
out:
	return rc;
}

enum sx_rc egress_upstream_tunnel(const struct egress_upstream *u, int fd, const char *host,
				  unsigned port, int64_t deadline, const atomic_int *stop,
				  char *why, size_t whylen)
{
	return u->socks ? socks_tunnel(fd, host, port, deadline, stop, why, whylen)
			: http_tunnel(u, fd, host, port, deadline, stop, why, whylen);
}
