/*
 * test_arena.c — arena_mark/arena_release: everything allocated after a
 * mark goes, everything before stays, in any mix of small and large blocks.
 */
#include "platformc.h"
#include "unit.h"

#include <stdarg.h>
#include <stdio.h>
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

/* The plain formatter gives what the C library gives, for every conversion it takes. */
static void same_as_libc(Arena *a, bool plain, const char *fmt, ...) PRINTF_LIKE(3, 4);
static void same_as_libc(Arena *a, bool plain, const char *fmt, ...)
{
	char want[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(want, sizeof want, fmt, ap);
	va_end(ap);
	CHECK(fmt_is_plain(fmt) == plain);
	va_start(ap, fmt);
	CHECK_STR(arena_vsprintf(a, fmt, ap), want);
	va_end(ap);
	StrBuf b;
	sb_init(&b);
	sb_puts(&b, "<");
	va_start(ap, fmt);
	sb_vprintf(&b, fmt, ap);
	va_end(ap);
	CHECK(b.len == strlen(want) + 1 && !strcmp(b.data + 1, want));
	sb_free(&b);
}

TEST(arena_sprintf_plain_formats)
{
	Arena *a = arena_new();
	same_as_libc(a, true, "no conversions");
	same_as_libc(a, true, "%s", "");
	same_as_libc(a, true, "%s-%s-%s", "checkout", "production", "availability");
	same_as_libc(a, true, "100%% of %s", "requests");
	same_as_libc(a, true, "%c%c|%d|%d|%d", 'a', '%', 0, -7, 2147483647);
	same_as_libc(a, true, "%d %u", -2147483647 - 1, 4294967295u);
	same_as_libc(a, true, "%ld %lu %lld %llu", -9000000000L, 18446744073709551615UL, -9223372036854775807LL - 1,
		     18446744073709551615ULL);
	same_as_libc(a, true, "%zu %zd|", (size_t)48489, (ssize_t)-3);
	same_as_libc(a, true, "[%.*s][%.*s][%.*s]", 3, "abcdef", 0, "abc", 10, "ab");
	same_as_libc(a, true, "tail %s", "é — ü");
	/* more pieces than one pass holds: the two-pass way, the same result */
	same_as_libc(a, true, "%s.%s.%s.%s.%s.%s.%s.%s.%s.%s.%s.%s.%s.%d", "a", "b", "c", "d", "e", "f", "g", "h",
		     "i", "j", "k", "l", "m", -13);
	same_as_libc(a, false, "%s.%s.%s.%s.%s.%s.%s.%s.%s.%s.%s.%s.%s.%x", "a", "b", "c", "d", "e", "f", "g", "h",
		     "i", "j", "k", "l", "m", 13u);
	same_as_libc(a, false, "%s %ls", "x", L"y");
	same_as_libc(a, false, "%5s|%-3d", "x", 4);
	same_as_libc(a, false, "%x %.2f", 255u, 1.005);
	same_as_libc(a, false, "%08x", 48u);
	same_as_libc(a, false, "%s %.0f", "n", 2.5);
	/* long results cross the arena's blocks */
	char big[300];
	memset(big, 'x', sizeof big - 1);
	big[sizeof big - 1] = 0;
	for (int i = 0; i < 400; i++)
		same_as_libc(a, true, "%s/%d", big, i);
	arena_free(a);
}
