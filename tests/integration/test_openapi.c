/*
 * The OpenAPI document (api/openapi.json) against the code: the server
 * serves the document of the tree, the router and the document name the
 * same routes, and the checker that every other test runs on every answer
 * (client.c, openapi.h) does catch a mismatch.
 */
#include <strings.h>
#include <criterion/criterion.h>
#include "sx.h"
#include "client.h"
#include "openapi.h"
#include "jschema.h"

static const char *const methods[] = { "get", "post", "put", "patch", "delete", "head", "options" };

/* The router's table, as sextant-api --routes prints it: "METHOD TEMPLATE" lines (caller frees). */
static char *router_routes(void)
{
	FILE *p = popen("'" BUILDDIR "/sextant-api' --routes", "r");
	char line[512];
	size_t len = 0;
	char *out = xstrdup("");

	cr_assert(p, "cannot run sextant-api --routes");
	while (fgets(line, sizeof(line), p)) {
		out = xrealloc(out, len + strlen(line) + 1);
		memcpy(out + len, line, strlen(line) + 1);
		len += strlen(line);
	}
	cr_assert_eq(pclose(p), 0, "sextant-api --routes failed");
	cr_assert(len > 0, "sextant-api --routes printed nothing");
	return out;
}

/* Whether the document has an operation for method (upper case) on a path matching tmpl. */
static bool doc_has(const char *method, const char *tmpl)
{
	json_object *paths = NULL, *op = NULL;
	char lower[16];

	snprintf(lower, sizeof(lower), "%s", method);
	for (char *c = lower; *c; c++)
		*c = (char)(*c >= 'A' && *c <= 'Z' ? *c - 'A' + 'a' : *c);
	json_object_object_get_ex(openapi_doc(), "paths", &paths);
	json_object_object_foreach(paths, path, item) {
		if (openapi_template_match(tmpl, path) && json_object_object_get_ex(item, lower, &op))
			return true;
	}
	return false;
}

/* Whether one "METHOD TEMPLATE" line of routes matches method (upper case) on path. */
static bool router_has(const char *routes, const char *method, const char *path)
{
	char m[16], t[480];

	for (const char *l = routes; *l; l += strcspn(l, "\n"), l += *l == '\n') {
		if (sscanf(l, "%15s %479s", m, t) == 2 && strcasecmp(m, method) == 0 &&
		    openapi_template_match(t, path))
			return true;
	}
	return false;
}

Test(openapi, served_document_is_the_one_in_the_tree_and_needs_no_key)
{
	struct resp *r = api_get("/api/v1/openapi.json", NULL);

	cr_assert_eq(r->status, 200, "%ld %.300s", r->status, r->body);
	cr_assert(strncmp(r->content_type, "application/json", 16) == 0, "%s", r->content_type);
	cr_assert(json_object_equal(r->json, openapi_doc()),
		  "GET /api/v1/openapi.json is not api/openapi.json: rebuild sextant-api");
	cr_assert_str_eq(jstr(r->json, "openapi"), "3.1.0");
	resp_free(r);
	r = api_get("/api/v1/openapi.json/", tenv("SX_API_KEY"));
	cr_assert_eq(r->status, 200, "with a key and a trailing slash: %ld", r->status);
	resp_free(r);
}

Test(openapi, every_route_of_the_router_is_in_the_document)
{
	char *routes = router_routes(), m[16], t[480];
	int n = 0;

	for (const char *l = routes; *l; l += strcspn(l, "\n"), l += *l == '\n') {
		cr_assert_eq(sscanf(l, "%15s %479s", m, t), 2, "odd line from --routes: %.80s", l);
		cr_assert(doc_has(m, t), "the router serves %s %s, api/openapi.json does not describe it", m, t);
		n++;
	}
	cr_assert_geq(n, 20, "only %d routes listed", n);
	free(routes);
}

Test(openapi, every_route_of_the_document_is_in_the_router)
{
	char *routes = router_routes();
	json_object *paths = NULL, *op;

	json_object_object_get_ex(openapi_doc(), "paths", &paths);
	json_object_object_foreach(paths, path, item) {
		for (size_t i = 0; i < SX_ARRAY_LEN(methods); i++) {
			if (json_object_object_get_ex(item, methods[i], &op))
				cr_assert(router_has(routes, methods[i], path),
					  "api/openapi.json describes %s %s, the router has no such route", methods[i], path);
		}
	}
	free(routes);
}

/* Collects every "$ref" of the document into refs. */
static void collect_refs(json_object *o, json_object *refs)
{
	if (json_object_is_type(o, json_type_array)) {
		for (size_t i = 0; i < json_object_array_length(o); i++)
			collect_refs(json_object_array_get_idx(o, i), refs);
	} else if (json_object_is_type(o, json_type_object)) {
		json_object_object_foreach(o, key, val) {
			if (strcmp(key, "$ref") == 0)
				json_object_array_add(refs, json_object_get(val));
			else
				collect_refs(val, refs);
		}
	}
}

Test(openapi, every_schema_uses_only_what_the_checker_knows)
{
	json_object *doc = openapi_doc(), *refs = json_object_new_array(), *comps = NULL, *schemas = NULL;
	char err[1024];

	collect_refs(doc, refs);
	for (size_t i = 0; i < json_object_array_length(refs); i++) {
		const char *ref = json_object_get_string(json_object_array_get_idx(refs, i));
		json_object *probe = json_object_new_object();

		json_object_object_add(probe, "$ref", json_object_new_string(ref));
		if (!jschema_check(doc, probe, NULL, err, sizeof(err)))
			cr_assert(!strstr(err, "names nothing"), "%s", err);
		json_object_put(probe);
	}
	/* A keyword the checker does not know fails whatever the value. */
	json_object_object_get_ex(doc, "components", &comps);
	json_object_object_get_ex(comps, "schemas", &schemas);
	json_object_object_foreach(schemas, name, schema) {
		if (!jschema_check(doc, schema, NULL, err, sizeof(err)))
			cr_assert(!strstr(err, "does not know"), "components/schemas/%s: %s", name, err);
	}
	json_object_put(refs);
}

Test(openapi, a_mismatch_names_route_status_and_pointer)
{
	static const char task[] = "{\"task_id\":\"tsk_01abc\",\"status\":\"paused\"}";
	static const char list[] = "[{\"task_id\":7}]";
	char err[1024];

	cr_assert_not(openapi_check("GET", "/api/v1/tasks/tsk_01abc?x=1", 200, "application/json", task,
				    strlen(task), err, sizeof(err)));
	cr_assert(strstr(err, "GET /api/v1/tasks/{task_id} 200: "), "%s", err);
	cr_assert(strstr(err, "required member"), "%s", err);
	cr_assert_not(openapi_check("GET", "/api/v1/tasks/", 200, "application/json", list, strlen(list),
				    err, sizeof(err)));
	cr_assert(strstr(err, "/0"), "%s", err);
	cr_assert_not(openapi_check("POST", "/v1/runs/tsk_01abc/cancel", 200, "application/json", "{}", 2,
				    err, sizeof(err)));
	cr_assert(strstr(err, "expected null, got object"), "%s", err);
	cr_assert_not(openapi_check("GET", "/api/v1/tasks/tsk_01abc", 418, "application/json", "{}", 2,
				    err, sizeof(err)));
	cr_assert(strstr(err, "no response for this status"), "%s", err);
	cr_assert_not(openapi_check("GET", "/metrics", 200, "application/json", "{}", 2, err, sizeof(err)));
	cr_assert(strstr(err, "Content-Type"), "%s", err);
	/* An unknown path is answered by the router: {"detail":…} with 404. */
	cr_assert(openapi_check("GET", "/api/v1/nothing", 404, "application/json", "{\"detail\":\"Not Found\"}",
				22, err, sizeof(err)), "%s", err);
	cr_assert_not(openapi_check("GET", "/api/v1/nothing", 404, "application/json", "{\"error\":1}", 11,
				    err, sizeof(err)));
}

Test(openapi, the_checker_reports_the_pointer_of_a_nested_mismatch)
{
	json_object *doc = json_tokener_parse(
		"{\"s\":{\"type\":\"object\",\"required\":[\"a\"],\"properties\":{\"a\":{\"type\":\"array\","
		"\"items\":{\"$ref\":\"#/t\"}}}},\"t\":{\"anyOf\":[{\"type\":\"integer\"},{\"type\":\"null\"}]}}");
	json_object *schema = NULL, *v = json_tokener_parse("{\"a\":[1,null,\"x\"],\"b/c\":{}}");
	json_object *odd = json_tokener_parse("{\"typ\":\"string\"}");
	char err[1024];

	json_object_object_get_ex(doc, "s", &schema);
	cr_assert_not(jschema_check(doc, schema, v, err, sizeof(err)));
	cr_assert(strstr(err, "/a/2"), "%s", err);
	cr_assert_not(jschema_check(doc, odd, v, err, sizeof(err)));
	cr_assert(strstr(err, "\"typ\""), "%s", err);
	json_object_put(v);
	json_object_put(odd);
	json_object_put(doc);
}
