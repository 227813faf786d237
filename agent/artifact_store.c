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
#include "http.h"
#include "id.h"
#include "log.h"
#include "s3.h"
#include "task.h"

/* The largest file artifact_store_adopt() uploads (a recording). */
#define ARTIFACT_UPLOAD_MAX (512L * 1024 * 1024)

/* sx_mkdirs, logged. */
static enum sx_rc mkdirs(const char *path, int *err)
{
	enum sx_rc rc = sx_mkdirs(path, err);

	if (rc)
		log_error("artifacts", "msg=\"mkdir failed\" path=%s error=%s", sx_log_quote(path),
			  sx_log_quote(strerror(*err)));
	return rc;
}

char *artifact_store_task_dir(const struct artifact_ctx *a)
{
	char *dir = xasprintf("%s/%s/%s", a->root, a->org_id, a->task_id);
	int err;

	mkdirs(dir, &err);
	return dir;
}

/* Writes data to path through path.tmp; the errno of a failure goes to *err. */
static enum sx_rc write_file(const char *path, const void *data, size_t len, int *err)
{
	char *tmp = xasprintf("%s.tmp", path);
	const char *p = data;
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

	*err = 0;
	if (fd < 0) {
		*err = errno;
		goto out;
	}
	while (len > 0 && !*err) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno != EINTR)
			*err = errno;
		if (n > 0) {
			p += n;
			len -= (size_t)n;
		}
	}
	if (close(fd) != 0 && !*err)
		*err = errno;
	if (!*err && rename(tmp, path) != 0)
		*err = errno;
out:
	if (*err) {
		log_error("artifacts", "msg=\"write failed\" path=%s error=%s", sx_log_quote(path),
			  sx_log_quote(strerror(*err)));
		unlink(tmp);
	}
	free(tmp);
	return *err ? SX_EIO : SX_OK;
}

/*
 * A new artifact of the task: its id, and its path relative to the root and
 * absolute.  Returns the errno of creating the task's directory (0: there).
 */
static int new_file(const struct artifact_ctx *a, const char *type, const char *ext,
		    char id[SX_ID_MAX], char **rel, char **path)
{
	char *dir = xasprintf("%s/%s/%s", a->root, a->org_id, a->task_id);
	int err;

	sx_id_new(id, "art_");
	mkdirs(dir, &err);
	free(dir);
	*rel = xasprintf("%s/%s/%s_%s.%s", a->org_id, a->task_id, id + 4, type, ext);
	*path = xasprintf("%s/%s", a->root, *rel);
	return err;
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

static bool to_object_store(const struct artifact_ctx *a)
{
	return a->conf && s3_enabled(a->conf);
}

/* The Content-Type an object of extension ext is served with. */
static const char *content_type(const char *ext)
{
	static const struct { const char *ext, *type; } types[] = {
		{ "png", "image/png" }, { "jpg", "image/jpeg" }, { "webm", "video/webm" },
		{ "json", "application/json" }, { "txt", "text/plain; charset=utf-8" },
		{ "html", "text/html; charset=utf-8" },
	};

	for (size_t i = 0; i < SX_ARRAY_LEN(types); i++)
		if (strcmp(ext, types[i].ext) == 0)
			return types[i].type;
	return "application/octet-stream";
}

/* Stores data as the object rel; the failure's errno-like cause goes to *err (EIO). */
static enum sx_rc put_object(struct artifact_ctx *a, const char *rel, const char *ext,
			     const void *data, size_t len, int *err)
{
	enum sx_rc rc;

	if (!a->http)
		a->http = http_client_new();
	rc = s3_put(a->http, a->conf, rel, data, len, content_type(ext));
	*err = rc ? EIO : 0;
	return rc;
}

/* Reads the file src whole (a recording) into *data; the errno of a failure goes to *err. */
static enum sx_rc read_file(const char *src, char **data, size_t *len, int *err)
{
	struct stat st;
	FILE *f = fopen(src, "rb");

	*data = NULL;
	*err = 0;
	if (!f || fstat(fileno(f), &st) != 0)
		*err = errno;
	else if (st.st_size > ARTIFACT_UPLOAD_MAX)
		*err = EFBIG;
	if (!*err) {
		*len = (size_t)st.st_size;
		*data = xmalloc(*len ? *len : 1);
		if (fread(*data, 1, *len, f) != *len)
			*err = ferror(f) ? EIO : ENODATA;
	}
	if (f)
		fclose(f);
	if (*err) {
		free(*data);
		*data = NULL;
	}
	return *err ? SX_EIO : SX_OK;
}

void artifact_store_release(struct artifact_ctx *a)
{
	http_client_free(a->http);
	a->http = NULL;
}

enum sx_rc artifact_store_save(struct artifact_ctx *a, const char *step_id, const char *type,
			       const char *ext, const void *data, size_t len, char **rel_out)
{
	char id[SX_ID_MAX];
	char *rel = NULL, *path = NULL;
	enum sx_rc rc = SX_EIO;
	int err;

	if (rel_out)
		*rel_out = NULL;
	err = new_file(a, type, ext, id, &rel, &path);
	if (err)
		artifact_store_lost(a, type, 1, err, "could not create the task's directory");
	else if (to_object_store(a) && put_object(a, rel, ext, data, len, &err) != SX_OK)
		artifact_store_lost(a, type, 1, err, "the object store did not take the file");
	else if (!to_object_store(a) && write_file(path, data, len, &err) != SX_OK)
		artifact_store_lost(a, type, 1, err, "could not write the file");
	else
		rc = record_row(a, id, step_id, type, &rel, len, rel_out);
	free(rel);
	free(path);
	return rc;
}

/* Uploads the file src as the object rel and removes it; see artifact_store_adopt. */
static int adopt_to_object_store(struct artifact_ctx *a, const char *src, const char *rel,
				 const char *ext, size_t *size)
{
	char *data = NULL;
	int err;

	if (read_file(src, &data, size, &err) == SX_OK &&
	    put_object(a, rel, ext, data, *size, &err) == SX_OK)
		unlink(src);
	free(data);
	return err;
}

enum sx_rc artifact_store_adopt(struct artifact_ctx *a, const char *step_id, const char *type,
				const char *ext, const char *src, char **rel_out)
{
	char id[SX_ID_MAX];
	char *rel = NULL, *path = NULL;
	struct stat st;
	size_t size = 0;
	enum sx_rc rc = SX_EIO;
	int err;

	if (rel_out)
		*rel_out = NULL;
	err = new_file(a, type, ext, id, &rel, &path);
	if (!err && to_object_store(a))
		err = adopt_to_object_store(a, src, rel, ext, &size);
	else if (!err && (stat(src, &st) != 0 || rename(src, path) != 0))
		err = errno;
	else if (!err)
		size = (size_t)st.st_size;
	if (err) {
		log_error("artifacts", "msg=\"could not move a file into place\" path=%s error=%s",
			  sx_log_quote(src), sx_log_quote(strerror(err)));
		artifact_store_lost(a, type, 1, err, "could not move the file into place");
	} else {
		rc = record_row(a, id, step_id, type, &rel, size, rel_out);
	}
	free(rel);
	free(path);
	return rc;
}

void artifact_store_lost(struct artifact_ctx *a, const char *type, long long count, int err,
			 const char *what)
{
	struct artifact_loss *l = NULL;

	for (size_t i = 0; !l && i < a->nlosses; i++)
		if (strcmp(a->losses[i].type, type) == 0)
			l = &a->losses[i];
	if (!l && a->nlosses < ARTIFACT_LOSS_KINDS) {
		l = &a->losses[a->nlosses++];
		l->type = type;
	}
	/* Every ART_* type has a slot; an unknown one beyond them stays in the log only. */
	if (l) {
		l->count += count;
		l->err = err;
		snprintf(l->what, sizeof(l->what), "%s", what);
	}
}

/* One tasks.errors entry for the loss l. */
static json_object *loss_entry(const struct artifact_loss *l)
{
	json_object *e = json_object_new_object();
	char *reason = xasprintf("%s files could not be saved: %s%s%s%s", l->type, l->what,
				 l->err ? " (" : "", l->err ? strerror(l->err) : "", l->err ? ")" : "");
	const char *name = l->err ? strerrorname_np(l->err) : NULL;

	json_object_object_add(e, "error_code", json_object_new_string(TASK_ERROR_ARTIFACT_WRITE));
	json_object_object_add(e, "reasoning", json_object_new_string(reason));
	json_object_object_add(e, "artifact_type", json_object_new_string(l->type));
	json_object_object_add(e, "count", json_object_new_int64(l->count));
	json_object_object_add(e, "errno", name ? json_object_new_string(name) : NULL);
	free(reason);
	return e;
}

json_object *artifact_store_losses_take(struct artifact_ctx *a)
{
	json_object *arr = NULL;

	for (size_t i = 0; i < a->nlosses; i++) {
		if (!arr)
			arr = json_object_new_array();
		json_object_array_add(arr, loss_entry(&a->losses[i]));
	}
	memset(a->losses, 0, sizeof(a->losses));
	a->nlosses = 0;
	return arr;
}
