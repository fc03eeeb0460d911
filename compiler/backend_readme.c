/*
 * backend_readme.c — out/README.md: the index of what was generated.
 * Runs last (see the table in backends.c), so it can count every other file.
 */
#include "platformc.h"

#include <stdio.h>
#include <string.h>

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
		    "listing every entity and template) once.\n");
	sb_printf(&b, "\n## Bootstrap Argo CD\n\n"
		      "Argo CD (3.x; 2.x works) runs in namespace `argocd` and has the repository `%s` "
		      "registered. Then, once:\n\n"
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
	const IngressSettings is = platform_ingress(p);
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
	bool nsx = p->crossplane_target && !strcmp(p->crossplane_target, "namespaced");
	bool vpol = p->kyverno_target && !strcmp(p->kyverno_target, "validating-policy");
	sb_printf(&b, "\nThe cluster needs:\n\n"
		      "- an ingress controller of class `%s` in namespace `%s`;\n"
		      "- cert-manager with the ClusterIssuer `%s`: every public host's certificate (ingress-shim);\n"
		      "- Prometheus Operator and Grafana in namespace `%s` (network policies admit its scrapes);\n"
		      "- a CNI that enforces NetworkPolicy;\n",
		  is.cls, is.namespace, is.issuer, mon_settings(fs->arena, p).namespace);
	if (p->nresources)
		sb_printf(&b, "- Crossplane %s with the AWS providers of provider-upjet-aws v2 and "
			      "function-patch-and-transform;\n"
			      "- External Secrets Operator 0.16 or later (API `external-secrets.io/v1`);\n",
			  nsx ? "v2 (namespaced composite resources)" : "v1 or v2 (claims, the legacy cluster-scoped path)");
	bool canary = false, vpa = false;
	for (int i = 0; i < p->nservices; i++) {
		canary |= rollout_canary(p->services[i]);
		vpa |= rollout_vpa(p->services[i]);
	}
	if (canary)
		sb_puts(&b, "- Argo Rollouts (its CRDs and controller) for the canaries, whose analyses query "
			    "Prometheus;\n");
	if (vpa)
		sb_puts(&b, "- the Vertical Pod Autoscaler's CRD and recommender (VPAs only recommend);\n");
	sb_printf(&b, "- Kyverno %s.\n",
		  vpol ? "1.17 or later (`policies.kyverno.io/v1` ValidatingPolicy; a few rules with no CEL form "
			 "stay ClusterPolicy)"
		       : "before 1.20 (`kyverno.io/v1` ClusterPolicy, deprecated since 1.17)");
	fileset_add(fs, "README.md", b.data, b.len);
}
