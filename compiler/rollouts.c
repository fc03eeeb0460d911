/*
 * rollouts.c — progressive delivery and right-sizing of a service:
 *
 *   `rollout: canary`       the workload is an Argo Rollouts Rollout; its
 *                           canary steps come per tier from stdlib/apis.yaml
 *                           (`rollouts.canary`), and a background analysis
 *                           (AnalysisTemplate `<svc>-slo`, per environment)
 *                           queries the SLO's own recording rule
 *                           `slo:current_burn_rate:ratio` — the series the
 *                           burn-rate alerts read — and fails at the burn
 *                           rate that pages.
 *   `autoscaling.vpa: recommend`   a VerticalPodAutoscaler with
 *                           `updateMode: "Off"`: recommendations only.
 *
 * backend_services.c places the documents; the Rollout's overlay patch is a
 * JSON patch (kustomize has no schema for the Rollout kind, and a strategic
 * merge of `containers` would replace the list).
 */
#include "platformc.h"

#include <string.h>

static const Node *canary_settings(void)
{
	return node_get(node_get(apis_data(), "rollouts"), "canary");
}

void rollout_resolve(Service *s)
{
	s->canary = strcmp(node_text_or(s->eff, "rollout", "rolling"), "canary") == 0;
	s->vpa = strcmp(node_text_or(node_get(s->eff, "autoscaling"), "vpa", "none"), "recommend") == 0;
}

bool rollout_canary(const Service *s)
{
	return s->canary;
}

bool rollout_vpa(const Service *s)
{
	return s->vpa;
}

const char *rollout_analysis_name(Arena *a, const Service *s)
{
	return arena_sprintf(a, "%s-slo", s->name);
}

/* The tier's steps: setWeight, then pause, per entry of stdlib/apis.yaml. */
DNode *rollout_steps(Arena *a, const Env *e)
{
	const Node *list = node_get(node_get(canary_settings(), "steps"), e->prod ? "prod" : "nonprod");
	DNode *steps = doc_seq(a);
	for (int i = 0; list && list->kind == N_SEQ && i < list->n; i++) {
		long long w = 0;
		scalar_int(node_text_or(list->items[i], "weight", "0"), &w);
		doc_set_int(a, doc_push_map(a, steps), "setWeight", w);
		const char *pause = node_text_or(list->items[i], "pause", NULL);
		DNode *p = doc_set_map(a, doc_push_map(a, steps), "pause");
		if (pause)
			doc_set_str(a, p, "duration", pause);
	}
	return steps;
}

/* The canary strategy of the base Rollout (nonprod steps; overlays replace them). */
DNode *rollout_strategy(Arena *a, const Service *s)
{
	DNode *st = doc_map(a);
	DNode *c = doc_set_map(a, st, "canary");
	DNode *an = doc_set_map(a, c, "analysis");
	doc_set_str(a, doc_push_map(a, doc_set_seq(a, an, "templates")), "templateName", rollout_analysis_name(a, s));
	doc_set_int(a, an, "startingStep", 1); /* after the first setWeight: canary pods exist */
	Env nonprod = {.name = "nonprod"};
	doc_set(a, c, "steps", rollout_steps(a, &nonprod));
	return st;
}

/* The analysis query: the worst current burn rate of the service's SLIs in e. */
const char *rollout_query(Arena *a, const Service *s, const Env *e)
{
	StrBuf b;
	sb_init(&b);
	sb_puts(&b, "max(slo:current_burn_rate:ratio{sloth_id=~\"");
	int n = 0;
	if (s->has_availability)
		sb_printf(&b, "%s-%s-availability", s->name, e->name), n++;
	if (s->has_latency)
		sb_printf(&b, "%s%s-%s-latency", n ? "|" : "", s->name, e->name);
	sb_puts(&b, "\"})");
	const char *q = arena_strdup(a, b.data);
	sb_free(&b);
	return q;
}

const char *rollout_max_burn_rate(void)
{
	return node_text_or(canary_settings(), "max_burn_rate", "14.4");
}

DNode *rollout_analysis_template(Arena *a, const Platform *p, const Service *s, const Env *e)
{
	DNode *t = k8s_object(a, "argoproj.io/v1alpha1", "AnalysisTemplate", rollout_analysis_name(a, s), NULL);
	doc_set(a, doc_get(t, "metadata"), "labels", k8s_service_labels(a, p, s));
	DNode *m = doc_push_map(a, doc_set_seq(a, doc_set_map(a, t, "spec"), "metrics"));
	doc_set_str(a, m, "name", "slo-burn-rate");
	doc_set_str(a, m, "interval", node_text_or(canary_settings(), "interval", "1m"));
	long long fl = 1;
	scalar_int(node_text_or(canary_settings(), "failure_limit", "1"), &fl);
	doc_set_int(a, m, "failureLimit", fl);
	/* no samples yet (no traffic) is not a failure */
	doc_set(a, m, "successCondition", doc_strf(a, "default(result[0], 0) < %s", rollout_max_burn_rate()));
	DNode *prom = doc_set_map(a, doc_set_map(a, m, "provider"), "prometheus");
	const Node *mon = node_get(node_get(p->root, "platform"), "monitoring");
	const char *addr = node_text_or(mon, "prometheus_address", NULL);
	doc_set_str(a, prom, "address",
		    addr ? addr : arena_sprintf(a, "http://prometheus-operated.%s.svc:9090", monitoring_settings(a, p).namespace));
	doc_set_str(a, prom, "query", rollout_query(a, s, e));
	return t;
}

void rollout_target_ref(Arena *a, DNode *ref, const Service *s)
{
	bool canary = rollout_canary(s);
	doc_set_str(a, ref, "apiVersion", canary ? "argoproj.io/v1alpha1" : "apps/v1");
	doc_set_str(a, ref, "kind", canary ? "Rollout" : "Deployment");
	doc_set_str(a, ref, "name", s->name);
}

DNode *rollout_vpa_doc(Arena *a, const Platform *p, const Service *s)
{
	DNode *v = k8s_object(a, "autoscaling.k8s.io/v1", "VerticalPodAutoscaler", s->name, NULL);
	doc_set(a, doc_get(v, "metadata"), "labels", k8s_service_labels(a, p, s));
	DNode *spec = doc_set_map(a, v, "spec");
	rollout_target_ref(a, doc_set_map(a, spec, "targetRef"), s);
	doc_set_str(a, doc_set_map(a, spec, "updatePolicy"), "updateMode", "Off");
	DNode *cp = doc_push_map(a, doc_set_seq(a, doc_set_map(a, spec, "resourcePolicy"), "containerPolicies"));
	doc_set_str(a, cp, "containerName", "app");
	DNode *res = doc_set_seq(a, cp, "controlledResources");
	res->flow = true;
	doc_push_str(a, res, "cpu");
	doc_push_str(a, res, "memory");
	return v;
}
