/*
 * Task artifacts on disk and in the database (see artifacts.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>
#include "sx.h"
#include "artifacts.h"
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

char *artifact_task_dir(const struct artifact_ctx *a)
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

enum sx_rc artifact_save(const struct artifact_ctx *a, const char *step_id, const char *type,
			 const char *ext, const void *data, size_t len, char **rel_out)
{
	char id[SX_ID_MAX];
	char *dir = NULL, *rel = NULL, *path = NULL;
	enum sx_rc rc;

	if (rel_out)
		*rel_out = NULL;
	sx_id_new(id, "art_");
	dir = artifact_task_dir(a);
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

enum sx_rc artifact_adopt(const struct artifact_ctx *a, const char *step_id, const char *type,
			  const char *ext, const char *src, char **rel_out)
{
	char id[SX_ID_MAX];
	char *dir = NULL, *rel = NULL, *path = NULL;
	struct stat st;
	enum sx_rc rc = SX_OK;

	if (rel_out)
		*rel_out = NULL;
	sx_id_new(id, "art_");
	dir = artifact_task_dir(a);
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

static bool key_is_secret(const char *key)
{
	static const char *const words[] = {
		"pass", "secret", "token", "otp", "totp", "pin", "ssn", "cvv", "cvc",
		"card", "iban", "apikey", "api_key", "credential", "code"
	};
	char low[128];
	size_t n = strlen(key);

	if (n >= sizeof(low))
		n = sizeof(low) - 1;
	for (size_t i = 0; i < n; i++)
		low[i] = (char)((key[i] >= 'A' && key[i] <= 'Z') ? key[i] + 32 : key[i]);
	low[n] = '\0';
	for (size_t i = 0; i < SX_ARRAY_LEN(words); i++)
		if (strstr(low, words[i]))
			return true;
	return false;
}

/* Collects secret string values (at least 3 bytes) of payload, recursively. */
static void collect_secrets(json_object *o, bool secret, json_object *out)
{
	if (!o)
		return;
	switch (json_object_get_type(o)) {
	case json_type_object: {
		json_object_object_foreach(o, k, v)
			collect_secrets(v, secret || key_is_secret(k), out);
		break;
	}
	case json_type_array:
		for (size_t i = 0; i < json_object_array_length(o); i++)
			collect_secrets(json_object_array_get_idx(o, i), secret, out);
		break;
	case json_type_string:
	case json_type_int:
		if (secret && strlen(json_object_get_string(o)) >= 3)
			json_object_array_add(out, json_object_new_string(json_object_get_string(o)));
		break;
	default:
		break;
	}
}

char *artifact_mask_secrets(const char *text, json_object *payload)
{
	json_object *secrets = json_object_new_array();
	char *cur = xstrdup(text ? text : "");

	collect_secrets(payload, false, secrets);
	for (size_t i = 0; i < json_object_array_length(secrets); i++) {
		const char *s = json_object_get_string(json_object_array_get_idx(secrets, i));
		size_t sl = strlen(s);
		struct sx_buf b;
		const char *p = cur, *hit;

		sx_buf_init(&b, SIZE_MAX);
		while ((hit = strstr(p, s)) != NULL) {
			sx_buf_append(&b, p, (size_t)(hit - p));
			sx_buf_puts(&b, "********");
			p = hit + sl;
		}
		sx_buf_puts(&b, p);
		free(cur);
		cur = sx_buf_detach(&b, NULL);
		if (!cur)
			cur = xstrdup("");
	}
	json_object_put(secrets);
	return cur;
}
