/*
 * catalog_doc.c — a resource kind's reference, for people and for editors,
 * from the kind as the checker loads it (catalog/<kind>/kind.yaml):
 *   - `platformc explain NAME`: the long explanation of a diagnostic code
 *     (stdlib/diagnostics.json) or a built-in kind's parameters — type,
 *     default (per tier), allowed values, description — and rules;
 *     `explain --markdown` writes the same for every built-in kind as the
 *     generated section of docs/catalog.md (a test compares the two);
 *   - catalog_doc_params_json: a kind's `params` as JSON Schema, which
 *     `platformc schema` puts behind `if kind == ...` for editors.
 */
#include "platformc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------ facts */

/* What the reference says about one parameter: the same facts for the
 * terminal and for Markdown. */
typedef struct Facts {
	const char *path;      /* `dlq.max_receive`, `subscriptions[].protocol` */
	const char *type;      /* `int`, `list of object`, `string` */
	const char *values;    /* enum, range, step, pattern, ref ("" when none) */
	const char *def;       /* "" when none */
	const char *doc;       /* title and description */
	bool required;
} Facts;

static void flow(StrBuf *b, const Node *n)
{
	if (!n) {
		return;
	} else if (n->kind == N_SCALAR) {
		sb_puts(b, n->is_null ? "null" : n->text);
	} else if (n->kind == N_SEQ) {
		sb_putc(b, '[');
		for (int i = 0; i < n->n; i++)
			sb_puts(b, i ? ", " : ""), flow(b, n->items[i]);
		sb_putc(b, ']');
	} else {
		sb_putc(b, '{');
		for (int i = 0; i < n->n; i++) {
			sb_puts(b, i ? ", " : "");
			flow(b, n->pairs[i].key);
			sb_puts(b, ": ");
			flow(b, n->pairs[i].val);
		}
		sb_putc(b, '}');
	}
}

static const char *flow_text(Arena *a, const Node *n)
{
	StrBuf b;
	sb_init(&b);
	flow(&b, n);
	sb_putc(&b, 0);
	const char *s = arena_strdup(a, b.data);
	sb_free(&b);
	return s;
}

static const char *src_text(const Param *p, const char *key)
{
	const Node *n = node_get(p->node, key);
	return n && n->kind == N_SCALAR ? n->text : NULL;
}

static const char *type_text(Arena *a, const Param *p)
{
	const char *t = src_text(p, "type");
	if (p->type == T_LIST && p->item)
		return arena_sprintf(a, "list of %s", type_text(a, p->item));
	return t ? t : "?";
}

static void values_text(Arena *a, const Param *p, StrBuf *b)
{
	if (p->nenums) {
		sb_puts(b, "one of ");
		for (int i = 0; i < p->nenums; i++)
			sb_printf(b, "%s`%s`", i ? ", " : "", p->enums[i]);
	}
	const char *mn = src_text(p, "min"), *mx = src_text(p, "max"), *st = src_text(p, "step");
	if (mn || mx) {
		sb_puts(b, b->len ? "; " : "");
		if (mn && mx)
			sb_printf(b, "%s to %s", mn, mx);
		else if (mn)
			sb_printf(b, "at least %s", mn);
		else
			sb_printf(b, "at most %s", mx);
	}
	if (st)
		sb_printf(b, "%sin steps of %s", b->len ? ", " : "", st);
	if (p->pattern)
		sb_printf(b, "%smatches `%s`", b->len ? "; " : "", p->pattern);
	const Node *ref = node_get(p->node, "ref");
	if (ref) {
		const Node *kind = node_get(ref, "kind"), *match = node_get(ref, "match"), *req = node_get(ref, "require");
		sb_printf(b, "%sthe name of a resource of kind `%s`", b->len ? "; " : "",
			  kind && kind->kind == N_SCALAR ? kind->text : "?");
		int said = 0;
		for (int i = 0; match && match->kind == N_MAP && i < match->n; i++) {
			const char *mine = match->pairs[i].key->text, *its = match->pairs[i].val->text;
			if (!strcmp(mine, its))
				sb_printf(b, "%sthe same `%s`", said++ ? ", " : " with ", mine);
			else
				sb_printf(b, "%sits `%s` equal to this `%s`", said++ ? ", " : " with ", its, mine);
		}
		for (int i = 0; req && req->kind == N_MAP && i < req->n; i++)
			sb_printf(b, "%s`%s: %s`", said++ ? ", " : " with ", req->pairs[i].key->text,
				  flow_text(a, req->pairs[i].val));
	}
	(void)a;
}

static const char *default_text(Arena *a, const Param *p)
{
	const char *np = p->has_def ? flow_text(a, p->def) : NULL;
	const char *pr = p->has_def_prod ? flow_text(a, p->def_prod) : NULL;
	const char *s = "";
	if (np && pr && (p->def == p->def_prod || !strcmp(np, pr)))
		s = arena_sprintf(a, "`%s`", np);
	else if (np && pr)
		s = arena_sprintf(a, "`%s`, prod: `%s`", np, pr);
	else if (pr)
		s = arena_sprintf(a, "prod: `%s`", pr);
	else if (np)
		s = arena_sprintf(a, "nonprod: `%s`", np);
	if (*s && p->when_src)
		s = arena_sprintf(a, "%s when `%s`", s, p->when_src);
	return s;
}

static void gather_facts(Arena *a, const Param *obj, const char *prefix, Facts **out, int *n, int *cap)
{
	for (int i = 0; i < obj->nfields; i++) {
		const Param *p = &obj->fields[i];
		if (*n == *cap) {
			*cap = *cap ? *cap * 2 : 16;
			*out = xrealloc(*out, sizeof **out * (size_t)*cap);
		}
		Facts *f = &(*out)[(*n)++];
		f->path = *prefix ? arena_sprintf(a, "%s.%s", prefix, p->name) : p->name;
		f->type = type_text(a, p);
		f->required = p->required;
		f->def = default_text(a, p);
		StrBuf b;
		sb_init(&b);
		values_text(a, p, &b);
		if (p->type == T_LIST && p->item && p->item->type != T_OBJECT)
			values_text(a, p->item, &b);
		sb_putc(&b, 0);
		f->values = arena_strdup(a, b.data);
		sb_free(&b);
		const char *title = p->title, *desc = p->description;
		if (title && desc && strstr(desc, title) != desc)
			f->doc = arena_sprintf(a, "%s. %s", title, desc);
		else
			f->doc = desc ? desc : title ? title : "";
		if (p->type == T_OBJECT)
			gather_facts(a, p, f->path, out, n, cap);
		else if (p->type == T_LIST && p->item && p->item->type == T_OBJECT)
			gather_facts(a, p->item, arena_sprintf(a, "%s[]", f->path), out, n, cap);
	}
}

/* The rules of an object and of the objects inside it, with their scope. */
typedef void (*RuleFn)(void *ctx, const char *scope, const KConstraint *c);

static void each_rule(Arena *a, const Param *obj, const char *scope, RuleFn fn, void *ctx)
{
	for (int i = 0; i < obj->ncons; i++)
		fn(ctx, scope, &obj->cons[i]);
	for (int i = 0; i < obj->nfields; i++) {
		const Param *p = &obj->fields[i];
		const char *path = *scope ? arena_sprintf(a, "%s.%s", scope, p->name) : p->name;
		if (p->type == T_OBJECT)
			each_rule(a, p, path, fn, ctx);
		else if (p->type == T_LIST && p->item && p->item->type == T_OBJECT)
			each_rule(a, p->item, arena_sprintf(a, "%s[]", path), fn, ctx);
	}
}

/* `heading` and the kind's rules, each by `fn`; nothing when it has none. */
static void rules_section(Arena *a, const Kind *k, StrBuf *b, const char *heading, RuleFn fn)
{
	size_t mark = b->len;
	sb_puts(b, heading);
	size_t head = b->len;
	each_rule(a, &k->params, "", fn, b);
	if (b->len == head)
		b->len = mark;
}

/* ------------------------------------------------------------ text */

static void text_rule(void *ctx, const char *scope, const KConstraint *c)
{
	StrBuf *b = ctx;
	sb_printf(b, "  %s%s%s%s\n      %s\n", *scope ? "in each " : "", scope, *scope ? ": " : "", c->src, c->message);
}

static void explain_kind_text(Arena *a, const Kind *k, StrBuf *b)
{
	sb_printf(b, "%s: %s (%s)\n", k->name, k->title ? k->title : k->name, k->type ? k->type : "resource");
	if (k->description)
		sb_printf(b, "%s.\n", k->description);
	if (k->internal)
		sb_puts(b, "Internal: platformc makes these claims for another kind; platform.yaml cannot name it.\n");
	sb_printf(b, "\nParameters (a resource's `params`, `overrides.<env>.params`, `defaults.resources.%s`):\n",
		  k->name);
	Facts *f = NULL;
	int n = 0, cap = 0;
	gather_facts(a, &k->params, "", &f, &n, &cap);
	for (int i = 0; i < n; i++) {
		sb_printf(b, "\n  %s: %s%s", f[i].path, f[i].type, f[i].required ? ", required" : "");
		if (*f[i].def)
			sb_printf(b, "; default %s", f[i].def);
		sb_putc(b, '\n');
		if (*f[i].values)
			sb_printf(b, "      %s\n", f[i].values);
		if (*f[i].doc)
			sb_printf(b, "      %s\n", f[i].doc);
	}
	if (!n)
		sb_puts(b, "  (none)\n");
	free(f);
	rules_section(a, k, b, "\nRules, checked in every environment with its values (E0303):\n", text_rule);
	sb_puts(b, "\nValues apply in this order: the kind's defaults (for the environment's tier), "
		   "defaults.resources, params, overrides.<env>.params. Format: docs/catalog.md.\n");
}

/* ------------------------------------------------------------ markdown */

static void md_cell(StrBuf *b, const char *s)
{
	for (; *s; s++) {
		if (*s == '|')
			sb_putc(b, '\\');
		sb_putc(b, *s == '\n' ? ' ' : *s);
	}
}

static void md_rule(void *ctx, const char *scope, const KConstraint *c)
{
	StrBuf *b = ctx;
	sb_printf(b, "- %s%s%s`%s` — %s\n", *scope ? "each `" : "", scope, *scope ? "`: " : "", c->src, c->message);
}

static void explain_kind_markdown(Arena *a, const Kind *k, StrBuf *b)
{
	sb_printf(b, "### `%s` — %s\n\n", k->name, k->title ? k->title : k->name);
	if (k->description)
		sb_printf(b, "%s. ", k->description);
	sb_printf(b, "Backstage type `%s`, port %d, claim `%s`.", k->type ? k->type : "resource", k->port,
		  k->claim_kind ? k->claim_kind : k->name);
	if (k->internal)
		sb_puts(b, " Internal: only platformc makes claims of this kind (another kind's `claims`); "
			   "platform.yaml cannot name it.");
	sb_puts(b, "\n\n");
	Facts *f = NULL;
	int n = 0, cap = 0;
	gather_facts(a, &k->params, "", &f, &n, &cap);
	if (n) {
		sb_puts(b, "| parameter | type | default | values | description |\n|---|---|---|---|---|\n");
		for (int i = 0; i < n; i++) {
			sb_printf(b, "| `%s` | %s%s | ", f[i].path, f[i].type, f[i].required ? ", **required**" : "");
			md_cell(b, f[i].def);
			sb_puts(b, " | ");
			md_cell(b, f[i].values);
			sb_puts(b, " | ");
			md_cell(b, f[i].doc);
			sb_puts(b, " |\n");
		}
	} else {
		sb_puts(b, "No parameters.\n");
	}
	free(f);
	rules_section(a, k, b, "\nRules (E0303):\n\n", md_rule);
	sb_puts(b, "\n");
}

/* `explain --markdown`: every built-in kind, internal ones last. */
static void explain_markdown(Arena *a, const Catalog *c, StrBuf *b)
{
	sb_puts(b, "<!-- generated by `platformc explain --markdown` from catalog/<kind>/kind.yaml; "
		   "do not edit between the markers -->\n\n");
	for (int i = 0; i < c->n; i++)
		explain_kind_markdown(a, c->kinds[i], b);
	for (int i = 0; i < c->ninternal; i++)
		explain_kind_markdown(a, c->internal[i], b);
}

/* ------------------------------------------------------------ JSON Schema */

/* A default (or any value node) as JSON, typed by the parameter; on one line. */
static DNode *json_value(Arena *a, const Param *p, const Node *n)
{
	if (n->kind == N_SEQ) {
		DNode *s = json_inline(doc_seq(a));
		for (int i = 0; i < n->n; i++)
			doc_push(a, s, json_value(a, p && p->item ? p->item : NULL, n->items[i]));
		return s;
	}
	if (n->kind == N_MAP) {
		DNode *m = json_inline(doc_map(a));
		for (int i = 0; i < n->n; i++) {
			const Param *f = NULL;
			for (int k = 0; p && k < p->nfields && !f; k++)
				if (!strcmp(p->fields[k].name, n->pairs[i].key->text))
					f = &p->fields[k];
			doc_append(a, m, n->pairs[i].key->text, json_value(a, f, n->pairs[i].val));
		}
		return m;
	}
	if (p && (p->type == T_INT || p->type == T_NUMBER || p->type == T_PERCENT))
		return doc_num(a, strtod(n->text, NULL));
	if (p && p->type == T_BOOL)
		return doc_bool(a, !strcmp(n->text, "true"));
	return doc_str(a, n->text);
}

/* JavaScript and Python read a pattern like PCRE2 unless it uses what only
 * PCRE2 has; such a pattern is left to `platformc check`. */
static bool portable_pattern(const char *re)
{
	static const char *const pcre_only[] = {"(?i", "(?x", "(?s", "(?m", "(?|", "(?>", "\\A", "\\Z", "\\z",
						"\\G", "\\K", "\\Q", "++", "*+", "?+", "}+", "[[:"};
	return !str_has_any(re, pcre_only, ARRAY_LEN(pcre_only));
}

static const char *anchored(Arena *a, const char *re)
{
	size_t n = strlen(re);
	if (n >= 2 && re[0] == '^' && re[n - 1] == '$' && re[n - 2] != '\\' && !strchr(re, '|'))
		return re;
	return arena_sprintf(a, "^(?:%s)$", re);
}

static DNode *json_param(Arena *a, const Param *p, int ind);

/* The properties of an object parameter (or of the kind's params), into the
 * one-line map `m`; they take a line each, at `ind` + 1. */
static void json_object(Arena *a, DNode *m, const Param *obj, int ind)
{
	doc_append(a, m, "type", doc_str(a, "object"));
	doc_append(a, m, "additionalProperties", doc_bool(a, false));
	DNode *props = doc_append(a, m, "properties", json_depth(doc_map(a), ind));
	for (int i = 0; i < obj->nfields; i++)
		doc_append(a, props, obj->fields[i].name, json_param(a, &obj->fields[i], ind + 1));
}

static DNode *json_param(Arena *a, const Param *p, int ind)
{
	DNode *m = json_inline(doc_map(a));
	if (p->title)
		doc_append(a, m, "title", doc_str(a, p->title));
	/* the description: the kind's text, then what JSON Schema cannot say */
	StrBuf d;
	sb_init(&d);
	if (p->description)
		sb_puts(&d, p->description), sb_puts(&d, ".");
	if (p->required)
		sb_puts(&d, d.len ? " " : ""), sb_puts(&d, "Required (in params, defaults.resources or the overrides).");
	bool one_default = p->has_def && p->has_def_prod &&
			   (p->def == p->def_prod || !strcmp(flow_text(a, p->def), flow_text(a, p->def_prod)));
	if (!one_default && (p->has_def || p->has_def_prod)) {
		sb_puts(&d, d.len ? " " : "");
		if (p->has_def && p->has_def_prod)
			sb_printf(&d, "Default: %s, and %s in prod environments.", flow_text(a, p->def),
				  flow_text(a, p->def_prod));
		else if (p->has_def_prod)
			sb_printf(&d, "Default in prod environments: %s.", flow_text(a, p->def_prod));
		else
			sb_printf(&d, "Default outside prod environments: %s.", flow_text(a, p->def));
	}
	if (p->when_src && (p->has_def || p->has_def_prod))
		sb_printf(&d, "%sThe default applies when %s.", d.len ? " " : "", p->when_src);
	const char *mn = src_text(p, "min"), *mx = src_text(p, "max"), *st = src_text(p, "step");
	bool numeric = p->type == T_INT || p->type == T_NUMBER || p->type == T_PERCENT;
	if (!numeric && (mn || mx))
		sb_printf(&d, "%s%s%s%s%s%s.", d.len ? " " : "", mn ? "At least " : "", mn ? mn : "",
			  mn && mx ? ", at most " : "", !mn && mx ? "At most " : "", mx ? mx : "");
	bool multiple = numeric && p->has_step && (!p->has_min || (double)(long long)(p->min / p->step) * p->step == p->min);
	if (st && !multiple)
		sb_printf(&d, "%sIn steps of %s from the minimum.", d.len ? " " : "", st);
	if (p->pattern && !portable_pattern(p->pattern))
		sb_printf(&d, "%sMatches %s (checked by platformc check).", d.len ? " " : "", p->pattern);
	if (node_get(p->node, "ref")) {
		StrBuf r;
		sb_init(&r);
		values_text(a, p, &r);
		sb_putc(&r, 0);
		const char *refs = strstr(r.data, "the name of a resource");
		if (refs)
			sb_printf(&d, "%sThe name of a resource%s.", d.len ? " " : "", refs + strlen("the name of a resource"));
		sb_free(&r);
	}
	/* the type */
	const char *type = "string";
	switch (p->type) {
	case T_OBJECT:
		json_object(a, m, p, ind);
		type = NULL;
		break;
	case T_LIST:
		doc_append(a, m, "type", doc_str(a, "array"));
		doc_append(a, m, "items", json_param(a, p->item, ind + 1));
		type = NULL;
		break;
	case T_INT: type = "integer"; break;
	case T_NUMBER: case T_PERCENT: type = "number"; break;
	case T_BOOL: type = "boolean"; break;
	case T_STRING:
		/* platformc reads the scalar's text: `version: 16` is the string "16" */
		type = p->nenums ? "string" : NULL;
		break;
	case T_QUANTITY: type = NULL; break;
	default: break;
	}
	if (type) {
		doc_append(a, m, "type", doc_str(a, type));
	} else if (p->type == T_STRING || p->type == T_QUANTITY) {
		DNode *both = doc_append(a, m, "type", json_inline(doc_seq(a)));
		doc_push_str(a, both, "string");
		doc_push_str(a, both, "number");
	}
	if (p->type == T_PERCENT) {
		doc_append(a, m, "exclusiveMinimum", doc_int(a, 0));
		doc_append(a, m, "exclusiveMaximum", doc_int(a, 100));
	}
	if (schema_type_pattern(p->type))
		doc_append(a, m, "pattern", doc_str(a, schema_type_pattern(p->type)));
	else if (p->pattern && portable_pattern(p->pattern))
		doc_append(a, m, "pattern", doc_str(a, anchored(a, p->pattern)));
	if (p->type == T_NAME)
		doc_append(a, m, "maxLength", doc_int(a, 63));
	if (p->nenums) {
		DNode *e = doc_append(a, m, "enum", json_inline(doc_seq(a)));
		for (int i = 0; i < p->nenums; i++)
			doc_push_str(a, e, p->enums[i]);
	}
	if (numeric && p->has_min)
		doc_append(a, m, "minimum", doc_num(a, p->min));
	if (numeric && p->has_max)
		doc_append(a, m, "maximum", doc_num(a, p->max));
	if (multiple)
		doc_append(a, m, "multipleOf", doc_num(a, p->step));
	if (one_default)
		doc_append(a, m, "default", json_value(a, p, p->def));
	if (d.len)
		sb_putc(&d, 0), doc_append(a, m, "description", doc_str(a, d.data));
	sb_free(&d);
	return m;
}

DNode *catalog_doc_params_json(Arena *a, const Kind *k, int ind)
{
	DNode *m = json_inline(doc_map(a));
	json_object(a, m, &k->params, ind);
	doc_append(a, m, "description",
		   doc_strf(a, "The params of a resource of kind `%s` (%s): `platformc explain %s`.", k->name,
			    k->title ? k->title : k->name, k->name));
	return m;
}

/* ------------------------------------------------------------ the verb */

int cmd_explain(const char *name, bool markdown)
{
	Arena *a = arena_new();
	const Catalog *c = catalog_load_builtin(a);
	if (!c) {
		arena_free(a);
		return EXIT_USAGE;
	}
	int rc = EXIT_OK;
	if (!name && markdown) {
		StrBuf b;
		sb_init(&b);
		explain_markdown(a, c, &b);
		fwrite(b.data, 1, b.len, stdout);
		sb_free(&b);
		arena_free(a);
		return EXIT_OK;
	}
	if (!name) {
		fputs("platformc: `explain` needs a diagnostic code or a resource kind, e.g. "
		      "`platformc explain E0201` or `platformc explain sqs`\nrun `platformc --help` for usage\n",
		      stderr);
		arena_free(a);
		return EXIT_USAGE;
	}
	char low[64], up[64];
	size_t n = strlen(name);
	if (n >= sizeof up)
		n = sizeof up - 1;
	for (size_t i = 0; i < n; i++) {
		char ch = name[i];
		up[i] = (ch >= 'a' && ch <= 'z') ? (char)(ch - 32) : ch;
		low[i] = (ch >= 'A' && ch <= 'Z') ? (char)(ch + 32) : ch;
	}
	up[n] = low[n] = 0;
	const Kind *k = catalog_kind_any(c, low);
	const DiagCode *code = k ? NULL : diag_code_lookup(up);
	if (k && markdown) {
		StrBuf b;
		sb_init(&b);
		explain_kind_markdown(a, k, &b);
		fwrite(b.data, 1, b.len, stdout);
		sb_free(&b);
	} else if (k) {
		StrBuf b;
		sb_init(&b);
		explain_kind_text(a, k, &b);
		fwrite(b.data, 1, b.len, stdout);
		sb_free(&b);
	} else if (code && !markdown) {
		printf("%s: %s\n\n%s\n", code->code, code->title, code->explain);
	} else if (code) {
		fprintf(stderr, "platformc: `--markdown` explains resource kinds, not diagnostic codes\n");
		rc = EXIT_USAGE;
	} else {
		/* did you mean: the kinds and the codes */
		int nc = diag_code_count(), total = c->n + c->ninternal + nc;
		const char **cands = arena_alloc(a, sizeof(char *) * (size_t)(total + 1));
		int m = 0;
		for (int i = 0; i < c->n; i++)
			cands[m++] = c->kinds[i]->name;
		for (int i = 0; i < c->ninternal; i++)
			cands[m++] = c->internal[i]->name;
		bool codeish = low[0] == 'e' || low[0] == 'w';
		const char *sug = did_you_mean(low, cands, m);
		if (!sug && codeish) {
			m = 0;
			for (int i = 0; i < nc; i++)
				cands[m++] = diag_code_at(i)->code;
			sug = did_you_mean(up, cands, m);
		}
		fprintf(stderr, "platformc: no diagnostic code or resource kind is named `%s`\n", name);
		if (sug)
			fprintf(stderr, "help: did you mean `%s`?\n", sug);
		fputs("the resource kinds:", stderr);
		for (int i = 0; i < c->n; i++)
			fprintf(stderr, " %s", c->kinds[i]->name);
		fputs("; the codes: docs/diagnostics.md\n", stderr);
		rc = EXIT_USAGE;
	}
	arena_free(a);
	return rc;
}
