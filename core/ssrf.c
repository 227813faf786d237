/*
 * The SSRF guard's address policy (see ssrf.h).
 *
 * Addresses are compared in one 16-byte form: an IPv4 address a.b.c.d is
 * held as the IPv4-mapped IPv6 address ::ffff:a.b.c.d and an IPv4 prefix /n
 * as /96+n, so one allow list entry matches an address whichever family the
 * resolver answered in.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <strings.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sys/types.h>

#include "sx.h"
#include "ssrf.h"
#include "conf.h"
#include "proxy.h"

struct ssrf_block {
	uint8_t addr[16];
	unsigned prefix;             /* 0..128, in the 16-byte form */
};

struct ssrf_allow {
	struct ssrf_block *blocks;
	size_t n;
};

static const uint8_t v4_mapped_prefix[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

static void to_mapped(const uint8_t v4[4], uint8_t out[16])
{
	memcpy(out, v4_mapped_prefix, 12);
	memcpy(out + 12, v4, 4);
}

static bool in_block(const uint8_t a[16], const uint8_t net[16], unsigned prefix)
{
	unsigned full = prefix / 8, rest = prefix % 8;

	return memcmp(a, net, full) == 0 &&
	       (rest == 0 || ((a[full] ^ net[full]) & (uint8_t)(0xff << (8 - rest))) == 0);
}

/* IPv4 classification; NULL for an address the guard lets through. */
static const char *classify_v4(const uint8_t a[4])
{
	uint32_t x = (uint32_t)a[0] << 24 | (uint32_t)a[1] << 16 | (uint32_t)a[2] << 8 | a[3];
	static const struct {
		uint32_t net;
		unsigned bits;
		const char *what;
	} table[] = {
		/* The metadata endpoint first: it lies inside link-local. */
		{ 0xA9FEA9FE, 32, "a cloud metadata address" },   /* 169.254.169.254 */
		{ 0x00000000, 8, "an unspecified address" },       /* 0.0.0.0/8 */
		{ 0x7F000000, 8, "a loopback address" },           /* 127.0.0.0/8 */
		{ 0x0A000000, 8, "a private address" },            /* 10.0.0.0/8 */
		{ 0xAC100000, 12, "a private address" },           /* 172.16.0.0/12 */
		{ 0xC0A80000, 16, "a private address" },           /* 192.168.0.0/16 */
		{ 0x64400000, 10, "a shared (CGNAT) address" },    /* 100.64.0.0/10 */
		{ 0xA9FE0000, 16, "a link-local address" },        /* 169.254.0.0/16 */
		{ 0xC0000000, 24, "a reserved address" },          /* 192.0.0.0/24 */
		{ 0xC0000200, 24, "a documentation address" },     /* 192.0.2.0/24 */
		{ 0xC0586300, 24, "a reserved address" },          /* 192.88.99.0/24 (6to4 relay) */
		{ 0xC6120000, 15, "a benchmarking address" },      /* 198.18.0.0/15 */
		{ 0xC6336400, 24, "a documentation address" },     /* 198.51.100.0/24 */
		{ 0xCB007100, 24, "a documentation address" },     /* 203.0.113.0/24 */
		{ 0xE0000000, 4, "a multicast address" },          /* 224.0.0.0/4 */
		{ 0xFFFFFFFF, 32, "a broadcast address" },         /* 255.255.255.255 */
		{ 0xF0000000, 4, "a reserved address" },           /* 240.0.0.0/4 */
	};

	const char *what = NULL;

	for (size_t i = 0; i < SX_ARRAY_LEN(table) && !what; i++) {
		uint32_t mask = table[i].bits ? 0xFFFFFFFFu << (32 - table[i].bits) : 0;

		if ((x & mask) == table[i].net)
			what = table[i].what;
	}
	return what;
}

/*
 * IPv6 classification; NULL for an address the guard lets through.  Forms
 * that carry an IPv4 address are judged by that address, since that is
 * where the packets end up (mapped sockets, NAT64 gateways, 6to4 relays).
 */
static const char *classify_v6(const uint8_t a[16])
{
	static const uint8_t zero[16];
	static const uint8_t nat64[12] = { 0x00, 0x64, 0xff, 0x9b };
	static const uint8_t metadata[16] = { 0xfd, 0x00, 0x0e, 0xc2, [14] = 0x02, [15] = 0x54 };
	static const uint8_t teredo[4] = { 0x20, 0x01, 0x00, 0x00 };
	static const uint8_t doc[4] = { 0x20, 0x01, 0x0d, 0xb8 };
	static const uint8_t discard[8] = { 0x01, 0x00 };
	const char *what = NULL;

	if (memcmp(a, zero, 16) == 0)
		what = "an unspecified address";
	else if (memcmp(a, zero, 15) == 0 && a[15] == 1)
		what = "a loopback address";
	else if (memcmp(a, v4_mapped_prefix, 12) == 0 || memcmp(a, zero, 12) == 0)
		what = classify_v4(a + 12);      /* IPv4-mapped, IPv4-compatible */
	else if (memcmp(a, nat64, 12) == 0)
		what = classify_v4(a + 12);      /* 64:ff9b::/96 */
	else if (a[0] == 0x00 && a[1] == 0x64 && a[2] == 0xff && a[3] == 0x9b && a[4] == 0 && a[5] == 1)
		what = "a private address";      /* 64:ff9b:1::/48, local-use NAT64 */
	else if (a[0] == 0x20 && a[1] == 0x02)
		what = classify_v4(a + 2);       /* 6to4: 2002:AABB:CCDD::/48 */
	else if (memcmp(a, metadata, 16) == 0)
		what = "a cloud metadata address";
	else if ((a[0] & 0xfe) == 0xfc)
		what = "a private address";      /* fc00::/7 */
	else if (a[0] == 0xfe && (a[1] & 0xc0) == 0x80)
		what = "a link-local address";   /* fe80::/10 */
	else if (a[0] == 0xfe && (a[1] & 0xc0) == 0xc0)
		what = "a private address";      /* fec0::/10, deprecated site-local */
	else if (a[0] == 0xff)
		what = "a multicast address";
	else if (memcmp(a, discard, 8) == 0)
		what = "a reserved address";     /* 100::/64 */
	else if (memcmp(a, doc, 4) == 0)
		what = "a documentation address";
	else if (memcmp(a, teredo, 4) == 0)
		what = "a reserved address";     /* Teredo hides the IPv4 client it reaches */
	else if ((a[0] & 0xe0) != 0x20)
		what = "a reserved address";     /* outside 2000::/3, the global unicast space */
	return what;
}

/*
 * The IPv4 address an IPv6 address delivers to, for the allow list: mapped,
 * compatible, NAT64 and 6to4 forms.  False for other addresses.
 */
static bool embedded_v4(const uint8_t a[16], uint8_t out[4])
{
	static const uint8_t zero[12];
	static const uint8_t nat64[12] = { 0x00, 0x64, 0xff, 0x9b };
	const uint8_t *v4 = NULL;

	if (memcmp(a, v4_mapped_prefix, 12) == 0 || memcmp(a, zero, 12) == 0 ||
	    memcmp(a, nat64, 12) == 0)
		v4 = a + 12;
	else if (a[0] == 0x20 && a[1] == 0x02)
		v4 = a + 2;
	if (v4)
		memcpy(out, v4, 4);
	return v4 != NULL;
}

static bool allow_has(const struct ssrf_allow *allow, const uint8_t a[16])
{
	bool hit = false;

	for (size_t i = 0; allow && i < allow->n && !hit; i++)
		hit = in_block(a, allow->blocks[i].addr, allow->blocks[i].prefix);
	return hit;
}

/* Parses one entry ("10.0.0.0/8", "::1") into b; false when it is not one. */
static bool parse_entry(const char *s, size_t len, struct ssrf_block *b)
{
	char text[INET6_ADDRSTRLEN + 8];
	char *slash;
	long long bits = -1;
	uint8_t v4[4];
	bool ok = false;

	if (len == 0 || len >= sizeof(text))
		goto out;
	memcpy(text, s, len);
	text[len] = '\0';
	slash = strchr(text, '/');
	if (slash)
		*slash = '\0';
	if (inet_pton(AF_INET, text, v4) == 1) {
		if (slash && !sx_parse_ll(slash + 1, 0, 32, &bits))
			goto out;
		to_mapped(v4, b->addr);
		b->prefix = 96 + (unsigned)(slash ? bits : 32);
		ok = true;
	} else if (inet_pton(AF_INET6, text, b->addr) == 1) {
		if (slash && !sx_parse_ll(slash + 1, 0, 128, &bits))
			goto out;
		b->prefix = (unsigned)(slash ? bits : 128);
		ok = true;
	}
out:
	return ok;
}

enum sx_rc ssrf_allow_parse(const char *list, struct ssrf_allow **out, char *err, size_t errlen)
{
	enum sx_rc rc = SX_OK;
	struct ssrf_allow *a = xcalloc(1, sizeof(*a));
	const char *p = list ? list : "";

	*out = NULL;
	if (strspn(p, " \t") == strlen(p))
		goto out;                         /* an empty list allows nothing */
	while (rc == SX_OK) {
		size_t len = strcspn(p, ",");
		const char *end = p + len;
		const char *s = p;

		while (s < end && (*s == ' ' || *s == '\t'))
			s++;
		while (end > s && (end[-1] == ' ' || end[-1] == '\t'))
			end--;
		a->blocks = xrealloc(a->blocks, (a->n + 1) * sizeof(*a->blocks));
		if (!parse_entry(s, (size_t)(end - s), &a->blocks[a->n])) {
			snprintf(err, errlen, "'%.*s' is not an IPv4/IPv6 address or CIDR block",
				 (int)((end - s) > 80 ? 80 : (end - s)), s);
			rc = SX_ECONFIG;
			break;
		}
		a->n++;
		if (p[len] == '\0')
			break;
		p += len + 1;
	}
out:
	if (rc)
		ssrf_allow_free(a);
	else
		*out = a;
	return rc;
}

void ssrf_allow_free(struct ssrf_allow *a)
{
	if (!a)
		return;
	free(a->blocks);
	free(a);
}

bool ssrf_allow_valid(const char *list, char *err, size_t errlen)
{
	struct ssrf_allow *a = NULL;
	char why[160] = "";
	bool ok = ssrf_allow_parse(list, &a, why, sizeof(why)) == SX_OK;

	if (!ok)
		snprintf(err, errlen, "outbound_allow: %s", why);
	ssrf_allow_free(a);
	return ok;
}

bool ssrf_conf_valid(const struct sx_conf *c, char *err, size_t errlen)
{
	return ssrf_allow_valid(c->outbound_allow, err, errlen) &&
	       proxy_map_valid(c->proxy_map, err, errlen);
}

enum sx_rc ssrf_check_addr(const struct sockaddr *sa, const struct ssrf_allow *allow,
			   const char **reason)
{
	uint8_t a[16], v4[4], mapped[16];
	const char *what = "an address of an unsupported family";

	if (sa->sa_family == AF_INET) {
		memcpy(v4, &((const struct sockaddr_in *)(const void *)sa)->sin_addr, 4);
		to_mapped(v4, a);
		what = classify_v4(v4);
	} else if (sa->sa_family == AF_INET6) {
		memcpy(a, &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr, 16);
		what = classify_v6(a);
	} else {
		goto out;
	}
	/* The allow list matches the address itself or the IPv4 address it carries. */
	if (what && (allow_has(allow, a) ||
		     (embedded_v4(a, v4) && (to_mapped(v4, mapped), allow_has(allow, mapped)))))
		what = NULL;
out:
	*reason = what;
	return what ? SX_EBLOCKED : SX_OK;
}

void ssrf_addr_text(const struct sockaddr *sa, char *out, size_t outlen)
{
	char buf[INET6_ADDRSTRLEN] = "?";

	if (sa->sa_family == AF_INET)
		inet_ntop(AF_INET, &((const struct sockaddr_in *)(const void *)sa)->sin_addr, buf, sizeof(buf));
	else if (sa->sa_family == AF_INET6)
		inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr, buf, sizeof(buf));
	snprintf(out, outlen, "%s", buf);
}

enum sx_rc ssrf_resolve(const char *host, unsigned port, const struct ssrf_allow *allow,
			struct sockaddr_storage *out, char *why, size_t whylen)
{
	struct addrinfo hints, *res = NULL;
	enum sx_rc rc = SX_OK;
	int e;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	memset(out, 0, sizeof(*out));
	e = getaddrinfo(host, NULL, &hints, &res);
	if (e != 0 || !res) {
		snprintf(why, whylen, "could not resolve host %.100s: %s", host,
			 e ? gai_strerror(e) : "no address");
		rc = SX_EHTTP;
		goto out;
	}
	for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
		const char *what = NULL;
		char text[INET6_ADDRSTRLEN];

		if (ssrf_check_addr(ai->ai_addr, allow, &what) != SX_OK) {
			if (ai->ai_addrlen <= sizeof(*out))
				memcpy(out, ai->ai_addr, ai->ai_addrlen);
			ssrf_addr_text(ai->ai_addr, text, sizeof(text));
			snprintf(why, whylen, "refused: %.100s resolves to %s (%s)", host, what, text);
			rc = SX_EBLOCKED;
			goto out;
		}
	}
	memcpy(out, res->ai_addr, res->ai_addrlen);
	if (out->ss_family == AF_INET)
		((struct sockaddr_in *)(void *)out)->sin_port = htons((uint16_t)port);
	else
		((struct sockaddr_in6 *)(void *)out)->sin6_port = htons((uint16_t)port);
out:
	if (res)
		freeaddrinfo(res);
	return rc;
}

/* The authority of an http(s) URL, past any user:pass@; NULL for another scheme. */
static const char *url_authority(const char *url, size_t *len, unsigned *default_port)
{
	bool https = strncasecmp(url, "https://", 8) == 0;
	const char *a = NULL, *at;

	if (https || strncasecmp(url, "http://", 7) == 0) {
		a = url + (https ? 8 : 7);
		*len = strcspn(a, "/?#");
		while ((at = memchr(a, '@', *len)) != NULL) {
			*len -= (size_t)(at + 1 - a);
			a = at + 1;
		}
		*default_port = https ? 443 : 80;
	}
	return a;
}

bool ssrf_url_host(const char *url, char *host, size_t hostlen, unsigned *port)
{
	unsigned def = 0;
	size_t alen = 0, hl;
	const char *a = url_authority(url, &alen, &def), *h = a, *end, *colon = NULL;
	long long p = def;
	struct in_addr v4;
	char digits[8];
	bool ok = false;

	if (!a)
		goto out;
	end = a + alen;
	if (*a == '[') {
		h = a + 1;
		colon = memchr(h, ']', alen);
		if (!colon)
			goto out;
		hl = (size_t)(colon - h);
		colon = colon + 1 < end && colon[1] == ':' ? colon + 1 : NULL;
	} else {
		colon = memchr(a, ':', alen);
		hl = colon ? (size_t)(colon - a) : alen;
	}
	if (colon && end - colon > 1 && (size_t)(end - colon - 1) < sizeof(digits)) {
		memcpy(digits, colon + 1, (size_t)(end - colon - 1));
		digits[end - colon - 1] = '\0';
		if (!sx_parse_ll(digits, 1, 65535, &p))
			goto out;
	}
	if (hl > 1 && h[hl - 1] == '.')
		hl--;                      /* "a.example." is "a.example" */
	if (hl == 0 || hl >= hostlen)
		goto out;
	for (size_t i = 0; i < hl; i++)
		host[i] = (char)tolower((unsigned char)h[i]);
	host[hl] = '\0';
	if (!strchr(host, ':') && inet_aton(host, &v4))
		inet_ntop(AF_INET, &v4, host, (socklen_t)hostlen);
	*port = (unsigned)p;
	ok = true;
out:
	return ok;
}

enum sx_rc ssrf_check_url_literal(const char *url, const struct ssrf_allow *allow, char *why,
				  size_t whylen)
{
	struct sockaddr_storage ss;
	char host[256];
	unsigned port;
	const char *what = NULL;
	enum sx_rc rc = SX_OK;

	memset(&ss, 0, sizeof(ss));
	if (!url || !ssrf_url_host(url, host, sizeof(host), &port))
		goto out;
	if (inet_pton(AF_INET, host, &((struct sockaddr_in *)(void *)&ss)->sin_addr) == 1)
		ss.ss_family = AF_INET;
	else if (inet_pton(AF_INET6, host, &((struct sockaddr_in6 *)(void *)&ss)->sin6_addr) == 1)
		ss.ss_family = AF_INET6;
	else
		goto out;                  /* a name: checked when the browser goes there */
	rc = ssrf_check_addr((const struct sockaddr *)&ss, allow, &what);
	if (rc)
		snprintf(why, whylen, "%s is %s", host, what);
out:
	return rc;
}
