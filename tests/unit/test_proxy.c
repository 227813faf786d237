/*
 * The proxy map: what parses, what stops start-up (without echoing a
 * password), lookups, and the credential-free form a task records.
 */
#include <criterion/criterion.h>
#include "sx.h"
#include "proxy.h"

Test(proxy, valid_maps)
{
	static const char *const good[] = {
		"", "  ", NULL,
		"RESIDENTIAL=http://127.0.0.1:8888",
		"RESIDENTIAL=http://127.0.0.1:8888/",
		"RESIDENTIAL=http://127.0.0.1:8888, RESIDENTIAL_GB=socks5://user:pass@gb.proxy:1080",
		"RESIDENTIAL_ISP=http://[::1]:3128",
		"RESIDENTIAL=http://proxy.example",
		"RESIDENTIAL=http://u%40x:p%2Cw@proxy.example:8080",
	};
	char err[200];

	for (size_t i = 0; i < SX_ARRAY_LEN(good); i++)
		cr_assert(proxy_map_valid(good[i], err, sizeof(err)), "'%s': %s",
			  good[i] ? good[i] : "(null)", err);
}

Test(proxy, bad_maps_stop_startup_without_the_password)
{
	static const char *const bad[] = {
		"RESIDENTIAL",                                  /* no = */
		"=http://127.0.0.1:8888",                       /* no location */
		"residential=http://127.0.0.1:8888",            /* lower case */
		"RESIDENTIAL=ftp://127.0.0.1:21",               /* scheme */
		"RESIDENTIAL=127.0.0.1:8888",                   /* no scheme */
		"RESIDENTIAL=http://127.0.0.1:0",               /* port */
		"RESIDENTIAL=http://127.0.0.1:70000",
		"RESIDENTIAL=http://127.0.0.1:88x",
		"RESIDENTIAL=http://127.0.0.1:8888/path",       /* path */
		"RESIDENTIAL=http://",                          /* no host */
		"RESIDENTIAL=socks5://s3cret-user:s3cret-pass@",
		"RESIDENTIAL=http://a:1,RESIDENTIAL=http://b:2", /* twice */
		"NONE=http://127.0.0.1:8888",                   /* NONE is always direct */
		"RESIDENTIAL=http://127.0.0.1:8888,",           /* empty entry */
		"RESIDENTIAL=http://[::1:3128",
	};
	char err[200];

	for (size_t i = 0; i < SX_ARRAY_LEN(bad); i++) {
		err[0] = '\0';
		cr_assert_not(proxy_map_valid(bad[i], err, sizeof(err)), "'%s' was accepted", bad[i]);
		cr_assert(strncmp(err, "proxy_map: ", 11) == 0, "%s", err);
		cr_assert_null(strstr(err, "s3cret"), "the message shows a credential: %s", err);
	}
}

Test(proxy, lookup)
{
	static const char map[] =
		"RESIDENTIAL=http://127.0.0.1:8888, RESIDENTIAL_GB=socks5://user:pass@gb.proxy:1080";
	char *u;

	u = proxy_map_lookup(map, "RESIDENTIAL");
	cr_assert_str_eq(u, "http://127.0.0.1:8888");
	free(u);
	u = proxy_map_lookup(map, "RESIDENTIAL_GB");
	cr_assert_str_eq(u, "socks5://user:pass@gb.proxy:1080");
	free(u);
	/* Unmapped, NONE, a prefix of a mapped name, an empty map: direct. */
	cr_assert_null(proxy_map_lookup(map, "RESIDENTIAL_FR"));
	cr_assert_null(proxy_map_lookup(map, "NONE"));
	cr_assert_null(proxy_map_lookup(map, "RESIDENT"));
	cr_assert_null(proxy_map_lookup("", "RESIDENTIAL"));
	cr_assert_null(proxy_map_lookup(NULL, "RESIDENTIAL"));
	cr_assert_null(proxy_map_lookup(map, NULL));
}

Test(proxy, credentials_stripped)
{
	char *s;

	cr_assert(proxy_url_has_credentials("socks5://user:pass@gb.proxy:1080"));
	cr_assert(proxy_url_has_credentials("http://user@proxy:8080"));
	cr_assert_not(proxy_url_has_credentials("http://127.0.0.1:8888"));
	cr_assert_not(proxy_url_has_credentials(NULL));

	s = proxy_url_strip_credentials("socks5://user:pass@gb.proxy:1080");
	cr_assert_str_eq(s, "socks5://gb.proxy:1080");
	free(s);
	s = proxy_url_strip_credentials("http://u:p%40ss@[::1]:3128");
	cr_assert_str_eq(s, "http://[::1]:3128");
	free(s);
	s = proxy_url_strip_credentials("http://127.0.0.1:8888");
	cr_assert_str_eq(s, "http://127.0.0.1:8888");
	free(s);
	cr_assert_null(proxy_url_strip_credentials(NULL));
	/* Something that is not a proxy URL is never echoed: it may be a password. */
	s = proxy_url_strip_credentials("not a url with secret");
	cr_assert_null(strstr(s, "secret"));
	free(s);
}

Test(proxy, credentials_are_read_and_decoded)
{
	char *user = NULL, *pass = NULL;

	cr_assert(proxy_url_credentials("http://sx-user:p%40ss%3Aw0rd@127.0.0.1:3128", &user, &pass));
	cr_assert_str_eq(user, "sx-user");
	cr_assert_str_eq(pass, "p@ss:w0rd");
	free(user);
	free(pass);
	cr_assert(proxy_url_credentials("http://only-user@proxy.example:8080", &user, &pass));
	cr_assert_str_eq(user, "only-user");
	cr_assert_str_eq(pass, "");
	free(user);
	free(pass);
	cr_assert_not(proxy_url_credentials("http://127.0.0.1:3128", &user, &pass));
	cr_assert_null(user);
	cr_assert_not(proxy_url_credentials(NULL, &user, &pass));
	cr_assert(proxy_url_is_socks("socks5://u:p@h:1080"));
	cr_assert_not(proxy_url_is_socks("http://h:1"));
}
