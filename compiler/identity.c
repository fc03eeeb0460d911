/*
 * identity.c — the AWS identity of each service: one IAM role per (service,
 * environment) whose policy grants exactly what the service's `uses` need,
 * generated from the `access` modes of the resources' kinds (kind.yaml,
 * docs/catalog.md "Access"), and who may assume it (EKS Pod Identity by
 * default, or IRSA: `platform.cloud.identity`).
 *
 *   modes      a service of the resource's team gets every access mode of
 *              its kind; a service of a team in `shared_with` gets every
 *              mode for a plain team name, or the listed `access` modes;
 *              `uses: [{resource, access}]` narrows a service below that
 *              (never above: E0326); a `prefix` share narrows the ARNs
 *   policy     one statement per (resource, mode, kind statement), in the
 *              order of `uses` and of the kind's modes; Sid names them
 *   trust      Pod Identity: the EKS Pod Identity service principal, and
 *              the External Secrets controller's role (`cloud.secrets_role`)
 *              when a store reads the service's secrets with it;
 *              IRSA: the cluster's OIDC provider, for exactly the
 *              service's ServiceAccount (External Secrets authenticates
 *              as that ServiceAccount)
 *
 * The Crossplane backend renders the identity as a claim of the internal
 * kind `service-identity` or `service-identity-irsa` (catalog/), whose
 * Composition holds the Role, Policy, RolePolicyAttachment and, with Pod
 * Identity, the PodIdentityAssociation. The checks (E0320-E0326, W0341) run
 * after resolve.
 */
#include "platformc.h"

#include <string.h>

#define MAX_ROLE_NAME 64
#define DEFAULT_SECRETS_ROLE "external-secrets"

bool identity_irsa(const Platform *p)
{
	const char *m = node_text(platform_cloud(p), "identity");
	return m && !strcmp(m, "irsa");
}

/* A field of `cloud.clusters.<cluster>`, else of `cloud`. */
static const char *cluster_field(const Platform *p, const Env *e, const char *key)
{
	const char *v = node_text(env_cloud(p, e), key);
	return v ? v : node_text(platform_cloud(p), key);
}

const char *identity_cluster(const Platform *p, const Env *e)
{
	const char *v = cluster_field(p, e, "eks_cluster");
	return v ? v : (e->cluster ? e->cluster : p->name);
}

const char *identity_secrets_role(const Platform *p)
{
	const char *v = node_text(platform_cloud(p), "secrets_role");
	return v ? v : DEFAULT_SECRETS_ROLE;
}

const char *identity_role_name(Arena *a, const Platform *p, const Service *s, const Env *e)
{
	const char *full = arena_sprintf(a, "%s-%s-%s", p->name, s->name, e->name);
	size_t len = strlen(full);
	if (len <= MAX_ROLE_NAME)
		return full;
	unsigned h = (unsigned)(hash_bytes(full, len) & 0xffffffffu);
	size_t keep = MAX_ROLE_NAME - 9;
	while (keep && full[keep - 1] == '-')
		keep--;
	return arena_sprintf(a, "%.*s-%08x", (int)keep, full, h);
}

const char *identity_role_arn(Arena *a, const Platform *p, const Service *s, const Env *e)
{
	return arena_sprintf(a, "arn:aws:iam::%s:role/%s", p->account, identity_role_name(a, p, s, e));
}

static bool listed(const Node *acc, const char *mode)
{
	for (int j = 0; acc && acc->kind == N_SEQ && j < acc->n; j++)
		if (acc->items[j]->text && !strcmp(acc->items[j]->text, mode))
			return true;
	return false;
}

/* Whether team t may use mode `mode` of r: every mode for r's own team and
 * for a plain `shared_with` name; the listed ones for {team, access}. */
static bool team_grants(const Team *t, const Resource *r, int mode)
{
	if (r->team == t)
		return true;
	for (int i = 0; i < r->nshared; i++) {
		if (r->shared_with[i] != t)
			continue;
		const Node *acc = r->shared_access ? r->shared_access[i] : NULL;
		return !acc || listed(acc, compute_mode_name(r->kindp, mode));
	}
	return false;
}

/* Whether s may use mode `mode` of r: its team may, and its `uses` entries
 * for r list the mode ({resource, access}) or one of them is r's bare name. */
bool identity_grants(const Service *s, const Resource *r, int mode)
{
	if (!team_grants(s->team, r, mode))
		return false;
	bool narrowed = false;
	for (int i = 0; i < s->nuses; i++) {
		if (s->uses[i] != r)
			continue;
		const Node *acc = s->uses_access ? s->uses_access[i] : NULL;
		if (!acc || listed(acc, compute_mode_name(r->kindp, mode)))
			return true;
		narrowed = true;
	}
	return !narrowed;
}

/* The `shared_with` entry {team, access, prefix} of r for team `team`,
 * or NULL (a plain team name, or not shared with it). */
static const Node *share_entry(const Resource *r, const Team *team)
{
	const Node *sw = node_get(r->node, "shared_with");
	for (int i = 0; sw && sw->kind == N_SEQ && i < sw->n; i++) {
		const Node *it = sw->items[i];
		const char *name = node_text(it, "team");
		if (it->kind == N_MAP && name && !strcmp(name, team->name))
			return it;
	}
	return NULL;
}

const char *identity_prefix(const Service *s, const Resource *r)
{
	if (r->team == s->team)
		return NULL;
	return node_text(share_entry(r, s->team), "prefix");
}

/* "orders-queue" + "consume" -> "OrdersQueueConsume" */
static void camel(StrBuf *b, const char *s)
{
	bool up = true;
	for (; *s; s++) {
		if (*s == '-' || *s == '_' || *s == '.') {
			up = true;
			continue;
		}
		sb_putc(b, up && *s >= 'a' && *s <= 'z' ? (char)(*s - 32) : *s);
		up = false;
	}
}

/* A statement's Resource list, flattened (a `for` in a list gives a list). */
static void flatten(Arena *a, DNode *out, const DNode *v)
{
	if (v->kind == D_SEQ) {
		for (int i = 0; i < v->n; i++)
			flatten(a, out, v->items[i]);
		return;
	}
	bool seen = false;
	for (int i = 0; i < out->n && !seen; i++)
		seen = out->items[i]->kind == D_STR && v->kind == D_STR && !strcmp(out->items[i]->s, v->s);
	if (!seen)
		doc_push(a, out, (DNode *)v);
}

DNode *identity_policy(Arena *a, const Platform *p, const Service *s, const Env *e)
{
	DNode *doc = doc_map(a);
	doc_set_str(a, doc, "Version", "2012-10-17");
	DNode *sts = doc_set_seq(a, doc, "Statement");
	for (int i = 0; i < s->nuses; i++) {
		const Resource *r = s->uses[i];
		/* each resource once, even if `uses` repeats it */
		bool seen = false;
		for (int j = 0; j < i && !seen; j++)
			seen = s->uses[j] == r;
		if (seen || !r->kindp || !resource_runs_in(r, e))
			continue;
		for (int m = 0; m < compute_nmodes(r->kindp); m++) {
			if (!identity_grants(s, r, m))
				continue;
			DNode *list = compute_access(a, p, r, e, m, identity_prefix(s, r));
			for (int k = 0; k < list->n; k++) {
				const DNode *src = list->items[k];
				DNode *st = doc_push_map(a, sts);
				StrBuf b;
				sb_init(&b);
				camel(&b, r->name);
				camel(&b, compute_mode_name(r->kindp, m));
				if (list->n > 1)
					sb_printf(&b, "%d", k + 1);
				doc_set_str(a, st, "Sid", b.data);
				sb_free(&b);
				doc_set_str(a, st, "Effect", "Allow");
				doc_set(a, st, "Action", doc_get(src, "Action"));
				DNode *res = doc_seq(a);
				flatten(a, res, doc_get(src, "Resource"));
				doc_set(a, st, "Resource", res);
				if (doc_get(src, "Condition"))
					doc_set(a, st, "Condition", doc_get(src, "Condition"));
			}
		}
	}
	return sts->n ? doc : NULL;
}

DNode *identity_trust(Arena *a, const Platform *p, const Service *s, const Env *e, bool secrets)
{
	DNode *doc = doc_map(a);
	doc_set_str(a, doc, "Version", "2012-10-17");
	DNode *sts = doc_set_seq(a, doc, "Statement");
	const char *ns = k8s_namespace(a, s->team, e);
	if (identity_irsa(p)) {
		const char *issuer = cluster_field(p, e, "oidc_issuer");
		DNode *st = doc_push_map(a, sts);
		doc_set_str(a, st, "Sid", "ServiceAccount");
		doc_set_str(a, st, "Effect", "Allow");
		doc_set(a, doc_set_map(a, st, "Principal"), "Federated",
			doc_strf(a, "arn:aws:iam::%s:oidc-provider/%s", p->account, issuer ? issuer : ""));
		doc_set_str(a, st, "Action", "sts:AssumeRoleWithWebIdentity");
		DNode *eq = doc_set_map(a, doc_set_map(a, st, "Condition"), "StringEquals");
		doc_set(a, eq, arena_sprintf(a, "%s:sub", issuer ? issuer : ""),
			doc_strf(a, "system:serviceaccount:%s:%s", ns, s->name));
		doc_set_str(a, eq, arena_sprintf(a, "%s:aud", issuer ? issuer : ""), "sts.amazonaws.com");
		return doc;
	}
	DNode *st = doc_push_map(a, sts);
	doc_set_str(a, st, "Sid", "EksPodIdentity");
	doc_set_str(a, st, "Effect", "Allow");
	doc_set_str(a, doc_set_map(a, st, "Principal"), "Service", "pods.eks.amazonaws.com");
	DNode *act = doc_set_seq(a, st, "Action");
	doc_push_str(a, act, "sts:AssumeRole");
	doc_push_str(a, act, "sts:TagSession");
	if (secrets) {
		st = doc_push_map(a, sts);
		doc_set_str(a, st, "Sid", "ExternalSecrets");
		doc_set_str(a, st, "Effect", "Allow");
		doc_set(a, doc_set_map(a, st, "Principal"), "AWS",
			doc_strf(a, "arn:aws:iam::%s:role/%s", p->account, identity_secrets_role(p)));
		doc_set_str(a, st, "Action", "sts:AssumeRole");
	}
	return doc;
}

/* ---- checks ---- */

static bool is_argo_cluster(const Platform *p, const char *name)
{
	for (int i = 0; i < p->nenvs; i++)
		if (!strcmp(env_argo_cluster(&p->envs[i]), name))
			return true;
	return false;
}

/* E0320 / E0325: `m` names no access mode of r's kind. */
static void unknown_mode(Arena *a, Diags *d, const char *code, const Resource *r, const Node *m)
{
	StrBuf b;
	sb_init(&b);
	const char **names = arena_alloc(a, sizeof(char *) * (size_t)(compute_nmodes(r->kindp) + 1));
	for (int x = 0; x < compute_nmodes(r->kindp); x++) {
		names[x] = compute_mode_name(r->kindp, x);
		sb_printf(&b, "%s`%s`", x ? ", " : "", names[x]);
	}
	Diag *g = diag_error(d, code, m->span, "kind `%s` has no access mode `%s`", r->kind, m->text);
	diag_label(g, "not an access mode of `%s`", r->kind);
	const char *near = did_you_mean(m->text, names, compute_nmodes(r->kindp));
	if (near)
		diag_help(g, "did you mean `%s`? (modes of `%s`: %s)", near, r->kind, b.data);
	else if (b.len)
		diag_help(g, "the access modes of `%s`: %s", r->kind, b.data);
	else
		diag_help(g, "`%s` grants no AWS access: name it without `access`", r->kind);
	sb_free(&b);
}

/* the access modes named in `shared_with` and `uses` (E0320, E0324-E0326, W0341) */
static void check_access_modes(Arena *a, Platform *p, Diags *d)
{
	/* E0320: a shared_with access mode the kind does not have */
	for (int i = 0; i < p->nresources; i++) {
		const Resource *r = p->resources[i];
		for (int j = 0; r->kindp && j < r->nshared; j++) {
			const Node *acc = r->shared_access[j];
			for (int k = 0; acc && acc->kind == N_SEQ && k < acc->n; k++) {
				const Node *m = acc->items[k];
				if (compute_mode_index(r->kindp, m->text) >= 0)
					continue;
				unknown_mode(a, d, "E0320", r, m);
			}
		}
	}
	/* E0325 / E0326: a service's `uses` access mode the kind does not have,
	 * or one its team is not granted (wider than `shared_with` allows) */
	for (int i = 0; i < p->nservices; i++) {
		const Service *s = p->services[i];
		for (int j = 0; j < s->nuses; j++) {
			const Resource *r = s->uses[j];
			const Node *acc = s->uses_access ? s->uses_access[j] : NULL;
			for (int k = 0; r->kindp && acc && acc->kind == N_SEQ && k < acc->n; k++) {
				const Node *m = acc->items[k];
				int mode = compute_mode_index(r->kindp, m->text);
				if (mode < 0) {
					unknown_mode(a, d, "E0325", r, m);
					continue;
				}
				if (team_grants(s->team, r, mode))
					continue;
				Diag *g = diag_error(d, "E0326", m->span,
						     "service `%s` asks for `%s` of `%s`, which team `%s` is not granted", s->name,
						     m->text, r->name, s->team->name);
				diag_label(g, "wider than `shared_with` of `%s` allows", r->name);
				StrBuf b;
				sb_init(&b);
				for (int x = 0; x < compute_nmodes(r->kindp); x++)
					if (team_grants(s->team, r, x))
						sb_printf(&b, "%s`%s`", b.len ? ", " : "", compute_mode_name(r->kindp, x));
				if (b.len)
					diag_help(g, "team `%s` may use %s of `%s`; or add `%s` to its `access` in `shared_with` of `%s`",
						  s->team->name, b.data, r->name, m->text, r->name);
				else
					diag_help(g, "add `%s` to the `access` of team `%s` in `shared_with` of `%s`", m->text,
						  s->team->name, r->name);
				sb_free(&b);
				diag_note(g, node_get(r->node, "name")->span, "resource `%s` is defined here", r->name);
			}
		}
	}
	/* E0324: a `prefix` on a kind whose access statements do not narrow to one */
	for (int i = 0; i < p->nresources; i++) {
		const Resource *r = p->resources[i];
		for (int j = 0; r->kindp && j < r->nshared; j++) {
			const Node *pf = node_get(share_entry(r, r->shared_with[j]), "prefix");
			if (!pf || compute_has_prefixes(r->kindp))
				continue;
			Diag *g = diag_error(d, "E0324", pf->span, "kind `%s` cannot share a prefix: its access is to the whole resource",
					     r->kind);
			diag_label(g, "`%s` has no prefixes", r->kind);
			diag_help(g, "share the whole resource with `access` alone; prefixes are for kinds such as `s3-bucket`");
		}
	}
	/* W0341: a listed access mode whose statements all have a `when` that
	 * fails in an environment the resource runs in (Aurora's `iam` without
	 * `iam_auth`): the team is granted nothing there */
	for (int i = 0; i < p->nresources; i++) {
		const Resource *r = p->resources[i];
		for (int j = 0; r->kindp && j < r->nshared; j++) {
			const Node *acc = r->shared_access[j];
			for (int k = 0; acc && acc->kind == N_SEQ && k < acc->n; k++) {
				int mode = compute_mode_index(r->kindp, acc->items[k]->text);
				for (int e = 0; mode >= 0 && e < p->nenvs; e++) {
					const Env *env = &p->envs[e];
					if (!resource_runs_in(r, env))
						continue;
					ArenaMark mk = arena_mark(a);
					const char *pfx = node_text(share_entry(r, r->shared_with[j]), "prefix");
					bool none = compute_access(a, p, r, env, mode, pfx)->n == 0;
					arena_release(a, mk);
					if (!none)
						continue;
					Diag *g = diag_warn(d, "W0341", acc->items[k]->span,
							    "access mode `%s` of `%s` grants nothing in environment `%s`",
							    acc->items[k]->text, r->name, env->name);
					diag_label(g, "team `%s` gets no access here", r->shared_with[j]->name);
					diag_help(g, "the statements of `%s` hold only under conditions on the resource's values, which `%s` "
						     "does not meet in `%s` (`platformc explain %s` shows the modes)",
						  acc->items[k]->text, r->name, env->name, r->kind);
					break;
				}
			}
		}
	}
}

/* the cloud's clusters: names, networks and OIDC issuers (E0321-E0323) */
static void check_clusters(Arena *a, Platform *p, Diags *d)
{
	/* E0322: cloud.clusters names a cluster no environment deploys to */
	const Node *cl = node_get(platform_cloud(p), "clusters");
	for (int i = 0; cl && cl->kind == N_MAP && i < cl->n; i++) {
		const Node *key = cl->pairs[i].key;
		if (is_argo_cluster(p, key->text))
			continue;
		Diag *g = diag_error(d, "E0322", key->span, "`cloud.clusters.%s`: no environment deploys to cluster `%s`",
				     key->text, key->text);
		diag_label(g, "not the `cluster` of any environment");
		const char **names = arena_alloc(a, sizeof(char *) * (size_t)(p->nenvs + 1));
		for (int e = 0; e < p->nenvs; e++)
			names[e] = env_argo_cluster(&p->envs[e]);
		const char *near = did_you_mean(key->text, names, p->nenvs);
		if (near)
			diag_help(g, "did you mean `%s`?", near);
		else
			diag_help(g, "use an environment's `cluster`, or `in-cluster` for environments without one");
	}
	/* E0323: a network for some clusters and not for others: a Composition
	 * (one per kind) either places its databases in a VPC or does not */
	if (platform_has_network(p)) {
		for (int e = 0; e < p->nenvs; e++) {
			if (env_network(p, &p->envs[e]))
				continue;
			const Env *with = NULL;
			for (int k = 0; k < p->nenvs && !with; k++)
				if (env_network(p, &p->envs[k]))
					with = &p->envs[k];
			/* at the key of the cluster that has a network */
			const Node *at = platform_cloud(p), *cls = node_get(platform_cloud(p), "clusters");
			for (int k = 0; cls && cls->kind == N_MAP && k < cls->n; k++)
				if (!strcmp(cls->pairs[k].key->text, env_argo_cluster(with)))
					at = cls->pairs[k].key;
			Diag *g = diag_error(d, "E0323", at->span,
					     "cluster `%s` (environment `%s`) has no `network`, but cluster `%s` has one",
					     env_argo_cluster(&p->envs[e]), p->envs[e].name, env_argo_cluster(with));
			diag_label(g, "every cluster needs a network once one has");
			diag_help(g, "add `network` to `cloud` (every cluster) or to `cloud.clusters.%s`",
				  env_argo_cluster(&p->envs[e]));
			break;
		}
	}
	/* E0321: IRSA needs the OIDC issuer of each cluster a service with an identity runs in */
	if (identity_irsa(p)) {
		for (int e = 0; e < p->nenvs; e++) {
			const Env *env = &p->envs[e];
			if (cluster_field(p, env, "oidc_issuer"))
				continue;
			const Service *needs = NULL;
			for (int i = 0; i < p->nservices && !needs; i++) {
				ArenaMark m = arena_mark(a);
				if (service_runs_in(p->services[i], env) && identity_policy(a, p, p->services[i], env))
					needs = p->services[i];
				arena_release(a, m);
			}
			if (!needs)
				continue;
			const Node *at = node_get(platform_cloud(p), "identity");
			Diag *g = diag_error(d, "E0321", at->span,
					     "`identity: irsa` needs the OIDC issuer of cluster `%s` (environment `%s`)",
					     env_argo_cluster(env), env->name);
			diag_label(g, "IRSA roles trust the cluster's OIDC provider");
			diag_note(g, needs->node->span, "service `%s` needs an AWS identity in `%s`", needs->name, env->name);
			diag_help(g, "add `oidc_issuer: oidc.eks.%s.amazonaws.com/id/<ID>` to `cloud` or `cloud.clusters.%s`",
				  p->region, env_argo_cluster(env));
			break;
		}
	}
}

int identity_check(Arena *a, Platform *p, Diags *d)
{
	int before = d->errors;
	check_access_modes(a, p, d);
	check_clusters(a, p, d);
	return d->errors - before;
}
