/*
 * The API's listening socket (listen.h): systemd's, mod_fcgid's on stdin,
 * or api_socket.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>
#include <fcgiapp.h>

#include "sx.h"
#include "conf.h"
#include "listen.h"
#include "log.h"

/* The first fd systemd passes (sd_listen_fds(3): SD_LISTEN_FDS_START). */
#define LISTEN_FDS_START 3

/* True when fd is a socket in the listening state. */
static bool fd_is_listening(int fd)
{
	int on = 0;
	socklen_t len = sizeof(on);

	return getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &on, &len) == 0 && on;
}

/*
 * The fd systemd's socket activation passed this process, or -1.  Only the
 * first is served: sextant-api.socket passes one.  LISTEN_PID guards
 * against variables inherited from a parent they were meant for.
 */
static int systemd_listen_fd(void)
{
	const char *pid = getenv("LISTEN_PID"), *fds = getenv("LISTEN_FDS");
	long long p = 0, n = 0;
	int fd = -1;

	if (pid && fds && sx_parse_ll(pid, 1, INT32_MAX, &p) && sx_parse_ll(fds, 0, 1024, &n) && p == (long long)getpid() &&
	    n >= 1 && fd_is_listening(LISTEN_FDS_START))
		fd = LISTEN_FDS_START;
	unsetenv("LISTEN_PID");
	unsetenv("LISTEN_FDS");
	unsetenv("LISTEN_FDNAMES");
	return fd;
}

enum sx_rc api_listener_open(struct api_listener *l, const struct sx_conf *conf)
{
	enum sx_rc rc = SX_OK;

	l->fd = systemd_listen_fd();
	l->created = false;
	l->path = "LISTEN_FDS";
	if (l->fd >= 0)
		goto out;
	if (fd_is_listening(STDIN_FILENO)) {
		l->fd = STDIN_FILENO;
		l->path = "stdin";
		goto out;
	}
	l->path = conf->api_socket;
	unlink(conf->api_socket);
	l->fd = FCGX_OpenSocket(conf->api_socket, 256);
	if (l->fd < 0) {
		log_error("api", "msg=\"cannot listen\" socket=%s", sx_log_quote(conf->api_socket));
		rc = SX_EIO;
		goto out;
	}
	l->created = true;
	if (chmod(conf->api_socket, (mode_t)conf->api_socket_mode) != 0)
		log_warn("api", "msg=\"chmod socket failed\" error=%s", sx_log_quote(strerror(errno)));
out:
	return rc;
}

void api_listener_close(struct api_listener *l)
{
	if (l->fd < 0)
		return;
	close(l->fd);
	if (l->created)
		unlink(l->path);
	l->fd = -1;
}
