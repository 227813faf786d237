#ifndef SX_LISTEN_H
#define SX_LISTEN_H
/*
 * The API's listening socket: one it inherits, or one it makes.
 *
 * Inherited, in this order: the socket systemd passes by socket activation
 * (LISTEN_PID names this process and LISTEN_FDS >= 1: fd 3), then standard
 * input when it is a listening socket (Apache's mod_fcgid and other FastCGI
 * process managers start their applications that way).  Otherwise the unix
 * socket api_socket is created with api_socket_mode.
 */
#include <stdbool.h>
#include "sx.h"

struct sx_conf;

struct api_listener {
	int fd;            /* the listening socket, -1 when none */
	bool created;      /* true when fd is api_socket, made here (removed on close) */
	const char *path;  /* what fd is, for the logs: api_socket, "LISTEN_FDS" or "stdin" */
};

/*
 * Opens l (inherited or created, above).  Returns SX_OK, or SX_EIO with
 * the reason logged.  The LISTEN_* variables are removed from the
 * environment, so that no child takes them for its own.
 */
enum sx_rc api_listener_open(struct api_listener *l, const struct sx_conf *conf);
/* Closes l, and removes api_socket when it was created here. */
void api_listener_close(struct api_listener *l);
#endif
