/*
 * par.c — independent jobs on the machine's cores.
 *
 * The front end parses and schema-checks the included files of a platform
 * (lower.c) and resolves its services (resolve.c) on several threads. A job
 * touches nothing but its own inputs, its own results and its worker's
 * arena; the caller merges the results in job order afterwards, so the
 * output never depends on the number of threads or on which thread ran
 * which job.
 *
 * The calling thread works too, in the caller's arena. Each other worker
 * allocates from an Arena of its own, which holds trees and diagnostics the
 * compilation keeps using: those arenas live as long as the process and are
 * released at exit (as schema.c does with its patterns), so leak checkers
 * report only real leaks. A compiler run loads one platform, so this is a
 * few arenas per process.
 *
 * PLATFORMC_THREADS=N sets the number of threads instead of one per CPU
 * (at most 8); 1 runs every job in the calling thread, in order, exactly as
 * a loop would.
 */
#include "platformc.h"

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>

#define PAR_MAX_THREADS 8

int par_threads(int njobs)
{
	int n = 1;
	cpu_set_t set;
	if (sched_getaffinity(0, sizeof set, &set) == 0)
		n = CPU_COUNT(&set);
	const char *env = getenv("PLATFORMC_THREADS");
	if (env && *env) {
		char *end;
		long v = strtol(env, &end, 10);
		if (!*end && v >= 1)
			n = v < PAR_MAX_THREADS ? (int)v : PAR_MAX_THREADS;
	}
	if (n > PAR_MAX_THREADS)
		n = PAR_MAX_THREADS;
	if (n > njobs)
		n = njobs;
	return n < 1 ? 1 : n;
}

typedef struct Pool {
	ParJob *fn;
	void *ctx;
	int njobs;
	atomic_int next;
} Pool;

typedef struct Worker {
	Pool *pool;
	Arena *arena;
	pthread_t thread;
} Worker;

/* Takes the next job until none is left: big and small files balance out. */
static void work(Pool *pool, Arena *a)
{
	for (;;) {
		int i = atomic_fetch_add(&pool->next, 1);
		if (i >= pool->njobs)
			return;
		pool->fn(pool->ctx, i, a);
	}
}

static void *worker_main(void *arg)
{
	Worker *w = arg;
	work(w->pool, w->arena);
	return NULL;
}

void par_run(Arena *a, int njobs, ParJob *fn, void *ctx)
{
	Pool pool = {.fn = fn, .ctx = ctx, .njobs = njobs};
	atomic_init(&pool.next, 0);
	int nthreads = par_threads(njobs);
	Worker workers[PAR_MAX_THREADS];
	int started = 0;
	for (int i = 0; i + 1 < nthreads; i++) {
		Worker *w = &workers[started];
		w->pool = &pool;
		w->arena = arena_new_kept();
		if (pthread_create(&w->thread, NULL, worker_main, w) != 0)
			break; /* fewer threads: the jobs still all run */
		started++;
	}
	work(&pool, a);
	for (int i = 0; i < started; i++)
		pthread_join(workers[i].thread, NULL);
}
