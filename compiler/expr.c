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
 * a fuzz target). Evaluation lives in catalog.c, next to the values.
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
