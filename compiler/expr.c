/*
 * expr.c — the expression language of catalog kinds (constraints, `when`,
 * cost models). A recursive-descent parser, one function per level:
 *
 *   expr    := or ('?' expr ':' expr)?
 *   or      := and ('||' and)*
 *   and     := cmp ('&&' cmp)*
 *   cmp     := add (('=='|'!='|'<'|'<='|'>'|'>=') add)?
 *   add     := mul (('+'|'-') mul)*
 *   mul     := unary (('*'|'/') unary)*
 *   unary   := '!' unary | '-' unary | primary
 *   primary := NUMBER | STRING | 'true' | 'false' | path | IDENT '(' args? ')' | '(' expr ')'
 *   path    := IDENT ('.' IDENT)*          IDENT := [a-z_][a-z0-9_]*
 *
 * It never reads past the NUL, recursion is bounded by MAX_EXPR_DEPTH and
 * input length by MAX_EXPR_LEN, so any byte string is safe to parse (it is
 * a fuzz target).
 *
 * Evaluation works over a typed value (PVal, catalog_check.c builds them) with
 * four results: none (an absent value, or a type mismatch), bool, number,
 * string. A comparison or arithmetic over none is none, and a rule that
 * is none holds, so a constraint over an absent parameter never fails.
 * The built-in functions are one table (`builtins`); a call the table
 * does not know goes to the caller's functions (expr_eval_fn), else none.
 */
#include "platformc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct Parser {
	Arena *a;
	const char *src;
	int pos, depth;
	char *err;
	size_t errlen;
	int errpos;
	bool failed;
} Parser;

static Expr *parse_expr(Parser *p);

static void fail(Parser *p, const char *msg)
{
	if (p->failed)
		return;
	p->failed = true;
	p->errpos = p->pos;
	snprintf(p->err, p->errlen, "%s", msg);
}

static void skip_ws(Parser *p)
{
	while (p->src[p->pos] == ' ' || p->src[p->pos] == '\t' || p->src[p->pos] == '\n')
		p->pos++;
}

static bool accept(Parser *p, const char *tok)
{
	skip_ws(p);
	size_t n = strlen(tok);
	if (strncmp(p->src + p->pos, tok, n) != 0)
		return false;
	/* `=` alone, `<` before `=`, `|`/`&` alone are not these tokens */
	if ((n == 1 && (tok[0] == '<' || tok[0] == '>' || tok[0] == '!')) && p->src[p->pos + 1] == '=')
		return false;
	p->pos += (int)n;
	return true;
}

static Expr *node(Parser *p, ExprKind k)
{
	Expr *e = arena_alloc(p->a, sizeof *e);
	e->kind = k;
	e->pos = p->pos;
	return e;
}

static bool ident_start(char c)
{
	return (c >= 'a' && c <= 'z') || c == '_';
}

static bool ident_char(char c)
{
	return ident_start(c) || (c >= '0' && c <= '9');
}

static Expr *binary(Parser *p, int op, Expr *l, Expr *r)
{
	Expr *e = node(p, X_BIN);
	e->op = op;
	e->a = l;
	e->b = r;
	e->pos = l ? l->pos : p->pos;
	return e;
}

static bool enter(Parser *p)
{
	if (++p->depth > MAX_EXPR_DEPTH) {
		fail(p, "expression nested too deeply");
		return false;
	}
	return true;
}

static Expr *parse_primary(Parser *p)
{
	skip_ws(p);
	const char *s = p->src + p->pos;
	int start = p->pos;
	if (*s == '(') {
		p->pos++;
		Expr *e = parse_expr(p);
		if (!accept(p, ")"))
			fail(p, "expected `)`");
		return e;
	}
	if (*s == '"') {
		int i = 1;
		while (s[i] && s[i] != '"')
			i++;
		if (!s[i]) {
			fail(p, "unterminated string");
			return NULL;
		}
		Expr *e = node(p, X_STR);
		e->s = arena_strndup(p->a, s + 1, (size_t)i - 1);
		p->pos += i + 1;
		return e;
	}
	if ((*s >= '0' && *s <= '9') || (*s == '.' && s[1] >= '0' && s[1] <= '9')) {
		int i = 0;
		while ((s[i] >= '0' && s[i] <= '9') || s[i] == '.')
			i++;
		char buf[64];
		if (i >= (int)sizeof buf) {
			fail(p, "number too long");
			return NULL;
		}
		memcpy(buf, s, (size_t)i);
		buf[i] = 0;
		Expr *e = node(p, X_NUM);
		if (!scalar_number(buf, &e->num)) {
			fail(p, "invalid number");
			return NULL;
		}
		p->pos += i;
		return e;
	}
	if (ident_start(*s)) {
		int i = 0;
		while (ident_char(s[i]) || (s[i] == '.' && ident_start(s[i + 1])))
			i++;
		char *word = arena_strndup(p->a, s, (size_t)i);
		p->pos += i;
		if (!strcmp(word, "true") || !strcmp(word, "false")) {
			Expr *e = node(p, X_BOOL);
			e->num = word[0] == 't';
			e->pos = start;
			return e;
		}
		skip_ws(p);
		if (p->src[p->pos] == '(' && !strchr(word, '.')) {
			p->pos++;
			Expr *e = node(p, X_CALL);
			e->pos = start;
			e->s = word;
			Expr *args[8];
			skip_ws(p);
			if (p->src[p->pos] != ')') {
				do {
					if (e->nargs == (int)ARRAY_LEN(args)) {
						fail(p, "too many arguments");
						return NULL;
					}
					args[e->nargs++] = parse_expr(p);
					if (p->failed)
						return NULL;
				} while (accept(p, ","));
			}
			if (!accept(p, ")")) {
				fail(p, "expected `)` after the arguments");
				return NULL;
			}
			e->args = arena_alloc(p->a, sizeof(Expr *) * (size_t)(e->nargs + 1));
			memcpy(e->args, args, sizeof(Expr *) * (size_t)e->nargs);
			return e;
		}
		Expr *e = node(p, X_PATH);
		e->pos = start;
		e->s = word;
		return e;
	}
	fail(p, *s ? "unexpected character" : "unexpected end of expression");
	return NULL;
}

static Expr *parse_unary(Parser *p)
{
	if (!enter(p))
		return NULL;
	Expr *e;
	int at = (skip_ws(p), p->pos);
	if (accept(p, "!")) {
		e = node(p, X_NOT);
		e->pos = at;
		e->a = parse_unary(p);
	} else if (accept(p, "-")) {
		e = node(p, X_NEG);
		e->pos = at;
		e->a = parse_unary(p);
	} else {
		e = parse_primary(p);
	}
	p->depth--;
	return p->failed ? NULL : e;
}

static Expr *parse_mul(Parser *p)
{
	Expr *e = parse_unary(p);
	while (!p->failed) {
		if (accept(p, "*"))
			e = binary(p, XOP_MUL, e, parse_unary(p));
		else if (accept(p, "/"))
			e = binary(p, XOP_DIV, e, parse_unary(p));
		else
			break;
	}
	return e;
}

static Expr *parse_add(Parser *p)
{
	Expr *e = parse_mul(p);
	while (!p->failed) {
		if (accept(p, "+"))
			e = binary(p, XOP_ADD, e, parse_mul(p));
		else if (accept(p, "-"))
			e = binary(p, XOP_SUB, e, parse_mul(p));
		else
			break;
	}
	return e;
}

static Expr *parse_cmp(Parser *p)
{
	Expr *e = parse_add(p);
	static const struct {
		const char *tok;
		int op;
	} ops[] = {{"==", XOP_EQ}, {"!=", XOP_NE}, {"<=", XOP_LE}, {">=", XOP_GE}, {"<", XOP_LT}, {">", XOP_GT}};
	for (size_t i = 0; !p->failed && i < ARRAY_LEN(ops); i++)
		if (accept(p, ops[i].tok))
			return binary(p, ops[i].op, e, parse_add(p));
	return e;
}

static Expr *parse_and(Parser *p)
{
	Expr *e = parse_cmp(p);
	while (!p->failed && accept(p, "&&"))
		e = binary(p, XOP_AND, e, parse_cmp(p));
	return e;
}

static Expr *parse_or(Parser *p)
{
	Expr *e = parse_and(p);
	while (!p->failed && accept(p, "||"))
		e = binary(p, XOP_OR, e, parse_and(p));
	return e;
}

static Expr *parse_expr(Parser *p)
{
	if (!enter(p))
		return NULL;
	Expr *e = parse_or(p);
	if (!p->failed && accept(p, "?")) {
		Expr *c = node(p, X_COND);
		c->pos = e->pos;
		c->a = e;
		c->b = parse_expr(p);
		if (!p->failed && !accept(p, ":"))
			fail(p, "expected `:` in `c ? a : b`");
		c->c = p->failed ? NULL : parse_expr(p);
		e = c;
	}
	p->depth--;
	return p->failed ? NULL : e;
}

Expr *expr_parse(Arena *a, const char *src, char *err, size_t errlen, int *errpos)
{
	Parser p = {.a = a, .src = src, .err = err, .errlen = errlen};
	if (strlen(src) > MAX_EXPR_LEN) {
		snprintf(err, errlen, "expression longer than %d bytes", MAX_EXPR_LEN);
		*errpos = 0;
		return NULL;
	}
	Expr *e = parse_expr(&p);
	skip_ws(&p);
	if (!p.failed && p.src[p.pos])
		fail(&p, "unexpected text after the expression");
	if (p.failed) {
		*errpos = p.errpos;
		return NULL;
	}
	return e;
}

void expr_each(const Expr *e, ExprKind kind, void (*fn)(const Expr *e, void *ctx), void *ctx)
{
	if (!e)
		return;
	if (e->kind == kind)
		fn(e, ctx);
	expr_each(e->a, kind, fn, ctx);
	expr_each(e->b, kind, fn, ctx);
	expr_each(e->c, kind, fn, ctx);
	for (int i = 0; i < e->nargs; i++)
		expr_each(e->args[i], kind, fn, ctx);
}

void expr_paths(const Expr *e, void (*fn)(const Expr *path, void *ctx), void *ctx)
{
	expr_each(e, X_PATH, fn, ctx);
}

/* ------------------------------------------------------------ values */

const PVal *pval_get(const PVal *obj, const char *path)
{
	const PVal *v = obj;
	while (v && *path) {
		if (v->kind != PV_OBJ)
			return NULL;
		const char *dot = strchr(path, '.');
		size_t len = dot ? (size_t)(dot - path) : strlen(path);
		const PVal *next = NULL;
		for (int i = 0; i < v->n && !next; i++)
			if (strlen(v->keys[i]) == len && !strncmp(v->keys[i], path, len))
				next = v->items[i];
		v = next;
		path += len + (dot ? 1 : 0);
	}
	return v;
}

void pval_gather(const PVal *v, const char *path, const PVal **out, int *n, int cap, bool *through_list)
{
	if (!v || *n >= cap)
		return;
	if (v->kind == PV_LIST && *path) {
		*through_list = true;
		for (int i = 0; i < v->n; i++)
			pval_gather(v->items[i], path, out, n, cap, through_list);
		return;
	}
	if (!*path) {
		out[(*n)++] = v;
		return;
	}
	if (v->kind != PV_OBJ)
		return;
	const char *dot = strchr(path, '.');
	size_t len = dot ? (size_t)(dot - path) : strlen(path);
	for (int i = 0; i < v->n; i++)
		if (strlen(v->keys[i]) == len && !strncmp(v->keys[i], path, len))
			pval_gather(v->items[i], path + len + (dot ? 1 : 0), out, n, cap, through_list);
}

bool pval_same(const PVal *x, const PVal *y)
{
	if (!x || !y || x->kind != y->kind)
		return x == y;
	switch (x->kind) {
	case PV_BOOL: return x->b == y->b;
	case PV_NUM: return x->num == y->num;
	case PV_STR: return !strcmp(x->s, y->s);
	case PV_LIST:
		if (x->n != y->n)
			return false;
		for (int i = 0; i < x->n; i++)
			if (!pval_same(x->items[i], y->items[i]))
				return false;
		return true;
	case PV_OBJ:
		if (x->n != y->n)
			return false;
		for (int i = 0; i < x->n; i++)
			if (!pval_same(x->items[i], pval_get(y, x->keys[i])))
				return false;
		return true;
	default: return true;
	}
}

const PVal *expr_all_in_outlier(const PVal *scope, const Expr *e)
{
	if (e->nargs < 2 || e->args[0]->kind != X_PATH)
		return NULL;
	const PVal *leaves[512];
	int n = 0;
	bool tl = false;
	pval_gather(scope, e->args[0]->s, leaves, &n, (int)ARRAY_LEN(leaves), &tl);
	for (int i = 0; i < n; i++) {
		bool listed = leaves[i]->kind != PV_STR;
		for (int j = 1; j < e->nargs && !listed; j++)
			listed = e->args[j]->kind == X_STR && !strcmp(e->args[j]->s, leaves[i]->s);
		if (!listed)
			return leaves[i];
	}
	return NULL;
}

const PVal *expr_unique_by_conflict(const PVal *scope, const Expr *e, const PVal **earlier)
{
	if (e->nargs < 2 || e->args[0]->kind != X_STR)
		return NULL;
	const PVal *leaves[512];
	int n = 0;
	bool tl = false;
	for (int i = 1; i < e->nargs; i++)
		if (e->args[i]->kind == X_PATH)
			pval_gather(scope, e->args[i]->s, leaves, &n, (int)ARRAY_LEN(leaves), &tl);
	const char *f = e->args[0]->s;
	for (int i = 0; i < n; i++)
		for (int j = 0; j < i; j++) {
			const PVal *ki = pval_get(leaves[i], f), *kj = pval_get(leaves[j], f);
			if (ki && kj && ki->kind == PV_STR && kj->kind == PV_STR && !strcmp(ki->s, kj->s) &&
			    !pval_same(leaves[i], leaves[j])) {
				if (earlier)
					*earlier = leaves[j];
				return leaves[i];
			}
		}
	return NULL;
}

/* -------------------------------------------------------- evaluation */

typedef struct EvalCtx {
	const Kind *k;
	const PVal *scope;
	const Env *env;
	EvalFn fn;             /* the caller's functions (expr_eval_fn), or NULL */
	void *fnctx;
} EvalCtx;

static EvalResult eval(const EvalCtx *c, const Expr *e);

static EvalResult ev_bool(bool b)
{
	return (EvalResult){.kind = EV_BOOL, .b = b};
}

static EvalResult ev_num(double num)
{
	return (EvalResult){.kind = EV_NUM, .num = num};
}

static EvalResult ev_str(const char *s)
{
	return (EvalResult){.kind = EV_STR, .s = s};
}

static EvalResult ev_of(const PVal *v)
{
	if (!v)
		return (EvalResult){0};
	switch (v->kind) {
	case PV_BOOL: return ev_bool(v->b);
	case PV_NUM: return ev_num(v->num);
	case PV_STR: return ev_str(v->s);
	case PV_LIST: return ev_num(v->n); /* a list compares by its length */
	default: return (EvalResult){0};
	}
}

static bool truthy(EvalResult r)
{
	return r.kind == EV_BOOL && r.b;
}

/* ---- the built-in functions (docs/catalog.md), one rule each ---- */

static EvalResult fn_has(const EvalCtx *c, const Expr *e)
{
	const PVal *v = pval_get(c->scope, e->args[0]->s);
	return ev_bool(v && v->kind != PV_NULL);
}

static EvalResult fn_len(const EvalCtx *c, const Expr *e)
{
	const PVal *v = pval_get(c->scope, e->args[0]->s);
	return ev_num(v ? (v->kind == PV_LIST ? v->n : v->kind == PV_STR ? (double)strlen(v->s) : 1) : 0);
}

static EvalResult fn_distinct(const EvalCtx *c, const Expr *e)
{
	const PVal *leaves[512];
	int n = 0;
	bool tl = false;
	for (int i = 0; i < e->nargs; i++)
		if (e->args[i]->kind == X_PATH)
			pval_gather(c->scope, e->args[i]->s, leaves, &n, (int)ARRAY_LEN(leaves), &tl);
	for (int i = 0; i < n; i++)
		for (int j = 0; j < i; j++)
			if (leaves[i]->kind == PV_STR && leaves[j]->kind == PV_STR && !strcmp(leaves[i]->s, leaves[j]->s))
				return ev_bool(false);
	return ev_bool(true);
}

static EvalResult fn_lookup(const EvalCtx *c, const Expr *e)
{
	EvalResult x = eval(c, e->args[1]), r = {0};
	const Node *t = c->k ? node_get(c->k->cost_tables, e->args[0]->s) : NULL;
	const Node *v = x.kind == EV_STR ? node_get(t, x.s) : NULL;
	if (v && v->kind == N_SCALAR && scalar_number(v->text, &r.num))
		r.kind = EV_NUM;
	return r;
}

static EvalResult fn_min_max(const EvalCtx *c, const Expr *e)
{
	EvalResult x = eval(c, e->args[0]), y = eval(c, e->args[1]);
	if (x.kind != EV_NUM || y.kind != EV_NUM)
		return (EvalResult){0};
	return ev_num((e->s[1] == 'i') == (x.num < y.num) ? x.num : y.num);
}

static EvalResult fn_unique_by(const EvalCtx *c, const Expr *e)
{
	return ev_bool(expr_unique_by_conflict(c->scope, e, NULL) == NULL);
}

static EvalResult fn_all_in(const EvalCtx *c, const Expr *e)
{
	return ev_bool(expr_all_in_outlier(c->scope, e) == NULL);
}

/* A call of a built-in applies when it has `nargs` arguments (-1: any)
 * and its first is of kind `first` (-1: any); otherwise it is unknown. */
static const struct Builtin {
	const char *name;
	int nargs;
	int first;
	EvalResult (*fn)(const EvalCtx *c, const Expr *e);
} builtins[] = {
	{"has", 1, X_PATH, fn_has},
	{"len", 1, X_PATH, fn_len},
	{"distinct", -1, -1, fn_distinct},
	{"lookup", 2, X_STR, fn_lookup},
	{"min", 2, -1, fn_min_max},
	{"max", 2, -1, fn_min_max},
	{"unique_by", -1, -1, fn_unique_by},
	{"all_in", -1, -1, fn_all_in},
};

bool expr_builtin(const char *name)
{
	for (size_t i = 0; i < ARRAY_LEN(builtins); i++)
		if (!strcmp(builtins[i].name, name))
			return true;
	return false;
}

static EvalResult eval_call(const EvalCtx *c, const Expr *e)
{
	for (size_t i = 0; i < ARRAY_LEN(builtins); i++) {
		const struct Builtin *b = &builtins[i];
		if (strcmp(b->name, e->s) != 0)
			continue;
		if ((b->nargs < 0 || e->nargs == b->nargs) && (b->first < 0 || (int)e->args[0]->kind == b->first))
			return b->fn(c, e);
		break;
	}
	EvalResult r = {0};
	if (c->fn) {
		EvalResult args[8];
		for (int i = 0; i < e->nargs && i < (int)ARRAY_LEN(args); i++)
			args[i] = eval(c, e->args[i]);
		if (c->fn(c->fnctx, e->s, args, e->nargs, &r))
			return r;
	}
	return (EvalResult){0};
}

static EvalResult eval_binary(const EvalCtx *c, const Expr *e)
{
	if (e->op == XOP_AND || e->op == XOP_OR) {
		bool xb = truthy(eval(c, e->a));
		if (e->op == XOP_AND && !xb)
			return ev_bool(false);
		if (e->op == XOP_OR && xb)
			return ev_bool(true);
		return ev_bool(truthy(eval(c, e->b)));
	}
	EvalResult x = eval(c, e->a), y = eval(c, e->b);
	if (!x.kind || !y.kind || x.kind != y.kind)
		return (EvalResult){0}; /* unknown: a rule over an absent value holds */
	if (e->op >= XOP_ADD) {
		if (x.kind != EV_NUM)
			return (EvalResult){0};
		switch (e->op) {
		case XOP_ADD: return ev_num(x.num + y.num);
		case XOP_SUB: return ev_num(x.num - y.num);
		case XOP_MUL: return ev_num(x.num * y.num);
		default: return y.num == 0 ? (EvalResult){0} : ev_num(x.num / y.num);
		}
	}
	int cmp;
	if (x.kind == EV_NUM)
		cmp = x.num < y.num ? -1 : x.num > y.num;
	else if (x.kind == EV_STR)
		cmp = strcmp(x.s, y.s);
	else
		cmp = (int)x.b - (int)y.b;
	switch (e->op) {
	case XOP_EQ: return ev_bool(cmp == 0);
	case XOP_NE: return ev_bool(cmp != 0);
	case XOP_LT: return ev_bool(cmp < 0);
	case XOP_LE: return ev_bool(cmp <= 0);
	case XOP_GT: return ev_bool(cmp > 0);
	default: return ev_bool(cmp >= 0);
	}
}

/* One switch over the expression kinds, each case its evaluation rule.
 * one piece: the cases share only the dispatch; splitting them apart would
 * scatter the language's semantics over helpers that each hold one case. */
static EvalResult eval(const EvalCtx *c, const Expr *e)
{
	if (!e)
		return (EvalResult){0};
	switch (e->kind) {
	case X_NUM: return ev_num(e->num);
	case X_STR: return ev_str(e->s);
	case X_BOOL: return ev_bool(e->num != 0);
	case X_PATH:
		if (!strcmp(e->s, "tier"))
			return ev_str(c->env && c->env->prod ? "prod" : "nonprod");
		if (!strcmp(e->s, "env"))
			return ev_str(c->env ? c->env->name : "");
		return ev_of(pval_get(c->scope, e->s));
	case X_NOT: return ev_bool(!truthy(eval(c, e->a)));
	case X_NEG: {
		EvalResult x = eval(c, e->a);
		return x.kind == EV_NUM ? ev_num(-x.num) : (EvalResult){0};
	}
	case X_COND: return eval(c, truthy(eval(c, e->a)) ? e->b : e->c);
	case X_CALL: return eval_call(c, e);
	case X_BIN: return eval_binary(c, e);
	}
	return (EvalResult){0};
}

EvalResult expr_eval(const Kind *k, const Expr *e, const PVal *scope, const Env *env)
{
	EvalCtx c = {k, scope, env, NULL, NULL};
	return eval(&c, e);
}

EvalResult expr_eval_fn(const Kind *k, const Expr *e, const PVal *scope, const Env *env, EvalFn fn, void *ctx)
{
	EvalCtx c = {k, scope, env, fn, ctx};
	return eval(&c, e);
}
