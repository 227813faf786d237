/*
 * The session recording end to end: fixture tasks run by a real
 * sextant-agent (LLM test double, real headless Chromium) end with a WebM
 * recording artifact that ffprobe accepts — VP8 in WebM, a positive
 * duration, at least one frame per action — also when the task is
 * canceled, and with the frames cleaned up.
 */
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <criterion/criterion.h>
#include "sx.h"
#include "agentctl.h"
#include "buf.h"
#include "client.h"
#include "db.h"
#include "timeutil.h"
#include "wait.h"

TestSuite(recording, .init = agent_suite_setup, .fini = agent_suite_fini, .timeout = 300);

/* The number of actions the task's steps report (GET …/steps). */
static size_t actions_of(const char *id)
{
	json_object *steps = api_get_json(suite_org.key, "/api/v1/tasks/%s/steps", id);
	size_t n = 0;

	for (size_t i = 0; i < json_object_array_length(steps); i++) {
		json_object *o, *acts;

		if (json_object_object_get_ex(json_object_array_get_idx(steps, i), "output", &o) &&
		    json_object_object_get_ex(o, "actions", &acts))
			n += json_object_array_length(acts);
	}
	json_object_put(steps);
	return n;
}

/* tasks.recording_artifact, read at each poll until it is set. */
struct recording_wait {
	const char *id;
	char *rel;
};

static bool recording_set(void *arg)
{
	static const char q[] = "SELECT recording_artifact FROM tasks WHERE id = ?";
	struct recording_wait *w = arg;
	struct sx_rows *rows = db_rows1(q, w->id);

	if (rows->nrows == 1 && sx_rows_get(rows, 0, 0))
		w->rel = xstrdup(sx_rows_get(rows, 0, 0));
	sx_rows_free(rows);
	return w->rel != NULL;
}

/* tasks.recording_artifact once set, within timeout_s (NULL if never); caller frees. */
static char *recording_of(const char *id, int timeout_s)
{
	struct recording_wait w = { id, NULL };

	wait_until(recording_set, &w, timeout_s * 1000);
	return w.rel;
}

/* What the recorder has captured so far for a task: the lines of its frames/index.txt. */
struct frames_wait {
	const char *id;
	size_t min;
};

static size_t frames_listed(const char *id)
{
	char *path = xasprintf("%s/artifacts/%s/%s/frames/index.txt", tenv("SX_VAR"), suite_org.id, id);
	FILE *f = fopen(path, "r");
	char line[128];
	size_t n = 0;

	while (f && fgets(line, sizeof(line), f))
		n++;
	if (f)
		fclose(f);
	free(path);
	return n;
}

static bool frames_reached(void *arg)
{
	const struct frames_wait *w = arg;

	return frames_listed(w->id) >= w->min;
}

/* Runs ffprobe on path and returns its JSON answer (caller puts). */
static json_object *ffprobe(const char *path)
{
	char *const argv[] = {
		"/usr/bin/ffprobe", "-v", "error", "-count_frames", "-select_streams", "v:0",
		"-show_entries", "format=format_name,duration:stream=codec_name,pix_fmt,width,height,nb_read_frames",
		"-of", "json", (char *)path, NULL
	};
	struct sx_buf b;
	char chunk[4096];
	int fds[2], status = 0;
	ssize_t n;
	pid_t pid;
	json_object *o;

	cr_assert_eq(pipe(fds), 0);
	pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		int nul = open("/dev/null", O_RDWR);

		dup2(nul, 0);
		dup2(fds[1], 1);
		close(fds[0]);
		execv(argv[0], argv);
		_exit(127);
	}
	close(fds[1]);
	sx_buf_init(&b, 1 << 20);
	while ((n = read(fds[0], chunk, sizeof(chunk))) > 0)
		sx_buf_append(&b, chunk, (size_t)n);
	close(fds[0]);
	waitpid(pid, &status, 0);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "ffprobe failed on %s", path);
	sx_buf_putc(&b, '\0');
	o = json_tokener_parse(b.data);
	cr_assert_not_null(o, "ffprobe output: %s", b.data);
	sx_buf_release(&b);
	return o;
}

/*
 * Checks the task's recording: the column is set, one "recording" artifact
 * row with its bytes, a WebM (VP8, yuv420p, even size) with duration >
 * min_seconds and at least min_frames frames, and no frames left behind.
 */
static void check_recording(const char *id, size_t min_frames, double min_seconds)
{
	char *rel = recording_of(id, 60);
	char *path, *frames, *dir;
	json_object *probe, *fmt, *streams, *s, *v;
	struct stat st;
	double duration;
	long long nframes;

	cr_assert_not_null(rel, "tasks.recording_artifact is not set for %s", id);
	cr_assert(strstr(rel, ".webm"), "recording %s", rel);
	cr_assert_eq(db_count1("SELECT COUNT(*) FROM artifacts WHERE task_id = ? AND type = 'recording' "
			       "AND bytes > 0", id), 1);
	path = xasprintf("%s/artifacts/%s", tenv("SX_VAR"), rel);
	cr_assert_eq(stat(path, &st), 0, "missing %s", path);
	cr_assert_gt(st.st_size, 0);

	probe = ffprobe(path);
	cr_assert(json_object_object_get_ex(probe, "format", &fmt));
	cr_assert(strstr(jstr(fmt, "format_name"), "webm"), "format %s", jstr(fmt, "format_name"));
	duration = strtod(jstr(fmt, "duration") ? jstr(fmt, "duration") : "0", NULL);
	cr_assert_gt(duration, min_seconds, "duration %.3f s", duration);
	cr_assert(json_object_object_get_ex(probe, "streams", &streams) &&
		  json_object_array_length(streams) == 1);
	s = json_object_array_get_idx(streams, 0);
	cr_assert_str_eq(jstr(s, "codec_name"), "vp8");
	cr_assert_str_eq(jstr(s, "pix_fmt"), "yuv420p");
	cr_assert(json_object_object_get_ex(s, "width", &v) && json_object_get_int(v) % 2 == 0);
	cr_assert(json_object_object_get_ex(s, "height", &v) && json_object_get_int(v) % 2 == 0);
	nframes = strtoll(jstr(s, "nb_read_frames") ? jstr(s, "nb_read_frames") : "0", NULL, 10);
	cr_assert_geq(nframes, (long long)min_frames, "%lld frames for %zu actions", nframes, min_frames);

	/* The frames (and the list and log ffmpeg used) are gone. */
	dir = xstrdup(path);
	*strrchr(dir, '/') = '\0';
	frames = xasprintf("%s/frames", dir);
	cr_assert_neq(stat(frames, &st), 0, "%s is still there", frames);

	json_object_put(probe);
	free(frames);
	free(dir);
	free(path);
	free(rel);
}

/* The job application, with a 2 s wait first: frames are captured during it. */
#define WAIT_FIRST "{\"action\":\"wait\",\"seconds\":2},"

Test(recording, completed_job_application_has_a_webm)
{
	char *script = job_script(WAIT_FIRST), *body = job_task(), *id;
	json_object *t;
	size_t actions;

	t = run_task(&(struct task_run){ .key = suite_org.key, .script = script, .body = body,
					 .overrides = "recording_enabled = true\nrecording_fps = 2" }, &id);
	cr_assert_str_eq(jstr(t, "status"), "completed", "task: %s", json_object_to_json_string(t));
	actions = actions_of(id);
	cr_assert_geq(actions, 7);
	/*
	 * At least one frame per action, plus the 2 s wait at 2 frames a second
	 * (3 of its 4 frames at the least, whatever the screenshot latency).
	 */
	check_recording(id, actions + 3, 2.0);
	json_object_put(t);
	free(id);
	free(body);
	free(script);
}

static const char slow_script[] =
	"{\"rules\":[{\"kind\":\"decide\",\"answers\":["
	" {\"actions\":[{\"action\":\"input_text\",\"label\":\"Full name\",\"text\":\"Bo\"},{\"action\":\"wait\",\"seconds\":6},"
	"  {\"action\":\"input_text\",\"label\":\"Phone number\",\"text\":\"5550100\"}]},"
	" {\"actions\":[{\"action\":\"complete\"}]}]},"
	" {\"kind\":\"verify\",\"answers\":[{\"goal_achieved\":true}]}]}";

Test(recording, canceled_task_has_a_webm)
{
	char *url = site_url("never/index.html");
	char *body = xasprintf("{\"url\":\"%s\",\"navigation_goal\":\"Request a callback\","
			       "\"navigation_payload\":{\"name\":\"Bo\",\"phone\":\"5550100\"}}", url);
	char *id, path[128];
	struct resp *r;
	struct frames_wait fw;
	json_object *t;
	size_t actions;

	id = start_task(&(struct task_run){ .key = suite_org.key, .script = slow_script, .body = body,
					   .overrides = "recording_enabled = true" }, NULL);
	fw.id = id;
	cr_assert(wait_status(suite_org.key, id, "running", 60));
	/*
	 * Cancel during the wait: once the first action's screenshot is in,
	 * and the recorder has captured a frame after it (the wait's own).
	 */
	wait_db_count("SELECT COUNT(*) FROM artifacts WHERE task_id = ? AND type = 'screenshot_action'", id, 1, 60);
	fw.min = frames_listed(id) + 1;
	cr_assert(wait_until(frames_reached, &fw, 5000), "no frame captured during the wait (%zu listed)",
		  frames_listed(id));
	snprintf(path, sizeof(path), "/api/v1/tasks/%s/cancel", id);
	r = api_call("POST", path, suite_org.key, NULL, 0, NULL);
	cr_assert_eq(r->status, 200, "%s", r->body);
	resp_free(r);
	t = wait_final(suite_org.key, id, 60);
	cr_assert_str_eq(jstr(t, "status"), "canceled");
	actions = actions_of(id);
	check_recording(id, actions > 0 ? actions : 1, 0.0);
	json_object_put(t);
	free(id);
	free(body);
	free(url);
}

Test(recording, disabled_records_nothing)
{
	char *script = job_script(WAIT_FIRST), *body = job_task(), *id;
	json_object *t;

	t = run_task(&(struct task_run){ .key = suite_org.key, .script = script, .body = body,
					 .overrides = "recording_enabled = false" }, &id);
	cr_assert_str_eq(jstr(t, "status"), "completed", "task: %s", json_object_to_json_string(t));
	cr_assert_eq(db_count1("SELECT COUNT(*) FROM artifacts WHERE task_id = ? AND type = 'recording'", id), 0);
	cr_assert_eq(db_count1("SELECT COUNT(*) FROM tasks WHERE id = ? AND recording_artifact IS NULL", id), 1);
	json_object_put(t);
	free(id);
	free(body);
	free(script);
}
