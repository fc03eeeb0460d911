/*
 * util.c — small shared pieces: a growable byte buffer, a string hash map,
 * edit distance for "did you mean", UTF-8 validation, hashing.
 */
#include "platformc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

/* ---- StrBuf ---- */

void sb_init(StrBuf *b)
{
	b->data = NULL;
	b->len = b->cap = 0;
}

void sb_free(StrBuf *b)
{
	free(b->data);
	sb_init(b);
}

void sb_reserve(StrBuf *b, size_t extra)
{
	if (b->len + extra + 1 <= b->cap)
		return;
	size_t cap = b->cap ? b->cap : 256;
	while (cap < b->len + extra + 1)
		cap *= 2;
	b->data = xrealloc(b->data, cap);
	b->cap = cap;
}

void sb_putn(StrBuf *b, const char *s, size_t n)
{
	sb_reserve(b, n);
	memcpy(b->data + b->len, s, n);
	b->len += n;
	b->data[b->len] = 0;
}

void sb_putc(StrBuf *b, char c)
{
	sb_reserve(b, 1);
	b->data[b->len++] = c;
	b->data[b->len] = 0;
}

void sb_puts(StrBuf *b, const char *s)
{
	sb_putn(b, s, strlen(s));
}

static char *sb_room(void *ctx, size_t n)
{
	StrBuf *b = ctx;
	sb_reserve(b, n);
	return b->data + b->len;
}

void sb_vprintf(StrBuf *b, const char *fmt, va_list ap)
{
	b->len += fmt_vformat(fmt, ap, sb_room, b);
}

void sb_printf(StrBuf *b, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	sb_vprintf(b, fmt, ap);
	va_end(ap);
}

char *sb_detach(StrBuf *b)
{
	if (!b->data)
		sb_reserve(b, 0), b->data[0] = 0;
	char *p = b->data;
	sb_init(b);
	return p;
}

bool str_has_any(const char *s, const char *const *needles, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (strstr(s, needles[i]))
			return true;
	return false;
}

char *read_file_all(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	StrBuf b;
	sb_init(&b);
	char buf[65536];
	size_t n;
	while ((n = fread(buf, 1, sizeof buf, f)) > 0)
		sb_putn(&b, buf, n);
	fclose(f);
	if (len)
		*len = b.len;
	return sb_detach(&b);
}

/* ---- StrMap: open addressing, linear probing, power-of-two capacity ---- */

void strmap_init(StrMap *m)
{
	memset(m, 0, sizeof *m);
}

void strmap_init_arena(StrMap *m, Arena *a)
{
	memset(m, 0, sizeof *m);
	m->arena = a;
}

void strmap_free(StrMap *m)
{
	if (!m->arena) {
		free(m->keys);
		free(m->vals);
	}
	strmap_init(m);
}

static size_t strmap_slot(const StrMap *m, const char *key)
{
	size_t mask = m->cap - 1;
	size_t i = (size_t)hash_bytes(key, strlen(key)) & mask;
	while (m->keys[i] && strcmp(m->keys[i], key) != 0)
		i = (i + 1) & mask;
	return i;
}

void *strmap_get(const StrMap *m, const char *key)
{
	if (!m->cap)
		return NULL;
	size_t i = strmap_slot(m, key);
	return m->keys[i] ? m->vals[i] : NULL;
}

void *strmap_put(StrMap *m, const char *key, void *val)
{
	if ((m->len + 1) * 2 > m->cap) {
		StrMap old = *m;
		m->cap = old.cap ? old.cap * 2 : 64;
		if (m->arena) { /* zeroed; the old slots stay in the arena */
			m->keys = arena_alloc(m->arena, m->cap * sizeof *m->keys);
			m->vals = arena_alloc(m->arena, m->cap * sizeof *m->vals);
		} else {
			m->keys = xcalloc(m->cap, sizeof *m->keys);
			m->vals = xcalloc(m->cap, sizeof *m->vals);
		}
		m->len = 0;
		for (size_t i = 0; i < old.cap; i++)
			if (old.keys[i])
				strmap_put(m, old.keys[i], old.vals[i]);
		if (!m->arena) {
			free(old.keys);
			free(old.vals);
		}
	}
	size_t i = strmap_slot(m, key);
	void *prev = m->keys[i] ? m->vals[i] : NULL;
	if (!m->keys[i])
		m->len++;
	m->keys[i] = key;
	m->vals[i] = val;
	return prev;
}

/* ---- edit distance ---- */

int edit_distance(const char *a, const char *b, int cap)
{
	size_t la = strlen(a), lb = strlen(b);
	if (la > 64 || lb > 64)
		return cap + 1;
	int diff = (int)la - (int)lb;
	if (diff < 0)
		diff = -diff;
	if (diff > cap)
		return cap + 1;
	int prev[65], cur[65];
	for (size_t j = 0; j <= lb; j++)
		prev[j] = (int)j;
	for (size_t i = 1; i <= la; i++) {
		cur[0] = (int)i;
		int rowmin = cur[0];
		for (size_t j = 1; j <= lb; j++) {
			int sub = prev[j - 1] + (a[i - 1] != b[j - 1]);
			int del = prev[j] + 1, ins = cur[j - 1] + 1;
			int v = sub < del ? sub : del;
			cur[j] = v < ins ? v : ins;
			if (cur[j] < rowmin)
				rowmin = cur[j];
		}
		if (rowmin > cap)
			return cap + 1;
		memcpy(prev, cur, sizeof(int) * (lb + 1));
	}
	return prev[lb] > cap ? cap + 1 : prev[lb];
}

const char *did_you_mean(const char *word, const char *const *cands, int n)
{
	size_t len = strlen(word);
	int cap = len <= 3 ? 1 : len <= 6 ? 2 : 3;
	const char *best = NULL;
	int bestd = cap + 1;
	for (int i = 0; i < n; i++) {
		int d = edit_distance(word, cands[i], cap);
		/* `production` for `prod`: a long prefix is as good as a small typo */
		size_t lc = strlen(cands[i]), shorter = lc < len ? lc : len;
		if (d > cap && shorter >= 3 && strncmp(word, cands[i], shorter) == 0)
			d = cap;
		/* ties keep the first candidate: stable across runs */
		if (d < bestd) {
			bestd = d;
			best = cands[i];
		}
	}
	return best;
}

/* ---- UTF-8 (RFC 3629: no overlongs, no surrogates, max U+10FFFF) ---- */

bool utf8_valid(const char *s, size_t n, size_t *bad_offset)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0;
	while (i < n) {
		unsigned c = p[i];
		size_t need;
		unsigned min;
		if (c < 0x80) {
			/* ASCII, 8 bytes at a time */
			uint64_t w;
			for (i++; i + 8 <= n; i += 8) {
				memcpy(&w, p + i, 8);
				if (w & 0x8080808080808080ull)
					break;
			}
			continue;
		} else if ((c & 0xE0) == 0xC0) {
			need = 1, min = 0x80, c &= 0x1F;
		} else if ((c & 0xF0) == 0xE0) {
			need = 2, min = 0x800, c &= 0x0F;
		} else if ((c & 0xF8) == 0xF0) {
			need = 3, min = 0x10000, c &= 0x07;
		} else {
			goto bad;
		}
		if (i + need >= n)
			goto bad;
		for (size_t k = 1; k <= need; k++) {
			if ((p[i + k] & 0xC0) != 0x80)
				goto bad;
			c = (c << 6) | (p[i + k] & 0x3F);
		}
		if (c < min || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF))
			goto bad;
		i += need + 1;
	}
	return true;
bad:
	if (bad_offset)
		*bad_offset = i;
	return false;
}

uint64_t hash_bytes(const void *p, size_t n)
{
	const unsigned char *s = p;
	uint64_t h = 1469598103934665603ull;
	for (size_t i = 0; i < n; i++) {
		h ^= s[i];
		h *= 1099511628211ull;
	}
	return h;
}

/*
 * XXH64 (xxHash, 64-bit, seed 0) from libxxhash: several bytes per cycle, so
 * hashing every output file costs little next to emitting it. Not
 * cryptographic: it tells whether bytes changed, not whether someone made
 * them collide (see writer_cache.c). The stat cache stores these values, so the
 * function is part of its format.
 */
uint64_t hash64(const void *data, size_t n)
{
	return XXH64(data, n, 0);
}

/* The same hash over bytes that arrive in pieces (hash64_add), without
 * holding them: hash64_end gives what hash64 gives for their concatenation.
 * Until the buffer fills there is no state: a short input is hashed in one
 * call at the end. The state is libxxhash's, allocated by the library (its
 * layout is not part of the shared library's interface); hash64_end frees
 * it. */
void hash64_begin(Hash64 *h)
{
	h->state = NULL;
	h->n = 0;
}

/* hash64_add's slow path: the buffer cannot take n more bytes */
void hash64_spill(Hash64 *h, const void *data, size_t n)
{
	if (!h->state) {
		h->state = XXH64_createState();
		if (!h->state || XXH64_reset(h->state, 0) != XXH_OK)
			die_oom();
	}
	XXH64_update(h->state, h->buf, h->n);
	h->n = 0;
	if (n >= sizeof h->buf) {
		XXH64_update(h->state, data, n);
		return;
	}
	memcpy(h->buf, data, n);
	h->n = n;
}

uint64_t hash64_end(Hash64 *h)
{
	if (!h->state)
		return XXH64(h->buf, h->n, 0);
	XXH64_update(h->state, h->buf, h->n);
	uint64_t v = XXH64_digest(h->state);
	XXH64_freeState(h->state);
	h->state = NULL;
	return v;
}

int str_cmp_ptr(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

bool has_prefix(const char *s, const char *p)
{
	return strncmp(s, p, strlen(p)) == 0;
}

bool has_suffix(const char *s, const char *p)
{
	size_t ls = strlen(s), lp = strlen(p);
	return ls >= lp && memcmp(s + ls - lp, p, lp) == 0;
}
