/*
 * The session recording (see recorder.h).
 *
 * Design: frames are captured in the step loop, never by a thread.  The
 * loop already takes a viewport screenshot to observe each step and one
 * after every action; those are the frames (written to disk, not taken
 * twice).  A `wait` action is a sleep, so during it this file captures at
 * recording_fps.  A capture thread on a second WebDriver connection was
 * measured and rejected: chromedriver runs one session's commands one at a
 * time, so a screenshot (about 70 ms for a 1280x800 viewport) issued during
 * an action waits for that action to end (a screenshot sent during a 1 s
 * script came back after 983 ms) — it adds no frame while the action runs —
 * and the commands it does overlap get slower (a small Execute Script went
 * from 3.6 ms to 6.4 ms with screenshots running next to it).  In-loop
 * capture costs the loop only the frame writes (see bench/README.md).
 *
 * On disk, under <work_dir>/frames/: NNNNNN.png, and index.txt with one
 * "<number> <epoch ms>" line per frame.  The frame times become the
 * durations of ffmpeg's concat demuxer, so the video follows real time
 * (each still held until the next frame), with long pauses (the model
 * thinking, a hand-back) shortened to PAUSE_MAX_MS.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sx.h"
#include "recorder.h"
#include "artifact_store.h"
#include "conf.h"
#include "log.h"
#include "timeutil.h"
#include "webdriver.h"

#define PAUSE_MAX_MS 3000      /* the longest a still frame is held */
#define FRAME_MIN_MS 20        /* frames closer than this still get a visible slot */
#define LAST_FRAME_MS 1000     /* how long the final frame is shown */
#define ENCODE_BASE_S 60       /* ffmpeg's time limit: this, plus ENCODE_PER_FRAME_MS a frame */
#define ENCODE_PER_FRAME_MS 250
#define ENCODE_MAX_S 900
#define FRAMES_MAX 100000      /* more than any task could take; guards the index read */

struct recorder {
	char *dir;                 /* <work_dir>/frames */
	bool broken;               /* the frames directory could not be made: nothing is written */
	int err;                   /* errno of the latest write that failed (0: none) */
	long long frames_lost;     /* frames that could not be written */
	const char *ffmpeg;        /* borrowed from the configuration */
	long long interval_ms;     /* 1000 / recording_fps */
	int width;                 /* the video's width: the window's, even */
	unsigned next;             /* the next frame's number */
	long long last_ms;         /* wall-clock time of the last frame (0: none yet) */
};

struct frame {
	unsigned n;
	long long ms;
};

static long long wall_ms(void)
{
	return (long long)(sx_now_us() / 1000);
}

/*
 * Reads the frame index of dir (a missing index is an empty one).  *out is
 * malloc'd (caller frees), sorted as written.  Lines that do not parse
 * (a torn last line after a crash) are skipped.
 */
static size_t index_read(const char *dir, struct frame **out)
{
	char *path = xasprintf("%s/index.txt", dir);
	FILE *f = fopen(path, "r");
	struct frame *v = NULL;
	size_t n = 0, cap = 0;
	char line[64];

	*out = NULL;
	while (f && n < FRAMES_MAX && fgets(line, sizeof(line), f)) {
		struct frame fr;

		if (sscanf(line, "%u %lld", &fr.n, &fr.ms) != 2)
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 64;
			v = xrealloc(v, cap * sizeof(*v));
		}
		v[n++] = fr;
	}
	if (f)
		fclose(f);
	free(path);
	*out = v;
	return n;
}

void recorder_open(const struct sx_conf *c, const char *work_dir, struct recorder **out)
{
	struct recorder *r = NULL;
	struct frame *frames = NULL;
	size_t n;

	*out = NULL;
	if (!c->recording_enabled || !work_dir)
		goto out;
	r = xmalloc(sizeof(*r));
	memset(r, 0, sizeof(*r));
	r->dir = xasprintf("%s/frames", work_dir);
	r->ffmpeg = c->ffmpeg_path;
	r->interval_ms = 1000 / (c->recording_fps > 0 ? c->recording_fps : 2);
	r->width = (int)c->window_width & ~1;
	if (sx_mkdirs(r->dir, &r->err) != SX_OK) {
		/* Kept, so that recorder_finish() reports the lost recording on the task. */
		r->broken = true;
		log_warn("recorder", "msg=\"cannot create the frames directory; not recording\" path=%s error=%s",
			 sx_log_quote(r->dir), sx_log_quote(strerror(r->err)));
		*out = r;
		goto out;
	}
	/* A resumed task goes on numbering after the frames of its earlier attempt. */
	n = index_read(r->dir, &frames);
	if (n > 0) {
		r->next = frames[n - 1].n + 1;
		log_info("recorder", "msg=\"continuing the recording of an earlier attempt\" frames=%zu", n);
	}
	*out = r;
out:
	free(frames);
}

void recorder_frame(struct recorder *r, const unsigned char *png, size_t len)
{
	char *path = NULL, *index = NULL;
	FILE *f = NULL;
	long long now = wall_ms();
	bool ok;

	if (!r || r->broken || !png || len == 0)
		goto out;
	path = xasprintf("%s/%06u.png", r->dir, r->next);
	f = fopen(path, "wb");
	ok = f && fwrite(png, 1, len, f) == len;
	if (f && fclose(f) != 0)
		ok = false;
	f = NULL;
	if (ok) {
		/* The index line is written only once the frame is whole. */
		index = xasprintf("%s/index.txt", r->dir);
		f = fopen(index, "a");
		ok = f && fprintf(f, "%u %lld\n", r->next, now) > 0;
		if (f && fclose(f) != 0)
			ok = false;
		f = NULL;
	}
	if (!ok) {
		r->err = errno;
		r->frames_lost++;
		log_warn("recorder", "msg=\"could not write a frame\" path=%s error=%s", sx_log_quote(path),
			 sx_log_quote(strerror(r->err)));
		remove(path);
		goto out;
	}
	r->next++;
	r->last_ms = now;
out:
	free(path);
	free(index);
}

void recorder_wait(struct recorder *r, struct webdriver_session *wd, long long ms, const atomic_int *stop)
{
	int64_t end = sx_mono_ms() + ms;

	bool capture = r && !r->broken && wd;

	if (!capture)
		sx_sleep_ms(ms, stop);
	while (capture && !(stop && *stop)) {
		int64_t now = sx_mono_ms(), shot = now;
		unsigned char *png = NULL;
		size_t len = 0;

		if (now >= end)
			break;
		if (webdriver_screenshot(wd, &png, &len) == SX_OK)
			recorder_frame(r, png, len);
		free(png);
		/* The next frame is due one interval after this one started. */
		now = sx_mono_ms();
		if (now < end)
			sx_sleep_ms((shot + r->interval_ms < end ? shot + r->interval_ms : end) - now, stop);
	}
}

/*
 * Writes the concat demuxer's list: each frame held until the next one.
 * The errno of a failure goes to *err.
 */
static enum sx_rc write_list(const char *dir, const struct frame *v, size_t n, int *err)
{
	char *path = xasprintf("%s/list.txt", dir);
	FILE *f = fopen(path, "w");
	enum sx_rc rc = SX_OK;

	*err = f ? 0 : errno;
	if (!f) {
		rc = SX_EIO;
		goto out;
	}
	fputs("ffconcat version 1.0\n", f);
	for (size_t i = 0; i < n; i++) {
		long long d = i + 1 < n ? v[i + 1].ms - v[i].ms : LAST_FRAME_MS;

		if (d < FRAME_MIN_MS)
			d = FRAME_MIN_MS;
		if (d > PAUSE_MAX_MS)
			d = PAUSE_MAX_MS;
		fprintf(f, "file %06u.png\nduration %lld.%03lld\n", v[i].n, d / 1000, d % 1000);
	}
	/* The concat demuxer ignores the last entry's duration unless the file is listed again. */
	fprintf(f, "file %06u.png\n", v[n - 1].n);
	if (ferror(f)) {
		rc = SX_EIO;
		*err = errno;
	}
	if (fclose(f) != 0) {
		rc = SX_EIO;
		*err = *err ? *err : errno;
	}
out:
	if (rc)
		log_warn("recorder", "msg=\"could not write the frame list\" path=%s error=%s", sx_log_quote(path),
			 sx_log_quote(strerror(*err)));
	free(path);
	return rc;
}

/*
 * The child between fork and exec: only async-signal-safe calls.  It runs
 * in the frames directory (so the list names plain files), reads nothing,
 * writes to ffmpeg.log, dies with the agent, and inherits no descriptor.
 */
static void exec_ffmpeg(const char *dir, const char *path, char *const argv[])
{
	sigset_t none;
	int fd;

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	signal(SIGPIPE, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	if (chdir(dir) != 0)
		_exit(126);
	fd = open("/dev/null", O_RDONLY);
	if (fd >= 0)
		dup2(fd, 0);
	fd = open("ffmpeg.log", O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd >= 0) {
		dup2(fd, 1);
		dup2(fd, 2);
	}
	close_range(3, ~0U, 0);
	execv(path, argv);
	_exit(127);
}

/* The last line of ffmpeg's log, for the agent's log (out gets "" when none). */
static void log_tail(const char *dir, char *out, size_t outlen)
{
	char *path = xasprintf("%s/ffmpeg.log", dir);
	FILE *f = fopen(path, "r");
	char line[400];

	out[0] = '\0';
	while (f && fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\r\n")] = '\0';
		if (line[0])
			snprintf(out, outlen, "%s", line);
	}
	if (f)
		fclose(f);
	free(path);
}

/*
 * Runs ffmpeg on the list in dir, writing dir/recording.webm width pixels
 * wide, killed after limit_s.  Frames come at the window's size (actions)
 * and at the model's smaller one (observations, agent_step.c); all are
 * scaled to width.  VP8 in WebM with yuv420p and even dimensions is what
 * Chromium's <video> plays; "realtime" with the highest speed setting keeps
 * the encode short (a few seconds for a task) at a quality that suits
 * screen captures.
 */
static enum sx_rc encode(const char *ffmpeg, const char *dir, int width, long long limit_s)
{
	char vf[64];
	char *const argv[] = {
		(char *)ffmpeg, "-nostdin", "-hide_banner", "-loglevel", "error", "-y",
		"-f", "concat", "-safe", "1", "-i", "list.txt",
		"-vf", vf, "-fps_mode", "vfr",
		"-c:v", "libvpx", "-deadline", "realtime", "-cpu-used", "8", "-b:v", "2M", "-crf", "12",
		"-an", "-f", "webm", "recording.webm", NULL
	};
	int64_t deadline = sx_mono_ms() + limit_s * 1000;
	enum sx_rc rc = SX_OK;
	char tail[400];
	int status = 0;
	pid_t pid, w;

	snprintf(vf, sizeof(vf), "scale=%d:-2,format=yuv420p", width);

	pid = fork();
	if (pid == 0)
		exec_ffmpeg(dir, ffmpeg, argv);
	if (pid < 0) {
		log_warn("recorder", "msg=\"cannot start ffmpeg\" error=%s", sx_log_quote(strerror(errno)));
		rc = SX_EIO;
		goto out;
	}
	while ((w = waitpid(pid, &status, WNOHANG)) == 0 && sx_mono_ms() < deadline)
		sx_sleep_ms(50, NULL);
	if (w == 0) {
		kill(pid, SIGKILL);
		waitpid(pid, &status, 0);
		log_warn("recorder", "msg=\"ffmpeg ran out of time; killed\" limit_s=%lld", limit_s);
		rc = SX_ETIMEOUT;
		goto out;
	}
	if (w < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		log_tail(dir, tail, sizeof(tail));
		log_warn("recorder", "msg=\"ffmpeg failed\" status=%d exit=%d output=%s", status,
			 WIFEXITED(status) ? WEXITSTATUS(status) : -1, sx_log_quote(tail));
		rc = SX_EIO;
	}
out:
	return rc;
}

void recorder_finish(struct recorder *r, struct artifact_ctx *a)
{
	struct frame *v = NULL;
	char *webm = NULL;
	char *rel = NULL;
	size_t n;
	int64_t t0 = sx_mono_ms();
	long long limit;
	int err;

	if (!r)
		goto done;
	if (r->broken) {
		artifact_store_lost(a, ART_RECORDING, 1, r->err, "could not create the frames directory");
		goto out;
	}
	n = index_read(r->dir, &v);
	if (n == 0 && r->frames_lost > 0)
		artifact_store_lost(a, ART_RECORDING, 1, r->err, "no frame could be written");
	if (n == 0) {
		log_info("recorder", "msg=\"no frames; no recording\" task=%s", a->task_id);
		goto out;
	}
	if (access(r->ffmpeg, X_OK) != 0) {
		log_warn("recorder", "msg=\"ffmpeg not found; no recording\" task=%s path=%s", a->task_id,
			 sx_log_quote(r->ffmpeg));
		goto out;
	}
	if (write_list(r->dir, v, n, &err) != SX_OK) {
		artifact_store_lost(a, ART_RECORDING, 1, err, "could not write the frame list");
		goto out;
	}
	limit = ENCODE_BASE_S + (long long)n * ENCODE_PER_FRAME_MS / 1000;
	if (encode(r->ffmpeg, r->dir, r->width, limit < ENCODE_MAX_S ? limit : ENCODE_MAX_S) != SX_OK) {
		/* ffmpeg's own errno is not known here; its last line is in the agent's log. */
		artifact_store_lost(a, ART_RECORDING, 1, 0, "ffmpeg could not encode it");
		goto out;
	}
	webm = xasprintf("%s/recording.webm", r->dir);
	if (artifact_store_adopt(a, NULL, ART_RECORDING, "webm", webm, &rel) != SX_OK)
		goto out;
	log_info("recorder", "msg=\"recording saved\" task=%s frames=%zu encode_ms=%lld path=%s", a->task_id,
		 n, (long long)(sx_mono_ms() - t0), sx_log_quote(rel));
out:
	if (r->frames_lost > 0)
		artifact_store_lost(a, ART_RECORDING_FRAME, r->frames_lost, r->err, "could not write the frame");
	/* The frames go whatever happened: a recording is never retried. */
	sx_rm_tree(r->dir);
	free(rel);
	free(webm);
	free(v);
	recorder_free(r);
done:
	return;
}

void recorder_free(struct recorder *r)
{
	if (!r)
		return;
	free(r->dir);
	free(r);
}
