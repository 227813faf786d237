#ifndef SX_ACTIONS_H
#define SX_ACTIONS_H
/*
 * The actions a model may ask for, executed with WebDriver element commands.
 * Each returns SX_OK or an error with a human-readable message in err (it
 * goes into the step's output and, on the last retry, the failure_reason).
 */
#include <stdatomic.h>
#include "sx.h"
#include <json-c/json.h>

struct webdriver_session;
struct scrape_result;

enum action_type {
	ACT_CLICK, ACT_INPUT_TEXT, ACT_SELECT_OPTION, ACT_CHECK, ACT_UNCHECK,
	ACT_UPLOAD_FILE, ACT_KEYPRESS, ACT_SCROLL, ACT_GOTO_URL, ACT_WAIT,
	ACT_COMPLETE, ACT_TERMINATE, ACT_SOLVE_CAPTCHA, ACT_UNKNOWN
};

/* The type named by an action object's "action" member. */
enum action_type action_type_of(json_object *action);
const char *action_type_name(enum action_type t);

struct action_env {
	struct webdriver_session *wd;
	const struct scrape_result *page;   /* the observation the model saw */
	const char *work_dir;               /* for downloaded files */
	const atomic_int *stop;           /* interrupts waits when set */
	/* Downloads url to path for upload_file (the SSRF-guarded fetcher); gets download_arg. */
	enum sx_rc (*download)(void *arg, const char *url, const char *path, char *err, size_t errlen);
	void *download_arg;
	/*
	 * Runs the `wait` action (ms milliseconds, ending early when *stop is
	 * set) when not NULL — the recorder captures frames during it — instead
	 * of a plain sleep; gets wait_arg.
	 */
	void (*wait)(void *arg, long long ms, const atomic_int *stop);
	void *wait_arg;
};

/* Executes one element/browser action (not complete/terminate/solve_captcha). */
enum sx_rc action_execute(const struct action_env *env, json_object *action, char *err, size_t errlen);

/*
 * Screenshots after actions (agent_step.c): a form is filled by field
 * actions (typing, selecting, checking, attaching a file), and a run of
 * them pays one screenshot, at its end, rather than one each: a field a
 * choice reveals is in that screenshot, and in the next observation.  Any
 * other action (a click, a key press, a navigation, a scroll, a wait) can
 * change what the user sees beyond its field and earns a screenshot of its
 * own.
 */
bool action_fills_field(enum action_type t);

/* A short signature of an action ("click e12"), for loop detection. */
void action_signature(json_object *action, char *out, size_t outlen);
#endif
