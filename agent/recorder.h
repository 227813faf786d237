#ifndef SX_RECORDER_H
#define SX_RECORDER_H
/*
 * The session recording of a task: frames (the viewport PNGs WebDriver
 * gives) written as numbered files with their wall-clock times under
 * <work_dir>/frames/, and, when the task ends, encoded by ffmpeg into a
 * WebM (VP8, yuv420p) saved as the task's "recording" artifact.
 *
 * Frames survive a hand-back (shutdown, lost lease): a resumed task appends
 * to them, and its recording covers every attempt run against the same
 * artifacts_dir, the pause between attempts shortened to a few seconds.
 *
 * Nothing here fails a task: a frame that cannot be written is skipped, and
 * a missing or failing ffmpeg is logged and leaves the task without a
 * recording.  Frames and recordings that could not be written (or encoded)
 * are tallied as lost on the task's artifact_ctx (artifact_store_lost), so
 * the task's errors say so; a missing ffmpeg is configuration, only logged.
 */
#include <stdatomic.h>
#include "sx.h"

struct sx_conf;
struct webdriver_session;
struct artifact_ctx;
struct recorder;

/*
 * Opens the recorder of the task whose files live in work_dir, continuing
 * the frames an earlier attempt left there.  *out is NULL when recording is
 * disabled (every other function accepts a NULL recorder and does nothing).
 * A frames directory that cannot be made gives a recorder that writes
 * nothing and reports the lost recording when it finishes.
 */
void recorder_open(const struct sx_conf *c, const char *work_dir, struct recorder **out);

/* Adds png (borrowed) as the next frame, stamped now. */
void recorder_frame(struct recorder *r, const unsigned char *png, size_t len);

/*
 * Waits ms milliseconds (the `wait` action) while capturing a frame of wd
 * every 1/recording_fps seconds; returns early when *stop is set.
 */
void recorder_wait(struct recorder *r, struct webdriver_session *wd, long long ms, const atomic_int *stop);

/*
 * Encodes the frames into a WebM, saves it as the task's recording artifact
 * (which sets tasks.recording_artifact), deletes the frames and frees r.
 * Accepts NULL.  Failures are logged and tallied on a (see above).
 */
void recorder_finish(struct recorder *r, struct artifact_ctx *a);

/* Frees r and keeps its frames for the attempt that resumes the task.  Accepts NULL. */
void recorder_free(struct recorder *r);
#endif
