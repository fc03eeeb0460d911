/*
 * model.c — queries of the resolved model (resolve.c builds it) that the
 * checkers and backends ask: where services and resources run.
 */
#include "platformc.h"

bool service_runs_in(const Service *s, const Env *e)
{
	for (int i = 0; i < s->nenvs; i++)
		if (s->envs[i].env == e)
			return true;
	return false;
}

bool resource_runs_in(const Resource *r, const Env *e)
{
	for (int i = 0; i < r->nenvs; i++)
		if (r->envs[i] == e)
			return true;
	return false;
}
