/*
 * util.c — small shared pieces: a growable byte buffer, a string hash map,
 * edit distance for "did you mean", UTF-8 validation, hashing.
 */
#include "platformc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

/* ---- plain formatting: what most formats of the backends need ---- */

/*
 * Nearly every format the backends print joins strings ("%s-%s", PromQL
 * and runbook templates) and a few integers. For those, the C library's
 * vsnprintf costs a stream set-up per call and, to size the result, a
 * second pass: it was a quarter of a render's instructions. fmt_plain_out
 * formats them directly; fmt_is_plain says which formats it takes (the
 * conversions %s %c %d %u %ld %lu %lld %llu %zu %.*s and %%, no flags or
 * widths); any other format goes to vsnprintf, with the same result.
 */
bool fmt_is_plain(const char *fmt)
{
	for (const char *p = strchr(fmt, '%'); p; p = strchr(p, '%')) {
		p++;
		if (*p == '%' || *p == 'c' || *p == 's') {
			p++;
			continue;
		}
		if (p[0] == '.' && p[1] == '*' && p[2] == 's') {
			p += 3;
			continue;
		}
		if (p[0] == 'l' && p[1] == 'l')
			p += 2;
		else if (p[0] == 'l' || p[0] == 'z')
			p++;
		if (*p != 'd' && *p != 'u')
			return false;
		p++;
	}
	return true;
}

size_t fmt_uint(char *out, unsigned long long v)
{
	char tmp[24];
	size_t n = 0;
	do
		tmp[n++] = (char)('0' + v % 10);
	while ((v /= 10) != 0);
	if (out)
		for (size_t i = 0; i < n; i++)
			out[i] = tmp[n - 1 - i];
	return n;
}

size_t fmt_plain_out(char *out, const char *fmt, va_list ap)
{
	size_t n = 0;
	for (const char *p = fmt;;) {
		const char *pct = strchrnul(p, '%');
		if (out)
			memcpy(out + n, p, (size_t)(pct - p));
		n += (size_t)(pct - p);
		if (!*pct)
			break;
		p = pct + 1;
		const char *s = NULL;
		size_t sl = 0;
		int size = 0; /* 1 long, 2 long long, 3 size_t */
		if (p[0] == '.') {
			sl = (size_t)va_arg(ap, int);
			s = va_arg(ap, const char *);
			sl = strnlen(s, sl);
			p += 3;
		} else {
			if (p[0] == 'l' && p[1] == 'l')
				size = 2, p += 2;
			else if (p[0] == 'l')
				size = 1, p++;
			else if (p[0] == 'z')
				size = 3, p++;
			char c = *p++;
			if (c == 's') {
				s = va_arg(ap, const char *);
				sl = strlen(s);
			} else if (c == '%' || c == 'c') {
				char ch = c == '%' ? '%' : (char)va_arg(ap, int);
				if (out)
					out[n] = ch;
				n++;
				continue;
			} else if (c == 'd') {
				long long v = size == 2 ? va_arg(ap, long long)
					    : size == 1 ? va_arg(ap, long)
					    : size == 3 ? (long long)va_arg(ap, size_t) : va_arg(ap, int);
				unsigned long long u = (unsigned long long)v;
				if (v < 0) {
					if (out)
						out[n] = '-';
					n++;
					u = 0 - u;
				}
				n += fmt_uint(out ? out + n : NULL, u);
				continue;
			} else {
				unsigned long long u = size == 2 ? va_arg(ap, unsigned long long)
						     : size == 1 ? va_arg(ap, unsigned long)
						     : size == 3 ? va_arg(ap, size_t) : va_arg(ap, unsigned);
				n += fmt_uint(out ? out + n : NULL, u);
				continue;
			}
		}
		if (out)
			memcpy(out + n, s, sl);
		n += sl;
	}
	if (out)
		out[n] = 0;
	return n;
}

size_t fmt_vformat(const char *fmt, va_list ap, char *(*room)(void *ctx, size_t n), void *ctx)
{
	va_list ap2;
	va_copy(ap2, ap);
	size_t n;
	if (fmt_is_plain(fmt)) {
		n = fmt_plain_out(NULL, fmt, ap2);
		fmt_plain_out(room(ctx, n), fmt, ap);
	} else {
		int len = vsnprintf(NULL, 0, fmt, ap2);
		n = len > 0 ? (size_t)len : 0;
		vsnprintf(room(ctx, n), n + 1, fmt, ap);
	}
	va_end(ap2);
	return n;
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

void strmap_free(StrMap *m)
{
	free(m->keys);
	free(m->vals);
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
		m->keys = calloc(m->cap, sizeof *m->keys);
		m->vals = calloc(m->cap, sizeof *m->vals);
		if (!m->keys || !m->vals)
			die_oom();
		m->len = 0;
		for (size_t i = 0; i < old.cap; i++)
			if (old.keys[i])
				strmap_put(m, old.keys[i], old.vals[i]);
		free(old.keys);
		free(old.vals);
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
 * XXH64 (Yann Collet's xxHash, 64-bit, seed 0), written from its
 * specification: four lanes over 32-byte stripes, then the tail, then the
 * avalanche. Several bytes per cycle, so hashing every output file costs
 * little next to emitting it. Not cryptographic: it tells whether bytes
 * changed, not whether someone made them collide (see writer.c).
 */
#define P64_1 0x9E3779B185EBCA87ull
#define P64_2 0xC2B2AE3D27D4EB4Full
#define P64_3 0x165667B19E3779F9ull
#define P64_4 0x85EBCA77C2B2AE63ull
#define P64_5 0x27D4EB2F165667C5ull

static uint64_t rotl64(uint64_t x, int r)
{
	return (x << r) | (x >> (64 - r));
}

/* Little-endian loads, one instruction each on the usual hosts. */
static uint64_t load64(const unsigned char *p)
{
	uint64_t v;
	memcpy(&v, p, sizeof v);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
	v = __builtin_bswap64(v);
#endif
	return v;
}

static uint32_t load32(const unsigned char *p)
{
	uint32_t v;
	memcpy(&v, p, sizeof v);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
	v = __builtin_bswap32(v);
#endif
	return v;
}

static uint64_t xxh_round(uint64_t acc, uint64_t input)
{
	acc += input * P64_2;
	acc = rotl64(acc, 31);
	return acc * P64_1;
}

static uint64_t xxh_merge(uint64_t acc, uint64_t v)
{
	acc ^= xxh_round(0, v);
	return acc * P64_1 + P64_4;
}

/* The tail and the avalanche: up to 31 bytes after the stripes. */
static uint64_t xxh_finish(uint64_t h, const unsigned char *p, const unsigned char *end)
{
	for (; end - p >= 8; p += 8) {
		h ^= xxh_round(0, load64(p));
		h = rotl64(h, 27) * P64_1 + P64_4;
	}
	if (end - p >= 4) {
		h ^= (uint64_t)load32(p) * P64_1;
		h = rotl64(h, 23) * P64_2 + P64_3;
		p += 4;
	}
	for (; p < end; p++) {
		h ^= *p * P64_5;
		h = rotl64(h, 11) * P64_1;
	}
	h ^= h >> 33;
	h *= P64_2;
	h ^= h >> 29;
	h *= P64_3;
	h ^= h >> 32;
	return h;
}

static uint64_t xxh_converge(const uint64_t v[4])
{
	uint64_t h = rotl64(v[0], 1) + rotl64(v[1], 7) + rotl64(v[2], 12) + rotl64(v[3], 18);
	for (int i = 0; i < 4; i++)
		h = xxh_merge(h, v[i]);
	return h;
}

static void xxh_stripe(uint64_t v[4], const unsigned char *p)
{
	for (int i = 0; i < 4; i++)
		v[i] = xxh_round(v[i], load64(p + 8 * i));
}

uint64_t hash64(const void *data, size_t n)
{
	const unsigned char *p = data, *end = p + n;
	uint64_t h = P64_5;
	if (n >= 32) {
		uint64_t v[4] = { P64_1 + P64_2, P64_2, 0, (uint64_t)0 - P64_1 };
		for (; end - p >= 32; p += 32)
			xxh_stripe(v, p);
		h = xxh_converge(v);
	}
	return xxh_finish(h + (uint64_t)n, p, end);
}

/* The same hash over bytes that arrive in pieces (hash64_add), without
 * holding them: hash64_end gives what hash64 gives for their concatenation. */
void hash64_begin(Hash64 *h)
{
	memset(h, 0, sizeof *h);
	h->v[0] = P64_1 + P64_2;
	h->v[1] = P64_2;
	h->v[3] = (uint64_t)0 - P64_1;
}

void hash64_add(Hash64 *h, const void *data, size_t n)
{
	const unsigned char *p = data, *end = p + n;
	h->total += n;
	if (h->nbuf) {
		size_t take = 32 - h->nbuf < n ? 32 - h->nbuf : n;
		memcpy(h->buf + h->nbuf, p, take);
		h->nbuf += take;
		p += take;
		if (h->nbuf < 32)
			return;
		xxh_stripe(h->v, h->buf);
		h->nbuf = 0;
	}
	for (; end - p >= 32; p += 32)
		xxh_stripe(h->v, p);
	memcpy(h->buf, p, (size_t)(end - p));
	h->nbuf = (size_t)(end - p);
}

uint64_t hash64_end(const Hash64 *h)
{
	uint64_t s = h->total >= 32 ? xxh_converge(h->v) : P64_5;
	return xxh_finish(s + h->total, h->buf, h->buf + h->nbuf);
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
