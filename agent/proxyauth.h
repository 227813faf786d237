#ifndef SX_PROXYAUTH_H
#define SX_PROXYAUTH_H
/*
 * Proxy credentials for Chromium.  Chromium takes no user:pass in
 * --proxy-server; it asks for them with a 407 challenge, which an extension
 * can answer (MV3 webRequest.onAuthRequired with webRequestAuthProvider).
 * The agent writes a small extension holding the task's proxy credentials
 * into the task's private browser profile directory (0700, files 0600),
 * loads it into that session only, and the directory goes with the profile
 * when the session ends.  It answers proxy challenges only (isProxy), never
 * a site's own login.  SOCKS proxies with credentials are not possible:
 * Chromium does not implement SOCKS authentication.
 */
#include "sx.h"

/*
 * Writes the extension into dir (created 0700) for user/pass.  SX_EIO when
 * a file cannot be written.
 */
enum sx_rc proxyauth_write_extension(const char *dir, const char *user, const char *pass);
#endif
