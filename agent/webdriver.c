/*
 * The W3C WebDriver client: the only file that speaks WebDriver.  It talks
 * to any W3C endpoint (the agent's own chromedriver, chromedriver.c, or a
 * remote one) through core/http (one keep-alive client per session).
 *
 * Every answer is read into a capped buffer, parsed with json-c and turned
 * into enum sx_rc here, once; the WebDriver message is kept in the session
 * for webdriver_last_error().  Logs name the command path and the WebDriver error
 * code only: page content, script text and arguments may carry the user's
 * secrets (navigation_payload) and are never logged.
 */
#include <ctype.h>
#include "sx.h"
#include "buf.h"
#include "crypto.h"
#include "http.h"
#include "json.h"
#include "log.h"
#include "webdriver.h"

/* Answers are small except screenshots and script results. */
#define WEBDRIVER_MAX_SMALL (1u << 20)
#define WEBDRIVER_MAX_LARGE (32u << 20)
/* Headroom over the WebDriver-side timeouts, so that the driver reports its
 * own "timeout" error before our HTTP request gives up. */
#define WEBDRIVER_HTTP_GRACE_MS 5000L
/* Starting a browser is slower than any one command. */
#define WEBDRIVER_NEW_SESSION_MIN_MS 60000L
#define WEBDRIVER_DELETE_TIMEOUT_MS 5000L
#define WEBDRIVER_DEFAULT_TIMEOUT_MS 30000L
#define WEBDRIVER_DEFAULT_WIDTH 1280
#define WEBDRIVER_DEFAULT_HEIGHT 800
#define WEBDRIVER_JSON_DEPTH 64

struct webdriver_session {
	struct http_client *http;
	char *endpoint;          /* base URL without a trailing slash */
	char *endpoint_log;      /* the endpoint without user:password@, for logs */
	char *id;                /* WebDriver session id */
	char *base;              /* endpoint + "/session/" + id */
	long timeout_ms;
	char err[512];
	char code[64];           /* the W3C error code of the last failed command ("" when none) */
	bool in_frame;           /* commands may go to a frame: switching to the top is not a no-op */
	bool no_cdp;             /* the endpoint has no goog/cdp/execute: screenshots go the W3C way */
};

/*
 * Percent-encodes one path segment (an element id or window handle may come
 * from the language model and must not reshape the URL).
 */
static char *webdriver_path_escape(const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t n = strlen(s);
	char *o = xmalloc(n * 3 + 1), *p = o;

	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		    (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' || c == '~') {
			*p++ = (char)c;
		} else {
			*p++ = '%';
			*p++ = hex[c >> 4];
			*p++ = hex[c & 15];
		}
	}
	*p = '\0';
	return o;
}

static void webdriver_set_error(struct webdriver_session *s, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void webdriver_set_error(struct webdriver_session *s, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(s->err, sizeof(s->err), fmt, ap);
	va_end(ap);
}

/*
 * Turns a W3C error code into our enum.  chromedriver reports a browser that
 * crashed or was closed under it as "unknown error: disconnected…" or
 * "chrome not reachable": the session is as gone as after "invalid session id".
 */
static enum sx_rc webdriver_map_error(const char *code, const char *message)
{
	static const struct {
		const char *code;
		enum sx_rc rc;
	} map[] = {
		{ "invalid session id", SX_ESESSION },
		/* The page's renderer died: what it held is lost, as with a crashed browser. */
		{ "tab crashed", SX_ESESSION },
		{ "no such element", SX_ENOTFOUND },
		{ "stale element reference", SX_ENOTFOUND },
		{ "no such frame", SX_ENOTFOUND },
		{ "no such window", SX_ENOTFOUND },
		{ "timeout", SX_ETIMEOUT },
		{ "script timeout", SX_ETIMEOUT },
	};
	enum sx_rc rc = SX_EWEBDRIVER;

	for (size_t i = 0; i < SX_ARRAY_LEN(map); i++) {
		if (strcmp(code, map[i].code) == 0) {
			rc = map[i].rc;
			break;
		}
	}
	if (rc == SX_EWEBDRIVER && strcmp(code, "unknown error") == 0 &&
	    (strncmp(message, "disconnected", 12) == 0 || strstr(message, "chrome not reachable")))
		rc = SX_ESESSION;
	return rc;
}

/*
 * Parses a WebDriver answer and takes out its "value" (a new reference, or
 * NULL for JSON null).  An error answer is mapped, kept in s->err, and
 * logged with the command path and the error code only.
 */
static enum sx_rc webdriver_parse(struct webdriver_session *s, const char *method, const char *path,
			   const struct http_response *res, json_object **value)
{
	enum sx_rc rc = SX_OK;
	json_tokener *tok = json_tokener_new_ex(WEBDRIVER_JSON_DEPTH);
	json_object *root = NULL, *v = NULL, *code = NULL, *msg = NULL;

	root = json_tokener_parse_ex(tok, sx_buf_str(&res->body), (int)res->body.len);
	if (!root || json_tokener_get_error(tok) != json_tokener_success ||
	    !json_object_is_type(root, json_type_object) ||
	    !json_object_object_get_ex(root, "value", &v)) {
		rc = res->status == 200 ? SX_EPARSE : SX_EWEBDRIVER;
		webdriver_set_error(s, "HTTP %ld with an answer that is not WebDriver JSON", res->status);
		log_warn("webdriver", "msg=\"bad answer\" method=%s path=%s status=%ld",
			 method, sx_log_quote(path), res->status);
		goto out;
	}
	if (json_object_is_type(v, json_type_object))
		json_object_object_get_ex(v, "error", &code);
	if (res->status != 200 || code) {
		const char *c = code ? json_object_get_string(code) : "unknown error";
		const char *m = "";

		if (json_object_object_get_ex(v, "message", &msg) && msg)
			m = json_object_get_string(msg);
		rc = webdriver_map_error(c, m);
		webdriver_set_error(s, "%s: %s", c, m);
		snprintf(s->code, sizeof(s->code), "%s", c);
		log_warn("webdriver", "msg=\"command failed\" method=%s path=%s status=%ld error=%s",
			 method, sx_log_quote(path), res->status, sx_log_quote(c));
		goto out;
	}
	*value = json_object_get(v);
out:
	json_object_put(root);
	json_tokener_free(tok);
	return rc;
}

/*
 * Sends one command to the session: method on base + path with body (may be
 * NULL; not consumed), reading at most max bytes.  On success *value holds
 * the answer's "value" (caller puts; NULL for JSON null).  The error message
 * is reset first, so webdriver_last_error() describes the latest command.  A
 * transport failure means the endpoint is gone: SX_ESESSION.
 */
static enum sx_rc webdriver_cmd(struct webdriver_session *s, const char *method, const char *path,
			 json_object *body, size_t max, long timeout_ms, json_object **value)
{
	enum sx_rc rc;
	struct http_response res;
	struct http_header hdr[] = { { "Content-Type", "application/json; charset=utf-8" } };
	struct http_request req = { 0 };
	char *url = xasprintf("%s%s", s->base, path);
	const char *text = NULL;

	*value = NULL;
	s->err[0] = '\0';
	s->code[0] = '\0';
	if (body)
		text = json_object_to_json_string_ext(body, JSON_C_TO_STRING_PLAIN |
							     JSON_C_TO_STRING_NOSLASHESCAPE);
	else if (strcmp(method, "POST") == 0)
		text = "{}";
	req.method = method;
	req.url = url;
	req.headers = hdr;
	req.nheaders = SX_ARRAY_LEN(hdr);
	req.body = text;
	req.body_len = text ? strlen(text) : 0;
	req.timeout_ms = timeout_ms > 0 ? timeout_ms : s->timeout_ms + WEBDRIVER_HTTP_GRACE_MS;
	req.max_response = max;
	rc = http_perform(s->http, &req, &res);
	if (rc == SX_EHTTP) {
		rc = SX_ESESSION;
		webdriver_set_error(s, "WebDriver endpoint unreachable: %s", res.error);
		log_warn("webdriver", "msg=\"endpoint unreachable\" method=%s path=%s error=%s",
			 method, sx_log_quote(path), sx_log_quote(res.error));
	} else if (rc) {
		webdriver_set_error(s, "%s", res.error);
		log_warn("webdriver", "msg=\"command failed\" method=%s path=%s error=%s",
			 method, sx_log_quote(path), sx_log_quote(res.error));
	} else {
		rc = webdriver_parse(s, method, path, &res, value);
	}
	http_response_release(&res);
	free(url);
	return rc;
}

/* A command whose value must be a string; *out is a copy (caller frees). */
static enum sx_rc webdriver_cmd_string(struct webdriver_session *s, const char *method, const char *path,
				json_object *body, char **out)
{
	enum sx_rc rc;
	json_object *v = NULL;

	*out = NULL;
	rc = webdriver_cmd(s, method, path, body, WEBDRIVER_MAX_SMALL, 0, &v);
	if (rc)
		goto out;
	if (!json_object_is_type(v, json_type_string)) {
		rc = SX_EPARSE;
		webdriver_set_error(s, "%s answered a non-string value", path);
		goto out;
	}
	*out = xstrdup(json_object_get_string(v));
out:
	json_object_put(v);
	return rc;
}

/* A command whose value does not matter (usually null). */
static enum sx_rc webdriver_cmd_void(struct webdriver_session *s, const char *method, const char *path,
			      json_object *body)
{
	json_object *v = NULL;
	enum sx_rc rc = webdriver_cmd(s, method, path, body, WEBDRIVER_MAX_SMALL, 0, &v);

	json_object_put(v);
	return rc;
}

/* An element command: POST /element/{id}/<verb> with body (may be NULL). */
static enum sx_rc webdriver_element_cmd(struct webdriver_session *s, const char *el, const char *verb,
				 json_object *body)
{
	enum sx_rc rc = SX_EINVAL;
	char *esc = NULL, *path = NULL;

	if (!el || !*el) {
		webdriver_set_error(s, "empty element id");
		goto out;
	}
	esc = webdriver_path_escape(el);
	path = xasprintf("/element/%s/%s", esc, verb);
	rc = webdriver_cmd_void(s, "POST", path, body);
out:
	free(path);
	free(esc);
	return rc;
}

static void webdriver_add_str(json_object *o, const char *key, const char *val)
{
	json_object_object_add(o, key, json_object_new_string(val));
}

const char *const webdriver_chromium_flags[] = {
	"--headless=new", "--disable-gpu", "--disable-dev-shm-usage",
	"--no-first-run", "--disable-background-networking",
	"--disable-component-update", "--disable-sync", NULL,
};

/* goog:chromeOptions for a Chromium that chromedriver launches: headless, on this host's flags. */
static void webdriver_launch_options(const struct webdriver_options *opt, int w, int h, json_object *chrome)
{
	json_object *args = json_object_new_array();

	for (size_t i = 0; webdriver_chromium_flags[i]; i++)
		json_object_array_add(args, json_object_new_string(webdriver_chromium_flags[i]));
	if (opt->no_sandbox)
		json_object_array_add(args, json_object_new_string("--no-sandbox"));
	if (opt->user_data_dir) {
		char *a = xasprintf("--user-data-dir=%s", opt->user_data_dir);

		json_object_array_add(args, json_object_new_string(a));
		free(a);
	}
	{
		char *a = xasprintf("--window-size=%d,%d", w, h);

		json_object_array_add(args, json_object_new_string(a));
		free(a);
	}
	if (opt->proxy && *opt->proxy) {
		char *a = xasprintf("--proxy-server=%s", opt->proxy);

		json_object_array_add(args, json_object_new_string(a));
		free(a);
		/*
		 * Chromium sends loopback addresses direct even with a proxy; the
		 * egress proxy must see every request, loopback included.
		 */
		json_object_array_add(args, json_object_new_string("--proxy-bypass-list=<-loopback>"));
	}
	json_object_object_add(chrome, "args", args);
	if (opt->chromium_path)
		webdriver_add_str(chrome, "binary", opt->chromium_path);
	if (opt->download_dir) {
		json_object *prefs = json_object_new_object();

		webdriver_add_str(prefs, "download.default_directory", opt->download_dir);
		json_object_object_add(prefs, "download.prompt_for_download",
				       json_object_new_boolean(0));
		json_object_object_add(chrome, "prefs", prefs);
	}
}

/*
 * The New Session body: capabilities for headless Chromium on this host,
 * launched, or attached to at opt->debugger_address (that browser's owner
 * chose its flags).
 */
static json_object *webdriver_capabilities(const struct webdriver_options *opt, int w, int h, long t)
{
	json_object *root = json_object_new_object();
	json_object *caps = json_object_new_object();
	json_object *always = json_object_new_object();
	json_object *chrome = json_object_new_object();
	json_object *timeouts = json_object_new_object();

	if (opt->debugger_address)
		webdriver_add_str(chrome, "debuggerAddress", opt->debugger_address);
	else
		webdriver_launch_options(opt, w, h, chrome);
	json_object_object_add(timeouts, "pageLoad", json_object_new_int64(t));
	json_object_object_add(timeouts, "script", json_object_new_int64(t));
	json_object_object_add(timeouts, "implicit", json_object_new_int64(0));
	webdriver_add_str(always, "browserName", "chrome");
	webdriver_add_str(always, "pageLoadStrategy", "normal");
	webdriver_add_str(always, "unhandledPromptBehavior", "accept");
	json_object_object_add(always, "goog:chromeOptions", chrome);
	json_object_object_add(always, "timeouts", timeouts);
	json_object_object_add(caps, "alwaysMatch", always);
	json_object_object_add(root, "capabilities", caps);
	return root;
}

/*
 * url without the user:password@ a remote WebDriver's URL may carry
 * (http://user:pass@grid:4444/wd/hub), so logs never hold the password.
 * The host starts after the last '@' of the authority, as a browser reads
 * it, so a password holding an '@' is dropped whole.
 */
static char *endpoint_for_logs(const char *url)
{
	const char *host = strstr(url, "://");
	const char *end, *at = NULL;

	host = host ? host + 3 : url;
	end = host + strcspn(host, "/?#");
	for (const char *c = host; c < end; c++)
		if (*c == '@')
			at = c;
	if (!at)
		return xstrdup(url);
	return xasprintf("%.*s%s", (int)(host - url), url, at + 1);
}

/*
 * Non-positive sizes and timeouts take defaults rather than failing: they
 * come from optional configuration keys.  On failure nothing is kept and
 * the WebDriver message (a browser start-up error, never page content) is
 * logged, since there is no session left to ask webdriver_last_error() of.
 */
enum sx_rc webdriver_session_new(const struct webdriver_options *opt, struct webdriver_session **out)
{
	enum sx_rc rc = SX_EINVAL;
	struct webdriver_session *s = NULL;
	json_object *body = NULL, *v = NULL, *sid;
	size_t n;
	int w, h;

	*out = NULL;
	if (!opt || !opt->endpoint || !*opt->endpoint)
		goto out;
	w = opt->window_width > 0 ? opt->window_width : WEBDRIVER_DEFAULT_WIDTH;
	h = opt->window_height > 0 ? opt->window_height : WEBDRIVER_DEFAULT_HEIGHT;
	s = xcalloc(1, sizeof(*s));
	s->http = http_client_new();
	s->timeout_ms = opt->timeout_ms > 0 ? opt->timeout_ms : WEBDRIVER_DEFAULT_TIMEOUT_MS;
	n = strlen(opt->endpoint);
	while (n && opt->endpoint[n - 1] == '/')
		n--;
	s->endpoint = xstrndup(opt->endpoint, n);
	s->endpoint_log = endpoint_for_logs(s->endpoint);
	/* Until the id is known, commands are relative to the endpoint. */
	s->base = xstrdup(s->endpoint);
	body = webdriver_capabilities(opt, w, h, s->timeout_ms);
	rc = webdriver_cmd(s, "POST", "/session", body, WEBDRIVER_MAX_SMALL,
		    s->timeout_ms + WEBDRIVER_HTTP_GRACE_MS > WEBDRIVER_NEW_SESSION_MIN_MS ?
		    s->timeout_ms + WEBDRIVER_HTTP_GRACE_MS : WEBDRIVER_NEW_SESSION_MIN_MS, &v);
	if (rc) {
		log_warn("webdriver", "msg=\"new session failed\" endpoint=%s error=%s",
			 sx_log_quote(s->endpoint_log), sx_log_quote(s->err));
		goto out;
	}
	if (!json_object_object_get_ex(v, "sessionId", &sid) ||
	    !json_object_is_type(sid, json_type_string) || !*json_object_get_string(sid)) {
		rc = SX_EPARSE;
		log_warn("webdriver", "msg=\"new session answer has no sessionId\" endpoint=%s",
			 sx_log_quote(s->endpoint_log));
		goto out;
	}
	s->id = xstrdup(json_object_get_string(sid));
	free(s->base);
	{
		char *esc = webdriver_path_escape(s->id);

		s->base = xasprintf("%s/session/%s", s->endpoint, esc);
		free(esc);
	}
	log_info("webdriver", "msg=\"session created\" session=%s", sx_log_quote(s->id));
	*out = s;
	s = NULL;
out:
	json_object_put(v);
	json_object_put(body);
	webdriver_session_free(s);
	return rc;
}

/* The DELETE is best effort: a dead driver must not stall the worker. */
enum sx_rc webdriver_session_delete(struct webdriver_session *s)
{
	enum sx_rc rc = SX_OK;
	json_object *v = NULL;

	if (s && s->id) {
		rc = webdriver_cmd(s, "DELETE", "", NULL, WEBDRIVER_MAX_SMALL, WEBDRIVER_DELETE_TIMEOUT_MS, &v);
		json_object_put(v);
		free(s->id);
		s->id = NULL;
	}
	return rc;
}

void webdriver_session_free(struct webdriver_session *s)
{
	if (!s)
		return;
	http_client_free(s->http);
	free(s->endpoint);
	free(s->endpoint_log);
	free(s->id);
	free(s->base);
	free(s);
}

const char *webdriver_last_error(const struct webdriver_session *s)
{
	return s ? s->err : "";
}

enum sx_rc webdriver_navigate(struct webdriver_session *s, const char *url)
{
	enum sx_rc rc = SX_EINVAL;
	json_object *body = NULL;

	if (!url)
		goto out;
	body = json_object_new_object();
	webdriver_add_str(body, "url", url);
	rc = webdriver_cmd_void(s, "POST", "/url", body);
	/* Navigate To leaves the session in the top-level browsing context. */
	if (rc == SX_OK)
		s->in_frame = false;
out:
	json_object_put(body);
	return rc;
}

enum sx_rc webdriver_current_url(struct webdriver_session *s, char **out)
{
	return webdriver_cmd_string(s, "GET", "/url", NULL, out);
}

enum sx_rc webdriver_title(struct webdriver_session *s, char **out)
{
	return webdriver_cmd_string(s, "GET", "/title", NULL, out);
}

enum sx_rc webdriver_execute(struct webdriver_session *s, const char *script, json_object *args,
		      json_object **result)
{
	enum sx_rc rc = SX_EINVAL;
	json_object *body = NULL, *discard = NULL;

	/* A caller that wants no value passes NULL. */
	if (!result)
		result = &discard;
	*result = NULL;
	if (!script || (args && !json_object_is_type(args, json_type_array))) {
		webdriver_set_error(s, "script missing or args not a JSON array");
		goto out;
	}
	body = json_object_new_object();
	webdriver_add_str(body, "script", script);
	/* The caller keeps its reference: the body holds one of its own. */
	json_object_object_add(body, "args", args ? json_object_get(args) : json_object_new_array());
	rc = webdriver_cmd(s, "POST", "/execute/sync", body, WEBDRIVER_MAX_LARGE, 0, result);
out:
	json_object_put(discard);
	json_object_put(body);
	return rc;
}

json_object *webdriver_element_ref(const char *element_id)
{
	json_object *o = json_object_new_object();

	webdriver_add_str(o, WEBDRIVER_ELEMENT_KEY, element_id);
	return o;
}

const char *webdriver_element_id(json_object *o)
{
	json_object *id;

	if (!json_object_is_type(o, json_type_object) ||
	    !json_object_object_get_ex(o, WEBDRIVER_ELEMENT_KEY, &id) ||
	    !json_object_is_type(id, json_type_string))
		return NULL;
	return json_object_get_string(id);
}

enum sx_rc webdriver_find_css(struct webdriver_session *s, const char *css, char **element_id)
{
	enum sx_rc rc = SX_EINVAL;
	json_object *body = json_object_new_object(), *v = NULL;
	const char *id;

	*element_id = NULL;
	if (!css)
		goto out;
	webdriver_add_str(body, "using", "css selector");
	webdriver_add_str(body, "value", css);
	rc = webdriver_cmd(s, "POST", "/element", body, WEBDRIVER_MAX_SMALL, 0, &v);
	if (rc)
		goto out;
	id = webdriver_element_id(v);
	if (!id) {
		rc = SX_EPARSE;
		webdriver_set_error(s, "find element answered no element reference");
		goto out;
	}
	*element_id = xstrdup(id);
out:
	json_object_put(v);
	json_object_put(body);
	return rc;
}

enum sx_rc webdriver_element_click(struct webdriver_session *s, const char *el)
{
	return webdriver_element_cmd(s, el, "click", NULL);
}

enum sx_rc webdriver_element_clear(struct webdriver_session *s, const char *el)
{
	return webdriver_element_cmd(s, el, "clear", NULL);
}

enum sx_rc webdriver_element_send_keys(struct webdriver_session *s, const char *el, const char *text)
{
	enum sx_rc rc = SX_EINVAL;
	json_object *body = json_object_new_object();

	if (text) {
		webdriver_add_str(body, "text", text);
		rc = webdriver_element_cmd(s, el, "value", body);
	}
	json_object_put(body);
	return rc;
}

/*
 * keyDown + keyUp on a key input source, then Release Actions so that no
 * key stays pressed for the next action even when the first call failed;
 * the first error wins.
 */
enum sx_rc webdriver_press_key(struct webdriver_session *s, const char *key)
{
	enum sx_rc rc = SX_EINVAL, rc2;
	json_object *body = NULL, *sources, *src, *acts, *a;
	static const char *const types[] = { "keyDown", "keyUp" };

	if (!key || !*key) {
		webdriver_set_error(s, "empty key");
		goto out;
	}
	body = json_object_new_object();
	sources = json_object_new_array();
	src = json_object_new_object();
	acts = json_object_new_array();
	for (size_t i = 0; i < SX_ARRAY_LEN(types); i++) {
		a = json_object_new_object();
		webdriver_add_str(a, "type", types[i]);
		webdriver_add_str(a, "value", key);
		json_object_array_add(acts, a);
	}
	webdriver_add_str(src, "type", "key");
	webdriver_add_str(src, "id", "sextant-keyboard");
	json_object_object_add(src, "actions", acts);
	json_object_array_add(sources, src);
	json_object_object_add(body, "actions", sources);
	rc = webdriver_cmd_void(s, "POST", "/actions", body);
	rc2 = webdriver_cmd_void(s, "DELETE", "/actions", NULL);
	if (!rc)
		rc = rc2;
out:
	json_object_put(body);
	return rc;
}

/*
 * Decodes a screenshot answer: base64 text (W3C) or {"data": base64} (CDP)
 * that must hold a PNG.  *png is malloc'd (caller frees).
 */
static enum sx_rc webdriver_png_decode(struct webdriver_session *s, json_object *v, unsigned char **png,
				       size_t *len)
{
	static const unsigned char magic[8] = { 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n' };
	unsigned char *bytes = NULL;
	json_object *data = v;
	size_t n = 0;
	enum sx_rc rc = SX_OK;

	if (json_object_is_type(v, json_type_object))
		json_object_object_get_ex(v, "data", &data);
	if (!json_object_is_type(data, json_type_string) ||
	    crypto_base64_decode(json_object_get_string(data), (size_t)json_object_get_string_len(data),
				 &bytes, &n) != SX_OK ||
	    n < sizeof(magic) || memcmp(bytes, magic, sizeof(magic)) != 0) {
		rc = SX_EPARSE;
		webdriver_set_error(s, "screenshot is not base64 PNG data");
		free(bytes);
		bytes = NULL;
		n = 0;
	}
	*png = bytes;
	*len = n;
	return rc;
}

/*
 * Whether the last command failed because the endpoint does not know it
 * (a WebDriver that is not chromedriver, or a hub that does not forward
 * vendor commands), as opposed to failing while running it.
 */
static bool webdriver_unknown_command(const struct webdriver_session *s)
{
	return strcmp(s->code, "unknown command") == 0 || strcmp(s->code, "unknown method") == 0 ||
	       strcmp(s->code, "unsupported operation") == 0 || strncmp(s->err, "HTTP 40", 7) == 0;
}

/*
 * Chrome's Page.captureScreenshot through chromedriver's CDP endpoint: the
 * same viewport PNG as the W3C command without the work chromedriver adds
 * around it.  The format stays PNG: artifacts, recording frames (one
 * format per recording, for ffmpeg's concat demuxer) and the model's image
 * share it.  JPEG with optimizeForSpeed measured as fast as PNG on a
 * lightly loaded machine and about 20% faster under heavy CPU contention
 * (bench/README.md); taking it means JPEG for all three at once.
 */
static enum sx_rc webdriver_cdp(struct webdriver_session *s, const char *cmd, json_object *params, size_t max,
				json_object **v);

static enum sx_rc webdriver_screenshot_cdp(struct webdriver_session *s, json_object **v)
{
	json_object *params = json_object_new_object();

	webdriver_add_str(params, "format", "png");
	return webdriver_cdp(s, "Page.captureScreenshot", params, WEBDRIVER_MAX_LARGE, v);
}

/*
 * The visible part of the page in CSS pixels (Page.getLayoutMetrics): a
 * clip of Page.captureScreenshot is in page coordinates, so a scrolled
 * page's viewport starts at its scroll offset.
 */
static enum sx_rc webdriver_visible_rect(struct webdriver_session *s, double rect[4])
{
	json_object *v = NULL, *vp;
	static const char *const keys[4] = { "pageX", "pageY", "clientWidth", "clientHeight" };
	enum sx_rc rc;

	rc = webdriver_cdp(s, "Page.getLayoutMetrics", json_object_new_object(), WEBDRIVER_MAX_SMALL, &v);
	vp = sx_json_member(v, "cssVisualViewport");
	for (int i = 0; rc == SX_OK && i < 4; i++) {
		json_object *n = sx_json_member(vp, keys[i]);

		if (!json_object_is_type(n, json_type_double) && !json_object_is_type(n, json_type_int))
			rc = SX_EPARSE;
		else
			rect[i] = json_object_get_double(n);
	}
	if (rc == SX_OK && (rect[2] < 1 || rect[3] < 1))
		rc = SX_EPARSE;
	json_object_put(v);
	return rc;
}

/* The viewport captured at scale (< 1) through the CDP endpoint. */
static enum sx_rc webdriver_screenshot_cdp_scaled(struct webdriver_session *s, const double rect[4],
						  double scale, json_object **v)
{
	json_object *params = json_object_new_object(), *clip = json_object_new_object();
	static const char *const keys[4] = { "x", "y", "width", "height" };

	for (int i = 0; i < 4; i++)
		json_object_object_add(clip, keys[i], json_object_new_double(rect[i]));
	json_object_object_add(clip, "scale", json_object_new_double(scale));
	webdriver_add_str(params, "format", "png");
	json_object_object_add(params, "clip", clip);
	return webdriver_cdp(s, "Page.captureScreenshot", params, WEBDRIVER_MAX_LARGE, v);
}

enum sx_rc webdriver_screenshot_width(struct webdriver_session *s, int max_width, unsigned char **png,
				      size_t *len)
{
	double rect[4];
	json_object *v = NULL;
	enum sx_rc rc;

	if (s->no_cdp || max_width <= 0 || webdriver_visible_rect(s, rect) != SX_OK ||
	    rect[2] <= max_width)
		return webdriver_screenshot(s, png, len);
	*png = NULL;
	*len = 0;
	rc = webdriver_screenshot_cdp_scaled(s, rect, max_width / rect[2], &v);
	if (rc == SX_OK)
		rc = webdriver_png_decode(s, v, png, len);
	json_object_put(v);
	return rc;
}

enum sx_rc webdriver_screenshot(struct webdriver_session *s, unsigned char **png, size_t *len)
{
	enum sx_rc rc = SX_EWEBDRIVER;
	json_object *v = NULL;

	*png = NULL;
	*len = 0;
	if (!s->no_cdp)
		rc = webdriver_screenshot_cdp(s, &v);
	/* Not chromedriver (webdriver_cdp marked it): the W3C command, for this session. */
	if (s->no_cdp)
		rc = webdriver_cmd(s, "GET", "/screenshot", NULL, WEBDRIVER_MAX_LARGE, 0, &v);
	if (rc == SX_OK)
		rc = webdriver_png_decode(s, v, png, len);
	json_object_put(v);
	return rc;
}

/* ---- the CDP endpoint ---------------------------------------------------- */

/*
 * Runs the Chrome DevTools command cmd with params (consumed) through
 * chromedriver's goog/cdp/execute route, its answer read into at most max
 * bytes; *v (when v is not NULL) gets the answer's value, which the caller
 * puts.  An endpoint without the route (a WebDriver that is not
 * chromedriver, a hub that does not forward vendor commands) marks the
 * session no_cdp, once and logged; a session so marked sends nothing and
 * gets SX_EWEBDRIVER at once.  Callers test s->no_cdp after a failure and
 * take the W3C way instead.
 */
static enum sx_rc webdriver_cdp(struct webdriver_session *s, const char *cmd, json_object *params, size_t max,
				json_object **v)
{
	json_object *body = NULL, *answer = NULL;
	enum sx_rc rc = SX_EWEBDRIVER;

	if (v)
		*v = NULL;
	if (s->no_cdp) {
		json_object_put(params);
		goto out;
	}
	body = json_object_new_object();
	webdriver_add_str(body, "cmd", cmd);
	json_object_object_add(body, "params", params);
	rc = webdriver_cmd(s, "POST", "/goog/cdp/execute", body, max, 0, &answer);
	if (rc == SX_EWEBDRIVER && webdriver_unknown_command(s)) {
		s->no_cdp = true;
		log_info("webdriver", "msg=\"no CDP endpoint; W3C commands from now on\" cmd=%s endpoint=%s", cmd,
			 sx_log_quote(s->endpoint_log));
	}
	if (v) {
		*v = answer;
		answer = NULL;
	}
out:
	json_object_put(answer);
	json_object_put(body);
	return rc;
}

enum sx_rc webdriver_document_script(struct webdriver_session *s, const char *source)
{
	json_object *p = json_object_new_object();

	webdriver_add_str(p, "source", source);
	return webdriver_cdp(s, "Page.addScriptToEvaluateOnNewDocument", p, WEBDRIVER_MAX_SMALL, NULL);
}

/* ---- typing and clicking through the CDP endpoint ------------------------ */

/*
 * True when text may go in as inserted text: no control character and no
 * WebDriver key code (U+E000 to U+F8FF, lead bytes 0xEE and 0xEF; the rare
 * characters above U+F000 that share them go the WebDriver way too), which
 * only Element Send Keys turns into keys.
 */
static bool webdriver_plain_text(const char *text)
{
	for (const unsigned char *p = (const unsigned char *)text; *p; p++)
		if (*p < 0x20 || *p == 0x7f || *p == 0xee || *p == 0xef)
			return false;
	return *text != '\0';
}

/*
 * One key press of the character c (a UTF-8 sequence) on the focused
 * element: keyDown with its text (keydown, keypress, beforeinput, input)
 * then keyUp.  Letters, digits and space carry their key code and code, as
 * a keyboard's would.
 */
static enum sx_rc webdriver_cdp_key(struct webdriver_session *s, const char *c)
{
	static const char *const types[] = { "keyDown", "keyUp" };
	unsigned char u = (unsigned char)c[0];
	char code[16] = "";
	int vk = 0;
	enum sx_rc rc = SX_OK;

	if (isalpha(u)) {
		vk = toupper(u);
		snprintf(code, sizeof(code), "Key%c", toupper(u));
	} else if (isdigit(u)) {
		vk = u;
		snprintf(code, sizeof(code), "Digit%c", u);
	} else if (u == ' ') {
		vk = ' ';
		snprintf(code, sizeof(code), "Space");
	}
	for (size_t i = 0; rc == SX_OK && i < SX_ARRAY_LEN(types); i++) {
		json_object *p = json_object_new_object();

		webdriver_add_str(p, "type", types[i]);
		webdriver_add_str(p, "key", c);
		if (i == 0) {
			webdriver_add_str(p, "text", c);
			webdriver_add_str(p, "unmodifiedText", c);
		}
		if (*code)
			webdriver_add_str(p, "code", code);
		json_object_object_add(p, "windowsVirtualKeyCode", json_object_new_int(vk));
		rc = webdriver_cdp(s, "Input.dispatchKeyEvent", p, WEBDRIVER_MAX_SMALL, NULL);
	}
	return rc;
}

enum sx_rc webdriver_type_focused(struct webdriver_session *s, const char *el, const char *text)
{
	const char *last, *unsent;
	json_object *p;
	enum sx_rc rc = SX_OK;

	if (!text || s->no_cdp || !webdriver_plain_text(text))
		return webdriver_element_send_keys(s, el, text);
	/* The last character: back from the end over UTF-8 continuation bytes. */
	last = text + strlen(text) - 1;
	while (last > text && ((unsigned char)*last & 0xC0) == 0x80)
		last--;
	unsent = text;
	if (last > text) {
		char *head = xstrndup(text, (size_t)(last - text));

		p = json_object_new_object();
		webdriver_add_str(p, "text", head);
		free(head);
		rc = webdriver_cdp(s, "Input.insertText", p, WEBDRIVER_MAX_SMALL, NULL);
		if (rc == SX_OK)
			unsent = last;
	}
	if (rc == SX_OK)
		rc = webdriver_cdp_key(s, last);
	/* An endpoint without the CDP route gets what is not typed yet the W3C way. */
	if (rc == SX_EWEBDRIVER && s->no_cdp)
		rc = webdriver_element_send_keys(s, el, unsent);
	return rc;
}

enum sx_rc webdriver_click_at(struct webdriver_session *s, const char *el, double x, double y)
{
	static const char *const types[] = { "mousePressed", "mouseReleased" };
	enum sx_rc rc = SX_OK;

	for (size_t i = 0; rc == SX_OK && i < SX_ARRAY_LEN(types); i++) {
		json_object *p = json_object_new_object();

		webdriver_add_str(p, "type", types[i]);
		json_object_object_add(p, "x", json_object_new_double(x));
		json_object_object_add(p, "y", json_object_new_double(y));
		webdriver_add_str(p, "button", "left");
		json_object_object_add(p, "buttons", json_object_new_int(i == 0));
		json_object_object_add(p, "clickCount", json_object_new_int(1));
		rc = webdriver_cdp(s, "Input.dispatchMouseEvent", p, WEBDRIVER_MAX_SMALL, NULL);
	}
	if (rc == SX_EWEBDRIVER && s->no_cdp)
		rc = webdriver_element_click(s, el);
	return rc;
}

/*
 * The session remembers whether it may be in a frame: a switch to the top
 * while it is there already sends nothing.  Any other switch, failed ones
 * included, counts as leaving the top.
 */
enum sx_rc webdriver_switch_frame(struct webdriver_session *s, const char *frame_element_id)
{
	enum sx_rc rc = SX_OK;
	json_object *body = NULL;

	if (!frame_element_id && !s->in_frame)
		goto out;
	body = json_object_new_object();
	json_object_object_add(body, "id",
			       frame_element_id ? webdriver_element_ref(frame_element_id) : NULL);
	rc = webdriver_cmd_void(s, "POST", "/frame", body);
	s->in_frame = frame_element_id || rc;
out:
	json_object_put(body);
	return rc;
}

enum sx_rc webdriver_switch_parent_frame(struct webdriver_session *s)
{
	s->in_frame = true;
	return webdriver_cmd_void(s, "POST", "/frame/parent", NULL);
}

enum sx_rc webdriver_window_handles(struct webdriver_session *s, char ***handles, size_t *n)
{
	enum sx_rc rc;
	json_object *v = NULL;
	char **list = NULL;
	size_t count = 0, i;

	*handles = NULL;
	*n = 0;
	rc = webdriver_cmd(s, "GET", "/window/handles", NULL, WEBDRIVER_MAX_SMALL, 0, &v);
	if (rc)
		goto out;
	if (!json_object_is_type(v, json_type_array)) {
		rc = SX_EPARSE;
		webdriver_set_error(s, "window handles are not an array");
		goto out;
	}
	count = json_object_array_length(v);
	list = xcalloc(count ? count : 1, sizeof(*list));
	for (i = 0; i < count; i++) {
		json_object *h = json_object_array_get_idx(v, i);

		if (!json_object_is_type(h, json_type_string)) {
			rc = SX_EPARSE;
			webdriver_set_error(s, "a window handle is not a string");
			goto out;
		}
		list[i] = xstrdup(json_object_get_string(h));
	}
	*handles = list;
	*n = count;
	list = NULL;
out:
	if (list) {
		for (i = 0; i < count; i++)
			free(list[i]);
		free(list);
	}
	json_object_put(v);
	return rc;
}

enum sx_rc webdriver_current_window(struct webdriver_session *s, char **handle)
{
	return webdriver_cmd_string(s, "GET", "/window", NULL, handle);
}

enum sx_rc webdriver_switch_window(struct webdriver_session *s, const char *handle)
{
	enum sx_rc rc = SX_EINVAL;
	json_object *body = json_object_new_object();

	if (handle) {
		webdriver_add_str(body, "handle", handle);
		rc = webdriver_cmd_void(s, "POST", "/window", body);
		/* Switch To Window selects the window's top-level browsing context. */
		s->in_frame = rc != SX_OK;
	}
	json_object_put(body);
	return rc;
}

enum sx_rc webdriver_close_window(struct webdriver_session *s)
{
	s->in_frame = true;
	return webdriver_cmd_void(s, "DELETE", "/window", NULL);
}
