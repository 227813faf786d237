#include "conf.h"

#include <errno.h>
#include <unistd.h>
#include <criterion/criterion.h>

#ifndef SRCDIR
#define SRCDIR "."
#endif

static char conf_path[64];

/* Writes text to a fresh temporary file whose name is in conf_path. */
static void write_conf(const char *text)
{
	FILE *f;
	int fd;

	snprintf(conf_path, sizeof(conf_path), "/tmp/sx_test_conf_XXXXXX");
	fd = mkstemp(conf_path);
	cr_assert_geq(fd, 0);
	f = fdopen(fd, "w");
	cr_assert_not_null(f);
	fputs(text, f);
	fclose(f);
}

/* Loads text, expecting SX_ECONFIG with err starting `<file>:<line>: msg`. */
static void expect_error(const char *text, int line, const char *msg)
{
	struct sx_conf c;
	char err[512], want[512];

	write_conf(text);
	cr_assert_eq(sx_conf_load(&c, conf_path, err, sizeof(err)), SX_ECONFIG, "accepted: %s", text);
	snprintf(want, sizeof(want), "%s:%d: %s", conf_path, line, msg);
	cr_assert(strncmp(err, want, strlen(want)) == 0, "got '%s', want '%s…'", err, want);
	sx_conf_release(&c);
	unlink(conf_path);
}

/* Loads text, expecting success, into c. */
/* Loading text fails after reading it all, with `path: msg`. */
static void expect_file_error(const char *text, const char *msg)
{
	struct sx_conf c;
	char err[512], want[512];

	write_conf(text);
	cr_assert_eq(sx_conf_load(&c, conf_path, err, sizeof(err)), SX_ECONFIG, "accepted: %s", text);
	snprintf(want, sizeof(want), "%s: %s", conf_path, msg);
	cr_assert(strncmp(err, want, strlen(want)) == 0, "got '%s', want '%s…'", err, want);
	sx_conf_release(&c);
	unlink(conf_path);
}

static void load_ok(struct sx_conf *c, const char *text)
{
	char err[512] = "";

	write_conf(text);
	cr_assert_eq(sx_conf_load(c, conf_path, err, sizeof(err)), SX_OK, "error: %s", err);
	unlink(conf_path);
}

static void assert_defaults(const struct sx_conf *c)
{
	cr_assert_str_eq(c->log_level, "info");
	cr_assert_str_eq(c->data_dir, "/usr/local/share/sextant");
	cr_assert_str_eq(c->db_host, "127.0.0.1");
	cr_assert_eq(c->db_port, 3306);
	cr_assert_str_eq(c->db_socket, "");
	cr_assert_str_eq(c->db_user, "sextant");
	cr_assert_str_eq(c->db_password, "");
	cr_assert_str_eq(c->db_name, "sextant");
	cr_assert_eq(c->db_connect_timeout, 5);
	cr_assert_eq(c->db_read_timeout, 30);
	cr_assert_str_eq(c->artifacts_backend, "filesystem");
	cr_assert_str_eq(c->s3_region, "us-east-1");
	cr_assert_str_eq(c->s3_access_key_env, "AWS_ACCESS_KEY_ID");
	cr_assert_str_eq(c->api_socket, "/run/sextant/api.sock");
	cr_assert_eq(c->api_workers, 4);
	cr_assert_eq(c->api_max_body, 1048576);
	cr_assert_eq(c->api_socket_mode, 0660);
	cr_assert_eq(c->idempotency_ttl, 86400);
	cr_assert_eq(c->max_steps_default, 10);
	cr_assert_eq(c->max_steps_limit, 100);
	cr_assert_eq(c->max_retries_per_step, 3);
	cr_assert_eq(c->max_goal_bytes, 16384);
	cr_assert_eq(c->max_payload_bytes, 65536);
	cr_assert_eq(c->max_schema_bytes, 32768);
	cr_assert_eq(c->max_mapping_bytes, 16384);
	cr_assert_eq(c->max_text_bytes, 1024);
	cr_assert_eq(c->list_max_bytes, 1048576);
	cr_assert_eq(c->agent_workers, 2);
	cr_assert_eq(c->lease_seconds, 60);
	cr_assert_eq(c->heartbeat_seconds, 10);
	cr_assert_eq(c->max_attempts, 3);
	cr_assert_eq(c->task_timeout, 1800);
	cr_assert_eq(c->poll_interval_ms, 500);
	cr_assert_str_eq(c->webdriver_url, "");
	cr_assert_str_eq(c->chromedriver_path, "/usr/bin/chromedriver");
	cr_assert_str_eq(c->chromium_path, "/usr/bin/chromium");
	cr_assert_eq(c->chromedriver_port, 0);
	cr_assert(c->browser_pool);
	cr_assert_str_eq(c->browser_mode, "per_task");
	cr_assert_str_eq(c->replay, "auto");
	cr_assert_eq(c->window_width, 1280);
	cr_assert_eq(c->window_height, 900);
	cr_assert_eq(c->webdriver_timeout, 30);
	cr_assert_str_eq(c->artifacts_dir, "/var/lib/sextant/artifacts");
	cr_assert_str_eq(c->public_base_url, "http://127.0.0.1:8080");
	cr_assert_str_eq(c->llm_provider, "openai");
	cr_assert_str_eq(c->llm_base_url, "https://api.openai.com/v1");
	cr_assert_str_eq(c->llm_model, "gpt-4o-mini");
	cr_assert_str_eq(c->llm_api_key_env, "OPENAI_API_KEY");
	cr_assert(c->llm_vision);
	cr_assert_not(c->llm_verify_image);
	cr_assert_eq(c->llm_image_width, 1024);
	cr_assert_str_eq(c->llm_image_detail, "auto");
	cr_assert_eq(c->llm_timeout, 120);
	cr_assert_eq(c->llm_max_tokens, 2048);
	cr_assert_eq(c->llm_max_retries, 3);
	cr_assert_float_eq(c->llm_price_input, 0.15, 1e-12);
	cr_assert_float_eq(c->llm_price_output, 0.60, 1e-12);
}

Test(conf, defaults_match_the_documented_values)
{
	struct sx_conf c;

	sx_conf_defaults(&c);
	assert_defaults(&c);
	sx_conf_release(&c);
	cr_assert_null(c.db_host);
}

Test(conf, empty_file_gives_defaults)
{
	struct sx_conf c;

	load_ok(&c, "");
	assert_defaults(&c);
	sx_conf_release(&c);
}

Test(conf, good_file_with_quotes_and_comments)
{
	struct sx_conf c;

	load_ok(&c,
		"# a full-line comment\n"
		"\n"
		"   \t\n"
		"log_level = debug\n"
		"db_host=db.internal   # trailing comment\n"
		"  db_port   =   3307\n"
		"db_password = \"p#ss \\\"word\\\" \\\\ x\"  # quoted, with a hash inside\n"
		"llm_model = gpt#4\n"
		"api_socket_mode = 0600\n"
		"llm_vision = off\n"
		"llm_price_input = 2.5\n"
		"db_socket =\n"
		"webdriver_url = \"\"\r\n");
	cr_assert_str_eq(c.log_level, "debug");
	cr_assert_str_eq(c.db_host, "db.internal");
	cr_assert_eq(c.db_port, 3307);
	cr_assert_str_eq(c.db_password, "p#ss \"word\" \\ x");
	cr_assert_str_eq(c.llm_model, "gpt#4");
	cr_assert_eq(c.api_socket_mode, 0600);
	cr_assert_not(c.llm_vision);
	cr_assert_float_eq(c.llm_price_input, 2.5, 1e-12);
	cr_assert_str_eq(c.db_socket, "");
	cr_assert_str_eq(c.webdriver_url, "");
	/* Untouched keys keep their defaults. */
	cr_assert_str_eq(c.db_user, "sextant");
	cr_assert_eq(c.api_workers, 4);
	sx_conf_release(&c);
}

Test(conf, unknown_key)
{
	expect_error("log_level = info\n# comment\nfoo = 1\n", 3, "unknown key 'foo'");
}

Test(conf, bad_value_names_key_value_and_range)
{
	expect_error("\n\napi_workers = abc\n", 3,
		     "bad value for api_workers: 'abc' (expected an integer from 1 to 256)");
	expect_error("db_port = 3306x\n", 1, "bad value for db_port: '3306x'");
	expect_error("db_port =\n", 1, "bad value for db_port: ''");
	expect_error("llm_price_output = cheap\n", 1,
		     "bad value for llm_price_output: 'cheap' (expected a number from 0 to 1e+06)");
}

Test(conf, out_of_range)
{
	expect_error("api_workers = 0\n", 1, "bad value for api_workers: '0'");
	expect_error("api_workers = 257\n", 1, "bad value for api_workers: '257'");
	expect_error("db_port = 65536\n", 1, "bad value for db_port");
	expect_error("lease_seconds = -5\n", 1, "bad value for lease_seconds");
	expect_error("api_max_body = 99999999999999999999\n", 1, "bad value for api_max_body");
	expect_error("llm_price_input = -0.01\n", 1, "bad value for llm_price_input");
	expect_error("api_socket_mode = 01000\n", 1,
		     "bad value for api_socket_mode: '01000' (expected an octal mode from 0 to 0777)");
	expect_error("api_socket_mode = 0680\n", 1, "bad value for api_socket_mode: '0680'");
}

Test(conf, range_edges_are_inclusive)
{
	struct sx_conf c;

	load_ok(&c, "api_workers = 256\nmax_retries_per_step = 0\nchromedriver_port = 65535\n"
		    "api_socket_mode = 0777\nllm_price_output = 1000000\n");
	cr_assert_eq(c.api_workers, 256);
	cr_assert_eq(c.max_retries_per_step, 0);
	cr_assert_eq(c.chromedriver_port, 65535);
	cr_assert_eq(c.api_socket_mode, 0777);
	cr_assert_float_eq(c.llm_price_output, 1e6, 1e-6);
	sx_conf_release(&c);
}

Test(conf, duplicate_key)
{
	expect_error("db_port = 1\n\ndb_port = 2\n", 3,
		     "duplicate key 'db_port' (first set on line 1)");
}

Test(conf, missing_equals)
{
	expect_error("# ok\ndb_port 3306\n", 2, "missing '=' after 'db_port'");
	expect_error("= 3\n", 1, "missing key");
}

Test(conf, quoting_errors)
{
	expect_error("db_name = \"abc\n", 1, "unterminated quoted value for db_name");
	expect_error("db_name = \"a\\nb\"\n", 1, "bad escape");
	expect_error("db_name = \"abc\" def\n", 1, "unexpected text after quoted value");
}

Test(conf, bool_forms)
{
	static const char *const yes[] = { "true", "yes", "on", "1", "TRUE", "Yes" };
	static const char *const no[] = { "false", "no", "off", "0", "False", "OFF" };
	struct sx_conf c;
	char text[64];
	size_t i;

	for (i = 0; i < SX_ARRAY_LEN(yes); i++) {
		snprintf(text, sizeof(text), "llm_vision = %s\n", no[i]);
		load_ok(&c, text);
		cr_assert_not(c.llm_vision, "%s", no[i]);
		sx_conf_release(&c);
		snprintf(text, sizeof(text), "llm_vision = %s\n", yes[i]);
		load_ok(&c, text);
		cr_assert(c.llm_vision, "%s", yes[i]);
		sx_conf_release(&c);
	}
	expect_error("llm_vision = maybe\n", 1,
		     "bad value for llm_vision: 'maybe' (expected one of true, false, yes, no, on, off, 1, 0)");
	expect_error("llm_vision = 2\n", 1, "bad value for llm_vision: '2'");
}

Test(conf, enumerated_strings)
{
	struct sx_conf c;

	load_ok(&c, "log_level = \"warn\"\nllm_provider = anthropic\n");
	cr_assert_str_eq(c.log_level, "warn");
	cr_assert_str_eq(c.llm_provider, "anthropic");
	sx_conf_release(&c);
	expect_error("\nlog_level = verbose\n", 2,
		     "bad value for log_level: 'verbose' (expected one of debug, info, warn, error)");
	expect_error("llm_provider = gemini\n", 1,
		     "bad value for llm_provider: 'gemini' (expected one of openai, anthropic)");
	expect_error("log_level = INFO\n", 1, "bad value for log_level");
	load_ok(&c, "browser_mode = shared\n");
	cr_assert_str_eq(c.browser_mode, "shared");
	cr_assert(sx_conf_shared_browser(&c));
	c.no_browser_host = true;
	cr_assert_not(sx_conf_shared_browser(&c), "--drain keeps no shared browser");
	sx_conf_release(&c);
	load_ok(&c, "browser_mode = shared\nwebdriver_url = http://127.0.0.1:4444\n");
	cr_assert_not(sx_conf_shared_browser(&c), "a remote endpoint runs its own browsers");
	sx_conf_release(&c);
	load_ok(&c, "browser_mode = per_task\n");
	cr_assert_not(sx_conf_shared_browser(&c));
	sx_conf_release(&c);
	expect_error("browser_mode = pooled\n", 1,
		     "bad value for browser_mode: 'pooled' (expected one of per_task, shared)");
	load_ok(&c, "llm_image_detail = low\n");
	cr_assert_str_eq(c.llm_image_detail, "low");
	sx_conf_release(&c);
	expect_error("llm_image_detail = medium\n", 1,
		     "bad value for llm_image_detail: 'medium' (expected one of auto, low, high)");
}

/* The LLM keys a file leaves out follow its llm_provider; the ones it sets stay. */
Test(conf, llm_defaults_follow_the_provider)
{
	struct sx_conf c;

	load_ok(&c, "llm_provider = anthropic\n");
	cr_assert_str_eq(c.llm_base_url, "https://api.anthropic.com/v1");
	cr_assert_str_eq(c.llm_model, "claude-sonnet-4-5");
	cr_assert_str_eq(c.llm_api_key_env, "ANTHROPIC_API_KEY");
	sx_conf_release(&c);
	load_ok(&c, "llm_provider = anthropic\nllm_model = m\nllm_base_url = http://127.0.0.1:9/v1\n");
	cr_assert_str_eq(c.llm_base_url, "http://127.0.0.1:9/v1");
	cr_assert_str_eq(c.llm_model, "m");
	cr_assert_str_eq(c.llm_api_key_env, "ANTHROPIC_API_KEY");
	sx_conf_release(&c);
	load_ok(&c, "llm_api_key_env = MY_KEY\n");
	cr_assert_str_eq(c.llm_base_url, "https://api.openai.com/v1");
	cr_assert_str_eq(c.llm_api_key_env, "MY_KEY");
	sx_conf_release(&c);
}

Test(conf, get_spells_values_and_hides_secrets)
{
	struct sx_conf c;
	char v[64];

	load_ok(&c, "db_password = hunter2\napi_socket_mode = 0666\nllm_vision = no\n");
	cr_assert_eq(sx_conf_get(&c, "llm_api_key_env", v, sizeof(v)), SX_OK);
	cr_assert_str_eq(v, "OPENAI_API_KEY");
	cr_assert_eq(sx_conf_get(&c, "api_workers", v, sizeof(v)), SX_OK);
	cr_assert_str_eq(v, "4");
	cr_assert_eq(sx_conf_get(&c, "api_socket_mode", v, sizeof(v)), SX_OK);
	cr_assert_str_eq(v, "0666");
	cr_assert_eq(sx_conf_get(&c, "llm_vision", v, sizeof(v)), SX_OK);
	cr_assert_str_eq(v, "false");
	cr_assert_eq(sx_conf_get(&c, "llm_price_input", v, sizeof(v)), SX_OK);
	cr_assert_str_eq(v, "0.15");
	cr_assert_eq(sx_conf_get(&c, "db_password", v, sizeof(v)), SX_EBLOCKED);
	cr_assert_eq(sx_conf_get(&c, "artifact_url_key", v, sizeof(v)), SX_EBLOCKED);
	cr_assert_eq(sx_conf_get(&c, "no_such_key", v, sizeof(v)), SX_ENOTFOUND);
	cr_assert_eq(sx_conf_get(&c, "llm_base_url", v, 8), SX_ETOOBIG);
	sx_conf_release(&c);
}

Test(conf, bad_password_is_not_echoed)
{
	struct sx_conf c;
	char err[256];

	write_conf("db_password = \"sup3rsecret\n");
	cr_assert_eq(sx_conf_load(&c, conf_path, err, sizeof(err)), SX_ECONFIG);
	cr_assert_null(strstr(err, "sup3rsecret"), "%s", err);
	unlink(conf_path);
}

Test(conf, missing_file)
{
	struct sx_conf c;
	char err[256], want[256];

	cr_assert_eq(sx_conf_load(&c, "/nonexistent/sextant.conf", err, sizeof(err)), SX_ECONFIG);
	snprintf(want, sizeof(want), "/nonexistent/sextant.conf: cannot open: %s", strerror(ENOENT));
	cr_assert_str_eq(err, want);
	sx_conf_release(&c);
}

Test(conf, error_message_is_bounded_by_errlen)
{
	struct sx_conf c;
	char err[12];

	write_conf("nope = 1\n");
	cr_assert_eq(sx_conf_load(&c, conf_path, err, sizeof(err)), SX_ECONFIG);
	cr_assert_eq(strlen(err), sizeof(err) - 1);
	unlink(conf_path);
}

Test(conf, a_failed_load_owns_nothing)
{
	struct sx_conf c;
	char err[256];

	write_conf("db_host = other\nbogus = 1\n");
	cr_assert_eq(sx_conf_load(&c, conf_path, err, sizeof(err)), SX_ECONFIG);
	cr_assert_null(c.db_host);
	sx_conf_release(&c);
	unlink(conf_path);
}

static char *example_path(void)
{
	const char *dir = getenv("SX_SRCDIR");

	return xasprintf("%s/conf/sextant.conf.example", dir && *dir ? dir : SRCDIR);
}

Test(conf, shipped_example_loads)
{
	struct sx_conf c;
	char err[512] = "";
	char *path = example_path();

	cr_assert_eq(sx_conf_load(&c, path, err, sizeof(err)), SX_OK, "%s", err);
	assert_defaults(&c);
	sx_conf_release(&c);
	free(path);
}

/*
 * Uncommenting every `# key = value` line of the example must give a file
 * that loads, sets every key, and leaves every value at its default: the
 * example documents every key and its true default.
 */
Test(conf, example_documents_every_key_with_its_default)
{
	struct sx_conf c;
	char err[512] = "";
	char *path = example_path();
	char *line = NULL;
	size_t cap = 0, keys = 0, n;
	FILE *in = fopen(path, "r"), *out;
	int fd;

	cr_assert_not_null(in, "%s: %s", path, strerror(errno));
	snprintf(conf_path, sizeof(conf_path), "/tmp/sx_test_conf_XXXXXX");
	fd = mkstemp(conf_path);
	cr_assert_geq(fd, 0);
	out = fdopen(fd, "w");
	while (getline(&line, &cap, in) >= 0) {
		n = strspn(line + 2, "abcdefghijklmnopqrstuvwxyz0123456789_");
		if (strncmp(line, "# ", 2) == 0 && n > 0 && strncmp(line + 2 + n, " = ", 3) == 0) {
			fputs(line + 2, out);
			keys++;
		}
	}
	free(line);
	fclose(in);
	fclose(out);
	cr_assert_eq(keys, sx_conf_key_count(), "the example documents %zu keys of %zu", keys,
		     sx_conf_key_count());
	cr_assert_eq(sx_conf_load(&c, conf_path, err, sizeof(err)), SX_OK, "%s", err);
	assert_defaults(&c);
	sx_conf_release(&c);
	unlink(conf_path);
	free(path);
}

/* Reads the whole db_host list into hosts/ports; returns the last rc. */
static enum sx_rc read_hosts(const char *list, char hosts[][SX_DB_HOST_MAX], unsigned *ports,
			     size_t max, size_t *n)
{
	enum sx_rc rc;

	*n = 0;
	while (*n < max && (rc = sx_conf_db_host_next(&list, 3306, hosts[*n], SX_DB_HOST_MAX,
						      &ports[*n])) == SX_OK)
		(*n)++;
	return rc;
}

Test(conf, db_host_lists_several_servers)
{
	char hosts[4][SX_DB_HOST_MAX];
	unsigned ports[4];
	size_t n;
	struct sx_conf c;

	cr_assert_eq(read_hosts("db1.internal, 10.0.0.2:3307,[::1]:31401", hosts, ports, 4, &n),
		     SX_EDONE);
	cr_assert_eq(n, 3);
	cr_assert_str_eq(hosts[0], "db1.internal");
	cr_assert_eq(ports[0], 3306);
	cr_assert_str_eq(hosts[1], "10.0.0.2");
	cr_assert_eq(ports[1], 3307);
	cr_assert_str_eq(hosts[2], "::1");
	cr_assert_eq(ports[2], 31401);
	load_ok(&c, "db_host = \"127.0.0.1:31401,127.0.0.1:31402\"\n");
	cr_assert_str_eq(c.db_host, "127.0.0.1:31401,127.0.0.1:31402");
	sx_conf_release(&c);
}

Test(conf, db_host_list_refuses_bad_entries)
{
	expect_error("db_host = a,,b\n", 1, "bad value for db_host: 'a,,b' (expected host, host:port");
	expect_error("db_host = a:0\n", 1, "bad value for db_host");
	expect_error("db_host = a:70000\n", 1, "bad value for db_host");
	expect_error("db_host = ::1\n", 1, "bad value for db_host");
	expect_error("db_host = [::1\n", 1, "bad value for db_host");
	expect_error("db_host = a,\n", 1, "bad value for db_host");
	expect_error("db_host = a b\n", 1, "bad value for db_host");
	expect_error("db_host = \"\"\n", 1, "bad value for db_host");
}

Test(conf, s3_backend_needs_endpoint_and_bucket)
{
	struct sx_conf c;

	expect_file_error("artifacts_backend = s3\ns3_bucket = b\n",
			  "artifacts_backend = s3 needs s3_endpoint and s3_bucket");
	load_ok(&c, "artifacts_backend = s3\ns3_endpoint = http://127.0.0.1:9000\ns3_bucket = b\n");
	cr_assert_str_eq(c.artifacts_backend, "s3");
	sx_conf_release(&c);
	expect_error("artifacts_backend = nfs\n", 1, "bad value for artifacts_backend: 'nfs'");
}

Test(conf, s3_endpoint_is_a_scheme_and_a_host_without_a_path)
{
	static const char *const good[] = { "https://s3.eu-west-1.amazonaws.com", "http://127.0.0.1:9000/",
					    "http://[::1]:9000" };
	static const char *const bad[] = { "http://minio:9000/prefix", "http://minio:9000//", "minio:9000",
					   "http://key:secret@minio", "http://", "ftp://minio",
					   "http://minio?x=1" };
	struct sx_conf c;
	char text[256];

	for (size_t i = 0; i < SX_ARRAY_LEN(good); i++) {
		snprintf(text, sizeof(text), "s3_endpoint = %s\n", good[i]);
		load_ok(&c, text);
		cr_assert_str_eq(c.s3_endpoint, good[i]);
		sx_conf_release(&c);
	}
	for (size_t i = 0; i < SX_ARRAY_LEN(bad); i++) {
		snprintf(text, sizeof(text), "s3_endpoint = %s\n", bad[i]);
		expect_error(text, 1, "bad value for s3_endpoint");
	}
	expect_error("s3_endpoint = http://h/p\n", 1,
		     "bad value for s3_endpoint: 'http://h/p' (expected http:// or https:// and host[:port], "
		     "with no path");
}

Test(conf, db_socket_refuses_a_list_of_servers)
{
	struct sx_conf c;

	expect_file_error("db_socket = /run/mysqld/mysqld.sock\ndb_host = a,b\n",
			  "db_socket names one local server");
	load_ok(&c, "db_socket = /run/mysqld/mysqld.sock\ndb_host = a:3307\n");
	sx_conf_release(&c);
	load_ok(&c, "db_host = a,b\n");
	sx_conf_release(&c);
}
