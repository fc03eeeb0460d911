/*
 * test_json.c — JSON text both ways.
 * json_unescape, the one reader of JSON string text (the diagnostic code
 * table, the language server's messages): the simple escapes, \u in each
 * UTF-8 length, surrogate pairs as one character and a lone surrogate as
 * U+FFFD.
 * json.c, the one writer: the escaper's edge cases (every control byte, DEL,
 * U+2028/9 and their prefixes, non-BMP characters copied as UTF-8, never as a
 * surrogate pair), what it writes read back by json_unescape, numbers, the
 * three styles of one tree, the schemas' hand-set layout and repeated keys.
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

/* ---- the writer ---- */

static char *str_json(const char *s)
{
	StrBuf b;
	sb_init(&b);
	json_string(&b, s);
	return sb_detach(&b);
}

static char *tree_json(const DNode *d, JsonStyle style)
{
	StrBuf b;
	sb_init(&b);
	json_write(&b, d, style);
	return sb_detach(&b);
}

#define ESCAPES(in, want)                                                       \
	do {                                                                    \
		char *got_ = str_json(in);                                      \
		CHECK_STR(got_, want);                                          \
		free(got_);                                                     \
	} while (0)

TEST(json_string_escapes)
{
	ESCAPES("", "\"\"");
	ESCAPES("plain text", "\"plain text\"");
	ESCAPES("\"q\" \\ /", "\"\\\"q\\\" \\\\ /\""); /* `/` is not escaped */
	ESCAPES("\b\f\n\r\t", "\"\\b\\f\\n\\r\\t\"");
	ESCAPES("\x01\x1f\x7f", "\"\\u0001\\u001f\\u007f\"");
	ESCAPES("\x0b\x1b", "\"\\u000b\\u001b\"");
	/* U+2028 and U+2029 (not JavaScript string text); U+2027 and U+202A as they are */
	ESCAPES("a\xe2\x80\xa8" "b\xe2\x80\xa9", "\"a\\u2028b\\u2029\"");
	ESCAPES("\xe2\x80\xa7\xe2\x80\xaa", "\"\xe2\x80\xa7\xe2\x80\xaa\"");
	/* a prefix of U+2028 at the end of the text is copied, not read past */
	ESCAPES("\xe2", "\"\xe2\"");
	ESCAPES("\xe2\x80", "\"\xe2\x80\"");
	/* beyond ASCII: UTF-8 as it is, a non-BMP character too (no surrogate pair) */
	ESCAPES("\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80 \xf4\x8f\xbf\xbf",
		"\"\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80 \xf4\x8f\xbf\xbf\"");
	/* 0x80..0xff other than those sequences is never escaped */
	ESCAPES("\xc2\x85\xc2\xa0", "\"\xc2\x85\xc2\xa0\"");
}

TEST(json_string_every_control_byte)
{
	static const char hex[] = "0123456789abcdef";
	for (int c = 1; c < 0x20; c++) {
		char in[2] = {(char)c, 0}, want[16];
		const char *named = c == '\b' ? "\\b" : c == '\f' ? "\\f" : c == '\n' ? "\\n" : c == '\r' ? "\\r" : c == '\t' ? "\\t" : NULL;
		if (named)
			snprintf(want, sizeof want, "\"%s\"", named);
		else
			snprintf(want, sizeof want, "\"\\u00%c%c\"", hex[c >> 4], hex[c & 15]);
		ESCAPES(in, want);
	}
}

/* What the writer escapes, the reader unescapes to the same bytes. */
TEST(json_string_reads_back)
{
	static const char *const texts[] = {
		"", "a\"b\\c", "\x01\x02\x1f\x7f", "tab\tnl\ncr\r", "\xe2\x80\xa8\xe2\x80\xa9",
		"\xf0\x9f\x9a\x80 rocket", "\xf0\x90\x80\x80\xf4\x8f\xbf\xbf", "\xef\xbf\xbd", "\\u0041 stays text",
	};
	for (size_t i = 0; i < ARRAY_LEN(texts); i++) {
		char *j = str_json(texts[i]);
		size_t n = strlen(j), len = 0;
		CHECK(n >= 2 && j[0] == '"' && j[n - 1] == '"');
		char *back = json_unescape(j + 1, n - 2, &len);
		CHECK(len == strlen(texts[i]) && !memcmp(back, texts[i], len));
		free(back);
		free(j);
	}
}

TEST(json_numbers)
{
	Arena *a = arena_new();
	DNode *s = doc_seq(a);
	doc_push(a, s, doc_int(a, 0));
	doc_push(a, s, doc_int(a, -9223372036854775807LL - 1));
	doc_push(a, s, doc_int(a, 9223372036854775807LL));
	doc_push(a, s, doc_num(a, 0.5));
	doc_push(a, s, doc_num(a, 1e21)); /* YAML 1.1's float form, a JSON number too */
	doc_push(a, s, doc_num(a, -2.25));
	doc_push(a, s, doc_bool(a, false));
	doc_push(a, s, doc_null(a));
	char *t = tree_json(s, JSON_COMPACT);
	CHECK_STR(t, "[0,-9223372036854775808,9223372036854775807,0.5,1.0e+21,-2.25,false,null]");
	free(t);
	arena_free(a);
}

TEST(json_styles)
{
	Arena *a = arena_new();
	DNode *m = doc_map(a);
	doc_set_str(a, m, "k", "v");
	DNode *s = doc_set_seq(a, m, "list");
	doc_push(a, s, doc_int(a, 1));
	doc_set_int(a, doc_push_map(a, s), "x", 2);
	doc_set_map(a, m, "empty");
	doc_set_seq(a, m, "none");
	char *t = tree_json(m, JSON_COMPACT);
	CHECK_STR(t, "{\"k\":\"v\",\"list\":[1,{\"x\":2}],\"empty\":{},\"none\":[]}");
	free(t);
	t = tree_json(m, JSON_LINE);
	CHECK_STR(t, "{\"k\": \"v\", \"list\": [1, {\"x\": 2}], \"empty\": {}, \"none\": []}");
	free(t);
	t = tree_json(m, JSON_INDENTED);
	CHECK_STR(t, "{\n  \"k\": \"v\",\n  \"list\": [\n    1,\n    {\n      \"x\": 2\n    }\n  ],\n"
		     "  \"empty\": {},\n  \"none\": []\n}");
	free(t);
	StrBuf b;
	sb_init(&b);
	json_emit(&b, doc_str(a, "x"));
	sb_putc(&b, 0);
	CHECK_STR(b.data, "\"x\"\n");
	sb_free(&b);
	arena_free(a);
}

/* The editor schemas' layout: containers on one line, an entry of one that
 * starts its own line, explicit indent levels; the other styles ignore it. */
TEST(json_hand_set_layout)
{
	Arena *a = arena_new();
	DNode *root = doc_map(a);
	DNode *t = doc_set(a, root, "T", json_inline(doc_map(a)));
	doc_set_str(a, t, "type", "object");
	DNode *props = doc_set(a, t, "properties", json_break(doc_map(a), 2));
	DNode *f = doc_set(a, props, "f", json_inline(doc_map(a)));
	doc_set_str(a, f, "type", "string");
	doc_append(a, f, "description", doc_str(a, "one"));
	doc_append(a, f, "description", doc_str(a, "two")); /* kept twice */
	DNode *req = doc_set(a, t, "required", json_inline(doc_seq(a)));
	doc_push_str(a, req, "f");
	DNode *kinds = doc_set(a, t, "kinds", json_depth(doc_map(a), 1));
	doc_set_int(a, kinds, "a", 1);
	char *s = tree_json(root, JSON_INDENTED);
	CHECK_STR(s, "{\n"
		     "  \"T\": {\"type\": \"object\",\n"
		     "    \"properties\": {\n"
		     "      \"f\": {\"type\": \"string\", \"description\": \"one\", \"description\": \"two\"}\n"
		     "    }, \"required\": [\"f\"], \"kinds\": {\n"
		     "    \"a\": 1\n"
		     "  }}\n"
		     "}");
	free(s);
	s = tree_json(root, JSON_LINE);
	CHECK_STR(s, "{\"T\": {\"type\": \"object\", \"properties\": {\"f\": {\"type\": \"string\", \"description\": "
		     "\"one\", \"description\": \"two\"}}, \"required\": [\"f\"], \"kinds\": {\"a\": 1}}}");
	free(s);
	/* doc_set still replaces in place */
	doc_set_str(a, f, "type", "integer");
	CHECK(f->n == 3 && !strcmp(f->pairs[0].val->s, "integer"));
	arena_free(a);
}
