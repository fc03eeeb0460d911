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
 *                                      once per cluster, in its first environment
 *   argocd/<env>/kustomization.yaml    app-of-apps of the environment
 *   argocd/root/                       root Applications: projects and each
 *                                      environment (`kubectl apply -k` once)
 *
 * Team namespaces, quotas and RBAC are platform-owned: their Applications
 * belong to the platform project, which a team project cannot widen.
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
	return proj;
}

static bool same_cluster(const Env *a, const Env *b)
{
	return (!a->cluster && !b->cluster) || (a->cluster && b->cluster && strcmp(a->cluster, b->cluster) == 0);
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
	return proj;
}

static DNode *application(Arena *a, const Platform *p, const char *name, const char *project, const char *path,
			  DNode *dest, int wave, DNode *labels, const char *const *sync_options)
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
	doc_set_bool(a, au, "prune", true);
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
	const char *name = arena_sprintf(a, "%s-%s", u->name, e->name);
	DNode *labels = doc_map(a);
	doc_set_str(a, labels, "app.kubernetes.io/managed-by", "platformc");
	doc_set_str(a, labels, k8s_label(a, p, "environment"), e->name);
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
	DNode *app = application(a, p, name, project, source_path(a, p, u->dir), k8s_destination(a, e, u->namespace),
				 (int)u->kind, labels, opts);
	fileset_add_yaml(fs, arena_sprintf(a, "argocd/%s/%s", e->name, file), app);
}

void backend_argocd(const Platform *p, FileSet *fs)
{
	Arena *a = fs->arena;
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

	Unit *units = clusters_sorted_units(fs);
	DNode *rk = k8s_kustomization(a);
	DNode *rres = doc_set_seq(a, rk, "resources");
	static const char *const root_opts[] = {NULL};
	/* the root lives where Argo CD runs: the in-cluster destination */
	Env here = {.name = "root"};
	DNode *projects = application(a, p, "root-projects", "default", source_path(a, p, "argocd/projects"),
				      k8s_destination(a, &here, ARGOCD_NAMESPACE), -1, NULL, root_opts);
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
			if (!(units[i].env ? units[i].env == env : first_on_cluster(p, e)))
				continue;
			const char *file = arena_sprintf(a, "%s/%s.yaml", family_dir[units[i].kind], units[i].name);
			doc_push_str(a, res, file);
			/* the Application's document is dropped once it is added */
			ArenaMark scope = arena_mark(a);
			unit_app(p, fs, &units[i], env, file);
			arena_release(a, scope);
		}
		fileset_add_yaml(fs, arena_sprintf(a, "argocd/%s/kustomization.yaml", env->name), k);
		DNode *root = application(a, p, arena_sprintf(a, "root-%s", env->name), "default",
					  source_path(a, p, arena_sprintf(a, "argocd/%s", env->name)),
					  k8s_destination(a, &here, ARGOCD_NAMESPACE), 0, NULL, root_opts);
		fileset_add_yaml(fs, arena_sprintf(a, "argocd/root/%s.yaml", env->name), root);
		arena_release(a, env_scope);
	}
	fileset_add_yaml(fs, "argocd/root/kustomization.yaml", rk);
	free(units);
}
