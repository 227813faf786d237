/*
 * One-time codes for a task (see totp_obtain.h).
 */
#include <ctype.h>
#include <strings.h>
#include <time.h>

#include "sx.h"
#include "totp_obtain.h"
#include "crypto.h"
#include "buf.h"
#include "conf.h"
#include "http.h"
#include "llm/llm.h"
#include "log.h"
#include "org_db.h"
#include "sign.h"
#include "timeutil.h"
#include "totp_db.h"

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

static bool llm_tried(void *arg, const char *id)
{
	const struct totp_state *st = arg;

	for (size_t i = 0; i < st->nllm_tried; i++)
		if (strcmp(st->llm_tried[i], id) == 0)
			return true;
	return false;
}

/*
 * Asks the model for the code in a pushed message the patterns could not
 * read, and stores what it found on the row (still unused).  The message is
 * a secret: it goes to the model only, never to a log or an artifact.
 */
static void llm_read_pushed(const struct totp_task *t, struct totp_state *st, const char *id)
{
	static const char system[] =
		"SEXTANT-TOTP\n"
		"You read one-time verification codes out of messages (e-mails, text messages). "
		"Answer with ONLY a JSON object, no prose: {\"code\": \"the code\"}, or "
		"{\"code\": null} when the message holds no verification code.";
	struct llm_result res;
	json_object *v = NULL, *c;
	char *content = NULL, *user = NULL, perr[128];

	memset(&res, 0, sizeof(res));
	if (st->nllm_tried < SX_ARRAY_LEN(st->llm_tried))
		snprintf(st->llm_tried[st->nllm_tried++], sizeof(st->llm_tried[0]), "%s", id);
	else
		goto out;
	if (!t->llm || totp_db_content(t->db, t->org_id, id, &content) != SX_OK)
		goto out;
	user = xasprintf("Message:\n%s\n", content);
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
	    json_object_is_type(c, json_type_string) && code_shaped(json_object_get_string(c)))
		totp_db_set_code(t->db, id, json_object_get_string(c));
out:
	if (content) {
		crypto_wipe(content, strlen(content));
		free(content);
	}
	if (user) {
		crypto_wipe(user, strlen(user));
		free(user);
	}
	json_object_put(v);
	llm_result_release(&res);
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

/* One call of totp_obtain_code(): its sources and where it writes. */
struct obtain {
	const struct totp_task *t;
	struct totp_state *st;
	struct totp_params params;   /* the payload's TOTP secret, when have_secret */
	bool have_secret;
	bool use_url;
	struct http_client *hc;
	char secret[SX_SIGNING_SECRET_MAX]; /* the organization's signing secret */
	enum sign_mode mode;
	char blocked[256];           /* why the verification URL was refused, or "" */
	int64_t next_url, next_pushed;
	char *code;
	char *source;
	size_t sourcelen;
};

/* The current code of the payload's TOTP secret, unless it was entered already. */
static bool from_secret(struct obtain *o)
{
	char now_code[TOTP_CODE_MAX];

	if (!o->have_secret)
		return false;
	totp_code_at(&o->params, (int64_t)time(NULL), now_code);
	/* The code already entered waits for the next period rather than repeat. */
	if (strcmp(now_code, o->st->last_secret_code) == 0)
		return false;
	memcpy(o->code, now_code, TOTP_CODE_MAX);
	memcpy(o->st->last_secret_code, now_code, TOTP_CODE_MAX);
	snprintf(o->source, o->sourcelen, "navigation_payload TOTP secret");
	return true;
}

/*
 * A pushed code, looked up every PUSHED_POLL_MS.  A message the patterns
 * could not read goes to the model, and the lookup is repeated at once.
 */
static bool from_pushed(struct obtain *o, int64_t now)
{
	const struct totp_task *t = o->t;
	struct totp_db_want w = {
		.org_id = t->org_id, .task_id = t->task_id, .identifier = t->identifier,
		.identifier_ci = t->identifier && strchr(t->identifier, '@'),
		.max_age_s = t->conf->totp_code_max_age, .tried = llm_tried, .arg = o->st,
	};
	char unread[TOTP_DB_ID_MAX];
	bool got = false;

	while (!got && now >= o->next_pushed) {
		o->next_pushed = now + PUSHED_POLL_MS;
		if (totp_db_pick(t->db, &w, o->code, unread) != SX_OK)
			break;
		if (o->code[0]) {
			snprintf(o->source, o->sourcelen, "pushed code");
			got = true;
		} else if (unread[0]) {
			size_t tried = o->st->nllm_tried;

			llm_read_pushed(t, o->st, unread);
			/* Look again at once, unless the model may read no more messages. */
			if (o->st->nllm_tried > tried)
				o->next_pushed = now;
		}
	}
	crypto_wipe(unread, sizeof(unread));
	return got;
}

/*
 * The verification URL, polled every totp_poll_interval seconds.  SX_OK
 * with the code; SX_EBLOCKED when the guard refused it and nothing else
 * can bring a code (why says so); SX_EDONE otherwise.
 */
static enum sx_rc from_url(struct obtain *o, int64_t now, char *why, size_t whylen)
{
	const struct totp_task *t = o->t;
	char err[256] = "";
	enum sx_rc rc = SX_EDONE;

	if (!o->use_url || now < o->next_url)
		goto out;
	o->next_url = now + t->conf->totp_poll_interval * 1000;
	rc = poll_url(t, o->hc, o->secret, o->mode, o->code, err, sizeof(err));
	if (rc == SX_OK) {
		snprintf(o->source, o->sourcelen, "totp_verification_url");
		goto out;
	}
	if (rc != SX_EBLOCKED)
		goto out;
	snprintf(o->blocked, sizeof(o->blocked), "%s", err);
	o->use_url = false;
	log_warn("totp", "msg=\"verification url refused\" task=%s error=%s", t->task_id,
		 sx_log_quote(err));
	/* Nothing else can bring a code unless one is pushed for the task. */
	if (t->identifier && *t->identifier) {
		rc = SX_EDONE;
		goto out;
	}
	snprintf(why, whylen, "No TOTP verification code found: the totp_verification_url was "
		 "refused (%s)", o->blocked);
out:
	return rc;
}

/* Sets up o: the payload's code and secret, the URL's client and signing secret. */
static void obtain_init(struct obtain *o, const struct totp_task *t, struct totp_state *st,
			const char **pcode)
{
	const char *psecret = NULL;

	memset(o, 0, sizeof(*o));
	o->t = t;
	o->st = st;
	o->mode = SIGN_SLACK;
	o->use_url = t->verification_url && *t->verification_url;
	o->next_url = o->next_pushed = sx_mono_ms();
	*pcode = NULL;
	payload_scan(t->payload, pcode, &psecret);
	if (psecret && totp_parse_secret(psecret, &o->params) == SX_OK)
		o->have_secret = true;
}

/* Gets the URL's client and the organization's signing secret ready. */
static void obtain_url_init(struct obtain *o)
{
	if (!o->use_url)
		return;
	o->hc = http_client_new();
	if (org_db_signing_get(o->t->db, o->t->org_id, o->secret, &o->mode) != SX_OK) {
		log_warn("totp", "msg=\"no signing secret; verification url not polled\" task=%s",
			 o->t->task_id);
		o->use_url = false;
	}
}

static void obtain_release(struct obtain *o)
{
	http_client_free(o->hc);
	crypto_wipe(o, sizeof(*o));
}

/* The reason of a wait that ran out, naming the sources tried. */
static void timeout_reason(const struct obtain *o, char *why, size_t whylen)
{
	const struct totp_task *t = o->t;

	snprintf(why, whylen,
		 "No TOTP verification code found within %lld seconds (tried: %s%s%s%s%s%s)",
		 t->conf->totp_timeout,
		 o->have_secret ? "the TOTP secret in navigation_payload (no new code), " : "",
		 t->identifier && *t->identifier ? "codes pushed for totp_identifier, " : "",
		 "codes pushed for the task id",
		 t->verification_url && *t->verification_url ? ", totp_verification_url" : "",
		 o->blocked[0] ? " refused: " : "", o->blocked);
}

enum sx_rc totp_obtain_code(const struct totp_task *t, struct totp_state *st,
			    char code[TOTP_CODE_MAX], char *source, size_t sourcelen,
			    char *why, size_t whylen)
{
	struct obtain o;
	const char *pcode = NULL;
	int64_t deadline = sx_mono_ms() + t->conf->totp_timeout * 1000;
	enum sx_rc rc = SX_ETIMEOUT;

	code[0] = '\0';
	snprintf(source, sourcelen, "none");
	obtain_init(&o, t, st, &pcode);
	o.code = code;
	o.source = source;
	o.sourcelen = sourcelen;
	/* A literal code in the payload is entered once; asked again, the other sources answer. */
	if (pcode && !st->payload_code_given) {
		snprintf(code, TOTP_CODE_MAX, "%s", pcode);
		snprintf(source, sourcelen, "navigation_payload code");
		st->payload_code_given = true;
		rc = SX_OK;
		goto out;
	}
	obtain_url_init(&o);
	for (;;) {
		int64_t now = sx_mono_ms();

		if (from_secret(&o) || from_pushed(&o, now)) {
			rc = SX_OK;
			break;
		}
		rc = from_url(&o, now, why, whylen);
		if (rc != SX_EDONE)
			break;
		rc = SX_ETIMEOUT;
		if (sx_mono_ms() >= deadline) {
			timeout_reason(&o, why, whylen);
			break;
		}
		if (!wait_a_while(t, WAIT_SLICE_MS)) {
			rc = SX_ECANCELED;
			break;
		}
	}
out:
	if (rc == SX_OK)
		log_info("totp", "msg=\"verification code obtained\" task=%s source=%s", t->task_id,
			 sx_log_quote(source));
	obtain_release(&o);
	return rc;
}
