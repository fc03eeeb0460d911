/*
 * progress.c — one status line on a terminal while a long check or render
 * runs: the phase, the files rendered so far (each compared with the disk
 * and written if it differs, as the writer takes it) and the rate.
 *
 *   platformc: rendering out — 12,345 files, 8,901 files/s, 2.3 s
 *
 * Shown only when stderr is a terminal, the run is not in CI (`CI` set) and
 * diagnostics are human; it appears after PROGRESS_AFTER_MS (about a second:
 * a quick run never flickers), is redrawn in place (`\r`, erase line) every
 * 100 ms by a thread of its own, and is erased before anything else is
 * printed. The counter it reads is the file set's count, read with a relaxed
 * atomic load: a display, never a decision.
 */
#include "platformc.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define PROGRESS_AFTER_MS 1000

static struct {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	pthread_t th;
	bool running, stop, shown, enabled;
	const char *phase;
	const int *count;      /* files so far, or NULL */
	double t0, phase_t0;
	int after_ms;
} pg = {.mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER};

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void thousands(char *buf, size_t n, long v)
{
	char raw[32];
	snprintf(raw, sizeof raw, "%ld", v);
	size_t len = strlen(raw), k = 0;
	for (size_t i = 0; i < len && k + 2 < n; i++) {
		if (i && (len - i) % 3 == 0)
			buf[k++] = ',';
		buf[k++] = raw[i];
	}
	buf[k] = 0;
}

/* Called with the mutex held. */
static void draw(void)
{
	double t = now_s();
	char line[256];
	int w = snprintf(line, sizeof line, "platformc: %s", pg.phase);
	if (pg.count) {
		long n = __atomic_load_n(pg.count, __ATOMIC_RELAXED);
		double dt = t - pg.phase_t0;
		char a[32], r[32];
		thousands(a, sizeof a, n);
		thousands(r, sizeof r, dt > 0.05 ? (long)(n / dt) : 0);
		w += snprintf(line + w, sizeof line - (size_t)w, " — %s files, %s files/s", a, r);
	}
	if (w < (int)sizeof line)
		snprintf(line + w, sizeof line - (size_t)w, ", %.1f s", t - pg.t0);
	fprintf(stderr, "\r\033[K%s", line);
	fflush(stderr);
	pg.shown = true;
}

static void erase(void)
{
	if (pg.shown) {
		fputs("\r\033[K", stderr);
		fflush(stderr);
		pg.shown = false;
	}
}

static void *loop(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&pg.mu);
	while (!pg.stop) {
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_nsec += 100 * 1000000L;
		if (ts.tv_nsec >= 1000000000L)
			ts.tv_sec++, ts.tv_nsec -= 1000000000L;
		pthread_cond_timedwait(&pg.cv, &pg.mu, &ts);
		if (!pg.stop && pg.phase && (now_s() - pg.t0) * 1000 >= pg.after_ms)
			draw();
	}
	pthread_mutex_unlock(&pg.mu);
	return NULL;
}

bool progress_wanted(bool human_diagnostics)
{
	const char *ci = getenv("CI"), *term = getenv("TERM");
	return human_diagnostics && isatty(2) && !(ci && *ci) && !(term && !strcmp(term, "dumb"));
}

void progress_start(bool enabled)
{
	if (!enabled || pg.running)
		return;
	const char *after = getenv("PLATFORMC_PROGRESS_AFTER_MS"); /* tests */
	pg.after_ms = after ? atoi(after) : PROGRESS_AFTER_MS;
	pg.t0 = now_s();
	pg.stop = false;
	pg.enabled = true;
	if (pthread_create(&pg.th, NULL, loop, NULL) == 0) {
		pg.running = true;
		atexit(progress_stop); /* a verb that returns early */
	}
}

void progress_phase(const char *phase, const int *count)
{
	if (!pg.running)
		return;
	pthread_mutex_lock(&pg.mu);
	pg.phase = phase;
	pg.count = count;
	pg.phase_t0 = now_s();
	if (pg.after_ms == 0)
		draw(); /* tests: at once, whatever the machine's speed */
	pthread_mutex_unlock(&pg.mu);
}

/* No phase, and the line off the terminal; pg.mu is held. */
static void clear_locked(void)
{
	pg.phase = NULL;
	pg.count = NULL;
	erase();
}

void progress_clear(void)
{
	if (!pg.running)
		return;
	pthread_mutex_lock(&pg.mu);
	clear_locked();
	pthread_mutex_unlock(&pg.mu);
}

void progress_stop(void)
{
	if (!pg.running)
		return;
	pthread_mutex_lock(&pg.mu);
	pg.stop = true;
	clear_locked();
	pthread_cond_signal(&pg.cv);
	pthread_mutex_unlock(&pg.mu);
	pthread_join(pg.th, NULL);
	pg.running = false;
}
