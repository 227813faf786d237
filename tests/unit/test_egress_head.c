/*
 * The egress proxy's request heads: what is accepted, what is refused, and
 * what is sent on.
 */
#include <criterion/criterion.h>
#include "sx.h"
#include "buf.h"
#include "egress_head.h"

static enum sx_rc parse(const char *head, struct egress_request *r)
{
	char why[128];

	cr_assert_eq(egress_head_end(head, strlen(head)), strlen(head), "no head end in %s", head);
	return egress_head_parse(head, strlen(head), r, why, sizeof(why));
}

static char *forward(const char *head, bool absolute, const char *auth)
{
	struct egress_request r;
	struct sx_buf b;

	cr_assert_eq(parse(head, &r), SX_OK, "%s", head);
	sx_buf_init(&b, EGRESS_HEAD_MAX);
	cr_assert_eq(egress_head_forward(head, &r, absolute, auth, &b), SX_OK);
	return sx_buf_detach(&b, NULL);
}

Test(egress_head, head_end)
{
	cr_assert_eq(egress_head_end("GET / HTTP/1.1\r\n", 16), 0);
	cr_assert_eq(egress_head_end("GET / HTTP/1.1\r\n\r\nbody", 22), 18);
	cr_assert_eq(egress_head_end("\r\n\r", 3), 0);
}

Test(egress_head, connect)
{
	struct egress_request r;

	cr_assert_eq(parse("CONNECT Example.COM:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n", &r), SX_OK);
	cr_assert_eq(r.kind, EGRESS_TUNNEL);
	cr_assert_str_eq(r.host, "example.com");
	cr_assert_eq(r.port, 443);
	cr_assert_eq(parse("CONNECT [::1]:8443 HTTP/1.1\r\n\r\n", &r), SX_OK);
	cr_assert_str_eq(r.host, "::1");
	cr_assert_eq(r.port, 8443);
	cr_assert_eq(parse("CONNECT 127.0.0.2:80 HTTP/1.0\r\n\r\n", &r), SX_OK);
	cr_assert_str_eq(r.host, "127.0.0.2");
}

Test(egress_head, absolute_uri)
{
	struct egress_request r;

	cr_assert_eq(parse("GET http://a.example/x/y?z=1 HTTP/1.1\r\nHost: a.example\r\n\r\n", &r), SX_OK);
	cr_assert_eq(r.kind, EGRESS_FORWARD);
	cr_assert_str_eq(r.host, "a.example");
	cr_assert_eq(r.port, 80);
	cr_assert_eq(parse("POST HTTP://[::1]:8080 HTTP/1.1\r\n\r\n", &r), SX_OK);
	cr_assert_str_eq(r.host, "::1");
	cr_assert_eq(r.port, 8080);
}

Test(egress_head, refused_forms)
{
	static const char *const bad[] = {
		"GET /origin/form HTTP/1.1\r\n\r\n",
		"GET https://a.example/ HTTP/1.1\r\n\r\n",
		"GET ftp://a.example/ HTTP/1.1\r\n\r\n",
		"GET http://user:pw@a.example/ HTTP/1.1\r\n\r\n",
		"GET http://a.example:0/ HTTP/1.1\r\n\r\n",
		"GET http://a.example:65536/ HTTP/1.1\r\n\r\n",
		"GET http://a exa/ HTTP/1.1\r\n\r\n",
		"GET http://[zz]/ HTTP/1.1\r\n\r\n",
		"GET http://a.example/ HTTP/2.0\r\n\r\n",
		"GET http://a.example/ HTTP/1.1\r\n folded: x\r\n\r\n",
		"GET http://a.example/ HTTP/1.1\r\nNoColon\r\n\r\n",
		"GET http://a.example/ HTTP/1.1\r\nA: b\nC: d\r\n\r\n",
		"CONNECT a.example HTTP/1.1\r\n\r\n",
		"CONNECT a.example:99999 HTTP/1.1\r\n\r\n",
		"G(T http://a.example/ HTTP/1.1\r\n\r\n",
	};
	struct egress_request r;

	for (size_t i = 0; i < SX_ARRAY_LEN(bad); i++)
		cr_assert_eq(parse(bad[i], &r), SX_EINVAL, "accepted: %s", bad[i]);
}

Test(egress_head, forward_origin_form)
{
	char *out = forward("GET http://a.example:8080/p?q=1 HTTP/1.1\r\nHost: a.example:8080\r\n"
			    "Proxy-Connection: keep-alive\r\nProxy-Authorization: Basic eA==\r\n"
			    "Connection: keep-alive\r\nKeep-Alive: 5\r\nAccept: */*\r\n\r\n", false, NULL);

	cr_assert_str_eq(out, "GET /p?q=1 HTTP/1.1\r\nHost: a.example:8080\r\nAccept: */*\r\n"
			      "Connection: close\r\n\r\n");
	free(out);
	out = forward("GET http://a.example?q HTTP/1.0\r\n\r\n", false, NULL);
	cr_assert_str_eq(out, "GET /?q HTTP/1.0\r\nHost: a.example:80\r\nConnection: close\r\n\r\n");
	free(out);
}

Test(egress_head, forward_absolute_with_credentials)
{
	char *out = forward("POST http://[::1]:81 HTTP/1.1\r\nHost: [::1]:81\r\nContent-Length: 2\r\n\r\n",
			    true, "Basic dTpw");

	cr_assert_str_eq(out, "POST http://[::1]:81/ HTTP/1.1\r\nHost: [::1]:81\r\nContent-Length: 2\r\n"
			      "Proxy-Authorization: Basic dTpw\r\nConnection: close\r\n\r\n");
	free(out);
}

Test(egress_head, upgrade_keeps_connection)
{
	char *out = forward("GET http://a.example/ws HTTP/1.1\r\nHost: a.example\r\nConnection: Upgrade\r\n"
			    "Upgrade: websocket\r\n\r\n", false, NULL);

	cr_assert_str_eq(out, "GET /ws HTTP/1.1\r\nHost: a.example\r\nConnection: Upgrade\r\n"
			      "Upgrade: websocket\r\n\r\n");
	free(out);
}

Test(egress_head, authority)
{
	char host[EGRESS_HOST_MAX], out[300];
	unsigned port = 0;

	cr_assert(egress_authority_parse("proxy.example", 13, 80, host, &port));
	cr_assert_str_eq(host, "proxy.example");
	cr_assert_eq(port, 80);
	cr_assert_not(egress_authority_parse("a:", 2, 80, host, &port));
	egress_authority("::1", 443, out, sizeof(out));
	cr_assert_str_eq(out, "[::1]:443");
	egress_authority("a.example", 80, out, sizeof(out));
	cr_assert_str_eq(out, "a.example:80");
}
