/*
 * source.c — bytes to YAML tree.
 *
 * Order matters here. Everything libfyaml must not see is rejected first,
 * on the raw bytes: files over MAX_FILE_BYTES, invalid UTF-8 (libfyaml 0.7.12
 * hangs forever on some invalid UTF-8, e.g. the 3 bytes "%\xfb"), NUL and
 * other control characters. The text is normalised (BOM dropped, CRLF and
 * lone CR turned into LF) so CRLF input renders byte-identical to LF input.
 * Then the whole text is searched for credentials (guide §7.1), so that every
 * diagnostic, of any phase, can mask them in the source lines it prints.
 *
 * Then libfyaml's event API (not its document builder, which would expand
 * aliases) drives a small tree builder with an explicit depth limit. The
 * language has its own reuse (defaults, overrides), so anchors, aliases,
 * merge keys, tags and directives are all errors: they are the door to
 * expansion bombs and to YAML-dependent typing.
 */
#include "platformc.h"

#include <errno.h>
#include <fcntl.h>
#include <libfyaml.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- line index and positions ---- */

static void index_lines(Arena *a, SourceFile *f)
{
	const char *end = f->text + f->len, *p;
	int n = 1;
	for (p = f->text; (p = memchr(p, '\n', (size_t)(end - p))) != NULL; p++)
		n++;
	f->line_starts = arena_alloc(a, sizeof(int) * (size_t)(n + 1));
	int k = 0;
	f->line_starts[k++] = 0;
	for (p = f->text; (p = memchr(p, '\n', (size_t)(end - p))) != NULL; p++)
		f->line_starts[k++] = (int)(p - f->text) + 1;
	f->nlines = n;
}


/* Span of one character at byte offset `off` (column counted in characters). */
static Span span_at_offset(const SourceFile *f, size_t off)
{
	int lo = 0, hi = f->nlines - 1;
	while (lo < hi) {
		int mid = (lo + hi + 1) / 2;
		if ((size_t)f->line_starts[mid] <= off)
			lo = mid;
		else
			hi = mid - 1;
	}
	int col = 1;
	for (size_t i = (size_t)f->line_starts[lo]; i < off; col++)
		i += (size_t)node_char_len(f->text + i, f->len - i);
	return (Span){f, lo + 1, col, 1};
}

static Span span_from_marks(const SourceFile *f, const struct fy_mark *s, const struct fy_mark *e)
{
	Span sp = {f, s->line + 1, s->column + 1, 1};
	if (e && e->line == s->line && e->column > s->column)
		sp.len = e->column - s->column;
	else if (e && e->line > s->line && s->line < f->nlines) {
		/* multi-line token: underline to the end of the first line */
		int start = f->line_starts[s->line];
		int end = s->line + 1 < f->nlines ? f->line_starts[s->line + 1] - 1 : (int)f->len;
		int chars = 0;
		for (int i = start; i < end; i++)
			chars += ((unsigned char)f->text[i] & 0xC0) != 0x80;
		sp.len = chars - s->column > 0 ? chars - s->column : 1;
	}
	return sp;
}

static Span span_of_token(const SourceFile *f, struct fy_token *t)
{
	const struct fy_mark *s = fy_token_start_mark(t);
	const struct fy_mark *e = fy_token_end_mark(t);
	if (!s)
		return (Span){f, 1, 1, 1};
	return span_from_marks(f, s, e);
}

/* ---- byte-level guards ---- */

/* Copies `bytes` into the arena, dropping a BOM and turning CRLF / CR into LF. */
static char *normalise(Arena *a, const char *bytes, size_t len, size_t *out_len)
{
	if (len >= 3 && memcmp(bytes, "\xEF\xBB\xBF", 3) == 0)
		bytes += 3, len -= 3;
	char *t = arena_alloc(a, len + 1);
	if (!memchr(bytes, '\r', len)) {
		memcpy(t, bytes, len);
		*out_len = len;
		return t;
	}
	size_t k = 0;
	for (size_t i = 0; i < len; i++) {
		if (bytes[i] == '\r') {
			t[k++] = '\n';
			if (i + 1 < len && bytes[i + 1] == '\n')
				i++;
		} else {
			t[k++] = bytes[i];
		}
	}
	t[k] = 0;
	*out_len = k;
	return t;
}

/*
 * NUL, C0 controls other than TAB/LF, DEL, C1 controls (U+0080..U+009F,
 * NEL included) and the Unicode line and paragraph separators U+2028 and
 * U+2029: YAML 1.1 readers and many editors take NEL, LS and PS for line
 * breaks, so the same file would have different line numbers in other tools.
 * Returns the code point found at *off, or -1.
 */
static long control_at(const unsigned char *p, size_t i, size_t n)
{
	unsigned c = p[i];
	if ((c < 0x20 && c != '\t' && c != '\n') || c == 0x7F)
		return c;
	if (c == 0xC2 && i + 1 < n && p[i + 1] >= 0x80 && p[i + 1] <= 0x9F)
		return p[i + 1];
	if (c == 0xE2 && i + 2 < n && p[i + 1] == 0x80 && (p[i + 2] == 0xA8 || p[i + 2] == 0xA9))
		return 0x2000 + (p[i + 2] - 0x80);
	return -1;
}

static long find_control(const char *s, size_t n, size_t *off)
{
	const unsigned char *p = (const unsigned char *)s;
	for (size_t i = 0; i < n; i++) {
		if ((unsigned)p[i] - 0x20u < 0x5Fu)
			continue; /* printable ASCII, most of any file */
		long c = control_at(p, i, n);
		if (c >= 0) {
			*off = i;
			return c;
		}
	}
	return -1;
}

/* ---- credentials (guide §7.1) ----
 * Every file is searched with the credential patterns (cred_scan) before it is parsed.
 * A match claims the scalar (key or value) it ends in: that scalar is
 * reported once (E0118), marked secret so no later check echoes it, and its
 * whole text is masked in every printed source line. A match outside any
 * scalar (a comment) is masked and reported on its own. */

static int cmp_range(const void *a, const void *b)
{
	const SecretRange *x = a, *y = b;
	return x->start < y->start ? -1 : x->start > y->start;
}

/* Stores the ranges to mask in the file, sorted and merged. */
static void set_secret_ranges(SourceFile *f, SecretRange *r, int n)
{
	if (n == 0)
		return;
	qsort(r, (size_t)n, sizeof *r, cmp_range);
	int k = 0;
	for (int i = 1; i < n; i++) {
		if (r[i].start <= r[k].end) {
			if (r[i].end > r[k].end)
				r[k].end = r[i].end;
		} else {
			r[++k] = r[i];
		}
	}
	f->secrets = r;
	f->nsecrets = k + 1;
}

/* Masks every match in a file that is rejected before parsing. */
static void mask_unparsed(Arena *a, Diags *d, SourceFile *f, const char *text)
{
	int n;
	CredMatch *raw = cred_scan(a, d, text, f->len, &n);
	SecretRange *r = arena_alloc(a, sizeof *r * (size_t)(n + 1));
	for (int i = 0; i < n; i++)
		r[i] = (SecretRange){raw[i].start, raw[i].end};
	set_secret_ranges(f, r, n);
}

/* ---- the tree builder over libfyaml events ---- */

typedef struct Frame {
	Node *node;
	int base;          /* its children start at Builder.kids[base] */
	Node *pending_key; /* N_MAP: key waiting for its value */
} Frame;

typedef struct Builder {
	Arena *a;
	Diags *d;
	SourceFile *f;
	Frame stack[MAX_DEPTH + 2];
	int depth;
	Node *root;
	int docs;
	bool failed;
	size_t last_end;      /* byte offset where the previous event ended */
	CredMatch *raw;       /* credential matches, sorted by end */
	int nraw;
	SecretRange *mask;    /* claimed scalars' ranges */
	int nmask, capmask;
	Node **kids;          /* children of the open collections, innermost last (heap) */
	int nkids, capkids;
} Builder;

static void push_kid(Builder *b, Node *n)
{
	if (b->nkids == b->capkids) {
		b->capkids = b->capkids ? b->capkids * 2 : 256;
		b->kids = xrealloc(b->kids, sizeof *b->kids * (size_t)b->capkids);
	}
	b->kids[b->nkids++] = n;
}

/* Children wait on one stack shared by the open collections; a closed
 * collection gets an array of exactly its size (close_collection). */
static void node_append(Builder *b, Frame *fr, Node *child)
{
	if (fr->node->kind == N_SEQ) {
		push_kid(b, child);
		return;
	}
	if (!fr->pending_key) {
		fr->pending_key = child;
		return;
	}
	push_kid(b, fr->pending_key);
	push_kid(b, child);
	fr->pending_key = NULL;
}

/* Attaches a finished node to its parent, or makes it the root. */
static void attach(Builder *b, Node *n)
{
	if (b->depth == 0) {
		b->root = n;
		return;
	}
	Frame *fr = &b->stack[b->depth - 1];
	if (fr->node->kind == N_MAP && !fr->pending_key && n->kind != N_SCALAR) {
		diag_error(b->d, "E0014", n->span, "mapping keys must be plain strings");
		b->failed = true;
		return;
	}
	if (fr->node->kind == N_MAP && !fr->pending_key && n->kind == N_SCALAR && n->plain &&
	    n->textlen == 2 && memcmp(n->text, "<<", 2) == 0) {
		Diag *g = diag_error(b->d, "E0007", n->span, "merge keys (`<<`) are not allowed");
		diag_help(g, "repeat the keys, or use `defaults` and `overrides` for shared values");
		b->failed = true;
	}
	node_append(b, fr, n);
}

static bool reject_anchor_tag(Builder *b, struct fy_token *anchor, struct fy_token *tag)
{
	bool bad = false;
	if (anchor) {
		Diag *g = diag_error(b->d, "E0006", span_of_token(b->f, anchor),
				     "anchors and aliases are not allowed");
		diag_label(g, "anchor");
		diag_help(g, "platform.yaml has its own reuse: `defaults` and per-environment `overrides`");
		bad = true;
	}
	if (tag) {
		Diag *g = diag_error(b->d, "E0008", span_of_token(b->f, tag), "YAML tags are not allowed");
		diag_help(g, "values are typed by the field they are in; remove the tag");
		bad = true;
	}
	if (bad)
		b->failed = true;
	return bad;
}

static bool is_null_text(const char *s, size_t n)
{
	return n == 0 || (n == 1 && s[0] == '~') ||
	       (n == 4 && (memcmp(s, "null", 4) == 0 || memcmp(s, "Null", 4) == 0 ||
			   memcmp(s, "NULL", 4) == 0));
}

/* The field a node being attached belongs to, for messages: the key of the
 * innermost mapping entry around it (never a secret key). */
static const char *field_name(const Builder *b, bool is_key)
{
	for (int k = b->depth - 1; k >= 0; k--) {
		const Frame *fr = &b->stack[k];
		bool self = k == b->depth - 1;
		if (fr->node->kind != N_MAP || (self && is_key))
			continue;
		if (fr->pending_key && !fr->pending_key->secret)
			return fr->pending_key->text;
	}
	return NULL;
}

/* Claims the credential matches that end inside scalar `n`. */
static void claim_secrets(Builder *b, Node *n, bool is_key)
{
	if (!b->nraw || n->end <= n->start)
		return;
	int lo = 0, hi = b->nraw;
	while (lo < hi) { /* first match ending after n->start */
		int mid = (lo + hi) / 2;
		if (b->raw[mid].end <= n->start)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (int i = lo; i < b->nraw && b->raw[i].end <= n->end; i++) {
		if (b->raw[i].claimed)
			continue;
		b->raw[i].claimed = true;
		if (n->secret)
			continue;
		n->secret = true;
		if (b->nmask == b->capmask) {
			int cap = b->capmask ? b->capmask * 2 : 8;
			b->mask = arena_grow(b->a, b->mask, (size_t)b->nmask, (size_t)cap, sizeof *b->mask);
			b->capmask = cap;
		}
		b->mask[b->nmask++] = (SecretRange){n->start, n->end};
		const char *field = field_name(b, is_key);
		const char *what = b->d->creds[b->raw[i].cred].what;
		Diag *g = is_key ? diag_error(b->d, "E0118", n->span, "a key in `%s` looks like %s",
					      field ? field : b->f->path, what)
				 : diag_error(b->d, "E0118", n->span, "`%s` holds what looks like %s",
					      field ? field : "value", what);
		g->redact = true;
		diag_label(g, "value redacted");
		diag_help(g, "secrets never go in platform.yaml: the cloud generates them and an "
			     "ExternalSecret delivers them; revoke this one if it was real");
	}
}

/* Where a scalar without its own position sits: just after the `:` or `-`
 * that precedes it (an empty value, `key:`). */
static Span span_after_indicator(const Builder *b)
{
	size_t off = b->last_end;
	while (off < b->f->len && (b->f->text[off] == ' ' || b->f->text[off] == '\t'))
		off++;
	if (off < b->f->len && (b->f->text[off] == ':' || b->f->text[off] == '-' || b->f->text[off] == '?'))
		off++;
	return span_at_offset(b->f, off < b->f->len ? off : b->f->len);
}

/* A block scalar's span starts at its `|` or `>` header, not at its first
 * content line (whose indentation the caret would otherwise cover). */
static Span span_of_block_header(const Builder *b, size_t content_start, Span fallback)
{
	const char *t = b->f->text;
	size_t off = b->last_end;
	while (off < content_start && t[off] && strchr(" \t\n:-?", t[off]))
		off++;
	if (off >= content_start || (t[off] != '|' && t[off] != '>'))
		return fallback;
	size_t end = off + 1;
	while (end < content_start && strchr("+-0123456789", t[end]))
		end++;
	Span sp = span_at_offset(b->f, off);
	sp.len = (int)(end - off);
	return sp;
}

/* Control characters written as escapes in a quoted string ("\a", "\x85",
 * "\0") are as invisible in the output as raw ones: rejected the same way. */
static bool check_escaped_controls(Builder *b, Node *n)
{
	const unsigned char *p = (const unsigned char *)n->text;
	for (size_t i = 0; i < n->textlen; i++) {
		long c = control_at(p, i, n->textlen);
		if (c < 0 || c == '\r')
			continue;
		Diag *g = diag_error(b->d, "E0004", n->span,
				     c == 0 ? "quoted string holds a NUL character"
					    : "quoted string holds control character U+%04lX", c);
		diag_label(g, "written as an escape");
		diag_help(g, "remove the escape; use a block scalar (`|`) for text over several lines");
		b->failed = true;
		return true;
	}
	return false;
}

/*
 * The value of a single-quoted scalar from its source bytes (between the
 * quotes): `''` is a quote, and line breaks fold as YAML says (one break
 * between text is a space, each blank line a newline, whitespace around
 * breaks dropped). libfyaml 0.7.12 misreads consecutive `''` (`'a''''b'`
 * comes back as `a'''`) and leaks a buffer on scalars with many of them, so
 * those are unescaped here (unit test source_single_quoted_escapes).
 */
static const char *single_quoted_text(Arena *a, const char *src, size_t len, size_t *out_len)
{
	char *out = arena_alloc(a, len + 1);
	size_t o = 0;
	for (size_t i = 0; i < len;) {
		char c = src[i];
		if (c == '\'' && i + 1 < len && src[i + 1] == '\'') {
			out[o++] = '\'';
			i += 2;
		} else if (c == '\n') {
			while (o > 0 && (out[o - 1] == ' ' || out[o - 1] == '\t'))
				o--;
			int breaks = 0;
			for (i++;; i++) {
				while (i < len && (src[i] == ' ' || src[i] == '\t'))
					i++;
				if (i >= len || src[i] != '\n')
					break;
				breaks++;
			}
			if (breaks == 0)
				out[o++] = ' ';
			while (breaks-- > 0)
				out[o++] = '\n';
		} else {
			out[o++] = c;
			i++;
		}
	}
	out[o] = 0;
	*out_len = o;
	return out;
}

static Node *new_scalar(Builder *b, struct fy_token *val, bool is_key)
{
	Node *n = arena_alloc(b->a, sizeof *n);
	n->kind = N_SCALAR;
	size_t len = 0;
	const struct fy_mark *sm = val ? fy_token_start_mark(val) : NULL;
	const struct fy_mark *em = val ? fy_token_end_mark(val) : NULL;
	enum fy_scalar_style style = val ? fy_scalar_token_get_style(val) : FYSS_PLAIN;
	const char *text = NULL;
	if (style == FYSS_SINGLE_QUOTED && sm && em && em->input_pos >= sm->input_pos &&
	    em->input_pos <= b->f->len &&
	    memmem(b->f->text + sm->input_pos, em->input_pos - sm->input_pos, "\'\'", 2))
		text = single_quoted_text(b->a, b->f->text + sm->input_pos, em->input_pos - sm->input_pos, &len);
	else if (style == FYSS_PLAIN && sm && em && em->line == sm->line && em->input_pos >= sm->input_pos &&
		 em->input_pos <= b->f->len)
		/* a plain scalar on one line is its source text (no escapes, no
		 * folding): libfyaml would copy it into a buffer of its own */
		text = b->f->text + sm->input_pos, len = em->input_pos - sm->input_pos;
	else if (val)
		text = fy_token_get_text(val, &len);
	if (!text)
		text = "", len = 0;
	if (sm) {
		n->span = span_from_marks(b->f, sm, em);
		n->start = (uint32_t)sm->input_pos;
		n->end = (uint32_t)(em && em->input_pos > sm->input_pos ? em->input_pos : sm->input_pos);
		if (style == FYSS_LITERAL || style == FYSS_FOLDED)
			n->span = span_of_block_header(b, sm->input_pos, n->span);
	} else {
		/* `key:` with nothing after it: libfyaml gives no token */
		n->span = span_after_indicator(b);
		style = FYSS_PLAIN;
	}
	claim_secrets(b, n, is_key);
	if (len > MAX_SCALAR_BYTES) {
		Diag *g = diag_error(b->d, "E0011", n->span, "scalar is %zu bytes long; the limit is %u",
				     len, MAX_SCALAR_BYTES);
		diag_label(g, "too long");
		b->failed = true;
		len = 0, text = "";
	}
	n->text = arena_strndup(b->a, text, len);
	n->textlen = (uint32_t)len; /* at most MAX_SCALAR_BYTES */
	n->plain = style == FYSS_PLAIN;
	n->is_null = n->plain && is_null_text(text, len);
	if (!n->plain && len == 0)
		n->span.len = 2; /* underline the quotes of "" */
	if (style == FYSS_SINGLE_QUOTED || style == FYSS_DOUBLE_QUOTED)
		check_escaped_controls(b, n);
	return n;
}

static Node *open_collection(Builder *b, NodeKind kind, struct fy_event *ev)
{
	Node *n = arena_alloc(b->a, sizeof *n);
	n->kind = kind;
	const struct fy_mark *s = fy_event_start_mark(ev);
	n->span = s ? span_from_marks(b->f, s, NULL) : (Span){b->f, 1, 1, 1};
	if (b->depth >= MAX_DEPTH) {
		Diag *g = diag_error(b->d, "E0010", n->span, "nesting is deeper than %d levels", MAX_DEPTH);
		diag_label(g, "too deep");
		b->failed = true;
		return NULL;
	}
	b->stack[b->depth].node = n;
	b->stack[b->depth].base = b->nkids;
	b->stack[b->depth].pending_key = NULL;
	b->depth++;
	return n;
}

static void report_duplicate(Builder *b, const Node *k, const Node *prev)
{
	Diag *g = k->secret ? diag_error(b->d, "E0012", k->span, "duplicate key")
			    : diag_error(b->d, "E0012", k->span, "duplicate key `%s`", k->text);
	diag_label(g, "defined again here");
	diag_note(g, prev->span, "first defined here");
	b->failed = true;
}

/* Duplicate keys: both places are shown, the first definition as the
 * earlier one. Most mappings are small and are searched pairwise; a hash
 * set keeps large ones linear. */
#define DUP_PAIRWISE_MAX 16

static void check_duplicates(Builder *b, Node *map)
{
	if (map->n < 2)
		return;
	if (map->n <= DUP_PAIRWISE_MAX) {
		for (int i = 1; i < map->n; i++) {
			const Node *k = map->pairs[i].key;
			for (int j = 0; k->kind == N_SCALAR && j < i; j++) {
				const Node *p = map->pairs[j].key;
				if (p->kind == N_SCALAR && p->text[0] == k->text[0] && strcmp(p->text, k->text) == 0) {
					report_duplicate(b, k, p);
					break;
				}
			}
		}
		return;
	}
	StrMap seen;
	strmap_init(&seen);
	for (int i = 0; i < map->n; i++) {
		Node *k = map->pairs[i].key;
		if (k->kind != N_SCALAR)
			continue;
		Node *prev = strmap_put(&seen, k->text, k);
		if (prev) {
			report_duplicate(b, k, prev);
			strmap_put(&seen, k->text, prev);
		}
	}
	strmap_free(&seen);
}

static void close_collection(Builder *b)
{
	const Frame *fr = &b->stack[--b->depth];
	Node *n = fr->node;
	int nk = b->nkids - fr->base;
	if (nk && n->kind == N_SEQ) {
		n->items = arena_alloc(b->a, sizeof *n->items * (size_t)nk);
		memcpy(n->items, b->kids + fr->base, sizeof *n->items * (size_t)nk);
		n->n = nk;
	} else if (nk) {
		Node **kids = b->kids + fr->base;
		n->n = nk / 2;
		n->pairs = arena_alloc(b->a, sizeof *n->pairs * (size_t)n->n);
		for (int i = 0; i < n->n; i++)
			n->pairs[i] = (Pair){kids[2 * i], kids[2 * i + 1]};
	}
	b->nkids = fr->base;
	if (n->kind == N_MAP)
		check_duplicates(b, n);
	attach(b, n);
}

/* Characters on a line (without its newline). */
static int line_chars(const SourceFile *f, int line)
{
	int start = f->line_starts[line - 1];
	int end = line < f->nlines ? f->line_starts[line] - 1 : (int)f->len;
	int chars = 0;
	for (int i = start; i < end; chars++)
		i += node_char_len(f->text + i, (size_t)(end - i));
	return chars;
}

/* libfyaml reports some errors (an unclosed quote or bracket) at the end of
 * the input, which may be past the last line: those point just after the
 * last non-blank text instead. */
static Span clamp_error_span(const SourceFile *f, int line, int col)
{
	int last = f->nlines;
	while (last > 1 && line_chars(f, last) == 0)
		last--;
	if (line < 1)
		line = 1, col = 1;
	if (line > last) {
		line = last;
		col = line_chars(f, last) + 1;
	}
	int chars = line_chars(f, line);
	if (col > chars + 1)
		col = chars + 1;
	if (col < 1)
		col = 1;
	return (Span){f, line, col, 1};
}

static void report_parser_errors(Builder *b, struct fy_diag *diag)
{
	void *iter = NULL;
	struct fy_diag_error *e;
	bool any = false;
	while ((e = fy_diag_errors_iterate(diag, &iter)) != NULL) {
		/* platformc's own words and position for the class of error */
		syntax_error(b->d, b->f, e->line + 1, e->column + 1, e->msg);
		any = true;
		break; /* later parser errors are consequences of the first */
	}
	if (!any)
		diag_error(b->d, "E0005", clamp_error_span(b->f, b->f->nlines + 1, 1), "YAML syntax error");
	b->failed = true;
}

static void handle_event(Builder *b, struct fy_event *ev)
{
	switch (ev->type) {
	case FYET_DOCUMENT_START: {
		b->docs++;
		struct fy_document_state *ds = ev->document_start.document_state;
		if (ds && (fy_document_state_version_explicit(ds) || fy_document_state_tags_explicit(ds))) {
			Diag *g = diag_error(b->d, "E0009", (Span){b->f, 1, 1, 1},
					     "YAML directives (`%%YAML`, `%%TAG`) are not allowed");
			diag_help(g, "platform.yaml is always read as YAML 1.2; remove the directive");
			b->failed = true;
		}
		if (b->docs == 2) {
			struct fy_token *t = ev->document_start.document_start;
			Span sp = t ? span_of_token(b->f, t) : (Span){b->f, 1, 1, 3};
			Diag *g = diag_error(b->d, "E0013", sp, "a file holds one document; found a second");
			diag_help(g, "split it into files and list them under `include`");
			b->failed = true;
		}
		break;
	}
	case FYET_ALIAS: {
		if (b->docs > 1)
			break;
		Diag *g = diag_error(b->d, "E0006", span_of_token(b->f, ev->alias.anchor),
				     "anchors and aliases are not allowed");
		diag_label(g, "alias");
		diag_help(g, "platform.yaml has its own reuse: `defaults` and per-environment `overrides`");
		b->failed = true;
		break;
	}
	case FYET_SCALAR: {
		if (b->docs > 1 || reject_anchor_tag(b, ev->scalar.anchor, ev->scalar.tag))
			break;
		bool is_key = b->depth > 0 && b->stack[b->depth - 1].node->kind == N_MAP &&
			      !b->stack[b->depth - 1].pending_key;
		attach(b, new_scalar(b, ev->scalar.value, is_key));
		break;
	}
	/* a second document was reported (E0013); its contents are not read */
	case FYET_MAPPING_START:
		if (b->docs > 1)
			break;
		reject_anchor_tag(b, ev->mapping_start.anchor, ev->mapping_start.tag);
		open_collection(b, N_MAP, ev);
		break;
	case FYET_SEQUENCE_START:
		if (b->docs > 1)
			break;
		reject_anchor_tag(b, ev->sequence_start.anchor, ev->sequence_start.tag);
		open_collection(b, N_SEQ, ev);
		break;
	case FYET_MAPPING_END:
	case FYET_SEQUENCE_END:
		if (b->docs <= 1 && b->depth > 0)
			close_collection(b);
		break;
	default:
		break;
	}
}

static Node *parse_yaml(Builder *b)
{
	struct fy_diag_cfg dcfg;
	fy_diag_cfg_default(&dcfg);
	dcfg.fp = NULL;
	dcfg.colorize = false;
	struct fy_diag *diag = fy_diag_create(&dcfg);
	if (!diag)
		die_oom();
	fy_diag_set_collect_errors(diag, true);

	struct fy_parse_cfg cfg = {
		.flags = FYPCF_QUIET | FYPCF_COLLECT_DIAG | FYPCF_DEFAULT_VERSION(0),
		.diag = diag,
	};
	struct fy_parser *p = fy_parser_create(&cfg);
	if (!p)
		die_oom();
	fy_parser_set_string(p, b->f->text, b->f->len);

	struct fy_event *ev;
	while ((ev = fy_parser_parse(p)) != NULL) {
		handle_event(b, ev);
		const struct fy_mark *em = fy_event_end_mark(ev);
		if (em && em->input_pos > b->last_end)
			b->last_end = em->input_pos;
		fy_parser_event_free(p, ev);
		/* past the depth limit the rest of the tree is meaningless */
		if (b->failed && b->depth >= MAX_DEPTH)
			break;
	}
	if (fy_parser_get_stream_error(p))
		report_parser_errors(b, diag);
	fy_parser_destroy(p);
	free(b->kids);
	fy_diag_destroy(diag);

	/* matches no scalar claimed: comments, or text the parser never reached */
	SecretRange *r = arena_alloc(b->a, sizeof *r * (size_t)(b->nmask + b->nraw + 1));
	int nr = 0;
	for (int i = 0; i < b->nmask; i++)
		r[nr++] = b->mask[i];
	for (int i = 0; i < b->nraw; i++) {
		if (b->raw[i].claimed)
			continue;
		size_t start = b->raw[i].start, end = b->raw[i].end;
		r[nr++] = (SecretRange){start, end};
		Span sp = span_at_offset(b->f, start);
		sp.len = 0;
		for (size_t k = start; k < end && b->f->text[k] != '\n'; sp.len++)
			k += (size_t)node_char_len(b->f->text + k, end - k);
		Diag *g = diag_error(b->d, "E0118", sp, "`%s` holds what looks like %s", b->f->path,
				     b->d->creds[b->raw[i].cred].what);
		g->redact = true;
		diag_label(g, "redacted");
		diag_help(g, "secrets never go in platform.yaml, not even in comments; revoke this one if it was real");
	}
	set_secret_ranges(b->f, r, nr);

	if (b->failed)
		return NULL;
	if (!b->root) {
		/* an empty file: an empty mapping, marked so the checker can say
		 * the file is empty rather than list every missing key */
		Node *n = arena_alloc(b->a, sizeof *n);
		n->kind = N_MAP;
		n->is_null = true;
		n->span = (Span){b->f, 0, 1, 1};
		b->root = n;
	}
	return b->root;
}

/* A copy of `text` with each byte of an invalid UTF-8 sequence replaced by
 * `?` (same offsets), so the credential scan can run on it. */
static char *utf8_sanitised(Arena *a, const char *text, size_t len)
{
	char *t = arena_strndup(a, text, len);
	for (size_t i = 0; i < len;) {
		int l = node_char_len(t + i, len - i);
		if (l == 1 && (unsigned char)t[i] >= 0x80)
			t[i] = '?';
		i += (size_t)l;
	}
	return t;
}

/* ---- hooks for the language server (lsp.c) ----
 * An overlay gives the bytes of a file an editor holds unsaved; an observer
 * sees every file loaded and its tree. Both NULL outside `platformc lsp`. */
static SrcOverlayFn overlay_fn;
static SrcObserveFn observe_fn;
static void *hooks_ctx;

void src_set_hooks(SrcOverlayFn overlay, SrcObserveFn observe, void *ctx)
{
	overlay_fn = overlay, observe_fn = observe, hooks_ctx = ctx;
}

static Node *load_bytes(Arena *a, Diags *d, const char *display_path, const char *bytes, size_t len,
			SourceFile **out_file);

Node *src_load_bytes(Arena *a, Diags *d, const char *display_path, const char *bytes, size_t len,
		     SourceFile **out_file)
{
	SourceFile *f = NULL;
	Node *root = load_bytes(a, d, display_path, bytes, len, &f);
	if (out_file)
		*out_file = f;
	if (observe_fn)
		observe_fn(hooks_ctx, f, root);
	return root;
}

Node *src_load_embedded(Arena *a, const char *path, const char *list_key, const char **why)
{
	const EmbeddedFile *ef = embedded_find(path);
	if (!ef) {
		*why = "missing file";
		return NULL;
	}
	Diags d;
	diags_init(&d, a);
	Node *root = src_load_bytes(a, &d, path, ef->data, ef->len, NULL);
	if (root && list_key)
		root = node_get(root, list_key);
	if (!root || d.errors || (list_key && root->kind != N_SEQ)) {
		*why = "cannot parse";
		return NULL;
	}
	return root;
}

static Node *load_bytes(Arena *a, Diags *d, const char *display_path, const char *bytes, size_t len,
			SourceFile **out_file)
{
	SourceFile *f = arena_alloc(a, sizeof *f);
	f->path = arena_strdup(a, display_path);
	if (out_file)
		*out_file = f;
	if (len > MAX_FILE_BYTES) {
		f->text = arena_strdup(a, "");
		index_lines(a, f);
		/* callers read at most one byte past the limit: the size is unknown */
		Diag *g = diag_error(d, "E0002", (Span){f, 0, 1, 1},
				     "file is larger than the limit of %u bytes (%u MiB)", MAX_FILE_BYTES,
				     MAX_FILE_BYTES >> 20);
		diag_help(g, "split the platform into files listed under `include`");
		return NULL;
	}
	f->text = normalise(a, bytes, len, &f->len);
	index_lines(a, f);

	size_t off;
	if (!utf8_valid(f->text, f->len, &off)) {
		if (d->ncreds)
			mask_unparsed(a, d, f, utf8_sanitised(a, f->text, f->len));
		Diag *g = diag_error(d, "E0003", span_at_offset(f, off), "invalid UTF-8 (byte 0x%02X)",
				     (unsigned char)f->text[off]);
		diag_label(g, "not UTF-8");
		diag_help(g, "save the file as UTF-8");
		return NULL;
	}
	long c = find_control(f->text, f->len, &off);
	if (c >= 0) {
		if (d->ncreds)
			mask_unparsed(a, d, f, f->text);
		Diag *g = diag_error(d, "E0004", span_at_offset(f, off),
				     c == 0 ? "NUL byte in the file" : "control character U+%04lX in the file", c);
		diag_label(g, "here");
		if (c == 0x2028 || c == 0x2029 || c == 0x85)
			diag_help(g, "other tools read it as a line break; replace it with a space or a newline");
		return NULL;
	}

	/* libfyaml's cost on one very long line (a 3 MB quoted scalar) is
	 * super-linear: no legitimate platform.yaml has such a line */
	for (int i = 0; i < f->nlines; i++) {
		int end = i + 1 < f->nlines ? f->line_starts[i + 1] - 1 : (int)f->len;
		if (end - f->line_starts[i] > (int)MAX_LINE_BYTES) {
			Diag *g = diag_error(d, "E0015", (Span){f, i + 1, 1, 1}, "line %d is %d bytes long; the limit is %u",
					     i + 1, end - f->line_starts[i], MAX_LINE_BYTES);
			diag_label(g, "too long");
			diag_help(g, "break the value over several lines: a `|` block for text, one item per line "
				     "for lists and mappings");
			return NULL;
		}
		/* the same cost for a long run of blanks after an indicator
		 * (`- `, `? `, `! `): a second of parsing per 20 kB */
		int run = 0;
		for (int j = f->line_starts[i]; j < end; j++) {
			run = (f->text[j] == ' ' || f->text[j] == '\t') ? run + 1 : 0;
			if (run > MAX_BLANK_RUN) {
				Diag *g = diag_error(d, "E0015", (Span){f, i + 1, 1, 1},
						     "line %d has more than %d spaces or tabs in a row", i + 1, MAX_BLANK_RUN);
				diag_label(g, "too many blanks");
				diag_help(g, "remove the run of blanks; indentation and alignment never need this many");
				return NULL;
			}
		}
	}
	/* A line that starts with `%` is a directive to libfyaml wherever it
	 * stands: after a document it silently drops the line, and scanning it
	 * costs the square of its length (64 KiB: half a minute). Directives are
	 * refused anyway, and no valid platform.yaml has `%` in column 1 (block
	 * and quoted continuation lines are indented), so every such line is
	 * refused here, before the parser sees it. */
	for (int i = 0; i < f->nlines; i++) {
		if (f->text[f->line_starts[i]] != '%' || f->line_starts[i] >= (int)f->len)
			continue;
		if (d->ncreds)
			mask_unparsed(a, d, f, f->text);
		Diag *g = diag_error(d, "E0009", (Span){f, i + 1, 1, 1},
				     "YAML directives (`%%YAML`, `%%TAG`) are not allowed");
		diag_help(g, i == 0 ? "platform.yaml is always read as YAML 1.2; remove the directive"
				    : "a line cannot start with `%%`: indent it under its key, or quote the value");
		return NULL;
	}
	Builder b = {.a = a, .d = d, .f = f};
	if (d->ncreds)
		b.raw = cred_scan(a, d, f->text, f->len, &b.nraw);
	return parse_yaml(&b);
}

Node *src_load_file(Arena *a, Diags *d, const char *path, SourceFile **out_file)
{
	size_t olen;
	const char *obytes = overlay_fn ? overlay_fn(hooks_ctx, path, &olen) : NULL;
	if (obytes)
		return src_load_bytes(a, d, path, obytes, olen, out_file);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	Span nowhere = {0};
	if (fd < 0) {
		diag_error(d, "E0001", nowhere, "cannot read `%s`: %s", path, strerror(errno));
		return NULL;
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		diag_error(d, "E0001", nowhere, "cannot read `%s`: not a regular file", path);
		close(fd);
		return NULL;
	}
	/* read at most one byte past the limit: enough to know it is too big */
	size_t cap = (size_t)st.st_size < MAX_FILE_BYTES + 1 ? (size_t)st.st_size + 1 : MAX_FILE_BYTES + 1;
	char *buf = xmalloc(cap);
	size_t len = 0;
	for (;;) {
		ssize_t r = read(fd, buf + len, cap - len);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			diag_error(d, "E0001", nowhere, "cannot read `%s`: %s", path, strerror(errno));
			free(buf);
			close(fd);
			return NULL;
		}
		if (r == 0)
			break;
		len += (size_t)r;
		if (len == cap) {
			if (cap > MAX_FILE_BYTES)
				break;
			cap = cap * 2 > MAX_FILE_BYTES + 1 ? MAX_FILE_BYTES + 1 : cap * 2;
			buf = xrealloc(buf, cap);
		}
	}
	close(fd);
	Node *root = src_load_bytes(a, d, path, buf, len, out_file);
	free(buf);
	return root;
}
