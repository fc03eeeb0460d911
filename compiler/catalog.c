/*
 * catalog.c — the resource catalog as data: the kinds loaded from
 * catalog/<kind>/kind.yaml (catalog_load.c) and what the rest of the
 * compiler asks of them — a kind by name, a parameter by path, a resource's
 * checked values per environment (catalog_check.c fills them) — and the
 * report of a malformed kind file (E0301), shared by both kind loaders
 * (catalog_load.c, compute.c).
 *
 * Everything here reads; nothing loads or checks, so the loaders and
 * checkers depend on this file and it on none of them.
 */
#include "platformc.h"

#include <stdio.h>
#include <string.h>

void catalog_kind_error(Diags *d, const Kind *k, int *errors, const Node *at, const char *fmt, ...)
{
	char buf[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	Diag *g = diag_count_error(errors, d, "E0301", at ? at->span : k->node->span, "invalid resource kind `%s`: %s",
				   k->name, buf);
	diag_label(g, "here");
	diag_help(g, "the format of kind files is described in docs/catalog.md");
}

static const Param *param_field(const Param *obj, const char *name, size_t len)
{
	for (int i = 0; obj && i < obj->nfields; i++)
		if (strlen(obj->fields[i].name) == len && !strncmp(obj->fields[i].name, name, len))
			return &obj->fields[i];
	return NULL;
}

/* A path resolves through objects and list items. */
static const Param *param_path(const Param *scope, const char *path)
{
	const Param *p = scope;
	while (*path) {
		while (p && p->type == T_LIST)
			p = p->item;
		const char *dot = strchr(path, '.');
		size_t len = dot ? (size_t)(dot - path) : strlen(path);
		p = param_field(p, path, len);
		if (!p)
			return NULL;
		path += len + (dot ? 1 : 0);
	}
	return p;
}

const Kind *catalog_kind(const Platform *p, const char *name)
{
	for (int i = 0; p->catalog && i < p->catalog->n; i++)
		if (!strcmp(p->catalog->kinds[i]->name, name))
			return p->catalog->kinds[i];
	return NULL;
}

const Kind *catalog_kind_any(const Catalog *c, const char *name)
{
	for (int i = 0; c && i < c->n; i++)
		if (!strcmp(c->kinds[i]->name, name))
			return c->kinds[i];
	for (int i = 0; c && i < c->ninternal; i++)
		if (!strcmp(c->internal[i]->name, name))
			return c->internal[i];
	return NULL;
}

const Param *catalog_field(const Param *obj, const char *name)
{
	return param_field(obj, name, strlen(name));
}

const Param *catalog_param(const Param *scope, const char *path)
{
	return param_path(scope, path);
}

const PVal *catalog_values(const Resource *r, const Env *e)
{
	for (int i = 0; r->env_params && i < r->nenvs; i++)
		if (r->envs[i] == e)
			return r->env_params[i];
	return NULL;
}
