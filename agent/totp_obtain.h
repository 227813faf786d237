#ifndef SX_TOTP_OBTAIN_H
#define SX_TOTP_OBTAIN_H
/*
 * Getting a one-time code for a task that meets a 2FA prompt
 * (docs/api-contract.md, "TOTP / 2FA"): totp_obtain_code() waits for a code from
 * every source the task has.  The pure code functions (base32, RFC 6238,
 * extraction from messages) are in core/totp_code.h.
 *
 * Codes are secrets: nothing here logs one, and the caller masks each code
 * it is given in everything it records.
 */
#include "sx.h"
#include "totp_code.h"
#include <json-c/json.h>

struct sx_conf;
struct sx_db;
struct llm_client;

/*
 * What totp_obtain_code() needs to know about the running task; every pointer
 * is borrowed.  keep_waiting is called about twice a second while it
 * waits; returning false ends the wait (cancel, shutdown, lost lease).
 */
struct totp_task {
	const struct sx_conf *conf;
	struct sx_db *db;
	struct llm_client *llm;        /* reads pushed messages the patterns missed; may be NULL */
	const char *org_id;
	const char *task_id;
	json_object *payload;          /* navigation_payload; may be NULL */
	const char *identifier;        /* totp_identifier; may be NULL */
	const char *verification_url;  /* totp_verification_url; may be NULL */
	bool (*keep_waiting)(void *arg);
	void *arg;
};

/*
 * What one task remembers between requests for a code, so that no code is
 * given twice.  Zero it before the first call.  The token counts and cost
 * of fallback model calls accumulate here for the caller to charge.
 */
struct totp_state {
	bool payload_code_given;
	char last_secret_code[TOTP_CODE_MAX];
	char llm_tried[8][48];
	size_t nllm_tried;
	long long in_tokens, out_tokens;
	double cost;
};

/*
 * Gets a code for the task, trying in order: a literal code in the payload
 * (totp_code, verification_code, otp, code, …), a TOTP secret in the payload
 * (totp_secret, otp_secret, totp, mfa_secret, …), codes pushed to
 * POST /api/v1/totp for the task's totp_identifier or id (newest unused one
 * within totp_code_max_age; marked used in the same transaction that picks
 * it), and the totp_verification_url, polled every totp_poll_interval
 * seconds with a signed POST.  source names where the code came from.
 *
 * Returns SX_OK with code set; SX_ETIMEOUT after totp_timeout seconds with
 * why = "No TOTP verification code found …" naming the sources tried;
 * SX_EBLOCKED when the verification URL, the only source, is refused by the
 * SSRF guard (why says so, also starting "No TOTP verification code found");
 * SX_ECANCELED when keep_waiting said stop.
 */
enum sx_rc totp_obtain_code(const struct totp_task *t, struct totp_state *st,
			    char code[TOTP_CODE_MAX], char *source, size_t sourcelen,
			    char *why, size_t whylen);
#endif
