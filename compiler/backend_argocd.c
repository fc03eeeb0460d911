/*
 * backend_argocd.c — Argo CD: who may deploy what where, and an
 * Application for every deployment unit.
 *
 *   argocd/projects/team-<team>.yaml   AppProject per team: the GitOps repo as
 *                                      source, the team's namespaces as
 *                                      destinations, no cluster-scoped kinds
 *   argocd/projects/platform-system.yaml  the platform's own project
 *   argocd/<env>/<family>/<name>.yaml  Application per unit and environment;
 *                                      a cluster-wide part (every environment)
 *                                      once per cluster, named <unit>-<cluster>,
 *                                      in the first environment on that cluster
 *   argocd/health/argocd-cm.yaml       health checks Argo CD needs for the
 *                                      platform's claims (merge into argocd-cm)
 *   argocd/<env>/kustomization.yaml    app-of-apps of the environment
 *   argocd/root/                       root Applications: projects and each
 *                                      environment (`kubectl apply -k` once)
 *
 * Team namespaces, quotas and RBAC are platform-owned: their Applications
 * belong to the platform project, which a team project cannot widen.
 *
 * Sync policy per tier (`platform.argocd`): nonprod syncs and prunes on its
 * own; prod syncs and self-heals but prunes only when `prune_prod` says so
 * (a deleted file must not silently delete a production object). A cluster
 * app takes the strictest tier of the environments on its cluster. Sync
 * windows (`sync_windows`) go into every AppProject, matched by Application
 * name per tier.
 */
#include "platformc.h"

#include <stdlib.h>
#include <string.h>

#define ARGOCD_NAMESPACE "argocd"
#define PLATFORM_PROJECT "platform-system"

static const char *const family_dir[] = {
	[U_PLATFORM] = "platform", [U_TENANCY] = "teams", [U_RESOURCE] = "resources",
	[U_SERVICE] = "services", [U_MONITORING] = "monitoring",
};

static const char *source_path(Arena *a, const Platform *p, const char *dir)
{
	const char *base = p->gitops_path;
	if (!base || !*base || strcmp(base, ".") == 0)
		return dir;
	size_t n = strlen(base);
	while (n && base[n - 1] == '/')
		n--;
	return arena_sprintf(a, "%.*s/%s", (int)n, base, dir);
}

static DNode *repo_list(Arena *a, const Platform *p)
{
	DNode *s = doc_seq(a);
	doc_push_str(a, s, p->gitops_repo);
	return s;
}

static DNode *group_kind(Arena *a, const char *group, const char *kind)
{
	DNode *g = doc_map(a);
	doc_set_str(a, g, "group", group);
	doc_set_str(a, g, "kind", kind);
	return g;
}

static const Node *argocd_settings(const Platform *p)
{
	return node_get(node_get(p->root, "platform"), "argocd");
}

static bool same_cluster(const Env *a, const Env *b)
{
	return (!a->cluster && !b->cluster) || (a->cluster && b->cluster && strcmp(a->cluster, b->cluster) == 0);
}

/* A cluster hosts a prod tier when any environment on it is prod. */
static bool cluster_prod(const Platform *p, const Env *e)
{
	for (int k = 0; k < p->nenvs; k++)
		if (same_cluster(&p->envs[k], e) && p->envs[k].prod)
			return true;
	return false;
}

/* Go durations for Argo CD: days as hours (`1d2h` -> `26h`). */
static const char *go_duration(Arena *a, const char *d)
{
	long long ms = 0;
	if (!scalar_duration(d, &ms))
		return d;
	long long s = ms / 1000, h = s / 3600, m = (s % 3600) / 60;
	s %= 60;
	StrBuf b;
	sb_init(&b);
	if (h)
		sb_printf(&b, "%lldh", h);
	if (m)
		sb_printf(&b, "%lldm", m);
	if (s || (!h && !m))
		sb_printf(&b, "%llds", s);
	const char *r = arena_strdup(a, b.data);
	sb_free(&b);
	return r;
}

/* `sync_windows` as AppProject syncWindows: each window's tier becomes the
 * names of that tier's Applications (`*-<env>`, and the cluster apps). */
static void sync_windows(Arena *a, const Platform *p, DNode *spec)
{
	const Node *ws = node_get(argocd_settings(p), "sync_windows");
	if (!ws || ws->kind != N_SEQ || !ws->n)
		return;
	DNode *out = doc_set_seq(a, spec, "syncWindows");
	for (int i = 0; i < ws->n; i++) {
		const Node *w = ws->items[i];
		const Node *tn = node_get(w, "tier");
		const char *tier = tn && tn->text ? tn->text : "prod";
		DNode *o = doc_push_map(a, out);
		doc_set_str(a, o, "kind", node_get(w, "kind")->text);
		doc_set_str(a, o, "schedule", node_get(w, "schedule")->text);
		doc_set_str(a, o, "duration", go_duration(a, node_get(w, "duration")->text));
		DNode *apps = doc_set_seq(a, o, "applications");
		for (int e = 0; e < p->nenvs; e++) {
			const Env *env = &p->envs[e];
			bool in = strcmp(tier, "all") == 0 || (env->prod == (strcmp(tier, "prod") == 0));
			if (in)
				doc_push(a, apps, doc_strf(a, "*-%s", env->name));
		}
		for (int e = 0; e < p->nenvs; e++) {
			const Env *env = &p->envs[e];
			bool first = true;
			for (int k = 0; k < e; k++)
				first &= !same_cluster(&p->envs[k], env);
			bool prod = cluster_prod(p, env);
			if (first && (strcmp(tier, "all") == 0 || prod == (strcmp(tier, "prod") == 0)))
				doc_push(a, apps, doc_strf(a, "*-%s", env_argo_cluster(env)));
		}
		const Node *manual = node_get(w, "manual_sync");
		doc_set_bool(a, o, "manualSync", !manual || !manual->text || strcmp(manual->text, "false") != 0);
		const Node *tz = node_get(w, "timezone");
		if (tz && tz->text)
			doc_set_str(a, o, "timeZone", tz->text);
	}
}

static DNode *team_project(Arena *a, const Platform *p, const Team *t)
{
	DNode *proj = k8s_object(a, "argoproj.io/v1alpha1", "AppProject", t->name, ARGOCD_NAMESPACE);
	doc_set_str(a, doc_set_map(a, doc_get(proj, "metadata"), "labels"), k8s_label(a, p, "team"), t->name);
	DNode *spec = doc_set_map(a, proj, "spec");
	doc_set(a, spec, "description", doc_strf(a, "Team %s: its services and resources", t->title ? t->title : t->name));
	doc_set(a, spec, "sourceRepos", repo_list(a, p));
	DNode *dests = doc_set_seq(a, spec, "destinations");
	for (int e = 0; e < p->nenvs; e++)
		doc_push(a, dests, k8s_destination(a, &p->envs[e], k8s_namespace(a, t, &p->envs[e])));
	doc_set(a, spec, "clusterResourceWhitelist", doc_seq(a));
	/* what the platform owns in a team namespace, and plain Secrets:
	 * connection secrets come from ExternalSecrets, never from git */
	DNode *deny = doc_set_seq(a, spec, "namespaceResourceBlacklist");
	doc_push(a, deny, group_kind(a, "", "ResourceQuota"));
	doc_push(a, deny, group_kind(a, "", "LimitRange"));
	doc_push(a, deny, group_kind(a, "", "Secret"));
	doc_push(a, deny, group_kind(a, "rbac.authorization.k8s.io", "Role"));
	doc_push(a, deny, group_kind(a, "rbac.authorization.k8s.io", "RoleBinding"));
	sync_windows(a, p, spec);
	return proj;
}

/* True when no environment before envs[e] deploys to the same cluster. */
static bool first_on_cluster(const Platform *p, int e)
{
	for (int k = 0; k < e; k++)
		if (same_cluster(&p->envs[k], &p->envs[e]))
			return false;
	return true;
}

static DNode *platform_project(Arena *a, const Platform *p)
{
	DNode *proj = k8s_object(a, "argoproj.io/v1alpha1", "AppProject", PLATFORM_PROJECT, ARGOCD_NAMESPACE);
	DNode *spec = doc_set_map(a, proj, "spec");
	doc_set(a, spec, "description", doc_strf(a, "The %s platform: tenancy, cluster-wide parts", p->name));
	doc_set(a, spec, "sourceRepos", repo_list(a, p));
	DNode *dests = doc_set_seq(a, spec, "destinations");
	/* each distinct cluster once, in environment order */
	for (int e = 0; e < p->nenvs; e++) {
		if (first_on_cluster(p, e))
			doc_push(a, dests, k8s_destination(a, &p->envs[e], "*"));
	}
	DNode *allow = doc_set_seq(a, spec, "clusterResourceWhitelist");
	doc_push(a, allow, group_kind(a, "*", "*"));
	sync_windows(a, p, spec);
	return proj;
}

static DNode *application(Arena *a, const Platform *p, const char *name, const char *project, const char *path,
			  DNode *dest, int wave, DNode *labels, const char *const *sync_options, bool prune)
{
	DNode *app = k8s_object(a, "argoproj.io/v1alpha1", "Application", name, ARGOCD_NAMESPACE);
	DNode *md = doc_get(app, "metadata");
	if (labels)
		doc_set(a, md, "labels", labels);
	doc_set(a, doc_set_map(a, md, "annotations"), "argocd.argoproj.io/sync-wave", doc_strf(a, "%d", wave));
	doc_push_str(a, doc_set_seq(a, md, "finalizers"), "resources-finalizer.argocd.argoproj.io");
	DNode *spec = doc_set_map(a, app, "spec");
	doc_set_str(a, spec, "project", project);
	DNode *src = doc_set_map(a, spec, "source");
	doc_set_str(a, src, "repoURL", p->gitops_repo);
	doc_set_str(a, src, "targetRevision", p->gitops_revision);
	doc_set_str(a, src, "path", path);
	doc_set(a, spec, "destination", dest);
	DNode *sync = doc_set_map(a, spec, "syncPolicy");
	DNode *au = doc_set_map(a, sync, "automated");
	doc_set_bool(a, au, "prune", prune);
	doc_set_bool(a, au, "selfHeal", true);
	DNode *opts = doc_set_seq(a, sync, "syncOptions");
	for (; *sync_options; sync_options++)
		doc_push_str(a, opts, *sync_options);
	return app;
}

/* The Application of unit u in environment e, at argocd/<env>/<file>. */
static void unit_app(const Platform *p, FileSet *fs, const Unit *u, const Env *e, const char *file)
{
	Arena *a = fs->arena;
	/* a cluster-wide part is the cluster's, not its first environment's */
	const char *name = arena_sprintf(a, "%s-%s", u->name, u->env ? e->name : env_argo_cluster(e));
	DNode *labels = doc_map(a);
	doc_set_str(a, labels, "app.kubernetes.io/managed-by", "platformc");
	if (u->env)
		doc_set_str(a, labels, k8s_label(a, p, "environment"), e->name);
	else
		doc_set_str(a, labels, k8s_label(a, p, "cluster"), env_argo_cluster(e));
	if (u->team)
		doc_set_str(a, labels, k8s_label(a, p, "team"), u->team->name);
	if (u->label_key && !doc_get(labels, u->label_key))
		doc_set_str(a, labels, u->label_key, u->label_value);
	const char *project = (u->kind == U_PLATFORM || u->kind == U_TENANCY || !u->team) ? PLATFORM_PROJECT
											 : u->team->name;
	static const char *const plain[] = {"ServerSideApply=true", NULL};
	/* claim kinds come from XRDs that may not be established yet */
	static const char *const claims[] = {"ServerSideApply=true", "SkipDryRunOnMissingResource=true", NULL};
	/* a namespace goes last, after everything in it */
	static const char *const tenancy[] = {"ServerSideApply=true", "PruneLast=true", NULL};
	const char *const *opts = u->kind == U_RESOURCE ? claims : u->kind == U_TENANCY ? tenancy : plain;
	bool prod = u->env ? e->prod : cluster_prod(p, e);
	const Node *pp = node_get(argocd_settings(p), "prune_prod");
	bool prune = !prod || (pp && pp->text && strcmp(pp->text, "true") == 0);
	DNode *app = application(a, p, name, project, source_path(a, p, u->dir), k8s_destination(a, e, u->namespace),
				 (int)u->kind, labels, opts, prune);
	fileset_add_yaml(fs, arena_sprintf(a, "argocd/%s/%s", e->name, file), app);
}

/* Argo CD knows ExternalSecrets and Rollouts (its built-in
 * resource_customizations) but not the platform's claims: without a health
 * check a claim is Healthy as soon as it exists. Ready when Crossplane says
 * Synced and Ready; Degraded when it cannot sync. */
static const char claim_health[] =
	"hs = {status = \"Progressing\", message = \"Waiting for the claim to be synced and ready\"}\n"
	"if obj.status ~= nil and obj.status.conditions ~= nil then\n"
	"  local synced, ready = nil, nil\n"
	"  for _, c in ipairs(obj.status.conditions) do\n"
	"    if c.type == \"Synced\" then synced = c end\n"
	"    if c.type == \"Ready\" then ready = c end\n"
	"  end\n"
	"  if synced ~= nil and synced.status == \"False\" then\n"
	"    hs.status = \"Degraded\"\n"
	"    hs.message = synced.message or synced.reason or \"cannot sync\"\n"
	"  elseif ready ~= nil and ready.status == \"True\" then\n"
	"    hs.status = \"Healthy\"\n"
	"    hs.message = \"Synced and ready\"\n"
	"  elseif ready ~= nil then\n"
	"    hs.message = ready.message or ready.reason or hs.message\n"
	"  end\n"
	"end\n"
	"return hs\n";

static DNode *health_checks(Arena *a, const Platform *p)
{
	DNode *cm = k8s_object(a, "v1", "ConfigMap", "argocd-cm", ARGOCD_NAMESPACE);
	doc_set_str(a, doc_set_map(a, doc_get(cm, "metadata"), "labels"), "app.kubernetes.io/part-of", "argocd");
	DNode *data = doc_set_map(a, cm, "data");
	/* every claim kind of the platform's API group (and the namespaced XRs) */
	doc_set_str(a, data, arena_sprintf(a, "resource.customizations.health.platform.%s_*", p->domain), claim_health);
	return cm;
}

void backend_argocd(const Platform *p, FileSet *fs)
{
	Arena *a = fs->arena;
	/* what outlives the items (lists, indexes, the whole family's documents)
	 * is dropped when the family is done */
	ArenaMark whole = arena_mark(a);
	DNode *pk = k8s_kustomization(a);
	DNode *pres = doc_set_seq(a, pk, "resources");
	fileset_add_yaml(fs, "argocd/projects/" PLATFORM_PROJECT ".yaml", platform_project(a, p));
	doc_push_str(a, pres, PLATFORM_PROJECT ".yaml");
	for (int t = 0; t < p->nteams; t++) {
		const char *file = arena_sprintf(a, "team-%s.yaml", p->teams[t]->name);
		fileset_add_yaml(fs, arena_sprintf(a, "argocd/projects/%s", file), team_project(a, p, p->teams[t]));
		doc_push_str(a, pres, file);
	}
	fileset_add_yaml(fs, "argocd/projects/kustomization.yaml", pk);

	const Unit *const *units = clusters_sorted_units(fs);
	DNode *rk = k8s_kustomization(a);
	DNode *rres = doc_set_seq(a, rk, "resources");
	static const char *const root_opts[] = {NULL};
	/* the root lives where Argo CD runs: the in-cluster destination */
	Env here = {.name = "root"};
	DNode *projects = application(a, p, "root-projects", "default", source_path(a, p, "argocd/projects"),
				      k8s_destination(a, &here, ARGOCD_NAMESPACE), -1, NULL, root_opts, true);
	fileset_add_yaml(fs, "argocd/root/projects.yaml", projects);
	doc_push_str(a, rres, "projects.yaml");
	for (int e = 0; e < p->nenvs; e++) {
		const Env *env = &p->envs[e];
		doc_push_str(a, rres, arena_sprintf(a, "%s.yaml", env->name));
		/* the environment's documents are dropped once added */
		ArenaMark env_scope = arena_mark(a);
		DNode *k = k8s_kustomization(a);
		DNode *res = doc_set_seq(a, k, "resources");
		for (int i = 0; i < fs->nunits; i++) {
			/* a part of every environment is cluster-wide: one
			 * Application per cluster (in the first environment that
			 * deploys to it), or two would own the same objects */
			if (!(units[i]->env ? units[i]->env == env : first_on_cluster(p, e)))
				continue;
			const char *file = arena_sprintf(a, "%s/%s.yaml", family_dir[units[i]->kind], units[i]->name);
			doc_push_str(a, res, file);
			/* the Application's document is dropped once it is added; it
			 * is kept as it is when the unit is the same */
			ArenaMark scope = arena_mark(a);
			const char *path = arena_sprintf(a, "argocd/%s/%s", env->name, file);
			if (!fileset_unit_begin(fs, path, unitkey_deployment(fs, p, units[i], env)))
				unit_app(p, fs, units[i], env, file);
			fileset_unit_end(fs);
			arena_release(a, scope);
		}
		fileset_add_yaml(fs, arena_sprintf(a, "argocd/%s/kustomization.yaml", env->name), k);
		DNode *root = application(a, p, arena_sprintf(a, "root-%s", env->name), "default",
					  source_path(a, p, arena_sprintf(a, "argocd/%s", env->name)),
					  k8s_destination(a, &here, ARGOCD_NAMESPACE), 0, NULL, root_opts, true);
		fileset_add_yaml(fs, arena_sprintf(a, "argocd/root/%s.yaml", env->name), root);
		arena_release(a, env_scope);
	}
	fileset_add_yaml(fs, "argocd/root/kustomization.yaml", rk);
	fileset_add_yaml(fs, "argocd/health/argocd-cm.yaml", health_checks(a, p));
	DNode *hk = k8s_kustomization(a);
	doc_push_str(a, doc_set_seq(a, hk, "resources"), "argocd-cm.yaml");
	fileset_add_yaml(fs, "argocd/health/kustomization.yaml", hk);

	arena_release(a, whole);
}
