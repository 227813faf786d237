#ifndef SX_AGENT_PRIVDROP_H
#define SX_AGENT_PRIVDROP_H
/*
 * The agent's privileges, settled at start before any browser: Chromium
 * never runs as root, and its own sandbox stays on unless the config says
 * otherwise.
 */
#include "sx.h"

struct sx_conf;

/*
 * Started as root (effective uid 0): switches the whole process to
 * agent_user, with that user's primary group and supplementary groups, and
 * HOME set to its home directory (/tmp when that does not exist).  Refuses
 * (SX_EINVAL, the reason in err) when agent_user is empty, unknown or
 * root, and SX_EIO when a switch fails.  Started as any other user: SX_OK
 * and nothing changes.  The parent-death signal survives the switch
 * (Linux clears it on a change of credentials), and the process stays
 * dumpable, as a process started as that user is.
 */
enum sx_rc agent_drop_root(const struct sx_conf *conf, char *err, size_t errlen);

/*
 * Decides whether the browsers get Chromium's sandbox.  With
 * chromium_no_sandbox they do not, and a warning says so.  Otherwise, when
 * the agent starts its own browsers (no webdriver_url), checks that this
 * user may create the user, PID and network namespaces the sandbox is made
 * of: SX_EINVAL with the reason and the two ways out in err when it may not.
 */
enum sx_rc agent_sandbox_check(const struct sx_conf *conf, char *err, size_t errlen);
#endif
