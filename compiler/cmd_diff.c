/*
 * cmd_diff.c — `platformc diff`: what a render would change in the tree on
 * disk, as objects rather than files. Every YAML/JSON document of the old
 * files (those the manifest lists, plus any path the render writes) and of
 * the new ones is keyed by apiVersion/kind/namespace/name and the file that
 * carries it, so a patch is never confused with its base (documents without
 * a name by file and position); the keys are compared and each change is
 * grouped by team (the `platform.<domain>/team` label, else "platform") and
 * family (the top folder). Other files, and the test suites under
 * `tests/`, count as one object each. Writes
 * nothing; text for a terminal, markdown for $GITHUB_STEP_SUMMARY or a PR.
 */
#include "platformc.h"

#include <libfyaml.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct DObj {
	char *key;      /* identity, e.g. "apps/v1 Deployment backend-dev/orders-api" */
	char *label;    /* shown: "Deployment backend-dev/orders-api" */
	char *path, *team, *family;
	char *text;     /* canonical text for comparison */
	int cost;       /* COST_PRICED (usd), COST_USAGE, or COST_NOT_RUNNING: no estimate */
	double usd;     /* the `platform.<domain>/monthly-cost-usd` annotation */
	char *env;      /* the `platform.<domain>/environment` label, or NULL */
	bool prod_tier; /* `platform.<domain>/tier: prod` */
	bool claim;     /* a Crossplane claim of the platform's API (kind label) */
	bool ns;        /* a Namespace */
	char *delpol;   /* claim: spec.parameters.deletionPolicy, deletionProtection */
	char *delprot;
} DObj;

typedef struct DList {
	DObj *v;
	int n, cap;
} DList;

typedef struct Change {
	char op;        /* '+', '~', '-' */
	const DObj *o;  /* new side for + and ~, old side for - */
	char *fields;   /* ~: the differing field paths, or NULL */
	const DObj *old; /* ~: the old side */
} Change;

static const char *scalar_at(struct fy_node *root, const char *path)
{
	struct fy_node *n = fy_node_by_path(root, path, FY_NT, FYNWF_DONT_FOLLOW);
	return n && fy_node_is_scalar(n) ? fy_node_get_scalar0(n) : NULL;
}

/* The value of the label `platform.<domain><suffix>` (suffix "/team"), or NULL. */
static const char *platform_label(struct fy_node *root, const char *suffix)
{
	size_t sl = strlen(suffix);
	struct fy_node *labels = fy_node_by_path(root, "/metadata/labels", FY_NT, FYNWF_DONT_FOLLOW);
	if (!labels || !fy_node_is_mapping(labels))
		return NULL;
	void *it = NULL;
	struct fy_node_pair *pr;
	while ((pr = fy_node_mapping_iterate(labels, &it)) != NULL) {
		const char *k = fy_node_get_scalar0(fy_node_pair_key(pr));
		struct fy_node *v = fy_node_pair_value(pr);
		size_t kl = k ? strlen(k) : 0;
		if (kl > sl && !strcmp(k + kl - sl, suffix) && !strncmp(k, "platform.", 9) && v &&
		    fy_node_is_scalar(v))
			return fy_node_get_scalar0(v);
	}
	return NULL;
}

static const char *team_label(struct fy_node *root)
{
	return platform_label(root, "/team");
}

static char *dup_or_null(const char *s)
{
	return s ? xstrdup(s) : NULL;
}

/* The monthly estimate a claim carries (COST_PRICED with *usd, COST_USAGE),
 * else COST_NOT_RUNNING. */
static int cost_annotation(struct fy_node *root, double *usd)
{
	*usd = 0;
	struct fy_node *ann = fy_node_by_path(root, "/metadata/annotations", FY_NT, FYNWF_DONT_FOLLOW);
	if (!ann || !fy_node_is_mapping(ann))
		return COST_NOT_RUNNING;
	void *it = NULL;
	struct fy_node_pair *pr;
	while ((pr = fy_node_mapping_iterate(ann, &it)) != NULL) {
		const char *k = fy_node_get_scalar0(fy_node_pair_key(pr));
		struct fy_node *v = fy_node_pair_value(pr);
		size_t kl = k ? strlen(k) : 0;
		if (kl <= 17 || strcmp(k + kl - 17, "/monthly-cost-usd") || strncmp(k, "platform.", 9) || !v ||
		    !fy_node_is_scalar(v))
			continue;
		const char *t = fy_node_get_scalar0(v);
		if (!t)
			continue;
		if (!strcmp(t, "usage"))
			return COST_USAGE;
		char *end;
		double x = strtod(t, &end);
		if (end != t && !*end && x >= 0) {
			*usd = x;
			return COST_PRICED;
		}
	}
	return COST_NOT_RUNNING;
}

/* A Backstage entity's spec.owner, `group:default/NAME` -> NAME. */
static const char *entity_owner(struct fy_node *root)
{
	const char *api = scalar_at(root, "/apiVersion");
	const char *o = api && !strncmp(api, "backstage.io/", 13) ? scalar_at(root, "/spec/owner") : NULL;
	if (!o)
		return NULL;
	const char *c = strrchr(o, ':');
	o = c ? c + 1 : o;
	c = strrchr(o, '/');
	return c ? c + 1 : o;
}

static char *family_of(const char *path)
{
	const char *s = strchr(path, '/');
	return s ? xstrndup(path, (size_t)(s - path)) : xstrdup(path);
}

static void push(DList *l, DObj o)
{
	if (l->n == l->cap) {
		l->cap = l->cap ? 2 * l->cap : 64;
		l->v = xrealloc(l->v, (size_t)l->cap * sizeof *l->v);
	}
	l->v[l->n++] = o;
}

static bool is_data(const char *path)
{
	size_t n = strlen(path);
	return (n > 5 && !strcmp(path + n - 5, ".yaml")) || (n > 4 && !strcmp(path + n - 4, ".yml")) ||
	       (n > 5 && !strcmp(path + n - 5, ".json"));
}

/* The owning team of an object without a team label: the namespace
 * `<team>-<env>`, else the first path component naming a team, a service or
 * a resource of the platform being rendered; else NULL. */
static const char *team_guess(const Platform *p, const char *ns, const char *path)
{
	const char *best = NULL;
	for (int i = 0; ns && i < p->nteams; i++) {
		size_t n = strlen(p->teams[i]->name);
		if (!strncmp(ns, p->teams[i]->name, n) && ns[n] == '-' && (!best || n > strlen(best)))
			best = p->teams[i]->name;
	}
	if (best)
		return best;
	const char *c = path;
	while (c && *c) {
		const char *e = strchr(c, '/');
		if (!e)
			break; /* the file name itself does not count */
		size_t n = (size_t)(e - c);
		for (int i = 0; i < p->nservices; i++)
			if (strlen(p->services[i]->name) == n && !strncmp(c, p->services[i]->name, n))
				return p->services[i]->team->name;
		for (int i = 0; i < p->nresources; i++)
			if (strlen(p->resources[i]->name) == n && !strncmp(c, p->resources[i]->name, n))
				return p->resources[i]->team->name;
		for (int i = 0; i < p->nteams; i++)
			if (strlen(p->teams[i]->name) == n && !strncmp(c, p->teams[i]->name, n))
				return p->teams[i]->name;
		c = e + 1;
	}
	return NULL;
}

/* Adds the objects of one file. The test suites under `tests/` (the
 * `kyverno test` and `promtool test rules` files) hold copies of objects and
 * mutants of them, not objects of the cluster: each counts as one file, so a
 * change to a Deployment is reported once, where it is applied. */
static void add_file(DList *l, const Platform *p, const char *path, const char *data, size_t len)
{
	if (is_data(path) && strncmp(path, SUITES_DIR, strlen(SUITES_DIR)) != 0) {
		struct fy_parse_cfg cfg = {.flags = FYPCF_QUIET | FYPCF_DEFAULT_VERSION(0)};
		struct fy_parser *fyp = fy_parser_create(&cfg);
		if (!fyp)
			die_oom();
		fy_parser_set_string(fyp, data, len);
		struct fy_document *fyd;
		int idx = 0, added = 0;
		bool bad = false;
		while ((fyd = fy_parse_load_document(fyp)) != NULL) {
			struct fy_node *root = fy_document_root(fyd);
			idx++;
			if (!root) {
				fy_parse_document_destroy(fyp, fyd);
				continue;
			}
			const char *api = fy_node_is_mapping(root) ? scalar_at(root, "/apiVersion") : NULL;
			const char *kind = fy_node_is_mapping(root) ? scalar_at(root, "/kind") : NULL;
			const char *ns = kind ? scalar_at(root, "/metadata/namespace") : NULL;
			const char *name = kind ? scalar_at(root, "/metadata/name") : NULL;
			if (!kind && fy_node_is_mapping(root) && scalar_at(root, "/uid") &&
			    fy_node_by_path(root, "/panels", FY_NT, FYNWF_DONT_FOLLOW)) {
				/* a Grafana dashboard (JSON model): known by its uid */
				api = "grafana";
				kind = "Dashboard";
				name = scalar_at(root, "/uid");
			}
			const char *team = fy_node_is_mapping(root) ? team_label(root) : NULL;
			if (!team && fy_node_is_mapping(root))
				team = entity_owner(root);
			if (!team)
				team = team_guess(p, ns, path);
			char *key, *label;
			char nsname[1024];
			snprintf(nsname, sizeof nsname, "%s%s%s", ns ? ns : "", ns ? "/" : "", name ? name : "");
			StrBuf b;
			sb_init(&b);
			/* the file is part of the identity: a kustomize patch names the
			 * same object as its base, and must never be taken for it */
			if (kind && name)
				sb_printf(&b, "%s %s %s @%s", api ? api : "-", kind, nsname, path);
			else
				sb_printf(&b, "%s #%d %s", path, idx, kind ? kind : "document");
			key = sb_detach(&b);
			sb_init(&b);
			if (kind && name)
				sb_printf(&b, "%s %s", kind, nsname);
			else if (kind)
				sb_printf(&b, "%s", kind);
			else
				sb_printf(&b, "document %d", idx);
			label = sb_detach(&b);
			/* JSON, not flow YAML: libfyaml's flow emitter leaves a scalar such
			 * as `a{b="c"} > d` plain, and changed_fields could not read it back.
			 * (libfyaml 0.8's fy_atom_is_number leaks a buffer per long scalar
			 * here; tests/lsan.supp names it for the sanitizer build.) */
			char *text = fy_emit_document_to_string(fyd, FYECF_MODE_JSON_ONELINE | FYECF_SORT_KEYS);
			double usd = 0;
			int cost = fy_node_is_mapping(root) ? cost_annotation(root, &usd) : COST_NOT_RUNNING;
			DObj ob = {key, label, xstrdup(path), team ? xstrdup(team) : NULL, family_of(path),
				   text ? text : xstrdup(""), cost, usd, NULL, false, false, false, NULL, NULL};
			if (fy_node_is_mapping(root)) {
				const char *tier = platform_label(root, "/tier");
				ob.env = dup_or_null(platform_label(root, "/environment"));
				ob.prod_tier = tier && !strcmp(tier, "prod");
				ob.claim = api && !strncmp(api, "platform.", 9) && platform_label(root, "/kind");
				ob.ns = kind && !strcmp(kind, "Namespace") && api && !strcmp(api, "v1");
				if (ob.claim) {
					ob.delpol = dup_or_null(scalar_at(root, "/spec/parameters/deletionPolicy"));
					ob.delprot = dup_or_null(scalar_at(root, "/spec/parameters/deletionProtection"));
				}
			}
			push(l, ob);
			fy_parse_document_destroy(fyp, fyd);
			added++;
		}
		bad = fy_parser_get_stream_error(fyp);
		fy_parser_destroy(fyp);
		if (added && !bad)
			return;
		/* unparsable or empty: fall through to the whole file */
	}
	char *t = xmalloc(len + 1);
	memcpy(t, data, len);
	t[len] = 0;
	StrBuf b;
	sb_init(&b);
	sb_printf(&b, "file %s", path);
	const char *team = team_guess(p, NULL, path);
	push(l, (DObj){sb_detach(&b), xstrdup("file"), xstrdup(path), team ? xstrdup(team) : NULL,
		       family_of(path), t, COST_NOT_RUNNING, 0, NULL, false, false, false, NULL, NULL});
}

static int obj_cmp(const void *a, const void *b)
{
	const DObj *x = a, *y = b;
	int c = strcmp(x->key, y->key);
	return c ? c : strcmp(x->path, y->path);
}

/* The folder `<family>/<name>/` of a path, or NULL (also when <name> is an
 * environment: argocd/dev/ and clusters/dev/ hold every team's objects). */
static char *unit_dir(const Platform *p, const char *path)
{
	const char *a = strchr(path, '/');
	const char *b = a ? strchr(a + 1, '/') : NULL;
	if (!b)
		return NULL;
	for (int i = 0; i < p->nenvs; i++)
		if (strlen(p->envs[i].name) == (size_t)(b - a - 1) && !strncmp(a + 1, p->envs[i].name, (size_t)(b - a - 1)))
			return NULL;
	return xstrndup(path, (size_t)(b - path));
}

/* Objects whose team is still unknown take the team of a labelled object in
 * the same `<family>/<name>/` folder (a removed service's patches), else
 * "platform". Then sorts by key (which ends in the file). */
static void finish(DList *l, const Platform *p)
{
	StrMap dirs;
	strmap_init(&dirs);
	for (int i = 0; i < l->n; i++) {
		char *d = l->v[i].team ? unit_dir(p, l->v[i].path) : NULL;
		if (d && !strmap_get(&dirs, d))
			strmap_put(&dirs, d, l->v[i].team);
		else
			free(d);
	}
	for (int i = 0; i < l->n; i++) {
		if (l->v[i].team)
			continue;
		char *d = unit_dir(p, l->v[i].path);
		const char *t = d ? strmap_get(&dirs, d) : NULL;
		l->v[i].team = xstrdup(t ? t : "platform");
		free(d);
	}
	for (size_t k = 0; k < dirs.cap; k++)
		free((char *)dirs.keys[k]);
	strmap_free(&dirs);
	if (!l->n)
		return;
	qsort(l->v, (size_t)l->n, sizeof *l->v, obj_cmp);
}

static void free_list(DList *l)
{
	for (int i = 0; i < l->n; i++) {
		free(l->v[i].key);
		free(l->v[i].label);
		free(l->v[i].path);
		free(l->v[i].team);
		free(l->v[i].family);
		free(l->v[i].text);
		free(l->v[i].env);
		free(l->v[i].delpol);
		free(l->v[i].delprot);
	}
	free(l->v);
}

/* The field paths (depth <= 4) where two nodes differ, comma-separated. */
static void field_diff(struct fy_node *a, struct fy_node *b, const char *prefix, int depth, StrBuf *out,
		       int *count)
{
	if (*count >= 8)
		return;
	if (a && b && fy_node_is_mapping(a) && fy_node_is_mapping(b) && depth < 4) {
		void *it = NULL;
		struct fy_node_pair *pr;
		while ((pr = fy_node_mapping_iterate(a, &it)) != NULL) {
			const char *k = fy_node_get_scalar0(fy_node_pair_key(pr));
			if (!k)
				continue;
			char sub[512];
			snprintf(sub, sizeof sub, "%s%s%s", prefix, *prefix ? "." : "", k);
			field_diff(fy_node_pair_value(pr), fy_node_mapping_lookup_by_string(b, k, FY_NT), sub,
				   depth + 1, out, count);
		}
		it = NULL;
		while ((pr = fy_node_mapping_iterate(b, &it)) != NULL) {
			const char *k = fy_node_get_scalar0(fy_node_pair_key(pr));
			if (!k || fy_node_mapping_lookup_by_string(a, k, FY_NT))
				continue;
			char sub[512];
			snprintf(sub, sizeof sub, "%s%s%s", prefix, *prefix ? "." : "", k);
			field_diff(NULL, fy_node_pair_value(pr), sub, depth + 1, out, count);
		}
		return;
	}
	if (a && b && fy_node_compare(a, b))
		return;
	if (++*count > 8) {
		sb_puts(out, ", …");
		return;
	}
	sb_printf(out, "%s%s", out->len ? ", " : "", *prefix ? prefix : "(document)");
}

static char *changed_fields(const DObj *old, const DObj *new)
{
	if (!strncmp(old->key, "file ", 5))
		return NULL;
	struct fy_document *a = fy_document_build_from_string(NULL, old->text, FY_NT);
	struct fy_document *b = fy_document_build_from_string(NULL, new->text, FY_NT);
	char *r = NULL;
	if (a && b) {
		StrBuf out;
		sb_init(&out);
		int count = 0;
		field_diff(fy_document_root(a), fy_document_root(b), "", 0, &out, &count);
		r = out.len ? sb_detach(&out) : (sb_free(&out), NULL);
	}
	if (a)
		fy_document_destroy(a);
	if (b)
		fy_document_destroy(b);
	return r;
}

static int change_cmp(const void *a, const void *b)
{
	const Change *x = a, *y = b;
	bool px = !strcmp(x->o->team, "platform"), py = !strcmp(y->o->team, "platform");
	if (px != py)
		return px ? 1 : -1; /* teams first, platform-owned last */
	int c = strcmp(x->o->team, y->o->team);
	if (!c)
		c = strcmp(x->o->family, y->o->family);
	if (!c)
		c = strcmp(x->o->label, y->o->label);
	if (!c)
		c = strcmp(x->o->path, y->o->path);
	return c;
}

/* "+1,234.50" / "-12.00" */
static void signed_money(char *buf, size_t n, double v)
{
	char m[32];
	cost_money(m, sizeof m, v < 0 ? -v : v);
	snprintf(buf, n, "%s%s", v < 0 ? "-" : "+", m);
}

static double round_cents(double v)
{
	return (double)(long long)(v * 100 + (v < 0 ? -0.5 : 0.5)) / 100;
}

/*
 * The cost delta of the change: every claim carries its monthly estimate
 * (`platform.<domain>/monthly-cost-usd`, from the catalog's cost model), so
 * the old side's figure is read from the committed tree and the new side's
 * from the render. Prints the total before and after and each object whose
 * estimate moves, with its team; nothing when no estimate changes. A
 * tree rendered before claims carried estimates has no "before": said so.
 */
static void diff_cost_delta(const DList *oldl, const DList *newl, bool md, FILE *o)
{
	double before = 0, after = 0;
	int nold_est = 0, nnew_est = 0;
	for (int i = 0; i < oldl->n; i++)
		if (oldl->v[i].cost != COST_NOT_RUNNING)
			nold_est++, before += oldl->v[i].usd;
	for (int i = 0; i < newl->n; i++)
		if (newl->v[i].cost != COST_NOT_RUNNING)
			nnew_est++, after += newl->v[i].usd;
	before = round_cents(before), after = round_cents(after);
	/* objects whose estimate moved, in key order (both lists are sorted by key) */
	typedef struct Move {
		const DObj *o;   /* new side, else old */
		int oc, nc;      /* cost kinds before/after */
		double ou, nu;
	} Move;
	Move *mv = xcalloc((size_t)(oldl->n + newl->n) + 1, sizeof *mv);
	int nmv = 0;
	for (int i = 0, j = 0; i < oldl->n || j < newl->n;) {
		int c = i >= oldl->n ? 1 : j >= newl->n ? -1 : strcmp(oldl->v[i].key, newl->v[j].key);
		const DObj *a = c <= 0 ? &oldl->v[i] : NULL, *b = c >= 0 ? &newl->v[j] : NULL;
		i += c <= 0, j += c >= 0;
		int oc = a ? a->cost : COST_NOT_RUNNING, nc = b ? b->cost : COST_NOT_RUNNING;
		double ou = a ? a->usd : 0, nu = b ? b->usd : 0;
		if (oc != nc || round_cents(nu - ou) != 0)
			mv[nmv++] = (Move){b ? b : a, oc, nc, ou, nu};
	}
	if (!nmv || !nnew_est) {
		free(mv);
		return;
	}
	char bs[40], as[40], ds[40];
	cost_money(bs, sizeof bs, before);
	cost_money(as, sizeof as, after);
	signed_money(ds, sizeof ds, round_cents(after - before));
	if (md) {
		fputs("\n#### Estimated cost (USD a month, list prices)\n\n", o);
		if (!nold_est)
			fprintf(o, "Before: not recorded (the committed tree predates cost annotations). After: **%s**.\n", as);
		else
			fprintf(o, "Total: %s → **%s** (%s)\n", bs, as, ds);
		fputs("\n| team | object | before | after | change |\n|---|---|---:|---:|---:|\n", o);
	} else {
		fputs("\nestimated cost (USD a month, list prices)\n", o);
		if (!nold_est)
			fprintf(o, "  total  before: not recorded (the tree predates cost annotations), after: %s\n", as);
		else
			fprintf(o, "  total  %s -> %s  (%s)\n", bs, as, ds);
	}
	for (int k = 0; k < nmv; k++) {
		const Move *m = &mv[k];
		char x[40], y[40], d[40];
		if (m->oc == COST_PRICED)
			cost_money(x, sizeof x, m->ou);
		else
			snprintf(x, sizeof x, "%s", m->oc == COST_USAGE ? "usage" : "-");
		if (m->nc == COST_PRICED)
			cost_money(y, sizeof y, m->nu);
		else
			snprintf(y, sizeof y, "%s", m->nc == COST_USAGE ? "usage" : "-");
		signed_money(d, sizeof d, round_cents(m->nu - m->ou));
		if (md)
			fprintf(o, "| %s | `%s` | %s | %s | %s |\n", m->o->team, m->o->label, x, y, d);
		else
			fprintf(o, "    %-12s %s: %s -> %s  (%s)\n", m->o->team, m->o->label, x, y, d);
	}
	free(mv);
}

/* Is `env` a prod environment? One the model no longer has counts as prod
 * when its objects said so (tier label), and as unknown otherwise. */
static bool env_is_prod(const Platform *p, const DObj *ob)
{
	if (ob->prod_tier)
		return true;
	for (int i = 0; ob->env && i < p->nenvs; i++)
		if (!strcmp(p->envs[i].name, ob->env))
			return p->envs[i].prod;
	return false;
}

static bool str_differs(const char *a, const char *b)
{
	return (a == NULL) != (b == NULL) || (a && strcmp(a, b));
}

/* Why a change destroys something (heap text), or NULL: a claim or a
 * namespace removed in a prod environment (the cloud resource or everything
 * in the namespace goes with it), a claim whose deletion policy or
 * protection changes. */
static char *destructive(const Platform *p, const Change *c)
{
	const DObj *ob = c->o;
	StrBuf b;
	sb_init(&b);
	if (c->op == '-' && (ob->claim || ob->ns) && env_is_prod(p, ob)) {
		const char *env = ob->env ? ob->env : "?";
		if (ob->ns)
			sb_printf(&b, "namespace removed in %s (prod): everything in it is deleted", env);
		else if (ob->delpol && !strcmp(ob->delpol, "Orphan"))
			sb_printf(&b, "claim removed in %s (prod): deletionPolicy Orphan, the cloud resource stays, "
				      "no longer managed", env);
		else
			sb_printf(&b, "claim removed in %s (prod): Crossplane deletes the cloud resource", env);
	} else if (c->op == '~' && ob->claim && c->old) {
		if (str_differs(c->old->delpol, ob->delpol))
			sb_printf(&b, "deletionPolicy %s -> %s", c->old->delpol ? c->old->delpol : "(none)",
				  ob->delpol ? ob->delpol : "(none)");
		if (str_differs(c->old->delprot, ob->delprot))
			sb_printf(&b, "%sdeletionProtection %s -> %s", b.len ? ", " : "",
				  c->old->delprot ? c->old->delprot : "(none)", ob->delprot ? ob->delprot : "(none)");
	}
	if (!b.len) {
		sb_free(&b);
		return NULL;
	}
	return sb_detach(&b);
}

static void print_destructive(const Platform *p, const Change *ch, int nch, bool md, FILE *o)
{
	int n = 0;
	for (int k = 0; k < nch; k++) {
		char *why = destructive(p, &ch[k]);
		if (!why)
			continue;
		if (n++ == 0)
			fputs(md ? "\n#### ⚠️ Destructive changes\n\n| | team | object | file | why |\n|---|---|---|---|---|\n"
				 : "\ndestructive changes (review before merging)\n",
			      o);
		const DObj *ob = ch[k].o;
		const char *word = ch[k].op == '-' ? "removed" : "changed";
		if (md)
			fprintf(o, "| %s | %s | `%s` | `%s` | %s |\n", word, ob->team, ob->label, ob->path, why);
		else
			fprintf(o, "    %c %s  (%s)  %s\n", ch[k].op, ob->label, ob->path, why);
		free(why);
	}
}

/* The first lines: the counts of added, changed and removed objects. */
static void print_summary(const char *outdir, int nobjects, const Change *ch, int nch, int nlayout, bool md,
			  FILE *o)
{
	int nadd = 0, nchg = 0, nrem = 0;
	for (int k = 0; k < nch; k++) {
		if (ch[k].op == '+')
			nadd++;
		else if (ch[k].op == '-')
			nrem++;
		else
			nchg++;
	}
	if (md) {
		fprintf(o, "### platformc diff: `%s`\n\n", outdir);
		if (!nch && !nlayout)
			fputs("No changes: the committed tree matches the render.\n", o);
		else if (!nch)
			fputs("No object changes.\n", o);
		else
			fprintf(o, "**%d added, %d changed, %d removed** objects\n", nadd, nchg, nrem);
	} else if (!nch && !nlayout) {
		fprintf(o, "%s: no changes (%d objects)\n", outdir, nobjects);
	} else if (!nch) {
		fprintf(o, "%s: no object changes (%d objects)\n", outdir, nobjects);
	} else {
		fprintf(o, "%s: %d added, %d changed, %d removed objects\n", outdir, nadd, nchg, nrem);
	}
}

/* The changes per team, and per family within a team (text) or as a table (markdown). */
static void print_changes(const Change *ch, int nch, bool md, FILE *o)
{
	const char *team = NULL, *family = NULL;
	for (int k = 0; k < nch; k++) {
		const DObj *ob = ch[k].o;
		const char *word = ch[k].op == '+' ? "added" : ch[k].op == '-' ? "removed" : "changed";
		bool newteam = !team || strcmp(team, ob->team);
		if (newteam) {
			team = ob->team;
			family = NULL;
			if (md)
				fprintf(o, "\n#### %s `%s`\n\n| | family | object | file | fields |\n|---|---|---|---|---|\n",
					strcmp(team, "platform") ? "team" : "owned by the", team);
			else
				fprintf(o, "\n%s %s\n", strcmp(team, "platform") ? "team" : "owned by the", team);
		}
		if (md) {
			fprintf(o, "| %s | %s | `%s` | `%s` | %s |\n", word, ob->family, ob->label, ob->path,
				ch[k].fields ? ch[k].fields : "");
		} else {
			if (!family || strcmp(family, ob->family)) {
				family = ob->family;
				fprintf(o, "  %s\n", family);
			}
			fprintf(o, "    %c %s  (%s)", ch[k].op, ob->label, ob->path);
			if (ch[k].fields)
				fprintf(o, "  [%s]", ch[k].fields);
			fputc('\n', o);
		}
	}
}

/* Files whose bytes differ while none of their objects do. */
static void print_layout(char **layout, int nlayout, bool md, FILE *o)
{
	if (nlayout) {
		if (md)
			fprintf(o, "\n%d file%s differ%s in comments or layout only (a render rewrites %s):\n\n",
				nlayout, nlayout == 1 ? "" : "s", nlayout == 1 ? "s" : "", nlayout == 1 ? "it" : "them");
		else
			fprintf(o, "\n%d file%s differ%s in comments or layout only:\n", nlayout,
				nlayout == 1 ? "" : "s", nlayout == 1 ? "s" : "");
		for (int k = 0; k < nlayout; k++)
			fprintf(o, md ? "- `%s`\n" : "    %s\n", layout[k]);
	}
}

void cmd_diff(const FileSet *fs, const Platform *p, const char *outdir, const char *format, FILE *o)
{
	bool md = !strcmp(format, "markdown");
	DList oldl = {0}, newl = {0};
	/* old side: what the manifest says platformc owns, and every path it would write */
	StrMap seen;
	strmap_init(&seen);
	char mpath[4096];
	snprintf(mpath, sizeof mpath, "%s/%s", outdir, MANIFEST_NAME);
	size_t mlen;
	char *man = read_file_all(mpath, &mlen);
	int nold = 0;
	char **layout = xcalloc((size_t)fs->n + 1, sizeof *layout); /* bytes differ */
	int nlayout = 0;
	for (int pass = 0; pass < 2; pass++) {
		char *save = NULL, *line = NULL;
		char *cursor = pass == 0 && man ? man : NULL;
		for (int i = 0;; i++) {
			const char *rel;
			if (pass == 0) {
				if (!man)
					break;
				line = strtok_r(cursor, "\n", &save);
				cursor = NULL;
				if (!line)
					break;
				if (line[0] == '#' || !line[0])
					continue;
				rel = line;
			} else {
				if (i >= fs->n)
					break;
				rel = fs->files[i].path;
			}
			if (strmap_get(&seen, rel) || strstr(rel, ".."))
				continue;
			strmap_put(&seen, xstrdup(rel), (void *)1);
			char full[4096];
			snprintf(full, sizeof full, "%s/%s", outdir, rel);
			size_t len;
			char *data = read_file_all(full, &len);
			if (data) {
				const OutFile *nf = fileset_find(fs, rel);
				if (nf && (len != nf->len || memcmp(data, nf->data, len)))
					layout[nlayout++] = xstrdup(rel);
				add_file(&oldl, p, rel, data, len);
				nold++;
				free(data);
			}
		}
	}
	free(man);
	for (int i = 0; i < fs->n; i++)
		add_file(&newl, p, fs->files[i].path, fs->files[i].data, fs->files[i].len);
	finish(&oldl, p);
	finish(&newl, p);

	Change *ch = xcalloc((size_t)(oldl.n + newl.n) + 1, sizeof *ch);
	int nch = 0;
	int i = 0, j = 0;
	while (i < oldl.n || j < newl.n) {
		int c = i >= oldl.n ? 1 : j >= newl.n ? -1 : strcmp(oldl.v[i].key, newl.v[j].key);
		if (c < 0) {
			ch[nch++] = (Change){'-', &oldl.v[i++], NULL, NULL};
		} else if (c > 0) {
			ch[nch++] = (Change){'+', &newl.v[j++], NULL, NULL};
		} else {
			if (strcmp(oldl.v[i].text, newl.v[j].text)) {
				ch[nch++] = (Change){'~', &newl.v[j], changed_fields(&oldl.v[i], &newl.v[j]), &oldl.v[i]};
			}
			i++, j++;
		}
	}
	qsort(ch, (size_t)nch, sizeof *ch, change_cmp);
	/* files whose bytes differ while none of their objects do: comments or layout */
	int nl = 0;
	for (int k = 0; k < nlayout; k++) {
		bool seen_change = false;
		for (int c = 0; c < nch && !seen_change; c++)
			seen_change = !strcmp(ch[c].o->path, layout[k]);
		if (seen_change)
			free(layout[k]);
		else
			layout[nl++] = layout[k];
	}
	nlayout = nl;
	qsort(layout, (size_t)nlayout, sizeof *layout, str_cmp_ptr);

	print_summary(outdir, newl.n, ch, nch, nlayout, md, o);
	print_destructive(p, ch, nch, md, o);
	print_changes(ch, nch, md, o);
	print_layout(layout, nlayout, md, o);
	for (int k = 0; k < nlayout; k++)
		free(layout[k]);
	free(layout);
	diff_cost_delta(&oldl, &newl, md, o);
	for (int k = 0; k < nch; k++)
		free(ch[k].fields);
	free(ch);
	free_list(&oldl);
	free_list(&newl);
	for (size_t k = 0; k < seen.cap; k++)
		free((char *)seen.keys[k]);
	strmap_free(&seen);
	(void)nold;
}
