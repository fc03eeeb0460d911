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

TEST(hash64_in_pieces_equals_hash64)
{
	/* past the gathering buffer: pieces that fill it exactly, overflow it,
	 * and are larger than it */
	static unsigned char b[5000];
	for (size_t i = 0; i < sizeof b; i++)
		b[i] = (unsigned char)(i * 7 + 3);
	static const size_t pieces[] = { 1, 3, 31, 32, 33, 64, 5, 1023, 1024, 1025, 2100 };
	for (size_t n = 0; n <= sizeof b; n += n < 300 ? 13 : 391) {
		for (size_t k = 0; k < ARRAY_LEN(pieces); k++) {
			Hash64 h;
			hash64_begin(&h);
			for (size_t off = 0; off < n;) {
				size_t take = pieces[(k + off) % ARRAY_LEN(pieces)];
				if (take > n - off)
					take = n - off;
				hash64_add(&h, b + off, take);
				off += take;
			}
			CHECK(hash64_end(&h) == hash64(b, n));
		}
	}
}
