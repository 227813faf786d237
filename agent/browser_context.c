/*
 * A task's browser context in the shared browser (see browser_context.h):
 * Target.createBrowserContext with the task's proxy,
 * Browser.setDownloadBehavior into the task's directory, and
 * Target.createTarget for its page, all on the worker's own connection.
 */
#include <stdlib.h>
#include <json-c/json.h>

#include "sx.h"
#include "browser_cdp.h"
#include "browser_context.h"
#include "browser_host.h"
#include "conf.h"
#include "json.h"
#include "log.h"

struct browser_context {
	struct browser_cdp *cdp;
	char addr[64];
	char *id;                /* the context, NULL until created */
	char *page;              /* its first page's target id */
	char **known;            /* the pages seen by the last browser_context_pages */
	size_t nknown;
};

/* Calls method with params (consumed) and takes the string member key of its result (caller frees). */
static enum sx_rc call_for(struct browser_context *x, const char *method, json_object *params, const char *key,
			   char **out)
{
	json_object *res = NULL;
	enum sx_rc rc = browser_cdp_call(x->cdp, method, params, &res);
	const char *v = rc == SX_OK && key ? sx_json_string(res, key) : NULL;

	if (out)
		*out = v ? xstrdup(v) : NULL;
	if (rc == SX_OK && key && !v)
		rc = SX_EPARSE;
	json_object_put(res);
	json_object_put(params);
	return rc;
}

/* The context with the task's proxy: loopback goes through it as well. */
static enum sx_rc create_context(struct browser_context *x, const char *proxy)
{
	json_object *p = json_object_new_object();

	json_object_object_add(p, "disposeOnDetach", json_object_new_boolean(1));
	if (proxy && *proxy) {
		json_object_object_add(p, "proxyServer", json_object_new_string(proxy));
		json_object_object_add(p, "proxyBypassList", json_object_new_string("<-loopback>"));
	}
	return call_for(x, "Target.createBrowserContext", p, "browserContextId", &x->id);
}

/* Downloads of the context go to dir, without asking. */
static enum sx_rc set_downloads(struct browser_context *x, const char *dir)
{
	json_object *p = json_object_new_object();

	json_object_object_add(p, "behavior", json_object_new_string("allow"));
	json_object_object_add(p, "browserContextId", json_object_new_string(x->id));
	json_object_object_add(p, "downloadPath", json_object_new_string(dir));
	return call_for(x, "Browser.setDownloadBehavior", p, NULL, NULL);
}

/* The context's page, a window of the configured size. */
static enum sx_rc create_page(struct browser_context *x, const struct sx_conf *c)
{
	json_object *p = json_object_new_object();

	json_object_object_add(p, "url", json_object_new_string("about:blank"));
	json_object_object_add(p, "browserContextId", json_object_new_string(x->id));
	json_object_object_add(p, "newWindow", json_object_new_boolean(1));
	json_object_object_add(p, "width", json_object_new_int64(c->window_width));
	json_object_object_add(p, "height", json_object_new_int64(c->window_height));
	return call_for(x, "Target.createTarget", p, "targetId", &x->page);
}

enum sx_rc browser_context_open(const struct sx_conf *c, const char *task_id, const char *proxy,
				const char *download_dir, struct browser_context **out, char *err, size_t errlen)
{
	struct browser_context *x = xcalloc(1, sizeof(*x));
	enum sx_rc rc;

	*out = NULL;
	rc = browser_host_connect(c, &x->cdp, x->addr, sizeof(x->addr), err, errlen);
	if (rc)
		goto out;
	rc = create_context(x, proxy);
	if (rc == SX_OK)
		browser_host_register(x->id);
	if (rc == SX_OK && download_dir)
		rc = set_downloads(x, download_dir);
	if (rc == SX_OK)
		rc = create_page(x, c);
	if (rc) {
		snprintf(err, errlen, "could not open a browser context: %.300s", browser_cdp_last_error(x->cdp));
		rc = SX_ESESSION;
		goto out;
	}
	log_info("browser", "msg=\"browser context opened\" task=%s context=%s page=%s", task_id, x->id, x->page);
	*out = x;
	x = NULL;
out:
	browser_context_free(x);
	return rc;
}

const char *browser_context_address(const struct browser_context *x)
{
	return x->addr;
}

const char *browser_context_page(const struct browser_context *x)
{
	return x->page;
}

const char *browser_context_id(const struct browser_context *x)
{
	return x->id;
}

/* Whether id was among the pages of the last call. */
static bool known(const struct browser_context *x, const char *id)
{
	for (size_t i = 0; i < x->nknown; i++)
		if (strcmp(x->known[i], id) == 0)
			return true;
	return false;
}

static void forget_pages(struct browser_context *x)
{
	for (size_t i = 0; i < x->nknown; i++)
		free(x->known[i]);
	free(x->known);
	x->known = NULL;
	x->nknown = 0;
}

size_t browser_context_pages(struct browser_context *x, char **newest)
{
	json_object *res = NULL, *infos;
	char **pages = NULL;
	size_t n = 0, len;

	if (newest)
		*newest = NULL;
	if (browser_cdp_call(x->cdp, "Target.getTargets", NULL, &res) != SX_OK)
		goto out;
	infos = sx_json_member(res, "targetInfos");
	len = json_object_is_type(infos, json_type_array) ? json_object_array_length(infos) : 0;
	pages = xcalloc(len ? len : 1, sizeof(*pages));
	for (size_t i = 0; i < len; i++) {
		json_object *t = json_object_array_get_idx(infos, i);
		const char *ctx = sx_json_string(t, "browserContextId"), *type = sx_json_string(t, "type");
		const char *id = sx_json_string(t, "targetId");

		if (!ctx || !type || !id || strcmp(ctx, x->id) != 0 || strcmp(type, "page") != 0)
			continue;
		if (newest && !*newest && x->known && !known(x, id))
			*newest = xstrdup(id);
		pages[n++] = xstrdup(id);
	}
	forget_pages(x);
	x->known = pages;
	x->nknown = n;
out:
	json_object_put(res);
	return n;
}

void browser_context_free(struct browser_context *x)
{
	json_object *p;

	if (!x)
		return;
	if (x->id && x->cdp) {
		p = json_object_new_object();
		json_object_object_add(p, "browserContextId", json_object_new_string(x->id));
		call_for(x, "Target.disposeBrowserContext", p, NULL, NULL);
	}
	if (x->id)
		browser_host_unregister(x->id);
	browser_cdp_free(x->cdp);
	forget_pages(x);
	free(x->id);
	free(x->page);
	free(x);
}
