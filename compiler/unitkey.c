/*
 * unitkey.c — the keys of the units of output: what each one reads, hashed.
 *
 * A unit of output (fileset_unit_begin) is kept as it is on disk when its
 * key is the one recorded when its files were made. So a key must change
 * whenever anything the unit's files are made from changes: the invariant
 * here is "every input a unit reads is in its key"; reading more is only
 * slower, reading less is a wrong tree. Keys hash the input trees (Node,
 * canonically: kind, text, plainness, keys in order; no spans), which decide
 * the resolved model, rather than hand-picked fields of it:
 *   - global: the root file without its lists of objects (platform,
 *     environments, defaults, policies and their exceptions, include
 *     patterns), the platform's owner team, every catalog kind's tree, the
 *     root file's name (not the path it was given by) and today's date (exceptions expire). Every unit
 *     reads it.
 *   - per object: the tree of each service (as written: merged with the
 *     defaults it is a function of that and of the root file, which global
 *     holds), resource, team and system. A resource's hash also holds
 *     those of the resources it names anywhere in its tree and of those
 *     naming it (a `ref` parameter, `referrers` in a kind's templates): any
 *     scalar equal to a resource's name counts, more than the refs.
 *   - a service: global, itself, its team and system, the resources it uses
 *     (with their teams), the services it calls and the services that call
 *     it (with their teams);
 *   - a resource: global, itself, its team, the teams it is shared with, the
 *     services that use it in platform order (with their teams);
 *   - a team: global and itself;
 *   - a deployment unit's Application in one environment: global (the
 *     environments, the GitOps settings) and the unit's fields;
 *   - the platform (families that read everything): global and every
 *     object's hash in model order;
 *   - the platform's outline (the platform's own monitoring: rules and
 *     dashboards per team, a link per service): global, every team and
 *     resource (with those it names), and each service's name and team
 *     only, in model order: a change inside a service leaves it as it is;
 *   - the platform's access (the connection-secret stores per environment:
 *     who may read which resource's secrets): the outline, and of each
 *     service the resources it uses with their access modes and the
 *     environments it runs in.
 * A team or system enters a key as the hash of its name and tree (made once,
 * keys_of), and a service's or resource's key is made once for all the
 * families that ask it: the same inputs, hashed once.
 * The compiler's own identity is not here: the writer trusts keys only in a
 * cache this same binary wrote.
 */
#include "platformc.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct UnitKeys {
	uint64_t global, all;
	StrMap svc_index, res_index;   /* name -> index + 1 */
	StrMap team_index, sys_index;  /* name -> index + 1 */
	uint64_t *svc, *res;           /* each object's own hash */
	uint64_t *team, *sys;          /* a team's name and tree; a system's tree and owner */
	uint64_t *svc_key, *res_key;   /* unitkey_service/_resource once asked (0: not yet) */
	uint64_t *rc;                  /* a resource's with those it names or is named by */
	int *caller_off, *callers;     /* per service: the services calling it */
	int *user_off, *users;         /* per resource: the services using it, platform order */
	struct { const void *obj; int i; } *objs; /* the model's services, resources, teams and
						   * systems by address -> index (by name: the maps above) */
	size_t nobjs;
} UnitKeys;

static void put_u64(Hash64 *h, uint64_t v)
{
	hash64_add(h, &v, sizeof v);
}

static void put_str(Hash64 *h, const char *s)
{
	size_t n = s ? strlen(s) : 0;
	put_u64(h, s ? n : UINT64_MAX);
	hash64_add(h, s ? s : "", n);
}

static void put_node(Hash64 *h, const Node *n, const char *const *skip)
{
	if (!n) {
		put_u64(h, 0xff);
		return;
	}
	unsigned char tag[3] = { (unsigned char)n->kind, n->plain, n->is_null };
	hash64_add(h, tag, sizeof tag);
	switch (n->kind) {
	case N_SCALAR:
		put_u64(h, n->textlen);
		hash64_add(h, n->text ? n->text : "", n->text ? n->textlen : 0);
		break;
	case N_MAP:
		put_u64(h, (uint64_t)n->n);
		for (int i = 0; i < n->n; i++) {
			const char *k = n->pairs[i].key->text;
			bool skipped = false;
			for (const char *const *s = skip; s && *s && !skipped; s++)
				skipped = strcmp(*s, k) == 0;
			put_node(h, n->pairs[i].key, NULL);
			if (!skipped)
				put_node(h, n->pairs[i].val, NULL);
		}
		break;
	case N_SEQ:
		put_u64(h, (uint64_t)n->n);
		for (int i = 0; i < n->n; i++)
			put_node(h, n->items[i], NULL);
		break;
	}
}

static uint64_t node_hash(const Node *a, const Node *b)
{
	Hash64 h;
	hash64_begin(&h);
	put_node(&h, a, NULL);
	put_node(&h, b, NULL);
	return hash64_end(&h);
}

/* open addressing by address: the model's objects are asked for by the
 * pointers that link them far more often than by name */
static size_t obj_slot(const UnitKeys *k, const void *obj)
{
	uint64_t h = (uint64_t)(uintptr_t)obj * 0x9E3779B97F4A7C15ull;
	size_t mask = k->nobjs - 1, i = (size_t)(h >> 32) & mask;
	while (k->objs[i].obj && k->objs[i].obj != obj)
		i = (i + 1) & mask;
	return i;
}

static void obj_put(UnitKeys *k, const void *obj, int i)
{
	size_t at = obj_slot(k, obj);
	k->objs[at].obj = obj;
	k->objs[at].i = i;
}

static int obj_index(const UnitKeys *k, const void *obj)
{
	size_t at = obj_slot(k, obj);
	return k->objs[at].obj ? k->objs[at].i : -1;
}

static uint64_t team_hash(const Team *t)
{
	Hash64 h;
	hash64_begin(&h);
	put_str(&h, t ? t->name : NULL);
	put_node(&h, t ? t->node : NULL, NULL);
	return hash64_end(&h);
}

/* A team as its hash: the teams of the platform hashed once (keys_of),
 * since every service and resource key names one or more. */
static void put_team(Hash64 *h, const UnitKeys *k, const Team *t)
{
	int i = t ? obj_index(k, t) : -1;
	if (t && i < 0)
		i = (int)(intptr_t)strmap_get(&k->team_index, t->name) - 1;
	put_u64(h, i >= 0 && k->team[i] ? k->team[i] : team_hash(t));
}

static int svc_of(const UnitKeys *k, const Service *s)
{
	int i = obj_index(k, s);
	return i >= 0 ? i : (int)(intptr_t)strmap_get(&k->svc_index, s->name) - 1;
}

static int res_of(const UnitKeys *k, const Resource *r)
{
	int i = obj_index(k, r);
	return i >= 0 ? i : (int)(intptr_t)strmap_get(&k->res_index, r->name) - 1;
}

/* offsets of a CSR list from per-slot counts (off has n + 1 entries) */
/* Every scalar of resource i's tree naming another resource j: j's hash
 * goes into i's and i's into j's. */
static void link_names(const UnitKeys *k, const Platform *p, int i, const Node *n, Hash64 *rh)
{
	if (!n)
		return;
	if (n->kind == N_SCALAR) {
		int j = n->text ? (int)(intptr_t)strmap_get(&k->res_index, n->text) - 1 : -1;
		if (j >= 0 && j != i) {
			put_u64(&rh[i], k->res[j]);
			put_team(&rh[i], k, p->resources[j]->team);
			put_u64(&rh[j], k->res[i]);
			put_team(&rh[j], k, p->resources[i]->team);
		}
		return;
	}
	for (int c = 0; c < n->n; c++)
		link_names(k, p, i, n->kind == N_MAP ? n->pairs[c].val : n->items[c], rh);
}

static int *csr(int *off, int n)
{
	int total = 0;
	for (int i = 0; i < n; i++) {
		int c = off[i];
		off[i] = total;
		total += c;
	}
	off[n] = total;
	return xmalloc((size_t)(total ? total : 1) * sizeof(int));
}

/* The model's objects by address; each team's and system's hash; room for
 * the keys asked once (unitkey_service, unitkey_resource). */
static void index_objects(UnitKeys *k, const Platform *p)
{
	int ns = p->nservices, nr = p->nresources;
	k->svc_key = calloc((size_t)ns + 1, sizeof *k->svc_key);
	k->res_key = calloc((size_t)nr + 1, sizeof *k->res_key);
	k->team = calloc((size_t)p->nteams + 1, sizeof *k->team);
	k->sys = xmalloc((size_t)(p->nsystems + 1) * sizeof *k->sys);
	if (!k->svc_key || !k->res_key || !k->team)
		die_oom();
	strmap_init(&k->team_index);
	strmap_init(&k->sys_index);
	size_t nobj = (size_t)ns + (size_t)nr + (size_t)p->nteams + (size_t)p->nsystems;
	for (k->nobjs = 64; k->nobjs < nobj * 2; k->nobjs *= 2)
		;
	k->objs = calloc(k->nobjs, sizeof *k->objs);
	if (!k->objs)
		die_oom();
	for (int i = 0; i < ns; i++)
		obj_put(k, p->services[i], i);
	for (int i = 0; i < nr; i++)
		obj_put(k, p->resources[i], i);
	for (int i = 0; i < p->nteams; i++)
		obj_put(k, p->teams[i], i);
	for (int i = 0; i < p->nsystems; i++)
		obj_put(k, p->systems[i], i);
	for (int i = 0; i < p->nteams; i++) {
		strmap_put(&k->team_index, p->teams[i]->name, (void *)(intptr_t)(i + 1));
		k->team[i] = team_hash(p->teams[i]);
	}
	for (int i = 0; i < p->nsystems; i++) {
		const System *sy = p->systems[i];
		strmap_put(&k->sys_index, sy->name, (void *)(intptr_t)(i + 1));
		Hash64 h;
		hash64_begin(&h);
		put_node(&h, sy->node, NULL);
		put_team(&h, k, sy->owner);
		k->sys[i] = hash64_end(&h);
	}
}

static const UnitKeys *keys_of(FileSet *fs, const Platform *p)
{
	if (fs->keys)
		return fs->keys;
	UnitKeys *k = xmalloc(sizeof *k);
	memset(k, 0, sizeof *k);
	strmap_init(&k->svc_index);
	strmap_init(&k->res_index);
	int ns = p->nservices, nr = p->nresources;
	k->svc = xmalloc((size_t)(ns + 1) * sizeof *k->svc);
	k->res = xmalloc((size_t)(nr + 1) * sizeof *k->res);
	index_objects(k, p);
	for (int i = 0; i < ns; i++) {
		strmap_put(&k->svc_index, p->services[i]->name, (void *)(intptr_t)(i + 1));
		/* its tree as written: merged with the defaults (eff) it is a
		 * function of this and of the root file, which `global` holds */
		k->svc[i] = node_hash(p->services[i]->node, NULL);
	}
	for (int i = 0; i < nr; i++) {
		strmap_put(&k->res_index, p->resources[i]->name, (void *)(intptr_t)(i + 1));
		k->res[i] = node_hash(p->resources[i]->node, NULL);
	}
	/* who calls each service, who uses each resource */
	k->caller_off = calloc((size_t)ns + 1, sizeof(int));
	k->user_off = calloc((size_t)nr + 1, sizeof(int));
	if (!k->caller_off || !k->user_off)
		die_oom();
	for (int pass = 0; pass < 2; pass++) {
		int *cfill = NULL, *ufill = NULL;
		if (pass == 1) {
			k->callers = csr(k->caller_off, ns);
			k->users = csr(k->user_off, nr);
			cfill = calloc((size_t)ns + 1, sizeof(int));
			ufill = calloc((size_t)nr + 1, sizeof(int));
			if (!cfill || !ufill)
				die_oom();
		}
		for (int i = 0; i < ns; i++) {
			const Service *s = p->services[i];
			for (int c = 0; c < s->ncalls; c++) {
				int j = svc_of(k, s->calls[c]);
				if (j < 0)
					continue;
				if (pass == 0)
					k->caller_off[j]++;
				else
					k->callers[k->caller_off[j] + cfill[j]++] = i;
			}
			for (int u = 0; u < s->nuses; u++) {
				int j = res_of(k, s->uses[u]);
				if (j < 0)
					continue;
				if (pass == 0)
					k->user_off[j]++;
				else
					k->users[k->user_off[j] + ufill[j]++] = i;
			}
		}
		free(cfill);
		free(ufill);
	}

	/* resources naming resources, either way */
	k->rc = xmalloc((size_t)(nr + 1) * sizeof *k->rc);
	Hash64 *rh = xmalloc((size_t)(nr + 1) * sizeof *rh);
	for (int i = 0; i < nr; i++) {
		hash64_begin(&rh[i]);
		put_u64(&rh[i], k->res[i]);
	}
	for (int i = 0; i < nr; i++)
		link_names(k, p, i, p->resources[i]->node, rh);
	for (int i = 0; i < nr; i++)
		k->rc[i] = hash64_end(&rh[i]);
	free(rh);

	/* what every unit reads */
	static const char *const objects[] = { "teams", "systems", "services", "resources", NULL };
	Hash64 h;
	hash64_begin(&h);
	put_node(&h, p->root, objects);
	/* the README names the root file: its name, not the path it was given by */
	const char *root = p->root_file ? p->root_file->path : NULL;
	put_str(&h, root && strrchr(root, '/') ? strrchr(root, '/') + 1 : root);
	put_team(&h, k, p->owner); /* the platform team: admin everywhere */
	for (int pass = 0; p->catalog && pass < 2; pass++) {
		Kind **kinds = pass ? p->catalog->internal : p->catalog->kinds;
		int n = pass ? p->catalog->ninternal : p->catalog->n;
		put_u64(&h, (uint64_t)n);
		for (int i = 0; i < n; i++) {
			put_str(&h, kinds[i]->name);
			put_node(&h, kinds[i]->node, NULL);
		}
	}
	const char *sde = getenv("SOURCE_DATE_EPOCH");
	time_t now = sde && *sde ? (time_t)strtoll(sde, NULL, 10) : time(NULL);
	struct tm tm;
	gmtime_r(&now, &tm);
	int day[3] = { tm.tm_year, tm.tm_mon, tm.tm_mday };
	hash64_add(&h, day, sizeof day);
	k->global = hash64_end(&h);

	/* what the platform-wide families read: everything, in model order */
	hash64_begin(&h);
	put_u64(&h, k->global);
	put_u64(&h, (uint64_t)p->nteams);
	for (int i = 0; i < p->nteams; i++)
		put_team(&h, k, p->teams[i]);
	put_u64(&h, (uint64_t)p->nsystems);
	for (int i = 0; i < p->nsystems; i++)
		put_node(&h, p->systems[i]->node, NULL);
	put_u64(&h, (uint64_t)ns);
	for (int i = 0; i < ns; i++)
		put_u64(&h, k->svc[i]);
	put_u64(&h, (uint64_t)nr);
	for (int i = 0; i < nr; i++)
		put_u64(&h, k->res[i]);
	k->all = hash64_end(&h);
	fs->keys = k;
	return k;
}

void unitkeys_free(const UnitKeys *keys)
{
	UnitKeys *k = (UnitKeys *)keys;
	if (!k)
		return;
	strmap_free(&k->svc_index);
	strmap_free(&k->res_index);
	strmap_free(&k->team_index);
	strmap_free(&k->sys_index);
	free(k->svc);
	free(k->res);
	free(k->svc_key);
	free(k->res_key);
	free(k->team);
	free(k->sys);
	free(k->objs);
	free(k->rc);
	free(k->caller_off);
	free(k->callers);
	free(k->user_off);
	free(k->users);
	free(k);
}

static uint64_t finish(Hash64 *h)
{
	uint64_t v = hash64_end(h);
	return v ? v : 1;
}

/* a service's own hash with its team's */
static void put_service(Hash64 *h, const UnitKeys *k, const Service *s)
{
	int i = svc_of(k, s);
	put_str(h, s->name);
	put_u64(h, i < 0 ? 0 : k->svc[i]);
	put_team(h, k, s->team);
}

static void put_resource(Hash64 *h, const UnitKeys *k, const Resource *r)
{
	int i = res_of(k, r);
	put_str(h, r->name);
	put_u64(h, i < 0 ? 0 : k->rc[i]);
	put_team(h, k, r->team);
	put_u64(h, (uint64_t)r->nshared);
	for (int j = 0; j < r->nshared; j++)
		put_team(h, k, r->shared_with[j]);
}

/* The services of one object's row of a callers or users list (caller_off
 * and callers, user_off and users): their count, then each. */
static void put_row(Hash64 *h, const UnitKeys *k, const Platform *p, const int *off, const int *list, int me)
{
	put_u64(h, (uint64_t)(off[me + 1] - off[me]));
	for (int j = off[me]; j < off[me + 1]; j++)
		put_service(h, k, p->services[list[j]]);
}

/* The same service's key is asked by each family that writes its files:
 * it is made once. */
uint64_t unitkey_service(FileSet *fs, const Platform *p, const Service *s)
{
	const UnitKeys *k = keys_of(fs, p);
	int me = svc_of(k, s);
	if (me >= 0 && k->svc_key[me])
		return k->svc_key[me];
	Hash64 h;
	hash64_begin(&h);
	put_str(&h, "service");
	put_u64(&h, k->global);
	put_service(&h, k, s);
	put_str(&h, s->system ? s->system->name : NULL);
	int sy = s->system ? obj_index(k, s->system) : -1;
	if (s->system && sy < 0)
		sy = (int)(intptr_t)strmap_get(&k->sys_index, s->system->name) - 1;
	if (sy >= 0) {
		put_u64(&h, k->sys[sy]);
	} else {
		put_node(&h, s->system ? s->system->node : NULL, NULL);
		put_team(&h, k, s->system ? s->system->owner : NULL);
	}
	put_u64(&h, (uint64_t)s->nuses);
	for (int i = 0; i < s->nuses; i++)
		put_resource(&h, k, s->uses[i]);
	put_u64(&h, (uint64_t)s->ncalls);
	for (int i = 0; i < s->ncalls; i++)
		put_service(&h, k, s->calls[i]);
	if (me < 0)
		return finish(&h);
	put_row(&h, k, p, k->caller_off, k->callers, me);
	return k->svc_key[me] = finish(&h);
}

uint64_t unitkey_resource(FileSet *fs, const Platform *p, const Resource *r)
{
	const UnitKeys *k = keys_of(fs, p);
	int me = res_of(k, r);
	if (me >= 0 && k->res_key[me])
		return k->res_key[me];
	Hash64 h;
	hash64_begin(&h);
	put_str(&h, "resource");
	put_u64(&h, k->global);
	put_resource(&h, k, r);
	if (me < 0)
		return finish(&h);
	put_row(&h, k, p, k->user_off, k->users, me);
	return k->res_key[me] = finish(&h);
}

uint64_t unitkey_platform(FileSet *fs, const Platform *p)
{
	return keys_of(fs, p)->all ? keys_of(fs, p)->all : 1;
}

/* global, every team, every resource (with those it names), and each
 * service's name and team, in model order */
static void put_outline(Hash64 *h, const UnitKeys *k, const Platform *p)
{
	put_u64(h, k->global);
	put_u64(h, (uint64_t)p->nteams);
	for (int i = 0; i < p->nteams; i++)
		put_team(h, k, p->teams[i]);
	put_u64(h, (uint64_t)p->nresources);
	for (int i = 0; i < p->nresources; i++)
		put_u64(h, k->rc[i]);
	put_u64(h, (uint64_t)p->nservices);
	for (int i = 0; i < p->nservices; i++) {
		put_str(h, p->services[i]->name);
		put_str(h, p->services[i]->team ? p->services[i]->team->name : NULL);
	}
}

uint64_t unitkey_platform_outline(FileSet *fs, const Platform *p)
{
	Hash64 h;
	hash64_begin(&h);
	put_str(&h, "outline");
	put_outline(&h, keys_of(fs, p), p);
	return finish(&h);
}

uint64_t unitkey_platform_access(FileSet *fs, const Platform *p)
{
	Hash64 h;
	hash64_begin(&h);
	put_str(&h, "access");
	put_outline(&h, keys_of(fs, p), p);
	for (int i = 0; i < p->nservices; i++) {
		const Service *s = p->services[i];
		put_u64(&h, (uint64_t)s->nuses);
		for (int u = 0; u < s->nuses; u++) {
			put_str(&h, s->uses[u] ? s->uses[u]->name : NULL);
			put_node(&h, s->uses_access ? s->uses_access[u] : NULL, NULL);
		}
		for (int e = 0; e < p->nenvs; e++)
			put_u64(&h, service_runs_in(s, &p->envs[e]));
	}
	return finish(&h);
}

uint64_t unitkey_team(FileSet *fs, const Platform *p, const Team *t)
{
	const UnitKeys *k = keys_of(fs, p);
	Hash64 h;
	hash64_begin(&h);
	put_str(&h, "team");
	put_u64(&h, k->global);
	put_team(&h, k, t);
	return finish(&h);
}

uint64_t unitkey_deployment(FileSet *fs, const Platform *p, const Unit *u, const Env *e)
{
	const UnitKeys *k = keys_of(fs, p);
	Hash64 h;
	hash64_begin(&h);
	put_str(&h, "deployment");
	put_u64(&h, k->global);
	put_u64(&h, (uint64_t)u->kind);
	put_str(&h, u->dir);
	put_str(&h, u->name);
	put_str(&h, u->env ? u->env->name : NULL);
	put_str(&h, u->team ? u->team->name : NULL);
	put_str(&h, u->namespace);
	put_str(&h, u->label_key);
	put_str(&h, u->label_value);
	put_str(&h, e->name);
	return finish(&h);
}
