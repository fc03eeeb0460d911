/*
 * dash.c — Grafana dashboards in the classic JSON model
 * (`schemaVersion` 42), the form the Grafana sidecar and file provisioning
 * load. A dashboard is built panel by panel; panels flow left to right on
 * Grafana's 24-column grid and wrap, rows start a new line.
 *
 * Every query uses the `datasource` variable, so one dashboard works with
 * whichever Prometheus data source a Grafana has. No free text from the
 * input reaches a title: Grafana interpolates `$var` in titles and links.
 */
#include "platformc.h"

Dash *dash_new(Arena *a, const char *uid, const char *title, const char *const *tags)
{
	Dash *d = arena_alloc(a, sizeof *d);
	d->a = a;
	d->next_id = 1;
	DNode *r = d->root = doc_map(a);
	doc_set_str(a, r, "uid", uid);
	doc_set_str(a, r, "title", title);
	DNode *t = doc_set_seq(a, r, "tags");
	for (; tags && *tags; tags++)
		doc_push_str(a, t, *tags);
	doc_set_str(a, r, "timezone", "utc");
	doc_set_bool(a, r, "editable", false);
	doc_set_int(a, r, "graphTooltip", 1);
	DNode *time = doc_set_map(a, r, "time");
	doc_set_str(a, time, "from", "now-6h");
	doc_set_str(a, time, "to", "now");
	doc_set_str(a, r, "refresh", "1m");
	doc_set_int(a, r, "schemaVersion", 42);
	doc_set_int(a, r, "version", 1);
	DNode *var = doc_push_map(a, doc_set_seq(a, doc_set_map(a, r, "templating"), "list"));
	doc_set_str(a, var, "type", "datasource");
	doc_set_str(a, var, "name", "datasource");
	doc_set_str(a, var, "label", "Data source");
	doc_set_str(a, var, "query", "prometheus");
	DNode *ann = doc_push_map(a, doc_set_seq(a, doc_set_map(a, r, "annotations"), "list"));
	doc_set_int(a, ann, "builtIn", 1);
	DNode *ds = doc_set_map(a, ann, "datasource");
	doc_set_str(a, ds, "type", "grafana");
	doc_set_str(a, ds, "uid", "-- Grafana --");
	doc_set_bool(a, ann, "enable", true);
	doc_set_bool(a, ann, "hide", true);
	doc_set_str(a, ann, "iconColor", "rgba(0, 211, 255, 1)");
	doc_set_str(a, ann, "name", "Annotations & Alerts");
	doc_set_str(a, ann, "type", "dashboard");
	d->links = doc_set_seq(a, r, "links");
	d->panels = doc_set_seq(a, r, "panels");
	return d;
}

void dash_link(Dash *d, const char *title, const char *url, const char *tooltip)
{
	Arena *a = d->a;
	DNode *l = doc_push_map(a, d->links);
	doc_set_str(a, l, "title", title);
	doc_set_str(a, l, "type", "link");
	doc_set_str(a, l, "url", url);
	doc_set_str(a, l, "icon", "dashboard");
	doc_set(a, l, "tags", doc_seq(a));
	doc_set_bool(a, l, "asDropdown", false);
	doc_set_bool(a, l, "targetBlank", false);
	doc_set_bool(a, l, "includeVars", false);
	doc_set_bool(a, l, "keepTime", true);
	doc_set_str(a, l, "tooltip", tooltip ? tooltip : "");
}

static void newline(Dash *d)
{
	if (d->x) {
		d->y += d->row_h;
		d->x = 0;
		d->row_h = 0;
	}
}

static DNode *grid(Arena *a, int x, int y, int w, int h)
{
	DNode *g = doc_map(a);
	doc_set_int(a, g, "h", h);
	doc_set_int(a, g, "w", w);
	doc_set_int(a, g, "x", x);
	doc_set_int(a, g, "y", y);
	return g;
}

void dash_row(Dash *d, const char *title)
{
	Arena *a = d->a;
	newline(d);
	DNode *p = doc_push_map(a, d->panels);
	doc_set_str(a, p, "type", "row");
	doc_set_int(a, p, "id", d->next_id++);
	doc_set_str(a, p, "title", title);
	doc_set_bool(a, p, "collapsed", false);
	doc_set(a, p, "gridPos", grid(a, 0, d->y, 24, 1));
	doc_set(a, p, "panels", doc_seq(a));
	d->y += 1;
}

DNode *dash_panel(Dash *d, const char *type, const char *title, int w, int h, const char *unit)
{
	Arena *a = d->a;
	if (d->x + w > 24)
		newline(d);
	DNode *p = doc_push_map(a, d->panels);
	doc_set_str(a, p, "type", type);
	doc_set_int(a, p, "id", d->next_id++);
	doc_set_str(a, p, "title", title);
	DNode *ds = doc_set_map(a, p, "datasource");
	doc_set_str(a, ds, "type", "prometheus");
	doc_set_str(a, ds, "uid", "${datasource}");
	doc_set(a, p, "gridPos", grid(a, d->x, d->y, w, h));
	doc_set_seq(a, p, "targets");
	DNode *fc = doc_set_map(a, p, "fieldConfig");
	DNode *def = doc_set_map(a, fc, "defaults");
	if (unit)
		doc_set_str(a, def, "unit", unit);
	doc_set(a, fc, "overrides", doc_seq(a));
	if (type[0] == 't' && type[1] == 'i') { /* timeseries */
		DNode *leg = doc_set_map(a, doc_set_map(a, p, "options"), "legend");
		doc_set_bool(a, leg, "showLegend", true);
		doc_set_str(a, leg, "displayMode", "list");
		doc_set_str(a, leg, "placement", "bottom");
	}
	d->x += w;
	if (h > d->row_h)
		d->row_h = h;
	return p;
}

static DNode *target(Dash *d, DNode *panel, const char *expr)
{
	Arena *a = d->a;
	DNode *ts = doc_get(panel, "targets");
	DNode *t = doc_push_map(a, ts);
	doc_set(a, t, "refId", doc_strf(a, "%c", 'A' + ts->n - 1));
	doc_set_str(a, t, "expr", expr);
	return t;
}

void dash_target(Dash *d, DNode *panel, const char *expr, const char *legend)
{
	DNode *t = target(d, panel, expr);
	if (legend)
		doc_set_str(d->a, t, "legendFormat", legend);
}

void dash_table_target(Dash *d, DNode *panel, const char *expr)
{
	DNode *t = target(d, panel, expr);
	doc_set_str(d->a, t, "format", "table");
	doc_set_bool(d->a, t, "instant", true);
}

/* A custom variable `name` over `values` (current: values[current]): one
 * dashboard for every environment, picked with `?var-<name>=<value>`. */
void dash_custom_variable(Dash *d, const char *name, const char *label, const char *const *values, int n, int current)
{
	Arena *a = d->a;
	DNode *list = doc_get(doc_get(d->root, "templating"), "list");
	DNode *v = doc_push_map(a, list);
	doc_set_str(a, v, "type", "custom");
	doc_set_str(a, v, "name", name);
	doc_set_str(a, v, "label", label);
	StrBuf b;
	sb_init(&b);
	for (int i = 0; i < n; i++)
		sb_printf(&b, "%s%s", i ? "," : "", values[i]);
	doc_set_str(a, v, "query", b.data ? b.data : "");
	sb_free(&b);
	DNode *cur = doc_set_map(a, v, "current");
	doc_set_str(a, cur, "text", values[current]);
	doc_set_str(a, cur, "value", values[current]);
	DNode *opts = doc_set_seq(a, v, "options");
	for (int i = 0; i < n; i++) {
		DNode *o = doc_push_map(a, opts);
		doc_set_str(a, o, "text", values[i]);
		doc_set_str(a, o, "value", values[i]);
		doc_set_bool(a, o, "selected", i == current);
	}
}

/* red below `warn`, yellow from `warn`, green from `ok` */
void dash_thresholds(Dash *d, DNode *panel, double warn, double ok)
{
	Arena *a = d->a;
	DNode *def = doc_get(doc_get(panel, "fieldConfig"), "defaults");
	DNode *th = doc_set_map(a, def, "thresholds");
	doc_set_str(a, th, "mode", "absolute");
	DNode *steps = doc_set_seq(a, th, "steps");
	DNode *s = doc_push_map(a, steps);
	doc_set_str(a, s, "color", "red");
	doc_set(a, s, "value", doc_null(a));
	s = doc_push_map(a, steps);
	doc_set_str(a, s, "color", "yellow");
	doc_set(a, s, "value", doc_num(a, warn));
	s = doc_push_map(a, steps);
	doc_set_str(a, s, "color", "green");
	doc_set(a, s, "value", doc_num(a, ok));
}
