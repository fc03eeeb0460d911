/*
 * writer.c — the only code that touches the disk (SPEC §4).
 *
 * What must stay true:
 *   - Ownership. `<out>/.platformc-manifest` lists the relative paths that
 *     platformc generated last time. Only those may be removed; files that
 *     are neither listed nor generated now belong to the user and survive
 *     every render (carried into the new tree by hard link, same inode).
 *   - No symlink is ever followed inside the output folder: every lookup is
 *     relative to a directory fd with O_NOFOLLOW / AT_SYMLINK_NOFOLLOW, and
 *     a symlink met anywhere we must look is an error, before any write.
 *   - A render that changes nothing writes nothing (no syscall that
 *     modifies the disk), so inodes and mtimes stay put.
 *   - Atomicity. A render that changes something builds the whole new tree
 *     beside the old one, in `<parent>/.<base>.platformc-new/tree`, then
 *     swaps the two directories with renameat2(RENAME_EXCHANGE). Unchanged
 *     files are hard-linked, not copied, so they keep their inode and mtime
 *     and the build costs one link per file. A crash at any point leaves
 *     <out> wholly old or wholly new; the staging folder left behind carries
 *     the marker file `.platformc-staging` so the next render knows it may
 *     delete it.
 *   - The marker lives in the staging folder, beside `tree/`, never inside
 *     the tree that becomes <out>: so no step ever has to add or remove it
 *     from the output, and a staging folder is marked from just after its
 *     mkdir until it is gone (removal deletes `tree/` first, the marker
 *     last). A staging-named folder that is empty is also ours (a crash
 *     between mkdir and writing the marker); anything else with that name
 *     is not, and we refuse to delete it.
 *
 * Durability: one syncfs() of the staging tree's file system before the
 * swap (so a power cut after the swap cannot expose empty files) and one
 * fsync() of the parent folder after it (so the swap itself is on disk).
 * Per-file fsync would cost a flush per file on 200,000-file trees.
 *
 * Permissions: files are created 0666 and folders 0777, minus the umask,
 * like git and make do; contents, not modes, are what determinism covers.
 * Carried-over user folders are recreated the same way (their modes and
 * mtimes are not copied); carried-over user files keep theirs (same inode).
 */
#include "platformc.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <unistd.h>

#ifndef RENAME_NOREPLACE
#define RENAME_NOREPLACE (1 << 0)
#endif
#ifndef RENAME_EXCHANGE
#define RENAME_EXCHANGE (1 << 1)
#endif

#define MANIFEST_HEADER "# platformc manifest v1"
#define STAGING_MARKER ".platformc-staging"
#define STAGING_TREE "tree"
#define DIR_FLAGS (O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
#define READ_FLAGS (O_RDONLY | O_NOFOLLOW | O_NOCTTY | O_NONBLOCK | O_CLOEXEC)
#define CHUNK (64u * 1024)

/* What the old tree holds at a generated path. */
typedef enum OldStatus { OLD_ABSENT, OLD_SAME, OLD_DIFF } OldStatus;

typedef struct OldFile {
	OldStatus status;
	dev_t dev;     /* OLD_SAME: the file we compared, to hard-link it */
	ino_t ino;
} OldFile;

/* One entry of the new tree, in path order. */
typedef enum ItemKind { IT_GEN, IT_CARRY, IT_DIR } ItemKind;

typedef struct Item {
	const char *path;
	ItemKind kind;
	const OutFile *f;      /* IT_GEN */
	const OldFile *old;    /* IT_GEN */
} Item;

/*
 * A cached open directory of the old tree. Paths arrive sorted, so
 * consecutive lookups share their folder and each folder is walked once.
 */
typedef struct Cursor {
	int root;              /* -1: the tree does not exist */
	char *dir;
	size_t dirlen;
	int fd;                /* valid when found */
	int found;
} Cursor;

typedef struct Writer {
	const FileSet *fs;
	Arena *a;
	char *err;
	size_t errlen;
	char *outdir;          /* as given, trailing slashes stripped */
	char *parent, *base;
	char *newname, *oldname;  /* staging folder names inside parent */
	int parentfd, outfd;
	const OutFile **files;    /* fs->files sorted by path (a local index) */
	OldFile *old;             /* parallel to files */
	StrMap owned;             /* manifest paths */
	const char **owned_list;
	int nowned;
	bool have_manifest;
	StrBuf oldman, newman;
	const char **stale;
	int nstale;
	Item *carry;              /* unowned files and empty folders to keep */
	int ncarry, capcarry;
	char *buf;                /* CHUNK bytes for comparisons and copies */
} Writer;

static int fail(Writer *w, const char *fmt, ...) PRINTF_LIKE(2, 3);

static int fail(Writer *w, const char *fmt, ...)
{
	if (w->err && w->errlen) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(w->err, w->errlen, fmt, ap);
		va_end(ap);
	}
	return -1;
}

/* The user-facing name of a path inside the output folder. */
static const char *disp(Writer *w, const char *rel, size_t n)
{
	if (!n)
		return w->outdir;
	return arena_sprintf(w->a, "%s/%.*s", w->outdir, (int)n, rel);
}

static const char *disp_parent(Writer *w, const char *name)
{
	if (!strcmp(w->parent, "/"))
		return arena_sprintf(w->a, "/%s", name);
	return arena_sprintf(w->a, "%s/%s", w->parent, name);
}

static void close_fd(int *fd)
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
static bool rel_path_is_safe(const char *p)
{
	if (!*p || *p == '/' || !strcmp(p, MANIFEST_NAME))
		return false;
	for (const char *c = p; *c; c++)
		if ((unsigned char)*c < 0x20 || *c == 0x7f)
			return false;
	for (const char *seg = p; *seg;) {
		const char *end = strchr(seg, '/');
		size_t n = end ? (size_t)(end - seg) : strlen(seg);
		if (n == 0 || (n == 1 && seg[0] == '.') || (n == 2 && seg[0] == '.' && seg[1] == '.'))
			return false;
		seg += n + (end ? 1 : 0);
		if (end && !*seg)
			return false;
	}
	return true;
}

static size_t dir_len(const char *path)
{
	const char *s = strrchr(path, '/');
	return s ? (size_t)(s - path) : 0;
}

static const char *base_name(const char *path)
{
	const char *s = strrchr(path, '/');
	return s ? s + 1 : path;
}

static int cmp_outfile_ptr(const void *a, const void *b)
{
	return strcmp((*(const OutFile *const *)a)->path, (*(const OutFile *const *)b)->path);
}

static int cmp_item(const void *a, const void *b)
{
	return strcmp(((const Item *)a)->path, ((const Item *)b)->path);
}

/* ---- small I/O helpers (errno set on failure) ---- */

static int read_all(int fd, StrBuf *out)
{
	for (;;) {
		sb_reserve(out, CHUNK);
		ssize_t r = read(fd, out->data + out->len, CHUNK);
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

static int write_all(int fd, const char *p, size_t n)
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
static int create_file(int dirfd, const char *name, const char *data, size_t len, mode_t mode)
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

static int copy_file(Writer *w, int srcdir, int dstdir, const char *name)
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
	int out = openat(dstdir, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
			 st.st_mode & 07777);
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
static bool link_unsupported(int e)
{
	return e == EXDEV || e == EPERM || e == ENOTSUP || e == EOPNOTSUPP || e == EMLINK ||
	       e == ENOSYS;
}

static int rename2(int olddir, const char *oldname, int newdir, const char *newname, unsigned flags)
{
#ifdef SYS_renameat2
	return (int)syscall(SYS_renameat2, olddir, oldname, newdir, newname, flags);
#else
	errno = ENOSYS;
	return -1;
#endif
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
	int fd = openat(at, name, DIR_FLAGS);
	if (fd < 0)
		return -1;
	DIR *d = fdopendir(fd);
	if (!d) {
		close(fd);
		return -1;
	}
	int rc = 0;
	struct dirent *e;
	while (rc == 0 && (errno = 0, e = readdir(d))) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		rc = rm_tree(dirfd(d), e->d_name);
	}
	if (rc == 0 && errno)
		rc = -1;
	int saved = errno;
	closedir(d);
	if (rc != 0) {
		errno = saved;
		return -1;
	}
	return unlinkat(at, name, AT_REMOVEDIR);
}

/* ---- staging folders ---- */

typedef enum StagingState { STG_ABSENT, STG_OURS, STG_EMPTY, STG_FOREIGN } StagingState;

static int staging_state(int parentfd, const char *name, StagingState *out)
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
static int remove_staging(int parentfd, const char *name)
{
	int fd = openat(parentfd, name, DIR_FLAGS);
	if (fd < 0)
		return errno == ENOENT ? 0 : -1;
	DIR *d = fdopendir(fd);
	if (!d) {
		close(fd);
		return -1;
	}
	int rc = 0;
	struct dirent *e;
	while (rc == 0 && (errno = 0, e = readdir(d))) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..") ||
		    !strcmp(e->d_name, STAGING_MARKER))
			continue;
		rc = rm_tree(dirfd(d), e->d_name);
	}
	if (rc == 0 && errno)
		rc = -1;
	if (rc == 0 && unlinkat(dirfd(d), STAGING_MARKER, 0) != 0 && errno != ENOENT)
		rc = -1;
	int saved = errno;
	closedir(d);
	if (rc != 0) {
		errno = saved;
		return -1;
	}
	return unlinkat(parentfd, name, AT_REMOVEDIR);
}

/*
 * Deletes leftovers of an interrupted render. With `strict`, a folder of
 * that name we did not make is an error (we need the name); without, it is
 * left alone.
 */
static int clean_leftovers(Writer *w, bool strict)
{
	const char *names[] = { w->newname, w->oldname };
	for (size_t i = 0; i < ARRAY_LEN(names); i++) {
		StagingState s;
		if (staging_state(w->parentfd, names[i], &s) != 0)
			return fail(w, "cannot inspect `%s`: %s", disp_parent(w, names[i]),
				    strerror(errno));
		if (s == STG_FOREIGN && strict)
			return fail(w,
				    "`%s` is in the way of rendering `%s`, and it was not made by "
				    "platformc (no `" STAGING_MARKER "` inside): refusing to "
				    "delete it; remove or rename it",
				    disp_parent(w, names[i]), w->outdir);
		if ((s == STG_OURS || s == STG_EMPTY) && remove_staging(w->parentfd, names[i]) != 0)
			return fail(w, "cannot remove the leftover staging folder `%s`: %s",
				    disp_parent(w, names[i]), strerror(errno));
	}
	return 0;
}

/*
 * The fallback swap (two renames) leaves no output folder for an instant;
 * if a crash hit that instant, the old tree is in `.<base>.platformc-old/tree`
 * and the output folder is missing: put it back before anything else.
 */
static int recover_old_tree(Writer *w)
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
		rc = fail(w, "cannot restore `%s` from the interrupted render in `%s`: %s",
			  w->outdir, disp_parent(w, w->oldname), strerror(errno));
	close(fd);
	return rc;
}

/* ---- reading the old tree ---- */

static void cursor_init(Cursor *c, int root)
{
	memset(c, 0, sizeof *c);
	c->root = root;
	c->fd = -1;
}

static void cursor_drop(Cursor *c)
{
	if (c->fd != c->root)
		close_fd(&c->fd);
	c->fd = -1;
	free(c->dir);
	c->dir = NULL;
	c->found = 0;
}

/*
 * Opens the folder path[0..dirlen) of the old tree. Returns 1 (c->fd is the
 * folder), 0 (it does not exist as a folder) or -1 (error). A symlink on the
 * way is an error. A regular file on the way means the folder is absent, but
 * with `strict` (we must put a folder there) only if platformc owns that
 * file: a user's file in the way of an output is an error.
 */
static int cursor_seek(Writer *w, Cursor *c, const char *path, size_t dirlen, bool strict)
{
	if (c->dir && c->dirlen == dirlen && !memcmp(c->dir, path, dirlen))
		return c->found;
	cursor_drop(c);
	c->dir = xmalloc(dirlen + 1);
	memcpy(c->dir, path, dirlen);
	c->dir[dirlen] = 0;
	c->dirlen = dirlen;
	if (c->root < 0)
		return 0;
	char *comp = xmalloc(dirlen + 1);
	int fd = c->root, rc = 1;
	for (size_t i = 0; i < dirlen && rc == 1;) {
		size_t j = i;
		while (j < dirlen && path[j] != '/')
			j++;
		memcpy(comp, path + i, j - i);
		comp[j - i] = 0;
		struct stat st;
		int nfd = -1;
		if (fstatat(fd, comp, &st, AT_SYMLINK_NOFOLLOW) != 0) {
			rc = errno == ENOENT ? 0 : fail(w, "cannot inspect `%s`: %s",
							disp(w, path, j), strerror(errno));
		} else if (S_ISLNK(st.st_mode)) {
			rc = fail(w, "`%s` is a symlink; refusing to follow it", disp(w, path, j));
		} else if (S_ISREG(st.st_mode)) {
			const char *pre = arena_strndup(w->a, path, j);
			if (strict && !strmap_get(&w->owned, pre))
				rc = fail(w, "`%s` is in the way of the output `%s`: it is a file "
					  "platformc does not own; move it away",
					  disp(w, path, j), path);
			else
				rc = 0;
		} else if (!S_ISDIR(st.st_mode)) {
			rc = fail(w, "`%s` is not a regular file or folder", disp(w, path, j));
		} else if ((nfd = openat(fd, comp, DIR_FLAGS)) < 0) {
			rc = fail(w, "cannot open `%s`: %s", disp(w, path, j), strerror(errno));
		}
		if (fd != c->root)
			close(fd);
		fd = nfd;
		i = j + 1;
	}
	free(comp);
	if (rc == 1) {
		c->fd = dirlen ? fd : c->root;
		c->found = 1;
	} else if (fd >= 0 && fd != c->root) {
		close(fd);
	}
	return rc;
}

/* Compares the old tree's file at `name` in dirfd with f's bytes. */
static int compare_file(Writer *w, int dirfd, const char *name, const OutFile *f, OldFile *o)
{
	struct stat st;
	o->status = OLD_ABSENT;
	if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) != 0) {
		if (errno == ENOENT)
			return 0;
		return fail(w, "cannot inspect `%s`: %s", disp(w, f->path, strlen(f->path)),
			    strerror(errno));
	}
	if (S_ISLNK(st.st_mode))
		return fail(w, "`%s` is a symlink; refusing to follow it",
			    disp(w, f->path, strlen(f->path)));
	if (S_ISDIR(st.st_mode))
		return 0; /* replaced by a file; a conflict, if any, shows when staging */
	if (!S_ISREG(st.st_mode))
		return fail(w, "`%s` is not a regular file or folder",
			    disp(w, f->path, strlen(f->path)));
	o->status = OLD_DIFF;
	if ((size_t)st.st_size != f->len)
		return 0;
	int fd = openat(dirfd, name, READ_FLAGS);
	if (fd < 0)
		return fail(w, "cannot read `%s`: %s", disp(w, f->path, strlen(f->path)),
			    strerror(errno));
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return fail(w, "`%s` changed while it was being read",
			    disp(w, f->path, strlen(f->path)));
	}
	size_t off = 0;
	bool same = true;
	for (;;) {
		ssize_t r = read(fd, w->buf, CHUNK);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			int e = errno;
			close(fd);
			return fail(w, "cannot read `%s`: %s", disp(w, f->path, strlen(f->path)),
				    strerror(e));
		}
		if (r == 0)
			break;
		if ((size_t)r > f->len - off || memcmp(w->buf, f->data + off, (size_t)r)) {
			same = false;
			break;
		}
		off += (size_t)r;
	}
	close(fd);
	if (same && off == f->len) {
		o->status = OLD_SAME;
		o->dev = st.st_dev;
		o->ino = st.st_ino;
	}
	return 0;
}

static int read_manifest(Writer *w)
{
	strmap_init(&w->owned);
	if (w->outfd < 0)
		return 0;
	const char *name = disp(w, MANIFEST_NAME, strlen(MANIFEST_NAME));
	struct stat st;
	if (fstatat(w->outfd, MANIFEST_NAME, &st, AT_SYMLINK_NOFOLLOW) != 0) {
		if (errno == ENOENT)
			return 0;
		return fail(w, "cannot inspect `%s`: %s", name, strerror(errno));
	}
	if (S_ISLNK(st.st_mode))
		return fail(w, "`%s` is a symlink; refusing to follow it", name);
	if (!S_ISREG(st.st_mode))
		return fail(w, "`%s` is not a regular file", name);
	int fd = openat(w->outfd, MANIFEST_NAME, READ_FLAGS);
	if (fd < 0 || read_all(fd, &w->oldman) != 0) {
		int e = errno;
		if (fd >= 0)
			close(fd);
		return fail(w, "cannot read `%s`: %s", name, strerror(e));
	}
	close(fd);
	w->have_manifest = true;
	const char *p = w->oldman.data ? w->oldman.data : "", *end = p + w->oldman.len;
	size_t hl = strlen(MANIFEST_HEADER);
	if ((size_t)(end - p) < hl + 1 || memcmp(p, MANIFEST_HEADER "\n", hl + 1))
		return fail(w, "`%s` is not a platformc manifest (its first line must be `"
			    MANIFEST_HEADER "`): refusing to guess which files platformc owns",
			    name);
	int cap = 0;
	for (p += hl + 1; p < end;) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
		char *line = arena_strndup(w->a, p, n);
		p += n + 1;
		if (!n)
			continue;
		if (strlen(line) != n || !rel_path_is_safe(line))
			return fail(w, "manifest names an unsafe path `%s`: refusing to touch it",
				    line);
		if (strmap_put(&w->owned, line, (void *)1))
			continue;
		if (w->nowned == cap) {
			cap = cap ? cap * 2 : 256;
			w->owned_list = xrealloc(w->owned_list, (size_t)cap * sizeof *w->owned_list);
		}
		w->owned_list[w->nowned++] = line;
	}
	if (w->nowned)
		qsort(w->owned_list, (size_t)w->nowned, sizeof *w->owned_list, str_cmp_ptr);
	return 0;
}

static void add_carry(Writer *w, const char *path, ItemKind kind)
{
	if (w->ncarry == w->capcarry) {
		w->capcarry = w->capcarry ? w->capcarry * 2 : 64;
		w->carry = xrealloc(w->carry, (size_t)w->capcarry * sizeof *w->carry);
	}
	w->carry[w->ncarry++] = (Item){ .path = arena_strdup(w->a, path), .kind = kind };
}

/*
 * Walks the whole old tree (fd is consumed): refuses symlinks and special
 * files anywhere, and collects what the new tree must carry over — files
 * neither owned nor generated, and folders that were empty (a user's;
 * folders emptied because their outputs went away are pruned).
 */
static int walk_old(Writer *w, int fd, StrBuf *rel)
{
	DIR *d = fdopendir(fd);
	if (!d) {
		close(fd);
		return fail(w, "cannot read `%s`: %s", disp(w, rel->data, rel->len), strerror(errno));
	}
	size_t len = rel->len;
	bool empty = true;
	int rc = 0;
	struct dirent *e;
	while (rc == 0 && (errno = 0, e = readdir(d))) {
		const char *name = e->d_name;
		if (!strcmp(name, ".") || !strcmp(name, ".."))
			continue;
		empty = false;
		if (!len && !strcmp(name, MANIFEST_NAME))
			continue;
		if (len)
			sb_putc(rel, '/');
		sb_puts(rel, name);
		unsigned char type = e->d_type;
		struct stat st;
		if (type != DT_UNKNOWN) {
		} else if (fstatat(dirfd(d), name, &st, AT_SYMLINK_NOFOLLOW) != 0) {
			rc = fail(w, "cannot inspect `%s`: %s", disp(w, rel->data, rel->len),
				  strerror(errno));
		} else {
			type = S_ISLNK(st.st_mode) ? DT_LNK : S_ISDIR(st.st_mode) ? DT_DIR
				: S_ISREG(st.st_mode) ? DT_REG : DT_FIFO;
		}
		if (rc != 0) {
		} else if (type == DT_LNK) {
			rc = fail(w, "`%s` is a symlink; refusing to follow it (the output folder "
				  "must hold no symlinks)", disp(w, rel->data, rel->len));
		} else if (type == DT_DIR) {
			int sub = openat(dirfd(d), name, DIR_FLAGS);
			rc = sub < 0 ? fail(w, "cannot open `%s`: %s", disp(w, rel->data, rel->len),
					    strerror(errno))
				     : walk_old(w, sub, rel);
		} else if (type == DT_REG) {
			if (!fileset_find(w->fs, rel->data) && !strmap_get(&w->owned, rel->data))
				add_carry(w, rel->data, IT_CARRY);
		} else {
			rc = fail(w, "`%s` is not a regular file or folder",
				  disp(w, rel->data, rel->len));
		}
		rel->len = len;
		if (rel->data)
			rel->data[len] = 0;
	}
	if (rc == 0 && errno)
		rc = fail(w, "cannot read `%s`: %s", disp(w, rel->data, rel->len), strerror(errno));
	closedir(d);
	if (rc == 0 && empty && len)
		add_carry(w, rel->data, IT_DIR);
	return rc;
}

/* ---- building the new tree ---- */

typedef struct Stage {
	int treefd;
	StrMap made;           /* folders created so far */
	char *cur;             /* the folder curfd is open on */
	size_t curlen;
	int curfd;
} Stage;

/* Opens folder path[0..dirlen) of the new tree, creating it (once). */
static int stage_dir(Writer *w, Stage *s, const char *path, size_t dirlen)
{
	if (s->cur && s->curlen == dirlen && !memcmp(s->cur, path, dirlen))
		return s->curfd;
	if (s->curfd != s->treefd)
		close_fd(&s->curfd);
	free(s->cur);
	s->cur = NULL;
	s->curfd = -1;
	for (size_t j = 1; j <= dirlen; j++) {
		if (j < dirlen && path[j] != '/')
			continue;
		const char *pre = arena_strndup(w->a, path, j);
		if (strmap_get(&s->made, pre))
			continue;
		if (mkdirat(s->treefd, pre, 0777) != 0)
			return fail(w, errno == EEXIST || errno == ENOTDIR
				    ? "cannot create folder `%s`: a file of the new tree is there "
				      "(%s)"
				    : "cannot create folder `%s`: %s",
				    disp(w, path, j), strerror(errno));
		strmap_put(&s->made, pre, (void *)1);
	}
	int fd = dirlen ? openat(s->treefd, arena_strndup(w->a, path, dirlen), DIR_FLAGS)
			: s->treefd;
	if (fd < 0)
		return fail(w, "cannot open folder `%s` of the new tree: %s", disp(w, path, dirlen),
			    strerror(errno));
	s->cur = xmalloc(dirlen + 1);
	memcpy(s->cur, path, dirlen);
	s->cur[dirlen] = 0;
	s->curlen = dirlen;
	s->curfd = fd;
	return fd;
}

static int write_new(Writer *w, int dfd, const Item *it)
{
	if (create_file(dfd, base_name(it->path), it->f->data, it->f->len, 0666) != 0)
		return fail(w, "cannot write `%s` (in the staging folder `%s`): %s",
			    disp(w, it->path, strlen(it->path)), disp_parent(w, w->newname),
			    strerror(errno));
	return 0;
}

static int place_item(Writer *w, Stage *s, Cursor *oldc, const Item *it)
{
	size_t dl = dir_len(it->path);
	if (it->kind == IT_DIR)
		return stage_dir(w, s, it->path, strlen(it->path)) < 0 ? -1 : 0;
	int dfd = stage_dir(w, s, it->path, dl);
	if (dfd < 0)
		return -1;
	const char *name = base_name(it->path);
	if (it->kind == IT_GEN && it->old->status != OLD_SAME)
		return write_new(w, dfd, it);
	int r = cursor_seek(w, oldc, it->path, dl, false);
	if (r < 0)
		return -1;
	if (r == 1 && linkat(oldc->fd, name, dfd, name, 0) == 0) {
		if (it->kind == IT_CARRY)
			return 0;
		/* the file we compared must be the file we linked */
		struct stat st;
		if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st.st_mode) &&
		    st.st_dev == it->old->dev && st.st_ino == it->old->ino)
			return 0;
		if (unlinkat(dfd, name, 0) != 0)
			return fail(w, "cannot unlink `%s` in the staging folder: %s",
				    disp(w, it->path, strlen(it->path)), strerror(errno));
		return write_new(w, dfd, it);
	}
	int e = r == 1 ? errno : ENOENT;
	if (it->kind == IT_GEN && (e == ENOENT || link_unsupported(e)))
		return write_new(w, dfd, it);
	if (it->kind == IT_CARRY && r == 1 && link_unsupported(e)) {
		if (copy_file(w, oldc->fd, dfd, name) == 0)
			return 0;
		e = errno;
	}
	return fail(w, e == EEXIST ? "cannot carry over `%s` (not platformc's): an output of "
				     "the new tree is in its way (%s)"
				   : "cannot carry over `%s` (not platformc's) into the new tree: %s",
		    disp(w, it->path, strlen(it->path)), strerror(e));
}

/* Builds `<parent>/.<base>.platformc-new/tree`. The caller removes the
 * staging folder when this fails. */
static int build_staging(Writer *w, int newfd)
{
	if (mkdirat(newfd, STAGING_TREE, 0777) != 0)
		return fail(w, "cannot create `%s/" STAGING_TREE "`: %s",
			    disp_parent(w, w->newname), strerror(errno));
	Stage s = { .treefd = openat(newfd, STAGING_TREE, DIR_FLAGS), .curfd = -1 };
	if (s.treefd < 0)
		return fail(w, "cannot open `%s/" STAGING_TREE "`: %s",
			    disp_parent(w, w->newname), strerror(errno));
	strmap_init(&s.made);
	int n = w->fs->n + w->ncarry;
	Item *items = xmalloc((size_t)(n ? n : 1) * sizeof *items);
	for (int i = 0; i < w->fs->n; i++)
		items[i] = (Item){ .path = w->files[i]->path, .kind = IT_GEN, .f = w->files[i],
				   .old = &w->old[i] };
	if (w->ncarry)
		memcpy(items + w->fs->n, w->carry, (size_t)w->ncarry * sizeof *items);
	/* path order: a folder is made before anything in it, once */
	qsort(items, (size_t)n, sizeof *items, cmp_item);
	Cursor oldc;
	cursor_init(&oldc, w->outfd);
	int rc = 0;
	for (int i = 0; i < n && rc == 0; i++)
		rc = place_item(w, &s, &oldc, &items[i]);
	cursor_drop(&oldc);
	free(items);
	if (rc == 0 && create_file(s.treefd, MANIFEST_NAME, w->newman.data, w->newman.len, 0666))
		rc = fail(w, "cannot write `%s` (in the staging folder): %s",
			  disp(w, MANIFEST_NAME, strlen(MANIFEST_NAME)), strerror(errno));
	/* everything must be on disk before the swap makes it visible */
	if (rc == 0 && syncfs(s.treefd) != 0)
		rc = fail(w, "cannot flush the new tree of `%s` to disk: %s", w->outdir,
			  strerror(errno));
	if (s.curfd != s.treefd)
		close_fd(&s.curfd);
	close_fd(&s.treefd);
	free(s.cur);
	strmap_free(&s.made);
	return rc;
}

/*
 * Makes the staged tree the output folder. With RENAME_EXCHANGE one atomic
 * step; the old tree lands in the staging folder (still marked) and is then
 * deleted. File systems without it get two renames through the marked
 * `.<base>.platformc-old`: for that instant the output folder does not
 * exist, and a crash there is undone by recover_old_tree() next time.
 */
static int swap_in(Writer *w, int newfd)
{
	if (w->outfd < 0) {
		if (rename2(newfd, STAGING_TREE, w->parentfd, w->base, RENAME_NOREPLACE) == 0)
			return 0;
		if ((errno == EINVAL || errno == ENOSYS) &&
		    renameat(newfd, STAGING_TREE, w->parentfd, w->base) == 0)
			return 0;
		return fail(w, "cannot move the new tree into place as `%s`: %s", w->outdir,
			    strerror(errno));
	}
	if (rename2(newfd, STAGING_TREE, w->parentfd, w->base, RENAME_EXCHANGE) == 0)
		return 0;
	if (errno != EINVAL && errno != ENOSYS && errno != ENOTSUP && errno != EOPNOTSUPP)
		return fail(w, "cannot swap the new tree into `%s`: %s", w->outdir, strerror(errno));
	if (mkdirat(w->parentfd, w->oldname, 0777) != 0)
		return fail(w, "cannot create `%s`: %s", disp_parent(w, w->oldname), strerror(errno));
	int oldfd = openat(w->parentfd, w->oldname, DIR_FLAGS);
	if (oldfd < 0 || create_file(oldfd, STAGING_MARKER, "", 0, 0666) != 0) {
		int e = errno;
		close_fd(&oldfd);
		remove_staging(w->parentfd, w->oldname);
		return fail(w, "cannot create `%s`: %s", disp_parent(w, w->oldname), strerror(e));
	}
	int rc = 0;
	bool stuck = false; /* the old tree could not be put back: keep it */
	if (renameat(w->parentfd, w->base, oldfd, STAGING_TREE) != 0) {
		rc = fail(w, "cannot move `%s` aside: %s", w->outdir, strerror(errno));
	} else if (renameat(newfd, STAGING_TREE, w->parentfd, w->base) != 0) {
		int e = errno;
		if (renameat(oldfd, STAGING_TREE, w->parentfd, w->base) != 0) {
			stuck = true;
			rc = fail(w, "cannot move the new tree into place as `%s` (%s), nor put "
				  "the old one back (%s): it is in `%s/" STAGING_TREE "`, and the "
				  "next render restores it", w->outdir, strerror(e), strerror(errno),
				  disp_parent(w, w->oldname));
		} else {
			rc = fail(w, "cannot move the new tree into place as `%s`: %s", w->outdir,
				  strerror(e));
		}
	}
	close_fd(&oldfd);
	if (!stuck)
		remove_staging(w->parentfd, w->oldname);
	return rc;
}

static int write_tree(Writer *w)
{
	if (clean_leftovers(w, true) != 0)
		return -1;
	if (mkdirat(w->parentfd, w->newname, 0777) != 0)
		return fail(w, "cannot create the staging folder `%s`: %s",
			    disp_parent(w, w->newname), strerror(errno));
	int newfd = openat(w->parentfd, w->newname, DIR_FLAGS);
	int rc = 0;
	if (newfd < 0 || create_file(newfd, STAGING_MARKER,
				     "platformc staging folder: safe to delete\n", 41, 0666) != 0)
		rc = fail(w, "cannot create the staging folder `%s`: %s",
			  disp_parent(w, w->newname), strerror(errno));
	if (rc == 0)
		rc = build_staging(w, newfd);
	if (rc == 0)
		rc = swap_in(w, newfd);
	if (rc == 0)
		fsync(w->parentfd); /* the swap itself must reach the disk */
	close_fd(&newfd);
	/* After a failure this drops the half-built tree; after a swap, the
	 * old tree. Either way it is ours, and a failure here leaves a marked
	 * folder that the next render deletes. */
	remove_staging(w->parentfd, w->newname);
	return rc;
}

/* ---- the entry point ---- */

static int split_outdir(Writer *w, const char *outdir)
{
	size_t n = outdir ? strlen(outdir) : 0;
	while (n > 1 && outdir[n - 1] == '/')
		n--;
	if (!n)
		return fail(w, "the output folder is an empty path");
	w->outdir = arena_strndup(w->a, outdir, n);
	if (!strcmp(w->outdir, "/"))
		return fail(w, "refusing to render into `/`");
	const char *b = base_name(w->outdir);
	if (!strcmp(b, ".") || !strcmp(b, ".."))
		return fail(w, "output folder `%s` must name a folder (not `.` or `..`): it is "
			    "replaced as a whole on every render", w->outdir);
	w->base = arena_strdup(w->a, b);
	size_t pl = (size_t)(b - w->outdir);
	while (pl > 1 && w->outdir[pl - 1] == '/')
		pl--;
	w->parent = pl ? arena_strndup(w->a, w->outdir, pl) : ".";
	w->newname = arena_sprintf(w->a, ".%s.platformc-new", w->base);
	w->oldname = arena_sprintf(w->a, ".%s.platformc-old", w->base);
	return 0;
}

/* Generated paths must be recordable and must not need one path to be both
 * a file and a folder. */
static int check_outputs(Writer *w)
{
	StrBuf pre; /* one scratch buffer: 200,000 paths must not fill the arena */
	sb_init(&pre);
	int rc = 0;
	for (int i = 0; i < w->fs->n && rc == 0; i++) {
		const char *p = w->files[i]->path;
		if (!rel_path_is_safe(p)) {
			rc = fail(w, "internal error: output path `%s` cannot be written", p);
			break;
		}
		if (i && !strcmp(p, w->files[i - 1]->path)) {
			rc = fail(w, "internal error: two outputs at `%s`", p);
			break;
		}
		for (const char *s = strchr(p, '/'); s && rc == 0; s = strchr(s + 1, '/')) {
			pre.len = 0;
			sb_putn(&pre, p, (size_t)(s - p));
			if (fileset_find(w->fs, pre.data))
				rc = fail(w, "internal error: outputs `%s` and `%s` clash: `%s` "
					  "cannot be both a file and a folder", pre.data, p, pre.data);
		}
	}
	sb_free(&pre);
	return rc;
}

static void add_line(WriterReport *rep, const char *kind, const char *path)
{
	size_t n = strlen(kind) + strlen(path) + 3;
	char *s = xmalloc(n);
	snprintf(s, n, "%s: %s", kind, path);
	rep->lines = xrealloc(rep->lines, (size_t)(rep->nlines + 1) * sizeof *rep->lines);
	rep->lines[rep->nlines++] = s;
}

/* added/changed/stale lines, merged in path order */
static void fill_lines(Writer *w, WriterReport *rep)
{
	int i = 0, j = 0;
	while (i < w->fs->n || j < w->nstale) {
		if (j == w->nstale ||
		    (i < w->fs->n && strcmp(w->files[i]->path, w->stale[j]) < 0)) {
			if (w->old[i].status != OLD_SAME)
				add_line(rep, w->old[i].status == OLD_ABSENT ? "added" : "changed",
					 w->files[i]->path);
			i++;
		} else {
			add_line(rep, "stale", w->stale[j++]);
		}
	}
}

static int run(Writer *w, const char *outdir, WriterMode mode, WriterReport *rep)
{
	if (split_outdir(w, outdir) != 0)
		return -1;
	int n = w->fs->n;
	w->files = xmalloc((size_t)(n ? n : 1) * sizeof *w->files);
	for (int i = 0; i < n; i++)
		w->files[i] = &w->fs->files[i];
	qsort(w->files, (size_t)n, sizeof *w->files, cmp_outfile_ptr);
	w->old = xmalloc((size_t)(n ? n : 1) * sizeof *w->old);
	if (check_outputs(w) != 0)
		return -1;

	w->parentfd = open(w->parent, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (w->parentfd < 0)
		return fail(w, errno == ENOENT ? "the folder `%s` that should hold the output "
						 "folder `%s` does not exist"
					       : "cannot open the folder `%s` that holds `%s`: %s",
			    w->parent, w->outdir, strerror(errno));
	if (mode == WR_WRITE && recover_old_tree(w) != 0)
		return -1;
	struct stat st;
	if (fstatat(w->parentfd, w->base, &st, AT_SYMLINK_NOFOLLOW) != 0) {
		if (errno != ENOENT)
			return fail(w, "cannot inspect `%s`: %s", w->outdir, strerror(errno));
	} else if (S_ISLNK(st.st_mode)) {
		return fail(w, "output folder `%s` is a symlink; refusing to follow it", w->outdir);
	} else if (!S_ISDIR(st.st_mode)) {
		return fail(w, "output folder `%s` exists and is not a folder", w->outdir);
	} else if ((w->outfd = openat(w->parentfd, w->base, DIR_FLAGS)) < 0) {
		return fail(w, "cannot open `%s`: %s", w->outdir, strerror(errno));
	}
	if (read_manifest(w) != 0)
		return -1;

	/* compare every output with the old tree */
	Cursor c;
	cursor_init(&c, w->outfd);
	int rc = 0;
	for (int i = 0; i < n && rc == 0; i++) {
		const char *p = w->files[i]->path;
		w->old[i].status = OLD_ABSENT;
		rc = cursor_seek(w, &c, p, dir_len(p), true);
		if (rc == 1)
			rc = compare_file(w, c.fd, base_name(p), w->files[i], &w->old[i]);
		if (rc == 0) {
			OldStatus s = w->old[i].status;
			rep->added += s == OLD_ABSENT;
			rep->changed += s == OLD_DIFF;
			rep->unchanged += s == OLD_SAME;
		}
	}
	/* owned files no longer generated and still there are stale */
	w->stale = xmalloc((size_t)(w->nowned ? w->nowned : 1) * sizeof *w->stale);
	for (int i = 0; i < w->nowned && rc == 0; i++) {
		const char *p = w->owned_list[i];
		if (fileset_find(w->fs, p))
			continue;
		int found = cursor_seek(w, &c, p, dir_len(p), false);
		if (found != 1) {
			rc = found;
			continue;
		}
		if (fstatat(c.fd, base_name(p), &st, AT_SYMLINK_NOFOLLOW) != 0) {
			if (errno != ENOENT)
				rc = fail(w, "cannot inspect `%s`: %s", disp(w, p, strlen(p)),
					  strerror(errno));
		} else if (S_ISLNK(st.st_mode)) {
			rc = fail(w, "`%s` is a symlink; refusing to follow it", disp(w, p, strlen(p)));
		} else if (S_ISREG(st.st_mode)) {
			w->stale[w->nstale++] = p;
		}
	}
	cursor_drop(&c);
	if (rc < 0)
		return -1;
	rep->removed = w->nstale;

	sb_puts(&w->newman, MANIFEST_HEADER "\n");
	for (int i = 0; i < n; i++)
		sb_printf(&w->newman, "%s\n", w->files[i]->path);
	bool same_manifest = w->have_manifest && w->oldman.len == w->newman.len &&
			     !memcmp(w->oldman.data, w->newman.data, w->newman.len);
	bool differs = w->outfd < 0 || rep->added || rep->changed || rep->removed ||
		       !same_manifest;

	/* a render that changes something rebuilds the whole tree: the whole
	 * old tree must be free of symlinks, and its user files are listed */
	if (differs && w->outfd >= 0) {
		StrBuf rel;
		sb_init(&rel);
		sb_reserve(&rel, 0);
		rel.data[0] = 0;
		int fd = openat(w->outfd, ".", DIR_FLAGS);
		rc = fd < 0 ? fail(w, "cannot open `%s`: %s", w->outdir, strerror(errno))
			    : walk_old(w, fd, &rel);
		sb_free(&rel);
		if (rc != 0)
			return -1;
	}
	if (mode == WR_CHECK) {
		fill_lines(w, rep);
		return 0;
	}
	if (!differs)
		return clean_leftovers(w, false);
	return write_tree(w);
}

int writer_run(const FileSet *fs, const char *outdir, WriterMode mode, WriterReport *rep,
	       char *err, size_t errlen)
{
	WriterReport local;
	if (!rep)
		rep = &local;
	memset(rep, 0, sizeof *rep);
	if (err && errlen)
		err[0] = 0;
	Writer w = { .fs = fs, .a = arena_new(), .err = err, .errlen = errlen,
		     .parentfd = -1, .outfd = -1 };
	sb_init(&w.oldman);
	sb_init(&w.newman);
	strmap_init(&w.owned);
	w.buf = xmalloc(CHUNK);
	int rc = run(&w, outdir, mode, rep);
	if (rc != 0 || rep == &local)
		writer_report_free(rep);
	if (rc != 0)
		rep->added = rep->changed = rep->removed = rep->unchanged = 0;
	close_fd(&w.outfd);
	close_fd(&w.parentfd);
	free(w.buf);
	free(w.files);
	free(w.old);
	free(w.owned_list);
	free(w.stale);
	free(w.carry);
	strmap_free(&w.owned);
	sb_free(&w.oldman);
	sb_free(&w.newman);
	arena_free(w.a);
	return rc;
}

void writer_report_free(WriterReport *rep)
{
	if (!rep)
		return;
	for (int i = 0; i < rep->nlines; i++)
		free(rep->lines[i]);
	free(rep->lines);
	rep->lines = NULL;
	rep->nlines = 0;
}
