/*
 * doc_yaml.c — DNode trees (doc.c) as YAML.
 *
 * YAML is laid out and escaped exactly as libyaml's emitter does it, but the
 * choice of scalar style is made here first: libyaml only knows whether a
 * plain scalar is *syntactically* possible, not that a YAML 1.1 reader
 * (sigs.k8s.io/yaml, Helm) would read `no`, `0755` or `12:30` as a bool or a
 * number (guide §7). So every string that any 1.1 or 1.2 reader could take
 * for something else is double-quoted, and everything else stays plain so
 * the output looks hand-written. Two emitters write the same bytes: the
 * direct one, which walks the tree and appends to the buffer (production),
 * and libyaml's, driven by events (the reference the tests compare against,
 * and the fallback: PLATFORMC_EMITTER=libyaml).
 */
#include "platformc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <yaml.h>

/* ---- quoting ---- */

/*
 * Byte classes, so that the quoting rule and the emitters' scans read each
 * byte once and most bytes cost one table lookup. Built at compile time from
 * the expressions below.
 */
enum {
	CC_NUMBER = 1,   /* occurs in some number syntax (doc_looks_numeric) */
	CC_FIRST = 2,    /* an indicator: a plain scalar must not begin with it */
	CC_LOOK = 4,     /* the quoting rule looks closer: controls, space, `:`, non-ASCII */
	CC_INERT = 8,    /* printable ASCII that libyaml notes nothing about after the first character */
	CC_ESCAPE = 16,  /* ASCII that double-quoted YAML (libyaml) and JSON (doc.c) escape */
};

#define CC_IS_NUMBER(c) (((c) >= '0' && (c) <= '9') || ((c) >= 'a' && (c) <= 'f') || \
			 ((c) >= 'A' && (c) <= 'F') || (c) == '_' || (c) == '.' || (c) == ':' || \
			 (c) == '+' || (c) == '-' || (c) == 'x' || (c) == 'X' || (c) == 'o' || \
			 (c) == 'O' || (c) == 'b' || (c) == 'B' || (c) == 'p' || (c) == 'P')
#define CC_IS_FIRST(c) ((c) == '?' || (c) == ':' || (c) == ',' || (c) == '[' || (c) == ']' || \
			(c) == '{' || (c) == '}' || (c) == '#' || (c) == '&' || (c) == '*' || \
			(c) == '!' || (c) == '|' || (c) == '>' || (c) == '\'' || (c) == '"' || \
			(c) == '%' || (c) == '@' || (c) == '`')
/* libyaml's analyze_scalar: after the first character, only these ASCII
 * characters matter (flow indicators, `:`, `#`, blanks, breaks, controls) */
#define CC_IS_INERT(c) ((c) > ' ' && (c) < 0x7f && (c) != ',' && (c) != '?' && (c) != '[' && \
			(c) != ']' && (c) != '{' && (c) != '}' && (c) != ':' && (c) != '#')
#define CC_OF(c) ((CC_IS_NUMBER(c) ? CC_NUMBER : 0) | (CC_IS_FIRST(c) ? CC_FIRST : 0) |      \
		  ((c) < ' ' || (c) > '~' || (c) == ' ' || (c) == ':' ? CC_LOOK : 0) |         \
		  (CC_IS_INERT(c) ? CC_INERT : 0) |                                             \
		  ((c) < ' ' || (c) == 0x7f || (c) == '"' || (c) == '\\' ? CC_ESCAPE : 0))
#define CC4(c) CC_OF(c), CC_OF((c) + 1), CC_OF((c) + 2), CC_OF((c) + 3)
#define CC16(c) CC4(c), CC4((c) + 4), CC4((c) + 8), CC4((c) + 12)
#define CC64(c) CC16(c), CC16((c) + 16), CC16((c) + 32), CC16((c) + 48)
static const unsigned char doc_cclass[256] = { CC64(0), CC64(64), CC64(128), CC64(192) };

/*
 * The width (1-4) of the UTF-8 sequence that begins with byte c; 0 for a
 * byte that cannot begin one. Continuation bytes are checked by the callers.
 */
static size_t doc_utf8_width(unsigned c)
{
	return c < 0x80 ? 1 : (c & 0xE0) == 0xC0 ? 2 : (c & 0xF0) == 0xE0 ? 3 : (c & 0xF8) == 0xF0 ? 4 : 0;
}

/* The code point of the valid sequence of width w at p. */
static unsigned doc_utf8_value(const unsigned char *p, size_t w)
{
	unsigned v = w == 1 ? p[0] : p[0] & (0x7F >> w);
	for (size_t k = 1; k < w; k++)
		v = v << 6 | (p[k] & 0x3F);
	return v;
}

/*
 * Characters a plain scalar must not hold: C0 controls, DEL, C1 controls
 * (U+0085 is a 1.1 line break), U+2028/U+2029 (1.1 line breaks), the BOM,
 * U+FFFE/U+FFFF, and bytes that are not valid UTF-8 (util.c's utf8_valid:
 * no overlong forms, surrogates or code points past U+10FFFF). Looks at the
 * character at p[*i] and moves *i to its last byte.
 */
static bool doc_unsafe_char_at(const unsigned char *p, size_t *i)
{
	unsigned c = p[*i];
	if (c < 0x80)
		return c < 0x20 || c == 0x7f;
	size_t w = doc_utf8_width(c);
	static const unsigned min[] = { 0, 0, 0x80, 0x800, 0x10000 };
	if (!w)
		return true;
	for (size_t k = 1; k < w; k++)
		if ((p[*i + k] & 0xC0) != 0x80)
			return true; /* this also stops at the terminating NUL */
	unsigned v = doc_utf8_value(p + *i, w);
	*i += w - 1;
	return v < min[w] || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF) || (v >= 0x80 && v <= 0x9F) ||
	       v == 0x2028 || v == 0x2029 || v == 0xFEFF || v == 0xFFFE || v == 0xFFFF;
}

/*
 * Words some reader resolves to a non-string. Compared case-insensitively,
 * which is broader than any spec (YAML 1.1 has only `yes`/`Yes`/`YES`) but
 * costs nothing: a quoted `yEs` is still the string `yEs`.
 */
static bool doc_is_special_word(const char *s, size_t n)
{
	static const char *const words[] = {
		"~", "null", "y", "yes", "n", "no", "true", "false", "on", "off",
		"=", "<<", "inf", "infinity", "nan",
	};
	const char *t = s;
	/* the longest candidate is `+.infinity`: skip the compares for longer text */
	if (n > 10)
		return false;
	if (*t == '+' || *t == '-')
		t++;
	if (*t == '.')
		t++;
	/* and for text whose first letter starts none of them */
	if (!strchr("~nNyYtTfFoO=<iI", *t) || *t == 0)
		return false;
	for (size_t i = 0; i < ARRAY_LEN(words); i++)
		if ((s[0] | 0x20) == (words[i][0] | 0x20) && strcasecmp(s, words[i]) == 0)
			return true;
	/* [+-][.](inf|infinity|nan): 1.1 `.inf`, Go's ParseFloat `-Infinity` */
	return t != s && (strcasecmp(t, "inf") == 0 || strcasecmp(t, "infinity") == 0 || strcasecmp(t, "nan") == 0);
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
	const unsigned char *t = (const unsigned char *)s;
	if (*t == '+' || *t == '-')
		t++;
	if (!((*t >= '0' && *t <= '9') || (*t == '.' && t[1] >= '0' && t[1] <= '9')))
		return false;
	for (; *t; t++)
		if (!(doc_cclass[*t] & CC_NUMBER))
			return false;
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

/* What the quoting rule's pass learns about text it lets through plain. */
typedef struct DocText {
	size_t len;
	bool astral; /* holds a character outside the BMP */
} DocText;

/*
 * A byte of class CC_LOOK at p[*n] other than the final NUL: true when it
 * makes the text unfit for a plain scalar (a leading or trailing space,
 * ` #`, `: `, a trailing `:`, an unsafe character). Moves *n to the last
 * byte of a multi-byte character and notes one outside the BMP.
 */
static bool doc_breaks_plain_at(const unsigned char *p, size_t *n, bool *astral)
{
	size_t i = *n;
	if (p[i] == ' ')
		return i == 0 || p[i + 1] == 0 || p[i + 1] == '#';
	if (p[i] == ':')
		return p[i + 1] == ' ' || p[i + 1] == 0;
	*astral |= p[i] >= 0xF0;
	return doc_unsafe_char_at(p, n);
}

/*
 * One pass over the bytes, in which most bytes cost a table lookup (the NUL
 * that ends the text is a CC_LOOK byte too); the prefix rules then look at
 * a few bytes only. Returns whether s needs quotes; when it does not, fills *t.
 */
static bool doc_quote_scan(const char *s, DocText *t)
{
	const unsigned char *p = (const unsigned char *)s;
	bool astral = false;
	size_t n;
	/* empty, or an indicator that begins a node or is reserved */
	if (!p[0] || (doc_cclass[p[0]] & CC_FIRST))
		return true;
	for (n = 0;; n++) {
		if (!(doc_cclass[p[n]] & CC_LOOK))
			continue;
		if (!p[n])
			break;
		if (doc_breaks_plain_at(p, &n, &astral))
			return true;
	}
	/* `-` alone, `- x`, and `-1`/`-.5` (numbers, caught below too) */
	if (p[0] == '-' && (p[1] == 0 || p[1] == ' ' || p[1] == '.' || (p[1] >= '0' && p[1] <= '9')))
		return true;
	/* document markers, even when more text follows on the line */
	if ((p[0] == '-' || p[0] == '.') && p[1] == p[0] && p[2] == p[0])
		return true;
	if (doc_is_special_word(s, n) || doc_looks_numeric(s) || doc_looks_timestamp(s))
		return true;
	t->len = n;
	t->astral = astral;
	return false;
}

bool doc_yaml_needs_quotes(const char *s)
{
	DocText t;
	return doc_quote_scan(s, &t);
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

bool doc_literal_any;

/*
 * The style doc.c asks for, the same for both emitters; libyaml may still
 * write another one when the text cannot be written in it (the direct
 * emitter follows it there). For plain style, *t describes the text. In a
 * flow sequence the flow indicators end a plain scalar as well.
 */
static yaml_scalar_style_t doc_string_style(const char *s, bool literal, bool in_flow, DocText *t)
{
	if (literal && !in_flow && (doc_literal_any || doc_literal_ok(s)))
		return YAML_LITERAL_SCALAR_STYLE;
	if (doc_quote_scan(s, t) || (in_flow && strpbrk(s, ",[]{}")))
		return YAML_DOUBLE_QUOTED_SCALAR_STYLE;
	return YAML_PLAIN_SCALAR_STYLE;
}

/* ---- YAML: what both emitters share ---- */

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

/* Exactly one trailing newline after the stream that began at `start`,
 * whatever the emitter ended with. */
static void doc_yaml_end(StrBuf *out, size_t start)
{
	while (out->len > start && out->data[out->len - 1] == '\n')
		out->len--;
	if (out->data)
		out->data[out->len] = 0;
	sb_putc(out, '\n');
}

/* Text the emitters cannot write is a compiler bug, never a user error:
 * input text is validated on load. */
static _Noreturn void doc_yaml_bad_utf8(const char *s)
{
	fprintf(stderr, "platformc: internal error: YAML emitter: invalid UTF-8 in \"%s\"\n", s);
	abort();
}

/* ---- YAML through libyaml: the reference emitter ---- */

typedef struct DocYaml {
	yaml_emitter_t em;
} DocYaml;

static int doc_yaml_write(void *data, unsigned char *buffer, size_t size)
{
	sb_putn(data, (const char *)buffer, size);
	return 1;
}

/* An emitter error means we handed libyaml a bad tree: a compiler bug. */
static void doc_yaml_event(DocYaml *y, yaml_event_t *ev)
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
	/* fails only on text that is not UTF-8, leaving ev unset */
	if (!yaml_scalar_event_initialize(&ev, NULL, NULL, (yaml_char_t *)s, (int)strlen(s), 1, 1, style))
		doc_yaml_bad_utf8(s);
	doc_yaml_event(y, &ev);
}

static void doc_yaml_string(DocYaml *y, const char *s, bool literal, bool in_flow)
{
	DocText t;
	doc_yaml_scalar(y, s, doc_string_style(s, literal, in_flow, &t));
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
		doc_yaml_event(y, &ev);
		for (int i = 0; i < d->n; i++) {
			doc_yaml_string(y, d->pairs[i].key, false, false);
			doc_yaml_node(y, d->pairs[i].val, false);
		}
		yaml_mapping_end_event_initialize(&ev);
		doc_yaml_event(y, &ev);
		break;
	case D_SEQ: {
		bool flow = d->flow;
		for (int i = 0; i < d->n && flow; i++)
			flow = d->items[i]->kind != D_MAP && d->items[i]->kind != D_SEQ;
		yaml_sequence_start_event_initialize(&ev, NULL, NULL, 1,
						     flow ? YAML_FLOW_SEQUENCE_STYLE
							  : YAML_BLOCK_SEQUENCE_STYLE);
		doc_yaml_event(y, &ev);
		for (int i = 0; i < d->n; i++)
			doc_yaml_node(y, d->items[i], flow);
		yaml_sequence_end_event_initialize(&ev);
		doc_yaml_event(y, &ev);
		break;
	}
	}
}

void doc_yaml_emit_libyaml(StrBuf *out, DNode *const *docs, int ndocs, const char *header)
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
	doc_yaml_event(&y, &ev);
	for (int i = 0; i < ndocs; i++) {
		/* libyaml writes `---` before every document but the first */
		yaml_document_start_event_initialize(&ev, NULL, NULL, NULL, 1);
		doc_yaml_event(&y, &ev);
		doc_yaml_node(&y, docs[i], false);
		yaml_document_end_event_initialize(&ev, 1);
		doc_yaml_event(&y, &ev);
	}
	yaml_stream_end_event_initialize(&ev);
	doc_yaml_event(&y, &ev);
	if (!yaml_emitter_flush(&y.em)) {
		fprintf(stderr, "platformc: internal error: YAML emitter flush failed\n");
		abort();
	}
	yaml_emitter_delete(&y.em);
	doc_yaml_end(out, start);
}

/* ---- YAML written directly: the production emitter ---- */

/*
 * libyaml's emitter costs most of a render: an event per node, a malloc'd
 * copy of every scalar, a queue and a state machine, for a tree we already
 * hold. The direct emitter walks the tree and writes the same bytes. It keeps
 * libyaml's layout state under libyaml's names and follows its emitter.c
 * (0.2.5) function by function for the only events doc.c sends: no anchors,
 * no tags, implicit documents, block mappings, block or flow sequences, and
 * plain, double-quoted or literal scalars, with indent 2, no folding (width
 * -1: every `column > best_width` test of libyaml is false), unicode and LF
 * breaks. A function named dy_x mirrors yaml_emitter_x or, for node kinds,
 * the states that emit them.
 */
typedef struct DocOut {
	StrBuf *out;
	int indent;      /* block indentation of the current node; -1 before the root */
	int column;      /* see dy_write */
	bool whitespace; /* the last thing written separates like a space */
	bool indention;  /* only indentation and `-`, `?`, `:` written on this line */
	int flow_level;
	int open_ended;  /* 2 after a `|+` scalar: the stream then ends with `...` */
} DocOut;

/*
 * libyaml counts the column in characters; here it counts bytes. The column
 * is only compared with the indentation while `indention` holds, that is,
 * before any scalar text on the line, where the two counts are the same.
 */
static void dy_write(DocOut *y, const char *s, size_t n)
{
	sb_putn(y->out, s, n);
	y->column += (int)n;
}

static void dy_put(DocOut *y, char c)
{
	sb_putc(y->out, c);
	y->column++;
}

static void dy_put_break(DocOut *y)
{
	sb_putc(y->out, '\n');
	y->column = 0;
}

/* A line break of the text itself (WRITE_BREAK): \n is written as the
 * emitter's break, the others (\r, U+0085, U+2028, U+2029) as they are. */
static void dy_write_break(DocOut *y, const unsigned char *p, size_t w)
{
	if (*p == '\n')
		dy_put_break(y);
	else
		sb_putn(y->out, (const char *)p, w), y->column = 0;
}

static void dy_write_indent(DocOut *y)
{
	static const char spaces[64] = "                                                                ";
	int indent = y->indent >= 0 ? y->indent : 0;
	if (!y->indention || y->column > indent || (y->column == indent && !y->whitespace))
		dy_put_break(y);
	while (y->column < indent) {
		int n = indent - y->column;
		dy_write(y, spaces, (size_t)(n < 64 ? n : 64));
	}
	y->whitespace = true;
	y->indention = true;
}

static void dy_write_indicator(DocOut *y, const char *indicator, bool need_whitespace, bool is_whitespace,
			       bool is_indention)
{
	if (need_whitespace && !y->whitespace)
		dy_put(y, ' ');
	dy_write(y, indicator, strlen(indicator));
	y->whitespace = is_whitespace;
	y->indention = y->indention && is_indention;
}

static void dy_increase_indent(DocOut *y, bool flow, bool indentless)
{
	if (y->indent < 0)
		y->indent = flow ? 2 : 0;
	else if (!indentless)
		y->indent += 2;
}

/* ---- scalars ---- */

/* libyaml's character classes (yaml_private.h), on valid UTF-8. */
static bool dy_is_break(const unsigned char *p)
{
	return p[0] == '\r' || p[0] == '\n' || (p[0] == 0xC2 && p[1] == 0x85) ||
	       (p[0] == 0xE2 && p[1] == 0x80 && (p[2] == 0xA8 || p[2] == 0xA9));
}

/* blank, break or the end of the text */
static bool dy_is_blankz(const unsigned char *p)
{
	return p[0] == ' ' || p[0] == '\t' || p[0] == 0 || dy_is_break(p);
}

/* \n, printable ASCII, U+00A0-U+D7FF, U+E000-U+FFFD but the BOM: nothing
 * outside the BMP, which libyaml 0.2.5 escapes as \U........ */
static bool dy_is_printable(const unsigned char *p)
{
	unsigned c = p[0];
	return c == 0x0A || (c >= 0x20 && c <= 0x7E) || (c == 0xC2 && p[1] >= 0xA0) || (c > 0xC2 && c < 0xED) ||
	       (c == 0xED && p[1] < 0xA0) || c == 0xEE ||
	       (c == 0xEF && !(p[1] == 0xBB && p[2] == 0xBF) && !(p[1] == 0xBF && (p[2] == 0xBE || p[2] == 0xBF)));
}

/*
 * The width of the character at p, checked as libyaml checks scalar text
 * when an event is made (yaml_check_utf8: well-formed sequences, no overlong
 * forms; it lets surrogates and values past U+10FFFF through, and so does
 * this). s is the whole text, for the error message.
 */
static size_t dy_char_width(const unsigned char *p, const char *s)
{
	static const unsigned min[] = { 0, 0, 0x80, 0x800, 0x10000 };
	size_t w = doc_utf8_width(p[0]);
	if (w == 1)
		return 1;
	if (!w)
		doc_yaml_bad_utf8(s);
	for (size_t k = 1; k < w; k++)
		if ((p[k] & 0xC0) != 0x80)
			doc_yaml_bad_utf8(s);
	if (doc_utf8_value(p, w) < min[w])
		doc_yaml_bad_utf8(s);
	return w;
}

/* What libyaml's analyze_scalar finds out about a scalar's text. */
typedef struct DocScalar {
	const char *s;
	size_t len;
	bool multiline;
	bool flow_plain_allowed, block_plain_allowed, single_quoted_allowed, block_allowed;
} DocScalar;

static void dy_analyze_scalar(DocScalar *sc, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	bool block_indicators = false, flow_indicators = false, line_breaks = false, special_characters = false;
	bool leading_space = false, leading_break = false, trailing_space = false, trailing_break = false;
	bool break_space = false, space_break = false;
	bool preceded_by_whitespace = true, previous_space = false, previous_break = false;
	size_t i = 0;

	sc->s = s;
	if (!p[0]) {
		sc->len = 0;
		sc->multiline = false;
		sc->flow_plain_allowed = false;
		sc->block_plain_allowed = true;
		sc->single_quoted_allowed = true;
		sc->block_allowed = false;
		return;
	}
	if ((p[0] == '-' || p[0] == '.') && p[1] == p[0] && p[2] == p[0])
		block_indicators = flow_indicators = true;

	while (p[i]) {
		unsigned c = p[i];
		/* the common case: a letter, a digit, most punctuation */
		if (i && (doc_cclass[c] & CC_INERT)) {
			preceded_by_whitespace = previous_space = previous_break = false;
			i++;
			continue;
		}
		size_t w = dy_char_width(p + i, s);
		bool followed_by_whitespace = dy_is_blankz(p + i + w);
		bool is_break = dy_is_break(p + i);
		if (i == 0) {
			if (doc_cclass[c] & CC_FIRST && c != '?' && c != ':')
				flow_indicators = block_indicators = true;
			if (c == '?' || c == ':') {
				flow_indicators = true;
				if (followed_by_whitespace)
					block_indicators = true;
			}
			if (c == '-' && followed_by_whitespace)
				flow_indicators = block_indicators = true;
		} else {
			if (c == ',' || c == '?' || c == '[' || c == ']' || c == '{' || c == '}')
				flow_indicators = true;
			if (c == ':') {
				flow_indicators = true;
				if (followed_by_whitespace)
					block_indicators = true;
			}
			if (c == '#' && preceded_by_whitespace)
				flow_indicators = block_indicators = true;
		}
		if (!dy_is_printable(p + i))
			special_characters = true;
		if (is_break)
			line_breaks = true;
		if (c == ' ') {
			leading_space |= i == 0;
			trailing_space |= p[i + w] == 0;
			break_space |= previous_break;
			previous_space = true;
			previous_break = false;
		} else if (is_break) {
			leading_break |= i == 0;
			trailing_break |= p[i + w] == 0;
			space_break |= previous_space;
			previous_space = false;
			previous_break = true;
		} else {
			previous_space = previous_break = false;
		}
		preceded_by_whitespace = dy_is_blankz(p + i);
		i += w;
	}

	sc->len = i;
	sc->multiline = line_breaks;
	sc->flow_plain_allowed = sc->block_plain_allowed = true;
	sc->single_quoted_allowed = sc->block_allowed = true;
	if (leading_space || leading_break || trailing_space || trailing_break)
		sc->flow_plain_allowed = sc->block_plain_allowed = false;
	if (trailing_space)
		sc->block_allowed = false;
	if (break_space)
		sc->flow_plain_allowed = sc->block_plain_allowed = sc->single_quoted_allowed = false;
	if (space_break || special_characters)
		sc->flow_plain_allowed = sc->block_plain_allowed = sc->single_quoted_allowed =
			sc->block_allowed = false;
	if (line_breaks)
		sc->flow_plain_allowed = sc->block_plain_allowed = false;
	if (flow_indicators)
		sc->flow_plain_allowed = false;
	if (block_indicators)
		sc->block_plain_allowed = false;
}

/* libyaml's override of the style asked for, when the text cannot be
 * written in it. */
static yaml_scalar_style_t dy_select_scalar_style(const DocOut *y, const DocScalar *sc, yaml_scalar_style_t style,
						  bool simple_key)
{
	if (simple_key && sc->multiline)
		style = YAML_DOUBLE_QUOTED_SCALAR_STYLE;
	if (style == YAML_PLAIN_SCALAR_STYLE) {
		if (y->flow_level ? !sc->flow_plain_allowed : !sc->block_plain_allowed)
			style = YAML_SINGLE_QUOTED_SCALAR_STYLE;
		if (!sc->len && (y->flow_level || simple_key))
			style = YAML_SINGLE_QUOTED_SCALAR_STYLE;
	}
	if (style == YAML_SINGLE_QUOTED_SCALAR_STYLE && !sc->single_quoted_allowed)
		style = YAML_DOUBLE_QUOTED_SCALAR_STYLE;
	if (style == YAML_LITERAL_SCALAR_STYLE && (!sc->block_allowed || y->flow_level || simple_key))
		style = YAML_DOUBLE_QUOTED_SCALAR_STYLE;
	return style;
}

/* Plain text never holds a break (analysis forbids it), so it is written
 * as it is. */
static void dy_write_plain_scalar(DocOut *y, const char *s, size_t n)
{
	if (!y->whitespace && (n || y->flow_level))
		dy_put(y, ' ');
	dy_write(y, s, n);
	y->whitespace = false;
	y->indention = false;
}

/* Only reached for text libyaml would not write plain in a flow sequence
 * (`a:b`, `x?`): rare, so one character at a time. */
static void dy_write_single_quoted_scalar(DocOut *y, const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	bool breaks = false;
	dy_write_indicator(y, "'", true, false, false);
	for (size_t i = 0; i < n;) {
		size_t w = doc_utf8_width(p[i]);
		if (p[i] == ' ') {
			dy_put(y, ' ');
		} else if (dy_is_break(p + i)) {
			if (!breaks && p[i] == '\n')
				dy_put_break(y);
			dy_write_break(y, p + i, w);
			y->indention = true;
			breaks = true;
		} else {
			if (breaks)
				dy_write_indent(y);
			if (p[i] == '\'')
				dy_put(y, '\'');
			dy_write(y, s + i, w);
			y->indention = false;
			breaks = false;
		}
		i += w;
	}
	if (breaks)
		dy_write_indent(y);
	dy_write_indicator(y, "'", false, false, false);
	y->whitespace = false;
	y->indention = false;
}

/* The escape libyaml writes for the character v after its backslash. */
static void dy_write_escape(DocOut *y, unsigned v)
{
	static const char hex[] = "0123456789ABCDEF";
	char buf[12], *b = buf;
	*b++ = '\\';
	switch (v) {
	case 0x00: *b++ = '0'; break;
	case 0x07: *b++ = 'a'; break;
	case 0x08: *b++ = 'b'; break;
	case 0x09: *b++ = 't'; break;
	case 0x0A: *b++ = 'n'; break;
	case 0x0B: *b++ = 'v'; break;
	case 0x0C: *b++ = 'f'; break;
	case 0x0D: *b++ = 'r'; break;
	case 0x1B: *b++ = 'e'; break;
	case 0x22: *b++ = '"'; break;
	case 0x5C: *b++ = '\\'; break;
	case 0x85: *b++ = 'N'; break;
	case 0xA0: *b++ = '_'; break;
	case 0x2028: *b++ = 'L'; break;
	case 0x2029: *b++ = 'P'; break;
	default: {
		int digits = v <= 0xFF ? 2 : v <= 0xFFFF ? 4 : 8;
		*b++ = v <= 0xFF ? 'x' : v <= 0xFFFF ? 'u' : 'U';
		for (int k = (digits - 1) * 4; k >= 0; k -= 4)
			*b++ = hex[(v >> k) & 0x0F];
	}
	}
	dy_write(y, buf, (size_t)(b - buf));
}

/*
 * Runs of characters that need no escape are copied at once; libyaml
 * escapes what is not printable, the BOM, breaks, `"` and `\`.
 */
static void dy_write_double_quoted_scalar(DocOut *y, const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t run = 0;
	dy_write_indicator(y, "\"", true, false, false);
	for (size_t i = 0; i < n;) {
		unsigned c = p[i];
		size_t w = 1;
		if (c < 0x80) {
			if (!(doc_cclass[c] & CC_ESCAPE)) {
				i++;
				continue;
			}
		} else {
			w = dy_char_width(p + i, s);
			if (dy_is_printable(p + i) && !dy_is_break(p + i)) {
				i += w;
				continue;
			}
		}
		dy_write(y, s + run, i - run);
		dy_write_escape(y, doc_utf8_value(p + i, w));
		i += w;
		run = i;
	}
	dy_write(y, s + run, n - run);
	dy_write_indicator(y, "\"", false, false, false);
	y->whitespace = false;
	y->indention = false;
}

/* The indentation indicator (text that begins with a space or a break) and
 * the chomping indicator: `-` without a final break, `+` with more than one. */
static void dy_write_block_scalar_hints(DocOut *y, const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	const char *chomp_hint = NULL;
	if (p[0] == ' ' || dy_is_break(p))
		dy_write_indicator(y, "2", false, false, false);
	y->open_ended = 0;
	if (!n) {
		chomp_hint = "-";
	} else {
		size_t last = n;
		do
			last--;
		while ((p[last] & 0xC0) == 0x80);
		if (!dy_is_break(p + last)) {
			chomp_hint = "-";
		} else if (last == 0) {
			chomp_hint = "+";
			y->open_ended = 2;
		} else {
			do
				last--;
			while ((p[last] & 0xC0) == 0x80);
			if (dy_is_break(p + last)) {
				chomp_hint = "+";
				y->open_ended = 2;
			}
		}
	}
	if (chomp_hint)
		dy_write_indicator(y, chomp_hint, false, false, false);
}

/* Line by line: each line's text at once, empty lines without indentation. */
static void dy_write_literal_scalar(DocOut *y, const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	bool breaks = true;
	dy_write_indicator(y, "|", true, false, false);
	dy_write_block_scalar_hints(y, s, n);
	dy_put_break(y);
	y->indention = true;
	y->whitespace = true;
	for (size_t i = 0; i < n;) {
		if (dy_is_break(p + i)) {
			size_t w = doc_utf8_width(p[i]);
			dy_write_break(y, p + i, w);
			y->indention = true;
			breaks = true;
			i += w;
			continue;
		}
		size_t end = i;
		while (end < n && !dy_is_break(p + end))
			end++;
		if (breaks)
			dy_write_indent(y);
		dy_write(y, s + i, end - i);
		y->indention = false;
		breaks = false;
		i = end;
	}
}

static void dy_write_scalar(DocOut *y, const DocScalar *sc, yaml_scalar_style_t style)
{
	int indent = y->indent;
	dy_increase_indent(y, true, false);
	switch (style) {
	case YAML_SINGLE_QUOTED_SCALAR_STYLE:
		dy_write_single_quoted_scalar(y, sc->s, sc->len);
		break;
	case YAML_DOUBLE_QUOTED_SCALAR_STYLE:
		dy_write_double_quoted_scalar(y, sc->s, sc->len);
		break;
	case YAML_LITERAL_SCALAR_STYLE:
		dy_write_literal_scalar(y, sc->s, sc->len);
		break;
	default:
		dy_write_plain_scalar(y, sc->s, sc->len);
		break;
	}
	y->indent = indent;
}

/*
 * What libyaml makes of text the quoting rule lets through plain, without
 * its analysis. The rule already refuses everything the analysis would hold
 * against plain style in block context (leading or trailing spaces, breaks,
 * controls, C1, the BOM, indicators at the start, `: `, ` #`, `-` before a
 * blank, document markers, the empty string) except characters outside the
 * BMP, which libyaml 0.2.5 takes for non-printable: those force double
 * quotes. In a flow sequence `:` and `?` anywhere are flow indicators too:
 * single quotes. The differential tests hold this to libyaml.
 */
static yaml_scalar_style_t dy_plain_style(const DocOut *y, const char *s, const DocText *t)
{
	if (t->astral)
		return YAML_DOUBLE_QUOTED_SCALAR_STYLE;
	if (y->flow_level && strpbrk(s, ":?"))
		return YAML_SINGLE_QUOTED_SCALAR_STYLE;
	return YAML_PLAIN_SCALAR_STYLE;
}

/* A string value or sequence item. */
static void dy_emit_string(DocOut *y, const char *s, bool literal)
{
	DocText t;
	DocScalar sc = { .s = s };
	yaml_scalar_style_t style = doc_string_style(s, literal, y->flow_level > 0, &t);
	if (style == YAML_PLAIN_SCALAR_STYLE) {
		sc.len = t.len;
		style = dy_plain_style(y, s, &t);
	} else if (style == YAML_DOUBLE_QUOTED_SCALAR_STYLE) {
		/* libyaml keeps double quotes whatever the text */
		sc.len = strlen(s);
	} else {
		dy_analyze_scalar(&sc, s);
		style = dy_select_scalar_style(y, &sc, style, false);
	}
	dy_write_scalar(y, &sc, style);
}

/* null, booleans and numbers: plain ASCII text without indicators, which
 * libyaml writes plain in block and flow context alike. */
static void dy_emit_plain(DocOut *y, const char *s)
{
	dy_write_plain_scalar(y, s, strlen(s));
}

/* ---- collections and documents ---- */

static void dy_emit_node(DocOut *y, const DNode *d, bool mapping_context);

/* libyaml writes an empty collection in flow style whatever was asked. */
static void dy_emit_empty(DocOut *y, const char *open, const char *close)
{
	dy_write_indicator(y, open, true, true, false);
	dy_write_indicator(y, close, false, false, false);
}

/* A key of at most 128 bytes on one line is a simple key (`key: value`);
 * any other is written as `? key` and `: value` on the next line. */
static void dy_emit_block_mapping(DocOut *y, const DNode *d)
{
	int indent = y->indent;
	if (!d->n) {
		dy_emit_empty(y, "{", "}");
		return;
	}
	dy_increase_indent(y, false, false);
	for (int i = 0; i < d->n; i++) {
		const char *key = d->pairs[i].key;
		DocText t;
		DocScalar sc = { .s = key };
		bool simple;
		dy_write_indent(y);
		yaml_scalar_style_t style = doc_string_style(key, false, false, &t);
		if (style == YAML_PLAIN_SCALAR_STYLE) {
			/* plain-safe text has no breaks (dy_plain_style) */
			sc.len = t.len;
			simple = sc.len <= 128;
			style = dy_plain_style(y, key, &t);
		} else {
			dy_analyze_scalar(&sc, key);
			simple = !sc.multiline && sc.len <= 128;
			style = dy_select_scalar_style(y, &sc, style, simple);
		}
		if (simple) {
			dy_write_scalar(y, &sc, style);
			dy_write_indicator(y, ":", false, false, false);
		} else {
			dy_write_indicator(y, "?", true, false, true);
			dy_write_scalar(y, &sc, style);
			dy_write_indent(y);
			dy_write_indicator(y, ":", true, false, true);
		}
		dy_emit_node(y, d->pairs[i].val, true);
	}
	y->indent = indent;
}

/* Items at the key's own indentation when the sequence is a mapping's
 * value (`key:` then `- item`), nested otherwise. */
static void dy_emit_block_sequence(DocOut *y, const DNode *d, bool mapping_context)
{
	int indent = y->indent;
	dy_increase_indent(y, false, mapping_context && !y->indention);
	for (int i = 0; i < d->n; i++) {
		dy_write_indent(y);
		dy_write_indicator(y, "-", true, false, true);
		dy_emit_node(y, d->items[i], false);
	}
	y->indent = indent;
}

static void dy_emit_flow_sequence(DocOut *y, const DNode *d)
{
	int indent = y->indent;
	dy_write_indicator(y, "[", true, true, false);
	dy_increase_indent(y, true, false);
	y->flow_level++;
	for (int i = 0; i < d->n; i++) {
		if (i)
			dy_write_indicator(y, ",", false, false, false);
		dy_emit_node(y, d->items[i], false);
	}
	y->flow_level--;
	y->indent = indent;
	dy_write_indicator(y, "]", false, false, false);
}

static void dy_emit_sequence(DocOut *y, const DNode *d, bool mapping_context)
{
	/* the same choice as doc_yaml_node: flow only for scalars */
	bool flow = d->flow;
	for (int i = 0; i < d->n && flow; i++)
		flow = d->items[i]->kind != D_MAP && d->items[i]->kind != D_SEQ;
	if (!d->n)
		dy_emit_empty(y, "[", "]");
	else if (flow || y->flow_level)
		dy_emit_flow_sequence(y, d);
	else
		dy_emit_block_sequence(y, d, mapping_context);
}

static void dy_emit_node(DocOut *y, const DNode *d, bool mapping_context)
{
	char buf[24];
	switch (d->kind) {
	case D_NULL:
		dy_emit_plain(y, "null");
		break;
	case D_BOOL:
		dy_emit_plain(y, d->i ? "true" : "false");
		break;
	case D_INT:
		dy_emit_plain(y, doc_format_int(d->i, buf));
		break;
	case D_NUM:
		dy_emit_plain(y, d->s);
		break;
	case D_STR:
		dy_emit_string(y, d->s, d->literal);
		break;
	case D_MAP:
		dy_emit_block_mapping(y, d);
		break;
	case D_SEQ:
		dy_emit_sequence(y, d, mapping_context);
		break;
	}
}

void doc_yaml_emit_direct(StrBuf *out, DNode *const *docs, int ndocs, const char *header)
{
	DocOut y = { .out = out, .indent = -1, .whitespace = true, .indention = true };
	if (header)
		doc_yaml_header(out, header);
	size_t start = out->len;
	for (int i = 0; i < ndocs; i++) {
		/* document start: implicit for the first document only */
		if (i) {
			dy_write_indent(&y);
			dy_write_indicator(&y, "---", true, false, false);
		}
		y.open_ended = 0;
		dy_emit_node(&y, docs[i], false);
		/* document end, implicit */
		dy_write_indent(&y);
		if (!y.open_ended)
			y.open_ended = 1;
	}
	/* stream end: a final `|+` scalar's trailing breaks need a marker */
	if (y.open_ended == 2) {
		dy_write_indicator(&y, "...", true, false, false);
		dy_write_indent(&y);
	}
	doc_yaml_end(out, start);
}

/*
 * PLATFORMC_EMITTER=libyaml selects the reference emitter (to compare trees
 * or to step around a suspected bug of the direct one); `direct` or unset
 * selects the direct one. Anything else is refused rather than guessed.
 */
static bool doc_use_libyaml(void)
{
	static int use = -1;
	if (use < 0) {
		const char *e = getenv("PLATFORMC_EMITTER");
		if (!e || !*e || strcmp(e, "direct") == 0) {
			use = 0;
		} else if (strcmp(e, "libyaml") == 0) {
			use = 1;
		} else {
			fprintf(stderr, "platformc: PLATFORMC_EMITTER must be `direct` or `libyaml`, not `%s`\n", e);
			exit(2);
		}
	}
	return use;
}

void doc_yaml_emit(StrBuf *out, DNode *const *docs, int ndocs, const char *header)
{
	if (doc_use_libyaml())
		doc_yaml_emit_libyaml(out, docs, ndocs, header);
	else
		doc_yaml_emit_direct(out, docs, ndocs, header);
}
