/*
 * Executing the model's actions (see actions.h).  Element actions find their
 * element again from the scrape id (scrape_locate switches into its frame),
 * act through WebDriver so the page sees real events, and switch back to the
 * top frame afterwards.  Form controls whose native UI WebDriver cannot type
 * into (date pickers, selects) are set with a script that fires the same
 * input/change events a user's change would.
 */
#include <strings.h>
#include "sx.h"
#include "actions.h"
#include "log.h"
#include "scrape.h"
#include "timeutil.h"
#include "webdriver.h"

static const struct {
	const char *name;
	enum action_type type;
} action_names[] = {
	{ "click", ACT_CLICK },
	{ "input_text", ACT_INPUT_TEXT },
	{ "select_option", ACT_SELECT_OPTION },
	{ "check", ACT_CHECK },
	{ "uncheck", ACT_UNCHECK },
	{ "upload_file", ACT_UPLOAD_FILE },
	{ "keypress", ACT_KEYPRESS },
	{ "scroll", ACT_SCROLL },
	{ "goto_url", ACT_GOTO_URL },
	{ "wait", ACT_WAIT },
	{ "complete", ACT_COMPLETE },
	{ "terminate", ACT_TERMINATE },
	{ "solve_captcha", ACT_SOLVE_CAPTCHA },
};

enum action_type action_type_of(json_object *action)
{
	json_object *v;
	const char *s;

	if (!action || !json_object_object_get_ex(action, "action", &v))
		return ACT_UNKNOWN;
	s = json_object_get_string(v);
	for (size_t i = 0; i < SX_ARRAY_LEN(action_names); i++)
		if (strcasecmp(s, action_names[i].name) == 0)
			return action_names[i].type;
	return ACT_UNKNOWN;
}

const char *action_type_name(enum action_type t)
{
	for (size_t i = 0; i < SX_ARRAY_LEN(action_names); i++)
		if (action_names[i].type == t)
			return action_names[i].name;
	return "unknown";
}

static const char *member(json_object *o, const char *key)
{
	json_object *v;

	if (!json_object_object_get_ex(o, key, &v) || !v)
		return NULL;
	return json_object_get_string(v);
}

void action_signature(json_object *action, char *out, size_t outlen)
{
	const char *el = member(action, "element");
	const char *text = member(action, "text");
	const char *opt = member(action, "option");
	const char *url = member(action, "url");

	snprintf(out, outlen, "%s %s %.40s%.40s%.60s", action_type_name(action_type_of(action)),
		 el ? el : "-", text ? text : "", opt ? opt : "", url ? url : "");
}

/* The element kind the scraper recorded for id ("" when unknown). */
static const char *element_kind(const struct scrape_result *page, const char *id)
{
	json_object *e, *k;

	if (!page || !page->index || !json_object_object_get_ex(page->index, id, &e) ||
	    !json_object_object_get_ex(e, "kind", &k))
		return "";
	return json_object_get_string(k);
}

static void set_err(char *err, size_t errlen, const char *what, const char *id,
		    const struct webdriver_session *wd)
{
	const char *detail = wd ? webdriver_last_error(wd) : "";

	snprintf(err, errlen, "%s %s failed%s%.200s", what, id ? id : "",
		 *detail ? ": " : "", detail);
}

/* Runs a one-argument script on the element; its boolean/string result into *res. */
static enum sx_rc element_script(struct webdriver_session *wd, const char *el, const char *script,
				 json_object *extra, json_object **res)
{
	json_object *args = json_object_new_array();
	enum sx_rc rc;

	json_object_array_add(args, webdriver_element_ref(el));
	if (extra)
		json_object_array_add(args, json_object_get(extra));
	rc = webdriver_execute(wd, script, args, res);
	json_object_put(args);
	return rc;
}

static const char js_set_value[] =
	"var el = arguments[0], v = arguments[1];"
	"var proto = el.tagName === 'TEXTAREA' ? HTMLTextAreaElement.prototype : HTMLInputElement.prototype;"
	"Object.getOwnPropertyDescriptor(proto, 'value').set.call(el, v);"
	"el.dispatchEvent(new Event('input', {bubbles: true}));"
	"el.dispatchEvent(new Event('change', {bubbles: true}));"
	"return el.value;";

static const char js_select[] =
	"var el = arguments[0], want = String(arguments[1]).trim().toLowerCase();"
	"var opts = Array.prototype.slice.call(el.options || []);"
	"var hit = opts.find(function (o) { return o.text.trim().toLowerCase() === want; })"
	" || opts.find(function (o) { return o.value.trim().toLowerCase() === want; })"
	" || opts.find(function (o) { return o.text.trim().toLowerCase().indexOf(want) >= 0; });"
	"if (!hit) return null;"
	"el.value = hit.value; hit.selected = true;"
	"el.dispatchEvent(new Event('input', {bubbles: true}));"
	"el.dispatchEvent(new Event('change', {bubbles: true}));"
	"return hit.text;";

static const char js_checked[] = "return !!arguments[0].checked || arguments[0].getAttribute('aria-checked') === 'true';";

static const char js_scroll_into_view[] = "arguments[0].scrollIntoView({block: 'center', inline: 'nearest'});";

/* WebDriver key codes for the key names a model uses. */
static const char *key_code(const char *name)
{
	static const struct {
		const char *name, *code;
	} keys[] = {
		{ "Enter", "\xee\x80\x87" }, { "Return", "\xee\x80\x86" }, { "Tab", "\xee\x80\x84" },
		{ "Escape", "\xee\x80\x8c" }, { "Esc", "\xee\x80\x8c" }, { "Backspace", "\xee\x80\x83" },
		{ "Delete", "\xee\x80\x97" }, { "Space", " " }, { "ArrowUp", "\xee\x80\x93" },
		{ "ArrowDown", "\xee\x80\x95" }, { "ArrowLeft", "\xee\x80\x92" },
		{ "ArrowRight", "\xee\x80\x94" }, { "PageUp", "\xee\x80\x8e" },
		{ "PageDown", "\xee\x80\x8f" }, { "Home", "\xee\x80\x91" }, { "End", "\xee\x80\x90" },
	};

	for (size_t i = 0; i < SX_ARRAY_LEN(keys); i++)
		if (strcasecmp(name, keys[i].name) == 0)
			return keys[i].code;
	/* A single character is typed as itself. */
	if (strlen(name) == 1)
		return name;
	return NULL;
}

static bool is_http_url(const char *u)
{
	return u && (strncasecmp(u, "http://", 7) == 0 || strncasecmp(u, "https://", 8) == 0);
}

/* input_text: typed keys, or a script for the pickers that ignore them. */
static enum sx_rc input_text(const struct action_env *env, json_object *action, const char *id,
			     const char *el, char *err, size_t errlen)
{
	struct webdriver_session *wd = env->wd;
	const char *kind = element_kind(env->page, id);
	const char *text = member(action, "text");
	json_object *arg = NULL;
	enum sx_rc rc;

	if (!text) {
		snprintf(err, errlen, "input_text on %s has no text", id);
		rc = SX_EINVAL;
		goto out;
	}
	/* Native date/time pickers ignore typed keys in headless Chromium. */
	if (strncmp(kind, "input:date", 10) == 0 || strncmp(kind, "input:time", 10) == 0 ||
	    strcmp(kind, "input:month") == 0 || strcmp(kind, "input:week") == 0 ||
	    strcmp(kind, "input:color") == 0 || strcmp(kind, "input:range") == 0) {
		arg = json_object_new_string(text);
		rc = element_script(wd, el, js_set_value, arg, NULL);
	} else {
		rc = webdriver_element_clear(wd, el);
		if (rc == SX_OK || rc == SX_EWEBDRIVER)
			rc = webdriver_element_send_keys(wd, el, text);
	}
	if (rc)
		set_err(err, errlen, "typing into", id, wd);
out:
	json_object_put(arg);
	return rc;
}

/* select_option: by visible text, then value, then a partial text match. */
static enum sx_rc select_option(struct webdriver_session *wd, json_object *action, const char *id,
				const char *el, char *err, size_t errlen)
{
	const char *opt = member(action, "option");
	json_object *res = NULL, *arg = NULL;
	enum sx_rc rc;

	if (!opt)
		opt = member(action, "text");
	if (!opt) {
		snprintf(err, errlen, "select_option on %s has no option", id);
		rc = SX_EINVAL;
		goto out;
	}
	arg = json_object_new_string(opt);
	rc = element_script(wd, el, js_select, arg, &res);
	if (rc) {
		set_err(err, errlen, "select on", id, wd);
	} else if (!res) {
		snprintf(err, errlen, "element %s has no option \"%.80s\"", id, opt);
		rc = SX_ENOTFOUND;
	}
out:
	json_object_put(res);
	json_object_put(arg);
	return rc;
}

/* check / uncheck: a click when the state differs, then a check that it changed. */
static enum sx_rc set_checked(struct webdriver_session *wd, const char *id, const char *el, bool want,
			      char *err, size_t errlen)
{
	json_object *res = NULL;
	enum sx_rc rc;

	rc = element_script(wd, el, js_checked, NULL, &res);
	if (rc) {
		set_err(err, errlen, "reading", id, wd);
		goto out;
	}
	if (json_object_get_boolean(res) == want)
		goto out;
	rc = webdriver_element_click(wd, el);
	if (rc) {
		set_err(err, errlen, "click on", id, wd);
		goto out;
	}
	json_object_put(res);
	res = NULL;
	rc = element_script(wd, el, js_checked, NULL, &res);
	if (rc == SX_OK && json_object_get_boolean(res) != want) {
		snprintf(err, errlen, "element %s did not become %s", id, want ? "checked" : "unchecked");
		rc = SX_ECONFLICT;
	}
out:
	json_object_put(res);
	return rc;
}

/* upload_file: the file is downloaded into the work directory, then attached. */
static enum sx_rc upload_file(const struct action_env *env, json_object *action, const char *id,
			      const char *el, char *err, size_t errlen)
{
	const char *url = member(action, "url");
	const char *base;
	char name[128], *path = NULL;
	enum sx_rc rc;

	if (!is_http_url(url)) {
		snprintf(err, errlen, "upload_file on %s needs an http(s) url", id);
		rc = SX_EINVAL;
		goto out;
	}
	base = strrchr(url, '/');
	snprintf(name, sizeof(name), "%.100s", base && base[1] ? base + 1 : "upload.bin");
	for (char *p = name; *p; p++)
		if (*p == '?' || *p == '#' || *p == '/' || *p == '\\')
			*p = '_';
	path = xasprintf("%s/%s", env->work_dir, name);
	rc = env->download ? env->download(env->download_arg, url, path, err, errlen) : SX_EINVAL;
	if (rc)
		goto out;
	rc = webdriver_element_send_keys(env->wd, el, path);
	if (rc)
		set_err(err, errlen, "attaching the file to", id, env->wd);
out:
	free(path);
	return rc;
}

static enum sx_rc do_element_action(const struct action_env *env, enum action_type t,
				    json_object *action, const char *id, char *err, size_t errlen)
{
	struct webdriver_session *wd = env->wd;
	char *el = NULL;
	enum sx_rc rc;

	rc = scrape_locate(wd, env->page, id, &el);
	if (rc) {
		snprintf(err, errlen, "element %s not found on the page%s%.200s", id,
			 *webdriver_last_error(wd) ? ": " : "", webdriver_last_error(wd));
		goto out;
	}
	element_script(wd, el, js_scroll_into_view, NULL, NULL);
	switch (t) {
	case ACT_CLICK:
		rc = webdriver_element_click(wd, el);
		if (rc)
			set_err(err, errlen, "click on", id, wd);
		break;
	case ACT_INPUT_TEXT:
		rc = input_text(env, action, id, el, err, errlen);
		break;
	case ACT_SELECT_OPTION:
		rc = select_option(wd, action, id, el, err, errlen);
		break;
	case ACT_CHECK:
	case ACT_UNCHECK:
		rc = set_checked(wd, id, el, t == ACT_CHECK, err, errlen);
		break;
	case ACT_UPLOAD_FILE:
		rc = upload_file(env, action, id, el, err, errlen);
		break;
	default:
		rc = SX_EINVAL;
		snprintf(err, errlen, "not an element action");
		break;
	}
out:
	webdriver_switch_frame(wd, NULL);
	free(el);
	return rc;
}

/* keypress: on an element when one is named, else on the page. */
static enum sx_rc keypress(const struct action_env *env, json_object *action, const char *id,
			   char *err, size_t errlen)
{
	const char *key = member(action, "key");
	const char *code = key ? key_code(key) : NULL;
	char *el = NULL;
	enum sx_rc rc;

	if (!code) {
		snprintf(err, errlen, "unknown key \"%.40s\"", key ? key : "");
		rc = SX_EINVAL;
		goto out;
	}
	if (id && *id) {
		rc = scrape_locate(env->wd, env->page, id, &el);
		if (rc == SX_OK)
			rc = webdriver_element_send_keys(env->wd, el, code);
		webdriver_switch_frame(env->wd, NULL);
	} else {
		rc = webdriver_press_key(env->wd, code);
	}
	if (rc)
		set_err(err, errlen, "key press", id, env->wd);
out:
	free(el);
	return rc;
}

static enum sx_rc scroll(const struct action_env *env, json_object *action, char *err, size_t errlen)
{
	const char *dir = member(action, "direction");
	json_object *args = json_object_new_array();
	enum sx_rc rc;

	json_object_array_add(args, json_object_new_int(dir && strcasecmp(dir, "up") == 0 ? -1 : 1));
	rc = webdriver_execute(env->wd, "window.scrollBy(0, arguments[0] * window.innerHeight * 0.8);",
			       args, NULL);
	json_object_put(args);
	if (rc)
		set_err(err, errlen, "scroll", NULL, env->wd);
	return rc;
}

static enum sx_rc goto_url(const struct action_env *env, json_object *action, char *err, size_t errlen)
{
	const char *url = member(action, "url");
	enum sx_rc rc = SX_EINVAL;

	if (!is_http_url(url)) {
		snprintf(err, errlen, "goto_url needs an http(s) url");
		goto out;
	}
	rc = webdriver_navigate(env->wd, url);
	if (rc)
		set_err(err, errlen, "navigation to", url, env->wd);
out:
	return rc;
}

/* wait: 1 to 10 seconds, ending early when *env->stop is set. */
static enum sx_rc wait_action(const struct action_env *env, json_object *action)
{
	json_object *v;
	long long s = 1;

	if (json_object_object_get_ex(action, "seconds", &v))
		s = json_object_get_int64(v);
	if (s < 1)
		s = 1;
	if (s > 10)
		s = 10;
	if (env->wait)
		env->wait(env->wait_arg, s * 1000, env->stop);
	else
		sx_sleep_ms(s * 1000, env->stop);
	return SX_OK;
}

enum sx_rc action_execute(const struct action_env *env, json_object *action, char *err, size_t errlen)
{
	enum action_type t = action_type_of(action);
	const char *id = member(action, "element");
	enum sx_rc rc = SX_OK;

	err[0] = '\0';
	switch (t) {
	case ACT_CLICK:
	case ACT_INPUT_TEXT:
	case ACT_SELECT_OPTION:
	case ACT_CHECK:
	case ACT_UNCHECK:
	case ACT_UPLOAD_FILE:
		if (!id || !*id) {
			snprintf(err, errlen, "%s needs an element id", action_type_name(t));
			rc = SX_EINVAL;
			break;
		}
		rc = do_element_action(env, t, action, id, err, errlen);
		break;
	case ACT_KEYPRESS:
		rc = keypress(env, action, id, err, errlen);
		break;
	case ACT_SCROLL:
		rc = scroll(env, action, err, errlen);
		break;
	case ACT_GOTO_URL:
		rc = goto_url(env, action, err, errlen);
		break;
	case ACT_WAIT:
		rc = wait_action(env, action);
		break;
	case ACT_COMPLETE:
	case ACT_TERMINATE:
	case ACT_SOLVE_CAPTCHA:
		break;
	case ACT_UNKNOWN:
	default:
		snprintf(err, errlen, "unknown action \"%.40s\"", member(action, "action") ? member(action, "action") : "");
		rc = SX_EINVAL;
		break;
	}
	return rc;
}
