/*
 * backend_readme.c — out/README.md: the index of what was generated.
 * Runs last (see the table in backends.c), so it can count every other file.
 */
#include "platformc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static _Noreturn void requirements_bug(const char *what)
{
	fprintf(stderr, "platformc: internal error in stdlib/requirements.yaml: %s\n", what);
	abort();
}

/* A `${name}` of stdlib/requirements.yaml: the platform's value, as Markdown. */
static void requirement_value(Arena *a, const Platform *p, const char *name, size_t len, StrBuf *b)
{
	MonSettings m = monitoring_settings(a, p);
	if (len == 20 && !strncmp(name, "monitoring.namespace", len)) {
		sb_printf(b, "`%s`", m.namespace);
	} else if (len == 19 && !strncmp(name, "monitoring.selector", len)) {
		DNode *labels = doc_map(a);
		monitoring_selector_labels(a, &m, labels);
		sb_putc(b, '`');
		for (int i = 0; i < labels->n; i++)
			sb_printf(b, "%s%s: %s", i ? ", " : "", labels->pairs[i].key, labels->pairs[i].val->s);
		sb_putc(b, '`');
	} else if (len > 8 && !strncmp(name, "ingress.", 8)) {
		IngressSettings is = platform_ingress(p);
		const char *v = len == 13 && !strncmp(name, "ingress.class", len)       ? is.cls
				: len == 17 && !strncmp(name, "ingress.namespace", len) ? is.namespace
				: len == 14 && !strncmp(name, "ingress.issuer", len)    ? is.issuer
											: NULL;
		if (!v)
			requirements_bug("unknown ${value}");
		sb_printf(b, "`%s`", v);
	} else {
		requirements_bug("unknown ${value}");
	}
}

static bool any_service(const Platform *p, bool (*has)(const Service *))
{
	for (int i = 0; i < p->nservices; i++)
		if (has(p->services[i]))
			return true;
	return false;
}

/* Whether a requirement's `when` holds for the platform. */
static bool requirement_applies(const Platform *p, const Node *when)
{
	for (int i = 0; when && i < when->n; i++) {
		const char *k = when->pairs[i].key->text, *v = when->pairs[i].val->text;
		bool ok = !strcmp(k, "resources")    ? (p->nresources > 0) == !strcmp(v, "true")
			  : !strcmp(k, "canary")     ? any_service(p, rollout_canary) == !strcmp(v, "true")
			  : !strcmp(k, "vpa")        ? any_service(p, rollout_vpa) == !strcmp(v, "true")
			  : !strcmp(k, "crossplane") ? !strcmp(p->crossplane_target, v)
			  : !strcmp(k, "kyverno")    ? !strcmp(p->kyverno_target, v)
						     : (requirements_bug("unknown `when` key"), false);
		if (!ok)
			return false;
	}
	return true;
}

/* "The cluster needs:" and the entries of stdlib/requirements.yaml that apply,
 * the one list the guide (§7) shows too. */
static void cluster_requirements(Arena *a, const Platform *p, StrBuf *b)
{
	const char *why;
	const Node *list = src_load_embedded(a, "stdlib/requirements.yaml", "requirements", &why);
	if (!list)
		requirements_bug(why);
	sb_puts(b, "\nThe cluster needs:\n\n");
	int k = 0;
	for (int i = 0; i < list->n; i++) {
		const Node *text = node_get(list->items[i], "text");
		if (!text || text->kind != N_SCALAR)
			requirements_bug("a requirement without `text`");
		if (!requirement_applies(p, node_get(list->items[i], "when")))
			continue;
		sb_puts(b, k++ ? ";\n- " : "- ");
		for (const char *t = text->text; *t;) {
			const char *v = strstr(t, "${"), *end = v ? strchr(v, '}') : NULL;
			if (!v || !end) {
				sb_puts(b, t);
				break;
			}
			sb_putn(b, t, (size_t)(v - t));
			requirement_value(a, p, v + 2, (size_t)(end - v - 2), b);
			t = end + 1;
		}
	}
	sb_puts(b, ".\n");
}

void backend_readme(const Platform *p, FileSet *fs)
{
	StrBuf b;
	sb_init(&b);
	sb_printf(&b, "<!-- %s -->\n", fs->header);
	sb_printf(&b, "# %s — generated platform\n\n", p->name);
	/* the file's name only: the path it was given by depends on where
	 * platformc ran, and output must not */
	const char *slash = strrchr(p->root_file->path, '/');
	sb_printf(&b, "This folder is written by `platformc render` from `%s`. Do not edit it by hand: change\n"
		      "the platform definition and render again. Review happens on the diff of this tree.\n\n",
		  slash ? slash + 1 : p->root_file->path);
	sb_puts(&b, "| | count |\n|---|---|\n");
	sb_printf(&b, "| environments | %d |\n| teams | %d |\n| systems | %d |\n| services | %d |\n"
		      "| resources | %d |\n| generated files | %d |\n\n",
		  p->nenvs, p->nteams, p->nsystems, p->nservices, p->nresources, fs->n + 1);
	sb_puts(&b, "## Environments\n\n| environment | tier | cluster | entry point |\n|---|---|---|---|\n");
	for (int i = 0; i < p->nenvs; i++)
		sb_printf(&b, "| %s | %s | %s | `clusters/%s/` |\n", p->envs[i].name, p->envs[i].prod ? "prod" : "nonprod",
			  p->envs[i].cluster ? p->envs[i].cluster : "in-cluster", p->envs[i].name);
	sb_puts(&b, "\n## Layout\n\n"
		    "- `clusters/<env>/kustomization.yaml` — everything that runs in `<env>`: "
		    "`kubectl kustomize clusters/<env>` builds it.\n"
		    "- `teams/<team>/<env>/` — the team's namespace `<team>-<env>`: quota, limit range, "
		    "default-deny network policy, RBAC.\n"
		    "- `services/<service>/base/` and `services/<service>/<env>/` — the workload and one "
		    "overlay per environment it runs in.\n"
		    "- `resources/<resource>/<env>/` — the resource's Crossplane claim (with its monthly estimate), "
		    "the further claims its kind makes (`claim-<key>.yaml`: an SNS subscription, a dead-letter "
		    "queue) and the ExternalSecret that brings its connection details into the team's namespace.\n"
		    "- `platform/crossplane/` — a CompositeResourceDefinition and a Composition per resource kind in use.\n"
		    "- `platform/connections/<env>/` — per team, the ClusterSecretStore (and its RBAC) through "
		    "which External Secrets copies connection details, and nothing else, into the team's namespace.\n"
		    "- `platform/kyverno/` — the policy library (one policy per file) and the policy "
		    "exceptions of `platform.yaml`.\n"
		    "- `monitoring/<service>/<env>/` — ServiceMonitor, SLO rules and alerts, the service dashboard "
		    "(also as a ConfigMap for the Grafana sidecar).\n"
		    "- `platform/monitoring/` — team and platform rules, the team dashboards and the platform overview.\n"
		    "- `docs/runbooks/` — a runbook for every alert; each alert's `runbook_url` points at its file.\n"
		    "- `argocd/projects/` — an AppProject per team and one for the platform.\n"
		    "- `argocd/<env>/` — an Application per deployment unit of `<env>` (app-of-apps).\n"
		    "- `argocd/root/` — the root Applications: projects and each environment.\n"
		    "- `argocd/health/argocd-cm.yaml` — the health checks Argo CD needs for the platform's claims.\n"
		    "- `catalog/` — the Backstage catalog: register `catalog/catalog-info.yaml` (a Location "
		    "listing every entity and template) once.\n"
		    "- `tests/` — test suites for CI, not deployed: `kyverno test tests/kyverno/` (per environment, "
		    "the platform's objects pass its policies and their mutants fail them) and `promtool test rules` "
		    "on `tests/promtool/**/*.test.yaml` (every alert fires on a breach, not on healthy series).\n");
	sb_printf(&b, "\n## Bootstrap Argo CD\n\n"
		      "With Argo CD running in namespace `argocd` and the repository `%s` registered "
		      "(see what the cluster needs, below), once:\n\n"
		      "```sh\nkubectl apply -n argocd -k %s\n```\n\n"
		      "From then on every change merged to `%s` is synced: each environment's root "
		      "Application syncs `argocd/<env>`, whose Applications sync the folders listed in "
		      "`clusters/<env>`. The image tag of each service is `unset` in git; CD sets it per "
		      "environment with an Argo CD parameter override (`.argocd-source-<app>.yaml` beside the "
		      "overlay, as Argo CD Image Updater writes it), a file platformc never touches.\n",
		  p->gitops_repo, p->gitops_path && *p->gitops_path ? arena_sprintf(fs->arena, "%s/argocd/root", p->gitops_path) : "argocd/root",
		  p->gitops_revision);
	bool clusters = false;
	for (int i = 0; i < p->nenvs; i++)
		clusters |= p->envs[i].cluster != NULL;
	if (clusters) {
		sb_puts(&b, "\nEnvironments on other clusters need those clusters registered in Argo CD under "
			    "these names: ");
		int k = 0;
		for (int i = 0; i < p->nenvs; i++)
			if (p->envs[i].cluster)
				sb_printf(&b, "%s`%s`", k++ ? ", " : "", p->envs[i].cluster);
		sb_puts(&b, ".\n");
	}
	sb_puts(&b, "\n**Sync policy.** Nonprod Applications sync, self-heal and prune on their own; prod "
		    "Applications sync and self-heal but ");
	const Node *pp = node_get(node_get(node_get(p->root, "platform"), "argocd"), "prune_prod");
	sb_puts(&b, pp && pp->text && !strcmp(pp->text, "true")
			    ? "also prune (`platform.argocd.prune_prod: true`).\n"
			    : "never prune: a removed object stays until someone syncs with prune "
			      "(`platform.argocd.prune_prod: true` changes that).\n");
	sb_puts(&b, "The cluster-wide parts (`platform/crossplane`, `platform/kyverno`, `platform/monitoring`) "
		    "get one Application per cluster, `<part>-<cluster>` (`in-cluster` for Argo CD's own), "
		    "in the first environment on that cluster; it follows the strictest tier on the cluster.\n");
	sb_puts(&b, "\n**Health checks.** Argo CD knows ExternalSecrets and Argo Rollouts (built-in "
		    "`resource_customizations`) but not the platform's claims: merge the `data` of "
		    "`argocd/health/argocd-cm.yaml` into the `argocd-cm` ConfigMap (`kubectl apply -n argocd -k "
		    "argocd/health` adds the key and keeps the others; with Helm, the chart's `configs.cm`), so that a claim is Healthy only when Crossplane reports it Synced and Ready.\n");
	cluster_requirements(fs->arena, p, &b);
	fileset_add(fs, "README.md", b.data, b.len);
}
