/*
 * backend_clusters.c — `clusters/<env>/kustomization.yaml`: everything that
 * runs in one environment, so `kubectl kustomize clusters/<env>` builds it.
 *
 * It lists the deployment units the family backends registered (see Unit in
 * platformc.h): platform parts first, then tenancy, resources, services and
 * monitoring, each group by folder. A family is wired into every
 * environment by registering its folders; nothing here names a family.
 */
#include "platformc.h"

#include <stdlib.h>
#include <string.h>

static int cmp_unit(const void *x, const void *y)
{
	const Unit *a = *(const Unit *const *)x, *b = *(const Unit *const *)y;
	if (a->kind != b->kind)
		return a->kind < b->kind ? -1 : 1;
	return strcmp(a->dir, b->dir);
}

/* The units in deployment order, sorted once for the clusters and the
 * Argo CD backends (again if a unit came since, which would also have
 * moved them): their addresses, valid while no unit is added. */
const Unit *const *clusters_sorted_units(FileSet *fs)
{
	if (fs->sorted_units && fs->nsorted_units == fs->nunits)
		return fs->sorted_units;
	free(fs->sorted_units);
	fs->sorted_units = xmalloc(sizeof *fs->sorted_units * (size_t)(fs->nunits + 1));
	for (int i = 0; i < fs->nunits; i++)
		fs->sorted_units[i] = &fs->units[i];
	qsort(fs->sorted_units, (size_t)fs->nunits, sizeof *fs->sorted_units, cmp_unit);
	fs->nsorted_units = fs->nunits;
	return fs->sorted_units;
}

void backend_clusters(const Platform *p, FileSet *fs)
{
	Arena *a = fs->arena;
	/* what outlives the items (lists, indexes, the whole family's documents)
	 * is dropped when the family is done */
	ArenaMark whole = arena_mark(a);
	const Unit *const *units = clusters_sorted_units(fs);
	for (int e = 0; e < p->nenvs; e++) {
		/* one list of every unit: dropped once added */
		ArenaMark scope = arena_mark(a);
		const Env *env = &p->envs[e];
		DNode *k = k8s_kustomization(a);
		DNode *res = doc_set_seq(a, k, "resources");
		for (int i = 0; i < fs->nunits; i++)
			if (!units[i]->env || units[i]->env == env)
				doc_push(a, res, doc_strf(a, "../../%s", units[i]->dir));
		fileset_add_yaml(fs, arena_sprintf(a, "clusters/%s/kustomization.yaml", env->name), k);
		arena_release(a, scope);
	}
	arena_release(a, whole);
}
