/*
 * catalog_load.c — loading the resource kinds: catalog/<kind>/kind.yaml,
 * embedded at build, plus the folders of `platform.catalog`, once per
 * platform (catalog_load).
 *
 * A kind file (format: docs/catalog.md) declares a parameter schema in the
 * type language of platform.yaml, constraints as expressions (expr.c), the
 * managed resources of its Composition, its port and its cost model; its
 * `computed`, `claims` and `access` sections are compute.c's (compute_load,
 * compute_link). Every mistake in a kind file is E0301 (catalog_kind_error);
 * a kind with one is left out of the catalog.
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

static bool parse_param(Loader *L, Param *p, const char *name, const Node *n, int depth);

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
	if (!n || n->kind != N_SCALAR) {
		kerr(L, n ? n : L->k->node, "an expression must be a string");
		return NULL;
	}
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

/* Parameter names are snake_case, as expressions read them; they also
 * become form fields and keys of the files Backstage templates write. */
static void check_param_name(Loader *L, const Node *key)
{
	const char *name = key->text;
	bool snake = name[0] && !(name[0] >= '0' && name[0] <= '9');
	for (const char *c = name; *c && snake; c++)
		snake = (*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') || *c == '_';
	if (!snake)
		kerr(L, key, "parameter name `%s` is not snake_case (lower-case letters, digits and `_`, not first a digit)",
		     name);
}

static bool parse_param(Loader *L, Param *p, const char *name, const Node *n, int depth)
{
	p->name = name;
	p->node = n;
	if (depth > 6) {
		kerr(L, n, "parameters nested too deeply");
		return false;
	}
	if (!n || n->kind != N_MAP) {
		kerr(L, n ? n : L->k->node, "parameter `%s` must be a mapping", name);
		return false;
	}
	static const char *const keys[] = {"type", "title", "description", "enum", "min", "max", "step",
					   "pattern", "default", "required", "when", "fields", "items",
					   "constraints", "claim", "ref"};
	for (int i = 0; i < n->n; i++) {
		bool ok = false;
		for (size_t k = 0; k < ARRAY_LEN(keys) && !ok; k++)
			ok = !strcmp(keys[k], n->pairs[i].key->text);
		if (!ok) {
			const char *sug = did_you_mean(n->pairs[i].key->text, keys, (int)ARRAY_LEN(keys));
			kerr(L, n->pairs[i].key, "unknown key `%s` in parameter `%s`%s%s%s", n->pairs[i].key->text,
			     name, sug ? " (did you mean `" : "", sug ? sug : "", sug ? "`?)" : "");
		}
	}
	const char *ty = node_text(n, "type");
	bool found = false;
	for (size_t i = 0; ty && i < ARRAY_LEN(type_names) && !found; i++)
		if (!strcmp(type_names[i].name, ty))
			p->type = type_names[i].kind, found = true;
	if (!found) {
		kerr(L, node_get(n, "type") ? node_get(n, "type") : n, "parameter `%s` needs a `type` (string, name, "
		     "int, number, bool, quantity, duration, percent, url, date, object, list)", name);
		return false;
	}
	p->claim = node_text(n, "claim") ? node_text(n, "claim") : camel(L->a, name);
	p->title = node_text(n, "title");
	p->description = node_text(n, "description");
	p->required = node_text(n, "required") && !strcmp(node_text(n, "required"), "true");
	/* `enum: [a, b]`, or `enum: {a: title, b: title}` (values with their
	 * display titles, for the Backstage form) */
	const Node *en = node_get(n, "enum");
	if (en && (en->kind == N_SEQ || en->kind == N_MAP) && en->n) {
		p->enums = arena_alloc(L->a, sizeof(char *) * (size_t)(en->n + 1));
		p->enum_titles = arena_alloc(L->a, sizeof(char *) * (size_t)(en->n + 1));
		for (int i = 0; i < en->n; i++) {
			const Node *v = en->kind == N_SEQ ? en->items[i] : en->pairs[i].key;
			const Node *t = en->kind == N_MAP ? en->pairs[i].val : NULL;
			if (v->kind != N_SCALAR || v->is_null) {
				kerr(L, v, "an `enum` value of `%s` must be a scalar", name);
				continue;
			}
			if (t && (t->kind != N_SCALAR || t->is_null || !t->textlen)) {
				kerr(L, t, "the title of `%s` in the `enum` of `%s` must be text", v->text, name);
				continue;
			}
			p->enum_titles[p->nenums] = t ? t->text : NULL;
			p->enums[p->nenums++] = v->text;
		}
	} else if (en) {
		kerr(L, en, "`enum` of `%s` must be a non-empty list of values or mapping of values to titles", name);
	}
	p->has_min = bound(L, node_get(n, "min"), p->type, &p->min);
	p->has_max = bound(L, node_get(n, "max"), p->type, &p->max);
	p->has_step = bound(L, node_get(n, "step"), p->type, &p->step);
	if (p->has_step && p->step <= 0)
		kerr(L, node_get(n, "step"), "`step` must be positive");
	p->pattern = node_text(n, "pattern");
	if (p->type == T_OBJECT) {
		const Node *f = node_get(n, "fields");
		if (!f || f->kind != N_MAP || !f->n) {
			kerr(L, f ? f : n, "object parameter `%s` needs `fields`", name);
			return false;
		}
		p->fields = arena_alloc(L->a, sizeof(Param) * (size_t)f->n);
		for (int i = 0; i < f->n; i++) {
			check_param_name(L, f->pairs[i].key);
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
	if (list->kind != N_SEQ) {
		kerr(L, list, "`constraints` must be a list of {rule, message}");
		return;
	}
	obj->cons = arena_alloc(L->a, sizeof(KConstraint) * (size_t)(list->n + 1));
	for (int i = 0; i < list->n; i++) {
		const Node *c = list->items[i];
		KConstraint *k = &obj->cons[obj->ncons];
		k->node = c;
		k->src = node_text(c, "rule");
		k->message = node_text(c, "message");
		if (!k->src || !k->message) {
			kerr(L, c, "a constraint needs `rule` and `message`");
			continue;
		}
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
	if (map->kind != N_MAP) {
		kerr(L, map, "`computed` must be a mapping of values");
		return;
	}
	k->computed.fields = arena_alloc(L->a, sizeof(Param) * (size_t)(map->n + 1));
	for (int i = 0; i < map->n; i++) {
		const Node *key = map->pairs[i].key, *n = map->pairs[i].val;
		check_param_name(L, key);
		if (catalog_field(&k->params, key->text))
			kerr(L, key, "computed value `%s` has the name of a parameter", key->text);
		if (!n || n->kind != N_MAP || !node_get(n, "value")) {
			kerr(L, n ? n : key, "computed value `%s` needs a `type` and a `value`", key->text);
			continue;
		}
		/* the description without `value`, for parse_param */
		Node *desc = arena_alloc(L->a, sizeof *desc);
		*desc = *n;
		desc->pairs = arena_alloc(L->a, sizeof(Pair) * (size_t)n->n);
		desc->n = 0;
		for (int j = 0; j < n->n; j++)
			if (strcmp(n->pairs[j].key->text, "value"))
				desc->pairs[desc->n++] = n->pairs[j];
		Param *f = &k->computed.fields[k->computed.nfields];
		if (parse_param(L, f, key->text, desc, 1))
			k->computed.nfields++;
	}
}

static void parse_managed(Loader *L, const Node *list)
{
	Kind *k = L->k;
	if (!list || list->kind != N_SEQ || !list->n) {
		kerr(L, list ? list : k->node, "a kind needs `resources`: the managed resources of its Composition");
		return;
	}
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
		if (!mr->name || !mr->kind || !mr->api[0] || !mr->api[1]) {
			kerr(L, m, "a managed resource needs `name`, `kind` and `api: {claims, namespaced}`");
			continue;
		}
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
			if (!pt->from || !pt->to)
				kerr(L, pn, "a patch needs `from` (a parameter) and `to` (a field path)");
			else if (!catalog_param(&k->params, pt->from) && !catalog_param(&k->computed, pt->from))
				kerr(L, node_get(pn, "from"), "patch from `%s`: not a parameter or computed value", pt->from);
		}
		const Node *cs = node_get(m, "connection");
		mr->conn = arena_alloc(L->a, sizeof(KConn) * (size_t)((cs ? cs->n : 0) + 1));
		for (int j = 0; cs && j < cs->n; j++) {
			KConn *c = &mr->conn[mr->nconn++];
			c->name = node_text(cs->items[j], "name");
			c->from = node_text(cs->items[j], "from");
			c->value = node_text(cs->items[j], "value");
			if (!c->name || (!c->from == !c->value))
				kerr(L, cs->items[j], "a connection key needs `name` and one of `from` or `value`");
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

static Kind *load_kind(Arena *a, Diags *d, const char *name, const char *display, const char *bytes, size_t len,
		       bool builtin, int *errors)
{
	SourceFile *file = NULL;
	int before = d->errors;
	Node *root = src_load_bytes(a, d, display, bytes, len, &file);
	if (!root) {
		*errors += d->errors - before + (d->errors == before);
		return NULL;
	}
	Kind *k = arena_alloc(a, sizeof *k);
	Loader L = {.a = a, .d = d, .k = k};
	k->name = name;
	k->node = root;
	k->builtin = builtin;
	if (root->kind != N_MAP) {
		kerr(&L, root, "a kind file is a mapping");
		*errors += L.errors;
		return NULL;
	}
	static const char *const keys[] = {"title", "type", "description", "port", "claim", "params",
					   "constraints", "resources", "cost", "internal", "computed", "claims", "access",
					   "secret_values"};
	for (int i = 0; i < root->n; i++) {
		bool ok = false;
		for (size_t j = 0; j < ARRAY_LEN(keys) && !ok; j++)
			ok = !strcmp(keys[j], root->pairs[i].key->text);
		if (!ok)
			kerr(&L, root->pairs[i].key, "unknown key `%s`", root->pairs[i].key->text);
	}
	k->title = node_text(root, "title");
	k->type = node_text(root, "type");
	k->description = node_text(root, "description");
	if (!k->title || !k->type)
		kerr(&L, root, "a kind needs `title` and `type` (the Backstage resource type)");
	long long port = 443;
	if (node_text(root, "port") && (!scalar_int(node_text(root, "port"), &port) || port < 1 || port > 65535))
		kerr(&L, node_get(root, "port"), "`port` must be a TCP port number");
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
	if (params && params->kind == N_MAP) {
		k->params.fields = arena_alloc(a, sizeof(Param) * (size_t)(params->n + 1));
		bool ok = true;
		for (int i = 0; i < params->n; i++) { /* every parameter's mistakes at once */
			check_param_name(&L, params->pairs[i].key);
			ok &= parse_param(&L, &k->params.fields[k->params.nfields++], params->pairs[i].key->text,
					  params->pairs[i].val, 1);
		}
		params_ok = ok;
		if (ok) {
			k->params.check = param_type(&L, &k->params);
			k->params.check->name = arena_sprintf(a, "`%s` params", name);
			/* `when` and nested constraints, then the kind's own */
			Node fake = {.kind = N_MAP, .n = 1};
			Pair pr = {.key = &(Node){.kind = N_SCALAR, .text = "fields"}, .val = (Node *)params};
			fake.pairs = &pr;
			parse_exprs(&L, &k->params, &fake);
			parse_constraints(&L, &k->params, node_get(root, "constraints"));
		}
	} else if (params) {
		kerr(&L, params, "`params` must be a mapping of parameters");
		params_ok = false;
	} else {
		k->params.check = param_type(&L, &k->params);
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
	if (!cost || cost->kind != N_MAP) {
		kerr(&L, cost ? cost : root, "a kind needs a `cost` model: {source, date, monthly and/or usage}");
	} else {
		k->cost_source = node_text(cost, "source");
		k->cost_date = node_text(cost, "date");
		k->cost_usage = node_text(cost, "usage");
		k->cost_region = node_text(cost, "region");
		k->cost_tables = node_get(cost, "tables");
		if (!k->cost_source || !k->cost_date)
			kerr(&L, cost, "a cost model needs `source` and `date`");
		/* other regions' prices: {<region>: {source, date, tables}} */
		const Node *rg = k->cost_regions = node_get(cost, "regions");
		if (rg && rg->kind != N_MAP)
			kerr(&L, rg, "`regions` maps a region to its prices: {source, date, tables}");
		for (int i = 0; rg && rg->kind == N_MAP && i < rg->n; i++) {
			const Node *e = rg->pairs[i].val;
			if (e->kind != N_MAP || !node_text(e, "source") || !node_text(e, "date") ||
			    (node_get(e, "tables") && node_get(e, "tables")->kind != N_MAP))
				kerr(&L, e, "the prices of region `%s` need `source`, `date` and the `tables` of the model",
				     rg->pairs[i].key->text);
		}
		if (node_get(cost, "monthly")) {
			if (params_ok)
				k->cost_monthly = parse_expr_at(&L, node_get(cost, "monthly"), &k->params);
		} else if (!k->cost_usage) {
			kerr(&L, cost, "a cost model needs `monthly` (an expression) or `usage` (why it is usage-priced)");
		}
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
		SourceFile *sf = NULL;
		int before = d->errors;
		Node *root = src_load_file(a, d, kf, &sf);
		if (!root) {
			*errors += d->errors - before;
			continue;
		}
		Kind *k = load_kind(a, d, names[i], kf, sf->text, sf->len, false, errors);
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
		Kind *k = load_kind(a, d, name, path, embedded_files[i].data, embedded_files[i].len, true, &errors);
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
