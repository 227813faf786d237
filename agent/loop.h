#ifndef SX_LOOP_H
#define SX_LOOP_H
/*
 * Loop detection.  The model proposing the same action again on a page that
 * did not change since it last acted is a loop: the first time, the model is
 * asked again with a prompt that says so (LOOP_WARN); if it insists, the
 * task is stopped (LOOP_STOP).  Pages are compared by the scraper's
 * fingerprint, actions by action_signature().
 *
 * A retry is not a loop: an action that failed (a download that did not
 * come, a stale element) left the page as it was, and the runner retries
 * the step, where the model rightly proposes the same action again.  The
 * step forgets the failed action (loop_forget), so the retry is judged as
 * a first try; the retries are bounded by max_retries_per_step instead.
 */
#include "sx.h"

struct loop_guard {
	char last_sig[256];      /* the action last acted on ("" before the first) */
	char last_fp[80];        /* the page it was acted on */
	bool warned;             /* the model has been told it is looping */
};

enum loop_verdict { LOOP_OK, LOOP_WARN, LOOP_STOP };

/* Judges the model's next action sig (may be "") on the page fp. */
enum loop_verdict loop_judge(struct loop_guard *g, const char *fp, const char *sig);
/* Records that sig is being acted on the page fp. */
void loop_record(struct loop_guard *g, const char *fp, const char *sig);
/* The action last recorded failed: forgets it, and any warning given about it. */
void loop_forget(struct loop_guard *g);
#endif
