/*
 * backends.c — the table of output families.
 *
 * Each backend is a pure function from the resolved model to documents in
 * the file set: it never prints and never touches the disk.
 */
#include "platformc.h"

/* Output families, in the order they run. To add one: write
 * backend_<name>.c with a function model -> file set, and add a row. */
Backend *const backends[] = {
	backend_tenancy,
	backend_services,
	backend_backstage, /* registers no deployment unit */
	backend_kyverno,
	backend_monitoring,
	backend_crossplane,
	/* after every family that registers deployment units */
	backend_clusters,
	backend_argocd,
	backend_readme, /* last: it counts the files of the others */
};
const int nbackends = (int)ARRAY_LEN(backends);
