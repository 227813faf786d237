/*
 * Task artifacts on disk, recorded in the database (see artifact_store.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>
#include "sx.h"
#include "artifact_store.h"
#include "buf.h"
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

/* A new artifact of the task: its id, and its path relative to the root and absolute. */
static void new_file(const struct artifact_ctx *a, const char *type, const char *ext,
		     char id[SX_ID_MAX], char **rel, char **path)
{
	sx_id_new(id, "art_");
	free(artifact_store_task_dir(a));
	*rel = xasprintf("%s/%s/%s_%s.%s", a->org_id, a->task_id, id + 4, type, ext);
	*path = xasprintf("%s/%s", a->root, *rel);
}

/*
 * Records the file *rel (already in place) as artifact id of the task, and
 * hands *rel to *rel_out (when not NULL) once it is recorded.
 */
static enum sx_rc record_row(const struct artifact_ctx *a, const char *id, const char *step_id,
			     const char *type, char **rel, size_t len, char **rel_out)
{
	struct artifact_row row = { id, a->task_id, a->org_id, step_id, type, *rel, (long long)len };
	enum sx_rc rc = artifact_db_record(a->db, &row);

	if (rc == SX_OK && rel_out) {
		*rel_out = *rel;
		*rel = NULL;
	}
	return rc;
}

enum sx_rc artifact_store_save(const struct artifact_ctx *a, const char *step_id, const char *type,
			       const char *ext, const void *data, size_t len, char **rel_out)
{
	char id[SX_ID_MAX];
	char *rel = NULL, *path = NULL;
	enum sx_rc rc;

	if (rel_out)
		*rel_out = NULL;
	new_file(a, type, ext, id, &rel, &path);
	rc = write_file(path, data, len);
	if (rc == SX_OK)
		rc = record_row(a, id, step_id, type, &rel, len, rel_out);
	free(rel);
	free(path);
	return rc;
}

enum sx_rc artifact_store_adopt(const struct artifact_ctx *a, const char *step_id, const char *type,
				const char *ext, const char *src, char **rel_out)
{
	char id[SX_ID_MAX];
	char *rel = NULL, *path = NULL;
	struct stat st;
	enum sx_rc rc = SX_OK;

	if (rel_out)
		*rel_out = NULL;
	new_file(a, type, ext, id, &rel, &path);
	if (stat(src, &st) != 0 || rename(src, path) != 0) {
		log_error("artifacts", "msg=\"could not move a file into place\" path=%s error=%s",
			  sx_log_quote(src), sx_log_quote(strerror(errno)));
		rc = SX_EIO;
	} else {
		rc = record_row(a, id, step_id, type, &rel, (size_t)st.st_size, rel_out);
	}
	free(rel);
	free(path);
	return rc;
}
