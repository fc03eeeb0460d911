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
	const char *why;
	const Node *list = src_load_embedded(a, "stdlib/policies.yaml", "policies", &why);
	if (!list)
		library_bug(why);
	LibPolicy *lib = arena_alloc(a, sizeof *lib * (size_t)(list->n + 1));
	for (int i = 0; i < list->n; i++) {
		const Node *n = list->items[i];
		LibPolicy *l = &lib[i];
		l->node = n;
		l->name = node_text_or(n, "name", "");
		l->category = node_text_or(n, "category", "");
		l->title = node_text_or(n, "title", "");
		l->severity = node_text_or(n, "severity", "");
		l->namespaces = node_text_or(n, "namespaces", "");
		l->match = node_text_or(n, "match", "");
		l->checks = node_text_or(n, "checks", "");
		l->why = node_text_or(n, "why", "");
		l->pod_security = *node_text_or(n, "pod-security", "") ? node_text_or(n, "pod-security", "") : NULL;
		if (l->pod_security && strcmp(l->pod_security, "baseline") && strcmp(l->pod_security, "restricted"))
			library_bug("a policy has an unknown pod-security level");
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

static const LibPolicy *lib_find(const LibPolicy *lib, int n, const char *name)
{
	for (int i = 0; name && i < n; i++)
		if (strcmp(lib[i].name, name) == 0)
			return &lib[i];
	return NULL;
}

bool policy_excepts(const Platform *p, const Service *s, const char *policy)
{
	if (policy_disabled(p, policy))
		return false;
	for (int i = 0; i < p->nexceptions; i++) {
		const PolicyException *e = &p->exceptions[i];
		if (strcmp(e->policy, policy) != 0)
			continue;
		for (int k = 0; k < e->nservices; k++)
			if (e->services[k] == s)
				return true;
	}
	return false;
}

const char *pod_security_level(const Platform *p, const Team *t, const Env *e)
{
	for (int i = 0; i < p->nexceptions; i++) {
		const PolicyException *x = &p->exceptions[i];
		const char *lvl = x->pod_security;
		if (!lvl || strcmp(lvl, "restricted") != 0 || policy_disabled(p, x->policy))
			continue;
		for (int k = 0; k < x->nservices; k++) {
			const Service *s = x->services[k];
			if (s->team == t && service_runs_in(s, e))
				return "baseline";
		}
	}
	return "restricted";
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

/* ---- check = admission: what a rendered policy would deny, decided from platform.yaml ---- */

static const char *param_of(const LibPolicy *lib, int n, const char *policy, const char *key)
{
	const LibPolicy *l = lib_find(lib, n, policy);
	const Node *v = l ? node_get(node_get(l->node, "params"), key) : NULL;
	if (!v || v->kind != N_SCALAR)
		library_bug("a check needs a policy parameter it lacks");
	return v->text;
}

/* whether policy applies to service s (enabled, no exception for s) */
static bool enforced(const Platform *p, const Service *s, const char *policy)
{
	return !policy_disabled(p, policy) && !policy_excepts(p, s, policy);
}

static bool host_in_domain(const char *host, const char *domain)
{
	size_t h = strlen(host), d = strlen(domain);
	if (host[0] == '*')
		return false;
	return strcmp(host, domain) == 0 || (h > d + 1 && host[h - d - 1] == '.' && strcmp(host + h - d, domain) == 0);
}

/* a node reported once, however many environments share it (the map keeps
 * the key's pointer, so the key lives in the arena) */
static bool first_report(Arena *a, StrMap *seen, const Node *n, const char *code)
{
	const char *key = arena_sprintf(a, "%s:%p", code, (const void *)n);
	if (strmap_get(seen, key))
		return false;
	strmap_put(seen, key, (void *)n);
	return true;
}

static int admission_checks(Arena *a, const Platform *p, const LibPolicy *lib, int nlib, Diags *d)
{
	int errors = 0;
	StrMap seen, hosts;
	strmap_init(&seen);
	strmap_init(&hosts);
	const char *max_cpu = param_of(lib, nlib, "restrict-container-size", "MAX_CPU");
	const char *max_mem = param_of(lib, nlib, "restrict-container-size", "MAX_MEMORY");
	long double max_cpu_m = 0, max_mem_m = 0;
	if (!scalar_quantity(max_cpu, &max_cpu_m) || !scalar_quantity(max_mem, &max_mem_m))
		library_bug("restrict-container-size: MAX_CPU / MAX_MEMORY are not quantities");
	for (int i = 0; i < p->nservices; i++) {
		const Service *s = p->services[i];
		for (int j = 0; j < s->nenvs; j++) {
			const ServiceEnv *se = &s->envs[j];
			const Node *res = node_get(se->node, "resources");
			const Node *ing = node_get(se->node, "ingress");
			const Node *host = node_get(ing, "host");
			/* restrict-container-size */
			struct {
				const char *key, *max;
				long double v, lim;
			} sz[] = {{"cpu", max_cpu, se->cpu_m, max_cpu_m}, {"memory", max_mem, se->memory_m, max_mem_m}};
			for (size_t k = 0; k < ARRAY_LEN(sz); k++) {
				const Node *q = node_get(res, sz[k].key);
				if (!q || sz[k].v <= sz[k].lim || !enforced(p, s, "restrict-container-size") ||
				    !first_report(a, &seen, q, "E0233"))
					continue;
				Diag *g = diag_error(d, "E0233", q->span, "`%s` requests %s %s, more than one container may",
						     s->name, q->text, sz[k].key);
				diag_label(g, "policy restrict-container-size would deny the pod (at most %s)", sz[k].max);
				diag_help(g, "split the service, or add a `policies.exceptions` entry for `restrict-container-size`");
				errors++;
			}
			if (!se->ingress_host || !host)
				continue;
			Workload w;
			workload_of(s, &w);
			if (!w.ingress) /* no Ingress is made at all: E0260 (workload.c) says why */
				continue;
			/* restrict-ingress-hosts */
			if (!host_in_domain(se->ingress_host, p->domain) && enforced(p, s, "restrict-ingress-hosts") &&
			    first_report(a, &seen, host, "E0232")) {
				Diag *g = diag_error(d, "E0232", host->span, "ingress host `%s` is outside the platform's domain `%s`",
						     se->ingress_host, p->domain);
				diag_label(g, "policy restrict-ingress-hosts would deny the Ingress");
				diag_help(g, "use `%s` or a name under it", p->domain);
				errors++;
			}
			/* one host and path per cluster: ingress-nginx's admission refuses the second Ingress */
			const char *key = arena_sprintf(a, "%s\n%s\n%s", se->env->cluster ? se->env->cluster : "",
							se->ingress_host, se->ingress_path ? se->ingress_path : "/");
			typedef struct {
				const Service *s;
				const ServiceEnv *se;
			} Served;
			Served *first = strmap_get(&hosts, key);
			if (!first) {
				first = arena_alloc(a, sizeof *first);
				first->s = s, first->se = se;
				strmap_put(&hosts, key, first);
				continue;
			}
			const ServiceEnv *other = first->se;
			const Service *owner = first->s;
			if (first_report(a, &seen, host, "E0234")) {
				Diag *g = diag_error(d, "E0234", host->span,
						     "`%s` in `%s`: ingress host `%s` path `%s` is already served in cluster `%s`", s->name, se->env->name, se->ingress_host,
						     se->ingress_path ? se->ingress_path : "/",
						     se->env->cluster ? se->env->cluster : "in-cluster");
				diag_label(g, "also `%s` in environment `%s`", owner->name, other->env->name);
				diag_help(g, "give each environment of one cluster its own host (an `overrides.<env>.ingress`)");
				errors++;
			}
		}
	}
	strmap_free(&seen);
	strmap_free(&hosts);
	return errors;
}

int policies_resolve(Arena *a, Platform *p, Diags *d)
{
	const LibPolicy *lib;
	int nlib = policy_library(a, &lib);
	int admission = admission_checks(a, p, lib, nlib, d);
	const Node *pol = node_get(p->root, "policies");
	if (!pol || pol->kind != N_MAP)
		return admission;
	const char **names = arena_alloc(a, sizeof(char *) * (size_t)(nlib + 1));
	for (int i = 0; i < nlib; i++)
		names[i] = lib[i].name;
	int errors = admission;
	for (int i = 0; i < p->nexceptions; i++) {
		const LibPolicy *l = lib_find(lib, nlib, p->exceptions[i].policy);
		p->exceptions[i].pod_security = l ? l->pod_security : NULL;
	}
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
			} else if (pass == 1 && lib_find(lib, nlib, ref->text)->pod_security &&
				   strcmp(lib_find(lib, nlib, ref->text)->pod_security, "baseline") == 0 &&
				   !policy_disabled(p, ref->text)) {
				Diag *g = diag_error(d, "E0230", ref->span,
						     "an exception to `%s` cannot take effect: Pod Security `baseline` forbids it too",
						     ref->text);
				diag_label(g, "Pod Security Admission would still reject the pod");
				diag_help(g, "platformc lowers a team namespace to `baseline` at most, never to `privileged`; run "
					     "such a workload outside the team namespaces, or fix it");
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
