/*
 * policies.c — the Kyverno policy library (stdlib/policies.yaml, embedded)
 * and the checks of `policies` against it: every name in `policies.disable`
 * and `policies.exceptions[].policy` must be a policy of the library (E0221);
 * an exception to a disabled policy is not rendered (W0222).
 * Also the allowed registries of a team: its own `registries` when it
 * declares them, else `platform.registries`.
 */
#include "platformc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *text_of(const Node *map, const char *key)
{
	const Node *n = node_get(map, key);
	return n && n->kind == N_SCALAR && !n->is_null ? n->text : "";
}

static void library_bug(const char *what)
{
	fprintf(stderr, "platformc: internal error: stdlib/policies.yaml: %s\n", what);
	abort();
}

static const char *const categories[] = {"pod-security", "best-practices", "security", "compliance", "cost",
					 "secrets", "mutation", "generation", NULL};
static const char *const scopes[] = {"team", "all", "default", "unmanaged-team", NULL};
static const char *const severities[] = {"low", "medium", "high", NULL};

static bool one_of(const char *s, const char *const *set)
{
	for (; *set; set++)
		if (strcmp(s, *set) == 0)
			return true;
	return false;
}

int policy_library(Arena *a, const LibPolicy **out)
{
	const EmbeddedFile *ef = embedded_find("stdlib/policies.yaml");
	if (!ef)
		library_bug("missing file");
	Diags d;
	diags_init(&d, a);
	Node *root = src_load_bytes(a, &d, "stdlib/policies.yaml", ef->data, ef->len, NULL);
	const Node *list = root ? node_get(root, "policies") : NULL;
	if (!list || d.errors || list->kind != N_SEQ)
		library_bug("cannot parse");
	LibPolicy *lib = arena_alloc(a, sizeof *lib * (size_t)(list->n + 1));
	for (int i = 0; i < list->n; i++) {
		const Node *n = list->items[i];
		LibPolicy *l = &lib[i];
		l->node = n;
		l->name = text_of(n, "name");
		l->category = text_of(n, "category");
		l->title = text_of(n, "title");
		l->severity = text_of(n, "severity");
		l->namespaces = text_of(n, "namespaces");
		l->match = text_of(n, "match");
		l->checks = text_of(n, "checks");
		l->why = text_of(n, "why");
		if (!scalar_is_name(l->name, strlen(l->name)) || !*l->title || !*l->checks || !*l->why)
			library_bug("a policy lacks a valid name, title, checks or why");
		if (!one_of(l->category, categories) || !one_of(l->namespaces, scopes) || !one_of(l->severity, severities))
			library_bug("a policy has an unknown category, namespaces or severity");
		if (!node_get(n, "validations") + !node_get(n, "mutate") + !node_get(n, "generate") != 2)
			library_bug("a policy needs exactly one of validations, mutate, generate");
		l->validate = node_get(n, "validations") != NULL;
	}
	*out = lib;
	return list->n;
}

bool policy_disabled(const Platform *p, const char *name)
{
	for (int i = 0; i < p->npolicy_disable; i++)
		if (strcmp(p->policy_disable[i], name) == 0)
			return true;
	return false;
}

const char **team_registries(Arena *a, const Platform *p, const Team *t, int *n)
{
	const Node *own = t ? node_get(t->node, "registries") : NULL;
	if (own && own->kind == N_SEQ && own->n) {
		const char **r = arena_alloc(a, sizeof(char *) * (size_t)own->n);
		for (int i = 0; i < own->n; i++)
			r[i] = own->items[i]->text;
		*n = own->n;
		return r;
	}
	*n = p->nregistries;
	return p->registries;
}

static void unknown_policy(Diags *d, const Node *ref, const char **names, int n)
{
	Diag *g = diag_error(d, "E0221", ref->span, "unknown policy `%s`", ref->text);
	diag_label(g, "not a policy of the library");
	const char *sug = did_you_mean(ref->text, names, n);
	if (sug)
		diag_help(g, "did you mean `%s`? (docs/policies.md lists every policy)", sug);
	else
		diag_help(g, "docs/policies.md lists every policy");
}

int policies_resolve(Arena *a, Platform *p, Diags *d)
{
	const Node *pol = node_get(p->root, "policies");
	if (!pol || pol->kind != N_MAP)
		return 0;
	const LibPolicy *lib;
	int nlib = policy_library(a, &lib);
	const char **names = arena_alloc(a, sizeof(char *) * (size_t)(nlib + 1));
	for (int i = 0; i < nlib; i++)
		names[i] = lib[i].name;
	int errors = 0;
	const Node *dis = node_get(pol, "disable"), *ex = node_get(pol, "exceptions");
	const Node *refs[1] = {dis && dis->kind == N_SEQ ? dis : NULL};
	if (ex && ex->kind != N_SEQ)
		ex = NULL;
	for (int pass = 0; pass < 2; pass++) {
		int count = pass == 0 ? (refs[0] ? refs[0]->n : 0) : (ex ? ex->n : 0);
		for (int i = 0; i < count; i++) {
			const Node *item = pass == 0 ? refs[0]->items[i] : ex->items[i];
			const Node *ref = pass == 0 ? item : item->kind == N_MAP ? node_get(item, "policy") : NULL;
			if (!ref || ref->kind != N_SCALAR)
				continue;
			bool found = false;
			for (int k = 0; k < nlib && !found; k++)
				found = strcmp(lib[k].name, ref->text) == 0;
			if (!found) {
				unknown_policy(d, ref, names, nlib);
				errors++;
			} else if (pass == 1 && policy_disabled(p, ref->text)) {
				Diag *g = diag_warn(d, "W0222", ref->span, "exception to disabled policy `%s` has no effect",
						    ref->text);
				diag_label(g, "named in `policies.disable`");
				diag_help(g, "remove the exception, or enable the policy again");
			}
		}
	}
	return errors;
}
