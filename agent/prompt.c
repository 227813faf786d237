/*
 * The prompt texts.  Everything the model must obey is in the system
 * prompt; the user prompt carries only the facts of this step, laid out the
 * same way every time so that the model (and a reader of the artifacts)
 * finds each part under its heading.
 */
#include "sx.h"
#include "buf.h"
#include "prompt.h"

/*
 * Prompts are built from inputs that are capped upstream (request body,
 * element list, page text), so hitting this is a broken invariant.
 */
#define PROMPT_MAX (256u << 20)

static const char decide_system[] =
	PROMPT_MARK_DECIDE "\n"
	"You operate a web browser for a user. Each step shows the goal, the user's facts (the "
	"navigation payload), earlier actions with their results, and the current page as a list of "
	"elements (and maybe a screenshot). Choose the next actions.\n"
	"\n"
	"Answer with ONLY a JSON object, no prose, no code fences:\n"
	"{\"reasoning\":\"why\",\"actions\":[...],\"verification_code_needed\":false}\n"
	"Actions (each may add \"reasoning\"):\n"
	"{\"action\":\"click\",\"element\":\"e12\"}\n"
	"{\"action\":\"input_text\",\"element\":\"e3\",\"text\":\"...\"}\n"
	"{\"action\":\"select_option\",\"element\":\"e5\",\"option\":\"visible option text\"} (\"option\":"
	"[\"a\",\"b\"] adds several to a multiple select or listbox)\n"
	"{\"action\":\"check\",\"element\":\"e7\"} or \"uncheck\"\n"
	"{\"action\":\"upload_file\",\"element\":\"e9\",\"url\":\"https://...\"}\n"
	"{\"action\":\"keypress\",\"key\":\"Enter\",\"element\":\"e3\"} (element optional)\n"
	"{\"action\":\"scroll\",\"direction\":\"down\"} or \"up\"\n"
	"{\"action\":\"goto_url\",\"url\":\"https://...\"}\n"
	"{\"action\":\"wait\",\"seconds\":2} (1-10)\n"
	"{\"action\":\"complete\"}\n"
	"{\"action\":\"terminate\",\"reason\":\"...\"}\n"
	"{\"action\":\"solve_captcha\"}\n"
	"Element lines: [ID] KIND \"LABEL\" then value, options=[...] and state; row=\"...\" or in=\"...\" "
	"tells apart elements with the same label. The page text starts with any open dialog or message.\n"
	"\n"
	"Rules:\n"
	"1. Use only element ids that appear in the element list of this step.\n"
	"2. Type or choose values from the payload, copied exactly. Never invent personal data "
	"(names, e-mails, phones, addresses, dates, identity numbers, passwords); if a required "
	"value is missing, terminate and name it.\n"
	"3. Several actions per step are fine, in a person's order (fill, then submit); an action "
	"that changes the page must be the last.\n"
	"4. select_option takes an option's visible text; click radio buttons; check/uncheck "
	"checkboxes.\n"
	"5. complete only when the page shows the goal achieved (e.g. a confirmation), never with "
	"actions whose effect is still to come.\n"
	"6. terminate with a specific reason when the goal cannot be achieved.\n"
	"7. solve_captcha when a CAPTCHA blocks the way.\n"
	"8. Set verification_code_needed to true when the page asks for a one-time or two-factor "
	"code you were not given (actions may then be empty). When the prompt ends with "
	"\"Verification code to enter: ...\", type that code into the code field and submit.\n"
	"9. If your previous actions did not change the page, do not repeat them: try something "
	"else, or terminate.\n";

static const char verify_system[] =
	PROMPT_MARK_VERIFY "\n"
	"You check whether a web browser task has achieved its goal, by looking at the current "
	"page: its URL, title, the lines of its visible text that bear on the goal (\"…\" marks "
	"lines left out) and, when available, a screenshot.\n"
	"\n"
	"Answer with ONLY a JSON object, with no prose and no code fences, of this shape:\n"
	"{\"goal_achieved\": true, \"reasoning\": \"the evidence on the page\"}\n"
	"\n"
	"goal_achieved is true only when the page shows evidence that the goal has been achieved, "
	"such as a confirmation or thank-you message, or the requested page or state. A form that "
	"is filled in but not yet submitted, a page showing validation errors, or a page that "
	"merely looks unchanged is not evidence: answer false and say what is missing.\n";

static const char verify_extract_system[] =
	PROMPT_MARK_VERIFY_EXTRACT "\n"
	"You check whether a web browser task has achieved its goal and, when it has, extract "
	"information from the page for the user. You see the page's URL, title, the lines of its "
	"visible text and interactive elements that bear on the goal and on the data asked for "
	"(\"…\" marks lines left out) and, when available, a screenshot.\n"
	"\n"
	"Answer with ONLY a JSON object, with no prose and no code fences, of this shape:\n"
	"{\"goal_achieved\": true, \"reasoning\": \"the evidence on the page\", \"extracted\": "
	"<the extracted JSON value>}\n"
	"\n"
	"goal_achieved is true only when the page shows evidence that the goal has been achieved, "
	"such as a confirmation or thank-you message, or the requested page or state. A form that "
	"is filled in but not yet submitted, a page showing validation errors, or a page that "
	"merely looks unchanged is not evidence: answer false, say what is missing, and set "
	"extracted to null.\n"
	"When goal_achieved is true, extracted is the data asked for. When a JSON Schema is given, "
	"it must match it exactly: the types, the required properties, the allowed values, and no "
	"properties it does not allow. Take every value from the page; never invent one. When a "
	"piece of information is not on the page, use null if the schema allows it, and otherwise "
	"the closest truthful value the schema allows.\n";

static const char extract_system[] =
	PROMPT_MARK_EXTRACT "\n"
	"You extract information from a web page for a user: its URL, title, and the lines of its "
	"visible text and interactive elements that bear on what is asked (\"…\" marks lines left "
	"out).\n"
	"\n"
	"Answer with ONLY the extracted JSON value, with no prose and no code fences. When a JSON "
	"Schema is given, the value must match it exactly: the types, the required properties, the "
	"allowed values, and no properties it does not allow. Take every value from the page; never "
	"invent one. When a piece of information is not on the page, use null if the schema allows "
	"it, and otherwise the closest truthful value the schema allows.\n";

static const char start_url_system[] =
	PROMPT_MARK_START_URL "\n"
	"You choose the web page where a browser task starts. You are given the user's goal; a web "
	"browser will open the page you choose, and an agent will then work towards the goal from "
	"there.\n"
	"\n"
	"Answer with ONLY a JSON object, with no prose and no code fences, of this shape:\n"
	"{\"url\": \"https://example.com/page\", \"reasoning\": \"why this page\"}\n"
	"\n"
	"The url must be one absolute http or https URL of a public web site: the page the goal "
	"names, or else the home page or search page of the site best suited to the goal. Never "
	"invent a deep link you are not sure exists; prefer the site's home page.\n";

static const char errors_system[] =
	PROMPT_MARK_ERRORS "\n"
	"A web browser task has failed or been stopped. The user defined error codes, each with the "
	"condition under which it applies. You decide which of them apply, from the reason the task "
	"ended, the actions taken and the last page seen.\n"
	"\n"
	"Answer with ONLY a JSON object, with no prose and no code fences, of this shape:\n"
	"{\"reasoning\": \"why\", \"errors\": [{\"error_code\": \"a code from the list\", "
	"\"reasoning\": \"why it applies, specifically\", \"confidence_float\": 0.9}]}\n"
	"\n"
	"Use only codes from the user's list, never another. confidence_float is from 0.0 (no "
	"confidence) to 1.0 (certain). When no code's condition is met, answer \"errors\": [].\n";

/* Appends or aborts: see PROMPT_MAX. */
static void put(struct sx_buf *b, const char *s)
{
	if (sx_buf_puts(b, s) != SX_OK)
		abort();
}

static void putf(struct sx_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void putf(struct sx_buf *b, const char *fmt, ...)
{
	va_list ap;
	enum sx_rc rc;

	va_start(ap, fmt);
	rc = sx_buf_vprintf(b, fmt, ap);
	va_end(ap);
	if (rc != SX_OK)
		abort();
}

static bool blank(const char *s)
{
	bool empty = true;

	for (; s && *s && empty; s++)
		if (*s != ' ' && *s != '\t' && *s != '\n' && *s != '\r')
			empty = false;
	return empty;
}

/* "Heading:\n" then the text (or the fallback), ending with a blank line. */
static void section(struct sx_buf *b, const char *heading, const char *text, const char *fallback)
{
	size_t n;

	putf(b, "%s:\n", heading);
	if (blank(text)) {
		put(b, fallback);
		put(b, "\n");
	} else {
		put(b, text);
		n = strlen(text);
		if (text[n - 1] != '\n')
			put(b, "\n");
	}
	put(b, "\n");
}

/* The history, one numbered line per non-empty input line. */
static void history_section(struct sx_buf *b, const char *history)
{
	const char *p = history, *nl;
	int i = 0;

	put(b, "Earlier actions and their results:\n");
	while (p && *p) {
		nl = strchr(p, '\n');
		if (!nl)
			nl = p + strlen(p);
		if (nl > p) {
			char *line = xstrndup(p, (size_t)(nl - p));

			if (!blank(line))
				putf(b, "%d. %s\n", ++i, line);
			free(line);
		}
		p = *nl ? nl + 1 : nl;
	}
	if (i == 0)
		put(b, "None: this is the first step.\n");
	put(b, "\n");
}

static void page_section(struct sx_buf *b, const struct prompt_ctx *ctx)
{
	put(b, "Current page:\n");
	putf(b, "URL: %s\n", ctx->url ? ctx->url : "(unknown)");
	putf(b, "Title: %s\n\n", ctx->title ? ctx->title : "");
	/* The element lines go in verbatim: the ids in them are what the model must use. */
	if (!ctx->no_elements)
		section(b, "Interactive elements", ctx->elements, "(no interactive elements found)");
	if (ctx->page_text)
		section(b, "Visible page text", ctx->page_text, "(no visible text)");
}

static char *finish(struct sx_buf *b)
{
	char *s = sx_buf_detach(b, NULL);

	sx_buf_release(b);
	return s;
}

char *prompt_system_decide(void)
{
	return xstrdup(decide_system);
}

char *prompt_system_verify(void)
{
	return xstrdup(verify_system);
}

char *prompt_system_verify_extract(void)
{
	return xstrdup(verify_extract_system);
}

char *prompt_system_extract(void)
{
	return xstrdup(extract_system);
}

char *prompt_system_start_url(void)
{
	return xstrdup(start_url_system);
}

char *prompt_system_errors(void)
{
	return xstrdup(errors_system);
}

/* The task's error codes, and how a terminate action names those that apply. */
static void error_codes_section(struct sx_buf *b, const char *codes_json)
{
	section(b, "Error codes (code: the condition under which it applies, as JSON)", codes_json, "");
	put(b, "When you terminate, add to the terminate action \"errors\": [{\"error_code\": "
	    "\"a code above\", \"reasoning\": \"why it applies, specifically\", "
	    "\"confidence_float\": 0.9}] with each code whose condition is met (confidence_float "
	    "from 0.0 to 1.0), or [] when none is. Use only the codes above.\n\n");
}

char *prompt_user_decide(const struct prompt_ctx *ctx)
{
	struct sx_buf b;

	sx_buf_init(&b, PROMPT_MAX);
	section(&b, "Goal", ctx->navigation_goal,
		"(none: there is nothing to do on the page but extract the data below; answer complete)");
	if (!blank(ctx->data_extraction_goal))
		section(&b, "Data to extract once the goal is achieved (done separately; do not "
			"type it anywhere)", ctx->data_extraction_goal, "");
	section(&b, "Navigation payload (the facts to use, as JSON)", ctx->payload_json, "(none)");
	if (ctx->max_steps > 0)
		putf(&b, "This is step %d of at most %d.\n\n", ctx->step + 1, ctx->max_steps);
	else
		putf(&b, "This is step %d.\n\n", ctx->step + 1);
	history_section(&b, ctx->history);
	if (!blank(ctx->error_codes_json))
		error_codes_section(&b, ctx->error_codes_json);
	if (ctx->loop_warning)
		put(&b, "WARNING: your last action did not change the page. Do not repeat it: try "
			"something different, or terminate with a specific reason.\n\n");
	page_section(&b, ctx);
	put(&b, "Answer with the JSON object only.\n");
	return finish(&b);
}

/* What a verification weighs besides the page: the goal, the facts used, the actions taken. */
static void what_was_done(struct sx_buf *b, const struct prompt_ctx *ctx)
{
	section(b, "Goal", ctx->navigation_goal, "(none)");
	section(b, "Navigation payload (the facts the task used, as JSON)", ctx->payload_json,
		"(none)");
	history_section(b, ctx->history);
}

char *prompt_user_verify(const struct prompt_ctx *ctx)
{
	struct sx_buf b;

	sx_buf_init(&b, PROMPT_MAX);
	what_was_done(&b, ctx);
	page_section(&b, ctx);
	put(&b, "Has the goal been achieved? Answer with the JSON object only.\n");
	return finish(&b);
}

char *prompt_user_verify_extract(const struct prompt_ctx *ctx, const char *schema_json)
{
	struct sx_buf b;

	sx_buf_init(&b, PROMPT_MAX);
	what_was_done(&b, ctx);
	section(&b, "Data to extract once the goal is achieved", ctx->data_extraction_goal,
		"(none given: extract what the JSON Schema describes)");
	if (!blank(schema_json))
		section(&b, "The extracted value must match this JSON Schema", schema_json, "");
	page_section(&b, ctx);
	put(&b, "Has the goal been achieved, and what is the data? Answer with the JSON object "
		"only.\n");
	return finish(&b);
}

char *prompt_user_extract(const struct prompt_ctx *ctx, const char *schema_json,
			  const char *repair_error)
{
	struct sx_buf b;

	sx_buf_init(&b, PROMPT_MAX);
	section(&b, "Data to extract", ctx->data_extraction_goal, "(none)");
	if (!blank(ctx->navigation_goal))
		section(&b, "The task's goal, for context", ctx->navigation_goal, "");
	if (!blank(ctx->payload_json))
		section(&b, "Navigation payload (the facts the task used, as JSON)",
			ctx->payload_json, "");
	if (!blank(schema_json))
		section(&b, "The answer must match this JSON Schema", schema_json, "");
	page_section(&b, ctx);
	if (!blank(repair_error))
		putf(&b, "Your previous answer was rejected: %s\nAnswer again with a corrected JSON "
		     "value that fixes this.\n\n", repair_error);
	put(&b, "Answer with the extracted JSON value only.\n");
	return finish(&b);
}

char *prompt_user_start_url(const struct prompt_ctx *ctx)
{
	struct sx_buf b;

	sx_buf_init(&b, PROMPT_MAX);
	section(&b, "Goal", ctx->navigation_goal, "(none)");
	if (!blank(ctx->data_extraction_goal))
		section(&b, "Data to extract", ctx->data_extraction_goal, "");
	put(&b, "Where should the browser start? Answer with the JSON object only.\n");
	return finish(&b);
}

char *prompt_user_errors(const struct prompt_ctx *ctx, const char *failure)
{
	struct sx_buf b;

	sx_buf_init(&b, PROMPT_MAX);
	section(&b, "Error codes (code: the condition under which it applies, as JSON)",
		ctx->error_codes_json, "(none)");
	section(&b, "Why the task ended", failure, "(unknown)");
	section(&b, "Goal", ctx->navigation_goal, "(none)");
	section(&b, "Navigation payload (the facts the task used, as JSON)", ctx->payload_json,
		"(none)");
	history_section(&b, ctx->history);
	page_section(&b, ctx);
	put(&b, "Which error codes apply? Answer with the JSON object only.\n");
	return finish(&b);
}
