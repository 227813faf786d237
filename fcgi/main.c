/*
 * sextant-api: the Task API as a pre-forked FastCGI responder.
 *
 *   sextant-api --config FILE
 *   sextant-api --routes        (prints the route table, see router.h)
 *
 * The supervisor opens the unix socket, or takes the one it inherits from
 * systemd or a FastCGI process manager (listen.h), forks api_workers
 * workers and replaces any that die.  Each worker holds one database
 * connection and answers one request at a time, from any of the FastCGI
 * connections it holds open for nginx (conns.h).  SIGTERM (or SIGINT) stops accepting; a
 * worker finishes the request in hand, then exits; the supervisor waits for
 * them and removes a socket it created.
 */
#include <errno.h>
#include <sys/stat.h>
#include <unistd.h>
#include <fcgiapp.h>

#include "sx.h"
#include "conf.h"
#include "db.h"
#include "http.h"
#include "conns.h"
#include "listen.h"
#include "request.h"
#include "log.h"
#include "router.h"
#include "supervise.h"
#include "timeutil.h"

/*
 * Answers one accepted request and finishes it.  The request's arena is
 * released only after it is finished (fcgi_conns_finish), so that nothing the response still
 * refers to is freed before libfcgi has flushed it (nginx's request pool).
 */
static void handle_one(FCGX_Request *fr, const struct sx_conf *conf, struct sx_db *db)
{
	struct http_req req;
	int64_t t0 = sx_mono_ms();

	http_req_init(&req, fr, conf, db);
	router_dispatch(&req);
	if (!req.replied)
		http_reply_detail(&req, 500, "Internal Server Error");
	log_debug("api", "method=%s path=%s status=%d ms=%lld", req.method,
		  sx_log_quote(req.path), req.status, (long long)(sx_mono_ms() - t0));
	fcgi_conns_finish(fr);
	http_req_release(&req);
}

struct api_ctx {
	int listen_fd;
	const struct sx_conf *conf;
};

static int worker_main(int index, void *arg)
{
	const struct api_ctx *ctx = arg;
	const struct sx_conf *conf = ctx->conf;
	struct fcgi_conns *conns;
	struct sx_db *db = NULL;
	void *fr;

	(void)index;
	/* A database that is down now is retried on the first request. */
	if (sx_db_open(&db, conf) != SX_OK)
		log_warn("api", "msg=\"database not reachable at start; will retry per request\"");
	conns = fcgi_conns_new(ctx->listen_fd);
	while (fcgi_conns_next(conns, &fr) == SX_OK)
		handle_one(fr, conf, db);
	fcgi_conns_free(conns);
	sx_db_free(db);
	return 0;
}

int main(int argc, char **argv)
{
	struct sx_conf conf;
	struct api_ctx ctx;
	struct api_listener listener = { .fd = -1 };
	int status = 1;

	/* The route table, for the test that holds api/openapi.json to it. */
	if (argc == 2 && strcmp(argv[1], "--routes") == 0) {
		router_print_routes(stdout);
		return 0;
	}
	status = sx_daemon_init(argc, argv, "sextant-api", &conf);
	if (status)
		goto out;
	status = 1;
	/* Before the workers fork: retry_webhook on /v1/runs posts from the API. */
	http_global_init();
	if (FCGX_Init() != 0) {
		log_error("api", "msg=\"FCGX_Init failed\"");
		goto out;
	}
	if (api_listener_open(&listener, &conf) != SX_OK)
		goto out;

	sx_stop_signals_install();
	ctx.listen_fd = listener.fd;
	ctx.conf = &conf;
	log_info("api", "msg=listening socket=%s", sx_log_quote(listener.path));
	sx_supervise("api", (int)conf.api_workers, worker_main, &ctx);
	log_info("api", "msg=stopped");
	status = 0;
out:
	api_listener_close(&listener);
	sx_conf_release(&conf);
	return status;
}
