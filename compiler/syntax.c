/*
 * syntax.c — YAML syntax errors in platformc's own words (E0005).
 *
 * libfyaml says what its state machine expected ("did not find expected '-'
 * indicator"), usually where it noticed: at the end of a line, or a line
 * after the one at fault. A person points at the tab, at the key that lost
 * its indentation, at the quote that is never closed. So the parser's
 * message only picks a class; the position comes from a small scan of the
 * text that knows the few shapes platform.yaml is written in:
 *
 *   tab        a tab in a line's indentation            -> the tab
 *   indent     a line lined up with no block above      -> its first character
 *   quote      a quoted value never closed              -> the opening quote
 *   bracket    `[` / `{` never closed, or closed wrong  -> the bracket
 *   colon      `key: a: b` on one line                  -> the value
 *   start      a value starting with `@` or a backtick  -> the value
 *   trailing   text after a closing quote               -> the text
 *
 * The scan runs only on a file libfyaml rejected and only up to the line it
 * rejected, so a wrong guess can move the caret but never invent an error.
 */
#include "platformc.h"

#include <stdio.h>
#include <string.h>

typedef struct Line {
	int start, end; /* byte offsets; end excludes the newline */
} Line;

static Line line_at(const SourceFile *f, int ln)
{
	Line l = {f->line_starts[ln - 1], ln < f->nlines ? f->line_starts[ln] - 1 : (int)f->len};
	return l;
}

/* Column (1-based, in characters) of byte offset `off` on line `ln`. */
static Span span_at(const SourceFile *f, int ln, int off, int len)
{
	Line l = line_at(f, ln);
	int col = 1;
	for (int i = l.start; i < off && i < l.end; col++)
		i += node_char_len(f->text + i, (size_t)(l.end - i));
	return (Span){(SourceFile *)f, ln, col, len > 0 ? len : 1};
}

static int indent_of(const SourceFile *f, Line l)
{
	int i = l.start;
	while (i < l.end && f->text[i] == ' ')
		i++;
	return i - l.start;
}

static bool blank_or_comment(const SourceFile *f, Line l)
{
	int i = l.start;
	while (i < l.end && (f->text[i] == ' ' || f->text[i] == '\t'))
		i++;
	return i == l.end || f->text[i] == '#';
}

/* ---- flow state: quotes and brackets, carried from line to line ---- */

typedef struct Flow {
	char quote;          /* '"' or '\'' while inside a quoted scalar */
	int quote_off, quote_line;
	char stack[64];      /* open brackets */
	int stack_off[64], stack_line[64];
	int depth;
	int bad_off, bad_line; /* first closing bracket that matches nothing */
	char bad_close, bad_open;
} Flow;

/* Can a quote or bracket at `i` start a token? (not `it's`, `a[0]`) */
static bool token_start(const SourceFile *f, Line l, int i)
{
	int j = i - 1;
	while (j >= l.start && f->text[j] == ' ')
		j--;
	return j < l.start || strchr(":-[{,?", f->text[j]) != NULL;
}

/* Runs the flow state over one line. Returns the offset where a `#`
 * comment starts (or l.end). */
static int flow_line(const SourceFile *f, Flow *fl, Line l, int ln)
{
	const char *t = f->text;
	for (int i = l.start; i < l.end; i++) {
		char c = t[i];
		if (fl->quote == '"') {
			if (c == '\\')
				i++;
			else if (c == '"')
				fl->quote = 0;
			continue;
		}
		if (fl->quote == '\'') {
			if (c == '\'' && i + 1 < l.end && t[i + 1] == '\'')
				i++;
			else if (c == '\'')
				fl->quote = 0;
			continue;
		}
		if (c == '#' && (i == l.start || t[i - 1] == ' ' || t[i - 1] == '\t'))
			return i;
		if ((c == '"' || c == '\'') && token_start(f, l, i)) {
			fl->quote = c, fl->quote_off = i, fl->quote_line = ln;
		} else if ((c == '[' || c == '{') && (fl->depth > 0 || token_start(f, l, i))) {
			if (fl->depth < 64) {
				fl->stack[fl->depth] = c;
				fl->stack_off[fl->depth] = i;
				fl->stack_line[fl->depth] = ln;
			}
			fl->depth++;
		} else if ((c == ']' || c == '}') && fl->depth > 0) {
			char open = fl->depth <= 64 ? fl->stack[fl->depth - 1] : 0;
			if (open && open != (c == ']' ? '[' : '{') && !fl->bad_line) {
				fl->bad_line = ln, fl->bad_off = i, fl->bad_close = c, fl->bad_open = open;
			}
			fl->depth--;
		}
	}
	return l.end;
}

/* ---- indentation: a stack of the blocks open at each line ---- */

typedef struct Level {
	int indent;
	bool seq;            /* a list's `-` items; else a mapping's keys */
	int line;            /* the last line at this level */
	int key_off, key_len; /* its key (mappings) */
} Level;

typedef struct Indent {
	int line, off, len;  /* the line at fault, its first character, the key's length */
	int kind;            /* 1 between levels, 2 deeper than a finished value, 3 key among items,
			      * 4 item among keys, 5 text without `:` */
	Level near[2];       /* the levels it could belong to */
	int nnear;
} Indent;

/* The offset of the `:` that ends the key at `i`, or -1. */
static int key_colon(const SourceFile *f, int i, int end)
{
	const char *t = f->text;
	if (i < end && (t[i] == '"' || t[i] == '\'')) {
		char q = t[i];
		for (i++; i < end && t[i] != q; i++)
			if (q == '"' && t[i] == '\\')
				i++;
		i++;
	}
	for (; i < end; i++) {
		if (t[i] == '#' && i > 0 && t[i - 1] == ' ')
			return -1;
		if ((t[i] == '[' || t[i] == '{') && i > 0 && t[i - 1] == ' ')
			return -1;
		if (t[i] == ':' && (i + 1 == end || t[i + 1] == ' ' || t[i + 1] == '\t'))
			return i;
	}
	return -1;
}

/* Is the rest of the line after `i` empty (or a comment)? */
static bool rest_empty(const SourceFile *f, int i, int end)
{
	while (i < end && (f->text[i] == ' ' || f->text[i] == '\t'))
		i++;
	return i >= end || f->text[i] == '#';
}

/* Does the value at `i` start a block scalar (`|`, `>-`, …)? */
static bool block_scalar_at(const SourceFile *f, int i, int end)
{
	while (i < end && f->text[i] == ' ')
		i++;
	if (i >= end || (f->text[i] != '|' && f->text[i] != '>'))
		return false;
	for (i++; i < end && strchr("+-0123456789", f->text[i]); i++)
		;
	return rest_empty(f, i, end);
}

static void push(Level *st, int *n, int indent, bool seq, int line, int key_off, int key_len)
{
	if (*n < 64)
		st[(*n)++] = (Level){indent, seq, line, key_off, key_len};
}

/* The first line, up to `last`, whose indentation fits no open block. */
static bool find_indent(const SourceFile *f, int last, Indent *out)
{
	Level st[64];
	int n = 0;
	bool opens = false;       /* the previous line's value is on the lines below */
	int scalar_indent = -1;   /* block scalar: lines deeper than this are text */
	bool had_value = false;   /* the previous line ended in a plain value */
	Flow fl = {0};
	memset(out, 0, sizeof *out);
	for (int ln = 1; ln <= last && ln <= f->nlines; ln++) {
		Line l = line_at(f, ln);
		bool inside = fl.quote || fl.depth > 0;
		if (inside) {
			flow_line(f, &fl, l, ln);
			continue;
		}
		if (blank_or_comment(f, l))
			continue;
		int ind = indent_of(f, l);
		if (scalar_indent >= 0 && ind > scalar_indent)
			continue;
		scalar_indent = -1;
		int i = l.start + ind;
		if (f->text[i] == '\t')
			return false; /* a tab: another class */
		if (l.end - i >= 3 && (!memcmp(f->text + i, "---", 3) || !memcmp(f->text + i, "...", 3))) {
			n = 0, opens = false, had_value = false;
			continue;
		}
		bool item = f->text[i] == '-' && (i + 1 == l.end || f->text[i + 1] == ' ');
		int colon = item ? -1 : key_colon(f, i, l.end);
		/* where this line fits */
		if (n > 0 && ind > st[n - 1].indent && !opens) {
			if (had_value && !item && colon < 0) {
				flow_line(f, &fl, l, ln); /* a plain scalar continued */
				continue;
			}
			*out = (Indent){ln, i, colon > i ? colon - i : 1, 2, {st[n - 1]}, 1};
			return true;
		}
		if (n == 0 || (opens && ind > st[n - 1].indent)) {
			push(st, &n, ind, item, ln, i, colon - i);
		} else if (opens && item && ind == st[n - 1].indent && !st[n - 1].seq) {
			push(st, &n, ind, true, ln, i, 1); /* `key:` then `- a` at the key's column */
		} else {
			Level deeper = {-1, false, 0, 0, 0};
			while (n > 0 && st[n - 1].indent > ind) {
				/* the nearest block of the same kind the line could rejoin */
				if (!item || st[n - 1].seq || !deeper.seq)
					deeper = st[n - 1];
				n--;
			}
			if (n == 0 || st[n - 1].indent != ind) {
				Indent r = {ln, i, colon > i ? colon - i : 1, 1, {{0}}, 0};
				if (deeper.indent >= 0)
					r.near[r.nnear++] = deeper;
				if (n > 0)
					r.near[r.nnear++] = st[n - 1];
				*out = r;
				return true;
			}
			if (st[n - 1].seq && !item) {
				if (n >= 2 && st[n - 2].indent == ind && !st[n - 2].seq) {
					n--;
				} else {
					Indent r = {ln, i, colon > i ? colon - i : 1, 3, {st[n - 1]}, 1};
					if (deeper.indent >= 0)
						r.near[r.nnear++] = deeper;
					*out = r;
					return true;
				}
			} else if (!st[n - 1].seq && item) {
				*out = (Indent){ln, i, 1, 4, {st[n - 1]}, 1};
				return true;
			}
		}
		/* the line itself */
		int body = i, end = flow_line(f, &fl, l, ln);
		if (item) {
			st[n - 1].line = ln;
			body = i + 1;
			while (body < end && f->text[body] == ' ')
				body++;
			if (body >= end) {
				opens = true, had_value = false;
				continue;
			}
			colon = key_colon(f, body, end);
			if (colon < 0) {
				opens = false, had_value = true;
				if (block_scalar_at(f, body, end))
					scalar_indent = ind, had_value = false;
				continue;
			}
			push(st, &n, body - l.start, false, ln, body, colon - body);
		} else if (colon < 0) {
			if (!st[n - 1].seq) {
				*out = (Indent){ln, i, end - i, 5, {st[n - 1]}, 1};
				return true;
			}
			continue;
		}
		st[n - 1].line = ln, st[n - 1].key_off = body, st[n - 1].key_len = colon - body;
		opens = rest_empty(f, colon + 1, end);
		had_value = !opens;
		if (block_scalar_at(f, colon + 1, end))
			scalar_indent = st[n - 1].indent, had_value = false, opens = false;
		else if (fl.quote || fl.depth)
			had_value = false;
	}
	return false;
}

/* ---- the report ---- */

static char *key_text(Arena *a, const SourceFile *f, int off, int len)
{
	if (len <= 0 || len > 80)
		return arena_strdup(a, "this line");
	return arena_sprintf(a, "`%.*s`", len, f->text + off);
}

static void explain_indent(Diags *d, const SourceFile *f, const Indent *r)
{
	Arena *a = d->arena;
	Line l = line_at(f, r->line);
	int ind = r->off - l.start;
	bool item = f->text[r->off] == '-';
	char *what = item ? "this list item" : key_text(a, f, r->off, r->len);
	Span sp = span_at(f, r->line, r->off, item ? 1 : r->len);
	Diag *g;
	const Level *lv = &r->near[0];
	char *lk = !r->nnear ? "" : lv->seq ? "the list item" : key_text(a, f, lv->key_off, lv->key_len);
	switch (r->kind) {
	case 2:
		g = diag_error(d, "E0005", sp, "%s is indented deeper than %s above it, whose value is already given",
			       what, lk);
		diag_label(g, "indented %d space%s", ind, ind == 1 ? "" : "s");
		if (lv->seq)
			diag_help(g, "line it up with the entries of the list (%d spaces, line %d)", lv->indent, lv->line);
		else
			diag_help(g, "line it up with %s (%d spaces, line %d), or give %s no value on its own line to "
				     "nest under it", lk, lv->indent, lv->line, lk);
		break;
	case 3:
		g = diag_error(d, "E0005", sp, "%s is lined up with the `-` of a list's items", what);
		diag_label(g, "indented %d space%s", ind, ind == 1 ? "" : "s");
		if (r->nnear > 1)
			diag_help(g, "indent it %d spaces to continue the item above (like %s on line %d), or start "
				     "a new item with `- `", r->near[1].indent,
				  key_text(a, f, r->near[1].key_off, r->near[1].key_len), r->near[1].line);
		else
			diag_help(g, "indent it further to continue the item above, or start a new item with `- `");
		break;
	case 4:
		g = diag_error(d, "E0005", sp, "a list item where %s expects a key", r->nnear ? "this mapping" : "the file");
		diag_label(g, "indented %d space%s", ind, ind == 1 ? "" : "s");
		diag_help(g, "a list goes under a key with no value (`key:` on the line above), indented like its items");
		break;
	case 5:
		g = diag_error(d, "E0005", sp, "`%.*s` is neither `key: value` nor a list item",
			       r->len > 60 ? 60 : r->len, f->text + r->off);
		diag_label(g, "no `:` here");
		diag_help(g, "write `key: value` (a colon and a space), or `- value` for a list item");
		break;
	default: {
		g = diag_error(d, "E0005", sp, "%s is indented %d space%s, which lines up with no block above it",
			       what, ind, ind == 1 ? "" : "s");
		diag_label(g, "indented %d space%s", ind, ind == 1 ? "" : "s");
		StrBuf b;
		sb_init(&b);
		for (int k = 0; k < r->nnear; k++) {
			const Level *v = &r->near[k];
			sb_printf(&b, "%s%s (%d spaces, line %d)", k ? ", or with " : "line it up with ",
				  v->seq ? "the list items" : key_text(a, f, v->key_off, v->key_len), v->indent,
				  v->line);
		}
		if (b.len)
			diag_help(g, "%s", b.data);
		sb_free(&b);
	}
	}
}

/* A tab among a line's leading spaces (or right after a `- `). */
static bool find_tab(const SourceFile *f, int from, int to, int *line, int *off)
{
	for (int ln = from; ln <= to && ln <= f->nlines; ln++) {
		Line l = line_at(f, ln);
		if (blank_or_comment(f, l))
			continue;
		for (int i = l.start; i < l.end; i++) {
			char c = f->text[i];
			if (c == '\t') {
				*line = ln, *off = i;
				return true;
			}
			if (c != ' ' && !(c == '-' && i + 1 < l.end && (f->text[i + 1] == ' ' || f->text[i + 1] == '\t')))
				break;
		}
	}
	return false;
}

static bool has(const char *msg, const char *what)
{
	return strstr(msg, what) != NULL;
}

/* The last non-blank line at or before `ln`. */
static int nonblank_before(const SourceFile *f, int ln)
{
	if (ln > f->nlines)
		ln = f->nlines;
	while (ln > 1 && blank_or_comment(f, line_at(f, ln)))
		ln--;
	return ln < 1 ? 1 : ln;
}

/* A tab: the first one in an indentation, up to the line rejected. */
static bool tab_error(Diags *d, const SourceFile *f, int last, const char *msg)
{
	Diag *g;
	int tl, toff;
	if (has(msg, "tab") && (find_tab(f, 1, last, &tl, &toff) || find_tab(f, last, f->nlines, &tl, &toff))) {
		g = diag_error(d, "E0005", span_at(f, tl, toff, 1), "tab character in indentation");
		diag_label(g, "tab");
		diag_help(g, "YAML indents with spaces only: replace the tab with spaces (editors: set "
			     "\"insert spaces\" for .yaml files)");
		return true;
	}
	return false;
}

/* Quotes and brackets, up to the end of the line rejected. */
static bool flow_error(Diags *d, const SourceFile *f, int last, const char *msg)
{
	Diag *g;
	Flow fl = {0};
	for (int ln = 1; ln <= last; ln++)
		flow_line(f, &fl, line_at(f, ln), ln);
	if (fl.bad_line && (has(msg, "mismatched") || has(msg, "closing"))) {
		g = diag_error(d, "E0005", span_at(f, fl.bad_line, fl.bad_off, 1), "`%c` closes a `%c`", fl.bad_close,
			       fl.bad_open);
		diag_label(g, "expected `%c`", fl.bad_open == '[' ? ']' : '}');
		diag_help(g, "a list is `[a, b]`, a mapping `{key: value}`: close each with its own bracket");
		return true;
	}
	if (fl.quote && (has(msg, "quote") || has(msg, "scalar") || has(msg, "indent"))) {
		g = diag_error(d, "E0005", span_at(f, fl.quote_line, fl.quote_off, 1), "this %s string is never closed",
			       fl.quote == '"' ? "double-quoted" : "single-quoted");
		diag_label(g, "opened here");
		diag_help(g, "close it with `%c` on the same line; for text over several lines use a block: "
			     "`key: |` and the text indented below", fl.quote);
		return true;
	}
	if (fl.depth > 0 && fl.depth <= 64 && (has(msg, "flow") || has(msg, "bracket") || has(msg, "comma") ||
					       has(msg, "indent") || has(msg, "expected"))) {
		int k = fl.depth - 1;
		char open = fl.stack[k];
		g = diag_error(d, "E0005", span_at(f, fl.stack_line[k], fl.stack_off[k], 1), "`%c` is never closed",
			       open);
		diag_label(g, "opened here");
		diag_help(g, "close it with `%c` (items are separated by `, `), or write the %s one entry per line",
			  open == '[' ? ']' : '}', open == '[' ? "list" : "mapping");
		return true;
	}
	return false;
}

/* `key: a: b`: a value that holds `: `. */
static bool colon_in_value(Diags *d, const SourceFile *f, int last, const char *msg)
{
	Diag *g;
	Line l = line_at(f, last);
	if (has(msg, "same line") || has(msg, "not allowed in this context")) {
		int c1 = key_colon(f, l.start + indent_of(f, l), l.end);
		if (c1 >= 0) {
			int v = c1 + 1;
			while (v < l.end && f->text[v] == ' ')
				v++;
			int c2 = key_colon(f, v, l.end);
			if (c2 > v) {
				int vend = l.end;
				while (vend > v && f->text[vend - 1] == ' ')
					vend--;
				g = diag_error(d, "E0005", span_at(f, last, v, vend - v),
					       "the value of `%.*s` holds `: `", c1 - (l.start + indent_of(f, l)),
					       f->text + l.start + indent_of(f, l));
				diag_label(g, "read as a second key on the same line");
				diag_help(g, "quote the value (`\"%.*s\"`), or put a nested mapping on its own lines, "
					     "indented", vend - v > 40 ? 40 : vend - v, f->text + v);
				return true;
			}
		}
	}
	return false;
}

/* `key: @x`: a plain value that starts with a reserved character. */
static bool reserved_start(Diags *d, const SourceFile *f, int last, const char *msg)
{
	Diag *g;
	Line l = line_at(f, last);
	const char *cs = strstr(msg, "cannot start with '");
	if (cs) {
		char ch = cs[19];
		for (int i = l.start; i < l.end; i++) {
			if (f->text[i] != ch || !token_start(f, l, i))
				continue;
			int e = i;
			while (e < l.end && f->text[e] != ' ' && f->text[e] != ',' && f->text[e] != ']' && f->text[e] != '}')
				e++;
			g = diag_error(d, "E0005", span_at(f, last, i, e - i), "a plain value cannot start with `%c`", ch);
			diag_label(g, "reserved in YAML");
			diag_help(g, "quote it: `\"%.*s\"`", e - i > 40 ? 40 : e - i, f->text + i);
			return true;
		}
	}
	return false;
}

/* `key: "a" b`: text after the closing quote. */
static bool after_quote(Diags *d, const SourceFile *f, int last, const char *msg)
{
	Diag *g;
	Line l = line_at(f, last);
	if (has(msg, "trailing content")) {
		Flow q = {0};
		for (int i = l.start; i < l.end; i++) {
			bool was = q.quote != 0;
			char c = f->text[i];
			if (!was && (c == '"' || c == '\'') && token_start(f, l, i)) {
				q.quote = c;
				continue;
			}
			if (was && c == q.quote && (c != '\'' || i + 1 >= l.end || f->text[i + 1] != '\'')) {
				if (c == '"' && f->text[i - 1] == '\\')
					continue;
				q.quote = 0;
				int t = i + 1;
				while (t < l.end && f->text[t] == ' ')
					t++;
				if (t < l.end && !strchr("#,]}:", f->text[t])) {
					g = diag_error(d, "E0005", span_at(f, last, t, l.end - t),
						       "text after the closing quote");
					diag_label(g, "outside the quotes");
					diag_help(g, "put the whole value inside the quotes");
					return true;
				}
			}
		}
	}
	return false;
}

/* Anything else: the parser's words, on the last line with text. */
static void parser_words(Diags *d, const SourceFile *f, int line, int col, const char *msg)
{
	Diag *g;
	int ln = line > f->nlines ? f->nlines + 1 : line;
	Span sp;
	if (ln >= 1 && ln <= f->nlines && !blank_or_comment(f, line_at(f, ln))) {
		Line el = line_at(f, ln);
		int chars = span_at(f, ln, el.end, 1).col - 1;
		if (col > chars)
			col = indent_of(f, el) + 1;
		sp = (Span){(SourceFile *)f, ln, col < 1 ? 1 : col, 1};
	} else {
		ln = nonblank_before(f, ln);
		Line el = line_at(f, ln);
		sp = span_at(f, ln, el.end, 1);
	}
	g = diag_error(d, "E0005", sp, "YAML syntax error: %s", msg);
	diag_label(g, "here");
	diag_help(g, "check the indentation and the quoting of this line and the one above");
}

void syntax_error(Diags *d, const SourceFile *f, int line, int col, const char *msg)
{
	if (!msg)
		msg = "invalid YAML";
	/* libfyaml often reports at the start of the line after the fault */
	int last = nonblank_before(f, line < 1 ? 1 : line);
	/* the first explanation that fits, in this order */
	if (tab_error(d, f, last, msg) || flow_error(d, f, last, msg) || colon_in_value(d, f, last, msg) ||
	    reserved_start(d, f, last, msg) || after_quote(d, f, last, msg))
		return;
	/* indentation: the first line that fits no block */
	Indent r;
	if (find_indent(f, last, &r)) {
		explain_indent(d, f, &r);
		return;
	}
	parser_words(d, f, line, col, msg);
}
