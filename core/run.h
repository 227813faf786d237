#ifndef SX_RUN_H
#define SX_RUN_H
/*
 * The run API's model (docs/run-api.md): Skyvern's TaskRunRequest read into
 * a task request, and a task shown as a run object.  A run of type task_v1
 * is a task: one row, one id, readable through both surfaces.
 *
 * A TaskRunRequest's fields fall into three groups.  Those that map onto the
 * task request (prompt -> navigation_goal, data_extraction_schema ->
 * extracted_information_schema, webhook_url -> webhook_callback_url,
 * totp_url -> totp_verification_url, url, title, proxy_location,
 * error_code_mapping, extra_http_headers, max_steps, totp_identifier) are
 * validated as POST /api/v1/tasks validates them.  Those with no meaning
 * here (engine skyvern-1.0 or skyvern-2.0, run_with "agent",
 * start_fresh_browser, max_screenshot_scrolls,
 * include_action_history_in_verification, cdp_connect_headers,
 * publish_workflow false) are kept in the run's `run_request` and ignored.
 * Those that would change what the run does and that this server does not
 * do (another engine, run_with "code", browser_session_id,
 * browser_profile_id, browser_address, model, publish_workflow true, a
 * proxy_location object) are refused with a message.
 *
 * url may be left out, as in Skyvern: the task is stored with "url": null
 * and the agent's first step asks the model for a start URL from the
 * prompt (agent/start_url.h), which then becomes the task's url.
 */
#include "sx.h"
#include "task.h"

/*
 * Validates a TaskRunRequest body (raw bytes, len of them) into the task
 * request (*request, the shape task_request_parse() returns) and the run's
 * other fields (*run_extra, with their defaults filled in).  Shape problems
 * (not a JSON object, no prompt, a field of the wrong type, a field over its
 * cap in lim) are SX_INVALID_SHAPE, checked before any value; a refused or
 * unsupported value is SX_INVALID_VALUE; errors name the fields as the run
 * API spells them.  why is always initialized.  On success the caller owns
 * both objects; on failure both are NULL and the caller releases why.
 */
enum sx_rc run_request_parse(const char *body, size_t len, int max_depth,
			     const struct task_limits *lim, json_object **request,
			     json_object **run_extra, struct sx_invalid *why);

/*
 * The request of the run t, as stored, with defaults filled in: its task
 * request under the run API's names, merged with its run_request (defaults
 * for a task created through /api/v1/tasks).  The caller owns the result.
 */
json_object *run_request_of(const struct task *t);

/*
 * The run object of t (run_type task_v1).  app_base is the server's public
 * base URL, from which app_url points at the task in the viewer (null when
 * app_base is NULL or empty).  Values this server does not know are null,
 * never absent.  The caller owns the result.
 */
json_object *run_to_json(const struct task *t, const char *app_base);
#endif
