/*
 * cost.c — `platformc cost`: the estimated monthly cost of every resource in
 * every environment, per team and per environment, against team budgets.
 *
 * Each kind's cost model (kind.yaml `cost`) gives a `monthly` expression over
 * the resource's params in that environment (list prices, 730 hours a month)
 * and/or a `usage` text: what is billed by use and so is not estimated. A
 * kind with only `usage` shows "usage" instead of an invented number. A team
 * whose total is above its `budget` gets a warning (W0310) with the figures.
 * Output: a text table for people, or JSON (`--format json`) for tools.
 */
#include "platformc.h"

#include <stdio.h>
#include <string.h>

typedef struct Cell {
	bool runs, priced, usage_only;
	double usd;
} Cell;

static double cents(double v)
{
	return (double)(long long)(v * 100 + (v < 0 ? -0.5 : 0.5)) / 100; /* no libm */
}

static Cell cell(const Resource *r, const Env *e)
{
	Cell c = {0};
	const Kind *k = r->kindp;
	if (!k || !resource_runs_in(r, e))
		return c;
	c.runs = true;
	if (!k->cost_monthly) {
		c.usage_only = true;
		return c;
	}
	EvalResult v = expr_eval(k, k->cost_monthly, catalog_values(r, e), e);
	if (v.kind == EV_NUM) {
		c.priced = true;
		c.usd = cents(v.num);
	} else if (v.kind == EV_STR && !strcmp(v.s, "usage")) {
		c.usage_only = true; /* the model says: billed by use in this configuration */
	}
	return c;
}

/* ---- Kubernetes compute: each pod's share of an on-demand node ---- */

typedef struct NodePrice {
	const char *instance_type;
	double vcpu, hourly;
	long double memory;    /* bytes × 1000 (scalar_quantity) */
} NodePrice;

/* platform.cloud.nodes, its defaults from stdlib/schema.yaml (NodePrice). */
static NodePrice node_price(const Platform *p)
{
	static Schema *schema;
	if (!schema)
		schema = schema_load(arena_new_kept());
	const Node *given = node_get(node_get(node_get(p->root, "platform"), "cloud"), "nodes");
	const Type *t = schema_type(schema, "NodePrice");
	NodePrice np = {0};
	for (int i = 0; t && i < t->nfields; i++) {
		const Node *v = node_get(given, t->fields[i].name);
		const char *text = v && v->kind == N_SCALAR ? v->text : t->fields[i].def;
		double num = 0;
		if (!text)
			continue;
		if (!strcmp(t->fields[i].name, "instance_type"))
			np.instance_type = text;
		else if (!strcmp(t->fields[i].name, "memory"))
			scalar_quantity(text, &np.memory);
		else if (scalar_number(text, &num))
			*(!strcmp(t->fields[i].name, "vcpu") ? &np.vcpu : &np.hourly) = num;
	}
	return np;
}

/* USD a month of team t's pods in e: min replicas × each pod's share. */
static Cell compute_cell(const Platform *p, const Team *t, const Env *e, const NodePrice *np, long long *pods)
{
	Cell c = {0};
	double usd = 0;
	for (int i = 0; i < p->nservices; i++) {
		const Service *s = p->services[i];
		for (int k = 0; s->team == t && k < s->nenvs; k++) {
			const ServiceEnv *se = &s->envs[k];
			if (se->env != e)
				continue;
			c.runs = true;
			double cpu = np->vcpu > 0 ? (double)se->cpu_m / 1000.0 / np->vcpu : 0; /* milli-cores */
			double mem = np->memory > 0 ? (double)(se->memory_m / np->memory) : 0;
			usd += (double)se->replicas * (cpu > mem ? cpu : mem) * np->hourly * 730;
			if (pods)
				*pods += se->replicas;
		}
	}
	c.priced = c.runs;
	c.usd = cents(usd);
	return c;
}

static bool team_has_services(const Platform *p, const Team *t)
{
	for (int i = 0; i < p->nservices; i++)
		if (p->services[i]->team == t)
			return true;
	return false;
}

static double team_total(const Platform *p, const Team *t)
{
	double sum = 0;
	NodePrice np = node_price(p);
	for (int i = 0; i < p->nresources; i++)
		for (int e = 0; p->resources[i]->team == t && e < p->nenvs; e++)
			sum += cell(p->resources[i], &p->envs[e]).usd;
	for (int e = 0; e < p->nenvs; e++)
		sum += compute_cell(p, t, &p->envs[e], &np, NULL).usd;
	return cents(sum);
}

static void money(char *buf, size_t n, double v)
{
	/* 1234.5 -> "1,234.50": a finance person reads thousands separators */
	char raw[48];
	snprintf(raw, sizeof raw, "%.2f", v);
	char *dot = strchr(raw, '.');
	int intlen = (int)(dot - raw), j = 0;
	for (int i = 0; i < intlen && j < (int)n - 4; i++) {
		if (i && (intlen - i) % 3 == 0 && raw[0] != '-')
			buf[j++] = ',';
		buf[j++] = raw[i];
	}
	snprintf(buf + j, n - (size_t)j, "%s", dot);
}

int cost_estimate(const Resource *r, const Env *e, double *usd)
{
	Cell c = cell(r, e);
	*usd = c.usd;
	return !c.runs ? COST_NOT_RUNNING : c.priced ? COST_PRICED : c.usage_only ? COST_USAGE : COST_UNPRICED;
}

void cost_money(char *buf, size_t n, double v)
{
	money(buf, n, v);
}

static void cell_text(char *buf, size_t n, Cell c)
{
	if (!c.runs)
		snprintf(buf, n, "-");
	else if (c.usage_only)
		snprintf(buf, n, "usage");
	else if (!c.priced)
		snprintf(buf, n, "unpriced");
	else
		money(buf, n, c.usd);
}



/* W0340: the cost models of the kinds in use price another region than the
 * platform's; the estimate says so instead of passing them off silently. */
static void region_warning(const Platform *p, Diags *d)
{
	StrBuf kinds;
	sb_init(&kinds);
	const char *other = NULL, *source = NULL;
	int n = 0;
	for (int i = 0; i < p->catalog->n; i++) {
		const Kind *k = p->catalog->kinds[i];
		bool used = false;
		for (int r = 0; r < p->nresources && !used; r++)
			used = p->resources[r]->kindp == k;
		if (!used || !k->cost_region || !p->region || !strcmp(k->cost_region, p->region))
			continue;
		sb_printf(&kinds, "%s`%s`", n++ ? ", " : "", k->name);
		if (!other) {
			other = k->cost_region;
			source = k->cost_date;
		}
	}
	if (n) {
		const Node *rn = node_get(node_get(node_get(p->root, "platform"), "cloud"), "region");
		Diag *g = diag_warn(d, "W0340", rn ? rn->span : p->root->span,
				    "the estimates use %s list prices (%s), not %s ones", other, source ? source : "", p->region);
		diag_label(g, "prices of %s are for %s", kinds.data, other);
		diag_help(g, "re-check the prices for %s (AWS pricing pages or the Price List API); a kind's "
			  "cost model states its `region`", p->region);
	}
	sb_free(&kinds);
}

static bool over_budget(const Platform *p)
{
	for (int t = 0; t < p->nteams; t++)
		if (p->teams[t]->has_budget && team_total(p, p->teams[t]) > p->teams[t]->budget)
			return true;
	return false;
}

static void budget_warnings(const Platform *p, Diags *d)
{
	for (int t = 0; t < p->nteams; t++) {
		const Team *team = p->teams[t];
		double total = team_total(p, team);
		if (!team->has_budget || total <= team->budget)
			continue;
		char a[32], b[32], over[32];
		money(a, sizeof a, total);
		money(b, sizeof b, team->budget);
		money(over, sizeof over, total - team->budget);
		const Node *bn = node_get(team->node, "budget");
		Diag *g = diag_warn(d, "W0310", bn ? bn->span : team->node->span,
				    "team `%s` is estimated at $%s a month, over its budget of $%s", team->name, a, b);
		diag_label(g, "$%s over budget", over);
		int shown = 0;
		for (int i = 0; i < p->nresources && shown < 4; i++) {
			const Resource *r = p->resources[i];
			if (r->team != team)
				continue;
			double sum = 0;
			for (int e = 0; e < p->nenvs; e++)
				sum += cell(r, &p->envs[e]).usd;
			if (sum <= 0)
				continue;
			char s[32];
			money(s, sizeof s, cents(sum));
			const Node *nn = node_get(r->node, "name");
			diag_note(g, nn ? nn->span : r->node->span, "`%s` (%s): $%s a month", r->name, r->kind, s);
			shown++;
		}
		diag_help(g, "raise `budget`, or lower the resources' size in some environments (`overrides`)");
	}
}

static void text_report(const Platform *p, FILE *out)
{
	int namew = 8, kindw = 4;
	for (int i = 0; i < p->nresources; i++) {
		int n = (int)strlen(p->resources[i]->name) + 2, k = (int)strlen(p->resources[i]->kind);
		namew = n > namew ? n : namew;
		kindw = k > kindw ? k : kindw;
	}
	if (kindw < 10)
		kindw = 10; /* "kubernetes" */
	NodePrice np = node_price(p);
	int colw = 10;
	for (int e = 0; e < p->nenvs; e++)
		colw = (int)strlen(p->envs[e].name) > colw ? (int)strlen(p->envs[e].name) : colw;
	char buf[48];
	fprintf(out, "Estimated monthly cost in USD (list prices; what is billed by use is not included)\n\n");
	fprintf(out, "%-*s  %-*s", namew, "resource", kindw, "kind");
	for (int e = 0; e < p->nenvs; e++)
		fprintf(out, "  %*s", colw, p->envs[e].name);
	fprintf(out, "  %*s\n", colw, "total");
	double env_sum[256] = {0}, grand = 0;
	for (int t = 0; t < p->nteams; t++) {
		const Team *team = p->teams[t];
		bool any = team_has_services(p, team);
		for (int i = 0; i < p->nresources && !any; i++)
			any = p->resources[i]->team == team;
		if (!any && !team->has_budget)
			continue;
		fprintf(out, "\nteam %s\n", team->name);
		double tenv[256] = {0}, tsum = 0;
		for (int i = 0; i < p->nresources; i++) {
			const Resource *r = p->resources[i];
			if (r->team != team)
				continue;
			fprintf(out, "  %-*s  %-*s", namew - 2, r->name, kindw, r->kind);
			double rsum = 0;
			bool usage = false;
			for (int e = 0; e < p->nenvs; e++) {
				Cell c = cell(r, &p->envs[e]);
				cell_text(buf, sizeof buf, c);
				fprintf(out, "  %*s", colw, buf);
				rsum += c.usd;
				usage |= c.usage_only;
				if (e < 256)
					tenv[e] += c.usd;
			}
			if (usage && rsum == 0)
				snprintf(buf, sizeof buf, "usage");
			else
				money(buf, sizeof buf, cents(rsum));
			fprintf(out, "  %*s\n", colw, buf);
			tsum += rsum;
		}
		if (team_has_services(p, team)) {
			/* the team's pods: requests × min replicas, as shares of on-demand nodes */
			fprintf(out, "  %-*s  %-*s", namew - 2, "compute", kindw, "kubernetes");
			double csum = 0;
			for (int e = 0; e < p->nenvs; e++) {
				Cell c = compute_cell(p, team, &p->envs[e], &np, NULL);
				cell_text(buf, sizeof buf, c);
				fprintf(out, "  %*s", colw, buf);
				csum += c.usd;
				if (e < 256)
					tenv[e] += c.usd;
			}
			money(buf, sizeof buf, cents(csum));
			fprintf(out, "  %*s\n", colw, buf);
			tsum += csum;
		}
		fprintf(out, "  %-*s  %-*s", namew - 2, "team total", kindw, "");
		for (int e = 0; e < p->nenvs; e++) {
			money(buf, sizeof buf, cents(e < 256 ? tenv[e] : 0));
			fprintf(out, "  %*s", colw, buf);
			if (e < 256)
				env_sum[e] += tenv[e];
		}
		money(buf, sizeof buf, cents(tsum));
		fprintf(out, "  %*s\n", colw, buf);
		grand += tsum;
		if (team->has_budget) {
			char b[32];
			money(b, sizeof b, team->budget);
			fprintf(out, "  budget %s: %s (%.0f%%)\n", b, cents(tsum) > team->budget ? "OVER" : "within",
				team->budget > 0 ? cents(tsum) / team->budget * 100 : 0.0);
		}
	}
	fprintf(out, "\n%-*s  %-*s", namew, "all teams", kindw, "");
	for (int e = 0; e < p->nenvs; e++) {
		money(buf, sizeof buf, cents(e < 256 ? env_sum[e] : 0));
		fprintf(out, "  %*s", colw, buf);
	}
	money(buf, sizeof buf, cents(grand));
	fprintf(out, "  %*s\n", colw, buf);

	fprintf(out, "\n\"usage\": billed by use only; \"-\": does not run there; \"unpriced\": no list price in the cost model.\n");
	fprintf(out, "\nCompute: requests × min replicas as shares of an on-demand %s node (%g vCPU, %.0f GiB, $%g an hour; platform.cloud.nodes): a pod costs max(cpu / vCPU, memory / node memory) × hourly × 730.\n",
		np.instance_type ? np.instance_type : "", np.vcpu, (double)(np.memory / (1000.0L * 1024 * 1024 * 1024)), np.hourly);
	fprintf(out, "\nCost models (per kind used):\n");
	for (int i = 0; p->catalog && i < p->catalog->n; i++) {
		const Kind *k = p->catalog->kinds[i];
		bool used = false;
		for (int r = 0; r < p->nresources && !used; r++)
			used = p->resources[r]->kindp == k;
		if (!used)
			continue;
		fprintf(out, "  %s: %s (%s)\n", k->name, k->cost_source, k->cost_date);
		if (k->cost_usage)
			fprintf(out, "    not included: %s\n", k->cost_usage);
	}
}

static void json_report(const Platform *p, Arena *a, FILE *out)
{
	DNode *root = doc_map(a);
	doc_set_str(a, root, "currency", "USD");
	doc_set_str(a, root, "period", "month");
	DNode *teams = doc_set_seq(a, root, "teams");
	double env_sum[256] = {0}, grand = 0;
	NodePrice np = node_price(p);
	DNode *node = doc_set_map(a, root, "node");
	doc_set_str(a, node, "instance_type", np.instance_type ? np.instance_type : "");
	doc_set(a, node, "vcpu", doc_num(a, np.vcpu));
	doc_set(a, node, "memory_gib", doc_num(a, (double)(np.memory / (1000.0L * 1024 * 1024 * 1024))));
	doc_set(a, node, "hourly", doc_num(a, np.hourly));
	for (int t = 0; t < p->nteams; t++) {
		const Team *team = p->teams[t];
		DNode *tn = doc_push_map(a, teams);
		doc_set_str(a, tn, "team", team->name);
		if (team->has_budget)
			doc_set(a, tn, "budget", doc_num(a, team->budget));
		DNode *rs = doc_set_seq(a, tn, "resources");
		double tsum = 0;
		for (int i = 0; i < p->nresources; i++) {
			const Resource *r = p->resources[i];
			if (r->team != team)
				continue;
			DNode *rn = doc_push_map(a, rs);
			doc_set_str(a, rn, "name", r->name);
			doc_set_str(a, rn, "kind", r->kind);
			DNode *envs = doc_set_map(a, rn, "environments");
			double rsum = 0;
			for (int e = 0; e < p->nenvs; e++) {
				Cell c = cell(r, &p->envs[e]);
				if (!c.runs)
					continue;
				doc_set(a, envs, p->envs[e].name,
					c.priced ? doc_num(a, c.usd) : doc_str(a, c.usage_only ? "usage" : "unpriced"));
				rsum += c.usd;
				if (e < 256)
					env_sum[e] += c.usd;
			}
			doc_set(a, rn, "total", doc_num(a, cents(rsum)));
			doc_set_bool(a, rn, "usage_priced", r->kindp && r->kindp->cost_usage);
			tsum += rsum;
		}
		if (team_has_services(p, team)) {
			DNode *cn = doc_set_map(a, tn, "compute");
			DNode *cenvs = doc_set_map(a, cn, "environments");
			double csum = 0;
			for (int e = 0; e < p->nenvs; e++) {
				long long pods = 0;
				Cell c = compute_cell(p, team, &p->envs[e], &np, &pods);
				if (!c.runs)
					continue;
				DNode *ce = doc_set_map(a, cenvs, p->envs[e].name);
				doc_set_int(a, ce, "pods", pods);
				doc_set(a, ce, "usd", doc_num(a, c.usd));
				csum += c.usd;
				if (e < 256)
					env_sum[e] += c.usd;
			}
			doc_set(a, cn, "total", doc_num(a, cents(csum)));
			tsum += csum;
		}
		doc_set(a, tn, "total", doc_num(a, cents(tsum)));
		if (team->has_budget)
			doc_set_bool(a, tn, "over_budget", cents(tsum) > team->budget);
		grand += tsum;
	}
	DNode *envs = doc_set_map(a, root, "environments");
	for (int e = 0; e < p->nenvs; e++)
		doc_set(a, envs, p->envs[e].name, doc_num(a, cents(e < 256 ? env_sum[e] : 0)));
	doc_set(a, root, "total", doc_num(a, cents(grand)));
	DNode *models = doc_set_seq(a, root, "cost_models");
	for (int i = 0; p->catalog && i < p->catalog->n; i++) {
		const Kind *k = p->catalog->kinds[i];
		bool used = false; /* as the text report: the models behind these figures */
		for (int r = 0; r < p->nresources && !used; r++)
			used = p->resources[r]->kindp == k;
		if (!used)
			continue;
		DNode *m = doc_push_map(a, models);
		doc_set_str(a, m, "kind", k->name);
		doc_set_str(a, m, "source", k->cost_source);
		doc_set_str(a, m, "date", k->cost_date);
		if (k->cost_usage)
			doc_set_str(a, m, "usage", k->cost_usage);
	}
	StrBuf b;
	sb_init(&b);
	json_emit(&b, root);
	fwrite(b.data, 1, b.len, out);
	sb_free(&b);
}

int cost_report(const Platform *p, Arena *a, const char *format, DiagFormat df, bool color, void *out,
		bool fail_over_budget)
{
	Diags d;
	diags_init(&d, a);
	region_warning(p, &d);
	budget_warnings(p, &d);
	if (d.n)
		diags_print(&d, df, color, stderr);
	if (format && !strcmp(format, "json"))
		json_report(p, a, out);
	else
		text_report(p, out);
	/* --fail-over-budget: a team over its budget fails the step (CI) */
	return fail_over_budget && over_budget(p) ? EXIT_INPUT_ERRORS : EXIT_OK;
}
