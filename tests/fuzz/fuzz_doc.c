/*
 * fuzz_doc.c — libFuzzer harness: emit-then-reparse of the document layer.
 * The input is split at 0x00 into strings (invalid UTF-8 and C0 controls
 * other than tab and newline are dropped: source.c rejects them, so no
 * model string holds one). They become keys, values, sequence items (block
 * and flow) and literal-style values of one document; doc_yaml_emit's output
 * must read back with libfyaml as exactly those strings in that order, each
 * a string (a plain scalar must not look like a YAML 1.1/1.2 bool, null or
 * number), and json_emit's output must read back with jsmn the same.
 * The direct YAML emitter must also write exactly libyaml's bytes: for that
 * tree, and for one built from every string libyaml accepts (controls,
 * breaks and BOMs included), with literal style offered to every string.
 * Seeds: tests/fuzz/seeds_doc/ and the dictionary tests/fuzz/fuzz_doc.dict.
 */
#include "platformc.h"

#include <libfyaml.h>
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define JSMN_STATIC
#include <jsmn.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool valid_text(const unsigned char *s, size_t n)
{
	for (size_t i = 0; i < n;) {
		unsigned c = s[i];
		if (c < 0x80) {
			if ((c < 0x20 && c != '\t' && c != '\n') || c == 0x7f)
				return false;
			i++;
			continue;
		}
		int len = c >= 0xF0 && c <= 0xF4 ? 4 : c >= 0xE0 ? 3 : c >= 0xC2 && c < 0xE0 ? 2 : 0;
		if (!len || i + (size_t)len > n || (c >= 0xF0 && len != 4))
			return false;
		unsigned v = c & (0x7F >> len);
		for (int k = 1; k < len; k++) {
			if ((s[i + k] & 0xC0) != 0x80)
				return false;
			v = v << 6 | (s[i + k] & 0x3F);
		}
		if ((len == 3 && v < 0x800) || (len == 4 && (v < 0x10000 || v > 0x10FFFF)) ||
		    (v >= 0xD800 && v <= 0xDFFF) || (v >= 0x80 && v <= 0x9F) || v == 0xFEFF ||
		    v == 0x2028 || v == 0x2029 || v == 0xFFFE || v == 0xFFFF)
			return false;
		i += (size_t)len;
	}
	return true;
}

/* What libyaml takes as scalar text (api.c's yaml_check_utf8): well-formed
 * UTF-8 without overlong forms; surrogates and values past U+10FFFF pass. */
static bool libyaml_text(const unsigned char *s, size_t n)
{
	for (size_t i = 0; i < n;) {
		unsigned c = s[i];
		size_t w = c < 0x80 ? 1 : (c & 0xE0) == 0xC0 ? 2 : (c & 0xF0) == 0xE0 ? 3 : (c & 0xF8) == 0xF0 ? 4 : 0;
		if (!w || i + w > n)
			return false;
		unsigned v = w == 1 ? c : c & (0x7F >> w);
		for (size_t k = 1; k < w; k++) {
			if ((s[i + k] & 0xC0) != 0x80)
				return false;
			v = v << 6 | (s[i + k] & 0x3F);
		}
		if ((w == 2 && v < 0x80) || (w == 3 && v < 0x800) || (w == 4 && v < 0x10000))
			return false;
		i += w;
	}
	return true;
}

/* An independent check: plain text a YAML 1.1 or 1.2 reader could take for
 * something other than a string (the spec's regular expressions for bool,
 * null, int, float, timestamp, merge and value). */
static bool plain_is_ambiguous(const char *s)
{
	static pcre2_code *re;
	static pcre2_match_data *md;
	if (!re) {
		int err;
		PCRE2_SIZE off;
		re = pcre2_compile((PCRE2_SPTR)
			"^(?:y|Y|yes|Yes|YES|n|N|no|No|NO|true|True|TRUE|false|False|FALSE"
			"|on|On|ON|off|Off|OFF|~|null|Null|NULL|<<|=|"
			"[-+]?(?:0b[0-1_]+|0o?[0-7_]+|[0-9][0-9_]*|0x[0-9a-fA-F_]+|[1-9][0-9_]*(?::[0-5]?[0-9])+)"
			"|[-+]?(?:[0-9][0-9_]*\\.[0-9._]*|\\.[0-9][0-9._]*)(?:[eE][-+]?[0-9]+)?"
			"|[-+]?[0-9][0-9_]*(?:\\.[0-9_]*)?[eE][-+]?[0-9]+"
			"|[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+\\.[0-9_]*"
			"|[-+]?\\.(?:inf|Inf|INF)|\\.(?:nan|NaN|NAN)"
			"|[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}(?:(?:[Tt]|[ \\t]+).*)?)$",
			PCRE2_ZERO_TERMINATED, PCRE2_DOTALL, &err, &off, NULL);
		md = pcre2_match_data_create_from_pattern(re, NULL);
	}
	if (!*s)
		return true;
	return pcre2_match(re, (PCRE2_SPTR)s, PCRE2_ZERO_TERMINATED, 0, 0, md, NULL) >= 0;
}

static void check(bool ok, const char *what, const char *emitted)
{
	if (ok)
		return;
	fprintf(stderr, "fuzz_doc: %s\n--- emitted ---\n%s\n", what, emitted);
	abort();
}

/* libfyaml 0.7.12 misreads consecutive `''` escapes of a single-quoted
 * scalar (`'a''''b'` reads as `a'''`; the front end unescapes such scalars
 * from the source bytes for the same reason): read a single-line one from
 * the emitted bytes. Our emitter never folds a single-quoted scalar. */
static const char *single_quoted(struct fy_node *n, const char *emitted, size_t *len)
{
	struct fy_token *t = fy_node_get_scalar_token(n);
	const struct fy_mark *sm = t ? fy_token_start_mark(t) : NULL, *em = t ? fy_token_end_mark(t) : NULL;
	if (!sm || !em || em->input_pos < sm->input_pos)
		return NULL;
	/* the marks span the text between the quotes */
	static char buf[65536];
	size_t o = 0;
	for (size_t i = sm->input_pos; i < em->input_pos && o < sizeof buf; i++) {
		check(emitted[i] != '\n', "folded single-quoted scalar", emitted);
		buf[o++] = emitted[i];
		if (emitted[i] == '\'')
			i++; /* `''` is one quote */
	}
	*len = o;
	return buf;
}

static void expect_scalar(struct fy_node *n, const char *want, const char *emitted)
{
	check(n && fy_node_is_scalar(n), "not a scalar", emitted);
	size_t len;
	const char *got = fy_node_get_style(n) == FYNS_SINGLE_QUOTED ? single_quoted(n, emitted, &len) : NULL;
	if (!got)
		got = fy_node_get_scalar(n, &len);
	check(got && len == strlen(want) && !memcmp(got, want, len), "YAML scalar differs", emitted);
	if (fy_node_get_style(n) == FYNS_PLAIN)
		check(!plain_is_ambiguous(want), "ambiguous plain scalar", emitted);
}

static void same_as_libyaml(DNode *const *docs, int n, const char *header)
{
	StrBuf d, l;
	sb_init(&d);
	sb_init(&l);
	doc_yaml_emit_direct(&d, docs, n, header);
	doc_yaml_emit_libyaml(&l, docs, n, header);
	if (d.len != l.len || memcmp(d.data, l.data, d.len) != 0) {
		fprintf(stderr, "fuzz_doc: the direct emitter differs from libyaml\n--- libyaml ---\n%s\n", l.data);
		check(false, "the direct emitter", d.data);
	}
	sb_free(&d);
	sb_free(&l);
}

/* A document of every string in every place, nested a few levels. */
static DNode *all_places(Arena *a, const char *const *strs, int n)
{
	DNode *root = doc_map(a), *flow = doc_seq(a), *items = doc_seq(a);
	flow->flow = true;
	for (int i = 0; i < n; i++) {
		DNode *m = doc_map(a);
		doc_set_str(a, m, strs[i], strs[(i + 1) % n]);
		doc_set(a, m, "lit", doc_str(a, strs[i]))->literal = true;
		doc_push(a, doc_set_seq(a, m, "seq"), doc_str(a, strs[i]))->literal = i & 1;
		doc_push(a, items, m);
		doc_push(a, items, doc_str(a, strs[i]))->literal = true;
		doc_push_str(a, flow, strs[i]);
		doc_set(a, root, strs[i], i & 1 ? doc_map(a) : doc_seq(a));
	}
	doc_set(a, root, "flow", flow);
	doc_set(a, root, "items", items);
	return root;
}

static char *json_str(const char *js, const jsmntok_t *t)
{
	const char *s = js + t->start;
	int n = t->end - t->start;
	char *out = xmalloc((size_t)n * 2 + 1), *o = out;
	for (int i = 0; i < n; i++) {
		if (s[i] != '\\') {
			*o++ = s[i];
			continue;
		}
		char c = s[++i];
		unsigned v;
		switch (c) {
		case 'n': *o++ = '\n'; break;
		case 't': *o++ = '\t'; break;
		case 'r': *o++ = '\r'; break;
		case 'b': *o++ = '\b'; break;
		case 'f': *o++ = '\f'; break;
		case 'u':
			v = (unsigned)strtoul((char[5]){ s[i + 1], s[i + 2], s[i + 3], s[i + 4], 0 }, NULL, 16);
			i += 4;
			if (v >= 0xD800 && v < 0xDC00 && i + 6 < n + 1 && s[i + 1] == '\\') {
				unsigned lo = (unsigned)strtoul((char[5]){ s[i + 3], s[i + 4], s[i + 5], s[i + 6], 0 }, NULL, 16);
				v = 0x10000 + ((v - 0xD800) << 10) + (lo - 0xDC00);
				i += 6;
			}
			if (v < 0x80) {
				*o++ = (char)v;
			} else if (v < 0x800) {
				*o++ = (char)(0xC0 | (v >> 6));
				*o++ = (char)(0x80 | (v & 0x3F));
			} else if (v < 0x10000) {
				*o++ = (char)(0xE0 | (v >> 12));
				*o++ = (char)(0x80 | ((v >> 6) & 0x3F));
				*o++ = (char)(0x80 | (v & 0x3F));
			} else {
				*o++ = (char)(0xF0 | (v >> 18));
				*o++ = (char)(0x80 | ((v >> 12) & 0x3F));
				*o++ = (char)(0x80 | ((v >> 6) & 0x3F));
				*o++ = (char)(0x80 | (v & 0x3F));
			}
			break;
		default: *o++ = c;
		}
	}
	*o = 0;
	return out;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > 16384)
		return 0;
	Arena *a = arena_new();
	const char *strs[64], *raw[64];
	int n = 0, nraw = 0;
	for (size_t i = 0; i <= size && nraw < 64;) {
		size_t j = i;
		while (j < size && data[j])
			j++;
		if (libyaml_text(data + i, j - i)) {
			raw[nraw] = arena_strndup(a, (const char *)data + i, j - i);
			if (valid_text(data + i, j - i))
				strs[n++] = raw[nraw];
			nraw++;
		}
		i = j + 1;
	}
	if (nraw) {
		DNode *docs[3] = { all_places(a, raw, nraw), doc_str(a, raw[0]), doc_str(a, raw[nraw - 1]) };
		docs[2]->literal = true;
		for (int any = 0; any < 2; any++) {
			doc_literal_any = any;
			same_as_libyaml(docs, 3, raw[0]);
		}
		doc_literal_any = false;
	}
	if (!n) {
		arena_free(a);
		return 0;
	}
	/* doc: {s0: s1, s2: s3, ..., seq: [..all..], flow: [..all..], lit: |s} */
	DNode *root = doc_map(a);
	DNode *vals = doc_map(a);
	for (int i = 0; i + 1 < n; i += 2)
		doc_set_str(a, vals, strs[i], strs[i + 1]);
	doc_set(a, root, "vals", vals);
	DNode *seq = doc_set_seq(a, root, "seq");
	DNode *flow = doc_set_seq(a, root, "flow");
	flow->flow = true;
	DNode *lit = doc_set_seq(a, root, "lit");
	for (int i = 0; i < n; i++) {
		doc_push_str(a, seq, strs[i]);
		doc_push_str(a, flow, strs[i]);
		doc_push(a, lit, doc_str(a, strs[i]))->literal = true;
	}
	DNode *docs[2] = { root, vals };

	same_as_libyaml(docs, 2, strs[0]);
	StrBuf y;
	sb_init(&y);
	doc_yaml_emit(&y, docs, 2, strs[0]);
	struct fy_parse_cfg cfg = { .flags = FYPCF_QUIET };
	struct fy_parser *fyp = fy_parser_create(&cfg);
	check(fyp && fy_parser_set_string(fyp, y.data, y.len) == 0, "parser", y.data);
	for (int d = 0; d < 2; d++) {
		struct fy_document *fyd = fy_parse_load_document(fyp);
		check(fyd != NULL, "YAML does not parse", y.data);
		struct fy_node *r = fy_document_root(fyd);
		DNode *want = docs[d];
		check(r && fy_node_is_mapping(r) && fy_node_mapping_item_count(r) == want->n,
		      "YAML mapping size differs", y.data);
		for (int i = 0; i < want->n; i++) {
			struct fy_node_pair *pr = fy_node_mapping_get_by_index(r, i);
			expect_scalar(fy_node_pair_key(pr), want->pairs[i].key, y.data);
			DNode *v = want->pairs[i].val;
			struct fy_node *fv = fy_node_pair_value(pr);
			if (v->kind == D_STR) {
				expect_scalar(fv, v->s, y.data);
				continue;
			}
			if (v->kind == D_MAP)
				continue; /* the same map is checked as document 2 */
			check(fy_node_is_sequence(fv) && fy_node_sequence_item_count(fv) == v->n,
			      "YAML sequence size differs", y.data);
			for (int k = 0; k < v->n; k++)
				expect_scalar(fy_node_sequence_get_by_index(fv, k), v->items[k]->s, y.data);
		}
		fy_document_destroy(fyd);
	}
	check(fy_parse_load_document(fyp) == NULL, "extra YAML document", y.data);
	fy_parser_destroy(fyp);

	StrBuf j;
	sb_init(&j);
	json_emit(&j, root);
	jsmn_parser jp;
	jsmn_init(&jp);
	int ntok = jsmn_parse(&jp, j.data, j.len, NULL, 0);
	check(ntok > 0, "JSON does not parse", j.data);
	jsmntok_t *t = xmalloc((size_t)ntok * sizeof *t);
	jsmn_init(&jp);
	check(jsmn_parse(&jp, j.data, j.len, t, (unsigned)ntok) == ntok, "JSON tokens", j.data);
	/* flatten the expected strings in emission order */
	int k = 1; /* t[0] is the root object */
	for (int i = 0; i < root->n; i++) {
		DNode *v = root->pairs[i].val;
		char *key = json_str(j.data, &t[k++]);
		check(!strcmp(key, root->pairs[i].key), "JSON key differs", j.data);
		free(key);
		k++; /* the container */
		for (int m = 0; m < v->n; m++) {
			if (v->kind == D_MAP) {
				char *s = json_str(j.data, &t[k++]);
				check(t[k - 1].type == JSMN_STRING && !strcmp(s, v->pairs[m].key), "JSON key differs", j.data);
				free(s);
			}
			const char *want = v->kind == D_MAP ? v->pairs[m].val->s : v->items[m]->s;
			char *s = json_str(j.data, &t[k++]);
			check(t[k - 1].type == JSMN_STRING && !strcmp(s, want), "JSON string differs", j.data);
			free(s);
		}
	}
	check(k == ntok, "JSON token count", j.data);
	free(t);
	sb_free(&y);
	sb_free(&j);
	arena_free(a);
	return 0;
}
