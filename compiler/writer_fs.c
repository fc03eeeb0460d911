/*
 * writer_fs.c — what every part of the writer touches the output folder
 * through: the first error of a render (fail), safe relative paths, small
 * I/O helpers, the staging folders beside the output folder, file
 * identities, folder lookups in the old tree (DirStack) and the manifest:
 * what platformc owns.
 *
 * What must stay true:
 *   - No symlink is ever followed inside the output folder: every lookup
 *     (ds_seek) is relative to a directory fd with O_NOFOLLOW /
 *     AT_SYMLINK_NOFOLLOW, and a symlink met anywhere we must look is an
 *     error, before anything is written in the output folder.
 *   - Ownership. `<out>/.platformc-manifest` lists the relative paths that
 *     platformc generated last time (read_manifest, owned_*). Only those may
 *     be removed.
 *   - The marker lives in the staging folder, beside `tree/`, never inside
 *     the tree that becomes <out>: so no step ever has to add or remove it
 *     from the output, and a staging folder is marked from just after its
 *     mkdir until it is gone (removal deletes `tree/` first, the marker
 *     last). A staging-named folder that is empty is also ours (a crash
 *     between mkdir and writing the marker); anything else with that name
 *     is not, and we refuse to delete it.
 *   - w_fail() records the first error; either thread may call it (it takes
 *     `lock`, as does the arena of messages, w_sprintf).
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

/* Records the first error (the message the user sees) and stops the run.
 * Either thread may fail; w->rc is read by both (failed). */
int w_fail(Writer *w, const char *fmt, ...)
{
	if (w->quiet)
		return -1;
	pthread_mutex_lock(&w->lock);
	if (w->rc == 0 && w->err && w->errlen) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(w->err, w->errlen, fmt, ap);
		va_end(ap);
	}
	__atomic_store_n(&w->rc, -1, __ATOMIC_RELEASE);
	pthread_mutex_unlock(&w->lock);
	return -1;
}

bool w_failed(const Writer *w)
{
	return __atomic_load_n(&w->rc, __ATOMIC_ACQUIRE) != 0;
}

/* A string in w->a, which both threads may need for a message. */
const char *w_sprintf(Writer *w, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	pthread_mutex_lock(&w->lock);
	const char *p = arena_vsprintf(w->a, fmt, ap);
	pthread_mutex_unlock(&w->lock);
	va_end(ap);
	return p;
}

/* The user-facing name of a path inside the output folder. */
const char *disp(Writer *w, const char *rel, size_t n)
{
	if (!n)
		return w->outdir;
	return w_sprintf(w, "%s/%.*s", w->outdir, (int)n, rel);
}

const char *disp_parent(Writer *w, const char *name)
{
	if (!strcmp(w->parent, "/"))
		return w_sprintf(w, "/%s", name);
	return w_sprintf(w, "%s/%s", w->parent, name);
}

void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

/*
 * A plain relative path: no leading '/', no empty, "." or ".." segment, no
 * trailing '/', no control character (the manifest is line-based), and not
 * the manifest itself.
 */
bool rel_path_is_safe(const char *p)
{
	size_t n = strlen(p);
	if (!n || p[0] == '/' || p[n - 1] == '/')
		return false;
	/* control bytes, 8 at a time: a byte below 0x20, or one equal to 0x7f
	 * (zero once xored with 0x7f) */
	size_t i = 0;
	for (; i + 8 <= n; i += 8) {
		uint64_t x;
		memcpy(&x, p + i, 8);
		if (bytes_below(x, 0x20) | bytes_below(x ^ 0x7f7f7f7f7f7f7f7full, 1))
			return false;
	}
	for (; i < n; i++)
		if ((unsigned char)p[i] < 0x20 || p[i] == 0x7f)
			return false;
	/* each name: not empty, not "." or ".." */
	for (const char *seg = p, *end = p + n;;) {
		const char *sl = memchr(seg, '/', (size_t)(end - seg));
		size_t m = (size_t)((sl ? sl : end) - seg);
		if (m == 0 || (m == 1 && seg[0] == '.') || (m == 2 && seg[0] == '.' && seg[1] == '.'))
			return false;
		if (!sl)
			break;
		seg = sl + 1;
	}
	return strcmp(p, MANIFEST_NAME) != 0;
}

size_t dir_len(const char *path)
{
	const char *s = strrchr(path, '/');
	return s ? (size_t)(s - path) : 0;
}

const char *base_name(const char *path)
{
	const char *s = strrchr(path, '/');
	return s ? s + 1 : path;
}

/* ---- small I/O helpers (errno set on failure) ---- */

/* Appends what fd holds to out, filling the room out has before growing it
 * (a buffer sized to the file is not grown just to see its end). */
int read_all(int fd, StrBuf *out)
{
	if (!out->cap)
		sb_reserve(out, CHUNK);
	for (;;) {
		if (out->cap - out->len < 2) {
			char one;
			ssize_t r = read(fd, &one, 1);
			if (r < 0 && errno == EINTR)
				continue;
			if (r <= 0)
				return r < 0 ? -1 : 0;
			sb_putc(out, one);
			sb_reserve(out, CHUNK);
		}
		ssize_t r = read(fd, out->data + out->len, out->cap - out->len - 1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -1;
		if (r == 0)
			return 0;
		out->len += (size_t)r;
		out->data[out->len] = 0;
	}
}

int write_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t r = write(fd, p, n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -1;
		p += r;
		n -= (size_t)r;
	}
	return 0;
}

/* Creates a new file (never an existing one, never through a symlink). */
int create_file(int dirfd, const char *name, const char *data, size_t len, mode_t mode)
{
	int fd = openat(dirfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
	if (fd < 0)
		return -1;
	if (write_all(fd, data, len) != 0) {
		int e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	/* close reports delayed write errors (NFS, quotas) */
	return close(fd);
}

int copy_file(Writer *w, int srcdir, const char *name, int dstdir, const char *dstname)
{
	int in = openat(srcdir, name, READ_FLAGS);
	if (in < 0)
		return -1;
	struct stat st;
	if (fstat(in, &st) != 0 || !S_ISREG(st.st_mode)) {
		int e = S_ISREG(st.st_mode) ? errno : EINVAL;
		close(in);
		errno = e;
		return -1;
	}
	int out = openat(dstdir, dstname, NEW_FLAGS, st.st_mode & 07777);
	int rc = out < 0 ? -1 : 0;
	while (rc == 0) {
		ssize_t r = read(in, w->buf, CHUNK);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			rc = r < 0 ? -1 : 0;
			break;
		}
		rc = write_all(out, w->buf, (size_t)r);
	}
	int e = errno;
	close(in);
	if (out >= 0 && close(out) != 0 && rc == 0)
		rc = -1, e = errno;
	errno = e;
	return rc;
}

/* linkat failures that mean "this file system cannot link here": copy instead. */
bool link_unsupported(int e)
{
	return e == EXDEV || e == EPERM || e == ENOTSUP || e == EOPNOTSUPP || e == EMLINK ||
	       e == ENOSYS;
}

int rename2(int olddir, const char *oldname, int newdir, const char *newname, unsigned flags)
{
#ifdef SYS_renameat2
	return (int)syscall(SYS_renameat2, olddir, oldname, newdir, newname, flags);
#else
	errno = ENOSYS;
	return -1;
#endif
}

/* The folder `name` under `at` to read, never through a symlink; NULL (errno
 * set) when it cannot be opened. */
static DIR *open_dir(int at, const char *name)
{
	int fd = openat(at, name, DIR_FLAGS);
	if (fd < 0)
		return NULL;
	DIR *d = fdopendir(fd);
	if (!d) {
		int e = errno;
		close(fd);
		errno = e;
	}
	return d;
}

static int rm_tree(int at, const char *name);

/* Removes everything in folder d (`last`, if given, after all the rest),
 * closes d, then removes the folder `name` under `at` itself. */
static int empty_and_remove(DIR *d, const char *last, int at, const char *name)
{
	int rc = 0;
	struct dirent *e;
	while (rc == 0 && (errno = 0, e = readdir(d))) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..") || (last && !strcmp(e->d_name, last)))
			continue;
		rc = rm_tree(dirfd(d), e->d_name);
	}
	if (rc == 0 && errno)
		rc = -1;
	if (rc == 0 && last && unlinkat(dirfd(d), last, 0) != 0 && errno != ENOENT)
		rc = -1;
	int saved = errno;
	closedir(d);
	if (rc != 0) {
		errno = saved;
		return -1;
	}
	return unlinkat(at, name, AT_REMOVEDIR);
}

/* Removes `name` under `at` and everything below it, never following a
 * symlink (unlinkat removes the link itself). */
static int rm_tree(int at, const char *name)
{
	struct stat st;
	if (fstatat(at, name, &st, AT_SYMLINK_NOFOLLOW) != 0)
		return errno == ENOENT ? 0 : -1;
	if (!S_ISDIR(st.st_mode))
		return unlinkat(at, name, 0);
	DIR *d = open_dir(at, name);
	return d ? empty_and_remove(d, NULL, at, name) : -1;
}

/* ---- staging folders ---- */

int staging_state(int parentfd, const char *name, StagingState *out)
{
	struct stat st;
	*out = STG_FOREIGN;
	if (fstatat(parentfd, name, &st, AT_SYMLINK_NOFOLLOW) != 0) {
		if (errno != ENOENT)
			return -1;
		*out = STG_ABSENT;
		return 0;
	}
	if (!S_ISDIR(st.st_mode))
		return 0;
	int fd = openat(parentfd, name, DIR_FLAGS);
	if (fd < 0)
		return -1;
	if (fstatat(fd, STAGING_MARKER, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st.st_mode)) {
		close(fd);
		*out = STG_OURS;
		return 0;
	}
	DIR *d = fdopendir(fd);
	if (!d) {
		close(fd);
		return -1;
	}
	bool empty = true;
	struct dirent *e;
	while ((e = readdir(d)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
			empty = false;
	closedir(d);
	*out = empty ? STG_EMPTY : STG_FOREIGN;
	return 0;
}

/* Deletes a staging folder of ours: everything but the marker first, the
 * marker last, so that an interruption never leaves an unmarked folder. */
int remove_staging(int parentfd, const char *name)
{
	DIR *d = open_dir(parentfd, name);
	if (!d)
		return errno == ENOENT ? 0 : -1;
	return empty_and_remove(d, STAGING_MARKER, parentfd, name);
}

/*
 * Deletes leftovers of an interrupted render. With `strict`, a folder of
 * that name we did not make is an error (we need the name); without, it is
 * left alone.
 */
int clean_leftovers(Writer *w, bool strict)
{
	const char *names[] = { w->newname, w->oldname };
	for (size_t i = 0; i < ARRAY_LEN(names); i++) {
		StagingState s;
		if (staging_state(w->parentfd, names[i], &s) != 0)
			return w_fail(w, "cannot inspect `%s`: %s", disp_parent(w, names[i]),
				    strerror(errno));
		if (s == STG_FOREIGN && strict)
			return w_fail(w,
				    "`%s` is in the way of rendering `%s`, and it was not made by "
				    "platformc (no `" STAGING_MARKER "` inside): refusing to "
				    "delete it; remove or rename it",
				    disp_parent(w, names[i]), w->outdir);
		if ((s == STG_OURS || s == STG_EMPTY) && remove_staging(w->parentfd, names[i]) != 0)
			return w_fail(w, "cannot remove the leftover staging folder `%s`: %s",
				    disp_parent(w, names[i]), strerror(errno));
	}
	return 0;
}

/*
 * The fallback swap (two renames) leaves no output folder for an instant;
 * if a crash hit that instant, the old tree is in `.<base>.platformc-old/tree`
 * and the output folder is missing: put it back before anything else.
 */
int recover_old_tree(Writer *w)
{
	struct stat st;
	if (fstatat(w->parentfd, w->base, &st, AT_SYMLINK_NOFOLLOW) == 0 || errno != ENOENT)
		return 0;
	StagingState s;
	if (staging_state(w->parentfd, w->oldname, &s) != 0 || s != STG_OURS)
		return 0;
	int fd = openat(w->parentfd, w->oldname, DIR_FLAGS);
	if (fd < 0)
		return 0;
	int rc = 0;
	if (fstatat(fd, STAGING_TREE, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(st.st_mode) &&
	    renameat(fd, STAGING_TREE, w->parentfd, w->base) != 0)
		rc = w_fail(w, "cannot restore `%s` from the interrupted render in `%s`: %s",
			  w->outdir, disp_parent(w, w->oldname), strerror(errno));
	close(fd);
	return rc;
}

/* ---- file identities ---- */

int64_t ns_of(struct timespec t)
{
	return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec;
}

/*
 * What lstat says a file is, in one word: the hash of its dev, inode, size,
 * mtime and (with_ctime) ctime. Equal words mean the same file, unchanged
 * (64-bit collisions aside). Host byte order: the cache is this machine's.
 */
uint64_t w_identity(const struct stat *st, bool with_ctime)
{
	uint64_t v[5] = { (uint64_t)st->st_dev, (uint64_t)st->st_ino, (uint64_t)st->st_size,
			  (uint64_t)ns_of(st->st_mtim), with_ctime ? (uint64_t)ns_of(st->st_ctim) : 0 };
	return hash64(v, sizeof v);
}

void w_record(Writer *w, FileState *s, const struct stat *st)
{
	s->id = w_identity(st, true);
	s->cached = true;
	if (ns_of(st->st_ctim) > w->newest)
		w->newest = ns_of(st->st_ctim);
}

/* ---- folder lookups: a stack of open folders ---- */

void ds_init(DirStack *ds, int root)
{
	memset(ds, 0, sizeof *ds);
	ds->root = root;
}

static void ds_close(DirStack *ds, int keep)
{
	while (ds->n > keep)
		close(ds->fds[--ds->n]);
}

void ds_free(DirStack *ds)
{
	ds_close(ds, 0);
	free(ds->fds);
	free(ds->ends);
	free(ds->path);
	free(ds->comp);
	ds_init(ds, -1);
}

/* The fd of the folder of the last lookup that returned 1. */
int ds_fd(const DirStack *ds)
{
	return ds->n ? ds->fds[ds->n - 1] : ds->root;
}

/*
 * Looks up folder path[0..dirlen). Returns 1 (ds_fd is the folder), 0 (it
 * does not exist as a folder) or -1 (error). In the old tree a symlink on
 * the way is an error; a regular file on the way means the folder is
 * absent, but with `strict` (we must put a folder there) only if platformc
 * owns that file: a user's file in the way of an output is an error.
 */
#define DS_FAIL(...) (ds->probe ? -1 : w_fail(w, __VA_ARGS__))

int ds_seek(Writer *w, DirStack *ds, const char *path, size_t dirlen, bool strict)
{
	if (ds->valid && ds->len == dirlen && ds->strict == strict && !memcmp(ds->path, path, dirlen))
		return ds->state;
	/* keep the open levels that are a prefix of the new folder */
	int keep = 0;
	while (keep < ds->n && ds->ends[keep] <= dirlen &&
	       (ds->ends[keep] == dirlen || path[ds->ends[keep]] == '/') &&
	       !memcmp(ds->path, path, ds->ends[keep]))
		keep++;
	ds_close(ds, keep);
	if (ds->pathcap < dirlen + 1) {
		ds->pathcap = dirlen + 64;
		ds->path = xrealloc(ds->path, ds->pathcap);
		ds->comp = xrealloc(ds->comp, ds->pathcap);
	}
	memcpy(ds->path, path, dirlen);
	ds->path[dirlen] = 0;
	ds->len = dirlen;
	ds->valid = false;
	ds->strict = strict;
	if (ds->root < 0) {
		ds->valid = true;
		return ds->state = 0;
	}
	size_t i = ds->n ? ds->ends[ds->n - 1] + 1 : 0;
	int state = 1;
	while (i < dirlen && state == 1) {
		size_t j = i;
		while (j < dirlen && path[j] != '/')
			j++;
		memcpy(ds->comp, path + i, j - i);
		ds->comp[j - i] = 0;
		/* with O_DIRECTORY | O_NOFOLLOW, a symlink fails with ENOTDIR (or
		 * ELOOP), as a file does: fstatat tells them apart */
		int at = ds_fd(ds), fd = openat(at, ds->comp, DIR_FLAGS);
		if (fd < 0) {
			struct stat st;
			if (errno == ENOENT) {
				state = 0;
			} else if (errno == ELOOP) {
				return DS_FAIL("`%s` is a symlink; refusing to follow it", disp(w, path, j));
			} else if (errno != ENOTDIR) {
				return DS_FAIL("cannot open `%s`: %s", disp(w, path, j), strerror(errno));
			} else if (fstatat(at, ds->comp, &st, AT_SYMLINK_NOFOLLOW) != 0) {
				if (errno != ENOENT)
					return DS_FAIL("cannot inspect `%s`: %s", disp(w, path, j),
						    strerror(errno));
				state = 0; /* gone in between */
			} else if (S_ISLNK(st.st_mode)) {
				return DS_FAIL("`%s` is a symlink; refusing to follow it", disp(w, path, j));
			} else if (!S_ISREG(st.st_mode)) {
				return DS_FAIL("`%s` is not a regular file or folder", disp(w, path, j));
			} else {
				ds->path[j] = 0;
				bool ours = !strict || owned_find(w, ds->path) >= 0;
				ds->path[j] = j < dirlen ? '/' : 0;
				if (!ours)
					return DS_FAIL("`%s` is in the way of the output `%s`: it is a file "
						    "platformc does not own; move it away",
						    disp(w, path, j), path);
				state = 0;
			}
		}
		if (state == 1) {
			if (ds->n == ds->cap) {
				ds->cap = ds->cap ? ds->cap * 2 : 8;
				ds->fds = xrealloc(ds->fds, (size_t)ds->cap * sizeof *ds->fds);
				ds->ends = xrealloc(ds->ends, (size_t)ds->cap * sizeof *ds->ends);
			}
			ds->fds[ds->n] = fd;
			ds->ends[ds->n++] = j;
		}
		i = j + 1;
	}
	ds->valid = true;
	return ds->state = state;
}
#undef DS_FAIL
/* ---- the manifest: what platformc owns ---- */

static size_t owned_slot(const Writer *w, const char *path, uint64_t h)
{
	size_t mask = w->noslots - 1;
	size_t i = (size_t)h & mask;
	uint32_t tag = (uint32_t)(h >> 32);
	for (; w->oslots[i].n; i = (i + 1) & mask)
		if (w->oslots[i].tag == tag && !strcmp(w->owned[w->oslots[i].n - 1], path))
			break;
	return i;
}

/* The position of path in the manifest, or -1, by bisection of the sorted
 * paths: it changes nothing, so either thread may ask. */
int owned_find(const Writer *w, const char *path)
{
	int lo = 0, hi = w->nowned;
	while (lo < hi) {
		int mid = lo + (hi - lo) / 2, c = strcmp(w->owned[mid], path);
		if (c == 0)
			return mid;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return -1;
}

/* The index over the manifest's paths, made when lookups turn many. Each
 * insert misses the cache at its slot: the slot PREFETCH_AHEAD inserts on
 * is asked for meanwhile. */
static void index_owned(Writer *w)
{
	for (w->noslots = 1024; w->noslots < (size_t)w->nowned * 2; w->noslots *= 2)
		;
	w->oslots = calloc(w->noslots, sizeof *w->oslots);
	uint64_t *hs = malloc((size_t)(w->nowned ? w->nowned : 1) * sizeof *hs);
	if (!w->oslots || !hs)
		die_oom();
	for (int i = 0; i < w->nowned; i++)
		hs[i] = hash64(w->owned[i], strlen(w->owned[i]));
	size_t mask = w->noslots - 1;
	for (int i = 0; i < w->nowned; i++) {
		if (i + PREFETCH_AHEAD < w->nowned)
			__builtin_prefetch(&w->oslots[hs[i + PREFETCH_AHEAD] & mask], 1);
		w->oslots[owned_slot(w, w->owned[i], hs[i])] = (FileSlot){ (uint32_t)i + 1, (uint32_t)(hs[i] >> 32) };
	}
	free(hs);
}

/*
 * The position of path (whose hash64 is h) in the manifest, or -1: the
 * producer's lookups (the disk thread asks owned_find). The first
 * OWNED_BISECT + 1/32 of the paths' count bisect the sorted paths (about as
 * much work, at most, as indexing them all); after them the manifest is
 * indexed, once. A render that builds a few units asks a few thousand
 * times (the files made outside units), and need not hash the 600,000
 * paths of a large manifest; one that builds much pays for the index once.
 */
int owned_lookup(Writer *w, const char *path, uint64_t h)
{
	if (!w->nowned)
		return -1;
	if (!w->oslots && w->nlookups++ < OWNED_BISECT + w->nowned / 32)
		return owned_find(w, path);
	if (!w->oslots)
		index_owned(w);
	return (int)w->oslots[owned_slot(w, path, h)].n - 1;
}

/* The position in the manifest of the generated file with state s, or -1:
 * known since the file set interned its path (writer_intern), else looked up. */
int owned_of(const Writer *w, const FileState *s, const char *path)
{
	return s->owned ? (s->owned > 0 ? s->owned - 1 : -1) : owned_find(w, path);
}

/*
 * Reads the manifest, split in place: one NUL-terminated path a line. It
 * is `canonical` when it is exactly what this writer writes for its paths
 * (header, sorted unique paths, one a line), which a render that changes
 * nothing must find.
 */
int read_manifest(Writer *w)
{
	if (w->outfd < 0)
		return 0;
	const char *name = disp(w, MANIFEST_NAME, strlen(MANIFEST_NAME));
	struct stat st;
	if (fstatat(w->outfd, MANIFEST_NAME, &st, AT_SYMLINK_NOFOLLOW) != 0) {
		if (errno == ENOENT)
			return 0;
		return w_fail(w, "cannot inspect `%s`: %s", name, strerror(errno));
	}
	if (S_ISLNK(st.st_mode))
		return w_fail(w, "`%s` is a symlink; refusing to follow it", name);
	if (!S_ISREG(st.st_mode))
		return w_fail(w, "`%s` is not a regular file", name);
	int fd = openat(w->outfd, MANIFEST_NAME, READ_FLAGS);
	/* 25 MB at 500,000 files: sized to the file, not to a power of two;
	 * and 8 bytes more, zeros, so that any path in it may be read a word
	 * at a time up to its end (common_prefix, writer.c) */
	w->oldman.data = xmalloc((size_t)st.st_size + 9);
	w->oldman.cap = (size_t)st.st_size + 9;
	w->oldman.data[0] = 0;
	struct stat after;
	if (fd < 0 || read_all(fd, &w->oldman) != 0 || fstat(fd, &after) != 0) {
		int e = errno;
		if (fd >= 0)
			close(fd);
		return w_fail(w, "cannot read `%s`: %s", name, strerror(e));
	}
	close(fd);
	sb_reserve(&w->oldman, 8);
	memset(w->oldman.data + w->oldman.len, 0, 9);
	w->have_manifest = true;
	/* changed while read: no cache will match it */
	w->manifest_id = w_identity(&st, true) == w_identity(&after, true) ? w_identity(&st, true) : 0;
	char *p = w->oldman.data ? w->oldman.data : "", *end = p + w->oldman.len;
	size_t hl = strlen(MANIFEST_HEADER);
	if ((size_t)(end - p) < hl + 1 || memcmp(p, MANIFEST_HEADER "\n", hl + 1))
		return w_fail(w, "`%s` is not a platformc manifest (its first line must be `"
			    MANIFEST_HEADER "`): refusing to guess which files platformc owns",
			    name);
	w->canonical = end[-1] == '\n';
	/* one pointer a line, made once: at most a line every two bytes (the
	 * pages past the lines there are are never touched) */
	w->owned = xmalloc(((size_t)(end - p) / 2 + 1) * sizeof *w->owned);
	for (p += hl + 1; p < end;) {
		char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
		char *line = p;
		p += n + 1;
		if (nl)
			*nl = 0;
		if (!n) {
			w->canonical = false;
			continue;
		}
		if (strlen(line) != n || !rel_path_is_safe(line))
			return w_fail(w, "manifest names an unsafe path `%s`: refusing to touch it",
				    arena_strndup(w->a, line, n));
		if (w->nowned && strcmp(w->owned[w->nowned - 1], line) >= 0)
			w->canonical = false;
		w->owned[w->nowned++] = line;
	}
	if (!w->canonical && w->nowned) {
		/* not written by platformc as it stands: sort, drop repeats */
		qsort(w->owned, (size_t)w->nowned, sizeof *w->owned, str_cmp_ptr);
		int k = 1;
		for (int i = 1; i < w->nowned; i++)
			if (strcmp(w->owned[i], w->owned[k - 1]))
				w->owned[k++] = w->owned[i];
		w->nowned = k;
	}
	return 0;
}
