/*
 * One-time codes (see totp.h).
 */
#include <ctype.h>
#include <strings.h>
#include <time.h>

#include "sx.h"
#include "totp.h"
#include "crypto.h"
#include "buf.h"
#include "conf.h"
#include "db.h"
#include "http.h"
#include "llm/llm.h"
#include "log.h"
#include "sign.h"
#include "timeutil.h"

/* Pushed codes are looked up this often, whatever the URL's poll interval. */
#define PUSHED_POLL_MS 1000
/* How often the wait asks keep_waiting(). */
#define WAIT_SLICE_MS 500
/* A code pushed or answered by a URL: at most this many characters. */
#define CODE_LEN_MAX 10

/* ---- the sources of a code ------------------------------------------------ */

/* Payload keys whose value is a code, or a TOTP secret (told apart by the value). */
static const char *const payload_keys[] = {
	"totp_code", "verification_code", "otp", "otp_code", "code", "2fa_code", "mfa_code",
	"one_time_code", "passcode", "totp_secret", "otp_secret", "totp", "mfa_secret",
	"2fa_secret", "totp_key", "otp_key", "mfa_totp_secret", "authenticator_secret",
	"totp_uri", "otpauth",
};

static bool payload_key(const char *k)
{
	for (size_t i = 0; i < SX_ARRAY_LEN(payload_keys); i++)
		if (strcasecmp(k, payload_keys[i]) == 0)
			return true;
	return false;
}

/* A code as a person types it: 4 to 10 letters and digits. */
static bool code_shaped(const char *s)
{
	size_t n = strlen(s);

	if (n < 4 || n > CODE_LEN_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]))
			return false;
	return true;
}

/*
 * Walks the payload for the first literal code and the first TOTP secret
 * under the keys above.  Both results are borrowed from the payload.
 */
static void payload_scan(json_object *o, const char **code, const char **secret)
{
	if (!o)
		return;
	if (json_object_is_type(o, json_type_array)) {
		for (size_t i = 0; i < json_object_array_length(o); i++)
			payload_scan(json_object_array_get_idx(o, i), code, secret);
		return;
	}
	if (!json_object_is_type(o, json_type_object))
		return;
	json_object_object_foreach(o, k, v) {
		const char *s;

		if (!v)
			continue;
		if (!payload_key(k) || (!json_object_is_type(v, json_type_string) &&
					!json_object_is_type(v, json_type_int))) {
			payload_scan(v, code, secret);
			continue;
		}
		s = json_object_get_string(v);
		if (code_shaped(s)) {
			if (!*code)
				*code = s;
		} else if (!*secret) {
			struct totp_params p;

			if (totp_parse_secret(s, &p) == SX_OK)
				*secret = s;
			crypto_wipe(&p, sizeof(p));
		}
	}
}

struct pick_tx {
	const struct totp_task *t;
	const struct totp_state *st;
	bool by_identifier_ci;
	char code[TOTP_CODE_MAX];
	char llm_id[48];          /* a row whose code only a model can read */
};

static bool llm_tried(const struct totp_state *st, const char *id)
{
	for (size_t i = 0; i < st->nllm_tried; i++)
		if (strcmp(st->llm_tried[i], id) == 0)
			return true;
	return false;
}

/*
 * Picks the newest usable pushed code and marks it used, in one
 * transaction, so two tasks (or two tries of one) never enter the same
 * code.  When the newest candidate has no code yet (the patterns found
 * none in its message), its id is handed back for the model to read.
 */
static enum sx_rc pick_tx_fn(struct sx_db *db, void *arg)
{
	static const char q_pick[] =
		"SELECT id, code FROM totp_codes WHERE org_id = ? AND used_at IS NULL "
		"AND (expired_at IS NULL OR expired_at > UTC_TIMESTAMP(6)) "
		"AND (task_id = ? OR (task_id IS NULL "
		"  AND (totp_identifier = ? OR (? = 1 AND LOWER(totp_identifier) = LOWER(?))) "
		"  AND created_at >= UTC_TIMESTAMP(6) - INTERVAL ? SECOND)) "
		"ORDER BY created_at DESC, id DESC LIMIT 20 FOR UPDATE";
	static const char q_use[] =
		"UPDATE totp_codes SET used_at = UTC_TIMESTAMP(6) WHERE id = ? AND used_at IS NULL";
	struct pick_tx *pk = arg;
	const char *ident = pk->t->identifier ? pk->t->identifier : "";
	struct sx_param p[] = { sx_p_str(pk->t->org_id), sx_p_str(pk->t->task_id), sx_p_str(ident),
				sx_p_i64(pk->by_identifier_ci), sx_p_str(ident),
				sx_p_i64(pk->t->conf->totp_code_max_age) };
	struct sx_rows *rows = NULL;
	enum sx_rc rc;

	pk->code[0] = '\0';
	pk->llm_id[0] = '\0';
	rc = sx_db_query(db, q_pick, p, SX_ARRAY_LEN(p), &rows);
	if (rc)
		goto out;
	for (size_t i = 0; i < rows->nrows; i++) {
		const char *id = sx_rows_get(rows, i, 0), *code = sx_rows_get(rows, i, 1);

		if (!code || !*code) {
			if (!llm_tried(pk->st, id)) {
				snprintf(pk->llm_id, sizeof(pk->llm_id), "%s", id);
				break;
			}
			continue;
		}
		if (strlen(code) >= TOTP_CODE_MAX)
			continue;
		{
			struct sx_param u[] = { sx_p_str(id) };
			unsigned long long n = 0;

			rc = sx_db_exec(db, q_use, u, 1, &n);
			if (rc)
				goto out;
			if (n == 1) {
				snprintf(pk->code, sizeof(pk->code), "%s", code);
				break;
			}
		}
	}
out:
	sx_rows_free(rows);
	return rc;
}

/*
 * Asks the model for the code in a pushed message the patterns could not
 * read, and stores what it found on the row (still unused).  The message is
 * a secret: it goes to the model only, never to a log or an artifact.
 */
static void llm_read_pushed(const struct totp_task *t, struct totp_state *st, const char *id)
{
	static const char q_content[] = "SELECT content FROM totp_codes WHERE id = ? AND org_id = ?";
	static const char q_store[] =
		"UPDATE totp_codes SET code = ? WHERE id = ? AND code IS NULL AND used_at IS NULL";
	static const char system[] =
		"SEXTANT-TOTP\n"
		"You read one-time verification codes out of messages (e-mails, text messages). "
		"Answer with ONLY a JSON object, no prose: {\"code\": \"the code\"}, or "
		"{\"code\": null} when the message holds no verification code.";
	struct sx_param p[] = { sx_p_str(id), sx_p_str(t->org_id) };
	struct sx_rows *rows = NULL;
	struct llm_result res;
	json_object *v = NULL, *c;
	char *user = NULL, perr[128];

	memset(&res, 0, sizeof(res));
	if (st->nllm_tried < SX_ARRAY_LEN(st->llm_tried))
		snprintf(st->llm_tried[st->nllm_tried++], sizeof(st->llm_tried[0]), "%s", id);
	else
		goto out;
	if (!t->llm || sx_db_query(t->db, q_content, p, 2, &rows) != SX_OK || rows->nrows != 1)
		goto out;
	user = xasprintf("Message:\n%s\n", sx_rows_get(rows, 0, 0) ? sx_rows_get(rows, 0, 0) : "");
	{
		struct llm_request req = { system, user, NULL, 0 };

		if (llm_complete(t->llm, &req, &res) != SX_OK) {
			log_warn("totp", "msg=\"model could not read a pushed message\" task=%s row=%s",
				 t->task_id, id);
			goto out;
		}
	}
	st->in_tokens += res.input_tokens;
	st->out_tokens += res.output_tokens;
	st->cost += res.cost;
	v = llm_parse_answer(res.text, perr, sizeof(perr));
	if (v && json_object_object_get_ex(v, "code", &c) && c &&
	    json_object_is_type(c, json_type_string) && code_shaped(json_object_get_string(c))) {
		struct sx_param u[] = { sx_p_str(json_object_get_string(c)), sx_p_str(id) };

		sx_db_exec(t->db, q_store, u, 2, NULL);
	}
out:
	if (user) {
		crypto_wipe(user, strlen(user));
		free(user);
	}
	json_object_put(v);
	llm_result_release(&res);
	sx_rows_free(rows);
}

/* Reads the organization's signing secret and mode (caller frees *secret). */
static enum sx_rc org_signing(const struct totp_task *t, char **secret, enum sign_mode *mode)
{
	static const char q[] = "SELECT signing_secret, signature_mode FROM organizations WHERE id = ?";
	struct sx_param p[] = { sx_p_str(t->org_id) };
	struct sx_rows *rows = NULL;
	enum sx_rc rc;

	*secret = NULL;
	*mode = SIGN_SLACK;
	rc = sx_db_query(t->db, q, p, 1, &rows);
	if (rc == SX_OK && rows->nrows != 1)
		rc = SX_ENOTFOUND;
	if (rc == SX_OK) {
		*secret = xstrdup(sx_rows_get(rows, 0, 0) ? sx_rows_get(rows, 0, 0) : "");
		if (!sign_mode_parse(sx_rows_get(rows, 0, 1), mode))
			*mode = SIGN_SLACK;
	}
	sx_rows_free(rows);
	return rc;
}

/*
 * One signed POST to the verification URL.  SX_OK with code set when it
 * answered 200 {"verification_code": "…"}; SX_EDONE for any other answer
 * ("not yet"); SX_EBLOCKED when the SSRF guard refused the address (err
 * says why).
 */
static enum sx_rc poll_url(const struct totp_task *t, struct http_client *hc, const char *secret,
			   enum sign_mode mode, char code[TOTP_CODE_MAX], char *err, size_t errlen)
{
	struct http_response res;
	json_object *v = NULL, *c;
	char *body = xasprintf("{\"task_id\":\"%s\"}", t->task_id);
	char ts[32], sig[72], perr[64];
	long long now = (long long)time(NULL);
	struct http_header h[] = {
		{ "Content-Type", "application/json" },
		{ "x-skyvern-timestamp", ts },
		{ "x-skyvern-signature", sig },
	};
	struct http_request req = {
		.method = "POST", .url = t->verification_url, .headers = h,
		.nheaders = SX_ARRAY_LEN(h), .body = body, .body_len = strlen(body),
		.timeout_ms = t->conf->webhook_timeout * 1000, .max_response = 64 * 1024,
		.guarded = true, .allow = t->conf->outbound_allow,
	};
	enum sx_rc rc;

	snprintf(ts, sizeof(ts), "%lld", now);
	sign_request(mode, secret, now, body, strlen(body), sig);
	rc = http_perform(hc, &req, &res);
	if (rc == SX_EBLOCKED) {
		snprintf(err, errlen, "%s", res.error);
		goto out;
	}
	if (rc) {
		log_info("totp", "msg=\"verification url unreachable\" task=%s error=%s", t->task_id,
			 sx_log_quote(res.error));
		rc = SX_EDONE;
		goto out;
	}
	rc = SX_EDONE;
	if (res.status != 200)
		goto out;
	v = llm_parse_answer(sx_buf_str(&res.body), perr, sizeof(perr));
	if (v && json_object_is_type(v, json_type_object) &&
	    json_object_object_get_ex(v, "verification_code", &c) && c &&
	    (json_object_is_type(c, json_type_string) || json_object_is_type(c, json_type_int)) &&
	    code_shaped(json_object_get_string(c))) {
		snprintf(code, TOTP_CODE_MAX, "%s", json_object_get_string(c));
		rc = SX_OK;
	}
out:
	json_object_put(v);
	if (res.body.data)
		crypto_wipe(res.body.data, res.body.len);
	http_response_release(&res);
	free(body);
	return rc;
}

/* Sleeps up to ms in slices, false as soon as keep_waiting says stop. */
static bool wait_a_while(const struct totp_task *t, int64_t ms)
{
	int64_t until = sx_mono_ms() + ms;
	bool go = true;

	while (go && sx_mono_ms() < until) {
		int64_t left = until - sx_mono_ms();

		sx_sleep_ms(left < WAIT_SLICE_MS ? left : WAIT_SLICE_MS, NULL);
		if (t->keep_waiting)
			go = t->keep_waiting(t->arg);
	}
	return go;
}

enum sx_rc totp_obtain(const struct totp_task *t, struct totp_state *st,
		       char code[TOTP_CODE_MAX], char *source, size_t sourcelen,
		       char *why, size_t whylen)
{
	const struct sx_conf *c = t->conf;
	const char *pcode = NULL, *psecret = NULL;
	struct totp_params params;
	struct http_client *hc = NULL;
	char *secret = NULL, blocked[256] = "";
	enum sign_mode mode = SIGN_SLACK;
	bool have_secret = false, use_url = t->verification_url && *t->verification_url;
	int64_t start = sx_mono_ms(), deadline = start + c->totp_timeout * 1000;
	int64_t next_url = start, next_pushed = start;
	struct pick_tx pk;
	enum sx_rc rc = SX_ETIMEOUT;

	code[0] = '\0';
	snprintf(source, sourcelen, "none");
	memset(&params, 0, sizeof(params));
	memset(&pk, 0, sizeof(pk));
	pk.t = t;
	pk.st = st;
	pk.by_identifier_ci = t->identifier && strchr(t->identifier, '@');
	payload_scan(t->payload, &pcode, &psecret);
	if (psecret && totp_parse_secret(psecret, &params) == SX_OK)
		have_secret = true;

	/* A literal code in the payload is entered once; asked again, the other sources answer. */
	if (pcode && !st->payload_code_given) {
		snprintf(code, TOTP_CODE_MAX, "%s", pcode);
		snprintf(source, sourcelen, "navigation_payload code");
		st->payload_code_given = true;
		rc = SX_OK;
		goto out;
	}
	if (use_url) {
		hc = http_client_new();
		if (org_signing(t, &secret, &mode) != SX_OK) {
			log_warn("totp", "msg=\"no signing secret; verification url not polled\" task=%s",
				 t->task_id);
			use_url = false;
		}
	}
	for (;;) {
		int64_t now = sx_mono_ms();

		if (have_secret) {
			char now_code[TOTP_CODE_MAX];

			totp_code_at(&params, (int64_t)time(NULL), now_code);
			/* The code already entered waits for the next period rather than repeat. */
			if (strcmp(now_code, st->last_secret_code) != 0) {
				memcpy(code, now_code, TOTP_CODE_MAX);
				memcpy(st->last_secret_code, now_code, TOTP_CODE_MAX);
				snprintf(source, sourcelen, "navigation_payload TOTP secret");
				rc = SX_OK;
				goto out;
			}
		}
		if (now >= next_pushed) {
			next_pushed = now + PUSHED_POLL_MS;
			if (sx_db_tx(t->db, pick_tx_fn, &pk) == SX_OK) {
				if (pk.code[0]) {
					memcpy(code, pk.code, TOTP_CODE_MAX);
					snprintf(source, sourcelen, "pushed code");
					rc = SX_OK;
					goto out;
				}
				if (pk.llm_id[0]) {
					llm_read_pushed(t, st, pk.llm_id);
					next_pushed = now;   /* look again at once */
					continue;
				}
			}
		}
		if (use_url && now >= next_url) {
			char err[256] = "";
			enum sx_rc prc;

			next_url = now + c->totp_poll_interval * 1000;
			prc = poll_url(t, hc, secret, mode, code, err, sizeof(err));
			if (prc == SX_OK) {
				snprintf(source, sourcelen, "totp_verification_url");
				rc = SX_OK;
				goto out;
			}
			if (prc == SX_EBLOCKED) {
				snprintf(blocked, sizeof(blocked), "%s", err);
				use_url = false;
				log_warn("totp", "msg=\"verification url refused\" task=%s error=%s",
					 t->task_id, sx_log_quote(err));
				/* Nothing else can bring a code unless one is pushed for the task. */
				if (!t->identifier || !*t->identifier) {
					snprintf(why, whylen, "No TOTP verification code found: the "
						 "totp_verification_url was refused (%s)", blocked);
					rc = SX_EBLOCKED;
					goto out;
				}
			}
		}
		if (sx_mono_ms() >= deadline)
			break;
		if (!wait_a_while(t, WAIT_SLICE_MS)) {
			rc = SX_ECANCELED;
			goto out;
		}
	}
	snprintf(why, whylen,
		 "No TOTP verification code found within %lld seconds (tried: %s%s%s%s%s%s)",
		 c->totp_timeout,
		 have_secret ? "the TOTP secret in navigation_payload (no new code), " : "",
		 t->identifier && *t->identifier ? "codes pushed for totp_identifier, " : "",
		 "codes pushed for the task id",
		 t->verification_url && *t->verification_url ? ", totp_verification_url" : "",
		 blocked[0] ? " refused: " : "", blocked);
	rc = SX_ETIMEOUT;
out:
	if (rc == SX_OK)
		log_info("totp", "msg=\"verification code obtained\" task=%s source=%s", t->task_id,
			 sx_log_quote(source));
	crypto_wipe(&params, sizeof(params));
	if (secret) {
		crypto_wipe(secret, strlen(secret));
		free(secret);
	}
	crypto_wipe(&pk, sizeof(pk));
	http_client_free(hc);
	return rc;
}
