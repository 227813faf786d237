/*
 * bench/api's two yardsticks, pre-forked like sextant-api (same worker
 * count, the same supervisor), holding their connections from nginx the
 * same way (fcgi/conns.h: kept open between requests, several per worker),
 * behind the same nginx:
 *
 *   constant  answers every request with a constant JSON body and does
 *             nothing else: the difference to sextant-api is the API's own
 *             work (auth, parsing, the database round trips, the commit);
 *   ceiling   the least a durable POST /api/v1/tasks can cost here: reads
 *             the body, parses and re-serializes it with json-c, runs one
 *             prepared INSERT of the same row the API stores (the
 *             organization fixed, no key check, no validation) and answers
 *             {"task_id": …}.  It talks to MariaDB through libmariadb
 *             directly, one statement prepared per worker: a yardstick, not
 *             a part of the product (whose only mysql.h user is core/db.c).
 *
 *   bare-fcgi constant|ceiling SOCKET WORKERS
 *
 * The ceiling's database comes from the stack's environment
 * (var/stack.env): SX_DB_SOCKET, SX_DB_USER, SX_DB_PASSWORD, SX_DB_NAME,
 * and the organization of its rows from SX_ORG_ID.
 */
#include <sys/stat.h>
#include <unistd.h>
#include <fcgiapp.h>
#include <json-c/json.h>
#include <mysql.h>
#include "sx.h"
#include "buf.h"
#include "conns.h"
#include "id.h"
#include "log.h"
#include "supervise.h"

static const char constant_body[] = "{\"task_id\":\"tsk_01m8h2s2fyarfnr6gg10bkq1sz\"}";

static int serve_constant(int index, void *arg)
{
	struct fcgi_conns *conns = fcgi_conns_new(*(int *)arg);
	void *req;

	(void)index;
	while (fcgi_conns_next(conns, &req) == SX_OK) {
		FCGX_Request *r = req;

		FCGX_FPrintF(r->out, "Status: 200 OK\r\nContent-Type: application/json\r\n"
			     "Content-Length: %d\r\n\r\n", (int)(sizeof(constant_body) - 1));
		FCGX_PutStr(constant_body, (int)(sizeof(constant_body) - 1), r->out);
		fcgi_conns_finish(r);
	}
	fcgi_conns_free(conns);
	return 0;
}

static const char insert_sql[] =
	"INSERT INTO tasks (id, org_id, status, request, run_request, max_steps, "
	"created_at, modified_at, queued_at) VALUES (?, ?, 'queued', ?, NULL, 10, "
	"UTC_TIMESTAMP(6), UTC_TIMESTAMP(6), UTC_TIMESTAMP(6))";

struct ceiling {
	MYSQL *my;
	MYSQL_STMT *st;
	const char *org;
};

static bool ceiling_connect(struct ceiling *c)
{
	c->my = mysql_init(NULL);
	if (!c->my || !mysql_real_connect(c->my, "localhost", getenv("SX_DB_USER"),
					  getenv("SX_DB_PASSWORD"), getenv("SX_DB_NAME"), 0,
					  getenv("SX_DB_SOCKET"), 0)) {
		log_error("ceiling", "msg=\"connect failed\" error=%s",
			  sx_log_quote(c->my ? mysql_error(c->my) : "out of memory"));
		return false;
	}
	c->st = mysql_stmt_init(c->my);
	if (!c->st || mysql_stmt_prepare(c->st, insert_sql, (unsigned long)strlen(insert_sql))) {
		log_error("ceiling", "msg=\"prepare failed\" error=%s", sx_log_quote(mysql_error(c->my)));
		return false;
	}
	return true;
}

/* The INSERT of one row; false when MariaDB refused it. */
static bool ceiling_insert(struct ceiling *c, const char *id, const char *request)
{
	MYSQL_BIND b[3];
	const char *v[3] = { id, c->org, request };

	memset(b, 0, sizeof(b));
	for (int i = 0; i < 3; i++) {
		b[i].buffer_type = MYSQL_TYPE_STRING;
		b[i].buffer = (void *)v[i];
		b[i].buffer_length = (unsigned long)strlen(v[i]);
	}
	return !mysql_stmt_bind_param(c->st, b) && !mysql_stmt_execute(c->st);
}

static void answer(FCGX_Request *r, int status, json_object *body)
{
	size_t len = 0;
	const char *text = json_object_to_json_string_length(body, JSON_C_TO_STRING_PLAIN, &len);

	FCGX_FPrintF(r->out, "Status: %d\r\nContent-Type: application/json\r\n"
		     "Content-Length: %d\r\n\r\n", status, (int)len);
	FCGX_PutStr(text, (int)len, r->out);
	json_object_put(body);
}

static void handle(struct ceiling *c, FCGX_Request *r)
{
	struct sx_buf body;
	json_object *req, *resp = json_object_new_object();
	char chunk[8192], id[SX_ID_MAX];
	int n;

	sx_buf_init(&body, 1 << 20);
	while ((n = FCGX_GetStr(chunk, sizeof(chunk), r->in)) > 0)
		sx_buf_append(&body, chunk, (size_t)n);
	req = json_tokener_parse(sx_buf_str(&body));
	sx_id_new(id, "tsk_");
	if (req && ceiling_insert(c, id, json_object_to_json_string_ext(req, JSON_C_TO_STRING_PLAIN))) {
		json_object_object_add(resp, "task_id", json_object_new_string(id));
		answer(r, 200, resp);
	} else {
		json_object_object_add(resp, "detail", json_object_new_string("insert failed"));
		answer(r, 503, resp);
	}
	json_object_put(req);
	sx_buf_release(&body);
}

static int serve_ceiling(int index, void *arg)
{
	struct fcgi_conns *conns = NULL;
	struct ceiling c = { .org = getenv("SX_ORG_ID") };
	void *req;

	(void)index;
	if (!c.org || !ceiling_connect(&c))
		goto out;
	conns = fcgi_conns_new(*(int *)arg);
	while (fcgi_conns_next(conns, &req) == SX_OK) {
		handle(&c, req);
		fcgi_conns_finish(req);
	}
out:
	fcgi_conns_free(conns);
	if (c.st)
		mysql_stmt_close(c.st);
	if (c.my)
		mysql_close(c.my);
	return 0;
}

int main(int argc, char **argv)
{
	sx_worker_fn serve = NULL;
	int fd, workers = 0;
	char *end = NULL;

	if (argc == 4) {
		serve = strcmp(argv[1], "constant") == 0 ? serve_constant :
			strcmp(argv[1], "ceiling") == 0 ? serve_ceiling : NULL;
		workers = (int)strtol(argv[3], &end, 10);
	}
	if (!serve || *end || workers < 1 || workers > 64) {
		fputs("usage: bare-fcgi constant|ceiling SOCKET WORKERS (1..64)\n", stderr);
		return 2;
	}
	sx_log_init("bare-fcgi", SX_LOG_ERROR);
	FCGX_Init();
	unlink(argv[2]);
	fd = FCGX_OpenSocket(argv[2], 256);
	if (fd < 0)
		return 1;
	chmod(argv[2], 0666);
	sx_stop_signals_install();
	sx_supervise("bare-fcgi", workers, serve, &fd);
	unlink(argv[2]);
	return 0;
}
