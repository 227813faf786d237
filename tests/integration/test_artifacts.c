/*
 * Signed artifact URLs, the artifact list, /healthz, /metrics and
 * `sextant-admin gc` against the real stack: a task run by a real
 * sextant-agent (LLM test double, real Chromium) hands out URLs that nginx
 * serves without an API key, and only while their signature and expiry hold.
 */
#include <sys/stat.h>
#include <unistd.h>
#include <criterion/criterion.h>
#include "sx.h"
#include "agentctl.h"
#include "client.h"
#include "db.h"
#include "crypto.h"
#include "timeutil.h"
#include "wait.h"

TestSuite(artifacts, .init = agent_suite_setup, .fini = agent_suite_fini, .timeout = 300);

/* The stack's artifact URL key (var/artifact_url.key), to craft URLs. */
static char *url_key(void)
{
	char *path = xasprintf("%s/artifact_url.key", tenv("SX_VAR"));
	char buf[128] = "";
	FILE *f = fopen(path, "r");

	cr_assert_not_null(f, "no %s", path);
	cr_assert_not_null(fgets(buf, sizeof(buf), f));
	fclose(f);
	free(path);
	buf[strcspn(buf, "\r\n")] = '\0';
	return xstrdup(buf);
}

/* A URL's path and query, from "/artifacts/" on (what api_get appends to SX_URL). */
static const char *rel_of(const char *url)
{
	const char *rel = url ? strstr(url, "/artifacts/") : NULL;

	cr_assert_not_null(rel, "not an artifact URL: %s", url ? url : "(null)");
	cr_assert(strncmp(url, tenv("SX_URL"), strlen(tenv("SX_URL"))) == 0, "not absolute under SX_URL: %s", url);
	return rel;
}

/* GETs an artifact URL without any key; checks 200, the type and a non-empty body. */
static void fetch_ok(const char *url, const char *type)
{
	struct resp *r = api_get(rel_of(url), NULL);

	cr_assert_eq(r->status, 200, "GET %s: %ld %s", url, r->status, r->body ? r->body : "");
	cr_assert(strncmp(r->content_type, type, strlen(type)) == 0, "%s: type %s, want %s", url,
		  r->content_type, type);
	cr_assert_gt(r->len, 0);
	if (strcmp(type, "image/png") == 0)
		cr_assert(strncmp(r->body, "\x89PNG", 4) == 0);
	resp_free(r);
}

/* GETs rel and expects 403 with a JSON detail. */
static void fetch_403(const char *rel)
{
	struct resp *r = api_get(rel, NULL);

	cr_assert_eq(r->status, 403, "GET %s: %ld, want 403", rel, r->status);
	cr_assert_not_null(jget(r, "detail"), "403 without JSON detail: %s", r->body);
	resp_free(r);
}

/* The job application run to completion by a real agent; returns the task (caller puts), its id in *id. */
static json_object *completed_task(char **id)
{
	char *script = job_script(""), *body = job_task();
	json_object *t = run_task(&(struct task_run){ .key = suite_org.key, .script = script, .body = body }, id);

	cr_assert_str_eq(jstr(t, "status"), "completed", "%s", json_object_to_json_string(t));
	free(body);
	free(script);
	return t;
}

/* The task's screenshot_url, signed (borrowed from t). */
static const char *signed_shot(json_object *t)
{
	const char *shot = jstr(t, "screenshot_url");

	cr_assert_not_null(shot, "no screenshot_url: %s", json_object_to_json_string(t));
	cr_assert(strstr(shot, "?expires=") && strstr(shot, "&sig="), "unsigned: %s", shot);
	return shot;
}

/* GET /api/v1/tasks/{id}/artifacts with key; asserts 200 and returns the list (caller puts). */
static json_object *artifact_list(const char *id, const char *key)
{
	return api_get_json(key, "/api/v1/tasks/%s/artifacts", id);
}

/* Every URL of the task object is fetchable without a key, with its type. */
Test(artifacts, task_urls_are_signed_and_served_without_a_key)
{
	char *id;
	json_object *t = completed_task(&id), *v;

	fetch_ok(signed_shot(t), "image/png");
	cr_assert(json_object_object_get_ex(t, "action_screenshot_urls", &v));
	cr_assert_gt(json_object_array_length(v), 0);
	for (size_t i = 0; i < json_object_array_length(v); i++)
		fetch_ok(json_object_get_string(json_object_array_get_idx(v, i)), "image/png");
	if (jstr(t, "recording_url"))
		fetch_ok(jstr(t, "recording_url"), "video/webm");
	json_object_put(t);
	free(id);
}

/* The list: every artifact, oldest first, with a fresh URL of the right type. */
Test(artifacts, list_has_every_artifact_with_a_url)
{
	char *id;
	json_object *t = completed_task(&id), *list = artifact_list(id, suite_org.key), *v;

	cr_assert_eq((long long)json_object_array_length(list),
		     db_count1("SELECT COUNT(*) FROM artifacts WHERE task_id = ?", id));
	for (size_t i = 0; i < json_object_array_length(list); i++) {
		json_object *a = json_object_array_get_idx(list, i);
		const char *type = jstr(a, "type");

		cr_assert(jstr(a, "artifact_id") && jstr(a, "created_at") && type);
		cr_assert(json_object_object_get_ex(a, "bytes", &v) && json_object_get_int64(v) > 0);
		if (i > 0)
			cr_assert_leq(strcmp(jstr(json_object_array_get_idx(list, i - 1), "created_at"),
					     jstr(a, "created_at")), 0);
		fetch_ok(jstr(a, "url"), strncmp(type, "llm_", 4) == 0 ? "application/json" :
			 strcmp(type, "recording") == 0 ? "video/webm" : "image/png");
	}
	json_object_put(list);
	json_object_put(t);
	free(id);
}

/* Another organization cannot list a task's artifacts, nor can a caller without a key. */
Test(artifacts, list_is_isolated_by_organization)
{
	char *id = create_task(suite_org.key, "https://example.com/"), path[128];
	struct test_org other;
	struct resp *r;

	json_object_put(artifact_list(id, suite_org.key));
	snprintf(path, sizeof(path), "/api/v1/tasks/%s/artifacts", id);
	test_org_new(&other, "artifacts-other");
	r = api_get(path, other.key);
	cr_assert_eq(r->status, 404, "other org listed: %ld", r->status);
	resp_free(r);
	r = api_get(path, NULL);
	cr_assert_eq(r->status, 403);
	resp_free(r);
	/* Leave no queued task behind for other tests' agents. */
	db_exec2("UPDATE tasks SET status = 'canceled' WHERE id = ?", id, NULL);
	free(id);
}

/* Tampering: signature, path, expiry; and an honest signature that expired. */
Test(artifacts, tampered_or_expired_urls_are_refused)
{
	char *key = url_key(), *id;
	json_object *t = completed_task(&id), *list = artifact_list(id, suite_org.key);
	const char *rel = rel_of(signed_shot(t));
	char *bad = xstrdup(rel), *q = strchr(bad, '?'), *sig = strstr(bad, "&sig=") + 5;
	const char *other_rel = rel_of(jstr(json_object_array_get_idx(list, 0), "url"));
	char *moved, *longer, *expired, mac[65], *msg, *file, *internal;
	long long past = (long long)(sx_now_us() / 1000000) - 60;
	struct resp *r;

	sig[0] = sig[0] == 'a' ? 'b' : 'a';
	fetch_403(bad);
	sig[0] = rel[sig - bad];
	/* This file's signature on another file's path. */
	moved = xasprintf("%.*s%s", (int)(strchr(other_rel, '?') - other_rel), other_rel, q);
	cr_assert(strcmp(moved, rel) != 0);
	fetch_403(moved);
	/* A later expiry with the old signature. */
	longer = xasprintf("%.*s?expires=%lld%s", (int)(q - bad), bad, past + 10 * 86400, strstr(rel, "&sig="));
	fetch_403(longer);
	/* A correct signature whose time has passed. */
	file = xstrndup(rel + strlen("/artifacts/"), (size_t)(q - bad) - strlen("/artifacts/"));
	msg = xasprintf("/artifacts/%s\n%lld", file, past);
	crypto_hmac_sha256_hex(key, strlen(key), msg, strlen(msg), mac);
	expired = xasprintf("/artifacts/%s?expires=%lld&sig=%s", file, past, mac);
	r = api_get(expired, NULL);
	cr_assert_eq(r->status, 403, "expired URL: %ld", r->status);
	cr_assert(strstr(r->body, "expired"), "%s", r->body);
	resp_free(r);
	/* No signature at all, and the internal location from outside. */
	*q = '\0';
	fetch_403(bad);
	r = api_get(bad + strlen("/artifacts/") - 1 /* "/<org>/..." */, NULL);
	cr_assert_neq(r->status, 200);
	resp_free(r);
	internal = xasprintf("/_artifacts_internal/%s", file);
	r = api_get(internal, NULL);
	cr_assert_eq(r->status, 404, "internal location reachable: %ld", r->status);
	resp_free(r);
	free(internal);
	free(file);
	free(msg);
	free(expired);
	free(longer);
	free(moved);
	free(bad);
	json_object_put(list);
	json_object_put(t);
	free(id);
	free(key);
}

/* Traversal: escaped dots and slashes never leave the directory, signed or not. */
Test(artifacts, escaped_paths_never_leave_the_directory)
{
	static const char *const tries[] = {
		"/artifacts/%2e%2e/sextant.conf",
		"/artifacts/x/%2e%2e%2f%2e%2e%2fsextant.conf",
		"/artifacts/x/y/..%2f..%2f..%2fsextant.conf",
		"/artifacts/%2Fetc%2Fpasswd",
		"/artifacts/x/y/",
	};
	char *key = url_key();

	for (size_t i = 0; i < SX_ARRAY_LEN(tries); i++) {
		/* Signed as if the path were honest: the path check comes first. */
		long long exp = (long long)(sx_now_us() / 1000000) + 600;
		char *msg = xasprintf("/artifacts/%s\n%lld", tries[i] + 11, exp);
		char mac[65], *u;
		struct resp *r;

		crypto_hmac_sha256_hex(key, strlen(key), msg, strlen(msg), mac);
		u = xasprintf("%s?expires=%lld&sig=%s", tries[i], exp, mac);
		r = api_get(u, NULL);
		cr_assert(r->status == 403 || r->status == 404, "%s: %ld", u, r->status);
		cr_assert_null(strstr(r->body ? r->body : "", "db_password"), "%s leaked the config", u);
		cr_assert_null(strstr(r->body ? r->body : "", "root:"), "%s leaked passwd", u);
		resp_free(r);
		free(u);
		free(msg);
	}
	free(key);
}

/* The counters moved with the task. */
Test(artifacts, metrics_move_with_a_completed_task)
{
	char *before = metrics_scrape(), *after, *id;
	json_object *t = completed_task(&id);

	after = metrics_scrape();
	cr_assert_gt(metric_value(after, "sextant_tasks{status=\"completed\"}"),
		     metric_value(before, "sextant_tasks{status=\"completed\"}"));
	cr_assert_gt(metric_value(after, "sextant_steps_total"), metric_value(before, "sextant_steps_total"));
	cr_assert_gt(metric_value(after, "sextant_llm_calls_total"), metric_value(before, "sextant_llm_calls_total"));
	cr_assert_gt(metric_value(after, "sextant_llm_tokens_total{direction=\"input\"}"),
		     metric_value(before, "sextant_llm_tokens_total{direction=\"input\"}"));
	cr_assert_gt(metric_value(after, "sextant_step_duration_seconds_count"),
		     metric_value(before, "sextant_step_duration_seconds_count"));
	cr_assert_geq(metric_value(after, "sextant_queue_depth"), 0);
	cr_assert_geq(metric_value(after, "sextant_webhook_backlog"), 0);
	json_object_put(t);
	free(after);
	free(before);
	free(id);
}

static int stack(const char *verb)
{
	char *cmd = xasprintf("'%s' %s >/dev/null 2>&1", tenv("SX_STACK"), verb);
	int st = system(cmd);

	free(cmd);
	return st;
}

static long healthz(char **detail)
{
	struct resp *r = api_get("/healthz", NULL);
	long st = r->status;

	cr_assert(strncmp(r->content_type, "application/json", 16) == 0, "%s", r->content_type);
	if (detail)
		*detail = xstrdup(r->body ? r->body : "");
	resp_free(r);
	return st;
}

static bool healthy(void *arg)
{
	(void)arg;
	return healthz(NULL) == 200;
}

Test(artifacts, healthz_follows_the_database)
{
	char *b = NULL;
	int st;

	cr_assert_eq(healthz(&b), 200);
	cr_assert_str_eq(b, "{\"status\":\"ok\"}");
	free(b);
	cr_assert_eq(stack("db-stop"), 0, "stack db-stop failed");
	st = (int)healthz(&b);
	/* Bring the database back before asserting, so a failure leaves the stack whole. */
	cr_assert_eq(stack("db-start"), 0, "stack db-start failed");
	cr_assert_eq(st, 503, "while down: %d %s", st, b);
	cr_assert(strstr(b, "\"unhealthy\"") && strstr(b, "\"detail\""), "%s", b);
	free(b);
	cr_assert(wait_until(healthy, NULL, 60000), "/healthz did not recover");
}

/* Inserts an artifact row (created days ago) and its file; returns the relative path. */
static char *fake_artifact(const char *org_id, const char *task, const char *name, int days)
{
	static const char q[] =
		"INSERT INTO artifacts (id, task_id, org_id, step_id, type, path, bytes, created_at) "
		"VALUES (?, ?, ?, NULL, 'screenshot_final', ?, 4, UTC_TIMESTAMP(6) - INTERVAL ? DAY)";
	char id[64], *rel = xasprintf("%s/%s/%s", org_id, task, name);
	char *dir = xasprintf("%s/artifacts/%s/%s", tenv("SX_VAR"), org_id, task);
	char *path = xasprintf("%s/artifacts/%s", tenv("SX_VAR"), rel);
	char *mk = xasprintf("mkdir -p '%s'", dir);
	FILE *f;

	snprintf(id, sizeof(id), "art_%s%d", task + 4, days);
	id[30] = '\0';
	snprintf(id + strlen(id), sizeof(id) - strlen(id), "%s", name);
	cr_assert_eq(system(mk), 0);
	f = fopen(path, "w");
	cr_assert_not_null(f);
	fputs("\x89PNG", f);
	fclose(f);
	{
		struct sx_param p[] = { sx_p_str(id), sx_p_str(task), sx_p_str(org_id), sx_p_str(rel),
					sx_p_i64(days) };

		cr_assert_eq(sx_db_exec(tdb(), q, p, 5, NULL), SX_OK);
	}
	free(mk);
	free(path);
	free(dir);
	return rel;
}

static bool file_exists(const char *rel)
{
	char *path = xasprintf("%s/artifacts/%s", tenv("SX_VAR"), rel);
	struct stat st;
	bool ok = stat(path, &st) == 0;

	free(path);
	return ok;
}

Test(artifacts, gc_removes_old_artifacts_but_never_a_running_tasks)
{
	char *done = create_task(suite_org.key, "https://example.com/");
	char *running = create_task(suite_org.key, "https://example.com/");
	char *old_done = fake_artifact(suite_org.id, done, "old.png", 40);
	char *new_done = fake_artifact(suite_org.id, done, "new.png", 1);
	char *old_running = fake_artifact(suite_org.id, running, "old.png", 40);
	char *out, path[128];
	struct resp *r;

	/* Nothing here may be claimed by an agent: the statuses are set by hand. */
	db_exec2("UPDATE tasks SET status = 'completed', finished_at = UTC_TIMESTAMP(6), "
		 "screenshot_artifact = ? WHERE id = ?", old_done, done);
	db_exec2("UPDATE tasks SET status = 'running', started_at = UTC_TIMESTAMP(6), "
		 "screenshot_artifact = ? WHERE id = ?", old_running, running);
	{
		char *json = xasprintf("[\"%s\",\"%s\"]", new_done, old_done);

		db_exec2("UPDATE tasks SET action_screenshot_artifacts = ? WHERE id = ?", json, done);
		free(json);
	}

	out = admin("gc --days 30");
	cr_assert_not_null(out, "sextant-admin gc failed");
	cr_assert(strstr(out, "artifacts_removed="), "%s", out);
	cr_assert(strstr(out, "files_removed="), "%s", out);

	/* The finished task's old artifact is gone, row and file; the recent one stays. */
	cr_assert_not(file_exists(old_done));
	cr_assert(file_exists(new_done));
	cr_assert_eq(db_count1("SELECT COUNT(*) FROM artifacts WHERE path = ?", old_done), 0);
	cr_assert_eq(db_count1("SELECT COUNT(*) FROM artifacts WHERE path = ?", new_done), 1);
	/* The running task keeps everything. */
	cr_assert(file_exists(old_running));
	cr_assert_eq(db_count1("SELECT COUNT(*) FROM artifacts WHERE path = ?", old_running), 1);

	/* The task object no longer points at the removed file. */
	snprintf(path, sizeof(path), "/api/v1/tasks/%s", done);
	r = api_get(path, suite_org.key);
	cr_assert_eq(r->status, 200);
	cr_assert_null(jstr(r->json, "screenshot_url"), "%s", r->body);
	{
		json_object *v;

		cr_assert(json_object_object_get_ex(r->json, "action_screenshot_urls", &v));
		cr_assert_eq(json_object_array_length(v), 1, "%s", r->body);
		cr_assert(strstr(json_object_get_string(json_object_array_get_idx(v, 0)), "new.png"));
	}
	resp_free(r);

	/* Leave no running task behind for other tests' agents. */
	db_exec2("UPDATE tasks SET status = 'canceled' WHERE id = ? OR id = ?", running, done);
	free(out);
	free(old_done);
	free(new_done);
	free(old_running);
	free(running);
	free(done);
}
