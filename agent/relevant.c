/*
 * Choosing the lines of a page that matter (see relevant.h).  Words are
 * ASCII letters and digits, compared without case; a line's score is how
 * many distinct goal words it contains.
 */
#include <ctype.h>
#include <string.h>
#include <strings.h>

#include "sx.h"
#include "buf.h"
#include "relevant.h"

#define RELEVANT_MAX_WORDS 32
#define RELEVANT_WORD_MAX 32
/* The share of the budget kept for the page's first lines. */
#define RELEVANT_HEAD_SHARE 8
/* The weight of a run of goal words that names a thing ("Summit Ridge 3 Tent"). */
#define RELEVANT_NAMED_MIN 3

struct line {
	const char *at;
	size_t len;
	int score;
	int phrase;             /* the weight of the longest run of the goal's words in a row */
	bool keep;
};

/* The goal as a sequence of tokens, for the phrase it names (relevant_data_lines). */
#define RELEVANT_MAX_TOKENS 64
struct goal_tokens {
	char t[RELEVANT_MAX_TOKENS][RELEVANT_WORD_MAX];
	bool weighs[RELEVANT_MAX_TOKENS];   /* a content word or a number, not "of" or "the" */
	size_t n;
};

/* A goal read once for scoring many lines: its words, and its tokens for the phrase. */
struct relevant_goal {
	char words[RELEVANT_MAX_WORDS][RELEVANT_WORD_MAX];
	size_t nwords;
	struct goal_tokens tokens;
};

/* Words that say how to ask, not what about. */
static bool is_filler(const char *w)
{
	static const char *const filler[] = {
		"the", "and", "for", "with", "from", "this", "that", "what", "which", "into", "page",
		"extract", "find", "get", "show", "shown", "give", "list", "all", "its", "are", "was",
		"information", "data", "details", "value", "values", "please", "current", "about",
	};

	for (size_t i = 0; i < SX_ARRAY_LEN(filler); i++)
		if (strcmp(w, filler[i]) == 0)
			return true;
	return false;
}

/* The distinct goal words (lower case, 3+ characters, not filler) into words; their count. */
static size_t goal_words(const char *goal, char words[][RELEVANT_WORD_MAX])
{
	size_t n = 0;

	while (goal && *goal && n < RELEVANT_MAX_WORDS) {
		char w[RELEVANT_WORD_MAX];
		size_t len = 0;
		bool dup = false;

		while (*goal && !isalnum((unsigned char)*goal))
			goal++;
		while (isalnum((unsigned char)*goal)) {
			if (len + 1 < sizeof(w))
				w[len++] = (char)tolower((unsigned char)*goal);
			goal++;
		}
		w[len] = '\0';
		for (size_t i = 0; i < n && !dup; i++)
			dup = strcmp(words[i], w) == 0;
		if (len >= 3 && !dup && !is_filler(w))
			memcpy(words[n++], w, len + 1);
	}
	return n;
}

/*
 * The next token (a run of ASCII letters and digits, lower-cased and cut
 * to RELEVANT_WORD_MAX - 1) at or after *p and before end, into w; false
 * when there is none.  *p moves past it.
 */
static bool next_token(const char **p, const char *end, char w[RELEVANT_WORD_MAX])
{
	size_t len = 0;

	while (*p < end && !isalnum((unsigned char)**p))
		(*p)++;
	if (*p >= end)
		return false;
	while (*p < end && isalnum((unsigned char)**p)) {
		if (len + 1 < RELEVANT_WORD_MAX)
			w[len++] = (char)tolower((unsigned char)**p);
		(*p)++;
	}
	w[len] = '\0';
	return true;
}

/* A token that carries meaning in a phrase: a number, or a word of 3+ letters that is not filler. */
static bool token_weighs(const char *w)
{
	return isdigit((unsigned char)w[0]) || (strlen(w) >= 3 && !is_filler(w));
}

static void goal_tokens_init(struct goal_tokens *g, const char *goal)
{
	const char *end = goal ? goal + strlen(goal) : NULL;

	g->n = 0;
	while (goal && g->n < RELEVANT_MAX_TOKENS && next_token(&goal, end, g->t[g->n])) {
		g->weighs[g->n] = token_weighs(g->t[g->n]);
		g->n++;
	}
}

/*
 * The longest run of the goal's tokens that the line (len bytes at s) holds
 * in the same order, one after the other, weighed by the tokens in it that
 * carry meaning: "Summit Ridge 3 Tent $349.00" holds 4 of "the price of
 * the Summit Ridge 3 Tent", "Summit Ridge 1 Tent" 2.
 */
static int phrase_weight(const struct goal_tokens *g, const char *s, size_t len)
{
	int prev[RELEVANT_MAX_TOKENS + 1] = { 0 }, cur[RELEVANT_MAX_TOKENS + 1];
	const char *p = s, *end = s + len;
	char w[RELEVANT_WORD_MAX];
	int best = 0;

	while (g->n && next_token(&p, end, w)) {
		cur[0] = 0;
		for (size_t i = 0; i < g->n; i++) {
			cur[i + 1] = strcmp(w, g->t[i]) == 0 ? prev[i] + g->weighs[i] : 0;
			if (cur[i + 1] > best)
				best = cur[i + 1];
		}
		memcpy(prev, cur, sizeof(prev));
	}
	return best;
}

/* True when the line (len bytes at s) contains w, ignoring case. */
static bool line_has(const char *s, size_t len, const char *w)
{
	size_t wl = strlen(w);

	for (size_t i = 0; i + wl <= len; i++)
		if (strncasecmp(s + i, w, wl) == 0)
			return true;
	return false;
}

/* The length of the next line at p, cut at max bytes on a character boundary. */
static size_t line_len(const char *p, size_t max)
{
	const char *nl = strchr(p, '\n');
	size_t len = nl ? (size_t)(nl - p) : strlen(p);

	if (len > max) {
		len = max;
		while (len > 0 && ((unsigned char)p[len] & 0xC0) == 0x80)
			len--;
	}
	return len ? len : 1;
}

/*
 * The lines of text (a line longer than a quarter of the budget counts as
 * several), scored against the goal words; *n their count (caller frees).
 */
static struct line *split_lines(const char *text, size_t budget, char words[][RELEVANT_WORD_MAX],
				size_t nwords, size_t *n)
{
	size_t max = budget / 4 > 64 ? budget / 4 : 64;
	size_t cap = strlen(text) / max + 2;
	struct line *lines;

	for (const char *p = text; *p; p++)
		cap += *p == '\n';
	lines = xcalloc(cap, sizeof(*lines));
	*n = 0;
	for (const char *p = text; *p && *n < cap;) {
		struct line *l = &lines[(*n)++];

		l->at = p;
		l->len = line_len(p, max);
		for (size_t i = 0; i < nwords; i++)
			l->score += line_has(l->at, l->len, words[i]);
		p += l->len;
		if (*p == '\n')
			p++;
	}
	return lines;
}

/* Keeps lines in page order, from the first, while they fit; the bytes used. */
static size_t keep_in_order(struct line *lines, size_t n, size_t used, size_t limit)
{
	for (size_t i = 0; i < n; i++) {
		if (lines[i].keep)
			continue;
		if (used + lines[i].len + 1 > limit)
			break;
		lines[i].keep = true;
		used += lines[i].len + 1;
	}
	return used;
}

/*
 * Marks lines to keep: the first ones, then by score (best first, earlier
 * first on ties), then what still fits from the start of the page (a goal
 * that asks for a whole list shares few words with its items).
 */
static void choose(struct line *lines, size_t n, size_t budget)
{
	size_t used = keep_in_order(lines, n, 0, budget / RELEVANT_HEAD_SHARE);

	for (int want = RELEVANT_MAX_WORDS; want >= 1; want--)
		for (size_t i = 0; i < n; i++)
			if (!lines[i].keep && lines[i].score == want && used + lines[i].len + 1 <= budget) {
				lines[i].keep = true;
				used += lines[i].len + 1;
			}
	keep_in_order(lines, n, used, budget);
}

/* The kept lines in page order, a "…" line for each gap (caller frees). */
static char *render(const struct line *lines, size_t n, size_t budget)
{
	struct sx_buf b;
	bool gap = false;
	char *s;

	/* Room for every kept byte and a "…" line per gap: the appends below cannot fail. */
	sx_buf_init(&b, budget + n * 5 + 16);
	for (size_t i = 0; i < n; i++) {
		if (!lines[i].keep) {
			gap = true;
			continue;
		}
		if (gap)
			sx_buf_puts(&b, "…\n");
		gap = false;
		sx_buf_append(&b, lines[i].at, lines[i].len);
		sx_buf_putc(&b, '\n');
	}
	if (gap)
		sx_buf_puts(&b, "…\n");
	s = sx_buf_detach(&b, NULL);
	return s ? s : xstrdup("");
}

/* Keeps the line when it fits the budget; true when it is kept (now or before). */
static bool keep_line(struct line *l, size_t *used, size_t budget)
{
	if (!l->keep && *used + l->len + 1 <= budget) {
		l->keep = true;
		*used += l->len + 1;
	}
	return l->keep;
}

/*
 * The goal names a thing the page shows (lines holding best, the heaviest
 * run of its words): the page's first lines, each such line with the line
 * before it and the two after it (a price or a status under a name), then
 * for each goal word no kept line has yet, the line that shares the most
 * goal words among those that have it.
 */
static void choose_named(struct line *lines, size_t n, size_t budget, int best,
			 char words[][RELEVANT_WORD_MAX], size_t nwords)
{
	size_t used = keep_in_order(lines, n, 0, budget / RELEVANT_HEAD_SHARE);

	for (size_t i = 0; i < n; i++) {
		if (lines[i].phrase != best)
			continue;
		for (size_t j = i ? i - 1 : 0; j < n && j <= i + 2; j++)
			keep_line(&lines[j], &used, budget);
	}
	for (size_t w = 0; w < nwords; w++) {
		size_t pick = n;
		bool covered = false;

		for (size_t i = 0; i < n && !covered; i++) {
			if (!line_has(lines[i].at, lines[i].len, words[w]))
				continue;
			covered = lines[i].keep;
			if (pick == n || lines[i].score > lines[pick].score)
				pick = i;
		}
		if (!covered && pick < n)
			keep_line(&lines[pick], &used, budget);
	}
}

/* Reads goal (may be NULL) into g: its words, and its tokens when phrase is set. */
static void goal_prepare(struct relevant_goal *g, const char *goal, bool phrase)
{
	g->nwords = goal_words(goal, g->words);
	goal_tokens_init(&g->tokens, phrase ? goal : NULL);
}

struct relevant_goal *relevant_goal_new(const char *goal)
{
	struct relevant_goal *g = xcalloc(1, sizeof(*g));

	goal_prepare(g, goal, true);
	return g;
}

void relevant_goal_free(struct relevant_goal *g)
{
	free(g);
}

int relevant_score(const struct relevant_goal *g, const char *line, size_t len)
{
	int score = 0, phrase;

	for (size_t i = 0; i < g->nwords; i++)
		score += line_has(line, len, g->words[i]);
	phrase = phrase_weight(&g->tokens, line, len);
	return score + (phrase >= 2 ? phrase : 0);
}

/*
 * The lines of text chosen for goal within budget: by choose_named when
 * named is set and a line names something of the goal, else by choose.
 */
static char *pick(const char *text, const char *goal, size_t budget, bool named)
{
	struct relevant_goal g;
	size_t n = 0;
	struct line *lines;
	int best = 0;
	char *s;

	if (!text)
		return xstrdup("");
	if (strlen(text) <= budget)
		return xstrdup(text);
	goal_prepare(&g, goal, named);
	lines = split_lines(text, budget, g.words, g.nwords, &n);
	for (size_t i = 0; i < n; i++) {
		lines[i].phrase = phrase_weight(&g.tokens, lines[i].at, lines[i].len);
		if (lines[i].phrase > best)
			best = lines[i].phrase;
	}
	if (best >= RELEVANT_NAMED_MIN)
		choose_named(lines, n, budget, best, g.words, g.nwords);
	else
		choose(lines, n, budget);
	s = render(lines, n, budget);
	free(lines);
	return s;
}

char *relevant_lines(const char *text, const char *goal, size_t budget)
{
	return pick(text, goal, budget, false);
}

char *relevant_data_lines(const char *text, const char *goal, size_t budget)
{
	return pick(text, goal, budget, true);
}

/* ---- text the element list already shows -------------------------------- */

/* The quoted string at q (which is '"'), unescaped; *end past its closing quote. */
static char *quoted(const char *q, const char *stop, const char **end)
{
	struct sx_buf b;
	char *s;

	sx_buf_init(&b, (size_t)(stop - q) + 1);
	for (q++; q < stop && *q != '"'; q++) {
		if (*q == '\\' && q + 1 < stop)
			q++;
		sx_buf_putc(&b, *q);
	}
	*end = q < stop ? q + 1 : stop;
	s = sx_buf_detach(&b, NULL);
	return s ? s : xstrdup("");
}

/*
 * Adds to out (room for one string per quote of the line) the label of an
 * element line ("[e1] kind \"label\" ...") and its options=["…",…]; the
 * count added.
 */
static size_t element_strings(const char *line, size_t len, char **out)
{
	const char *end = line + len, *q = memchr(line, '"', len), *opts;
	size_t n = 0;

	if (!q || line[0] != '[')
		return 0;
	out[n++] = quoted(q, end, &q);
	opts = q < end ? memmem(q, (size_t)(end - q), " options=[", 10) : NULL;
	for (q = opts ? opts + 10 : end; q < end && *q == '"';) {
		out[n++] = quoted(q, end, &q);
		if (q < end && *q == ',')
			q++;
	}
	return n;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The labels and option texts of elements, sorted; *n their count (caller frees each and the array). */
static char **sorted_labels(const char *elements, size_t *n)
{
	size_t cap = 1;
	char **labels;

	for (const char *p = elements; p && *p; p++)
		cap += *p == '"';
	labels = xcalloc(cap, sizeof(*labels));
	*n = 0;
	for (const char *p = elements; p && *p;) {
		const char *nl = strchr(p, '\n');
		size_t len = nl ? (size_t)(nl - p) : strlen(p);

		*n += element_strings(p, len, labels + *n);
		p += len + (nl != NULL);
	}
	qsort(labels, *n, sizeof(*labels), cmp_str);
	return labels;
}

/* True when the line (len bytes at s), without surrounding blanks, is one of the labels. */
static bool is_label(const char *s, size_t len, char **labels, size_t n)
{
	char *key;
	bool hit;

	while (len > 0 && isspace((unsigned char)*s)) {
		s++;
		len--;
	}
	while (len > 0 && isspace((unsigned char)s[len - 1]))
		len--;
	if (len == 0)
		return false;
	key = xstrndup(s, len);
	hit = bsearch(&key, labels, n, sizeof(*labels), cmp_str) != NULL;
	free(key);
	return hit;
}

char *relevant_unlisted(const char *text, const char *elements)
{
	size_t n = 0;
	char **labels;
	struct sx_buf b;
	bool blank_before = true;
	char *s;

	if (!text)
		return xstrdup("");
	labels = sorted_labels(elements, &n);
	sx_buf_init(&b, strlen(text) + 2);
	for (const char *p = text; *p;) {
		const char *nl = strchr(p, '\n');
		size_t len = nl ? (size_t)(nl - p) : strlen(p);
		bool blank = strspn(p, " \t\r") >= len;

		if (!is_label(p, len, labels, n) && !(blank && blank_before)) {
			sx_buf_append(&b, p, len);
			sx_buf_putc(&b, '\n');
			blank_before = blank;
		}
		p += len + (nl != NULL);
	}
	for (size_t i = 0; i < n; i++)
		free(labels[i]);
	free(labels);
	s = sx_buf_detach(&b, NULL);
	return s ? s : xstrdup("");
}
