/*
 * lower.c — checked YAML trees to the typed model.
 *
 * lower_load is the front end in one call: it loads the root file, checks
 * it against the schema, expands `include` (guide §2.4: globs relative to the
 * root file, sorted, included files may hold only teams, systems, services
 * and resources and cannot include), checks each included file, and only
 * when all of that is clean builds the model and hands it to resolve.c.
 * Every phase boundary stops on errors, so later phases may assume their
 * input is well-typed: lowering never re-validates a scalar.
 */
#include "platformc.h"

#include <errno.h>
#include <glob.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* ---- small readers over checked nodes ---- */

static double num_of(const Node *map, const char *key, double def)
{
	double v;
	const char *s = node_text(map, key);
	return s && scalar_number(s, &v) ? v : def;
}

static const char **str_list(Arena *a, const Node *list, int *n)
{
	*n = 0;
	if (!list || list->kind != N_SEQ)
		return NULL;
	const char **out = arena_alloc(a, sizeof(char *) * (size_t)(list->n + 1));
	for (int i = 0; i < list->n; i++)
		out[(*n)++] = list->items[i]->text;
	return out;
}

/* ---- includes ---- */

/* Keys only the root file may hold, with a specific message in an included file. */
static const char *const root_only[] = {"platform", "environments", "policies", "defaults", "include"};

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool glob_escapes(const char *g)
{
	/* `..` as a path segment, or an absolute path: the glob would reach
	 * outside the folder the platform lives in */
	if (g[0] == '/')
		return true;
	for (const char *p = g; (p = strstr(p, "..")) != NULL; p += 2) {
		bool start = p == g || p[-1] == '/';
		bool end = p[2] == 0 || p[2] == '/';
		if (start && end)
			return true;
	}
	return false;
}

static char *dir_of(Arena *a, const char *path)
{
	const char *slash = strrchr(path, '/');
	return slash ? arena_strndup(a, path, (size_t)(slash - path + 1)) : arena_strdup(a, "");
}

/* A folder a pattern names that does not exist is no match (W0150), not an
 * error; anything else that stops glob (a folder it may not read) is. */
static int glob_error(const char *path, int err)
{
	(void)path;
	return err != ENOENT && err != ENOTDIR;
}

/* Checks one path a pattern matched: a regular file whose real path (after
 * symbolic links) is inside the root file's folder `root_real`. */
static bool include_allowed(Diags *d, const Node *g, const char *path, const char *root_real)
{
	struct stat st;
	if (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
		Diag *e = diag_error(d, "E0001", g->span, "include pattern `%s` matches `%s`, a folder", g->text, path);
		diag_label(e, "matches a folder");
		diag_help(e, "make the pattern match files only, such as `%s/*.yaml`", path);
		return false;
	}
	char real[PATH_MAX];
	if (!root_real || !realpath(path, real))
		return true; /* reading it reports the reason */
	size_t n = strlen(root_real);
	bool inside = strncmp(real, root_real, n) == 0 && (real[n] == '/' || (n == 1 && root_real[0] == '/'));
	if (!inside) {
		Diag *e = diag_error(d, "E0153", g->span, "`%s`, matched by include pattern `%s`, leads outside the platform's folder",
				     path, g->text);
		diag_label(e, "a symbolic link to `%s`", real);
		diag_help(e, "included files must be inside the root file's folder; copy the file there");
		return false;
	}
	return true;
}

typedef struct Inputs {
	Node *root;
	Node **incs;
	int ninc;
} Inputs;

/* Drops the keys only the root file may hold from an included file, each
 * with its own message, so the schema check does not report them again. */
static void drop_root_only(Diags *d, Node *n)
{
	if (n->kind != N_MAP)
		return;
	int w = 0;
	for (int j = 0; j < n->n; j++) {
		const char *key = n->pairs[j].key->text;
		bool ro = false;
		for (size_t r = 0; r < ARRAY_LEN(root_only); r++)
			ro |= strcmp(key, root_only[r]) == 0;
		if (!ro) {
			n->pairs[w++] = n->pairs[j];
			continue;
		}
		Diag *e = strcmp(key, "include") == 0
				  ? diag_error(d, "E0152", n->pairs[j].key->span, "included files cannot include")
				  : diag_error(d, "E0151", n->pairs[j].key->span, "`%s` can only be in the root file", key);
		diag_label(e, "not allowed in an included file");
		diag_help(e, "an included file may hold `teams`, `systems`, `services` and `resources`");
	}
	n->n = w;
}

/* One included file, loaded and checked on its own (par.c): its tree and
 * diagnostics are merged into the compilation in include order later. */
typedef struct IncludeJob {
	const char *path;
	const Node *g;     /* the first include pattern that matched it */
	Node *root;        /* NULL: not allowed, unreadable or not YAML */
	Diags d;
} IncludeJob;

typedef struct IncludeJobs {
	IncludeJob *jobs;
	Schema *s;
	const Diags *d;    /* for its credential patterns only */
	const char *root_real;
} IncludeJobs;

static void load_include(void *ctx, int i, Arena *a)
{
	IncludeJobs *js = ctx;
	IncludeJob *j = &js->jobs[i];
	diags_init(&j->d, a);
	j->d.creds = js->d->creds, j->d.ncreds = js->d->ncreds;
	if (!include_allowed(&j->d, j->g, j->path, js->root_real))
		return;
	j->root = src_load_file(a, &j->d, j->path, NULL);
	if (!j->root)
		return;
	drop_root_only(&j->d, j->root);
	schema_check(js->s, j->root, js->s->include_root, &j->d);
}

/* The paths of one include pattern, sorted; rc as glob's (-1: not expanded). */
typedef struct PatternPaths {
	int rc;
	glob_t gl;
} PatternPaths;

/*
 * Three steps, so that the files can be loaded in parallel and the result
 * still be exactly that of one loop over the patterns: (1) expand every
 * pattern; (2) load and check every distinct file the patterns name, each on
 * its own (par_run); (3) walk the patterns in order as the loop would,
 * reporting and taking each file's results when the loop would have loaded
 * it. A file past the MAX_INCLUDED_FILES limit is loaded in (2) but its
 * results are dropped in (3).
 */
static void load_includes(Arena *a, Schema *s, Diags *d, const char *root_path, Inputs *in)
{
	const Node *inc = node_get(in->root, "include");
	if (!inc || inc->kind != N_SEQ)
		return;
	const char *dir = dir_of(a, root_path);
	char root_real_buf[PATH_MAX];
	const char *root_real = realpath(*dir ? dir : ".", root_real_buf);

	/* (1) expand; (2) one job per distinct path */
	PatternPaths *pp = arena_alloc(a, sizeof *pp * (size_t)inc->n);
	StrMap job_of;
	strmap_init(&job_of);
	IncludeJob *jobs = NULL;
	int njobs = 0, capjobs = 0;
	for (int i = 0; i < inc->n; i++) {
		const Node *g = inc->items[i];
		pp[i].rc = -1;
		if (g->kind != N_SCALAR || g->text[0] == '/' || g->text[0] == '~' || glob_escapes(g->text))
			continue;
		const char *pattern = arena_sprintf(a, "%s%s", dir, g->text);
		/* GLOB_NOSORT + strcmp: glob's own sort follows the locale */
		pp[i].rc = glob(pattern, GLOB_NOSORT, glob_error, &pp[i].gl);
		if (pp[i].rc != 0)
			continue;
		qsort(pp[i].gl.gl_pathv, pp[i].gl.gl_pathc, sizeof(char *), cmp_str);
		for (size_t k = 0; k < pp[i].gl.gl_pathc; k++) {
			const char *path = pp[i].gl.gl_pathv[k];
			if (strmap_get(&job_of, path) || !strcmp(path, root_path))
				continue;
			if (njobs == capjobs) {
				int cap = capjobs ? capjobs * 2 : 64;
				jobs = arena_grow(a, jobs, (size_t)njobs, (size_t)cap, sizeof *jobs);
				capjobs = cap;
			}
			jobs[njobs] = (IncludeJob){.path = arena_strdup(a, path), .g = g};
			njobs++;
			strmap_put(&job_of, jobs[njobs - 1].path, (void *)(intptr_t)njobs); /* index + 1 */
		}
	}
	IncludeJobs js = {jobs, s, d, root_real};
	par_run(a, njobs, load_include, &js);

	/* (3) the loop over the patterns, with each file's results */
	StrMap seen;
	strmap_init(&seen);
	strmap_put(&seen, root_path, (void *)1);
	in->incs = arena_alloc(a, sizeof(Node *) * MAX_INCLUDED_FILES);
	for (int i = 0; i < inc->n; i++) {
		const Node *g = inc->items[i];
		if (g->kind != N_SCALAR || g->text[0] == '/' || g->text[0] == '~')
			continue; /* an absolute or home path: E0114 from the schema check */
		if (glob_escapes(g->text)) {
			Diag *e = diag_error(d, "E0153", g->span, "include pattern `%s` leaves the platform's folder",
					     g->text);
			diag_label(e, "not below the root file's folder");
			diag_help(e, "include patterns are relative to the root file and cannot use `..` or `/`");
			continue;
		}
		int rc = pp[i].rc;
		glob_t *gl = &pp[i].gl;
		if (rc == GLOB_NOMATCH || (rc == 0 && gl->gl_pathc == 0)) {
			Diag *w = diag_warn(d, "W0150", g->span, "include pattern `%s` matches no file", g->text);
			diag_label(w, "nothing included");
			continue;
		}
		if (rc != 0) {
			Diag *e = diag_error(d, "E0001", g->span, "cannot expand include pattern `%s`: %s", g->text,
					     rc == GLOB_ABORTED ? "a folder cannot be read" : "out of memory");
			diag_label(e, "not expanded");
			continue;
		}
		for (size_t k = 0; k < gl->gl_pathc; k++) {
			const char *path = gl->gl_pathv[k];
			if (strmap_get(&seen, path))
				continue;
			IncludeJob *j = &jobs[(intptr_t)strmap_get(&job_of, path) - 1];
			strmap_put(&seen, j->path, (void *)1);
			if (in->ninc == MAX_INCLUDED_FILES) {
				Diag *e = diag_error(d, "E0154", g->span, "more than %d included files", MAX_INCLUDED_FILES);
				diag_label(e, "the limit is reached here");
				diag_help(e, "merge small files; each file can hold many teams, services and resources");
				break;
			}
			diags_append(d, &j->d, 0, j->d.n);
			if (j->root)
				in->incs[in->ninc++] = j->root;
		}
	}
	for (int i = 0; i < inc->n; i++)
		if (pp[i].rc == 0)
			globfree(&pp[i].gl);
	strmap_free(&seen);
	strmap_free(&job_of);
}

/* ---- lowering ---- */

/* Appends the items of list `key` from the root and every included file. */
static const Node **gather(Arena *a, const Inputs *in, const char *key, int *n)
{
	int total = 0;
	const Node *l = node_get(in->root, key);
	total += l ? l->n : 0;
	for (int i = 0; i < in->ninc; i++) {
		l = node_get(in->incs[i], key);
		total += l ? l->n : 0;
	}
	const Node **out = arena_alloc(a, sizeof(Node *) * (size_t)(total + 1));
	*n = 0;
	for (int f = -1; f < in->ninc; f++) {
		l = node_get(f < 0 ? in->root : in->incs[f], key);
		for (int i = 0; l && i < l->n; i++)
			out[(*n)++] = l->items[i];
	}
	return out;
}

static void lower_team(Arena *a, Team *t, const Node *n)
{
	t->node = n;
	t->name = node_text(n, "name");
	t->title = node_text(n, "title");
	t->email = node_text(n, "email");
	t->slack = node_text(n, "slack");
	t->members = str_list(a, node_get(n, "members"), &t->nmembers);
	const Node *q = node_get(n, "quota");
	t->quota_cpu = node_text(q, "cpu");
	t->quota_memory = node_text(q, "memory");
	scalar_quantity(t->quota_cpu, &t->quota_cpu_m);
	scalar_quantity(t->quota_memory, &t->quota_memory_m);
	t->quota_pods = node_int(q, "pods", 0);
	t->has_budget = node_text(n, "budget") != NULL;
	t->budget = num_of(n, "budget", 0);
}

static Platform *lower(Arena *a, Schema *schema, const Inputs *in, const SourceFile *root_file)
{
	const Node *r = in->root;
	Platform *p = arena_alloc(a, sizeof *p);
	p->schema = schema;
	p->root = r;
	p->root_file = root_file;

	const Node *pl = node_get(r, "platform");
	p->name = node_text(pl, "name");
	p->domain = node_text(pl, "domain");
	const Node *cloud = node_get(pl, "cloud");
	p->provider = node_text(cloud, "provider");
	p->region = node_text(cloud, "region");
	p->account = node_text(cloud, "account");
	const Node *git = node_get(pl, "gitops");
	p->gitops_repo = node_text(git, "repo");
	p->gitops_revision = node_text_or(git, "revision", schema_default(schema, "GitOps", "revision"));
	p->gitops_path = node_text_or(git, "path", schema_default(schema, "GitOps", "path"));
	p->registries = str_list(a, node_get(pl, "registries"), &p->nregistries);
	p->grafana_url = node_text(node_get(pl, "grafana"), "url");
	p->backstage_url = node_text(node_get(pl, "backstage"), "url");
	p->catalog_dirs = str_list(a, node_get(pl, "catalog"), &p->ncatalog_dirs);
	const Node *tg = node_get(pl, "targets");
	p->crossplane_target = node_text_or(tg, "crossplane", schema_default(schema, "Targets", "crossplane"));
	p->kyverno_target = node_text_or(tg, "kyverno", schema_default(schema, "Targets", "kyverno"));

	const Node *envs = node_get(r, "environments");
	p->nenvs = envs ? envs->n : 0;
	p->envs = arena_alloc(a, sizeof(Env) * (size_t)(p->nenvs + 1));
	for (int i = 0; i < p->nenvs; i++) {
		Env *e = &p->envs[i];
		e->node = envs->items[i];
		e->name = node_text(e->node, "name");
		e->prod = strcmp(node_text(e->node, "tier"), "prod") == 0;
		e->cluster = node_text(e->node, "cluster");
		e->index = i;
	}

	const Node **items;
	int n;
	items = gather(a, in, "teams", &n);
	p->teams = arena_alloc(a, sizeof(Team *) * (size_t)(n + 1));
	for (int i = 0; i < n; i++) {
		Team *t = arena_alloc(a, sizeof *t);
		lower_team(a, t, items[i]);
		t->index = i;
		p->teams[p->nteams++] = t;
	}

	items = gather(a, in, "systems", &n);
	p->systems = arena_alloc(a, sizeof(System *) * (size_t)(n + 1));
	for (int i = 0; i < n; i++) {
		System *s = arena_alloc(a, sizeof *s);
		s->node = items[i];
		s->name = node_text(items[i], "name");
		s->description = node_text(items[i], "description");
		p->systems[p->nsystems++] = s;
	}

	items = gather(a, in, "services", &n);
	p->services = arena_alloc(a, sizeof(Service *) * (size_t)(n + 1));
	for (int i = 0; i < n; i++) {
		Service *s = arena_alloc(a, sizeof *s);
		s->node = items[i];
		s->name = node_text(items[i], "name");
		p->services[p->nservices++] = s;
	}

	items = gather(a, in, "resources", &n);
	p->resources = arena_alloc(a, sizeof(Resource *) * (size_t)(n + 1));
	for (int i = 0; i < n; i++) {
		Resource *res = arena_alloc(a, sizeof *res);
		res->node = items[i];
		res->name = node_text(items[i], "name");
		res->kind = node_text(items[i], "kind");
		res->description = node_text(items[i], "description");
		res->overrides = node_get(items[i], "overrides");
		p->resources[p->nresources++] = res;
	}

	const Node *pol = node_get(r, "policies");
	p->policy_action = node_text_or(pol, "action", schema_default(schema, "Policies", "action"));
	p->policy_disable = str_list(a, node_get(pol, "disable"), &p->npolicy_disable);
	const Node *ex = node_get(pol, "exceptions");
	p->nexceptions = ex ? ex->n : 0;
	p->exceptions = arena_alloc(a, sizeof(PolicyException) * (size_t)(p->nexceptions + 1));
	for (int i = 0; i < p->nexceptions; i++) {
		PolicyException *e = &p->exceptions[i];
		e->node = ex->items[i];
		e->policy = node_text(e->node, "policy");
		e->reason = node_text(e->node, "reason");
		e->expires = node_text(e->node, "expires");
	}
	const Node *defs = node_get(r, "defaults");
	p->defaults_service = node_get(defs, "service");
	p->defaults_resources = node_get(defs, "resources");
	return p;
}

static Platform *lower_root(Arena *a, Schema *s, Diags *d, const char *path, Node *root, SourceFile *rf)
{
	Inputs in = {0};
	in.root = root;
	if (!in.root)
		return NULL;
	schema_check(s, in.root, s->root, d);
	load_includes(a, s, d, path, &in);
	if (d->errors)
		return NULL;
	Platform *p = lower(a, s, &in, rf);
	if (resolve_platform(a, p, d) || d->errors)
		return NULL;
	return p;
}

Platform *lower_load(Arena *a, Schema *s, Diags *d, const char *path)
{
	SourceFile *rf = NULL;
	d->creds = s->creds, d->ncreds = s->ncreds;
	Node *root = src_load_file(a, d, path, &rf);
	return lower_root(a, s, d, path, root, rf);
}

Platform *lower_load_bytes(Arena *a, Schema *s, Diags *d, const char *path, const char *bytes, size_t len)
{
	SourceFile *rf = NULL;
	d->creds = s->creds, d->ncreds = s->ncreds;
	Node *root = src_load_bytes(a, d, path, bytes, len, &rf);
	return lower_root(a, s, d, path, root, rf);
}
