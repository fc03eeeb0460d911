/*
 * fuzz_frontend.c — libFuzzer harness over the whole front end:
 * bytes -> source -> check -> lower -> resolve -> diagnostics (all three
 * formats) -> backends -> emitters. Any crash, hang (-timeout), leak or
 * sanitizer report is a bug; every finding becomes a tests/errors case.
 * Includes resolve against a folder that does not exist, so the fuzzer
 * never reads the machine's files.
 */
#include "platformc.h"

#include <stdio.h>

static Schema *schema;
static Arena *schema_arena;
static FILE *devnull;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!schema) {
		schema_arena = arena_new();
		schema = schema_load(schema_arena);
		devnull = fopen("/dev/null", "w");
	}
	Arena *a = arena_new();
	Diags d;
	diags_init(&d, a);
	Platform *p = lower_load_bytes(a, schema, &d, "/nonexistent-fuzz-dir/platform.yaml", (const char *)data, size);
	diags_print(&d, DF_HUMAN, false, devnull);
	diags_print(&d, DF_JSON, false, devnull);
	diags_print(&d, DF_GITHUB, false, devnull);
	if (p) {
		FileSet fs;
		fileset_init(&fs, a);
		for (int i = 0; i < nbackends; i++)
			backends[i](p, &fs);
		fileset_sort(&fs);
		fileset_free(&fs);
	}
	arena_free(a);
	return 0;
}
