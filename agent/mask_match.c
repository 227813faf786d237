/*
 * The encoded-form matcher (see mask_match.h).  A reader stacks decoders:
 * layer 0 is the text's bytes, layers 1..json each undo one level of
 * JSON-string escaping of the layer below (`\"`, `\\`, `\/`, `\n`…,
 * `\u00e9`, surrogate pairs, decoded to UTF-8), and a last, optional layer
 * undoes percent-encoding (`%2F`, and `+` which a form encodes a space as).
 * A secret matches when the top layer yields its bytes and every layer has
 * handed up all it decoded, so the match never ends inside an escape.
 */
#include "sx.h"
#include "mask.h"
#include "mask_match.h"

#define LAYERS (MASK_JSON_DEPTH + 2)
#define RD_PLUS 256        /* a '+' read through the URL layer: a space or a plus */

/* What one layer decoded and has not handed up yet. */
struct layer {
	unsigned char pend[4];
	int n, i;
};

struct reader {
	const char *text;
	size_t len, pos;       /* layer 0 */
	int json;              /* layers 1..json undo JSON escapes */
	int top;               /* json, or json + 1 with the URL layer */
	struct layer lv[LAYERS];
};

static int rd_next(struct reader *r, int lvl);

/* n hex digits read from layer lvl; -1 when they are not. */
static long rd_hex(struct reader *r, int lvl, int n)
{
	long v = 0;

	for (int k = 0; k < n && v >= 0; k++) {
		int h = sx_hex_value(rd_next(r, lvl));

		v = h < 0 ? -1 : v * 16 + h;
	}
	return v;
}

/* Queues code point cp as UTF-8 on l; returns its first byte. */
static int layer_put_utf8(struct layer *l, long cp)
{
	unsigned char *p = l->pend;

	if (cp < 0x80) {
		p[0] = (unsigned char)cp;
		l->n = 1;
	} else if (cp < 0x800) {
		p[0] = (unsigned char)(0xC0 | (cp >> 6));
		p[1] = (unsigned char)(0x80 | (cp & 0x3F));
		l->n = 2;
	} else if (cp < 0x10000) {
		p[0] = (unsigned char)(0xE0 | (cp >> 12));
		p[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
		p[2] = (unsigned char)(0x80 | (cp & 0x3F));
		l->n = 3;
	} else {
		p[0] = (unsigned char)(0xF0 | (cp >> 18));
		p[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3F));
		p[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
		p[3] = (unsigned char)(0x80 | (cp & 0x3F));
		l->n = 4;
	}
	l->i = 1;
	return p[0];
}

/* The code point of a `\u` escape (after the "\u"), a surrogate pair joined; -1 when invalid. */
static long json_code_point(struct reader *r, int lvl)
{
	long cp = rd_hex(r, lvl, 4), lo = -1;

	if (cp >= 0xD800 && cp <= 0xDBFF) {
		if (rd_next(r, lvl) == '\\' && rd_next(r, lvl) == 'u')
			lo = rd_hex(r, lvl, 4);
		cp = lo >= 0xDC00 && lo <= 0xDFFF ? 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00) : -1;
	} else if (cp >= 0xDC00 && cp <= 0xDFFF) {
		cp = -1;
	}
	return cp;
}

/* The first byte of the JSON escape whose backslash layer lvl just read; -1 when invalid. */
static int json_unescape(struct reader *r, int lvl)
{
	static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
	int e = rd_next(r, lvl - 1), c = -1;
	const char *p = e > 0 ? strchr(from, e) : NULL;
	long cp;

	if (p) {
		c = (unsigned char)to[p - from];
	} else if (e == 'u') {
		cp = json_code_point(r, lvl - 1);
		if (cp >= 0)
			c = layer_put_utf8(&r->lv[lvl], cp);
	}
	return c;
}

/* The next byte of layer lvl; -1 at the end of the text or on an invalid escape. */
static int rd_next(struct reader *r, int lvl)
{
	struct layer *l = &r->lv[lvl];
	long v;
	int c;

	if (lvl == 0) {
		c = r->pos < r->len ? (unsigned char)r->text[r->pos++] : -1;
	} else if (l->i < l->n) {
		c = l->pend[l->i++];
	} else {
		c = rd_next(r, lvl - 1);
		if (lvl <= r->json) {
			if (c == '\\')
				c = json_unescape(r, lvl);
		} else if (c == '%') {
			v = rd_hex(r, lvl - 1, 2);
			c = (int)v;
		} else if (c == '+') {
			c = RD_PLUS;
		}
	}
	return c;
}

/* Whether every layer has handed up all it decoded. */
static bool rd_drained(const struct reader *r)
{
	bool ok = true;

	for (int i = 1; i <= r->top; i++)
		ok = ok && r->lv[i].i == r->lv[i].n;
	return ok;
}

/* The end of s read through json JSON layers (and the URL layer when url) from pos; 0 when it is not there. */
static size_t match_layers(const char *text, size_t len, size_t pos, const char *s, size_t slen, int json,
			   bool url)
{
	struct reader r = { .text = text, .len = len, .pos = pos, .json = json, .top = json + url };
	size_t k = 0;
	int c;

	while (k < slen) {
		c = rd_next(&r, r.top);
		if (c == RD_PLUS ? (s[k] != ' ' && s[k] != '+') : c != (unsigned char)s[k])
			break;
		k++;
	}
	return k == slen && rd_drained(&r) ? r.pos : 0;
}

size_t mask_match_at(const char *text, size_t len, size_t pos, const char *s, size_t slen)
{
	unsigned char c0 = (unsigned char)text[pos];
	size_t best = 0, end;
	/* A form starts with the secret's first byte or with an escape. */
	bool may = slen > 0 && (c0 == (unsigned char)s[0] || c0 == '\\' || c0 == '%' || c0 == '+');

	for (int json = 0; may && json <= MASK_JSON_DEPTH; json++) {
		for (int url = 0; url <= 1; url++) {
			end = match_layers(text, len, pos, s, slen, json, url);
			if (end > best)
				best = end;
		}
	}
	return best;
}
