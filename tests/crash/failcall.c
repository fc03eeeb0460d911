/*
 * failcall.c — LD_PRELOAD shim for tests/crash.sh: the FAILCALL_NTH-th call
 * (1-based, counting from process start) of FAILCALL (write, close, fsync,
 * syncfs, linkat, mkdirat, openat, renameat or renameat2) fails with ENOSPC,
 * as on a full disk. Writes to fds 0-2 are not counted (diagnostics must
 * still reach the user). With FAILCALL_COUNT=path the number of calls seen
 * is written there at exit, so the test can pick N across the whole run.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

static long seen;

static int hit(const char *name)
{
	const char *f = getenv("FAILCALL");
	if (!f || strcmp(f, name))
		return 0;
	seen++;
	const char *n = getenv("FAILCALL_NTH");
	if (n && seen == atol(n)) {
		errno = ENOSPC;
		return 1;
	}
	return 0;
}

__attribute__((destructor)) static void report(void)
{
	const char *p = getenv("FAILCALL_COUNT");
	if (p) {
		FILE *f = fopen(p, "w");
		if (f) {
			fprintf(f, "%ld\n", seen);
			fclose(f);
		}
	}
}

#define REAL(ret, name, ...) static ret (*real)(__VA_ARGS__); if (!real) real = (ret (*)(__VA_ARGS__))dlsym(RTLD_NEXT, name)

ssize_t write(int fd, const void *buf, size_t n)
{
	REAL(ssize_t, "write", int, const void *, size_t);
	if (fd > 2 && hit("write"))
		return -1;
	return real(fd, buf, n);
}

int close(int fd)
{
	REAL(int, "close", int);
	if (fd > 2 && hit("close")) {
		real(fd);
		errno = ENOSPC;
		return -1;
	}
	return real(fd);
}

int fsync(int fd)
{
	REAL(int, "fsync", int);
	return hit("fsync") ? -1 : real(fd);
}

int syncfs(int fd)
{
	REAL(int, "syncfs", int);
	return hit("syncfs") ? -1 : real(fd);
}

int linkat(int a, const char *b, int c, const char *d, int e)
{
	REAL(int, "linkat", int, const char *, int, const char *, int);
	return hit("linkat") ? -1 : real(a, b, c, d, e);
}

int mkdirat(int a, const char *b, mode_t m)
{
	REAL(int, "mkdirat", int, const char *, mode_t);
	return hit("mkdirat") ? -1 : real(a, b, m);
}

int renameat(int a, const char *b, int c, const char *d)
{
	REAL(int, "renameat", int, const char *, int, const char *);
	return hit("renameat") ? -1 : real(a, b, c, d);
}

int openat(int dir, const char *path, int flags, ...)
{
	REAL(int, "openat", int, const char *, int, ...);
	mode_t mode = 0;
	if (flags & (O_CREAT | O_TMPFILE)) {
		va_list ap;
		va_start(ap, flags);
		mode = (mode_t)va_arg(ap, int);
		va_end(ap);
	}
	if ((flags & O_CREAT) && hit("openat"))
		return -1;
	return real(dir, path, flags, mode);
}

long syscall(long nr, ...)
{
	REAL(long, "syscall", long, ...);
	va_list ap;
	va_start(ap, nr);
	long a1 = va_arg(ap, long), a2 = va_arg(ap, long), a3 = va_arg(ap, long),
	     a4 = va_arg(ap, long), a5 = va_arg(ap, long), a6 = va_arg(ap, long);
	va_end(ap);
	if (nr == SYS_renameat2 && hit("renameat2"))
		return -1;
	return real(nr, a1, a2, a3, a4, a5, a6);
}
