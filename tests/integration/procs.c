/*
 * Processes from /proc (see procs.h).
 */
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>
#include <string.h>
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

bool proc_cmdline(pid_t pid, char *out, size_t len)
{
	char path[64];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/cmdline", (int)pid);
	fd = open(path, O_RDONLY);
	if (fd < 0)
		return false;
	n = read(fd, out, len - 1);
	close(fd);
	if (n <= 0)
		return false;
	out[n] = '\0';
	for (ssize_t i = 0; i < n; i++)
		if (out[i] == '\0')
			out[i] = ' ';
	return true;
}
