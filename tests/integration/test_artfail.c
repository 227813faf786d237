/*
 * Artifact write failures are visible (issue 9 item 5).  The stack's
 * artifacts directory is covered, for one test, by a read-only bind mount
 * or by a full 64 KiB tmpfs; a real sextant-agent (LLM test double, real
 * Chromium) then runs the job application.  The task still reaches its
 * final status, its errors name each kind of file lost (one entry per
 * artifact type, with the count and the errno), /metrics counts them, and
 * /healthz, run by the API on the same directory, says it is not writable.
 *
 * Mounts need root (CAP_SYS_ADMIN).  The directory is always unmounted in
 * the fini, and a mount a crashed run left behind is removed by the init.
 */
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>
#include <criterion/criterion.h>
#include "sx.h"
#include "agentctl.h"
#include "client.h"
#include "wait.h"

/* What one test lost, type by type, and how each is named. */
#define TYPES 5
static const char *const lost_types[TYPES] = {
	"screenshot_llm", "screenshot_action", "screenshot_final", "llm_request", "llm_response"
};

static char *artifacts_dir(void)
{
	return xasprintf("%s/artifacts", tenv("SX_VAR"));
}

/* True while something is mounted on dir (a line of /proc/self/mountinfo names it). */
static bool mounted(const char *dir)
{
	FILE *f = fopen("/proc/self/mountinfo", "r");
	char line[4096], field[4096];
	bool hit = false;

	while (f && !hit && fgets(line, sizeof(line), f))
		hit = sscanf(line, "%*s %*s %*s %*s %4095s", field) == 1 && strcmp(field, dir) == 0;
	if (f)
		fclose(f);
	return hit;
}

/* A condition for wait.h: nothing is mounted on dir any more (one more unmount tried first). */
static bool unmounted(void *dir)
{
	if (mounted(dir))
		umount2(dir, 0);
	return !mounted(dir);
}

/*
 * Unmounts everything on dir: plain unmounts for up to 5 s (a busy mount
 * is tried again), then lazy detaches, so the stack never keeps the test's
 * mount.
 */
static void unmount_all(const char *dir)
{
	if (!wait_until(unmounted, (void *)dir, 5000))
		while (mounted(dir) && umount2(dir, MNT_DETACH) == 0)
			;
}

static void setup(void)
{
	char *dir = artifacts_dir();

	unmount_all(dir);
	free(dir);
	agent_suite_setup();
}

static void teardown(void)
{
	char *dir = artifacts_dir();

	agent_suite_fini();
	unmount_all(dir);
	free(dir);
}

TestSuite(artfail, .init = setup, .fini = teardown, .timeout = 300);

/* sextant_artifact_write_failures_total of each type (and the recording's) in a fresh scrape. */
static void failures_scrape(double out[TYPES + 1])
{
	char *text = metrics_scrape();
	char name[128];

	for (size_t i = 0; i <= TYPES; i++) {
		snprintf(name, sizeof(name), "sextant_artifact_write_failures_total{type=\"%s\"}",
			 i < TYPES ? lost_types[i] : "recording");
		out[i] = metric_value(text, name);
		cr_assert_geq(out[i], 0, "no %s in /metrics", name);
	}
	free(text);
}

/* /healthz says the artifacts directory is not writable, with errname, and stays 200. */
static void healthz_degraded(const char *errname)
{
	struct resp *r = api_get("/healthz", NULL);
	json_object *checks;

	cr_assert_eq(r->status, 200, "/healthz: %ld %s", r->status, r->body);
	cr_assert_str_eq(jstr(r->json, "status"), "degraded", "%s", r->body);
	cr_assert(json_object_object_get_ex(r->json, "checks", &checks), "%s", r->body);
	cr_assert(jstr(checks, "artifacts_dir") && strstr(jstr(checks, "artifacts_dir"), errname),
		  "%s", r->body);
	resp_free(r);
}

static void healthz_ok(void)
{
	struct resp *r = api_get("/healthz", NULL);

	cr_assert_eq(r->status, 200);
	cr_assert_str_eq(r->body, "{\"status\":\"ok\"}");
	resp_free(r);
}

/* The task's artifact_write_failed entry of type, asserting there is exactly one; NULL when none. */
static json_object *loss_of(json_object *t, const char *type)
{
	json_object *errors, *found = NULL;

	cr_assert(json_object_object_get_ex(t, "errors", &errors) &&
		  json_object_is_type(errors, json_type_array));
	for (size_t i = 0; i < json_object_array_length(errors); i++) {
		json_object *e = json_object_array_get_idx(errors, i);
		const char *code = jstr(e, "error_code"), *ty = jstr(e, "artifact_type");

		if (code && strcmp(code, "artifact_write_failed") == 0 && ty && strcmp(ty, type) == 0) {
			cr_assert_null(found, "two entries for %s: %s", type, json_object_to_json_string(errors));
			found = e;
		}
	}
	return found;
}

/*
 * Runs the job application with the artifacts directory broken by errname
 * and checks the task, its errors, the artifact list and /metrics.
 */
static void run_and_check(const char *errname)
{
	char *script = job_script(""), *body = job_task();
	double before[TYPES + 1], after[TYPES + 1];
	char *id, path[128];
	json_object *t, *e, *v;
	struct resp *r;

	failures_scrape(before);
	t = run_task(&(struct task_run){ .key = suite_org.key, .script = script, .body = body,
					 .overrides = "recording_enabled = true\n", .timeout_s = 180 }, &id);
	cr_assert_str_eq(jstr(t, "status"), "completed", "%s", json_object_to_json_string(t));
	cr_assert_null(jstr(t, "screenshot_url"));
	cr_assert_null(jstr(t, "recording_url"));
	failures_scrape(after);
	for (size_t i = 0; i < TYPES; i++) {
		e = loss_of(t, lost_types[i]);
		cr_assert_not_null(e, "no loss of %s: %s", lost_types[i], json_object_to_json_string(t));
		cr_assert_str_eq(jstr(e, "errno"), errname, "%s", json_object_to_json_string(e));
		cr_assert(jstr(e, "reasoning") && strstr(jstr(e, "reasoning"), lost_types[i]));
		cr_assert(json_object_object_get_ex(e, "count", &v) && json_object_get_int64(v) >= 1);
		/* /metrics counts what the task's errors say (no other task runs meanwhile). */
		cr_assert_eq((long long)(after[i] - before[i]), json_object_get_int64(v), "%s: %g -> %g",
			     lost_types[i], before[i], after[i]);
	}
	/* Two decide steps: both of their screenshots and exchanges are counted. */
	cr_assert_geq(json_object_get_int64(json_object_object_get(loss_of(t, "llm_request"), "count")), 2);
	e = loss_of(t, "recording");
	cr_assert_not_null(e, "no loss of the recording: %s", json_object_to_json_string(t));
	cr_assert_str_eq(jstr(e, "errno"), errname, "%s", json_object_to_json_string(e));
	cr_assert_eq((long long)(after[TYPES] - before[TYPES]), 1);
	/* Nothing was recorded as an artifact. */
	snprintf(path, sizeof(path), "/api/v1/tasks/%s/artifacts", id);
	r = api_get(path, suite_org.key);
	cr_assert_eq(r->status, 200, "%s", r->body);
	cr_assert_str_eq(r->body, "[]");
	resp_free(r);
	json_object_put(t);
	free(id);
	free(body);
	free(script);
}

Test(artfail, read_only_directory)
{
	char *dir = artifacts_dir();

	cr_assert_eq(mount(dir, dir, NULL, MS_BIND, NULL), 0, "bind %s: %s", dir, strerror(errno));
	cr_assert_eq(mount(NULL, dir, NULL, MS_REMOUNT | MS_BIND | MS_RDONLY, NULL), 0, "ro: %s",
		     strerror(errno));
	healthz_degraded("EROFS");
	run_and_check("EROFS");
	unmount_all(dir);
	healthz_ok();
	free(dir);
}

/* Fills the file system of dir: one file written until ENOSPC. */
static void fill(const char *dir)
{
	char *path = xasprintf("%s/filler", dir);
	char block[4096];
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	ssize_t n = 1;

	cr_assert_geq(fd, 0, "%s: %s", path, strerror(errno));
	memset(block, 'x', sizeof(block));
	while (n > 0)
		n = write(fd, block, sizeof(block));
	cr_assert_eq(errno, ENOSPC, "filler: %s", strerror(errno));
	close(fd);
	free(path);
}

/*
 * The tmpfs options: owned by the agents' user (SX_AGENT_USER, set when the
 * stack runs as root), so that a full disk and not a permission is what
 * they meet.
 */
static char *tmpfs_options(void)
{
	const char *user = getenv("SX_AGENT_USER");
	const struct passwd *pw = user && *user ? getpwnam(user) : NULL;

	if (!pw)
		return xstrdup("size=64k,mode=0755");
	return xasprintf("size=64k,mode=0755,uid=%d,gid=%d", (int)pw->pw_uid, (int)pw->pw_gid);
}

Test(artfail, full_file_system)
{
	char *dir = artifacts_dir(), *opts = tmpfs_options();

	cr_assert_eq(mount("sextant-artfail", dir, "tmpfs", 0, opts), 0, "tmpfs on %s: %s",
		     dir, strerror(errno));
	free(opts);
	fill(dir);
	healthz_degraded("ENOSPC");
	run_and_check("ENOSPC");
	unmount_all(dir);
	healthz_ok();
	free(dir);
}
