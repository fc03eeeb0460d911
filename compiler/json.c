/*
 * json.c — JSON text out: the one writer of JSON in platformc. Every JSON
 * producer builds a DNode tree (doc.c) and hands it here: the .json files a
 * render writes (dashboards, fileset.c), the `json` template directive
 * (compute.c), `platformc schema` (schema_json.c, catalog_doc.c), `cost
 * --format json`, `--diagnostics json` (diag.c, one diagnostic at a time)
 * and the language server's messages (lsp.c). Only a scalar literal (a
 * nunjucks default, backend_backstage.c) calls json_string alone.
 *
 * What it owns:
 *   - strings (json_string): `"` and `\` escaped, the controls and DEL as
 *     \b \f \n \r \t or \u00XX, U+2028/U+2029 as \u2028/\u2029 (valid JSON but
 *     not valid inside a JavaScript string); everything else, non-BMP
 *     characters included, is copied as its UTF-8 bytes (JSON text is UTF-8;
 *     a \uD83D\uDE80 pair is never written). Bytes are not checked: input is
 *     valid UTF-8 by the time it reaches a DNode (source.c).
 *   - numbers: D_INT in decimal (doc_format_int), D_NUM as its canonical text
 *     (scalar_format_number, made by doc_num); both are valid JSON numbers.
 *   - layout, one of three styles (JsonStyle): indented (2 spaces a level,
 *     keys in insertion order; every file platformc writes), one line
 *     (`{"a": 1, "b": [2]}`, a diagnostic) and compact (no whitespace: the
 *     `json` directive, the language server). In the indented style a container may ask for the
 *     hand-set layout of the editor schemas (DNode.jlayout): written on one
 *     line, an entry of it starting its own line, an explicit indent level.
 * And the one way back for a string (json_unescape): the diagnostic code
 * table and the language server's messages, whose tokens jsmn finds.
 * Invariants: the same tree gives the same bytes; keys are written in the
 * tree's order, duplicates included (doc_append); no output is produced
 * anywhere but the caller's StrBuf.
 */
#include "platformc.h"

#include <string.h>

/* Runs of bytes that need no escape are copied at once. */
void json_string(StrBuf *out, const char *s)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *p = (const unsigned char *)s, *run = p;
	sb_putc(out, '"');
	for (; *p; p++) {
		unsigned c = *p;
		bool line_sep = c == 0xE2 && p[1] == 0x80 && (p[2] == 0xA8 || p[2] == 0xA9);
		/* what JSON escapes: controls, DEL, `"` and `\` (and U+2028/9) */
		if (!(c < ' ' || c == 0x7f || c == '"' || c == '\\') && !line_sep)
			continue;
		sb_putn(out, (const char *)run, (size_t)(p - run));
		run = p + 1;
		switch (c) {
		case '"':
			sb_puts(out, "\\\"");
			continue;
		case '\\':
			sb_puts(out, "\\\\");
			continue;
		case '\n':
			sb_puts(out, "\\n");
			continue;
		case '\t':
			sb_puts(out, "\\t");
			continue;
		case '\r':
			sb_puts(out, "\\r");
			continue;
		case '\b':
			sb_puts(out, "\\b");
			continue;
		case '\f':
			sb_puts(out, "\\f");
			continue;
		}
		if (line_sep) {
			/* valid JSON, but not valid JavaScript inside a string */
			sb_puts(out, p[2] == 0xA8 ? "\\u2028" : "\\u2029");
			p += 2;
			run = p + 1;
		} else {
			sb_puts(out, "\\u00");
			sb_putc(out, hex[c >> 4]);
			sb_putc(out, hex[c & 15]);
		}
	}
	sb_putn(out, (const char *)run, (size_t)(p - run));
	sb_putc(out, '"');
}

static void json_indent(StrBuf *out, int depth)
{
	static const char spaces[] = "                                ";
	sb_putc(out, '\n');
	for (size_t n = 2 * (size_t)depth; n;) {
		size_t k = n < sizeof spaces - 1 ? n : sizeof spaces - 1;
		sb_putn(out, spaces, k);
		n -= k;
	}
}

static void json_node(StrBuf *out, const DNode *d, JsonStyle style, int depth);

/* A container's entries; `key` is NULL for a sequence. */
static void json_entry(StrBuf *out, const char *key, const DNode *v, JsonStyle style, bool block, int depth, int i)
{
	if (style == JSON_COMPACT) {
		if (i)
			sb_putc(out, ',');
		if (key)
			json_string(out, key), sb_putc(out, ':');
		json_node(out, v, style, depth);
		return;
	}
	if (i)
		sb_putc(out, ',');
	if (block)
		json_indent(out, depth + 1);
	else if (style == JSON_INDENTED && (v->jlayout & DJ_BREAK))
		json_indent(out, v->jlayout & DJ_DEPTH ? v->jdepth : depth + 1);
	else if (i)
		sb_putc(out, ' ');
	if (key)
		json_string(out, key), sb_puts(out, ": ");
	json_node(out, v, style, block ? depth + 1 : depth);
}

static void json_node(StrBuf *out, const DNode *d, JsonStyle style, int depth)
{
	char buf[24];
	switch (d->kind) {
	case D_NULL:
		sb_puts(out, "null");
		return;
	case D_BOOL:
		sb_puts(out, d->i ? "true" : "false");
		return;
	case D_INT:
		sb_puts(out, doc_format_int(d->i, buf));
		return;
	case D_NUM:
		sb_puts(out, d->s);
		return;
	case D_STR:
		json_string(out, d->s);
		return;
	case D_MAP:
	case D_SEQ:
		break;
	}
	bool map = d->kind == D_MAP;
	if (!d->n) {
		sb_puts(out, map ? "{}" : "[]");
		return;
	}
	if (style == JSON_INDENTED && (d->jlayout & DJ_DEPTH))
		depth = d->jdepth;
	bool block = style == JSON_INDENTED && !(d->jlayout & DJ_INLINE);
	sb_putc(out, map ? '{' : '[');
	for (int i = 0; i < d->n; i++)
		json_entry(out, map ? d->pairs[i].key : NULL, map ? d->pairs[i].val : d->items[i], style, block, depth, i);
	if (block)
		json_indent(out, depth);
	sb_putc(out, map ? '}' : ']');
}

void json_write(StrBuf *out, const DNode *root, JsonStyle style)
{
	json_node(out, root, style, 0);
}

void json_emit(StrBuf *out, const DNode *root)
{
	json_node(out, root, JSON_INDENTED, 0);
	sb_putc(out, '\n');
}

DNode *json_inline(DNode *d)
{
	d->jlayout |= DJ_INLINE;
	return d;
}

DNode *json_break(DNode *d, int depth)
{
	d->jlayout |= DJ_BREAK;
	return json_depth(d, depth);
}

DNode *json_depth(DNode *d, int depth)
{
	d->jlayout |= DJ_DEPTH;
	d->jdepth = (unsigned char)depth;
	return d;
}

/* ---- JSON text in: a string token's text, unescaped (jsmn finds the tokens) ---- */

static void put_utf8(StrBuf *b, unsigned v)
{
	char c[4];
	int n;
	if (v < 0x80)
		c[0] = (char)v, n = 1;
	else if (v < 0x800)
		c[0] = (char)(0xC0 | (v >> 6)), c[1] = (char)(0x80 | (v & 0x3F)), n = 2;
	else if (v < 0x10000)
		c[0] = (char)(0xE0 | (v >> 12)), c[1] = (char)(0x80 | ((v >> 6) & 0x3F)),
		c[2] = (char)(0x80 | (v & 0x3F)), n = 3;
	else
		c[0] = (char)(0xF0 | (v >> 18)), c[1] = (char)(0x80 | ((v >> 12) & 0x3F)),
		c[2] = (char)(0x80 | ((v >> 6) & 0x3F)), c[3] = (char)(0x80 | (v & 0x3F)), n = 4;
	sb_putn(b, c, (size_t)n);
}

/* Four hex digits (jsmn has checked them), or -1 past the end or on a non-digit. */
static long hex4(const char *s, size_t k, size_t n)
{
	if (k + 4 > n)
		return -1;
	long v = 0;
	for (size_t i = k; i < k + 4; i++) {
		char h = s[i];
		int d = h >= '0' && h <= '9' ? h - '0' : (h | 32) >= 'a' && (h | 32) <= 'f' ? (h | 32) - 'a' + 10 : -1;
		if (d < 0)
			return -1;
		v = v * 16 + d;
	}
	return v;
}

char *json_unescape(const char *s, size_t n, size_t *len)
{
	StrBuf b;
	sb_init(&b);
	for (size_t k = 0; k < n; k++) {
		if (s[k] != '\\' || k + 1 >= n) {
			sb_putn(&b, s + k, 1);
			continue;
		}
		char c = s[++k];
		switch (c) {
		case 'n': sb_puts(&b, "\n"); break;
		case 't': sb_puts(&b, "\t"); break;
		case 'r': sb_puts(&b, "\r"); break;
		case 'b': sb_puts(&b, "\b"); break;
		case 'f': sb_puts(&b, "\f"); break;
		case 'u': {
			long v = hex4(s, k + 1, n);
			if (v < 0)
				break;
			k += 4;
			if (v >= 0xD800 && v < 0xDC00) { /* a high surrogate: a low one must follow */
				long lo = k + 2 < n && s[k + 1] == '\\' && s[k + 2] == 'u' ? hex4(s, k + 3, n) : -1;
				if (lo >= 0xDC00 && lo < 0xE000) {
					v = 0x10000 + ((v - 0xD800) << 10) + (lo - 0xDC00);
					k += 6;
				} else {
					v = 0xFFFD;
				}
			} else if (v >= 0xDC00 && v < 0xE000) {
				v = 0xFFFD; /* a low surrogate alone */
			}
			put_utf8(&b, (unsigned)v);
			break;
		}
		default: sb_putn(&b, &c, 1);
		}
	}
	if (len)
		*len = b.len;
	if (!b.data)
		return xstrdup("");
	return sb_detach(&b);
}
