/*
 * Idempotency-Key under concurrency (issue 9, item 2): 16 threads creating
 * with sequential keys, then 16 threads with one shared key, then 16 threads
 * taking over one expired key.  Every answer must be 200, every key exactly
 * one row pointing at a task of its organization, a shared key one task.
 *
 * The per-thread count is SX_IDEM_PER_THREAD (default 125: 2,000 creates a
 * phase, well under a minute with the ASan build on two cores); the full
 * run of issue 9 is SX_IDEM_PER_THREAD=1000, recorded in bench/README.md.
 */
#include <pthread.h>
#include <curl/curl.h>
#include <criterion/criterion.h>
#include "sx.h"
#include "client.h"
#include "buf.h"
#include "db.h"
#include "openapi.h"

#define IDEM_THREADS 16
#define IDEM_PER_THREAD_DEFAULT 125

/* One phase: IDEM_THREADS × per creates for org; key_of names request i's key. */
struct phase {
	const struct test_org *org;
	int per;
	const char *shared_key;   /* NULL: request i uses key "seq-<i>" */
	char **ids;               /* per request: the answered task_id or NULL */
	long *statuses;
	char **mismatches;        /* per request: what api/openapi.json finds wrong, or NULL */
	char *url;
};

struct worker {
	struct phase *ph;
	int thread;
};

static size_t sink(char *p, size_t size, size_t n, void *arg)
{
	return sx_buf_append(arg, p, size * n) == SX_OK ? size * n : 0;
}

/*
 * Request j of thread t is number j * IDEM_THREADS + t, so the keys that
 * are in flight at the same moment are neighbours in the index: exactly
 * the pattern that deadlocked on gap locks.
 */
static int req_index(int thread, int j)
{
	return j * IDEM_THREADS + thread;
}

static void key_of(const struct phase *ph, int i, char *out, size_t n)
{
	if (ph->shared_key)
		snprintf(out, n, "%s", ph->shared_key);
	else
		snprintf(out, n, "seq-%06d", i);
}

static void *run(void *arg)
{
	struct worker *w = arg;
	struct phase *ph = w->ph;
	static const char body[] = "{\"url\":\"https://example.com/idem\",\"navigation_goal\":\"idem\"}";
	CURL *c = curl_easy_init();
	char keyh[200], idemh[300], key[64];

	snprintf(keyh, sizeof(keyh), "x-api-key: %s", ph->org->key);
	curl_easy_setopt(c, CURLOPT_URL, ph->url);
	curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 60L);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, sink);
	for (int j = 0; j < ph->per; j++) {
		int i = req_index(w->thread, j);
		struct curl_slist *h = NULL;
		struct sx_buf b;
		json_object *o, *v;
		char *ct = NULL, why[1024];

		key_of(ph, i, key, sizeof(key));
		snprintf(idemh, sizeof(idemh), "Idempotency-Key: %s", key);
		h = curl_slist_append(h, keyh);
		h = curl_slist_append(h, "Content-Type: application/json");
		h = curl_slist_append(h, idemh);
		curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
		sx_buf_init(&b, 1 << 16);
		curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
		if (curl_easy_perform(c) == CURLE_OK) {
			curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &ph->statuses[i]);
			curl_easy_getinfo(c, CURLINFO_CONTENT_TYPE, &ct);
		}
		if (!openapi_check("POST", "/api/v1/tasks", ph->statuses[i], ct ? ct : "", sx_buf_str(&b),
				   b.len, why, sizeof(why)))
			ph->mismatches[i] = xstrdup(why);
		o = json_tokener_parse(sx_buf_str(&b));
		if (ph->statuses[i] == 200 && o && json_object_object_get_ex(o, "task_id", &v))
			ph->ids[i] = xstrdup(json_object_get_string(v));
		else if (ph->statuses[i] != 200 && ph->statuses[i] != 0 && ph->ids[i] == NULL)
			ph->ids[i] = xasprintf("(%ld) %.200s", ph->statuses[i], sx_buf_str(&b));
		json_object_put(o);
		sx_buf_release(&b);
		curl_slist_free_all(h);
	}
	curl_easy_cleanup(c);
	return NULL;
}

static int per_thread(void)
{
	const char *s = getenv("SX_IDEM_PER_THREAD");
	long long v;

	if (s && *s && sx_parse_ll(s, 1, 100000, &v))
		return (int)v;
	return IDEM_PER_THREAD_DEFAULT;
}

/* Runs the phase's IDEM_THREADS threads and checks that every answer was 200. */
static void phase_run(struct phase *ph, const struct test_org *org, int per, const char *shared)
{
	pthread_t th[IDEM_THREADS];
	struct worker w[IDEM_THREADS];
	int n = IDEM_THREADS * per, bad = 0, first_bad = -1;
	struct timespec t0, t1;

	ph->org = org;
	ph->per = per;
	ph->shared_key = shared;
	ph->ids = xcalloc((size_t)n, sizeof(*ph->ids));
	ph->statuses = xcalloc((size_t)n, sizeof(*ph->statuses));
	ph->mismatches = xcalloc((size_t)n, sizeof(*ph->mismatches));
	openapi_doc();          /* loaded once, before the threads share it */
	ph->url = xasprintf("%s/api/v1/tasks", tenv("SX_URL"));
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (int t = 0; t < IDEM_THREADS; t++) {
		w[t].ph = ph;
		w[t].thread = t;
		pthread_create(&th[t], NULL, run, &w[t]);
	}
	for (int t = 0; t < IDEM_THREADS; t++)
		pthread_join(th[t], NULL);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	for (int i = 0; i < n; i++) {
		cr_assert_null(ph->mismatches[i], "the answer does not match api/openapi.json: %s",
			       ph->mismatches[i]);
		if (ph->statuses[i] != 200) {
			bad++;
			if (first_bad < 0)
				first_bad = i;
		}
	}
	cr_log_info("idem %s: %d creates in %.1f s, %d not 200", shared ? shared : "sequential", n,
		    (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9, bad);
	cr_assert_eq(bad, 0, "%d of %d creates were not 200; the first: %ld %s", bad, n,
		     first_bad < 0 ? 0 : ph->statuses[first_bad],
		     first_bad < 0 || !ph->ids[first_bad] ? "" : ph->ids[first_bad]);
}

static void phase_release(struct phase *ph)
{
	for (int i = 0; i < IDEM_THREADS * ph->per; i++) {
		free(ph->ids[i]);
		free(ph->mismatches[i]);
	}
	free(ph->ids);
	free(ph->mismatches);
	free(ph->statuses);
	free(ph->url);
}

/* The task_id the key's one row names, or NULL (caller frees). */
static char *key_task(const struct test_org *org, const char *key)
{
	static const char q[] = "SELECT task_id FROM idempotency_keys WHERE org_id = ? AND idem_key = ?";
	struct sx_param p[] = { sx_p_str(org->id), sx_p_str(key) };
	struct sx_rows *rows = NULL;
	char *id = NULL;

	cr_assert_eq(sx_db_query(tdb(), q, p, 2, &rows), SX_OK);
	cr_assert_eq(rows->nrows, 1, "key %s has %zu rows", key, rows->nrows);
	id = xstrdup(sx_rows_get(rows, 0, 0));
	sx_rows_free(rows);
	return id;
}

/*
 * The organization's key rows all point at one of its tasks, and it has as
 * many tasks as keys: never a key without its task, never a task without
 * its key, never two tasks for one key.
 */
static void assert_keys_match_tasks(const struct test_org *org, long long keys)
{
	cr_assert_eq(db_count1("SELECT COUNT(*) FROM idempotency_keys WHERE org_id = ?", org->id), keys);
	cr_assert_eq(db_count1("SELECT COUNT(*) FROM idempotency_keys k JOIN tasks t "
			       "ON t.id = k.task_id AND t.org_id = k.org_id WHERE k.org_id = ?",
			       org->id), keys, "a key points at no task of its organization");
	cr_assert_eq(db_count1("SELECT COUNT(*) FROM tasks WHERE org_id = ?", org->id), keys,
		     "the organization has a task that no key names (or two for one key)");
}

Test(idem, sequential_keys_16_threads, .timeout = 600)
{
	struct test_org org;
	struct phase ph = { 0 };
	int per = per_thread(), n = IDEM_THREADS * per;
	char key[64];

	test_org_new(&org, "idem-seq");
	curl_global_init(CURL_GLOBAL_DEFAULT);
	phase_run(&ph, &org, per, NULL);
	assert_keys_match_tasks(&org, n);
	/* Spot-check that answers and rows agree, key by key, at both ends and between. */
	for (int i = 0; i < n; i += n / 16 > 0 ? n / 16 : 1) {
		char *id;

		key_of(&ph, i, key, sizeof(key));
		id = key_task(&org, key);
		cr_assert_str_eq(ph.ids[i], id, "key %s answered %s but its row names %s", key,
				 ph.ids[i], id);
		free(id);
	}
	phase_release(&ph);
}

Test(idem, one_shared_key_16_threads, .timeout = 600)
{
	struct test_org org;
	struct phase ph = { 0 };
	int per = per_thread(), n = IDEM_THREADS * per;
	char *id;

	test_org_new(&org, "idem-shared");
	curl_global_init(CURL_GLOBAL_DEFAULT);
	phase_run(&ph, &org, per, "shared");
	id = key_task(&org, "shared");
	for (int i = 0; i < n; i++)
		cr_assert_str_eq(ph.ids[i], id, "answer %d names %s, the key names %s", i, ph.ids[i], id);
	assert_keys_match_tasks(&org, 1);
	free(id);
	phase_release(&ph);
}

/*
 * A key older than the TTL does not block: the concurrent creates that
 * reuse it make exactly one new task, which the key then names, and all of
 * them answer with it.
 */
Test(idem, expired_key_taken_over_once, .timeout = 300)
{
	static const char *hdr[] = { "Idempotency-Key: old", NULL };
	static const char body[] = "{\"url\":\"https://example.com/idem\"}";
	struct test_org org;
	struct phase ph = { 0 };
	struct resp *r;
	char *first, *id;
	int n = IDEM_THREADS * 4;

	test_org_new(&org, "idem-ttl");
	curl_global_init(CURL_GLOBAL_DEFAULT);
	r = api_call("POST", "/api/v1/tasks", org.key, body, strlen(body), hdr);
	cr_assert_eq(r->status, 200, "%s", r->body);
	first = xstrdup(jstr(r->json, "task_id"));
	resp_free(r);
	/* Longer ago than the largest TTL the config accepts (one year). */
	db_exec2("UPDATE idempotency_keys SET created_at = created_at - INTERVAL 400 DAY "
		 "WHERE org_id = ? AND idem_key = ?", org.id, "old");
	phase_run(&ph, &org, 4, "old");
	id = key_task(&org, "old");
	cr_assert_str_neq(id, first, "the expired key still names its first task");
	for (int i = 0; i < n; i++)
		cr_assert_str_eq(ph.ids[i], id, "answer %d names %s, the key names %s", i, ph.ids[i], id);
	cr_assert_eq(db_count1("SELECT COUNT(*) FROM tasks WHERE org_id = ?", org.id), 2,
		     "the expired key was taken over more than once");
	free(first);
	free(id);
	phase_release(&ph);
}
