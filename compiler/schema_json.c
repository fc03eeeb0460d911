/*
 * schema_json.c — `platformc schema`: the JSON Schema (draft-07) of
 * platform.yaml, or of a file it includes, for editors. Written from the
 * loaded schema (schema.c) and, when given a catalog, with each built-in
 * kind's `params` behind `if kind == ...` (catalog_doc_params_json,
 * catalog_doc.c). docs/platform.schema.json and
 * docs/platform-included.schema.json are this output: a DNode tree written
 * by json.c, in the layout these files have always had.
 */
#include "platformc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct JsCtx {
	Arena *a;
	Schema *s;
	const Catalog *c;      /* the built-in kinds; NULL: params untyped */
} JsCtx;

/* The schema's layout: objects and arrays on one line, but for the
 * `properties` of an object and the `allOf` of a resource, which take a line
 * each entry (json.c's DJ_* layout). Keys are appended as written, a repeated
 * `description` included. */
static DNode *js_map(Arena *a)
{
	return json_inline(doc_map(a));
}

static DNode *js_seq(Arena *a)
{
	return json_inline(doc_seq(a));
}

static DNode *js_ref(Arena *a, const char *fmt, const char *name)
{
	DNode *m = js_map(a);
	doc_append(a, m, "$ref", doc_strf(a, fmt, name));
	return m;
}

static DNode *js_type(const JsCtx *x, const Type *t, int ind);

static void js_scalar_props(Arena *a, DNode *m, const Type *t)
{
	const char *type = "string";
	switch (t->kind) {
	case T_INT: type = "integer"; break;
	case T_NUMBER: case T_PERCENT: type = "number"; break;
	case T_BOOL: type = "boolean"; break;
	default: break;
	}
	if (t->njson) {
		DNode *types = doc_append(a, m, "type", js_seq(a));
		for (int i = 0; i < t->njson; i++)
			doc_push_str(a, types, t->json[i]);
	} else if (t->kind == T_QUANTITY) {
		DNode *both = doc_append(a, m, "type", js_seq(a));
		doc_push_str(a, both, "string");
		doc_push_str(a, both, "number");
	} else {
		doc_append(a, m, "type", doc_str(a, type));
	}
	if (schema_type_pattern(t->kind))
		doc_append(a, m, "pattern", doc_str(a, schema_type_pattern(t->kind)));
	else if (t->pattern)
		doc_append(a, m, "pattern", doc_str(a, t->pattern));
	if (t->kind == T_NAME)
		doc_append(a, m, "maxLength", doc_int(a, 63));
	if (t->max_len)
		doc_append(a, m, "maxLength", doc_int(a, t->max_len));
	if (t->kind == T_PERCENT) {
		doc_append(a, m, "exclusiveMinimum", doc_int(a, 0));
		doc_append(a, m, "exclusiveMaximum", doc_int(a, 100));
	}
	if (t->has_min)
		doc_append(a, m, "minimum", doc_num(a, t->min));
	if (t->has_max)
		doc_append(a, m, "maximum", doc_num(a, t->max));
	if (t->nenums) {
		DNode *e = doc_append(a, m, "enum", js_seq(a));
		for (int i = 0; i < t->nenums; i++)
			doc_push_str(a, e, t->enums[i]);
	}
	if (t->what)
		doc_append(a, m, "description", doc_str(a, t->what));
}

/* The resource catalog's part of the editor schema: a resource's `kind` is one of
 * the built-in kinds, and its `params` (and `overrides.<env>.params`, and
 * `defaults.resources.<kind>`) are typed by the kind's (catalog_doc.c). */
static void js_kind_enum(Arena *a, DNode *m, const Catalog *c)
{
	DNode *e = doc_append(a, m, "enum", js_seq(a));
	for (int i = 0; i < c->n; i++)
		doc_push_str(a, e, c->kinds[i]->name);
}

static void js_kind_ifs(Arena *a, DNode *m, const Catalog *c, int ind)
{
	DNode *all = doc_append(a, m, "allOf", json_break(doc_seq(a), ind));
	for (int i = 0; i < c->n; i++) {
		const char *k = c->kinds[i]->name;
		DNode *item = doc_push(a, all, js_map(a));
		DNode *when = doc_append(a, item, "if", js_map(a));
		DNode *kind = doc_append(a, doc_append(a, when, "properties", js_map(a)), "kind", js_map(a));
		doc_append(a, kind, "const", doc_str(a, k));
		doc_push_str(a, doc_append(a, when, "required", js_seq(a)), "kind");
		DNode *props = doc_append(a, doc_append(a, item, "then", js_map(a)), "properties", js_map(a));
		doc_append(a, props, "params", js_ref(a, "#/definitions/params-%s", k));
		DNode *env = doc_append(a, doc_append(a, props, "overrides", js_map(a)), "additionalProperties", js_map(a));
		doc_append(a, doc_append(a, env, "properties", js_map(a)), "params",
			   js_ref(a, "#/definitions/params-%s", k));
	}
}

static DNode *js_kind_defaults(Arena *a, const Catalog *c, const char *doc, int ind)
{
	DNode *m = js_map(a);
	doc_append(a, m, "type", doc_str(a, "object"));
	doc_append(a, m, "additionalProperties", doc_bool(a, false));
	DNode *props = doc_append(a, m, "properties", json_depth(doc_map(a), ind));
	for (int i = 0; i < c->n; i++)
		doc_append(a, props, c->kinds[i]->name, js_ref(a, "#/definitions/params-%s", c->kinds[i]->name));
	if (doc)
		doc_append(a, m, "description", doc_str(a, doc));
	return m;
}

/* An object type's fields, one a line (at `ind` + 1). */
static void js_object(const JsCtx *x, DNode *m, const Type *t, int ind)
{
	Arena *a = x->a;
	doc_append(a, m, "type", doc_str(a, "object"));
	doc_append(a, m, "additionalProperties", doc_bool(a, false));
	if (t->doc)
		doc_append(a, m, "description", doc_str(a, t->doc));
	DNode *props = doc_append(a, m, "properties", json_break(doc_map(a), ind + 1));
	bool resource = x->c && t->name && !strcmp(t->name, "Resource");
	for (int i = 0; i < t->nfields; i++) {
		const Field *f = &t->fields[i];
		if (x->c && t->name && !strcmp(t->name, "Defaults") && !strcmp(f->name, "resources")) {
			doc_append(a, props, f->name, js_kind_defaults(a, x->c, f->doc, ind + 2));
			continue;
		}
		DNode *v = doc_append(a, props, f->name, js_type(x, f->type, ind + 3));
		if (resource && !strcmp(f->name, "kind"))
			js_kind_enum(a, v, x->c);
		if (f->doc && v->n) /* not on `{}`, any value */
			doc_set(a, v, "description", doc_str(a, f->doc)); /* the field's words over its type's */
	}
	DNode *req = NULL;
	for (int i = 0; i < t->nfields; i++)
		if (t->fields[i].required)
			doc_push_str(a, req ? req : (req = doc_append(a, m, "required", js_seq(a))), t->fields[i].name);
	if (resource && x->c->n)
		js_kind_ifs(a, m, x->c, ind + 1);
}

static DNode *js_type(const JsCtx *x, const Type *t, int ind)
{
	Arena *a = x->a;
	if (t->kind == T_OBJECT && t->name && ind > 2)
		return js_ref(a, "#/definitions/%s", t->name);
	DNode *m = js_map(a);
	switch (t->kind) {
	case T_OBJECT:
		js_object(x, m, t, ind);
		break;
	case T_LIST:
		doc_append(a, m, "type", doc_str(a, "array"));
		doc_append(a, m, "items", js_type(x, t->elem, ind + 1));
		if (t->min_items)
			doc_append(a, m, "minItems", doc_int(a, t->min_items));
		break;
	case T_MAP:
		doc_append(a, m, "type", doc_str(a, "object"));
		doc_append(a, m, "propertyNames", js_type(x, t->key, ind + 1));
		doc_append(a, m, "additionalProperties", js_type(x, t->elem, ind + 1));
		break;
	case T_UNION: {
		DNode *alts = doc_append(a, m, "oneOf", js_seq(a));
		for (int i = 0; i < t->nalts; i++)
			doc_push(a, alts, js_type(x, t->alts[i], ind + 1));
		break;
	}
	case T_ANY:
		break;
	default:
		js_scalar_props(a, m, t);
	}
	return m;
}

void schema_json_emit(Schema *s, const Catalog *c, SchemaDoc which, StrBuf *o)
{
	Arena *a = arena_new();
	JsCtx x = {.a = a, .s = s, .c = c};
	DNode *root = doc_map(a);
	bool included = which == SCHEMA_INCLUDED;
	doc_set_str(a, root, "$schema", "http://json-schema.org/draft-07/schema#");
	if (which == SCHEMA_KIND) {
		doc_set_str(a, root, "$id", "https://platformc.dev/schema/kind.schema.json");
		doc_set_str(a, root, "title", "a resource kind (catalog/<kind>/kind.yaml)");
		doc_set_str(a, root, "description",
			    "A resource kind of platformc " PLATFORMC_VERSION
			    ", built in (catalog/) or the platform's own (`platform.catalog`); generated from "
			    "stdlib/kind-schema.yaml by `platformc schema --kind`. What a schema cannot say "
			    "(expressions, templates, references between sections) platformc checks (E0301).");
	} else if (included) {
		doc_set_str(a, root, "$id", "https://platformc.dev/schema/platform-included.schema.json");
		doc_set_str(a, root, "title", "a file included by platform.yaml");
		doc_set_str(a, root, "description",
			    "A file that platform.yaml lists under `include` (platformc " PLATFORMC_VERSION
			    "); generated from stdlib/schema.yaml and catalog/ by `platformc schema --included`.");
	} else {
		doc_set_str(a, root, "$id", "https://platformc.dev/schema/platform.schema.json");
		doc_set_str(a, root, "title", "platform.yaml");
		doc_set_str(a, root, "description",
			    "The input of platformc " PLATFORMC_VERSION
			    "; generated from stdlib/schema.yaml and catalog/ by `platformc schema`.");
	}
	DNode *defs = doc_set_map(a, root, "definitions");
	/* every object type, in a stable (sorted) order */
	const char **names = xmalloc(sizeof(char *) * s->types.cap);
	int nn = 0;
	for (size_t i = 0; i < s->types.cap; i++) {
		const Type *t = s->types.keys[i] ? s->types.vals[i] : NULL;
		if (t && t->kind == T_OBJECT && t != s->root)
			names[nn++] = s->types.keys[i];
	}
	qsort(names, (size_t)nn, sizeof *names, str_cmp_ptr);
	for (int i = 0; i < nn; i++)
		doc_append(a, defs, names[i], js_type(&x, schema_type(s, names[i]), 2));
	free(names);
	/* each built-in kind's params (sorted: the catalog's order) */
	for (int i = 0; c && i < c->n; i++)
		doc_append(a, defs, arena_sprintf(a, "params-%s", c->kinds[i]->name), catalog_doc_params_json(a, c->kinds[i], 2));
	DNode *all = doc_set(a, root, "allOf", js_seq(a));
	doc_push(a, all, included ? js_ref(a, "#/definitions/%s", "IncludedFile") : js_type(&x, s->root, 1));
	json_emit(o, root);
	arena_free(a);
}
