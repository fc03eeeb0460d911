/* test_doc.c — DNode builders, the quoting rule, and the YAML/JSON emitters. */
#include "platformc.h"
#include "unit.h"

#include <libfyaml.h>
#include <stdint.h>
#include <stdlib.h>
#include <strings.h>

/* Every string here is read as something other than this string by some
 * YAML 1.1 or 1.2 reader (or is not a valid plain scalar at all). */
static const char *const must_quote[] = {
	"", "~", "null", "Null", "NULL",
	"y", "Y", "yes", "Yes", "YES", "n", "N", "no", "No", "NO",
	"true", "True", "TRUE", "false", "False", "FALSE",
	"on", "On", "ON", "off", "Off", "OFF",
	"0", "16", "-5", "+5", "1_000", "0o17", "017", "0755", "0x1F", "0X1f", "0b101", "-0b101",
	"1:20", "12:30", "12:30:00", "190:20:30",
	"1.10", "15.10", ".5", "-.5", "+.5", "1.", "1e3", "1E3", "1.0e+3", "1_000.5", "1:20.5", "0x1p-2",
	".inf", ".Inf", ".INF", "-.inf", "-.Inf", "+.inf", ".nan", ".NaN", ".NAN", "-inf", "+Infinity",
	"+.Infinity", "-.INFINITY", "infinity", "Infinity", "-nan", "+NaN",
	"2024-01-01", "2024-1-1", "2024-01-01T10:00:00Z", "2001-12-14 21:59:43.10 -5",
	"2001-12-14t21:59:43.10-05:00",
	"=", "<<",
	" x", "x ", " ", "\tx", "x\t", "a\nb", "a\rb", "\x01", "bell\a", "del\x7f",
	"next\xc2\x85line", "line\xe2\x80\xa8sep", "para\xe2\x80\xa9sep", ("\xef\xbb\xbf" "bom"),
	"a: b", "a:", "key: value", "x #y", "#x", "# comment",
	"{{ x }}", "{{ .Values.x }}", "{a}", "[a]", "]", "}", ",x", "?x", "? x", ":x", ": x",
	"&anchor", "*alias", "!tag", "|", "|x", ">", ">x", "'x'", "\"x\"", "%x", "@x", "`x`",
	"-", "- x", "---", "--- x", "...", "... x", "-1", "-.5",
};

/* Ordinary strings: quoting them would make output look machine-made. */
static const char *const must_not_quote[] = {
	"backend-dev", "ghcr.io/fastish/user-service", "ghcr.io/fastish/user-service:1.2.3",
	"250m", "512Mi", "1Gi", "1G", "5s", "300ms", "1h30m", "/health", "https://x.y/z",
	"app.kubernetes.io/name", "Backend Team", "apps/v1", "Deployment", "x", "a-b_c.d",
	"$(VAR)", "${VAR}", "user@example.com", "a:b", "a#b", "http://a:8080/x", "--port",
	"-Xmx512m", "value with spaces", "é", "naïve café", "日本語", "k8s", "v1", "v1.2.3",
	"sum(rate(http_requests_total[5m]))", "a, b", "yesterday", "nope", "online", "nullable",
	"truth", "Info", "nano", "=x", "<<x", "a=b", "a'b", "a\"b", "a\\b", "100%", "50% off",
};

TEST(doc_needs_quotes_table)
{
	for (size_t i = 0; i < ARRAY_LEN(must_quote); i++) {
		if (!doc_yaml_needs_quotes(must_quote[i])) {
			fprintf(stderr, "  should quote: \"%s\"\n", must_quote[i]);
			unit_failures_in_test++;
		}
	}
	for (size_t i = 0; i < ARRAY_LEN(must_not_quote); i++) {
		if (doc_yaml_needs_quotes(must_not_quote[i])) {
			fprintf(stderr, "  should not quote: \"%s\"\n", must_not_quote[i]);
			unit_failures_in_test++;
		}
	}
}

static char *emit_yaml(DNode *const *docs, int n, const char *header)
{
	StrBuf b;
	sb_init(&b);
	doc_yaml_emit(&b, docs, n, header);
	return sb_detach(&b);
}

static char *emit_json(const DNode *d)
{
	StrBuf b;
	sb_init(&b);
	json_emit(&b, d);
	return sb_detach(&b);
}

static const char *const nasty[] = {
	"plain", "with \"double\" quotes", "with 'single' quotes", "back\\slash", "C:\\path\\",
	"line1\nline2", "trailing newline\n", "keep\n\n", "keep3\n\n\n", "sp \nx", "x\n y", "two\n\nblank", "\n", "\n\nx", "tab\there", "cr\r\n",
	"{{ .x }}", "{{ .Values.image.tag }}", "$(VAR)", "${VAR:-x}", "a: b", "a:", ":", "- x",
	"---", "...", "--- |", "# not a comment", "x # y", "a,b", "[x]", "{x: y}", "&a", "*a",
	"!!str", "%TAG", "@x", "`x`", "|", ">", "?", "? x", "=", "<<", "~", "null", "",
	" ", "  lead", "trail  ", "y", "n", "yes", "no", "on", "off", "Yes", "NO", "True",
	"FALSE", "0755", "017", "0x1F", "0o17", "0b101", "1_000", "1:20", "12:30:00", "1.10",
	".5", "1e3", "1.0e+3", ".inf", "-.Inf", ".nan", "1:20.5", "2024-01-01",
	"2024-01-01T10:00:00Z", "2001-12-14 21:59:43.10 -5", "é", "naïve café", "日本語",
	"emoji \xf0\x9f\x9a\x80", "\xf0\x9f\x98\x80", "nbsp\xc2\xa0x", "ls\xe2\x80\xa8ps\xe2\x80\xa9",
	"nel\xc2\x85x", ("\xef\xbb\xbf" "bom"), "ctl\x01\x1f\x7f", ("a very long string that is "
	 "longer than eighty columns so that a folding emitter would be tempted to wrap it somewhere"),
};

/* Emit {k: s, s: 1} and [s] (block and flow), read back with libfyaml. */
static void roundtrip_one(const char *s)
{
	Arena *a = arena_new();
	DNode *map = doc_map(a);
	doc_set_str(a, map, "k", s);
	doc_set_int(a, map, s, 1);
	DNode *seq = doc_set_seq(a, map, "seq");
	doc_push_str(a, seq, s);
	DNode *fseq = doc_set_seq(a, map, "flow");
	fseq->flow = true;
	doc_push_str(a, fseq, s);
	doc_push_str(a, fseq, "x");
	DNode *lit = doc_set_str(a, map, "lit", s);
	lit->literal = true;
	char *text = emit_yaml(&map, 1, NULL);

	struct fy_document *fyd = fy_document_build_from_string(NULL, text, strlen(text));
	if (!fyd) {
		fprintf(stderr, "  unparsable output for \"%s\":\n%s", s, text);
		unit_failures_in_test++;
		goto out;
	}
	struct fy_node *root = fy_document_root(fyd);
	struct fy_node *vals[4] = {
		fy_node_mapping_lookup_by_string(root, "k", FY_NT),
		fy_node_sequence_get_by_index(fy_node_mapping_lookup_by_string(root, "seq", FY_NT), 0),
		fy_node_sequence_get_by_index(fy_node_mapping_lookup_by_string(root, "flow", FY_NT), 0),
		fy_node_mapping_lookup_by_string(root, "lit", FY_NT),
	};
	for (int i = 0; i < 4; i++) {
		size_t len = 0;
		const char *got = vals[i] ? fy_node_get_scalar(vals[i], &len) : NULL;
		if (!got || len != strlen(s) || memcmp(got, s, len) != 0) {
			fprintf(stderr, "  value %d of \"%s\" did not round-trip:\n%s", i, s, text);
			unit_failures_in_test++;
		} else if (i < 3 && doc_yaml_needs_quotes(s) && fy_node_get_style(vals[i]) == FYNS_PLAIN) {
			fprintf(stderr, "  value %d of \"%s\" left plain:\n%s", i, s, text);
			unit_failures_in_test++;
		}
	}
	/* the key: find the pair whose value is the int 1 */
	bool found = false;
	void *iter = NULL;
	struct fy_node_pair *p;
	while ((p = fy_node_mapping_iterate(root, &iter))) {
		size_t len = 0;
		const char *k = fy_node_get_scalar(fy_node_pair_key(p), &len);
		const char *v = fy_node_get_scalar(fy_node_pair_value(p), NULL);
		if (v && strcmp(v, "1") == 0 && k && len == strlen(s) && memcmp(k, s, len) == 0) {
			found = true;
			if (doc_yaml_needs_quotes(s) && fy_node_get_style(fy_node_pair_key(p)) == FYNS_PLAIN) {
				fprintf(stderr, "  key \"%s\" left plain:\n%s", s, text);
				unit_failures_in_test++;
			}
		}
	}
	if (!found) {
		fprintf(stderr, "  key \"%s\" did not round-trip:\n%s", s, text);
		unit_failures_in_test++;
	}
	fy_document_destroy(fyd);
out:
	free(text);
	arena_free(a);
}

TEST(doc_yaml_roundtrip)
{
	for (size_t i = 0; i < ARRAY_LEN(nasty); i++)
		roundtrip_one(nasty[i]);
	for (size_t i = 0; i < ARRAY_LEN(must_quote); i++)
		roundtrip_one(must_quote[i]);
	for (size_t i = 0; i < ARRAY_LEN(must_not_quote); i++)
		roundtrip_one(must_not_quote[i]);
}

/* Strings that need no quotes come out plain: output looks hand-written. */
TEST(doc_yaml_plain_stays_plain)
{
	Arena *a = arena_new();
	for (size_t i = 0; i < ARRAY_LEN(must_not_quote); i++) {
		const char *s = must_not_quote[i];
		DNode *m = doc_map(a);
		doc_set_str(a, m, "k", s);
		char *text = emit_yaml(&m, 1, NULL);
		char want[256];
		snprintf(want, sizeof want, "k: %s\n", s);
		CHECK_STR(text, want);
		free(text);
	}
	arena_free(a);
}

TEST(doc_yaml_golden)
{
	Arena *a = arena_new();
	DNode *d = doc_map(a);
	doc_set_str(a, d, "apiVersion", "apps/v1");
	doc_set_str(a, d, "kind", "Deployment");
	DNode *md = doc_set_map(a, d, "metadata");
	doc_set_str(a, md, "name", "user-service");
	doc_set_str(a, md, "namespace", "backend-dev");
	DNode *labels = doc_set_map(a, md, "labels");
	doc_set_str(a, labels, "app.kubernetes.io/name", "user-service");
	doc_set_str(a, labels, "version", "1.10");
	doc_set_str(a, labels, "enabled", "no");
	DNode *spec = doc_set_map(a, d, "spec");
	doc_set_int(a, spec, "replicas", 3);
	DNode *cs = doc_set_seq(a, spec, "containers");
	DNode *c = doc_push_map(a, cs);
	doc_set_str(a, c, "name", "app");
	doc_set_str(a, c, "image", "ghcr.io/fastish/user-service:1.2.3");
	DNode *args = doc_set_seq(a, c, "args");
	args->flow = true;
	doc_push_str(a, args, "--port");
	doc_push_str(a, args, "8080");
	doc_push_str(a, args, "a,b");
	DNode *res = doc_set_map(a, c, "resources");
	DNode *req = doc_set_map(a, res, "requests");
	doc_set_str(a, req, "cpu", "250m");
	doc_set_str(a, req, "memory", "512Mi");
	DNode *ports = doc_set_seq(a, c, "ports");
	DNode *p = doc_push_map(a, ports);
	doc_set_int(a, p, "containerPort", 8080);
	doc_set_str(a, p, "name", "http");
	doc_set(a, c, "ratio", doc_num(a, 0.5));
	doc_set_bool(a, c, "stdin", false);
	doc_set(a, c, "extra", doc_null(a));
	doc_set_seq(a, c, "emptySeq");
	doc_set_map(a, c, "emptyMap");
	DNode *script = doc_set_str(a, c, "script", "set -e\necho \"hi\"\n");
	script->literal = true;
	DNode *nolit = doc_set_str(a, c, "oneline", "x\n");
	(void)nolit;
	char *text = emit_yaml(&d, 1, NULL);
	CHECK_STR(text,
		  "apiVersion: apps/v1\n"
		  "kind: Deployment\n"
		  "metadata:\n"
		  "  name: user-service\n"
		  "  namespace: backend-dev\n"
		  "  labels:\n"
		  "    app.kubernetes.io/name: user-service\n"
		  "    version: \"1.10\"\n"
		  "    enabled: \"no\"\n"
		  "spec:\n"
		  "  replicas: 3\n"
		  "  containers:\n"
		  "  - name: app\n"
		  "    image: ghcr.io/fastish/user-service:1.2.3\n"
		  "    args: [--port, \"8080\", \"a,b\"]\n"
		  "    resources:\n"
		  "      requests:\n"
		  "        cpu: 250m\n"
		  "        memory: 512Mi\n"
		  "    ports:\n"
		  "    - containerPort: 8080\n"
		  "      name: http\n"
		  "    ratio: 0.5\n"
		  "    stdin: false\n"
		  "    extra: null\n"
		  "    emptySeq: []\n"
		  "    emptyMap: {}\n"
		  "    script: |\n"
		  "      set -e\n"
		  "      echo \"hi\"\n"
		  "    oneline: \"x\\n\"\n");
	free(text);
	arena_free(a);
}

TEST(doc_yaml_header_and_multi)
{
	Arena *a = arena_new();
	DNode *d1 = doc_map(a), *d2 = doc_map(a), *d3 = doc_seq(a);
	doc_set_str(a, d1, "kind", "Namespace");
	doc_set_str(a, d2, "kind", "ResourceQuota");
	doc_push_str(a, d3, "x");
	DNode *docs[] = { d1, d2, d3 };
	char *text = emit_yaml(docs, 3, "generated by platformc — do not edit\n\nsecond line");
	CHECK_STR(text, "# generated by platformc — do not edit\n"
			"#\n"
			"# second line\n"
			"kind: Namespace\n"
			"---\n"
			"kind: ResourceQuota\n"
			"---\n"
			"- x\n");
	free(text);
	text = emit_yaml(docs, 1, "one\n");
	CHECK_STR(text, "# one\nkind: Namespace\n");
	free(text);

	FileSet fs;
	fileset_init(&fs, a);
	fileset_add_yaml(&fs, "a/b.yaml", d1);
	fileset_add_yaml_multi(&fs, "a/c.yaml", docs, 2);
	fileset_add_json(&fs, "a/d.json", d1);
	const OutFile *f = fileset_find(&fs, "a/b.yaml");
	CHECK(f && f->len == strlen(f->data));
	CHECK(f && strcmp(f->data, "# generated by platformc — do not edit\nkind: Namespace\n") == 0);
	f = fileset_find(&fs, "a/c.yaml");
	CHECK(f && strcmp(f->data, "# generated by platformc — do not edit\nkind: Namespace\n"
				   "---\nkind: ResourceQuota\n") == 0);
	f = fileset_find(&fs, "a/d.json");
	CHECK(f && f->len == strlen(f->data));
	CHECK(f && strcmp(f->data, "{\n  \"kind\": \"Namespace\"\n}\n") == 0);
	fileset_free(&fs);
	arena_free(a);
}

TEST(json_emit_indented)
{
	Arena *a = arena_new();
	DNode *d = doc_map(a);
	doc_set_str(a, d, "title", "say \"hi\"\\\n\t\r\b\f\x01\x1f é \xe2\x80\xa8\xe2\x80\xa9 \xf0\x9f\x9a\x80");
	doc_set_int(a, d, "n", -42);
	doc_set(a, d, "f", doc_num(a, 99.95));
	doc_set_bool(a, d, "t", true);
	doc_set(a, d, "z", doc_null(a));
	doc_set_map(a, d, "em");
	doc_set_seq(a, d, "es");
	DNode *s = doc_set_seq(a, d, "panels");
	DNode *p = doc_push_map(a, s);
	doc_set_int(a, p, "id", 1);
	DNode *t = doc_set_seq(a, p, "targets");
	doc_push_str(a, t, "up");
	doc_push(a, t, doc_int(a, 2));
	char *text = emit_json(d);
	CHECK_STR(text, "{\n"
			"  \"title\": \"say \\\"hi\\\"\\\\\\n\\t\\r\\b\\f\\u0001\\u001f é \\u2028\\u2029 \xf0\x9f\x9a\x80\",\n"
			"  \"n\": -42,\n"
			"  \"f\": 99.95,\n"
			"  \"t\": true,\n"
			"  \"z\": null,\n"
			"  \"em\": {},\n"
			"  \"es\": [],\n"
			"  \"panels\": [\n"
			"    {\n"
			"      \"id\": 1,\n"
			"      \"targets\": [\n"
			"        \"up\",\n"
			"        2\n"
			"      ]\n"
			"    }\n"
			"  ]\n"
			"}\n");
	free(text);
	text = emit_json(doc_seq(a));
	CHECK_STR(text, "[]\n");
	free(text);
	text = emit_json(doc_str(a, "x"));
	CHECK_STR(text, "\"x\"\n");
	free(text);
	arena_free(a);
}

/* The JSON output of every nasty string parses back (libfyaml reads JSON as
 * YAML flow) to the same text. */
TEST(json_emit_roundtrip)
{
	Arena *a = arena_new();
	for (size_t i = 0; i < ARRAY_LEN(nasty); i++) {
		DNode *m = doc_map(a);
		doc_set_str(a, m, "k", nasty[i]);
		char *text = emit_json(m);
		struct fy_document *fyd = fy_document_build_from_string(NULL, text, strlen(text));
		size_t len = 0;
		const char *got = fyd ? fy_node_get_scalar(fy_node_mapping_lookup_by_string(
						 fy_document_root(fyd), "k", FY_NT), &len) : NULL;
		if (!got || len != strlen(nasty[i]) || memcmp(got, nasty[i], len) != 0) {
			fprintf(stderr, "  JSON of \"%s\" did not round-trip:\n%s", nasty[i], text);
			unit_failures_in_test++;
		}
		if (fyd)
			fy_document_destroy(fyd);
		free(text);
	}
	arena_free(a);
}

TEST(doc_builders)
{
	Arena *a = arena_new();
	DNode *m = doc_map(a);
	char key[16];
	for (int i = 0; i < 100; i++) {
		snprintf(key, sizeof key, "k%d", i);
		doc_set_int(a, m, key, i); /* key buffer reused: keys must be copied */
	}
	CHECK(m->n == 100);
	CHECK(doc_get(m, "k0") && doc_get(m, "k0")->i == 0);
	CHECK(doc_get(m, "k99") && doc_get(m, "k99")->i == 99);
	CHECK(doc_get(m, "k100") == NULL);
	CHECK(doc_get(NULL, "k0") == NULL);
	CHECK(doc_get(doc_seq(a), "k0") == NULL);
	/* replacing keeps the position */
	DNode *v = doc_set_str(a, m, "k5", "five");
	CHECK(m->n == 100);
	CHECK(m->pairs[5].val == v && strcmp(m->pairs[5].key, "k5") == 0);
	CHECK(doc_get(m, "k5")->kind == D_STR);
	CHECK_STR(doc_get(m, "k5")->s, "five");

	DNode *s = doc_seq(a);
	for (int i = 0; i < 50; i++)
		doc_push(a, s, doc_int(a, i));
	CHECK(s->n == 50 && s->items[49]->i == 49);
	DNode *f = doc_strf(a, "%s-%d", "team", 7);
	CHECK(f->kind == D_STR);
	CHECK_STR(f->s, "team-7");
	char buf[] = "copy";
	DNode *c = doc_str(a, buf);
	buf[0] = 'X';
	CHECK_STR(c->s, "copy");
	CHECK(doc_num(a, 16)->kind == D_NUM);
	CHECK_STR(doc_num(a, 16)->s, "16");
	CHECK(doc_bool(a, true)->i == 1 && doc_bool(a, true)->kind == D_BOOL);
	CHECK(doc_null(a)->kind == D_NULL);
	CHECK(doc_push_map(a, s)->kind == D_MAP && s->n == 51);
	arena_free(a);
}

/* ---- the quoting rule: one table-driven pass, same answers as before ---- */

/*
 * The quoting rule as it was written before it became one table-driven pass
 * (strchr/strstr/strcasecmp over the string several times): kept here as
 * the oracle the fast version must agree with on every string.
 */
static bool ref_is_special_word(const char *s)
{
	static const char *const words[] = {
		"~", "null", "y", "yes", "n", "no", "true", "false", "on", "off",
		"=", "<<", "inf", "infinity", "nan",
	};
	const char *t = s;
	if (*t == '+' || *t == '-')
		t++;
	if (*t == '.')
		t++;
	for (size_t i = 0; i < ARRAY_LEN(words); i++)
		if (strcasecmp(s, words[i]) == 0)
			return true;
	return t != s && (strcasecmp(t, "inf") == 0 || strcasecmp(t, "infinity") == 0 || strcasecmp(t, "nan") == 0);
}

static bool ref_looks_numeric(const char *s)
{
	const char *t = s;
	if (*t == '+' || *t == '-')
		t++;
	if (!((*t >= '0' && *t <= '9') || (*t == '.' && t[1] >= '0' && t[1] <= '9')))
		return false;
	for (; *t; t++) {
		char c = *t;
		if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'))
			continue;
		if (!strchr("_.:+-xXoObBpP", c))
			return false;
	}
	return true;
}

static bool ref_looks_timestamp(const char *s)
{
	for (int i = 0; i < 4; i++)
		if (s[i] < '0' || s[i] > '9')
			return false;
	return s[4] == '-' && s[5] >= '0' && s[5] <= '9';
}

static bool ref_has_unsafe_char(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t n = strlen(s);
	if (!utf8_valid(s, n, NULL))
		return true;
	for (size_t i = 0; i < n; i++) {
		unsigned c = p[i];
		if (c < 0x20 || c == 0x7f)
			return true;
		if (c == 0xC2 && p[i + 1] < 0xA0)
			return true;
		if (c == 0xE2 && p[i + 1] == 0x80 && (p[i + 2] == 0xA8 || p[i + 2] == 0xA9))
			return true;
		if (c == 0xEF && p[i + 1] == 0xBB && p[i + 2] == 0xBF)
			return true;
		if (c == 0xEF && p[i + 1] == 0xBF && (p[i + 2] == 0xBE || p[i + 2] == 0xBF))
			return true;
	}
	return false;
}

static bool ref_needs_quotes(const char *s)
{
	size_t n = strlen(s);
	if (n == 0)
		return true;
	if (s[0] == ' ' || s[n - 1] == ' ')
		return true;
	if (ref_has_unsafe_char(s))
		return true;
	if (strchr("?:,[]{}#&*!|>'\"%@`", s[0]))
		return true;
	if (s[0] == '-' && (s[1] == 0 || s[1] == ' ' || s[1] == '.' || (s[1] >= '0' && s[1] <= '9')))
		return true;
	if (strncmp(s, "---", 3) == 0 || strncmp(s, "...", 3) == 0)
		return true;
	if (strstr(s, ": ") || strstr(s, " #") || s[n - 1] == ':')
		return true;
	return ref_is_special_word(s) || ref_looks_numeric(s) || ref_looks_timestamp(s);
}

static int quote_mismatches;

static void same_quoting(const char *s)
{
	if (doc_yaml_needs_quotes(s) == ref_needs_quotes(s))
		return;
	if (quote_mismatches++ < 10) {
		fprintf(stderr, "  doc_yaml_needs_quotes(\"");
		for (const unsigned char *p = (const unsigned char *)s; *p; p++)
			fprintf(stderr, *p >= 0x20 && *p < 0x7f ? "%c" : "\\x%02x", *p);
		fprintf(stderr, "\") = %d, the reference says %d\n", doc_yaml_needs_quotes(s), ref_needs_quotes(s));
	}
	unit_failures_in_test++;
}

/* A small deterministic generator (xorshift), so failures reproduce. */
static uint32_t rng_state = 2463534242u;
static uint32_t rng(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 17;
	rng_state ^= rng_state << 5;
	return rng_state;
}

/* Bytes and sequences every rule above looks at, and some it does not. */
static const char *const quote_atoms[] = {
	"", "a", "z", "e", "E", "f", "x", "X", "o", "O", "b", "p", "n", "N", "y", "Y", "t", "T",
	"0", "1", "5", "9", "_", ".", ":", "+", "-", " ", "#", "?", ",", "[", "]", "{", "}", "&",
	"*", "!", "|", ">", "'", "\"", "%", "@", "`", "~", "=", "<", "/", "\\", "\t", "\n", "\r",
	"\x01", "\x1f", "\x7f", "\xc2\x85", "\xc2\xa0", "\xc2\x9f", "\xc3\xa9", "\xe2\x80\xa8",
	"\xe2\x80\xa9", "\xe2\x80\xa7", "\xef\xbb\xbf", "\xef\xbf\xbe", "\xef\xbf\xbf", "\xef\xbf\xbd",
	"\xf0\x9f\x9a\x80", "\xf4\x8f\xbf\xbf", "\xed\x9f\xbf",
	/* invalid UTF-8: lone continuation, truncated, overlong, surrogate, > U+10FFFF */
	"\x80", "\xc2", "\xe2\x80", "\xc0\xaf", "\xe0\x80\xaf", "\xed\xa0\x80", "\xf4\x90\x80\x80", "\xff",
	"null", "NuLl", "yes", "no", "on", "off", "true", "false", "inf", "Infinity", "nan", "---",
	"...", "<<", "0x", "0o", "0b", "1e", "2024", "-0", "12:30", ": ", " #",
};

TEST(doc_needs_quotes_same_as_reference)
{
	char buf[64];
	quote_mismatches = 0;
	/* every pair and triple of atoms */
	size_t na = ARRAY_LEN(quote_atoms);
	for (size_t i = 0; i < na; i++)
		for (size_t j = 0; j < na; j++) {
			snprintf(buf, sizeof buf, "%s%s", quote_atoms[i], quote_atoms[j]);
			same_quoting(buf);
			for (size_t k = 0; k < na; k += 3) {
				snprintf(buf, sizeof buf, "%s%s%s", quote_atoms[i], quote_atoms[j], quote_atoms[k]);
				same_quoting(buf);
			}
		}
	/* random strings of up to 8 atoms */
	for (int r = 0; r < 200000; r++) {
		buf[0] = 0;
		int len = 1 + (int)(rng() % 8);
		for (int k = 0; k < len; k++)
			strncat(buf, quote_atoms[rng() % na], sizeof buf - strlen(buf) - 1);
		same_quoting(buf);
	}
	for (size_t i = 0; i < ARRAY_LEN(nasty); i++)
		same_quoting(nasty[i]);
}

/* ---- the direct YAML emitter writes exactly libyaml's bytes ---- */

static int emitter_mismatches;

static void print_escaped(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '\n')
			fputs("\\n\n", stderr);
		else if (c >= 0x20 && c < 0x7f && c != '\\')
			fputc(c, stderr);
		else
			fprintf(stderr, "\\x%02x", c);
	}
}

/* Emits docs with both emitters; any difference fails, the first few are shown. */
static void same_yaml(const char *what, DNode *const *docs, int n, const char *header)
{
	StrBuf d, l;
	sb_init(&d);
	sb_init(&l);
	doc_yaml_emit_direct(&d, docs, n, header);
	doc_yaml_emit_libyaml(&l, docs, n, header);
	if (d.len != l.len || memcmp(d.data, l.data, d.len) != 0) {
		if (emitter_mismatches++ < 5) {
			fprintf(stderr, "  %s: the emitters differ\n  --- libyaml:\n", what);
			print_escaped(l.data, l.len);
			fprintf(stderr, "\n  --- direct:\n");
			print_escaped(d.data, d.len);
			fputc('\n', stderr);
		}
		unit_failures_in_test++;
	}
	sb_free(&d);
	sb_free(&l);
}

static void put_utf8(char *out, unsigned v)
{
	if (v < 0x80) {
		out[0] = (char)v, out[1] = 0;
	} else if (v < 0x800) {
		out[0] = (char)(0xC0 | v >> 6), out[1] = (char)(0x80 | (v & 0x3F)), out[2] = 0;
	} else if (v < 0x10000) {
		out[0] = (char)(0xE0 | v >> 12), out[1] = (char)(0x80 | ((v >> 6) & 0x3F));
		out[2] = (char)(0x80 | (v & 0x3F)), out[3] = 0;
	} else {
		out[0] = (char)(0xF0 | v >> 18), out[1] = (char)(0x80 | ((v >> 12) & 0x3F));
		out[2] = (char)(0x80 | ((v >> 6) & 0x3F)), out[3] = (char)(0x80 | (v & 0x3F)), out[4] = 0;
	}
}

/* Multi-line text for literal style: every chomping, leading spaces and
 * breaks, breaks that are not \n, characters block style cannot hold. */
static const char *const multiline[] = {
	"a\nb", "a\nb\n", "a\nb\n\n", "a\nb\n\n\n", "a\n", "a\n\n", "a\n\n\n", "\n", "\n\n", "\n\n\n",
	"\na", "\na\n", "\n\na\n", " a\nb\n", "  a\nb", " \n", "a\n b\n", "a \nb\n", "a\nb ", "a\n \n",
	"a\n\nb\n", "a\n\n\nb", "a\r\nb\r\n", "a\rb\n", "a\xc2\x85" "b\n", "a\xe2\x80\xa8" "b\n",
	"a\xe2\x80\xa9\n", "\xe2\x80\xa8", "a\n\xe2\x80\xa8", "x\x01\ny\n", "\ta\nb\n", "a\tb\nc\n", "a\n\t\n",
	"- a\nb\n", "# a\nb", "a: b\nc: d\n", "'q'\n\"q\"\n", "---\n...\n", "\xef\xbb\xbf" "a\nb\n",
	"\xf0\x9f\x9a\x80\nb\n", "caf\xc3\xa9\nna\xc3\xafve\n", "a\xc2\xa0\nb\n",
	"sum(rate(x[5m]))\n  > 0.5\n", "#!/bin/sh\nset -eu\necho \"$1\" | tr a b\n",
};

static const char **strings_under_test(int *count)
{
	static const char *list[8192];
	static char store[8192][24];
	static int n;
	if (n) {
		*count = n;
		return list;
	}
#define ADD(s) (n < (int)ARRAY_LEN(list) ? (void)(list[n++] = (s)) : (void)0)
	for (size_t i = 0; i < ARRAY_LEN(nasty); i++)
		ADD(nasty[i]);
	for (size_t i = 0; i < ARRAY_LEN(must_quote); i++)
		ADD(must_quote[i]);
	for (size_t i = 0; i < ARRAY_LEN(must_not_quote); i++)
		ADD(must_not_quote[i]);
	for (size_t i = 0; i < ARRAY_LEN(multiline); i++)
		ADD(multiline[i]);
	/* every ASCII character and some code points, alone and in 8 positions */
	static const unsigned points[] = {
		0x80, 0x85, 0x9F, 0xA0, 0xE9, 0x7FF, 0x800, 0x2028, 0x2029, 0xD7FF, 0xE000, 0xFDD0,
		0xFEFF, 0xFFFD, 0xFFFE, 0xFFFF, 0x10000, 0x1F680, 0x10FFFF,
	};
	static const char *const shapes[] = { "%s", "a%s", "%sa", "a%sb", "a %s", "%s a", " %s", "%s ", "- %s", "%s: x" };
	for (unsigned c = 1; c < 128 + ARRAY_LEN(points); c++) {
		char ch[8];
		put_utf8(ch, c < 128 ? c : points[c - 128]);
		for (size_t k = 0; k < ARRAY_LEN(shapes); k++) {
			char *slot = store[n];
			snprintf(slot, sizeof store[0], shapes[k], ch);
			ADD(slot);
		}
	}
	/* the 128-byte limit of a simple key, counted in bytes */
	static char k128[129], k129[130], u128[129], long_text[6000];
	memset(k128, 'k', 128);
	memset(k129, 'k', 129);
	for (int i = 0; i < 128; i += 2)
		memcpy(u128 + i, "\xc3\xa9", 2);
	for (size_t i = 0; i + 1 < sizeof long_text; i++)
		long_text[i] = "long text, with: colons #and spaces "[i % 36];
	ADD(k128);
	ADD(k129);
	ADD(u128);
	ADD(long_text);
	ADD("key with a quote \" and 120 more bytes ......................................................................................");
#undef ADD
	*count = n;
	return list;
}

/* s in every place a scalar can take in a document. */
static DNode *tree_with(Arena *a, const char *s)
{
	DNode *m = doc_map(a);
	doc_set_str(a, m, "k", s);
	doc_set_int(a, m, s, 1);
	doc_push_str(a, doc_set_seq(a, m, "seq"), s);
	DNode *f = doc_set_seq(a, m, "flow");
	f->flow = true;
	doc_push_str(a, f, s);
	doc_push_str(a, f, "x");
	doc_push_str(a, f, s);
	DNode *nums = doc_set_seq(a, m, "nums");
	nums->flow = true;
	doc_push(a, nums, doc_int(a, -3));
	doc_push(a, nums, doc_num(a, 0.25));
	doc_push(a, nums, doc_bool(a, true));
	doc_push(a, nums, doc_null(a));
	doc_push_str(a, nums, s);
	doc_set_str(a, m, "lit", s)->literal = true;
	DNode *ls = doc_set_seq(a, m, "litseq");
	doc_push(a, ls, doc_str(a, s))->literal = true;
	doc_push(a, ls, doc_str(a, s))->literal = true;
	DNode *lf = doc_set_seq(a, m, "litflow");
	lf->flow = true;
	doc_push(a, lf, doc_str(a, s))->literal = true;
	DNode *sm = doc_push_map(a, doc_set_seq(a, m, "seqmap"));
	doc_set_str(a, sm, s, s);
	doc_set(a, sm, "lit", doc_str(a, s))->literal = true;
	doc_set_str(a, sm, "after", "x");
	DNode *ss = doc_push(a, doc_set_seq(a, m, "seqseq"), doc_seq(a));
	doc_push_str(a, ss, s);
	doc_push(a, ss, doc_str(a, s))->literal = true;
	doc_set_map(a, doc_set_map(a, m, "deep"), s);
	doc_set_str(a, m, "last", s)->literal = true;
	return m;
}

static void same_yaml_for(Arena *a, const char *s)
{
	DNode *t = tree_with(a, s);
	same_yaml(s, &t, 1, NULL);
	/* s as the root, before and after other documents, literal or not */
	DNode *root = doc_str(a, s), *lit = doc_str(a, s);
	lit->literal = true;
	DNode *seq = doc_seq(a);
	doc_push(a, seq, doc_str(a, s))->literal = true;
	DNode *docs[] = { root, t, lit, seq, root, lit };
	same_yaml(s, docs, 1, NULL);
	same_yaml(s, docs + 2, 1, "header");
	same_yaml(s, docs, 6, "h\n\nh");
	same_yaml(s, docs + 1, 3, NULL);
	same_yaml(s, docs + 3, 1, NULL);
}

TEST(doc_emitters_identical_scalars)
{
	int n;
	const char **list = strings_under_test(&n);
	emitter_mismatches = 0;
	for (int pass = 0; pass < 2; pass++) {
		/* pass 1 offers `|` to every literal-flagged string: `|+`, `|2-` */
		doc_literal_any = pass == 1;
		for (int i = 0; i < n; i++) {
			Arena *a = arena_new();
			same_yaml_for(a, list[i]);
			arena_free(a);
		}
	}
	doc_literal_any = false;
}

/* Layout: empty collections anywhere, nesting, documents of every kind. */
TEST(doc_emitters_identical_layout)
{
	Arena *a = arena_new();
	emitter_mismatches = 0;
	DNode *em = doc_map(a), *es = doc_seq(a), *ef = doc_seq(a);
	ef->flow = true;
	DNode *m = doc_map(a);
	doc_set(a, m, "em", em);
	doc_set(a, m, "es", es);
	doc_set(a, m, "ef", ef);
	DNode *s = doc_set_seq(a, m, "s");
	doc_push(a, s, em);
	doc_push(a, s, es);
	doc_push(a, s, ef);
	DNode *ss = doc_push(a, s, doc_seq(a));
	doc_push(a, ss, em);
	doc_push(a, doc_push(a, ss, doc_seq(a)), doc_seq(a));
	DNode *sm = doc_push_map(a, s);
	doc_set(a, sm, "a", em);
	doc_set(a, doc_set_map(a, sm, "b"), "c", es);
	DNode *sms = doc_set_seq(a, sm, "d");
	doc_push(a, doc_push(a, sms, doc_seq(a)), doc_map(a)); /* - - {} */
	DNode *mixed = doc_set_seq(a, m, "flow-but-nested");
	mixed->flow = true;
	doc_push_str(a, mixed, "x");
	doc_push(a, mixed, em);
	DNode *deep = m;
	for (int i = 0; i < 12; i++) {
		deep = doc_set_map(a, deep, "level");
		doc_push_str(a, doc_set_seq(a, deep, "items"), "x");
	}
	DNode *rs = doc_seq(a);
	doc_push(a, rs, m);
	doc_push(a, rs, es);
	doc_push(a, rs, doc_int(a, 7));
	DNode *docs[] = { m, em, es, ef, rs, doc_int(a, 1), doc_null(a), m };
	for (int i = 0; i < (int)ARRAY_LEN(docs); i++)
		for (int k = 1; i + k <= (int)ARRAY_LEN(docs); k++)
			same_yaml("layout", docs + i, k, i & 1 ? "generated\n" : NULL);
	same_yaml("no documents", docs, 0, NULL);
	same_yaml("no documents, a header", docs, 0, "h");
	arena_free(a);
}

/* Random trees of random strings: combinations nobody thought of. */
static DNode *random_node(Arena *a, const char **list, int n, int depth)
{
	int r = (int)(rng() % (depth > 4 ? 6 : 9));
	const char *s = list[rng() % (uint32_t)n];
	switch (r) {
	case 0:
		return doc_int(a, (long long)(rng() % 2000) - 1000);
	case 1:
		return doc_bool(a, rng() & 1);
	case 2:
		return rng() & 1 ? doc_null(a) : doc_num(a, (double)(rng() % 1000) / 8);
	case 3:
	case 4:
	case 5: {
		DNode *d = doc_str(a, s);
		d->literal = rng() % 3 == 0;
		return d;
	}
	case 6:
	case 7: {
		DNode *m = doc_map(a);
		int k = (int)(rng() % 4);
		for (int i = 0; i < k; i++)
			doc_set(a, m, list[rng() % (uint32_t)n], random_node(a, list, n, depth + 1));
		return m;
	}
	default: {
		DNode *q = doc_seq(a);
		q->flow = rng() & 1;
		int k = (int)(rng() % 4);
		for (int i = 0; i < k; i++)
			doc_push(a, q, random_node(a, list, n, depth + 1));
		return q;
	}
	}
}

TEST(doc_emitters_identical_random_trees)
{
	int n;
	const char **list = strings_under_test(&n);
	emitter_mismatches = 0;
	for (int t = 0; t < 4000; t++) {
		Arena *a = arena_new();
		DNode *docs[3];
		int nd = 1 + (int)(rng() % 3);
		for (int i = 0; i < nd; i++)
			docs[i] = random_node(a, list, n, 0);
		doc_literal_any = t % 2;
		same_yaml("random tree", docs, nd, t % 3 ? NULL : "header");
		arena_free(a);
	}
	doc_literal_any = false;
}

/* What libyaml accepts as scalar text: well-formed UTF-8, no overlong forms. */
static bool libyaml_text(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	for (size_t i = 0; p[i];) {
		unsigned c = p[i];
		size_t w = c < 0x80 ? 1 : (c & 0xE0) == 0xC0 ? 2 : (c & 0xF0) == 0xE0 ? 3 : (c & 0xF8) == 0xF0 ? 4 : 0;
		if (!w)
			return false;
		unsigned v = w == 1 ? c : c & (0x7F >> w);
		for (size_t k = 1; k < w; k++) {
			if ((p[i + k] & 0xC0) != 0x80)
				return false;
			v = v << 6 | (p[i + k] & 0x3F);
		}
		if ((w == 2 && v < 0x80) || (w == 3 && v < 0x800) || (w == 4 && v < 0x10000))
			return false;
		i += w;
	}
	return true;
}

/* Random strings of the quoting test's atoms as values, keys, flow items
 * and literals: where the quoting rule and libyaml's analysis meet. */
TEST(doc_emitters_identical_random_strings)
{
	char buf[64];
	size_t na = ARRAY_LEN(quote_atoms);
	emitter_mismatches = 0;
	for (int r = 0; r < 40000; r++) {
		buf[0] = 0;
		int len = 1 + (int)(rng() % 6);
		for (int k = 0; k < len; k++)
			strncat(buf, quote_atoms[rng() % na], sizeof buf - strlen(buf) - 1);
		if (!libyaml_text(buf))
			continue;
		Arena *a = arena_new();
		DNode *m = doc_map(a);
		doc_set_str(a, m, buf, buf);
		DNode *f = doc_set_seq(a, m, "f");
		f->flow = true;
		doc_push_str(a, f, buf);
		doc_set(a, m, "l", doc_str(a, buf))->literal = true;
		doc_literal_any = r & 1;
		same_yaml(buf, &m, 1, NULL);
		arena_free(a);
	}
	doc_literal_any = false;
}

/* ---- JSON strings: runs copied at once, the same escapes as before ---- */

/* json_string as it was written before it copied runs: the oracle. */
static void ref_json_string(StrBuf *out, const char *s)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *p = (const unsigned char *)s;
	sb_putc(out, '"');
	for (; *p; p++) {
		unsigned c = *p;
		switch (c) {
		case '"': sb_puts(out, "\\\""); continue;
		case '\\': sb_puts(out, "\\\\"); continue;
		case '\n': sb_puts(out, "\\n"); continue;
		case '\t': sb_puts(out, "\\t"); continue;
		case '\r': sb_puts(out, "\\r"); continue;
		case '\b': sb_puts(out, "\\b"); continue;
		case '\f': sb_puts(out, "\\f"); continue;
		}
		if (c < 0x20 || c == 0x7f) {
			sb_puts(out, "\\u00");
			sb_putc(out, hex[c >> 4]);
			sb_putc(out, hex[c & 15]);
		} else if (c == 0xE2 && p[1] == 0x80 && (p[2] == 0xA8 || p[2] == 0xA9)) {
			sb_puts(out, p[2] == 0xA8 ? "\\u2028" : "\\u2029");
			p += 2;
		} else {
			sb_putc(out, (char)c);
		}
	}
	sb_putc(out, '"');
}

static int json_mismatches;

static void same_json_string(const char *s)
{
	StrBuf a, b;
	sb_init(&a);
	sb_init(&b);
	json_string(&a, s);
	ref_json_string(&b, s);
	if (a.len != b.len || memcmp(a.data, b.data, a.len) != 0) {
		if (json_mismatches++ < 5) {
			fprintf(stderr, "  json_string differs from the reference:\n  ");
			print_escaped(a.data, a.len);
			fprintf(stderr, "\n  ");
			print_escaped(b.data, b.len);
			fputc('\n', stderr);
		}
		unit_failures_in_test++;
	}
	sb_free(&a);
	sb_free(&b);
}

TEST(json_string_same_as_reference)
{
	int n;
	const char **list = strings_under_test(&n);
	char buf[64];
	json_mismatches = 0;
	for (int i = 0; i < n; i++)
		same_json_string(list[i]);
	/* any bytes, invalid UTF-8 and lone 0xE2 included */
	for (int r = 0; r < 50000; r++) {
		buf[0] = 0;
		int len = 1 + (int)(rng() % 6);
		for (int k = 0; k < len; k++)
			strncat(buf, quote_atoms[rng() % ARRAY_LEN(quote_atoms)], sizeof buf - strlen(buf) - 1);
		same_json_string(buf);
	}
	same_json_string("\xe2");
	same_json_string("\xe2\x80");
	same_json_string("a\xe2\x80\xa8\xe2\x80\xa8" "b\xe2\x80\xa9");
}

/* Indentation deeper than the emitter's run of spaces. */
TEST(json_emit_deep_indent)
{
	Arena *a = arena_new();
	DNode *root = doc_map(a), *m = root;
	for (int i = 0; i < 40; i++)
		m = doc_set_map(a, m, "k");
	doc_set_int(a, m, "v", -9223372036854775807LL - 1);
	char *text = emit_json(root);
	StrBuf want;
	sb_init(&want);
	sb_putc(&want, '{');
	for (int i = 1; i <= 40; i++)
		sb_printf(&want, "\n%*s\"k\": {", 2 * i, "");
	sb_printf(&want, "\n%*s\"v\": -9223372036854775808", 82, "");
	for (int i = 40; i >= 0; i--)
		sb_printf(&want, "\n%*s}", 2 * i, "");
	sb_putc(&want, '\n');
	CHECK_STR(text, want.data);
	free(text);
	sb_free(&want);
	arena_free(a);
}
