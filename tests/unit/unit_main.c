/* unit_main.c — runs every registered TEST; prints "N passed, N failed". */
#include "unit.h"

#include <stdlib.h>

#define MAX_TESTS 1024
static struct {
	const char *name;
	unit_fn fn;
} tests[MAX_TESTS];
static int ntests;
int unit_failures_in_test;

void unit_register(const char *name, unit_fn fn)
{
	if (ntests < MAX_TESTS)
		tests[ntests].name = name, tests[ntests++].fn = fn;
}

static int cmp(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

int main(int argc, char **argv)
{
	qsort(tests, (size_t)ntests, sizeof tests[0], cmp);
	int passed = 0, failed = 0;
	for (int i = 0; i < ntests; i++) {
		if (argc > 1 && !strstr(tests[i].name, argv[1]))
			continue;
		unit_failures_in_test = 0;
		tests[i].fn();
		if (unit_failures_in_test) {
			printf("FAIL unit/%s\n", tests[i].name);
			failed++;
		} else {
			printf("ok   unit/%s\n", tests[i].name);
			passed++;
		}
	}
	printf("%d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}
