/*
 * model.c — queries of the resolved model (resolve.c builds it) that the
 * checkers and backends ask: where services and resources run, which
 * policies the platform disables.
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
