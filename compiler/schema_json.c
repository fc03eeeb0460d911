/*
 * schema_json.c — `platformc schema`: the JSON Schema (draft-07) of
 * platform.yaml, or of a file it includes, for editors. Written from the
 * loaded schema (schema.c) and, when given a catalog, with each built-in
 * kind's `params` behind `if kind == ...` (catalog_params_json,
 * catalog_doc.c). docs/platform.schema.json and
 * docs/platform-included.schema.json are this output.
 */
#include "platformc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct JsCtx {
	Schema *s;
	const Catalog *c;      /* the built-in kinds; NULL: params untyped */
} JsCtx;

static void js_type(const JsCtx *x, StrBuf *o, const Type *t, int ind);

static void js_indent(StrBuf *o, int ind)
{
	sb_putc(o, '\n');
	for (int i = 0; i < ind; i++)
		sb_puts(o, "  ");
}

static void js_scalar_props(StrBuf *o, const Type *t, int ind)
{
	const char *type = "string";
	switch (t->kind) {
	case T_INT: type = "integer"; break;
	case T_NUMBER: case T_PERCENT: type = "number"; break;
	case T_BOOL: type = "boolean"; break;
	default: break;
	}
	sb_printf(o, "\"type\": \"%s\"", type);
	if (t->kind == T_QUANTITY)
		o->len -= strlen("\"type\": \"string\""), sb_puts(o, "\"type\": [\"string\", \"number\"]");
	if (schema_type_pattern(t->kind))
		sb_puts(o, ", \"pattern\": "), json_string(o, schema_type_pattern(t->kind));
	else if (t->pattern)
		sb_puts(o, ", \"pattern\": "), json_string(o, t->pattern);
	if (t->kind == T_NAME)
		sb_puts(o, ", \"maxLength\": 63");
	if (t->max_len)
		sb_printf(o, ", \"maxLength\": %d", t->max_len);
	char buf[32];
	if (t->kind == T_PERCENT)
		sb_puts(o, ", \"exclusiveMinimum\": 0, \"exclusiveMaximum\": 100");
	if (t->has_min)
		scalar_format_number(t->min, buf, sizeof buf), sb_printf(o, ", \"minimum\": %s", buf);
	if (t->has_max)
		scalar_format_number(t->max, buf, sizeof buf), sb_printf(o, ", \"maximum\": %s", buf);
	if (t->nenums) {
		sb_puts(o, ", \"enum\": [");
		for (int i = 0; i < t->nenums; i++)
			sb_puts(o, i ? ", " : ""), json_string(o, t->enums[i]);
		sb_putc(o, ']');
	}
	if (t->what)
		sb_puts(o, ", \"description\": "), json_string(o, t->what);
	(void)ind;
}

/* The resource catalog's part of the editor schema: a resource's `kind` is one of
 * the built-in kinds, and its `params` (and `overrides.<env>.params`, and
 * `defaults.resources.<kind>`) are typed by the kind's (catalog_doc.c). */
static void js_kind_enum(StrBuf *o, const Catalog *c)
{
	sb_puts(o, ", \"enum\": [");
	for (int i = 0; i < c->n; i++)
		sb_puts(o, i ? ", " : ""), json_string(o, c->kinds[i]->name);
	sb_putc(o, ']');
}

static void js_kind_ifs(StrBuf *o, const Catalog *c, int ind)
{
	sb_puts(o, ",");
	js_indent(o, ind);
	sb_puts(o, "\"allOf\": [");
	for (int i = 0; i < c->n; i++) {
		const char *k = c->kinds[i]->name;
		js_indent(o, ind + 1);
		sb_puts(o, "{\"if\": {\"properties\": {\"kind\": {\"const\": ");
		json_string(o, k);
		sb_puts(o, "}}, \"required\": [\"kind\"]}, \"then\": {\"properties\": {\"params\": {\"$ref\": \"#/definitions/params-");
		sb_puts(o, k);
		sb_puts(o, "\"}, \"overrides\": {\"additionalProperties\": {\"properties\": {\"params\": {\"$ref\": \"#/definitions/params-");
		sb_puts(o, k);
		sb_puts(o, i + 1 < c->n ? "\"}}}}}}}," : "\"}}}}}}}");
	}
	js_indent(o, ind);
	sb_putc(o, ']');
}

static void js_kind_defaults(StrBuf *o, const Catalog *c, const char *doc, int ind)
{
	sb_puts(o, "{\"type\": \"object\", \"additionalProperties\": false, \"properties\": {");
	for (int i = 0; i < c->n; i++) {
		js_indent(o, ind + 1);
		json_string(o, c->kinds[i]->name);
		sb_printf(o, ": {\"$ref\": \"#/definitions/params-%s\"}%s", c->kinds[i]->name, i + 1 < c->n ? "," : "");
	}
	js_indent(o, ind);
	sb_putc(o, '}');
	if (doc)
		sb_puts(o, ", \"description\": "), json_string(o, doc);
	sb_putc(o, '}');
}

static void js_type(const JsCtx *x, StrBuf *o, const Type *t, int ind)
{
	sb_putc(o, '{');
	switch (t->kind) {
	case T_OBJECT:
		if (t->name && ind > 2) {
			sb_printf(o, "\"$ref\": \"#/definitions/%s\"}", t->name);
			return;
		}
		sb_puts(o, "\"type\": \"object\", \"additionalProperties\": false");
		if (t->doc)
			sb_puts(o, ", \"description\": "), json_string(o, t->doc);
		sb_puts(o, ",");
		js_indent(o, ind + 1);
		sb_puts(o, "\"properties\": {");
		for (int i = 0; i < t->nfields; i++) {
			js_indent(o, ind + 2);
			json_string(o, t->fields[i].name);
			sb_puts(o, ": ");
			size_t mark = o->len;
			bool resource = x->c && t->name && !strcmp(t->name, "Resource");
			if (x->c && t->name && !strcmp(t->name, "Defaults") && !strcmp(t->fields[i].name, "resources")) {
				js_kind_defaults(o, x->c, t->fields[i].doc, ind + 2);
				if (i + 1 < t->nfields)
					sb_putc(o, ',');
				continue;
			}
			js_type(x, o, t->fields[i].type, ind + 3);
			if (resource && !strcmp(t->fields[i].name, "kind") && o->data[o->len - 1] == '}')
				o->len--, js_kind_enum(o, x->c), sb_putc(o, '}');
			if (t->fields[i].doc && o->data[o->len - 1] == '}' && o->len - mark > 2) {
				o->len--;
				sb_puts(o, ", \"description\": ");
				json_string(o, t->fields[i].doc);
				sb_putc(o, '}');
			}
			if (i + 1 < t->nfields)
				sb_putc(o, ',');
		}
		js_indent(o, ind + 1);
		sb_putc(o, '}');
		bool any = false;
		for (int i = 0; i < t->nfields; i++) {
			if (!t->fields[i].required)
				continue;
			sb_puts(o, any ? ", " : ", \"required\": [");
			json_string(o, t->fields[i].name);
			any = true;
		}
		if (any)
			sb_putc(o, ']');
		if (x->c && t->name && !strcmp(t->name, "Resource") && x->c->n)
			js_kind_ifs(o, x->c, ind + 1);
		break;
	case T_LIST:
		sb_puts(o, "\"type\": \"array\", \"items\": ");
		js_type(x, o, t->elem, ind + 1);
		if (t->min_items)
			sb_printf(o, ", \"minItems\": %d", t->min_items);
		break;
	case T_MAP:
		sb_puts(o, "\"type\": \"object\", \"propertyNames\": ");
		js_type(x, o, t->key, ind + 1);
		sb_puts(o, ", \"additionalProperties\": ");
		js_type(x, o, t->elem, ind + 1);
		break;
	case T_UNION:
		sb_puts(o, "\"oneOf\": [");
		for (int i = 0; i < t->nalts; i++) {
			sb_puts(o, i ? ", " : "");
			js_type(x, o, t->alts[i], ind + 1);
		}
		sb_putc(o, ']');
		break;
	case T_ANY:
		break;
	default:
		js_scalar_props(o, t, ind);
	}
	sb_putc(o, '}');
}

void schema_emit_json(Schema *s, const Catalog *c, bool included, StrBuf *o)
{
	JsCtx x = {.s = s, .c = c};
	sb_puts(o, "{\n  \"$schema\": \"http://json-schema.org/draft-07/schema#\",\n");
	if (included) {
		sb_puts(o, "  \"$id\": \"https://platformc.dev/schema/platform-included.schema.json\",\n");
		sb_puts(o, "  \"title\": \"a file included by platform.yaml\",\n  \"description\": \"A file that platform.yaml ");
		sb_puts(o, "lists under `include` (platformc " PLATFORMC_VERSION "); generated from stdlib/schema.yaml and ");
		sb_puts(o, "catalog/ by `platformc schema --included`.\",\n");
	} else {
		sb_puts(o, "  \"$id\": \"https://platformc.dev/schema/platform.schema.json\",\n");
		sb_puts(o, "  \"title\": \"platform.yaml\",\n  \"description\": \"The input of platformc ");
		sb_puts(o, PLATFORMC_VERSION "; generated from stdlib/schema.yaml and catalog/ by `platformc schema`.\",\n");
	}
	sb_puts(o, "  \"definitions\": {");
	/* every object type, in a stable (sorted) order */
	const char **names = xmalloc(sizeof(char *) * s->types.cap);
	int nn = 0;
	for (size_t i = 0; i < s->types.cap; i++) {
		const Type *t = s->types.keys[i] ? s->types.vals[i] : NULL;
		if (t && t->kind == T_OBJECT && t != s->root)
			names[nn++] = s->types.keys[i];
	}
	qsort(names, (size_t)nn, sizeof *names, str_cmp_ptr);
	for (int i = 0; i < nn; i++) {
		sb_puts(o, i ? ",\n    " : "\n    ");
		json_string(o, names[i]);
		sb_puts(o, ": ");
		js_type(&x, o, schema_type(s, names[i]), 2);
	}
	free(names);
	/* each built-in kind's params (sorted: the catalog's order) */
	for (int i = 0; c && i < c->n; i++) {
		sb_printf(o, ",\n    \"params-%s\": ", c->kinds[i]->name);
		catalog_params_json(c->kinds[i], o, 2);
	}
	sb_puts(o, "\n  },\n  \"allOf\": [");
	if (included)
		sb_puts(o, "{\"$ref\": \"#/definitions/IncludedFile\"}");
	else
		js_type(&x, o, s->root, 1);
	sb_puts(o, "]\n}\n");
}
