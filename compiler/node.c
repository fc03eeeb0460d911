/*
 * node.c — the YAML tree (Node, source.c builds it) and positions in it:
 * lookups by key, the merge of one tree onto another, and the width of a
 * character, the unit Span columns count.
 *
 * Nothing here allocates except node_merge (in the caller's arena), and no
 * input is changed: trees are shared by every phase and every thread.
 */
#include "platformc.h"

#include <string.h>

Node *node_get(const Node *map, const char *key)
{
	if (!map || map->kind != N_MAP)
		return NULL;
	for (int i = 0; i < map->n; i++) {
		const Node *k = map->pairs[i].key;
		/* the first byte rules out most keys without a call */
		if (k->kind == N_SCALAR && k->text[0] == key[0] && strcmp(k->text, key) == 0)
			return map->pairs[i].val;
	}
	return NULL;
}

const char *node_text(const Node *map, const char *key)
{
	const Node *n = node_get(map, key);
	return n && n->kind == N_SCALAR && !n->is_null ? n->text : NULL;
}

const char *node_text_or(const Node *map, const char *key, const char *def)
{
	const char *t = node_text(map, key);
	return t ? t : def;
}

long long node_int(const Node *map, const char *key, long long def)
{
	long long v;
	const char *t = node_text(map, key);
	return t && scalar_int(t, &v) ? v : def;
}

Span span_of_key(const Node *map, const char *key)
{
	for (int i = 0; map && map->kind == N_MAP && i < map->n; i++)
		if (strcmp(map->pairs[i].key->text, key) == 0)
			return map->pairs[i].key->span;
	return map ? map->span : (Span){0};
}

/* Mappings merge key by key, any other value replaces (decisions: "defaults
 * and overrides"). */
const Node *node_merge(Arena *a, const Node *base, const Node *over)
{
	if (!base)
		return over;
	if (!over)
		return base;
	if (base->kind != N_MAP || over->kind != N_MAP)
		return over;
	Node *m = arena_alloc(a, sizeof *m);
	*m = *over;
	m->pairs = arena_alloc(a, sizeof(Pair) * (size_t)(base->n + over->n));
	m->n = 0;
	/* key lookups through a hash map once the maps are large (an `env` of
	 * thousands of variables in a service and its override) */
	bool hashed = base->n > 8 && over->n > 8;
	StrMap in_over, in_base;
	if (hashed) {
		strmap_init(&in_over);
		strmap_init(&in_base);
		for (int i = 0; i < over->n; i++)
			strmap_put(&in_over, over->pairs[i].key->text, over->pairs[i].val);
		for (int i = 0; i < base->n; i++)
			strmap_put(&in_base, base->pairs[i].key->text, base->pairs[i].val);
	}
	for (int i = 0; i < base->n; i++) {
		const char *k = base->pairs[i].key->text;
		const Node *o = hashed ? strmap_get(&in_over, k) : node_get(over, k);
		m->pairs[m->n].key = base->pairs[i].key;
		m->pairs[m->n].val = (Node *)node_merge(a, base->pairs[i].val, o);
		m->n++;
	}
	for (int i = 0; i < over->n; i++) {
		const char *k = over->pairs[i].key->text;
		if (!(hashed ? strmap_get(&in_base, k) : node_get(base, k)))
			m->pairs[m->n++] = over->pairs[i];
	}
	if (hashed) {
		strmap_free(&in_over);
		strmap_free(&in_base);
	}
	return m;
}

int node_char_len(const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	unsigned c = p[0];
	if (c < 0x80 || n < 2)
		return 1;
	int len = c >= 0xC2 && c <= 0xDF ? 2 : c >= 0xE0 && c <= 0xEF ? 3 : c >= 0xF0 && c <= 0xF4 ? 4 : 0;
	if (len == 0 || (size_t)len > n)
		return 1;
	for (int i = 1; i < len; i++)
		if ((p[i] & 0xC0) != 0x80)
			return 1;
	/* overlong forms, surrogates and code points past U+10FFFF */
	if ((c == 0xE0 && p[1] < 0xA0) || (c == 0xED && p[1] > 0x9F) || (c == 0xF0 && p[1] < 0x90) ||
	    (c == 0xF4 && p[1] > 0x8F))
		return 1;
	return len;
}
