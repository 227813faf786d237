/*
 * Configuration loading, table-driven as in nginx: every key is one row of
 * conf_table below, which is the single source of the key's type, place in
 * struct sx_conf, default and allowed range.  Defaults go through the same
 * parser as file values, so a bad default is caught by the unit tests.
 */
#include "conf.h"
#include "crypto.h"

#include <assert.h>
#include <errno.h>
#include <stdarg.h>
#include <strings.h>

enum conf_type { CONF_STR, CONF_INT, CONF_OCTAL, CONF_BOOL, CONF_DOUBLE };

struct conf_key {
	const char *key;
	enum conf_type type;
	size_t offset;
	const char *def;
	double min, max;              /* inclusive; INT, OCTAL and DOUBLE only */
	const char *const *choices;   /* STR only: NULL-terminated allowed values */
	bool (*check)(const char *value); /* STR only: a value the key's own syntax accepts */
	const char *expected;         /* with check: what it accepts, for the error message */
};

static bool conf_check_db_hosts(const char *value);
static bool conf_check_endpoint(const char *value);

static const char *const conf_log_levels[] = { "debug", "info", "warn", "error", NULL };
static const char *const conf_llm_providers[] = { "openai", "anthropic", NULL };
static const char *const conf_browser_modes[] = { "per_task", "shared", NULL };
static const char *const conf_image_details[] = { "auto", "low", "high", NULL };
static const char *const conf_artifact_offloads[] = { "x-accel-redirect", "x-sendfile", NULL };
static const char *const conf_artifact_backends[] = { "filesystem", "s3", NULL };
static const char *const conf_replay_modes[] = { "auto", "off", NULL };

/*
 * What llm_base_url, llm_model and llm_api_key_env are when the file does not
 * set them, per llm_provider.  The one place these defaults are written:
 * ./stack asks for them through `sextant-admin conf get`.
 */
static const struct conf_llm_preset {
	const char *provider, *base_url, *model, *key_env;
} conf_llm_presets[] = {
	{ "openai", "https://api.openai.com/v1", "gpt-4o-mini", "OPENAI_API_KEY" },
	{ "anthropic", "https://api.anthropic.com/v1", "claude-sonnet-4-5", "ANTHROPIC_API_KEY" },
};

#define OFF(field) offsetof(struct sx_conf, field)
#define STR(k, d) { #k, CONF_STR, OFF(k), d, 0, 0, NULL, NULL, NULL }
#define CHECKED(k, d, f, e) { #k, CONF_STR, OFF(k), d, 0, 0, NULL, f, e }
#define ENUM(k, d, c) { #k, CONF_STR, OFF(k), d, 0, 0, c, NULL, NULL }
#define INT(k, d, lo, hi) { #k, CONF_INT, OFF(k), d, lo, hi, NULL, NULL, NULL }
#define OCTAL(k, d, lo, hi) { #k, CONF_OCTAL, OFF(k), d, lo, hi, NULL, NULL, NULL }
#define BOOL(k, d) { #k, CONF_BOOL, OFF(k), d, 0, 0, NULL, NULL, NULL }
#define DOUBLE(k, d, lo, hi) { #k, CONF_DOUBLE, OFF(k), d, lo, hi, NULL, NULL, NULL }

static const struct conf_key conf_table[] = {
	/* general */
	ENUM(log_level, "info", conf_log_levels),
	STR(data_dir, "/usr/local/share/sextant"),
	/* database */
	CHECKED(db_host, "127.0.0.1", conf_check_db_hosts,
		"host, host:port or [v6-address]:port entries separated by commas"),
	INT(db_port, "3306", 1, 65535),
	STR(db_socket, ""),
	STR(db_user, "sextant"),
	STR(db_password, ""),
	STR(db_name, "sextant"),
	INT(db_connect_timeout, "5", 1, 300),
	INT(db_read_timeout, "30", 1, 3600),
	/* API */
	STR(api_socket, "/run/sextant/api.sock"),
	INT(api_workers, "4", 1, 256),
	INT(api_max_body, "1048576", 1024, 67108864),
	OCTAL(api_socket_mode, "0660", 0, 0777),
	INT(idempotency_ttl, "86400", 60, 31536000),
	/* tasks */
	INT(max_steps_default, "10", 1, 1000),
	INT(max_steps_limit, "100", 1, 10000),
	INT(max_retries_per_step, "3", 0, 20),
	/* caps that bound the work one request can cause (issue 9, item 6) */
	INT(max_goal_bytes, "16384", 256, 1048576),
	INT(max_payload_bytes, "65536", 1024, 1048576),
	INT(max_schema_bytes, "32768", 256, 1048576),
	INT(max_mapping_bytes, "16384", 256, 1048576),
	INT(max_text_bytes, "1024", 64, 65536),
	INT(list_max_bytes, "1048576", 65536, 67108864),
	/* agent */
	INT(agent_workers, "2", 1, 64),
	INT(lease_seconds, "60", 5, 3600),
	INT(heartbeat_seconds, "10", 1, 600),
	INT(max_attempts, "3", 1, 20),
	INT(task_timeout, "1800", 10, 86400),
	INT(poll_interval_ms, "500", 10, 60000),
	STR(webdriver_url, ""),
	STR(chromedriver_path, "/usr/bin/chromedriver"),
	STR(chromium_path, "/usr/bin/chromium"),
	INT(chromedriver_port, "0", 0, 65535),
	BOOL(browser_pool, "true"),
	ENUM(browser_mode, "per_task", conf_browser_modes),
	ENUM(replay, "auto", conf_replay_modes),
	INT(window_width, "1280", 320, 7680),
	INT(window_height, "900", 240, 4320),
	INT(webdriver_timeout, "30", 1, 600),
	STR(artifacts_dir, "/var/lib/sextant/artifacts"),
	ENUM(artifacts_backend, "filesystem", conf_artifact_backends),
	CHECKED(s3_endpoint, "", conf_check_endpoint,
		"http:// or https:// and host[:port], with no path (the bucket goes in s3_bucket)"),
	STR(s3_bucket, ""),
	STR(s3_region, "us-east-1"),
	STR(s3_access_key_env, "AWS_ACCESS_KEY_ID"),
	STR(s3_secret_key_env, "AWS_SECRET_ACCESS_KEY"),
	STR(public_base_url, "http://127.0.0.1:8080"),
	STR(agent_user, ""),
	BOOL(chromium_no_sandbox, "false"),
	/* LLM: base URL, model and key variable default to the provider's preset */
	ENUM(llm_provider, "openai", conf_llm_providers),
	STR(llm_base_url, ""),
	STR(llm_model, ""),
	STR(llm_api_key_env, ""),
	BOOL(llm_vision, "true"),
	BOOL(llm_verify_image, "false"),
	INT(llm_image_width, "1024", 0, 7680),
	ENUM(llm_image_detail, "auto", conf_image_details),
	INT(llm_timeout, "120", 1, 3600),
	INT(llm_max_tokens, "2048", 16, 200000),
	INT(llm_max_retries, "3", 0, 10),
	DOUBLE(llm_price_input, "0.15", 0, 1e6),
	DOUBLE(llm_price_output, "0.60", 0, 1e6),

	/* outbound requests on a user's behalf */
	STR(outbound_allow, ""),
	STR(proxy_map, ""),
	STR(mask_keys, ""),
	INT(webhook_timeout, "10", 1, 120),
	INT(webhook_retry_window, "86400", 60, 604800),
	INT(webhook_poll_ms, "500", 10, 60000),
	INT(webhook_backoff_base_ms, "1000", 10, 3600000),
	INT(webhook_backoff_max_ms, "600000", 100, 86400000),
	INT(totp_poll_interval, "10", 1, 600),
	INT(totp_timeout, "900", 1, 86400),
	INT(totp_code_max_age, "600", 10, 86400),

	/* artifacts: signed URLs, recording, retention */
	STR(artifact_url_key, ""),
	INT(artifact_url_ttl, "86400", 60, 31536000),
	ENUM(artifact_offload, "x-accel-redirect", conf_artifact_offloads),
	BOOL(recording_enabled, "true"),
	INT(recording_fps, "2", 1, 10),
	STR(ffmpeg_path, "/usr/bin/ffmpeg"),
	INT(retention_days, "30", 1, 3650),
};

#undef OFF
#undef STR
#undef CHECKED
#undef ENUM
#undef INT
#undef OCTAL
#undef BOOL
#undef DOUBLE

#define CONF_NKEYS SX_ARRAY_LEN(conf_table)

static bool conf_is_host_char(char ch, bool bracketed)
{
	if (bracketed)
		return (ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f') ||
		       (ch >= 'A' && ch <= 'F') || ch == ':' || ch == '.';
	return (ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'z') ||
	       (ch >= 'A' && ch <= 'Z') || ch == '.' || ch == '-' || ch == '_';
}

enum sx_rc sx_conf_db_host_next(const char **cursor, long long defport,
				char *host, size_t hostlen, unsigned *port)
{
	const char *p = *cursor, *start;
	bool bracketed;
	long long v = defport;
	size_t n;

	while (*p == ' ' || *p == '\t')
		p++;
	if (*p == '\0')
		return SX_EDONE;
	bracketed = *p == '[';
	start = p + bracketed;
	for (p = start; *p && conf_is_host_char(*p, bracketed); p++)
		;
	n = (size_t)(p - start);
	if (n == 0 || n >= hostlen || (bracketed && *p++ != ']'))
		return SX_ECONFIG;
	memcpy(host, start, n);
	host[n] = '\0';
	if (*p == ':') {
		char digits[8];
		size_t d = 0;

		for (p++; *p >= '0' && *p <= '9' && d < sizeof(digits) - 1; p++)
			digits[d++] = *p;
		digits[d] = '\0';
		if (!sx_parse_ll(digits, 1, 65535, &v))
			return SX_ECONFIG;
	}
	while (*p == ' ' || *p == '\t')
		p++;
	if (*p == ',') {
		p++;
		while (*p == ' ' || *p == '\t')
			p++;
		if (*p == '\0')
			return SX_ECONFIG;
	} else if (*p != '\0') {
		return SX_ECONFIG;
	}
	*port = (unsigned)v;
	*cursor = p;
	return SX_OK;
}

/* db_host: one or more entries sx_conf_db_host_next() reads. */
static bool conf_check_db_hosts(const char *value)
{
	char host[SX_DB_HOST_MAX];
	unsigned port;
	enum sx_rc rc;
	size_t n = 0;

	while ((rc = sx_conf_db_host_next(&value, 3306, host, sizeof(host), &port)) == SX_OK)
		n++;
	return rc == SX_EDONE && n > 0 && n <= SX_DB_HOSTS_MAX;
}

/*
 * s3_endpoint: empty (no object storage), or a scheme and an authority
 * alone, one trailing slash tolerated.  A path would have to prefix every
 * object's path, and the presigned URL signs the path it is given, so it is
 * refused here rather than half supported.  No user:password@ either:
 * credentials come from the environment (s3_access_key_env).
 */
static bool conf_check_endpoint(const char *value)
{
	const char *p = value;
	size_t n;

	if (*value == '\0')
		return true;
	if (strncmp(p, "https://", 8) == 0)
		p += 8;
	else if (strncmp(p, "http://", 7) == 0)
		p += 7;
	else
		return false;
	n = strcspn(p, "/?#@ \t");
	return n > 0 && (p[n] == '\0' || (p[n] == '/' && p[n + 1] == '\0'));
}

/* Octal file modes: digits 0-7 only, an optional leading 0 is allowed. */
static bool conf_parse_octal(const char *s, long long min, long long max, long long *out)
{
	long long v = 0;
	bool ok = *s != '\0';

	for (; ok && *s; s++) {
		if (*s < '0' || *s > '7' || v > (max << 3))
			ok = false;
		else
			v = v * 8 + (*s - '0');
	}
	if (ok && (v < min || v > max))
		ok = false;
	if (ok)
		*out = v;
	return ok;
}

static bool conf_parse_bool(const char *s, bool *out)
{
	static const char *const yes[] = { "true", "yes", "on", "1" };
	static const char *const no[] = { "false", "no", "off", "0" };
	bool ok = false;
	size_t i;

	for (i = 0; i < SX_ARRAY_LEN(yes) && !ok; i++) {
		if (strcasecmp(s, yes[i]) == 0) {
			*out = true;
			ok = true;
		} else if (strcasecmp(s, no[i]) == 0) {
			*out = false;
			ok = true;
		}
	}
	return ok;
}

/* Describes what a key accepts, for the `bad value` message. */
static void conf_expected(const struct conf_key *k, char *out, size_t outlen)
{
	size_t i, used;

	switch (k->type) {
	case CONF_INT:
		snprintf(out, outlen, "an integer from %lld to %lld",
			 (long long)k->min, (long long)k->max);
		break;
	case CONF_OCTAL:
		snprintf(out, outlen, "an octal mode from %#llo to %#llo",
			 (unsigned long long)k->min, (unsigned long long)k->max);
		break;
	case CONF_BOOL:
		snprintf(out, outlen, "one of true, false, yes, no, on, off, 1, 0");
		break;
	case CONF_DOUBLE:
		snprintf(out, outlen, "a number from %g to %g", k->min, k->max);
		break;
	case CONF_STR:
		if (k->expected) {
			snprintf(out, outlen, "%s", k->expected);
			break;
		}
		used = (size_t)snprintf(out, outlen, "one of");
		for (i = 0; k->choices && k->choices[i] && used < outlen; i++)
			used += (size_t)snprintf(out + used, outlen - used, "%s %s",
						 i ? "," : "", k->choices[i]);
		break;
	}
}

/*
 * Stores value into the field k describes.  Returns false, leaving the
 * field as it was, when the value is not acceptable for k.
 */
static bool conf_set(struct sx_conf *c, const struct conf_key *k, const char *value)
{
	char *field = (char *)c + k->offset;
	long long ll;
	double d;
	bool b, ok = false;
	size_t i;

	switch (k->type) {
	case CONF_STR:
		ok = k->choices == NULL;
		for (i = 0; !ok && k->choices[i]; i++)
			ok = strcmp(value, k->choices[i]) == 0;
		if (ok && k->check)
			ok = k->check(value);
		if (ok) {
			char **sp = (char **)(void *)field;

			free(*sp);
			*sp = xstrdup(value);
		}
		break;
	case CONF_INT:
		ok = sx_parse_ll(value, (long long)k->min, (long long)k->max, &ll);
		if (ok)
			*(long long *)(void *)field = ll;
		break;
	case CONF_OCTAL:
		ok = conf_parse_octal(value, (long long)k->min, (long long)k->max, &ll);
		if (ok)
			*(long long *)(void *)field = ll;
		break;
	case CONF_BOOL:
		ok = conf_parse_bool(value, &b);
		if (ok)
			*(bool *)(void *)field = b;
		break;
	case CONF_DOUBLE:
		ok = sx_parse_double(value, k->min, k->max, &d);
		if (ok)
			*(double *)(void *)field = d;
		break;
	}
	return ok;
}

static const struct conf_key *conf_lookup(const char *key, size_t *index)
{
	const struct conf_key *found = NULL;
	size_t i;

	for (i = 0; i < CONF_NKEYS; i++) {
		if (strcmp(conf_table[i].key, key) == 0) {
			found = &conf_table[i];
			*index = i;
			break;
		}
	}
	return found;
}

/* The preset of provider; an unknown one (not accepted by the table) gets openai's. */
static const struct conf_llm_preset *conf_llm_preset_find(const char *provider)
{
	const struct conf_llm_preset *p = &conf_llm_presets[0];
	size_t i;

	for (i = 0; i < SX_ARRAY_LEN(conf_llm_presets); i++)
		if (strcmp(provider, conf_llm_presets[i].provider) == 0)
			p = &conf_llm_presets[i];
	return p;
}

/*
 * Gives llm_base_url, llm_model and llm_api_key_env the preset of
 * llm_provider, each unless seen[] says the file set it (seen may be NULL:
 * nothing was set).  llm_provider is always one of the presets' providers.
 */
static void conf_llm_preset_apply(struct sx_conf *c, const size_t seen[])
{
	const struct conf_llm_preset *p = conf_llm_preset_find(c->llm_provider);
	const char *const keys[] = { "llm_base_url", "llm_model", "llm_api_key_env" };
	const char *const values[] = { p->base_url, p->model, p->key_env };
	size_t i, idx = 0;

	for (i = 0; i < SX_ARRAY_LEN(keys); i++) {
		const struct conf_key *k = conf_lookup(keys[i], &idx);

		assert(k);
		if (!seen || !seen[idx])
			conf_set(c, k, values[i]);
	}
}

/*
 * Zeroes c and fills every key from the table, the LLM keys from the default
 * provider's preset.  The defaults are vetted by the unit tests; one that did
 * not parse would be a programming error.
 */
void sx_conf_defaults(struct sx_conf *c)
{
	size_t i;
	bool ok;

	memset(c, 0, sizeof(*c));
	for (i = 0; i < CONF_NKEYS; i++) {
		/* A key with a syntax of its own says what it is in a bad value's message. */
		assert(!conf_table[i].check || conf_table[i].expected);
		ok = conf_set(c, &conf_table[i], conf_table[i].def);
		if (!ok) {
			fprintf(stderr, "sextant: bad built-in default for %s\n", conf_table[i].key);
			abort();
		}
	}
	conf_llm_preset_apply(c, NULL);
}

/* Keys whose values are never shown (sx_conf_get) nor left in freed memory. */
static bool conf_is_secret(const struct conf_key *k)
{
	return k->offset == offsetof(struct sx_conf, db_password) ||
	       k->offset == offsetof(struct sx_conf, artifact_url_key);
}

enum sx_rc sx_conf_get(const struct sx_conf *c, const char *key, char *out, size_t outlen)
{
	enum sx_rc rc = SX_OK;
	const struct conf_key *k;
	const char *field;
	size_t idx = 0;
	int n = 0;

	k = conf_lookup(key, &idx);
	if (!k) {
		rc = SX_ENOTFOUND;
		goto out;
	}
	if (conf_is_secret(k)) {
		rc = SX_EBLOCKED;
		goto out;
	}
	field = (const char *)c + k->offset;
	switch (k->type) {
	case CONF_STR:
		n = snprintf(out, outlen, "%s", *(char *const *)(const void *)field);
		break;
	case CONF_INT:
		n = snprintf(out, outlen, "%lld", *(const long long *)(const void *)field);
		break;
	case CONF_OCTAL:
		n = snprintf(out, outlen, "0%llo", *(const unsigned long long *)(const void *)field);
		break;
	case CONF_BOOL:
		n = snprintf(out, outlen, "%s", *(const bool *)(const void *)field ? "true" : "false");
		break;
	case CONF_DOUBLE:
		n = snprintf(out, outlen, "%g", *(const double *)(const void *)field);
		break;
	}
	if (n < 0 || (size_t)n >= outlen)
		rc = SX_ETOOBIG;
out:
	return rc;
}

size_t sx_conf_key_count(void)
{
	return CONF_NKEYS;
}

bool sx_conf_shared_browser(const struct sx_conf *c)
{
	return strcmp(c->browser_mode, "shared") == 0 && !(c->webdriver_url && *c->webdriver_url) &&
	       !c->no_browser_host;
}

void sx_conf_release(struct sx_conf *c)
{
	size_t i;

	for (i = 0; i < CONF_NKEYS; i++) {
		if (conf_table[i].type == CONF_STR) {
			char **sp = (char **)(void *)((char *)c + conf_table[i].offset);

			if (*sp && conf_table[i].offset == offsetof(struct sx_conf, db_password))
				crypto_wipe(*sp, strlen(*sp));
			free(*sp);
			*sp = NULL;
		}
	}
}

static bool conf_is_space(char ch)
{
	return ch == ' ' || ch == '\t' || ch == '\r' || ch == '\n' || ch == '\f' || ch == '\v';
}

/*
 * Reads the value that starts at p (just past the '=' and its blanks) into
 * out, a buffer at least as long as the line.  Returns NULL or a static
 * description of what is wrong with the line.
 */
static const char *conf_read_value(char *p, char *out)
{
	const char *problem = NULL;
	size_t o = 0;
	char *start = p;

	if (*p == '"') {
		for (p++; *p && *p != '"'; p++) {
			if (*p == '\\') {
				p++;
				if (*p != '"' && *p != '\\') {
					problem = "bad escape in quoted value (only \\\" and \\\\ are allowed)";
					goto out;
				}
			}
			out[o++] = *p;
		}
		if (*p != '"') {
			problem = "unterminated quoted value";
			goto out;
		}
		for (p++; conf_is_space(*p); p++)
			;
		if (*p && *p != '#') {
			problem = "unexpected text after quoted value";
			goto out;
		}
	} else {
		/* '#' starts a comment at the value's start or after a blank. */
		for (; *p; p++) {
			if (*p == '#' && (p == start || conf_is_space(p[-1])))
				break;
			out[o++] = *p;
		}
		while (o > 0 && conf_is_space(out[o - 1]))
			o--;
	}
out:
	out[o] = '\0';
	return problem;
}

static enum sx_rc conf_error(char *err, size_t errlen, const char *path, size_t lineno,
			     const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/* Writes `path:line: message` into err and returns SX_ECONFIG. */
static enum sx_rc conf_error(char *err, size_t errlen, const char *path, size_t lineno,
			     const char *fmt, ...)
{
	va_list ap;
	int n = 0;

	if (err && errlen) {
		n = snprintf(err, errlen, "%s:%zu: ", path, lineno);
		if (n >= 0 && (size_t)n < errlen) {
			va_start(ap, fmt);
			vsnprintf(err + n, errlen - (size_t)n, fmt, ap);
			va_end(ap);
		}
	}
	return SX_ECONFIG;
}

/*
 * Handles one line: blank, a comment, or `key = value`.  seen[] holds the
 * line each key was first set on (0 when not yet set).
 */
static enum sx_rc conf_line(struct sx_conf *c, char *line, const char *path, size_t lineno,
			    size_t seen[], char *value, char *err, size_t errlen)
{
	enum sx_rc rc = SX_OK;
	const struct conf_key *k;
	const char *problem;
	char expected[160];
	char *p = line, *key, *key_end;
	size_t idx = 0;
	char saved;

	while (conf_is_space(*p))
		p++;
	if (*p == '\0' || *p == '#')
		goto out;
	key = p;
	while (*p && !conf_is_space(*p) && *p != '=')
		p++;
	key_end = p;
	while (conf_is_space(*p))
		p++;
	if (key_end == key) {
		rc = conf_error(err, errlen, path, lineno, "missing key before '='");
		goto out;
	}
	if (*p != '=') {
		saved = *key_end;
		*key_end = '\0';
		rc = conf_error(err, errlen, path, lineno, "missing '=' after '%.64s'", key);
		*key_end = saved;
		goto out;
	}
	*key_end = '\0';
	for (p++; conf_is_space(*p); p++)
		;
	k = conf_lookup(key, &idx);
	if (!k) {
		rc = conf_error(err, errlen, path, lineno, "unknown key '%.64s'", key);
		goto out;
	}
	if (seen[idx]) {
		rc = conf_error(err, errlen, path, lineno,
				"duplicate key '%s' (first set on line %zu)", k->key, seen[idx]);
		goto out;
	}
	problem = conf_read_value(p, value);
	if (problem) {
		rc = conf_error(err, errlen, path, lineno, "%s for %s", problem, k->key);
		goto out;
	}
	if (!conf_set(c, k, value)) {
		conf_expected(k, expected, sizeof(expected));
		/* A bad db_password is never echoed back. */
		rc = conf_error(err, errlen, path, lineno, "bad value for %s: '%.64s' (expected %s)",
				k->key, k->offset == offsetof(struct sx_conf, db_password) ? "***" : value,
				expected);
		goto out;
	}
	seen[idx] = lineno;
out:
	return rc;
}

/*
 * The rules that tie keys together, checked once the whole file is read:
 * SX_ECONFIG with `path: message` in err when one is broken.
 */
static enum sx_rc conf_check_together(const struct sx_conf *c, const char *path, char *err,
				      size_t errlen)
{
	const char *problem = NULL;

	if (strcmp(c->artifacts_backend, "s3") == 0 && (!*c->s3_endpoint || !*c->s3_bucket))
		problem = "artifacts_backend = s3 needs s3_endpoint and s3_bucket";
	/* A socket is one server: failing over would only try it again. */
	else if (*c->db_socket && strchr(c->db_host, ','))
		problem = "db_socket names one local server: set it or list several servers in db_host, "
			  "not both";
	if (problem && err && errlen)
		snprintf(err, errlen, "%s: %s", path, problem);
	return problem ? SX_ECONFIG : SX_OK;
}

/*
 * Applies the defaults, then the file line by line, stopping at the first
 * error.  On failure c owns no strings (it has been released), so the
 * caller need not release it again, though doing so is harmless.
 */
enum sx_rc sx_conf_load(struct sx_conf *c, const char *path, char *err, size_t errlen)
{
	enum sx_rc rc = SX_OK;
	size_t seen[CONF_NKEYS] = { 0 };
	FILE *f = NULL;
	char *line = NULL, *value = NULL;
	size_t linecap = 0, valuecap = 0, lineno = 0;
	ssize_t n;

	if (err && errlen)
		err[0] = '\0';
	sx_conf_defaults(c);
	f = fopen(path, "r");
	if (!f) {
		rc = SX_ECONFIG;
		if (err && errlen)
			snprintf(err, errlen, "%s: cannot open: %s", path, strerror(errno));
		goto out;
	}
	errno = 0;
	while ((n = getline(&line, &linecap, f)) >= 0) {
		lineno++;
		if (strlen(line) != (size_t)n) {
			rc = conf_error(err, errlen, path, lineno, "NUL byte in line");
			goto out;
		}
		if ((size_t)n + 1 > valuecap) {
			valuecap = (size_t)n + 1;
			value = xrealloc(value, valuecap);
		}
		rc = conf_line(c, line, path, lineno, seen, value, err, errlen);
		if (rc)
			goto out;
	}
	if (ferror(f)) {
		rc = SX_ECONFIG;
		if (err && errlen)
			snprintf(err, errlen, "%s: read error: %s", path, strerror(errno));
		goto out;
	}
	conf_llm_preset_apply(c, seen);
	rc = conf_check_together(c, path, err, errlen);
	if (rc)
		goto out;
out:
	if (f)
		fclose(f);
	/* Lines may hold db_password; do not leave it in freed memory. */
	if (line)
		crypto_wipe(line, linecap);
	if (value)
		crypto_wipe(value, valuecap);
	free(line);
	free(value);
	if (rc)
		sx_conf_release(c);
	return rc;
}
