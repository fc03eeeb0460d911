/*
 * diag.c — diagnostics: collected by every phase, sorted, printed once.
 *
 * Phases never print. They add diagnostics here; a phase boundary stops the
 * run when errors were added (jq's model). Every diagnostic has a stable
 * code documented in stdlib/diagnostics.json (embedded, read with jsmn),
 * which also feeds `platformc explain` and docs/diagnostics.md.
 *
 * The human format is the one guide §4 shows:
 *
 *   error[E0201]: unknown team `backned`
 *     --> platform.d/users.yaml:7:11
 *      |
 *    7 |     team: backned
 *      |           ^^^^^^^ no team has this name
 *      = help: did you mean `backend`? (defined at platform.yaml:31:11)
 */
#define JSMN_STATIC
#include "platformc.h"

#include <jsmn.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void diags_init(Diags *d, Arena *a)
{
	memset(d, 0, sizeof *d);
	d->arena = a;
}

Diag *diag_add(Diags *d, Severity sev, const char *code, Span sp, const char *fmt, ...)
{
	Diag *g = arena_alloc(d->arena, sizeof *g);
	g->sev = sev;
	g->code = code;
	g->span = sp;
	va_list ap;
	va_start(ap, fmt);
	g->msg = arena_vsprintf(d->arena, fmt, ap);
	va_end(ap);
	if (d->n == d->cap) {
		int cap = d->cap ? d->cap * 2 : 16;
		d->items = arena_grow(d->arena, d->items, (size_t)d->n, (size_t)cap, sizeof *d->items);
		d->cap = cap;
	}
	g->seq = (unsigned)d->n;
	g->arena = d->arena;
	d->items[d->n++] = g;
	if (sev == SEV_ERROR)
		d->errors++;
	else
		d->warnings++;
	return g;
}

void diags_append(Diags *to, const Diags *from, int start, int end)
{
	for (int i = start; i < end; i++) {
		Diag *g = from->items[i];
		if (to->n == to->cap) {
			int cap = to->cap ? to->cap * 2 : 16;
			to->items = arena_grow(to->arena, to->items, (size_t)to->n, (size_t)cap, sizeof *to->items);
			to->cap = cap;
		}
		g->seq = (unsigned)to->n;
		to->items[to->n++] = g;
		if (g->sev == SEV_ERROR)
			to->errors++;
		else
			to->warnings++;
	}
}

/* Label, help and notes live in the compilation's arena, like the Diag. */
void diag_label(Diag *g, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	g->label = arena_vsprintf(g->arena, fmt, ap);
	va_end(ap);
}

void diag_help(Diag *g, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	g->help = arena_vsprintf(g->arena, fmt, ap);
	va_end(ap);
}

void diag_note(Diag *g, Span sp, const char *fmt, ...)
{
	if (g->nnotes == (int)ARRAY_LEN(g->notes))
		return;
	va_list ap;
	va_start(ap, fmt);
	g->notes[g->nnotes].span = sp;
	g->notes[g->nnotes].msg = arena_vsprintf(g->arena, fmt, ap);
	g->nnotes++;
	va_end(ap);
}

static int cmp_diag(const void *pa, const void *pb)
{
	const Diag *a = *(const Diag *const *)pa, *b = *(const Diag *const *)pb;
	const char *fa = a->span.file ? a->span.file->path : "";
	const char *fb = b->span.file ? b->span.file->path : "";
	int c = strcmp(fa, fb);
	if (c)
		return c;
	if (a->span.line != b->span.line)
		return a->span.line < b->span.line ? -1 : 1;
	if (a->span.col != b->span.col)
		return a->span.col < b->span.col ? -1 : 1;
	return a->seq < b->seq ? -1 : a->seq > b->seq;
}

void diags_sort(Diags *d)
{
	if (d->n > 1)
		qsort(d->items, (size_t)d->n, sizeof *d->items, cmp_diag);
}

/* ---- human format ---- */

typedef struct Style {
	const char *err, *warn, *bold, *blue, *reset;
} Style;

/* ---- text that reaches the terminal ----
 * Input bytes and values are never printed raw: credentials (guide §7.1) are
 * masked, and characters that are invisible or would drive the terminal
 * (controls, DEL, C1, U+2028/2029, invalid UTF-8) print as escapes. */

/* The escape for one character (`len` bytes at p), or NULL to print it as is. */
static const char *char_escape(const char *p, int len, char *buf, size_t n, bool newline_ok)
{
	const unsigned char *u = (const unsigned char *)p;
	if (len == 1 && u[0] == '\n' && newline_ok)
		return NULL;
	if (len == 1 && u[0] == '\n')
		return "\\n";
	if (len == 1 && u[0] == '\t')
		return newline_ok ? " " : "\\t"; /* one column in a source line */
	if (len == 1 && (u[0] < 0x20 || u[0] >= 0x7F)) {
		snprintf(buf, n, "\\x%02X", u[0]);
		return buf;
	}
	if (len == 2 && u[0] == 0xC2 && u[1] <= 0x9F) {
		snprintf(buf, n, "\\u{%x}", u[1]);
		return buf;
	}
	if (len == 3 && u[0] == 0xE2 && u[1] == 0x80 && (u[2] == 0xA8 || u[2] == 0xA9)) {
		snprintf(buf, n, "\\u{%x}", 0x2000 + (u[2] - 0x80));
		return buf;
	}
	return NULL;
}

/* A message, label, help or note as printed: masked, and escaped unless the
 * format escapes by itself (JSON). Heap result. */
static char *clean_text(const Diags *d, const char *s, bool escape)
{
	char *m = cred_mask(d, s ? s : "");
	if (!escape)
		return m;
	StrBuf b;
	sb_init(&b);
	size_t n = strlen(m);
	char buf[16];
	for (size_t i = 0; i < n;) {
		int l = node_char_len(m + i, n - i);
		const char *e = char_escape(m + i, l, buf, sizeof buf, false);
		if (e)
			sb_puts(&b, e);
		else
			sb_putn(&b, m + i, (size_t)l);
		i += (size_t)l;
	}
	free(m);
	return sb_detach(&b);
}

char *diags_clean(const Diags *d, const char *s)
{
	return clean_text(d, s, false);
}

static void put_clean(FILE *out, const Diags *d, const char *s)
{
	char *c = clean_text(d, s, true);
	fputs(c, out);
	free(c);
}

static void print_source_line(FILE *out, const Span *sp, int gutter, const char *label, const Style *st,
			      const char *caret_color)
{
	const SourceFile *f = sp->file;
	if (!f || sp->line < 1 || sp->line > f->nlines)
		return;
	int start = f->line_starts[sp->line - 1];
	int end = sp->line < f->nlines ? f->line_starts[sp->line] - 1 : (int)f->len;
	if (end - start > 400)
		return; /* a line that long would bury the message */
	fprintf(out, "%s%*s |%s\n", st->blue, gutter, "", st->reset);
	fprintf(out, "%s%*d |%s ", st->blue, gutter, sp->line, st->reset);
	/* the first secret range that may reach into this line */
	int lo = 0, hi = f->nsecrets;
	while (lo < hi) {
		int mid = (lo + hi) / 2;
		if (f->secrets[mid].end <= (size_t)start)
			lo = mid + 1;
		else
			hi = mid;
	}
	/* every character is one column of the span; it prints as one column,
	 * or as an escape several columns wide, so the caret is placed by the
	 * printed widths of the characters before it */
	int col = 1, pad = 0, width = 0;
	char buf[16];
	for (int i = start; i < end; col++) {
		int l = node_char_len(f->text + i, (size_t)(end - i));
		while (lo < f->nsecrets && f->secrets[lo].end <= (size_t)i)
			lo++;
		bool masked = lo < f->nsecrets && f->secrets[lo].start <= (size_t)i;
		const char *e = masked ? "*" : char_escape(f->text + i, l, buf, sizeof buf, true);
		int w = e ? (int)strlen(e) : 1;
		if (e)
			fputs(e, out);
		else
			fwrite(f->text + i, 1, (size_t)l, out);
		if (col < sp->col)
			pad += w;
		else if (col < sp->col + (sp->len > 0 ? sp->len : 1))
			width += w;
		i += l;
	}
	/* a span past the end of the line (`key:` with no value) */
	for (; col < sp->col + (sp->len > 0 ? sp->len : 1); col++) {
		if (col < sp->col)
			pad++;
		else
			width++;
	}
	fputc('\n', out);
	fprintf(out, "%s%*s |%s ", st->blue, gutter, "", st->reset);
	for (int i = 0; i < pad; i++)
		fputc(' ', out);
	fputs(caret_color, out);
	for (int i = 0; i < width; i++)
		fputc('^', out);
	if (label)
		fputc(' ', out), fputs(label, out);
	fprintf(out, "%s\n", st->reset);
}

static void print_human(FILE *out, const Diags *d, const Diag *g, const Style *st)
{
	bool err = g->sev == SEV_ERROR;
	const char *col = err ? st->err : st->warn;
	fprintf(out, "%s%s[%s]%s%s: ", col, err ? "error" : "warning", g->code, st->reset, st->bold);
	put_clean(out, d, g->msg);
	fprintf(out, "%s\n", st->reset);
	int gutter = 1;
	if (g->span.file) {
		for (int l = g->span.line; l >= 10; l /= 10)
			gutter++;
		fprintf(out, "%s%*s-->%s ", st->blue, gutter, "", st->reset);
		put_clean(out, d, g->span.file->path);
		if (g->span.line > 0)
			fprintf(out, ":%d:%d", g->span.line, g->span.col);
		fputc('\n', out);
		char *label = g->label ? clean_text(d, g->label, true) : NULL;
		print_source_line(out, &g->span, gutter, label, st, col);
		free(label);
	}
	for (int i = 0; i < g->nnotes; i++) {
		const DiagNote *n = &g->notes[i];
		fprintf(out, "%s%*s =%s note: ", st->blue, gutter, "", st->reset);
		put_clean(out, d, n->msg);
		if (n->span.file) {
			fputs(" (", out);
			put_clean(out, d, n->span.file->path);
			fprintf(out, ":%d:%d)", n->span.line, n->span.col);
		}
		fputc('\n', out);
	}
	if (g->help) {
		fprintf(out, "%s%*s =%s help: ", st->blue, gutter, "", st->reset);
		put_clean(out, d, g->help);
		fputc('\n', out);
	}
	fputc('\n', out);
}

/* ---- JSON format ---- */

/* A text as a JSON string node: masked (credentials), not escaped. */
static DNode *json_text(Arena *a, const Diags *d, const char *s)
{
	char *m = clean_text(d, s, false);
	DNode *v = doc_str(a, m);
	free(m);
	return v;
}

static void json_pos(Arena *a, DNode *m, const Diags *d, const Span *sp)
{
	doc_set(a, m, "file", sp->file ? json_text(a, d, sp->file->path) : doc_null(a));
	if (!sp->file || sp->line < 1) {
		doc_set(a, m, "line", doc_null(a));
		doc_set(a, m, "column", doc_null(a));
		return;
	}
	doc_set_int(a, m, "line", sp->line);
	doc_set_int(a, m, "column", sp->col);
	doc_set_int(a, m, "length", sp->len);
}

/* One diagnostic as one line of the array: each is built and written on its
 * own, so that printing many holds one diagnostic's tree at a time. */
static void print_json(FILE *out, const Diags *d, const Diag *g, bool first)
{
	Arena *a = arena_new();
	DNode *m = doc_map(a);
	doc_set_str(a, m, "severity", g->sev == SEV_ERROR ? "error" : "warning");
	doc_set_str(a, m, "code", g->code);
	doc_set(a, m, "message", json_text(a, d, g->msg));
	json_pos(a, m, d, &g->span);
	if (g->label)
		doc_set(a, m, "label", json_text(a, d, g->label));
	if (g->help)
		doc_set(a, m, "help", json_text(a, d, g->help));
	DNode *notes = doc_set_seq(a, m, "notes");
	for (int i = 0; i < g->nnotes; i++) {
		DNode *n = doc_push_map(a, notes);
		doc_set(a, n, "message", json_text(a, d, g->notes[i].msg));
		json_pos(a, n, d, &g->notes[i].span);
	}
	StrBuf b;
	sb_init(&b);
	sb_puts(&b, first ? "  " : ",\n  ");
	json_write(&b, m, JSON_LINE);
	fwrite(b.data, 1, b.len, out);
	sb_free(&b);
	arena_free(a);
}

/* ---- GitHub workflow commands ---- */

static void gh_escape(FILE *out, const Diags *d, const char *text, bool property)
{
	char *clean = clean_text(d, text, true);
	for (const char *s = clean; *s; s++) {
		switch (*s) {
		case '%': fputs("%25", out); break;
		case '\r': fputs("%0D", out); break;
		case '\n': fputs("%0A", out); break;
		case ':': property ? fputs("%3A", out) : fputc(':', out); break;
		case ',': property ? fputs("%2C", out) : fputc(',', out); break;
		default: fputc(*s, out);
		}
	}
	free(clean);
}

static void print_github(FILE *out, const Diags *d, const Diag *g)
{
	fputs(g->sev == SEV_ERROR ? "::error " : "::warning ", out);
	if (g->span.file) {
		fputs("file=", out);
		gh_escape(out, d, g->span.file->path, true);
		if (g->span.line > 0)
			fprintf(out, ",line=%d,col=%d,endColumn=%d", g->span.line, g->span.col,
				g->span.col + (g->span.len > 0 ? g->span.len : 1));
		fputc(',', out);
	}
	fprintf(out, "title=%s::", g->code);
	gh_escape(out, d, g->msg, false);
	if (g->label) {
		fputs(" (", out);
		gh_escape(out, d, g->label, false);
		fputc(')', out);
	}
	if (g->help) {
		fputs("%0Ahelp: ", out);
		gh_escape(out, d, g->help, false);
	}
	fputc('\n', out);
}

/* How many diagnostics diags_print shows (--max-diagnostics; 0 = all). */
static int diag_limit = MAX_DIAGS;

void diags_set_limit(int n)
{
	diag_limit = n > 0 ? n : INT_MAX;
}

void diags_print(Diags *d, DiagFormat fmt, bool color, void *file)
{
	FILE *out = file;
	Style st = {"", "", "", "", ""};
	if (color)
		st = (Style){"\033[1;31m", "\033[1;33m", "\033[1m", "\033[1;34m", "\033[0m"};
	diags_sort(d);
	int shown = d->n < diag_limit ? d->n : diag_limit;
	/* Truncated: errors lead (each group still in file order), so a run with
	 * many warnings never hides the errors that stop it. */
	Diag **list = d->items;
	int hidden_err = 0, hidden_warn = 0;
	if (shown < d->n) {
		list = xmalloc(sizeof *list * (size_t)d->n);
		int k = 0;
		for (int pass = 0; pass < 2; pass++)
			for (int i = 0; i < d->n; i++)
				if ((d->items[i]->sev == SEV_ERROR) == (pass == 0))
					list[k++] = d->items[i];
		for (int i = shown; i < d->n; i++)
			list[i]->sev == SEV_ERROR ? hidden_err++ : hidden_warn++;
	}
	if (fmt == DF_JSON)
		fputs(shown ? "[\n" : "[", out);
	for (int i = 0; i < shown; i++) {
		if (fmt == DF_HUMAN)
			print_human(out, d, list[i], &st);
		else if (fmt == DF_JSON)
			print_json(out, d, list[i], i == 0);
		else
			print_github(out, d, list[i]);
	}
	if (list != d->items)
		free(list);
	if (fmt == DF_JSON) {
		fputs(shown ? "\n]\n" : "]\n", out);
		return;
	}
	if (fmt == DF_HUMAN && d->n) {
		if (d->n > shown) {
			fprintf(out, "(%d more diagnostics not shown:", d->n - shown);
			if (hidden_err)
				fprintf(out, " %d error%s%s", hidden_err, hidden_err == 1 ? "" : "s", hidden_warn ? "," : "");
			if (hidden_warn)
				fprintf(out, " %d warning%s", hidden_warn, hidden_warn == 1 ? "" : "s");
			fputs("; `--max-diagnostics 0` shows all)\n", out);
		}
		if (d->errors)
			fprintf(out, "%serror%s: %d error%s%s", st.err, st.reset, d->errors, d->errors == 1 ? "" : "s",
				d->warnings ? "" : "\n");
		else
			fprintf(out, "%swarning%s: ", st.warn, st.reset);
		if (d->warnings)
			fprintf(out, "%s%d warning%s\n", d->errors ? ", " : "", d->warnings, d->warnings == 1 ? "" : "s");
	}
}

/* ---- the code table: stdlib/diagnostics.json ----
 * [ {"code": "E0001", "title": "...", "explain": "..."}, ... ]
 * Parsed once with jsmn; strings unescaped into the heap (lives until exit). */

static DiagCode *codes;
static int ncodes = -1;

static void load_codes(void)
{
	if (ncodes >= 0)
		return;
	ncodes = 0;
	const EmbeddedFile *ef = embedded_find("stdlib/diagnostics.json");
	if (!ef)
		return;
	jsmn_parser p;
	jsmn_init(&p);
	int ntok = jsmn_parse(&p, ef->data, ef->len, NULL, 0);
	if (ntok <= 0)
		return;
	jsmntok_t *t = xmalloc(sizeof *t * (size_t)ntok);
	jsmn_init(&p);
	ntok = jsmn_parse(&p, ef->data, ef->len, t, (unsigned)ntok);
	if (ntok <= 0 || t[0].type != JSMN_ARRAY) {
		free(t);
		return;
	}
	codes = xmalloc(sizeof *codes * (size_t)t[0].size);
	int i = 1;
	for (int e = 0; e < t[0].size && i < ntok; e++) {
		if (t[i].type != JSMN_OBJECT) {
			i++;
			continue;
		}
		int fields = t[i++].size;
		DiagCode c = {"", "", ""};
		for (int k = 0; k < fields && i + 1 < ntok; k++, i += 2) {
			const char *key = ef->data + t[i].start;
			int klen = t[i].end - t[i].start;
			char *val = json_unescape(ef->data + t[i + 1].start, (size_t)(t[i + 1].end - t[i + 1].start), NULL);
			if (klen == 4 && memcmp(key, "code", 4) == 0)
				c.code = val;
			else if (klen == 5 && memcmp(key, "title", 5) == 0)
				c.title = val;
			else if (klen == 7 && memcmp(key, "explain", 7) == 0)
				c.explain = val;
			else
				free(val);
		}
		codes[ncodes++] = c;
	}
	free(t);
}

const DiagCode *diag_code_lookup(const char *code)
{
	load_codes();
	for (int i = 0; i < ncodes; i++)
		if (strcmp(codes[i].code, code) == 0)
			return &codes[i];
	return NULL;
}

int diag_code_count(void)
{
	load_codes();
	return ncodes;
}

const DiagCode *diag_code_at(int i)
{
	load_codes();
	return i >= 0 && i < ncodes ? &codes[i] : NULL;
}
