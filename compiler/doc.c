/*
 * doc.c — the output document layer: DNode trees (the builders every
 * backend uses) and the JSON emitter. YAML, the format of almost every file
 * platformc writes, is doc_yaml.c.
 */
#include "platformc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- builders ---- */

static DNode *doc_new(Arena *a, DKind kind)
{
	DNode *d = arena_alloc(a, sizeof *d);
	d->kind = kind;
	return d;
}

DNode *doc_map(Arena *a)
{
	return doc_new(a, D_MAP);
}

DNode *doc_seq(Arena *a)
{
	return doc_new(a, D_SEQ);
}

DNode *doc_str(Arena *a, const char *s)
{
	DNode *d = doc_new(a, D_STR);
	d->s = arena_strdup(a, s);
	return d;
}

DNode *doc_strf(Arena *a, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	DNode *d = doc_new(a, D_STR);
	d->s = arena_vsprintf(a, fmt, ap);
	va_end(ap);
	return d;
}

DNode *doc_int(Arena *a, long long v)
{
	DNode *d = doc_new(a, D_INT);
	d->i = v;
	return d;
}

DNode *doc_num(Arena *a, double v)
{
	char buf[64];
	scalar_format_number(v, buf, sizeof buf);
	DNode *d = doc_new(a, D_NUM);
	d->s = arena_strdup(a, buf);
	return d;
}

DNode *doc_bool(Arena *a, bool v)
{
	DNode *d = doc_new(a, D_BOOL);
	d->i = v;
	return d;
}

DNode *doc_typed_scalar(Arena *a, const Node *n)
{
	bool b;
	double v;
	if (n->plain && scalar_bool(n->text, &b))
		return doc_bool(a, b);
	if (n->plain && scalar_number(n->text, &v))
		return doc_num(a, v);
	return doc_str(a, n->text);
}

DNode *doc_null(Arena *a)
{
	return doc_new(a, D_NULL);
}

DNode *doc_set(Arena *a, DNode *map, const char *key, DNode *val)
{
	for (int i = 0; i < map->n; i++) {
		if (map->pairs[i].key[0] == key[0] && strcmp(map->pairs[i].key, key) == 0) {
			map->pairs[i].val = val; /* keeps the key's position */
			return val;
		}
	}
	if (map->n == map->cap) {
		int cap = map->cap ? map->cap * 2 : 8;
		map->pairs = arena_grow(a, map->pairs, (size_t)map->n, (size_t)cap, sizeof *map->pairs);
		map->cap = cap;
	}
	/* keys are copied: callers often build them in a scratch buffer */
	map->pairs[map->n].key = arena_strdup(a, key);
	map->pairs[map->n].val = val;
	map->n++;
	return val;
}

DNode *doc_set_str(Arena *a, DNode *map, const char *key, const char *v)
{
	return doc_set(a, map, key, doc_str(a, v));
}

DNode *doc_set_int(Arena *a, DNode *map, const char *key, long long v)
{
	return doc_set(a, map, key, doc_int(a, v));
}

DNode *doc_set_bool(Arena *a, DNode *map, const char *key, bool v)
{
	return doc_set(a, map, key, doc_bool(a, v));
}

DNode *doc_set_map(Arena *a, DNode *map, const char *key)
{
	return doc_set(a, map, key, doc_map(a));
}

DNode *doc_set_seq(Arena *a, DNode *map, const char *key)
{
	return doc_set(a, map, key, doc_seq(a));
}

DNode *doc_push(Arena *a, DNode *seq, DNode *val)
{
	if (seq->n == seq->cap) {
		int cap = seq->cap ? seq->cap * 2 : 8;
		seq->items = arena_grow(a, seq->items, (size_t)seq->n, (size_t)cap, sizeof *seq->items);
		seq->cap = cap;
	}
	seq->items[seq->n++] = val;
	return val;
}

DNode *doc_push_str(Arena *a, DNode *seq, const char *v)
{
	return doc_push(a, seq, doc_str(a, v));
}

DNode *doc_push_map(Arena *a, DNode *seq)
{
	return doc_push(a, seq, doc_map(a));
}

DNode *doc_get(const DNode *map, const char *key)
{
	if (!map || map->kind != D_MAP)
		return NULL;
	for (int i = 0; i < map->n; i++)
		if (strcmp(map->pairs[i].key, key) == 0)
			return map->pairs[i].val;
	return NULL;
}

const char *doc_format_int(long long v, char buf[24])
{
	unsigned long long u = v < 0 ? 0 - (unsigned long long)v : (unsigned long long)v;
	char *p = buf + 23;
	*p = 0;
	do
		*--p = (char)('0' + u % 10);
	while (u /= 10);
	if (v < 0)
		*--p = '-';
	return p;
}

/* ---- JSON ---- */

/* Runs of bytes that need no escape are copied at once: the escapes are
 * the ASCII ones of double-quoted YAML (CC_ESCAPE) plus U+2028/U+2029. */
void doc_json_string(StrBuf *out, const char *s)
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

static void doc_json_indent(StrBuf *out, int depth)
{
	static const char spaces[] = "                                ";
	sb_putc(out, '\n');
	for (size_t n = 2 * (size_t)depth; n;) {
		size_t k = n < sizeof spaces - 1 ? n : sizeof spaces - 1;
		sb_putn(out, spaces, k);
		n -= k;
	}
}

static void doc_json_node(StrBuf *out, const DNode *d, int depth)
{
	char buf[24];
	switch (d->kind) {
	case D_NULL:
		sb_puts(out, "null");
		break;
	case D_BOOL:
		sb_puts(out, d->i ? "true" : "false");
		break;
	case D_INT:
		sb_puts(out, doc_format_int(d->i, buf));
		break;
	case D_NUM:
		sb_puts(out, d->s);
		break;
	case D_STR:
		doc_json_string(out, d->s);
		break;
	case D_MAP:
		if (!d->n) {
			sb_puts(out, "{}");
			break;
		}
		sb_putc(out, '{');
		for (int i = 0; i < d->n; i++) {
			if (i)
				sb_putc(out, ',');
			doc_json_indent(out, depth + 1);
			doc_json_string(out, d->pairs[i].key);
			sb_puts(out, ": ");
			doc_json_node(out, d->pairs[i].val, depth + 1);
		}
		doc_json_indent(out, depth);
		sb_putc(out, '}');
		break;
	case D_SEQ:
		if (!d->n) {
			sb_puts(out, "[]");
			break;
		}
		sb_putc(out, '[');
		for (int i = 0; i < d->n; i++) {
			if (i)
				sb_putc(out, ',');
			doc_json_indent(out, depth + 1);
			doc_json_node(out, d->items[i], depth + 1);
		}
		doc_json_indent(out, depth);
		sb_putc(out, ']');
		break;
	}
}

void doc_emit_json(StrBuf *out, const DNode *root)
{
	doc_json_node(out, root, 0);
	sb_putc(out, '\n');
}
