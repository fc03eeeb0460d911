/*
 * doc.c — the output document layer: DNode trees (the builders every
 * backend uses). YAML, the format of almost every file platformc writes, is
 * doc_yaml.c; JSON is json.c.
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
	return doc_append(a, map, key, val);
}

DNode *doc_append(Arena *a, DNode *map, const char *key, DNode *val)
{
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
