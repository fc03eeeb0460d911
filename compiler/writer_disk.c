/*
 * writer_disk.c — the disk thread: the queued writes of writer_add and the
 * look-ahead of the stat cache. A speed-up only: with PLATFORMC_THREADS=1
 * (or one CPU) the producer does the same work itself.
 *
 * Threads. With more than one CPU (PLATFORMC_THREADS=1: none), the disk
 * work of writer_add runs on a thread of its own: the thread that builds
 * documents queues each file (its path, bytes, length and hash) in a ring of
 * QUEUE jobs and goes on; the disk thread compares it with the old tree and
 * writes it into the staging tree. A fresh render's system time (openat,
 * write, fstat, close per file) then overlaps the building of the next
 * documents instead of adding to it. The results come back in the job and
 * are taken by the producer, which alone touches the per-file state (w->st)
 * and frees the bytes it allocated. Each thread has its own
 * lookups in the old tree (DirStack; Probe for the cache's looks) and
 * scratch buffers; w_fail() and the
 * arena of messages take `lock`. Neither thread waits on the other per file:
 * the ring's counts are atomics, and a thread sleeps or wakes the other only
 * for a batch. While no file waits and the stat cache may keep documents,
 * the disk thread looks ahead: it checks the owned files' identities
 * against the cache in manifest order (look_ahead), so that writer_keep,
 * asked by the producer before a document is emitted, usually finds its
 * answer made: a render that changes nothing then costs the building of the
 * trees alone on the producer. What is written, reported and kept is the
 * same with one thread or two (tests/threads.sh compares them).
 */
#include "platformc.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#define LOOK_SAME 1
#define LOOK_OTHER 2
#define LOOK_BUSY 3            /* being looked at, by either thread */
#define QUEUE 512              /* jobs in flight: about 1 MB of bytes */
#define BATCH 32               /* either thread is woken for this many jobs (or room) */

/*
 * The producer's question: is owned file k (cache entry e) the one the
 * cache recorded? The look-ahead's answer, or the producer's own look,
 * which it then answers for the look-ahead (see `look` in Writer).
 */
bool looked_same(Writer *w, int k, const unsigned char *e, uint64_t *id, int64_t *size)
{
	if (!w->look)
		return cache_match(w, &w->mainpr, w->owned[k], e, id, size);
	unsigned char v = 0;
	if (atomic_compare_exchange_strong(&w->look[k], &v, LOOK_BUSY)) {
		bool same = cache_match(w, &w->mainpr, w->owned[k], e, id, size);
		if (same)
			w->look_id[k] = *id, w->look_size[k] = *size;
		atomic_store_explicit(&w->look[k], same ? LOOK_SAME : LOOK_OTHER, memory_order_release);
		return same;
	}
	if (v == LOOK_SAME) {
		atomic_thread_fence(memory_order_acquire);
		*id = w->look_id[k], *size = w->look_size[k];
		return true;
	}
	if (v == LOOK_OTHER)
		return false;
	return cache_match(w, &w->mainpr, w->owned[k], e, id, size); /* the look-ahead is at it */
}

/* Compares a generated file with the old tree and, if it differs and this
 * render writes, puts it in the staging tree (either thread). */
void put_file(Writer *w, DirStack *ds, Job *j)
{
	if (w_failed(w))
		return;
	const char *p = j->f.path;
	if (cache_watcher_vouches(w, &j->st, &j->f, &j->st.id)) {
		j->st.status = OLD_SAME;
		j->st.vouched = true;
		return;
	}
	/* an output folder that held nothing when the session began: no
	 * look (a file made there since is found by the walk before the swap) */
	int r = w->old_empty ? 0 : ds_seek(w, ds, p, dir_len(p), true);
	if (r == 1)
		r = compare_file(w, ds_fd(ds), base_name(p), &j->f, &j->st);
	if (r == 0 && j->st.status != OLD_SAME && w->mode == WR_WRITE && start_staging(w) == 0)
		write_new(w, &j->f, &j->st);
}

/* ---- the disk thread ---- */

void take_result(Writer *w, const Job *j)
{
	w->st[j->index] = j->st;
	w->vouched += j->st.vouched;
}

/* The results of the jobs the disk thread finished, and their bytes freed
 * (the producer, or anyone once the thread ended). */
static void harvest(Writer *w)
{
	for (unsigned end = atomic_load(&w->finished); w->harvested != end; w->harvested++) {
		Job *j = &w->jobs[w->harvested % QUEUE];
		take_result(w, j);
		free(j->f.data);
	}
}

/* One step of the look-ahead (the disk thread, while no file waits);
 * false when every owned path was looked at. */
static bool look_ahead(Writer *w)
{
	if (!w->look || w->looked >= w->nowned || atomic_load(&w->closing))
		return false;
	/* from the end of the order the producer asks in: each thread looks
	 * at its own files until they meet, instead of both racing for the
	 * same next file */
	int at = w->nowned - 1 - w->looked;
	int k = w->look_order ? (int)w->look_order[at] : at;
	w->looked++;
	unsigned char v = 0;
	if (!atomic_compare_exchange_strong(&w->look[k], &v, LOOK_BUSY))
		return true; /* the producer asked first */
	const unsigned char *e = entry_at(w, k);
	uint64_t id;
	int64_t size;
	unsigned char r = LOOK_OTHER;
	if ((w_get64(e + 16) || w->uslots) && cache_match(w, &w->lookpr, w->owned[k], e, &id, &size)) {
		w->look_id[k] = id;
		w->look_size[k] = size;
		r = LOOK_SAME;
	}
	atomic_store_explicit(&w->look[k], r, memory_order_release);
	return true;
}

static void *disk_main(void *arg)
{
	Writer *w = arg;
	unsigned done = 0;
	for (;;) {
		if (done == atomic_load(&w->pushed) && look_ahead(w))
			continue;
		if (done == atomic_load(&w->pushed)) {
			pthread_mutex_lock(&w->lock);
			atomic_store(&w->sleeping, true);
			while (done == atomic_load(&w->pushed) && !atomic_load(&w->closing))
				pthread_cond_wait(&w->wake, &w->lock);
			atomic_store(&w->sleeping, false);
			bool end = done == atomic_load(&w->pushed);
			pthread_mutex_unlock(&w->lock);
			if (end)
				break;
		}
		/* the producer frees the bytes when it takes the result: every
		 * malloc and free stays on its thread */
		put_file(w, &w->disk, &w->jobs[done % QUEUE]);
		atomic_store(&w->finished, ++done);
		if (atomic_load(&w->waiting) && atomic_load(&w->pushed) - done <= QUEUE - BATCH) {
			pthread_mutex_lock(&w->lock);
			pthread_cond_signal(&w->room);
			pthread_mutex_unlock(&w->lock);
		}
	}
	return NULL;
}

/* With more than one CPU, files go to the disk thread (PLATFORMC_THREADS=1:
 * none; every file is then put by the thread that adds it). */
void disk_start(Writer *w)
{
	if (par_threads(2) < 2)
		return;
	w->jobs = xmalloc(QUEUE * sizeof *w->jobs);
	/* with the watcher's list, a look costs no syscall (cache_match): no
	 * look-ahead to keep up with it */
	if (w->cache_keys && w->nowned && !w->watched) {
		w->look = calloc((size_t)w->nowned, sizeof *w->look);
		if (!w->look)
			die_oom();
		w->look_id = xmalloc((size_t)w->nowned * sizeof *w->look_id);
		w->look_size = xmalloc((size_t)w->nowned * sizeof *w->look_size);
		if (w->nunits) {
			w->look_order = xmalloc((size_t)w->nowned * sizeof *w->look_order);
			unsigned char *in = calloc((size_t)w->nowned, 1);
			if (!in)
				die_oom();
			int n = 0;
			for (int u = 0; u < w->nunits; u++)
				for (uint32_t j = 0; j < w->unit_n[u]; j++) {
					uint32_t k = w->unit_files[w->unit_first[u] + j];
					in[k] = 1; /* each file is in one unit at most (load_units) */
					w->look_order[n++] = k;
				}
			for (int k = 0; k < w->nowned; k++)
				if (!in[k])
					w->look_order[n++] = (uint32_t)k;
			free(in);
		}
	}
	w->threaded = pthread_create(&w->thread, NULL, disk_main, w) == 0;
}

void enqueue(Writer *w, const OutFile *f, int i)
{
	unsigned pushed = atomic_load(&w->pushed);
	if (pushed - atomic_load(&w->finished) == QUEUE) {
		/* full: wait for room for a batch, not for one job */
		pthread_mutex_lock(&w->lock);
		atomic_store(&w->waiting, true);
		while (pushed - atomic_load(&w->finished) > QUEUE - BATCH)
			pthread_cond_wait(&w->room, &w->lock);
		atomic_store(&w->waiting, false);
		pthread_mutex_unlock(&w->lock);
	}
	harvest(w);
	w->jobs[pushed % QUEUE] = (Job){ .f = *f, .index = i, .st.owned = w->st[i].owned };
	atomic_store(&w->pushed, ++pushed);
	if (atomic_load(&w->sleeping) && pushed - atomic_load(&w->finished) >= BATCH) {
		pthread_mutex_lock(&w->lock);
		pthread_cond_signal(&w->wake);
		pthread_mutex_unlock(&w->lock);
	}
}

/* Waits for the disk thread to put every queued file, and ends it. */
void disk_stop(Writer *w)
{
	if (!w->threaded)
		return;
	pthread_mutex_lock(&w->lock);
	atomic_store(&w->closing, true);
	pthread_cond_signal(&w->wake);
	pthread_mutex_unlock(&w->lock);
	pthread_join(w->thread, NULL);
	w->threaded = false;
	harvest(w);
}
