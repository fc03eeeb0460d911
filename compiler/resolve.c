/*
 * resolve.c — references, defaults, overrides and cross-object rules.
 *
 * Input: a lowered Platform whose trees passed the schema check. Output: the
 * same Platform with every reference linked and every service's values
 * computed per environment, or diagnostics. Rules enforced here:
 *   - names are unique per kind; services and resources share one name space
 *   - every reference (team, system, environment, resource, service) exists
 *   - derived names such as `<team>-<env>` still fit 63 characters
 *   - images come from `platform.registries`
 *   - `overrides` name environments the object runs in
 *   - a service uses resources of its own team unless shared with it, and
 *     only resources that exist in every environment it runs in
 *   - each team's requests fit its quota in every environment (guide §3.6)
 * Merging (guide §3.8, §3.12): defaults, then the object, then overrides.<env>;
 * mappings merge key by key, any other value replaces.
 */
#include "platformc.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct Entry {
	const char *kind;      /* "team", "service", ... */
	const Node *name_node; /* the `name:` value, for "defined here" */
	void *obj;
} Entry;

typedef struct Table {
	StrMap map;
	const char **names;
	int n;
} Table;

typedef struct Resolver {
	Arena *a;
	Platform *p;
	Diags *d;
	Table envs, teams, systems, objects; /* objects: services and resources */
	int errors;
	long long suggest_budget;  /* names left to compare for did-you-mean */
	struct {                   /* stdlib/schema.yaml's defaults, read once */
		const char *cpu, *memory, *ingress_path, *lifecycle, *language, *api, *liveness, *readiness;
	} def;
} Resolver;

static void table_init(Resolver *r, Table *t, int cap)
{
	strmap_init(&t->map);
	t->names = arena_alloc(r->a, sizeof(char *) * (size_t)(cap + 1));
	t->n = 0;
}

static const Node *name_node(const Node *obj)
{
	const Node *n = node_get(obj, "name");
	return n ? n : obj;
}

/* Adds an object; a second definition of the same name is an error that
 * points at both places. */
static void table_add(Resolver *r, Table *t, const char *kind, const Node *obj, void *val)
{
	const Node *nn = name_node(obj);
	Entry *e = arena_alloc(r->a, sizeof *e);
	e->kind = kind;
	e->name_node = nn;
	e->obj = val;
	Entry *prev = strmap_get(&t->map, nn->text);
	if (prev) {
		bool same = strcmp(prev->kind, kind) == 0;
		Diag *g = diag_count_error(&r->errors, r->d, same ? "E0206" : "E0207", nn->span,
					   "%s `%s` is defined twice%s", kind, nn->text,
					   same ? "" : " (services and resources share one name space)");
		diag_label(g, "defined again here");
		diag_note(g, prev->name_node->span, "%s `%s` first defined here", prev->kind, nn->text);
		return;
	}
	strmap_put(&t->map, nn->text, e);
	t->names[t->n++] = nn->text;
}

static void *lookup(Resolver *r, Table *t, const char *kind, const char *code, const Node *ref)
{
	Entry *e = strmap_get(&t->map, ref->text);
	if (e && strcmp(e->kind, kind) == 0)
		return e->obj;
	Diag *g;
	if (e) {
		g = diag_count_error(&r->errors, r->d, code, ref->span, "`%s` is a %s, not a %s", ref->text, e->kind,
				     kind);
		diag_label(g, "expected a %s", kind);
		diag_note(g, e->name_node->span, "%s `%s` is defined here", e->kind, ref->text);
		return NULL;
	}
	g = diag_count_error(&r->errors, r->d, code, ref->span, "unknown %s `%s`", kind, ref->text);
	diag_label(g, "no %s has this name", kind);
	/* the search is linear in the number of names: a run spends a bounded
	 * number of comparisons on it (thousands of unknown references among
	 * thousands of names would otherwise cost seconds) */
	if (r->d->n > MAX_DIAGS || r->suggest_budget < t->n)
		return NULL;
	r->suggest_budget -= t->n;
	const char *sug = did_you_mean(ref->text, t->names, t->n);
	Entry *se = sug ? strmap_get(&t->map, sug) : NULL;
	if (se && strcmp(se->kind, kind) == 0) {
		const Span *sp = &se->name_node->span;
		diag_help(g, "did you mean `%s`? (defined at %s:%d:%d)", sug, sp->file->path, sp->line, sp->col);
		return NULL;
	}
	/* no close name: list the ones there are (of this kind, up to 8) */
	StrBuf b;
	sb_init(&b);
	int listed = 0, i = 0;
	for (; i < t->n && listed < 8; i++) {
		Entry *x = strmap_get(&t->map, t->names[i]);
		if (strcmp(x->kind, kind) == 0)
			sb_printf(&b, "%s`%s`", listed ? ", " : "", t->names[i]), listed++;
	}
	if (listed)
		diag_help(g, "%ss: %s%s", kind, b.data, i < t->n ? ", ..." : "");
	sb_free(&b);
	return NULL;
}

/* ---- merging ---- */


/* ---- helpers ---- */

static void format_cpu(long double milli, char *buf, size_t n)
{
	scalar_format_number((double)(milli / 1000.0L), buf, n);
}

static void format_memory(long double milli_bytes, char *buf, size_t n)
{
	long double bytes = milli_bytes / 1000.0L;
	char num[24];
	if (bytes >= 1024.0L * 1024 * 1024) {
		scalar_format_number((double)((long long)(bytes / (1024.0L * 1024 * 1024) * 100 + 0.5L)) / 100, num,
				     sizeof num);
		snprintf(buf, n, "%sGi", num);
	} else {
		scalar_format_number((double)((long long)(bytes / (1024.0L * 1024) + 0.5L)), num, sizeof num);
		snprintf(buf, n, "%sMi", num);
	}
}

/* Environments an object runs in: its `environments`, or all. */
static Env **envs_of(Resolver *r, const Node *obj, int *n)
{
	Platform *p = r->p;
	const Node *list = node_get(obj, "environments");
	Env **out = arena_alloc(r->a, sizeof(Env *) * (size_t)(p->nenvs + 1));
	*n = 0;
	if (!list) {
		for (int i = 0; i < p->nenvs; i++)
			out[(*n)++] = &p->envs[i];
		return out;
	}
	bool in[256] = {0};
	for (int i = 0; i < list->n; i++) {
		Env *e = lookup(r, &r->envs, "environment", "E0202", list->items[i]);
		if (e && e->index < 256)
			in[e->index] = true;
	}
	/* promotion order, whatever order they were listed in */
	for (int i = 0; i < p->nenvs; i++)
		if (i >= 256 || in[i])
			out[(*n)++] = &p->envs[i];
	return out;
}

static bool env_in(Env *const *envs, int n, const Env *e)
{
	for (int i = 0; i < n; i++)
		if (envs[i] == e)
			return true;
	return false;
}

/* `overrides` keys must be environments the object runs in. */
static void check_override_envs(Resolver *r, const Node *ov, Env **envs, int nenvs, const char *what,
				const char *name)
{
	for (int i = 0; ov && ov->kind == N_MAP && i < ov->n; i++) {
		const Node *k = ov->pairs[i].key;
		Env *e = lookup(r, &r->envs, "environment", "E0202", k);
		if (e && !env_in(envs, nenvs, e)) {
			Diag *g = diag_count_error(&r->errors, r->d, "E0211", k->span,
						   "%s `%s` has overrides for `%s` but does not run there", what, name,
						   k->text);
			diag_label(g, "not one of its environments");
			diag_help(g, "add `%s` to its `environments`, or remove these overrides", k->text);
		}
	}
}

/* `<a>-<env>` must fit a name; the error points at the name of `obj`. */
static void check_derived(Resolver *r, const char *a, const Env *e, const Node *obj, const char *what)
{
	size_t len = strlen(a) + 1 + strlen(e->name);
	if (len > MAX_NAME_LEN) {
		Diag *g = diag_count_error(&r->errors, r->d, "E0208", name_node(obj)->span,
					   "%s `%s-%s` would be %zu characters; the limit is %d", what, a, e->name, len,
					   MAX_NAME_LEN);
		diag_label(g, "name too long for environment `%s`", e->name);
		diag_help(g, "use a shorter name");
	}
}

/* ---- services ---- */

static int cmp_envvar(const void *x, const void *y)
{
	return strcmp(((const EnvVar *)x)->key, ((const EnvVar *)y)->key);
}

static void service_env(Resolver *r, Service *s, ServiceEnv *se, Env *e)
{
	/* s->eff's overrides are defaults.service.overrides merged with the
	 * service's own (mappings merge, the service wins) */
	const Node *ov = node_get(node_get(s->eff, "overrides"), e->name);
	const Node *n = node_merge(r->a, s->eff, ov);
	se->env = e;
	se->node = n;

	const Node *rep = node_get(n, "replicas");
	/* replicas written on the service (not in overrides.<env>) are the same
	 * node in every environment: report their errors once */
	bool shared = rep == node_get(s->eff, "replicas");
	bool report = !shared || s->nenvs == 1;
	const char *in_env = shared ? "" : e->name; /* used as " in `%s`" below */
	long long def_min = e->prod ? 2 : 1;
	se->replicas = def_min;
	se->max_replicas = def_min;
	if (rep && rep->kind == N_SCALAR) {
		scalar_int(rep->text, &se->replicas);
		se->max_replicas = se->replicas;
	} else if (rep && rep->kind == N_MAP) {
		long long v;
		se->autoscale = true;
		se->cpu_target = 70;
		const char *min = node_text(rep, "min"), *cpu = node_text(rep, "cpu"), *max = node_text(rep, "max");
		if (min && scalar_int(min, &v))
			se->replicas = v;
		if (cpu && scalar_int(cpu, &v))
			se->cpu_target = v;
		if (!max) {
			if (report) {
				Diag *g = diag_count_error(&r->errors, r->d, "E0216", rep->span,
							   "replicas of `%s`%s%s%s are a range without `max`", s->name,
							   *in_env ? " in `" : "", in_env, *in_env ? "`" : "");
				diag_label(g, "needs `max`");
				diag_help(g, "write `replicas: {min: %lld, max: N}`, or a single number for a fixed count",
					  se->replicas);
			}
		} else if (scalar_int(max, &v)) {
			se->max_replicas = v;
			if (v < se->replicas && report) {
				Diag *g = diag_count_error(&r->errors, r->d, "E0216", node_get(rep, "max")->span,
							   "replicas of `%s`%s%s%s: max %lld is below min %lld",
							   s->name, *in_env ? " in `" : "", in_env, *in_env ? "`" : "",
							   v, se->replicas);
				diag_label(g, "smaller than min");
			}
		}
	}
	if (rep && rep->kind == N_MAP && se->replicas < 1 && report) {
		Diag *g = diag_count_error(&r->errors, r->d, "E0216",
					   (node_get(rep, "min") ? node_get(rep, "min") : rep)->span,
					   "replicas of `%s`%s%s%s: a range must start at 1 or more", s->name,
					   *in_env ? " in `" : "", in_env, *in_env ? "`" : "");
		diag_label(g, "an autoscaler cannot scale to zero");
		diag_help(g, "write `replicas: 0` for a fixed count of zero, or `min: 1`");
	}
	/* A platform-wide default (defaults.service) does not lower a prod tier
	 * below its floor of 2: only the service itself or its override can. */
	if (rep && e->prod && !node_get(s->node, "replicas") && !node_get(ov, "replicas") && se->replicas < 2) {
		se->replicas = 2;
		if (se->max_replicas < 2)
			se->max_replicas = 2;
	}
	const Node *res = node_get(n, "resources");
	se->cpu = node_text_or(res, "cpu", r->def.cpu);
	se->memory = node_text_or(res, "memory", r->def.memory);
	scalar_quantity(se->cpu, &se->cpu_m);
	scalar_quantity(se->memory, &se->memory_m);

	const Node *env = node_get(n, "env");
	if (env && env->kind == N_MAP) {
		se->vars = arena_alloc(r->a, sizeof(EnvVar) * (size_t)(env->n + 1));
		for (int i = 0; i < env->n; i++) {
			se->vars[se->nvars].key = env->pairs[i].key->text;
			se->vars[se->nvars].value = env->pairs[i].val->text;
			se->nvars++;
		}
		qsort(se->vars, (size_t)se->nvars, sizeof *se->vars, cmp_envvar);
	}
	const Node *ing = node_get(n, "ingress");
	if (ing) {
		se->ingress_host = node_text(ing, "host");
		se->ingress_path = node_text_or(ing, "path", r->def.ingress_path);
	}
}

static void resolve_service(Resolver *r, Service *s)
{
	Platform *p = r->p;
	const Node *n = s->node;
	s->eff = node_merge(r->a, p->defaults_service, n);
	rollout_resolve(s);
	const Node *eff = s->eff;
	s->team = lookup(r, &r->teams, "team", "E0201", node_get(n, "team"));
	if (node_get(eff, "system"))
		s->system = lookup(r, &r->systems, "system", "E0203", node_get(eff, "system"));
	s->description = node_text(eff, "description");
	s->repo = node_text(eff, "repo");
	s->lifecycle = node_text_or(eff, "lifecycle", r->def.lifecycle);
	s->language = node_text_or(eff, "language", r->def.language);
	s->api = node_text_or(eff, "api", r->def.api);
	s->image = node_text(n, "image");
	s->port = 8080;
	const char *port = node_text(eff, "port");
	if (port)
		scalar_int(port, &s->port);
	const Node *health = node_get(eff, "health");
	s->liveness = node_text_or(health, "liveness", r->def.liveness);
	s->readiness = node_text_or(health, "readiness", r->def.readiness);

	const Node *slo = node_get(eff, "slo");
	if (node_text(slo, "availability")) {
		s->has_availability = true;
		scalar_number(node_text(slo, "availability"), &s->availability);
	}
	const Node *lat = node_get(slo, "latency");
	if (lat) {
		s->has_latency = true;
		scalar_duration(node_text(lat, "threshold"), &s->latency_ms);
		scalar_number(node_text(lat, "percent"), &s->latency_percent);
	}

	if ((s->has_availability || s->has_latency) && !strcmp(s->api, "none") && !node_get(eff, "metrics")) {
		/* no API style to take metric names from: monitoring_metrics falls back to HTTP's */
		Span at = node_get(n, "slo") ? span_of_key(n, "slo") : node_get(n, "api") ? node_get(n, "api")->span : n->span;
		Diag *g = diag_warn(r->d, "W0223", at,
				    "service `%s` has an SLO but `api: none`: its SLO rules read HTTP request metrics",
				    s->name);
		diag_label(g, node_get(n, "slo") ? "SLO set here" : "no API to measure");
		diag_help(g, "set the service's `metrics` (requests, errors, latency) to what it exports, or drop the "
			     "`slo` of a service nobody calls");
	}

	/* the image must come from an allowed registry (prefix + '/') */
	int nreg;
	const char **reg = team_registries(r->a, p, s->team, &nreg);
	bool ok = false;
	for (int i = 0; i < nreg && !ok; i++) {
		size_t l = strlen(reg[i]);
		ok = strncmp(s->image, reg[i], l) == 0 && s->image[l] == '/';
	}
	if (!ok) {
		Diag *g = diag_count_error(&r->errors, r->d, "E0209", node_get(n, "image")->span,
					   "image `%s` is not from an allowed registry", s->image);
		diag_label(g, "%s: policy restrict-image-registries would deny the pod",
			   reg == p->registries ? "not under `platform.registries`" : "not under the team's `registries`");
		StrBuf b;
		sb_init(&b);
		for (int i = 0; i < nreg; i++)
			sb_printf(&b, "%s`%s`", i ? ", " : "", reg[i]);
		diag_help(g, "allowed registries: %s", b.data);
		sb_free(&b);
	}

	int nenvs;
	Env **envs = envs_of(r, eff, &nenvs);
	check_override_envs(r, node_get(n, "overrides"), envs, nenvs, "service", s->name);
	s->envs = arena_alloc(r->a, sizeof(ServiceEnv) * (size_t)(nenvs + 1));
	for (int i = 0; i < nenvs; i++) {
		service_env(r, s, &s->envs[s->nenvs++], envs[i]);
		check_derived(r, s->name, envs[i], n, "application name");
	}
}

/* uses and calls need every object resolved first */
static void resolve_links(Resolver *r, Service *s)
{
	const Node *uses = node_get(s->eff, "uses"), *calls = node_get(s->eff, "calls");
	s->uses = arena_alloc(r->a, sizeof(Resource *) * (size_t)((uses ? uses->n : 0) + 1));
	s->uses_access = arena_alloc(r->a, sizeof(Node *) * (size_t)((uses ? uses->n : 0) + 1));
	s->calls = arena_alloc(r->a, sizeof(Service *) * (size_t)((calls ? calls->n : 0) + 1));
	for (int i = 0; uses && i < uses->n; i++) {
		/* a resource's name, or {resource, access: [mode, ...]} (identity.c checks the modes) */
		const Node *ref = uses->items[i];
		const Node *acc = ref->kind == N_MAP ? node_get(ref, "access") : NULL;
		if (ref->kind == N_MAP)
			ref = node_get(ref, "resource");
		Resource *res = ref ? lookup(r, &r->objects, "resource", "E0204", ref) : NULL;
		if (!res)
			continue;
		s->uses_access[s->nuses] = acc;
		s->uses[s->nuses++] = res;
		if (s->team && res->team && res->team != s->team) {
			bool shared = false;
			for (int k = 0; k < res->nshared; k++)
				shared |= res->shared_with[k] == s->team;
			if (!shared) {
				Diag *g = diag_count_error(&r->errors, r->d, "E0213", ref->span,
							   "service `%s` (team `%s`) uses `%s`, a resource of team `%s`",
							   s->name, s->team->name, res->name, res->team->name);
				diag_label(g, "not shared with `%s`", s->team->name);
				diag_help(g, "add `shared_with: [%s]` to resource `%s`", s->team->name, res->name);
				diag_note(g, name_node(res->node)->span, "resource `%s` is defined here", res->name);
			}
		}
		for (int k = 0; k < s->nenvs; k++) {
			if (resource_runs_in(res, s->envs[k].env))
				continue;
			Diag *g = diag_count_error(&r->errors, r->d, "E0214", ref->span,
						   "service `%s` runs in `%s`, but resource `%s` does not", s->name,
						   s->envs[k].env->name, res->name);
			diag_label(g, "missing in `%s`", s->envs[k].env->name);
			diag_help(g, "add `%s` to the resource's `environments`, or limit the service's",
				  s->envs[k].env->name);
			break;
		}
	}
	for (int i = 0; calls && i < calls->n; i++) {
		Service *c = lookup(r, &r->objects, "service", "E0205", calls->items[i]);
		if (c)
			s->calls[s->ncalls++] = c;
	}
}

/* ---- services on several threads ----
 *
 * Services resolve independently: resolve_service and resolve_links read the
 * name tables, the resources (resolved before) and the service itself, and
 * write only the service. So each service is one job of par_run, with
 * scratch diagnostics. When any job reports anything, its results are thrown
 * away (every service restored as it was) and the two plain loops run
 * instead, so diagnostics and the did-you-mean budget are exactly those of
 * one loop; a platform without mistakes never takes that path. */

typedef struct ServiceJobs {
	const Resolver *r;
	atomic_bool reported; /* a job added a diagnostic: the rest may stop */
} ServiceJobs;

static void resolve_service_job(void *ctx, int i, Arena *a)
{
	ServiceJobs *js = ctx;
	if (atomic_load(&js->reported))
		return;
	Diags d;
	diags_init(&d, a);
	Resolver jr = *js->r;
	jr.a = a, jr.d = &d, jr.errors = 0;
	jr.suggest_budget = 0; /* its messages are thrown away */
	Service *s = jr.p->services[i];
	resolve_service(&jr, s);
	resolve_links(&jr, s);
	if (d.n)
		atomic_store(&js->reported, true);
}

static void resolve_services(Resolver *r)
{
	Platform *p = r->p;
	int n = p->nservices;
	if (par_threads(n) > 1) {
		Service *saved = xmalloc(sizeof *saved * (size_t)n);
		for (int i = 0; i < n; i++)
			saved[i] = *p->services[i];
		ServiceJobs js = {.r = r};
		atomic_init(&js.reported, false);
		par_run(r->a, n, resolve_service_job, &js);
		bool clean = !atomic_load(&js.reported);
		for (int i = 0; !clean && i < n; i++)
			*p->services[i] = saved[i];
		free(saved);
		if (clean)
			return;
	}
	for (int i = 0; i < n; i++)
		resolve_service(r, p->services[i]);
	for (int i = 0; i < n; i++)
		resolve_links(r, p->services[i]);
}

/* ---- resources ---- */

static bool kind_exists(Resolver *r, const char *kind)
{
	return catalog_kind(r->p, kind) != NULL;
}

static void unknown_kind(Resolver *r, const Node *ref)
{
	const char *kinds[64];
	int nk = 0;
	for (int i = 0; i < r->p->catalog->n && nk < 64; i++)
		kinds[nk++] = r->p->catalog->kinds[i]->name;
	Diag *g = diag_count_error(&r->errors, r->d, "E0215", ref->span, "unknown resource kind `%s`", ref->text);
	diag_label(g, "not in the resource catalog");
	const char *sug = did_you_mean(ref->text, kinds, nk);
	StrBuf b;
	sb_init(&b);
	for (int i = 0; i < nk; i++)
		sb_printf(&b, "%s`%s`", i ? ", " : "", kinds[i]);
	if (sug)
		diag_help(g, "did you mean `%s`? (kinds: %s)", sug, b.data);
	else
		diag_help(g, "kinds: %s", b.data);
	sb_free(&b);
}

static void resolve_resource(Resolver *r, Resource *res)
{
	const Node *n = res->node;
	res->team = lookup(r, &r->teams, "team", "E0201", node_get(n, "team"));
	if (!kind_exists(r, res->kind))
		unknown_kind(r, node_get(n, "kind"));
	res->envs = envs_of(r, n, &res->nenvs);
	check_override_envs(r, res->overrides, res->envs, res->nenvs, "resource", res->name);
	const Node *sw = node_get(n, "shared_with");
	res->shared_with = arena_alloc(r->a, sizeof(Team *) * (size_t)((sw ? sw->n : 0) + 1));
	res->shared_access = arena_alloc(r->a, sizeof(Node *) * (size_t)((sw ? sw->n : 0) + 1));
	for (int i = 0; sw && i < sw->n; i++) {
		/* a team's name, or {team, access: [mode, ...]} (identity.c checks the modes) */
		const Node *item = sw->items[i];
		bool full = item->kind == N_MAP;
		Team *t = lookup(r, &r->teams, "team", "E0201", full ? node_get(item, "team") : item);
		if (t) {
			res->shared_access[res->nshared] = full ? node_get(item, "access") : NULL;
			res->shared_with[res->nshared++] = t;
		}
	}
	res->params = node_merge(r->a, node_get(r->p->defaults_resources, res->kind), node_get(n, "params"));
	for (int i = 0; i < res->nenvs; i++)
		check_derived(r, res->name, res->envs[i], n, "claim name");
}

/* ---- quotas (guide §3.6) ---- */

/* One service's requests in one environment, for the notes of E0212. */
typedef struct QuotaUse {
	const Service *s;
	const ServiceEnv *se;
	long double amount;
} QuotaUse;

static int cmp_quota_use(const void *x, const void *y)
{
	const QuotaUse *a = x, *b = y;
	if (a->amount != b->amount)
		return a->amount > b->amount ? -1 : 1;
	return strcmp(a->s->name, b->s->name);
}

#define QUOTA_NOTES 5

/* One error per resource (cpu, memory) over quota, naming the services
 * that request the most first. */
static void report_quota(Resolver *r, const Team *team, const Env *env, bool cpu, long double total, QuotaUse *uses,
			 int nuses)
{
	char want[64];
	if (cpu)
		format_cpu(total, want, sizeof want);
	else
		format_memory(total, want, sizeof want);
	const char *res = cpu ? "cpu" : "memory";
	const Node *q = node_get(node_get(team->node, "quota"), res);
	Diag *g = diag_count_error(&r->errors, r->d, "E0212", q->span,
				   "team `%s` requests %s %s in `%s`, over its quota of %s", team->name, want, res,
				   env->name, cpu ? team->quota_cpu : team->quota_memory);
	diag_label(g, "%s quota exceeded in `%s`", res, env->name);
	for (int i = 0; i < nuses; i++)
		uses[i].amount = (cpu ? uses[i].se->cpu_m : uses[i].se->memory_m) * (long double)uses[i].se->replicas;
	qsort(uses, (size_t)nuses, sizeof *uses, cmp_quota_use);
	int shown = nuses <= QUOTA_NOTES + 1 ? nuses : QUOTA_NOTES;
	for (int i = 0; i < shown; i++)
		diag_note(g, name_node(uses[i].s->node)->span, "`%s`: %lld × %s %s", uses[i].s->name,
			  uses[i].se->replicas, cpu ? uses[i].se->cpu : uses[i].se->memory, res);
	if (shown < nuses)
		diag_note(g, (Span){0}, "and %d more service%s", nuses - shown, nuses - shown == 1 ? "" : "s");
	diag_help(g, "raise the quota, or lower the services' replicas or requests in `%s`", env->name);
}

/* guide §3.6: one pass over the services sums the requests per (team, env);
 * only the pairs over quota are then listed. */
static void check_quotas(Resolver *r)
{
	Platform *p = r->p;
	size_t ne = (size_t)p->nenvs, cells = (size_t)p->nteams * ne;
	if (!cells)
		return;
	long double *cpu = xmalloc(sizeof *cpu * cells), *mem = xmalloc(sizeof *mem * cells);
	int *count = xmalloc(sizeof *count * cells);
	for (size_t i = 0; i < cells; i++)
		cpu[i] = mem[i] = 0, count[i] = 0;
	for (int i = 0; i < p->nservices; i++) {
		Service *s = p->services[i];
		for (int k = 0; s->team && k < s->nenvs; k++) {
			size_t c = (size_t)s->team->index * ne + (size_t)s->envs[k].env->index;
			cpu[c] += s->envs[k].cpu_m * (long double)s->envs[k].replicas;
			mem[c] += s->envs[k].memory_m * (long double)s->envs[k].replicas;
			count[c]++;
		}
	}
	/* the services of the cells over quota, gathered in a second pass */
	QuotaUse **uses = xmalloc(sizeof *uses * cells);
	int *nuses = xmalloc(sizeof *nuses * cells);
	bool any = false;
	for (size_t c = 0; c < cells; c++) {
		const Team *team = p->teams[c / ne];
		bool over = cpu[c] > team->quota_cpu_m || mem[c] > team->quota_memory_m;
		uses[c] = over ? xmalloc(sizeof **uses * (size_t)count[c] + 1) : NULL;
		nuses[c] = 0;
		any |= over;
	}
	for (int i = 0; any && i < p->nservices; i++) {
		Service *s = p->services[i];
		for (int k = 0; s->team && k < s->nenvs; k++) {
			size_t c = (size_t)s->team->index * ne + (size_t)s->envs[k].env->index;
			if (uses[c])
				uses[c][nuses[c]++] = (QuotaUse){s, &s->envs[k], 0};
		}
	}
	for (size_t c = 0; c < cells; c++) {
		if (!uses[c])
			continue;
		const Team *team = p->teams[c / ne];
		const Env *env = &p->envs[c % ne];
		if (cpu[c] > team->quota_cpu_m)
			report_quota(r, team, env, true, cpu[c], uses[c], nuses[c]);
		if (mem[c] > team->quota_memory_m)
			report_quota(r, team, env, false, mem[c], uses[c], nuses[c]);
		free(uses[c]);
	}
	free(uses), free(nuses), free(cpu), free(mem), free(count);
}

/* ---- policies ---- */

static void today(int *y, int *m, int *d)
{
	/* SOURCE_DATE_EPOCH pins "today" for reproducible checks and tests */
	const char *sde = getenv("SOURCE_DATE_EPOCH");
	time_t now = sde && *sde ? (time_t)strtoll(sde, NULL, 10) : time(NULL);
	struct tm tm;
	gmtime_r(&now, &tm);
	*y = tm.tm_year + 1900, *m = tm.tm_mon + 1, *d = tm.tm_mday;
}

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil). */
static long days_civil(int y, int m, int d)
{
	y -= m <= 2;
	long era = (y >= 0 ? y : y - 399) / 400;
	long yoe = y - era * 400;
	long doy = (153L * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	long doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

/* An exception that expires within this many days is a warning (W0250). */
#define EXPIRY_NOTICE_DAYS 30
#define STR_(x) #x
#define STR(x) STR_(x)

static void resolve_exceptions(Resolver *r)
{
	Platform *p = r->p;
	int ty, tm, td;
	today(&ty, &tm, &td);
	for (int i = 0; i < p->nexceptions; i++) {
		PolicyException *e = &p->exceptions[i];
		const Node *svcs = node_get(e->node, "services");
		e->services = arena_alloc(r->a, sizeof(Service *) * (size_t)(svcs->n + 1));
		for (int k = 0; k < svcs->n; k++) {
			Service *s = lookup(r, &r->objects, "service", "E0205", svcs->items[k]);
			if (s)
				e->services[e->nservices++] = s;
		}
		int y, m, d;
		if (!e->expires || !scalar_date(e->expires, &y, &m, &d))
			continue;
		long left = days_civil(y, m, d) - days_civil(ty, tm, td);
		const Node *at = node_get(e->node, "expires");
		if (left < 0) {
			/* an error, so CI stops when the date passes: the render itself never depends on today */
			Diag *g = diag_count_error(&r->errors, r->d, "E0231", at->span,
						   "exception to `%s` expired on %s", e->policy, e->expires);
			diag_label(g, "in the past");
			diag_help(g, "fix the workload and remove the exception, or extend `expires` (a reviewed change)");
		} else if (left <= EXPIRY_NOTICE_DAYS) {
			Diag *g = diag_warn(r->d, "W0250", at->span, "exception to `%s` expires on %s, in %ld day%s",
					    e->policy, e->expires, left, left == 1 ? "" : "s");
			diag_label(g, "within " STR(EXPIRY_NOTICE_DAYS) " days");
			diag_help(g, "fix the workload before then: after that date `check` fails (E0231)");
		}
	}
}

int resolve_platform(Arena *a, Platform *p, Diags *d)
{
	Resolver r = {.a = a, .p = p, .d = d, .suggest_budget = 200000};
	Schema *s = p->schema;
	r.def.cpu = schema_default(s, "Requests", "cpu");
	r.def.memory = schema_default(s, "Requests", "memory");
	r.def.ingress_path = schema_default(s, "Ingress", "path");
	r.def.lifecycle = schema_default(s, "Service", "lifecycle");
	r.def.language = schema_default(s, "Service", "language");
	r.def.api = schema_default(s, "Service", "api");
	r.def.liveness = schema_default(s, "Health", "liveness");
	r.def.readiness = schema_default(s, "Health", "readiness");
	table_init(&r, &r.envs, p->nenvs);
	table_init(&r, &r.teams, p->nteams);
	table_init(&r, &r.systems, p->nsystems);
	table_init(&r, &r.objects, p->nservices + p->nresources);
	for (int i = 0; i < p->nenvs; i++) {
		table_add(&r, &r.envs, "environment", p->envs[i].node, &p->envs[i]);
		if (p->envs[i].index >= 256) {
			Diag *g = diag_count_error(&r.errors, r.d, "E0217", name_node(p->envs[i].node)->span,
						   "more than 256 environments");
			diag_label(g, "environment %d", i + 1);
			diag_help(g, "at most 256 environments are supported; group clusters into fewer environments");
			goto done;
		}
	}
	for (int i = 0; i < p->nteams; i++)
		table_add(&r, &r.teams, "team", p->teams[i]->node, p->teams[i]);
	for (int i = 0; i < p->nsystems; i++)
		table_add(&r, &r.systems, "system", p->systems[i]->node, p->systems[i]);
	for (int i = 0; i < p->nservices; i++)
		table_add(&r, &r.objects, "service", p->services[i]->node, p->services[i]);
	for (int i = 0; i < p->nresources; i++)
		table_add(&r, &r.objects, "resource", p->resources[i]->node, p->resources[i]);

	const Node *pl = node_get(p->root, "platform");
	p->owner = lookup(&r, &r.teams, "team", "E0201", node_get(pl, "owner"));
	for (int i = 0; i < p->nsystems; i++)
		p->systems[i]->owner = lookup(&r, &r.teams, "team", "E0201", node_get(p->systems[i]->node, "owner"));
	for (int i = 0; i < p->nteams; i++)
		for (int e = 0; e < p->nenvs; e++)
			check_derived(&r, p->teams[i]->name, &p->envs[e], p->teams[i]->node, "namespace");
	/* defaults.service.overrides.<env>: every service running in <env>
	 * gets it (under its own overrides); the names must be environments */
	const Node *dov = node_get(p->defaults_service, "overrides");
	for (int i = 0; dov && dov->kind == N_MAP && i < dov->n; i++)
		lookup(&r, &r.envs, "environment", "E0202", dov->pairs[i].key);
	int cat_errors = r.d->errors;
	catalog_load(a, p, d);
	r.errors += r.d->errors - cat_errors;
	const Node *dr = p->defaults_resources;
	for (int i = 0; dr && i < dr->n; i++)
		if (!kind_exists(&r, dr->pairs[i].key->text))
			unknown_kind(&r, dr->pairs[i].key);

	for (int i = 0; i < p->nresources; i++)
		resolve_resource(&r, p->resources[i]);
	for (int i = 0, clean = !r.errors; i < p->nresources && clean; i++) /* params, per kind (catalog_check.c) */
		r.errors += catalog_check_resource(a, p, p->resources[i], d);
	resolve_services(&r);
	if (!r.errors)
		check_quotas(&r);
	if (!r.errors)
		r.errors += identity_check(a, p, d); /* identity.c: access modes, clusters */
	resolve_exceptions(&r);
	r.errors += policies_resolve(a, p, d);
	if (!r.errors)
		r.errors += workload_check(p, d); /* workload.c: API types */

done:
	strmap_free(&r.envs.map);
	strmap_free(&r.teams.map);
	strmap_free(&r.systems.map);
	strmap_free(&r.objects.map);
	return r.errors;
}

