/*
 * backend_backstage.c — the Backstage catalog and the self-service
 * templates, written from the same model as everything else (guide §7
 * `catalog/`).
 *
 *   catalog/catalog-info.yaml               root Location listing every file below
 *   catalog/groups/<team>.yaml              Group per team (members, email, Slack link)
 *   catalog/users/<member>.yaml             User per member (memberOf its teams)
 *   catalog/systems/<system>.yaml           System per system, plus one for the platform
 *   catalog/components/<service>.yaml       Component per service
 *   catalog/apis/<service>.yaml             API per service whose `api` is not `none`
 *   catalog/resources/<resource>.yaml       Resource per resource
 *   catalog/templates/<name>/template.yaml  scaffolder Template: new-service, new-<kind>
 *   catalog/templates/<name>/skeleton/<include folder>/${{ values.name }}.yaml.njk
 *
 * Every entity reference is written fully qualified (`group:default/backend`)
 * so no kind is inferred, and every one points at an entity of the same
 * render. Entities are not Kubernetes objects: Backstage reads them from git
 * through the root Location, so no deployment unit is registered.
 *
 * Links to the other families go through their conventions: the Component's
 * `backstage.io/kubernetes-id` is the label k8s_service_labels puts on the
 * workload; `argocd/app-selector` is the `platform.<domain>/service` label of
 * the service's Applications (backend_argocd.c); `grafana/dashboard-selector`
 * selects the service's dashboard by its tag, which is the service name.
 *
 * A template adds ONE file under the folder of the first `include` glob that
 * would pick it up (a pull request to the GitOps repo, no YAML editing, no
 * merge conflicts). The skeleton writes only what the form changed from the
 * defaults, so the kind's and the platform's defaults (including the
 * per-tier ones such as `instances: 2 in prod`) keep applying.
 */
#include "platformc.h"

#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define BS_API "backstage.io/v1alpha1"
#define BS_TEMPLATE_API "scaffolder.backstage.io/v1beta3"
#define BS_NS "default"

/* ---- entity helpers ---- */

static const char *ref(Arena *a, const char *kind, const char *name)
{
	return arena_sprintf(a, "%s:" BS_NS "/%s", kind, name);
}

static DNode *entity(Arena *a, const char *kind, const char *name)
{
	DNode *e = doc_map(a);
	doc_set_str(a, e, "apiVersion", BS_API);
	doc_set_str(a, e, "kind", kind);
	doc_set_str(a, doc_set_map(a, e, "metadata"), "name", name);
	return e;
}

static DNode *link(Arena *a, DNode *links, const char *url, const char *title, const char *icon)
{
	DNode *l = doc_push_map(a, links);
	doc_set_str(a, l, "url", url);
	doc_set_str(a, l, "title", title);
	if (icon)
		doc_set_str(a, l, "icon", icon);
	return l;
}

/* Backstage tags: lower-case words of [a-z0-9:+#] joined by single dashes,
 * at most 63. Names may hold `--`, which a tag may not: such a tag is left out. */
static bool tag_ok(const char *t)
{
	size_t n = strlen(t);
	if (n == 0 || n > 63 || t[0] == '-' || t[n - 1] == '-' || strstr(t, "--"))
		return false;
	for (const char *c = t; *c; c++)
		if (!((*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') || strchr(":+#-", *c)))
			return false;
	return true;
}

static void add_tag(Arena *a, DNode *md, const char *t)
{
	if (!tag_ok(t))
		return;
	DNode *tags = doc_get(md, "tags");
	if (!tags) {
		tags = doc_set_seq(a, md, "tags");
		tags->flow = true;
	}
	doc_push_str(a, tags, t);
}

/* "https://<host>/<owner>/<repo>(.git)(/...)" -> host, owner, repo; false
 * for any other shape. */
static bool repo_parts(Arena *a, const char *url, const char **host, const char **owner, const char **repo)
{
	if (!url || !has_prefix(url, "https://"))
		return false;
	const char *h = url + strlen("https://");
	size_t hn = strcspn(h, "/?#");
	if (hn == 0 || h[hn] != '/')
		return false;
	const char *o = h + hn + 1;
	size_t on = strcspn(o, "/?#");
	if (on == 0 || o[on] != '/')
		return false;
	const char *r = o + on + 1;
	size_t rn = strcspn(r, "/?#");
	if (rn > 4 && strncmp(r + rn - 4, ".git", 4) == 0)
		rn -= 4;
	if (rn == 0)
		return false;
	*host = arena_strndup(a, h, hn);
	*owner = arena_strndup(a, o, on);
	*repo = arena_strndup(a, r, rn);
	return true;
}

/* "owner/repo" of a github.com repository; NULL otherwise. */
static const char *github_slug(Arena *a, const char *url)
{
	const char *host, *owner, *repo;
	if (!repo_parts(a, url, &host, &owner, &repo) || strcmp(host, "github.com") != 0)
		return NULL;
	return arena_sprintf(a, "%s/%s", owner, repo);
}

/* Text that the scaffolder renders with nunjucks (template inputs, the
 * skeleton and its path) must not hold nunjucks syntax of its own: text from
 * platform.yaml that does is left out rather than run. */
static bool nunjucks_inert(const char *s)
{
	static const char *const marks[] = {"{{", "}}", "{%", "%}", "{#", "#}"};
	return !str_has_any(s, marks, ARRAY_LEN(marks));
}

/* The repository URL without a trailing slash or `.git`. */
static const char *repo_base(Arena *a, const char *url)
{
	size_t n = strlen(url);
	while (n && url[n - 1] == '/')
		n--;
	if (n > 4 && strncmp(url + n - 4, ".git", 4) == 0)
		n -= 4;
	return arena_strndup(a, url, n);
}

/* ---- the resource kind's Backstage type and title: its kind.yaml (`type:`,
 * `title:`), for built-in kinds and those of `platform.catalog` alike ---- */
static const char *kind_resource_type(const Platform *p, const char *kind)
{
	const Kind *k = catalog_kind(p, kind);
	return k && k->type && *k->type ? k->type : "cloud-resource";
}

static const char *kind_title(const Platform *p, const char *kind)
{
	const Kind *k = catalog_kind(p, kind);
	return k && k->title && *k->title ? k->title : kind;
}

/* ---- users: a member of several teams is one User ----
 * GitHub user names are case-insensitive and so are Backstage entity names:
 * `Alice` in one team and `alice` in another are one person, written as first seen. */

typedef struct Member {
	const char *name;
	const Team **teams;
	int nteams;
} Member;

typedef struct Members {
	Member *items;
	int n;
} Members;

static Member *member_find(Members *m, const char *name)
{
	for (int i = 0; i < m->n; i++)
		if (strcasecmp(m->items[i].name, name) == 0)
			return &m->items[i];
	return NULL;
}

static Members collect_members(Arena *a, const Platform *p)
{
	int total = 0;
	for (int t = 0; t < p->nteams; t++)
		total += p->teams[t]->nmembers;
	Members m = {arena_alloc(a, sizeof(Member) * (size_t)(total + 1)), 0};
	for (int t = 0; t < p->nteams; t++) {
		const Team *team = p->teams[t];
		for (int i = 0; i < team->nmembers; i++) {
			Member *u = member_find(&m, team->members[i]);
			if (!u) {
				u = &m.items[m.n++];
				u->name = team->members[i];
				u->teams = arena_alloc(a, sizeof(Team *) * (size_t)p->nteams);
			}
			bool seen = false;
			for (int k = 0; k < u->nteams; k++)
				seen |= u->teams[k] == team;
			if (!seen)
				u->teams[u->nteams++] = team;
		}
	}
	return m;
}

/* ---- entities ---- */

/* Every file of the catalog, for the root Location (sorted at the end).
 * On the heap: entities are built in scopes of the arena that end before
 * the Location is written. */
typedef struct Targets {
	char **items;
	int n, cap;
} Targets;

/* doc NULL: the file is there already (a kept unit of output); only the
 * target is listed */
static void add_file(FileSet *fs, Targets *t, const char *rel, DNode *doc)
{
	if (doc)
		fileset_add_yaml(fs, arena_sprintf(fs->arena, "catalog/%s", rel), doc);
	if (t->n == t->cap) {
		t->cap = t->cap ? t->cap * 2 : 64;
		t->items = xrealloc(t->items, (size_t)t->cap * sizeof *t->items);
	}
	size_t n = strlen(rel) + 3;
	t->items[t->n] = xmalloc(n);
	snprintf(t->items[t->n++], n, "./%s", rel);
}

static const char *slack_url(Arena *a, const char *channel)
{
	/* Slack's app_redirect opens a channel by name in the reader's workspace */
	return arena_sprintf(a, "https://slack.com/app_redirect?channel=%s", channel[0] == '#' ? channel + 1 : channel);
}

static DNode *group_entity(Arena *a, const Team *t, Members *m)
{
	DNode *g = entity(a, "Group", t->name);
	DNode *md = doc_get(g, "metadata");
	if (t->title)
		doc_set_str(a, md, "title", t->title);
	doc_set(a, md, "description", doc_strf(a, "The %s team: its services and resources are in platform.yaml",
					       t->name));
	if (t->slack)
		link(a, doc_set_seq(a, md, "links"), slack_url(a, t->slack), t->slack, "chat");
	DNode *spec = doc_set_map(a, g, "spec");
	doc_set_str(a, spec, "type", "team");
	DNode *prof = doc_set_map(a, spec, "profile");
	doc_set_str(a, prof, "displayName", t->title ? t->title : t->name);
	if (t->email)
		doc_set_str(a, prof, "email", t->email);
	doc_set_seq(a, spec, "children");
	DNode *members = doc_set_seq(a, spec, "members");
	for (int i = 0; i < t->nmembers; i++) {
		const char *name = member_find(m, t->members[i])->name;
		bool dup = false;
		for (int k = 0; k < members->n; k++)
			dup |= strcmp(members->items[k]->s, ref(a, "user", name)) == 0;
		if (!dup)
			doc_push_str(a, members, ref(a, "user", name));
	}
	return g;
}

static DNode *user_entity(Arena *a, const Member *u)
{
	DNode *e = entity(a, "User", u->name);
	DNode *md = doc_get(e, "metadata");
	/* members are GitHub user names (guide §3.6) */
	doc_set_str(a, doc_set_map(a, md, "annotations"), "github.com/user-login", u->name);
	link(a, doc_set_seq(a, md, "links"), arena_sprintf(a, "https://github.com/%s", u->name), "GitHub", "github");
	DNode *spec = doc_set_map(a, e, "spec");
	doc_set_str(a, doc_set_map(a, spec, "profile"), "displayName", u->name);
	DNode *of = doc_set_seq(a, spec, "memberOf");
	for (int i = 0; i < u->nteams; i++)
		doc_push_str(a, of, ref(a, "group", u->teams[i]->name));
	return e;
}

static DNode *system_entity(Arena *a, const char *name, const char *description, const Team *owner)
{
	DNode *s = entity(a, "System", name);
	if (description)
		doc_set_str(a, doc_get(s, "metadata"), "description", description);
	doc_set_str(a, doc_set_map(a, s, "spec"), "owner", ref(a, "group", owner->name));
	return s;
}

/* The System a service belongs to: its own, or the platform's. */
static const char *service_system(const Platform *p, const Service *s)
{
	return s->system ? s->system->name : p->name;
}

static bool has_api(const Service *s)
{
	return s->api && strcmp(s->api, "none") != 0 && strcmp(s->api, "http") != 0; /* http: pages, no API */
}

/* Backstage API type of a service's `api`, and where its definition lives
 * in the service's repository (a convention, documented in docs/backstage.md). */
static const char *api_type(const Service *s)
{
	return strcmp(s->api, "rest") == 0 ? "openapi" : s->api; /* grpc, graphql */
}

static const char *api_display(const Service *s)
{
	return strcmp(s->api, "grpc") == 0 ? "gRPC" : strcmp(s->api, "graphql") == 0 ? "GraphQL" : "REST";
}

static const char *api_definition_path(const Service *s)
{
	if (strcmp(s->api, "grpc") == 0)
		return "api.proto";
	if (strcmp(s->api, "graphql") == 0)
		return "schema.graphql";
	return "openapi.yaml";
}

static DNode *component_entity(Arena *a, const Platform *p, const Service *s)
{
	DNode *c = entity(a, "Component", s->name);
	DNode *md = doc_get(c, "metadata");
	if (s->description)
		doc_set_str(a, md, "description", s->description);
	if (s->language && strcmp(s->language, "other") != 0)
		add_tag(a, md, s->language);
	if (has_api(s))
		add_tag(a, md, s->api);

	DNode *links = doc_seq(a);
	for (int e = 0; e < s->nenvs; e++) {
		const ServiceEnv *se = &s->envs[e];
		if (se->ingress_host)
			link(a, links, arena_sprintf(a, "https://%s%s", se->ingress_host, se->ingress_path ? se->ingress_path : "/"),
			     se->env->name, "web");
	}
	if (p->grafana_url)
		link(a, links, arena_sprintf(a, "%s/dashboards?tag=%s", repo_base(a, p->grafana_url), s->name), "Dashboards",
		     "dashboard");
	if (links->n)
		doc_set(a, md, "links", links);

	DNode *ann = doc_set_map(a, md, "annotations");
	/* the same label the workload carries (k8s.c), so the two cannot drift */
	DNode *labels = k8s_service_labels(a, p, s);
	doc_set(a, ann, "backstage.io/kubernetes-id", doc_get(labels, "backstage.io/kubernetes-id"));
	/* the namespace of the last environment in promotion order: the one people look at */
	if (s->nenvs)
		doc_set_str(a, ann, "backstage.io/kubernetes-namespace",
			    k8s_namespace(a, s->team, s->envs[s->nenvs - 1].env));
	doc_set(a, ann, "argocd/app-selector", doc_strf(a, "%s=%s", k8s_label(a, p, "service"), s->name));
	doc_set(a, ann, "grafana/dashboard-selector", doc_strf(a, "tags @> '%s'", s->name));
	if (s->repo) {
		const char *slug = github_slug(a, s->repo);
		if (slug)
			doc_set_str(a, ann, "github.com/project-slug", slug);
		doc_set(a, ann, "backstage.io/source-location", doc_strf(a, "url:%s/", repo_base(a, s->repo)));
	}

	DNode *spec = doc_set_map(a, c, "spec");
	doc_set_str(a, spec, "type", "service");
	doc_set_str(a, spec, "lifecycle", s->lifecycle);
	doc_set_str(a, spec, "owner", ref(a, "group", s->team->name));
	doc_set_str(a, spec, "system", ref(a, "system", service_system(p, s)));
	if (has_api(s))
		doc_push_str(a, doc_set_seq(a, spec, "providesApis"), ref(a, "api", s->name));
	DNode *consumes = doc_seq(a), *depends = doc_seq(a);
	for (int i = 0; i < s->nuses; i++)
		doc_push_str(a, depends, ref(a, "resource", s->uses[i]->name));
	for (int i = 0; i < s->ncalls; i++) {
		/* a called service with an API is consumed through it; one without is a plain dependency */
		if (has_api(s->calls[i]))
			doc_push_str(a, consumes, ref(a, "api", s->calls[i]->name));
		else
			doc_push_str(a, depends, ref(a, "component", s->calls[i]->name));
	}
	if (consumes->n)
		doc_set(a, spec, "consumesApis", consumes);
	if (depends->n)
		doc_set(a, spec, "dependsOn", depends);
	return c;
}

static DNode *api_entity(Arena *a, const Platform *p, const Service *s)
{
	DNode *e = entity(a, "API", s->name);
	DNode *md = doc_get(e, "metadata");
	doc_set(a, md, "description", doc_strf(a, "The %s API of %s", api_display(s), s->name));
	add_tag(a, md, s->api);
	DNode *spec = doc_set_map(a, e, "spec");
	doc_set_str(a, spec, "type", api_type(s));
	doc_set_str(a, spec, "lifecycle", s->lifecycle);
	doc_set_str(a, spec, "owner", ref(a, "group", s->team->name));
	doc_set_str(a, spec, "system", ref(a, "system", service_system(p, s)));
	if (s->repo) {
		/* read by the catalog at ingestion from the service's default branch */
		doc_set(a, doc_set_map(a, spec, "definition"), "$text",
			doc_strf(a, "%s/blob/HEAD/%s", repo_base(a, s->repo), api_definition_path(s)));
	} else {
		DNode *d = doc_strf(a, "The %s API of %s is not published: platform.yaml declares no `repo` for the "
				       "service.\nSet `repo` and keep the definition at `%s` in it.\n",
				    api_display(s), s->name, api_definition_path(s));
		d->literal = true;
		doc_set(a, spec, "definition", d);
	}
	return e;
}

static DNode *resource_entity(Arena *a, const Platform *p, const Resource *r)
{
	DNode *e = entity(a, "Resource", r->name);
	DNode *md = doc_get(e, "metadata");
	doc_set(a, md, "description",
		r->description ? doc_str(a, r->description) : doc_strf(a, "%s (%s)", kind_title(p, r->kind), r->kind));
	add_tag(a, md, r->kind);
	DNode *spec = doc_set_map(a, e, "spec");
	doc_set_str(a, spec, "type", kind_resource_type(p, r->kind));
	doc_set_str(a, spec, "owner", ref(a, "group", r->team->name));
	/* the System of its users when they agree; none when they don't */
	const char *sys = NULL;
	bool agree = true;
	DNode *users = doc_seq(a);
	for (int i = 0; i < p->nservices; i++) {
		const Service *s = p->services[i];
		for (int k = 0; k < s->nuses; k++) {
			if (s->uses[k] != r)
				continue;
			doc_push_str(a, users, ref(a, "component", s->name));
			if (!sys)
				sys = service_system(p, s);
			else if (strcmp(sys, service_system(p, s)) != 0)
				agree = false;
			break;
		}
	}
	if (sys && agree)
		doc_set_str(a, spec, "system", ref(a, "system", sys));
	/* a topic needs the queues it delivers to (sns subscriptions with protocol sqs) */
	const Node *subs = node_get(r->params, "subscriptions");
	DNode *needs = doc_seq(a);
	for (int i = 0; subs && subs->kind == N_SEQ && i < subs->n; i++) {
		const Node *proto = node_get(subs->items[i], "protocol"), *q = node_get(subs->items[i], "resource");
		if (!proto || !q || proto->kind != N_SCALAR || q->kind != N_SCALAR || strcmp(proto->text, "sqs") != 0)
			continue;
		for (int k = 0; k < p->nresources; k++)
			if (strcmp(p->resources[k]->name, q->text) == 0)
				doc_push_str(a, needs, ref(a, "resource", q->text));
	}
	if (needs->n)
		doc_set(a, spec, "dependsOn", needs);
	if (users->n)
		doc_set(a, spec, "dependencyOf", users);
	return e;
}

/* ---- scaffolder templates ----
 *
 * A form is built from a small description of each field (BsParam). The
 * same description drives the JSON Schema form, the step's `values` and the
 * skeleton, so the three cannot disagree. A resource kind's fields are
 * converted from its parameter schema in the catalog (`params` of
 * catalog/<kind>/kind.yaml, the data `platformc check` uses), so the form of
 * a built-in kind and of a `platform.catalog` kind are made the same way and
 * cannot drift from what check accepts; the service form is written below. */

typedef enum BsType { BP_STRING, BP_INT, BP_NUMBER, BP_PERCENT, BP_BOOL, BP_DURATION, BP_OBJECT, BP_LIST } BsType;

typedef struct BsChoice {
	const char *value, *title;
} BsChoice;

typedef struct BsParam {
	const char *name, *title, *description;
	const char *key;               /* the form's field name when not `name` (all pages share one namespace) */
	BsType type;
	const BsChoice *choices;       /* enum values with titles; {NULL} ends */
	const char *def;               /* default as text ("0.5", "true", "serverless"); NULL: none */
	bool required;
	const char *min, *max, *step;  /* numbers as text; step becomes multipleOf */
	const char *pattern;           /* ECMAScript, as JSON Schema reads it */
	bool keep;                     /* BP_OBJECT: written when set even at its defaults (its presence counts) */
	const struct BsParam *fields;  /* BP_OBJECT: its fields; {NULL} ends */
	const struct BsParam *item;    /* BP_LIST: an item */
} BsParam;

#define NAME_PATTERN "^[a-z]([-a-z0-9]*[a-z0-9])?$"
#define DURATION_PATTERN "^[0-9]+(ms|s|m|h|d)$"
#define QUANTITY_PATTERN "^[0-9]+(\\.[0-9]+)?(m|k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei)?$"
#define DATE_PATTERN "^[0-9]{4}-[0-9]{2}-[0-9]{2}$"

static const char *form_key(const BsParam *bp)
{
	return bp->key ? bp->key : bp->name;
}

/* A nunjucks member lookup: `base.name`, or `base["name"]` for the names the
 * nunjucks lexer reads as literals rather than as names. */
static const char *njk_member(Arena *a, const char *base, const char *name)
{
	static const char *const literals[] = {"true", "false", "none", "null"};
	for (size_t i = 0; i < ARRAY_LEN(literals); i++)
		if (strcmp(name, literals[i]) == 0)
			return arena_sprintf(a, "%s[\"%s\"]", base, name);
	return arena_sprintf(a, "%s.%s", base, name);
}

/* ---- a kind's parameters as form fields ---- */

static const char *scalar_text(const Node *n)
{
	return n && n->kind == N_SCALAR && !n->is_null ? n->text : NULL;
}

/* "backup_retention_days" -> "Backup retention days": the title of a
 * parameter whose kind gives none. */
static const char *humanize(Arena *a, const char *name)
{
	char *t = arena_strdup(a, name);
	for (char *c = t; *c; c++)
		if (*c == '_')
			*c = ' ';
	if (t[0] >= 'a' && t[0] <= 'z')
		t[0] = (char)(t[0] - 'a' + 'A');
	return t;
}

/* "A" + "B." -> "A. B." */
static const char *add_sentence(Arena *a, const char *desc, const char *sentence)
{
	if (!sentence)
		return desc;
	if (!desc || !*desc)
		return sentence;
	return arena_sprintf(a, "%s%s %s", desc, strchr(".!?", desc[strlen(desc) - 1]) ? "" : ".", sentence);
}

/* A kind's pattern (PCRE2, matched whole) as a JSON Schema pattern
 * (ECMAScript, matched anywhere): anchored unless it already is; NULL when
 * it uses syntax ECMAScript lacks, which leaves it to `platformc check`. */
static const char *form_pattern(Arena *a, const char *re)
{
	static const char *const pcre_only[] = {"(?P", "(?>", "(?|", "(?(", "(?R", "(?#", "(?i", "(?m", "(?s", "(?x",
						"(?-", "(?U", "(?J", "\\A", "\\Z", "\\z", "\\G", "\\K", "\\Q", "\\E",
						"\\h", "\\H", "\\R", "\\X", "\\C", "[[:", "*+", "++", "?+", "}+"};
	for (size_t i = 0; i < ARRAY_LEN(pcre_only); i++)
		if (strstr(re, pcre_only[i]))
			return NULL;
	/* `^...$` with no `|` outside groups and classes is anchored already */
	size_t n = strlen(re);
	bool anchored = n >= 2 && re[0] == '^' && re[n - 1] == '$' && re[n - 2] != '\\';
	int depth = 0;
	bool in_class = false;
	for (size_t i = 0; anchored && i < n; i++) {
		if (re[i] == '\\') {
			i++;
			continue;
		}
		if (in_class)
			in_class = re[i] != ']';
		else if (re[i] == '[')
			in_class = true;
		else if (re[i] == '(')
			depth++;
		else if (re[i] == ')')
			depth--;
		else if (re[i] == '|' && depth == 0)
			anchored = false;
	}
	return anchored ? re : arena_sprintf(a, "^(?:%s)$", re);
}

/* "Default: 1, and 2 in prod environments." for a per-tier default. */
static const char *tier_default_note(Arena *a, const Param *p)
{
	const char *np = p->has_def ? scalar_text(p->def) : NULL, *pr = p->has_def_prod ? scalar_text(p->def_prod) : NULL;
	if (np && pr)
		return arena_sprintf(a, "Default: %s, and %s in prod environments.", np, pr);
	if (pr)
		return arena_sprintf(a, "Default in prod environments: %s.", pr);
	if (np)
		return arena_sprintf(a, "Default outside prod environments: %s.", np);
	return NULL;
}

/* The messages of an object's constraints, which the form cannot express. */
static const char *rules_note(Arena *a, const Param *obj)
{
	if (!obj || !obj->ncons)
		return NULL;
	StrBuf b;
	sb_init(&b);
	sb_puts(&b, "Checked on the pull request: ");
	for (int i = 0; i < obj->ncons; i++)
		sb_printf(&b, "%s%s", i ? "; " : "", obj->cons[i].message);
	sb_putc(&b, '.');
	const char *s = arena_strdup(a, b.data);
	sb_free(&b);
	return s;
}

static bool has_required_field(const Param *obj)
{
	for (int i = 0; i < obj->nfields; i++)
		if (obj->fields[i].required)
			return true;
	return false;
}

/* A default the form and the skeleton's conditions can hold as it is. */
static bool default_ok(BsType t, const char *text)
{
	bool b;
	long long i;
	double d;
	switch (t) {
	case BP_BOOL: return scalar_bool(text, &b);
	case BP_INT: return scalar_int(text, &i);
	case BP_NUMBER: case BP_PERCENT: return scalar_number(text, &d);
	default: return nunjucks_inert(text);
	}
}

static const BsParam *form_params(Arena *a, const Param *obj, const Node *obj_default, const Node *platform_defaults);

/* One parameter as a form field. `obj_default`: the default of the object
 * that holds it (its value for this field wins over the field's own). */
static void form_param(Arena *a, BsParam *bp, const Param *p, const Node *obj_default, const Node *platform_defaults)
{
	bp->name = p->name;
	bp->title = p->title ? p->title : humanize(a, p->name);
	bp->required = p->required;
	/* a description that only repeats the title says nothing in a form */
	const char *desc = p->description && strcasecmp(p->description, bp->title) != 0 ? p->description : NULL;
	switch (p->type) {
	case T_INT: bp->type = BP_INT; break;
	case T_NUMBER: bp->type = BP_NUMBER; break;
	case T_PERCENT: bp->type = BP_PERCENT; break;
	case T_BOOL: bp->type = BP_BOOL; break;
	case T_DURATION: bp->type = BP_DURATION; break;
	case T_OBJECT: bp->type = BP_OBJECT; break;
	case T_LIST: bp->type = BP_LIST; break;
	default: bp->type = BP_STRING; break;
	}
	if (p->nenums) {
		BsChoice *c = arena_alloc(a, sizeof(BsChoice) * (size_t)(p->nenums + 1));
		for (int i = 0; i < p->nenums; i++)
			c[i] = (BsChoice){p->enums[i], p->enum_titles && p->enum_titles[i] ? p->enum_titles[i] : p->enums[i]};
		bp->choices = c;
	}

	/* a default that differs per tier has no form default, so the tier
	 * rule keeps applying unless the user sets a value */
	bool tiered = p->has_def != p->has_def_prod || p->def != p->def_prod;
	const Node *def = tiered || !p->has_def ? NULL : p->def;
	const char *over = scalar_text(node_get(obj_default, p->name));
	if (bp->type != BP_OBJECT && bp->type != BP_LIST) {
		bp->def = over ? over : scalar_text(def);
		if (bp->def && !default_ok(bp->type, bp->def)) /* it is written into the skeleton's conditions */
			bp->def = NULL;
		const Node *pd = node_get(platform_defaults, p->name);
		if (tiered && !over && !(pd && pd->kind == N_SCALAR && !pd->is_null))
			desc = add_sentence(a, desc, tier_default_note(a, p));
	}

	const char *min = p->has_min ? scalar_text(node_get(p->node, "min")) : NULL;
	const char *max = p->has_max ? scalar_text(node_get(p->node, "max")) : NULL;
	const char *step = p->has_step ? scalar_text(node_get(p->node, "step")) : NULL;
	if (bp->type == BP_INT || bp->type == BP_NUMBER || bp->type == BP_PERCENT) {
		bp->min = min, bp->max = max;
		/* the kind's steps count from `min`, multipleOf from 0 */
		double k = (p->has_min ? p->min : 0) / (p->has_step ? p->step : 1), frac = k - (double)(long long)k;
		if (step && (frac < 0 ? -frac : frac) < 1e-9)
			bp->step = step;
		else if (step)
			desc = add_sentence(a, desc, arena_sprintf(a, "In steps of %s from %s.", step, min ? min : "0"));
	} else if (bp->type == BP_DURATION) {
		/* JSON Schema has no duration ranges */
		if (min || max)
			desc = add_sentence(a, desc, min && max ? arena_sprintf(a, "From %s to %s.", min, max)
							  : min ? arena_sprintf(a, "At least %s.", min)
								: arena_sprintf(a, "At most %s.", max));
		if (step)
			desc = add_sentence(a, desc, arena_sprintf(a, "In steps of %s.", step));
	}

	if (p->pattern)
		bp->pattern = form_pattern(a, p->pattern);
	else if (p->type == T_NAME)
		bp->pattern = NAME_PATTERN;
	else if (p->type == T_QUANTITY)
		bp->pattern = QUANTITY_PATTERN;
	else if (p->type == T_URL)
		bp->pattern = "^https://";
	else if (p->type == T_DATE)
		bp->pattern = DATE_PATTERN;

	if (bp->type == BP_OBJECT) {
		bp->fields = form_params(a, p, def && def->kind == N_MAP ? def : NULL, NULL);
		/* an object without a default is absent unless written: when no
		 * required field marks it, writing it is what turns it on */
		bp->keep = !p->has_def && !p->has_def_prod && !has_required_field(p);
		desc = add_sentence(a, desc, rules_note(a, p));
	} else if (bp->type == BP_LIST && p->item) {
		BsParam *it = arena_alloc(a, sizeof *it);
		form_param(a, it, p->item, NULL, NULL);
		it->required = true;
		bp->item = it;
		desc = add_sentence(a, desc, rules_note(a, p->item));
	}
	bp->description = desc;
}

static const BsParam *form_params(Arena *a, const Param *obj, const Node *obj_default, const Node *platform_defaults)
{
	BsParam *ps = arena_alloc(a, sizeof(BsParam) * (size_t)(obj->nfields + 1));
	for (int i = 0; i < obj->nfields; i++)
		form_param(a, &ps[i], &obj->fields[i], obj_default, platform_defaults);
	return ps;
}

/* The second page of `new-<kind>`: the kind's parameters. `name` and `team`
 * are the first page's fields, so parameters of those names get other keys. */
static const BsParam *kind_form(Arena *a, const Kind *k, const Node *platform_defaults)
{
	BsParam *ps = (BsParam *)form_params(a, &k->params, NULL, platform_defaults);
	for (BsParam *bp = ps; bp->name; bp++) {
		if (strcmp(bp->name, "name") != 0 && strcmp(bp->name, "team") != 0)
			continue;
		const char *key = bp->name;
		bool taken = true;
		while (taken) {
			key = arena_sprintf(a, "param_%s", key);
			taken = false;
			for (const BsParam *o = ps; o->name; o++)
				taken |= strcmp(form_key(o), key) == 0;
		}
		bp->key = key;
	}
	return ps;
}

/* A default as a typed form value. */
static DNode *typed_value(Arena *a, BsType t, const char *text)
{
	switch (t) {
	case BP_BOOL:
		return doc_bool(a, strcmp(text, "true") == 0);
	case BP_INT:
		return doc_int(a, strtoll(text, NULL, 10));
	case BP_NUMBER:
	case BP_PERCENT:
		return doc_num(a, strtod(text, NULL));
	default:
		return doc_str(a, text);
	}
}

/* A default as a nunjucks literal (JSON). */
static const char *nunjucks_literal(Arena *a, BsType t, const char *text)
{
	if (t == BP_BOOL || t == BP_INT || t == BP_NUMBER || t == BP_PERCENT)
		return text;
	StrBuf b;
	sb_init(&b);
	json_string(&b, text);
	const char *s = arena_strdup(a, b.data);
	sb_free(&b);
	return s;
}

/* The effective default of a field: the platform's (`defaults`) when it
 * sets a scalar, else the field's own. */
static const char *effective_default(const BsParam *bp, const Node *platform_defaults)
{
	const Node *n = node_get(platform_defaults, bp->name);
	if (n && n->kind == N_SCALAR && !n->is_null && bp->type != BP_OBJECT && bp->type != BP_LIST &&
	    default_ok(bp->type, n->text))
		return n->text;
	return bp->def;
}

static DNode *form_fields(Arena *a, const BsParam *ps, const Node *platform_defaults, DNode **required,
			  bool enforce_required);

/* A field's title, description and schema; an item of a list has no title. */
static DNode *form_field(Arena *a, const BsParam *bp, const Node *platform_defaults, bool titled)
{
	DNode *f = doc_map(a);
	if (titled)
		doc_set_str(a, f, "title", bp->title ? bp->title : bp->name);
	if (bp->description)
		doc_set_str(a, f, "description", bp->description);
	static const char *const json_type[] = {
		[BP_STRING] = "string", [BP_INT] = "integer", [BP_NUMBER] = "number", [BP_PERCENT] = "number",
		[BP_BOOL] = "boolean", [BP_DURATION] = "string", [BP_OBJECT] = "object", [BP_LIST] = "array",
	};
	doc_set_str(a, f, "type", json_type[bp->type]);
	if (bp->choices) {
		DNode *one = doc_set_seq(a, f, "oneOf");
		for (const BsChoice *c = bp->choices; c->value; c++) {
			DNode *o = doc_push_map(a, one);
			doc_set(a, o, "const", typed_value(a, bp->type, c->value));
			doc_set_str(a, o, "title", c->title);
		}
	}
	const char *def = effective_default(bp, platform_defaults);
	if (def)
		doc_set(a, f, "default", typed_value(a, bp->type, def));
	if (bp->min)
		doc_set(a, f, "minimum", typed_value(a, bp->type, bp->min));
	if (bp->max)
		doc_set(a, f, "maximum", typed_value(a, bp->type, bp->max));
	if (bp->type == BP_PERCENT) {
		doc_set_int(a, f, "exclusiveMinimum", 0);
		doc_set_int(a, f, "exclusiveMaximum", 100);
	}
	if (bp->step)
		doc_set(a, f, "multipleOf", doc_num(a, strtod(bp->step, NULL)));
	if (bp->pattern)
		doc_set_str(a, f, "pattern", bp->pattern);
	else if (bp->type == BP_DURATION)
		doc_set_str(a, f, "pattern", DURATION_PATTERN);
	if (bp->type == BP_OBJECT) {
		/* the form always holds an object field (as `{}` when empty), so the
		 * fields of an optional one cannot be required: platformc check
		 * reports a half-filled one */
		DNode *req = NULL;
		doc_set(a, f, "properties", form_fields(a, bp->fields, NULL, &req, bp->required));
		if (req)
			doc_set(a, f, "required", req);
	} else if (bp->type == BP_LIST && bp->item && bp->item->type == BP_OBJECT) {
		/* the fields of an item are required as the kind says: an item is there */
		DNode *items = doc_set_map(a, f, "items");
		doc_set_str(a, items, "type", "object");
		DNode *req = NULL;
		doc_set(a, items, "properties", form_fields(a, bp->item->fields, NULL, &req, true));
		if (req)
			doc_set(a, items, "required", req);
	} else if (bp->type == BP_LIST && bp->item) {
		doc_set(a, f, "items", form_field(a, bp->item, NULL, false));
	}
	return f;
}

static DNode *form_fields(Arena *a, const BsParam *ps, const Node *platform_defaults, DNode **required,
			  bool enforce_required)
{
	DNode *props = doc_map(a);
	for (const BsParam *bp = ps; bp->name; bp++) {
		doc_set(a, props, form_key(bp), form_field(a, bp, platform_defaults, true));
		if (bp->required && enforce_required) {
			if (!*required) {
				*required = doc_seq(a);
				(*required)->flow = true;
			}
			doc_push_str(a, *required, form_key(bp));
		}
	}
	return props;
}

/* The nunjucks condition under which the skeleton writes `path` (a value of
 * field `bp`): it is set and differs from its default, or (objects) one of
 * its fields does; required fields are written whenever set. */
static const char *write_condition(Arena *a, const BsParam *bp, const char *path, const Node *platform_defaults)
{
	const char *set = arena_sprintf(a, "(%s is defined and %s !== null and %s !== \"\")", path, path, path);
	if (bp->required || bp->keep)
		return set;
	if (bp->type == BP_LIST)
		return arena_sprintf(a, "(%s is defined and %s !== null and (%s | length) > 0)", path, path, path);
	if (bp->type == BP_OBJECT) {
		StrBuf b;
		sb_init(&b);
		sb_printf(&b, "(%s is defined and %s !== null and (", path, path);
		int k = 0;
		for (const BsParam *f = bp->fields; f->name; f++)
			sb_printf(&b, "%s%s", k++ ? " or " : "",
				  write_condition(a, f, njk_member(a, path, f->name), NULL));
		sb_puts(&b, "))");
		const char *s = arena_strdup(a, b.data);
		sb_free(&b);
		return s;
	}
	const char *def = effective_default(bp, platform_defaults);
	if (!def)
		return set;
	return arena_sprintf(a, "(%s is defined and %s !== %s)", path, path, nunjucks_literal(a, bp->type, def));
}

/* Lines of the skeleton for `ps`, each under its own condition, values as
 * JSON (a YAML subset), so no text a user types can change the structure. */
static void skeleton_fields(Arena *a, StrBuf *b, const BsParam *ps, const char *base, const char *indent,
			    const Node *platform_defaults)
{
	for (const BsParam *bp = ps; bp->name; bp++) {
		const char *path = njk_member(a, base, bp->name);
		sb_printf(b, "{%%- if %s %%}\n%s%s: ${{ %s | dump }}\n{%%- endif %%}\n",
			  write_condition(a, bp, path, platform_defaults), indent, bp->name, path);
	}
}

/* The longest environment name: a name must leave room for `<name>-<env>`. */
static int name_max_len(const Platform *p)
{
	size_t longest = 0;
	for (int e = 0; e < p->nenvs; e++)
		if (strlen(p->envs[e].name) > longest)
			longest = strlen(p->envs[e].name);
	return MAX_NAME_LEN - 1 - (int)longest;
}

/* Where a template's file goes: `<folder>/<name>.yaml` under the folder of
 * the first `include` glob that picks up every such file (NULL: none does,
 * and no template is written). */
static const char *include_folder(Arena *a, const Platform *p)
{
	const Node *inc = node_get(p->root, "include");
	for (int i = 0; inc && inc->kind == N_SEQ && i < inc->n; i++) {
		const Node *g = inc->items[i];
		if (g->kind != N_SCALAR)
			continue;
		const char *slash = strrchr(g->text, '/');
		if (!slash || slash == g->text)
			continue; /* a file beside platform.yaml could be platform.yaml itself */
		const char *dir = arena_strndup(a, g->text, (size_t)(slash - g->text));
		/* a plain folder: it becomes part of paths the scaffolder renders */
		if (strspn(dir, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-/") != strlen(dir) ||
		    strstr(dir, "//") || dir[strlen(dir) - 1] == '/')
			continue;
		/* the shortest and the longest name must both match */
		char longest[MAX_NAME_LEN + 1];
		memset(longest, 'a', sizeof longest - 1);
		longest[name_max_len(p) > 0 ? name_max_len(p) : 1] = 0;
		const char *samples[] = {"a", "a-1", longest};
		bool all = true;
		for (size_t k = 0; k < ARRAY_LEN(samples); k++)
			all &= fnmatch(g->text, arena_sprintf(a, "%s/%s.yaml", dir, samples[k]), FNM_PATHNAME | FNM_PERIOD) == 0;
		if (all)
			return dir;
	}
	return NULL;
}

typedef struct TemplateSpec {
	const char *name, *title, *description, *type, *tag;
	const char *what;              /* "resource" or "service": the list the file adds to */
	const BsParam *fields;         /* the second form page (the first: name, team) */
	const char *fields_title;
	const char *fields_description;  /* NULL: none */
	const char *skeleton;          /* nunjucks text of the one file */
	const Node *defaults;          /* the platform's defaults for `fields` */
} TemplateSpec;

static DNode *name_field(Arena *a, const Platform *p, const char *what)
{
	DNode *f = doc_map(a);
	doc_set_str(a, f, "title", "Name");
	doc_set(a, f, "description",
		doc_strf(a, "The %s's name: lower-case letters, digits and dashes. Services and resources share one "
			    "name space.", what));
	doc_set_str(a, f, "type", "string");
	doc_set_str(a, f, "pattern", NAME_PATTERN);
	doc_set_int(a, f, "maxLength", name_max_len(p));
	doc_set_bool(a, f, "ui:autofocus", true);
	return f;
}

static DNode *owner_field(Arena *a, const char *what)
{
	DNode *f = doc_map(a);
	doc_set_str(a, f, "title", "Team");
	doc_set(a, f, "description", doc_strf(a, "The team that owns the %s.", what));
	doc_set_str(a, f, "type", "string");
	doc_set_str(a, f, "ui:field", "OwnerPicker");
	DNode *opt = doc_set_map(a, f, "ui:options");
	doc_set_str(a, doc_push_map(a, doc_set_seq(a, opt, "catalogFilter")), "kind", "Group");
	doc_set_bool(a, opt, "allowArbitraryValues", false);
	return f;
}

/* `values` of the fetch step: each field of the form, as the scaffolder
 * passes it (a single `${{ }}` keeps its type). */
static DNode *step_values(Arena *a, const BsParam *ps)
{
	DNode *v = doc_map(a);
	for (const BsParam *bp = ps; bp->name; bp++)
		doc_set(a, v, bp->name, doc_strf(a, "${{ %s }}", njk_member(a, "parameters", form_key(bp))));
	return v;
}

static DNode *template_entity(Arena *a, const Platform *p, const TemplateSpec *t, const char *folder,
			      DNode *values)
{
	DNode *e = doc_map(a);
	doc_set_str(a, e, "apiVersion", BS_TEMPLATE_API);
	doc_set_str(a, e, "kind", "Template");
	DNode *md = doc_set_map(a, e, "metadata");
	doc_set_str(a, md, "name", t->name);
	doc_set_str(a, md, "title", t->title);
	doc_set_str(a, md, "description", t->description);
	add_tag(a, md, "platformc");
	add_tag(a, md, t->what);
	if (t->tag)
		add_tag(a, md, t->tag);
	DNode *spec = doc_set_map(a, e, "spec");
	doc_set_str(a, spec, "owner", ref(a, "group", p->owner->name));
	doc_set_str(a, spec, "type", t->type);

	DNode *params = doc_set_seq(a, spec, "parameters");
	DNode *page = doc_push_map(a, params);
	doc_set_str(a, page, "title", t->title);
	DNode *req = doc_set_seq(a, page, "required");
	req->flow = true;
	doc_push_str(a, req, "name");
	doc_push_str(a, req, "team");
	DNode *props = doc_set_map(a, page, "properties");
	doc_set(a, props, "name", name_field(a, p, t->what));
	doc_set(a, props, "team", owner_field(a, t->what));
	if (t->fields && t->fields->name) {
		DNode *page2 = doc_push_map(a, params);
		doc_set_str(a, page2, "title", t->fields_title);
		if (t->fields_description)
			doc_set_str(a, page2, "description", t->fields_description);
		DNode *req2 = NULL;
		DNode *props2 = form_fields(a, t->fields, t->defaults, &req2, true);
		if (req2)
			doc_set(a, page2, "required", req2);
		doc_set(a, page2, "properties", props2);
	}

	const char *file = arena_sprintf(a, "%s/${{ parameters.name }}.yaml", folder);
	DNode *steps = doc_set_seq(a, spec, "steps");
	DNode *fetch = doc_push_map(a, steps);
	doc_set_str(a, fetch, "id", "fetch");
	doc_set(a, fetch, "name", doc_strf(a, "Write %s", file));
	doc_set_str(a, fetch, "action", "fetch:template");
	DNode *in = doc_set_map(a, fetch, "input");
	doc_set_str(a, in, "url", "./skeleton");
	doc_set_bool(a, in, "templateFileExtension", true);
	doc_set(a, in, "values", values);

	const char *host, *owner, *repo;
	repo_parts(a, p->gitops_repo, &host, &owner, &repo); /* checked by backend_backstage */
	DNode *pr = doc_push_map(a, steps);
	doc_set_str(a, pr, "id", "pr");
	doc_set_str(a, pr, "name", "Open a pull request");
	doc_set_str(a, pr, "action", "publish:github:pull-request");
	in = doc_set_map(a, pr, "input");
	doc_set(a, in, "repoUrl", doc_strf(a, "%s?owner=%s&repo=%s", host, owner, repo));
	doc_set(a, in, "branchName", doc_strf(a, "platformc/%s-${{ parameters.name }}", t->name));
	if (p->gitops_revision && nunjucks_inert(p->gitops_revision))
		doc_set_str(a, in, "targetBranchName", p->gitops_revision);
	doc_set(a, in, "title", doc_strf(a, "Add %s ${{ parameters.name }}", t->what));
	DNode *desc = doc_strf(a,
			       "Adds `%s`, written by the Backstage template `%s`.\n\n"
			       "CI runs `platformc check` on it; once merged, `platformc render` turns it into the "
			       "platform's output.\n",
			       file, t->name);
	desc->literal = true;
	doc_set(a, in, "description", desc);

	DNode *out = doc_set_map(a, spec, "output");
	DNode *l = doc_push_map(a, doc_set_seq(a, out, "links"));
	doc_set_str(a, l, "title", "Pull request");
	doc_set_str(a, l, "url", "${{ steps.pr.output.remoteUrl }}");
	return e;
}

static void add_template(FileSet *fs, Targets *tg, const TemplateSpec *t, DNode *doc, const char *folder)
{
	Arena *a = fs->arena;
	add_file(fs, tg, arena_sprintf(a, "templates/%s/template.yaml", t->name), doc);
	fileset_add_text(fs, arena_sprintf(a, "catalog/templates/%s/skeleton/%s/${{ values.name }}.yaml.njk", t->name, folder),
			 t->skeleton);
}

/* The skeleton's first lines: a nunjucks comment (not in the rendered
 * file) and a YAML comment that is. */
static void skeleton_head(StrBuf *b, const FileSet *fs, const char *folder, const char *what, const char *tname)
{
	sb_printf(b, "{# %s: fetch:template renders this file into the pull request -#}\n", fs->header);
	sb_printf(b, "# %s/${{ values.name }}.yaml: a %s added by the Backstage template `%s`.\n", folder, what, tname);
	sb_puts(b, "# Fields left at their defaults are not written: the platform's defaults apply.\n");
}

static void resource_template(const Platform *p, FileSet *fs, Targets *tg, const char *folder, const Kind *k)
{
	Arena *a = fs->arena;
	const char *kind = k->name;
	if (strlen("new-") + strlen(kind) > MAX_NAME_LEN)
		return; /* not a Backstage entity name */
	const char *title = kind_title(p, kind);
	const Node *pdef = node_get(p->defaults_resources, kind);
	const BsParam *ps = kind_form(a, k, pdef);
	StrBuf b;
	sb_init(&b);
	skeleton_head(&b, fs, folder, arena_sprintf(a, "`%s` resource", kind), arena_sprintf(a, "new-%s", kind));
	/* name and team are names (a pattern, a Backstage entity name): plain is safe */
	sb_printf(&b, "resources:\n  - name: ${{ values.name }}\n    kind: %s\n    team: ${{ values.team }}\n", kind);
	/* `params:` only when something goes under it */
	sb_puts(&b, "{%- if false");
	for (const BsParam *bp = ps; bp->name; bp++)
		sb_printf(&b, " or %s",
			  write_condition(a, bp, njk_member(a, "values.params", bp->name), pdef));
	sb_puts(&b, " %}\n    params:\n{%- endif %}\n");
	skeleton_fields(a, &b, ps, "values.params", "      ", pdef);
	TemplateSpec t = {
		.name = arena_sprintf(a, "new-%s", kind),
		.title = arena_sprintf(a, "New %s", title),
		.description = arena_sprintf(a, "Adds a `%s` resource (%s) to the %s platform: a pull request that adds "
					     "one file under %s/.",
					     kind, title, p->name, folder),
		.type = "resource",
		.tag = kind_resource_type(p, kind),
		.what = "resource",
		.fields = ps,
		.fields_title = "Parameters",
		.fields_description = rules_note(a, &k->params),
		.skeleton = b.data,
		.defaults = pdef,
	};
	DNode *values = doc_map(a);
	doc_set_str(a, values, "name", "${{ parameters.name }}");
	doc_set_str(a, values, "team", "${{ parameters.team | parseEntityRef | pick('name') }}");
	doc_set(a, values, "params", step_values(a, ps));
	add_template(fs, tg, &t, template_entity(a, p, &t, folder, values), folder);
	sb_free(&b);
}

/* The service form: what a new service needs; everything else comes from
 * `defaults.service` and can be added to the file later. */
static void service_template(const Platform *p, FileSet *fs, Targets *tg, const char *folder)
{
	Arena *a = fs->arena;
	static const BsChoice languages[] = {{"python", "Python"}, {"node", "Node.js"}, {"go", "Go"}, {"java", "Java"},
					     {"ruby", "Ruby"}, {"rust", "Rust"}, {"other", "Other"}, {NULL, NULL}};
	static const BsChoice apis[] = {{"rest", "REST (OpenAPI)"}, {"grpc", "gRPC"}, {"graphql", "GraphQL"},
					{"none", "No API"}, {NULL, NULL}};
	static const BsChoice lifecycles[] = {
		{"experimental", "Experimental"}, {"production", "Production"}, {"deprecated", "Deprecated"}, {NULL, NULL}};
	BsChoice *systems = arena_alloc(a, sizeof(BsChoice) * (size_t)(p->nsystems + 1));
	for (int i = 0; i < p->nsystems; i++)
		systems[i] = (BsChoice){p->systems[i]->name,
					p->systems[i]->description ? arena_sprintf(a, "%s: %s", p->systems[i]->name,
										   p->systems[i]->description)
								   : p->systems[i]->name};
	BsChoice *registries = arena_alloc(a, sizeof(BsChoice) * (size_t)(p->nregistries + 1));
	for (int i = 0; i < p->nregistries; i++)
		registries[i] = (BsChoice){p->registries[i], p->registries[i]};
	BsParam fields[] = {
		{.name = "description", .title = "Description", .type = BP_STRING},
		{.name = "system", .title = "System", .type = BP_STRING, .choices = systems,
		 .description = "Optional: the system the service belongs to."},
		{.name = "repo", .title = "Source repository", .type = BP_STRING, .pattern = "^https://",
		 .description = "Optional, e.g. https://github.com/<org>/<service>."},
		{.name = "registry", .title = "Image registry", .type = BP_STRING, .choices = registries,
		 .def = p->nregistries ? p->registries[0] : NULL, .required = true,
		 .description = "The image is <registry>/<name>; CD sets its tag per environment."},
		{.name = "language", .title = "Language", .type = BP_STRING, .choices = languages,
		 .def = schema_default(p->schema, "Service", "language")},
		{.name = "port", .title = "Port", .type = BP_INT, .def = schema_default(p->schema, "Service", "port"),
		 .min = "1", .max = "65535"},
		{.name = "api", .title = "API", .type = BP_STRING, .choices = apis,
		 .def = schema_default(p->schema, "Service", "api")},
		{.name = "lifecycle", .title = "Lifecycle", .type = BP_STRING, .choices = lifecycles,
		 .def = schema_default(p->schema, "Service", "lifecycle")},
		{0},
	};
	/* a service may name only a declared system: without any, no field */
	if (!p->nsystems)
		memmove(&fields[1], &fields[2], sizeof fields - 2 * sizeof fields[0]);
	StrBuf b;
	sb_init(&b);
	skeleton_head(&b, fs, folder, "service", "new-service");
	sb_puts(&b, "services:\n  - name: ${{ values.name }}\n    team: ${{ values.team }}\n");
	sb_puts(&b, "    image: ${{ values.registry }}/${{ values.name }}\n");
	BsParam rest[ARRAY_LEN(fields)];
	int n = 0;
	for (size_t i = 0; fields[i].name; i++)
		if (strcmp(fields[i].name, "registry") != 0)
			rest[n++] = fields[i];
	rest[n] = (BsParam){0};
	skeleton_fields(a, &b, rest, "values", "    ", p->defaults_service);
	TemplateSpec t = {
		.name = "new-service",
		.title = "New service",
		.description = arena_sprintf(a, "Registers a service on the %s platform: a pull request that adds one "
					     "file under %s/. Deployment, monitoring and its catalog entry follow from it.",
					     p->name, folder),
		.type = "service",
		.what = "service",
		.fields = fields,
		.fields_title = "Service",
		.skeleton = b.data,
		.defaults = p->defaults_service,
	};
	DNode *values = doc_map(a);
	doc_set_str(a, values, "name", "${{ parameters.name }}");
	doc_set_str(a, values, "team", "${{ parameters.team | parseEntityRef | pick('name') }}");
	DNode *sv = step_values(a, fields);
	for (int i = 0; i < sv->n; i++)
		doc_set(a, values, sv->pairs[i].key, sv->pairs[i].val);
	add_template(fs, tg, &t, template_entity(a, p, &t, folder, values), folder);
	sb_free(&b);
}

/* Every kind of the catalog: the built-in ones and those of
 * `platform.catalog` (sorted by name). */
static void resource_templates(const Platform *p, FileSet *fs, Targets *tg, const char *folder)
{
	for (int i = 0; p->catalog && i < p->catalog->n; i++)
		resource_template(p, fs, tg, folder, p->catalog->kinds[i]);
}

static int cmp_target(const void *x, const void *y)
{
	return strcmp(*(const char *const *)x, *(const char *const *)y);
}

void backend_backstage(const Platform *p, FileSet *fs)
{
	Arena *a = fs->arena;
	/* what outlives the items (lists, indexes, the whole family's documents)
	 * is dropped when the family is done */
	ArenaMark whole = arena_mark(a);
	Targets tg = {0};

	Members members = collect_members(a, p);
	/* each entity's document is dropped once it is added */
	ArenaMark scope;
	for (int t = 0; t < p->nteams; t++) {
		scope = arena_mark(a);
		add_file(fs, &tg, arena_sprintf(a, "groups/%s.yaml", p->teams[t]->name),
			 group_entity(a, p->teams[t], &members));
		arena_release(a, scope);
	}
	for (int i = 0; i < members.n; i++) {
		scope = arena_mark(a);
		add_file(fs, &tg, arena_sprintf(a, "users/%s.yaml", members.items[i].name),
			 user_entity(a, &members.items[i]));
		arena_release(a, scope);
	}

	bool platform_system_declared = false;
	for (int i = 0; i < p->nsystems; i++) {
		const System *s = p->systems[i];
		platform_system_declared |= strcmp(s->name, p->name) == 0;
		add_file(fs, &tg, arena_sprintf(a, "systems/%s.yaml", s->name),
			 system_entity(a, s->name, s->description, s->owner));
	}
	if (!platform_system_declared)
		add_file(fs, &tg, arena_sprintf(a, "systems/%s.yaml", p->name),
			 system_entity(a, p->name,
				       arena_sprintf(a, "The %s platform itself, and services that belong to no other "
							"system", p->name),
				       p->owner));

	for (int i = 0; i < p->nservices; i++) {
		scope = arena_mark(a);
		const Service *s = p->services[i];
		/* kept as they are when nothing the service reads changed */
		bool kept = fileset_unit_begin(fs, arena_sprintf(a, "catalog/components/%s", s->name),
					       unitkey_service(fs, p, s));
		add_file(fs, &tg, arena_sprintf(a, "components/%s.yaml", s->name), kept ? NULL : component_entity(a, p, s));
		if (has_api(s))
			add_file(fs, &tg, arena_sprintf(a, "apis/%s.yaml", s->name), kept ? NULL : api_entity(a, p, s));
		fileset_unit_end(fs);
		arena_release(a, scope);
	}
	for (int i = 0; i < p->nresources; i++) {
		scope = arena_mark(a);
		const Resource *r = p->resources[i];
		bool kept = fileset_unit_begin(fs, arena_sprintf(a, "catalog/resources/%s", r->name),
					       unitkey_resource(fs, p, r));
		add_file(fs, &tg, arena_sprintf(a, "resources/%s.yaml", r->name), kept ? NULL : resource_entity(a, p, r));
		fileset_unit_end(fs);
		arena_release(a, scope);
	}

	/* templates need a folder the include globs read and a repository to
	 * open the pull request in */
	const char *folder = include_folder(a, p);
	const char *host, *owner, *repo;
	if (!repo_parts(a, p->gitops_repo, &host, &owner, &repo) ||
	    !nunjucks_inert(arena_sprintf(a, "%s%s%s", host, owner, repo)) || strpbrk(owner, "&=") || strpbrk(repo, "&="))
		folder = NULL;
	if (folder) {
		service_template(p, fs, &tg, folder);
		resource_templates(p, fs, &tg, folder);
	}

	qsort(tg.items, (size_t)tg.n, sizeof(char *), cmp_target);
	DNode *loc = entity(a, "Location", p->name);
	doc_set(a, doc_get(loc, "metadata"), "description",
		doc_strf(a, "Everything platformc knows about the %s platform: teams, people, systems, services, "
			    "APIs, resources%s",
			 p->name, folder ? " and self-service templates" : ""));
	DNode *spec = doc_set_map(a, loc, "spec");
	doc_set_str(a, spec, "type", "url");
	DNode *targets = doc_set_seq(a, spec, "targets");
	for (int i = 0; i < tg.n; i++)
		doc_push_str(a, targets, tg.items[i]);
	fileset_add_yaml(fs, "catalog/catalog-info.yaml", loc);
	for (int i = 0; i < tg.n; i++)
		free(tg.items[i]);
	free(tg.items);
	arena_release(a, whole);
}
