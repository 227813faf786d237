#ifndef SX_TEST_OPENAPI_H
#define SX_TEST_OPENAPI_H
/*
 * The integration tests' hold on api/openapi.json: every answer a test
 * receives through client.c is checked against the operation the document
 * gives for its method, path template and status, so the document cannot
 * drift from the code without a test failing.
 *
 * How an answer is looked up:
 *  - the path (query and one trailing slash dropped) is matched against the
 *    document's path templates, a {name} standing for one segment; the
 *    dev stack's static trees (/sites/, /ui/, /bench/) are not the API and
 *    are not checked;
 *  - a path the document does not have, or a method its path item does
 *    not have, is answered by the router or nginx alone: those answers are
 *    described by the document's top-level "x-sextant-unrouted" responses;
 *  - the status picks responses["404"], else responses["4XX"], else
 *    "default"; a status the operation does not list is a mismatch;
 *  - a response without "content" must have an empty body; otherwise the
 *    Content-Type (without parameters) must be one of its media types, and
 *    a JSON body must match that media type's schema (jschema.h).
 */
#include <stdbool.h>
#include <stddef.h>
#include <json-c/json.h>

/*
 * The parsed document (SRCDIR/api/openapi.json), read once per process;
 * borrowed.  Fails the calling test when it is missing or not JSON.
 */
json_object *openapi_doc(void);

/*
 * True when the path template a matches b segment by segment: equal
 * literals, or a {name} in either (one segment), or a {name+} in a (the
 * router's "rest of the path", one or more segments).  Query strings are
 * not part of a template.
 */
bool openapi_template_match(const char *a, const char *b);

/*
 * Checks one answer: method and path as sent (the path may carry a query),
 * the status, the Content-Type header ("" for none) and the body.  True
 * when it matches the document; otherwise false with a message such as
 *   GET /api/v1/tasks/{task_id} 200: /status: "paused" is not one of […] (at #/components/schemas/TaskStatus)
 * in err.
 */
bool openapi_check(const char *method, const char *path, long status, const char *content_type,
		   const char *body, size_t len, char *err, size_t errlen);
#endif
