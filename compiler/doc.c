/*
 * doc.c — the output document layer: DNode trees and their YAML and JSON
 * emitters.
 *
 * YAML goes through libyaml's emitter so that escaping and layout are a
 * library's job, but the choice of scalar style is made here first: libyaml
 * only knows whether a plain scalar is *syntactically* possible, not that a
 * YAML 1.1 reader (sigs.k8s.io/yaml, Helm) would read `no`, `0755` or `12:30`
 * as a bool or a number (SPEC §4). So every string that any 1.1 or 1.2 reader
 * could take for something else is double-quoted, and everything else stays
 * plain so the output looks hand-written.
 */
#include "platformc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <yaml.h>

/* ---- builders ---- */

static DNode *doc_new(Arena *a, DKind kind)
{
	DNode *d = arena_alloc(a, sizeof *d);
	d->kind = kind;
	return d;
}

DNode *doc_map(Arena *a)
{
	return doc_new(a, D_MAP);
}

DNode *doc_seq(Arena *a)
{
	return doc_new(a, D_SEQ);
}

DNode *doc_str(Arena *a, const char *s)
{
	DNode *d = doc_new(a, D_STR);
	d->s = arena_strdup(a, s);
	return d;
}

DNode *doc_strf(Arena *a, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	DNode *d = doc_new(a, D_STR);
	d->s = arena_vsprintf(a, fmt, ap);
	va_end(ap);
	return d;
}

DNode *doc_int(Arena *a, long long v)
{
	DNode *d = doc_new(a, D_INT);
	d->i = v;
	return d;
}

DNode *doc_num(Arena *a, double v)
{
	char buf[64];
	scalar_format_number(v, buf, sizeof buf);
	DNode *d = doc_new(a, D_NUM);
	d->s = arena_strdup(a, buf);
	return d;
}

DNode *doc_bool(Arena *a, bool v)
{
	DNode *d = doc_new(a, D_BOOL);
	d->i = v;
	return d;
}

DNode *doc_null(Arena *a)
{
	return doc_new(a, D_NULL);
}

DNode *doc_set(Arena *a, DNode *map, const char *key, DNode *val)
{
	for (int i = 0; i < map->n; i++) {
		if (strcmp(map->pairs[i].key, key) == 0) {
			map->pairs[i].val = val; /* keeps the key's position */
			return val;
		}
	}
	if (map->n == map->cap) {
		int cap = map->cap ? map->cap * 2 : 8;
		map->pairs = arena_grow(a, map->pairs, (size_t)map->n, (size_t)cap, sizeof *map->pairs);
		map->cap = cap;
	}
	/* keys are copied: callers often build them in a scratch buffer */
	map->pairs[map->n].key = arena_strdup(a, key);
	map->pairs[map->n].val = val;
	map->n++;
	return val;
}

DNode *doc_set_str(Arena *a, DNode *map, const char *key, const char *v)
{
	return doc_set(a, map, key, doc_str(a, v));
}

DNode *doc_set_int(Arena *a, DNode *map, const char *key, long long v)
{
	return doc_set(a, map, key, doc_int(a, v));
}

DNode *doc_set_bool(Arena *a, DNode *map, const char *key, bool v)
{
	return doc_set(a, map, key, doc_bool(a, v));
}

DNode *doc_set_map(Arena *a, DNode *map, const char *key)
{
	return doc_set(a, map, key, doc_map(a));
}

DNode *doc_set_seq(Arena *a, DNode *map, const char *key)
{
	return doc_set(a, map, key, doc_seq(a));
}

DNode *doc_push(Arena *a, DNode *seq, DNode *val)
{
	if (seq->n == seq->cap) {
		int cap = seq->cap ? seq->cap * 2 : 8;
		seq->items = arena_grow(a, seq->items, (size_t)seq->n, (size_t)cap, sizeof *seq->items);
		seq->cap = cap;
	}
	seq->items[seq->n++] = val;
	return val;
}

DNode *doc_push_str(Arena *a, DNode *seq, const char *v)
{
	return doc_push(a, seq, doc_str(a, v));
}

DNode *doc_push_map(Arena *a, DNode *seq)
{
	return doc_push(a, seq, doc_map(a));
}

DNode *doc_get(const DNode *map, const char *key)
{
	if (!map || map->kind != D_MAP)
		return NULL;
	for (int i = 0; i < map->n; i++)
		if (strcmp(map->pairs[i].key, key) == 0)
			return map->pairs[i].val;
	return NULL;
}

/* ---- quoting ---- */

static bool doc_word_ieq(const char *s, const char *w)
{
	return strcasecmp(s, w) == 0;
}

/*
 * Words some reader resolves to a non-string. Compared case-insensitively,
 * which is broader than any spec (YAML 1.1 has only `yes`/`Yes`/`YES`) but
 * costs nothing: a quoted `yEs` is still the string `yEs`.
 */
static bool doc_is_special_word(const char *s)
{
	static const char *const words[] = {
		"~", "null", "y", "yes", "n", "no", "true", "false", "on", "off",
		"=", "<<", "inf", "infinity", "nan",
	};
	const char *t = s;
	/* the longest candidate is `+.infinity`: skip the compares for longer text */
	if (strnlen(s, 11) > 10)
		return false;
	if (*t == '+' || *t == '-')
		t++;
	if (*t == '.')
		t++;
	/* and for text whose first letter starts none of them */
	if (!strchr("~nNyYtTfFoO=<iI", *t) || *t == 0)
		return false;
	for (size_t i = 0; i < ARRAY_LEN(words); i++)
		if (doc_word_ieq(s, words[i]))
			return true;
	/* [+-][.](inf|infinity|nan): 1.1 `.inf`, Go's ParseFloat `-Infinity` */
	return t != s && (doc_word_ieq(t, "inf") || doc_word_ieq(t, "infinity") || doc_word_ieq(t, "nan"));
}

/*
 * Anything that starts like a number and uses only characters that occur in
 * some number syntax: 1.1 ints (0b101, 017, 0x1F, 1_000, base-60 1:20),
 * 1.1/1.2 floats (1.10, .5, 1e3, 1:20.5), 1.2 0o17, Go's ParseFloat (0x1p-2).
 * Deliberately broad (it also quotes `10.0.0.1` and `30d`); strings with
 * other letters (`250m`, `512Mi`, `1h30m`) stay plain.
 */
static bool doc_looks_numeric(const char *s)
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

/* YYYY-M[M]-... : the start of every 1.1 timestamp form. */
static bool doc_looks_timestamp(const char *s)
{
	for (int i = 0; i < 4; i++)
		if (s[i] < '0' || s[i] > '9')
			return false;
	return s[4] == '-' && s[5] >= '0' && s[5] <= '9';
}

/*
 * Characters a plain scalar must not hold: C0 controls, DEL, C1 controls
 * (U+0085 is a 1.1 line break), U+2028/U+2029 (1.1 line breaks), the BOM,
 * U+FFFE/U+FFFF, and bytes that are not valid UTF-8.
 */
static bool doc_has_unsafe_char(const char *s)
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

bool doc_needs_quotes(const char *s)
{
	size_t n = strlen(s);
	if (n == 0)
		return true;
	if (s[0] == ' ' || s[n - 1] == ' ')
		return true;
	if (doc_has_unsafe_char(s))
		return true;
	/* indicators that begin a node or are reserved */
	if (strchr("?:,[]{}#&*!|>'\"%@`", s[0]))
		return true;
	/* `-` alone, `- x`, and `-1`/`-.5` (numbers, caught below too) */
	if (s[0] == '-' && (s[1] == 0 || s[1] == ' ' || s[1] == '.' || (s[1] >= '0' && s[1] <= '9')))
		return true;
	/* document markers, even when more text follows on the line */
	if (strncmp(s, "---", 3) == 0 || strncmp(s, "...", 3) == 0)
		return true;
	if (strstr(s, ": ") || strstr(s, " #") || s[n - 1] == ':')
		return true;
	if (doc_is_special_word(s) || doc_looks_numeric(s) || doc_looks_timestamp(s))
		return true;
	return false;
}

/* In a flow sequence the flow indicators end a plain scalar as well. */
static bool doc_needs_quotes_flow(const char *s)
{
	return doc_needs_quotes(s) || strpbrk(s, ",[]{}");
}

/*
 * Literal block style keeps multi-line text (scripts, PromQL) readable; only
 * text libyaml can write as `|` or `|-` qualifies: no indentation indicator
 * (leading space or break) and no `|+`, after which libyaml ends the stream
 * with a `...` marker.
 */
static bool doc_literal_ok(const char *s)
{
	size_t n = strlen(s);
	if (!strchr(s, '\n') || s[0] == ' ' || s[0] == '\n')
		return false;
	if (n >= 2 && s[n - 1] == '\n' && s[n - 2] == '\n')
		return false;
	for (const char *p = s; *p; p++) {
		if (*p == ' ' && (p[1] == '\n' || p[1] == 0))
			return false;
		if (*p == '\t' || *p == '\r')
			return false;
	}
	return true;
}

/* ---- YAML ---- */

typedef struct DocYaml {
	yaml_emitter_t em;
} DocYaml;

static int doc_yaml_write(void *data, unsigned char *buffer, size_t size)
{
	sb_putn(data, (const char *)buffer, size);
	return 1;
}

/* An emitter error means we handed libyaml a bad tree or bad UTF-8: a
 * compiler bug, never a user error (input text is validated on load). */
static void doc_yaml_emit(DocYaml *y, yaml_event_t *ev)
{
	if (!yaml_emitter_emit(&y->em, ev)) {
		fprintf(stderr, "platformc: internal error: YAML emitter: %s\n",
			y->em.problem ? y->em.problem : "unknown error");
		abort();
	}
}

static void doc_yaml_scalar(DocYaml *y, const char *s, yaml_scalar_style_t style)
{
	yaml_event_t ev;
	yaml_scalar_event_initialize(&ev, NULL, NULL, (yaml_char_t *)s, (int)strlen(s), 1, 1, style);
	doc_yaml_emit(y, &ev);
}

static void doc_yaml_string(DocYaml *y, const char *s, bool literal, bool in_flow)
{
	yaml_scalar_style_t style = YAML_PLAIN_SCALAR_STYLE;
	if (literal && !in_flow && doc_literal_ok(s))
		style = YAML_LITERAL_SCALAR_STYLE;
	else if (in_flow ? doc_needs_quotes_flow(s) : doc_needs_quotes(s))
		style = YAML_DOUBLE_QUOTED_SCALAR_STYLE;
	doc_yaml_scalar(y, s, style);
}

static void doc_yaml_node(DocYaml *y, const DNode *d, bool in_flow)
{
	yaml_event_t ev;
	char buf[32];
	switch (d->kind) {
	case D_NULL:
		doc_yaml_scalar(y, "null", YAML_PLAIN_SCALAR_STYLE);
		break;
	case D_BOOL:
		doc_yaml_scalar(y, d->i ? "true" : "false", YAML_PLAIN_SCALAR_STYLE);
		break;
	case D_INT:
		snprintf(buf, sizeof buf, "%lld", d->i);
		doc_yaml_scalar(y, buf, YAML_PLAIN_SCALAR_STYLE);
		break;
	case D_NUM:
		doc_yaml_scalar(y, d->s, YAML_PLAIN_SCALAR_STYLE);
		break;
	case D_STR:
		doc_yaml_string(y, d->s, d->literal, in_flow);
		break;
	case D_MAP:
		yaml_mapping_start_event_initialize(&ev, NULL, NULL, 1, YAML_BLOCK_MAPPING_STYLE);
		doc_yaml_emit(y, &ev);
		for (int i = 0; i < d->n; i++) {
			doc_yaml_string(y, d->pairs[i].key, false, false);
			doc_yaml_node(y, d->pairs[i].val, false);
		}
		yaml_mapping_end_event_initialize(&ev);
		doc_yaml_emit(y, &ev);
		break;
	case D_SEQ: {
		bool flow = d->flow;
		for (int i = 0; i < d->n && flow; i++)
			flow = d->items[i]->kind != D_MAP && d->items[i]->kind != D_SEQ;
		yaml_sequence_start_event_initialize(&ev, NULL, NULL, 1,
						     flow ? YAML_FLOW_SEQUENCE_STYLE
							  : YAML_BLOCK_SEQUENCE_STYLE);
		doc_yaml_emit(y, &ev);
		for (int i = 0; i < d->n; i++)
			doc_yaml_node(y, d->items[i], flow);
		yaml_sequence_end_event_initialize(&ev);
		doc_yaml_emit(y, &ev);
		break;
	}
	}
}

static void doc_yaml_header(StrBuf *out, const char *header)
{
	const char *p = header;
	for (;;) {
		const char *nl = strchr(p, '\n');
		size_t n = nl ? (size_t)(nl - p) : strlen(p);
		if (!nl && n == 0 && p != header)
			break; /* the header ended with a newline */
		if (n) {
			sb_puts(out, "# ");
			sb_putn(out, p, n);
			sb_putc(out, '\n');
		} else {
			sb_puts(out, "#\n"); /* no trailing space */
		}
		if (!nl)
			break;
		p = nl + 1;
	}
}

void doc_emit_yaml(StrBuf *out, DNode *const *docs, int ndocs, const char *header)
{
	DocYaml y;
	yaml_event_t ev;
	if (header)
		doc_yaml_header(out, header);
	size_t start = out->len;

	if (!yaml_emitter_initialize(&y.em))
		die_oom();
	yaml_emitter_set_output(&y.em, doc_yaml_write, out);
	yaml_emitter_set_indent(&y.em, 2);
	yaml_emitter_set_width(&y.em, -1); /* never fold long strings */
	yaml_emitter_set_unicode(&y.em, 1);
	yaml_emitter_set_break(&y.em, YAML_LN_BREAK);

	yaml_stream_start_event_initialize(&ev, YAML_UTF8_ENCODING);
	doc_yaml_emit(&y, &ev);
	for (int i = 0; i < ndocs; i++) {
		/* libyaml writes `---` before every document but the first */
		yaml_document_start_event_initialize(&ev, NULL, NULL, NULL, 1);
		doc_yaml_emit(&y, &ev);
		doc_yaml_node(&y, docs[i], false);
		yaml_document_end_event_initialize(&ev, 1);
		doc_yaml_emit(&y, &ev);
	}
	yaml_stream_end_event_initialize(&ev);
	doc_yaml_emit(&y, &ev);
	if (!yaml_emitter_flush(&y.em)) {
		fprintf(stderr, "platformc: internal error: YAML emitter flush failed\n");
		abort();
	}
	yaml_emitter_delete(&y.em);

	/* exactly one trailing newline, whatever libyaml ended with */
	while (out->len > start && out->data[out->len - 1] == '\n')
		out->len--;
	if (out->data)
		out->data[out->len] = 0;
	sb_putc(out, '\n');
}

/* ---- JSON ---- */

void doc_json_string(StrBuf *out, const char *s)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *p = (const unsigned char *)s;
	sb_putc(out, '"');
	for (; *p; p++) {
		unsigned c = *p;
		switch (c) {
		case '"':
			sb_puts(out, "\\\"");
			continue;
		case '\\':
			sb_puts(out, "\\\\");
			continue;
		case '\n':
			sb_puts(out, "\\n");
			continue;
		case '\t':
			sb_puts(out, "\\t");
			continue;
		case '\r':
			sb_puts(out, "\\r");
			continue;
		case '\b':
			sb_puts(out, "\\b");
			continue;
		case '\f':
			sb_puts(out, "\\f");
			continue;
		}
		if (c < 0x20 || c == 0x7f) {
			sb_puts(out, "\\u00");
			sb_putc(out, hex[c >> 4]);
			sb_putc(out, hex[c & 15]);
		} else if (c == 0xE2 && p[1] == 0x80 && (p[2] == 0xA8 || p[2] == 0xA9)) {
			/* valid JSON, but not valid JavaScript inside a string */
			sb_puts(out, p[2] == 0xA8 ? "\\u2028" : "\\u2029");
			p += 2;
		} else {
			sb_putc(out, (char)c);
		}
	}
	sb_putc(out, '"');
}

static void doc_json_indent(StrBuf *out, int depth)
{
	sb_putc(out, '\n');
	for (int i = 0; i < depth; i++)
		sb_puts(out, "  ");
}

static void doc_json_node(StrBuf *out, const DNode *d, int depth)
{
	switch (d->kind) {
	case D_NULL:
		sb_puts(out, "null");
		break;
	case D_BOOL:
		sb_puts(out, d->i ? "true" : "false");
		break;
	case D_INT:
		sb_printf(out, "%lld", d->i);
		break;
	case D_NUM:
		sb_puts(out, d->s);
		break;
	case D_STR:
		doc_json_string(out, d->s);
		break;
	case D_MAP:
		if (!d->n) {
			sb_puts(out, "{}");
			break;
		}
		sb_putc(out, '{');
		for (int i = 0; i < d->n; i++) {
			if (i)
				sb_putc(out, ',');
			doc_json_indent(out, depth + 1);
			doc_json_string(out, d->pairs[i].key);
			sb_puts(out, ": ");
			doc_json_node(out, d->pairs[i].val, depth + 1);
		}
		doc_json_indent(out, depth);
		sb_putc(out, '}');
		break;
	case D_SEQ:
		if (!d->n) {
			sb_puts(out, "[]");
			break;
		}
		sb_putc(out, '[');
		for (int i = 0; i < d->n; i++) {
			if (i)
				sb_putc(out, ',');
			doc_json_indent(out, depth + 1);
			doc_json_node(out, d->items[i], depth + 1);
		}
		doc_json_indent(out, depth);
		sb_putc(out, ']');
		break;
	}
}

void doc_emit_json(StrBuf *out, const DNode *root)
{
	doc_json_node(out, root, 0);
	sb_putc(out, '\n');
}
