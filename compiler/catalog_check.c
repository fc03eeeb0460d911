/*
 * catalog_check.c — checking every resource's `params` against its kind
 * (catalog_check_resource, called by resolve.c). It fills each resource's
 * typed values per environment, which the backends read (catalog_values).
 *
 * Checking a resource, per environment it runs in:
 *   1. each written piece (defaults.resources.<kind>, params,
 *      overrides.<env>.params) is type-checked by schema.c against the
 *      kind's parameters turned into a schema Type (unknown keys with
 *      did-you-mean, types, enums, ranges, patterns), then steps and
 *      duration ranges are checked here;
 *   2. the pieces are merged (mappings key by key) and typed into a PVal
 *      tree with the kind's defaults for the environment's tier (a default
 *      with `when` applies only when its condition holds);
 *   3. required parameters, constraints, and references to other resources
 *      (`ref`: the kind, the environments, matching values) are checked.
 * The same mistake seen in several environments is reported once.
 */
#include "platformc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

/* ---------------------------------------------------------- checking */

/* A written scalar's value, shared by the environments of one resource. */
#define SHARED_SCALARS 64

typedef struct Checker {
	Arena *a;
	Platform *p;
	Diags *d;
	Resource *r;
	const Kind *k;
	const Env *env;
	int errors;
	const Node *shared_node[SHARED_SCALARS];
	PVal *shared[SHARED_SCALARS];
	int nshared;
} Checker;

/* Diagnostics already reported (code + position + message), so that the
 * same mistake seen in several environments is reported once. */
typedef struct Seen {
	const char *key;
	struct Seen *next;
} Seen;

/* Formats, then reports (and counts) unless the same diagnostic was
 * already reported. */
static Diag *error_once(Checker *c, const char *code, Span sp, const char *fmt, ...) PRINTF_LIKE(4, 5);
static Diag *error_once(Checker *c, const char *code, Span sp, const char *fmt, ...)
{
	char buf[600];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	char *key = arena_sprintf(c->a, "%s|%s|%d|%d|%s", code, sp.file ? sp.file->path : "", sp.line, sp.col, buf);
	Seen **head = (Seen **)&c->p->catalog->seen;
	for (Seen *it = *head; it; it = it->next)
		if (!strcmp(it->key, key))
			return NULL;
	Seen *n = arena_alloc(c->a, sizeof *n);
	n->key = key;
	n->next = *head;
	*head = n;
	return diag_count_error(&c->errors, c->d, code, sp, "%s", buf);
}

static void fmt_value(const PVal *v, char *buf, size_t n)
{
	if (!v || v->kind == PV_NULL)
		snprintf(buf, n, "(not set)");
	else if (v->kind == PV_BOOL)
		snprintf(buf, n, "%s", v->b ? "true" : "false");
	else if (v->kind == PV_NUM && v->param && v->param->type == T_DURATION && v->s)
		snprintf(buf, n, "%s", v->s);
	else if (v->kind == PV_NUM)
		scalar_format_number(v->num, buf, n);
	else if (v->kind == PV_STR)
		snprintf(buf, n, "%s", v->s);
	else if (v->kind == PV_LIST)
		snprintf(buf, n, "%d entries", v->n);
	else
		snprintf(buf, n, "{...}");
}

/* Steps and duration ranges: what schema_check does not know. */
static void extra_checks(Checker *c, const Param *p, const Node *n)
{
	if (!n)
		return;
	if (p->type == T_OBJECT && n->kind == N_MAP) {
		for (int i = 0; i < n->n; i++) {
			const Param *f = catalog_field(p, n->pairs[i].key->text);
			if (f)
				extra_checks(c, f, n->pairs[i].val);
		}
		return;
	}
	if (p->type == T_LIST && n->kind == N_SEQ) {
		for (int i = 0; i < n->n; i++)
			extra_checks(c, p->item, n->items[i]);
		return;
	}
	if (n->kind != N_SCALAR)
		return;
	double v;
	long long ms;
	if (p->type == T_DURATION && scalar_duration(n->text, &ms)) {
		v = (double)ms;
		const Node *lim = node_get(p->node, v < p->min ? "min" : "max");
		if ((p->has_min && v < p->min) || (p->has_max && v > p->max)) {
			Diag *g = error_once(c, "E0115", n->span, "`%s` is %s; the %s is %s", p->name, n->text,
				       v < p->min ? "minimum" : "maximum", lim ? lim->text : "?");
			if (g)
				diag_label(g, v < p->min ? "too short" : "too long");
		}
	} else if (p->has_step && (p->type == T_NUMBER || p->type == T_INT) && scalar_number(n->text, &v) &&
		   !(p->has_min && v < p->min) && !(p->has_max && v > p->max)) { /* out of range: E0115 says so */
		double base = p->has_min ? p->min : 0, q = (v - base) / p->step;
		if (q - (double)(long long)(q + 0.5) > 1e-9 || (double)(long long)(q + 0.5) - q > 1e-9) {
			char st[32], lo[32], hi[32];
			scalar_format_number(p->step, st, sizeof st);
			double down = base + p->step * (double)(long long)q, up = down + p->step;
			scalar_format_number(down, lo, sizeof lo);
			scalar_format_number(up, hi, sizeof hi);
			Diag *g = error_once(c, "E0302", n->span, "`%s` is %s, not a multiple of %s", p->name, n->text, st);
			if (g) {
				diag_label(g, "not in steps of %s", st);
				diag_help(g, "use %s or %s", lo, hi);
			}
		}
	}
}

static PVal *build(Checker *c, const Param *p, const Node *n, bool is_default);

/* A scalar's value depends only on its parameter, its node and whether it is
 * a default, and no value is changed once built: a parameter's default is
 * built once for every resource (Param.def_val), a written scalar once for
 * the environments of its resource. */
static PVal **scalar_shared(Checker *c, const Param *p, const Node *n, bool is_default)
{
	Param *w = (Param *)p;
	if (is_default)
		return n == p->def ? &w->def_val[0] : n == p->def_prod ? &w->def_val[1] : NULL;
	for (int i = 0; i < c->nshared; i++)
		if (c->shared_node[i] == n && c->shared[i]->param == p)
			return &c->shared[i];
	if (c->nshared == SHARED_SCALARS)
		return NULL;
	c->shared_node[c->nshared] = n;
	c->shared[c->nshared] = NULL;
	return &c->shared[c->nshared++];
}

static PVal *scalar_val(Checker *c, const Param *p, const Node *n, bool is_default)
{
	PVal **shared = scalar_shared(c, p, n, is_default);
	if (shared && *shared)
		return *shared;
	PVal *v = arena_alloc(c->a, sizeof *v);
	if (shared)
		*shared = v;
	v->param = p;
	v->node = is_default ? NULL : n;
	v->s = n->text;
	long long iv;
	switch (p->type) {
	case T_BOOL:
		v->kind = PV_BOOL;
		scalar_bool(n->text, &v->b);
		break;
	case T_INT:
	case T_NUMBER:
	case T_PERCENT:
		v->kind = PV_NUM;
		scalar_number(n->text, &v->num);
		break;
	case T_DURATION:
		v->kind = PV_NUM;
		if (scalar_duration(n->text, &iv))
			v->num = (double)iv;
		break;
	default:
		v->kind = PV_STR;
	}
	return v;
}

static const Node *tier_default(const Checker *c, const Param *p)
{
	if (c->env && c->env->prod)
		return p->has_def_prod ? p->def_prod : NULL;
	return p->has_def ? p->def : NULL;
}

static void check_object_rules(Checker *c, const Param *p, PVal *obj, const Node *n);

static PVal *build(Checker *c, const Param *p, const Node *n, bool is_default)
{
	if (p->type == T_LIST) {
		PVal *v = arena_alloc(c->a, sizeof *v);
		v->kind = PV_LIST;
		v->param = p;
		v->node = is_default ? NULL : n;
		int cnt = n && n->kind == N_SEQ ? n->n : 0;
		v->items = arena_alloc(c->a, sizeof(PVal *) * (size_t)(cnt + 1));
		for (int i = 0; i < cnt; i++)
			v->items[v->n++] = build(c, p->item, n->items[i], is_default);
		return v;
	}
	if (p->type != T_OBJECT)
		return scalar_val(c, p, n, is_default);
	PVal *v = arena_alloc(c->a, sizeof *v);
	v->kind = PV_OBJ;
	v->param = p;
	v->node = is_default ? NULL : n;
	/* built in scratch room (on the stack for a usual object), kept in
	 * arrays of the size it ends with */
	enum { ROOM = 32 };
	const char *keys_room[ROOM + 1];
	PVal *items_room[ROOM + 1], *slot_room[ROOM + 1];
	bool small = p->nfields <= ROOM;
	v->keys = small ? keys_room : arena_alloc(c->a, sizeof(char *) * (size_t)(p->nfields + 1));
	v->items = small ? items_room : arena_alloc(c->a, sizeof(PVal *) * (size_t)(p->nfields + 1));
	PVal **slot = small ? slot_room : arena_alloc(c->a, sizeof(PVal *) * (size_t)(p->nfields + 1));
	if (small)
		memset(slot_room, 0, sizeof slot_room);
	/* written values, then defaults without a condition, then conditional ones */
	for (int pass = 0; pass < 3; pass++) {
		for (int i = 0; i < p->nfields; i++) {
			const Param *f = &p->fields[i];
			if (slot[i])
				continue;
			const Node *w = n && n->kind == N_MAP ? node_get(n, f->name) : NULL;
			if (pass == 0 && w)
				slot[i] = build(c, f, w, is_default);
			else if (pass == 1 && !f->when && tier_default(c, f))
				slot[i] = build(c, f, tier_default(c, f), true);
			else if (pass == 1 && !f->when && f->type == T_OBJECT && !w)
				slot[i] = NULL; /* an absent object stays absent */
			if (pass == 2 && f->when && tier_default(c, f)) {
				/* the object so far is the scope of `when` */
				v->n = 0;
				for (int k = 0; k < p->nfields; k++)
					if (slot[k])
						v->keys[v->n] = p->fields[k].name, v->items[v->n++] = slot[k];
				EvalResult r = expr_eval(c->k, f->when, v, c->env);
				if (r.kind == EV_BOOL && r.b)
					slot[i] = build(c, f, tier_default(c, f), true);
			}
		}
	}
	int kept = 0;
	for (int i = 0; i < p->nfields; i++)
		kept += slot[i] != NULL;
	const char **keys = v->keys;
	PVal **items = v->items;
	if (small) {
		keys = arena_alloc(c->a, sizeof(char *) * (size_t)(kept + 1));
		items = arena_alloc(c->a, sizeof(PVal *) * (size_t)(kept + 1));
	}
	v->n = 0;
	for (int i = 0; i < p->nfields; i++)
		if (slot[i])
			keys[v->n] = p->fields[i].name, items[v->n++] = slot[i];
	v->keys = keys;
	v->items = items;
	check_object_rules(c, p, v, n);
	return v;
}

/* The span a rule's failure points at: the first value the rule reads
 * that the user wrote; else the object; else the resource's name. */
typedef struct Blame {
	const PVal *scope;
	const Node *at;
	char values[256];
	size_t len;
} Blame;

static void blame_path(const Expr *e, void *ctx)
{
	Blame *b = ctx;
	if (!strcmp(e->s, "tier") || !strcmp(e->s, "env"))
		return;
	const PVal *v = pval_get(b->scope, e->s);
	if (v && v->node && !b->at)
		b->at = v->node;
	if (strstr(b->values, e->s) == NULL && b->len + 64 < sizeof b->values) {
		char val[64];
		fmt_value(v, val, sizeof val);
		b->len += (size_t)snprintf(b->values + b->len, sizeof b->values - b->len, "%s%s = %s",
					   b->len ? ", " : "", e->s, val);
	}
}

static const Node *res_name_node(const Resource *r)
{
	const Node *n = node_get(r->node, "name");
	return n ? n : r->node;
}

/* The first all_in call of an expression (expr_each). */
static void first_all_in(const Expr *e, void *ctx)
{
	const Expr **first = ctx;
	if (!*first && !strcmp(e->s, "all_in"))
		*first = e;
}

static void check_object_rules(Checker *c, const Param *p, PVal *obj, const Node *n)
{
	const Node *where = n ? n : res_name_node(c->r);
	for (int i = 0; i < p->nfields; i++) {
		const Param *f = &p->fields[i];
		if (!f->required || pval_get(obj, f->name))
			continue;
		Diag *g = error_once(c, "E0304", where->span, "resource `%s` (kind `%s`) needs parameter `%s`", c->r->name,
			       c->k->name, f->name);
		if (g) {
			diag_label(g, "`%s` missing here", f->name);
			diag_help(g, "`%s` is %s%s%s", f->name, type_describe(f->check), f->description ? ": " : "",
				  f->description ? f->description : "");
		}
	}
	for (int i = 0; i < p->ncons; i++) {
		const KConstraint *k = &p->cons[i];
		EvalResult r = expr_eval(c->k, k->e, obj, c->env);
		if (!(r.kind == EV_BOOL && !r.b))
			continue;
		Blame b = {.scope = obj};
		/* `at: [param, ...]`: where the rule's author wants the caret */
		const Node *atn = node_get(k->node, "at");
		for (int j = 0; atn && atn->kind == N_SEQ && j < atn->n && !b.at; j++) {
			const PVal *v = pval_get(obj, atn->items[j]->text);
			b.at = v ? v->node : NULL;
		}
		if (k->e->kind == X_CALL && !strcmp(k->e->s, "distinct")) {
			/* point at the second use of the repeated value */
			const PVal *leaves[512];
			int nl = 0;
			bool tl = false;
			for (int j = 0; j < k->e->nargs; j++)
				if (k->e->args[j]->kind == X_PATH)
					pval_gather(obj, k->e->args[j]->s, leaves, &nl, (int)ARRAY_LEN(leaves), &tl);
			for (int x = 0; x < nl && !b.at; x++)
				for (int y = 0; y < x && !b.at; y++)
					if (leaves[x]->kind == PV_STR && leaves[y]->kind == PV_STR &&
					    !strcmp(leaves[x]->s, leaves[y]->s) && leaves[x]->node) {
						b.at = leaves[x]->node;
						b.len = (size_t)snprintf(b.values, sizeof b.values, "`%s` is used twice",
									 leaves[x]->s);
					}
		}
		if (k->e->kind == X_CALL && !strcmp(k->e->s, "unique_by")) {
			/* point at the field of the object that disagrees with an earlier one */
			const PVal *first = NULL, *bad = expr_unique_by_conflict(obj, k->e, &first);
			const PVal *key = bad ? pval_get(bad, k->e->args[0]->s) : NULL;
			for (int j = 0; bad && bad->kind == PV_OBJ && j < bad->n && !b.at; j++)
				if (!pval_same(bad->items[j], pval_get(first, bad->keys[j])))
					b.at = bad->items[j]->node;
			if (bad && !b.at)
				b.at = bad->node;
			if (bad)
				b.len = (size_t)snprintf(b.values, sizeof b.values, "`%s` is described twice, differently",
							 key && key->kind == PV_STR ? key->s : "?");
		}
		const Expr *in = NULL;
		expr_each(k->e, X_CALL, first_all_in, &in);
		if (in && !b.at) {
			/* point at the value that is not one of the listed */
			const PVal *bad = expr_all_in_outlier(obj, in);
			if (bad && bad->node) {
				b.at = bad->node;
				b.len = (size_t)snprintf(b.values, sizeof b.values, "`%s` is not one of those allowed",
							 bad->s);
			}
		}
		if (!b.len)
			expr_paths(k->e, blame_path, &b);
		const Node *at = b.at ? b.at : where;
		Diag *g = error_once(c, "E0303", at->span, "resource `%s`: %s", c->r->name, k->message);
		if (!g)
			continue;
		diag_label(g, "breaks `%s`", k->src);
		if (b.len)
			diag_note(g, (Span){0}, "in `%s`: %s", c->env->name, b.values);
		diag_note(g, k->node->span, "the rule of kind `%s`", c->k->name);
	}
}

/* ---- references to other resources (`ref` on a string parameter) ---- */

typedef struct NamedResource {
	const Resource *r;
	int index; /* in p->resources: the first definition of a name wins */
} NamedResource;

static int cmp_named_resource(const void *x, const void *y)
{
	const NamedResource *a = x, *b = y;
	int c = strcmp(a->r->name, b->r->name);
	return c ? c : (a->index > b->index) - (a->index < b->index);
}

/* The first resource of this name: a binary search over the resources
 * sorted once by name (many resources, each naming others). */
static const Resource *find_resource(Arena *a, const Platform *p, const char *name)
{
	int n = p->nresources;
	NamedResource *v = p->catalog->by_name;
	if (!v) {
		v = arena_alloc(a, sizeof *v * (size_t)(n + 1));
		for (int i = 0; i < n; i++)
			v[i] = (NamedResource){p->resources[i], i};
		qsort(v, (size_t)n, sizeof *v, cmp_named_resource);
		p->catalog->by_name = v;
	}
	int lo = 0, hi = n;
	while (lo < hi) {
		int mid = lo + (hi - lo) / 2;
		if (strcmp(v[mid].r->name, name) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < n && !strcmp(v[lo].r->name, name) ? v[lo].r : NULL;
}

static void check_refs(Checker *c, const PVal *root, const PVal *v);

static void check_ref(Checker *c, const PVal *root, const PVal *v)
{
	const Node *ref = node_get(v->param->node, "ref");
	const char *want = node_text(ref, "kind");
	const Resource *target = find_resource(c->a, c->p, v->s);
	const Node *at = v->node ? v->node : res_name_node(c->r);
	if (!target || strcmp(target->kind, want)) {
		Diag *g = target ? error_once(c, "E0305", at->span, "`%s` must name a resource of kind `%s`; `%s` is a `%s`",
				       v->param->name, want, v->s, target->kind)
				 : error_once(c, "E0305", at->span, "`%s` names `%s`, but no resource has this name",
				       v->param->name, v->s);
		if (!g)
			return;
		diag_label(g, target ? "a `%s`, not a `%s`" : "unknown resource", target ? target->kind : "", want);
		const char *names[256];
		int n = 0;
		for (int i = 0; i < c->p->nresources && n < 256; i++)
			if (!strcmp(c->p->resources[i]->kind, want))
				names[n++] = c->p->resources[i]->name;
		const char *sug = did_you_mean(v->s, names, n);
		if (sug)
			diag_help(g, "did you mean `%s`?", sug);
		else if (target)
			diag_note(g, res_name_node(target)->span, "`%s` is defined here", target->name);
		return;
	}
	if (!resource_runs_in(target, c->env)) {
		Diag *g = error_once(c, "E0307", at->span, "resource `%s` runs in `%s`, but `%s` it names does not",
			       c->r->name, c->env->name, target->name);
		if (g) {
			diag_label(g, "missing in `%s`", c->env->name);
			diag_help(g, "add `%s` to the environments of `%s`, or limit `%s`'s", c->env->name, target->name,
				  c->r->name);
			diag_note(g, res_name_node(target)->span, "`%s` is defined here", target->name);
		}
		return;
	}
	/* another team's resource only when it is shared with this one's team
	 * (as for services' `uses`): naming it changes it (a queue's policy) */
	bool shared = target->team == c->r->team || !target->team || !c->r->team;
	for (int i = 0; i < target->nshared && !shared; i++)
		shared = target->shared_with[i] == c->r->team;
	if (!shared) {
		Diag *g = error_once(c, "E0213", at->span, "`%s` names `%s` of team `%s`, which is not shared with team `%s`",
			       c->r->name, target->name, target->team->name, c->r->team->name);
		if (g) {
			diag_label(g, "another team's resource");
			diag_help(g, "add `%s` to the `shared_with` of `%s`", c->r->team->name, target->name);
			diag_note(g, res_name_node(target)->span, "`%s` is defined here", target->name);
		}
		return;
	}
	/* values that must match: {here: there} */
	const Node *match = node_get(ref, "match");
	const PVal *tv = catalog_values(target, c->env);
	for (int i = 0; match && tv && i < match->n; i++) {
		const PVal *mine = pval_get(root, match->pairs[i].key->text);
		const PVal *theirs = pval_get(tv, match->pairs[i].val->text);
		char a[64], b[64];
		fmt_value(mine, a, sizeof a);
		fmt_value(theirs, b, sizeof b);
		if (!strcmp(a, b))
			continue;
		Diag *g = error_once(c, "E0306", at->span, "`%s` has %s = %s, but `%s` it names has %s = %s", c->r->name,
			       match->pairs[i].key->text, a, target->name, match->pairs[i].val->text, b);
		if (g) {
			diag_label(g, "%s does not match", match->pairs[i].key->text);
			const char *m = node_text(ref, "message");
			if (m)
				diag_help(g, "%s", m);
			const Node *tn = theirs && theirs->node ? theirs->node : res_name_node(target);
			diag_note(g, tn->span, "`%s`: %s = %s", target->name, match->pairs[i].val->text, b);
		}
	}
	/* values the named resource must have: {its-param: value} */
	const Node *req = node_get(ref, "require");
	for (int i = 0; req && tv && i < req->n; i++) {
		const PVal *theirs = pval_get(tv, req->pairs[i].key->text);
		char b[64];
		fmt_value(theirs, b, sizeof b);
		if (!strcmp(b, req->pairs[i].val->text))
			continue;
		Diag *g = error_once(c, "E0306", at->span, "`%s` names `%s`, which has %s = %s; it must have %s = %s",
			       c->r->name, target->name, req->pairs[i].key->text, b, req->pairs[i].key->text,
			       req->pairs[i].val->text);
		if (g) {
			diag_label(g, "`%s` cannot be named here", target->name);
			const char *m = node_text(ref, "require_message");
			if (m)
				diag_help(g, "%s", m);
			const Node *tn = theirs && theirs->node ? theirs->node : res_name_node(target);
			diag_note(g, tn->span, "`%s`: %s = %s", target->name, req->pairs[i].key->text, b);
		}
	}
}

static void check_refs(Checker *c, const PVal *root, const PVal *v)
{
	if (!v)
		return;
	if (v->kind == PV_STR && v->param && node_get(v->param->node, "ref"))
		check_ref(c, root, v);
	for (int i = 0; (v->kind == PV_LIST || v->kind == PV_OBJ) && i < v->n; i++)
		check_refs(c, root, v->items[i]);
}

/* Computes a resource's values (no reference checks): used for the
 * resource itself and, lazily, for the resources it names. */
static void compute(Arena *a, Platform *p, Resource *r, Diags *d, bool refs)
{
	const Kind *k = catalog_kind(p, r->kind);
	if (!k)
		return; /* resolve.c reports the unknown kind */
	Checker c = {.a = a, .p = p, .d = d, .r = r, .k = k};
	Schema *s = p->catalog->schema;
	const Node *dflt = node_get(p->defaults_resources, r->kind);
	const Node *params = node_get(r->node, "params");
	int before = d->errors, typed = d->errors;
	if (!r->env_params) {
		/* type checks of each written piece, once */
		if (dflt && !k->defaults_checked) {
			((Kind *)k)->defaults_checked = true;
			schema_check(s, dflt, k->params.check, d);
			extra_checks(&c, &k->params, dflt);
		}
		if (params) {
			schema_check(s, params, k->params.check, d);
			extra_checks(&c, &k->params, params);
		}
		for (int i = 0; r->overrides && r->overrides->kind == N_MAP && i < r->overrides->n; i++) {
			const Node *op = node_get(r->overrides->pairs[i].val, "params");
			if (op) {
				schema_check(s, op, k->params.check, d);
				extra_checks(&c, &k->params, op);
			}
		}
		r->env_params = arena_alloc(a, sizeof(PVal *) * (size_t)(r->nenvs + 1));
		typed = d->errors;
		if (d->errors == before) {
			for (int e = 0; e < r->nenvs; e++) {
				c.env = r->envs[e];
				const Node *ov = node_get(node_get(r->overrides, r->envs[e]->name), "params");
				const Node *m = node_merge(a, node_merge(a, dflt, params), ov);
				r->env_params[e] = build(&c, &k->params, m, false);
			}
		}
		r->kindp = k;
	}
	if (refs && typed == before && r->env_params[0]) {
		for (int e = 0; e < r->nenvs; e++) {
			c.env = r->envs[e];
			check_refs(&c, r->env_params[e], r->env_params[e]);
		}
	}
}

int catalog_check_resource(Arena *a, Platform *p, Resource *r, Diags *d)
{
	/* the resources this one names need their values first; the errors
	 * of each are counted by the call that finds them */
	int before = d->errors;
	static Schema *schema; /* the same for every compilation */
	if (!p->schema && !schema)
		schema = schema_load(arena_new_kept());
	Catalog *cat = catalog_load(a, p, d);
	cat->schema = p->schema ? p->schema : schema; /* lower.c's, when it is there */
	if (!cat->computed) {
		/* the first call computes them all: a scan per call would be
		 * quadratic in the number of resources */
		for (int i = 0; i < p->nresources; i++)
			if (p->resources[i] != r && !p->resources[i]->env_params)
				compute(a, p, p->resources[i], d, false);
		cat->computed = true;
	}
	compute(a, p, r, d, true);
	if (d->errors == 0) /* with any error, nothing is rendered */
		compute_check(a, p, r, d);
	return d->errors - before;
}
