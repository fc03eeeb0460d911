/* test_source.c — character units, credential masking and escaping in what
 * diagnostics print (source.c, diag.c). */
#include "platformc.h"
#include "unit.h"

#include <ftw.h>
#include <stdlib.h>
#include <sys/stat.h>

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

/* source.c's own reader of common YAML against libfyaml: the same events
 * (kinds, positions, texts) wherever it takes a file. */
static int agree_case(const char *yaml, bool want_taken)
{
	bool taken = false;
	const char *why = src_fast_agrees(yaml, strlen(yaml), &taken);
	if (why)
		fprintf(stderr, "  fast reader and libfyaml differ on %s: %s\n", yaml, why);
	if (taken != want_taken)
		fprintf(stderr, "  fast reader %s %s\n", taken ? "took" : "left", yaml);
	return why == NULL && taken == want_taken;
}

TEST(source_fast_reader_agrees)
{
	static const char *taken[] = {
		"",
		"# only a comment\n\n",
		"a: b\n",
		"a: b",
		"  a: b\n  c: d\n",
		"a: b   # comment\nc: 'd'  \n",
		"a:\n  b: c\n  d:\n    - e\n    - f\n",
		"a:\n- b\n- c\nd: e\n",
		"- a\n- - b\n  - c\n- d: e\n  f: g\n-   h: i\n    j: k\n",
		"-\n  a: b\n-\n  - c\n",
		"a: {b: c, d: [e, f], g: {}}\nh: []\n",
		"a: {b: https://x.y/z, c: sqs:Send}\n",
		"a: [b,\n  c, # note\n  {d: e}\n  ]\n",
		"a: {b: 'c',\n     d: \"e\"}\n",
		"a: \"\"\nb: ''\nc: 'it''s'\nd: '''''e'\n",
		"a#b: c#d\ne: f:g\nh: -1\ni: -x\n",
		"\"quoted key\": v\n'single': w\n",
		"key with spaces: value with spaces\n",
		"a: ~\nb: null\nc: Null\n",
		"a: b\na: c\n",
		"<<: x\n",
		"a: [[[[x]]]]\n",
		"a: {b: c}   # trailing\n",
		"a: b, c\n",
		"a: x {y} [z]\n",
		"a: caf\xc3\xa9\nb: c\n",                               /* columns count characters */
		"- {t: \xc3\x89quipe, u: [\xe6\x97\xa5\xe6\x9c\xac, x], v: 'w\xe2\x80\x94'}\n",
		"\xf0\x9f\x9a\x80: \"\xf0\x9f\x9a\x80 x\" # \xc3\xa9\n",
		"a: b\xc2\240c\nd: \xc2\240\n",               /* no-break spaces are text */
		"a: [\xc3\xa9,\n  \xc3\xa9\xc3\xa9]\n",
	};
	static const char *left[] = {
		"a:\n",                 /* empty value */
		"a: |\n  text\n",       /* block scalar */
		"a: b\n  c\n",          /* plain scalar over two lines */
		"a: \"b\\n\"\n",        /* escape */
		"a: &x b\nc: *x\n",     /* anchor and alias */
		"a: !t b\n",            /* tag */
		"---\na: b\n",          /* document marker */
		"a: b\n...\n",
		"a:\tb\n",              /* tab */
		"a: x\xef\xbb\xbfy\n",   /* a byte order mark inside text */
		"? a\n: b\n",           /* explicit key */
		"a: b: c\n",            /* an error */
		"a: [b\n",              /* unclosed */
		"a: {b: c,}\n",         /* trailing comma */
		"a: [b, c\n  d]\n",     /* plain scalar over a line break in flow */
		"a: {b}\n",             /* flow key without value */
		"a:\n  - b\n  c: d\n",  /* bad indentation */
		"a:\n    b: c\n  d: e\n",
		"- a\nb: c\n",
		"a: [b,\nc]\n",         /* flow line not indented */
		"- t: {\n  }\n",        /* nor more than the mapping around it */
		"a : b\n",
		"- \n",
	};
	for (size_t i = 0; i < sizeof taken / sizeof taken[0]; i++)
		CHECK(agree_case(taken[i], true));
	for (size_t i = 0; i < sizeof left / sizeof left[0]; i++)
		CHECK(agree_case(left[i], false));
}

/* Every YAML file of the repository (examples, tests, stdlib, catalog). */
static int agree_files, agree_taken, agree_failures;

static int agree_tree(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	static char buf[1 << 20];
	size_t n = strlen(path);
	if (flag != FTW_F || n < 5 || strcmp(path + n - 5, ".yaml") != 0)
		return 0;
	FILE *f = fopen(path, "rb");
	if (!f)
		return 0;
	size_t len = fread(buf, 1, sizeof buf - 1, f);
	fclose(f);
	size_t off;
	/* what source.c hands its readers: valid UTF-8 without controls or CR */
	if (!utf8_valid(buf, len, &off) || memchr(buf, '\r', len))
		return 0;
	for (size_t i = 0; i < len; i++)
		if (((unsigned char)buf[i] < 0x20 && buf[i] != '\n' && buf[i] != '\t') || buf[i] == 0x7f)
			return 0;
	buf[len] = 0;
	bool taken;
	const char *why = src_fast_agrees(buf, len, &taken);
	if (why) {
		fprintf(stderr, "  fast reader and libfyaml differ on %s: %s\n", path, why);
		agree_failures++;
	}
	agree_files++, agree_taken += taken;
	return 0;
}

TEST(source_fast_reader_agrees_on_repository)
{
	agree_files = agree_taken = agree_failures = 0;
	const char *roots[] = {"examples", "tests", "stdlib", "catalog"};
	for (size_t i = 0; i < 4; i++)
		nftw(roots[i], agree_tree, 16, FTW_PHYS);
	CHECK(agree_failures == 0);
	CHECK(agree_files > 200);
	CHECK(agree_taken > agree_files / 2);
}

/* Control characters are found wherever they stand, whole words of
 * printable text being skipped at once. */
TEST(source_control_anywhere)
{
	static const char *ctrl[] = {"\x01", "\x7f", "\xc2\x85", "\xe2\x80\xa8", "\x1f"};
	for (size_t c = 0; c < sizeof ctrl / sizeof ctrl[0]; c++) {
		for (int pos = 0; pos < 24; pos++) {
			char text[64];
			int len = snprintf(text, sizeof text, "a: %.*s%sy\n", pos, "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", ctrl[c]);
			Arena *a = arena_new();
			Diags d;
			diags_init(&d, a);
			src_load_bytes(a, &d, "t.yaml", text, (size_t)len, NULL);
			CHECK(d.n == 1 && strcmp(d.items[0]->code, "E0004") == 0 && d.items[0]->span.line == 1 &&
			      d.items[0]->span.col == 4 + pos);
			arena_free(a);
		}
	}
	/* and printable text around line breaks passes */
	Arena *a = arena_new();
	Diags d;
	diags_init(&d, a);
	const char *ok = "abcdefgh: ijklmnopqrstuvwxyz\nb: '~!@#$%^&*()_+{}|:<>?'\n";
	CHECK(src_load_bytes(a, &d, "t.yaml", ok, strlen(ok), NULL) != NULL && d.n == 0);
	arena_free(a);
}
