/* The tests' forward proxy (see proxyctl.h). */
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <unistd.h>
#include <criterion/criterion.h>
#include "sx.h"
#include "proxyctl.h"
#include "wait.h"

static int free_loopback_port(void)
{
	struct sockaddr_in a;
	socklen_t al = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM, 0), port;

	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	cr_assert(fd >= 0 && bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0);
	cr_assert_eq(getsockname(fd, (struct sockaddr *)&a, &al), 0);
	port = ntohs(a.sin_port);
	close(fd);
	return port;
}

static bool port_open(void *arg)
{
	int port = *(int *)arg;
	struct sockaddr_in a;
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	bool ok;

	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	a.sin_port = htons((uint16_t)port);
	ok = connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0;
	close(fd);
	return ok;
}

pid_t tinyproxy_spawn(const char *dir, const char *name, bool auth, int *port, char **log)
{
	char *conf;
	FILE *f;
	pid_t pid;

	*port = free_loopback_port();
	conf = xasprintf("%s/%s.conf", dir, name);
	*log = xasprintf("%s/%s.log", dir, name);
	f = fopen(conf, "w");
	cr_assert(f);
	fprintf(f, "Port %d\nListen 127.0.0.1\nTimeout 60\nLogFile \"%s\"\nLogLevel Info\n"
		"MaxClients 20\nAllow 127.0.0.1\nDisableViaHeader Yes\n%s", *port, *log,
		auth ? "BasicAuth sx-user s3cret-pw\n" : "");
	fclose(f);
	pid = fork();
	cr_assert(pid >= 0);
	if (pid == 0) {
		int fd = open("/dev/null", O_WRONLY);

		/* Bounded lifetime: the proxy dies with the test process. */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
		}
		execlp("tinyproxy", "tinyproxy", "-d", "-c", conf, (char *)NULL);
		_exit(127);
	}
	cr_assert(wait_until(port_open, port, 5000), "tinyproxy did not start (is the tinyproxy package installed?)");
	free(conf);
	return pid;
}

int tinyproxy_log_count(const char *path, const char *needle)
{
	FILE *f = fopen(path, "r");
	char line[8192];
	int n = 0;

	while (f && fgets(line, sizeof(line), f))
		n += strstr(line, needle) != NULL;
	if (f)
		fclose(f);
	return n;
}
