/*
 * Executing the model's actions (see actions.h).  Element actions find their
 * element again from the scrape id (scrape_locate_op switches into its
 * frame), scrolled into view and prepared in the same script call (a field
 * emptied and focused before typing, a checkbox's state read), act through
 * WebDriver so the page sees real events (typing into a field of the page
 * inserts the text as one edit and presses its last key, through the CDP
 * endpoint: webdriver_type_focused), and switch back to the top frame
 * afterwards.
 * Form controls whose native UI WebDriver cannot type into (date pickers,
 * selects) are set by that one script call, which fires the same
 * input/change events a user's change would.
 */
#include <strings.h>
#include "sx.h"
#include "actions.h"
#include "json.h"
#include "log.h"
#include "scrape.h"
#include "timeutil.h"
#include "webdriver.h"

/* The options one select_option may name at once. */
#define SELECT_MAX_OPTIONS 50

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

bool action_fills_field(enum action_type t)
{
	return t == ACT_INPUT_TEXT || t == ACT_SELECT_OPTION || t == ACT_CHECK || t == ACT_UNCHECK ||
	       t == ACT_UPLOAD_FILE;
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

/* Reads the element's checked state (checked, or aria-checked="true"): true, false, or an error. */
static enum sx_rc element_checked(struct webdriver_session *wd, const char *el, bool *checked)
{
	static const char js_checked[] =
		"return !!arguments[0].checked || arguments[0].getAttribute('aria-checked') === 'true';";
	json_object *args = json_object_new_array(), *res = NULL;
	enum sx_rc rc;

	json_object_array_add(args, webdriver_element_ref(el));
	rc = webdriver_execute(wd, js_checked, args, &res);
	*checked = json_object_get_boolean(res);
	json_object_put(res);
	json_object_put(args);
	return rc;
}

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

/* Native date/time pickers (and color, range) ignore typed keys in headless Chromium. */
static bool takes_no_keys(const char *kind)
{
	return strncmp(kind, "input:date", 10) == 0 || strncmp(kind, "input:time", 10) == 0 ||
	       strcmp(kind, "input:month") == 0 || strcmp(kind, "input:week") == 0 ||
	       strcmp(kind, "input:color") == 0 || strcmp(kind, "input:range") == 0;
}

/*
 * What the look-up script does to the element before the action (locate.js):
 * its op, and the argument the op takes (borrowed from action), or NULL.
 */
static const char *prepare_op(const struct action_env *env, enum action_type t, json_object *action,
			      const char *id, json_object **arg)
{
	json_object *v = NULL;

	*arg = NULL;
	if (t == ACT_SELECT_OPTION) {
		if (!json_object_object_get_ex(action, "option", &v) || !v)
			json_object_object_get_ex(action, "text", &v);
		*arg = v;
		return "select";
	}
	if (t == ACT_INPUT_TEXT) {
		json_object_object_get_ex(action, "text", arg);
		return takes_no_keys(element_kind(env->page, id)) ? "set" : "clear";
	}
	if (t == ACT_CHECK || t == ACT_UNCHECK)
		return "check";
	return "scroll";
}

/* Reads the point [x, y] the look-up gave (page-controlled: checked here); false when there is none. */
static bool click_point(json_object *at, double xy[2])
{
	if (!json_object_is_type(at, json_type_array) || json_object_array_length(at) != 2)
		return false;
	for (size_t i = 0; i < 2; i++) {
		json_object *v = json_object_array_get_idx(at, i);

		if (!json_object_is_type(v, json_type_double) && !json_object_is_type(v, json_type_int))
			return false;
		xy[i] = json_object_get_double(v);
	}
	return true;
}

/*
 * check / uncheck: a click when the state the look-up read (state, the
 * script's {checked, at}) differs, then a check that it changed.  The
 * click goes to the point the look-up found showing the box or its label
 * (webdriver_click_at), else through Element Click.
 */
static enum sx_rc set_checked(struct webdriver_session *wd, const char *id, const char *el,
			      json_object *state, bool want, char *err, size_t errlen)
{
	bool was = json_object_get_boolean(sx_json_member(state, "checked"));
	double xy[2];
	enum sx_rc rc = SX_OK;
	bool now;

	if (was == want)
		goto out;
	if (click_point(sx_json_member(state, "at"), xy))
		rc = webdriver_click_at(wd, el, xy[0], xy[1]);
	else
		rc = webdriver_element_click(wd, el);
	if (rc) {
		set_err(err, errlen, "click on", id, wd);
		goto out;
	}
	rc = element_checked(wd, el, &now);
	if (rc == SX_OK && now != want) {
		snprintf(err, errlen, "element %s did not become %s", id, want ? "checked" : "unchecked");
		rc = SX_ECONFLICT;
	}
out:
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

/*
 * Reads the names of the selected options of listbox id into *texts (the
 * caller puts it) with locate.js's "selection", by the rule its "select"
 * picked them by.
 */
static enum sx_rc listbox_selection(const struct action_env *env, const char *id, json_object **texts)
{
	char *again = NULL;
	enum sx_rc rc;

	rc = scrape_locate_op(env->wd, env->page, id, "selection", NULL, &again, texts);
	free(again);
	return rc;
}

static bool has_string(json_object *arr, const char *s)
{
	for (size_t i = 0; json_object_is_type(arr, json_type_array) && i < json_object_array_length(arr); i++) {
		const char *t = json_object_get_string(json_object_array_get_idx(arr, i));

		if (t && strcmp(t, s) == 0)
			return true;
	}
	return false;
}

/* The first text of want (an array, page-controlled) that now lacks, or NULL. */
static const char *first_missing(json_object *want, json_object *now)
{
	for (size_t i = 0; json_object_is_type(want, json_type_array) && i < json_object_array_length(want); i++) {
		const char *w = json_object_get_string(json_object_array_get_idx(want, i));

		if (w && !has_string(now, w))
			return w;
	}
	return NULL;
}

/*
 * The end of select_option, from what locate.js's "select" answered (value,
 * page-controlled): a <select> is already set; a listbox gets its options
 * clicked, each as a user's click (the page's own handlers run), and is
 * then read back: every option chosen, and every one selected before, must
 * be selected now.
 */
static enum sx_rc select_options(const struct action_env *env, const char *id,
				 json_object *value, char *err, size_t errlen)
{
	struct webdriver_session *wd = env->wd;
	json_object *missing = NULL, *click = NULL, *chosen = NULL, *before = NULL, *now = NULL;
	const char *lost;
	enum sx_rc rc = SX_OK;

	if (json_object_object_get_ex(value, "single", NULL)) {
		snprintf(err, errlen, "element %s holds one option: name one", id);
		rc = SX_EINVAL;
		goto out;
	}
	if (!json_object_object_get_ex(value, "chosen", &chosen) ||
	    !json_object_is_type(chosen, json_type_array)) {
		json_object_object_get_ex(value, "missing", &missing);
		snprintf(err, errlen, "element %s has no option %.120s", id,
			 missing ? json_object_to_json_string(missing) : "of that name");
		rc = SX_ENOTFOUND;
		goto out;
	}
	json_object_object_get_ex(value, "click", &click);
	for (size_t i = 0; !rc && json_object_is_type(click, json_type_array) &&
			   i < json_object_array_length(click); i++) {
		const char *opt = webdriver_element_id(json_object_array_get_idx(click, i));

		rc = opt ? webdriver_element_click(wd, opt) : SX_EPARSE;
		if (rc)
			set_err(err, errlen, "click on an option of", id, wd);
	}
	if (rc || !json_object_is_type(click, json_type_array) || json_object_array_length(click) == 0)
		goto out;
	rc = listbox_selection(env, id, &now);
	json_object_object_get_ex(value, "before", &before);
	lost = rc ? NULL : first_missing(chosen, now);
	if (!rc && !lost && (lost = first_missing(before, now)) != NULL) {
		snprintf(err, errlen, "option \"%.80s\" of %s was unselected by the clicks", lost, id);
		rc = SX_ECONFLICT;
	} else if (lost) {
		snprintf(err, errlen, "option \"%.80s\" of %s is not selected after the click", lost, id);
		rc = SX_ECONFLICT;
	}
out:
	json_object_put(now);
	return rc;
}

/*
 * The action on the element the look-up found and prepared: value is what
 * the script answered (the checked state, the options chosen).
 */
static enum sx_rc act_on(const struct action_env *env, enum action_type t, json_object *action,
			 const char *id, const char *el, json_object *value, char *err, size_t errlen)
{
	struct webdriver_session *wd = env->wd;
	enum sx_rc rc = SX_OK;

	switch (t) {
	case ACT_CLICK:
		rc = webdriver_element_click(wd, el);
		if (rc)
			set_err(err, errlen, "click on", id, wd);
		break;
	case ACT_INPUT_TEXT:
		/*
		 * A picker's value was set by the look-up; other fields were emptied
		 * for typing, and a text field of the page that took the focus gets
		 * the text inserted and its last key pressed (webdriver.h).
		 */
		if (!takes_no_keys(element_kind(env->page, id))) {
			rc = json_object_is_type(value, json_type_boolean) && json_object_get_boolean(value) ?
			     webdriver_type_focused(wd, el, member(action, "text")) :
			     webdriver_element_send_keys(wd, el, member(action, "text"));
			if (rc)
				set_err(err, errlen, "typing into", id, wd);
		}
		break;
	case ACT_SELECT_OPTION:
		rc = select_options(env, id, value, err, errlen);
		break;
	case ACT_CHECK:
	case ACT_UNCHECK:
		rc = set_checked(wd, id, el, value, t == ACT_CHECK, err, errlen);
		break;
	case ACT_UPLOAD_FILE:
		rc = upload_file(env, action, id, el, err, errlen);
		break;
	default:
		rc = SX_EINVAL;
		snprintf(err, errlen, "not an element action");
		break;
	}
	return rc;
}

/* A select_option's option: one string, or an array of 1 to SELECT_MAX_OPTIONS strings. */
static bool options_valid(json_object *action)
{
	json_object *o;
	size_t n;

	if (!json_object_object_get_ex(action, "option", &o) || !json_object_is_type(o, json_type_array))
		return true;
	n = json_object_array_length(o);
	for (size_t i = 0; i < n; i++)
		if (!json_object_is_type(json_object_array_get_idx(o, i), json_type_string))
			return false;
	return n >= 1 && n <= SELECT_MAX_OPTIONS;
}

/* Checks what an element action needs before the page is touched: its text or option. */
static enum sx_rc element_action_valid(enum action_type t, json_object *action, const char *id, char *err,
				       size_t errlen)
{
	enum sx_rc rc = SX_OK;

	if (t == ACT_INPUT_TEXT && !member(action, "text")) {
		snprintf(err, errlen, "input_text on %s has no text", id);
		rc = SX_EINVAL;
	} else if (t == ACT_SELECT_OPTION && !member(action, "option") && !member(action, "text")) {
		snprintf(err, errlen, "select_option on %s has no option", id);
		rc = SX_EINVAL;
	} else if (t == ACT_SELECT_OPTION && !options_valid(action)) {
		snprintf(err, errlen, "select_option on %s: option is a text or a list of 1 to %d texts", id,
			 SELECT_MAX_OPTIONS);
		rc = SX_EINVAL;
	}
	return rc;
}

static enum sx_rc do_element_action(const struct action_env *env, enum action_type t,
				    json_object *action, const char *id, char *err, size_t errlen)
{
	struct webdriver_session *wd = env->wd;
	json_object *arg, *value = NULL;
	const char *op;
	char *el = NULL;
	enum sx_rc rc;

	rc = element_action_valid(t, action, id, err, errlen);
	if (rc)
		goto out;
	op = prepare_op(env, t, action, id, &arg);
	rc = scrape_locate_op(wd, env->page, id, op, arg, &el, &value);
	if (rc == SX_ENOTFOUND) {
		snprintf(err, errlen, "element %s not found on the page%s%.200s", id,
			 *webdriver_last_error(wd) ? ": " : "", webdriver_last_error(wd));
		goto out;
	}
	if (rc) {
		set_err(err, errlen, t == ACT_SELECT_OPTION ? "select on" : t == ACT_INPUT_TEXT ? "typing into" :
			"reaching", id, wd);
		goto out;
	}
	rc = act_on(env, t, action, id, el, value, err, errlen);
out:
	webdriver_switch_frame(wd, NULL);
	json_object_put(value);
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
