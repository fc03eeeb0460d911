/*
 * backend_crossplane.c — cloud resources through Crossplane, from the
 * catalog kinds (catalog.c) and each resource's checked params.
 *
 *   platform/crossplane/<kind>-xrd.yaml, <kind>-composition.yaml   per kind used
 *   platform/connections/<env>/   per owning team: a ClusterSecretStore that
 *                                 reads its namespace's connection secrets,
 *                                 and the Role + RoleBinding that allow it
 *   resources/<resource>/<env>/   the claim (or namespaced XR) in the owning
 *                                 team's namespace, the further claims its
 *                                 kind makes (`claim-<key>.yaml`: an SNS
 *                                 subscription, a dead-letter queue;
 *                                 compute.c), and the ExternalSecret
 *                                 `<resource>-connection` when a service of
 *                                 the team uses it there
 *   resources/<resource>/<env>/shared-<team>/   the ExternalSecret in the
 *                                 namespace of a team it is shared with
 *
 * Targets (`platform.targets.crossplane`): `claims` (default) is the v1 XRD
 * with claimNames, cluster-scoped `*.aws.upbound.io` managed resources and
 * claim connection secrets; `namespaced` is the v2 XRD with namespaced XRs
 * composing `*.aws.m.upbound.io`, whose primary resource writes the
 * connection secret itself. Both leave a Secret `<resource>-conn` in the
 * owning namespace; ExternalSecrets copy it to `<resource>-connection` in
 * every namespace whose services use it (docs/decisions.md, "Catalog and
 * Crossplane"). No `kind: Secret` is ever written.
 */
#include "platformc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define XRD_VERSION "v1alpha1"
#define ESO_NAMESPACE "external-secrets"
#define ESO_SERVICE_ACCOUNT "external-secrets"

static bool namespaced(const Platform *p)
{
	return p->crossplane_target && !strcmp(p->crossplane_target, "namespaced");
}

static const char *group(Arena *a, const Platform *p)
{
	return arena_sprintf(a, "platform.%s", p->domain);
}

/* Whether a managed resource takes the claim's external name. */
static bool has_primary(const Kind *k)
{
	for (int i = 0; i < k->nmrs; i++)
		if (k->mrs[i].primary)
			return true;
	return false;
}

/* ---- XRD: the parameter schema as OpenAPI v3 (structural) ---- */

static DNode *openapi(Arena *a, const Param *p)
{
	DNode *s = doc_map(a);
	switch (p->type) {
	case T_OBJECT: {
		doc_set_str(a, s, "type", "object");
		if (p->description)
			doc_set_str(a, s, "description", p->description);
		DNode *props = doc_set_map(a, s, "properties");
		DNode *req = doc_seq(a);
		for (int i = 0; i < p->nfields; i++) {
			doc_set(a, props, p->fields[i].claim, openapi(a, &p->fields[i]));
			if (p->fields[i].required)
				doc_push_str(a, req, p->fields[i].claim);
		}
		if (req->n)
			doc_set(a, s, "required", req);
		return s;
	}
	case T_LIST:
		doc_set_str(a, s, "type", "array");
		if (p->description)
			doc_set_str(a, s, "description", p->description);
		doc_set(a, s, "items", openapi(a, p->item));
		return s;
	case T_BOOL:
		doc_set_str(a, s, "type", "boolean");
		break;
	case T_INT:
		doc_set_str(a, s, "type", "integer");
		break;
	case T_NUMBER:
	case T_PERCENT:
		doc_set_str(a, s, "type", "number");
		break;
	case T_DURATION:
		doc_set_str(a, s, "type", "integer");
		break;
	default:
		doc_set_str(a, s, "type", "string");
	}
	const char *desc = p->description;
	if (p->type == T_DURATION)
		desc = arena_sprintf(a, "%s%sin seconds", desc ? desc : "", desc ? ", " : "");
	if (desc)
		doc_set_str(a, s, "description", desc);
	if (p->nenums) {
		DNode *en = doc_set_seq(a, s, "enum");
		for (int i = 0; i < p->nenums; i++)
			doc_push_str(a, en, p->enums[i]);
	}
	double scale = p->type == T_DURATION ? 1000.0 : 1.0;
	if (p->has_min && p->type != T_STRING)
		doc_set(a, s, "minimum", p->type == T_NUMBER ? doc_num(a, p->min) : doc_int(a, (long long)(p->min / scale)));
	if (p->has_max && p->type != T_STRING)
		doc_set(a, s, "maximum", p->type == T_NUMBER ? doc_num(a, p->max) : doc_int(a, (long long)(p->max / scale)));
	if (p->type == T_NAME)
		doc_set_str(a, s, "pattern", "^[a-z]([-a-z0-9]*[a-z0-9])?$");
	else if (p->pattern)
		doc_set_str(a, s, "pattern", p->pattern);
	return s;
}

static DNode *xrd(Arena *a, const Platform *p, const Kind *k)
{
	bool ns = namespaced(p);
	const char *g = group(a, p);
	const char *plural = ns ? k->claim_plural : k->xr_plural;
	DNode *x = k8s_object(a, ns ? "apiextensions.crossplane.io/v2" : "apiextensions.crossplane.io/v1",
			      "CompositeResourceDefinition", arena_sprintf(a, "%s.%s", plural, g), NULL);
	DNode *labels = doc_set_map(a, doc_get(x, "metadata"), "labels");
	doc_set_str(a, labels, "app.kubernetes.io/managed-by", "platformc");
	doc_set_str(a, labels, k8s_label(a, p, "kind"), k->name);
	DNode *spec = doc_set_map(a, x, "spec");
	doc_set_str(a, spec, "group", g);
	if (ns)
		doc_set_str(a, spec, "scope", "Namespaced");
	DNode *names = doc_set_map(a, spec, "names");
	doc_set_str(a, names, "kind", ns ? k->claim_kind : k->xr_kind);
	doc_set_str(a, names, "plural", plural);
	if (!ns) {
		DNode *cn = doc_set_map(a, spec, "claimNames");
		doc_set_str(a, cn, "kind", k->claim_kind);
		doc_set_str(a, cn, "plural", k->claim_plural);
		DNode *keys = doc_seq(a);
		for (int i = 0; i < k->nmrs; i++)
			for (int j = 0; j < k->mrs[i].nconn; j++)
				doc_push_str(a, keys, k->mrs[i].conn[j].name);
		if (keys->n)
			doc_set(a, spec, "connectionSecretKeys", keys);
	}
	doc_set_str(a, doc_set_map(a, spec, "defaultCompositionRef"), "name", k->name);
	DNode *v = doc_push_map(a, doc_set_seq(a, spec, "versions"));
	doc_set_str(a, v, "name", XRD_VERSION);
	doc_set_bool(a, v, "served", true);
	doc_set_bool(a, v, "referenceable", true);
	DNode *root = doc_set_map(a, doc_set_map(a, v, "schema"), "openAPIV3Schema");
	doc_set_str(a, root, "type", "object");
	doc_set_str(a, root, "description", k->description ? k->description : k->title);
	DNode *sp = doc_set_map(a, doc_set_map(a, root, "properties"), "spec");
	doc_set_str(a, sp, "type", "object");
	DNode *params = openapi(a, &k->params);
	doc_set_str(a, params, "description", arena_sprintf(a, "Parameters of a `%s` (platformc catalog)", k->name));
	DNode *props = doc_get(params, "properties");
	if (!props)
		props = doc_set_map(a, params, "properties");
	/* what platformc computes (compute.c): declared so the claim validates */
	for (int i = 0; i < k->computed.nfields; i++) {
		const Param *f = &k->computed.fields[i];
		DNode *c = doc_set(a, props, f->claim, openapi(a, f));
		DNode *d = doc_get(c, "description");
		doc_set(a, c, "description", doc_strf(a, "%s%s(computed by platformc)", d ? d->s : "", d ? " " : ""));
	}
	/* how the managed resources are deleted: set per environment tier */
	if (ns) {
		DNode *mp = doc_set_map(a, props, "managementPolicies");
		doc_set_str(a, mp, "type", "array");
		doc_set_str(a, mp, "description", "Crossplane management policies of the managed resources");
		doc_set_str(a, doc_set_map(a, mp, "items"), "type", "string");
	} else {
		DNode *dp = doc_set_map(a, props, "deletionPolicy");
		doc_set_str(a, dp, "type", "string");
		doc_set_str(a, dp, "description", "What deleting the claim does to the cloud resources");
		DNode *en = doc_set_seq(a, dp, "enum");
		doc_push_str(a, en, "Delete");
		doc_push_str(a, en, "Orphan");
	}
	if (has_primary(k)) {
		DNode *en = doc_set_map(a, props, "externalName");
		doc_set_str(a, en, "type", "string");
		doc_set_str(a, en, "description", "The name of the cloud resource");
	}
	doc_set(a, doc_set_map(a, sp, "properties"), "parameters", params);
	DNode *req = doc_set_seq(a, sp, "required");
	doc_push_str(a, req, "parameters");
	return x;
}

/* ---- Composition ---- */

/* `partition_key.name` -> `spec.parameters.partitionKey.name` */
static const char *claim_path(Arena *a, const Kind *k, const char *from)
{
	StrBuf b;
	sb_init(&b);
	sb_puts(&b, "spec.parameters");
	const Param *p = catalog_param(&k->params, from) ? &k->params : &k->computed;
	while (*from) {
		const char *dot = strchr(from, '.');
		size_t len = dot ? (size_t)(dot - from) : strlen(from);
		const Param *f = NULL;
		for (int i = 0; p && i < p->nfields && !f; i++)
			if (strlen(p->fields[i].name) == len && !strncmp(p->fields[i].name, from, len))
				f = &p->fields[i];
		sb_printf(&b, ".%s", f ? f->claim : "?");
		p = f;
		from += len + (dot ? 1 : 0);
	}
	const char *out = arena_strdup(a, b.data);
	sb_free(&b);
	return out;
}


/* A YAML tree from a kind file, copied into the output. */
static DNode *copy_node(Arena *a, const Node *n)
{
	if (!n)
		return doc_null(a);
	if (n->kind == N_MAP) {
		DNode *m = doc_map(a);
		for (int i = 0; i < n->n; i++)
			doc_set(a, m, n->pairs[i].key->text, copy_node(a, n->pairs[i].val));
		return m;
	}
	if (n->kind == N_SEQ) {
		DNode *s = doc_seq(a);
		for (int i = 0; i < n->n; i++)
			doc_push(a, s, copy_node(a, n->items[i]));
		return s;
	}
	return doc_typed_scalar(a, n);
}

static DNode *patch(Arena *a, const char *from, const char *to)
{
	DNode *pt = doc_map(a);
	doc_set_str(a, pt, "type", "FromCompositeFieldPath");
	doc_set_str(a, pt, "fromFieldPath", from);
	doc_set_str(a, pt, "toFieldPath", to);
	return pt;
}

static DNode *pt_resource(Arena *a, const Platform *p, const Kind *k, const KManaged *m)
{
	bool ns = namespaced(p);
	DNode *r = doc_map(a);
	doc_set_str(a, r, "name", m->name);
	DNode *base = doc_set_map(a, r, "base");
	doc_set_str(a, base, "apiVersion", m->api[ns]);
	doc_set_str(a, base, "kind", m->kind);
	DNode *spec = doc_set_map(a, base, "spec");
	DNode *fp = doc_set_map(a, spec, "forProvider");
	if (!m->global)
		doc_set_str(a, fp, "region", p->region);
	const Node *bfp = node_get(m->base, "forProvider");
	for (int i = 0; bfp && bfp->kind == N_MAP && i < bfp->n; i++)
		doc_set(a, fp, bfp->pairs[i].key->text, copy_node(a, bfp->pairs[i].val));
	for (int i = 0; m->base && m->base->kind == N_MAP && i < m->base->n; i++)
		if (strcmp(m->base->pairs[i].key->text, "forProvider"))
			doc_set(a, spec, m->base->pairs[i].key->text, copy_node(a, m->base->pairs[i].val));
	/* in the platform's VPC: the subnet group and security group of the XR */
	const Node *wfp = platform_has_network(p) ? node_get(m->with_network, "forProvider") : NULL;
	for (int i = 0; wfp && wfp->kind == N_MAP && i < wfp->n; i++)
		doc_set(a, fp, wfp->pairs[i].key->text, copy_node(a, wfp->pairs[i].val));
	DNode *pc = doc_set_map(a, spec, "providerConfigRef");
	if (ns)
		doc_set_str(a, pc, "kind", "ClusterProviderConfig");
	doc_set_str(a, pc, "name", "default");

	DNode *patches = doc_set_seq(a, r, "patches");
	if (ns)
		doc_push(a, patches, patch(a, "spec.parameters.managementPolicies", "spec.managementPolicies"));
	else
		doc_push(a, patches, patch(a, "spec.parameters.deletionPolicy", "spec.deletionPolicy"));
	if (m->primary) {
		doc_push(a, patches, patch(a, "spec.parameters.externalName",
					   "metadata.annotations[crossplane.io/external-name]"));
		if (ns) {
			/* v2 XRs have no connection secret: the primary resource writes it */
			DNode *pt = doc_push(a, patches, patch(a, "metadata.name", "spec.writeConnectionSecretToRef.name"));
			DNode *t = doc_push_map(a, doc_set_seq(a, pt, "transforms"));
			doc_set_str(a, t, "type", "string");
			DNode *st = doc_set_map(a, t, "string");
			doc_set_str(a, st, "type", "Format");
			doc_set_str(a, st, "fmt", "%s-conn");
		}
	}
	for (int i = 0; i < m->npatches; i++) {
		const KPatch *kp = &m->patches[i];
		DNode *pt = doc_push(a, patches, patch(a, claim_path(a, k, kp->from), kp->to));
		DNode *ts = NULL;
		if (kp->map) {
			ts = doc_set_seq(a, pt, "transforms");
			DNode *t = doc_push_map(a, ts);
			doc_set_str(a, t, "type", "map");
			DNode *mm = doc_set_map(a, t, "map");
			for (int j = 0; j < kp->map->n; j++)
				doc_set(a, mm, kp->map->pairs[j].key->text, doc_typed_scalar(a, kp->map->pairs[j].val));
		}
		if (kp->convert) {
			ts = ts ? ts : doc_set_seq(a, pt, "transforms");
			DNode *t = doc_push_map(a, ts);
			doc_set_str(a, t, "type", "convert");
			doc_set_str(a, doc_set_map(a, t, "convert"), "toType", kp->convert);
		}
		if (kp->fmt) {
			ts = ts ? ts : doc_set_seq(a, pt, "transforms");
			DNode *t = doc_push_map(a, ts);
			doc_set_str(a, t, "type", "string");
			DNode *st = doc_set_map(a, t, "string");
			doc_set_str(a, st, "type", "Format");
			doc_set_str(a, st, "fmt", kp->fmt);
		}
	}
	if (!ns && m->nconn) {
		DNode *cd = doc_set_seq(a, r, "connectionDetails");
		for (int i = 0; i < m->nconn; i++) {
			DNode *c = doc_push_map(a, cd);
			doc_set_str(a, c, "name", m->conn[i].name);
			if (m->conn[i].from) {
				doc_set_str(a, c, "type", "FromFieldPath");
				doc_set_str(a, c, "fromFieldPath", m->conn[i].from);
			} else {
				doc_set_str(a, c, "type", "FromValue");
				doc_set_str(a, c, "value", m->conn[i].value);
			}
		}
	}
	return r;
}

static DNode *composition(Arena *a, const Platform *p, const Kind *k)
{
	bool ns = namespaced(p);
	DNode *c = k8s_object(a, "apiextensions.crossplane.io/v1", "Composition", k->name, NULL);
	DNode *labels = doc_set_map(a, doc_get(c, "metadata"), "labels");
	doc_set_str(a, labels, "app.kubernetes.io/managed-by", "platformc");
	doc_set_str(a, labels, k8s_label(a, p, "kind"), k->name);
	DNode *spec = doc_set_map(a, c, "spec");
	DNode *ref = doc_set_map(a, spec, "compositeTypeRef");
	doc_set(a, ref, "apiVersion", doc_strf(a, "%s/%s", group(a, p), XRD_VERSION));
	doc_set_str(a, ref, "kind", ns ? k->claim_kind : k->xr_kind);
	if (!ns)
		doc_set_str(a, spec, "writeConnectionSecretsToNamespace", "crossplane-system");
	doc_set_str(a, spec, "mode", "Pipeline");
	DNode *pipe = doc_set_seq(a, spec, "pipeline");
	DNode *step = doc_push_map(a, pipe);
	doc_set_str(a, step, "step", "patch-and-transform");
	doc_set_str(a, doc_set_map(a, step, "functionRef"), "name", "function-patch-and-transform");
	DNode *in = doc_set_map(a, step, "input");
	doc_set_str(a, in, "apiVersion", "pt.fn.crossplane.io/v1beta1");
	doc_set_str(a, in, "kind", "Resources");
	DNode *res = doc_set_seq(a, in, "resources");
	for (int i = 0; i < k->nmrs; i++)
		if (!k->mrs[i].network || platform_has_network(p))
			doc_push(a, res, pt_resource(a, p, k, &k->mrs[i]));
	DNode *ready = doc_push_map(a, pipe);
	doc_set_str(a, ready, "step", "auto-ready");
	doc_set_str(a, doc_set_map(a, ready, "functionRef"), "name", "function-auto-ready");
	return c;
}

/* ---- claims ---- */

static DNode *claim_value(Arena *a, const PVal *v)
{
	switch (v->kind) {
	case PV_BOOL: return doc_bool(a, v->b);
	case PV_NUM:
		if (v->param && v->param->type == T_DURATION)
			return doc_int(a, (long long)(v->num / 1000));
		if (v->param && v->param->type == T_INT)
			return doc_int(a, (long long)v->num);
		return doc_num(a, v->num);
	case PV_STR: return doc_str(a, v->s);
	case PV_LIST: {
		DNode *s = doc_seq(a);
		for (int i = 0; i < v->n; i++)
			doc_push(a, s, claim_value(a, v->items[i]));
		return s;
	}
	case PV_OBJ: {
		DNode *m = doc_map(a);
		for (int i = 0; i < v->n; i++)
			doc_set(a, m, v->items[i]->param->claim, claim_value(a, v->items[i]));
		return m;
	}
	default: return doc_null(a);
	}
}

/* The deletion behaviour of the environment's tier, in the parameters. */
static void deletion(Arena *a, const Platform *p, const Env *e, DNode *params)
{
	if (namespaced(p)) {
		DNode *mp = doc_set_seq(a, params, "managementPolicies");
		mp->flow = true;
		if (e->prod) {
			/* no Delete: removing the XR orphans the cloud resource */
			doc_push_str(a, mp, "Observe");
			doc_push_str(a, mp, "Create");
			doc_push_str(a, mp, "Update");
			doc_push_str(a, mp, "LateInitialize");
		} else {
			doc_push_str(a, mp, "*");
		}
	} else {
		doc_set_str(a, params, "deletionPolicy", e->prod ? "Orphan" : "Delete");
	}
}

static DNode *claim_object(Arena *a, const Platform *p, const Kind *k, const char *name, const Team *t,
			   const Env *e, const char *ns)
{
	DNode *c = k8s_object(a, arena_sprintf(a, "%s/%s", group(a, p), XRD_VERSION), k->claim_kind, name, ns);
	DNode *labels = doc_set_map(a, doc_get(c, "metadata"), "labels");
	doc_set_str(a, labels, "app.kubernetes.io/managed-by", "platformc");
	doc_set_str(a, labels, k8s_label(a, p, "team"), t->name);
	doc_set_str(a, labels, k8s_label(a, p, "environment"), e->name);
	doc_set_str(a, labels, k8s_label(a, p, "kind"), k->name);
	return c;
}

static DNode *claim(Arena *a, const Platform *p, const Resource *r, const Env *e, const char *ns)
{
	const Kind *k = r->kindp;
	bool nsx = namespaced(p);
	const PVal *v = catalog_values(r, e);
	DNode *c = claim_object(a, p, k, r->name, r->team, e, ns);
	/* the estimate travels with the object, so `platformc diff` can show the
	 * cost delta of a change from the committed tree alone */
	double usd;
	int est = cost_estimate(r, e, &usd);
	if (est == COST_PRICED || est == COST_USAGE)
		doc_set(a, doc_set_map(a, doc_get(c, "metadata"), "annotations"), k8s_label(a, p, "monthly-cost-usd"),
			est == COST_PRICED ? doc_strf(a, "%.2f", usd) : doc_str(a, "usage"));
	DNode *spec = doc_set_map(a, c, "spec");
	DNode *params = v ? claim_value(a, v) : doc_map(a);
	compute_values(a, p, r, e, params);
	if (has_primary(k))
		doc_set_str(a, params, "externalName", compute_external_name(a, r, e));
	deletion(a, p, e, params);
	doc_set(a, spec, "parameters", params);
	if (nsx) {
		doc_set_str(a, doc_set_map(a, doc_set_map(a, spec, "crossplane"), "compositionRef"), "name", k->name);
	} else {
		doc_set_str(a, doc_set_map(a, spec, "compositionRef"), "name", k->name);
		doc_set(a, doc_set_map(a, spec, "writeConnectionSecretToRef"), "name", doc_strf(a, "%s-conn", r->name));
	}
	return c;
}

/* A further claim of r (compute.c): in r's namespace, with r's deletion
 * behaviour; only the parameters its kind's template gives. */
static DNode *child_claim(Arena *a, const Platform *p, const Resource *r, const Env *e, const char *ns,
			  const ChildClaim *ch)
{
	DNode *c = claim_object(a, p, ch->kind, ch->name, r->team, e, ns);
	doc_set_str(a, doc_get(doc_get(c, "metadata"), "labels"), k8s_label(a, p, "resource"), r->name);
	/* billed by use: the kinds of further claims have no fixed price */
	if (!ch->kind->cost_monthly)
		doc_set_str(a, doc_set_map(a, doc_get(c, "metadata"), "annotations"), k8s_label(a, p, "monthly-cost-usd"),
			    "usage");
	DNode *spec = doc_set_map(a, c, "spec");
	DNode *params = ch->params;
	if (ch->external_name && has_primary(ch->kind))
		doc_set_str(a, params, "externalName", ch->external_name);
	deletion(a, p, e, params);
	doc_set(a, spec, "parameters", params);
	if (namespaced(p))
		doc_set_str(a, doc_set_map(a, doc_set_map(a, spec, "crossplane"), "compositionRef"), "name", ch->kind->name);
	else
		doc_set_str(a, doc_set_map(a, spec, "compositionRef"), "name", ch->kind->name);
	return c;
}

static const char *store_name(Arena *a, const Team *t, const Env *e)
{
	return arena_sprintf(a, "connections-%s", k8s_namespace(a, t, e));
}

/* Whether s may read r's `secret_values` (Secrets Manager) with its role. */
static bool reads_values_of(const Service *s, const Resource *r)
{
	int mode = compute_values_mode(r->kindp);
	return mode >= 0 && identity_grants(s, r, mode);
}

/* Whether External Secrets reads values from Secrets Manager with s's role
 * in e: then s has a ClusterSecretStore `aws-<service>-<env>`. */
static bool service_reads_secrets(const Service *s, const Env *e)
{
	for (int i = 0; i < s->nuses; i++)
		if (resource_runs_in(s->uses[i], e) && reads_values_of(s, s->uses[i]))
			return true;
	return false;
}

static const char *aws_store_name(Arena *a, const Service *s, const Env *e)
{
	return arena_sprintf(a, "aws-%s-%s", s->name, e->name);
}

/* The service of team t whose role reads r's secret values in e (the first
 * in platform order that uses r and is granted the mode), or NULL. */
static const Service *values_reader(const Platform *p, const Resource *r, const Team *t, const Env *e)
{
	if (compute_values_mode(r->kindp) < 0)
		return NULL;
	for (int i = 0; i < p->nservices; i++) {
		const Service *s = p->services[i];
		if (s->team != t || !service_runs_in(s, e) || !reads_values_of(s, r))
			continue;
		for (int j = 0; j < s->nuses; j++)
			if (s->uses[j] == r)
				return s;
	}
	return NULL;
}

/* A ClusterSecretStore reading Secrets Manager as s's role, for s's namespace only. */
static DNode *aws_store(Arena *a, const Platform *p, const Service *s, const Env *e)
{
	DNode *store = k8s_object(a, "external-secrets.io/v1", "ClusterSecretStore", aws_store_name(a, s, e), NULL);
	DNode *labels = doc_set_map(a, doc_get(store, "metadata"), "labels");
	doc_set_str(a, labels, "app.kubernetes.io/managed-by", "platformc");
	doc_set_str(a, labels, k8s_label(a, p, "service"), s->name);
	DNode *spec = doc_set_map(a, store, "spec");
	DNode *aws = doc_set_map(a, doc_set_map(a, spec, "provider"), "aws");
	doc_set_str(a, aws, "service", "SecretsManager");
	doc_set_str(a, aws, "region", p->region);
	const char *ns = k8s_namespace(a, s->team, e);
	if (identity_irsa(p)) {
		/* External Secrets authenticates as the service's ServiceAccount */
		DNode *sa = doc_set_map(a, doc_set_map(a, doc_set_map(a, aws, "auth"), "jwt"), "serviceAccountRef");
		doc_set_str(a, sa, "name", s->name);
		doc_set_str(a, sa, "namespace", ns);
	} else {
		/* the controller (its own Pod Identity) assumes the service's role */
		doc_set_str(a, aws, "role", identity_role_arn(a, p, s, e));
	}
	DNode *nss = doc_set_seq(a, doc_push_map(a, doc_set_seq(a, spec, "conditions")), "namespaces");
	doc_push_str(a, nss, ns);
	return store;
}

static DNode *store_ref(Arena *a, const char *name)
{
	DNode *sr = doc_map(a);
	DNode *ref = doc_set_map(a, sr, "storeRef");
	doc_set_str(a, ref, "kind", "ClusterSecretStore");
	doc_set_str(a, ref, "name", name);
	return sr;
}

/* `<resource>-connection` in ns (team t's): the connection details
 * Crossplane wrote, and the kind's `secret_values` from Secrets Manager
 * read with the role of a service of t that is granted them. */
static DNode *external_secret(Arena *a, const Platform *p, const Resource *r, const Env *e, const char *ns,
			      const Team *t)
{
	DNode *x = k8s_object(a, "external-secrets.io/v1", "ExternalSecret", arena_sprintf(a, "%s-connection", r->name), ns);
	DNode *labels = doc_set_map(a, doc_get(x, "metadata"), "labels");
	doc_set_str(a, labels, "app.kubernetes.io/managed-by", "platformc");
	doc_set_str(a, labels, k8s_label(a, p, "resource"), r->name);
	DNode *spec = doc_set_map(a, x, "spec");
	doc_set_str(a, spec, "refreshInterval", "1h");
	DNode *ref = doc_set_map(a, spec, "secretStoreRef");
	doc_set_str(a, ref, "kind", "ClusterSecretStore");
	doc_set_str(a, ref, "name", store_name(a, r->team, e));
	DNode *target = doc_set_map(a, spec, "target");
	doc_set(a, target, "name", doc_strf(a, "%s-connection", r->name));
	doc_set_str(a, target, "creationPolicy", "Owner");
	DNode *dfs = doc_set_seq(a, spec, "dataFrom");
	DNode *df = doc_push_map(a, dfs);
	doc_set(a, doc_set_map(a, df, "extract"), "key", doc_strf(a, "%s-conn", r->name));
	const Service *reader = values_reader(p, r, t, e);
	if (reader) {
		DNode *data, *from;
		compute_secret_values(a, p, r, e, &data, &from);
		const char *store = aws_store_name(a, reader, e);
		for (int i = 0; data && data->kind == D_SEQ && i < data->n; i++)
			if (data->items[i]->kind == D_MAP)
				doc_set(a, data->items[i], "sourceRef", store_ref(a, store));
		for (int i = 0; from && from->kind == D_SEQ && i < from->n; i++)
			if (from->items[i]->kind == D_MAP) {
				doc_set(a, from->items[i], "sourceRef", store_ref(a, store));
				doc_push(a, dfs, from->items[i]);
			}
		if (data && data->kind == D_SEQ && data->n)
			doc_set(a, spec, "data", data);
	}
	return x;
}

/* Which teams' services use each resource in each environment: built
 * once, so the backend stays linear in the number of services. */
typedef struct Users {
	const Team **teams;
	int n, cap;
} Users;

typedef struct Index {
	const Platform *p;
	StrMap by_name;        /* resource name -> 1 + its index */
	Users *users;          /* [resource index * nenvs + env index] */
} Index;

static Users *users_of(const Index *ix, const Resource *r, const Env *e)
{
	size_t i = (size_t)strmap_get(&ix->by_name, r->name);
	return i ? &ix->users[(i - 1) * (size_t)ix->p->nenvs + (size_t)e->index] : NULL;
}

static void index_build(Arena *a, Index *ix, const Platform *p)
{
	ix->p = p;
	strmap_init(&ix->by_name);
	for (int i = 0; i < p->nresources; i++)
		strmap_put(&ix->by_name, p->resources[i]->name, (void *)(size_t)(i + 1));
	ix->users = arena_alloc(a, sizeof(Users) * (size_t)(p->nresources * p->nenvs + 1));
	for (int i = 0; i < p->nservices; i++) {
		const Service *s = p->services[i];
		for (int k = 0; k < s->nuses; k++)
			for (int e = 0; e < s->nenvs; e++) {
				Users *u = users_of(ix, s->uses[k], s->envs[e].env);
				bool seen = false;
				for (int j = 0; u && j < u->n && !seen; j++)
					seen = u->teams[j] == s->team;
				if (!u || seen)
					continue;
				if (u->n == u->cap) {
					int cap = u->cap ? u->cap * 2 : 4;
					u->teams = arena_grow(a, u->teams, (size_t)u->cap, (size_t)cap, sizeof(Team *));
					u->cap = cap;
				}
				int at = u->n; /* kept in team order */
				while (at > 0 && u->teams[at - 1]->index > s->team->index)
					at--;
				memmove(&u->teams[at + 1], &u->teams[at], sizeof(Team *) * (size_t)(u->n - at));
				u->teams[at] = s->team;
				u->n++;
			}
	}
}

/* Does a service of team t use r in e? */
static bool team_uses(const Index *ix, const Team *t, const Resource *r, const Env *e)
{
	const Users *u = users_of(ix, r, e);
	for (int i = 0; u && i < u->n; i++)
		if (u->teams[i] == t)
			return true;
	return false;
}

static void add_unit(FileSet *fs, UnitKind kind, const char *dir, const char *name, const Env *e, const Team *t,
		     const char *ns)
{
	fileset_add_unit(fs, &(Unit){.kind = kind, .dir = dir, .name = name, .env = e, .team = t, .namespace = ns});
}

/* resources/<resource>/<env>/: the claim, further claims, the connection secret. */
static void resource_folder(const Platform *p, const Index *ix, FileSet *fs, const Resource *r, const Env *e,
			    const char *dir, const char *ns)
{
	Arena *a = fs->arena;
	DNode *k = k8s_kustomization(a);
	doc_set_str(a, k, "namespace", ns);
	DNode *res = doc_set_seq(a, k, "resources");
	fileset_add_yaml(fs, arena_sprintf(a, "%s/claim.yaml", dir), claim(a, p, r, e, ns));
	doc_push_str(a, res, "claim.yaml");
	ChildClaim *ch;
	int nch = compute_children(a, p, r, e, &ch);
	for (int i = 0; i < nch; i++) {
		fileset_add_yaml(fs, arena_sprintf(a, "%s/%s", dir, ch[i].file), child_claim(a, p, r, e, ns, &ch[i]));
		doc_push_str(a, res, ch[i].file);
	}
	if (team_uses(ix, r->team, r, e)) {
		fileset_add_yaml(fs, arena_sprintf(a, "%s/externalsecret.yaml", dir), external_secret(a, p, r, e, ns, r->team));
		doc_push_str(a, res, "externalsecret.yaml");
	}
	fileset_add_yaml(fs, arena_sprintf(a, "%s/kustomization.yaml", dir), k);
}

/* kept: the files are there already (a kept unit of output); only the
 * deployment units are registered */
static void resource_env(const Platform *p, const Index *ix, FileSet *fs, const Resource *r, const Env *e, bool kept)
{
	Arena *a = fs->arena;
	const char *dir = arena_sprintf(a, "resources/%s/%s", r->name, e->name);
	const char *ns = k8s_namespace(a, r->team, e);
	if (!kept)
		resource_folder(p, ix, fs, r, e, dir, ns);
	add_unit(fs, U_RESOURCE, dir, r->name, e, r->team, ns);
	/* teams it is shared with get the secret in their own namespace, as
	 * their own Application (their AppProject allows only their namespaces) */
	for (int i = 0; i < r->nshared; i++) {
		const Team *t = r->shared_with[i];
		if (t == r->team || !team_uses(ix, t, r, e))
			continue;
		const char *sdir = arena_sprintf(a, "%s/shared-%s", dir, t->name);
		const char *sns = k8s_namespace(a, t, e);
		if (!kept) {
			DNode *sk = k8s_kustomization(a);
			doc_set_str(a, sk, "namespace", sns);
			doc_push_str(a, doc_set_seq(a, sk, "resources"), "externalsecret.yaml");
			fileset_add_yaml(fs, arena_sprintf(a, "%s/externalsecret.yaml", sdir),
					 external_secret(a, p, r, e, sns, t));
			fileset_add_yaml(fs, arena_sprintf(a, "%s/kustomization.yaml", sdir), sk);
		}
		add_unit(fs, U_RESOURCE, sdir, arena_sprintf(a, "%s-shared-%s", r->name, t->name), e, t, sns);
	}
}

/* One store per team that owns used resources in e: it reads only the
 * `<resource>-conn` secrets of that team's namespace (a Role with
 * resourceNames) and serves only the namespaces that use them; false when
 * it owns none. The caller scopes the documents. */
static bool team_store(const Platform *p, const Index *ix, FileSet *fs, const Env *e, const char *dir,
		       const Team *team)
{
	Arena *a = fs->arena;
	const char *ns = k8s_namespace(a, team, e);
	DNode *names = doc_seq(a), *consumers = doc_seq(a);
	for (int i = 0; i < p->nresources; i++) {
		const Resource *r = p->resources[i];
		if (r->team != team || !resource_runs_in(r, e))
			continue;
		const Users *us = users_of(ix, r, e);
		bool used = us && us->n;
		for (int u = 0; us && u < us->n; u++) {
			const char *cns = k8s_namespace(a, us->teams[u], e);
			bool seen = false;
			for (int j = 0; j < consumers->n && !seen; j++)
				seen = !strcmp(consumers->items[j]->s, cns);
			if (!seen)
				doc_push_str(a, consumers, cns);
		}
		if (used)
			doc_push(a, names, doc_strf(a, "%s-conn", r->name));
	}
	if (!names->n)
		return false;
	DNode *store = k8s_object(a, "external-secrets.io/v1", "ClusterSecretStore", store_name(a, team, e), NULL);
	doc_set_str(a, doc_set_map(a, doc_get(store, "metadata"), "labels"), "app.kubernetes.io/managed-by",
		    "platformc");
	DNode *spec = doc_set_map(a, store, "spec");
	DNode *kp = doc_set_map(a, doc_set_map(a, spec, "provider"), "kubernetes");
	doc_set_str(a, kp, "remoteNamespace", ns);
	DNode *ca = doc_set_map(a, doc_set_map(a, kp, "server"), "caProvider");
	doc_set_str(a, ca, "type", "ConfigMap");
	doc_set_str(a, ca, "name", "kube-root-ca.crt");
	doc_set_str(a, ca, "key", "ca.crt");
	doc_set_str(a, ca, "namespace", ns);
	DNode *sa = doc_set_map(a, doc_set_map(a, kp, "auth"), "serviceAccount");
	doc_set_str(a, sa, "name", ESO_SERVICE_ACCOUNT);
	doc_set_str(a, sa, "namespace", ESO_NAMESPACE);
	doc_set(a, doc_push_map(a, doc_set_seq(a, spec, "conditions")), "namespaces", consumers);
	const char *f = arena_sprintf(a, "clustersecretstore-%s.yaml", team->name);
	fileset_add_yaml(fs, arena_sprintf(a, "%s/%s", dir, f), store);

	DNode *role = k8s_object(a, "rbac.authorization.k8s.io/v1", "Role", "connection-secrets-reader", ns);
	DNode *rule = doc_push_map(a, doc_set_seq(a, role, "rules"));
	doc_push_str(a, doc_set_seq(a, rule, "apiGroups"), "");
	doc_push_str(a, doc_set_seq(a, rule, "resources"), "secrets");
	doc_set(a, rule, "resourceNames", names);
	DNode *verbs = doc_set_seq(a, rule, "verbs");
	doc_push_str(a, verbs, "get");
	f = arena_sprintf(a, "role-%s.yaml", team->name);
	fileset_add_yaml(fs, arena_sprintf(a, "%s/%s", dir, f), role);

	DNode *rb = k8s_object(a, "rbac.authorization.k8s.io/v1", "RoleBinding", "connection-secrets-reader", ns);
	DNode *rr = doc_set_map(a, rb, "roleRef");
	doc_set_str(a, rr, "apiGroup", "rbac.authorization.k8s.io");
	doc_set_str(a, rr, "kind", "Role");
	doc_set_str(a, rr, "name", "connection-secrets-reader");
	DNode *sub = doc_push_map(a, doc_set_seq(a, rb, "subjects"));
	doc_set_str(a, sub, "kind", "ServiceAccount");
	doc_set_str(a, sub, "name", ESO_SERVICE_ACCOUNT);
	doc_set_str(a, sub, "namespace", ESO_NAMESPACE);
	f = arena_sprintf(a, "rolebinding-%s.yaml", team->name);
	fileset_add_yaml(fs, arena_sprintf(a, "%s/%s", dir, f), rb);
	return true;
}

/* platform/connections/<env>/: the teams' stores, and one Secrets Manager
 * store per service whose role reads secret values. Each team's and each
 * service's documents (an identity policy made to learn whether there is
 * one) are dropped once its files are added: only the kustomization's list
 * outlives them. */
static void connections(const Platform *p, const Index *ix, FileSet *fs, const Env *e)
{
	Arena *a = fs->arena;
	const char *dir = arena_sprintf(a, "platform/connections/%s", e->name);
	DNode *k = k8s_kustomization(a);
	DNode *res = doc_set_seq(a, k, "resources");
	for (int t = 0; t < p->nteams; t++) {
		const Team *team = p->teams[t];
		ArenaMark scope = arena_mark(a);
		bool made = team_store(p, ix, fs, e, dir, team);
		arena_release(a, scope);
		if (made) {
			doc_push(a, res, doc_strf(a, "clustersecretstore-%s.yaml", team->name));
			doc_push(a, res, doc_strf(a, "role-%s.yaml", team->name));
			doc_push(a, res, doc_strf(a, "rolebinding-%s.yaml", team->name));
		}
	}
	for (int i = 0; i < p->nservices; i++) {
		const Service *s = p->services[i];
		if (!service_runs_in(s, e) || !service_reads_secrets(s, e))
			continue;
		ArenaMark scope = arena_mark(a);
		bool made = identity_policy(a, p, s, e) != NULL;
		if (made) {
			const char *f = arena_sprintf(a, "clustersecretstore-aws-%s.yaml", s->name);
			fileset_add_yaml(fs, arena_sprintf(a, "%s/%s", dir, f), aws_store(a, p, s, e));
		}
		arena_release(a, scope);
		if (made)
			doc_push(a, res, doc_strf(a, "clustersecretstore-aws-%s.yaml", s->name));
	}
	if (!res->n)
		return;
	fileset_add_yaml(fs, arena_sprintf(a, "%s/kustomization.yaml", dir), k);
	add_unit(fs, U_PLATFORM, dir, "connections", e, NULL, NULL);
}

/* ---- service identities (identity.c) ---- */

static const Kind *identity_kind(const Platform *p)
{
	return catalog_kind_any(p->catalog, identity_irsa(p) ? "service-identity-irsa" : "service-identity");
}

/* Whether a service could need an identity: it uses a resource whose kind
 * has access modes (identity_policy decides per environment). */
static bool may_need_identity(const Service *s)
{
	for (int i = 0; i < s->nuses; i++)
		if (compute_nmodes(s->uses[i]->kindp))
			return true;
	return false;
}

static DNode *json_block(Arena *a, const DNode *doc)
{
	StrBuf b;
	sb_init(&b);
	json_emit(&b, doc);
	DNode *v = doc_str(a, b.data);
	v->literal = true;
	sb_free(&b);
	return v;
}

static void set_param(Arena *a, const Kind *k, DNode *params, const char *name, DNode *v)
{
	const Param *f = catalog_param(&k->params, name);
	doc_set(a, params, f ? f->claim : name, v);
}

/* The claim of s's identity in e, or NULL when it needs none. */
static DNode *identity_claim(Arena *a, const Platform *p, const Service *s, const Env *e, const char *ns)
{
	const Kind *k = identity_kind(p);
	DNode *policy = k ? identity_policy(a, p, s, e) : NULL;
	if (!policy)
		return NULL;
	DNode *c = claim_object(a, p, k, s->name, s->team, e, ns);
	doc_set_str(a, doc_get(doc_get(c, "metadata"), "labels"), k8s_label(a, p, "service"), s->name);
	doc_set_str(a, doc_set_map(a, doc_get(c, "metadata"), "annotations"), k8s_label(a, p, "monthly-cost-usd"),
		    "0.00");
	DNode *spec = doc_set_map(a, c, "spec");
	DNode *params = doc_set_map(a, spec, "parameters");
	set_param(a, k, params, "role_name", doc_str(a, identity_role_name(a, p, s, e)));
	set_param(a, k, params, "trust_policy", json_block(a, identity_trust(a, p, s, e, service_reads_secrets(s, e))));
	set_param(a, k, params, "policy", json_block(a, policy));
	if (!identity_irsa(p)) {
		set_param(a, k, params, "cluster_name", doc_str(a, identity_cluster(p, e)));
		set_param(a, k, params, "namespace", doc_str(a, ns));
		set_param(a, k, params, "service_account", doc_str(a, s->name));
	}
	deletion(a, p, e, params);
	if (namespaced(p))
		doc_set_str(a, doc_set_map(a, doc_set_map(a, spec, "crossplane"), "compositionRef"), "name", k->name);
	else
		doc_set_str(a, doc_set_map(a, spec, "compositionRef"), "name", k->name);
	return c;
}

/* identities/<service>/<env>/: the identity claim in the service's namespace.
 * kept: the files are there already when the service needs one (a kept
 * unit of output); only the deployment unit is registered. */
static void identity_env(const Platform *p, FileSet *fs, const Service *s, const Env *e, bool kept)
{
	Arena *a = fs->arena;
	const char *ns = k8s_namespace(a, s->team, e);
	const char *dir = arena_sprintf(a, "identities/%s/%s", s->name, e->name);
	if (kept) {
		if (fileset_unit_has(fs, arena_sprintf(a, "%s/kustomization.yaml", dir)))
			add_unit(fs, U_RESOURCE, dir, arena_sprintf(a, "%s-identity", s->name), e, NULL, ns);
		return;
	}
	DNode *c = identity_claim(a, p, s, e, ns);
	if (!c)
		return;
	DNode *k = k8s_kustomization(a);
	doc_set_str(a, k, "namespace", ns);
	doc_push_str(a, doc_set_seq(a, k, "resources"), "claim.yaml");
	fileset_add_yaml(fs, arena_sprintf(a, "%s/claim.yaml", dir), c);
	fileset_add_yaml(fs, arena_sprintf(a, "%s/kustomization.yaml", dir), k);
	/* the platform's own Application (AppProject platform-system): IAM is not
	 * something a team's project may sync, even in its own namespace */
	add_unit(fs, U_RESOURCE, dir, arena_sprintf(a, "%s-identity", s->name), e, NULL, ns);
}

/* platform/crossplane/: the XRD and Composition of every kind in use. */
static void kinds_folder(const Platform *p, FileSet *fs)
{
	Arena *a = fs->arena;
	DNode *k = k8s_kustomization(a);
	DNode *res = doc_set_seq(a, k, "resources");
	/* the kinds in use: those of resources, and those their kinds make
	 * further claims of (internal kinds included); in name order */
	int nall = p->catalog->n + p->catalog->ninternal;
	const Kind **all = arena_alloc(a, sizeof(Kind *) * (size_t)(nall + 1));
	bool *used = arena_alloc(a, sizeof(bool) * (size_t)(nall + 1));
	for (int i = 0; i < nall; i++)
		all[i] = i < p->catalog->n ? p->catalog->kinds[i] : p->catalog->internal[i - p->catalog->n];
	for (int i = 1; i < nall; i++)
		for (int j = i; j > 0 && strcmp(all[j - 1]->name, all[j]->name) > 0; j--) {
			const Kind *t = all[j];
			all[j] = all[j - 1], all[j - 1] = t;
		}
	const Kind *idk = identity_kind(p);
	for (int i = 0; i < p->nservices && idk; i++)
		if (may_need_identity(p->services[i]))
			for (int j = 0; j < nall; j++)
				used[j] |= all[j] == idk;
	for (int r = 0; r < p->nresources; r++)
		for (int i = 0; i < nall; i++)
			if (p->resources[r]->kindp == all[i] && !used[i]) {
				used[i] = true;
				for (int j = 0; j < nall; j++)
					used[j] |= compute_makes(all[i], all[j]);
			}
	for (int i = 0; i < nall; i++) {
		const Kind *kind = all[i];
		if (!used[i])
			continue;
		const char *x = arena_sprintf(a, "%s-xrd.yaml", kind->name);
		const char *c = arena_sprintf(a, "%s-composition.yaml", kind->name);
		fileset_add_yaml(fs, arena_sprintf(a, "platform/crossplane/%s", x), xrd(a, p, kind));
		fileset_add_yaml(fs, arena_sprintf(a, "platform/crossplane/%s", c), composition(a, p, kind));
		doc_push_str(a, res, x);
		doc_push_str(a, res, c);
	}
	fileset_add_yaml(fs, "platform/crossplane/kustomization.yaml", k);
}

void backend_crossplane(const Platform *p, FileSet *fs)
{
	Arena *a = fs->arena;
	if (!p->nresources || !p->catalog)
		return;
	/* what outlives the items (lists, indexes, the whole family's documents)
	 * is dropped when the family is done */
	ArenaMark whole = arena_mark(a);
	/* the kinds in use: read from every service and resource */
	if (!fileset_unit_begin(fs, "platform/crossplane", unitkey_platform(fs, p)))
		kinds_folder(p, fs);
	fileset_unit_end(fs);
	add_unit(fs, U_PLATFORM, "platform/crossplane", "crossplane", NULL, NULL, NULL);
	Index ix;
	index_build(a, &ix, p);
	/* each folder's documents are dropped once its files are added; each
	 * item's files are kept as they are when nothing it reads changed */
	/* the stores read every team and resource, and who uses which resource
	 * where with which modes (connections, aws_store): one key for every
	 * environment */
	uint64_t access = unitkey_platform_access(fs, p);
	for (int e = 0; e < p->nenvs; e++) {
		ArenaMark scope = arena_mark(a);
		const Env *env = &p->envs[e];
		bool kept = fileset_unit_begin(fs, arena_sprintf(a, "platform/connections/%s", env->name), access);
		if (!kept)
			connections(p, &ix, fs, env);
		else if (fileset_unit_has(fs, arena_sprintf(a, "platform/connections/%s/kustomization.yaml", env->name)))
			add_unit(fs, U_PLATFORM, arena_sprintf(a, "platform/connections/%s", env->name), "connections",
				 env, NULL, NULL);
		fileset_unit_end(fs);
		arena_release(a, scope);
	}
	for (int i = 0; i < p->nresources; i++) {
		const Resource *r = p->resources[i];
		ArenaMark rscope = arena_mark(a);
		bool kept = fileset_unit_begin(fs, arena_sprintf(a, "resources/%s", r->name), unitkey_resource(fs, p, r));
		for (int e = 0; e < r->nenvs; e++) {
			ArenaMark scope = arena_mark(a);
			resource_env(p, &ix, fs, r, r->envs[e], kept);
			arena_release(a, scope);
		}
		fileset_unit_end(fs);
		arena_release(a, rscope);
	}
	for (int i = 0; i < p->nservices; i++) {
		const Service *s = p->services[i];
		if (!may_need_identity(s))
			continue;
		ArenaMark sscope = arena_mark(a);
		bool kept = fileset_unit_begin(fs, arena_sprintf(a, "identities/%s", s->name), unitkey_service(fs, p, s));
		for (int e = 0; e < s->nenvs; e++) {
			ArenaMark scope = arena_mark(a);
			identity_env(p, fs, s, s->envs[e].env, kept);
			arena_release(a, scope);
		}
		fileset_unit_end(fs);
		arena_release(a, sscope);
	}
	strmap_free(&ix.by_name);
	arena_release(a, whole);
}
