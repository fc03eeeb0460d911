/*
 * schema.c — the schemas of platform.yaml (stdlib/schema.yaml) and of a
 * resource kind file (stdlib/kind-schema.yaml), and the schema-directed
 * checker.
 *
 * A schema is data, parsed with the same front end as user input. The
 * checker walks a YAML tree beside a Type and reports every problem it
 * finds (it does not stop at the first): wrong node kinds, unknown keys
 * (with did-you-mean), missing required keys, and scalars that do not parse
 * as the field's type (guide §3.1: `no` in a string field is the string
 * "no"; `yes` in a bool field is an error). The credential patterns are
 * schema data too (`credentials`); credentials.c searches with them. A
 * checker may report every problem under one code (a kind file's E0301,
 * schema_check_as); otherwise each kind of problem has its own.
 */
#define PCRE2_CODE_UNIT_WIDTH 8
#include "platformc.h"

#include <pcre2.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- loading ---- */

static const char *const builtin_names[] = {
	"string", "name", "int", "number", "bool", "quantity", "duration", "percent", "url", "date", "any",
};

static const char *schema_path = "stdlib/schema.yaml"; /* the one being loaded, for schema_bug */

static _Noreturn void schema_bug(const char *what, const char *detail)
{
	fprintf(stderr, "platformc: internal error in %s: %s `%s`\n", schema_path, what, detail);
	abort();
}

/*
 * A loaded schema lives as long as the process (its types are in the
 * caller's arena, but its compiled patterns and name table are on the heap,
 * where PCRE2 and StrMap allocate). They are released at exit, so leak
 * checkers report only real leaks.
 */
static void **schema_heap;
static size_t schema_nheap, schema_capheap;
static bool schema_atexit_set;

static void schema_release(void)
{
	for (size_t i = 0; i < schema_nheap; i += 2) {
		if (schema_heap[i + 1])
			pcre2_code_free(schema_heap[i]); /* a compiled pattern */
		else
			free(schema_heap[i]);            /* a StrMap array */
	}
	free(schema_heap);
	schema_heap = NULL;
	schema_nheap = schema_capheap = 0;
}

static void schema_keep(void *p, bool is_re)
{
	if (!schema_atexit_set) {
		atexit(schema_release);
		schema_atexit_set = true;
	}
	if (schema_nheap + 2 > schema_capheap) {
		schema_capheap = schema_capheap ? schema_capheap * 2 : 64;
		schema_heap = xrealloc(schema_heap, sizeof *schema_heap * schema_capheap);
	}
	schema_heap[schema_nheap++] = p;
	schema_heap[schema_nheap++] = is_re ? (void *)1 : NULL;
}

static void *compile_re(const char *pattern)
{
	int err;
	PCRE2_SIZE off;
	pcre2_code *re = pcre2_compile((PCRE2_SPTR)pattern, PCRE2_ZERO_TERMINATED, PCRE2_UTF, &err, &off, NULL);
	if (!re)
		schema_bug("bad pattern", pattern);
	pcre2_jit_compile(re, PCRE2_JIT_COMPLETE); /* a failure only means no JIT */
	schema_keep(re, true);
	return re;
}

bool schema_match(void *re, const char *s, size_t n)
{
	pcre2_match_data *md = pcre2_match_data_create_from_pattern(re, NULL);
	if (!md)
		die_oom();
	int rc = pcre2_match(re, (PCRE2_SPTR)s, n, 0, 0, md, NULL);
	pcre2_match_data_free(md);
	return rc >= 0;
}

static const char *scalar_text(const Node *n)
{
	return n && n->kind == N_SCALAR ? n->text : NULL;
}

Type *schema_type(Schema *s, const char *name)
{
	return strmap_get(&s->types, name);
}

static Type *new_type(Schema *s, TypeKind k)
{
	Type *t = arena_alloc(s->arena, sizeof *t);
	t->kind = k;
	return t;
}

/* Parses a type expression: T, [T], {T}, {K: T}, A|B. */
static Type *parse_type_expr(Schema *s, const char *e);

static Type *resolve_named(Schema *s, const char *name)
{
	Type *t = schema_type(s, name);
	if (!t)
		schema_bug("unknown type", name);
	return t;
}

static Type *parse_type_expr(Schema *s, const char *e)
{
	Arena *a = s->arena;
	size_t n = strlen(e);
	/* top-level '|' splits a union */
	int depth = 0;
	for (size_t i = 0; i < n; i++) {
		depth += e[i] == '[' || e[i] == '{';
		depth -= e[i] == ']' || e[i] == '}';
		if (depth == 0 && e[i] == '|') {
			Type *u = new_type(s, T_UNION);
			const char *p = e;
			for (size_t j = 0; j <= n; j++) {
				int dd = 0;
				(void)dd;
				if (j == n || e[j] == '|') {
					if (u->nalts == (int)ARRAY_LEN(u->alts))
						schema_bug("too many alternatives", e);
					u->alts[u->nalts++] = parse_type_expr(s, arena_strndup(a, p, (size_t)(e + j - p)));
					p = e + j + 1;
				}
			}
			return u;
		}
	}
	if (n >= 2 && e[0] == '[' && e[n - 1] == ']') {
		Type *t = new_type(s, T_LIST);
		t->elem = parse_type_expr(s, arena_strndup(a, e + 1, n - 2));
		return t;
	}
	if (n >= 2 && e[0] == '{' && e[n - 1] == '}') {
		Type *t = new_type(s, T_MAP);
		const char *in = arena_strndup(a, e + 1, n - 2);
		size_t m = n - 2;
		int d = 0;
		for (size_t i = 0; i < m; i++) {
			d += in[i] == '[' || in[i] == '{';
			d -= in[i] == ']' || in[i] == '}';
			if (d == 0 && in[i] == ':') {
				t->key = parse_type_expr(s, arena_strndup(a, in, i));
				const char *v = in + i + 1;
				while (*v == ' ')
					v++;
				t->elem = parse_type_expr(s, v);
				return t;
			}
		}
		t->key = resolve_named(s, "name");
		t->elem = parse_type_expr(s, in);
		return t;
	}
	return resolve_named(s, e);
}

static double num_of(const Node *n, const char *what)
{
	double v;
	if (!n || n->kind != N_SCALAR || !scalar_number(n->text, &v))
		schema_bug("expected a number for", what);
	return v;
}

/* A field's type, with the field's own constraints applied to a copy. */
static Type *field_type(Schema *s, const Node *spec, const char *fname)
{
	const char *te = scalar_text(node_get(spec, "type"));
	if (!te)
		schema_bug("field without type", fname);
	Type *base = parse_type_expr(s, te);
	const Node *en = node_get(spec, "enum"), *mn = node_get(spec, "min"), *mx = node_get(spec, "max"),
		   *mi = node_get(spec, "min_items"), *pat = node_get(spec, "pattern"), *ml = node_get(spec, "max_len");
	if (!en && !mn && !mx && !mi && !pat && !ml)
		return base;
	Type *t = arena_alloc(s->arena, sizeof *t);
	*t = *base;
	if (base->kind == T_UNION) {
		/* range constraints go to the scalar alternatives, `min_items` to
		 * the lists and mappings */
		for (int i = 0; i < t->nalts; i++) {
			if (t->alts[i]->kind == T_OBJECT)
				continue;
			Type *c = arena_alloc(s->arena, sizeof *c);
			*c = *t->alts[i];
			bool many = c->kind == T_LIST || c->kind == T_MAP;
			if (mn && !many)
				c->has_min = true, c->min = num_of(mn, fname);
			if (mx && !many)
				c->has_max = true, c->max = num_of(mx, fname);
			if (mi && many)
				c->min_items = (int)num_of(mi, fname);
			t->alts[i] = c;
		}
		return t;
	}
	if (en) {
		t->nenums = en->n;
		t->enums = arena_alloc(s->arena, sizeof(char *) * (size_t)en->n);
		for (int i = 0; i < en->n; i++)
			t->enums[i] = en->items[i]->text;
	}
	if (mn)
		t->has_min = true, t->min = num_of(mn, fname);
	if (mx)
		t->has_max = true, t->max = num_of(mx, fname);
	if (mi)
		t->min_items = (int)num_of(mi, fname);
	if (ml)
		t->max_len = (int)num_of(ml, fname);
	if (pat)
		t->pattern = pat->text, t->re = compile_re(pat->text);
	return t;
}

/* A field from its spec in the schema file. */
static void load_field(Schema *s, Field *f, const char *name, const Node *spec)
{
	f->name = name;
	f->type = field_type(s, spec, name);
	const Node *r = node_get(spec, "required");
	f->required = r && strcmp(r->text, "true") == 0;
	f->doc = scalar_text(node_get(spec, "doc"));
	f->def = scalar_text(node_get(spec, "default"));
}

/* An object type: its `fields`, or `like: T` (T's fields, none required)
 * minus `without: [...]`, plus its own `fields`, which replace T's of the
 * same name. */
static void load_object(Schema *s, Type *t, const Node *def)
{
	const Node *like = node_get(def, "like");
	const Node *fields = node_get(def, "fields");
	if (fields && fields->kind != N_MAP)
		schema_bug("`fields` is not a mapping in", t->name);
	if (!like && !fields)
		schema_bug("type without fields", t->name);
	const Type *src = like ? resolve_named(s, like->text) : NULL;
	if (like && !src->nfields)
		schema_bug("`like` names a type defined later or empty", like->text);
	int cap = (src ? src->nfields : 0) + (fields ? fields->n : 0);
	t->fields = arena_alloc(s->arena, sizeof(Field) * (size_t)cap);
	const Node *without = node_get(def, "without");
	for (int i = 0; src && i < src->nfields; i++) {
		bool skip = false;
		for (int j = 0; without && j < without->n; j++)
			skip |= strcmp(without->items[j]->text, src->fields[i].name) == 0;
		if (!skip) {
			t->fields[t->nfields] = src->fields[i];
			t->fields[t->nfields].required = false;
			t->nfields++;
		}
	}
	for (int i = 0; fields && i < fields->n; i++) {
		const char *name = fields->pairs[i].key->text;
		int at = t->nfields;
		for (int j = 0; j < t->nfields; j++)
			if (strcmp(t->fields[j].name, name) == 0)
				at = j;
		load_field(s, &t->fields[at], name, fields->pairs[i].val);
		t->nfields += at == t->nfields;
	}
}

static Schema *load(Arena *a, const char *path)
{
	const char *why;
	schema_path = path;
	Node *root = src_load_embedded(a, path, NULL, &why);
	if (!root)
		schema_bug(why, path);

	Schema *s = arena_alloc(a, sizeof *s);
	s->arena = a;
	strmap_init(&s->types);
	static const TypeKind kinds[] = {T_STRING, T_NAME, T_INT, T_NUMBER, T_BOOL, T_QUANTITY,
					 T_DURATION, T_PERCENT, T_URL, T_DATE, T_ANY};
	for (size_t i = 0; i < ARRAY_LEN(builtin_names); i++) {
		Type *t = new_type(s, kinds[i]);
		t->name = builtin_names[i];
		strmap_put(&s->types, t->name, t);
	}
	const Node *scalars = node_get(root, "scalars");
	for (int i = 0; scalars && i < scalars->n; i++) {
		const Node *def = scalars->pairs[i].val;
		Type *t = arena_alloc(a, sizeof *t);
		*t = *resolve_named(s, node_get(def, "base")->text);
		t->name = scalars->pairs[i].key->text;
		t->what = scalar_text(node_get(def, "what"));
		const Node *hint = node_get(def, "hint");
		if (hint) {
			t->help = scalar_text(node_get(hint, "help"));
			t->help_re = compile_re(scalar_text(node_get(hint, "when")));
		}
		const Node *pat = node_get(def, "pattern"), *ml = node_get(def, "max_len"),
			   *json = node_get(def, "json");
		if (json && json->kind == N_SEQ) { /* what YAML may type a valid value as */
			const char **j = arena_alloc(a, sizeof(char *) * (size_t)(json->n + 1));
			for (int k = 0; k < json->n; k++)
				j[k] = json->items[k]->text;
			t->json = j, t->njson = json->n;
		}
		if (pat)
			t->pattern = pat->text, t->re = compile_re(pat->text);
		if (ml)
			t->max_len = (int)num_of(ml, t->name);
		strmap_put(&s->types, t->name, t);
	}
	/* two passes: declare every object type, then fill fields, so types
	 * may refer to each other in any order */
	const Node *types = node_get(root, "types");
	for (int i = 0; types && i < types->n; i++) {
		Type *t = new_type(s, T_OBJECT);
		t->name = types->pairs[i].key->text;
		t->doc = scalar_text(node_get(types->pairs[i].val, "doc"));
		strmap_put(&s->types, t->name, t);
	}
	for (int i = 0; types && i < types->n; i++)
		load_object(s, schema_type(s, types->pairs[i].key->text), types->pairs[i].val);
	s->root = resolve_named(s, node_get(root, "root")->text);
	const Node *inc = node_get(root, "include_root");
	s->include_root = inc ? resolve_named(s, inc->text) : NULL;
	s->empty = scalar_text(node_get(root, "empty"));

	const Node *creds = node_get(root, "credentials");
	s->ncreds = creds ? creds->n : 0;
	s->creds = arena_alloc(a, sizeof(Credential) * (size_t)(s->ncreds + 1));
	for (int i = 0; i < s->ncreds; i++) {
		s->creds[i].what = node_get(creds->items[i], "what")->text;
		s->creds[i].re = compile_re(node_get(creds->items[i], "pattern")->text);
	}
	schema_keep(s->types.keys, false);
	schema_keep(s->types.vals, false);
	return s;
}

Schema *schema_load(Arena *a)
{
	return load(a, "stdlib/schema.yaml");
}

Schema *schema_load_kind(Arena *a)
{
	return load(a, "stdlib/kind-schema.yaml");
}

/* ---- checking ---- */

const char *type_describe(const Type *t)
{
	switch (t->kind) {
	case T_STRING: return t->what ? t->what : "a string";
	case T_NAME: return "a name (lower-case letters, digits and `-`, starting with a letter, at most 63)";
	case T_INT: return "an integer";
	case T_NUMBER: return "a number";
	case T_BOOL: return "`true` or `false`";
	case T_QUANTITY: return "a quantity such as `250m`, `2`, `512Mi` or `1Gi`";
	case T_DURATION: return "a duration such as `300ms`, `5s`, `1m`, `2h` or `30d`";
	case T_PERCENT: return "a percentage between 0 and 100 (exclusive), such as `99.9`";
	case T_URL: return "an `https://` URL";
	case T_DATE: return "a date `YYYY-MM-DD`";
	case T_ANY: return "any value";
	case T_OBJECT: return "a mapping";
	case T_LIST: return "a list";
	case T_MAP: return "a mapping";
	case T_UNION: return "a value";
	}
	return "a value";
}

static const char *node_kind_name(const Node *n)
{
	if (n->kind == N_MAP)
		return "a mapping";
	if (n->kind == N_SEQ)
		return "a list";
	return n->is_null ? "nothing" : "a scalar";
}

static bool want_scalar(const Type *t)
{
	return t->kind != T_OBJECT && t->kind != T_LIST && t->kind != T_MAP && t->kind != T_ANY &&
	       t->kind != T_UNION;
}

typedef struct Outer {
	const Type *t;         /* an enclosing object type */
	const Node *key;       /* the key whose value holds the mapping being checked */
} Outer;

typedef struct Checker {
	Schema *s;
	Diags *d;
	int errors;
	const char *code;      /* every problem under this code (NULL: each its own) */
	const char *prefix;    /* ... its message after this */
	Outer outer[MAX_DEPTH + 2]; /* enclosing objects, innermost last */
	int nouter;
} Checker;

static void check_node(Checker *c, const Node *n, const Type *t, const char *field);

/* Counts and reports one problem, under the checker's code when it has one. */
static Diag *report(Checker *c, const char *code, Span at, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *msg = arena_vsprintf(c->d->arena, fmt, ap);
	va_end(ap);
	if (c->code)
		return diag_count_error(&c->errors, c->d, c->code, at, "%s%s", c->prefix, msg);
	return diag_count_error(&c->errors, c->d, code, at, "%s", msg);
}

static void check_range(Checker *c, const Node *n, const Type *t, double v, const char *field)
{
	/* the bound is formatted only for a message: formatting a double costs
	 * more than the rest of the check */
	char bound[32];
	if (t->has_min && v < t->min) {
		scalar_format_number(t->min, bound, sizeof bound);
		Diag *g = report(c, "E0115", n->span, "`%s` is %s; the minimum is %s", field,
					   n->text, bound);
		diag_label(g, "too small");
	} else if (t->has_max && v > t->max) {
		scalar_format_number(t->max, bound, sizeof bound);
		Diag *g = report(c, "E0115", n->span, "`%s` is %s; the maximum is %s", field,
					   n->text, bound);
		diag_label(g, "too large");
	}
}

/* One switch over the scalar types, each case its check and diagnostic.
 * one piece: the cases read side by side as the table of scalar checks, and
 * the constraints after it (enum, length, pattern) run only when no case
 * reported, so that a value gets one diagnostic. */
static void check_scalar(Checker *c, const Node *n, const Type *t, const char *field)
{
	const char *s = n->text;
	Diag *g = NULL;
	double v;
	long long iv;
	long double q;
	int y, m, dd;
	if (n->secret)
		return; /* reported by source.c (E0118); its text is never echoed */
	switch (t->kind) {
	case T_STRING:
		break;
	case T_NAME:
		if (n->textlen > MAX_NAME_LEN) {
			g = report(c, "E0107", n->span,
					     "name `%s` is %u characters; the limit is %d", s, n->textlen,
					     MAX_NAME_LEN);
			diag_label(g, "too long");
		} else if (!scalar_is_name(s, n->textlen)) {
			g = report(c, "E0107", n->span, "`%s` is not a valid name", s);
			diag_label(g, "invalid name");
			diag_help(g, "names use lower-case letters, digits and `-`, start with a letter and do "
				     "not end with `-` (they become Kubernetes names and file paths)");
		}
		break;
	case T_INT:
		if (!scalar_int(s, &iv) && scalar_number(s, &v) && !strchr(s, '.')) {
			g = report(c, "E0105", n->span, "`%s` is %s, too large for an integer",
					     field, s);
			diag_label(g, "integer out of range");
		} else if (!scalar_int(s, &iv)) {
			g = report(c, "E0105", n->span, "`%s` expects an integer, found `%s`",
					     field, s);
			diag_label(g, "not an integer");
		} else {
			check_range(c, n, t, (double)iv, field);
		}
		break;
	case T_NUMBER:
		if (!scalar_number(s, &v)) {
			g = report(c, "E0106", n->span, "`%s` expects a number, found `%s`",
					     field, s);
			diag_label(g, "not a decimal number");
		} else {
			check_range(c, n, t, v, field);
		}
		break;
	case T_PERCENT:
		if (!scalar_number(s, &v)) {
			g = report(c, "E0106", n->span,
					     "`%s` expects a percentage, found `%s`", field, s);
			diag_label(g, "not a number");
			diag_help(g, "write a percentage as a plain number, such as `99.9`");
		} else if (!(v > 0 && v < 100)) {
			g = report(c, "E0110", n->span,
					     "`%s` is %s; a percentage must be strictly between 0 and 100", field, s);
			diag_label(g, "out of range");
		}
		break;
	case T_BOOL: {
		bool b;
		if (!scalar_bool(s, &b)) {
			g = report(c, "E0104", n->span,
					     "`%s` expects `true` or `false`, found `%s`", field, s);
			diag_label(g, "not a boolean");
			if (!strcasecmp(s, "yes") || !strcasecmp(s, "no") || !strcasecmp(s, "on") ||
			    !strcasecmp(s, "off") || !strcasecmp(s, "y") || !strcasecmp(s, "n"))
				diag_help(g, "YAML 1.1 words like `%s` are not booleans here; write `%s`", s,
					  (!strcasecmp(s, "yes") || !strcasecmp(s, "on") || !strcasecmp(s, "y"))
						  ? "true" : "false");
		}
		break;
	}
	case T_QUANTITY:
		if (!scalar_quantity(s, &q)) {
			g = report(c, "E0108", n->span, "`%s` expects a quantity, found `%s`",
					     field, s);
			diag_label(g, "not a quantity");
			char sug[64];
			if (scalar_quantity_suggest(s, sug, sizeof sug))
				diag_help(g, "did you mean `%s`? (memory in `Ki`, `Mi`, `Gi`; cpu as `250m`, `0.5` or `2`)", sug);
			else
				diag_help(g, "write cpu as `250m`, `0.5` or `2` and memory as `512Mi` or `1Gi`");
		}
		break;
	case T_DURATION:
		if (!scalar_duration(s, &iv)) {
			g = report(c, "E0109", n->span, "`%s` expects a duration, found `%s`",
					     field, s);
			diag_label(g, "not a duration");
			char sug[64];
			if (scalar_duration_suggest(s, sug, sizeof sug))
				diag_help(g, "did you mean `%s`? (whole numbers with `ms`, `s`, `m`, `h`, `d`, largest first)", sug);
			else
				diag_help(g, "write a number and a unit: `300ms`, `5s`, `1m`, `2h`, `30d`");
		}
		break;
	case T_URL:
		if (!scalar_url(s)) {
			g = report(c, "E0111", n->span,
					     "`%s` expects an https:// URL, found `%s`", field, s);
			diag_label(g, "not an https URL");
		}
		break;
	case T_DATE:
		if (!scalar_date(s, &y, &m, &dd)) {
			g = report(c, "E0112", n->span,
					     "`%s` expects a date YYYY-MM-DD, found `%s`", field, s);
			diag_label(g, "not a valid date");
		}
		break;
	default:
		break;
	}
	if (g)
		return;
	if (t->nenums) {
		bool ok = false;
		for (int i = 0; i < t->nenums && !ok; i++)
			ok = strcmp(t->enums[i], s) == 0;
		if (!ok) {
			g = report(c, "E0113", n->span,
					     "`%s` must be one of the allowed values; found `%s`", field, s);
			diag_label(g, "not allowed here");
			const char *sug = did_you_mean(s, t->enums, t->nenums);
			StrBuf b;
			sb_init(&b);
			for (int i = 0; i < t->nenums; i++)
				sb_printf(&b, "%s`%s`", i ? ", " : "", t->enums[i]);
			if (sug)
				diag_help(g, "did you mean `%s`? (allowed: %s)", sug, b.data);
			else
				diag_help(g, "allowed: %s", b.data);
			sb_free(&b);
		}
	}
	if (!g && t->max_len && n->textlen > (size_t)t->max_len) {
		g = report(c, "E0114", n->span, "`%s` is longer than %d characters", field,
				     t->max_len);
		diag_label(g, "too long");
		if (t->what)
			diag_help(g, "write %s", t->what);
	}
	if (!g && t->re && !schema_match(t->re, s, n->textlen)) {
		g = report(c, "E0114", n->span, "`%s` is not %s", s,
				     t->what ? t->what : "in the expected form");
		diag_label(g, "invalid `%s`", field);
		if (t->help && (!t->help_re || schema_match(t->help_re, s, n->textlen)))
			diag_help(g, "%s", t->help);
		else if (t->what)
			diag_help(g, "write %s", t->what);
	}
}

/* "`a`, `b`, `c`" for a help line: at most 8 names, then "and N more". */
static char *schema_name_list(const char *const *names, int n)
{
	StrBuf b;
	sb_init(&b);
	int shown = n <= 9 ? n : 8;
	for (int j = 0; j < shown; j++)
		sb_printf(&b, "%s`%s`", j ? ", " : "", names[j]);
	if (shown < n)
		sb_printf(&b, " and %d more", n - shown);
	return sb_detach(&b);
}

static const Field *object_field(const Type *t, const char *name)
{
	for (int j = 0; t && t->kind == T_OBJECT && j < t->nfields; j++)
		if (strcmp(t->fields[j].name, name) == 0)
			return &t->fields[j];
	return NULL;
}

const char *schema_default(Schema *s, const char *type, const char *field)
{
	const Field *f = object_field(schema_type(s, type), field);
	if (!f || !f->def)
		schema_bug("no default for", field);
	return f->def;
}

/* The object type a field's value has, through `A|B` (NULL: not an object). */
static const Type *object_of(const Type *t)
{
	if (t->kind == T_OBJECT)
		return t;
	for (int i = 0; t->kind == T_UNION && i < t->nalts; i++)
		if (t->alts[i]->kind == T_OBJECT)
			return t->alts[i];
	return NULL;
}

/* An unknown key that is a field one level down (of a sibling's mapping) or
 * one level up (of the object around this one): its indentation moved it.
 * Returns true when a help line was set. */
static bool hint_level(Checker *c, Diag *g, const Node *n, const Type *t, int at)
{
	const char *key = n->pairs[at].key->text;
	/* down: the nearest key before it whose value is an object with this
	 * field (a few keys back: a mapping of 20,000 unknown keys stays linear) */
	for (int i = at - 1; i >= 0 && i >= at - 8; i--) {
		const Node *sib = n->pairs[i].key;
		const Field *f = object_field(t, sib->text);
		const Type *ot = f ? object_of(f->type) : NULL;
		if (ot && object_field(ot, key)) {
			diag_help(g, "`%s` is a field of %s, the value of `%s` (line %d): indent it under `%s`", key,
				  ot->name ? ot->name : "the mapping", sib->text, sib->span.line, sib->text);
			return true;
		}
	}
	/* up: the objects around this mapping, nearest first */
	for (int k = c->nouter - 1; k >= 0 && k >= c->nouter - 2; k--) {
		const Outer *o = &c->outer[k];
		if (object_field(o->t, key) && o->key) {
			diag_help(g, "`%s` is a field of the %s around it: dedent it to line up with `%s` (line %d)", key,
				  o->t->name ? o->t->name : "mapping", o->key->text, o->key->span.line);
			return true;
		}
	}
	return false;
}

/* The fields of an object type by first byte, for the types with many. */
#define FIELD_INDEX_MIN 8
#define FIELD_INDEX_MAX 250
typedef struct FieldIndex {
	uint8_t head[128]; /* first field starting with that byte, else 0xFF */
	uint8_t next[FIELD_INDEX_MAX];
} FieldIndex;

static void field_index(FieldIndex *x, const Type *t)
{
	memset(x->head, 0xFF, sizeof x->head);
	for (int j = t->nfields - 1; j >= 0; j--) {
		unsigned char c = (unsigned char)t->fields[j].name[0] & 0x7F;
		x->next[j] = x->head[c];
		x->head[c] = (uint8_t)j;
	}
}

static int field_find(const Type *t, const FieldIndex *x, const char *key)
{
	if (!x) {
		for (int j = 0; j < t->nfields; j++)
			if (t->fields[j].name[0] == key[0] && strcmp(t->fields[j].name, key) == 0)
				return j;
		return -1;
	}
	if ((unsigned char)key[0] >= 0x80)
		return -1; /* field names are ASCII */
	for (int j = x->head[(unsigned char)key[0]]; j != 0xFF; j = x->next[j])
		if (strcmp(t->fields[j].name, key) == 0)
			return j;
	return -1;
}

static void check_object(Checker *c, const Node *n, const Type *t)
{
	FieldIndex xb, *x = NULL;
	if (t->nfields >= FIELD_INDEX_MIN && t->nfields <= FIELD_INDEX_MAX)
		field_index(x = &xb, t);
	/* the fields given, for the required ones: a bit per field (the
	 * first 64), node_get past those */
	uint64_t given = 0;
	for (int i = 0; i < n->n; i++) {
		const Node *k = n->pairs[i].key, *v = n->pairs[i].val;
		int j = k->kind == N_SCALAR ? field_find(t, x, k->text) : -1;
		if (j >= 0 && j < 64)
			given |= (uint64_t)1 << j;
		if (k->secret)
			continue; /* reported by source.c (E0118) */
		if (j < 0) {
			const char *names[64];
			int nn = t->nfields < 64 ? t->nfields : 64;
			for (int f = 0; f < nn; f++)
				names[f] = t->fields[f].name;
			Diag *g = report(c, "E0101", k->span, "unknown key `%s`", k->text);
			const char *sug = did_you_mean(k->text, names, nn);
			diag_label(g, "not a field of %s", t->name ? t->name : "this mapping");
			if (hint_level(c, g, n, t, i)) {
				/* the indentation moved it */
			} else if (sug) {
				diag_help(g, "did you mean `%s`?", sug);
			} else {
				char *list = schema_name_list(names, nn);
				diag_help(g, "valid keys: %s", list);
				free(list);
			}
			continue;
		}
		const Field *f = &t->fields[j];
		bool in = c->nouter < (int)ARRAY_LEN(c->outer);
		if (in)
			c->outer[c->nouter++] = (Outer){t, k};
		check_node(c, v, f->type, f->name);
		c->nouter -= in;
	}
	for (int j = 0; j < t->nfields; j++) {
		if (!t->fields[j].required || (j < 64 ? (given >> j) & 1 : node_get(n, t->fields[j].name) != NULL))
			continue;
		Diag *g = report(c, "E0102", n->span, "missing required key `%s`",
					   t->fields[j].name);
		diag_label(g, "this %s needs `%s`", t->name ? t->name : "mapping", t->fields[j].name);
		if (t->fields[j].type->kind != T_OBJECT && t->fields[j].type->kind != T_LIST)
			diag_help(g, "`%s` is %s", t->fields[j].name, type_describe(t->fields[j].type));
	}
}

static void check_node(Checker *c, const Node *n, const Type *t, const char *field)
{
	if (t->kind == T_ANY)
		return; /* free-form (resource params); credentials are found by source.c */
	if (n->kind == N_SCALAR && n->secret)
		return;
	if (t->kind == T_UNION) {
		for (int i = 0; i < t->nalts; i++) {
			const Type *a = t->alts[i];
			bool fits = (n->kind == N_SCALAR && !n->is_null && want_scalar(a)) ||
				    (n->kind == N_MAP && (a->kind == T_OBJECT || a->kind == T_MAP)) ||
				    (n->kind == N_SEQ && a->kind == T_LIST);
			if (fits) {
				check_node(c, n, a, field);
				return;
			}
		}
		Diag *g = report(c, "E0103", n->span, "`%s` expects %s or %s, found %s", field,
					   type_describe(t->alts[0]), type_describe(t->alts[1]), node_kind_name(n));
		diag_label(g, "wrong kind of value");
		return;
	}
	if (n->kind == N_SCALAR && n->is_null) {
		Diag *g = report(c, "E0117", n->span, "`%s` has no value", field);
		diag_label(g, "expected %s", type_describe(t));
		diag_help(g, "give it a value or remove the key");
		return;
	}
	bool scalar = want_scalar(t);
	if ((scalar && n->kind != N_SCALAR) || (!scalar && t->kind == T_LIST && n->kind != N_SEQ) ||
	    (!scalar && (t->kind == T_OBJECT || t->kind == T_MAP) && n->kind != N_MAP)) {
		Diag *g = report(c, "E0103", n->span, "`%s` expects %s, found %s", field,
					   type_describe(t), node_kind_name(n));
		diag_label(g, "wrong kind of value");
		if (t->kind == T_LIST && n->kind == N_SCALAR)
			diag_help(g, "write a list: `%s: [%s]`", field, n->text);
		return;
	}
	switch (t->kind) {
	case T_OBJECT:
		check_object(c, n, t);
		break;
	case T_LIST:
		if (n->n < t->min_items) {
			Diag *g = report(c, "E0116", n->span, "`%s` needs at least %d entr%s",
						   field, t->min_items, t->min_items == 1 ? "y" : "ies");
			diag_label(g, "empty");
		}
		for (int i = 0; i < n->n; i++) {
			const Node *item = n->items[i];
			if (item->kind == N_SCALAR && item->is_null && t->elem->kind != T_ANY) {
				Diag *g = report(c, "E0117", item->span,
							   "an entry of `%s` has no value", field);
				diag_label(g, "expected %s", type_describe(t->elem));
				diag_help(g, "give it a value or remove the entry");
				continue;
			}
			check_node(c, item, t->elem, field);
		}
		break;
	case T_MAP:
		if (n->n < t->min_items) {
			Diag *g = report(c, "E0116", n->span, "`%s` needs at least %d entr%s", field, t->min_items,
					 t->min_items == 1 ? "y" : "ies");
			diag_label(g, "empty");
		}
		for (int i = 0; i < n->n; i++) {
			check_node(c, n->pairs[i].key, t->key, field);
			check_node(c, n->pairs[i].val, t->elem, n->pairs[i].key->text);
		}
		break;
	default:
		check_scalar(c, n, t, field);
	}
}

int schema_check_as(Schema *s, const Node *n, const Type *t, Diags *d, const char *code, const char *prefix)
{
	Checker c = {.s = s, .d = d, .code = code, .prefix = prefix ? prefix : ""};
	const char *path = n->span.file ? n->span.file->path : "platform.yaml";
	if (n->kind == N_MAP && n->is_null && t == s->root) {
		/* an empty root file: one error, not one per required key */
		Diag *g = report(&c, "E0102", n->span, "`%s` is empty", path);
		if (s->empty)
			diag_help(g, "%s", s->empty);
		return c.errors;
	}
	check_node(&c, n, t, path);
	return c.errors;
}

int schema_check(Schema *s, const Node *n, const Type *t, Diags *d)
{
	return schema_check_as(s, n, t, d, NULL, NULL);
}

/* ---- JSON Schema patterns of the built-in scalar types ---- */

const char *schema_type_pattern(TypeKind k)
{
	static const char *const patterns[] = {
		[T_NAME] = "^[a-z]([-a-z0-9]*[a-z0-9])?$",
		[T_QUANTITY] = "^[0-9]+(\\.[0-9]+)?(m|k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei)?$",
		[T_DURATION] = "^([0-9]+(ms|s|m|h|d))+$",
		[T_URL] = "^https://",
		[T_DATE] = "^[0-9]{4}-[0-9]{2}-[0-9]{2}$",
	};
	return (size_t)k < ARRAY_LEN(patterns) ? patterns[k] : NULL;
}
