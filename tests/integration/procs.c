/*
 * Processes from /proc (see procs.h).
 */
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "sx.h"
#include "procs.h"

bool proc_read(pid_t pid, struct proc_info *out)
{
	char path[64], line[512], *open_p, *close_p;
	FILE *f;
	bool ok = false;
	int ppid = 0, pgrp = 0;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	f = fopen(path, "r");
	if (!f)
		return false;
	/* "pid (comm) state ppid pgrp …": comm may hold spaces and parentheses. */
	if (fgets(line, sizeof(line), f) && (open_p = strchr(line, '(')) && (close_p = strrchr(line, ')')) &&
	    sscanf(close_p + 1, " %c %d %d", &out->state, &ppid, &pgrp) == 3) {
		out->pid = pid;
		out->ppid = (pid_t)ppid;
		out->pgrp = (pid_t)pgrp;
		snprintf(out->comm, sizeof(out->comm), "%.*s", (int)(close_p - open_p - 1), open_p + 1);
		ok = true;
	}
	fclose(f);
	return ok;
}

void proc_each(bool (*fn)(const struct proc_info *p, void *arg), void *arg)
{
	DIR *d = opendir("/proc");
	struct dirent *e;
	bool go = true;

	while (d && go && (e = readdir(d)) != NULL) {
		struct proc_info p;
		long long pid;

		if (!sx_parse_ll(e->d_name, 1, INT32_MAX, &pid) || !proc_read((pid_t)pid, &p))
			continue;
		if (p.state != 'Z' && p.state != 'X')
			go = fn(&p, arg);
	}
	if (d)
		closedir(d);
}

/* Reads the raw /proc/<pid>/cmdline (NUL-separated) into out; its length, or -1. */
static ssize_t cmdline_read(pid_t pid, char *out, size_t len)
{
	char path[64];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/cmdline", (int)pid);
	fd = open(path, O_RDONLY);
	if (fd < 0)
		return -1;
	n = read(fd, out, len - 1);
	close(fd);
	if (n >= 0)
		out[n] = '\0';
	return n;
}

bool proc_cmdline(pid_t pid, char *out, size_t len)
{
	ssize_t n = cmdline_read(pid, out, len);

	if (n <= 0)
		return false;
	for (ssize_t i = 0; i < n; i++)
		if (out[i] == '\0')
			out[i] = ' ';
	return true;
}

bool proc_has_arg(pid_t pid, const char *arg)
{
	size_t len = 65536;
	char *buf = xmalloc(len);
	ssize_t n = cmdline_read(pid, buf, len);
	bool hit = false;

	for (ssize_t i = 0; i < n && !hit; i += (ssize_t)strlen(buf + i) + 1)
		hit = strcmp(buf + i, arg) == 0;
	free(buf);
	return hit;
}

bool proc_descends_from(pid_t pid, pid_t ancestor)
{
	struct proc_info p;

	/* The depth bound stops a walk that a reused pid could send in a loop. */
	for (int depth = 0; depth < 64 && pid > 1; depth++) {
		if (!proc_read(pid, &p))
			return false;
		if (p.ppid == ancestor)
			return true;
		pid = p.ppid;
	}
	return false;
}

bool proc_uids(pid_t pid, uid_t *ruid, uid_t *euid)
{
	char path[64], line[256];
	FILE *f;
	unsigned r = 0, e = 0;
	bool ok = false;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	f = fopen(path, "r");
	while (f && !ok && fgets(line, sizeof(line), f))
		ok = sscanf(line, "Uid: %u %u", &r, &e) == 2;
	if (f)
		fclose(f);
	*ruid = r;
	*euid = e;
	return ok;
}
