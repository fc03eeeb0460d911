/*
 * fuzz_expr.c — libFuzzer harness over the catalog expression language
 * (expr.c): any bytes parse or fail with a message, within the depth and
 * length bounds, and a parsed expression evaluates over an empty object in
 * both tiers without crashing. `make fuzz-expr` runs it.
 */
#include "platformc.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > 4096)
		return 0;
	char *src = xmalloc(size + 1);
	memcpy(src, data, size);
	src[size] = 0;
	Arena *a = arena_new();
	char err[128];
	int pos;
	Expr *e = expr_parse(a, src, err, sizeof err, &pos);
	if (e) {
		PVal obj = {.kind = PV_OBJ};
		Env nonprod = {.name = "dev"}, prod = {.name = "production", .prod = true};
		expr_eval(NULL, e, &obj, &nonprod);
		expr_eval(NULL, e, &obj, &prod);
	} else if (pos < 0 || (size_t)pos > size) {
		__builtin_trap(); /* the error offset must point into the input */
	}
	arena_free(a);
	free(src);
	return 0;
}
