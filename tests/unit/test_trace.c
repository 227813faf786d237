/* Unit tests for agent/trace.c: keys, URL patterns, fingerprints, value sources, the recorder. */
#include <criterion/criterion.h>
#include "sx.h"
#include "json.h"
#include "mask.h"
#include "scrape.h"
#include "trace.h"

static json_object *parse(const char *s)
{
	json_object *o = json_tokener_parse(s);

	cr_assert(o, "bad JSON in the test: %s", s);
	return o;
}

Test(trace, the_key_holds_the_payload_keys_not_their_values)
{
	json_object *p1 = parse("{\"name\":\"Chris\",\"email\":\"c@x.org\",\"addr\":{\"city\":\"Paris\"}}");
	json_object *p2 = parse("{\"email\":\"d@y.org\",\"addr\":{\"city\":\"Rome\"},\"name\":\"Dana\"}");
	json_object *p3 = parse("{\"name\":\"Dana\"}");
	char *k1 = trace_key_json("HTTPS://Example.COM:443/apply?job=7#top", "Apply", NULL, NULL, p1);
	char *k2 = trace_key_json("https://example.com/apply?job=7", "Apply", NULL, NULL, p2);
	char *k3 = trace_key_json("https://example.com/apply?job=7", "Apply", NULL, NULL, p3);
	char *k4 = trace_key_json("https://example.com/apply?job=8", "Apply", NULL, NULL, p2);

	cr_assert_str_eq(k1, k2);
	cr_assert(strstr(k1, "\"payload_keys\":[\"$.addr.city\",\"$.email\",\"$.name\"]"), "%s", k1);
	cr_assert(!strstr(k1, "Chris") && !strstr(k1, "Paris"));
	cr_assert_str_neq(k2, k3);
	cr_assert_str_neq(k2, k4);
	cr_assert_null(trace_key_json(NULL, "Apply", NULL, NULL, p1));
	free(k1);
	free(k2);
	free(k3);
	free(k4);
	json_object_put(p1);
	json_object_put(p2);
	json_object_put(p3);
}

Test(trace, url_patterns_drop_what_changes_from_run_to_run)
{
	json_object *p = parse("{\"user\":\"chris42\"}");
	char *pat = trace_url_pattern("http://h.example:8080/orders/12345/users/chris42/done.html?x=chris42#f", p);

	cr_assert_str_eq(pat, "http://h.example:8080/orders/*/users/*/done.html");
	cr_assert(trace_url_matches(pat, "http://h.example:8080/orders/999/users/dana/done.html?q=1"));
	cr_assert(!trace_url_matches(pat, "http://h.example:8080/orders/999/users/dana/other.html"));
	cr_assert(!trace_url_matches(pat, "http://h.example:8080/orders/999/users/done.html"));
	cr_assert(!trace_url_matches(pat, "https://h.example:8080/orders/999/users/dana/done.html"));
	cr_assert(!trace_url_matches(pat, "http://h.example:8080/orders/999/users/dana/done.html/more"));
	free(pat);
	pat = trace_url_pattern("https://h.example", NULL);
	cr_assert_str_eq(pat, "https://h.example/");
	cr_assert(trace_url_matches(pat, "https://h.example/?a=b"));
	cr_assert(trace_url_matches(pat, "https://H.example"));
	free(pat);
	json_object_put(p);
}

Test(trace, credentials_in_the_url_never_reach_key_or_pattern)
{
	char *k = trace_key_json("https://Chris:S3cretPass@Example.COM:443/apply", "Apply", NULL, NULL, NULL);
	char *plain = trace_key_json("https://example.com/apply", "Apply", NULL, NULL, NULL);
	char *pat = trace_url_pattern("http://chris:S3cretPass@h.example:8080/a/b", NULL);
	char *norm = trace_url_normalize("https://user@H.example./x");

	cr_assert(!strstr(k, "S3cret") && !strstr(k, "s3cret") && !strstr(k, "Chris") && !strstr(k, "@"), "%s", k);
	cr_assert_str_eq(k, plain);
	cr_assert_str_eq(pat, "http://h.example:8080/a/b");
	cr_assert(trace_url_matches(pat, "http://h.example:8080/a/b?x=1"));
	cr_assert(trace_url_matches(pat, "http://other:pw@h.example:8080/a/b"));
	cr_assert_str_eq(norm, "https://h.example/x");
	free(k);
	free(plain);
	free(pat);
	free(norm);
}

Test(trace, a_stored_trace_of_the_wrong_shape_is_refused)
{
	static const char *const bad[] = {
		"{}",
		"{\"steps\":{},\"evidence\":{\"text\":[]}}",
		"{\"steps\":[{\"page\":{}}],\"evidence\":{\"text\":[]}}",
		"{\"steps\":[{\"actions\":[1]}],\"evidence\":{\"text\":[]}}",
		"{\"steps\":[{\"actions\":[{\"element\":[]}]}],\"evidence\":{\"text\":[]}}",
		"{\"steps\":[],\"evidence\":{\"text\":[null]}}",
		"{\"steps\":[],\"evidence\":[]}",
	};
	json_object *ok;
	char why[160];

	for (size_t i = 0; i < SX_ARRAY_LEN(bad); i++) {
		json_object *t = parse(bad[i]);

		why[0] = '\0';
		cr_assert_not(trace_valid(t, why, sizeof(why)), "%s", bad[i]);
		cr_assert(why[0], "no reason for %s", bad[i]);
		json_object_put(t);
	}
	ok = parse("{\"steps\":[{\"page\":{\"url\":\"http://h/\"},\"actions\":[{\"action\":\"click\","
		   "\"element\":{\"frame\":[]}}]}],\"evidence\":{\"url\":\"http://h/\",\"text\":[\"Done\"]}}");

	cr_assert(trace_valid(ok, why, sizeof(why)), "%s", why);
	json_object_put(ok);
}

Test(trace, values_are_references_literals_or_refused)
{
	json_object *p = parse("{\"name\":\"Chris Bacon\",\"ids\":[\"A-1\",\"B-2\"],\"age\":41,"
			       "\"first\":\"Same\",\"second\":\"Same\"}");
	json_object *p2 = parse("{\"name\":\"Dana Scully\",\"ids\":[\"C-3\",\"D-4\"],\"age\":37,"
				"\"first\":\"x\",\"second\":\"y\"}");
	char why[160];
	json_object *s;
	char *v;

	s = trace_value_source(p, "Chris Bacon", why, sizeof(why));
	cr_assert_str_eq(json_object_to_json_string_ext(s, JSON_C_TO_STRING_PLAIN), "{\"ref\":\"$.name\"}");
	v = trace_value_resolve(p2, s);
	cr_assert_str_eq(v, "Dana Scully");
	free(v);
	json_object_put(s);
	s = trace_value_source(p, "B-2", why, sizeof(why));
	cr_assert_str_eq(sx_json_string(s, "ref"), "$.ids[1]");
	v = trace_value_resolve(p2, s);
	cr_assert_str_eq(v, "D-4");
	free(v);
	json_object_put(s);
	s = trace_value_source(p, "41", why, sizeof(why));
	cr_assert_str_eq(sx_json_string(s, "ref"), "$.age");
	json_object_put(s);
	s = trace_value_source(p, "LinkedIn", why, sizeof(why));
	cr_assert_str_eq(sx_json_string(s, "literal"), "LinkedIn");
	v = trace_value_resolve(p2, s);
	cr_assert_str_eq(v, "LinkedIn");
	free(v);
	json_object_put(s);
	/* Derived from a payload value: it would type Chris's first name for Dana. */
	cr_assert_null(trace_value_source(p, "Chris", why, sizeof(why)));
	cr_assert(strstr(why, "derived"));
	cr_assert_null(trace_value_source(p, "Dear Chris Bacon,", why, sizeof(why)));
	/* Two fields hold it: its source is not known. */
	cr_assert_null(trace_value_source(p, "Same", why, sizeof(why)));
	/* A reference the new payload does not have. */
	s = parse("{\"ref\":\"$.missing\"}");
	cr_assert_null(trace_value_resolve(p2, s));
	json_object_put(s);
	json_object_put(p);
	json_object_put(p2);
}

/* Two "Yes" radios in two questions, and two unnamed "Remove" buttons. */
static const char index_json[] =
	"{\"e1\":{\"frame\":[],\"kind\":\"radio\",\"label\":\"Yes\",\"name\":\"relocate\",\"dom_id\":\"\",\"group\":\"Relocate?\"},"
	" \"e2\":{\"frame\":[],\"kind\":\"radio\",\"label\":\"Yes\",\"name\":\"visa\",\"dom_id\":\"\",\"group\":\"Visa?\"},"
	" \"e3\":{\"frame\":[],\"kind\":\"button\",\"label\":\"Remove\",\"name\":\"\",\"dom_id\":\"\",\"group\":\"\"},"
	" \"e4\":{\"frame\":[],\"kind\":\"button\",\"label\":\"Remove\",\"name\":\"\",\"dom_id\":\"\",\"group\":\"\"},"
	" \"e5\":{\"frame\":[0],\"kind\":\"button\",\"label\":\"Remove\",\"name\":\"\",\"dom_id\":\"\",\"group\":\"\"}}";

Test(trace, fingerprints_resolve_without_the_scrape_ids)
{
	json_object *idx = parse(index_json), *later, *fp;
	char why[160] = "";

	/* The next page load numbers the elements differently. */
	later = parse("{\"e9\":{\"frame\":[],\"kind\":\"button\",\"label\":\"Remove\",\"name\":\"\",\"dom_id\":\"\",\"group\":\"\"},"
		      " \"e7\":{\"frame\":[],\"kind\":\"radio\",\"label\":\"Yes\",\"name\":\"visa\",\"dom_id\":\"\",\"group\":\"Visa?\"},"
		      " \"e8\":{\"frame\":[],\"kind\":\"button\",\"label\":\"Remove\",\"name\":\"\",\"dom_id\":\"\",\"group\":\"\"},"
		      " \"e6\":{\"frame\":[0],\"kind\":\"button\",\"label\":\"Remove\",\"name\":\"\",\"dom_id\":\"\",\"group\":\"\"}}");
	fp = trace_fingerprint(idx, "e2");
	cr_assert_str_eq(trace_resolve(later, fp, why, sizeof(why)), "e7");
	json_object_put(fp);
	fp = trace_fingerprint(idx, "e4");
	cr_assert_eq(sx_json_int(fp, "ordinal", -1), 1);
	cr_assert_eq(sx_json_int(fp, "count", -1), 2);
	cr_assert_str_eq(trace_resolve(later, fp, why, sizeof(why)), "e8");
	json_object_put(fp);
	fp = trace_fingerprint(idx, "e5");
	cr_assert_str_eq(trace_resolve(later, fp, why, sizeof(why)), "e6");
	json_object_put(fp);
	/* Gone, or no longer told apart: never a guess. */
	fp = trace_fingerprint(idx, "e1");
	cr_assert_null(trace_resolve(later, fp, why, sizeof(why)));
	cr_assert(strstr(why, "no radio \"Yes\""), "%s", why);
	json_object_put(fp);
	json_object_put(later);
	later = parse("{\"e1\":{\"frame\":[],\"kind\":\"button\",\"label\":\"Remove\",\"name\":\"\",\"dom_id\":\"\",\"group\":\"\"}}");
	fp = trace_fingerprint(idx, "e3");
	cr_assert_null(trace_resolve(later, fp, why, sizeof(why)));
	cr_assert(strstr(why, "1 elements"), "%s", why);
	json_object_put(fp);
	cr_assert_null(trace_fingerprint(idx, "e77"));
	json_object_put(later);
	json_object_put(idx);
}

Test(trace, generated_dom_ids_do_not_name_an_element)
{
	static const char *const pairs[][2] = {
		{":r5:", ":r9:"}, {"input-1234", "input-5678"}, {"ember412", "ember977"},
		{"f81d4fae-7dec-11d0-a765-00a0c91e6bf6", "0b7a1c2e-1111-4a4a-9c9c-0123456789ab"},
	};
	json_object *idx, *fp;
	char why[160] = "";

	for (size_t i = 0; i < SX_ARRAY_LEN(pairs); i++) {
		char *a = xasprintf("{\"e1\":{\"frame\":[],\"kind\":\"input:text\",\"label\":\"City\",\"name\":\"\","
				    "\"dom_id\":\"%s\",\"group\":\"\"}}", pairs[i][0]);
		char *b = xasprintf("{\"e4\":{\"frame\":[],\"kind\":\"input:text\",\"label\":\"City\",\"name\":\"\","
				    "\"dom_id\":\"%s\",\"group\":\"\"}}", pairs[i][1]);
		json_object *first = parse(a), *later = parse(b);

		fp = trace_fingerprint(first, "e1");

		cr_assert_str_eq(sx_json_string(fp, "dom_id"), "", "%s kept", pairs[i][0]);
		cr_assert_str_eq(trace_resolve(later, fp, why, sizeof(why)), "e4", "%s: %s", pairs[i][1], why);
		json_object_put(fp);
		json_object_put(first);
		json_object_put(later);
		free(a);
		free(b);
	}
	/* A page's own id still tells elements apart. */
	idx = parse("{\"e1\":{\"frame\":[],\"kind\":\"input:text\",\"label\":\"City\",\"dom_id\":\"home-city\"},"
		    " \"e2\":{\"frame\":[],\"kind\":\"input:text\",\"label\":\"City\",\"dom_id\":\"work-city\"}}");
	fp = trace_fingerprint(idx, "e2");
	cr_assert_str_eq(sx_json_string(fp, "dom_id"), "work-city");
	cr_assert_eq(sx_json_int(fp, "count", -1), 1);
	cr_assert_str_eq(trace_resolve(idx, fp, why, sizeof(why)), "e2");
	json_object_put(fp);
	json_object_put(idx);
}

/* A page as the scraper gives it. */
static void page_init(struct scrape_result *pg, const char *url, const char *title, const char *text,
		      const char *index)
{
	memset(pg, 0, sizeof(*pg));
	pg->url = xstrdup(url);
	pg->title = xstrdup(title);
	pg->text = xstrdup(text);
	pg->index = index ? parse(index) : json_object_new_object();
}

Test(trace, the_recorder_keeps_references_and_evidence_never_a_secret)
{
	json_object *payload = parse("{\"name\":\"Chris Bacon\",\"user_password\":\"hunter2-xyz\"}");
	struct mask *mask = mask_new(payload, NULL);
	struct trace_recorder r;
	struct scrape_result form, thanks;
	json_object *acts, *done, *t;
	char why[200];
	const char *form_index =
		"{\"e1\":{\"frame\":[],\"kind\":\"input:text\",\"label\":\"Name\",\"name\":\"n\",\"dom_id\":\"n\",\"group\":\"\"},"
		" \"e2\":{\"frame\":[],\"kind\":\"input:password\",\"label\":\"Password\",\"name\":\"p\",\"dom_id\":\"p\",\"group\":\"\"},"
		" \"e3\":{\"frame\":[],\"kind\":\"button\",\"label\":\"Send\",\"name\":\"\",\"dom_id\":\"\",\"group\":\"\"}}";

	page_init(&form, "http://h.example/form.html", "Form", "Apply here\nName\nPassword", form_index);
	page_init(&thanks, "http://h.example/done.html?n=Chris+Bacon", "Done",
		  "Apply here\nThanks, Chris Bacon!\nWe will call you.", NULL);
	trace_recorder_init(&r);
	acts = parse("[{\"action\":\"input_text\",\"element\":\"e1\",\"text\":\"Chris Bacon\"},"
		     " {\"action\":\"input_text\",\"element\":\"e2\",\"text\":\"hunter2-xyz\"},"
		     " {\"action\":\"click\",\"element\":\"e3\",\"reasoning\":\"send it, Chris Bacon\"}]");
	done = parse("[{\"result\":{\"success\":true}},{\"result\":{\"success\":true}},{\"result\":{\"success\":true}}]");
	trace_record_step(&r, payload, &form, acts, done);
	json_object_put(acts);
	json_object_put(done);
	acts = parse("[{\"action\":\"complete\"}]");
	done = parse("[{\"result\":{\"success\":true}}]");
	trace_record_step(&r, payload, &thanks, acts, done);
	t = trace_recorder_take(&r, mask);
	cr_assert(t, "%s", r.why);
	cr_assert(!strstr(json_object_to_json_string(t), "hunter2"));
	cr_assert(!strstr(json_object_to_json_string(t), "Chris"));
	cr_assert(strstr(json_object_to_json_string_ext(t, JSON_C_TO_STRING_PLAIN), "\"ref\":\"$.user_password\""));
	cr_assert_str_eq(sx_json_string(sx_json_member(t, "evidence"), "url"), "http://h.example/done.html");
	cr_assert_str_eq(json_object_to_json_string_ext(sx_json_member(sx_json_member(t, "evidence"), "text"),
							JSON_C_TO_STRING_PLAIN), "[\"We will call you.\"]");
	cr_assert(trace_evidence_matches(sx_json_member(t, "evidence"), &thanks, why, sizeof(why)));
	cr_assert(!trace_evidence_matches(sx_json_member(t, "evidence"), &form, why, sizeof(why)));
	json_object_put(t);
	trace_recorder_release(&r);

	/* A literal holding the secret (typed into another field) spoils the trace. */
	trace_recorder_init(&r);
	json_object_put(acts);
	acts = parse("[{\"action\":\"input_text\",\"element\":\"e1\",\"text\":\"pw is hunter2-xyz\"},{\"action\":\"complete\"}]");
	json_object_put(done);
	done = parse("[{\"result\":{\"success\":true}},{\"result\":{\"success\":true}}]");
	trace_record_step(&r, payload, &form, acts, done);
	cr_assert_null(trace_recorder_take(&r, mask));
	trace_recorder_release(&r);
	json_object_put(acts);
	json_object_put(done);
	scrape_release(&form);
	scrape_release(&thanks);
	mask_free(mask);
	json_object_put(payload);
}
