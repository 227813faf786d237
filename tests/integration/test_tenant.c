/*
 * One tenant cannot starve the others (issue 9, item 6).  An organization
 * fills 60 tasks with the largest fields the caps allow; eight threads then
 * read its page_size=100 list as fast as they can for a bounded time, while
 * another organization polls its own task and times each GET.
 *
 * Asserted (nothing that depends on the machine's speed): every field cap is
 * enforced with a 422 naming the field; a list page stays within
 * list_max_bytes, says it was cut (X-Sextant-Truncated, Link rel="next"),
 * and following the links yields every task once; the heavy readers get
 * only 200 or a JSON 429, and the other organization's GETs all succeed.
 * Measured and printed, never asserted: the other organization's p50/p99
 * (bench/tenant/run records the figure in bench/README.md).
 *
 * SX_TENANT_SECONDS sets the reading time (default 10).
 */
#include <pthread.h>
#include <time.h>
#include <curl/curl.h>
#include <criterion/criterion.h>
#include "sx.h"
#include "client.h"
#include "conf.h"

#define TENANT_TASKS 60
#define TENANT_READERS 8

static struct sx_conf conf;
static struct test_org heavy, other;

static void load_conf(void)
{
	char err[512];

	cr_assert_eq(sx_conf_load(&conf, tenv("SX_CONF"), err, sizeof(err)), SX_OK, "%s", err);
}

static char *fill(size_t n)
{
	char *s = xmalloc(n + 1);

	memset(s, 'g', n);
	s[n] = '\0';
	return s;
}

/* A create body whose goals and payload are exactly at their caps. */
static char *largest_body(void)
{
	char *goal = fill((size_t)conf.max_goal_bytes);
	/* {"k":"…"} is 8 bytes of JSON around its string. */
	char *payload = fill((size_t)conf.max_payload_bytes - 8);
	char *body = xasprintf("{\"url\":\"https://example.com/heavy\",\"navigation_goal\":\"%s\","
			       "\"data_extraction_goal\":\"%s\",\"navigation_payload\":{\"k\":\"%s\"}}",
			       goal, goal, payload);

	free(goal);
	free(payload);
	return body;
}

/* Creates a task and cancels it at once, so a running agent leaves it be. */
static void create_canceled(const char *key, const char *body)
{
	struct resp *r = api_post_json("/api/v1/tasks", key, body);
	char *path;

	cr_assert_eq(r->status, 200, "create: %ld %.300s", r->status, r->body);
	path = xasprintf("/api/v1/tasks/%s/cancel", jstr(r->json, "task_id"));
	resp_free(r);
	r = api_call("POST", path, key, NULL, 0, NULL);
	cr_assert(r->status == 200 || r->status == 409, "cancel: %ld %s", r->status, r->body);
	resp_free(r);
	free(path);
}

static void setup_orgs(void)
{
	load_conf();
	test_org_new(&heavy, "tenant-heavy");
	test_org_new(&other, "tenant-other");
}

static void setup(void)
{
	char *body;

	setup_orgs();
	body = largest_body();
	for (int i = 0; i < TENANT_TASKS; i++)
		create_canceled(heavy.key, body);
	free(body);
}

static void teardown(void)
{
	sx_conf_release(&conf);
}

static void expect_cap(const char *field, long long cap, const char *type, bool string)
{
	char *v = fill((size_t)cap + 1), *body;
	struct resp *r;
	json_object *detail, *item, *loc;

	body = string ? xasprintf("{\"url\":\"https://example.com\",\"%s\":\"%s\"}", field, v)
		      : xasprintf("{\"url\":\"https://example.com\",\"%s\":{\"k\":\"%.*s\"}}", field,
				  (int)(cap - 7), v);
	r = api_post_json("/api/v1/tasks", other.key, body);
	cr_assert_eq(r->status, 422, "%s over its cap: %ld %.200s", field, r->status, r->body);
	detail = jget(r, "detail");
	item = json_object_array_get_idx(detail, 0);
	cr_assert(json_object_object_get_ex(item, "loc", &loc));
	cr_assert_str_eq(json_object_get_string(json_object_array_get_idx(loc, 1)), field);
	cr_assert_str_eq(jstr(item, "type"), type);
	resp_free(r);
	free(body);
	free(v);
}

Test(tenant, every_cap_is_a_422_naming_the_field, .init = setup_orgs, .fini = teardown,
     .timeout = 120)
{
	expect_cap("navigation_goal", conf.max_goal_bytes, "string_too_long", true);
	expect_cap("data_extraction_goal", conf.max_goal_bytes, "string_too_long", true);
	expect_cap("navigation_payload", conf.max_payload_bytes, "too_long", false);
	expect_cap("extracted_information_schema", conf.max_schema_bytes, "too_long", false);
	expect_cap("extra_http_headers", conf.max_mapping_bytes, "too_long", false);
	expect_cap("title", conf.max_text_bytes, "string_too_long", true);
	expect_cap("totp_identifier", conf.max_text_bytes, "string_too_long", true);
}

/*
 * Reads the heavy organization's whole list by following the Link headers;
 * every page within the budget, every cut page signalled.
 */
Test(tenant, pages_stay_within_the_budget_and_link_to_the_rest, .init = setup, .fini = teardown,
     .timeout = 120)
{
	char path[512], link[512], flag[16];
	const char *lt, *gt;
	size_t seen = 0, pages = 0;
	bool cut;

	snprintf(path, sizeof(path), "/api/v1/tasks?page_size=100");
	do {
		struct resp *r = api_get(path, heavy.key);

		cr_assert_eq(r->status, 200, "%s: %ld", path, r->status);
		cr_assert(json_object_is_type(r->json, json_type_array));
		cr_assert_leq(r->len, (size_t)conf.list_max_bytes, "page of %zu bytes", r->len);
		seen += json_object_array_length(r->json);
		cut = resp_header(r, "X-Sextant-Truncated", flag, sizeof(flag));
		if (cut) {
			cr_assert_str_eq(flag, "true");
			cr_assert(resp_header(r, "Link", link, sizeof(link)), "a cut page has a Link");
			cr_assert(strstr(link, "rel=\"next\""), "Link: %s", link);
			lt = strchr(link, '<');
			gt = strchr(link, '>');
			cr_assert(lt && gt && gt > lt);
			snprintf(path, sizeof(path), "%.*s", (int)(gt - lt - 1), lt + 1);
		}
		cr_assert_lt(++pages, 60, "the links do not end");
		resp_free(r);
	} while (cut);
	cr_assert_gt(pages, 1, "60 tasks at their caps must not fit one page");
	cr_assert_eq(seen, TENANT_TASKS, "the pages hold %zu of the %d tasks", seen, TENANT_TASKS);
}

struct reader {
	const char *url;
	const char *key;
	double until;
	long pages, refused, other;
	size_t bytes;
};

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static size_t count_bytes(char *p, size_t size, size_t n, void *arg)
{
	(void)p;
	*(size_t *)arg += size * n;
	return size * n;
}

/* One heavy reader: GETs the first page_size=100 page until time is up. */
static void *read_pages(void *arg)
{
	struct reader *rd = arg;
	CURL *c = curl_easy_init();
	struct curl_slist *h = NULL;
	char keyh[200];
	long status;

	snprintf(keyh, sizeof(keyh), "x-api-key: %s", rd->key);
	h = curl_slist_append(h, keyh);
	curl_easy_setopt(c, CURLOPT_URL, rd->url);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, count_bytes);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &rd->bytes);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 30L);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	while (now_s() < rd->until) {
		status = 0;
		if (curl_easy_perform(c) == CURLE_OK)
			curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
		if (status == 200)
			rd->pages++;
		else if (status == 429)
			rd->refused++;
		else
			rd->other++;
	}
	curl_slist_free_all(h);
	curl_easy_cleanup(c);
	return NULL;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

Test(tenant, another_org_is_served_while_8_readers_pull_heavy_pages, .init = setup,
     .fini = teardown, .timeout = 300)
{
	const char *secs_env = getenv("SX_TENANT_SECONDS");
	double secs = secs_env && *secs_env ? strtod(secs_env, NULL) : 10.0, t0;
	struct reader rd[TENANT_READERS];
	pthread_t th[TENANT_READERS];
	char *url = xasprintf("%s/api/v1/tasks?page_size=100", tenv("SX_URL"));
	char *task = create_task(other.key, "https://example.com/other"), *path;
	double *lat = xcalloc(100000, sizeof(double));
	size_t n = 0, bytes = 0;
	long pages = 0, refused = 0, odd = 0;
	struct resp *r;

	path = xasprintf("/api/v1/tasks/%s", task);
	for (int i = 0; i < TENANT_READERS; i++) {
		rd[i] = (struct reader){ .url = url, .key = heavy.key, .until = now_s() + secs };
		cr_assert_eq(pthread_create(&th[i], NULL, read_pages, &rd[i]), 0);
	}
	while (now_s() < rd[0].until && n < 100000) {
		t0 = now_s();
		r = api_get(path, other.key);
		lat[n++] = (now_s() - t0) * 1000.0;
		cr_assert_eq(r->status, 200, "the other organization's GET: %ld %s", r->status, r->body);
		cr_assert_str_eq(jstr(r->json, "task_id"), task);
		resp_free(r);
	}
	for (int i = 0; i < TENANT_READERS; i++) {
		pthread_join(th[i], NULL);
		pages += rd[i].pages;
		refused += rd[i].refused;
		odd += rd[i].other;
		bytes += rd[i].bytes;
	}
	qsort(lat, n, sizeof(double), cmp_double);
	cr_assert_gt(n, 0);
	fprintf(stderr, "tenant: other org GET p50=%.2f ms p99=%.2f ms max=%.2f ms over %zu GETs; "
		"%d heavy readers for %.0f s: %ld pages (%.1f MB), %ld answered 429\n",
		lat[n / 2], lat[(n * 99) / 100], lat[n - 1], n, TENANT_READERS, secs, pages,
		(double)bytes / 1e6, refused);
	cr_assert_eq(odd, 0, "heavy readers got %ld answers other than 200 or 429", odd);
	cr_assert_gt(pages, 0);
	free(path);
	path = xasprintf("/api/v1/tasks/%s/cancel", task);
	resp_free(api_call("POST", path, other.key, NULL, 0, NULL));
	free(lat);
	free(path);
	free(task);
	free(url);
}
