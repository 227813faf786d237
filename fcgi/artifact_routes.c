/*
 * Artifact routes: the signed-URL gate in front of nginx's file serving,
 * and the list of a task's artifacts.
 *
 * GET /artifacts/<org>/<task>/<file>?expires=…&sig=… carries no API key:
 * the signature is the credential.  A valid one is answered with
 * X-Accel-Redirect to nginx's internal location (or, with artifact_offload =
 * x-sendfile, X-Sendfile naming the file for Apache's mod_xsendfile), so the
 * web server streams the file (sendfile, ranges for the <video> element)
 * and sextant-api only decides.
 */
#include <errno.h>
#include <limits.h>
#include <sys/stat.h>
#include <time.h>
#include "sx.h"
#include "router.h"
#include "artifact_db.h"
#include "artifact_url.h"
#include "s3.h"
#include "conf.h"
#include "log.h"

#define ARTIFACTS_PREFIX "/artifacts/"
/* nginx's internal location aliased to artifacts_dir (nginx/sextant.conf). */
#define ARTIFACTS_INTERNAL "/_artifacts_internal/"

/*
 * Copies the raw (undecoded) path of the request after /artifacts/ into out.
 * The raw form is checked, not the decoded one, so that %2F, %2e%2e or a
 * NUL can never be smuggled past the character check: an artifact path
 * needs no escaping at all.
 */
static bool raw_artifact_path(const struct http_req *req, char *out, size_t outlen)
{
	const char *uri = http_param(req, "REQUEST_URI");
	size_t n;

	if (!uri || strncmp(uri, ARTIFACTS_PREFIX, strlen(ARTIFACTS_PREFIX)) != 0)
		return false;
	uri += strlen(ARTIFACTS_PREFIX);
	n = strcspn(uri, "?");
	if (n == 0 || n >= outlen)
		return false;
	memcpy(out, uri, n);
	out[n] = '\0';
	return arturl_path_safe(out);
}

/*
 * True when artifacts_dir/rel is a regular file reached without leaving
 * artifacts_dir: the last component is no symlink (lstat) and the resolved
 * path lies under the resolved directory, so a symlinked directory inside
 * the tree cannot lead out of it either.
 */
static bool file_inside(const char *root, const char *rel)
{
	char *path = xasprintf("%s/%s", root, rel);
	char real_root[PATH_MAX], real[PATH_MAX];
	struct stat st;
	size_t n;
	bool ok = false;

	if (lstat(path, &st) != 0 || !S_ISREG(st.st_mode))
		goto out;
	if (!realpath(root, real_root) || !realpath(path, real))
		goto out;
	n = strlen(real_root);
	ok = strncmp(real, real_root, n) == 0 && real[n] == '/';
out:
	free(path);
	return ok;
}

/*
 * With the s3 backend: the object is not on this host, and streaming it
 * through would hold a responder for the whole download, so a valid URL of
 * ours is answered with a redirect to a short-lived presigned URL of the
 * object; the client fetches the bytes from the object store itself.  Our
 * URL stays the one handed out (its own TTL and key, the same with either
 * backend); the presigned one lives S3_PRESIGN_SECONDS.
 */
static void artifacts_redirect(struct http_req *req, const char *rel)
{
	char *url = s3_presign_get(req->conf, rel, (long long)time(NULL), S3_PRESIGN_SECONDS);
	char *hdr = NULL;

	if (!url) {
		http_reply_detail(req, 503, "The artifact store is not configured on this host");
		return;
	}
	/* http_reply_raw() adds Cache-Control: no-store itself. */
	hdr = xasprintf("Location: %s\r\n", url);
	http_reply_raw(req, 302, "text/plain", NULL, 0, hdr);
	free(hdr);
	free(url);
}

void artifacts_serve(struct http_req *req, const char *rest)
{
	const struct sx_conf *c = req->conf;
	char rel[600], expires[32], sig[80], *hdr_text = NULL;
	bool trunc = false, trunc2 = false;
	enum arturl_check chk;

	(void)rest;
	expires[0] = sig[0] = '\0';
	if (!raw_artifact_path(req, rel, sizeof(rel))) {
		http_reply_detail(req, 404, "Not Found");
		goto out;
	}
	http_query_next(req->query, "expires", expires, sizeof(expires), &trunc);
	http_query_next(req->query, "sig", sig, sizeof(sig), &trunc2);
	chk = trunc || trunc2 ? ARTURL_BAD_SIG :
		arturl_verify(c->artifact_url_key, rel, expires, sig, (long long)time(NULL));
	if (chk == ARTURL_EXPIRED) {
		http_reply_detail(req, 403, "This artifact URL has expired");
		goto out;
	}
	if (chk != ARTURL_OK) {
		http_reply_detail(req, 403, "Invalid artifact URL signature");
		goto out;
	}
	if (s3_enabled(c)) {
		artifacts_redirect(req, rel);
		goto out;
	}
	if (!file_inside(c->artifacts_dir, rel)) {
		http_reply_detail(req, 404, "Not Found");
		goto out;
	}
	/* Apache's mod_xsendfile takes the file's path (artifact_offload). */
	if (strcmp(c->artifact_offload, "x-sendfile") == 0)
		hdr_text = xasprintf("X-Sendfile: %s/%s\r\n", c->artifacts_dir, rel);
	else
		hdr_text = xasprintf("X-Accel-Redirect: " ARTIFACTS_INTERNAL "%s\r\n", rel);
	http_reply_raw(req, 200, arturl_content_type(rel), NULL, 0, hdr_text);
out:
	free(hdr_text);
}

/* Answers the task's artifacts that pass f (NULL for all), or 404 when it is not the caller's. */
static void artifacts_reply(struct http_req *req, const char *task_id, const struct artifact_filter *f)
{
	json_object *arr = NULL;
	char msg[96];
	enum sx_rc rc;

	if (!sx_id_valid(task_id, "tsk_")) {
		http_reply_detail(req, 404, "Task not found");
		goto out;
	}
	rc = artifact_db_list(req->db, req->conf, req->org_id, task_id, f, &arr);
	if (rc == SX_ENOTFOUND) {
		snprintf(msg, sizeof(msg), "Task %s not found", task_id);
		http_reply_detail(req, 404, msg);
	} else if (rc) {
		http_reply_db_error(req, rc);
	} else {
		http_reply_json(req, 200, arr, NULL);
	}
out:
	return;
}

void artifacts_of_task(struct http_req *req, const char *task_id)
{
	artifacts_reply(req, task_id, NULL);
}

void artifacts_of_step(struct http_req *req, const char *ids)
{
	char task_id[SX_ID_MAX] = "";
	const char *step = strstr(ids, "/steps/");
	struct artifact_filter f = { NULL, 0, NULL };

	if (step && (size_t)(step - ids) < sizeof(task_id)) {
		snprintf(task_id, sizeof(task_id), "%.*s", (int)(step - ids), ids);
		f.step_id = step + 7;
	}
	artifacts_reply(req, task_id, &f);
}
