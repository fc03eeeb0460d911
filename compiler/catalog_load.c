/*
 * catalog_load.c — loading the resource kinds: catalog/<kind>/kind.yaml,
 * embedded at build, plus the folders of `platform.catalog`, once per
 * platform (catalog_load).
 *
 * A kind file (format: docs/catalog.md) declares a parameter schema in the
 * type language of platform.yaml, constraints as expressions (expr.c), the
 * managed resources of its Composition, its port and its cost model; its
 * `computed`, `claims` and `access` sections are compute.c's (compute_load,
 * compute_link). Every mistake in a kind file is E0301; a kind with one is
 * left out of the catalog.
 *
 * The shape of a kind file is data, stdlib/kind-schema.yaml, checked by
 * schema.c first (schema_check_as: keys, node kinds, required keys, scalar
 * types, allowed values); a kind that fails it is not built. The Kind is
 * then built from a tree known to be well-formed, and this file checks only
 * what the schema language cannot say (catalog_kind_error):
 *   - a parameter's `min`, `max` and `step` are numbers, or durations for a
 *     `duration` (they depend on `type`), and `step` is positive;
 *   - an `object` parameter has `fields`, a `list` one `items`; nesting is
 *     at most 6 deep;
 *   - a tier default `{prod, nonprod}` has no other key;
 *   - a `pattern` compiles;
 *   - expressions (`when`, `constraints`, `cost.monthly`) parse, name only
 *     parameters and call only known functions;
 *   - a computed value is not named like a parameter; a patch is `from` a
 *     parameter or computed value; a connection key has one of `from` and
 *     `value`; a cost model has `monthly` or `usage`.
 */
#include "platformc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <dirent.h>

/* ------------------------------------------------------------ loading */

typedef struct Loader {
	Arena *a;
	Diags *d;
	Kind *k;
	int errors;
} Loader;

#define kerr(L, at, ...) catalog_kind_error((L)->d, (L)->k, &(L)->errors, (at), __VA_ARGS__)

static const struct {
	const char *name;
	TypeKind kind;
} type_names[] = {
	{"string", T_STRING}, {"name", T_NAME},         {"int", T_INT}, {"number", T_NUMBER},
	{"bool", T_BOOL},     {"quantity", T_QUANTITY}, {"duration", T_DURATION}, {"percent", T_PERCENT},
	{"url", T_URL},       {"date", T_DATE},         {"object", T_OBJECT},     {"list", T_LIST},
};

/* snake_case -> camelCase: the claim's field names (Kubernetes style). */
static const char *camel(Arena *a, const char *s)
{
	char *out = arena_alloc(a, strlen(s) + 1);
	int j = 0;
	for (int i = 0; s[i]; i++) {
		if (s[i] == '_' && s[i + 1]) {
			char c = s[++i];
			out[j++] = (char)(c >= 'a' && c <= 'z' ? c - 32 : c);
		} else {
			out[j++] = s[i];
		}
	}
	out[j] = 0;
	return out;
}

/* Reads a number or a duration (ms) for min/max/step. */
static bool bound(Loader *L, const Node *n, TypeKind t, double *out)
{
	if (!n)
		return false;
	long long ms;
	if (n->kind == N_SCALAR && t == T_DURATION && scalar_duration(n->text, &ms)) {
		*out = (double)ms;
		return true;
	}
	if (n->kind == N_SCALAR && t != T_DURATION && scalar_number(n->text, out))
		return true;
	kerr(L, n, "`%s` is not a %s", n->kind == N_SCALAR ? n->text : "mapping",
	     t == T_DURATION ? "duration" : "number");
	return false;
}

/* Compiled patterns live for the process (a cache by text): kinds are
 * loaded once per compilation, and a fuzzer runs many compilations. */
static StrMap re_cache;

static void *compile_re(Loader *L, const Node *at, const char *pattern)
{
	int err;
	PCRE2_SIZE off;
	char *anchored = arena_sprintf(L->a, "^(?:%s)$", pattern);
	pcre2_code *re = strmap_get(&re_cache, anchored);
	if (re)
		return re;
	re = pcre2_compile((PCRE2_SPTR)anchored, PCRE2_ZERO_TERMINATED, PCRE2_UTF, &err, &off, NULL);
	if (re)
		strmap_put(&re_cache, xstrdup(anchored), re);
	if (!re) {
		PCRE2_UCHAR msg[128];
		pcre2_get_error_message(err, msg, sizeof msg);
		kerr(L, at, "bad pattern: %s", (const char *)msg);
	}
	return re;
}

static void parse_constraints(Loader *L, Param *obj, const Node *list);

typedef struct PathCtx {
	Loader *L;
	const Param *scope;
	const Node *at;
	bool ok;
} PathCtx;

static void check_path(const Expr *e, void *ctx)
{
	PathCtx *c = ctx;
	if (!strcmp(e->s, "tier") || !strcmp(e->s, "env"))
		return;
	if (!catalog_param(c->scope, e->s)) {
		kerr(c->L, c->at, "`%s` in an expression is not a parameter", e->s);
		c->ok = false;
	}
}

/* The functions of kind expressions (docs/catalog.md), with their
 * argument shapes: an unknown function would be unknown, and a constraint
 * that is unknown never fails, so a misspelt name is an error here. */
static void check_call(const Expr *e, void *ctx)
{
	PathCtx *c = ctx;
	bool known = expr_builtin(e->s);
	bool shape = true;
	if (!strcmp(e->s, "all_in")) {
		shape = e->nargs >= 2 && e->args[0]->kind == X_PATH;
		for (int i = 1; i < e->nargs && shape; i++)
			shape = e->args[i]->kind == X_STR;
	}
	if (!known || !shape) {
		kerr(c->L, c->at, !known ? "unknown function `%s` in an expression"
					 : "`%s` takes a parameter path and one or more strings", e->s);
		c->ok = false;
	}
}

static Expr *parse_expr_at(Loader *L, const Node *n, const Param *scope)
{
	char err[128];
	int pos;
	Expr *e = expr_parse(L->a, n->text, err, sizeof err, &pos);
	if (!e) {
		kerr(L, n, "%s at offset %d of `%s`", err, pos, n->text);
		return NULL;
	}
	PathCtx c = {L, scope, n, true};
	expr_paths(e, check_path, &c);
	expr_each(e, X_CALL, check_call, &c);
	return c.ok ? e : NULL;
}

/* Builds the schema Type schema_check uses for written values. */
static Type *param_type(Loader *L, Param *p)
{
	Type *t = arena_alloc(L->a, sizeof *t);
	t->kind = p->type;
	t->doc = p->description;
	t->enums = p->enums;
	t->nenums = p->nenums;
	if (p->type == T_INT || p->type == T_NUMBER) {
		t->has_min = p->has_min, t->min = p->min;
		t->has_max = p->has_max, t->max = p->max;
	}
	if (p->pattern) {
		t->pattern = p->pattern;
		t->re = compile_re(L, p->node, p->pattern);
		t->what = arena_sprintf(L->a, "a valid `%s`", p->name);
		t->help = arena_sprintf(L->a, "it must match `%s`", p->pattern);
	}
	if (p->type == T_OBJECT) {
		t->name = p->name;
		t->fields = arena_alloc(L->a, sizeof(Field) * (size_t)(p->nfields + 1));
		t->nfields = p->nfields;
		for (int i = 0; i < p->nfields; i++) {
			t->fields[i].name = p->fields[i].name;
			t->fields[i].type = p->fields[i].check;
			t->fields[i].doc = p->fields[i].description;
		}
	}
	if (p->type == T_LIST)
		t->elem = p->item->check;
	return t;
}

static bool parse_param(Loader *L, Param *p, const char *name, const Node *n, int depth)
{
	p->name = name;
	p->node = n;
	if (depth > 6) {
		kerr(L, n, "parameters nested too deeply");
		return false;
	}
	const char *ty = node_text(n, "type"); /* one of type_names: the schema's enum */
	for (size_t i = 0; i < ARRAY_LEN(type_names); i++)
		if (!strcmp(type_names[i].name, ty))
			p->type = type_names[i].kind;
	p->claim = node_text(n, "claim") ? node_text(n, "claim") : camel(L->a, name);
	p->title = node_text(n, "title");
	p->description = node_text(n, "description");
	p->required = node_text(n, "required") && !strcmp(node_text(n, "required"), "true");
	/* `enum: [a, b]`, or `enum: {a: title, b: title}` (values with their
	 * display titles, for the Backstage form) */
	const Node *en = node_get(n, "enum");
	if (en) {
		p->enums = arena_alloc(L->a, sizeof(char *) * (size_t)(en->n + 1));
		p->enum_titles = arena_alloc(L->a, sizeof(char *) * (size_t)(en->n + 1));
		for (int i = 0; i < en->n; i++) {
			p->enum_titles[p->nenums] = en->kind == N_MAP ? en->pairs[i].val->text : NULL;
			p->enums[p->nenums++] = en->kind == N_SEQ ? en->items[i]->text : en->pairs[i].key->text;
		}
	}
	p->has_min = bound(L, node_get(n, "min"), p->type, &p->min);
	p->has_max = bound(L, node_get(n, "max"), p->type, &p->max);
	p->has_step = bound(L, node_get(n, "step"), p->type, &p->step);
	if (p->has_step && p->step <= 0)
		kerr(L, node_get(n, "step"), "`step` must be positive");
	p->pattern = node_text(n, "pattern");
	if (p->type == T_OBJECT) {
		const Node *f = node_get(n, "fields");
		if (!f || !f->n) {
			kerr(L, f ? f : n, "object parameter `%s` needs `fields`", name);
			return false;
		}
		p->fields = arena_alloc(L->a, sizeof(Param) * (size_t)f->n);
		for (int i = 0; i < f->n; i++) {
			if (!parse_param(L, &p->fields[p->nfields++], f->pairs[i].key->text, f->pairs[i].val, depth + 1))
				return false;
		}
	} else if (p->type == T_LIST) {
		const Node *it = node_get(n, "items");
		if (!it) {
			kerr(L, n, "list parameter `%s` needs `items`", name);
			return false;
		}
		p->item = arena_alloc(L->a, sizeof(Param));
		if (!parse_param(L, p->item, name, it, depth + 1))
			return false;
	}
	p->check = param_type(L, p);
	const Node *def = node_get(n, "default");
	if (def) {
		if (def->kind == N_MAP && (node_get(def, "prod") || node_get(def, "nonprod"))) {
			for (int i = 0; i < def->n; i++)
				if (strcmp(def->pairs[i].key->text, "prod") && strcmp(def->pairs[i].key->text, "nonprod"))
					kerr(L, def->pairs[i].key, "a tier default has only `prod` and `nonprod`");
			p->def = node_get(def, "nonprod"), p->has_def = p->def != NULL;
			p->def_prod = node_get(def, "prod"), p->has_def_prod = p->def_prod != NULL;
		} else {
			p->def = p->def_prod = def;
			p->has_def = p->has_def_prod = true;
		}
	}
	return true;
}

/* Second pass: expressions need the whole parameter tree. */
static void parse_exprs(Loader *L, Param *obj, const Node *n)
{
	if (obj->type == T_LIST && obj->item) {
		parse_exprs(L, obj->item, node_get(n, "items"));
		return;
	}
	if (obj->type != T_OBJECT)
		return;
	const Node *f = node_get(n, "fields");
	for (int i = 0; i < obj->nfields; i++) {
		Param *p = &obj->fields[i];
		const Node *w = node_get(p->node, "when");
		if (w) {
			p->when_src = w->text;
			p->when = parse_expr_at(L, w, obj);
		}
		parse_exprs(L, p, f ? f->pairs[i].val : NULL);
	}
	parse_constraints(L, obj, node_get(n, "constraints"));
}

static void parse_constraints(Loader *L, Param *obj, const Node *list)
{
	if (!list)
		return;
	obj->cons = arena_alloc(L->a, sizeof(KConstraint) * (size_t)(list->n + 1));
	for (int i = 0; i < list->n; i++) {
		const Node *c = list->items[i];
		KConstraint *k = &obj->cons[obj->ncons];
		k->node = c;
		k->src = node_text(c, "rule");
		k->message = node_text(c, "message");
		k->e = parse_expr_at(L, node_get(c, "rule"), obj);
		if (k->e)
			obj->ncons++;
	}
}

/* `computed`: each entry is described like a parameter (its claim field
 * and XRD schema) plus its `value` template, which compute.c reads. */
static void parse_computed(Loader *L, const Node *map)
{
	Kind *k = L->k;
	if (!map)
		return;
	k->computed.fields = arena_alloc(L->a, sizeof(Param) * (size_t)(map->n + 1));
	for (int i = 0; i < map->n; i++) {
		const Node *key = map->pairs[i].key, *n = map->pairs[i].val;
		if (catalog_field(&k->params, key->text))
			kerr(L, key, "computed value `%s` has the name of a parameter", key->text);
		Param *f = &k->computed.fields[k->computed.nfields]; /* `value` is compute.c's */
		if (parse_param(L, f, key->text, n, 1))
			k->computed.nfields++;
	}
}

static void parse_managed(Loader *L, const Node *list)
{
	Kind *k = L->k;
	k->mrs = arena_alloc(L->a, sizeof(KManaged) * (size_t)list->n);
	for (int i = 0; i < list->n; i++) {
		const Node *m = list->items[i];
		KManaged *mr = &k->mrs[k->nmrs++];
		mr->name = node_text(m, "name");
		mr->kind = node_text(m, "kind");
		const Node *api = node_get(m, "api");
		mr->api[0] = node_text(api, "claims");
		mr->api[1] = node_text(api, "namespaced");
		mr->base = node_get(m, "base");
		mr->primary = node_text(m, "primary") && !strcmp(node_text(m, "primary"), "true");
		mr->global = node_text(m, "global") && !strcmp(node_text(m, "global"), "true");
		mr->network = node_text(m, "network") && !strcmp(node_text(m, "network"), "true");
		mr->with_network = node_get(m, "with_network");
		const Node *ps = node_get(m, "patches");
		mr->patches = arena_alloc(L->a, sizeof(KPatch) * (size_t)((ps ? ps->n : 0) + 1));
		for (int j = 0; ps && j < ps->n; j++) {
			const Node *pn = ps->items[j];
			KPatch *pt = &mr->patches[mr->npatches++];
			pt->from = node_text(pn, "from");
			pt->to = node_text(pn, "to");
			pt->convert = node_text(pn, "convert");
			pt->fmt = node_text(pn, "fmt");
			pt->map = node_get(pn, "map");
			if (!catalog_param(&k->params, pt->from) && !catalog_param(&k->computed, pt->from))
				kerr(L, node_get(pn, "from"), "patch from `%s`: not a parameter or computed value", pt->from);
		}
		const Node *cs = node_get(m, "connection");
		mr->conn = arena_alloc(L->a, sizeof(KConn) * (size_t)((cs ? cs->n : 0) + 1));
		for (int j = 0; cs && j < cs->n; j++) {
			KConn *c = &mr->conn[mr->nconn++];
			c->name = node_text(cs->items[j], "name");
			c->from = node_text(cs->items[j], "from");
			c->value = node_text(cs->items[j], "value");
			if (!c->from == !c->value)
				kerr(L, cs->items[j], "a connection key needs one of `from` or `value`");
		}
	}
}

/* "aurora-postgresql" -> "AuroraPostgresql" */
static const char *kind_camel(Arena *a, const char *s)
{
	char *out = arena_alloc(a, strlen(s) + 1);
	int j = 0;
	bool up = true;
	for (int i = 0; s[i]; i++) {
		if (s[i] == '-') {
			up = true;
			continue;
		}
		out[j++] = (char)(up && s[i] >= 'a' && s[i] <= 'z' ? s[i] - 32 : s[i]);
		up = false;
	}
	out[j] = 0;
	return out;
}

static const char *lower_str(Arena *a, const char *s)
{
	char *o = arena_strdup(a, s);
	for (char *c = o; *c; c++)
		if (*c >= 'A' && *c <= 'Z')
			*c = (char)(*c + 32);
	return o;
}

/* The kind schema (stdlib/kind-schema.yaml) lives for the process, as the
 * compiled patterns do. */
static Schema *kind_schema;

/* Checks a kind file against the kind schema: every problem is an E0301,
 * with the schema's label and help (or, without one, where the format is
 * described). */
static int check_shape(Diags *d, const char *name, const Node *root)
{
	if (!kind_schema)
		kind_schema = schema_load_kind(arena_new());
	int first = d->n;
	int errors = schema_check_as(kind_schema, root, kind_schema->root, d, "E0301",
				     arena_sprintf(d->arena, "invalid resource kind `%s`: ", name));
	for (int i = first; i < d->n; i++)
		if (!d->items[i]->help)
			diag_help(d->items[i], "the format of kind files is described in docs/catalog.md");
	return errors;
}

/* A kind from its parsed file; `parse_errors`: what parsing it reported (a
 * file with a credential, E0118, is parsed but not checked, so not built). */
static Kind *load_kind(Arena *a, Diags *d, const char *name, Node *root, int parse_errors, bool builtin,
		       int *errors)
{
	if (!root || parse_errors) {
		*errors += parse_errors ? parse_errors : 1;
		return NULL;
	}
	int bad = check_shape(d, name, root);
	if (bad) {
		*errors += bad;
		return NULL;
	}
	Kind *k = arena_alloc(a, sizeof *k);
	Loader L = {.a = a, .d = d, .k = k};
	k->name = name;
	k->node = root;
	k->builtin = builtin;
	k->title = node_text(root, "title");
	k->type = node_text(root, "type");
	k->description = node_text(root, "description");
	long long port = 443;
	if (node_text(root, "port"))
		scalar_int(node_text(root, "port"), &port);
	k->port = (int)port;
	const Node *claim = node_get(root, "claim");
	k->claim_kind = node_text(claim, "kind") ? node_text(claim, "kind") : kind_camel(a, name);
	k->claim_plural = node_text(claim, "plural") ? node_text(claim, "plural")
						 : arena_sprintf(a, "%ss", lower_str(a, k->claim_kind));
	k->xr_kind = arena_sprintf(a, "X%s", k->claim_kind);
	k->xr_plural = arena_sprintf(a, "x%s", k->claim_plural);
	/* the parameters: an object whose fields are `params` */
	const Node *params = node_get(root, "params");
	bool params_ok = true;
	k->params.type = T_OBJECT;
	k->params.name = "params";
	k->params.node = params ? params : root;
	int nparams = params ? params->n : 0;
	k->params.fields = arena_alloc(a, sizeof(Param) * (size_t)(nparams + 1));
	for (int i = 0; i < nparams; i++) /* every parameter's mistakes at once */
		params_ok &= parse_param(&L, &k->params.fields[k->params.nfields++], params->pairs[i].key->text,
					 params->pairs[i].val, 1);
	if (params_ok) {
		k->params.check = param_type(&L, &k->params);
		if (params)
			k->params.check->name = arena_sprintf(a, "`%s` params", name);
		/* `when` and nested constraints, then the kind's own */
		Node fake = {.kind = N_MAP, .n = params ? 1 : 0};
		Pair pr = {.key = &(Node){.kind = N_SCALAR, .text = "fields"}, .val = (Node *)params};
		fake.pairs = &pr;
		parse_exprs(&L, &k->params, &fake);
		parse_constraints(&L, &k->params, node_get(root, "constraints"));
	}
	k->internal = node_text(root, "internal") && !strcmp(node_text(root, "internal"), "true");
	k->computed.type = T_OBJECT;
	k->computed.name = "computed";
	if (params_ok)
		parse_computed(&L, node_get(root, "computed"));
	if (params_ok)
		L.errors += compute_load(a, d, k, node_get(root, "computed"), node_get(root, "claims"),
					 node_get(root, "access"), node_get(root, "secret_values"));
	if (params_ok)
		parse_managed(&L, node_get(root, "resources"));
	const Node *cost = node_get(root, "cost");
	k->cost_source = node_text(cost, "source");
	k->cost_date = node_text(cost, "date");
	k->cost_usage = node_text(cost, "usage");
	k->cost_region = node_text(cost, "region");
	k->cost_tables = node_get(cost, "tables");
	k->cost_regions = node_get(cost, "regions"); /* {<region>: {source, date, tables}} */
	if (node_get(cost, "monthly")) {
		if (params_ok)
			k->cost_monthly = parse_expr_at(&L, node_get(cost, "monthly"), &k->params);
	} else if (!k->cost_usage) {
		kerr(&L, cost, "a cost model needs `monthly` (an expression) or `usage` (why it is usage-priced)");
	}
	*errors += L.errors;
	return L.errors ? NULL : k;
}

static int cmp_kind(const void *x, const void *y)
{
	return strcmp((*(Kind *const *)x)->name, (*(Kind *const *)y)->name);
}

static void drop_kind(Kind **list, int *n, const char *name)
{
	for (int i = 0; i < *n; i++)
		if (!strcmp(list[i]->name, name)) {
			memmove(&list[i], &list[i + 1], sizeof(Kind *) * (size_t)(*n - i - 1));
			(*n)--;
			return;
		}
}

/* A platform.catalog kind replaces a built-in one of the same name; an
 * internal kind is kept apart: platform.yaml, the Backstage templates and
 * the cost report see only c->kinds. */
static void add_kind(Arena *a, Catalog *c, Kind *k)
{
	drop_kind(c->kinds, &c->n, k->name);
	drop_kind(c->internal, &c->ninternal, k->name);
	Kind ***list = k->internal ? &c->internal : &c->kinds;
	int *n = k->internal ? &c->ninternal : &c->n;
	*list = arena_grow(a, *list, (size_t)*n, (size_t)*n + 1, sizeof(Kind *));
	(*list)[(*n)++] = k;
}

static const char *root_dir(Arena *a, const Platform *p)
{
	const char *path = p->root_file ? p->root_file->path : "platform.yaml";
	const char *slash = strrchr(path, '/');
	return slash ? arena_strndup(a, path, (size_t)(slash - path)) : ".";
}

static int cmp_str(const void *x, const void *y)
{
	return strcmp(*(char *const *)x, *(char *const *)y);
}

static void load_dir(Arena *a, Platform *p, Diags *d, Catalog *c, const char *dir, const Node *at, int *errors)
{
	const char *rd = root_dir(a, p);
	const char *path = dir[0] == '/' || !strcmp(rd, ".") ? dir : arena_sprintf(a, "%s/%s", rd, dir);
	DIR *dh = opendir(path);
	if (!dh) {
		(*errors)++;
		Diag *g = diag_error(d, "E0001", at->span, "cannot read catalog folder `%s`", dir);
		diag_label(g, "not a readable folder");
		diag_help(g, "catalog folders are relative to the root file");
		return;
	}
	char *names[256];
	int n = 0;
	struct dirent *de;
	while ((de = readdir(dh)) && n < (int)ARRAY_LEN(names))
		if (de->d_name[0] != '.' && scalar_is_name(de->d_name, strlen(de->d_name)))
			names[n++] = arena_strdup(a, de->d_name);
	closedir(dh);
	qsort(names, (size_t)n, sizeof *names, cmp_str);
	for (int i = 0; i < n; i++) {
		const char *kf = arena_sprintf(a, "%s/%s/kind.yaml", path, names[i]);
		FILE *f = fopen(kf, "rb");
		if (!f)
			continue; /* a folder without kind.yaml is not a kind */
		fclose(f);
		int before = d->errors;
		Node *root = src_load_file(a, d, kf, NULL);
		Kind *k = load_kind(a, d, names[i], root, d->errors - before, false, errors);
		if (k)
			add_kind(a, c, k);
	}
}

/* The platform's region has its own prices in the kind's cost model
 * (`cost.regions`): they replace the model's source, date and tables. */
static void use_region_prices(Kind *k, const char *region)
{
	const Node *e = region ? node_get(k->cost_regions, region) : NULL;
	if (!e || e->kind != N_MAP)
		return;
	k->cost_region = region;
	k->cost_source = node_text(e, "source");
	k->cost_date = node_text(e, "date");
	k->cost_tables = node_get(e, "tables");
}

Catalog *catalog_load(Arena *a, Platform *p, Diags *d)
{
	if (p->catalog)
		return p->catalog;
	Catalog *c = arena_alloc(a, sizeof *c);
	p->catalog = c;
	int errors = 0;
	for (int i = 0; i < embedded_files_count; i++) {
		const char *path = embedded_files[i].path;
		if (!has_prefix(path, "catalog/") || !has_suffix(path, "/kind.yaml"))
			continue;
		const char *name = arena_strndup(a, path + 8, strlen(path) - 8 - 10);
		int before = d->errors;
		Node *root = src_load_bytes(a, d, path, embedded_files[i].data, embedded_files[i].len, NULL);
		Kind *k = load_kind(a, d, name, root, d->errors - before, true, &errors);
		if (k)
			add_kind(a, c, k);
	}
	const Node *dirs = node_get(node_get(p->root, "platform"), "catalog");
	for (int i = 0; i < p->ncatalog_dirs; i++)
		load_dir(a, p, d, c, p->catalog_dirs[i], dirs && i < dirs->n ? dirs->items[i] : p->root, &errors);
	qsort(c->kinds, (size_t)c->n, sizeof *c->kinds, cmp_kind);
	for (int i = 0; i < c->n + c->ninternal; i++)
		use_region_prices(i < c->n ? c->kinds[i] : c->internal[i - c->n], p->region);
	if (c->ninternal)
		qsort(c->internal, (size_t)c->ninternal, sizeof *c->internal, cmp_kind);
	compute_link(a, d, c);
	return c;
}

/* The built-in catalog, loaded without a platform. */
const Catalog *catalog_load_builtin(Arena *a)
{
	Diags d;
	diags_init(&d, a);
	Platform *p = arena_alloc(a, sizeof *p);
	Catalog *c = catalog_load(a, p, &d);
	if (d.n) { /* a broken built-in kind is a build bug; say so anyway */
		diags_print(&d, DF_HUMAN, false, stderr);
		return NULL;
	}
	return c;
}
