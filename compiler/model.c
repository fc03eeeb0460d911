/*
 * model.c — queries of the resolved model (resolve.c builds it) that the
 * checkers and backends ask: where services and resources run, which
 * policies the platform disables, the cloud settings of an environment's
 * cluster.
 *
 * Every query reads the model and the input tree only: this file calls
 * nothing but node.c, so any phase may ask it without a circle.
 */
#include "platformc.h"

#include <string.h>

const ServiceEnv *service_in(const Service *s, const Env *e)
{
	for (int i = 0; i < s->nenvs; i++)
		if (s->envs[i].env == e)
			return &s->envs[i];
	return NULL;
}

bool service_runs_in(const Service *s, const Env *e)
{
	return service_in(s, e) != NULL;
}

bool resource_runs_in(const Resource *r, const Env *e)
{
	for (int i = 0; i < r->nenvs; i++)
		if (r->envs[i] == e)
			return true;
	return false;
}

bool policy_disabled(const Platform *p, const char *name)
{
	for (int i = 0; i < p->npolicy_disable; i++)
		if (strcmp(p->policy_disable[i], name) == 0)
			return true;
	return false;
}

const Node *platform_cloud(const Platform *p)
{
	return node_get(node_get(p->root, "platform"), "cloud");
}

const char *env_argo_cluster(const Env *e)
{
	return e->cluster ? e->cluster : "in-cluster";
}

const Node *env_cloud(const Platform *p, const Env *e)
{
	return node_get(node_get(platform_cloud(p), "clusters"), env_argo_cluster(e));
}

const Node *env_network(const Platform *p, const Env *e)
{
	const Node *n = node_get(env_cloud(p, e), "network");
	return n ? n : node_get(platform_cloud(p), "network");
}

bool platform_has_network(const Platform *p)
{
	for (int i = 0; i < p->nenvs; i++)
		if (env_network(p, &p->envs[i]))
			return true;
	return false;
}
