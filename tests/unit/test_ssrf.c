/*
 * The SSRF guard's address policy: classification of every refused range,
 * the allow list (IPv4/IPv6 CIDRs, matching through IPv4-mapped forms), and
 * names resolved through the system resolver ("localhost").  Nothing here
 * connects anywhere: addresses are only classified.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <criterion/criterion.h>
#include "sx.h"
#include "conf.h"
#include "ssrf.h"

/* Classifies text (IPv4 or IPv6) against allow; returns the reason or NULL. */
static const char *check(const char *text, const char *allow_list)
{
	struct sockaddr_storage ss;
	struct ssrf_allow *allow = NULL;
	const char *why = NULL;
	char err[160];
	enum sx_rc rc;

	memset(&ss, 0, sizeof(ss));
	if (inet_pton(AF_INET, text, &((struct sockaddr_in *)&ss)->sin_addr) == 1)
		ss.ss_family = AF_INET;
	else if (inet_pton(AF_INET6, text, &((struct sockaddr_in6 *)&ss)->sin6_addr) == 1)
		ss.ss_family = AF_INET6;
	else
		cr_assert_fail("bad test address %s", text);
	cr_assert_eq(ssrf_allow_parse(allow_list, &allow, err, sizeof(err)), SX_OK, "%s", err);
	rc = ssrf_check_addr((struct sockaddr *)&ss, allow, &why);
	cr_assert_eq(rc == SX_OK, why == NULL, "%s: rc and reason disagree", text);
	ssrf_allow_free(allow);
	return why;
}

static void refused(const char *text, const char *reason)
{
	const char *why = check(text, NULL);

	cr_assert(why, "%s was let through", text);
	cr_assert_str_eq(why, reason, "%s", text);
}

Test(ssrf, issue_addresses_refused)
{
	refused("127.0.0.1", "a loopback address");
	refused("::1", "a loopback address");
	refused("::ffff:127.0.0.1", "a loopback address");
	refused("0.0.0.0", "an unspecified address");
	refused("10.0.0.1", "a private address");
	refused("172.16.0.1", "a private address");
	refused("192.168.1.1", "a private address");
	refused("169.254.169.254", "a cloud metadata address");
	refused("fd00::1", "a private address");
}

Test(ssrf, other_ranges_refused)
{
	refused("127.255.255.254", "a loopback address");
	refused("::", "an unspecified address");
	refused("172.31.255.255", "a private address");
	refused("100.64.0.1", "a shared (CGNAT) address");
	refused("169.254.1.1", "a link-local address");
	refused("fe80::1", "a link-local address");
	refused("fd00:ec2::254", "a cloud metadata address");
	refused("224.0.0.1", "a multicast address");
	refused("ff02::1", "a multicast address");
	refused("255.255.255.255", "a broadcast address");
	refused("240.0.0.1", "a reserved address");
	refused("198.18.0.1", "a benchmarking address");
	refused("192.0.2.1", "a documentation address");
	refused("2001:db8::1", "a documentation address");
	/* IPv4 inside IPv6: judged by where the packets end up. */
	refused("::ffff:10.0.0.1", "a private address");
	refused("::127.0.0.1", "a loopback address");
	refused("64:ff9b::10.0.0.1", "a private address");
	refused("64:ff9b::169.254.169.254", "a cloud metadata address");
	refused("2002:c0a8:0101::1", "a private address");       /* 6to4 of 192.168.1.1 */
	refused("2002:7f00:0001::", "a loopback address");      /* 6to4 of 127.0.0.1 */
}

Test(ssrf, public_addresses_pass)
{
	/* Classification only: no test connects to these. */
	cr_assert_null(check("93.184.216.34", NULL));
	cr_assert_null(check("8.8.8.8", NULL));
	cr_assert_null(check("172.32.0.1", NULL));              /* just past 172.16/12 */
	cr_assert_null(check("100.128.0.1", NULL));             /* just past 100.64/10 */
	cr_assert_null(check("2606:2800:220:1:248:1893:25c8:1946", NULL));
	cr_assert_null(check("::ffff:93.184.216.34", NULL));
	cr_assert_null(check("64:ff9b::93.184.216.34", NULL));
	cr_assert_null(check("2002:5db8:d822::1", NULL));       /* 6to4 of 93.184.216.34 */
}

Test(ssrf, allow_list_cidr_v4)
{
	cr_assert_null(check("127.0.0.1", "127.0.0.0/8"));
	cr_assert_null(check("127.1.2.3", " 127.0.0.0/8 , ::1"));
	cr_assert_null(check("10.1.2.3", "10.1.0.0/16"));
	cr_assert_str_eq(check("10.2.0.1", "10.1.0.0/16"), "a private address");
	cr_assert_null(check("192.168.1.1", "192.168.1.1"));
	cr_assert_str_eq(check("192.168.1.2", "192.168.1.1"), "a private address");
	/* An IPv4 block also covers the address's IPv4-mapped IPv6 form. */
	cr_assert_null(check("::ffff:127.0.0.1", "127.0.0.0/8"));
	/* Allowing loopback does not allow the metadata endpoint. */
	cr_assert_str_eq(check("169.254.169.254", "127.0.0.0/8"), "a cloud metadata address");
	cr_assert_null(check("169.254.169.254", "169.254.169.254/32"));
}

Test(ssrf, allow_list_cidr_v6)
{
	cr_assert_null(check("::1", "::1"));
	cr_assert_str_eq(check("::1", "127.0.0.0/8"), "a loopback address");
	cr_assert_null(check("fd12:3456::1", "fd12:3456::/32"));
	cr_assert_str_eq(check("fd12:3457::1", "fd12:3456::/32"), "a private address");
	cr_assert_null(check("fe80::1:2", "fe80::/64"));
	cr_assert_null(check("fd00::1", "fc00::/7"));
}

Test(ssrf, allow_list_parse_errors)
{
	static const char *const bad[] = {
		"localhost", "127.0.0.1/33", "::1/129", "10.0.0.0/", "10.0.0.0/x", "1.2.3",
		"127.0.0.1,,::1", "127.0.0.1,", "fe80::1%eth0",
	};
	char err[200];

	for (size_t i = 0; i < SX_ARRAY_LEN(bad); i++) {
		err[0] = '\0';
		cr_assert_not(ssrf_allow_valid(bad[i], err, sizeof(err)), "'%s' was accepted", bad[i]);
		cr_assert(strncmp(err, "outbound_allow: ", 16) == 0, "%s", err);
	}
	cr_assert(ssrf_allow_valid("", err, sizeof(err)));
	cr_assert(ssrf_allow_valid(NULL, err, sizeof(err)));
	cr_assert(ssrf_allow_valid("127.0.0.0/8,::1, 10.0.0.0/8 ,fc00::/7", err, sizeof(err)), "%s", err);
}

Test(ssrf, conf_check_covers_both_settings)
{
	struct sx_conf c;
	char err[200];

	memset(&c, 0, sizeof(c));
	c.outbound_allow = "127.0.0.0/8";
	c.proxy_map = "RESIDENTIAL=http://127.0.0.1:8888";
	cr_assert(ssrf_conf_valid(&c, err, sizeof(err)), "%s", err);
	c.outbound_allow = "nonsense";
	cr_assert_not(ssrf_conf_valid(&c, err, sizeof(err)));
	cr_assert(strstr(err, "outbound_allow"), "%s", err);
	c.outbound_allow = "";
	c.proxy_map = "RESIDENTIAL=ftp://127.0.0.1:21";
	cr_assert_not(ssrf_conf_valid(&c, err, sizeof(err)));
	cr_assert(strstr(err, "proxy_map"), "%s", err);
}

Test(ssrf, names_resolving_to_loopback_refused)
{
	struct sockaddr_storage ss;
	struct ssrf_allow *allow = NULL;
	char why[256], err[160];

	cr_assert_eq(ssrf_resolve("localhost", 80, NULL, &ss, why, sizeof(why)), SX_EBLOCKED);
	cr_assert(strstr(why, "refused: localhost resolves to a loopback address ("), "%s", why);
	cr_assert_eq(ssrf_resolve("127.0.0.1", 80, NULL, &ss, why, sizeof(why)), SX_EBLOCKED);
	cr_assert_str_eq(why, "refused: 127.0.0.1 resolves to a loopback address (127.0.0.1)");
	/* The resolver's other spellings of an address are judged by their value. */
	cr_assert_eq(ssrf_resolve("0x7f.1", 80, NULL, &ss, why, sizeof(why)), SX_EBLOCKED);
	cr_assert_eq(ssrf_resolve("::ffff:169.254.169.254", 80, NULL, &ss, why, sizeof(why)), SX_EBLOCKED);
	cr_assert(strstr(why, "cloud metadata"), "%s", why);

	/* Allow-listed: the pinned address is the checked one, with the port. */
	cr_assert_eq(ssrf_allow_parse("127.0.0.0/8,::1", &allow, err, sizeof(err)), SX_OK);
	cr_assert_eq(ssrf_resolve("localhost", 8099, allow, &ss, why, sizeof(why)), SX_OK, "%s", why);
	if (ss.ss_family == AF_INET) {
		cr_assert_eq(ntohs(((struct sockaddr_in *)&ss)->sin_port), 8099);
		cr_assert_eq(ntohl(((struct sockaddr_in *)&ss)->sin_addr.s_addr) >> 24, 127);
	} else {
		cr_assert_eq(ss.ss_family, AF_INET6);
		cr_assert_eq(ntohs(((struct sockaddr_in6 *)&ss)->sin6_port), 8099);
	}
	ssrf_allow_free(allow);

	/* A name that does not resolve is a transport error, not a refusal. */
	cr_assert_eq(ssrf_resolve("no-such-host.invalid", 80, NULL, &ss, why, sizeof(why)), SX_EHTTP);
}

Test(ssrf, url_host_as_a_browser_sends_it)
{
	static const struct {
		const char *url, *host;
		unsigned port;
	} cases[] = {
		{ "http://Example.COM/x", "example.com", 80 },
		{ "https://a.example:8443?q", "a.example", 8443 },
		{ "http://user:pw@127.0.0.2:81/", "127.0.0.2", 81 },
		{ "http://[::1]:8080/", "::1", 8080 },
		{ "https://[::ffff:127.0.0.1]", "::ffff:127.0.0.1", 443 },
		{ "http://127.1/", "127.0.0.1", 80 },
		{ "http://0x7f.0.0.1/", "127.0.0.1", 80 },
		{ "http://2130706433/", "127.0.0.1", 80 },
		{ "http://0177.0.0.1/", "127.0.0.1", 80 },
		{ "http://a.example./", "a.example", 80 },
	};
	char host[256];
	unsigned port = 0;

	for (size_t i = 0; i < SX_ARRAY_LEN(cases); i++) {
		cr_assert(ssrf_url_host(cases[i].url, host, sizeof(host), &port), "%s", cases[i].url);
		cr_assert_str_eq(host, cases[i].host, "%s", cases[i].url);
		cr_assert_eq(port, cases[i].port, "%s", cases[i].url);
	}
	cr_assert_not(ssrf_url_host("ftp://a.example/", host, sizeof(host), &port));
	cr_assert_not(ssrf_url_host("http://a.example:0/", host, sizeof(host), &port));
}

Test(ssrf, url_literals_checked_names_pass)
{
	static const char *const refused[] = {
		"http://127.0.0.2:8080/metrics", "http://[::1]/", "http://169.254.169.254/latest/",
		"http://10.1.2.3/", "http://2130706433/", "http://[::ffff:7f00:1]/", "https://0x7f.1/",
	};
	static const char *const passed[] = {
		"http://localhost/", "http://internal.example/", "http://93.184.216.34/", "http://[2606:4700::1]/",
	};
	struct ssrf_allow *allow = NULL;
	char why[200], err[160];

	for (size_t i = 0; i < SX_ARRAY_LEN(refused); i++)
		cr_assert_eq(ssrf_check_url_literal(refused[i], NULL, why, sizeof(why)), SX_EBLOCKED, "%s", refused[i]);
	for (size_t i = 0; i < SX_ARRAY_LEN(passed); i++)
		cr_assert_eq(ssrf_check_url_literal(passed[i], NULL, why, sizeof(why)), SX_OK, "%s", passed[i]);
	cr_assert_eq(ssrf_check_url_literal("http://127.0.0.2/", NULL, why, sizeof(why)), SX_EBLOCKED);
	cr_assert_str_eq(why, "127.0.0.2 is a loopback address");
	/* outbound_allow lets a listed literal through, and only it. */
	cr_assert_eq(ssrf_allow_parse("127.0.0.1/32", &allow, err, sizeof(err)), SX_OK);
	cr_assert_eq(ssrf_check_url_literal("http://127.0.0.1:8080/", allow, why, sizeof(why)), SX_OK);
	cr_assert_eq(ssrf_check_url_literal("http://127.0.0.2:8080/", allow, why, sizeof(why)), SX_EBLOCKED);
	ssrf_allow_free(allow);
}
