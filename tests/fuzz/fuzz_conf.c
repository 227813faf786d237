/*
 * Fuzzes the configuration reader, sx_conf_load() (core/conf.c): the input
 * is the content of a sextant.conf, written to a file in memory that is
 * loaded by path like the programs load theirs.
 *
 * Beyond "no crash" it checks:
 *  - success leaves err empty; failure is SX_ECONFIG with
 *    "<file>:<line>: message" naming a line the file has;
 *  - an error on a db_password line never repeats the value written there;
 *  - a loaded config keeps the table's promises for a few keys the
 *    programs rely on (ports, worker counts, the LLM provider);
 *  - loading the same file twice gives the same result.
 */
#include <sys/mman.h>
#include <unistd.h>
#include "fuzz.h"
#include "conf.h"

static char conf_path[64] = "";
static int conf_fd = -1;

/* The file lives in memory (memfd): a disk file costs a journal write per input. */
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	conf_fd = memfd_create("sx-fuzz-conf", 0);
	FUZZ_CHECK(conf_fd >= 0, "cannot create the config file in memory");
	snprintf(conf_path, sizeof(conf_path), "/proc/self/fd/%d", conf_fd);
	return 0;
}

static size_t count_lines(const uint8_t *data, size_t size)
{
	size_t lines = size && data[size - 1] != '\n' ? 1 : 0;

	for (size_t i = 0; i < size; i++)
		lines += data[i] == '\n';
	return lines;
}

/* True when line lineno (1-based) of text is a `db_password = …` line. */
static bool line_sets_password(const char *text, size_t lineno)
{
	const char *p = text;
	size_t n;

	for (size_t line = 1; line < lineno && p; line++) {
		p = strchr(p, '\n');
		p = p ? p + 1 : NULL;
	}
	if (!p)
		return false;
	p += strspn(p, " \t\r\f\v");
	if (strncmp(p, "db_password", 11) != 0)
		return false;
	p += 11;
	n = strspn(p, " \t\r\f\v");
	return p[n] == '=';
}

/*
 * The messages a db_password line can fail with: none of them quotes the
 * value (a bad value would show as '***').
 */
static bool message_hides_password(const char *msg)
{
	static const char *const ok[] = {
		"duplicate key 'db_password' (first set on line ",
		"unterminated quoted value for db_password",
		"bad escape in quoted value (only \\\" and \\\\ are allowed) for db_password",
		"unexpected text after quoted value for db_password",
		"bad value for db_password: '***' (expected ",
		"NUL byte in line",
	};

	for (size_t i = 0; i < SX_ARRAY_LEN(ok); i++)
		if (strncmp(msg, ok[i], strlen(ok[i])) == 0)
			return true;
	return false;
}

static void check_error(const uint8_t *data, size_t size, const char *err)
{
	size_t plen = strlen(conf_path), lines = count_lines(data, size);
	unsigned long long lineno;
	char *end = NULL, *text;

	FUZZ_CHECK(strncmp(err, conf_path, plen) == 0 && err[plen] == ':', "err: %s", err);
	lineno = strtoull(err + plen + 1, &end, 10);
	FUZZ_CHECK(end && end[0] == ':' && end[1] == ' ' && lineno >= 1 && lineno <= lines,
		   "err names line %llu of %zu: %s", lineno, lines, err);
	text = xstrndup((const char *)data, size);
	if (line_sets_password(text, (size_t)lineno))
		FUZZ_CHECK(message_hides_password(end + 2), "a db_password error: %s", err);
	free(text);
}

static void check_loaded(const struct sx_conf *c)
{
	FUZZ_CHECK(c->db_port >= 1 && c->db_port <= 65535, "db_port %lld", c->db_port);
	FUZZ_CHECK(c->api_workers >= 1 && c->agent_workers >= 1, "workers");
	FUZZ_CHECK(c->max_steps_default >= 1 && c->max_steps_limit >= 1, "max steps");
	FUZZ_CHECK(c->llm_provider && (strcmp(c->llm_provider, "openai") == 0 ||
				       strcmp(c->llm_provider, "anthropic") == 0),
		   "llm_provider %s", c->llm_provider ? c->llm_provider : "(null)");
	FUZZ_CHECK(c->db_host && c->artifacts_dir && c->log_level, "a string key is NULL");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sx_conf c, c2;
	char err[512], err2[512];
	enum sx_rc rc, rc2;

	FUZZ_CHECK(ftruncate(conf_fd, 0) == 0 && pwrite(conf_fd, data, size, 0) == (ssize_t)size,
		   "cannot write %s", conf_path);
	rc = sx_conf_load(&c, conf_path, err, sizeof(err));
	rc2 = sx_conf_load(&c2, conf_path, err2, sizeof(err2));
	FUZZ_CHECK(rc == rc2 && strcmp(err, err2) == 0, "two loads differ: %s / %s", err, err2);
	if (rc == SX_OK) {
		FUZZ_CHECK(err[0] == '\0', "loaded with an error: %s", err);
		check_loaded(&c);
		FUZZ_CHECK(c.db_port == c2.db_port && strcmp(c.db_host, c2.db_host) == 0,
			   "two loads differ");
	} else {
		FUZZ_CHECK(rc == SX_ECONFIG, "rc %d", rc);
		check_error(data, size, err);
	}
	sx_conf_release(&c);
	sx_conf_release(&c2);
	return 0;
}
