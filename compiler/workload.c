/*
 * workload.c — what a service's `api` means for its workload, read from
 * stdlib/apis.yaml (apis.c): the serving port (name, appProtocol, the
 * Service's port), whether a Service and an Ingress exist, the probes
 * (httpGet, gRPC health, exec; always with a startupProbe whose budget comes
 * from `health.startup`, the language, or the platform default), and where
 * Prometheus scrapes (the serving port, or a separate `metrics` port).
 *
 * backend_services.c renders containers, Services and Ingresses from a
 * Workload; backend_monitoring.c scrapes `scrape_port`; monitoring.c takes
 * metric names from the same file. workload_check reports the combinations
 * that cannot run: an Ingress on a worker (E0260), a call to a worker (E0261),
 * a metrics port that is the serving port (E0262), a canary without an SLO to
 * analyse (E0263), and a worker with no probe at all (W0280).
 */
#include "platformc.h"

#include <string.h>

static long long ms_at(const Node *map, const char *key)
{
	long long v;
	const char *t = node_text(map, key);
	return t && scalar_duration(t, &v) ? v : 0;
}

void workload_of(const Service *s, Workload *w)
{
	memset(w, 0, sizeof *w);
	const Node *t = apis_type(s->api);
	const Node *probes = node_get(apis_data(), "probes");
	const Node *health = node_get(s->eff, "health");
	const Node *metrics = node_get(s->eff, "metrics");
	w->api = s->api;
	w->family = node_text(t, "family") ? node_text(t, "family") : "http";
	w->port = s->port;
	const Node *port = node_get(t, "port");
	if (port && port->kind == N_MAP) {
		w->port_name = node_text(port, "name");
		w->app_protocol = node_text(port, "app_protocol");
		const char *sp = node_text(port, "service_port");
		w->service_port = sp && strcmp(sp, "serving") == 0 ? s->port : node_int(port, "service_port", 80);
	}
	w->ingress = node_text(t, "ingress") && strcmp(node_text(t, "ingress"), "true") == 0;
	w->ingress_annotations = node_get(t, "ingress_annotations");

	/* the scrape: a declared metrics.port always; else the API type's rule */
	const char *rule = node_text(t, "metrics") ? node_text(t, "metrics") : "serving";
	long long mport = node_int(metrics, "port", 0);
	if (!mport && strcmp(rule, "port") == 0 && w->port_name)
		mport = node_int(t, "metrics_port", 0);
	if (mport && mport != w->port) {
		w->metrics_port = mport;
		w->scrape_port = "metrics";
	} else if (w->port_name) {
		w->scrape_port = w->port_name;
	}
	w->service = w->port_name || w->metrics_port;

	/* probes */
	w->command = node_get(health, "command");
	w->liveness = s->liveness;
	w->readiness = s->readiness;
	const char *kind = node_text(t, "probes") ? node_text(t, "probes") : "http";
	if (w->command && w->command->kind == N_SEQ) {
		w->probe = "exec";
	} else if (strcmp(kind, "exec") == 0 || !w->port_name) {
		w->command = NULL;
		if (w->metrics_port) {
			w->probe = "http";
			w->probe_port_name = "metrics";
			w->probe_port = w->metrics_port;
		}
	} else {
		w->command = NULL;
		w->probe = strcmp(kind, "grpc") == 0 ? "grpc" : "http";
		w->probe_port_name = w->port_name;
		w->probe_port = w->port;
	}
	w->period = node_int(probes, "period", 10);
	w->timeout = node_int(probes, "timeout", 2);
	w->failure = node_int(probes, "failure", 3);
	w->startup_period = node_int(probes, "startup_period", 5);
	long long budget = ms_at(health, "startup");
	if (!budget)
		budget = ms_at(apis_language(s->language), "startup");
	if (!budget)
		budget = ms_at(probes, "startup");
	if (!budget)
		budget = 60000;
	long long per = w->startup_period * 1000;
	w->startup_seconds = budget / 1000;
	w->startup_failure = (budget + per - 1) / per;
	if (w->startup_failure < 1)
		w->startup_failure = 1;
}

/* The defaults repeat PlatformIngress in stdlib/schema.yaml (as resolve.c
 * repeats Health's). */
IngressSettings platform_ingress(const Platform *p)
{
	const Node *n = node_get(node_get(p->root, "platform"), "ingress");
	return (IngressSettings){node_text(n, "class") ? node_text(n, "class") : "nginx",
				 node_text(n, "namespace") ? node_text(n, "namespace") : "ingress-nginx",
				 node_text(n, "issuer") ? node_text(n, "issuer") : "letsencrypt"};
}

/* ------------------------------------------------------------- checks */

static bool excepted(const Platform *p, const char *policy, const Service *s)
{
	if (policy_disabled(p, policy))
		return true;
	for (int i = 0; i < p->nexceptions; i++) {
		if (strcmp(p->exceptions[i].policy, policy) != 0)
			continue;
		for (int k = 0; k < p->exceptions[i].nservices; k++)
			if (p->exceptions[i].services[k] == s)
				return true;
	}
	return false;
}

/* Where an `ingress` comes from: the service, one of its overrides, or
 * defaults.service. */
static const Node *ingress_node(const Platform *p, const Service *s, Span *key)
{
	if (node_get(s->node, "ingress")) {
		*key = span_of_key(s->node, "ingress");
		return node_get(s->node, "ingress");
	}
	const Node *ov = node_get(s->node, "overrides");
	for (int i = 0; ov && ov->kind == N_MAP && i < ov->n; i++)
		if (node_get(ov->pairs[i].val, "ingress")) {
			*key = span_of_key(ov->pairs[i].val, "ingress");
			return node_get(ov->pairs[i].val, "ingress");
		}
	if (node_get(p->defaults_service, "ingress")) {
		*key = span_of_key(p->defaults_service, "ingress");
		return node_get(p->defaults_service, "ingress");
	}
	return NULL;
}

int workload_check(const Platform *p, Diags *d)
{
	int errors = 0;
	for (int i = 0; i < p->nservices; i++) {
		const Service *s = p->services[i];
		Workload w;
		workload_of(s, &w);
		bool has_ingress = false;
		for (int e = 0; e < s->nenvs; e++)
			has_ingress |= s->envs[e].ingress_host != NULL;
		Span at;
		if (has_ingress && !w.ingress && ingress_node(p, s, &at)) {
			Diag *g = diag_error(d, "E0260", at, "service `%s` has an `ingress` but `api: %s` serves no HTTP",
					     s->name, s->api);
			diag_label(g, "no port for an Ingress to reach");
			const Node *api = node_get(s->node, "api");
			if (api)
				diag_note(g, api->span, "the API type is set here");
			diag_help(g, "a server of web pages is `api: http`; a worker has no Ingress");
			errors++;
		}
		const Node *metrics = node_get(s->eff, "metrics");
		if (w.port_name && node_int(metrics, "port", 0) == s->port) {
			const Node *mp = node_get(metrics, "port");
			Diag *g = diag_error(d, "E0262", mp->span, "service `%s`: the metrics port is its serving port %lld",
					     s->name, s->port);
			diag_label(g, "the same port as `port`");
			diag_help(g, "%s", strcmp(w.family, "grpc") == 0
						   ? "Prometheus scrapes HTTP: serve /metrics on a separate port"
						   : "leave `metrics.port` out to scrape the serving port");
			errors++;
		}
		const Node *calls = node_get(s->eff, "calls");
		for (int k = 0; k < s->ncalls; k++) {
			Workload cw;
			workload_of(s->calls[k], &cw);
			if (cw.port_name)
				continue;
			const Node *ref = NULL;
			for (int j = 0; calls && calls->kind == N_SEQ && j < calls->n && !ref; j++)
				if (calls->items[j]->text && strcmp(calls->items[j]->text, s->calls[k]->name) == 0)
					ref = calls->items[j];
			Diag *g = diag_error(d, "E0261", ref ? ref->span : s->node->span,
					     "service `%s` calls `%s`, which serves nothing (`api: %s`)", s->name,
					     s->calls[k]->name, s->calls[k]->api);
			diag_label(g, "no Service to call");
			const Node *api = node_get(s->calls[k]->node, "api");
			if (api)
				diag_note(g, api->span, "`%s` is a worker", s->calls[k]->name);
			diag_help(g, "talk to a worker through a queue or topic it `uses`; or give it an API type");
			errors++;
		}
		if (rollout_canary(s) && !s->has_availability && !s->has_latency) {
			const Node *ro = node_get(s->node, "rollout");
			Diag *g = diag_error(d, "E0263", ro ? ro->span : s->node->span,
					     "service `%s` is a canary but has no `slo` to analyse", s->name);
			diag_label(g, "the analysis reads the SLO's burn rate");
			diag_help(g, "give the service an `slo` (availability or latency), or use `rollout: rolling`");
			errors++;
		}
		if (!w.probe && !excepted(p, "require-probes", s)) {
			const Node *api = node_get(s->node, "api");
			Diag *g = diag_warn(d, "W0280", api ? api->span : s->node->span,
					    "worker `%s` has no probe: the policy `require-probes` will reject its pods",
					    s->name);
			diag_label(g, "no port to probe");
			diag_help(g, "set `health.command` (an exec probe) or `metrics.port` (HTTP probes on it)");
		}
	}
	return errors;
}
