/*
 * backend_monitoring.c — every service's monitoring, per environment it
 * runs in, with no PromQL written by anyone:
 *
 *   monitoring/<svc>/<env>/servicemonitor.yaml   scrape the Service's `http` port
 *   monitoring/<svc>/<env>/prometheusrule.yaml   SLO rules (when the service has an `slo`)
 *   monitoring/<svc>/<env>/dashboard.json        RED, saturation, SLO and error budget
 *   monitoring/<svc>/<env>/kustomization.yaml    + a ConfigMap for the Grafana sidecar
 *   tests/promtool/services/<svc>/<env>.{rules,test}.yaml
 *                                                the SLO rules' promtool unit tests
 *   docs/runbooks/<Svc>{Availability,Latency}BudgetBurn.md
 *
 * The SLO rules follow Sloth (and the Google SRE workbook, ch. 5): per SLI
 * an error-ratio recording rule per window (5m … 3d, Sloth's record names
 * `slo:sli_error:ratio_rate<w>`), the 30-day ratio from the 5m one, the
 * error-budget rules (`slo:objective:ratio`, `slo:error_budget:ratio`,
 * `slo:current_burn_rate:ratio`, `slo:period_burn_rate:ratio`,
 * `slo:period_error_budget_remaining:ratio`), and multi-window
 * multi-burn-rate alerts for a 30-day window:
 *
 *   page    14.4× over 1h and 5m, or 6× over 6h and 30m   (prod tiers only)
 *   ticket  3× over 1d and 2h, or 1× over 3d and 6h
 *
 * In a nonprod tier the page pairs join the ticket alert: a fast burn is
 * still reported, but nobody is woken up. Page and ticket share the alert
 * name (as in Sloth) and differ by `severity`.
 *
 * Series are selected by `job` (Prometheus Operator sets it to the Service
 * name) and `namespace` (<team>-<env>), so environments that share a
 * Prometheus stay apart.
 */
#include "platformc.h"

#include <string.h>
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

static const char *const windows[] = {"5m", "30m", "1h", "2h", "6h", "1d", "3d"};

typedef struct Sli {
	const char *slo;       /* "availability" | "latency" */
	const char *alert;     /* alert name */
	double objective;      /* ratio */
	double budget;         /* 1 - objective */
	const char *statement; /* what the SLO promises, for people */
} Sli;

typedef struct Ctx {
	const Platform *p;
	FileSet *fs;
	Arena *a;
	const MonSettings *m;
} Ctx;

static const char *num(Arena *a, double v)
{
	char buf[64];
	scalar_format_number(v, buf, sizeof buf);
	return arena_strdup(a, buf);
}

/* Percent -> ratio, rounded to 12 decimals: 99.9 -> 0.999 and 0.001, not
 * 0.000999999999999943. */
static double ratio_of(double percent, bool complement)
{
	double v = complement ? (100.0 - percent) / 100.0 : percent / 100.0;
	double r = v > 0 && v < 1 ? (double)(long long)(v * 1e12 + 0.5) / 1e12 : v;
	return r > 0 ? r : v;
}

static const char *quoted(Arena *a, const char *s)
{
	return esc_str(a, promql_quote, s);
}

/* A literal as an anchored-by-Prometheus RE2 pattern, plus a pattern suffix. */
static const char *regex_quoted(Arena *a, const char *literal, const char *suffix)
{
	StrBuf b;
	sb_init(&b);
	re2_escape(&b, literal);
	sb_puts(&b, suffix);
	sb_putc(&b, '\0');
	const char *r = quoted(a, b.data);
	sb_free(&b);
	return r;
}

static const char *gotmpl(Arena *a, const char *s)
{
	return esc_str(a, gotmpl_escape, s);
}

static const char *md(Arena *a, const char *s)
{
	return esc_str(a, md_escape, s);
}

/* `job="svc",namespace="team-env"` */
static const char *selector(Arena *a, const Service *s, const Env *e)
{
	return arena_sprintf(a, "job=%s,namespace=%s", quoted(a, s->name), quoted(a, k8s_namespace(a, s->team, e)));
}

static const char *error_matcher(Arena *a, const MonMetrics *mm)
{
	return arena_sprintf(a, "%s=~%s", mm->error_label, quoted(a, mm->error_regex));
}

/* The histogram bucket at the latency threshold. Prometheus 3 writes `le`
 * as a float ("2.0"), Prometheus 2 as the client wrote it ("2"). */
static const char *le_matcher(Arena *a, long long ms)
{
	const char *v = num(a, (double)ms / 1000.0);
	if (ms % 1000 == 0)
		return arena_sprintf(a, "le=~%s", quoted(a, arena_sprintf(a, "%s|%s\\.0", v, v)));
	return arena_sprintf(a, "le=%s", quoted(a, v));
}

static const char *error_ratio(Arena *a, const Sli *sli, const MonMetrics *mm, const char *sel, long long ms,
			       const char *w)
{
	if (strcmp(sli->slo, "availability") == 0)
		return arena_sprintf(a, "sum(rate(%s{%s,%s}[%s])) / sum(rate(%s{%s}[%s]))", mm->requests, sel,
				     error_matcher(a, mm), w, mm->requests, sel, w);
	return arena_sprintf(a, "1 - (sum(rate(%s_bucket{%s,%s}[%s])) / sum(rate(%s_count{%s}[%s])))", mm->latency,
			     sel, le_matcher(a, ms), w, mm->latency, sel, w);
}

static DNode *slo_labels(Arena *a, const Service *s, const Env *e, const Sli *sli)
{
	DNode *l = doc_map(a);
	doc_set(a, l, "sloth_id", doc_strf(a, "%s-%s-%s", s->name, e->name, sli->slo));
	doc_set_str(a, l, "sloth_service", s->name);
	doc_set_str(a, l, "sloth_slo", sli->slo);
	doc_set_str(a, l, "team", s->team->name);
	doc_set_str(a, l, "service", s->name);
	doc_set_str(a, l, "env", e->name);
	doc_set_str(a, l, "slo", sli->slo);
	return l;
}

static void record(Arena *a, DNode *rules, const char *name, const char *expr, DNode *labels)
{
	DNode *r = doc_push_map(a, rules);
	doc_set_str(a, r, "record", name);
	doc_set_str(a, r, "expr", expr);
	doc_set(a, r, "labels", labels);
}

/* `(long > f*b and short > f*b)` */
static const char *burn_pair(Arena *a, const char *id, const char *lw, const char *sw, const char *factor,
			     const char *budget)
{
	return arena_sprintf(a,
			     "(slo:sli_error:ratio_rate%s{sloth_id=%s} > (%s * %s) and slo:sli_error:ratio_rate%s{sloth_id=%s} > (%s * %s))",
			     lw, id, factor, budget, sw, id, factor, budget);
}

static DNode *alert(Ctx *c, DNode *rules, const Service *s, const Env *e, const Sli *sli, bool page, const char *expr,
		  const char *summary, const char *what)
{
	Arena *a = c->a;
	DNode *r = doc_push_map(a, rules);
	doc_set_str(a, r, "alert", sli->alert);
	doc_set_str(a, r, "expr", expr);
	DNode *l = doc_set_map(a, r, "labels");
	doc_set_str(a, l, "severity", page ? "page" : "ticket");
	doc_set_str(a, l, "team", s->team->name);
	doc_set_str(a, l, "service", s->name);
	doc_set_str(a, l, "env", e->name);
	DNode *an = doc_set_map(a, r, "annotations");
	doc_set(a, an, "summary", doc_strf(a, "%s (%s): %s", s->name, e->name, summary));
	const char *desc = arena_sprintf(a, "%s %s Team %s.", sli->statement, what, s->team->name);
	if (s->description)
		desc = arena_sprintf(a, "%s Service: %s", desc, s->description);
	doc_set_str(a, an, "description", gotmpl(a, desc));
	doc_set_str(a, an, "runbook_url", monitoring_runbook_url(a, c->m, sli->alert));
	doc_set_str(a, an, "dashboard_url", monitoring_service_url(a, c->p, s, e));
	return r;
}

/* The first of `candidates` the error regex matches as Prometheus does
 * (anchored), or not (want false); NULL when none does. */
static const char *regex_pick(const char *regex, bool want, const char *const *candidates)
{
	int err;
	PCRE2_SIZE off;
	StrBuf b;
	sb_init(&b);
	sb_printf(&b, "^(?:%s)$", regex);
	pcre2_code *re = pcre2_compile((PCRE2_SPTR)b.data, PCRE2_ZERO_TERMINATED, PCRE2_UTF, &err, &off, NULL);
	sb_free(&b);
	if (!re)
		return NULL;
	pcre2_match_data *md = pcre2_match_data_create_from_pattern(re, NULL);
	const char *found = NULL;
	for (; *candidates && !found; candidates++)
		if ((pcre2_match(re, (PCRE2_SPTR)*candidates, PCRE2_ZERO_TERMINATED, 0, 0, md, NULL) >= 0) == want)
			found = *candidates;
	pcre2_match_data_free(md);
	pcre2_code_free(re);
	return found;
}

/* promtool cases of one SLI's alerts: every request fails (or is slow) for
 * 70 minutes, and every alert whose burn rates an error ratio of 1 can
 * exceed fires; every request succeeds in time, and none does. */
static void sli_tests(Ctx *c, DNode *tests, const Service *s, const Env *e, const Sli *sli, const MonMetrics *mm,
		      DNode *const *alerts, const bool *can_fire, int nalerts)
{
	Arena *a = c->a;
	const char *sel = selector(a, s, e);
	const char *bad = NULL, *good = NULL, *le = NULL;
	bool availability = strcmp(sli->slo, "availability") == 0;
	if (availability) {
		/* the usual codes, then the regex's own alternatives that are literals */
		const char *errors[16] = {"500", "503", "Internal", "Unavailable", "Unknown"};
		static const char *const successes[] = {"200", "OK", "0", "204", "success", NULL};
		int ne = 5;
		char *alts = arena_strdup(a, mm->error_regex);
		for (char *save = NULL, *t = strtok_r(alts, "|", &save); t && ne < 15; t = strtok_r(NULL, "|", &save))
			if (*t && strspn(t, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-\"'") == strlen(t))
				errors[ne++] = t;
		bad = regex_pick(mm->error_regex, true, errors);
		good = regex_pick(mm->error_regex, false, successes);
		if (!bad || !good)
			return; /* an error regex none of the usual codes matches: no case */
	} else {
		le = num(a, (double)s->latency_ms / 1000.0);
	}
	for (int healthy = 0; healthy < 2; healthy++) {
		DNode *tc = monitoring_test_case(a, tests, "1m");
		if (availability) {
			monitoring_test_series(a, tc, arena_sprintf(a, "%s{%s,%s=%s}", mm->requests, sel, mm->error_label, quoted(a, bad)),
					       healthy ? "0x90" : "0+60x90");
			monitoring_test_series(a, tc, arena_sprintf(a, "%s{%s,%s=%s}", mm->requests, sel, mm->error_label, quoted(a, good)),
					       healthy ? "0+60x90" : "0x90");
		} else {
			monitoring_test_series(a, tc, arena_sprintf(a, "%s_bucket{%s,le=%s}", mm->latency, sel, quoted(a, le)),
					       healthy ? "0+60x90" : "0x90");
			monitoring_test_series(a, tc, arena_sprintf(a, "%s_count{%s}", mm->latency, sel), "0+60x90");
		}
		DNode *exp = monitoring_test_alert(a, tc, "70m", sli->alert);
		if (healthy)
			continue;
		DNode *rl = slo_labels(a, s, e, sli);
		const char **kv = arena_alloc(a, sizeof *kv * (size_t)(2 * rl->n + 1));
		for (int i = 0; i < rl->n; i++) {
			kv[2 * i] = rl->pairs[i].key;
			kv[2 * i + 1] = rl->pairs[i].val->s;
		}
		for (int i = 0; i < nalerts; i++)
			if (can_fire[i])
				monitoring_test_expect(a, exp, alerts[i], kv, "");
	}
}

static void sli_groups(Ctx *c, DNode *groups, const Service *s, const Env *e, const Sli *sli, const MonMetrics *mm,
		       DNode *tests)
{
	Arena *a = c->a;
	const char *sel = selector(a, s, e);
	const char *id = quoted(a, arena_sprintf(a, "%s-%s-%s", s->name, e->name, sli->slo));
	const char *prefix = arena_sprintf(a, "%s-%s-%s", s->name, e->name, sli->slo);

	DNode *g = doc_push_map(a, groups);
	doc_set(a, g, "name", doc_strf(a, "%s-sli", prefix));
	DNode *rules = doc_set_seq(a, g, "rules");
	for (size_t i = 0; i < ARRAY_LEN(windows); i++)
		record(a, rules, arena_sprintf(a, "slo:sli_error:ratio_rate%s", windows[i]),
		       error_ratio(a, sli, mm, sel, s->latency_ms, windows[i]), slo_labels(a, s, e, sli));

	g = doc_push_map(a, groups);
	doc_set(a, g, "name", doc_strf(a, "%s-budget", prefix));
	rules = doc_set_seq(a, g, "rules");
	const char *budget = num(a, sli->budget);
	record(a, rules, "slo:sli_error:ratio_rate30d",
	       arena_sprintf(a, "sum_over_time(slo:sli_error:ratio_rate5m{sloth_id=%s}[30d]) / count_over_time(slo:sli_error:ratio_rate5m{sloth_id=%s}[30d])", id, id),
	       slo_labels(a, s, e, sli));
	record(a, rules, "slo:objective:ratio", arena_sprintf(a, "vector(%s)", num(a, sli->objective)),
	       slo_labels(a, s, e, sli));
	record(a, rules, "slo:error_budget:ratio", arena_sprintf(a, "vector(%s)", budget), slo_labels(a, s, e, sli));
	record(a, rules, "slo:time_period:days", "vector(30)", slo_labels(a, s, e, sli));
	record(a, rules, "slo:current_burn_rate:ratio",
	       arena_sprintf(a, "slo:sli_error:ratio_rate5m{sloth_id=%s} / slo:error_budget:ratio{sloth_id=%s}", id, id),
	       slo_labels(a, s, e, sli));
	record(a, rules, "slo:period_burn_rate:ratio",
	       arena_sprintf(a, "slo:sli_error:ratio_rate30d{sloth_id=%s} / slo:error_budget:ratio{sloth_id=%s}", id, id),
	       slo_labels(a, s, e, sli));
	record(a, rules, "slo:period_error_budget_remaining:ratio",
	       arena_sprintf(a, "1 - slo:period_burn_rate:ratio{sloth_id=%s}", id), slo_labels(a, s, e, sli));

	g = doc_push_map(a, groups);
	doc_set(a, g, "name", doc_strf(a, "%s-alerts", prefix));
	rules = doc_set_seq(a, g, "rules");
	const char *fast = arena_sprintf(a, "%s or %s", burn_pair(a, id, "1h", "5m", "14.4", budget),
					 burn_pair(a, id, "6h", "30m", "6", budget));
	const char *slow = arena_sprintf(a, "%s or %s", burn_pair(a, id, "1d", "2h", "3", budget),
					 burn_pair(a, id, "3d", "6h", "1", budget));
	DNode *alerts[2];
	int n = 0;
	if (e->prod) {
		alerts[n++] = alert(c, rules, s, e, sli, true, fast, arena_sprintf(a, "%s error budget burns too fast", sli->slo),
		      "The error ratio is above 14.4x the budget over 1h and 5m, or 6x over 6h and 30m: at this rate "
		      "the 30-day error budget is gone in 2 to 5 days.");
		alerts[n++] = alert(c, rules, s, e, sli, false, slow,
		      arena_sprintf(a, "%s error budget burns faster than the SLO allows", sli->slo),
		      "The error ratio is above 3x the budget over 1d and 2h, or 1x over 3d and 6h: the 30-day error "
		      "budget runs out before the window ends.");
	} else {
		alerts[n++] = alert(c, rules, s, e, sli, false, arena_sprintf(a, "%s or %s", fast, slow),
		      arena_sprintf(a, "%s error budget burns faster than the SLO allows", sli->slo),
		      "The error ratio is above 14.4x the budget over 1h and 5m, 6x over 6h and 30m, 3x over 1d and 2h, "
		      "or 1x over 3d and 6h. Nonprod tier: tickets only, no pages.");
	}
	/* an error ratio of 1 exceeds 6x the budget when the budget is below 1/6 */
	bool can_fire[2] = {!e->prod || 6 * sli->budget < 1, true};
	sli_tests(c, tests, s, e, sli, mm, alerts, can_fire, n);
}

static int service_slis(Arena *a, const Service *s, Sli out[2])
{
	int n = 0;
	const char *camel = monitoring_camel(a, s->name);
	if (s->has_availability) {
		out[n++] = (Sli){
			.slo = "availability",
			.alert = arena_sprintf(a, "%sAvailabilityBudgetBurn", camel),
			.objective = ratio_of(s->availability, false),
			.budget = ratio_of(s->availability, true),
			.statement = arena_sprintf(a, "SLO: %s%% of requests succeed over 30 days.", num(a, s->availability)),
		};
	}
	if (s->has_latency) {
		out[n++] = (Sli){
			.slo = "latency",
			.alert = arena_sprintf(a, "%sLatencyBudgetBurn", camel),
			.objective = ratio_of(s->latency_percent, false),
			.budget = ratio_of(s->latency_percent, true),
			.statement = arena_sprintf(a, "SLO: %s%% of requests complete within %sms over 30 days.",
						   num(a, s->latency_percent), num(a, (double)s->latency_ms)),
		};
	}
	return n;
}

/* Scrapes the port the API type names (workload.c): the serving port, or a
 * separate HTTP `metrics` port (gRPC services are never scraped on theirs). */
static DNode *servicemonitor_doc(Ctx *c, const Service *s, const char *ns, const MonMetrics *mm, const Workload *w)
{
	Arena *a = c->a;
	DNode *sm = k8s_object(a, "monitoring.coreos.com/v1", "ServiceMonitor", s->name, ns);
	DNode *labels = k8s_service_labels(a, c->p, s);
	monitoring_selector_labels(a, c->m, labels);
	doc_set(a, doc_get(sm, "metadata"), "labels", labels);
	DNode *spec = doc_set_map(a, sm, "spec");
	doc_set_str(a, doc_set_map(a, doc_set_map(a, spec, "selector"), "matchLabels"), "app.kubernetes.io/name",
		    s->name);
	DNode *ep = doc_push_map(a, doc_set_seq(a, spec, "endpoints"));
	doc_set_str(a, ep, "port", w->scrape_port);
	doc_set_str(a, ep, "path", mm->path);
	doc_set_str(a, ep, "interval", "30s");
	return sm;
}

static DNode *rule_doc(Ctx *c, const Service *s, const Env *e, const char *ns, const Sli *slis, int nslis,
		       const MonMetrics *mm, DNode *tests)
{
	Arena *a = c->a;
	DNode *pr = k8s_object(a, "monitoring.coreos.com/v1", "PrometheusRule", arena_sprintf(a, "%s-slo", s->name), ns);
	DNode *labels = k8s_service_labels(a, c->p, s);
	monitoring_selector_labels(a, c->m, labels);
	doc_set(a, doc_get(pr, "metadata"), "labels", labels);
	DNode *groups = doc_set_seq(a, doc_set_map(a, pr, "spec"), "groups");
	for (int i = 0; i < nslis; i++)
		sli_groups(c, groups, s, e, &slis[i], mm, tests);
	return pr;
}

/* ------------------------------------------------------------ dashboard */

/* One dashboard per service; the variable `env` (its environments, the
 * last in promotion order by default) picks the namespace and the SLO ids. */
static DNode *service_dashboard(Ctx *c, const Service *s, const Sli *slis, int nslis, const MonMetrics *mm)
{
	Arena *a = c->a;
	Env env_var = {.name = "$env"};
	const Env *e = &env_var;
	const char *ns = k8s_namespace(a, s->team, e);
	const char *nsq = quoted(a, ns);
	Dash *d = dash_new(a, monitoring_service_uid(a, s), s->name,
			   (const char *[]){"platformc", s->team->name, "service", NULL});
	const char **envs = arena_alloc(a, sizeof *envs * (size_t)(s->nenvs + 1));
	for (int i = 0; i < s->nenvs; i++)
		envs[i] = s->envs[i].env->name;
	dash_custom_variable(d, "env", "Environment", envs, s->nenvs, s->nenvs - 1);
	dash_link(d, arena_sprintf(a, "Team %s", s->team->name), monitoring_dashboard_url(a, c->p, monitoring_team_uid(a, s->team)),
		  "the team's services, quota and pods");
	dash_link(d, "Platform overview", monitoring_dashboard_url(a, c->p, monitoring_overview_uid(a, c->p)), NULL);
	const char *bs = monitoring_backstage_url(a, c->p, "component", s->name);
	if (bs)
		dash_link(d, arena_sprintf(a, "%s in Backstage", s->name), bs, "owner, APIs, resources and docs");
	for (int i = 0; i < nslis; i++)
		dash_link(d, arena_sprintf(a, "Runbook: %s", slis[i].alert), monitoring_runbook_url(a, c->m, slis[i].alert), NULL);

	const char *sel = selector(a, s, e);
	bool traffic = nslis > 0 || strcmp(s->api, "none") != 0;
	if (traffic) {
		dash_row(d, "Traffic");
		DNode *p = dash_panel(d, "timeseries", "Request rate", 8, 8, "reqps");
		dash_target(d, p, arena_sprintf(a, "sum by (%s) (rate(%s{%s}[$__rate_interval]))", mm->error_label,
						mm->requests, sel),
			    arena_sprintf(a, "{{%s}}", mm->error_label));
		p = dash_panel(d, "timeseries", "Error ratio", 8, 8, "percentunit");
		dash_target(d, p, arena_sprintf(a, "sum(rate(%s{%s,%s}[$__rate_interval])) / sum(rate(%s{%s}[$__rate_interval]))",
						mm->requests, sel, error_matcher(a, mm), mm->requests, sel),
			    "errors");
		p = dash_panel(d, "timeseries", "Latency percentiles", 8, 8, "s");
		static const char *const q[] = {"0.5", "0.9", "0.99"};
		static const char *const qn[] = {"p50", "p90", "p99"};
		for (int i = 0; i < 3; i++)
			dash_target(d, p, arena_sprintf(a, "histogram_quantile(%s, sum by (le) (rate(%s_bucket{%s}[$__rate_interval])))",
							q[i], mm->latency, sel),
				    qn[i]);
	}

	dash_row(d, "Saturation");
	const char *pods = arena_sprintf(a, "namespace=%s,pod=~%s,container=\"app\"", nsq,
					 regex_quoted(a, s->name, "-[a-z0-9]+-[a-z0-9]+"));
	DNode *p = dash_panel(d, "timeseries", "CPU (cores)", 6, 8, "short");
	dash_target(d, p, arena_sprintf(a, "sum by (pod) (rate(container_cpu_usage_seconds_total{%s}[$__rate_interval]))", pods),
		    "{{pod}}");
	dash_target(d, p, arena_sprintf(a, "sum(kube_pod_container_resource_requests{%s,resource=\"cpu\"})", pods),
		    "requested (all pods)");
	p = dash_panel(d, "timeseries", "Memory (working set)", 6, 8, "bytes");
	dash_target(d, p, arena_sprintf(a, "sum by (pod) (container_memory_working_set_bytes{%s})", pods), "{{pod}}");
	dash_target(d, p, arena_sprintf(a, "max(kube_pod_container_resource_limits{%s,resource=\"memory\"})", pods),
		    "limit (per pod)");
	p = dash_panel(d, "timeseries", "Replicas", 6, 8, "short");
	if (rollout_canary(s)) { /* a Rollout: the Argo Rollouts controller's own gauges */
		const char *ro = arena_sprintf(a, "namespace=%s,name=%s", nsq, quoted(a, s->name));
		dash_target(d, p, arena_sprintf(a, "rollout_info_replicas_available{%s}", ro), "available");
		dash_target(d, p, arena_sprintf(a, "rollout_info_replicas_desired{%s}", ro), "desired");
	} else {
		const char *dep = arena_sprintf(a, "namespace=%s,deployment=%s", nsq, quoted(a, s->name));
		dash_target(d, p, arena_sprintf(a, "kube_deployment_status_replicas_available{%s}", dep), "available");
		dash_target(d, p, arena_sprintf(a, "kube_deployment_spec_replicas{%s}", dep), "desired");
	}
	dash_target(d, p, arena_sprintf(a, "kube_horizontalpodautoscaler_spec_max_replicas{namespace=%s,horizontalpodautoscaler=%s}",
					nsq, quoted(a, s->name)),
		    "HPA max");
	p = dash_panel(d, "timeseries", "Container restarts (1h)", 6, 8, "short");
	dash_target(d, p, arena_sprintf(a, "sum by (pod) (increase(kube_pod_container_status_restarts_total{%s}[1h]))", pods),
		    "{{pod}}");

	for (int i = 0; i < nslis; i++) {
		const Sli *sli = &slis[i];
		const char *id = quoted(a, arena_sprintf(a, "%s-%s-%s", s->name, e->name, sli->slo));
		dash_row(d, arena_sprintf(a, "SLO: %s (objective %s%%)", sli->slo, num(a, sli->objective * 100)));
		p = dash_panel(d, "stat", "SLI over 30 days", 6, 6, "percentunit");
		dash_target(d, p, arena_sprintf(a, "1 - slo:sli_error:ratio_rate30d{sloth_id=%s}", id), NULL);
		dash_thresholds(d, p, sli->objective - sli->budget, sli->objective);
		p = dash_panel(d, "stat", "Error budget remaining", 6, 6, "percentunit");
		dash_target(d, p, arena_sprintf(a, "slo:period_error_budget_remaining:ratio{sloth_id=%s}", id), NULL);
		dash_thresholds(d, p, 0, 0.25);
		p = dash_panel(d, "timeseries", "Burn rate (1 = budget lasts 30 days)", 12, 6, "short");
		static const char *const bw[] = {"5m", "1h", "6h", "1d"};
		for (int k = 0; k < 4; k++)
			dash_target(d, p, arena_sprintf(a, "slo:sli_error:ratio_rate%s{sloth_id=%s} / slo:error_budget:ratio{sloth_id=%s}",
							bw[k], id, id),
				    bw[k]);
	}
	return d->root;
}

/* ------------------------------------------------------------- runbooks */

static void service_runbook(Ctx *c, const Service *s, const Sli *sli, const MonMetrics *mm)
{
	Arena *a = c->a;
	StrBuf b;
	sb_init(&b);
	sb_printf(&b, "Team **%s** · service `%s`", s->team->name, s->name);
	if (s->description)
		sb_printf(&b, " — %s", md(a, s->description));
	sb_printf(&b, "\n\n%s Error budget: %s of requests per 30 days.\n\n", sli->statement, num(a, sli->budget));
	sb_puts(&b, "## What fires it\n\n"
		    "Multi-window, multi-burn-rate alerts over a 30-day window (Google SRE workbook, ch. 5):\n\n"
		    "| severity | burn rate | long window | short window | budget gone in |\n|---|---|---|---|---|\n"
		    "| page (prod tiers) | 14.4× | 1h | 5m | ~2 days |\n| page (prod tiers) | 6× | 6h | 30m | ~5 days |\n"
		    "| ticket | 3× | 1d | 2h | ~10 days |\n| ticket | 1× | 3d | 6h | 30 days |\n\n"
		    "In nonprod tiers every pair raises a ticket; nothing pages.\n\n");
	sb_puts(&b, "## Confirm\n\n");
	for (int i = 0; i < s->nenvs; i++) {
		const Env *e = s->envs[i].env;
		if (c->p->grafana_url)
			sb_printf(&b, "- %s: [dashboard](%s) (uid `%s`, environment `%s`)\n", e->name,
				  monitoring_service_url(a, c->p, s, e), monitoring_service_uid(a, s), e->name);
		else
			sb_printf(&b, "- %s: Grafana dashboard uid `%s`, environment `%s`\n", e->name,
				  monitoring_service_uid(a, s), e->name);
	}
	const char *id = arena_sprintf(a, "%s-<env>-%s", s->name, sli->slo);
	sb_printf(&b, "\nIn Prometheus, the error ratio per window and what is left of the budget:\n\n"
		      "```promql\nslo:sli_error:ratio_rate1h{sloth_id=\"%s\"}\n"
		      "slo:period_error_budget_remaining:ratio{sloth_id=\"%s\"}\n```\n\n",
		  id, id);
	if (strcmp(sli->slo, "availability") == 0)
		sb_printf(&b, "Which requests fail, by `%s`:\n\n"
			      "```promql\nsum by (%s) (rate(%s{job=\"%s\",namespace=\"%s-<env>\",%s}[5m]))\n```\n\n",
			  mm->error_label, mm->error_label, mm->requests, s->name, s->team->name, error_matcher(a, mm));
	else
		sb_printf(&b, "Slow requests are those above the `le` bucket of `%s_bucket` at the threshold. "
			      "The 99th percentile now:\n\n"
			      "```promql\nhistogram_quantile(0.99, sum by (le) (rate(%s_bucket{job=\"%s\",namespace=\"%s-<env>\"}[5m])))\n```\n\n",
			  mm->latency, mm->latency, s->name, s->team->name);
	sb_puts(&b, "Then check whether it started with a change: the Argo CD Application "
		    "of the service in that environment shows the last syncs and their revisions.\n\n");
	sb_puts(&b, "## Mitigate\n\n"
		    "1. A recent deploy: roll back (Argo CD: sync the previous revision, or revert the commit in the "
		    "GitOps repo).\n"
		    "2. Saturation (CPU at requests, memory at limit, HPA at max on the dashboard): scale out "
		    "(raise `replicas` for the environment in `overrides`, render, merge).\n");
	if (s->ncalls || s->nuses) {
		sb_puts(&b, "3. A dependency: ");
		for (int i = 0; i < s->ncalls; i++)
			sb_printf(&b, "%sservice `%s`", i ? ", " : "", s->calls[i]->name);
		for (int i = 0; i < s->nuses; i++)
			sb_printf(&b, "%s%s `%s`", i || s->ncalls ? ", " : "", s->uses[i]->kind, s->uses[i]->name);
		sb_puts(&b, " — check their dashboards and alerts.\n");
	}
	sb_printf(&b, "\nEscalate to team %s", s->team->name);
	if (s->team->slack)
		sb_printf(&b, " (%s)", md(a, s->team->slack));
	sb_puts(&b, ". When the budget is spent, the team's error-budget policy applies: reliability work before "
		    "features until the 30-day SLI is back above the objective.\n");
	sb_putc(&b, '\0');
	monitoring_runbook(c->fs, sli->alert,
			   arena_sprintf(a, "The %s error budget of `%s` burns faster than its SLO allows.", sli->slo, s->name),
			   b.data);
	sb_free(&b);
}

/* monitoring/<service>/<env>/: the ServiceMonitor and the SLO rules. */
static void monitoring_folder(Ctx *c, const Service *s, const Env *e, const char *ns, const char *dir,
			      const MonMetrics *mm, const Workload *w, const Sli *slis, int nslis)
{
	Arena *a = c->a;
	FileSet *fs = c->fs;
	DNode *kz = k8s_kustomization(a);
	DNode *res = doc_set_seq(a, kz, "resources");
	if (w->scrape_port) {
		fileset_add_yaml(fs, arena_sprintf(a, "%s/servicemonitor.yaml", dir),
				 servicemonitor_doc(c, s, ns, mm, w));
		doc_push_str(a, res, "servicemonitor.yaml");
	}
	if (nslis) {
		DNode *tests = doc_seq(a);
		DNode *pr = rule_doc(c, s, e, ns, slis, nslis, mm, tests);
		fileset_add_yaml(fs, arena_sprintf(a, "%s/prometheusrule.yaml", dir), pr);
		monitoring_test_files(fs, arena_sprintf(a, SUITES_DIR "promtool/services/%s/%s", s->name, e->name),
				      doc_get(doc_get(pr, "spec"), "groups"), tests);
		doc_push_str(a, res, "prometheusrule.yaml");
	}
	fileset_add_yaml(fs, arena_sprintf(a, "%s/kustomization.yaml", dir), kz);
}

void backend_monitoring(const Platform *p, FileSet *fs)
{
	Arena *a = fs->arena;
	/* what outlives the items (lists, indexes, the whole family's documents)
	 * is dropped when the family is done */
	ArenaMark whole = arena_mark(a);
	MonSettings m = monitoring_settings(a, p);
	Ctx c = {.p = p, .fs = fs, .a = a, .m = &m};
	for (int i = 0; i < p->nservices; i++) {
		/* a service's documents are dropped once its files are added */
		ArenaMark scope = arena_mark(a);
		const Service *s = p->services[i];
		/* a service's files, kept as they are when nothing it reads changed */
		bool kept = fileset_unit_begin(fs, arena_sprintf(a, "monitoring/%s", s->name), unitkey_service(fs, p, s));
		MonMetrics mm = monitoring_metrics(p, s);
		Workload w;
		workload_of(s, &w);
		Sli slis[2];
		int nslis = kept ? 0 : service_slis(a, s, slis);
		for (int k = 0; k < nslis; k++)
			service_runbook(&c, s, &slis[k], &mm);
		/* shipped by platform/monitoring (monitoring_platform.c) */
		if (!kept)
			fileset_add_json(fs, arena_sprintf(a, "platform/monitoring/dashboards/service-%s.json", s->name),
					 service_dashboard(&c, s, slis, nslis, &mm));
		for (int k = 0; k < s->nenvs; k++) {
			const Env *e = s->envs[k].env;
			const char *ns = k8s_namespace(a, s->team, e);
			const char *dir = arena_sprintf(a, "monitoring/%s/%s", s->name, e->name);
			if (!kept)
				monitoring_folder(&c, s, e, ns, dir, &mm, &w, slis, nslis);
			fileset_add_unit(fs, &(Unit){.kind = U_MONITORING, .dir = dir,
						     .name = arena_sprintf(a, "%s-monitoring", s->name), .env = e,
						     .team = s->team, .namespace = ns,
						     .label_key = k8s_label(a, p, "service"), .label_value = s->name});
		}
		fileset_unit_end(fs);
		arena_release(a, scope);
	}
	monitoring_platform(p, fs, &m);
	arena_release(a, whole);
}
