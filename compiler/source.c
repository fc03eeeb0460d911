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
 * Then events drive a small tree builder with an explicit depth limit. The
 * events come from source.c's own reader of the YAML most files use (block
 * and flow collections, scalars on one line without escapes), which makes
 * exactly libfyaml's events or declines the whole file before anything is
 * built; a declined file goes to libfyaml's event API (not its document
 * builder, which would expand aliases). The language has its own reuse
 * (defaults, overrides), so anchors, aliases, merge keys, tags and
 * directives are all errors: they are the door to
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

/* Whether the 8 bytes at p are all printable ASCII (0x20..0x7E): a byte
 * under 0x20 borrows into its top bit, 0x7F carries into it, and bytes
 * from 0x80 have it already; a borrow or carry into the next byte only
 * follows a byte that is caught itself. */
static bool printable8(const unsigned char *p)
{
	uint64_t w, ones = 0x0101010101010101u;
	memcpy(&w, p, 8);
	return !(((w - 0x20 * ones) | (w + ones) | w) & (0x80 * ones));
}

static long find_control(const char *s, size_t n, size_t *off)
{
	const unsigned char *p = (const unsigned char *)s;
	for (size_t i = 0; i < n; i++) {
		while (i + 8 <= n && printable8(p + i))
			i += 8; /* printable ASCII, most of any file */
		if (i >= n)
			break;
		if ((unsigned)p[i] - 0x20u < 0x5Fu)
			continue;
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
	Node *pool;           /* nodes allocated at once (the fast reader knows how many) */
	int npool;
} Builder;

/* A zeroed node: from the pool, else alone (which the arena rounds up to
 * 64 bytes). */
static Node *new_node(Builder *b)
{
	if (b->npool)
		return &b->pool[--b->npool];
	return arena_alloc(b->a, sizeof(Node));
}

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

/* Claims the credential matches that end inside scalar `n`, whose text
 * is the bytes [start, end) of the file. */
static void claim_secrets(Builder *b, Node *n, size_t start, size_t end, bool is_key)
{
	if (!b->nraw || end <= start)
		return;
	int lo = 0, hi = b->nraw;
	while (lo < hi) { /* first match ending after start */
		int mid = (lo + hi) / 2;
		if (b->raw[mid].end <= start)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (int i = lo; i < b->nraw && b->raw[i].end <= end; i++) {
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
		b->mask[b->nmask++] = (SecretRange){start, end};
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

/* A scalar node from its text and position (both readers). `kept`: text is
 * the arena's and ends with a NUL, so the node points to it. */
static Node *make_scalar(Builder *b, Span span, size_t start, size_t end, bool plain, bool quoted,
			 const char *text, size_t len, bool kept, bool is_key)
{
	Node *n = new_node(b);
	n->kind = N_SCALAR;
	n->span = span;
	claim_secrets(b, n, start, end, is_key);
	if (len > MAX_SCALAR_BYTES) {
		Diag *g = diag_error(b->d, "E0011", n->span, "scalar is %zu bytes long; the limit is %u",
				     len, MAX_SCALAR_BYTES);
		diag_label(g, "too long");
		b->failed = true;
		len = 0, text = "";
	}
	n->text = kept && len ? text : arena_strndup(b->a, text, len);
	n->textlen = (uint32_t)len; /* at most MAX_SCALAR_BYTES */
	n->plain = plain;
	n->is_null = n->plain && is_null_text(text, len);
	if (!n->plain && len == 0)
		n->span.len = 2; /* underline the quotes of "" */
	if (quoted)
		check_escaped_controls(b, n);
	return n;
}

static Node *new_scalar(Builder *b, struct fy_token *val, bool is_key)
{
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
	Span span;
	size_t start = 0, end = 0;
	if (sm) {
		span = span_from_marks(b->f, sm, em);
		start = sm->input_pos;
		end = em && em->input_pos > sm->input_pos ? em->input_pos : sm->input_pos;
		if (style == FYSS_LITERAL || style == FYSS_FOLDED)
			span = span_of_block_header(b, sm->input_pos, span);
	} else {
		/* `key:` with nothing after it: libfyaml gives no token */
		span = span_after_indicator(b);
		style = FYSS_PLAIN;
	}
	return make_scalar(b, span, start, end, style == FYSS_PLAIN,
			   style == FYSS_SINGLE_QUOTED || style == FYSS_DOUBLE_QUOTED, text, len, false, is_key);
}

static Node *open_collection(Builder *b, NodeKind kind, Span span)
{
	Node *n = new_node(b);
	n->kind = kind;
	n->span = span;
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

static Span event_span(const Builder *b, struct fy_event *ev)
{
	const struct fy_mark *s = fy_event_start_mark(ev);
	return s ? span_from_marks(b->f, s, NULL) : (Span){b->f, 1, 1, 1};
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
		open_collection(b, N_MAP, event_span(b, ev));
		break;
	case FYET_SEQUENCE_START:
		if (b->docs > 1)
			break;
		reject_anchor_tag(b, ev->sequence_start.anchor, ev->sequence_start.tag);
		open_collection(b, N_SEQ, event_span(b, ev));
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

/* ---- the fast reader ----
 * Most platform files use a small part of YAML: block mappings and
 * sequences, flow collections, plain and quoted scalars on one line
 * without escapes, comments. For those, a reader of that subset makes
 * the same events libfyaml would (same kinds, same positions, same texts)
 * at a fraction of the cost. It reads the whole file first and gives up on
 * anything outside the subset (escapes, folding, block scalars, anchors,
 * tags, document markers, tabs, a byte order mark inside text, empty
 * values, odd indentation, anything YAML would refuse): libfyaml then reads
 * the file as before. Nothing is built, and nothing reported, until the
 * whole file is accepted, so both readers report through the same code in
 * the same order. On a line with text outside ASCII, columns count
 * characters, as libfyaml's do.
 * src_fast_agrees compares the two readers' events (unit tests, fuzz_yaml). */

enum { FE_MAP, FE_SEQ, FE_END, FE_SCALAR };

typedef struct FastEv {
	uint8_t type;
	uint8_t quoted;      /* FE_SCALAR: 0 plain, '\'' or '"' */
	bool utf8;           /* on a line with text outside ASCII: columns count characters */
	uint32_t start, end; /* FE_SCALAR: its text's bytes (inside the quotes) */
	int line, col;       /* 0-based, of `start` (a collection: its first token) */
} FastEv;

typedef struct Fast {
	const char *t;
	size_t len, pos, ls; /* ls: where the current line starts */
	int line;            /* 0-based */
	bool peeked;         /* pos is at the content of a line not taken yet */
	int pind;            /* that line's indentation */
	int depth;
	int bind;            /* indentation of the innermost block collection */
	size_t kat, kend;    /* the last key found (fast_is_key): pos + 1, its end */
	int u8line;          /* a line with text outside ASCII in a scalar, else -1 */
	FastEv *ev;
	int n, cap;
} Fast;

/* Characters in n bytes of UTF-8 (checked valid): libfyaml's columns. */
static int fast_chars(const char *s, size_t n)
{
	int c = 0;
	for (size_t i = 0; i < n; i++)
		c += ((unsigned char)s[i] & 0xC0) != 0x80;
	return c;
}

static bool fast_emit(Fast *F, int type, int quoted, size_t start, size_t end)
{
	if (F->n == F->cap) {
		F->cap = F->cap ? F->cap * 2 : 1024;
		F->ev = xrealloc(F->ev, sizeof *F->ev * (size_t)F->cap);
	}
	bool utf8 = F->u8line == F->line;
	F->ev[F->n++] = (FastEv){(uint8_t)type, (uint8_t)quoted, utf8, (uint32_t)start, (uint32_t)end, F->line,
				 utf8 ? fast_chars(F->t + F->ls, start - F->ls) : (int)(start - F->ls)};
	return true;
}

static int fast_ch(const Fast *F, size_t i)
{
	return i < F->len ? (unsigned char)F->t[i] : '\n';
}

/* Blank after an indicator: a space, the end of the line or of the file. */
static bool fast_blank(const Fast *F, size_t i)
{
	int c = fast_ch(F, i);
	return c == ' ' || c == '\n';
}

/* Moves to the content of the next line that has some; returns its
 * indentation, -1 at the end of the file, -2 to give up. */
static int fast_peek(Fast *F)
{
	if (F->peeked)
		return F->pind;
	size_t p = F->pos;
	if (p < F->len && F->t[p] != '\n')
		return -2; /* callers leave pos at a line's end */
	for (;;) {
		if (p >= F->len) {
			F->pos = p, F->peeked = true, F->pind = -1;
			return -1;
		}
		p++; /* the newline */
		F->line++, F->ls = p;
		while (p < F->len && F->t[p] == ' ')
			p++;
		if (p >= F->len) {
			F->pos = p, F->peeked = true, F->pind = -1;
			return -1;
		}
		char c = F->t[p];
		if (c == '\n')
			continue;
		if (c == '#') {
			const char *nl = memchr(F->t + p, '\n', F->len - p);
			p = nl ? (size_t)(nl - F->t) : F->len;
			continue;
		}
		if (c == '\t')
			return -2;
		if (p == F->ls && (c == '-' || c == '.') && fast_ch(F, p + 1) == c &&
		    fast_ch(F, p + 2) == c && fast_blank(F, p + 3))
			return -2; /* `---` or `...` */
		F->pos = p, F->peeked = true, F->pind = (int)(p - F->ls);
		return F->pind;
	}
}

/* After a node: blanks, a comment, the end of the line. */
static bool fast_eol(Fast *F)
{
	size_t p = F->pos;
	while (p < F->len && F->t[p] == ' ')
		p++;
	if (p < F->len && F->t[p] == '#') {
		if (p == 0 || F->t[p - 1] != ' ')
			return false;
		const char *nl = memchr(F->t + p, '\n', F->len - p);
		p = nl ? (size_t)(nl - F->t) : F->len;
	}
	F->pos = p;
	return p >= F->len || F->t[p] == '\n';
}

/* Characters that cannot start a plain scalar. */
static bool fast_indicator(int c)
{
	return strchr(",[]{}#&*!|>'\"%@`?:-", c) != NULL;
}

/* Bytes a plain scalar's scan must look at: 1 in block context, 2 in flow
 * (`,[]{}` end it there). Controls and DEL decline; bytes outside ASCII
 * mark the line (columns count characters there) and decline U+FEFF. */
#define FP_BLOCK 1
#define FP_FLOW 2
static const uint8_t fast_plain_stop[256] = {
	[0 ... 0x1F] = FP_BLOCK | FP_FLOW,
	[':'] = FP_BLOCK | FP_FLOW, ['#'] = FP_BLOCK | FP_FLOW,
	[','] = FP_FLOW, ['['] = FP_FLOW, [']'] = FP_FLOW, ['{'] = FP_FLOW, ['}'] = FP_FLOW,
	[0x7F ... 0xFF] = FP_BLOCK | FP_FLOW,
};

/* A plain scalar on one line, from pos; sets *end after its last
 * non-blank. In flow, `,[]{}` end it. false: outside the subset. */
static bool fast_plain(Fast *F, bool flow, size_t *end)
{
	size_t p = F->pos;
	int c = fast_ch(F, p);
	if (c == '\n' || c == ' ')
		return false;
	if (fast_indicator(c)) {
		int d = fast_ch(F, p + 1);
		if (c != '-' || d == ' ' || d == '\n' || (flow && strchr(",[]{}", d)))
			return false;
	}
	const unsigned char *t = (const unsigned char *)F->t;
	uint8_t stop = flow ? FP_FLOW : FP_BLOCK;
	size_t last = p;
	for (; p < F->len; p++) {
		unsigned char ch = t[p];
		if (!(fast_plain_stop[ch] & stop)) {
			if (ch != ' ')
				last = p + 1;
			continue;
		}
		if (ch == '\n')
			break;
		if (ch == ':') {
			int d = fast_ch(F, p + 1);
			if (d == ' ' || d == '\n' || (flow && strchr(",[]{}", d)))
				break;
			last = p + 1;
		} else if (ch == '#') {
			if (t[p - 1] == ' ')
				break;
			last = p + 1;
		} else if (ch >= 0x80) {
			if (ch == 0xEF && fast_ch(F, p + 1) == 0xBB && fast_ch(F, p + 2) == 0xBF)
				return false; /* a byte order mark */
			F->u8line = F->line;
			last = p + 1;
		} else if (ch < 0x20 || ch == 0x7F) {
			return false; /* tabs, controls */
		} else {
			break; /* `,[]{}` in flow */
		}
	}
	*end = last;
	return true;
}

/* A quoted scalar on one line without escapes (`''` in single quotes
 * aside); sets *end after the quote. */
static bool fast_quoted(Fast *F, size_t *end)
{
	char q = F->t[F->pos];
	for (size_t p = F->pos + 1; p < F->len; p++) {
		unsigned char ch = (unsigned char)F->t[p];
		if (ch < 0x20 || ch == 0x7F || (q == '"' && ch == '\\'))
			return false;
		if (ch >= 0x80) {
			if (ch == 0xEF && fast_ch(F, p + 1) == 0xBB && fast_ch(F, p + 2) == 0xBF)
				return false; /* a byte order mark */
			F->u8line = F->line;
		}
		if (ch == (unsigned char)q) {
			if (q == '\'' && fast_ch(F, p + 1) == '\'') {
				p++; /* `''` is a quote */
				continue;
			}
			*end = p + 1;
			return true;
		}
	}
	return false;
}

/* A scalar at pos: emitted, pos after it. */
static bool fast_scalar(Fast *F, bool flow)
{
	size_t end;
	char c = F->t[F->pos];
	if (c == '"' || c == '\'') {
		if (!fast_quoted(F, &end))
			return false;
		fast_emit(F, FE_SCALAR, c, F->pos + 1, end - 1); /* libfyaml's marks leave the quotes out */
	} else {
		if (!fast_plain(F, flow, &end))
			return false;
		fast_emit(F, FE_SCALAR, 0, F->pos, end);
	}
	F->pos = end;
	return true;
}

static void fast_spaces(Fast *F)
{
	while (F->pos < F->len && F->t[F->pos] == ' ')
		F->pos++;
}

static bool fast_flow(Fast *F);

/* Blanks, comments and line breaks inside a flow collection; lines must be
 * indented more than the line the collection starts on and than the block
 * collection around it (lind). */
static bool fast_flow_blanks(Fast *F, int lind)
{
	for (;;) {
		fast_spaces(F);
		int c = fast_ch(F, F->pos);
		if (c == '#' && F->pos > 0 && F->t[F->pos - 1] == ' ') {
			const char *nl = memchr(F->t + F->pos, '\n', F->len - F->pos);
			F->pos = nl ? (size_t)(nl - F->t) : F->len;
			c = '\n';
		}
		if (c != '\n')
			return c != '\t';
		if (F->pos >= F->len)
			return false;
		F->pos++;
		F->line++, F->ls = F->pos;
		fast_spaces(F);
		if (fast_ch(F, F->pos) != '\n' && (int)(F->pos - F->ls) <= lind)
			return false;
	}
}

/* `{...}` or `[...]` from pos; line breaks only between entries. */
static bool fast_flow_collection(Fast *F)
{
	bool map = F->t[F->pos] == '{';
	char close = map ? '}' : ']';
	if (++F->depth > MAX_DEPTH)
		return false;
	int lind = 0;
	while (F->t[F->ls + (size_t)lind] == ' ')
		lind++;
	if (lind < F->bind)
		lind = F->bind;
	fast_emit(F, map ? FE_MAP : FE_SEQ, 0, F->pos, F->pos);
	F->pos++;
	if (!fast_flow_blanks(F, lind))
		return false;
	if (fast_ch(F, F->pos) == close) {
		F->pos++;
		fast_emit(F, FE_END, 0, F->pos, F->pos);
		F->depth--;
		return true;
	}
	for (;;) {
		if (map) {
			char c = (char)fast_ch(F, F->pos);
			size_t kstart = F->pos;
			if (c == '{' || c == '[' || !fast_scalar(F, true) || F->pos - kstart >= 1000)
				return false;
			if (fast_ch(F, F->pos) != ':' || fast_ch(F, F->pos + 1) != ' ')
				return false;
			F->pos++;
			fast_spaces(F);
			c = (char)fast_ch(F, F->pos);
			if (c == ',' || c == '}' || c == '\n' || c == '#')
				return false;
		}
		char first = (char)fast_ch(F, F->pos);
		if (!fast_flow(F))
			return false;
		fast_spaces(F);
		char c = (char)fast_ch(F, F->pos);
		if (c == '\n' || c == '#') {
			/* a plain scalar could go on over the next line */
			if (!strchr("{['\"", first) || !fast_flow_blanks(F, lind))
				return false;
			c = (char)fast_ch(F, F->pos);
		}
		if (c == ',') {
			F->pos++;
			if (!fast_flow_blanks(F, lind) || fast_ch(F, F->pos) == close)
				return false;
			continue;
		}
		if (c != close)
			return false;
		F->pos++;
		fast_emit(F, FE_END, 0, F->pos, F->pos);
		F->depth--;
		return true;
	}
}

/* A node in flow context (or the value on a block line). */
static bool fast_flow(Fast *F)
{
	char c = (char)fast_ch(F, F->pos);
	if (c == '{' || c == '[')
		return fast_flow_collection(F);
	return fast_scalar(F, true);
}

/* Whether the line at pos starts with a key: a scalar, `:`, a blank. */
static bool fast_is_key(Fast *F)
{
	if (F->kat == F->pos + 1)
		return true; /* asked already */
	size_t end;
	char c = F->t[F->pos];
	if (c == '"' || c == '\'') {
		if (!fast_quoted(F, &end))
			return false;
	} else if (!fast_plain(F, false, &end)) {
		return false;
	}
	/* YAML bounds an implicit key at 1024 characters */
	if (fast_ch(F, end) != ':' || !fast_blank(F, end + 1) || end - F->pos >= 1000)
		return false;
	F->kat = F->pos + 1, F->kend = end;
	return true;
}

static bool fast_block(Fast *F, int ind);
static bool fast_block_seq(Fast *F, int ind, bool indentless);

/* The value after `key:` or `- ` on the same line: a flow node or scalar. */
static bool fast_inline(Fast *F)
{
	char c = (char)fast_ch(F, F->pos);
	if (c == '{' || c == '[') {
		if (!fast_flow_collection(F))
			return false;
	} else if (!fast_scalar(F, false)) {
		return false;
	}
	return fast_eol(F);
}

/* A block collection's start (kind FE_MAP or FE_SEQ) at indentation ind:
 * false past the depth limit; *outer keeps the enclosing block's column for
 * fast_close_block. */
static bool fast_open_block(Fast *F, int kind, int ind, int *outer)
{
	if (++F->depth > MAX_DEPTH)
		return false;
	fast_emit(F, kind, 0, F->pos, F->pos);
	*outer = F->bind;
	F->bind = ind;
	return true;
}

static bool fast_close_block(Fast *F, int outer)
{
	fast_emit(F, FE_END, 0, F->pos, F->pos);
	F->depth--;
	F->bind = outer;
	return true;
}

/* A block mapping whose first key is at pos, at indentation ind. */
static bool fast_block_map(Fast *F, int ind)
{
	int outer;
	if (!fast_open_block(F, FE_MAP, ind, &outer))
		return false;
	for (;;) {
		F->peeked = false;
		if (!fast_is_key(F))
			return false;
		char q = F->t[F->pos];
		if (q == '"' || q == '\'')
			fast_emit(F, FE_SCALAR, q, F->pos + 1, F->kend - 1);
		else
			fast_emit(F, FE_SCALAR, 0, F->pos, F->kend);
		F->pos = F->kend + 1; /* after the `:` */
		fast_spaces(F);
		if (!fast_eol(F)) {
			if (!fast_inline(F))
				return false;
		} else {
			int ci = fast_peek(F);
			if (ci > ind) {
				if (!fast_block(F, ci))
					return false;
			} else if (ci == ind && F->t[F->pos] == '-' && fast_blank(F, F->pos + 1)) {
				if (!fast_block_seq(F, ind, true))
					return false;
			} else {
				return false; /* an empty value */
			}
		}
		int ci = fast_peek(F);
		if (ci == ind)
			continue;
		if (ci < ind && ci != -2)
			break;
		return false;
	}
	return fast_close_block(F, outer);
}

/* A block sequence whose first `-` is at pos, at indentation ind. */
static bool fast_block_seq(Fast *F, int ind, bool indentless)
{
	int outer;
	if (!fast_open_block(F, FE_SEQ, ind, &outer))
		return false;
	for (;;) {
		F->peeked = false;
		if (F->t[F->pos] != '-' || !fast_blank(F, F->pos + 1))
			return false;
		F->pos++;
		fast_spaces(F);
		if (fast_eol(F)) {
			int ci = fast_peek(F);
			if (ci <= ind || !fast_block(F, ci))
				return false; /* an empty item */
		} else if (!fast_block(F, (int)(F->pos - F->ls))) {
			return false;
		}
		int ci = fast_peek(F);
		if (ci == ind && F->t[F->pos] == '-' && fast_blank(F, F->pos + 1))
			continue;
		if ((ci < ind && ci != -2) || (ci == ind && indentless))
			break;
		return false;
	}
	return fast_close_block(F, outer);
}

/* Any node at pos, whose column is ind. */
static bool fast_block(Fast *F, int ind)
{
	F->peeked = false;
	char c = F->t[F->pos];
	if (c == '-' && fast_blank(F, F->pos + 1))
		return fast_block_seq(F, ind, false);
	if (fast_is_key(F))
		return fast_block_map(F, ind);
	return fast_inline(F);
}

/* The events of the whole text, or false to leave it to libfyaml. */
static bool fast_read(Fast *F, const char *text, size_t len)
{
	*F = (Fast){.t = text, .len = len, .u8line = -1};
	{
		/* the first line (fast_peek starts from a line's end) */
		size_t p = 0;
		while (p < len && text[p] == ' ')
			p++;
		if (p < len && text[p] != '\n' && text[p] != '#') {
			if (text[p] == '\t')
				return false;
			if ((text[p] == '-' || text[p] == '.') && p == 0 && fast_ch(F, 1) == text[0] &&
			    fast_ch(F, 2) == text[0] && fast_blank(F, 3))
				return false;
			F->pos = p, F->peeked = true, F->pind = (int)p;
		} else {
			const char *nl = p < len ? memchr(text + p, '\n', len - p) : NULL;
			F->pos = nl ? (size_t)(nl - text) : len;
		}
	}
	int ind = fast_peek(F);
	if (ind == -1)
		return true;
	if (ind < 0 || !fast_block(F, ind))
		return false;
	return fast_peek(F) == -1;
}

/* Builds the tree from the fast reader's events, as handle_event does
 * from libfyaml's. The scalars' texts are one copy of the file, each ended
 * by a NUL over the byte after it (a quote, a blank, `:`, `,`, a bracket or
 * a line break: never another scalar's). */
static void fast_replay(Builder *b, const Fast *F)
{
	char *texts = arena_strndup(b->a, b->f->text, b->f->len);
	for (int i = 0; i < F->n; i++)
		b->npool += F->ev[i].type != FE_END;
	if (b->npool)
		b->pool = arena_alloc(b->a, sizeof(Node) * (size_t)b->npool);
	for (int i = 0; i < F->n; i++) {
		const FastEv *e = &F->ev[i];
		Span sp = {b->f, e->line + 1, e->col + 1, 1};
		if (e->type == FE_MAP || e->type == FE_SEQ) {
			open_collection(b, e->type == FE_MAP ? N_MAP : N_SEQ, sp);
		} else if (e->type == FE_END) {
			if (b->depth > 0)
				close_collection(b);
		} else {
			bool is_key = b->depth > 0 && b->stack[b->depth - 1].node->kind == N_MAP &&
				      !b->stack[b->depth - 1].pending_key;
			size_t len = e->end - e->start;
			if (len > 0)
				sp.len = e->utf8 ? fast_chars(b->f->text + e->start, len) : (int)len;
			const char *text = texts + e->start;
			if (e->quoted == '\'' && memchr(text, '\'', len))
				text = single_quoted_text(b->a, text, len, &len);
			else
				texts[e->end] = 0;
			attach(b, make_scalar(b, sp, e->start, e->end, !e->quoted, e->quoted != 0, text, len, true,
					      is_key));
		}
		if (b->failed && b->depth >= MAX_DEPTH)
			break;
	}
}

const char *src_fast_agrees(const char *text, size_t len, bool *taken)
{
	static __thread char why[200];
	Fast F;
	*taken = fast_read(&F, text, len);
	if (!*taken) {
		free(F.ev);
		return NULL;
	}
	struct fy_diag_cfg dcfg;
	fy_diag_cfg_default(&dcfg);
	dcfg.fp = NULL;
	dcfg.colorize = false;
	struct fy_diag *diag = fy_diag_create(&dcfg);
	struct fy_parse_cfg cfg = {
		.flags = FYPCF_QUIET | FYPCF_COLLECT_DIAG | FYPCF_DEFAULT_VERSION(0),
		.diag = diag,
	};
	struct fy_parser *p = fy_parser_create(&cfg);
	fy_parser_set_string(p, text, len);
	struct fy_event *ev;
	int i = 0;
	why[0] = 0;
	while (!why[0] && (ev = fy_parser_parse(p)) != NULL) {
		const FastEv *e = i < F.n ? &F.ev[i] : NULL;
		const struct fy_mark *sm = fy_event_start_mark(ev);
		switch (ev->type) {
		case FYET_MAPPING_START:
		case FYET_SEQUENCE_START: {
			int type = ev->type == FYET_MAPPING_START ? FE_MAP : FE_SEQ;
			if (!e || e->type != type || !sm || (size_t)sm->input_pos != e->start ||
			    sm->line != e->line || sm->column != e->col ||
			    (type == FE_MAP ? ev->mapping_start.anchor || ev->mapping_start.tag
					    : ev->sequence_start.anchor || ev->sequence_start.tag))
				snprintf(why, sizeof why, "event %d: collection start at %d:%d", i,
					 sm ? sm->line + 1 : 0, sm ? sm->column + 1 : 0);
			i++;
			break;
		}
		case FYET_MAPPING_END:
		case FYET_SEQUENCE_END:
			if (!e || e->type != FE_END)
				snprintf(why, sizeof why, "event %d: collection end", i);
			i++;
			break;
		case FYET_SCALAR: {
			struct fy_token *t = ev->scalar.value;
			const struct fy_mark *s = t ? fy_token_start_mark(t) : NULL;
			const struct fy_mark *en = t ? fy_token_end_mark(t) : NULL;
			enum fy_scalar_style st = t ? fy_scalar_token_get_style(t) : FYSS_ANY;
			int q = st == FYSS_PLAIN ? 0 : st == FYSS_SINGLE_QUOTED ? '\'' : st == FYSS_DOUBLE_QUOTED ? '"' : -1;
			const char *mine = e ? text + e->start : "";
			size_t ml = e ? e->end - e->start : 0, tl = 0;
			const char *tx;
			if (e && e->quoted == '\'' && memchr(mine, '\'', ml))
				/* libfyaml misreads (and leaks on) runs of `''`: both
				 * readers take the text from the bytes the marks span */
				tx = mine, tl = ml;
			else
				tx = t ? fy_token_get_text(t, &tl) : NULL;
			if (!e || e->type != FE_SCALAR || !s || !en || q != e->quoted || ev->scalar.anchor ||
			    ev->scalar.tag || (size_t)s->input_pos != e->start || (size_t)en->input_pos != e->end ||
			    s->line != e->line || s->column != e->col || en->line != s->line ||
			    en->column - s->column != fast_chars(text + e->start, e->end - e->start) || !tx || tl != ml ||
			    memcmp(tx, mine, tl) != 0)
				snprintf(why, sizeof why, "event %d: scalar at %d:%d", i, s ? s->line + 1 : 0,
					 s ? s->column + 1 : 0);
			i++;
			break;
		}
		case FYET_ALIAS:
			snprintf(why, sizeof why, "event %d: alias", i);
			break;
		default:
			break;
		}
		fy_parser_event_free(p, ev);
	}
	if (!why[0] && fy_parser_get_stream_error(p))
		snprintf(why, sizeof why, "libfyaml refuses what the fast reader took");
	if (!why[0] && i != F.n)
		snprintf(why, sizeof why, "libfyaml made %d events, the fast reader %d", i, F.n);
	fy_parser_destroy(p);
	fy_diag_destroy(diag);
	free(F.ev);
	return why[0] ? why : NULL;
}

/* libfyaml's events into the tree. */
static void parse_libfyaml(Builder *b)
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
	fy_diag_destroy(diag);
}

static Node *parse_yaml(Builder *b)
{
	Fast F;
	if (fast_read(&F, b->f->text, b->f->len))
		fast_replay(b, &F);
	else
		parse_libfyaml(b);
	free(F.ev);
	free(b->kids);

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
		if (end - f->line_starts[i] <= MAX_BLANK_RUN)
			continue; /* too short to hold such a run */
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
