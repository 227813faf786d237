#ifndef SX_PROXY_H
#define SX_PROXY_H
/*
 * The proxy map: the config key proxy_map maps a task's proxy_location to
 * the proxy server its browser goes through, as comma-separated
 * LOCATION=URL pairs ("RESIDENTIAL=http://127.0.0.1:8888,
 * RESIDENTIAL_GB=socks5://user:pass@gb.proxy:1080").  A URL is http:// or
 * socks5://, a host (name, IPv4 or [IPv6]), an optional port and optional
 * user:pass@ credentials.  Unmapped locations, and NONE, go direct.
 *
 * Proxy URLs may hold credentials: they are never logged, and what a task
 * records (tasks.proxy_used) is the URL without them.
 */
#include "sx.h"

/*
 * True when map parses (NULL or "" is an empty map); otherwise false with
 * `proxy_map: …` in err.  A bad map stops start-up.  The message never
 * quotes a URL, which may hold a password.
 */
bool proxy_map_valid(const char *map, char *err, size_t errlen);

/*
 * The proxy URL map gives location (caller frees), or NULL when the
 * location is unmapped, NONE, or the map does not parse.
 */
char *proxy_map_lookup(const char *map, const char *location);

/* True when url carries user:pass@ (or user@) credentials. */
bool proxy_url_has_credentials(const char *url);

/* url without its credentials, "socks5://gb.proxy:1080" (caller frees). */
char *proxy_url_strip_credentials(const char *url);
/*
 * The user and password of url's credentials, percent-decoded (caller frees
 * both and should wipe them); false when url has none.
 */
bool proxy_url_credentials(const char *url, char **user, char **pass);
/* True for a socks5:// URL. */
bool proxy_url_is_socks(const char *url);
#endif
