/*
 * arena.c — one arena per compilation.
 *
 * Everything a run allocates (the YAML tree, the model, output documents)
 * comes from an Arena of large blocks and is released with one arena_free.
 * Allocation failure is not recoverable for a compiler run: it aborts with a
 * clear message (die_oom) instead of threading NULL checks through every phase.
 *
 * arena_mark/arena_release give a scope inside that lifetime: a backend
 * marks the arena before one service's documents and releases it once they
 * are in the file set, so the DNode trees of 10,000 services never coexist.
 * Under AddressSanitizer the released bytes are poisoned, so a pointer that
 * escapes its scope is reported at its first use.
 */
#include "platformc.h"

#include <pthread.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#if defined(__SANITIZE_ADDRESS__)
#define ARENA_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define ARENA_ASAN 1
#endif
#endif
#ifdef ARENA_ASAN
#include <sanitizer/asan_interface.h>
#define POISON(p, n) ASAN_POISON_MEMORY_REGION((p), (n))
#define UNPOISON(p, n) ASAN_UNPOISON_MEMORY_REGION((p), (n))
#else
#define POISON(p, n) ((void)(p), (void)(n))
#define UNPOISON(p, n) ((void)(p), (void)(n))
#endif

#define BLOCK_SIZE (64u * 1024)

typedef struct Block {
	struct Block *next;
	size_t used, cap;
	_Alignas(16) unsigned char data[];
} Block;

struct Arena {
	Block *head;
};

_Noreturn void die_oom(void)
{
	fputs("platformc: out of memory\n", stderr);
	exit(EXIT_USAGE);
}

void *xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);
	if (!p)
		die_oom();
	return p;
}

void *xrealloc(void *p, size_t n)
{
	void *q = realloc(p, n ? n : 1);
	if (!q)
		die_oom();
	return q;
}

void *xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size ? size : 1);
	if (!p)
		die_oom();
	return p;
}

char *xstrdup(const char *s)
{
	size_t n = strlen(s) + 1;
	char *p = xmalloc(n);
	memcpy(p, s, n);
	return p;
}

char *xstrndup(const char *s, size_t n)
{
	size_t len = strnlen(s, n);
	char *p = xmalloc(len + 1);
	memcpy(p, s, len);
	p[len] = 0;
	return p;
}

Arena *arena_new(void)
{
	Arena *a = xmalloc(sizeof *a);
	a->head = NULL;
	return a;
}

/* ---- arenas kept until exit ---- */

static pthread_mutex_t kept_lock = PTHREAD_MUTEX_INITIALIZER;
static Arena **kept;
static int nkept, capkept;

static void release_kept(void)
{
	for (int i = 0; i < nkept; i++)
		arena_free(kept[i]);
	free(kept);
	kept = NULL;
	nkept = capkept = 0;
}

/* A new arena that lives until the process exits, then is freed (what a
 * worker thread allocates, the data parsed once per process): kept where
 * memcheck sees it, not only in a pointer the compiler may drop. Either
 * thread may ask. */
Arena *arena_new_kept(void)
{
	Arena *a = arena_new();
	pthread_mutex_lock(&kept_lock);
	if (nkept == capkept) {
		if (!capkept)
			atexit(release_kept);
		capkept = capkept ? capkept * 2 : 8;
		kept = xrealloc(kept, sizeof *kept * (size_t)capkept);
	}
	kept[nkept++] = a;
	pthread_mutex_unlock(&kept_lock);
	return a;
}

void arena_free(Arena *a)
{
	if (!a)
		return;
	for (Block *b = a->head, *next; b; b = next) {
		next = b->next;
		free(b);
	}
	free(a);
}

/*
 * The list is newest first, except that a large block goes right behind the
 * head of its time. So after a mark at head H (with H->next = X), the list
 * reads: blocks made after the mark, H, large blocks made after the mark
 * while H was the head, X. Releasing frees the first and third groups and
 * rewinds H.
 */
ArenaMark arena_mark(Arena *a)
{
	Block *h = a->head;
	return (ArenaMark){ .block = h, .used = h ? h->used : 0, .next = h ? h->next : NULL };
}

void arena_release(Arena *a, ArenaMark m)
{
	Block *b = a->head;
	while (b && b != m.block) {
		Block *next = b->next;
		free(b);
		b = next;
	}
	a->head = b;
	if (!b)
		return;
	for (Block *l = b->next, *next; l != m.next; l = next) {
		next = l->next;
		free(l);
	}
	b->next = m.next;
	POISON(b->data + m.used, b->used - m.used);
	b->used = m.used;
}

/* Uninitialised: for strings, which are written whole at once. */
static void *arena_alloc_raw(Arena *a, size_t n)
{
	n = (n + 15) & ~(size_t)15;
	Block *b = a->head;
	if (!b || b->cap - b->used < n) {
		size_t cap = n > BLOCK_SIZE / 4 ? n : BLOCK_SIZE;
		b = xmalloc(sizeof *b + cap);
		b->used = 0;
		b->cap = cap;
		if (n > BLOCK_SIZE / 4 && a->head) {
			/* a large block goes behind the current one, so the
			 * current block's free space is not wasted */
			b->next = a->head->next;
			a->head->next = b;
		} else {
			b->next = a->head;
			a->head = b;
		}
	}
	void *p = b->data + b->used;
	b->used += n;
	UNPOISON(p, n);
	return p;
}

void *arena_alloc(Arena *a, size_t n)
{
	void *p = arena_alloc_raw(a, n);
	memset(p, 0, (n + 15) & ~(size_t)15);
	return p;
}

void *arena_grow(Arena *a, void *old, size_t old_n, size_t new_n, size_t elem)
{
	void *p = arena_alloc(a, new_n * elem);
	if (old && old_n)
		memcpy(p, old, old_n * elem);
	return p;
}

char *arena_strndup(Arena *a, const char *s, size_t n)
{
	char *p = arena_alloc_raw(a, n + 1);
	memcpy(p, s, n);
	p[n] = 0;
	return p;
}

char *arena_strdup(Arena *a, const char *s)
{
	return arena_strndup(a, s, strlen(s));
}

typedef struct ArenaRoom {
	Arena *a;
	char *p;
} ArenaRoom;

static char *arena_room(void *ctx, size_t n)
{
	ArenaRoom *r = ctx;
	return r->p = arena_alloc_raw(r->a, n + 1);
}

char *arena_vsprintf(Arena *a, const char *fmt, va_list ap)
{
	ArenaRoom r = { a, NULL };
	fmt_vformat(fmt, ap, arena_room, &r);
	return r.p;
}

char *arena_sprintf(Arena *a, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *p = arena_vsprintf(a, fmt, ap);
	va_end(ap);
	return p;
}
