/* test_expr.c — the expression language of catalog kinds (expr.c) and its
 * evaluation over parameter values (catalog.c). */
#include "platformc.h"
#include "unit.h"

static Expr *parse(Arena *a, const char *src)
{
	char err[128];
	int pos;
	return expr_parse(a, src, err, sizeof err, &pos);
}

static const char *parse_error(Arena *a, const char *src, int *pos)
{
	static char err[128];
	return expr_parse(a, src, err, sizeof err, pos) ? NULL : err;
}

TEST(expr_parse_shapes)
{
	Arena *a = arena_new();
	Expr *e = parse(a, "min_acu <= max_acu");
	CHECK(e && e->kind == X_BIN && e->op == XOP_LE);
	CHECK_STR(e->a->s, "min_acu");
	e = parse(a, "mode == \"serverless\" || !has(instance_class)");
	CHECK(e && e->op == XOP_OR && e->b->kind == X_NOT && e->b->a->kind == X_CALL);
	e = parse(a, "a ? 1 : b ? 2 : 3");
	CHECK(e && e->kind == X_COND && e->c->kind == X_COND);
	e = parse(a, "1 + 2 * 3 - 4 / 2");
	CHECK(e && e->op == XOP_SUB && e->a->op == XOP_ADD && e->a->b->op == XOP_MUL);
	e = parse(a, "encryption.at_rest && x.y.z != false");
	CHECK(e && e->a->kind == X_PATH && !strcmp(e->a->s, "encryption.at_rest"));
	arena_free(a);
}

TEST(expr_parse_errors)
{
	Arena *a = arena_new();
	int pos = -1;
	CHECK(parse_error(a, "", &pos));
	CHECK(parse_error(a, "a <", &pos));
	CHECK(parse_error(a, "(a", &pos));
	CHECK(parse_error(a, "\"open", &pos));
	CHECK(parse_error(a, "a b", &pos) && pos == 2);
	CHECK(parse_error(a, "a = b", &pos));
	CHECK(parse_error(a, "f(1,2,3,4,5,6,7,8,9)", &pos));
	CHECK(parse_error(a, "Upper", &pos));
	CHECK(parse_error(a, "1..2.3.4.5.6.7.8.9.0.1.2.3.4.5.6.7.8.9.0.1.2.3.4.5.6.7.8.9.0.1.2.3.4.5.6.7.8.9.0.1.2.3.4.5.6.7.8.9.0.1", &pos));
	/* depth is bounded: deep nesting is an error, not a stack overflow */
	char deep[4096];
	int n = 0;
	for (int i = 0; i < 1000; i++)
		deep[n++] = '(';
	deep[n++] = '1';
	for (int i = 0; i < 1000; i++)
		deep[n++] = ')';
	deep[n] = 0;
	CHECK(parse_error(a, deep, &pos));
	for (n = 0; n < 2000; n++)
		deep[n] = '!';
	deep[n++] = 'a';
	deep[n] = 0;
	CHECK(parse_error(a, deep, &pos));
	CHECK(parse(a, "((((1))))") != NULL);
	arena_free(a);
}

static PVal *num(Arena *a, double v)
{
	PVal *p = arena_alloc(a, sizeof *p);
	p->kind = PV_NUM;
	p->num = v;
	return p;
}

static PVal *str(Arena *a, const char *s)
{
	PVal *p = arena_alloc(a, sizeof *p);
	p->kind = PV_STR;
	p->s = s;
	return p;
}

TEST(expr_eval_unknown_holds)
{
	Arena *a = arena_new();
	PVal obj = {.kind = PV_OBJ};
	const char *keys[] = {"min_acu", "max_acu", "mode"};
	PVal *vals[] = {num(a, 4), num(a, 2), str(a, "serverless")};
	obj.keys = keys, obj.items = vals, obj.n = 3;
	Env prod = {.name = "production", .prod = true};
	EvalResult r = expr_eval(NULL, parse(a, "min_acu <= max_acu"), &obj, &prod);
	CHECK(r.kind == EV_BOOL && !r.b);
	r = expr_eval(NULL, parse(a, "min_acu <= nothing"), &obj, &prod);
	CHECK(r.kind == EV_NONE); /* unknown: a rule over an absent value holds */
	r = expr_eval(NULL, parse(a, "has(mode) && !has(nothing) && tier == \"prod\""), &obj, &prod);
	CHECK(r.kind == EV_BOOL && r.b);
	r = expr_eval(NULL, parse(a, "mode == \"serverless\" ? min_acu * 0.12 * 730 : 0"), &obj, &prod);
	CHECK(r.kind == EV_NUM && r.num > 350.3 && r.num < 350.5);
	r = expr_eval(NULL, parse(a, "min_acu / 0"), &obj, &prod);
	CHECK(r.kind == EV_NONE);
	arena_free(a);
}
