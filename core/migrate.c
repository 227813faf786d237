/*
 * Applies numbered SQL migrations.  A file holds statements separated by a
 * `;` at the end of a line; `--` lines are comments.  Statements are run as
 * prepared statements (MariaDB prepares DDL too).
 */
#include "sx.h"
#include "migrate.h"
#include "buf.h"
#include "db.h"
#include "log.h"

#include <dirent.h>
#include <errno.h>

#define MIGRATION_MAX_BYTES (1 << 20)

static int name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* True for NNN_name.sql; writes NNN to *version. */
static bool migration_name(const char *name, long long *version)
{
	size_t n = strlen(name);
	char num[4];

	if (n < 9 || strcmp(name + n - 4, ".sql") != 0 || name[3] != '_')
		return false;
	memcpy(num, name, 3);
	num[3] = '\0';
	return sx_parse_ll(num, 1, 999, version);
}

static enum sx_rc read_file(const char *path, struct sx_buf *b)
{
	enum sx_rc rc = SX_OK;
	FILE *f = fopen(path, "r");
	char chunk[4096];
	size_t n;

	if (!f) {
		log_error("migrate", "msg=\"cannot open\" path=%s error=%s",
			  sx_log_quote(path), sx_log_quote(strerror(errno)));
		return SX_EIO;
	}
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
		rc = sx_buf_append(b, chunk, n);
		if (rc)
			break;
	}
	if (ferror(f))
		rc = SX_EIO;
	fclose(f);
	return rc;
}

/* Runs every statement of one file's text. */
static enum sx_rc apply_text(struct sx_db *db, const char *file, char *text)
{
	enum sx_rc rc = SX_OK;
	struct sx_buf stmt;
	char *line = text;

	sx_buf_init(&stmt, MIGRATION_MAX_BYTES);
	while (line && *line) {
		char *nl = strchr(line, '\n');
		size_t len = nl ? (size_t)(nl - line) : strlen(line);
		const char *p = line;
		size_t end = len;

		while (*p == ' ' || *p == '\t')
			p++;
		if (!(p[0] == '-' && p[1] == '-')) {
			rc = sx_buf_append(&stmt, line, len);
			if (!rc)
				rc = sx_buf_putc(&stmt, '\n');
			if (rc)
				goto out;
			while (end > 0 && (line[end - 1] == ' ' || line[end - 1] == '\t' || line[end - 1] == '\r'))
				end--;
			if (end > 0 && line[end - 1] == ';') {
				/* Drop the terminator: a prepared statement takes one statement. */
				char *s = stmt.data;
				size_t l = stmt.len;

				while (l > 0 && (s[l - 1] == '\n' || s[l - 1] == ' ' || s[l - 1] == ';' || s[l - 1] == '\r'))
					l--;
				s[l] = '\0';
				rc = sx_db_exec_uncached(db, s);
				if (rc) {
					log_error("migrate", "msg=\"statement failed\" file=%s error=%s",
						  sx_log_quote(file), sx_log_quote(sx_db_error(db)));
					goto out;
				}
				sx_buf_reset(&stmt);
			}
		}
		line = nl ? nl + 1 : NULL;
	}
out:
	sx_buf_release(&stmt);
	return rc;
}

/*
 * The migration file names in dir (NNN_name.sql), sorted, into a new array
 * the caller frees with free_names().  SX_EIO when dir cannot be read.
 */
static enum sx_rc list_migrations(const char *dir, char ***names_out, size_t *n_out)
{
	enum sx_rc rc = SX_OK;
	DIR *d = opendir(dir);
	struct dirent *e;
	char **names = NULL;
	size_t n = 0, cap = 0;

	if (!d) {
		log_error("migrate", "msg=\"cannot open migrations\" dir=%s error=%s",
			  sx_log_quote(dir), sx_log_quote(strerror(errno)));
		rc = SX_EIO;
		goto out;
	}
	while ((e = readdir(d)) != NULL) {
		long long v;

		if (!migration_name(e->d_name, &v))
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 16;
			names = xrealloc(names, cap * sizeof(*names));
		}
		names[n++] = xstrdup(e->d_name);
	}
	qsort(names, n, sizeof(*names), name_cmp);
	closedir(d);
out:
	*names_out = names;
	*n_out = n;
	return rc;
}

static void free_names(char **names, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
}

/*
 * Applies the migration file name in dir unless schema_migrations records
 * it already, then records it.  *done says whether it ran.
 */
static enum sx_rc apply_one(struct sx_db *db, const char *dir, const char *name, bool *done)
{
	static const char q_done[] = "SELECT 1 FROM schema_migrations WHERE version = ?";
	static const char q_record[] =
		"INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, UTC_TIMESTAMP(6))";
	enum sx_rc rc;
	struct sx_rows *rows = NULL;
	struct sx_buf text;
	char *path = NULL;
	long long v = 0;

	*done = false;
	sx_buf_init(&text, MIGRATION_MAX_BYTES);
	migration_name(name, &v);
	{
		struct sx_param p[] = { sx_p_i64(v) };

		rc = sx_db_query(db, q_done, p, 1, &rows);
	}
	if (rc || rows->nrows > 0)
		goto out;
	path = xasprintf("%s/%s", dir, name);
	rc = read_file(path, &text);
	if (!rc)
		rc = apply_text(db, name, text.data ? text.data : (char *)"");
	if (rc)
		goto out;
	{
		struct sx_param p[] = { sx_p_i64(v), sx_p_str(name) };

		rc = sx_db_exec(db, q_record, p, 2, NULL);
	}
	if (rc)
		goto out;
	log_info("migrate", "msg=applied file=%s", sx_log_quote(name));
	*done = true;
out:
	sx_rows_free(rows);
	sx_buf_release(&text);
	free(path);
	return rc;
}

enum sx_rc migrate_run(struct sx_db *db, const char *data_dir, int *applied)
{
	static const char q_table[] =
		"CREATE TABLE IF NOT EXISTS schema_migrations ("
		" version INT NOT NULL PRIMARY KEY, name VARCHAR(255) NOT NULL,"
		" applied_at DATETIME(6) NOT NULL) ENGINE=InnoDB";
	static const char q_lock[] = "SELECT GET_LOCK('sextant_migrate', 60)";
	static const char q_unlock[] = "SELECT RELEASE_LOCK('sextant_migrate')";
	enum sx_rc rc;
	char *dir = xasprintf("%s/sql", data_dir);
	char **names = NULL;
	size_t n = 0;
	struct sx_rows *rows = NULL;
	bool locked = false, done;

	*applied = 0;
	rc = list_migrations(dir, &names, &n);
	if (rc)
		goto out;
	rc = sx_db_exec(db, q_table, NULL, 0, NULL);
	if (rc)
		goto out;
	rc = sx_db_query(db, q_lock, NULL, 0, &rows);
	if (rc)
		goto out;
	if (sx_rows_i64(rows, 0, 0, 0) != 1) {
		log_error("migrate", "msg=\"another migration holds the lock\"");
		rc = SX_ETIMEOUT;
		goto out;
	}
	locked = true;
	for (size_t i = 0; i < n && !rc; i++) {
		rc = apply_one(db, dir, names[i], &done);
		if (!rc && done)
			(*applied)++;
	}
out:
	if (locked) {
		sx_rows_free(rows);
		rows = NULL;
		if (sx_db_query(db, q_unlock, NULL, 0, &rows) != SX_OK)
			log_warn("migrate", "msg=\"could not release the lock\"");
	}
	sx_rows_free(rows);
	free_names(names, n);
	free(dir);
	return rc;
}
