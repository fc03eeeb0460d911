/*
 * test_hash.c — hash64 is XXH64 with seed 0: the published reference values,
 * across the short paths (tail bytes, 4- and 8-byte steps) and the 32-byte
 * stripes.
 */
#include "platformc.h"
#include "unit.h"

#include <string.h>

TEST(hash64_reference_vectors)
{
	static const struct {
		const char *in;
		uint64_t want;
	} v[] = {
		{ "", 0xEF46DB3751D8E999ull },
		{ "a", 0xD24EC4F1A98C6E5Bull },
		{ "abc", 0x44BC2CF5AD770999ull },
		{ "asdf", 0x415872F599CEA71Eull },
		{ "Call me Ishmael.", 0x6D04390FC9D61A90ull },
		{ "Nobody inspects the spammish repetition", 0xFBCEA83C8A378BF1ull },
	};
	for (size_t i = 0; i < ARRAY_LEN(v); i++) {
		uint64_t h = hash64(v[i].in, strlen(v[i].in));
		if (h != v[i].want)
			fprintf(stderr, "  hash64(\"%s\") = %016llx\n", v[i].in, (unsigned long long)h);
		CHECK(h == v[i].want);
	}
	static const unsigned char zero = 0;
	CHECK(hash64(&zero, 1) == 0xE934A84ADB052768ull);
}
