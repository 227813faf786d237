#ifndef SX_TASK_H
#define SX_TASK_H
/*
 * The task and step model: statuses and the state machine of
 * docs/api-contract.md, validation of a create request, and the JSON
 * encoding of task and step objects.  Storage lives in task_db.c.
 */
#include "sx.h"
#include "invalid.h"
#include "json.h"

enum task_status {
	TASK_CREATED,
	TASK_QUEUED,
	TASK_RUNNING,
	TASK_COMPLETED,
	TASK_TERMINATED,
	TASK_FAILED,
	TASK_CANCELED,
	TASK_TIMED_OUT,
	TASK_STATUS_COUNT
};

const char *task_status_name(enum task_status s);
/* Parses a status name; false when unknown. */
bool task_status_parse(const char *name, enum task_status *out);
/* True when no move leaves s. */
bool task_status_is_final(enum task_status s);
/* True when the contract allows moving from `from` to `to`. */
bool task_transition_allowed(enum task_status from, enum task_status to);

enum step_status { STEP_CREATED, STEP_RUNNING, STEP_COMPLETED, STEP_FAILED, STEP_CANCELED, STEP_STATUS_COUNT };
const char *step_status_name(enum step_status s);
bool step_status_parse(const char *name, enum step_status *out);

#define TASK_URL_MAX 2083
#define TASK_IDEMPOTENCY_KEY_MAX 255

struct sx_conf;

/*
 * The byte caps on the fields of a create request (config keys max_*_bytes),
 * so that what one tenant stores, and what every read of it then costs,
 * stays within real use.  Strings are measured as their UTF-8 bytes, other
 * JSON values as their compact serialization (the form that is stored).
 */
struct task_limits {
	size_t goal;      /* navigation_goal, data_extraction_goal */
	size_t payload;   /* navigation_payload */
	size_t schema;    /* extracted_information_schema (a string: as given) */
	size_t mapping;   /* error_code_mapping, extra_http_headers */
	size_t text;      /* title, totp_identifier */
};

/* Fills l from the config's max_*_bytes keys (no allocation). */
void task_limits_init(struct task_limits *l, const struct sx_conf *c);

/*
 * Validates a create request body (raw bytes, len of them) and returns the
 * normalized request object: url, navigation_goal, data_extraction_goal,
 * navigation_payload, proxy_location (default RESIDENTIAL),
 * extracted_information_schema (a string form is parsed), webhook_callback_url,
 * totp_verification_url, totp_identifier, title, error_code_mapping,
 * extra_http_headers, max_steps, run_with ("agent" or "code"; the last five
 * only when given).  Unknown fields are dropped.  The body
 * must be strict JSON (sx_json_check) nested at most max_depth deep
 * (SX_JSON_MAX_DEPTH when max_depth <= 0), and so is the stored request:
 * a string extracted_information_schema, stored one level down, may nest
 * one level less.
 *
 * why is always initialized.  On failure returns SX_EINVAL and fills why:
 * SX_INVALID_SHAPE for a body that is not a JSON object, a missing url or a
 * field of the wrong type (every shape check runs before any value check,
 * as FastAPI's model validation does); a field over its cap in lim is a
 * shape problem too (type string_too_long or too_long, as pydantic's
 * max_length is), checked after the types; lim may be NULL for no field
 * caps; so is an error_code_mapping past errcode_mapping_check's caps
 * (core/errcode.h).  SX_INVALID_VALUE for a value of the right type that is
 * unacceptable.  The caller owns *request on success and releases why
 * (sx_invalid_release) on failure.
 */
enum sx_rc task_request_parse(const char *body, size_t len, int max_depth,
			      const struct task_limits *lim,
			      json_object **request, struct sx_invalid *why);

/*
 * The first step of task_request_parse(), shared with the run API
 * (core/run.h): body must be strict JSON nested at most max_depth deep and
 * an object.  On success the caller owns *root; otherwise it is NULL and
 * why is filled (SX_INVALID_SHAPE, as task_request_parse() describes).
 */
enum sx_rc task_body_parse(const char *body, size_t len, int max_depth, json_object **root,
			   struct sx_invalid *why);

/*
 * task_request_parse() of a body already parsed into the object root
 * (borrowed).  With url_optional, a missing url is no error and the
 * normalized request has "url": null; the caller decides what that means.
 */
enum sx_rc task_request_from_json(json_object *root, int max_depth, const struct task_limits *lim,
				  bool url_optional, json_object **request, struct sx_invalid *why);

/*
 * The create-time address check of a parsed request's url: a literal IP
 * address the SSRF policy refuses (loopback, private, metadata, …) unless
 * allow (outbound_allow) lists it is SX_EINVAL with why filled
 * (SX_INVALID_VALUE, as task_request_parse() refuses a value).  Host names
 * pass: they are checked when the browser goes there (agent/egress.h).
 */
enum sx_rc task_request_check_address(json_object *request, const char *allow, struct sx_invalid *why);

/*
 * The checks a client's url passes at create time (http or https, at most
 * TASK_URL_MAX characters, then task_request_check_address), for a start
 * URL that did not come from the client: the agent's choice for a run
 * created without one.  SX_EINVAL with why filled (SX_INVALID_VALUE, the
 * same messages a client gets) when refused; why is always initialized.
 */
enum sx_rc task_url_check(const char *url, const char *allow, struct sx_invalid *why);

/* A task as stored.  Strings are owned; NULL means JSON null. */
struct task {
	char *id;
	char *org_id;
	enum task_status status;
	json_object *request;          /* normalized request (owned) */
	json_object *run_request;      /* a run's other fields (core/run.h), or NULL */
	char *created_at;              /* ISO 8601 strings */
	char *modified_at;
	char *queued_at;
	char *started_at;
	char *finished_at;
	json_object *extracted_information;
	char *failure_reason;
	char *screenshot_url;
	char *recording_url;
	json_object *action_screenshot_urls; /* array, newest first */
	long long step_count;
	long long max_steps;
	json_object *errors;           /* array of {error_code, reasoning, …} */
	char *webhook_failure_reason;
	/* agent-side fields */
	long long attempt;
	char *lease_owner;
	char *proxy_used;
	json_object *replay;           /* what replay did (agent/replay.h), or NULL */
};

void task_release(struct task *t);
void task_free(struct task *t);

/*
 * The error_code of a tasks.errors entry that counts artifact files the
 * agent could not write: {"error_code", "reasoning", "artifact_type",
 * "count", "errno"} (errno a name such as "ENOSPC", or null when unknown).
 */
#define TASK_ERROR_ARTIFACT_WRITE "artifact_write_failed"

/*
 * Adds the entries of add (an array, borrowed) to errors (an array, changed
 * in place).  An entry with a "count" whose error_code and artifact_type
 * match an entry of errors that has one too is folded into it: the counts
 * add up and the newer reasoning and errno replace the older ones, so a
 * task keeps one entry per kind of loss however often, and over however
 * many attempts, it happened.  Any other entry is appended (a copy).
 */
void task_errors_merge(json_object *errors, json_object *add);

/*
 * The public task object (docs/api-contract.md), with one member of
 * Sextant's own at the end: created_via, "run_api" for a run created through
 * POST /v1/run/tasks and "task_api" for a task created through POST
 * /api/v1/tasks; replay, what replay did ({outcome, healed_at_step,
 * model_tokens_saved, trace_id, trace_version}, null until the agent ends
 * the task).  with_request=false leaves `request` out (the webhook body
 * starts from that, core/webhook_msg.h).  Absent values are null; the caller
 * owns the result.
 */
json_object *task_to_json(const struct task *t, bool with_request);

/*
 * A task as an item of GET /api/v1/tasks: task_to_json(t, true) with the
 * request's members copied up to the top level as well (Skyvern's older
 * SDK reads url, navigation_goal… there), never over a task member.
 */
json_object *task_to_list_json(const struct task *t);

/*
 * The actions of a task's steps (the JSON array task_db_steps() gives, in
 * order), in order, each as the step recorded it plus Skyvern's Action
 * members (step_output_action() in core/step_output.h).  The caller owns
 * the result.
 */
json_object *task_actions_json(json_object *steps);

struct step {
	char *id;
	char *task_id;
	char *org_id;
	enum step_status status;
	long long order;
	long long retry_index;
	bool is_last;
	long long input_tokens;
	long long output_tokens;
	double cost;
	char *created_at;
	char *modified_at;
	json_object *output;   /* {"actions":[…], …} or NULL */
};

void step_release(struct step *s);
/* The public step object; its output as core/step_output.h shows it.  The caller owns the result. */
json_object *step_to_json(const struct step *s);
#endif
