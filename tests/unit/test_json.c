/*
 * test_json.c — json_unescape, the one reader of JSON string text (the
 * diagnostic code table, the language server's messages): the simple
 * escapes, \u in each UTF-8 length, surrogate pairs as one character and a
 * lone surrogate as U+FFFD.
 */
#include "platformc.h"
#include "unit.h"

#include <stdlib.h>
#include <string.h>

static bool unescapes_to(const char *in, const char *want, size_t wantlen)
{
	size_t len = 0;
	char *got = json_unescape(in, strlen(in), &len);
	bool ok = len == wantlen && !memcmp(got, want, len) && got[len] == 0;
	if (!ok)
		fprintf(stderr, "  json_unescape(\"%s\"): %zu bytes, want %zu\n", in, len, wantlen);
	free(got);
	return ok;
}

#define UNESCAPES(in, want) CHECK(unescapes_to(in, want, sizeof want - 1))

TEST(json_unescape_simple_escapes)
{
	UNESCAPES("plain", "plain");
	UNESCAPES("", "");
	UNESCAPES("a\\nb\\tc\\r\\b\\f", "a\nb\tc\r\b\f");
	UNESCAPES("\\\"q\\\" \\\\ \\/", "\"q\" \\ /");
}

TEST(json_unescape_code_points)
{
	UNESCAPES("\\u0041", "A");
	UNESCAPES("\\u0000x", "\0x");
	UNESCAPES("\\u00e9", "\xc3\xa9");          /* é, two bytes */
	UNESCAPES("\\u20AC", "\xe2\x82\xac");      /* €, three bytes, upper-case hex */
	UNESCAPES("\\u2028", "\xe2\x80\xa8");
}

TEST(json_unescape_surrogate_pairs)
{
	UNESCAPES("\\ud83d\\ude00", "\xf0\x9f\x98\x80");          /* 😀 */
	UNESCAPES("a\\uD834\\uDD1Eb", "a\xf0\x9d\x84\x9e" "b");   /* 𝄞 */
	UNESCAPES("\\udbff\\udfff", "\xf4\x8f\xbf\xbf");          /* U+10FFFF */
	/* lone halves: U+FFFD, and what follows is kept */
	UNESCAPES("\\ud83dx", "\xef\xbf\xbdx");
	UNESCAPES("\\ude00", "\xef\xbf\xbd");
	UNESCAPES("\\ud83d\\u0041", "\xef\xbf\xbd" "A");
	UNESCAPES("\\ud83d", "\xef\xbf\xbd");
	/* the output is always valid UTF-8 */
	size_t len;
	char *s = json_unescape("\\ud800\\ud800\\udc00", 18, &len);
	CHECK(utf8_valid(s, len, NULL));
	free(s);
}
