/*
 * backend_kyverno.c — the policy library (stdlib/policies.yaml) as Kyverno
 * objects, parameterised by the model, and the exceptions of `policies`.
 *
 *   platform/kyverno/<policy>.yaml             one policy per file
 *   platform/kyverno/exception-<name>.yaml     one PolicyException per exception
 *   platform/kyverno/kustomization.yaml        a U_PLATFORM unit in every environment
 *   tests/kyverno/<env>/kyverno-test.yaml      a `kyverno test` suite per environment:
 *   tests/kyverno/<env>/resources.yaml           objects the environment builds, which
 *   tests/kyverno/<env>/mutants.yaml             pass; the library's mutants of them, which
 *                                                fail the policy each mutant names
 *
 * Validation policies are `policies.kyverno.io/v1` ValidatingPolicy (CEL) by
 * default and `kyverno.io/v1` ClusterPolicy rules of `validate.cel` with
 * `targets.kyverno: cluster-policy` — the same CEL either way. Mutation and
 * generation policies are ClusterPolicies in both targets (the CEL engine's
 * MutatingPolicy and GeneratingPolicy are not emitted yet). An exception to a
 * ValidatingPolicy is a `policies.kyverno.io/v1` PolicyException, to a
 * ClusterPolicy a `kyverno.io/v2` one; both match the named services'
 * workloads (label app.kubernetes.io/name) in their namespaces only.
 * Policies named in `policies.disable` are not rendered.
 */
#include "platformc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define EXCEPTION_NAMESPACE "kyverno"

typedef struct SubstParam {
	const char *key, *value;
} SubstParam;

typedef struct Ctx {
	Arena *a;
	const Platform *p;
	SubstParam params[12];
	int nparams;
	bool cluster_policy;   /* target cluster-policy */
	const Node *local;     /* the current policy's `params` */
} Ctx;

/* ${KEY} -> value, for every parameter; other text unchanged. */
static const char *subst(const Ctx *c, const char *s)
{
	if (!strstr(s, "${"))
		return s;
	StrBuf b;
	sb_init(&b);
	while (*s) {
		const char *hit = strstr(s, "${");
		if (!hit) {
			sb_puts(&b, s);
			break;
		}
		sb_putn(&b, s, (size_t)(hit - s));
		const char *end = strchr(hit, '}');
		const char *val = NULL;
		for (int i = 0; end && c->local && c->local->kind == N_MAP && i < c->local->n && !val; i++)
			if ((size_t)(end - hit - 2) == strlen(c->local->pairs[i].key->text) &&
			    strncmp(hit + 2, c->local->pairs[i].key->text, (size_t)(end - hit - 2)) == 0)
				val = c->local->pairs[i].val->text;
		for (int i = 0; end && i < c->nparams && !val; i++)
			if ((size_t)(end - hit - 2) == strlen(c->params[i].key) &&
			    strncmp(hit + 2, c->params[i].key, (size_t)(end - hit - 2)) == 0)
				val = c->params[i].value;
		if (val) {
			sb_puts(&b, val);
			s = end + 1;
		} else {
			sb_putn(&b, hit, 2);
			s = hit + 2;
		}
	}
	const char *out = arena_sprintf(c->a, "%s", b.data ? b.data : "");
	sb_free(&b);
	return out;
}

/* A CEL list literal of strings: ['a', 'b']. Registries cannot hold quotes. */
static void cel_list(StrBuf *b, const char *const *items, int n)
{
	sb_putc(b, '[');
	for (int i = 0; i < n; i++)
		sb_printf(b, "%s'%s'", i ? ", " : "", items[i]);
	sb_putc(b, ']');
}

static void ctx_init(Ctx *c, Arena *a, const Platform *p)
{
	c->a = a;
	c->p = p;
	c->cluster_policy = p->kyverno_target && strcmp(p->kyverno_target, "cluster-policy") == 0;
	StrBuf b;
	sb_init(&b);
	cel_list(&b, p->registries, p->nregistries);
	const char *regs = arena_sprintf(a, "%s", b.data);
	b.len = 0;
	sb_putc(&b, '{');
	int nt = 0;
	for (int i = 0; i < p->nteams; i++) {
		int n;
		const char **r = team_registries(a, p, p->teams[i], &n);
		if (r == p->registries)
			continue;
		sb_printf(&b, "%s'%s': ", nt++ ? ", " : "", p->teams[i]->name);
		cel_list(&b, r, n);
	}
	sb_putc(&b, '}');
	const char *team_regs = arena_sprintf(a, "%s", b.data);
	/* who writes connection secrets into team namespaces: the claims (Crossplane
	 * v1, resource.LocalConnectionSecretFor), or the primary managed resource of
	 * each kind (namespaced target, managed.APISecretPublisher) */
	b.len = 0;
	sb_putc(&b, '[');
	int no = 0;
	bool ns_xp = p->crossplane_target && strcmp(p->crossplane_target, "namespaced") == 0;
	for (int pass = 0; p->catalog && pass < 2; pass++) {
		Kind **ks = pass ? p->catalog->internal : p->catalog->kinds;
		int nk = pass ? p->catalog->ninternal : p->catalog->n;
		for (int i = 0; i < nk; i++) {
			const Kind *k = ks[i];
			if (!ns_xp) {
				sb_printf(&b, "%s'platform.%s/v1alpha1/%s'", no++ ? ", " : "", p->domain, k->claim_kind);
				continue;
			}
			for (int j = 0; j < k->nmrs; j++)
				if (k->mrs[j].primary && k->mrs[j].api[1])
					sb_printf(&b, "%s'%s/%s'", no++ ? ", " : "", k->mrs[j].api[1], k->mrs[j].kind);
		}
	}
	sb_putc(&b, ']');
	const char *owners = arena_sprintf(a, "%s", b.data);
	b.len = 0;
	sb_putc(&b, '[');
	int nb = 0;
	for (int i = 0; i < p->nteams; i++)
		for (int j = 0; j < p->nenvs; j++)
			if (strcmp(pod_security_level(p, p->teams[i], &p->envs[j]), "baseline") == 0)
				sb_printf(&b, "%s'%s'", nb++ ? ", " : "", k8s_namespace(a, p->teams[i], &p->envs[j]));
	sb_putc(&b, ']');
	const char *baseline = arena_sprintf(a, "%s", b.data);
	sb_free(&b);
	SubstParam ps[] = {
		{"DOMAIN", p->domain},
		{"TEAM_LABEL", k8s_label(a, p, "team")},
		{"ENV_LABEL", k8s_label(a, p, "environment")},
		{"TIER_LABEL", k8s_label(a, p, "tier")},
		{"REGISTRIES", regs},
		{"TEAM_REGISTRIES", team_regs},
		{"CONNECTION_OWNERS", owners},
		{"BASELINE_NAMESPACES", baseline},
		{"INGRESS_CLASS", platform_ingress(p).cls},
	};
	memcpy(c->params, ps, sizeof ps);
	c->nparams = (int)ARRAY_LEN(ps);
}

/* A library YAML subtree as an output document, parameters substituted.
 * Plain true/false become booleans, plain integers numbers; the rest strings. */
static DNode *to_doc(const Ctx *c, const Node *n)
{
	Arena *a = c->a;
	if (n->kind == N_MAP) {
		DNode *m = doc_map(a);
		m->flow = false;
		for (int i = 0; i < n->n; i++)
			doc_set(a, m, subst(c, n->pairs[i].key->text), to_doc(c, n->pairs[i].val));
		return m;
	}
	if (n->kind == N_SEQ) {
		DNode *s = doc_seq(a);
		bool scalars = true;
		for (int i = 0; i < n->n; i++) {
			doc_push(a, s, to_doc(c, n->items[i]));
			scalars = scalars && n->items[i]->kind == N_SCALAR;
		}
		s->flow = scalars && n->n > 0;
		return s;
	}
	long long v;
	if (n->plain && (strcmp(n->text, "true") == 0 || strcmp(n->text, "false") == 0))
		return doc_bool(a, n->text[0] == 't');
	if (n->plain && scalar_int(n->text, &v))
		return doc_int(a, v);
	return doc_str(a, subst(c, n->text));
}

static const char *text(const Node *map, const char *key)
{
	const Node *n = node_get(map, key);
	return n && n->kind == N_SCALAR ? n->text : NULL;
}

#define MAX_KINDS 8

/* What each `match` of the library selects, in both engines' terms. */
typedef struct MatchDef {
	const char *match;
	const char *group, *version;     /* ValidatingPolicy resourceRules ("%s": platform.<domain>) */
	const char *resources[3];
	const char *kinds[MAX_KINDS];    /* ClusterPolicy match kinds */
	const char *exception_kinds[MAX_KINDS]; /* what a kyverno.io/v2 exception matches */
	bool pods, namespaced;
	bool controllers;                /* also the pod controllers, by rule (no autogen) */
} MatchDef;

static const MatchDef matches[] = {
	/* exactly [pods], no selector: Kyverno's CanAutoGen (pkg/cel/autogen/support.go, 1.15-1.17)
	 * then writes the Deployment/StatefulSet/DaemonSet/Job/CronJob rules */
	{"pods", "", "v1", {"pods"}, {"Pod"},
	 {"Pod", "Deployment", "ReplicaSet", "StatefulSet", "DaemonSet", "Job", "CronJob"}, true, false, false},
	{"pods-and-services", "", "v1", {"pods", "services"},
	 {"Pod", "Deployment", "StatefulSet", "DaemonSet", "Job", "CronJob", "v1/Service"},
	 {"Pod", "Deployment", "StatefulSet", "DaemonSet", "Job", "CronJob", "v1/Service"}, false, false, true},
	/* core kinds by version: a bare `Secret` would match any group's Secret (the platform's claims) */
	{"services", "", "v1", {"services"}, {"v1/Service"}, {"v1/Service"}, false, false, false},
	{"ingresses", "networking.k8s.io", "v1", {"ingresses"}, {"networking.k8s.io/v1/Ingress"},
	 {"networking.k8s.io/v1/Ingress"}, false, false, false},
	{"secrets", "", "v1", {"secrets"}, {"v1/Secret"}, {"v1/Secret"}, false, false, false},
	{"externalsecrets", "external-secrets.io", "*", {"externalsecrets"}, {"external-secrets.io/*/ExternalSecret"},
	 {"external-secrets.io/*/ExternalSecret"}, false, false, false},
	{"namespaces", "", "v1", {"namespaces"}, {"v1/Namespace"}, {"v1/Namespace"}, false, false, false},
	{"persistentvolumeclaims", "", "v1", {"persistentvolumeclaims"}, {"v1/PersistentVolumeClaim"},
	 {"v1/PersistentVolumeClaim"}, false, false, false},
	{"claims", "%s", "*", {"*"}, {"%s/*/*"}, {"%s/*/*"}, false, true, false},
};

static const MatchDef *match_def(const LibPolicy *l)
{
	for (size_t i = 0; i < ARRAY_LEN(matches); i++)
		if (strcmp(matches[i].match, l->match) == 0)
			return &matches[i];
	fprintf(stderr, "platformc: internal error: stdlib/policies.yaml: policy `%s`: unknown match `%s`\n", l->name,
		l->match);
	abort();
}

static const char *grouped(const Ctx *c, const char *fmt)
{
	return strstr(fmt, "%s") ? arena_sprintf(c->a, fmt, arena_sprintf(c->a, "platform.%s", c->p->domain)) : fmt;
}

static DNode *flow_list(Arena *a, const char *const *items, int n)
{
	DNode *s = doc_seq(a);
	s->flow = true;
	for (int i = 0; i < n && items[i]; i++)
		doc_push_str(a, s, items[i]);
	return s;
}

static DNode *expr(Arena *a, const char *key, const char *op, const char *value)
{
	DNode *e = doc_map(a);
	doc_set_str(a, e, "key", key);
	doc_set_str(a, e, "operator", op);
	if (value)
		doc_set(a, e, "values", flow_list(a, (const char *[]){value}, 1));
	return e;
}

/* The label selector of `namespaces` (on the namespace, or on a Namespace object itself). */
static DNode *ns_selector(const Ctx *c, const LibPolicy *l)
{
	Arena *a = c->a;
	DNode *sel = doc_map(a);
	if (strcmp(l->namespaces, "default") == 0) {
		doc_set_str(a, doc_set_map(a, sel, "matchLabels"), "kubernetes.io/metadata.name", "default");
		return sel;
	}
	if (strcmp(l->namespaces, "all") == 0)
		return NULL;
	DNode *exprs = doc_set_seq(a, sel, "matchExpressions");
	doc_push(a, exprs, expr(a, k8s_label(a, c->p, "team"), "Exists", NULL));
	if (strcmp(l->namespaces, "unmanaged-team") == 0)
		doc_push(a, exprs, expr(a, "app.kubernetes.io/managed-by", "NotIn", "platformc"));
	return sel;
}

static DNode *metadata(const Ctx *c, DNode *obj, const LibPolicy *l)
{
	Arena *a = c->a;
	DNode *md = doc_get(obj, "metadata");
	DNode *labels = doc_set_map(a, md, "labels");
	doc_set_str(a, labels, "app.kubernetes.io/managed-by", "platformc");
	doc_set_str(a, labels, "app.kubernetes.io/part-of", c->p->name);
	DNode *ann = doc_set_map(a, md, "annotations");
	doc_set_str(a, ann, "policies.kyverno.io/title", subst(c, l->title));
	doc_set_str(a, ann, "policies.kyverno.io/category", l->category);
	doc_set_str(a, ann, "policies.kyverno.io/severity", l->severity);
	doc_set(a, ann, "policies.kyverno.io/description", doc_strf(a, "%s %s", subst(c, l->checks), subst(c, l->why)));
	return ann;
}

/* containers + initContainers, and those + ephemeralContainers */
static void pod_variables(const Ctx *c, DNode *vars)
{
	Arena *a = c->a;
	DNode *v = doc_push_map(a, vars);
	doc_set_str(a, v, "name", "containers");
	doc_set_str(a, v, "expression",
		    "object.spec.containers + (has(object.spec.initContainers) ? object.spec.initContainers : [])");
	v = doc_push_map(a, vars);
	doc_set_str(a, v, "name", "allContainers");
	doc_set_str(a, v, "expression",
		    "variables.containers + (has(object.spec.ephemeralContainers) ? object.spec.ephemeralContainers : [])");
}

static void copy_list(const Ctx *c, DNode *seq, const Node *list, const char *const *keys)
{
	for (int i = 0; list && i < list->n; i++) {
		DNode *m = doc_push_map(c->a, seq);
		for (const char *const *k = keys; *k; k++)
			if (text(list->items[i], *k))
				doc_set_str(c->a, m, *k, subst(c, text(list->items[i], *k)));
	}
}

static DNode *validating_policy(const Ctx *c, const LibPolicy *l)
{
	Arena *a = c->a;
	const MatchDef *m = match_def(l);
	DNode *o = k8s_object(a, "policies.kyverno.io/v1", "ValidatingPolicy", l->name, NULL);
	metadata(c, o, l);
	DNode *spec = doc_set_map(a, o, "spec");
	doc_set(a, spec, "validationActions",
		flow_list(a, (const char *[]){strcmp(c->p->policy_action, "Audit") == 0 ? "Audit" : "Deny"}, 1));
	DNode *mc = doc_set_map(a, spec, "matchConstraints");
	DNode *sel = m->pods ? NULL : ns_selector(c, l);
	if (sel)
		doc_set(a, mc, "namespaceSelector", sel);
	DNode *rule = doc_push_map(a, doc_set_seq(a, mc, "resourceRules"));
	doc_set(a, rule, "apiGroups", flow_list(a, (const char *[]){grouped(c, m->group)}, 1));
	doc_set(a, rule, "apiVersions", flow_list(a, (const char *[]){m->version}, 1));
	doc_set(a, rule, "operations", flow_list(a, (const char *[]){"CREATE", "UPDATE"}, 2));
	doc_set(a, rule, "resources", flow_list(a, m->resources, 3));
	if (m->namespaced)
		doc_set_str(a, rule, "scope", "Namespaced");
	if (m->controllers) {
		static const char *const groups[][4] = {{"apps", "deployments", "statefulsets", "daemonsets"},
						       {"batch", "jobs", "cronjobs", NULL}};
		for (size_t g = 0; g < ARRAY_LEN(groups); g++) {
			DNode *r = doc_push_map(a, doc_get(mc, "resourceRules"));
			doc_set(a, r, "apiGroups", flow_list(a, groups[g], 1));
			doc_set(a, r, "apiVersions", flow_list(a, (const char *[]){"v1"}, 1));
			doc_set(a, r, "operations", flow_list(a, (const char *[]){"CREATE", "UPDATE"}, 2));
			doc_set(a, r, "resources", flow_list(a, groups[g] + 1, 3));
		}
	}
	if (m->pods) {
		/* the namespace test a selector would make, as a condition (autogen keeps it:
		 * its rewrite of `object.` leaves `namespaceObject.` alone) */
		DNode *cond = doc_push_map(a, doc_set_seq(a, spec, "matchConditions"));
		doc_set_str(a, cond, "name", "team-namespace");
		doc_set(a, cond, "expression",
			doc_strf(a, "namespaceObject != null && has(namespaceObject.metadata.labels) && '%s' in "
				    "namespaceObject.metadata.labels",
				 k8s_label(a, c->p, "team")));
	}
	if (m->pods)
		doc_set(a, doc_set_map(a, doc_set_map(a, spec, "autogen"), "podControllers"), "controllers",
			flow_list(a, (const char *[]){"deployments", "statefulsets", "daemonsets", "jobs", "cronjobs"}, 5));
	const Node *vars = node_get(l->node, "variables");
	if (m->pods || vars) {
		DNode *vs = doc_set_seq(a, spec, "variables");
		if (m->pods)
			pod_variables(c, vs);
		copy_list(c, vs, vars, (const char *[]){"name", "expression", NULL});
	}
	copy_list(c, doc_set_seq(a, spec, "validations"), node_get(l->node, "validations"),
		  (const char *[]){"expression", "message", NULL});
	return o;
}

static DNode *cluster_policy(const Ctx *c, const LibPolicy *l)
{
	Arena *a = c->a;
	const MatchDef *m = match_def(l);
	DNode *o = k8s_object(a, "kyverno.io/v1", "ClusterPolicy", l->name, NULL);
	DNode *ann = metadata(c, o, l);
	if (!l->validate && m->pods) /* mutate pods only: Argo CD-managed controllers stay as rendered */
		doc_set_str(a, ann, "pod-policies.kyverno.io/autogen-controllers", "none");
	DNode *spec = doc_set_map(a, o, "spec");
	doc_set_bool(a, spec, "background", l->validate);
	DNode *rule = doc_push_map(a, doc_set_seq(a, spec, "rules"));
	doc_set_str(a, rule, "name", l->name);
	DNode *res = doc_set_map(a, doc_push_map(a, doc_set_seq(a, doc_set_map(a, rule, "match"), "any")), "resources");
	const char *kinds[MAX_KINDS] = {0};
	for (int i = 0; i < MAX_KINDS && m->kinds[i]; i++)
		kinds[i] = grouped(c, m->kinds[i]);
	doc_set(a, res, "kinds", flow_list(a, kinds, MAX_KINDS));
	if (strcmp(l->namespaces, "default") == 0)
		doc_set(a, res, "namespaces", flow_list(a, (const char *[]){"default"}, 1));
	else if (strcmp(l->namespaces, "all") != 0)
		doc_set(a, res, strcmp(l->match, "namespaces") == 0 ? "selector" : "namespaceSelector", ns_selector(c, l));
	const Node *ctx = node_get(l->node, "context");
	if (ctx)
		doc_set(a, rule, "context", to_doc(c, ctx));
	if (l->validate) {
		DNode *v = doc_set_map(a, rule, "validate");
		doc_set_str(a, v, "failureAction", strcmp(c->p->policy_action, "Audit") == 0 ? "Audit" : "Enforce");
		DNode *cel = doc_set_map(a, v, "cel");
		const Node *vars = node_get(l->node, "variables");
		if (m->pods || vars) {
			DNode *vs = doc_set_seq(a, cel, "variables");
			if (m->pods)
				pod_variables(c, vs);
			copy_list(c, vs, vars, (const char *[]){"name", "expression", NULL});
		}
		copy_list(c, doc_set_seq(a, cel, "expressions"), node_get(l->node, "validations"),
			  (const char *[]){"expression", "message", NULL});
	}
	const Node *mut = node_get(l->node, "mutate"), *gen = node_get(l->node, "generate");
	if (mut)
		doc_set(a, rule, "mutate", to_doc(c, mut));
	if (gen)
		doc_set(a, rule, "generate", to_doc(c, gen));
	return o;
}

/* ---- exceptions ---- */

static void quoted_list(StrBuf *b, const char *const *items, int n)
{
	cel_list(b, items, n);
}

static const char **service_namespaces(const Ctx *c, const Service *s)
{
	const char **ns = arena_alloc(c->a, sizeof(char *) * (size_t)(s->nenvs + 1));
	for (int i = 0; i < s->nenvs; i++)
		ns[i] = k8s_namespace(c->a, s->team, s->envs[i].env);
	return ns;
}

static DNode *exception_meta(const Ctx *c, DNode *o, const PolicyException *e)
{
	Arena *a = c->a;
	DNode *md = doc_get(o, "metadata");
	DNode *labels = doc_set_map(a, md, "labels");
	doc_set_str(a, labels, "app.kubernetes.io/managed-by", "platformc");
	doc_set_str(a, labels, "app.kubernetes.io/part-of", c->p->name);
	DNode *ann = doc_set_map(a, md, "annotations");
	doc_set_str(a, ann, k8s_label(a, c->p, "exception-reason"), e->reason ? e->reason : "");
	if (e->expires)
		doc_set_str(a, ann, k8s_label(a, c->p, "exception-expires"), e->expires);
	return o;
}

static DNode *cel_exception(const Ctx *c, const char *name, const PolicyException *e)
{
	Arena *a = c->a;
	DNode *o = exception_meta(c, k8s_object(a, "policies.kyverno.io/v1", "PolicyException", name, EXCEPTION_NAMESPACE), e);
	DNode *spec = doc_set_map(a, o, "spec");
	DNode *ref = doc_push_map(a, doc_set_seq(a, spec, "policyRefs"));
	doc_set_str(a, ref, "name", e->policy);
	doc_set_str(a, ref, "kind", "ValidatingPolicy");
	StrBuf b;
	sb_init(&b);
	for (int i = 0; i < e->nservices; i++) {
		const Service *s = e->services[i];
		sb_printf(&b, "%s(request.namespace in ", i ? " || " : "");
		quoted_list(&b, service_namespaces(c, s), s->nenvs);
		sb_printf(&b, " && has(object.metadata.labels) && 'app.kubernetes.io/name' in object.metadata.labels && "
			      "object.metadata.labels['app.kubernetes.io/name'] == '%s')",
			  s->name);
	}
	DNode *cond = doc_push_map(a, doc_set_seq(a, spec, "matchConditions"));
	doc_set_str(a, cond, "name", "named-services");
	doc_set_str(a, cond, "expression", b.data ? b.data : "false");
	sb_free(&b);
	return o;
}

static DNode *legacy_exception(const Ctx *c, const char *name, const PolicyException *e, const LibPolicy *l)
{
	Arena *a = c->a;
	const MatchDef *m = match_def(l);
	DNode *o = exception_meta(c, k8s_object(a, "kyverno.io/v2", "PolicyException", name, EXCEPTION_NAMESPACE), e);
	DNode *spec = doc_set_map(a, o, "spec");
	DNode *ex = doc_push_map(a, doc_set_seq(a, spec, "exceptions"));
	doc_set_str(a, ex, "policyName", e->policy);
	DNode *rules = doc_set_seq(a, ex, "ruleNames");
	doc_push_str(a, rules, l->name);
	if (m->pods) { /* the rules Kyverno generates for pod controllers */
		doc_push(a, rules, doc_strf(a, "autogen-%s", l->name));
		doc_push(a, rules, doc_strf(a, "autogen-cronjob-%s", l->name));
	}
	DNode *any = doc_set_seq(a, doc_set_map(a, spec, "match"), "any");
	const char *kinds[MAX_KINDS] = {0};
	for (int i = 0; i < MAX_KINDS && m->exception_kinds[i]; i++)
		kinds[i] = grouped(c, m->exception_kinds[i]);
	for (int i = 0; i < e->nservices; i++) {
		const Service *s = e->services[i];
		DNode *res = doc_set_map(a, doc_push_map(a, any), "resources");
		doc_set(a, res, "kinds", flow_list(a, kinds, MAX_KINDS));
		doc_set(a, res, "namespaces", flow_list(a, service_namespaces(c, s), s->nenvs));
		doc_set_str(a, doc_set_map(a, doc_set_map(a, res, "selector"), "matchLabels"), "app.kubernetes.io/name",
			    s->name);
	}
	return o;
}

/* ---- the Kyverno CLI test suites ---- */

static DNode *clone(Arena *a, const DNode *n)
{
	DNode *c = arena_alloc(a, sizeof *c);
	*c = *n;
	c->pairs = NULL;
	c->items = NULL;
	c->n = c->cap = 0;
	if (n->kind == D_MAP)
		for (int i = 0; i < n->n; i++)
			doc_set(a, c, n->pairs[i].key, clone(a, n->pairs[i].val));
	if (n->kind == D_SEQ)
		for (int i = 0; i < n->n; i++)
			doc_push(a, c, clone(a, n->items[i]));
	return c;
}

/* One JSON patch operation (add | replace | remove) on doc. The path's
 * segments are substituted, then ~1 and ~0 unescaped. `add` makes missing
 * parent maps; a path that does not exist makes replace and remove no-ops. */
static void patch_op(const Ctx *c, DNode *doc, const char *op, const char *path, const DNode *value)
{
	Arena *a = c->a;
	char *segs[32];
	int n = 0;
	char *buf = arena_strdup(a, path);
	for (char *s = buf; s && *s == '/' && n < 32;) {
		char *next = strchr(s + 1, '/');
		if (next)
			*next = '\0';
		const char *seg = subst(c, s + 1);
		StrBuf b;
		sb_init(&b);
		for (const char *q = seg; *q; q++) {
			if (q[0] == '~' && (q[1] == '0' || q[1] == '1')) {
				sb_putc(&b, q[1] == '1' ? '/' : '~');
				q++;
			} else {
				sb_putc(&b, *q);
			}
		}
		sb_putc(&b, '\0');
		segs[n++] = arena_strdup(a, b.data);
		sb_free(&b);
		s = next ? next : NULL;
		if (s)
			*s = '/';
	}
	DNode *cur = doc;
	for (int i = 0; i < n - 1 && cur; i++) {
		DNode *next = NULL;
		if (cur->kind == D_MAP) {
			next = doc_get(cur, segs[i]);
			if (!next && strcmp(op, "add") == 0)
				next = doc_set_map(a, cur, segs[i]);
		} else if (cur->kind == D_SEQ) {
			int k = atoi(segs[i]);
			next = k >= 0 && k < cur->n ? cur->items[k] : NULL;
		}
		cur = next;
	}
	if (!cur || n == 0)
		return;
	const char *last = segs[n - 1];
	bool add = strcmp(op, "add") == 0, remove = strcmp(op, "remove") == 0;
	if (cur->kind == D_MAP) {
		int at = -1;
		for (int i = 0; i < cur->n; i++)
			if (strcmp(cur->pairs[i].key, last) == 0)
				at = i;
		if (remove && at >= 0) {
			memmove(&cur->pairs[at], &cur->pairs[at + 1], sizeof *cur->pairs * (size_t)(cur->n - at - 1));
			cur->n--;
		} else if (!remove && (add || at >= 0)) {
			doc_set(a, cur, last, clone(a, value));
		}
	} else if (cur->kind == D_SEQ) {
		if (strcmp(last, "-") == 0) {
			if (add)
				doc_push(a, cur, clone(a, value));
			return;
		}
		int k = atoi(last);
		if (k < 0 || k >= cur->n)
			return;
		if (remove) {
			memmove(&cur->items[k], &cur->items[k + 1], sizeof *cur->items * (size_t)(cur->n - k - 1));
			cur->n--;
		} else {
			cur->items[k] = clone(a, value);
		}
	}
}

/* A pod mutant's path on the Deployment: into the pod template, except the
 * object's own name and namespace. */
static const char *template_path(Arena *a, const char *path)
{
	if (strncmp(path, "/metadata/namespace", 19) == 0 || strncmp(path, "/metadata/name", 14) == 0)
		return path;
	return arena_sprintf(a, "/spec/template%s", path);
}

static void apply_mutant(const Ctx *c, DNode *obj, const Node *mutant, bool in_template)
{
	const Node *patch = node_get(mutant, "patch");
	for (int i = 0; patch && i < patch->n; i++) {
		const Node *op = patch->items[i];
		const Node *val = node_get(op, "value");
		const char *path = text(op, "path");
		patch_op(c, obj, text(op, "op"), in_template ? template_path(c->a, path) : path,
			 val ? to_doc(c, val) : doc_null(c->a));
	}
}

typedef enum { R_POD, R_DEPLOYMENT, R_SERVICE, R_INGRESS, R_NAMESPACE, R_N } Rep;
static const char *const rep_kinds[R_N] = {"Pod", "Deployment", "Service", "Ingress", "Namespace"};

/* The results of one suite, grouped by (policy, kind, rule, result). */
typedef struct Results {
	DNode *seq;
} Results;

static void add_result(const Ctx *c, Results *r, const LibPolicy *l, Rep kind, const char *name, const char *result)
{
	Arena *a = c->a;
	const char *rule = NULL;
	if (c->cluster_policy)
		rule = kind == R_DEPLOYMENT && strcmp(l->match, "pods") == 0 ? arena_sprintf(a, "autogen-%s", l->name)
									    : l->name;
	for (int i = 0; i < r->seq->n; i++) {
		DNode *e = r->seq->items[i];
		if (strcmp(doc_get(e, "policy")->s, l->name) == 0 && strcmp(doc_get(e, "kind")->s, rep_kinds[kind]) == 0 &&
		    strcmp(doc_get(e, "result")->s, result) == 0) {
			doc_push_str(a, doc_get(e, "resources"), name);
			return;
		}
	}
	DNode *e = doc_push_map(a, r->seq);
	doc_set_str(a, e, "policy", l->name);
	if (rule)
		doc_set_str(a, e, "rule", rule);
	else
		doc_set_bool(a, e, "isValidatingPolicy", true);
	doc_set_str(a, e, "kind", rep_kinds[kind]);
	doc_push_str(a, doc_set_seq(a, e, "resources"), name);
	doc_set_str(a, e, "result", result);
}

/* Which of the representatives a validating policy applies to (they live in
 * a team namespace platformc manages). */
static bool applies(const LibPolicy *l, Rep kind)
{
	if (strcmp(l->namespaces, "default") == 0 || strcmp(l->namespaces, "unmanaged-team") == 0)
		return false;
	const char *m = l->match;
	switch (kind) {
	case R_POD:
	case R_DEPLOYMENT: return strcmp(m, "pods") == 0 || strcmp(m, "pods-and-services") == 0;
	case R_SERVICE: return strcmp(m, "services") == 0 || strcmp(m, "pods-and-services") == 0;
	case R_INGRESS: return strcmp(m, "ingresses") == 0;
	case R_NAMESPACE: return strcmp(m, "namespaces") == 0;
	default: return false;
	}
}

/* What a mutant of policy l changes: pods (and their Deployment), or one kind. */
static Rep mutant_base(const LibPolicy *l, const Node *mutant)
{
	const char *on = text(mutant, "on");
	if (on && strcmp(on, "service") == 0)
		return R_SERVICE;
	if (strcmp(l->match, "ingresses") == 0)
		return R_INGRESS;
	if (strcmp(l->match, "namespaces") == 0)
		return R_NAMESPACE;
	if (strcmp(l->match, "services") == 0)
		return R_SERVICE;
	if (strcmp(l->match, "pods") == 0 || strcmp(l->match, "pods-and-services") == 0)
		return R_POD;
	return R_N;
}

/* <service>-pod, or within 63 characters with a hash of it */
static const char *pod_name(Arena *a, const char *service)
{
	const char *n = arena_sprintf(a, "%s-pod", service);
	if (strlen(n) <= 63)
		return n;
	return arena_sprintf(a, "%.54s-%08llx", n, (unsigned long long)(hash_bytes(n, strlen(n)) & 0xffffffffu));
}

static bool excepted(const Platform *p, const Service *s)
{
	for (int i = 0; i < p->nexceptions; i++)
		for (int j = 0; j < p->exceptions[i].nservices; j++)
			if (p->exceptions[i].services[j] == s)
				return true;
	return false;
}

/* the Pod a Deployment's ReplicaSet makes: its template's labels,
 * annotations and spec */
static DNode *pod_of(Arena *a, DNode *dep, const Service *s)
{
	DNode *tmpl = doc_get(doc_get(dep, "spec"), "template");
	DNode *pod = k8s_object(a, "v1", "Pod", pod_name(a, s->name), doc_get(doc_get(dep, "metadata"), "namespace")->s);
	DNode *md = doc_get(pod, "metadata");
	doc_set(a, md, "labels", clone(a, doc_get(doc_get(tmpl, "metadata"), "labels")));
	doc_set(a, md, "annotations", clone(a, doc_get(doc_get(tmpl, "metadata"), "annotations")));
	doc_set(a, pod, "spec", clone(a, doc_get(tmpl, "spec")));
	return pod;
}

/* mutants.yaml: each representative object changed the way a policy's
 * `mutants` say (a Pod mutant also on the Deployment's template), each
 * expected to fail that policy */
static void add_mutants(Ctx *c, const LibPolicy *lib, int nlib, DNode *const *rep, Results *res, DNode *bad)
{
	Arena *a = c->a;
	const Platform *p = c->p;
	StrMap names;
	strmap_init(&names);
	for (int i = 0; i < nlib; i++) {
		const LibPolicy *l = &lib[i];
		const Node *ms = node_get(l->node, "mutants");
		if (!l->validate || policy_disabled(p, l->name) || !ms)
			continue;
		c->local = node_get(l->node, "params");
		for (int j = 0; j < ms->n; j++) {
			Rep base = mutant_base(l, ms->items[j]);
			for (int pass = 0; base != R_N && rep[base] && pass < (base == R_POD ? 2 : 1); pass++) {
				Rep kind = pass ? R_DEPLOYMENT : base;
				DNode *m = clone(a, rep[kind]);
				apply_mutant(c, m, ms->items[j], pass == 1);
				/* <object>-<mutant>, unless taken or over 63 characters: then a hash of
				 * <object>-<policy>-<mutant> makes it unique */
				const char *base_name = doc_get(doc_get(rep[kind], "metadata"), "name")->s;
				const char *name = arena_sprintf(a, "%s-%s", base_name, text(ms->items[j], "name"));
				const char *key = arena_sprintf(a, "%s/%s", rep_kinds[kind], name);
				if (strlen(name) > 63 || strmap_get(&names, key)) {
					const char *full = arena_sprintf(a, "%s-%s-%s", base_name, l->name, text(ms->items[j], "name"));
					name = arena_sprintf(a, "%.54s-%08llx", name,
							     (unsigned long long)(hash_bytes(full, strlen(full)) & 0xffffffffu));
					key = arena_sprintf(a, "%s/%s", rep_kinds[kind], name);
				}
				strmap_put(&names, key, (void *)l);
				doc_set_str(a, doc_get(m, "metadata"), "name", name);
				doc_push(a, bad, m);
				add_result(c, res, l, kind, name, "fail");
			}
		}
		c->local = NULL;
	}
	strmap_free(&names);
}

/* tests/kyverno/<env>/: kyverno-test.yaml, resources.yaml (objects the
 * platform renders for the environment: a service's Pod, Deployment and
 * Service, an Ingress, the team Namespace; every policy that applies passes
 * them; the Pod and Deployment of each service an exception names skip the
 * excepted policies) and mutants.yaml (each of them changed the way a policy's `mutants`
 * say; that policy fails it). */
static void kyverno_tests(Ctx *c, const LibPolicy *lib, int nlib, const char *const *policy_files, int nfiles,
			  const char *const *exception_files, int nex, FileSet *fs, const Env *e)
{
	Arena *a = c->a;
	const Platform *p = c->p;
	DNode *rep[R_N] = {0};
	const Service *rs = NULL, *ring = NULL;
	for (int i = 0; i < p->nservices && !rep[R_INGRESS]; i++) {
		const Service *s = p->services[i];
		const ServiceEnv *se = service_in(s, e);
		if (!se || rollout_canary(s) || excepted(p, s))
			continue;
		DNode *built[3];
		services_built(a, p, s, se, built);
		if (!rs && built[1]) {
			rs = s;
			rep[R_DEPLOYMENT] = built[0];
			rep[R_SERVICE] = built[1];
		}
		if (built[2]) {
			rep[R_INGRESS] = built[2];
			ring = s;
		}
	}
	if (!rs)
		return;
	rep[R_POD] = pod_of(a, rep[R_DEPLOYMENT], rs);
	rep[R_NAMESPACE] = tenancy_namespace(a, p, rs->team, e);

	/* ${IMAGE} and ${REGISTRY} for the mutants */
	const char *image = arena_strdup(a, rs->image);
	const char *slash = strchr(image, '/');
	c->params[c->nparams] = (SubstParam){"IMAGE", image};
	c->params[c->nparams + 1] = (SubstParam){"REGISTRY", slash ? arena_strndup(a, image, (size_t)(slash - image)) : image};
	c->nparams += 2;

	Results res = {doc_seq(a)};
	DNode *good[R_N + 16], *bad = doc_seq(a);
	int ngood = 0;
	for (int k = 0; k < R_N; k++) {
		if (!rep[k])
			continue;
		good[ngood++] = rep[k];
		const char *name = doc_get(doc_get(rep[k], "metadata"), "name")->s;
		for (int i = 0; i < nlib; i++)
			if (lib[i].validate && !policy_disabled(p, lib[i].name) && applies(&lib[i], (Rep)k))
				add_result(c, &res, &lib[i], (Rep)k, name, "pass");
	}
	/* each service an exception names: its Deployment and Pod skip the policies
	 * excepted for it (Kyverno reports an exception as a skip) and pass the rest */
	DNode *extra_ns = doc_seq(a);
	for (int i = 0; i < p->nservices; i++) {
		const Service *s = p->services[i];
		const ServiceEnv *se = service_in(s, e);
		if (!se || rollout_canary(s) || !excepted(p, s))
			continue;
		DNode *built[3];
		services_built(a, p, s, se, built);
		DNode *objs[2] = {pod_of(a, built[0], s), built[0]};
		for (int k = 0; k < 2; k++) {
			good[ngood++] = objs[k];
			const char *name = doc_get(doc_get(objs[k], "metadata"), "name")->s;
			for (int j = 0; j < nlib; j++)
				if (lib[j].validate && !policy_disabled(p, lib[j].name) && applies(&lib[j], k ? R_DEPLOYMENT : R_POD))
					add_result(c, &res, &lib[j], k ? R_DEPLOYMENT : R_POD, name,
						   policy_excepts(p, s, lib[j].name) ? "skip" : "pass");
		}
		if (s->team != rs->team && (!ring || s->team != ring->team))
			doc_push(a, extra_ns, tenancy_namespace(a, p, s->team, e));
		if (ngood + 2 > (int)ARRAY_LEN(good))
			break;
	}
	add_mutants(c, lib, nlib, rep, &res, bad);
	c->nparams -= 2;

	const char *dir = arena_sprintf(a, SUITES_DIR "kyverno/%s", e->name);
	DNode *t = k8s_object(a, "cli.kyverno.io/v1alpha1", "Test", arena_sprintf(a, "platform-%s", e->name), NULL);
	DNode *pol = doc_set_seq(a, t, "policies");
	for (int i = 0; i < nfiles; i++)
		doc_push(a, pol, doc_strf(a, "../../../platform/kyverno/%s", policy_files[i]));
	if (nex) {
		DNode *ex = doc_set_seq(a, t, "exceptions");
		for (int i = 0; i < nex; i++)
			doc_push(a, ex, doc_strf(a, "../../../platform/kyverno/%s", exception_files[i]));
	}
	DNode *rf = doc_set_seq(a, t, "resources");
	doc_push_str(a, rf, "resources.yaml");
	doc_push_str(a, rf, "mutants.yaml");
	/* the labels of the namespaces the objects live in (namespace selectors, namespaceObject) */
	DNode *nss = doc_set_seq(a, doc_set_map(a, t, "values"), "namespaces");
	doc_push(a, nss, clone(a, rep[R_NAMESPACE]));
	if (ring && ring->team != rs->team)
		doc_push(a, nss, tenancy_namespace(a, p, ring->team, e));
	for (int i = 0; i < extra_ns->n; i++) {
		bool dup = false;
		for (int j = 0; j < nss->n; j++)
			dup = dup || strcmp(doc_get(doc_get(nss->items[j], "metadata"), "name")->s,
					    doc_get(doc_get(extra_ns->items[i], "metadata"), "name")->s) == 0;
		if (!dup)
			doc_push(a, nss, extra_ns->items[i]);
	}
	DNode *def = k8s_object(a, "v1", "Namespace", "default", NULL);
	doc_set_str(a, doc_set_map(a, doc_get(def, "metadata"), "labels"), "kubernetes.io/metadata.name", "default");
	doc_push(a, nss, def);
	doc_set(a, t, "results", res.seq);
	fileset_add_yaml(fs, arena_sprintf(a, "%s/kyverno-test.yaml", dir), t);
	fileset_add_yaml_multi(fs, arena_sprintf(a, "%s/resources.yaml", dir), good, ngood);
	fileset_add_yaml_multi(fs, arena_sprintf(a, "%s/mutants.yaml", dir), bad->items, bad->n);
}

void backend_kyverno(const Platform *p, FileSet *fs)
{
	Arena *a = fs->arena;
	/* what outlives the items (lists, indexes, the whole family's documents)
	 * is dropped when the family is done */
	ArenaMark whole = arena_mark(a);
	Ctx c = {0};
	ctx_init(&c, a, p);
	const LibPolicy *lib;
	int n = policy_library(a, &lib);
	const char *dir = "platform/kyverno";
	DNode *k = k8s_kustomization(a);
	DNode *res = doc_set_seq(a, k, "resources");
	const char **pfiles = arena_alloc(a, sizeof *pfiles * (size_t)(n + 1));
	const char **efiles = arena_alloc(a, sizeof *efiles * (size_t)(p->nexceptions + 1));
	int npfiles = 0, nefiles = 0;
	for (int i = 0; i < n; i++) {
		const LibPolicy *l = &lib[i];
		if (policy_disabled(p, l->name))
			continue;
		c.local = node_get(l->node, "params");
		DNode *doc = l->validate && !c.cluster_policy ? validating_policy(&c, l) : cluster_policy(&c, l);
		const char *file = arena_sprintf(a, "%s.yaml", l->name);
		fileset_add_yaml(fs, arena_sprintf(a, "%s/%s", dir, file), doc);
		doc_push_str(a, res, file);
		if (l->validate)
			pfiles[npfiles++] = file;
	}
	StrMap seen;
	c.local = NULL;
	strmap_init(&seen);
	for (int i = 0; i < p->nexceptions; i++) {
		const PolicyException *e = &p->exceptions[i];
		const LibPolicy *l = NULL;
		for (int j = 0; j < n && !l; j++)
			if (strcmp(lib[j].name, e->policy) == 0)
				l = &lib[j];
		if (!l || policy_disabled(p, l->name) || !e->nservices)
			continue;
		/* <policy>.<first service>; a second exception of the same pair gets -2, -3, ... */
		const char *name = arena_sprintf(a, "%s.%s", e->policy, e->services[0]->name);
		for (int dup = 2; strmap_get(&seen, name); dup++)
			name = arena_sprintf(a, "%s.%s-%d", e->policy, e->services[0]->name, dup);
		strmap_put(&seen, name, (void *)e);
		DNode *doc = l->validate && !c.cluster_policy ? cel_exception(&c, name, e) : legacy_exception(&c, name, e, l);
		const char *file = arena_sprintf(a, "exception-%s.yaml", name);
		fileset_add_yaml(fs, arena_sprintf(a, "%s/%s", dir, file), doc);
		doc_push_str(a, res, file);
		efiles[nefiles++] = file;
	}
	strmap_free(&seen);
	fileset_add_yaml(fs, arena_sprintf(a, "%s/kustomization.yaml", dir), k);
	fileset_add_unit(fs, &(Unit){.kind = U_PLATFORM, .dir = dir, .name = "kyverno"});
	for (int e = 0; e < p->nenvs; e++) {
		ArenaMark scope = arena_mark(a);
		kyverno_tests(&c, lib, n, pfiles, npfiles, efiles, nefiles, fs, &p->envs[e]);
		arena_release(a, scope);
	}
	arena_release(a, whole);
}
