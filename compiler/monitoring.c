/*
 * monitoring.c — what the monitoring files share: escaping for PromQL,
 * Alertmanager (Go) templates and Markdown; dashboard uids; the platform's
 * monitoring settings (`platform.monitoring`) and each service's metric
 * names (`metrics`, over `platform.monitoring.metrics.<api>`, over the
 * built-in defaults per API style).
 *
 * The promtool unit tests of the rules (tests/promtool/…): each rule file
 * again as a plain Prometheus rule file beside a test file whose cases
 * the rule builders write (monitoring_test_*).
 *
 * Everything from the input that reaches a rule, an annotation, a dashboard
 * or a runbook goes through one of the escapes here (guide §7.1).
 */
#include "platformc.h"

#include <stdio.h>
#include <string.h>

/* ------------------------------------------------------------- escaping */

void promql_quote(StrBuf *b, const char *s)
{
	sb_putc(b, '"');
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		switch (*p) {
		case '\\': sb_puts(b, "\\\\"); break;
		case '"': sb_puts(b, "\\\""); break;
		case '\n': sb_puts(b, "\\n"); break;
		case '\r': sb_puts(b, "\\r"); break;
		case '\t': sb_puts(b, "\\t"); break;
		default:
			if (*p < 0x20 || *p == 0x7f)
				sb_printf(b, "\\x%02x", *p);
			else
				sb_putc(b, (char)*p);
		}
	}
	sb_putc(b, '"');
}

void re2_escape(StrBuf *b, const char *s)
{
	for (const char *p = s; *p; p++) {
		if (strchr("\\.+*?()|[]{}^$", *p))
			sb_putc(b, '\\');
		sb_putc(b, *p);
	}
}

void promql_regex_quote(StrBuf *b, const char *s)
{
	StrBuf r;
	sb_init(&r);
	re2_escape(&r, s);
	sb_putc(&r, '\0');
	promql_quote(b, r.data);
	sb_free(&r);
}

void gotmpl_escape(StrBuf *b, const char *s)
{
	for (const char *p = s; *p; p++) {
		if (p[0] == '{' && p[1] == '{') {
			sb_puts(b, "{{ \"{{\" }}");
			p++;
		} else {
			sb_putc(b, *p);
		}
	}
}

void md_escape(StrBuf *b, const char *s)
{
	for (const char *p = s; *p; p++) {
		switch (*p) {
		case '<': sb_puts(b, "&lt;"); break;
		case '>': sb_puts(b, "&gt;"); break;
		case '&': sb_puts(b, "&amp;"); break;
		case '\n': case '\r': case '\t': sb_putc(b, ' '); break;
		case '\\': case '`': case '*': case '_': case '[': case ']': case '|': case '#': case '!':
			sb_putc(b, '\\');
			sb_putc(b, *p);
			break;
		default: sb_putc(b, *p);
		}
	}
}

const char *monitoring_camel(Arena *a, const char *name)
{
	StrBuf b;
	sb_init(&b);
	bool up = true;
	for (const char *p = name; *p; p++) {
		if (*p == '-') {
			if (p[1] >= 'a' && p[1] <= 'z')
				up = true;
			else
				sb_putc(&b, '_');
			continue;
		}
		sb_putc(&b, up && *p >= 'a' && *p <= 'z' ? (char)(*p - 'a' + 'A') : *p);
		up = false;
	}
	sb_putc(&b, '\0');
	const char *r = arena_strdup(a, b.data);
	sb_free(&b);
	return r;
}

/* Grafana: uid ≤ 40 characters. A readable part (cut to fit) and 10 hex
 * digits of the full key's hash, so a cut never makes two uids equal. */
const char *monitoring_uid(Arena *a, const char *readable, const char *key)
{
	uint64_t h = hash_bytes(key, strlen(key));
	size_t n = strlen(readable);
	if (n > 29)
		n = 29;
	while (n && readable[n - 1] == '-')
		n--;
	return arena_sprintf(a, "%.*s-%010llx", (int)n, readable, (unsigned long long)(h & 0xffffffffffULL));
}

const char *monitoring_service_uid(Arena *a, const Service *s)
{
	return monitoring_uid(a, arena_sprintf(a, "svc-%s", s->name), arena_sprintf(a, "service/%s", s->name));
}

const char *monitoring_team_uid(Arena *a, const Team *t)
{
	return monitoring_uid(a, arena_sprintf(a, "team-%s", t->name), arena_sprintf(a, "team/%s", t->name));
}

const char *monitoring_overview_uid(Arena *a, const Platform *p)
{
	return monitoring_uid(a, arena_sprintf(a, "platform-%s", p->name), arena_sprintf(a, "platform/%s", p->name));
}

/* ------------------------------------------------------------- settings */

static const Node *platform_monitoring(const Platform *p)
{
	return node_get(node_get(p->root, "platform"), "monitoring");
}

static const char *trim_slash(Arena *a, const char *s)
{
	size_t n = strlen(s);
	while (n && s[n - 1] == '/')
		n--;
	return arena_strndup(a, s, n);
}

MonSettings monitoring_settings(Arena *a, const Platform *p)
{
	const Node *m = platform_monitoring(p);
	MonSettings r = {0};
	r.namespace = node_text(m, "namespace") ? node_text(m, "namespace") : "monitoring";
	r.dashboards_namespace = node_text(m, "dashboards_namespace");
	r.selector = node_get(m, "prometheus_selector");
	if (node_text(m, "runbook_url")) {
		r.runbook_base = trim_slash(a, node_text(m, "runbook_url"));
	} else {
		/* the rendered tree in the GitOps repo, as the forge shows it */
		const char *path = p->gitops_path && *p->gitops_path && strcmp(p->gitops_path, ".") != 0
					   ? arena_sprintf(a, "/%s", trim_slash(a, p->gitops_path))
					   : "";
		r.runbook_base = arena_sprintf(a, "%s/blob/%s%s/docs/runbooks", trim_slash(a, p->gitops_repo),
					       p->gitops_revision ? p->gitops_revision : "main", path);
	}
	return r;
}

static void metrics_over(MonMetrics *m, const Node *n)
{
	if (!n || n->kind != N_MAP)
		return;
	if (node_text(n, "path"))
		m->path = node_text(n, "path");
	if (node_text(n, "requests"))
		m->requests = node_text(n, "requests");
	if (node_text(n, "latency"))
		m->latency = node_text(n, "latency");
	const Node *e = node_get(n, "errors");
	if (node_text(e, "label") && node_text(e, "regex")) {
		m->error_label = node_text(e, "label");
		m->error_regex = node_text(e, "regex");
	}
}

/* Metric names, from the least to the most specific: the API type's family
 * in stdlib/apis.yaml (the Prometheus client libraries' HTTP middleware
 * conventions; go-grpc-prometheus / grpc-ecosystem), the language's names
 * there (Micrometer for java), platform.monitoring.metrics.<api>, the
 * service's `metrics`. GraphQL and `http` run over HTTP; platforms whose
 * GraphQL servers report errors inside 200 responses set their own. A worker
 * (`api: none`) starts from the HTTP names (W0223). */
MonMetrics monitoring_metrics(const Platform *p, const Service *s)
{
	const char *api = s->api ? s->api : "rest";
	const Node *t = apis_type(api);
	const char *family = node_text(t, "family") ? node_text(t, "family") : "http";
	MonMetrics m = {0};
	metrics_over(&m, node_get(node_get(apis_data(), "metrics"), family));
	metrics_over(&m, node_get(node_get(apis_language(s->language), "metrics"), family));
	if (strcmp(api, "none") != 0)
		metrics_over(&m, node_get(node_get(platform_monitoring(p), "metrics"), api));
	metrics_over(&m, node_get(s->eff, "metrics"));
	return m;
}

void monitoring_selector_labels(Arena *a, const MonSettings *m, DNode *labels)
{
	if (!m->selector || m->selector->kind != N_MAP) {
		doc_set_str(a, labels, "release", "kube-prometheus-stack");
		return;
	}
	for (int i = 0; i < m->selector->n; i++) {
		const Pair *pr = &m->selector->pairs[i];
		doc_set_str(a, labels, pr->key->text, pr->val->text ? pr->val->text : "");
	}
}

const char *monitoring_runbook_url(Arena *a, const MonSettings *m, const char *alert)
{
	return arena_sprintf(a, "%s/%s.md", m->runbook_base, alert);
}

const char *monitoring_dashboard_url(Arena *a, const Platform *p, const char *uid)
{
	if (p->grafana_url)
		return arena_sprintf(a, "%s/d/%s", trim_slash(a, p->grafana_url), uid);
	return arena_sprintf(a, "/d/%s", uid);
}

const char *monitoring_service_url(Arena *a, const Platform *p, const Service *s, const Env *e)
{
	const char *u = monitoring_dashboard_url(a, p, monitoring_service_uid(a, s));
	return e ? arena_sprintf(a, "%s?var-env=%s", u, e->name) : u;
}

const char *monitoring_backstage_url(Arena *a, const Platform *p, const char *kind, const char *name)
{
	if (!p->backstage_url)
		return NULL;
	return arena_sprintf(a, "%s/catalog/default/%s/%s", trim_slash(a, p->backstage_url), kind, name);
}

void monitoring_runbook(FileSet *fs, const char *alert, const char *title, const char *body)
{
	StrBuf b;
	sb_init(&b);
	sb_printf(&b, "<!-- %s -->\n# %s\n\n%s\n\n%s", fs->header, alert, title, body);
	fileset_add(fs, arena_sprintf(fs->arena, "docs/runbooks/%s.md", alert), b.data, b.len);
}

DNode *monitoring_dashboard_generator(Arena *a, const char *name, const char *ns, const char *key, const char *file,
				      const char *folder)
{
	DNode *g = doc_map(a);
	doc_set_str(a, g, "name", name);
	doc_set_str(a, g, "namespace", ns);
	DNode *files = doc_set_seq(a, g, "files");
	doc_push(a, files, doc_strf(a, "%s=%s", key, file));
	DNode *opt = doc_set_map(a, g, "options");
	doc_set_bool(a, opt, "disableNameSuffixHash", true);
	/* the label the Grafana sidecar watches (kube-prometheus-stack's
	 * default); the annotation names the Grafana folder when the sidecar is
	 * set up with `folderAnnotation: grafana_folder` (docs/monitoring.md) */
	doc_set_str(a, doc_set_map(a, opt, "labels"), "grafana_dashboard", "1");
	doc_set_str(a, doc_set_map(a, opt, "annotations"), "grafana_folder", folder);
	return g;
}

const char *esc_str(Arena *a, void (*escape)(StrBuf *, const char *), const char *s)
{
	StrBuf b;
	sb_init(&b);
	escape(&b, s);
	sb_putc(&b, '\0');
	const char *r = arena_strdup(a, b.data);
	sb_free(&b);
	return r;
}

/* ------------------------------------------------------ promtool tests */

DNode *monitoring_test_case(Arena *a, DNode *tests, const char *interval)
{
	DNode *tc = doc_push_map(a, tests);
	doc_set_str(a, tc, "interval", interval);
	doc_set_seq(a, tc, "input_series");
	doc_set_seq(a, tc, "alert_rule_test");
	return tc;
}

void monitoring_test_series(Arena *a, DNode *tc, const char *series, const char *values)
{
	DNode *s = doc_push_map(a, doc_get(tc, "input_series"));
	doc_set_str(a, s, "series", series);
	doc_set_str(a, s, "values", values);
}

DNode *monitoring_test_alert(Arena *a, DNode *tc, const char *eval_time, const char *alertname)
{
	DNode *t = doc_push_map(a, doc_get(tc, "alert_rule_test"));
	doc_set_str(a, t, "eval_time", eval_time);
	doc_set_str(a, t, "alertname", alertname);
	DNode *exp = doc_set_seq(a, t, "exp_alerts");
	exp->flow = true;
	return exp;
}

/* The text Prometheus makes of an annotation the rules above write: `{{
 * "lit" }}` (gotmpl_escape), `{{ $labels.NAME }}`, and any action on
 * `$value` (its formatted text is given: the tests pick values whose
 * humanize and printf forms they know). */
const char *monitoring_expand(Arena *a, const char *tmpl, const DNode *labels, const char *value)
{
	StrBuf b;
	sb_init(&b);
	for (const char *p = tmpl; *p;) {
		const char *end = p[0] == '{' && p[1] == '{' ? strstr(p, "}}") : NULL;
		if (!end) {
			sb_putc(&b, *p++);
			continue;
		}
		const char *s = p + 2, *e = end;
		while (*s == ' ')
			s++;
		while (e > s && e[-1] == ' ')
			e--;
		size_t n = (size_t)(e - s);
		if (n >= 2 && s[0] == '"' && e[-1] == '"') {
			sb_putn(&b, s + 1, n - 2);
		} else if (n > 8 && strncmp(s, "$labels.", 8) == 0) {
			char key[128];
			snprintf(key, sizeof key, "%.*s", (int)(n - 8), s + 8);
			const DNode *v = doc_get(labels, key);
			sb_puts(&b, v && v->s ? v->s : "");
		} else if (n >= 6 && strncmp(s, "$value", 6) == 0) {
			sb_puts(&b, value);
		} else {
			sb_putn(&b, p, (size_t)(end + 2 - p)); /* not one of ours: kept, the test shows it */
		}
		p = end + 2;
	}
	sb_putc(&b, '\0');
	const char *r = arena_strdup(a, b.data);
	sb_free(&b);
	return r;
}

void monitoring_test_expect(Arena *a, DNode *exp, const DNode *rule, const char *const *series_labels, const char *value)
{
	DNode *x = doc_push_map(a, exp);
	DNode *l = doc_set_map(a, x, "exp_labels");
	for (const char *const *kv = series_labels; kv && kv[0]; kv += 2)
		doc_set_str(a, l, kv[0], kv[1]);
	const DNode *rl = doc_get(rule, "labels");
	for (int i = 0; rl && i < rl->n; i++)
		doc_set_str(a, l, rl->pairs[i].key, rl->pairs[i].val->s);
	DNode *an = doc_set_map(a, x, "exp_annotations");
	const DNode *ra = doc_get(rule, "annotations");
	for (int i = 0; ra && i < ra->n; i++)
		doc_set(a, an, ra->pairs[i].key, doc_str(a, monitoring_expand(a, ra->pairs[i].val->s, l, value)));
}

void monitoring_test_files(FileSet *fs, const char *path, const DNode *groups, DNode *tests)
{
	Arena *a = fs->arena;
	const char *base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
	DNode *rf = doc_map(a);
	doc_set(a, rf, "groups", (DNode *)groups);
	fileset_add_yaml(fs, arena_sprintf(a, "%s.rules.yaml", path), rf);
	DNode *t = doc_map(a);
	DNode *files = doc_set_seq(a, t, "rule_files");
	doc_push(a, files, doc_strf(a, "%s.rules.yaml", base));
	doc_set_str(a, t, "evaluation_interval", "5m");
	doc_set(a, t, "tests", tests);
	fileset_add_yaml(fs, arena_sprintf(a, "%s.test.yaml", path), t);
}
