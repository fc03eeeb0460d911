/*
 * unit.h — a minimal unit-test harness. Each test file defines
 *     TEST(name) { CHECK(cond); CHECK_STR(a, b); ... }
 * and the tests register themselves; unit_main.c runs them all and ends
 * with the line "N passed, N failed".
 */
#ifndef UNIT_H
#define UNIT_H
#include <stdio.h>
#include <string.h>

typedef void (*unit_fn)(void);
void unit_register(const char *name, unit_fn fn);
extern int unit_failures_in_test;

#define TEST(name)                                                              \
	static void test_##name(void);                                          \
	__attribute__((constructor)) static void register_##name(void)          \
	{                                                                       \
		unit_register(#name, test_##name);                              \
	}                                                                       \
	static void test_##name(void)

#define CHECK(cond)                                                             \
	do {                                                                    \
		if (!(cond)) {                                                  \
			fprintf(stderr, "  %s:%d: CHECK(%s) failed\n", __FILE__, \
				__LINE__, #cond);                               \
			unit_failures_in_test++;                                \
		}                                                               \
	} while (0)

#define CHECK_STR(a, b)                                                         \
	do {                                                                    \
		const char *a_ = (a), *b_ = (b);                                \
		if (!a_ || !b_ || strcmp(a_, b_) != 0) {                        \
			fprintf(stderr, "  %s:%d: %s == \"%s\", expected \"%s\"\n", \
				__FILE__, __LINE__, #a, a_ ? a_ : "(null)",     \
				b_ ? b_ : "(null)");                            \
			unit_failures_in_test++;                                \
		}                                                               \
	} while (0)
#endif
