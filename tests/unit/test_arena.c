/*
 * test_arena.c — arena_mark/arena_release: everything allocated after a
 * mark goes, everything before stays, in any mix of small and large blocks.
 */
#include "platformc.h"
#include "unit.h"

#include <stdlib.h>
#include <string.h>

/* Fills n bytes with a pattern that names the allocation. */
static char *fill(Arena *a, size_t n, char c)
{
	char *p = arena_alloc(a, n);
	memset(p, c, n);
	return p;
}

static bool all(const char *p, size_t n, char c)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] != c)
			return false;
	return true;
}

TEST(arena_release_keeps_what_came_before)
{
	static const size_t sizes[] = { 1, 16, 100, 20000, 70000, 5, 300000, 64 * 1024 };
	for (size_t start = 0; start < 3; start++) {
		Arena *a = arena_new();
		char *kept[8];
		size_t n = 0;
		for (size_t i = 0; i < start; i++, n++)
			kept[n] = fill(a, sizes[i], (char)('a' + n));
		ArenaMark m = arena_mark(a);
		for (int round = 0; round < 3; round++) {
			for (size_t i = 0; i < ARRAY_LEN(sizes); i++)
				fill(a, sizes[i], 'x');
			/* nested scope */
			ArenaMark inner = arena_mark(a);
			fill(a, 200000, 'y');
			arena_release(a, inner);
			arena_release(a, m);
			for (size_t i = 0; i < n; i++)
				CHECK(all(kept[i], sizes[i], (char)('a' + i)));
		}
		/* the arena is still usable, and new memory is zeroed */
		char *z = arena_alloc(a, 1000);
		CHECK(z[0] == 0 && z[999] == 0);
		char *big = arena_alloc(a, 100000);
		CHECK(big[0] == 0 && big[99999] == 0);
		for (size_t i = 0; i < n; i++)
			CHECK(all(kept[i], sizes[i], (char)('a' + i)));
		arena_free(a);
	}
}

TEST(arena_release_bounds_memory)
{
	/* 1,000 scopes of 1 MB each: without release this would be 1 GB */
	Arena *a = arena_new();
	char *keep = arena_strdup(a, "kept");
	for (int i = 0; i < 1000; i++) {
		ArenaMark m = arena_mark(a);
		for (int j = 0; j < 16; j++)
			fill(a, 64 * 1024 - 64, 'q');
		arena_release(a, m);
	}
	CHECK_STR(keep, "kept");
	arena_free(a);
}
