#ifndef SX_FCGI_CONNS_H
#define SX_FCGI_CONNS_H
/*
 * The FastCGI connections one API worker serves.  nginx keeps its
 * connections to the workers open between requests (fastcgi_keep_conn on,
 * an upstream keepalive pool): a request then sets FCGI_KEEP_CONN, and
 * libfcgi leaves the connection open after FCGX_Finish_r.  A worker that
 * only read the next request from that one connection would be pinned by
 * it while it sits idle in nginx's pool, and a connection nginx opens to a
 * busy set of workers would wait in the listen queue until one of nginx's
 * idle ones closed (keepalive_timeout): so each worker holds several
 * connections and waits on all of them and on the listening socket at
 * once, and answers whichever has a request first.  A connection nginx
 * closes is dropped; one without FCGI_KEEP_CONN is closed by libfcgi after
 * its request, as before.  A request on a connection whose worker is busy
 * waits for that worker's current request (milliseconds): nginx reuses
 * the connection it freed last first, whose worker has just finished.
 *
 * The listening socket is made non-blocking (shared by every worker: the
 * one that wins the accept serves the connection, the others go back to
 * waiting).  Only libfcgi's FCGX_Request.ipcFd is read here, to wait on it.
 */
#include "sx.h"

struct fcgi_conns;

/* A set over listen_fd (from FCGX_OpenSocket), holding no connection yet. */
struct fcgi_conns *fcgi_conns_new(int listen_fd);
/* Closes every connection it holds and frees the set; NULL is fine. */
void fcgi_conns_free(struct fcgi_conns *c);

/*
 * Waits until a request has arrived on one of the connections (or a new
 * one) and returns its FCGX_Request * in *out, read and ready for the
 * handler, which ends it with FCGX_Finish_r (the connection stays in the
 * set when nginx asked to keep it).  Returns SX_OK, or SX_EDONE once
 * sx_stopping is set (the caller stops).
 */
enum sx_rc fcgi_conns_next(struct fcgi_conns *c, void **out);

/*
 * Ends a request from fcgi_conns_next: reads what is left of its body (to
 * the end of its FCGI_STDIN stream) and calls FCGX_Finish_r.  libfcgi does
 * not read a body the handler left unread, and a web server may send the
 * body's last record after the handler has answered (Apache does, even
 * for a GET): left on a kept connection it would be read as the start of
 * the next request, and libfcgi would close the connection (lingering up
 * to 2 s, this worker blocked) while the web server sends its next request
 * on it.
 */
void fcgi_conns_finish(void *req);
#endif
