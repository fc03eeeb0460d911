/*
 * backend_tenancy.c — a team's home in each environment: namespace
 * `<team>-<env>` and the objects that fence it.
 *
 *   teams/<team>/<env>/namespace.yaml          labels: team, environment, tier, Pod Security
 *   teams/<team>/<env>/resourcequota.yaml      the team's `quota`
 *   teams/<team>/<env>/limitrange.yaml         defaults for containers that set nothing
 *   teams/<team>/<env>/networkpolicy-*.yaml    default deny + DNS; services add their own allows
 *   teams/<team>/<env>/role.yaml, rolebinding-*.yaml   members edit, platform owner admin
 *   teams/<team>/<env>/kustomization.yaml
 *
 * Labels are the contract other families select on (policies, network
 * policies, dashboards): `platform.<domain>/team`, `/environment`, `/tier`.
 */
#include "platformc.h"

#include <string.h>

DNode *tenancy_namespace(Arena *a, const Platform *p, const Team *t, const Env *e)
{
	DNode *ns = k8s_object(a, "v1", "Namespace", k8s_namespace(a, t, e), NULL);
	DNode *md = doc_get(ns, "metadata");
	DNode *labels = doc_set_map(a, md, "labels");
	doc_set_str(a, labels, "app.kubernetes.io/managed-by", "platformc");
	doc_set_str(a, labels, k8s_label(a, p, "team"), t->name);
	doc_set_str(a, labels, k8s_label(a, p, "environment"), e->name);
	doc_set_str(a, labels, k8s_label(a, p, "tier"), e->prod ? "prod" : "nonprod");
	/* Pod Security Admission: every team namespace runs restricted, or baseline where an
	 * exception to a policy restricted enforces too must take effect (policies.c) */
	doc_set_str(a, labels, "pod-security.kubernetes.io/enforce", pod_security_level(p, t, e));
	doc_set_str(a, labels, "pod-security.kubernetes.io/enforce-version", "latest");
	doc_set_str(a, labels, "pod-security.kubernetes.io/audit", "restricted");
	doc_set_str(a, labels, "pod-security.kubernetes.io/warn", "restricted");
	if (t->title || t->email || t->slack) {
		DNode *ann = doc_set_map(a, md, "annotations");
		if (t->title)
			doc_set_str(a, ann, k8s_label(a, p, "team-title"), t->title);
		if (t->email)
			doc_set_str(a, ann, k8s_label(a, p, "team-email"), t->email);
		if (t->slack)
			doc_set_str(a, ann, k8s_label(a, p, "team-slack"), t->slack);
	}
	return ns;
}

static DNode *quota_doc(Arena *a, const Team *t, const char *ns)
{
	DNode *q = k8s_object(a, "v1", "ResourceQuota", "team-quota", ns);
	DNode *hard = doc_set_map(a, doc_set_map(a, q, "spec"), "hard");
	doc_set_str(a, hard, "requests.cpu", t->quota_cpu);
	doc_set_str(a, hard, "requests.memory", t->quota_memory);
	/* memory limit = request for every container platformc writes */
	doc_set_str(a, hard, "limits.memory", t->quota_memory);
	if (t->quota_pods)
		doc_set(a, hard, "pods", doc_strf(a, "%lld", t->quota_pods));
	return q;
}

static DNode *limitrange_doc(Arena *a, const char *ns)
{
	DNode *l = k8s_object(a, "v1", "LimitRange", "container-defaults", ns);
	DNode *lim = doc_push_map(a, doc_set_seq(a, doc_set_map(a, l, "spec"), "limits"));
	doc_set_str(a, lim, "type", "Container");
	DNode *def = doc_set_map(a, lim, "default");
	doc_set_str(a, def, "memory", "128Mi");
	DNode *req = doc_set_map(a, lim, "defaultRequest");
	doc_set_str(a, req, "cpu", "100m");
	doc_set_str(a, req, "memory", "128Mi");
	return l;
}

static DNode *deny_all_doc(Arena *a, const char *ns)
{
	DNode *np = k8s_object(a, "networking.k8s.io/v1", "NetworkPolicy", "default-deny", ns);
	DNode *spec = doc_set_map(a, np, "spec");
	doc_set_map(a, spec, "podSelector");
	DNode *types = doc_set_seq(a, spec, "policyTypes");
	types->flow = true;
	doc_push_str(a, types, "Ingress");
	doc_push_str(a, types, "Egress");
	return np;
}

static DNode *allow_dns_doc(Arena *a, const char *ns)
{
	DNode *np = k8s_object(a, "networking.k8s.io/v1", "NetworkPolicy", "allow-dns", ns);
	DNode *spec = doc_set_map(a, np, "spec");
	doc_set_map(a, spec, "podSelector");
	DNode *types = doc_set_seq(a, spec, "policyTypes");
	types->flow = true;
	doc_push_str(a, types, "Egress");
	DNode *rule = doc_push_map(a, doc_set_seq(a, spec, "egress"));
	DNode *to = doc_push_map(a, doc_set_seq(a, rule, "to"));
	doc_set_str(a, doc_set_map(a, doc_set_map(a, to, "namespaceSelector"), "matchLabels"),
		    "kubernetes.io/metadata.name", "kube-system");
	doc_set_str(a, doc_set_map(a, doc_set_map(a, to, "podSelector"), "matchLabels"), "k8s-app", "kube-dns");
	DNode *ports = doc_set_seq(a, rule, "ports");
	const char *protos[] = {"UDP", "TCP"};
	for (int i = 0; i < 2; i++) {
		DNode *pt = doc_push_map(a, ports);
		doc_set_str(a, pt, "protocol", protos[i]);
		doc_set_int(a, pt, "port", 53);
	}
	return np;
}

static void rule(Arena *a, DNode *rules, const char *const *groups, const char *const *resources,
		 const char *const *verbs)
{
	DNode *r = doc_push_map(a, rules);
	DNode *seqs[3] = {doc_set_seq(a, r, "apiGroups"), doc_set_seq(a, r, "resources"), doc_set_seq(a, r, "verbs")};
	const char *const *lists[3] = {groups, resources, verbs};
	for (int i = 0; i < 3; i++) {
		seqs[i]->flow = true;
		for (const char *const *s = lists[i]; *s; s++)
			doc_push_str(a, seqs[i], *s);
	}
}

/* What a team member may do in the team's namespace: run and change its
 * workloads, read everything else of its own; no Secrets (connection
 * secrets are delivered by the platform), no RBAC, quota or policy objects.
 * Exec and port-forward only in nonprod tiers. */
static DNode *role_doc(Arena *a, const Platform *p, const Env *e, const char *ns)
{
	DNode *role = k8s_object(a, "rbac.authorization.k8s.io/v1", "Role", "team-edit", ns);
	DNode *rules = doc_set_seq(a, role, "rules");
	static const char *const rw[] = {"get", "list", "watch", "create", "update", "patch", "delete", NULL};
	static const char *const ro[] = {"get", "list", "watch", NULL};
	rule(a, rules, (const char *[]){"", NULL},
	     (const char *[]){"configmaps", "services", "serviceaccounts", NULL}, rw);
	rule(a, rules, (const char *[]){"", NULL},
	     (const char *[]){"pods", "pods/log", "events", "endpoints", "persistentvolumeclaims", "resourcequotas",
			      "limitranges", NULL},
	     ro);
	rule(a, rules, (const char *[]){"", NULL}, (const char *[]){"pods", NULL}, (const char *[]){"delete", NULL});
	rule(a, rules, (const char *[]){"apps", NULL},
	     (const char *[]){"deployments", "deployments/scale", "replicasets", "statefulsets", NULL}, rw);
	rule(a, rules, (const char *[]){"batch", NULL}, (const char *[]){"jobs", "cronjobs", NULL}, rw);
	rule(a, rules, (const char *[]){"autoscaling", NULL}, (const char *[]){"horizontalpodautoscalers", NULL}, rw);
	rule(a, rules, (const char *[]){"policy", NULL}, (const char *[]){"poddisruptionbudgets", NULL}, rw);
	rule(a, rules, (const char *[]){"networking.k8s.io", NULL}, (const char *[]){"ingresses", NULL}, rw);
	rule(a, rules, (const char *[]){"networking.k8s.io", NULL}, (const char *[]){"networkpolicies", NULL}, ro);
	rule(a, rules, (const char *[]){arena_sprintf(a, "platform.%s", p->domain), NULL}, (const char *[]){"*", NULL}, ro);
	rule(a, rules, (const char *[]){"external-secrets.io", NULL}, (const char *[]){"externalsecrets", NULL}, ro);
	rule(a, rules, (const char *[]){"monitoring.coreos.com", NULL},
	     (const char *[]){"servicemonitors", "prometheusrules", NULL}, ro);
	if (!e->prod)
		rule(a, rules, (const char *[]){"", NULL}, (const char *[]){"pods/exec", "pods/portforward", NULL},
		     (const char *[]){"create", NULL});
	return role;
}

/* Subjects: the team as an identity-provider group (same name) and each member. */
static DNode *binding_doc(Arena *a, const char *name, const char *ns, const char *role_kind, const char *role,
			  const Team *t)
{
	DNode *rb = k8s_object(a, "rbac.authorization.k8s.io/v1", "RoleBinding", name, ns);
	DNode *ref = doc_set_map(a, rb, "roleRef");
	doc_set_str(a, ref, "apiGroup", "rbac.authorization.k8s.io");
	doc_set_str(a, ref, "kind", role_kind);
	doc_set_str(a, ref, "name", role);
	DNode *subjects = doc_set_seq(a, rb, "subjects");
	DNode *g = doc_push_map(a, subjects);
	doc_set_str(a, g, "apiGroup", "rbac.authorization.k8s.io");
	doc_set_str(a, g, "kind", "Group");
	doc_set_str(a, g, "name", t->name);
	for (int i = 0; i < t->nmembers; i++) {
		DNode *u = doc_push_map(a, subjects);
		doc_set_str(a, u, "apiGroup", "rbac.authorization.k8s.io");
		doc_set_str(a, u, "kind", "User");
		doc_set_str(a, u, "name", t->members[i]);
	}
	return rb;
}

/* teams/<team>/<env>/: the namespace and its fences. */
static void namespace_folder(const Platform *p, FileSet *fs, const Team *team, const Env *env, const char *ns,
			     const char *dir)
{
	Arena *a = fs->arena;
	struct {
		const char *file;
		DNode *doc;
	} objs[] = {
		{"namespace.yaml", tenancy_namespace(a, p, team, env)},
		{"resourcequota.yaml", quota_doc(a, team, ns)},
		{"limitrange.yaml", limitrange_doc(a, ns)},
		{"networkpolicy-default-deny.yaml", deny_all_doc(a, ns)},
		{"networkpolicy-allow-dns.yaml", allow_dns_doc(a, ns)},
		{"role.yaml", role_doc(a, p, env, ns)},
		{"rolebinding-team-edit.yaml", binding_doc(a, "team-edit", ns, "Role", "team-edit", team)},
		{"rolebinding-platform-admin.yaml",
		 binding_doc(a, "platform-admin", ns, "ClusterRole", "admin", p->owner)},
	};
	DNode *k = k8s_kustomization(a);
	DNode *res = doc_set_seq(a, k, "resources");
	for (size_t i = 0; i < ARRAY_LEN(objs); i++) {
		fileset_add_yaml(fs, arena_sprintf(a, "%s/%s", dir, objs[i].file), objs[i].doc);
		doc_push_str(a, res, objs[i].file);
	}
	fileset_add_yaml(fs, arena_sprintf(a, "%s/kustomization.yaml", dir), k);
}

void backend_tenancy(const Platform *p, FileSet *fs)
{
	Arena *a = fs->arena;
	/* what outlives the items (lists, indexes, the whole family's documents)
	 * is dropped when the family is done */
	ArenaMark whole = arena_mark(a);
	for (int ti = 0; ti < p->nteams; ti++) {
		const Team *team = p->teams[ti];
		/* a team's namespaces, kept as they are when it and the platform are */
		ArenaMark tscope = arena_mark(a);
		bool kept = fileset_unit_begin(fs, arena_sprintf(a, "teams/%s", team->name), unitkey_team(fs, p, team));
		for (int e = 0; e < p->nenvs; e++) {
			/* the namespace's documents are dropped once its files are added */
			ArenaMark scope = arena_mark(a);
			const Env *env = &p->envs[e];
			const char *ns = k8s_namespace(a, team, env);
			const char *dir = arena_sprintf(a, "teams/%s/%s", team->name, env->name);
			if (!kept)
				namespace_folder(p, fs, team, env, ns, dir);
			fileset_add_unit(fs, &(Unit){.kind = U_TENANCY, .dir = dir,
						     .name = arena_sprintf(a, "tenancy-%s", team->name), .env = env,
						     .team = team, .namespace = ns,
						     .label_key = k8s_label(a, p, "team"), .label_value = team->name});
			arena_release(a, scope);
		}
		fileset_unit_end(fs);
		arena_release(a, tscope);
	}
	arena_release(a, whole);
}
