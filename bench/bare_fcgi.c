/*
 * The baseline for bench/api: a FastCGI responder that answers every request
 * with a constant JSON body and does nothing else.  It is pre-forked like
 * sextant-api (same worker count) and sits behind the same nginx, so the
 * difference between the two is the API's own work: auth, parsing, the
 * database round trips and the durable commit.
 *
 *   bare-fcgi SOCKET WORKERS
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <fcgiapp.h>

static const char body[] = "{\"task_id\":\"tsk_01m8h2s2fyarfnr6gg10bkq1sz\"}";

static void serve(int fd)
{
	FCGX_Request r;

	FCGX_InitRequest(&r, fd, 0);
	while (FCGX_Accept_r(&r) >= 0) {
		char chunk[4096];

		while (FCGX_GetStr(chunk, sizeof(chunk), r.in) > 0)
			;
		FCGX_FPrintF(r.out, "Status: 200 OK\r\nContent-Type: application/json\r\n"
			     "Content-Length: %d\r\n\r\n", (int)(sizeof(body) - 1));
		FCGX_PutStr(body, (int)(sizeof(body) - 1), r.out);
		FCGX_Finish_r(&r);
	}
}

int main(int argc, char **argv)
{
	int fd, workers;
	char *end;

	if (argc != 3) {
		fputs("usage: bare-fcgi SOCKET WORKERS\n", stderr);
		return 2;
	}
	workers = (int)strtol(argv[2], &end, 10);
	if (*end || workers < 1 || workers > 64)
		return 2;
	FCGX_Init();
	unlink(argv[1]);
	fd = FCGX_OpenSocket(argv[1], 256);
	if (fd < 0)
		return 1;
	chmod(argv[1], 0666);
	for (int i = 0; i < workers; i++) {
		if (fork() == 0) {
			serve(fd);
			_exit(0);
		}
	}
	signal(SIGTERM, SIG_DFL);
	while (wait(NULL) > 0)
		;
	return 0;
}
