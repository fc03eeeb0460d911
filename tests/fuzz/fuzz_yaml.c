/*
 * fuzz_yaml.c — libFuzzer harness for source.c's own reader of common YAML:
 * on every input source.c would parse (valid UTF-8, no control characters,
 * no CR, no line starting with `%`), the reader either leaves the text to
 * libfyaml or makes exactly libfyaml's events (kinds, positions, texts).
 * A difference aborts; every finding becomes a case of the unit test
 * source_fast_reader_agrees.
 */
#include "platformc.h"

#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *s = (const char *)data;
	size_t off;
	if (size > 65536 || !utf8_valid(s, size, &off))
		return 0;
	for (size_t i = 0; i < size; i++) {
		unsigned char c = data[i];
		if ((c < 0x20 && c != '\n' && c != '\t') || c == 0x7F || (c == 0xC2 && i + 1 < size && data[i + 1] < 0xA0) ||
		    (c == 0xE2 && i + 2 < size && data[i + 1] == 0x80 && (data[i + 2] == 0xA8 || data[i + 2] == 0xA9)))
			return 0;
		if (c == '%' && (i == 0 || data[i - 1] == '\n'))
			return 0;
	}
	bool taken;
	const char *why = src_fast_agrees(s, size, &taken);
	if (why) {
		fprintf(stderr, "fast reader and libfyaml differ: %s\n", why);
		abort();
	}
	return 0;
}
