/*
 * Load: 2,000 POSTs over 16 concurrent keep-alive connections through nginx.
 * Every 200's task_id must exist exactly once, and the organization's row
 * count must equal the number of 200s.  Bounded in count and time.
 */
#include <pthread.h>
#include <curl/curl.h>
#include <criterion/criterion.h>
#include "sx.h"
#include "client.h"
#include "buf.h"
#include "openapi.h"

#define LOAD_TOTAL 2000
#define LOAD_CONNS 16

static struct test_org org;
static char *ids[LOAD_TOTAL];
static long statuses[LOAD_TOTAL];
/* What api/openapi.json says is wrong with an answer; asserted after the threads, not in them. */
static char *mismatch[LOAD_TOTAL];

struct worker {
	int first, count;
	const char *url;
};

static size_t sink(char *p, size_t size, size_t n, void *arg)
{
	return sx_buf_append(arg, p, size * n) == SX_OK ? size * n : 0;
}

static void *run(void *arg)
{
	struct worker *w = arg;
	CURL *c = curl_easy_init();
	struct curl_slist *h = NULL;
	char keyh[200];
	static const char body[] = "{\"url\":\"https://example.com/load\",\"navigation_goal\":\"load\"}";

	snprintf(keyh, sizeof(keyh), "x-api-key: %s", org.key);
	h = curl_slist_append(h, keyh);
	h = curl_slist_append(h, "Content-Type: application/json");
	curl_easy_setopt(c, CURLOPT_URL, w->url);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 30L);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, sink);
	for (int i = w->first; i < w->first + w->count; i++) {
		struct sx_buf b;
		json_object *o, *v;
		char *ct = NULL, why[1024];

		sx_buf_init(&b, 1 << 16);
		curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
		if (curl_easy_perform(c) == CURLE_OK) {
			curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &statuses[i]);
			curl_easy_getinfo(c, CURLINFO_CONTENT_TYPE, &ct);
		}
		if (!openapi_check("POST", "/api/v1/tasks", statuses[i], ct ? ct : "", sx_buf_str(&b), b.len,
				   why, sizeof(why)))
			mismatch[i] = xstrdup(why);
		if (statuses[i] == 200 && (o = json_tokener_parse(sx_buf_str(&b))) != NULL) {
			if (json_object_object_get_ex(o, "task_id", &v))
				ids[i] = xstrdup(json_object_get_string(v));
			json_object_put(o);
		}
		sx_buf_release(&b);
	}
	curl_slist_free_all(h);
	curl_easy_cleanup(c);
	return NULL;
}

Test(load, posts_2000_over_16_connections, .timeout = 600)
{
	pthread_t th[LOAD_CONNS];
	struct worker w[LOAD_CONNS];
	char *url;
	long ok = 0, other = 0;

	test_org_new(&org, "load");
	openapi_doc();          /* loaded once, before the threads share it */
	url = xasprintf("%s/api/v1/tasks", tenv("SX_URL"));
	curl_global_init(CURL_GLOBAL_DEFAULT);
	for (int i = 0; i < LOAD_CONNS; i++) {
		w[i].first = i * (LOAD_TOTAL / LOAD_CONNS);
		w[i].count = LOAD_TOTAL / LOAD_CONNS;
		w[i].url = url;
		pthread_create(&th[i], NULL, run, &w[i]);
	}
	for (int i = 0; i < LOAD_CONNS; i++)
		pthread_join(th[i], NULL);
	for (int i = 0; i < LOAD_TOTAL; i++) {
		cr_assert_null(mismatch[i], "the answer does not match api/openapi.json: %s", mismatch[i]);
		if (statuses[i] == 200) {
			cr_assert_not_null(ids[i], "200 without task_id");
			cr_assert_eq(db_count1("SELECT COUNT(*) FROM tasks WHERE id = ?", ids[i]), 1,
				     "task %s", ids[i]);
			ok++;
		} else {
			other++;
		}
	}
	cr_log_info("load: %ld ok, %ld other", ok, other);
	cr_assert_eq(db_count1("SELECT COUNT(*) FROM tasks WHERE org_id = ?", org.id), ok);
	/* The dev stack's rate limit is far above this load: every request succeeds. */
	cr_assert_eq(ok, LOAD_TOTAL, "%ld of %d requests failed", other, LOAD_TOTAL);
	for (int i = 0; i < LOAD_TOTAL; i++)
		free(ids[i]);
	free(url);
}
