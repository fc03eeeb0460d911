/*
 * backend_services.c — each service as a Kustomize base and one overlay per
 * environment it runs in.
 *
 *   services/<svc>/base/      ServiceAccount, Deployment, Service, ConfigMap
 *   services/<svc>/<env>/     namespace <team>-<env>; image tag; a patch with
 *                             the environment's replicas, resources and config;
 *                             HPA (replicas is a range), PodDisruptionBudget
 *                             (prod tiers), Ingress (when set), NetworkPolicy
 *
 * Config reaches the container through `envFrom` a ConfigMap, never through
 * `env[].value`, so a value such as `$(HOME)` stays text: Kubernetes expands
 * `$(VAR)` only in `env`, `command` and `args`.
 *
 * The image tag is a placeholder (`unset`) that CD replaces per environment:
 * Argo CD parameter overrides (`.argocd-source-<app>.yaml` beside the
 * overlay, as Argo CD Image Updater writes them) are files platformc does
 * not own, so a render never undoes a deployment.
 */
#include "platformc.h"

#include <stdlib.h>
#include <string.h>

#define IMAGE_TAG_PLACEHOLDER "unset"
typedef struct Callers {
	const Service **items;
	int n, cap;
} Callers;

static DNode *selector(Arena *a, const Service *s)
{
	DNode *sel = doc_map(a);
	doc_set_str(a, doc_set_map(a, sel, "matchLabels"), "app.kubernetes.io/name", s->name);
	return sel;
}

static DNode *string_list(Arena *a, const char *const *items)
{
	DNode *seq = doc_seq(a);
	seq->flow = true;
	for (; *items; items++)
		doc_push_str(a, seq, *items);
	return seq;
}

static const char *tmp_volume(const Service *s)
{
	for (int i = 0; i < s->nuses; i++)
		if (strcmp(s->uses[i]->name, "tmp") == 0)
			return "platformc-tmp";
	return "tmp";
}

/* One probe of the workload's kind (workload.c): httpGet on a path of the
 * probed port, the gRPC health protocol on the serving port, or exec. */
static DNode *probe(Arena *a, const Workload *w, const char *path, long long period, long long failure)
{
	DNode *pr = doc_map(a);
	if (strcmp(w->probe, "grpc") == 0) {
		doc_set_int(a, doc_set_map(a, pr, "grpc"), "port", w->probe_port); /* a number: the API has no port names */
	} else if (strcmp(w->probe, "exec") == 0) {
		DNode *cmd = doc_set_seq(a, doc_set_map(a, pr, "exec"), "command");
		cmd->flow = true;
		for (int i = 0; i < w->command->n; i++)
			doc_push_str(a, cmd, w->command->items[i]->text ? w->command->items[i]->text : "");
	} else {
		DNode *get = doc_set_map(a, pr, "httpGet");
		doc_set_str(a, get, "path", path);
		doc_set_str(a, get, "port", w->probe_port_name);
	}
	doc_set_int(a, pr, "periodSeconds", period);
	doc_set_int(a, pr, "timeoutSeconds", w->timeout);
	doc_set_int(a, pr, "failureThreshold", failure);
	return pr;
}

static void container_port(Arena *a, DNode *ports, const char *name, long long port)
{
	DNode *pt = doc_push_map(a, ports);
	doc_set_str(a, pt, "name", name);
	doc_set_int(a, pt, "containerPort", port);
	doc_set_str(a, pt, "protocol", "TCP");
}

static DNode *requests(Arena *a, const char *cpu, const char *memory)
{
	DNode *r = doc_map(a);
	DNode *req = doc_set_map(a, r, "requests");
	doc_set_str(a, req, "cpu", cpu);
	doc_set_str(a, req, "memory", memory);
	doc_set_str(a, doc_set_map(a, r, "limits"), "memory", memory);
	return r;
}

static DNode *deployment_doc(Arena *a, const Platform *p, const Service *s, const Workload *w)
{
	bool canary = rollout_canary(s); /* the same pod template in an Argo Rollouts Rollout */
	DNode *d = canary ? k8s_object(a, "argoproj.io/v1alpha1", "Rollout", s->name, NULL)
			  : k8s_object(a, "apps/v1", "Deployment", s->name, NULL);
	doc_set(a, doc_get(d, "metadata"), "labels", k8s_service_labels(a, p, s));
	DNode *spec = doc_set_map(a, d, "spec");
	doc_set_int(a, spec, "revisionHistoryLimit", 5);
	doc_set(a, spec, "selector", selector(a, s));
	if (canary)
		doc_set(a, spec, "strategy", rollout_strategy(a, s));
	DNode *tmpl = doc_set_map(a, spec, "template");
	doc_set(a, doc_set_map(a, tmpl, "metadata"), "labels", k8s_service_labels(a, p, s));
	DNode *ps = doc_set_map(a, tmpl, "spec");
	doc_set_str(a, ps, "serviceAccountName", s->name);
	doc_set_bool(a, ps, "automountServiceAccountToken", false);
	/* an exception (policies.exceptions) relaxes exactly what its policy checks */
	bool root = policy_excepts(p, s, "require-run-as-non-root");
	DNode *psc = doc_set_map(a, ps, "securityContext");
	if (!root)
		doc_set_bool(a, psc, "runAsNonRoot", true);
	doc_set_str(a, doc_set_map(a, psc, "seccompProfile"), "type", "RuntimeDefault");

	DNode *c = doc_push_map(a, doc_set_seq(a, ps, "containers"));
	doc_set_str(a, c, "name", "app");
	doc_set_str(a, c, "image", s->image);
	if (w->port_name || w->metrics_port) {
		DNode *ports = doc_set_seq(a, c, "ports");
		if (w->port_name)
			container_port(a, ports, w->port_name, w->port);
		if (w->metrics_port)
			container_port(a, ports, "metrics", w->metrics_port);
	}
	DNode *ef = doc_push_map(a, doc_set_seq(a, c, "envFrom"));
	doc_set_str(a, doc_set_map(a, ef, "configMapRef"), "name", arena_sprintf(a, "%s-config", s->name));
	const Node *res = node_get(s->eff, "resources");
	const Node *cpu = node_get(res, "cpu"), *mem = node_get(res, "memory");
	doc_set(a, c, "resources", requests(a, cpu ? cpu->text : "100m", mem ? mem->text : "128Mi"));
	if (w->probe) {
		/* the startup probe holds the others off for the start-up budget */
		doc_set(a, c, "startupProbe", probe(a, w, w->liveness, w->startup_period, w->startup_failure));
		doc_set(a, c, "livenessProbe", probe(a, w, w->liveness, w->period, w->failure));
		doc_set(a, c, "readinessProbe", probe(a, w, w->readiness, w->period, w->failure));
	}
	DNode *sc = doc_set_map(a, c, "securityContext");
	doc_set_bool(a, sc, "allowPrivilegeEscalation", policy_excepts(p, s, "disallow-privilege-escalation"));
	doc_set_bool(a, sc, "readOnlyRootFilesystem", !policy_excepts(p, s, "require-read-only-root-fs"));
	if (!root)
		doc_set_bool(a, sc, "runAsNonRoot", true);
	doc_set(a, doc_set_map(a, sc, "capabilities"), "drop", string_list(a, (const char *[]){"ALL", NULL}));

	/* a writable /tmp, and each used resource's connection secret as files */
	DNode *mounts = doc_set_seq(a, c, "volumeMounts");
	DNode *vols = doc_set_seq(a, ps, "volumes");
	DNode *m = doc_push_map(a, mounts);
	doc_set_str(a, m, "name", tmp_volume(s));
	doc_set_str(a, m, "mountPath", "/tmp");
	DNode *v = doc_push_map(a, vols);
	doc_set_str(a, v, "name", tmp_volume(s));
	doc_set_map(a, v, "emptyDir");
	for (int i = 0; i < s->nuses; i++) {
		const Resource *r = s->uses[i];
		m = doc_push_map(a, mounts);
		doc_set_str(a, m, "name", r->name);
		doc_set(a, m, "mountPath", doc_strf(a, "/var/run/platform/%s", r->name));
		doc_set_bool(a, m, "readOnly", true);
		v = doc_push_map(a, vols);
		doc_set_str(a, v, "name", r->name);
		doc_set(a, doc_set_map(a, v, "secret"), "secretName", doc_strf(a, "%s-connection", r->name));
	}
	return d;
}

static void service_port(Arena *a, DNode *ports, const char *name, long long port, const char *app_protocol)
{
	DNode *pt = doc_push_map(a, ports);
	doc_set_str(a, pt, "name", name);
	doc_set_int(a, pt, "port", port);
	doc_set_str(a, pt, "targetPort", name);
	doc_set_str(a, pt, "protocol", "TCP");
	if (app_protocol)
		doc_set_str(a, pt, "appProtocol", app_protocol);
}

/* The serving port (named by the API type) and a separate metrics port. */
static DNode *service_doc(Arena *a, const Platform *p, const Service *s, const Workload *w)
{
	DNode *svc = k8s_object(a, "v1", "Service", s->name, NULL);
	doc_set(a, doc_get(svc, "metadata"), "labels", k8s_service_labels(a, p, s));
	DNode *spec = doc_set_map(a, svc, "spec");
	doc_set_str(a, spec, "type", "ClusterIP");
	doc_set_str(a, doc_set_map(a, spec, "selector"), "app.kubernetes.io/name", s->name);
	DNode *ports = doc_set_seq(a, spec, "ports");
	if (w->port_name)
		service_port(a, ports, w->port_name, w->service_port, w->app_protocol);
	if (w->metrics_port)
		service_port(a, ports, "metrics", w->metrics_port, "http");
	return svc;
}

static DNode *serviceaccount_doc(Arena *a, const Platform *p, const Service *s)
{
	DNode *sa = k8s_object(a, "v1", "ServiceAccount", s->name, NULL);
	doc_set(a, doc_get(sa, "metadata"), "labels", k8s_service_labels(a, p, s));
	doc_set_bool(a, sa, "automountServiceAccountToken", false);
	return sa;
}

static int cmp_pair_key(const void *x, const void *y)
{
	return strcmp(((const Pair *)x)->key->text, ((const Pair *)y)->key->text);
}

/* The service-level config (defaults merged with the service), sorted by key. */
static DNode *configmap_doc(Arena *a, const Platform *p, const Service *s)
{
	DNode *cm = k8s_object(a, "v1", "ConfigMap", arena_sprintf(a, "%s-config", s->name), NULL);
	doc_set(a, doc_get(cm, "metadata"), "labels", k8s_service_labels(a, p, s));
	DNode *data = doc_set_map(a, cm, "data");
	const Node *env = node_get(s->eff, "env");
	if (env && env->kind == N_MAP && env->n) {
		Pair *pairs = arena_alloc(a, sizeof *pairs * (size_t)env->n);
		memcpy(pairs, env->pairs, sizeof *pairs * (size_t)env->n);
		qsort(pairs, (size_t)env->n, sizeof *pairs, cmp_pair_key);
		for (int i = 0; i < env->n; i++)
			doc_set_str(a, data, pairs[i].key->text, pairs[i].val->text ? pairs[i].val->text : "");
	}
	return cm;
}

/* The overlay's patch: what differs per environment, always explicit. */
static DNode *deployment_patch(Arena *a, const Platform *p, const Service *s, const ServiceEnv *se)
{
	DNode *d = k8s_object(a, "apps/v1", "Deployment", s->name, NULL);
	DNode *spec = doc_set_map(a, d, "spec");
	if (!se->autoscale)
		doc_set_int(a, spec, "replicas", se->replicas);
	DNode *tmpl = doc_set_map(a, spec, "template");
	/* a config change rolls the pods: the hash of the environment's config */
	StrBuf b;
	sb_init(&b);
	for (int i = 0; i < se->nvars; i++)
		sb_printf(&b, "%s=%s\n", se->vars[i].key, se->vars[i].value ? se->vars[i].value : "");
	uint64_t h = hash_bytes(b.data ? b.data : "", b.len);
	sb_free(&b);
	doc_set(a, doc_set_map(a, doc_set_map(a, tmpl, "metadata"), "annotations"), k8s_label(a, p, "config-hash"),
		doc_strf(a, "%016llx", (unsigned long long)h));
	DNode *c = doc_push_map(a, doc_set_seq(a, doc_set_map(a, tmpl, "spec"), "containers"));
	doc_set_str(a, c, "name", "app");
	doc_set(a, c, "resources", requests(a, se->cpu, se->memory));
	return d;
}

/* The same for a Rollout, as a JSON patch: kustomize has no schema for the
 * kind, so a strategic merge would replace the whole `containers` list. The
 * environment and tier labels go onto the pod template here too (kustomize's
 * `includeTemplates` knows only the built-in workload kinds). */
static DNode *rollout_patch(Arena *a, const Platform *p, const ServiceEnv *se, DNode *deployment_patch_doc)
{
	DNode *spec = doc_get(deployment_patch_doc, "spec");
	DNode *tmpl = doc_get(spec, "template");
	DNode *ops = doc_seq(a);
	DNode *op;
	if (doc_get(spec, "replicas")) {
		op = doc_push_map(a, ops);
		doc_set_str(a, op, "op", "add");
		doc_set_str(a, op, "path", "/spec/replicas");
		doc_set(a, op, "value", doc_get(spec, "replicas"));
	}
	op = doc_push_map(a, ops);
	doc_set_str(a, op, "op", "add");
	doc_set_str(a, op, "path", "/spec/template/metadata/annotations");
	doc_set(a, op, "value", doc_get(doc_get(tmpl, "metadata"), "annotations"));
	const char *const what[] = {"environment", "tier"};
	const char *const val[] = {se->env->name, se->env->prod ? "prod" : "nonprod"};
	for (int i = 0; i < 2; i++) {
		op = doc_push_map(a, ops);
		doc_set_str(a, op, "op", "add");
		/* JSON pointer: `/` in the key is `~1` */
		doc_set(a, op, "path", doc_strf(a, "/spec/template/metadata/labels/platform.%s~1%s", p->domain, what[i]));
		doc_set_str(a, op, "value", val[i]);
	}
	op = doc_push_map(a, ops);
	doc_set_str(a, op, "op", "replace");
	doc_set_str(a, op, "path", "/spec/template/spec/containers/0/resources");
	doc_set(a, op, "value", doc_get(doc_get(doc_get(tmpl, "spec"), "containers")->items[0], "resources"));
	op = doc_push_map(a, ops);
	doc_set_str(a, op, "op", "replace");
	doc_set_str(a, op, "path", "/spec/strategy/canary/steps");
	doc_set(a, op, "value", rollout_steps(a, se->env));
	return ops;
}

/* Only the keys an environment adds or changes (mappings merge). */
static DNode *configmap_patch(Arena *a, const Service *s, const ServiceEnv *se, DNode *base_data)
{
	DNode *cm = k8s_object(a, "v1", "ConfigMap", arena_sprintf(a, "%s-config", s->name), NULL);
	DNode *data = doc_set_map(a, cm, "data");
	for (int i = 0; i < se->nvars; i++) {
		const char *val = se->vars[i].value ? se->vars[i].value : "";
		const DNode *b = doc_get(base_data, se->vars[i].key);
		if (!b || strcmp(b->s, val) != 0)
			doc_set_str(a, data, se->vars[i].key, val);
	}
	return data->n ? cm : NULL;
}

static DNode *hpa_doc(Arena *a, const Service *s, const ServiceEnv *se)
{
	DNode *h = k8s_object(a, "autoscaling/v2", "HorizontalPodAutoscaler", s->name, NULL);
	DNode *spec = doc_set_map(a, h, "spec");
	rollout_target_ref(a, doc_set_map(a, spec, "scaleTargetRef"), s);
	doc_set_int(a, spec, "minReplicas", se->replicas);
	doc_set_int(a, spec, "maxReplicas", se->max_replicas);
	DNode *m = doc_push_map(a, doc_set_seq(a, spec, "metrics"));
	doc_set_str(a, m, "type", "Resource");
	DNode *r = doc_set_map(a, m, "resource");
	doc_set_str(a, r, "name", "cpu");
	DNode *t = doc_set_map(a, r, "target");
	doc_set_str(a, t, "type", "Utilization");
	doc_set_int(a, t, "averageUtilization", se->cpu_target);
	return h;
}

/* maxUnavailable, not minAvailable: a minimum equal to the replica count
 * would block every node drain. */
static DNode *pdb_doc(Arena *a, const Service *s)
{
	DNode *pdb = k8s_object(a, "policy/v1", "PodDisruptionBudget", s->name, NULL);
	DNode *spec = doc_set_map(a, pdb, "spec");
	doc_set_int(a, spec, "maxUnavailable", 1);
	doc_set(a, spec, "selector", selector(a, s));
	return pdb;
}

/* Every public host has TLS: cert-manager's ingress-shim issues the
 * certificate named in `tls` from the platform's ClusterIssuer. */
static DNode *ingress_doc(Arena *a, const Platform *p, const Service *s, const ServiceEnv *se, const Workload *w,
			  const IngressSettings *is)
{
	DNode *ing = k8s_object(a, "networking.k8s.io/v1", "Ingress", s->name, NULL);
	DNode *md = doc_get(ing, "metadata");
	/* labelled like the workload: policy exceptions select a service's objects by label */
	doc_set(a, md, "labels", k8s_service_labels(a, p, s));
	DNode *ann = doc_set_map(a, md, "annotations");
	doc_set_str(a, ann, "cert-manager.io/cluster-issuer", is->issuer);
	for (int i = 0; w->ingress_annotations && i < w->ingress_annotations->n; i++)
		doc_set_str(a, ann, w->ingress_annotations->pairs[i].key->text,
			    w->ingress_annotations->pairs[i].val->text ? w->ingress_annotations->pairs[i].val->text : "");
	DNode *spec = doc_set_map(a, ing, "spec");
	doc_set_str(a, spec, "ingressClassName", is->cls);
	DNode *tls = doc_push_map(a, doc_set_seq(a, spec, "tls"));
	doc_push_str(a, doc_set_seq(a, tls, "hosts"), se->ingress_host);
	doc_set(a, tls, "secretName", doc_strf(a, "%s-tls", s->name));
	DNode *rule = doc_push_map(a, doc_set_seq(a, spec, "rules"));
	doc_set_str(a, rule, "host", se->ingress_host);
	DNode *path = doc_push_map(a, doc_set_seq(a, doc_set_map(a, rule, "http"), "paths"));
	doc_set_str(a, path, "path", se->ingress_path);
	doc_set_str(a, path, "pathType", "Prefix");
	DNode *svc = doc_set_map(a, doc_set_map(a, path, "backend"), "service");
	doc_set_str(a, svc, "name", s->name);
	doc_set_str(a, doc_set_map(a, svc, "port"), "name", w->port_name);
	return ing;
}

static DNode *peer(Arena *a, const char *ns, const char *app)
{
	DNode *pe = doc_map(a);
	doc_set_str(a, doc_set_map(a, doc_set_map(a, pe, "namespaceSelector"), "matchLabels"),
		    "kubernetes.io/metadata.name", ns);
	if (app)
		doc_set_str(a, doc_set_map(a, doc_set_map(a, pe, "podSelector"), "matchLabels"),
			    "app.kubernetes.io/name", app);
	return pe;
}

static void tcp_port(Arena *a, DNode *rule, long long port)
{
	DNode *pt = doc_push_map(a, doc_set_seq(a, rule, "ports"));
	doc_set_str(a, pt, "protocol", "TCP");
	doc_set_int(a, pt, "port", port);
}

/* Allows on top of the namespace's default deny: in from the services that
 * call this one, from the ingress controller, from Prometheus; out to the
 * services it calls and, by port, to the cloud resources it uses. */
/* Where egress to a cloud resource's port may go: the VPC CIDR of the
 * environment's cluster (platform.cloud.network) for databases and caches,
 * and for AWS APIs (443) when they are reached through VPC endpoints;
 * anywhere otherwise (public AWS endpoints, or no network declared). */
static const char *egress_cidr(const Platform *p, const Env *e, int port)
{
	const Node *net = env_network(p, e);
	const Node *cidr = node_get(net, "cidr"), *ep = node_get(net, "vpc_endpoints");
	bool endpoints = ep && ep->kind == N_SCALAR && !strcmp(ep->text, "true");
	if (cidr && cidr->kind == N_SCALAR && (port != 443 || endpoints))
		return cidr->text;
	return "0.0.0.0/0";
}

static DNode *networkpolicy_doc(Arena *a, const Platform *p, const Service *s, const Env *e, const ServiceEnv *se,
				const Workload *w, const Callers *callers, const char *monitoring_ns,
				const IngressSettings *is)
{
	DNode *np = k8s_object(a, "networking.k8s.io/v1", "NetworkPolicy", s->name, NULL);
	DNode *spec = doc_set_map(a, np, "spec");
	doc_set(a, spec, "podSelector", selector(a, s));
	DNode *types = doc_set_seq(a, spec, "policyTypes");
	types->flow = true;
	doc_push_str(a, types, "Ingress");
	doc_push_str(a, types, "Egress");

	DNode *ingress = doc_set_seq(a, spec, "ingress");
	DNode *from_callers = NULL;
	for (int i = 0; w->port_name && i < callers->n; i++) {
		const Service *c = callers->items[i];
		if (!service_runs_in(c, e))
			continue;
		if (!from_callers) {
			DNode *rule = doc_push_map(a, ingress);
			from_callers = doc_set_seq(a, rule, "from");
			tcp_port(a, rule, s->port);
		}
		doc_push(a, from_callers, peer(a, k8s_namespace(a, c->team, e), c->name));
	}
	if (se->ingress_host && w->port_name) {
		DNode *rule = doc_push_map(a, ingress);
		doc_push(a, doc_set_seq(a, rule, "from"), peer(a, is->namespace, NULL));
		tcp_port(a, rule, s->port);
	}
	if (w->scrape_port) {
		DNode *rule = doc_push_map(a, ingress);
		doc_push(a, doc_set_seq(a, rule, "from"), peer(a, monitoring_ns, NULL));
		tcp_port(a, rule, w->metrics_port ? w->metrics_port : s->port);
	}
	if (!ingress->n)
		doc_set(a, spec, "ingress", doc_seq(a)); /* keeps `ingress: []` explicit */

	DNode *egress = doc_set_seq(a, spec, "egress");
	for (int i = 0; i < s->ncalls; i++) {
		const Service *c = s->calls[i];
		if (!service_runs_in(c, e) || strcmp(c->api, "none") == 0)
			continue;
		DNode *r = doc_push_map(a, egress);
		doc_push(a, doc_set_seq(a, r, "to"), peer(a, k8s_namespace(a, c->team, e), c->name));
		tcp_port(a, r, c->port);
	}
	/* one rule per distinct port, in ascending order */
	int ports[8], nports = 0;
	for (int i = 0; i < s->nuses; i++) {
		int port = s->uses[i]->kindp ? s->uses[i]->kindp->port : 443, k = 0; /* the kind's `port` */
		while (k < nports && ports[k] < port)
			k++;
		if ((k < nports && ports[k] == port) || nports == (int)ARRAY_LEN(ports))
			continue;
		memmove(&ports[k + 1], &ports[k], sizeof(int) * (size_t)(nports - k));
		ports[k] = port;
		nports++;
	}
	for (int i = 0; i < nports; i++) {
		DNode *r = doc_push_map(a, egress);
		DNode *to = doc_push_map(a, doc_set_seq(a, r, "to"));
		doc_set_str(a, doc_set_map(a, to, "ipBlock"), "cidr", egress_cidr(p, e, ports[i]));
		tcp_port(a, r, ports[i]);
	}
	if (!egress->n)
		doc_set(a, spec, "egress", doc_seq(a)); /* keeps `egress: []` explicit */
	return np;
}

static void add_ref(Arena *a, DNode *seq, const char *file)
{
	doc_push_str(a, seq, file);
}

/* The deployment unit of a service's overlay in one environment. */
static void overlay_unit(const Platform *p, FileSet *fs, const Service *s, const Env *e)
{
	Arena *a = fs->arena;
	fileset_add_unit(fs, &(Unit){.kind = U_SERVICE, .dir = arena_sprintf(a, "services/%s/%s", s->name, e->name),
				     .name = s->name, .env = e, .team = s->team,
				     .namespace = k8s_namespace(a, s->team, e), .label_key = k8s_label(a, p, "service"),
				     .label_value = s->name});
}

static void overlay(const Platform *p, FileSet *fs, const Service *s, const ServiceEnv *se, DNode *base_data,
		    const Callers *callers, const Workload *w, const IngressSettings *is)
{
	Arena *a = fs->arena;
	const Env *e = se->env;
	const char *dir = arena_sprintf(a, "services/%s/%s", s->name, e->name);
	const char *ns = k8s_namespace(a, s->team, e);
	DNode *k = k8s_kustomization(a);
	doc_set_str(a, k, "namespace", ns);
	DNode *res = doc_set_seq(a, k, "resources");
	add_ref(a, res, "../base");
	if (se->autoscale) {
		fileset_add_yaml(fs, arena_sprintf(a, "%s/hpa.yaml", dir), hpa_doc(a, s, se));
		add_ref(a, res, "hpa.yaml");
	}
	if (se->ingress_host && w->ingress) {
		fileset_add_yaml(fs, arena_sprintf(a, "%s/ingress.yaml", dir), ingress_doc(a, p, s, se, w, is));
		add_ref(a, res, "ingress.yaml");
	}
	if (rollout_canary(s)) {
		fileset_add_yaml(fs, arena_sprintf(a, "%s/analysistemplate.yaml", dir), rollout_analysis_template(a, p, s, e));
		add_ref(a, res, "analysistemplate.yaml");
	}
	if (rollout_vpa(s)) {
		fileset_add_yaml(fs, arena_sprintf(a, "%s/vpa.yaml", dir), rollout_vpa_doc(a, p, s));
		add_ref(a, res, "vpa.yaml");
	}
	fileset_add_yaml(fs, arena_sprintf(a, "%s/networkpolicy.yaml", dir), networkpolicy_doc(a, p, s, e, se, w, callers, monitoring_settings(a, p).namespace, is));
	add_ref(a, res, "networkpolicy.yaml");
	if (e->prod) {
		fileset_add_yaml(fs, arena_sprintf(a, "%s/pdb.yaml", dir), pdb_doc(a, s));
		add_ref(a, res, "pdb.yaml");
	}

	DNode *lab = doc_push_map(a, doc_set_seq(a, k, "labels"));
	DNode *pairs = doc_set_map(a, lab, "pairs");
	doc_set_str(a, pairs, k8s_label(a, p, "environment"), e->name);
	doc_set_str(a, pairs, k8s_label(a, p, "tier"), e->prod ? "prod" : "nonprod");
	doc_set_bool(a, lab, "includeSelectors", false);
	doc_set_bool(a, lab, "includeTemplates", true);

	DNode *img = doc_push_map(a, doc_set_seq(a, k, "images"));
	doc_set_str(a, img, "name", s->image);
	doc_set_str(a, img, "newTag", IMAGE_TAG_PLACEHOLDER);

	DNode *patches = doc_set_seq(a, k, "patches");
	DNode *dp = deployment_patch(a, p, s, se);
	if (rollout_canary(s)) {
		fileset_add_yaml(fs, arena_sprintf(a, "%s/rollout-patch.yaml", dir), rollout_patch(a, p, se, dp));
		DNode *pe = doc_push_map(a, patches);
		doc_set_str(a, pe, "path", "rollout-patch.yaml");
		DNode *t = doc_set_map(a, pe, "target");
		doc_set_str(a, t, "group", "argoproj.io");
		doc_set_str(a, t, "version", "v1alpha1");
		doc_set_str(a, t, "kind", "Rollout");
		doc_set_str(a, t, "name", s->name);
	} else {
		fileset_add_yaml(fs, arena_sprintf(a, "%s/deployment-patch.yaml", dir), dp);
		doc_set_str(a, doc_push_map(a, patches), "path", "deployment-patch.yaml");
	}
	/* IRSA: the ServiceAccount names the environment's role (identity.c) */
	if (identity_irsa(p) && identity_policy(a, p, s, e)) {
		DNode *sa = k8s_object(a, "v1", "ServiceAccount", s->name, NULL);
		doc_set(a, doc_set_map(a, doc_get(sa, "metadata"), "annotations"), "eks.amazonaws.com/role-arn",
			doc_str(a, identity_role_arn(a, p, s, e)));
		fileset_add_yaml(fs, arena_sprintf(a, "%s/serviceaccount-patch.yaml", dir), sa);
		doc_set_str(a, doc_push_map(a, patches), "path", "serviceaccount-patch.yaml");
	}
	DNode *cmp = configmap_patch(a, s, se, base_data);
	if (cmp) {
		fileset_add_yaml(fs, arena_sprintf(a, "%s/configmap-patch.yaml", dir), cmp);
		doc_set_str(a, doc_push_map(a, patches), "path", "configmap-patch.yaml");
	}
	fileset_add_yaml(fs, arena_sprintf(a, "%s/kustomization.yaml", dir), k);
}

/* The objects kubectl kustomize builds from services/<svc>/<env> for the
 * Deployment, its Service and its Ingress (NULL where the service has none):
 * the base with the overlay's namespace, environment and tier labels (on the
 * pod template too), image tag and patch applied. For what reads the built
 * objects without building them (the Kyverno test suites). */
void services_built(Arena *a, const Platform *p, const Service *s, const ServiceEnv *se, DNode *out[3])
{
	Workload w;
	workload_of(s, &w);
	const Env *e = se->env;
	const char *ns = k8s_namespace(a, s->team, e);
	IngressSettings is = platform_ingress(p);
	out[0] = deployment_doc(a, p, s, &w);
	out[1] = w.service ? service_doc(a, p, s, &w) : NULL;
	out[2] = se->ingress_host && w.ingress ? ingress_doc(a, p, s, se, &w, &is) : NULL;
	DNode *patch = deployment_patch(a, p, s, se);
	DNode *spec = doc_get(out[0], "spec"), *tmpl = doc_get(spec, "template");
	if (doc_get(doc_get(patch, "spec"), "replicas"))
		doc_set(a, spec, "replicas", doc_get(doc_get(patch, "spec"), "replicas"));
	DNode *pmd = doc_get(doc_get(doc_get(patch, "spec"), "template"), "metadata");
	doc_set(a, doc_get(tmpl, "metadata"), "annotations", doc_get(pmd, "annotations"));
	DNode *c = doc_get(doc_get(tmpl, "spec"), "containers")->items[0];
	doc_set(a, c, "image", doc_strf(a, "%s:%s", s->image, IMAGE_TAG_PLACEHOLDER));
	doc_set(a, c, "resources", requests(a, se->cpu, se->memory));
	for (int i = 0; i < 3; i++) {
		if (!out[i])
			continue;
		DNode *md = doc_get(out[i], "metadata");
		doc_set_str(a, md, "namespace", ns);
		DNode *labels[2] = {doc_get(md, "labels"), i == 0 ? doc_get(doc_get(tmpl, "metadata"), "labels") : NULL};
		for (int j = 0; j < 2; j++) {
			if (!labels[j])
				continue;
			doc_set_str(a, labels[j], k8s_label(a, p, "environment"), e->name);
			doc_set_str(a, labels[j], k8s_label(a, p, "tier"), e->prod ? "prod" : "nonprod");
		}
	}
}

void backend_services(const Platform *p, FileSet *fs)
{
	Arena *a = fs->arena;
	/* what outlives the items (lists, indexes, the whole family's documents)
	 * is dropped when the family is done */
	ArenaMark whole = arena_mark(a);
	IngressSettings is = platform_ingress(p);
	/* who calls whom, by service index */
	StrMap index;
	strmap_init(&index);
	for (int i = 0; i < p->nservices; i++)
		strmap_put(&index, p->services[i]->name, (void *)(intptr_t)(i + 1));
	Callers *callers = arena_alloc(a, sizeof *callers * (size_t)(p->nservices + 1));
	for (int i = 0; i < p->nservices; i++) {
		const Service *s = p->services[i];
		for (int k = 0; k < s->ncalls; k++) {
			intptr_t j = (intptr_t)strmap_get(&index, s->calls[k]->name) - 1;
			if (j < 0)
				continue;
			Callers *c = &callers[j];
			if (c->n == c->cap) {
				int cap = c->cap ? c->cap * 2 : 4;
				c->items = arena_grow(a, c->items, (size_t)c->cap, (size_t)cap, sizeof *c->items);
				c->cap = cap;
			}
			c->items[c->n++] = s;
		}
	}
	strmap_free(&index);

	for (int i = 0; i < p->nservices; i++) {
		/* a service's documents are dropped once its files are added */
		ArenaMark scope = arena_mark(a);
		const Service *s = p->services[i];
		/* a service's files, kept as they are when nothing it reads changed */
		if (fileset_unit_begin(fs, arena_sprintf(a, "services/%s", s->name), unitkey_service(fs, p, s))) {
			for (int e = 0; e < s->nenvs; e++)
				overlay_unit(p, fs, s, s->envs[e].env);
			fileset_unit_end(fs);
			arena_release(a, scope);
			continue;
		}
		Workload w;
		workload_of(s, &w);
		const char *base = arena_sprintf(a, "services/%s/base", s->name);
		DNode *cm = configmap_doc(a, p, s);
		struct {
			const char *file;
			DNode *doc;
		} objs[] = {
			{"serviceaccount.yaml", serviceaccount_doc(a, p, s)},
			{rollout_canary(s) ? "rollout.yaml" : "deployment.yaml", deployment_doc(a, p, s, &w)},
			{"service.yaml", w.service ? service_doc(a, p, s, &w) : NULL},
			{"configmap.yaml", cm},
		};
		DNode *k = k8s_kustomization(a);
		DNode *res = doc_set_seq(a, k, "resources");
		for (size_t j = 0; j < ARRAY_LEN(objs); j++) {
			if (!objs[j].doc)
				continue;
			fileset_add_yaml(fs, arena_sprintf(a, "%s/%s", base, objs[j].file), objs[j].doc);
			add_ref(a, res, objs[j].file);
		}
		fileset_add_yaml(fs, arena_sprintf(a, "%s/kustomization.yaml", base), k);
		for (int e = 0; e < s->nenvs; e++) {
			overlay(p, fs, s, &s->envs[e], doc_get(cm, "data"), &callers[i], &w, &is);
			overlay_unit(p, fs, s, s->envs[e].env);
		}
		fileset_unit_end(fs);
		arena_release(a, scope);
	}
	arena_release(a, whole);
}
