/*
 * compute.c — what platformc computes for a claim, because it knows the
 * whole platform at compile time and function-patch-and-transform has no
 * loops: a kind's `computed` values and its `claims` (docs/catalog.md,
 * "Computed values and further claims").
 *
 *   computed:  values added to the claim's parameters, declared like
 *              parameters (their XRD schema) with a `value` template: the
 *              DynamoDB key attributes and index lists in the managed
 *              resource's shape, an SQS queue's redrive policy and access
 *              policy as JSON text.
 *   claims:    further claims per (resource, environment), of another kind
 *              (possibly `internal: true`): one `sns-subscription` per
 *              subscription of a topic, an `sqs` dead-letter queue.
 *
 * A template is YAML: a scalar is text with `${expression}` parts (the
 * catalog's expression language, expr_eval), a mapping an object, a
 * list a list, and three directives are mappings with these keys:
 *   {for: <path> | [<path>, ...] | referrers, value: T, where: E, distinct: true}
 *   {when: E, value: T, else: T}
 *   {json: T}
 * Expressions see the parameters, `self.{name,team,kind,external_name}`,
 * `cloud.{region,account,vpc_id,vpc_cidr,subnets,security_group,
 * secret_namespace}`, `referrers` (the resources that name this one
 * through a `ref`), `env`, `tier`, in access statements `grant.prefix` (the
 * `shared_with` prefix a team is limited to, "" for the whole resource),
 * inside a `for` the item's fields first,
 * and two functions: external_name(resource) and hash(text).
 *
 * A value whose expression is unknown (a parameter without a value) is
 * absent: an object leaves the field out, a list the item, and a JSON
 * document is written whole or not at all. Templates are parsed and their
 * names checked when the kind is loaded (E0301); they are evaluated by the
 * Crossplane backend, except the names of further claims, checked at check
 * time (E0303) so that two never collide.
 */
#include "platformc.h"

#include <stdio.h>
#include <string.h>

#define MAX_TMPL_DEPTH 24

typedef enum TKind { TK_LIT, TK_TEXT, TK_MAP, TK_SEQ, TK_FOR, TK_WHEN, TK_JSON } TKind;

typedef struct TPart {
	const char *text;      /* literal text, or NULL for an expression */
	Expr *e;
} TPart;

typedef struct Tmpl Tmpl;
struct Tmpl {
	TKind kind;
	const Node *node;
	TPart *parts;          /* TK_TEXT */
	int nparts;
	const char **keys;     /* TK_MAP */
	Tmpl **vals;           /* TK_MAP, TK_SEQ */
	int n;
	const char **from;     /* TK_FOR: parameter paths */
	int nfrom;
	bool referrers;        /* TK_FOR over `referrers` */
	bool distinct;         /* TK_FOR: drop an item equal to an earlier one */
	Expr *cond;            /* TK_FOR `where`, TK_WHEN `when` */
	Tmpl *value, *otherwise; /* TK_FOR/TK_WHEN/TK_JSON; TK_WHEN `else` */
};

/* Where a template is evaluated, for the checks made at load time: the
 * fields of a `for` item (a parameter, or a `referrers` item), then the
 * enclosing scopes, up to the kind's parameters and the built-in names. */
typedef struct Shape {
	const Param *obj;      /* NULL: an item without fields */
	bool referrer;
	const struct Shape *up;
} Shape;

typedef struct KClaim {
	const char *kind_name;
	const Kind *kind;      /* after compute_link */
	const Node *node;
	const char **from;     /* `for`: one claim per item (nfrom 0: one claim) */
	int nfrom;
	bool referrers;
	Expr *when;
	Tmpl *key, *external_name, *params;
} KClaim;

/* One statement of an access mode: the IAM actions (literal), the ARNs
 * (a template giving a list) and optional conditions (a template giving
 * an object: {Operator: {key: value}}). */
typedef struct KStatement {
	const char **actions;
	int nactions;
	Tmpl *resources, *conditions;
	Expr *when;
	const Node *node;
} KStatement;

typedef struct KMode {
	const char *name, *description;
	KStatement *st;
	int nst;
} KMode;

typedef struct Compute {
	Tmpl **values;         /* per k->computed.fields[i] */
	KClaim *claims;
	int nclaims;
	bool uses_referrers;
	bool uses_prefix;      /* an access statement reads `grant.prefix` */
	KMode *modes;          /* `access`: what a service using the resource may do */
	int nmodes;
	int values_mode;       /* `secret_values.mode`: the access mode that reads them; -1: none */
	Tmpl *values_data, *values_from; /* External Secrets `data` and `dataFrom` entries */
} Compute;

/* ------------------------------------------------------------ loading */

typedef struct Ld {
	Arena *a;
	Diags *d;
	const Kind *k;
	int errors;
} Ld;

#define lerr(L, at, ...) catalog_kind_error((L)->d, (L)->k, &(L)->errors, (at), __VA_ARGS__)

static Expr *parse_e(Ld *L, const Node *at, const char *src)
{
	char err[128];
	int pos;
	Expr *e = expr_parse(L->a, src, err, sizeof err, &pos);
	if (!e)
		lerr(L, at, "%s at offset %d of `%s`", err, pos, src);
	return e;
}

/* `text ${expr} text`: the end of an expression is the first `}` outside
 * a string literal. */
static Tmpl *parse_text(Ld *L, const Node *n)
{
	Tmpl *t = arena_alloc(L->a, sizeof *t);
	t->kind = TK_TEXT;
	t->node = n;
	const char *s = n->text;
	int cap = 4;
	t->parts = arena_alloc(L->a, sizeof(TPart) * (size_t)cap);
	while (*s) {
		const char *open = strstr(s, "${");
		size_t lit = open ? (size_t)(open - s) : strlen(s);
		const char *close = NULL;
		if (open) {
			bool str = false;
			for (const char *c = open + 2; *c && !close; c++) {
				if (*c == '"')
					str = !str;
				else if (*c == '\\' && str && c[1])
					c++;
				else if (*c == '}' && !str)
					close = c;
			}
			if (!close) {
				lerr(L, n, "`${` without its `}` in `%s`", n->text);
				return NULL;
			}
		}
		if (t->nparts + 2 > cap) {
			t->parts = arena_grow(L->a, t->parts, (size_t)cap, (size_t)cap * 2, sizeof(TPart));
			cap *= 2;
		}
		if (lit)
			t->parts[t->nparts++].text = arena_strndup(L->a, s, lit);
		if (!open)
			break;
		const char *src = arena_strndup(L->a, open + 2, (size_t)(close - open - 2));
		Expr *e = parse_e(L, n, src);
		if (!e)
			return NULL;
		t->parts[t->nparts++].e = e;
		s = close + 1;
	}
	return t;
}

/* `for`: a path, a list of paths, or `referrers`. */
static bool parse_for(Ld *L, const Node *n, const char ***from, int *nfrom, bool *referrers)
{
	if (n && n->kind == N_SCALAR && !n->is_null && !strcmp(n->text, "referrers")) {
		*referrers = true;
		return true;
	}
	int cnt = n && n->kind == N_SEQ ? n->n : 1;
	*from = arena_alloc(L->a, sizeof(char *) * (size_t)(cnt + 1));
	for (int i = 0; i < cnt; i++) {
		const Node *p = n && n->kind == N_SEQ ? n->items[i] : n;
		if (!p || p->kind != N_SCALAR || p->is_null || !p->textlen) {
			lerr(L, p ? p : n, "`for` takes a parameter path, a list of them, or `referrers`");
			return false;
		}
		(*from)[(*nfrom)++] = p->text;
	}
	return *nfrom > 0;
}

/* An expression given as a YAML scalar (`where`, `when`). */
static Expr *parse_cond(Ld *L, const Node *n, const char *what)
{
	if (n->kind != N_SCALAR || n->is_null) {
		lerr(L, n, "`%s` takes an expression", what);
		return NULL;
	}
	return parse_e(L, n, n->text);
}

static bool only_keys(Ld *L, const Node *n, const char *what, const char *const *keys)
{
	bool ok = true;
	for (int i = 0; i < n->n; i++) {
		bool known = false;
		for (int j = 0; keys[j] && !known; j++)
			known = !strcmp(keys[j], n->pairs[i].key->text);
		if (!known) {
			lerr(L, n->pairs[i].key, "unknown key `%s` in %s", n->pairs[i].key->text, what);
			ok = false;
		}
	}
	return ok;
}

static Tmpl *parse_tmpl(Ld *L, const Node *n, int depth)
{
	if (!n)
		return NULL;
	if (depth > MAX_TMPL_DEPTH) {
		lerr(L, n, "template nested too deeply");
		return NULL;
	}
	Tmpl *t = arena_alloc(L->a, sizeof *t);
	t->node = n;
	if (n->kind == N_SCALAR) {
		if (n->is_null) {
			lerr(L, n, "a template value cannot be empty");
			return NULL;
		}
		if (strstr(n->text, "${"))
			return parse_text(L, n);
		t->kind = TK_LIT;
		return t;
	}
	if (n->kind == N_SEQ) {
		t->kind = TK_SEQ;
		t->vals = arena_alloc(L->a, sizeof(Tmpl *) * (size_t)(n->n + 1));
		for (int i = 0; i < n->n; i++)
			if (!(t->vals[t->n++] = parse_tmpl(L, n->items[i], depth + 1)))
				return NULL;
		return t;
	}
	if (node_get(n, "for")) {
		static const char *const keys[] = {"for", "value", "where", "distinct", NULL};
		t->kind = TK_FOR;
		if (!only_keys(L, n, "a `for`", keys) ||
		    !parse_for(L, node_get(n, "for"), &t->from, &t->nfrom, &t->referrers))
			return NULL;
		const Node *w = node_get(n, "where"), *dn = node_get(n, "distinct");
		if (w && !(t->cond = parse_cond(L, w, "where")))
			return NULL;
		t->distinct = dn && dn->kind == N_SCALAR && !strcmp(dn->text, "true");
	} else if (node_get(n, "when")) {
		static const char *const keys[] = {"when", "value", "else", NULL};
		t->kind = TK_WHEN;
		const Node *w = node_get(n, "when");
		if (!only_keys(L, n, "a `when`", keys))
			return NULL;
		if (!(t->cond = parse_cond(L, w, "when")))
			return NULL;
		if (node_get(n, "else") && !(t->otherwise = parse_tmpl(L, node_get(n, "else"), depth + 1)))
			return NULL;
	} else if (node_get(n, "json")) {
		static const char *const keys[] = {"json", NULL};
		t->kind = TK_JSON;
		if (!only_keys(L, n, "a `json`", keys) || !(t->value = parse_tmpl(L, node_get(n, "json"), depth + 1)))
			return NULL;
		return t;
	} else {
		t->kind = TK_MAP;
		t->keys = arena_alloc(L->a, sizeof(char *) * (size_t)(n->n + 1));
		t->vals = arena_alloc(L->a, sizeof(Tmpl *) * (size_t)(n->n + 1));
		for (int i = 0; i < n->n; i++) {
			t->keys[t->n] = n->pairs[i].key->text;
			if (!(t->vals[t->n++] = parse_tmpl(L, n->pairs[i].val, depth + 1)))
				return NULL;
		}
		return t;
	}
	if (!node_get(n, "value")) {
		lerr(L, n, "`%s` needs a `value`", t->kind == TK_FOR ? "for" : "when");
		return NULL;
	}
	if (!(t->value = parse_tmpl(L, node_get(n, "value"), depth + 1)))
		return NULL;
	return t;
}

/* ---- checks: every name an expression reads exists where it is read ---- */

static bool is_one_of(const char *s, const char *const *list)
{
	for (int i = 0; list[i]; i++)
		if (!strcmp(s, list[i]))
			return true;
	return false;
}

static const char *const self_fields[] = {"name", "team", "kind", "external_name", NULL};
static const char *const cloud_fields[] = {"region",  "account",        "vpc_id",           "vpc_cidr",
					   "subnets", "security_group", "secret_namespace", NULL};
static const char *const referrer_fields[] = {"name", "team", "kind", "external_name", NULL};
static const char *const grant_fields[] = {"prefix", NULL};

static size_t seg_len(const char *path)
{
	const char *dot = strchr(path, '.');
	return dot ? (size_t)(dot - path) : strlen(path);
}

static bool seg_is(const char *path, const char *word)
{
	return seg_len(path) == strlen(word) && !strncmp(path, word, strlen(word));
}

static const Param *obj_field(const Param *obj, const char *path)
{
	size_t len = seg_len(path);
	for (int i = 0; obj && obj->type == T_OBJECT && i < obj->nfields; i++)
		if (strlen(obj->fields[i].name) == len && !strncmp(obj->fields[i].name, path, len))
			return &obj->fields[i];
	return NULL;
}

/* The parameter a path names in a shape (item fields first), or NULL;
 * *builtin is set for the names platformc provides. */
static const Param *shape_lookup(const Shape *sh, const char *path, bool *builtin)
{
	*builtin = false;
	if (!strcmp(path, "tier") || !strcmp(path, "env")) {
		*builtin = true;
		return NULL;
	}
	for (; sh; sh = sh->up) {
		if (sh->referrer) {
			if (!strchr(path, '.') && is_one_of(path, referrer_fields)) {
				*builtin = true;
				return NULL;
			}
			continue;
		}
		if (!sh->up) {
			/* the kind's own level: the built-in names, then the parameters */
			if ((seg_is(path, "self") && strchr(path, '.') && is_one_of(strchr(path, '.') + 1, self_fields)) ||
			    (seg_is(path, "cloud") && strchr(path, '.') && is_one_of(strchr(path, '.') + 1, cloud_fields)) ||
			    (seg_is(path, "grant") && strchr(path, '.') && is_one_of(strchr(path, '.') + 1, grant_fields)) ||
			    !strcmp(path, "referrers")) {
				*builtin = true;
				return NULL;
			}
		}
		if (obj_field(sh->obj, path))
			return catalog_param(sh->obj, path);
	}
	return NULL;
}

typedef struct PathCheck {
	Ld *L;
	const Shape *sh;
	const Node *at;
} PathCheck;

static void check_one_path(const Expr *e, void *ctx)
{
	PathCheck *c = ctx;
	bool builtin;
	if (!shape_lookup(c->sh, e->s, &builtin) && !builtin)
		lerr(c->L, c->at, "`%s` in a template is not a parameter or a name platformc provides "
		     "(self.*, cloud.*, grant.prefix, referrers, env, tier)", e->s);
}

static void check_one_call(const Expr *e, void *ctx)
{
	static const char *const fns[] = {"has", "len", "distinct", "unique_by", "all_in", "min", "max", "lookup",
					  "external_name", "hash", NULL};
	PathCheck *c = ctx;
	if (!is_one_of(e->s, fns))
		lerr(c->L, c->at, "unknown function `%s` in a template", e->s);
}

static void check_expr(Ld *L, const Shape *sh, const Node *at, const Expr *e)
{
	PathCheck c = {L, sh, at};
	expr_paths(e, check_one_path, &c);
	expr_each(e, X_CALL, check_one_call, &c);
}

/* The item of a `for` over an int parameter N: {index} for 1..N. */
static Param count_index = {.name = "index", .claim = "index", .type = T_INT};
static Param count_item = {.name = "item", .claim = "item", .type = T_OBJECT, .fields = &count_index, .nfields = 1};

/* The item a `for` path reaches (a list's item, a count's {index}, or the value itself). */
static const Param *for_item(Ld *L, const Shape *sh, const Node *at, const char *path, bool *ok)
{
	bool builtin;
	const Param *p = shape_lookup(sh, path, &builtin);
	if (!p) {
		lerr(L, at, "`for: %s`: not a parameter", path);
		*ok = false;
		return NULL;
	}
	if (p->type == T_INT)
		return &count_item;
	return p->type == T_LIST ? p->item : p;
}

static const char *type_word(const Param *t)
{
	return t->type == T_OBJECT ? "an object" : t->type == T_LIST ? "a list" : "a single value";
}

static void check_tmpl(Ld *L, const Tmpl *t, const Shape *sh, const Param *target, bool json)
{
	if (!t)
		return;
	bool scalar_target = !target || (target->type != T_OBJECT && target->type != T_LIST);
	switch (t->kind) {
	case TK_LIT:
	case TK_TEXT:
		/* one path alone may give a list (`${cloud.subnets}`) */
		if (!scalar_target && !(t->kind == TK_TEXT && t->nparts == 1 && t->parts[0].e &&
					t->parts[0].e->kind == X_PATH && target->type == T_LIST))
			lerr(L, t->node, "`%s` is %s, not text", target->name, type_word(target));
		for (int i = 0; i < t->nparts; i++)
			if (t->parts[i].e)
				check_expr(L, sh, t->node, t->parts[i].e);
		return;
	case TK_JSON:
		if (target && target->type != T_STRING)
			lerr(L, t->node, "`json` writes text, but `%s` is %s", target->name, type_word(target));
		check_tmpl(L, t->value, sh, NULL, true);
		return;
	case TK_MAP:
		if (target && target->type != T_OBJECT) {
			lerr(L, t->node, "`%s` is %s, not an object", target->name, type_word(target));
			return;
		}
		for (int i = 0; i < t->n; i++) {
			const Param *f = target ? obj_field(target, t->keys[i]) : NULL;
			if (target && !f)
				lerr(L, t->vals[i]->node, "`%s` is not a field of `%s`", t->keys[i], target->name);
			check_tmpl(L, t->vals[i], sh, f, json);
		}
		return;
	case TK_SEQ:
		if (target && target->type != T_LIST) {
			lerr(L, t->node, "`%s` is %s, not a list", target->name, type_word(target));
			return;
		}
		for (int i = 0; i < t->n; i++)
			check_tmpl(L, t->vals[i], sh, target ? target->item : NULL, json);
		return;
	case TK_WHEN:
		check_expr(L, sh, t->node, t->cond);
		check_tmpl(L, t->value, sh, target, json);
		check_tmpl(L, t->otherwise, sh, target, json);
		return;
	case TK_FOR: {
		if (target && target->type != T_LIST) {
			lerr(L, t->node, "`for` makes a list, but `%s` is %s", target->name, type_word(target));
			return;
		}
		const Param *item_target = target ? target->item : NULL;
		if (t->referrers) {
			Shape in = {NULL, true, sh};
			if (t->cond)
				check_expr(L, &in, t->node, t->cond);
			check_tmpl(L, t->value, &in, item_target, json);
			return;
		}
		for (int i = 0; i < t->nfrom; i++) {
			bool ok = true;
			Shape in = {for_item(L, sh, t->node, t->from[i], &ok), false, sh};
			if (!ok)
				return;
			if (t->cond)
				check_expr(L, &in, t->node, t->cond);
			check_tmpl(L, t->value, &in, item_target, json);
		}
		return;
	}
	}
}

/* Whether e reads the path `name`. */
static bool expr_uses(const Expr *e, const char *name)
{
	if (!e)
		return false;
	if (e->kind == X_PATH && !strcmp(e->s, name))
		return true;
	if (expr_uses(e->a, name) || expr_uses(e->b, name) || expr_uses(e->c, name))
		return true;
	for (int i = 0; i < e->nargs; i++)
		if (expr_uses(e->args[i], name))
			return true;
	return false;
}

static bool expr_uses_referrers(const Expr *e)
{
	return expr_uses(e, "referrers");
}

/* Whether evaluating t reads the path `name` (`referrers`: also a `for`
 * over them). */
static bool tmpl_uses(const Tmpl *t, const char *name)
{
	if (!t)
		return false;
	if ((t->kind == TK_FOR && t->referrers && !strcmp(name, "referrers")) || expr_uses(t->cond, name))
		return true;
	for (int i = 0; i < t->nparts; i++)
		if (expr_uses(t->parts[i].e, name))
			return true;
	for (int i = 0; i < t->n; i++)
		if (tmpl_uses(t->vals[i], name))
			return true;
	return tmpl_uses(t->value, name) || tmpl_uses(t->otherwise, name);
}

/* Whether evaluating t needs the resources that name this one. */
static bool tmpl_uses_referrers(const Tmpl *t)
{
	return tmpl_uses(t, "referrers");
}

/* `access: {<mode>: {description, statements: [{actions, resources,
 * conditions, when}]}}` (docs/catalog.md, "Access"). Its shape (a mapping of
 * modes, each with a non-empty list of statements, each with a non-empty list
 * of `service:Action`s and `resources`) is the kind schema's to check
 * (stdlib/kind-schema.yaml): a kind that fails it is never loaded this far.
 * What is left is what a schema cannot say: a mode's name, its templates. */
static void load_access(Ld *L, Compute *c, const Node *access, const Shape *root)
{
	if (!access || access->kind != N_MAP)
		return;
	c->modes = arena_alloc(L->a, sizeof(KMode) * (size_t)(access->n + 1));
	for (int i = 0; i < access->n; i++) {
		const Node *mn = access->pairs[i].val;
		/* a mode that failed left its slot to the next one: start it afresh
		 * (its count of statements would index past the next one's) */
		KMode *m = &c->modes[c->nmodes];
		*m = (KMode){0};
		m->name = access->pairs[i].key->text;
		if (!scalar_is_name(m->name, strlen(m->name))) {
			lerr(L, access->pairs[i].key, "access mode `%s` is not a name (lower-case letters, digits, `-`)",
			     m->name);
			continue;
		}
		const Node *sts = node_get(mn, "statements");
		if (node_get(mn, "description"))
			m->description = node_get(mn, "description")->text;
		if (!sts || sts->kind != N_SEQ)
			continue;
		m->st = arena_alloc(L->a, sizeof(KStatement) * (size_t)(sts->n + 1));
		bool ok = true;
		for (int j = 0; j < sts->n; j++) {
			const Node *sn = sts->items[j];
			KStatement *st = &m->st[m->nst];
			st->node = sn;
			const Node *an = node_get(sn, "actions"), *rn = node_get(sn, "resources");
			if (!an || an->kind != N_SEQ || !rn) {
				ok = false;
				continue;
			}
			st->actions = arena_alloc(L->a, sizeof(char *) * (size_t)(an->n + 1));
			for (int x = 0; x < an->n; x++)
				st->actions[st->nactions++] = an->items[x]->text;
			st->resources = parse_tmpl(L, rn, 0);
			if (st->resources && st->resources->kind != TK_SEQ && st->resources->kind != TK_FOR) {
				lerr(L, rn, "`resources` is a list of ARNs");
				ok = false;
			}
			check_tmpl(L, st->resources, root, NULL, false);
			if (node_get(sn, "conditions")) {
				st->conditions = parse_tmpl(L, node_get(sn, "conditions"), 0);
				check_tmpl(L, st->conditions, root, NULL, false);
			}
			if (node_get(sn, "when") && (st->when = parse_cond(L, node_get(sn, "when"), "when")))
				check_expr(L, root, sn, st->when);
			c->uses_prefix |= tmpl_uses(st->resources, "grant.prefix") ||
					  tmpl_uses(st->conditions, "grant.prefix") || expr_uses(st->when, "grant.prefix");
			m->nst++;
		}
		if (ok)
			c->nmodes++;
	}
}

int compute_load(Arena *a, Diags *d, Kind *k, const Node *computed, const Node *claims, const Node *access,
		 const Node *values)
{
	Ld L = {a, d, k, 0};
	Compute *c = arena_alloc(a, sizeof *c);
	k->compute = c;
	Shape root = {&k->params, false, NULL};
	load_access(&L, c, access, &root);
	c->values_mode = -1;
	/* the shapes of `secret_values` and `claims` are the kind schema's too */
	const Node *mn = values ? node_get(values, "mode") : NULL;
	if (mn) {
		for (int i = 0; i < c->nmodes; i++)
			if (!strcmp(c->modes[i].name, mn->text))
				c->values_mode = i;
		if (c->values_mode < 0)
			lerr(&L, mn, "`secret_values.mode`: `%s` is not one of the kind's `access` modes", mn->text);
		if (node_get(values, "data")) {
			c->values_data = parse_tmpl(&L, node_get(values, "data"), 0);
			check_tmpl(&L, c->values_data, &root, NULL, false);
		}
		if (node_get(values, "dataFrom")) {
			c->values_from = parse_tmpl(&L, node_get(values, "dataFrom"), 0);
			check_tmpl(&L, c->values_from, &root, NULL, false);
		}
	}
	if (computed && computed->kind == N_MAP) {
		c->values = arena_alloc(a, sizeof(Tmpl *) * (size_t)(k->computed.nfields + 1));
		for (int i = 0; i < k->computed.nfields; i++) {
			const Param *f = &k->computed.fields[i];
			const Node *v = node_get(node_get(computed, f->name), "value");
			c->values[i] = parse_tmpl(&L, v, 0);
			check_tmpl(&L, c->values[i], &root, f, false);
			c->uses_referrers |= tmpl_uses_referrers(c->values[i]);
		}
	}
	if (!claims || claims->kind != N_SEQ)
		return L.errors;
	c->claims = arena_alloc(a, sizeof(KClaim) * (size_t)(claims->n + 1));
	for (int i = 0; i < claims->n; i++) {
		const Node *n = claims->items[i];
		KClaim *kc = &c->claims[c->nclaims];
		kc->node = n;
		const Node *kn = node_get(n, "kind"), *w = node_get(n, "when");
		if (!kn || !node_get(n, "key") || !node_get(n, "params"))
			continue;
		kc->kind_name = kn->text;
		if (node_get(n, "for") && !parse_for(&L, node_get(n, "for"), &kc->from, &kc->nfrom, &kc->referrers))
			continue;
		if (w && !(kc->when = parse_cond(&L, w, "when")))
			continue;
		kc->key = parse_tmpl(&L, node_get(n, "key"), 0);
		kc->params = parse_tmpl(&L, node_get(n, "params"), 0);
		if (node_get(n, "external_name"))
			kc->external_name = parse_tmpl(&L, node_get(n, "external_name"), 0);
		if (!kc->key || !kc->params || (node_get(n, "external_name") && !kc->external_name))
			continue;
		if (kc->params->kind != TK_MAP) {
			lerr(&L, node_get(n, "params"), "`params` of a further claim is a mapping of its kind's parameters");
			continue;
		}
		c->uses_referrers |= kc->referrers || expr_uses_referrers(kc->when) || tmpl_uses_referrers(kc->key) ||
				     tmpl_uses_referrers(kc->params) || tmpl_uses_referrers(kc->external_name);
		c->nclaims++;
	}
	return L.errors;
}

/* The checks that need the other kinds: the claims' kinds exist, their
 * parameters are that kind's, required ones are given, and a kind with an
 * external name (a `primary` managed resource) gets one. */
int compute_link(Arena *a, Diags *d, Catalog *cat)
{
	int errors = 0;
	for (int list = 0; list < 2; list++) {
		Kind **kinds = list ? cat->internal : cat->kinds;
		int n = list ? cat->ninternal : cat->n;
		for (int i = 0; i < n; i++) {
			Kind *k = kinds[i];
			Compute *c = k->compute;
			Ld L = {a, d, k, 0};
			for (int j = 0; c && j < c->nclaims; j++) {
				KClaim *kc = &c->claims[j];
				const Node *kn = node_get(kc->node, "kind");
				kc->kind = catalog_kind_any(cat, kc->kind_name);
				if (!kc->kind) {
					lerr(&L, kn, "further claims of kind `%s`: no such kind", kc->kind_name);
					continue;
				}
				Shape root = {&k->params, false, NULL};
				Shape item = {NULL, kc->referrers, &root};
				const Shape *sh = &root;
				if (kc->nfrom) {
					bool ok = true;
					const Node *fn = node_get(kc->node, "for");
					item.obj = for_item(&L, &root, fn, kc->from[0], &ok);
					for (int f = 1; f < kc->nfrom && ok; f++)
						for_item(&L, &root, fn, kc->from[f], &ok);
					if (!ok)
						continue;
					sh = &item;
				} else if (kc->referrers) {
					sh = &item;
				}
				if (kc->when)
					check_expr(&L, sh, kc->node, kc->when);
				check_tmpl(&L, kc->key, sh, NULL, false);
				check_tmpl(&L, kc->external_name, sh, NULL, false);
				check_tmpl(&L, kc->params, sh, &kc->kind->params, false);
				for (int f = 0; f < kc->kind->params.nfields; f++) {
					const Param *pf = &kc->kind->params.fields[f];
					bool given = false;
					for (int x = 0; x < kc->params->n && !given; x++)
						given = !strcmp(kc->params->keys[x], pf->name);
					if (pf->required && !given)
						lerr(&L, node_get(kc->node, "params"), "further claims of kind `%s` need `%s`",
						     kc->kind_name, pf->name);
				}
				bool primary = false;
				for (int m = 0; m < kc->kind->nmrs; m++)
					primary |= kc->kind->mrs[m].primary;
				if (primary && !kc->external_name)
					lerr(&L, kc->node, "further claims of kind `%s` need an `external_name` (its `primary` "
					     "resource takes it)", kc->kind_name);
			}
			errors += L.errors;
		}
	}
	return errors;
}

/* --------------------------------------------------------- evaluation */

/* The resources by name and, per resource, the resources that name it
 * through a `ref` (in which environments): built once per platform. */
typedef struct RefList {
	const Resource *res;  /* the resource of this name */
	const Resource **from;
	const Env **env;
	int n, cap;
} RefList;

/* name -> RefList, in the arena */
typedef StrMap Index;

static void add_refs(Arena *a, Index *ix, const Resource *from, const Env *e, const PVal *v)
{
	if (!v)
		return;
	if (v->kind == PV_STR && v->param && node_get(v->param->node, "ref")) {
		RefList *l = strmap_get(ix, v->s);
		if (!l || (l->n && l->from[l->n - 1] == from && l->env[l->n - 1] == e))
			return;
		if (l->n == l->cap) {
			int cap = l->cap ? l->cap * 2 : 4;
			l->from = arena_grow(a, l->from, (size_t)l->cap, (size_t)cap, sizeof *l->from);
			l->env = arena_grow(a, l->env, (size_t)l->cap, (size_t)cap, sizeof *l->env);
			l->cap = cap;
		}
		l->from[l->n] = from;
		l->env[l->n++] = e;
	}
	for (int i = 0; (v->kind == PV_LIST || v->kind == PV_OBJ) && i < v->n; i++)
		add_refs(a, ix, from, e, v->items[i]);
}

static Index *index_of(Arena *a, const Platform *p)
{
	if (!p->catalog)
		return NULL;
	if (p->catalog->index)
		return p->catalog->index;
	Index *ix = arena_alloc(a, sizeof *ix);
	strmap_init_arena(ix, a);
	for (int i = 0; i < p->nresources; i++) {
		if (strmap_get(ix, p->resources[i]->name))
			continue;
		RefList *l = arena_alloc(a, sizeof *l);
		l->res = p->resources[i];
		strmap_put(ix, l->res->name, l);
	}
	for (int i = 0; i < p->nresources; i++) {
		const Resource *r = p->resources[i];
		for (int e = 0; r->env_params && e < r->nenvs; e++)
			add_refs(a, ix, r, r->envs[e], r->env_params[e]);
	}
	p->catalog->index = ix;
	return ix;
}

static const Resource *find_resource(Arena *a, const Platform *p, const char *name)
{
	Index *ix = index_of(a, p);
	const RefList *l = ix ? strmap_get(ix, name) : NULL;
	return l ? l->res : NULL;
}

const char *compute_external_name(Arena *a, const Resource *r, const Env *e)
{
	/* FIFO queues and topics must end in `.fifo` (AWS) */
	const PVal *fifo = pval_get(catalog_values(r, e), "fifo");
	bool suffix = fifo && fifo->kind == PV_BOOL && fifo->b;
	return arena_sprintf(a, "%s-%s%s", r->name, e->name, suffix ? ".fifo" : "");
}

typedef struct Ctx {
	Arena *a;
	const Platform *p;
	const Resource *r;
	const Env *e;
	const Kind *k;
	const char *prefix;    /* access statements: the grant's `prefix` ("" for all); NULL elsewhere */
} Ctx;

static PVal *pv_str(Arena *a, const char *s)
{
	PVal *v = arena_alloc(a, sizeof *v);
	v->kind = PV_STR;
	v->s = s;
	return v;
}

static PVal *pv_obj(Arena *a, int cap)
{
	PVal *v = arena_alloc(a, sizeof *v);
	v->kind = PV_OBJ;
	v->keys = arena_alloc(a, sizeof(char *) * (size_t)(cap + 1));
	v->items = arena_alloc(a, sizeof(PVal *) * (size_t)(cap + 1));
	return v;
}

static void pv_put(PVal *o, const char *k, PVal *v)
{
	o->keys[o->n] = k;
	o->items[o->n++] = v;
}

/* A scope: `inner`'s fields (an object item), then `outer`'s. A field the
 * item's parameter declares but the item lacks hides the outer one of the
 * same name (a global index without `sort_key` is not the table's). */
static const PVal *scope_in(Arena *a, const PVal *inner, const PVal *outer)
{
	if (!inner || inner->kind != PV_OBJ)
		return outer;
	const Param *ip = inner->param && inner->param->type == T_OBJECT ? inner->param : NULL;
	PVal *s = pv_obj(a, inner->n + (ip ? ip->nfields : 0) + outer->n);
	for (int i = 0; i < inner->n; i++)
		pv_put(s, inner->keys[i], inner->items[i]);
	for (int i = 0; ip && i < ip->nfields; i++)
		if (!pval_get(inner, ip->fields[i].name)) {
			PVal *none = arena_alloc(a, sizeof *none);
			none->kind = PV_NULL;
			pv_put(s, ip->fields[i].name, none);
		}
	for (int i = 0; i < outer->n; i++)
		pv_put(s, outer->keys[i], outer->items[i]);
	return s;
}

static PVal *referrer_items(Ctx *c)
{
	PVal *l = arena_alloc(c->a, sizeof *l);
	l->kind = PV_LIST;
	Index *ix = index_of(c->a, c->p);
	const RefList *rl = ix ? strmap_get(ix, c->r->name) : NULL;
	int n = 0;
	for (int i = 0; rl && i < rl->n; i++)
		n += rl->env[i] == c->e;
	l->items = arena_alloc(c->a, sizeof(PVal *) * (size_t)(n + 1));
	for (int i = 0; rl && i < rl->n; i++) {
		if (rl->env[i] != c->e)
			continue;
		const Resource *f = rl->from[i];
		PVal *o = pv_obj(c->a, 4);
		pv_put(o, "name", pv_str(c->a, f->name));
		pv_put(o, "team", pv_str(c->a, f->team ? f->team->name : ""));
		pv_put(o, "kind", pv_str(c->a, f->kind));
		pv_put(o, "external_name", pv_str(c->a, compute_external_name(c->a, f, c->e)));
		l->items[l->n++] = o;
	}
	return l;
}

/* The kind's level: self, cloud, referrers, then the parameters. */
static const PVal *root_scope(Ctx *c, bool referrers)
{
	const PVal *v = catalog_values(c->r, c->e);
	PVal *s = pv_obj(c->a, (v ? v->n : 0) + 4);
	PVal *self = pv_obj(c->a, 4), *cloud = pv_obj(c->a, 7);
	pv_put(self, "name", pv_str(c->a, c->r->name));
	pv_put(self, "team", pv_str(c->a, c->r->team ? c->r->team->name : ""));
	pv_put(self, "kind", pv_str(c->a, c->r->kind));
	pv_put(self, "external_name", pv_str(c->a, compute_external_name(c->a, c->r, c->e)));
	pv_put(cloud, "region", pv_str(c->a, c->p->region ? c->p->region : ""));
	pv_put(cloud, "account", pv_str(c->a, c->p->account ? c->p->account : ""));
	/* where a cluster-scoped managed resource's Kubernetes secrets live
	 * (the claims target); absent for namespaced ones (their own namespace) */
	if (!c->p->crossplane_target || strcmp(c->p->crossplane_target, "namespaced"))
		pv_put(cloud, "secret_namespace", pv_str(c->a, "crossplane-system"));
	/* the VPC of the environment's cluster: absent without one */
	const Node *net = env_network(c->p, c->e);
	if (net) {
		const Node *nv;
		if ((nv = node_get(net, "vpc_id")) && nv->kind == N_SCALAR)
			pv_put(cloud, "vpc_id", pv_str(c->a, nv->text));
		if ((nv = node_get(net, "cidr")) && nv->kind == N_SCALAR)
			pv_put(cloud, "vpc_cidr", pv_str(c->a, nv->text));
		if ((nv = node_get(net, "security_group")) && nv->kind == N_SCALAR)
			pv_put(cloud, "security_group", pv_str(c->a, nv->text));
		if ((nv = node_get(net, "subnets")) && nv->kind == N_SEQ) {
			PVal *l = arena_alloc(c->a, sizeof *l);
			l->kind = PV_LIST;
			l->items = arena_alloc(c->a, sizeof(PVal *) * (size_t)(nv->n + 1));
			for (int i = 0; i < nv->n; i++)
				l->items[l->n++] = pv_str(c->a, nv->items[i]->text);
			pv_put(cloud, "subnets", l);
		}
	}
	pv_put(s, "self", self);
	pv_put(s, "cloud", cloud);
	if (c->prefix) {
		PVal *grant = pv_obj(c->a, 1);
		pv_put(grant, "prefix", pv_str(c->a, c->prefix));
		pv_put(s, "grant", grant);
	}
	if (referrers)
		pv_put(s, "referrers", referrer_items(c));
	for (int i = 0; v && i < v->n; i++)
		pv_put(s, v->keys[i], v->items[i]);
	return s;
}

/* external_name(resource) and hash(text) */
static bool functions(void *ctx, const char *name, const EvalResult *args, int nargs, EvalResult *out)
{
	Ctx *c = ctx;
	if (!strcmp(name, "external_name") && nargs == 1) {
		const Resource *r = args[0].kind == EV_STR ? find_resource(c->a, c->p, args[0].s) : NULL;
		*out = (EvalResult){0};
		if (r && resource_runs_in(r, c->e))
			*out = (EvalResult){.kind = EV_STR, .s = compute_external_name(c->a, r, c->e)};
		return true;
	}
	if (!strcmp(name, "hash") && nargs == 1) {
		*out = (EvalResult){0};
		if (args[0].kind == EV_STR)
			*out = (EvalResult){.kind = EV_STR, .s = arena_sprintf(c->a, "%08x",
					(unsigned)(hash_bytes(args[0].s, strlen(args[0].s)) & 0xffffffffu))};
		return true;
	}
	return false;
}

static EvalResult eval_e(Ctx *c, const Expr *e, const PVal *scope)
{
	return expr_eval_fn(c->k, e, scope, c->e, functions, c);
}

static bool holds(Ctx *c, const Expr *e, const PVal *scope)
{
	EvalResult r = eval_e(c, e, scope);
	return r.kind == EV_BOOL && r.b;
}

/* The items a `for` path reaches from a scope: through objects and lists;
 * a list at the end gives its items. */
static void reach(const PVal *v, const char *path, const PVal ***out, int *n, int *cap, Arena *a)
{
	if (!v)
		return;
	if (v->kind == PV_LIST) {
		for (int i = 0; i < v->n; i++)
			reach(v->items[i], path, out, n, cap, a);
		return;
	}
	if (*path) {
		if (v->kind != PV_OBJ)
			return;
		size_t len = seg_len(path);
		const char *rest = path[len] ? path + len + 1 : path + len;
		for (int i = 0; i < v->n; i++)
			if (strlen(v->keys[i]) == len && !strncmp(v->keys[i], path, len)) {
				reach(v->items[i], rest, out, n, cap, a);
				return;
			}
		return;
	}
	/* an int N: N items {index: 1..N} (one claim per Aurora instance) */
	int count = v->kind == PV_NUM && v->param && v->param->type == T_INT && v->num >= 1 ? (int)v->num : 0;
	for (int i = 0; i < (count ? count : 1); i++) {
		if (*n == *cap) {
			int nc = *cap ? *cap * 2 : 8;
			*out = arena_grow(a, (void *)*out, (size_t)*cap, (size_t)nc, sizeof(PVal *));
			*cap = nc;
		}
		if (!count) {
			(*out)[(*n)++] = v;
			break;
		}
		PVal *item = arena_alloc(a, sizeof *item), *idx = arena_alloc(a, sizeof *idx);
		idx->kind = PV_NUM;
		idx->param = &count_index;
		idx->num = i + 1;
		idx->s = arena_sprintf(a, "%d", i + 1);
		item->kind = PV_OBJ;
		item->param = &count_item;
		item->keys = arena_alloc(a, sizeof(char *));
		item->items = arena_alloc(a, sizeof(PVal *));
		item->keys[0] = "index";
		item->items[0] = idx;
		item->n = 1;
		(*out)[(*n)++] = item;
	}
}

static int for_items(Ctx *c, const char *const *from, int nfrom, bool referrers, const PVal *scope,
		     const PVal ***items)
{
	int n = 0, cap = 0;
	*items = NULL;
	if (referrers) {
		const PVal *l = pval_get(scope, "referrers");
		for (int i = 0; l && l->kind == PV_LIST && i < l->n; i++)
			reach(l->items[i], "", items, &n, &cap, c->a);
		return n;
	}
	for (int i = 0; i < nfrom; i++)
		reach(scope, from[i], items, &n, &cap, c->a);
	return n;
}

static bool dnode_same(const DNode *x, const DNode *y)
{
	if (x->kind != y->kind || x->n != y->n)
		return false;
	switch (x->kind) {
	case D_BOOL:
	case D_INT: return x->i == y->i;
	case D_NUM:
	case D_STR: return !strcmp(x->s, y->s);
	case D_MAP:
		for (int i = 0; i < x->n; i++)
			if (strcmp(x->pairs[i].key, y->pairs[i].key) || !dnode_same(x->pairs[i].val, y->pairs[i].val))
				return false;
		return true;
	case D_SEQ:
		for (int i = 0; i < x->n; i++)
			if (!dnode_same(x->items[i], y->items[i]))
				return false;
		return true;
	default: return true;
	}
}

static const char *scalar_text(Arena *a, const DNode *v)
{
	if (v->kind == D_STR || v->kind == D_NUM)
		return v->s;
	if (v->kind == D_BOOL)
		return v->i ? "true" : "false";
	if (v->kind == D_INT)
		return arena_sprintf(a, "%lld", v->i);
	return NULL;
}

/* A scalar typed for where it lands: a duration becomes whole seconds
 * (expressions see durations in milliseconds, text is a duration), an int
 * an integer, text stays text. */
static DNode *typed_for(Arena *a, DNode *v, const Param *target)
{
	if (!target || !v)
		return v;
	double num;
	long long ms;
	bool b;
	const char *text = scalar_text(a, v);
	switch (target->type) {
	case T_DURATION:
		if (v->kind == D_INT)
			return doc_int(a, v->i / 1000);
		if (v->kind == D_NUM && scalar_number(v->s, &num))
			return doc_int(a, (long long)(num / 1000));
		if (v->kind == D_STR && scalar_duration(v->s, &ms))
			return doc_int(a, ms / 1000);
		return v;
	case T_INT:
		if (text && scalar_number(text, &num) && v->kind != D_BOOL)
			return doc_int(a, (long long)num);
		return v;
	case T_NUMBER:
	case T_PERCENT:
		if (text && scalar_number(text, &num) && v->kind != D_BOOL)
			return doc_num(a, num);
		return v;
	case T_BOOL:
		if (v->kind == D_STR && scalar_bool(v->s, &b))
			return doc_bool(a, b);
		return v;
	case T_OBJECT:
	case T_LIST:
		return v;
	default:
		return text && v->kind != D_STR ? doc_str(a, text) : v;
	}
}

static DNode *of_result(Arena *a, EvalResult r)
{
	switch (r.kind) {
	case EV_BOOL: return doc_bool(a, r.b);
	case EV_NUM: return doc_num(a, r.num);
	case EV_STR: return doc_str(a, r.s);
	default: return NULL;
	}
}


/* Evaluates a template; NULL when absent. In a JSON document (json) any
 * absent part makes the whole absent. */
static DNode *ev(Ctx *c, const Tmpl *t, const PVal *scope, const Param *target, bool json)
{
	if (!t)
		return NULL;
	switch (t->kind) {
	case TK_LIT: {
		/* a duration written in a template has its unit (`14d`) */
		long long ms;
		if (target && target->type == T_DURATION && scalar_duration(t->node->text, &ms))
			return doc_int(c->a, ms / 1000);
		return typed_for(c->a, doc_typed_scalar(c->a, t->node), target);
	}
	case TK_TEXT: {
		if (t->nparts == 1 && t->parts[0].e && t->parts[0].e->kind == X_PATH) {
			/* `${cloud.subnets}`: a path to a list of strings gives the list */
			const PVal *v = pval_get(scope, t->parts[0].e->s);
			if (v && v->kind == PV_LIST) {
				DNode *s = doc_seq(c->a);
				for (int i = 0; i < v->n; i++)
					if (v->items[i]->kind == PV_STR)
						doc_push_str(c->a, s, v->items[i]->s);
				return s;
			}
		}
		if (t->nparts == 1 && t->parts[0].e)
			return typed_for(c->a, of_result(c->a, eval_e(c, t->parts[0].e, scope)), target);
		StrBuf b;
		sb_init(&b);
		for (int i = 0; i < t->nparts; i++) {
			if (t->parts[i].text) {
				sb_puts(&b, t->parts[i].text);
				continue;
			}
			DNode *v = of_result(c->a, eval_e(c, t->parts[i].e, scope));
			if (!v) {
				sb_free(&b);
				return NULL;
			}
			sb_puts(&b, scalar_text(c->a, v));
		}
		DNode *v = typed_for(c->a, doc_str(c->a, b.data ? b.data : ""), target);
		sb_free(&b);
		return v;
	}
	case TK_MAP: {
		DNode *m = doc_map(c->a);
		for (int i = 0; i < t->n; i++) {
			const Param *f = target ? obj_field(target, t->keys[i]) : NULL;
			DNode *v = ev(c, t->vals[i], scope, f, json);
			if (!v && json)
				return NULL;
			if (v)
				doc_set(c->a, m, f ? f->claim : t->keys[i], v);
		}
		return m;
	}
	case TK_SEQ: {
		DNode *s = doc_seq(c->a);
		for (int i = 0; i < t->n; i++) {
			DNode *v = ev(c, t->vals[i], scope, target ? target->item : NULL, json);
			if (!v && json)
				return NULL;
			if (v)
				doc_push(c->a, s, v);
		}
		return s;
	}
	case TK_WHEN:
		if (holds(c, t->cond, scope))
			return ev(c, t->value, scope, target, json);
		return ev(c, t->otherwise, scope, target, json);
	case TK_JSON: {
		DNode *v = ev(c, t->value, scope, NULL, true);
		if (!v)
			return NULL;
		StrBuf b;
		sb_init(&b);
		json_write(&b, v, JSON_COMPACT);
		DNode *s = doc_str(c->a, b.data);
		sb_free(&b);
		return s;
	}
	case TK_FOR: {
		const PVal **items;
		int n = for_items(c, t->from, t->nfrom, t->referrers, scope, &items);
		DNode *s = doc_seq(c->a);
		for (int i = 0; i < n; i++) {
			const PVal *in = scope_in(c->a, items[i], scope);
			if (t->cond && !holds(c, t->cond, in))
				continue;
			DNode *v = ev(c, t->value, in, target ? target->item : NULL, json);
			if (!v && json)
				return NULL;
			bool seen = false;
			for (int j = 0; v && t->distinct && j < s->n && !seen; j++)
				seen = dnode_same(s->items[j], v);
			if (v && !seen)
				doc_push(c->a, s, v);
		}
		return s->n ? s : NULL; /* no items: absent */
	}
	}
	return NULL;
}

void compute_values(Arena *a, const Platform *p, const Resource *r, const Env *e, DNode *params)
{
	const Kind *k = r->kindp;
	if (!k || !k->compute || !k->compute->values || !catalog_values(r, e))
		return;
	Ctx c = {a, p, r, e, k, NULL};
	const PVal *scope = root_scope(&c, k->compute->uses_referrers);
	for (int i = 0; i < k->computed.nfields; i++) {
		DNode *v = ev(&c, k->compute->values[i], scope, &k->computed.fields[i], false);
		if (v)
			doc_set(a, params, k->computed.fields[i].claim, v);
	}
}

/* `<resource>.<key>` (a dot: no resource name has one, so no further
 * claim can take a resource's name), cut to 63 characters with a hash. */
static const char *child_name(Arena *a, const char *parent, const char *key)
{
	const char *full = arena_sprintf(a, "%s.%s", parent, key);
	size_t len = strlen(full);
	if (len <= MAX_NAME_LEN)
		return full;
	unsigned h = (unsigned)(hash_bytes(full, len) & 0xffffffffu);
	size_t keep = MAX_NAME_LEN - 9;
	while (keep && (full[keep - 1] == '-' || full[keep - 1] == '.'))
		keep--;
	return arena_sprintf(a, "%.*s-%08x", (int)keep, full, h);
}

int compute_children(Arena *a, const Platform *p, const Resource *r, const Env *e, ChildClaim **out)
{
	const Kind *k = r->kindp;
	*out = NULL;
	if (!k || !k->compute || !k->compute->nclaims || !catalog_values(r, e))
		return 0;
	Ctx c = {a, p, r, e, k, NULL};
	const PVal *root = root_scope(&c, k->compute->uses_referrers);
	int n = 0, cap = 0;
	for (int i = 0; i < k->compute->nclaims; i++) {
		const KClaim *kc = &k->compute->claims[i];
		if (!kc->kind)
			continue;
		const PVal **items = NULL;
		int nitems = kc->nfrom || kc->referrers ? for_items(&c, kc->from, kc->nfrom, kc->referrers, root, &items) : 1;
		for (int j = 0; j < nitems; j++) {
			const PVal *scope = items ? scope_in(a, items[j], root) : root;
			if (kc->when && !holds(&c, kc->when, scope))
				continue;
			DNode *key = ev(&c, kc->key, scope, NULL, false);
			const char *ks = key ? scalar_text(a, key) : NULL;
			if (!ks || !*ks)
				continue;
			/* a key that is not a name (a kind's mistake) still gives a valid, stable name */
			if (!scalar_is_name(ks, strlen(ks)) || strlen(ks) > MAX_NAME_LEN)
				ks = arena_sprintf(a, "k%08x", (unsigned)(hash_bytes(ks, strlen(ks)) & 0xffffffffu));
			DNode *ext = ev(&c, kc->external_name, scope, NULL, false);
			DNode *params = ev(&c, kc->params, scope, &kc->kind->params, false);
			if (n == cap) {
				int nc = cap ? cap * 2 : 4;
				*out = arena_grow(a, *out, (size_t)cap, (size_t)nc, sizeof(ChildClaim));
				cap = nc;
			}
			(*out)[n++] = (ChildClaim){
				.kind = kc->kind,
				.name = child_name(a, r->name, ks),
				.file = arena_sprintf(a, "claim-%s.yaml", ks),
				.external_name = ext ? scalar_text(a, ext) : NULL,
				.params = params ? params : doc_map(a),
			};
		}
	}
	return n;
}

/* The claims are made only to compare their names: each environment's are
 * dropped (an arena scope) once compared, so the front end keeps none of
 * them. The index the evaluation builds on first use (referrers,
 * external_name()) is built here, in the front end's lifetime: the
 * backends evaluate templates inside their own scopes. */
int compute_check(Arena *a, Platform *p, const Resource *r, Diags *d)
{
	int errors = 0;
	if (!r->kindp || !r->kindp->compute)
		return 0;
	index_of(a, p);
	if (!r->kindp->compute->nclaims)
		return 0;
	for (int e = 0; e < r->nenvs; e++) {
		ChildClaim *ch;
		ArenaMark m = arena_mark(a);
		int n = compute_children(a, p, r, r->envs[e], &ch);
		/* a collision keeps the scope: the diagnostic quotes its names */
		for (int i = 0; i < n; i++)
			for (int j = 0; j < i; j++) {
				if (strcmp(ch[i].name, ch[j].name) && strcmp(ch[i].file, ch[j].file))
					continue;
				const Node *at = node_get(r->node, "params");
				Diag *g = diag_error(d, "E0303", (at ? at : r->node)->span,
						     "resource `%s`: two `%s` claims would be named `%s` in `%s`", r->name,
						     ch[i].kind->name, ch[i].name, r->envs[e]->name);
				diag_label(g, "gives the same claim twice");
				diag_help(g, "the kind `%s` makes one claim per entry: remove the repeated entry", r->kind);
				return errors + 1;
			}
		arena_release(a, m);
	}
	return errors;
}

bool compute_makes(const Kind *k, const Kind *other)
{
	for (int i = 0; k->compute && i < k->compute->nclaims; i++)
		if (k->compute->claims[i].kind == other)
			return true;
	return false;
}

/* ------------------------------------------------------------ access */

int compute_nmodes(const Kind *k)
{
	return k && k->compute ? k->compute->nmodes : 0;
}

const char *compute_mode_name(const Kind *k, int i)
{
	return k->compute->modes[i].name;
}

const char *compute_mode_description(const Kind *k, int i)
{
	return k->compute->modes[i].description;
}

int compute_mode_index(const Kind *k, const char *name)
{
	for (int i = 0; i < compute_nmodes(k); i++)
		if (!strcmp(k->compute->modes[i].name, name))
			return i;
	return -1;
}

/* The statements mode `mode` of r's kind grants in e, as
 * [{Action: [...], Resource: [...], Condition: {...}}]; a statement whose
 * `when` does not hold, or whose resources are absent, is left out. */
DNode *compute_access(Arena *a, const Platform *p, const Resource *r, const Env *e, int mode, const char *prefix)
{
	const Kind *k = r->kindp;
	DNode *out = doc_seq(a);
	if (mode < 0 || mode >= compute_nmodes(k) || !catalog_values(r, e))
		return out;
	Ctx c = {a, p, r, e, k, prefix ? prefix : ""};
	const PVal *scope = root_scope(&c, k->compute->uses_referrers);
	const KMode *m = &k->compute->modes[mode];
	for (int i = 0; i < m->nst; i++) {
		const KStatement *st = &m->st[i];
		if (st->when && !holds(&c, st->when, scope))
			continue;
		DNode *res = ev(&c, st->resources, scope, NULL, false);
		if (!res || res->kind != D_SEQ || !res->n)
			continue;
		DNode *s = doc_push_map(a, out);
		DNode *acts = doc_set_seq(a, s, "Action");
		for (int j = 0; j < st->nactions; j++)
			doc_push_str(a, acts, st->actions[j]);
		doc_set(a, s, "Resource", res);
		DNode *cond = st->conditions ? ev(&c, st->conditions, scope, NULL, false) : NULL;
		if (cond && cond->kind == D_MAP && cond->n)
			doc_set(a, s, "Condition", cond);
	}
	return out;
}

bool compute_has_prefixes(const Kind *k)
{
	return k && k->compute && k->compute->uses_prefix;
}

const char *compute_json(Arena *a, const DNode *v)
{
	StrBuf b;
	sb_init(&b);
	json_write(&b, v, JSON_COMPACT);
	const char *out = arena_strdup(a, b.data ? b.data : "");
	sb_free(&b);
	return out;
}

int compute_values_mode(const Kind *k)
{
	return k && k->compute ? k->compute->values_mode : -1;
}

/* r's `secret_values` in e: the External Secrets `data` and `dataFrom`
 * entries (lists, or NULL when absent). */
void compute_secret_values(Arena *a, const Platform *p, const Resource *r, const Env *e, DNode **data,
			   DNode **data_from)
{
	const Kind *k = r->kindp;
	*data = *data_from = NULL;
	if (compute_values_mode(k) < 0 || !catalog_values(r, e))
		return;
	Ctx c = {a, p, r, e, k, NULL};
	const PVal *scope = root_scope(&c, k->compute->uses_referrers);
	*data = ev(&c, k->compute->values_data, scope, NULL, false);
	*data_from = ev(&c, k->compute->values_from, scope, NULL, false);
}
