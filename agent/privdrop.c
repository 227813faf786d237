/*
 * The agent's privileges (see privdrop.h).
 */
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>
#include "sx.h"
#include "conf.h"
#include "log.h"
#include "privdrop.h"

/* Switches to pw's user and groups; SX_EIO with the failing call in err. */
static enum sx_rc switch_user(const struct passwd *pw, char *err, size_t errlen)
{
	enum sx_rc rc = SX_EIO;
	const char *call = NULL, *why = "root could be regained";

	if (initgroups(pw->pw_name, pw->pw_gid) != 0)
		call = "initgroups";
	else if (setgid(pw->pw_gid) != 0)
		call = "setgid";
	else if (setuid(pw->pw_uid) != 0)
		call = "setuid";
	else if (setuid(0) == 0)
		call = "check";
	else
		rc = SX_OK;
	if (rc && strcmp(call, "check") != 0)
		why = strerror(errno);
	if (rc)
		snprintf(err, errlen, "sextant-agent: cannot switch to agent_user %s: %s: %s", pw->pw_name,
			 call, why);
	return rc;
}

enum sx_rc agent_drop_root(const struct sx_conf *conf, char *err, size_t errlen)
{
	enum sx_rc rc = SX_OK;
	const struct passwd *pw;
	int deathsig = 0;

	if (geteuid() != 0)
		goto out;
	rc = SX_EINVAL;
	if (!*conf->agent_user) {
		snprintf(err, errlen, "sextant-agent: refusing to run as root: Chromium must not run as "
			 "root; set agent_user to the user the agent should run as, or start it as that user");
		goto out;
	}
	errno = 0;
	pw = getpwnam(conf->agent_user);
	if (!pw) {
		snprintf(err, errlen, "sextant-agent: agent_user %s: no such user", conf->agent_user);
		goto out;
	}
	if (pw->pw_uid == 0) {
		snprintf(err, errlen, "sextant-agent: agent_user %s is root: name an unprivileged user",
			 conf->agent_user);
		goto out;
	}
	prctl(PR_GET_PDEATHSIG, &deathsig);
	rc = switch_user(pw, err, errlen);
	if (rc)
		goto out;
	prctl(PR_SET_PDEATHSIG, deathsig);
	/* A credential change makes the process undumpable; a process started
	 * as this user is dumpable (LeakSanitizer and core dumps need it). */
	prctl(PR_SET_DUMPABLE, 1);
	setenv("HOME", access(pw->pw_dir, X_OK) == 0 ? pw->pw_dir : "/tmp", 1);
	setenv("USER", pw->pw_name, 1);
	setenv("LOGNAME", pw->pw_name, 1);
	log_info("agent", "msg=\"switched from root\" user=%s uid=%d gid=%d", sx_log_quote(pw->pw_name),
		 (int)pw->pw_uid, (int)pw->pw_gid);
out:
	return rc;
}

/*
 * Whether this user may make the namespaces of Chromium's sandbox: a child
 * tries, so that the agent itself stays where it is.  0, or the errno.
 */
static int sandbox_namespaces_errno(void)
{
	int ws = 0;
	pid_t pid = fork();

	if (pid == 0)
		_exit(unshare(CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNET) == 0 ? 0 : errno & 0xff);
	if (pid < 0)
		return errno;
	while (waitpid(pid, &ws, 0) < 0 && errno == EINTR)
		;
	return WIFEXITED(ws) ? WEXITSTATUS(ws) : EPERM;
}

enum sx_rc agent_sandbox_check(const struct sx_conf *conf, char *err, size_t errlen)
{
	enum sx_rc rc = SX_OK;
	int e;

	if (conf->chromium_no_sandbox) {
		log_warn("agent", "msg=\"chromium_no_sandbox is set: browsers run without Chromium's "
			 "sandbox\"");
		goto out;
	}
	if (*conf->webdriver_url)
		goto out;
	e = sandbox_namespaces_errno();
	if (e) {
		snprintf(err, errlen, "sextant-agent: Chromium's sandbox cannot start: this user may not "
			 "create user namespaces (unshare: %s); allow them (sysctl "
			 "kernel.unprivileged_userns_clone=1, user.max_user_namespaces > 0) or set "
			 "chromium_no_sandbox = true", strerror(e));
		rc = SX_EINVAL;
	}
out:
	return rc;
}
