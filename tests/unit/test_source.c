/* test_source.c — character units, credential masking and escaping in what
 * diagnostics print (source.c, diag.c). */
#include "platformc.h"
#include "unit.h"

#include <stdlib.h>

TEST(source_char_len)
{
	CHECK(node_char_len("a", 1) == 1);
	CHECK(node_char_len("\xC3\xA9", 2) == 2);        /* é */
	CHECK(node_char_len("\xE2\x82\xAC", 3) == 3);    /* € */
	CHECK(node_char_len("\xF0\x9F\x98\x80", 4) == 4); /* emoji */
	CHECK(node_char_len("\xC3", 1) == 1);            /* truncated */
	CHECK(node_char_len("\xE9x", 2) == 1);           /* Latin-1 byte */
	CHECK(node_char_len("\xC0\xAF", 2) == 1);        /* overlong */
	CHECK(node_char_len("\xED\xA0\x80", 3) == 1);    /* surrogate */
	CHECK(node_char_len("\x80", 1) == 1);            /* stray continuation */
}

/* Loads `text` through the whole front end and returns the human output. */
static char *run(const char *text, DiagFormat fmt)
{
	Arena *a = arena_new();
	Schema *s = schema_load(a);
	Diags d;
	diags_init(&d, a);
	lower_load_bytes(a, s, &d, "t.yaml", text, strlen(text));
	char *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);
	diags_print(&d, fmt, false, f);
	fclose(f);
	arena_free(a);
	return out;
}

TEST(source_secret_never_printed)
{
	const char *in = "platform: {name: acme, extra: AKIAIOSFODNN7EXAMPLE, bogus: 1}\n"
			 "# ghp_abcdefghijklmnopqrstuvwxyz0123456789\n";
	for (int fmt = DF_HUMAN; fmt <= DF_GITHUB; fmt++) {
		char *out = run(in, (DiagFormat)fmt);
		CHECK(strstr(out, "AKIA") == NULL);
		CHECK(strstr(out, "ghp_") == NULL);
		CHECK(strstr(out, "E0118") != NULL);
		free(out);
	}
}

TEST(source_escapes_in_snippets)
{
	/* a DEL byte: the snippet shows \x7F and the caret covers the escape */
	char *out = run("platform:\n  name: a\x7f" "b\n", DF_HUMAN);
	CHECK(strstr(out, "  name: a\\x7Fb\n") != NULL);
	CHECK(strstr(out, "|          ^^^^ here") != NULL);
	CHECK(strchr(out, 0x7f) == NULL);
	free(out);
}

/* libfyaml 0.7.12 reads `'a''''b'` as `a'''`: the front end unescapes
 * single-quoted scalars from the source bytes itself. */
TEST(source_single_quoted_escapes)
{
	static const struct {
		const char *yaml, *want;
	} cases[] = {
		{"x: 'a''''b'\n", "a''b"},
		{"x: '''''e'\n", "''e"},
		{"x: ['''''''e']\n", "'''e"},
		{"x: 'it''s'\n", "it's"},
		{"x: ''''\n", "'"},
		{"x: 'one\n  two\n\n  three'\n", "one two\nthree"},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		Arena *a = arena_new();
		Diags d;
		diags_init(&d, a);
		Node *root = src_load_bytes(a, &d, "t.yaml", cases[i].yaml, strlen(cases[i].yaml), NULL);
		CHECK(root != NULL);
		Node *x = root ? node_get(root, "x") : NULL;
		if (x && x->kind == N_SEQ)
			x = x->n ? x->items[0] : NULL;
		CHECK(x && x->kind == N_SCALAR && strcmp(x->text, cases[i].want) == 0);
		arena_free(a);
	}
}
