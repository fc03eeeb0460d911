/*
 * monitoring_platform.c — the rules a platform team pages on, and the team
 * and platform dashboards:
 *
 *   platform/monitoring/rules/platform.yaml      cluster-wide: certificates, Crossplane
 *   platform/monitoring/rules/team-<team>.yaml   per team, one group per environment:
 *                                                quota, crash loops, pods not ready,
 *                                                HPA at max, replicas mismatch
 *   platform/monitoring/rules/cost-<team>.yaml   teams with a `budget`: the in-cluster
 *                                                spend rate from OpenCost's metrics
 *                                                against what the budget leaves after
 *                                                the estimated cloud resources
 *   platform/monitoring/dashboards/          platform overview, one per team
 *   tests/promtool/platform/<rules>.{rules,test}.yaml
 *                                                each rule file's promtool unit tests:
 *                                                every alert fires on series that breach
 *                                                it and stays silent on healthy ones
 *   platform/monitoring/kustomization.yaml       + ConfigMaps for the Grafana sidecar
 *   docs/runbooks/<alert>.md
 *
 * Team rules select the team's namespaces by name, one group per
 * environment, so each alert knows its `env` and tier: workload alerts page
 * in prod tiers and open tickets elsewhere. The metrics are
 * kube-state-metrics', cert-manager's and Crossplane's own. Alert names
 * carry a `Team`/`Platform` prefix so they never collide with the
 * kubernetes-mixin alerts a kube-prometheus-stack also ships.
 */
#include "platformc.h"

#include <string.h>

typedef struct Rule {
	const char *alert;
	bool page_in_prod;
	const char *expr;      /* printf format: %1$s = namespace matcher value (quoted) */
	const char *for_;
	const char *summary;
	const char *description;
	const char *title;     /* runbook: one line */
	const char *confirm, *mitigate;
	/* its promtool test: series that breach it (each a printf format, %1$s =
	 * the namespace matcher value) and the healthy ones, both for a 1m
	 * interval; when it is evaluated; the labels of the series it fires on
	 * ("$ns": the namespace) and the text its $value prints as */
	const char *breach[3][2], *healthy[3][2];
	const char *eval;
	const char *labels[9];
	const char *value;
} Rule;

static const Rule team_rules[] = {
	{"TeamQuotaAlmostFull", false,
	 "kube_resourcequota{namespace=%1$s,type=\"used\"} / ignoring(type) (kube_resourcequota{namespace=%1$s,type=\"hard\"} > 0) > 0.9",
	 "15m", "{{ $labels.namespace }}: {{ $labels.resource }} quota above 90%",
	 "Namespace {{ $labels.namespace }} uses {{ $value | humanizePercentage }} of its {{ $labels.resource }} quota. New pods (a rollout, an HPA scale-up) will be refused when it is full.",
	 "A team namespace uses more than 90% of a ResourceQuota limit.",
	 "```promql\nkube_resourcequota{namespace=\"<namespace>\"}\n```\n\n`kubectl -n <namespace> describe resourcequota team-quota` shows used and hard side by side; "
	 "the team dashboard shows the trend.",
	 "1. Find what grew: a new service, more replicas (`overrides`), larger `resources`.\n"
	 "2. Either lower requests/replicas in `platform.yaml`, or raise the team's `quota` there (platformc checks the "
	 "sum of requests against it), render and merge.\n",
	 {{"kube_resourcequota{namespace=%1$s,resource=\"requests.cpu\",type=\"used\"}", "95x30"},
	  {"kube_resourcequota{namespace=%1$s,resource=\"requests.cpu\",type=\"hard\"}", "100x30"}},
	 {{"kube_resourcequota{namespace=%1$s,resource=\"requests.cpu\",type=\"used\"}", "50x30"},
	  {"kube_resourcequota{namespace=%1$s,resource=\"requests.cpu\",type=\"hard\"}", "100x30"}},
	 "20m", {"namespace", "$ns", "resource", "requests.cpu", NULL}, "95%"},
	{"TeamPodCrashLooping", true,
	 "max_over_time(kube_pod_container_status_waiting_reason{namespace=%1$s,reason=\"CrashLoopBackOff\"}[5m]) >= 1",
	 "15m", "{{ $labels.namespace }}/{{ $labels.pod }} is crash-looping",
	 "Container {{ $labels.container }} of pod {{ $labels.namespace }}/{{ $labels.pod }} has been in CrashLoopBackOff for 15 minutes.",
	 "A container restarts over and over (CrashLoopBackOff).",
	 "`kubectl -n <namespace> describe pod <pod>` (last state, exit code, OOMKilled?) and "
	 "`kubectl -n <namespace> logs <pod> -c <container> --previous`.",
	 "1. A new image or config: roll back in Argo CD (previous revision) or revert the commit.\n"
	 "2. OOMKilled: raise `resources.memory` of the service for that environment.\n"
	 "3. A missing dependency (connection secret, database): check the resource's claim and ExternalSecret.\n",
	 {{"kube_pod_container_status_waiting_reason{namespace=%1$s,pod=\"app-0\",container=\"app\",reason=\"CrashLoopBackOff\"}", "1x30"}},
	 {{"kube_pod_container_status_waiting_reason{namespace=%1$s,pod=\"app-0\",container=\"app\",reason=\"CrashLoopBackOff\"}", "0x30"}},
	 "20m", {"namespace", "$ns", "pod", "app-0", "container", "app", "reason", "CrashLoopBackOff", NULL}, "1"},
	{"TeamPodNotReady", true,
	 "sum by (namespace, pod) (kube_pod_status_phase{namespace=%1$s,phase=~\"Pending|Unknown|Failed\"}) > 0",
	 "15m", "{{ $labels.namespace }}/{{ $labels.pod }} is not ready",
	 "Pod {{ $labels.namespace }}/{{ $labels.pod }} has been Pending, Unknown or Failed for 15 minutes.",
	 "A pod has not been running for 15 minutes.",
	 "`kubectl -n <namespace> get pod <pod> -o wide` and `kubectl -n <namespace> describe pod <pod>`: events name the "
	 "cause (unschedulable, quota exceeded, image pull, failing readiness probe).",
	 "1. Unschedulable: node capacity or quota (see TeamQuotaAlmostFull).\n"
	 "2. Image pull errors: the tag CD set does not exist in the registry.\n"
	 "3. Readiness probe failing: check the service's `health.readiness` path and its dependencies.\n",
	 {{"kube_pod_status_phase{namespace=%1$s,pod=\"app-0\",phase=\"Pending\"}", "1x30"},
	  {"kube_pod_status_phase{namespace=%1$s,pod=\"app-0\",phase=\"Running\"}", "0x30"}},
	 {{"kube_pod_status_phase{namespace=%1$s,pod=\"app-0\",phase=\"Pending\"}", "0x30"},
	  {"kube_pod_status_phase{namespace=%1$s,pod=\"app-0\",phase=\"Running\"}", "1x30"}},
	 "20m", {"namespace", "$ns", "pod", "app-0", NULL}, "1"},
	{"TeamHpaMaxedOut", false,
	 "kube_horizontalpodautoscaler_status_current_replicas{namespace=%1$s} == kube_horizontalpodautoscaler_spec_max_replicas{namespace=%1$s}",
	 "15m", "{{ $labels.namespace }}/{{ $labels.horizontalpodautoscaler }} runs at its maximum replicas",
	 "HPA {{ $labels.namespace }}/{{ $labels.horizontalpodautoscaler }} has been at maxReplicas for 15 minutes: it cannot absorb more load.",
	 "An autoscaled service has run at its maximum replica count for 15 minutes.",
	 "The service dashboard (Saturation: CPU against requests, replicas against HPA max) and "
	 "`kubectl -n <namespace> describe hpa <name>`.",
	 "1. Real load: raise `replicas.max` for that environment (check the team quota fits).\n"
	 "2. A regression that burns CPU: roll back.\n",
	 {{"kube_horizontalpodautoscaler_status_current_replicas{namespace=%1$s,horizontalpodautoscaler=\"app\"}", "5x30"},
	  {"kube_horizontalpodautoscaler_spec_max_replicas{namespace=%1$s,horizontalpodautoscaler=\"app\"}", "5x30"}},
	 {{"kube_horizontalpodautoscaler_status_current_replicas{namespace=%1$s,horizontalpodautoscaler=\"app\"}", "3x30"},
	  {"kube_horizontalpodautoscaler_spec_max_replicas{namespace=%1$s,horizontalpodautoscaler=\"app\"}", "5x30"}},
	 "20m", {"namespace", "$ns", "horizontalpodautoscaler", "app", NULL}, "5"},
	{"TeamDeploymentReplicasMismatch", true,
	 "(kube_deployment_spec_replicas{namespace=%1$s} > kube_deployment_status_replicas_available{namespace=%1$s}) and (changes(kube_deployment_status_replicas_updated{namespace=%1$s}[10m]) == 0)",
	 "15m", "{{ $labels.namespace }}/{{ $labels.deployment }} has fewer available replicas than desired",
	 "Deployment {{ $labels.namespace }}/{{ $labels.deployment }} has had fewer available replicas than desired for 15 minutes, and no rollout is progressing.",
	 "A Deployment has fewer available replicas than it wants, and no rollout is in progress.",
	 "`kubectl -n <namespace> rollout status deployment/<deployment>` and the pods' events (see TeamPodNotReady, "
	 "TeamPodCrashLooping).",
	 "1. Pods crash or are not ready: follow those runbooks.\n"
	 "2. Pods cannot be scheduled: quota or node capacity.\n"
	 "3. A PodDisruptionBudget blocks a drain: finish or undo the node maintenance.\n",
	 {{"kube_deployment_spec_replicas{namespace=%1$s,deployment=\"app\"}", "3x40"},
	  {"kube_deployment_status_replicas_available{namespace=%1$s,deployment=\"app\"}", "1x40"},
	  {"kube_deployment_status_replicas_updated{namespace=%1$s,deployment=\"app\"}", "3x40"}},
	 {{"kube_deployment_spec_replicas{namespace=%1$s,deployment=\"app\"}", "3x40"},
	  {"kube_deployment_status_replicas_available{namespace=%1$s,deployment=\"app\"}", "3x40"},
	  {"kube_deployment_status_replicas_updated{namespace=%1$s,deployment=\"app\"}", "3x40"}},
	 "30m", {"namespace", "$ns", "deployment", "app", NULL}, "3"},
};

static const Rule platform_rules[] = {
	{"PlatformCertificateExpiringSoon", false,
	 "certmanager_certificate_expiration_timestamp_seconds - time() < 21 * 24 * 3600", "1h",
	 "certificate {{ $labels.namespace }}/{{ $labels.name }} expires in less than 21 days",
	 "cert-manager has not renewed certificate {{ $labels.namespace }}/{{ $labels.name }}; it expires in {{ $value | humanizeDuration }}.",
	 "A cert-manager Certificate expires in less than 21 days (renewal normally happens at 30).",
	 "`kubectl -n <namespace> describe certificate <name>` and the CertificateRequest and Order it made; "
	 "`cmctl status certificate <name> -n <namespace>`.",
	 "1. ACME challenges failing: DNS or the ingress for the HTTP-01 solver.\n"
	 "2. Issuer not ready: check the ClusterIssuer's credentials.\n"
	 "3. As a last resort `cmctl renew <name> -n <namespace>` after fixing the cause.\n",
	 {{"certmanager_certificate_expiration_timestamp_seconds{namespace=\"ingress\",name=\"wildcard\"}", "864000x150"}},
	 {{"certmanager_certificate_expiration_timestamp_seconds{namespace=\"ingress\",name=\"wildcard\"}", "8640000x150"}},
	 "2h", {"namespace", "ingress", "name", "wildcard", NULL}, "9d 22h 0m 0s"},
	{"PlatformCrossplaneResourcesNotReady", false,
	 "sum by (gvk) (crossplane_managed_resource_exists) - sum by (gvk) (crossplane_managed_resource_ready) > 0", "30m",
	 "{{ $value }} Crossplane managed resources of {{ $labels.gvk }} are not ready",
	 "Managed resources of {{ $labels.gvk }} have not been Ready for 30 minutes: the claims composed from them (databases, queues, buckets) are not ready either, and services that use them lack their connection secrets.",
	 "Crossplane managed resources (behind the teams' claims) have not been ready for 30 minutes.",
	 "`kubectl get managed` (READY, SYNCED columns) and `kubectl describe` of the failing ones; the claim in the "
	 "team namespace: `kubectl -n <namespace> get claim`.",
	 "1. Synced=False: the provider rejected the parameters or lacks permissions (events name the AWS error).\n"
	 "2. Ready=False while Synced: the cloud resource is still being created or is failing there (AWS console).\n"
	 "3. Fix the parameters in `platform.yaml` (render, merge) or the provider's IAM role.\n",
	 {{"crossplane_managed_resource_exists{gvk=\"rds.aws.upbound.io/v1beta1, Kind=Instance\"}", "2x60"},
	  {"crossplane_managed_resource_ready{gvk=\"rds.aws.upbound.io/v1beta1, Kind=Instance\"}", "1x60"}},
	 {{"crossplane_managed_resource_exists{gvk=\"rds.aws.upbound.io/v1beta1, Kind=Instance\"}", "2x60"},
	  {"crossplane_managed_resource_ready{gvk=\"rds.aws.upbound.io/v1beta1, Kind=Instance\"}", "2x60"}},
	 "45m", {"gvk", "rds.aws.upbound.io/v1beta1, Kind=Instance", NULL}, "1"},
};

static const char *quoted(Arena *a, const char *s)
{
	return esc_str(a, promql_quote, s);
}

/* `"a-dev|a-prod"`: namespaces as an anchored alternation of literals */
static const char *ns_regex(Arena *a, const char *const *ns, int n)
{
	StrBuf b;
	sb_init(&b);
	for (int i = 0; i < n; i++) {
		if (i)
			sb_putc(&b, '|');
		re2_escape(&b, ns[i]);
	}
	sb_putc(&b, '\0');
	const char *r = quoted(a, b.data);
	sb_free(&b);
	return r;
}

static DNode *alert_rule(Arena *a, const MonSettings *m, const Rule *r, const char *expr, const char *severity)
{
	DNode *d = doc_map(a);
	doc_set_str(a, d, "alert", r->alert);
	doc_set_str(a, d, "expr", expr);
	doc_set_str(a, d, "for", r->for_);
	DNode *l = doc_set_map(a, d, "labels");
	doc_set_str(a, l, "severity", severity);
	DNode *an = doc_set_map(a, d, "annotations");
	doc_set_str(a, an, "summary", r->summary);
	doc_set_str(a, an, "description", r->description);
	doc_set_str(a, an, "runbook_url", monitoring_runbook_url(a, m, r->alert));
	return d;
}

/* The promtool cases of one rule as rendered (`rule`, its document): the
 * breaching series fire it with the labels and annotations it promises, the
 * healthy ones do not. ns: the namespace its expression selects, or NULL. */
static void rule_tests(Arena *a, DNode *tests, const Rule *r, const DNode *rule, const char *ns)
{
	const char *nsq = quoted(a, ns ? ns : "");
	for (int healthy = 0; healthy < 2; healthy++) {
		DNode *tc = monitoring_test_case(a, tests, "1m");
		const char *const(*ss)[2] = healthy ? r->healthy : r->breach;
		for (int i = 0; i < 3 && ss[i][0]; i++)
			monitoring_test_series(a, tc, arena_sprintf(a, ss[i][0], nsq), ss[i][1]);
		DNode *exp = monitoring_test_alert(a, tc, r->eval, r->alert);
		if (healthy)
			continue;
		const char *labels[ARRAY_LEN(r->labels)] = {0};
		for (size_t i = 0; i + 1 < ARRAY_LEN(r->labels) && r->labels[i]; i++)
			labels[i] = strcmp(r->labels[i], "$ns") == 0 ? ns : r->labels[i];
		monitoring_test_expect(a, exp, rule, labels, r->value);
	}
}

static DNode *rule_object(Arena *a, const Platform *p, const MonSettings *m, const char *name)
{
	DNode *pr = k8s_object(a, "monitoring.coreos.com/v1", "PrometheusRule", name, m->namespace);
	DNode *labels = doc_set_map(a, doc_get(pr, "metadata"), "labels");
	doc_set_str(a, labels, "app.kubernetes.io/managed-by", "platformc");
	doc_set_str(a, labels, "app.kubernetes.io/part-of", p->name);
	monitoring_selector_labels(a, m, labels);
	return pr;
}

static DNode *team_rules_doc(Arena *a, const Platform *p, const MonSettings *m, const Team *t, DNode *tests)
{
	DNode *pr = rule_object(a, p, m, arena_sprintf(a, "team-%s", t->name));
	doc_set_str(a, doc_get(doc_get(pr, "metadata"), "labels"), k8s_label(a, p, "team"), t->name);
	DNode *groups = doc_set_seq(a, doc_set_map(a, pr, "spec"), "groups");
	for (int e = 0; e < p->nenvs; e++) {
		const Env *env = &p->envs[e];
		const char *ns = quoted(a, k8s_namespace(a, t, env));
		DNode *g = doc_push_map(a, groups);
		doc_set(a, g, "name", doc_strf(a, "team-%s-%s", t->name, env->name));
		DNode *rules = doc_set_seq(a, g, "rules");
		for (size_t i = 0; i < ARRAY_LEN(team_rules); i++) {
			const Rule *r = &team_rules[i];
			DNode *d = alert_rule(a, m, r, arena_sprintf(a, r->expr, ns),
					      r->page_in_prod && env->prod ? "page" : "ticket");
			DNode *l = doc_get(d, "labels");
			doc_set_str(a, l, "team", t->name);
			doc_set_str(a, l, "env", env->name);
			doc_push(a, rules, d);
			rule_tests(a, tests, r, d, k8s_namespace(a, t, env));
		}
	}
	return pr;
}

/* ------------------------------------------------------------------ cost */

#define HOURS_PER_MONTH "730"

static const char cost_alert[] = "TeamSpendOverBudget";

/* USD a month of the team's cloud resources (the catalog's estimates). */
static double cloud_estimate(const Platform *p, const Team *t)
{
	double sum = 0;
	for (int i = 0; i < p->nresources; i++) {
		const Resource *r = p->resources[i];
		if (r->team != t)
			continue;
		for (int e = 0; e < p->nenvs; e++) {
			double usd = 0;
			if (cost_estimate(r, &p->envs[e], &usd) == COST_PRICED)
				sum += usd;
		}
	}
	return sum;
}

/* OpenCost's allocation metrics priced per node, summed over the team's
 * namespaces, as USD a month: cpu cores x node_cpu_hourly_cost plus memory
 * GiB x node_ram_hourly_cost, x 730 hours. */
static DNode *cost_rules_doc(Arena *a, const Platform *p, const MonSettings *m, const Team *t, DNode *tests)
{
	DNode *pr = rule_object(a, p, m, arena_sprintf(a, "cost-%s", t->name));
	doc_set_str(a, doc_get(doc_get(pr, "metadata"), "labels"), k8s_label(a, p, "team"), t->name);
	DNode *g = doc_push_map(a, doc_set_seq(a, doc_set_map(a, pr, "spec"), "groups"));
	doc_set(a, g, "name", doc_strf(a, "cost-%s", t->name));
	DNode *rules = doc_set_seq(a, g, "rules");
	const char **ns = arena_alloc(a, sizeof *ns * (size_t)p->nenvs);
	for (int e = 0; e < p->nenvs; e++)
		ns[e] = k8s_namespace(a, t, &p->envs[e]);
	const char *nsre = ns_regex(a, ns, p->nenvs);
	static const char *const parts[][3] = {
		{"team:opencost_cpu_spend_usd:hourly", "container_cpu_allocation", "node_cpu_hourly_cost"},
		{"team:opencost_ram_spend_usd:hourly", "container_memory_allocation_bytes", "node_ram_hourly_cost"},
	};
	for (int i = 0; i < 2; i++) {
		DNode *r = doc_push_map(a, rules);
		doc_set_str(a, r, "record", parts[i][0]);
		doc_set(a, r, "expr",
			doc_strf(a, "sum(sum by (node) (avg_over_time(%s{namespace=~%s}[1h]))%s * on (node) group_left () avg by (node) (%s))",
				 parts[i][1], nsre, i ? " / 1073741824" : "", parts[i][2]));
		doc_set_str(a, doc_set_map(a, r, "labels"), "team", t->name);
	}
	DNode *r = doc_push_map(a, rules);
	doc_set_str(a, r, "record", "team:opencost_cluster_spend_usd:monthly");
	const char *tq = quoted(a, t->name);
	doc_set(a, r, "expr",
		doc_strf(a, "sum by (team) (team:opencost_cpu_spend_usd:hourly{team=%s} + team:opencost_ram_spend_usd:hourly{team=%s}) * " HOURS_PER_MONTH,
			 tq, tq));
	double cloud = cloud_estimate(p, t);
	double left = t->budget - cloud > 0 ? (double)(long long)((t->budget - cloud) * 100 + 0.5) / 100 : 0; /* cents */
	char lb[64], bb[64], cb[64];
	scalar_format_number(left, lb, sizeof lb);
	scalar_format_number(t->budget, bb, sizeof bb);
	scalar_format_number((double)(long long)(cloud + 0.5), cb, sizeof cb);
	/* the limit is a series of its own: the alert's text does not change with the estimates */
	r = doc_push_map(a, rules);
	doc_set_str(a, r, "record", "team:budget_left_usd:monthly");
	doc_set(a, r, "expr", doc_strf(a, "vector(%s)", lb));
	doc_set_str(a, doc_set_map(a, r, "labels"), "team", t->name);
	DNode *al = doc_push_map(a, rules);
	doc_set_str(a, al, "alert", cost_alert);
	doc_set(a, al, "expr",
		doc_strf(a, "team:opencost_cluster_spend_usd:monthly{team=%s} > on (team) team:budget_left_usd:monthly{team=%s}",
			 tq, tq));
	doc_set_str(a, al, "for", "6h");
	DNode *l = doc_set_map(a, al, "labels");
	doc_set_str(a, l, "severity", "ticket");
	doc_set_str(a, l, "team", t->name);
	DNode *an = doc_set_map(a, al, "annotations");
	doc_set(a, an, "summary", doc_strf(a, "team %s spends faster than its budget allows", t->name));
	doc_set(a, an, "description",
		doc_strf(a,
			 "In-cluster spend of team %s runs at {{ $value | printf \"%%.0f\" }} USD a month (OpenCost), more than its "
			 "budget leaves after the estimate of its cloud resources (team:budget_left_usd:monthly; platformc cost).",
			 t->name));
	(void)bb;
	(void)cb;
	doc_set_str(a, an, "runbook_url", monitoring_runbook_url(a, m, cost_alert));

	/* its test: whole cores at 1 USD an hour in the first namespace, one core
	 * more than the budget left pays for; then none */
	long long cores = (long long)(left / 730) + 1;
	for (int over = 1; over >= 0; over--) {
		DNode *tc = monitoring_test_case(a, tests, "1m");
		const char *nsq = quoted(a, ns[0]);
		monitoring_test_series(a, tc, arena_sprintf(a, "container_cpu_allocation{namespace=%s,node=\"node-1\"}", nsq),
				       arena_sprintf(a, "%lldx480", over ? cores : 0));
		monitoring_test_series(a, tc, arena_sprintf(a, "container_memory_allocation_bytes{namespace=%s,node=\"node-1\"}", nsq),
				       "0x480");
		monitoring_test_series(a, tc, "node_cpu_hourly_cost{node=\"node-1\"}", "1x480");
		monitoring_test_series(a, tc, "node_ram_hourly_cost{node=\"node-1\"}", "0x480");
		DNode *exp = monitoring_test_alert(a, tc, "7h", cost_alert);
		if (over)
			monitoring_test_expect(a, exp, al, (const char *[]){"team", t->name, NULL},
					       arena_sprintf(a, "%lld", cores * 730));
	}
	return pr;
}

static void cost_runbook(FileSet *fs)
{
	monitoring_runbook(fs, cost_alert, "A team's in-cluster spend rate exceeds what its budget leaves after its cloud resources.",
			   "Severity: ticket.\n\n## What fires it\n\n"
			   "`team:opencost_cluster_spend_usd:monthly` (platform/monitoring/rules/cost-<team>.yaml): OpenCost's "
			   "`container_cpu_allocation` and `container_memory_allocation_bytes` over the team's namespaces, priced "
			   "per node with `node_cpu_hourly_cost` and `node_ram_hourly_cost`, averaged over 1h, times 730 hours. "
			   "It fires when that is above the team's `budget` minus the estimate of its cloud resources "
			   "(`platformc cost`) for 6 hours.\n\n"
			   "## Confirm\n\n```promql\nteam:opencost_cluster_spend_usd:monthly{team=\"<team>\"}\n```\n\n"
			   "`platformc cost --format text` shows the cloud side; the OpenCost UI splits the cluster side by "
			   "namespace and workload.\n\n"
			   "## Mitigate\n\n"
			   "1. Over-provisioned requests: read the VPA recommendations (`autoscaling.vpa: recommend`) and lower "
			   "`resources` in `platform.yaml`.\n"
			   "2. Replicas: lower `replicas.min` in nonprod `overrides`.\n"
			   "3. A real need: raise the team's `budget`.\n");
}

static DNode *platform_rules_doc(Arena *a, const Platform *p, const MonSettings *m, DNode *tests)
{
	DNode *pr = rule_object(a, p, m, "platform");
	DNode *g = doc_push_map(a, doc_set_seq(a, doc_set_map(a, pr, "spec"), "groups"));
	doc_set_str(a, g, "name", "platform");
	DNode *rules = doc_set_seq(a, g, "rules");
	for (size_t i = 0; i < ARRAY_LEN(platform_rules); i++) {
		DNode *d = alert_rule(a, m, &platform_rules[i], platform_rules[i].expr, "ticket");
		doc_set_str(a, doc_get(d, "labels"), "team", p->owner->name);
		doc_push(a, rules, d);
		rule_tests(a, tests, &platform_rules[i], d, NULL);
	}
	return pr;
}

static void rule_runbook(FileSet *fs, const Rule *r, const char *scope)
{
	StrBuf b;
	sb_init(&b);
	sb_printf(&b, "%s\n\nSeverity: %s.\n\n## What fires it\n\n```promql\n", scope,
		  r->page_in_prod ? "page in prod tiers, ticket elsewhere" : "ticket");
	/* the expression with a placeholder for the namespace */
	const char *expr = strstr(r->expr, "%1$s") ? arena_sprintf(fs->arena, r->expr, "\"<namespace>\"") : r->expr;
	sb_printf(&b, "%s\n```\n\nfor %s.\n\n## Confirm\n\n%s\n\n## Mitigate\n\n%s", expr, r->for_, r->confirm,
		  r->mitigate);
	sb_putc(&b, '\0');
	monitoring_runbook(fs, r->alert, r->title, b.data);
	sb_free(&b);
}

/* ------------------------------------------------------------ dashboards */

static const char *quota_ratio(Arena *a, const char *nsre, const char *extra)
{
	return arena_sprintf(a,
			     "max by (namespace, resource) (kube_resourcequota{namespace=~%s,type=\"used\"%s} / ignoring(type) (kube_resourcequota{namespace=~%s,type=\"hard\"%s} > 0))",
			     nsre, extra, nsre, extra);
}

static DNode *team_dashboard(Arena *a, const Platform *p, const Team *t)
{
	Dash *d = dash_new(a, monitoring_team_uid(a, t), arena_sprintf(a, "Team %s", t->name),
			   (const char *[]){"platformc", t->name, "team", NULL});
	dash_link(d, "Platform overview", monitoring_dashboard_url(a, p, monitoring_overview_uid(a, p)), NULL);
	const char *bs = monitoring_backstage_url(a, p, "group", t->name);
	if (bs)
		dash_link(d, arena_sprintf(a, "Team %s in Backstage", t->name), bs, "members, services and resources");
	for (int i = 0; i < p->nservices; i++) {
		const Service *s = p->services[i];
		if (s->team != t)
			continue;
		dash_link(d, s->name, monitoring_service_url(a, p, s, NULL), "the service in every environment");
	}
	const char **ns = arena_alloc(a, sizeof *ns * (size_t)p->nenvs);
	for (int e = 0; e < p->nenvs; e++)
		ns[e] = k8s_namespace(a, t, &p->envs[e]);
	const char *nsre = ns_regex(a, ns, p->nenvs);
	const char *team = quoted(a, t->name);

	dash_row(d, "SLOs");
	DNode *pn = dash_panel(d, "table", "Error budget remaining (30 days)", 12, 8, "percentunit");
	dash_table_target(d, pn, arena_sprintf(a, "slo:period_error_budget_remaining:ratio{team=%s}", team));
	pn = dash_panel(d, "timeseries", "Burn rate over 1h", 12, 8, "short");
	dash_target(d, pn, arena_sprintf(a, "slo:sli_error:ratio_rate1h{team=%s} / slo:error_budget:ratio{team=%s}", team, team),
		    "{{service}} {{env}} {{slo}}");
	dash_row(d, "Quota and pods");
	pn = dash_panel(d, "timeseries", "Quota used", 8, 8, "percentunit");
	dash_target(d, pn, quota_ratio(a, nsre, ""), "{{namespace}} {{resource}}");
	pn = dash_panel(d, "timeseries", "Pods not running", 8, 8, "short");
	dash_target(d, pn, arena_sprintf(a, "sum by (namespace) (kube_pod_status_phase{namespace=~%s,phase=~\"Pending|Unknown|Failed\"})", nsre),
		    "{{namespace}}");
	pn = dash_panel(d, "timeseries", "Container restarts (1h)", 8, 8, "short");
	dash_target(d, pn, arena_sprintf(a, "sum by (namespace, pod) (increase(kube_pod_container_status_restarts_total{namespace=~%s}[1h])) > 0", nsre),
		    "{{namespace}}/{{pod}}");
	dash_row(d, "Alerts");
	pn = dash_panel(d, "table", "Firing alerts", 24, 8, NULL);
	dash_table_target(d, pn, arena_sprintf(a, "sum by (alertname, env, severity) (ALERTS{alertstate=\"firing\",team=%s})", team));
	return d->root;
}

static DNode *overview_dashboard(Arena *a, const Platform *p)
{
	Dash *d = dash_new(a, monitoring_overview_uid(a, p), arena_sprintf(a, "Platform %s", p->name),
			   (const char *[]){"platformc", "platform", NULL});
	for (int t = 0; t < p->nteams; t++)
		dash_link(d, arena_sprintf(a, "Team %s", p->teams[t]->name), monitoring_dashboard_url(a, p, monitoring_team_uid(a, p->teams[t])),
			  NULL);
	int n = p->nteams * p->nenvs;
	const char **ns = arena_alloc(a, sizeof *ns * (size_t)(n + 1));
	for (int t = 0; t < p->nteams; t++)
		for (int e = 0; e < p->nenvs; e++)
			ns[t * p->nenvs + e] = k8s_namespace(a, p->teams[t], &p->envs[e]);
	const char *nsre = ns_regex(a, ns, n);

	dash_row(d, "SLOs of every service");
	DNode *pn = dash_panel(d, "table", "Error budget remaining (30 days)", 12, 10, "percentunit");
	dash_table_target(d, pn, "slo:period_error_budget_remaining:ratio");
	pn = dash_panel(d, "timeseries", "Services burning budget (1h burn rate above 1)", 12, 10, "short");
	dash_target(d, pn, "slo:sli_error:ratio_rate1h / slo:error_budget:ratio > 1", "{{service}} {{env}} {{slo}}");
	dash_row(d, "Quota use per team namespace");
	pn = dash_panel(d, "timeseries", "CPU requests / quota", 12, 8, "percentunit");
	dash_target(d, pn, quota_ratio(a, nsre, ",resource=\"requests.cpu\""), "{{namespace}}");
	pn = dash_panel(d, "timeseries", "Memory requests / quota", 12, 8, "percentunit");
	dash_target(d, pn, quota_ratio(a, nsre, ",resource=\"requests.memory\""), "{{namespace}}");
	dash_row(d, "Alerts");
	pn = dash_panel(d, "table", "Firing alerts per team", 24, 8, NULL);
	dash_table_target(d, pn, "sum by (team, alertname, env, severity) (ALERTS{alertstate=\"firing\"})");
	return d->root;
}

void monitoring_platform(const Platform *p, FileSet *fs, const MonSettings *m)
{
	Arena *a = fs->arena;
	const char *dir = "platform/monitoring";
	/* reads every team and resource, and the services' names and teams:
	 * kept as it is when none of that changed */
	if (fileset_unit_begin(fs, dir, unitkey_platform_outline(fs, p))) {
		fileset_unit_end(fs);
		fileset_add_unit(fs, &(Unit){.kind = U_PLATFORM, .dir = dir, .name = "platform-monitoring", .env = NULL,
					     .team = NULL, .namespace = m->namespace});
		return;
	}
	DNode *kz = k8s_kustomization(a);
	DNode *res = doc_set_seq(a, kz, "resources");
	DNode *gen = doc_set_seq(a, kz, "configMapGenerator");

	DNode *tests = doc_seq(a);
	DNode *pr = platform_rules_doc(a, p, m, tests);
	fileset_add_yaml(fs, "platform/monitoring/rules/platform.yaml", pr);
	monitoring_test_files(fs, SUITES_DIR "promtool/platform/platform", doc_get(doc_get(pr, "spec"), "groups"), tests);
	doc_push_str(a, res, "rules/platform.yaml");
	for (int t = 0; t < p->nteams; t++) {
		const char *file = arena_sprintf(a, "rules/team-%s.yaml", p->teams[t]->name);
		doc_push_str(a, res, file);
		/* the team's document is dropped once it is added */
		ArenaMark scope = arena_mark(a);
		tests = doc_seq(a);
		pr = team_rules_doc(a, p, m, p->teams[t], tests);
		fileset_add_yaml(fs, arena_sprintf(a, "%s/%s", dir, file), pr);
		monitoring_test_files(fs, arena_sprintf(a, SUITES_DIR "promtool/platform/team-%s", p->teams[t]->name),
				      doc_get(doc_get(pr, "spec"), "groups"), tests);
		arena_release(a, scope);
	}

	bool any_budget = false;
	for (int t = 0; t < p->nteams; t++) {
		if (!p->teams[t]->has_budget)
			continue;
		any_budget = true;
		const char *file = arena_sprintf(a, "rules/cost-%s.yaml", p->teams[t]->name);
		doc_push_str(a, res, file);
		ArenaMark scope = arena_mark(a);
		tests = doc_seq(a);
		pr = cost_rules_doc(a, p, m, p->teams[t], tests);
		fileset_add_yaml(fs, arena_sprintf(a, "%s/%s", dir, file), pr);
		monitoring_test_files(fs, arena_sprintf(a, SUITES_DIR "promtool/platform/cost-%s", p->teams[t]->name),
				      doc_get(doc_get(pr, "spec"), "groups"), tests);
		arena_release(a, scope);
	}
	if (any_budget)
		cost_runbook(fs);

	fileset_add_json(fs, "platform/monitoring/dashboards/platform-overview.json", overview_dashboard(a, p));
	doc_push(a, gen, monitoring_dashboard_generator(a, "dashboard-platform-overview", m->namespace, "platform-overview.json",
							"dashboards/platform-overview.json", "platform"));
	for (int t = 0; t < p->nteams; t++) {
		const Team *team = p->teams[t];
		const char *file = arena_sprintf(a, "dashboards/team-%s.json", team->name);
		ArenaMark scope = arena_mark(a);
		fileset_add_json(fs, arena_sprintf(a, "%s/%s", dir, file), team_dashboard(a, p, team));
		arena_release(a, scope);
		doc_push(a, gen, monitoring_dashboard_generator(a, arena_sprintf(a, "dashboard-team-%s", team->name), m->namespace,
								arena_sprintf(a, "team-%s.json", team->name), file, team->name));
	}
	/* one dashboard per service (backend_monitoring.c wrote them), in the team's folder */
	for (int i = 0; i < p->nservices; i++) {
		const Service *s = p->services[i];
		doc_push(a, gen, monitoring_dashboard_generator(a, arena_sprintf(a, "dashboard-service-%s", s->name),
								m->dashboards_namespace ? m->dashboards_namespace : m->namespace,
								arena_sprintf(a, "service-%s.json", s->name),
								arena_sprintf(a, "dashboards/service-%s.json", s->name), s->team->name));
	}
	fileset_add_yaml(fs, "platform/monitoring/kustomization.yaml", kz);
	fileset_add_unit(fs, &(Unit){.kind = U_PLATFORM, .dir = dir, .name = "platform-monitoring", .env = NULL,
				     .team = NULL, .namespace = m->namespace});

	for (size_t i = 0; i < ARRAY_LEN(team_rules); i++)
		rule_runbook(fs, &team_rules[i], "Scope: every team namespace (`<team>-<env>`); labels `team`, `env`.");
	for (size_t i = 0; i < ARRAY_LEN(platform_rules); i++)
		rule_runbook(fs, &platform_rules[i],
			     arena_sprintf(a, "Scope: the whole cluster; owned by the platform team (%s).", p->owner->name));
	fileset_unit_end(fs);
}
