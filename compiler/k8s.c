/*
 * k8s.c — the conventions every output family agrees on: label keys,
 * namespace names, object skeletons and Argo CD destinations. Families that
 * select on each other's objects (network policies, policies, dashboards,
 * the Backstage Kubernetes plugin) go through these, so a label is spelled
 * in one place.
 */
#include "platformc.h"

const char *k8s_label(Arena *a, const Platform *p, const char *what)
{
	return arena_sprintf(a, "platform.%s/%s", p->domain, what);
}

const char *k8s_namespace(Arena *a, const Team *t, const Env *e)
{
	return arena_sprintf(a, "%s-%s", t->name, e->name);
}

DNode *k8s_object(Arena *a, const char *api_version, const char *kind, const char *name, const char *ns)
{
	DNode *o = doc_map(a);
	doc_set_str(a, o, "apiVersion", api_version);
	doc_set_str(a, o, "kind", kind);
	DNode *md = doc_set_map(a, o, "metadata");
	doc_set_str(a, md, "name", name);
	if (ns)
		doc_set_str(a, md, "namespace", ns);
	return o;
}

DNode *k8s_kustomization(Arena *a)
{
	DNode *k = doc_map(a);
	doc_set_str(a, k, "apiVersion", "kustomize.config.k8s.io/v1beta1");
	doc_set_str(a, k, "kind", "Kustomization");
	return k;
}

DNode *k8s_service_labels(Arena *a, const Platform *p, const Service *s)
{
	DNode *l = doc_map(a);
	doc_set_str(a, l, "app.kubernetes.io/name", s->name);
	doc_set_str(a, l, "app.kubernetes.io/part-of", s->system ? s->system->name : p->name);
	doc_set_str(a, l, "app.kubernetes.io/managed-by", "platformc");
	doc_set_str(a, l, "backstage.io/kubernetes-id", s->name);
	doc_set_str(a, l, k8s_label(a, p, "team"), s->team->name);
	return l;
}

DNode *k8s_destination(Arena *a, const Env *e, const char *ns)
{
	DNode *d = doc_map(a);
	if (e->cluster)
		doc_set_str(a, d, "name", e->cluster);
	else
		doc_set_str(a, d, "server", "https://kubernetes.default.svc");
	if (ns)
		doc_set_str(a, d, "namespace", ns);
	return d;
}
