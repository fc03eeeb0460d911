/*
 * apis.c — stdlib/apis.yaml, the data behind a service's `api`: per API
 * style the serving port, Service, Ingress, probes and metric family;
 * per language the startup budget and metric names; the probe and metric
 * defaults; the canary steps per tier (`rollouts.canary`).
 *
 * Embedded in the binary, parsed once (pthread_once) on first use and
 * read-only afterwards, so any thread may ask. The schema's `api` enum and
 * this file agree (an `api` without an entry is an internal error, not a
 * diagnostic). workload.c, rollouts.c and monitoring.c all read it here,
 * so none of them calls into another for it.
 */
#include "platformc.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

static pthread_once_t apis_once = PTHREAD_ONCE_INIT;
static const Node *apis_root;

static _Noreturn void apis_bug(const char *what)
{
	fprintf(stderr, "platformc: internal error: stdlib/apis.yaml: %s\n", what);
	abort();
}

/* Parsed once; the tree lives as long as the process (read-only). */
static void apis_load(void)
{
	Arena *a = arena_new_kept(); /* the tree lives in it until exit */
	const char *why;
	Node *root = src_load_embedded(a, "stdlib/apis.yaml", NULL, &why);
	if (!root)
		apis_bug(why);
	if (!node_get(root, "apis") || !node_get(root, "probes") || !node_get(root, "metrics"))
		apis_bug("cannot parse");
	apis_root = root;
}

const Node *apis_data(void)
{
	pthread_once(&apis_once, apis_load);
	return apis_root;
}

/* The entry of an API style (`rest` when the service names none). */
const Node *apis_type(const char *api)
{
	const Node *t = node_get(node_get(apis_data(), "apis"), api ? api : "rest");
	if (!t)
		apis_bug("an `api` value of the schema has no entry");
	return t;
}

/* The entry of a language, or NULL (no language, or none listed). */
const Node *apis_language(const char *language)
{
	return language ? node_get(node_get(apis_data(), "languages"), language) : NULL;
}
