#ifndef SX_CONF_H
#define SX_CONF_H
/*
 * Configuration, read from one file of `key = value` lines (`#` starts a
 * comment; a value may be double-quoted).  Every key is described by one row
 * of the table in conf.c {key, type, offset, default, min, max}; an unknown
 * key, a bad value or a duplicate key stops start-up with `file:line: message`.
 * conf/sextant.conf.example documents every key.
 */
#include "sx.h"

struct sx_conf {
	/* general */
	char *log_level;
	char *data_dir;            /* where sql/ migrations live */

	/* database */
	char *db_host;             /* one host or several: host[:port],… tried in order */
	long long db_port;
	char *db_socket;
	char *db_user;
	char *db_password;         /* secret: never logged */
	char *db_name;
	long long db_connect_timeout;
	long long db_read_timeout;  /* seconds a statement's answer may take */

	/* API */
	char *api_socket;
	long long api_workers;
	long long api_max_body;
	long long api_socket_mode;
	long long idempotency_ttl;  /* seconds */

	/* tasks */
	long long max_steps_default;
	long long max_steps_limit;
	long long max_retries_per_step;
	/* caps on what one request may store or read (bytes) */
	long long max_goal_bytes;    /* navigation_goal, data_extraction_goal */
	long long max_payload_bytes; /* navigation_payload, as JSON */
	long long max_schema_bytes;  /* extracted_information_schema */
	long long max_mapping_bytes; /* error_code_mapping, extra_http_headers, as JSON */
	long long max_text_bytes;    /* title, totp_identifier */
	long long list_max_bytes;    /* the task objects of one list page */

	/* agent */
	long long agent_workers;
	long long lease_seconds;
	long long heartbeat_seconds;
	long long max_attempts;
	long long task_timeout;     /* seconds of wall clock per task */
	long long poll_interval_ms;
	char *webdriver_url;        /* empty: start a local chromedriver */
	char *chromedriver_path;
	char *chromium_path;
	long long chromedriver_port;
	bool browser_pool;          /* keep a warm browser per worker (local chromedriver only) */
	char *browser_mode;         /* "per_task": a Chromium per task; "shared": one per host, a context per task */
	char *replay;               /* auto | off: keep and replay traces (agent/replay.h) */
	long long window_width;
	long long window_height;
	long long webdriver_timeout;
	char *artifacts_dir;        /* with the s3 backend: the agent's scratch space only */
	char *artifacts_backend;    /* filesystem | s3 (core/s3.h) */
	char *s3_endpoint;          /* https://host[:port], path-style requests */
	char *s3_bucket;
	char *s3_region;
	char *s3_access_key_env;    /* the *names* of the variables holding the credentials */
	char *s3_secret_key_env;
	char *public_base_url;
	char *agent_user;           /* the user a root-started agent switches to; empty: refuse root */
	bool chromium_no_sandbox;   /* --no-sandbox for every browser (logged as a warning) */

	/* LLM */
	char *llm_provider;         /* openai | anthropic */
	char *llm_base_url;
	char *llm_model;
	char *llm_api_key_env;      /* the *name* of the variable holding the key */
	bool llm_vision;
	bool llm_verify_image;      /* verification sees a screenshot too (llm_vision must be on) */
	long long llm_image_width;  /* the model's screenshots scaled to this width; 0: as taken */
	char *llm_image_detail;     /* auto | low (512 pixels wide, OpenAI's "low") | high */
	long long llm_timeout;
	long long llm_max_tokens;
	long long llm_max_retries;
	double llm_price_input;     /* per million tokens */
	double llm_price_output;

	/* outbound requests on a user's behalf (webhooks, TOTP URLs, downloads) */
	char *outbound_allow;       /* addresses/CIDRs the SSRF guard lets through, comma-separated */
	char *proxy_map;            /* LOCATION=proxy-url,…; credentials never logged */
	char *mask_keys;            /* navigation_payload key terms naming a secret, added to the built-in ones */
	long long webhook_timeout;  /* seconds per delivery attempt */
	long long webhook_retry_window; /* seconds a delivery keeps being retried */
	long long webhook_poll_ms;
	long long webhook_backoff_base_ms;
	long long webhook_backoff_max_ms;
	long long totp_poll_interval; /* seconds between polls of totp_verification_url */
	long long totp_timeout;     /* seconds to wait for a code before terminating */
	long long totp_code_max_age; /* seconds a pushed code stays usable */

	/* artifacts */
	char *artifact_url_key;     /* secret for signed artifact URLs; never logged */
	long long artifact_url_ttl; /* seconds a signed URL stays valid */
	char *artifact_offload;     /* x-accel-redirect (nginx) | x-sendfile (Apache mod_xsendfile) */
	bool recording_enabled;
	long long recording_fps;    /* frames per second captured while actions run */
	char *ffmpeg_path;
	long long retention_days;   /* sextant-admin gc removes artifacts older than this */

	/* set by the program, never by the file */
	bool no_browser_host;       /* sextant-agent --drain: no daemon keeps a shared browser */
};

/*
 * Loads path into c.  Defaults are applied first, then the file; the LLM
 * keys the file leaves out then take the preset of its llm_provider (for
 * anthropic: api.anthropic.com, claude-sonnet-4-5, ANTHROPIC_API_KEY).  On failure
 * returns SX_ECONFIG and writes `file:line: message` into err.
 */
enum sx_rc sx_conf_load(struct sx_conf *c, const char *path, char *err, size_t errlen);
/* Applies only the defaults (for tests and tools). */
void sx_conf_defaults(struct sx_conf *c);
/*
 * Writes the value c holds for key into out, spelled as a config file would
 * (so with defaults applied), for scripts: `sextant-admin conf get`.  Returns
 * SX_ENOTFOUND for an unknown key, SX_EBLOCKED for a secret one (db_password,
 * artifact_url_key: never shown), SX_ETOOBIG when out is too small.
 */
enum sx_rc sx_conf_get(const struct sx_conf *c, const char *key, char *out, size_t outlen);
/*
 * db_host names one server or several (a Galera cluster's nodes) as
 * `host`, `host:port` or `[v6-address]:port` entries separated by commas;
 * an entry without a port has db_port.  Reads the entry at *cursor into
 * host (hostlen bytes, SX_DB_HOST_MAX is enough) and *port and moves
 * *cursor past it.  SX_EDONE at the end of the list, SX_ECONFIG for an
 * entry that does not parse (the loader has already refused such a list).
 */
#define SX_DB_HOST_MAX 256
#define SX_DB_HOSTS_MAX 16
enum sx_rc sx_conf_db_host_next(const char **cursor, long long defport,
				char *host, size_t hostlen, unsigned *port);
/* Frees every string the config owns. */
void sx_conf_release(struct sx_conf *c);

/*
 * Whether tasks get a context in the agent's shared browser
 * (agent/browser_host.h): browser_mode = shared, no webdriver_url (a remote
 * endpoint runs its own browsers) and a daemon to keep the browser (not
 * sextant-agent --drain, which sets no_browser_host: each task then starts
 * its own).
 */
bool sx_conf_shared_browser(const struct sx_conf *c);

/* How many keys a config file may set (each documented in the example). */
size_t sx_conf_key_count(void);
#endif
