#ifndef SX_TEST_PROCS_H
#define SX_TEST_PROCS_H
/*
 * The processes the tests start and watch (agents, workers, chromedriver,
 * Chromium), read from /proc: one reader for all of them.
 */
#include <stdbool.h>
#include <sys/types.h>

struct proc_info {
	pid_t pid;
	char comm[64];           /* the name in /proc/<pid>/stat (15 characters at most) */
	char state;              /* R, S, Z, … */
	pid_t ppid;
	pid_t pgrp;
};

/* Reads /proc/<pid>/stat into out; false when there is no such process. */
bool proc_read(pid_t pid, struct proc_info *out);

/*
 * Calls fn for every process that is neither a zombie nor dead, until fn
 * returns false.
 */
void proc_each(bool (*fn)(const struct proc_info *p, void *arg), void *arg);
/*
 * The process's command line, its arguments joined by spaces (truncated to
 * len - 1 bytes); false when it is gone or has none (a kernel thread).
 */
bool proc_cmdline(pid_t pid, char *out, size_t len);
/* True when one of the process's arguments is exactly arg (its first 64 KiB read). */
bool proc_has_arg(pid_t pid, const char *arg);
/*
 * True when ancestor is a parent, grandparent, … of pid (pid itself is not
 * its own descendant); false when the chain breaks (a process gone).
 */
bool proc_descends_from(pid_t pid, pid_t ancestor);
/* The real and effective uid of the process (/proc/<pid>/status); false when it is gone. */
bool proc_uids(pid_t pid, uid_t *ruid, uid_t *euid);
#endif
