/*
 * Task artifacts on disk and in the database (see artifact_store.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>
#include "sx.h"
#include "artifact_store.h"
#include "buf.h"
#include "db.h"
#include "id.h"
#include "log.h"

/* mkdir -p for path (mode 0755). */
static enum sx_rc mkdirs(const char *path)
{
	char *p = xstrdup(path);
	enum sx_rc rc = SX_OK;

	for (char *s = p + 1; *s; s++) {
		if (*s != '/')
			continue;
		*s = '\0';
		if (mkdir(p, 0755) != 0 && errno != EEXIST)
			rc = SX_EIO;
		*s = '/';
	}
	if (rc == SX_OK && mkdir(p, 0755) != 0 && errno != EEXIST)
		rc = SX_EIO;
	if (rc)
		log_error("artifacts", "msg=\"mkdir failed\" path=%s error=%s", sx_log_quote(path),
			  sx_log_quote(strerror(errno)));
	free(p);
	return rc;
}

char *artifact_store_task_dir(const struct artifact_ctx *a)
{
	char *dir = xasprintf("%s/%s/%s", a->root, a->org_id, a->task_id);

	mkdirs(dir);
	return dir;
}

static enum sx_rc write_file(const char *path, const void *data, size_t len)
{
	char *tmp = xasprintf("%s.tmp", path);
	enum sx_rc rc = SX_OK;
	const char *p = data;
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

	if (fd < 0) {
		rc = SX_EIO;
		goto out;
	}
	while (len > 0) {
		ssize_t n = write(fd, p, len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			rc = SX_EIO;
			break;
		}
		p += n;
		len -= (size_t)n;
	}
	if (close(fd) != 0)
		rc = SX_EIO;
	if (rc == SX_OK && rename(tmp, path) != 0)
		rc = SX_EIO;
out:
	if (rc) {
		log_error("artifacts", "msg=\"write failed\" path=%s error=%s", sx_log_quote(path),
			  sx_log_quote(strerror(errno)));
		unlink(tmp);
	}
	free(tmp);
	return rc;
}

/* Keeps the task's denormalized artifact columns current. */
static enum sx_rc update_task_columns(const struct artifact_ctx *a, const char *type, const char *rel)
{
	static const char q_final[] =
		"UPDATE tasks SET screenshot_artifact = ?, modified_at = UTC_TIMESTAMP(6) WHERE id = ?";
	static const char q_last3[] =
		"SELECT path FROM artifacts WHERE task_id = ? AND type = 'screenshot_action' "
		"ORDER BY created_at DESC, id DESC LIMIT 3";
	static const char q_actions[] =
		"UPDATE tasks SET action_screenshot_artifacts = ?, modified_at = UTC_TIMESTAMP(6) WHERE id = ?";
	static const char q_recording[] =
		"UPDATE tasks SET recording_artifact = ?, modified_at = UTC_TIMESTAMP(6) WHERE id = ?";
	struct sx_rows *rows = NULL;
	json_object *arr = NULL;
	enum sx_rc rc = SX_OK;

	if (strcmp(type, ART_SCREENSHOT_FINAL) == 0) {
		struct sx_param p[] = { sx_p_str(rel), sx_p_str(a->task_id) };

		rc = sx_db_exec(a->db, q_final, p, 2, NULL);
	} else if (strcmp(type, ART_RECORDING) == 0) {
		struct sx_param p[] = { sx_p_str(rel), sx_p_str(a->task_id) };

		rc = sx_db_exec(a->db, q_recording, p, 2, NULL);
	} else if (strcmp(type, ART_SCREENSHOT_ACTION) == 0) {
		struct sx_param p1[] = { sx_p_str(a->task_id) };

		rc = sx_db_query(a->db, q_last3, p1, 1, &rows);
		if (rc)
			goto out;
		arr = json_object_new_array();
		for (size_t i = 0; i < rows->nrows; i++)
			json_object_array_add(arr, json_object_new_string(sx_rows_get(rows, i, 0)));
		{
			struct sx_param p[] = {
				sx_p_str(json_object_to_json_string_ext(arr, JSON_C_TO_STRING_PLAIN)),
				sx_p_str(a->task_id)
			};

			rc = sx_db_exec(a->db, q_actions, p, 2, NULL);
		}
	}
out:
	json_object_put(arr);
	sx_rows_free(rows);
	return rc;
}

/* Records the file rel (already in place) as artifact id, and keeps the task's columns current. */
static enum sx_rc record_row(const struct artifact_ctx *a, const char *id, const char *step_id,
			     const char *type, const char *rel, size_t len)
{
	static const char q[] =
		"INSERT INTO artifacts (id, task_id, org_id, step_id, type, path, bytes, created_at) "
		"VALUES (?, ?, ?, ?, ?, ?, ?, UTC_TIMESTAMP(6))";
	struct sx_param p[] = { sx_p_str(id), sx_p_str(a->task_id), sx_p_str(a->org_id),
				sx_p_str(step_id), sx_p_str(type), sx_p_str(rel),
				sx_p_i64((long long)len) };
	enum sx_rc rc = sx_db_exec(a->db, q, p, 7, NULL);

	if (rc == SX_OK)
		rc = update_task_columns(a, type, rel);
	return rc;
}

enum sx_rc artifact_store_save(const struct artifact_ctx *a, const char *step_id, const char *type,
			       const char *ext, const void *data, size_t len, char **rel_out)
{
	char id[SX_ID_MAX];
	char *dir = NULL, *rel = NULL, *path = NULL;
	enum sx_rc rc;

	if (rel_out)
		*rel_out = NULL;
	sx_id_new(id, "art_");
	dir = artifact_store_task_dir(a);
	rel = xasprintf("%s/%s/%s_%s.%s", a->org_id, a->task_id, id + 4, type, ext);
	path = xasprintf("%s/%s", a->root, rel);
	rc = write_file(path, data, len);
	if (rc)
		goto out;
	rc = record_row(a, id, step_id, type, rel, len);
	if (rc == SX_OK && rel_out) {
		*rel_out = rel;
		rel = NULL;
	}
out:
	free(dir);
	free(rel);
	free(path);
	return rc;
}

enum sx_rc artifact_store_adopt(const struct artifact_ctx *a, const char *step_id, const char *type,
				const char *ext, const char *src, char **rel_out)
{
	char id[SX_ID_MAX];
	char *dir = NULL, *rel = NULL, *path = NULL;
	struct stat st;
	enum sx_rc rc = SX_OK;

	if (rel_out)
		*rel_out = NULL;
	sx_id_new(id, "art_");
	dir = artifact_store_task_dir(a);
	rel = xasprintf("%s/%s/%s_%s.%s", a->org_id, a->task_id, id + 4, type, ext);
	path = xasprintf("%s/%s", a->root, rel);
	if (stat(src, &st) != 0 || rename(src, path) != 0) {
		log_error("artifacts", "msg=\"could not move a file into place\" path=%s error=%s",
			  sx_log_quote(src), sx_log_quote(strerror(errno)));
		rc = SX_EIO;
		goto out;
	}
	rc = record_row(a, id, step_id, type, rel, (size_t)st.st_size);
	if (rc == SX_OK && rel_out) {
		*rel_out = rel;
		rel = NULL;
	}
out:
	free(dir);
	free(rel);
	free(path);
	return rc;
}
