#ifndef SX_STEP_OUTPUT_H
#define SX_STEP_OUTPUT_H
/*
 * A step's recorded output as Skyvern's readers expect it (its
 * AgentStepOutput): the members the agent records (actions, each with its
 * result, reasoning, url_after, error, …) are kept as they are, and three
 * members are derived from them when the record has none of that name:
 *
 *  - action_results: one ActionResult per recorded result, in order
 *    (success, stop_execution_on_failure, exception_type, exception_message,
 *    data, step_retry_number, step_order and Skyvern's other members, null
 *    where Sextant records nothing);
 *  - actions_and_results: one [Action, [ActionResult]] pair per recorded
 *    action, in order (an action without a result has an empty list);
 *  - errors: the UserDefinedErrors ({error_code, reasoning, …}) the step's
 *    actions carry, in order.
 *
 * Null versus empty, as Skyvern has it: the two action lists are null when
 * the record has no list of actions (the step stopped before it decided
 * anything), and empty lists when it decided on none; errors is always a
 * list.  A step with no output yet (one that is running) keeps output null.
 * Nothing here reads a secret: the agent masked the record before storing it.
 */
#include "sx.h"
#include <json-c/json.h>

struct step;

/* Where an action was recorded: its step, as the step object names it. */
struct step_ref {
	const char *org_id;      /* each may be NULL (null in the result) */
	const char *task_id;
	const char *step_id;
	long long order;
	long long retry_index;
};

/*
 * The recorded action (borrowed) as Skyvern's Action: the action's own
 * members, then action_type (check and uncheck are Skyvern's checkbox, with
 * is_checked), element_id, status (completed, failed, or pending without a
 * result), errors (the UserDefinedErrors it carries, else an empty list),
 * organization_id, task_id, step_id, step_order and action_order.  The
 * caller owns the result.
 */
json_object *step_output_action(json_object *action, const struct step_ref *where,
				long long action_order);

/*
 * The output of step s as described above, a new object sharing the
 * record's members by reference; an output that is not an object (NULL,
 * JSON null, while the step runs) is returned as stored, with a new
 * reference.  The caller owns the result.
 */
json_object *step_output_json(const struct step *s);
#endif
