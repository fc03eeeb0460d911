/*
 * writer.c — the only code that touches the disk (guide §7).
 *
 * What must stay true:
 *   - Ownership. `<out>/.platformc-manifest` lists the relative paths that
 *     platformc generated last time. Only those may be removed; files that
 *     are neither listed nor generated now belong to the user and survive
 *     every render (left in place by a journal commit, carried into the
 *     new tree of a swap by hard link: same inode either way).
 *   - No symlink is ever followed inside the output folder: every lookup is
 *     relative to a directory fd with O_NOFOLLOW / AT_SYMLINK_NOFOLLOW, and
 *     a symlink met anywhere we must look is an error, before anything is
 *     written in the output folder.
 *   - A render that changes nothing writes nothing in or to the output
 *     folder (no syscall that modifies it), so inodes and mtimes stay put.
 *     (Beside it, the stat cache is renewed when it did not vouch for every
 *     file; see below.)
 *   - Atomicity, as platformc and `render --check` see the folder: after a
 *     render killed at any point, the next platformc run that opens the
 *     output folder finds it wholly old or wholly new. A render that
 *     changes something commits in one of two ways (use_journal):
 *       * the journal, O(changed files), when the folder exists and at most
 *         half of its files change: changed files are written to staging
 *         names in `<parent>/.<base>.platformc-new/tree` (same paths), one
 *         syncfs; then `.../journal` (the moves, removals and the manifest
 *         to put in place, ending with a hash of itself) is written and
 *         fsynced, which is the commit point; then its steps are applied
 *         (renameat of each staged file over the old one, unlink of stale
 *         files and of the folders that leaves empty), one syncfs, and the
 *         journal and staging folder are removed. Unchanged files are never
 *         touched. A journal that is whole is finished (rolled forward) by
 *         the next write-mode session before it reads anything
 *         (recover_journal; each step may be applied twice: a move whose
 *         staged file is gone was done); `render --check` and `diff` refuse
 *         a folder with a whole journal, saying which command finishes it.
 *         A journal cut short was never committed: the old tree is intact.
 *         Other programs reading the folder while a journal is applied, or
 *         before it is finished, can see it part old, part new.
 *       * the whole-tree swap otherwise (a first render, a file taking a
 *         folder's place or the reverse, more than half of the files
 *         changing, a staging folder on another file system): the whole
 *         new tree is built beside the old one, in
 *         `<parent>/.<base>.platformc-new/tree`, then the two directories
 *         are swapped with renameat2(RENAME_EXCHANGE). Unchanged files are
 *         hard-linked, not copied, so they keep their inode and mtime and
 *         the build costs one link per file. A crash at any point leaves
 *         <out> wholly old or wholly new, for every reader.
 *     Either way the staging folder left behind carries the marker file
 *     `.platformc-staging` so the next render knows it may delete it.
 *   - The marker lives in the staging folder, beside `tree/`, never inside
 *     the tree that becomes <out>: so no step ever has to add or remove it
 *     from the output, and a staging folder is marked from just after its
 *     mkdir until it is gone (removal deletes `tree/` first, the marker
 *     last). A staging-named folder that is empty is also ours (a crash
 *     between mkdir and writing the marker); anything else with that name
 *     is not, and we refuse to delete it.
 *
 * Streaming. A render is a session: writer_begin (before the backends run:
 * output folder, manifest, stat cache), writer_add for each file as a
 * backend adds it, writer_end (stale files; then the journal, or links,
 * manifest and swap). Each
 * file is compared with the old tree when it arrives; if it differs, a
 * write-mode render puts it in the staging tree at once, so its bytes can be
 * freed and no render holds the whole output in memory. Staging starts at
 * the first difference. A whole-tree swap walks the whole old tree at the
 * end, before it links anything: a symlink anywhere in it stops the render
 * before <out> is touched; a journal commit looks only where it moves or
 * removes files (a user's symlink elsewhere is left alone, as by a render
 * that changes nothing). What can still fail before the commit point (a
 * user's file in the way of a generated folder, a full disk) removes the
 * staging folder: <out> is never touched.
 *
 * The stat cache. Reading every unchanged file back costs four syscalls and
 * its bytes. `<parent>/.<base>.platformc-cache/stat` records, for each path
 * of the manifest, the lstat identity the file had when platformc last
 * wrote or linked it (a hash of dev, inode, size, mtime and ctime) and the
 * hash of its bytes. A generated file whose new bytes hash to the recorded
 * hash, and whose lstat still shows exactly the recorded identity, is
 * unchanged without being opened: one fstatat instead of four syscalls. Why
 * that is safe:
 *   - Any write to a file sets its ctime to the current time, and nobody
 *     can set a ctime (utimensat sets it too), so an edit, even one of the
 *     same size with the mtime put back, changes the ctime: the file is read.
 *   - An edit within the clock tick of the recording would keep the ctime.
 *     So an entry counts only if its ctime is strictly older than the cache
 *     file's own mtime, and the writer waits for the file system's clock to
 *     pass the newest recorded ctime before it dates the cache (git's
 *     "racily clean" rule).
 *   - A file replaced by a symlink, a folder or another file fails the
 *     lstat identity (and a symlink is refused as always). A copied or
 *     restored tree has other inodes. The cache also records the output
 *     folder's own inode (every rebuild swaps in a new one) and the
 *     identity of the manifest it describes (written with it, so the same
 *     rule proves it unchanged): a cache of another tree or another
 *     manifest is ignored as a whole, and so is a truncated or garbled one.
 *   - The cache never decides ownership, deletion or where anything is
 *     written: the worst a cache forged by hand can do is make a render keep
 *     a file it would have rewritten (git trusts its index the same way). A
 *     fresh checkout, as in CI, has no cache and compares bytes.
 * Documents need not even be emitted. The cache also records each document's
 * key (the hash of the DNode trees it was emitted from, fileset.c) and the
 * hash of this binary. When a document's key is the recorded one, the file
 * has the recorded identity, and the cache was written by this very binary
 * (emitting the same trees gives the same bytes only with the same emitter),
 * the file on disk is what emitting would give: writer_keep keeps it, and
 * the YAML or JSON is never made. Emitting is two thirds of a render's
 * work; a render that changes nothing now pays for the trees alone.
 * Units of output need not even be built. The cache also records, per unit
 * of output (fileset.c), its id, its key (the hash of what it reads,
 * unitkey.c) and its files. When a unit's key is the recorded one in a
 * cache this binary wrote and every one of its files passes the identity
 * rule above, writer_keep_unit hands its files back and the file set adds
 * them without the backend building anything. The records are trusted as
 * the rest of the cache is; one that is inconsistent (a file past the
 * manifest or in two units, an id twice) drops every unit record, and a
 * unit whose file was already made by another is built.
 *
 * The cache lives beside the output folder, not in it: the manifest and the
 * tree stay byte-identical on every machine (both are committed), while the
 * cache describes this machine's inodes. Hard-linked files get a new ctime
 * when the old tree is deleted after the swap, and moved files one when a
 * journal moves them, so the cache is written last, after that (a journal
 * commit looks again only at the files it moved, or that the old cache did
 * not vouch for: the others are untouched, and their entries carry over),
 * and is best effort: a failure there leaves the render
 * done and the cache absent (the report carries a warning). Its folder
 * holds a `.gitignore` of `*`, so git never lists it.
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
 * lookups in the old tree (DirStack) and scratch buffers; fail() and the
 * arena of messages take `lock`. Neither thread waits on the other per file:
 * the ring's counts are atomics, and a thread sleeps or wakes the other only
 * for a batch. While no file waits and the stat cache may keep documents,
 * the disk thread looks ahead: it checks the owned files' identities
 * against the cache in manifest order (look_ahead), so that writer_keep,
 * asked by the producer before a document is emitted, usually finds its
 * answer made: a render that changes nothing then costs the building of the
 * trees alone on the producer. What is written, reported and kept is the
 * same with one thread or two (tests/threads.sh compares them).
 *
 * Durability: one syncfs() of the staging tree's file system before the
 * swap (so a power cut after the swap cannot expose empty files) and one
 * fsync() of the parent folder after it (so the swap itself is on disk).
 * A journal commit: one syncfs() of the staged files, the journal and its
 * folder fsynced before the first move, one syncfs() after the last, before
 * the journal is removed.
 * Per-file fsync would cost a flush per file on 200,000-file trees. The
 * cache is not synced: its integrity is checked when it is read.
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

#ifndef RENAME_NOREPLACE
#define RENAME_NOREPLACE (1 << 0)
#endif
#ifndef RENAME_EXCHANGE
#define RENAME_EXCHANGE (1 << 1)
#endif

#define MANIFEST_HEADER "# platformc manifest v1"
#define STAGING_MARKER ".platformc-staging"
#define STAGING_TREE "tree"
#define JOURNAL_FILE "journal"
#define JOURNAL_HEADER "# platformc journal v1\n"
#define JOURNAL_END "# end "
#define CACHE_FILE "stat"
#define CACHE_TMP "stat.tmp"
#define CACHE_MAGIC "# platformc stat cache v2\n"
#define CACHE_HEAD 7           /* words: output folder dev, inode; manifest identity; binary; count;
				* units; words of the units */
#define CACHE_ENTRY 3          /* words: identity (lstat), content hash, document key */
#define DIR_FLAGS (O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
#define READ_FLAGS (O_RDONLY | O_NOFOLLOW | O_NOCTTY | O_NONBLOCK | O_CLOEXEC)
#define NEW_FLAGS (O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC)
#define CHUNK (64u * 1024)

/* What the old tree holds at a generated path. */
typedef enum OldStatus { OLD_ABSENT, OLD_SAME, OLD_DIFF } OldStatus;

/*
 * Per generated file, by its number in the file set: 16 bytes, for there
 * may be half a million. `id` is an identity() — OLD_SAME: of the old file
 * as compared, without its ctime (the file we link must be that file);
 * `cached`: with its ctime, final, as the stat cache records it.
 */
typedef struct FileState {
	uint8_t status;        /* OldStatus */
	bool written;          /* created in the staging tree */
	bool cached;
	bool vouched;          /* the stat cache vouched for the old file */
	uint64_t id;
} FileState;

/* One entry of the new tree placed at the end, in path order. */
typedef enum ItemKind { IT_GEN, IT_CARRY, IT_DIR } ItemKind;

typedef struct Item {
	const char *path;
	ItemKind kind;
	int file;              /* IT_GEN: its number in the file set */
} Item;

/* A generated file on its way to the disk thread, and what came of it. */
typedef struct Job {
	OutFile f;             /* the path is the set's; the bytes are the job's until written */
	int index;             /* its number in the file set */
	FileState st;
} Job;

#define LOOK_SAME 1
#define LOOK_OTHER 2
#define LOOK_BUSY 3            /* being looked at, by either thread */
#define QUEUE 512              /* jobs in flight: about 1 MB of bytes */
#define BATCH 32               /* either thread is woken for this many jobs (or room) */

/*
 * The open folders of the old tree on the way to the folder last looked up,
 * one fd a level, each opened with O_NOFOLLOW. Paths arrive grouped by
 * folder, so a lookup usually costs nothing and a new folder one openat.
 */
typedef struct DirStack {
	int root;              /* not owned; -1: the tree does not exist */
	int n, cap;
	int *fds;              /* fds[k]: the folder path[0..ends[k]) */
	size_t *ends;
	char *path;            /* the folder last looked up: path[0..len) */
	size_t len, pathcap;
	bool valid;            /* path, state and strict describe the last lookup */
	int state;             /* its result: 1 open, 0 absent */
	bool strict;
	bool probe;            /* failures are not the render's: return -1 without fail() */
	char *comp;            /* one component, NUL-terminated */
} DirStack;

typedef struct Writer {
	const FileSet *fs;     /* the set being written, seen at writer_add/end */
	WriterMode mode;
	Arena *a;
	char *err;
	size_t errlen;
	int rc;                /* -1 once something failed: the rest is skipped */
	bool quiet;            /* after the swap: failures are not the render's */
	char *outdir;          /* as given, trailing slashes stripped */
	char *parent, *base;
	char *newname, *oldname, *cachename;  /* folders beside the output folder */
	int parentfd, outfd;
	struct stat outst;     /* the output folder, when it exists */

	/* the manifest: its text, split in place into the owned paths */
	StrBuf oldman;
	bool held;             /* ... by the file set, which shares its paths */
	bool have_manifest;
	bool canonical;        /* byte for byte what we would write for these paths */
	uint64_t manifest_id;  /* its identity(): binds the stat cache to it */
	const char **owned;    /* sorted */
	int nowned;
	uint32_t *oslots;      /* index over owned: position + 1, 0 = empty */
	size_t noslots;

	/* the stat cache as read (NULL: none): entry k describes owned[k] */
	unsigned char *cache;
	int64_t cache_mtime;
	bool cache_keys;       /* written by this very binary: document keys count */
	int vouched, kept;
	int admitted;          /* the file writer_keep last admitted */
	int64_t newest;        /* the newest ctime recorded for the cache */
	/* the units of output the cache records (fileset.c): each its id, key
	 * and files (positions in owned), found by id through uslots */
	int nunits;
	uint64_t *unit_id, *unit_key;
	uint32_t *unit_first, *unit_n, *unit_files;
	uint32_t *uslots;
	size_t nuslots;
	bool units_dirty;      /* a unit was built whose key the cache does not hold */
	/* the files of the unit writer_keep_unit last kept: upos[k] is owned
	 * path k's place in it + 1; uid/usize what its check found */
	uint32_t *upos;
	uint64_t *uid;
	int64_t *usize;
	const char **upaths;
	int nukept, capukept;

	FileState *st;         /* per generated file */
	int nst;
	DirStack old;          /* lookups in the old tree */
	uint32_t *order;       /* file numbers in path order (writer_end) */

	bool walked;           /* the old tree was walked: no symlink, carry known */
	Item *carry;           /* unowned files and empty folders to keep */
	int ncarry, capcarry;
	bool staging;          /* the staging folder exists */
	int newfd, treefd;
	StrBuf made;           /* the staging tree's folder made last */
	const char **stale;
	int nstale;
	char *buf;             /* CHUNK bytes for comparisons and copies */

	/* The disk thread (writer_add, see "Threads" above): a ring of jobs
	 * with one producer and one consumer. `lock` is for sleeping and waking
	 * (wake, room, closing), fail(), and allocation from w->a. */
	bool threaded;
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t wake, room;
	Job *jobs;             /* ring of QUEUE */
	atomic_uint pushed;    /* jobs queued (the producer) */
	atomic_uint finished;  /* jobs done (the disk thread) */
	unsigned harvested;    /* results taken (the producer) */
	atomic_bool sleeping, waiting, closing;
	/* Look-ahead of a render that may keep documents (cache_keys): while
	 * no file waits, the disk thread checks the owned files' identities
	 * against the stat cache, in manifest order, so writer_keep finds the
	 * answer ready. look[k]: 0 not yet, LOOK_SAME (then look_id/look_size
	 * hold its identity without ctime and its size), LOOK_OTHER, LOOK_BUSY.
	 * Whoever moves look[k] from 0 to LOOK_BUSY looks and answers; so
	 * the producer, when it asks first, answers for the look-ahead. */
	_Atomic unsigned char *look;
	uint64_t *look_id;
	int64_t *look_size;
	int looked;            /* the next owned path to look at ... */
	uint32_t *look_order;  /* ... in this order: the recorded units' files first, as the
				* backends will ask for them, then the others; NULL: manifest order */
	DirStack lookds;
	DirStack disk;         /* the disk thread's lookups in the old tree */
	StrBuf mk;             /* stage_mkdirs' scratch */
	StrBuf pre;            /* scratch for path prefixes */
} Writer;

static int fail(Writer *w, const char *fmt, ...) PRINTF_LIKE(2, 3);

/* Records the first error (the message the user sees) and stops the run.
 * Either thread may fail; w->rc is read by both (failed). */
static int fail(Writer *w, const char *fmt, ...)
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

static bool failed(const Writer *w)
{
	return __atomic_load_n(&w->rc, __ATOMIC_ACQUIRE) != 0;
}

/* A string in w->a, which both threads may need for a message. */
static const char *w_sprintf(Writer *w, const char *fmt, ...) PRINTF_LIKE(2, 3);
static const char *w_sprintf(Writer *w, const char *fmt, ...)
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
static const char *disp(Writer *w, const char *rel, size_t n)
{
	if (!n)
		return w->outdir;
	return w_sprintf(w, "%s/%.*s", w->outdir, (int)n, rel);
}

static const char *disp_parent(Writer *w, const char *name)
{
	if (!strcmp(w->parent, "/"))
		return w_sprintf(w, "/%s", name);
	return w_sprintf(w, "%s/%s", w->parent, name);
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

/* ---- small I/O helpers (errno set on failure) ---- */

/* Appends what fd holds to out, filling the room out has before growing it
 * (a buffer sized to the file is not grown just to see its end). */
static int read_all(int fd, StrBuf *out)
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

static int copy_file(Writer *w, int srcdir, const char *name, int dstdir, const char *dstname)
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

/* ---- file identities ---- */

static uint64_t get64(const unsigned char *p)
{
	uint64_t v = 0;
	for (int i = 7; i >= 0; i--)
		v = (v << 8) | p[i];
	return v;
}

static void put64(unsigned char *p, uint64_t v)
{
	for (int i = 0; i < 8; i++, v >>= 8)
		p[i] = (unsigned char)v;
}

static int64_t ns_of(struct timespec t)
{
	return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec;
}

/*
 * What lstat says a file is, in one word: the hash of its dev, inode, size,
 * mtime and (with_ctime) ctime. Equal words mean the same file, unchanged
 * (64-bit collisions aside). Host byte order: the cache is this machine's.
 */
static uint64_t identity(const struct stat *st, bool with_ctime)
{
	uint64_t v[5] = { (uint64_t)st->st_dev, (uint64_t)st->st_ino, (uint64_t)st->st_size,
			  (uint64_t)ns_of(st->st_mtim), with_ctime ? (uint64_t)ns_of(st->st_ctim) : 0 };
	return hash64(v, sizeof v);
}

static void record(Writer *w, FileState *s, const struct stat *st)
{
	s->id = identity(st, true);
	s->cached = true;
	if (ns_of(st->st_ctim) > w->newest)
		w->newest = ns_of(st->st_ctim);
}

/* ---- folder lookups: a stack of open folders ---- */

static void ds_init(DirStack *ds, int root)
{
	memset(ds, 0, sizeof *ds);
	ds->root = root;
}

static void ds_close(DirStack *ds, int keep)
{
	while (ds->n > keep)
		close(ds->fds[--ds->n]);
}

static void ds_free(DirStack *ds)
{
	ds_close(ds, 0);
	free(ds->fds);
	free(ds->ends);
	free(ds->path);
	free(ds->comp);
	ds_init(ds, -1);
}

/* The fd of the folder of the last lookup that returned 1. */
static int ds_fd(const DirStack *ds)
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
static bool owned_has(const Writer *w, const char *path);

#define DS_FAIL(...) (ds->probe ? -1 : fail(w, __VA_ARGS__))

static int ds_seek(Writer *w, DirStack *ds, const char *path, size_t dirlen, bool strict)
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
				bool ours = !strict || owned_has(w, ds->path);
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

static size_t owned_slot(const Writer *w, const char *path)
{
	size_t mask = w->noslots - 1;
	size_t i = (size_t)hash64(path, strlen(path)) & mask;
	while (w->oslots[i] && strcmp(w->owned[w->oslots[i] - 1], path) != 0)
		i = (i + 1) & mask;
	return i;
}

/* The position of path in the manifest, or -1. */
static int owned_find(const Writer *w, const char *path)
{
	if (!w->nowned)
		return -1;
	return (int)w->oslots[owned_slot(w, path)] - 1;
}

static bool owned_has(const Writer *w, const char *path)
{
	return owned_find(w, path) >= 0;
}

/*
 * Reads the manifest, split in place: one NUL-terminated path a line. It
 * is `canonical` when it is exactly what this writer writes for its paths
 * (header, sorted unique paths, one a line), which a render that changes
 * nothing must find.
 */
static int read_manifest(Writer *w)
{
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
	/* 25 MB at 500,000 files: sized to the file, not to a power of two */
	w->oldman.data = xmalloc((size_t)st.st_size + 1);
	w->oldman.cap = (size_t)st.st_size + 1;
	w->oldman.data[0] = 0;
	struct stat after;
	if (fd < 0 || read_all(fd, &w->oldman) != 0 || fstat(fd, &after) != 0) {
		int e = errno;
		if (fd >= 0)
			close(fd);
		return fail(w, "cannot read `%s`: %s", name, strerror(e));
	}
	close(fd);
	w->have_manifest = true;
	/* changed while read: no cache will match it */
	w->manifest_id = identity(&st, true) == identity(&after, true) ? identity(&st, true) : 0;
	char *p = w->oldman.data ? w->oldman.data : "", *end = p + w->oldman.len;
	size_t hl = strlen(MANIFEST_HEADER);
	if ((size_t)(end - p) < hl + 1 || memcmp(p, MANIFEST_HEADER "\n", hl + 1))
		return fail(w, "`%s` is not a platformc manifest (its first line must be `"
			    MANIFEST_HEADER "`): refusing to guess which files platformc owns",
			    name);
	w->canonical = end[-1] == '\n';
	int cap = 0;
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
			return fail(w, "manifest names an unsafe path `%s`: refusing to touch it",
				    arena_strndup(w->a, line, n));
		if (w->nowned && strcmp(w->owned[w->nowned - 1], line) >= 0)
			w->canonical = false;
		if (w->nowned == cap) {
			cap = cap ? cap * 2 : 256;
			w->owned = xrealloc(w->owned, (size_t)cap * sizeof *w->owned);
		}
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
	for (w->noslots = 1024; w->noslots < (size_t)w->nowned * 2; w->noslots *= 2)
		;
	w->oslots = calloc(w->noslots, sizeof *w->oslots);
	if (!w->oslots)
		die_oom();
	for (int i = 0; i < w->nowned; i++)
		w->oslots[owned_slot(w, w->owned[i])] = (uint32_t)i + 1;
	return 0;
}
/* ---- the stat cache (see the top of the file) ---- */

/*
 * This binary, as a word: the hash of /proc/self/exe. Document keys say
 * which trees made a file; the bytes follow from the trees only for the
 * emitter that made them, so keys count only in a cache this same binary
 * wrote. 0: unknown (keys never count).
 */
static uint64_t binary_id(void)
{
	static uint64_t id;
	static bool done;
	if (done)
		return id;
	done = true;
	int fd = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	Hash64 h;
	hash64_begin(&h);
	char buf[CHUNK];
	ssize_t r;
	while ((r = read(fd, buf, sizeof buf)) > 0 || (r < 0 && errno == EINTR))
		if (r > 0)
			hash64_add(&h, buf, (size_t)r);
	close(fd);
	id = r == 0 ? hash64_end(&h) : 0;
	return id;
}

/*
 * Reads the cache of this output folder and manifest, if there is one that
 * is whole. Never an error: anything unexpected means no cache. Lookups go
 * through the same O_NOFOLLOW rules as the tree (a symlink at the cache's
 * name is not read through).
 */
static void load_units(Writer *w, const unsigned char *p, uint64_t nunits, uint64_t nwords);

static void load_cache(Writer *w)
{
	if (w->outfd < 0 || !w->have_manifest || !w->canonical)
		return;
	int dfd = openat(w->parentfd, w->cachename, DIR_FLAGS);
	if (dfd < 0)
		return;
	int fd = openat(dfd, CACHE_FILE, READ_FLAGS);
	close(dfd);
	if (fd < 0)
		return;
	struct stat st;
	size_t head = strlen(CACHE_MAGIC), base = head + 8 * (CACHE_HEAD + (size_t)w->nowned * CACHE_ENTRY + 1);
	size_t want = 0;
	unsigned char *b = NULL;
	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && (size_t)st.st_size >= base &&
	    (size_t)st.st_size % 8 == head % 8) {
		want = (size_t)st.st_size;
		b = xmalloc(want);
		size_t got = 0;
		while (got < want) {
			ssize_t r = read(fd, b + got, want - got);
			if (r < 0 && errno == EINTR)
				continue;
			if (r <= 0)
				break;
			got += (size_t)r;
		}
		const unsigned char *h = b + head;
		if (got != want || memcmp(b, CACHE_MAGIC, head) || get64(b + want - 8) != hash64(b, want - 8) ||
		    get64(h) != (uint64_t)w->outst.st_dev || get64(h + 8) != (uint64_t)w->outst.st_ino ||
		    !w->manifest_id || get64(h + 16) != w->manifest_id || get64(h + 32) != (uint64_t)w->nowned ||
		    get64(h + 48) != (want - base) / 8) {
			free(b);
			b = NULL;
		}
	}
	close(fd);
	if (b) {
		w->cache = b;
		w->cache_mtime = ns_of(st.st_mtim);
		w->cache_keys = binary_id() && get64(b + head + 24) == binary_id();
		if (w->cache_keys)
			load_units(w, b + base - 8, get64(b + head + 40), get64(b + head + 48));
	}
}

static size_t unit_slot(const Writer *w, uint64_t id)
{
	size_t mask = w->nuslots - 1, i = (size_t)id & mask;
	while (w->uslots[i] && w->unit_id[w->uslots[i] - 1] != id)
		i = (i + 1) & mask;
	return i;
}

/*
 * The unit records at p: per unit its id, key, file count, then the files'
 * positions in the manifest. Anything inconsistent (a count past the end, a
 * position past the manifest or in two units, an id twice) drops every unit: the files'
 * entries still count, and every unit is built.
 */
static void load_units(Writer *w, const unsigned char *p, uint64_t nunits, uint64_t nwords)
{
	if (!nunits || nunits > nwords / 3)
		return;
	int n = (int)nunits;
	w->unit_id = xmalloc((size_t)n * sizeof *w->unit_id);
	w->unit_key = xmalloc((size_t)n * sizeof *w->unit_key);
	w->unit_first = xmalloc((size_t)n * sizeof *w->unit_first);
	w->unit_n = xmalloc((size_t)n * sizeof *w->unit_n);
	w->unit_files = xmalloc((size_t)(nwords ? nwords : 1) * sizeof *w->unit_files);
	for (w->nuslots = 1024; w->nuslots < (size_t)n * 2; w->nuslots *= 2)
		;
	w->uslots = calloc(w->nuslots, sizeof *w->uslots);
	if (!w->uslots)
		die_oom();
	uint64_t at = 0, nfiles = 0;
	bool ok = true;
	unsigned char *seen = calloc((size_t)(w->nowned ? w->nowned : 1), 1); /* a file in two units */
	if (!seen)
		die_oom();
	for (int u = 0; u < n && ok; u++) {
		if (nwords - at < 3) {
			ok = false;
			break;
		}
		uint64_t id = get64(p + 8 * at), key = get64(p + 8 * at + 8), cnt = get64(p + 8 * at + 16);
		at += 3;
		if (cnt > nwords - at) {
			ok = false;
			break;
		}
		w->unit_id[u] = id;
		w->unit_key[u] = key;
		w->unit_first[u] = (uint32_t)nfiles;
		w->unit_n[u] = (uint32_t)cnt;
		for (uint64_t j = 0; j < cnt && ok; j++, at++) {
			uint64_t k = get64(p + 8 * at);
			ok = k < (uint64_t)w->nowned && !seen[k];
			if (ok)
				seen[k] = 1;
			w->unit_files[nfiles++] = (uint32_t)k;
		}
		size_t slot = unit_slot(w, id);
		ok = ok && !w->uslots[slot];
		if (ok)
			w->uslots[slot] = (uint32_t)u + 1;
		w->nunits = u + 1;
	}
	free(seen);
	if (!ok || at != nwords) {
		free(w->uslots);
		w->uslots = NULL;
		w->nunits = 0;
	}
}

/*
 * Is the old file (lstat st, of f's size) at generated path f exactly the
 * one the cache recorded, with the bytes f now has, and older than the
 * cache?
 */
/* The cache's entry for path, or NULL. */
static const unsigned char *entry_at(const Writer *w, int k)
{
	return w->cache + strlen(CACHE_MAGIC) + 8 * (CACHE_HEAD + (size_t)k * CACHE_ENTRY);
}

static const unsigned char *cache_entry(const Writer *w, const char *path)
{
	int k = w->cache ? owned_find(w, path) : -1;
	return k < 0 ? NULL : entry_at(w, k);
}

static bool cache_vouches(const Writer *w, const OutFile *f, const struct stat *st)
{
	const unsigned char *e = cache_entry(w, f->path);
	return e && get64(e) == identity(st, true) && get64(e + 8) == f->hash &&
	       ns_of(st->st_ctim) < w->cache_mtime;
}
/* ---- comparing a generated file with the old tree ---- */

/*
 * Compares the old tree's file at `name` in dirfd with f's bytes: the stat
 * cache vouches for it (one fstatat), or its bytes are read. Sets s->status;
 * OLD_SAME also records which file was compared.
 */
static int compare_file(Writer *w, int dirfd, const char *name, const OutFile *f, FileState *s)
{
	struct stat st;
	s->status = OLD_ABSENT;
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
	s->status = OLD_DIFF;
	if ((size_t)st.st_size != f->len)
		return 0;
	bool same = s->vouched = cache_vouches(w, f, &st);
	if (!same) {
		int fd = openat(dirfd, name, READ_FLAGS);
		if (fd < 0)
			return fail(w, "cannot read `%s`: %s", disp(w, f->path, strlen(f->path)),
				    strerror(errno));
		/* Read one byte more than lstat promised: a read that stops short
		 * at the promised size is the end of the file (a file that grew
		 * since lstat would fill the extra byte). */
		size_t off = 0;
		same = true;
		while (same) {
			size_t want = f->len + 1 - off < CHUNK ? f->len + 1 - off : CHUNK;
			ssize_t r = read(fd, w->buf, want);
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
			if ((size_t)r > f->len - off || memcmp(w->buf, f->data + off, (size_t)r))
				same = false;
			off += (size_t)r;
			if (off == f->len && (size_t)r < want)
				break;
		}
		close(fd);
		same = same && off == f->len;
	}
	if (same) {
		s->status = OLD_SAME;
		s->id = identity(&st, false);
	}
	return 0;
}
static void add_carry(Writer *w, const char *path, ItemKind kind)
{
	if (w->ncarry == w->capcarry) {
		w->capcarry = w->capcarry ? w->capcarry * 2 : 64;
		w->carry = xrealloc(w->carry, (size_t)w->capcarry * sizeof *w->carry);
	}
	w->carry[w->ncarry++] = (Item){ .path = w_sprintf(w, "%s", path), .kind = kind, .file = -1 };
}

/*
 * Walks the whole old tree (fd is consumed): refuses symlinks and special
 * files anywhere, and collects what the new tree may carry over — files not
 * owned (those generated after all are dropped at the end), and folders
 * that were empty (a user's; folders emptied because their outputs went
 * away are pruned).
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
			if (!owned_has(w, rel->data))
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

static void write_cache(Writer *w, WriterReport *rep);

/* ---- building the new tree ---- */

typedef struct Stage {
	int treefd;
	StrMap made;           /* folders created so far */
	char *cur;             /* the folder curfd is open on */
	size_t curlen;
	int curfd;
} Stage;


/* Walks the old tree once, before anything is written or reported. */
static int walk(Writer *w)
{
	if (w->walked || w->outfd < 0)
		return failed(w) ? -1 : 0;
	w->walked = true;
	StrBuf rel;
	sb_init(&rel);
	sb_reserve(&rel, 0);
	rel.data[0] = 0;
	int fd = openat(w->outfd, ".", DIR_FLAGS);
	int rc = fd < 0 ? fail(w, "cannot open `%s`: %s", w->outdir, strerror(errno)) : walk_old(w, fd, &rel);
	sb_free(&rel);
	return rc;
}
/* ---- the staging tree ---- */

/*
 * Makes `<parent>/.<base>.platformc-new/tree`, once: after the whole old
 * tree was walked (a symlink anywhere stops the render before any write)
 * and leftovers of ours were removed.
 */
static int start_staging(Writer *w)
{
	if (w->staging)
		return 0;
	if (clean_leftovers(w, true) != 0)
		return -1;
	if (mkdirat(w->parentfd, w->newname, 0777) != 0)
		return fail(w, "cannot create the staging folder `%s`: %s",
			    disp_parent(w, w->newname), strerror(errno));
	w->staging = true;
	w->newfd = openat(w->parentfd, w->newname, DIR_FLAGS);
	if (w->newfd < 0 || create_file(w->newfd, STAGING_MARKER,
					"platformc staging folder: safe to delete\n", 41, 0666) != 0)
		return fail(w, "cannot create the staging folder `%s`: %s",
			    disp_parent(w, w->newname), strerror(errno));
	if (mkdirat(w->newfd, STAGING_TREE, 0777) != 0)
		return fail(w, "cannot create `%s/" STAGING_TREE "`: %s",
			    disp_parent(w, w->newname), strerror(errno));
	w->treefd = openat(w->newfd, STAGING_TREE, DIR_FLAGS);
	if (w->treefd < 0)
		return fail(w, "cannot open `%s/" STAGING_TREE "`: %s",
			    disp_parent(w, w->newname), strerror(errno));
	return 0;
}

/*
 * Makes folder path[0..len) of the staging tree and those above it. The
 * staging tree is ours and only ours (made just now under the marker), so
 * its paths are resolved by the kernel in one call, as they always were.
 */
static int stage_mkdirs(Writer *w, const char *path, size_t len)
{
	const char *made = w->made.data ? w->made.data : "";
	for (size_t j = 1; j <= len; j++) {
		if (j < len && path[j] != '/')
			continue;
		/* the folders above the one made last exist */
		if (j <= w->made.len && (j == w->made.len || made[j] == '/') && !memcmp(made, path, j))
			continue;
		w->mk.len = 0;
		sb_putn(&w->mk, path, j);
		if (mkdirat(w->treefd, w->mk.data, 0777) != 0 && errno != EEXIST)
			return fail(w, errno == ENOTDIR ? "cannot create folder `%s`: a file of the new tree is there (%s)"
							: "cannot create folder `%s`: %s",
				    disp(w, path, j), strerror(errno));
	}
	w->made.len = 0;
	sb_putn(&w->made, path, len);
	return 0;
}

/* Writes generated file i into the staging tree and records its identity. */
static int write_new(Writer *w, const OutFile *f, FileState *s)
{
	const char *path = f->path;
	int fd = openat(w->treefd, path, NEW_FLAGS, 0666);
	if (fd < 0 && errno == ENOENT && dir_len(path)) {
		if (stage_mkdirs(w, path, dir_len(path)) != 0)
			return -1;
		fd = openat(w->treefd, path, NEW_FLAGS, 0666);
	}
	struct stat st;
	int rc = fd < 0 ? -1 : write_all(fd, f->data, f->len);
	if (rc == 0)
		rc = fstat(fd, &st);
	int e = errno;
	/* close reports delayed write errors (NFS, quotas) */
	if (fd >= 0 && close(fd) != 0 && rc == 0)
		rc = -1, e = errno;
	if (rc != 0)
		return fail(w, e == EEXIST ? "internal error: output `%s` is also a folder of other outputs "
				     "(in the staging folder `%s`: %s)"
			    : e == ENOTDIR ? "cannot write `%s`: a file of the new tree is where its folder "
					     "goes (in the staging folder `%s`): %s"
					   : "cannot write `%s` (in the staging folder `%s`): %s",
			    disp(w, path, strlen(path)), disp_parent(w, w->newname), strerror(e));
	s->written = true;
	record(w, s, &st);
	return 0;
}

/* Copies an unchanged file that cannot be linked, and checks that its
 * bytes are still the ones compared (errno ESTALE if not). */
static int copy_checked(Writer *w, int olddir, const char *name, const char *path, const OutFile *f)
{
	if (copy_file(w, olddir, name, w->treefd, path) != 0)
		return -1;
	int fd = openat(w->treefd, path, READ_FLAGS);
	if (fd < 0)
		return -1;
	StrBuf b;
	sb_init(&b);
	int rc = read_all(fd, &b);
	close(fd);
	if (rc == 0 && (b.len != f->len || hash64(b.data, b.len) != f->hash))
		rc = -1, errno = ESTALE;
	sb_free(&b);
	return rc;
}

/* Places an unchanged generated file, a user's file or a user's empty
 * folder in the staging tree. */
static int place_item(Writer *w, const Item *it)
{
	const char *p = it->path, *name = base_name(p);
	size_t dl = dir_len(p);
#define SHOWN disp(w, p, strlen(p))
	if (it->kind == IT_DIR)
		return stage_mkdirs(w, p, strlen(p));
	if (dl && (w->made.len != dl || memcmp(w->made.data, p, dl)) && stage_mkdirs(w, p, dl) != 0)
		return -1;
	int r = ds_seek(w, &w->old, p, dl, false);
	if (r < 0)
		return -1;
	int e = ENOENT;
	if (r == 1 && linkat(ds_fd(&w->old), name, w->treefd, p, 0) == 0) {
		if (it->kind == IT_CARRY)
			return 0;
		/* the file we compared must be the file we linked */
		struct stat st;
		if (fstatat(w->treefd, p, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st.st_mode) &&
		    identity(&st, false) == w->st[it->file].id)
			return 0;
		if (unlinkat(w->treefd, p, 0) != 0)
			return fail(w, "cannot unlink `%s` in the staging folder: %s", SHOWN, strerror(errno));
	} else if (r == 1) {
		e = errno;
	}
	if (it->kind == IT_GEN) {
		if (r == 1 && e != ENOENT && !link_unsupported(e))
			return fail(w, "cannot link `%s` into the new tree: %s", SHOWN, strerror(e));
		/* Its bytes are gone (freed once compared): it can only be copied
		 * from the old tree, and must still be what was compared. */
		if (r == 1 && copy_checked(w, ds_fd(&w->old), name, p, &w->fs->files[it->file]) == 0)
			return 0;
		e = r == 1 ? errno : ENOENT;
		return fail(w, e == ENOENT || e == ESTALE
			    ? "`%s` changed while platformc was rendering; run it again (%s)"
			    : "cannot copy `%s` into the new tree: %s", SHOWN, strerror(e));
	}
	if (r == 1 && link_unsupported(e)) {
		if (copy_file(w, ds_fd(&w->old), name, w->treefd, p) == 0)
			return 0;
		e = errno;
	}
	return fail(w, e == EEXIST ? "cannot carry over `%s` (not platformc's): an output of "
				     "the new tree is in its way (%s)"
				   : "cannot carry over `%s` (not platformc's) into the new tree: %s",
		    SHOWN, strerror(e));
#undef SHOWN
}

static int cmp_item(const void *a, const void *b)
{
	return strcmp(((const Item *)a)->path, ((const Item *)b)->path);
}

/* Writes the manifest into the staging tree, a chunk at a time (it is 25 MB
 * at 500,000 files), and records its identity for the stat cache. */
static int write_manifest(Writer *w)
{
	const FileSet *fs = w->fs;
	int fd = openat(w->treefd, MANIFEST_NAME, NEW_FLAGS, 0666);
	if (fd < 0)
		return -1;
	StrBuf b;
	sb_init(&b);
	sb_puts(&b, MANIFEST_HEADER "\n");
	int rc = 0;
	for (int i = 0; i < fs->n && rc == 0; i++) {
		sb_puts(&b, fs->files[w->order[i]].path);
		sb_putc(&b, '\n');
		if (b.len >= CHUNK) {
			rc = write_all(fd, b.data, b.len);
			b.len = 0;
		}
	}
	if (rc == 0)
		rc = write_all(fd, b.data, b.len);
	sb_free(&b);
	struct stat st;
	if (rc == 0 && fstat(fd, &st) == 0)
		w->manifest_id = identity(&st, true);
	int e = errno;
	/* close reports delayed write errors (NFS, quotas) */
	if (close(fd) != 0 && rc == 0)
		rc = -1, e = errno;
	errno = e;
	return rc;
}

/*
 * Completes the staging tree: unchanged files linked from the old tree,
 * the user's files and empty folders carried over, the manifest last, one
 * syncfs.
 */
static int build_staging(Writer *w)
{
	const FileSet *fs = w->fs;
	int n = 0;
	for (int i = 0; i < fs->n; i++)
		n += !w->st[i].written;
	Item *items = xmalloc((size_t)(n + w->ncarry + 1) * sizeof *items);
	n = 0;
	for (int i = 0; i < fs->n; i++)
		if (!w->st[i].written)
			items[n++] = (Item){ .path = fs->files[i].path, .kind = IT_GEN, .file = i };
	/* a user's file where an output now is gives way to the output */
	for (int i = 0; i < w->ncarry; i++)
		if (w->carry[i].kind == IT_DIR || !fileset_find(fs, w->carry[i].path))
			items[n++] = w->carry[i];
	/* path order: each folder is opened once */
	qsort(items, (size_t)n, sizeof *items, cmp_item);
	ds_free(&w->old);
	ds_init(&w->old, w->outfd);
	int rc = 0;
	for (int i = 0; i < n && rc == 0; i++)
		rc = place_item(w, &items[i]);
	free(items);
	if (rc != 0)
		return -1;
	if (write_manifest(w) != 0)
		return fail(w, "cannot write `%s` (in the staging folder): %s",
			    disp(w, MANIFEST_NAME, strlen(MANIFEST_NAME)), strerror(errno));
	/* everything must be on disk before the swap makes it visible */
	if (syncfs(w->treefd) != 0)
		return fail(w, "cannot flush the new tree of `%s` to disk: %s", w->outdir,
			    strerror(errno));
	return 0;
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
/* ---- the journal: a commit that costs what changed ---- */

/*
 * The folders of the output tree a journal's steps work in, looked up one
 * component at a time with O_NOFOLLOW (a symlink is refused) and made when
 * `create` and missing. The folder last returned stays open: paths come
 * grouped by folder.
 */
typedef struct OutDir {
	int root;              /* the output folder; not owned */
	int fd;                /* the folder `path` names, when it is not the root */
	StrBuf path, comp;
	bool have;
} OutDir;

static void od_init(OutDir *od, int root)
{
	memset(od, 0, sizeof *od);
	od->root = root;
	od->fd = -1;
	sb_init(&od->path);
	sb_init(&od->comp);
}

static void od_forget(OutDir *od)
{
	close_fd(&od->fd);
	od->have = false;
}

static void od_free(OutDir *od)
{
	od_forget(od);
	sb_free(&od->path);
	sb_free(&od->comp);
}

/* The fd of folder p[0..len) of the output tree; -1 when it is absent (and
 * not `create`), -2 on an error (reported). */
static int od_open(Writer *w, OutDir *od, const char *p, size_t len, bool create)
{
	if (od->have && od->path.len == len && !memcmp(od->path.data, p, len))
		return len ? od->fd : od->root;
	od_forget(od);
	int at = od->root;
	for (size_t i = 0; i < len;) {
		size_t j = i;
		while (j < len && p[j] != '/')
			j++;
		od->comp.len = 0;
		sb_putn(&od->comp, p + i, j - i);
		int fd = openat(at, od->comp.data, DIR_FLAGS);
		if (fd < 0 && errno == ENOENT && create &&
		    (mkdirat(at, od->comp.data, 0777) == 0 || errno == EEXIST))
			fd = openat(at, od->comp.data, DIR_FLAGS);
		if (fd < 0) {
			int e = errno;
			struct stat st;
			bool link = e == ELOOP || (e == ENOTDIR && fstatat(at, od->comp.data, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
						    S_ISLNK(st.st_mode));
			if (at != od->root)
				close(at);
			if (e == ENOENT && !create)
				return -1;
			if (link)
				fail(w, "`%s` is a symlink; refusing to follow it", disp(w, p, j));
			else if (e == ENOTDIR)
				fail(w, "`%s` is in the way of the output folder `%s`: it is not a folder",
				     disp(w, p, j), disp(w, p, len));
			else
				fail(w, "cannot open `%s`: %s", disp(w, p, j), strerror(e));
			return -2;
		}
		if (at != od->root)
			close(at);
		at = fd;
		i = j + 1;
	}
	od->path.len = 0;
	sb_putn(&od->path, p, len);
	od->fd = len ? at : -1;
	od->have = true;
	return at;
}

/*
 * Reads the journal of the staging folder newfd. 1: a whole one (its last
 * line is `# end <hash of all before it>`), in *out; 0: none, or one cut
 * short (written before the commit point: nothing of it was applied).
 */
static int read_journal(int newfd, StrBuf *out)
{
	int fd = openat(newfd, JOURNAL_FILE, READ_FLAGS);
	if (fd < 0)
		return 0;
	struct stat st;
	int rc = fstat(fd, &st) == 0 && S_ISREG(st.st_mode) ? read_all(fd, out) : -1;
	close(fd);
	size_t hl = strlen(JOURNAL_HEADER), el = strlen(JOURNAL_END) + 17;
	if (rc != 0 || out->len < hl + el || memcmp(out->data, JOURNAL_HEADER, hl) ||
	    memcmp(out->data + out->len - el, JOURNAL_END, strlen(JOURNAL_END)) || out->data[out->len - 1] != '\n')
		return 0;
	char want[17];
	snprintf(want, sizeof want, "%016llx", (unsigned long long)hash64(out->data, out->len - el));
	if (memcmp(out->data + out->len - 17, want, 16))
		return 0;
	out->len -= el;
	out->data[out->len] = 0;
	return 1;
}

/* Removes the folders above stale path p that its removal left empty, the
 * deepest first; the first that is not empty (or not there) ends it. */
static int prune(Writer *w, OutDir *od, const char *p)
{
	for (size_t len = dir_len(p); len;) {
		size_t up = 0; /* the folder above p[0..len) is p[0..up) */
		for (size_t i = 0; i < len; i++)
			if (p[i] == '/')
				up = i;
		int dfd = od_open(w, od, p, up, false);
		if (dfd < 0)
			return dfd == -2 ? -1 : 0;
		size_t start = up ? up + 1 : 0;
		od->comp.len = 0;
		sb_putn(&od->comp, p + start, len - start);
		if (unlinkat(dfd, od->comp.data, AT_REMOVEDIR) != 0)
			return 0;
		len = up;
	}
	return 0;
}

/*
 * Applies a journal (its lines after the header, NUL-terminated text,
 * split in place): `R <path>` moves the staged file into place (its folders
 * made as needed), `D <path>` removes a stale file and then the folders it
 * leaves empty, `M` moves the staged manifest into place. Every step can be
 * applied again: a move whose staged file is gone was done, a removal of a
 * file that is gone too. treefd < 0: the staging tree is gone (every move
 * was done). Then one syncfs of the output tree.
 */
static int apply_journal(Writer *w, int outfd, int treefd, char *text)
{
	OutDir od;
	od_init(&od, outfd);
	const char **stale = NULL;
	int nstale = 0, cap = 0, rc = 0;
	char *p = text + strlen(JOURNAL_HEADER);
	while (*p && rc == 0) {
		char *nl = strchr(p, '\n');
		if (!nl)
			break;
		*nl = 0;
		char *line = p;
		char op = line[0];
		size_t n = (size_t)(nl - line);
		const char *path = line + (n > 2 ? 2 : n);
		p = nl + 1;
		if (op == 'M' && n == 1) {
			if (treefd >= 0 && renameat(treefd, MANIFEST_NAME, outfd, MANIFEST_NAME) != 0 && errno != ENOENT)
				rc = fail(w, "cannot move `%s` into place: %s",
					  disp(w, MANIFEST_NAME, strlen(MANIFEST_NAME)), strerror(errno));
			continue;
		}
		if ((op != 'R' && op != 'D') || n < 3 || line[1] != ' ' || !rel_path_is_safe(path)) {
			rc = fail(w, "the journal of `%s` names an unsafe step `%s`: refusing to apply it",
				  w->outdir, w_sprintf(w, "%s", line));
			break;
		}
		size_t dl = dir_len(path);
		if (op == 'R') {
			if (treefd < 0)
				continue;
			struct stat st;
			if (fstatat(treefd, path, &st, AT_SYMLINK_NOFOLLOW) != 0 && errno == ENOENT)
				continue; /* moved already */
			int dfd = od_open(w, &od, path, dl, true);
			if (dfd < 0) {
				rc = -1;
			} else if (renameat(treefd, path, dfd, base_name(path)) != 0 && errno != ENOENT) {
				rc = fail(w, errno == EISDIR || errno == ENOTEMPTY || errno == EEXIST
					  ? "cannot move `%s` into place: a folder is in its way (%s)"
					  : "cannot move `%s` into place: %s",
					  disp(w, path, strlen(path)), strerror(errno));
			}
		} else {
			int dfd = od_open(w, &od, path, dl, false);
			if (dfd == -2)
				rc = -1;
			else if (dfd >= 0 && unlinkat(dfd, base_name(path), 0) != 0 && errno != ENOENT &&
				 errno != EISDIR && errno != EPERM)
				rc = fail(w, "cannot remove the stale file `%s`: %s", disp(w, path, strlen(path)),
					  strerror(errno));
			if (rc == 0 && dl) {
				if (nstale == cap) {
					cap = cap ? cap * 2 : 64;
					stale = xrealloc(stale, (size_t)cap * sizeof *stale);
				}
				stale[nstale++] = path;
			}
		}
	}
	/* the deepest folders first: their parents may empty out in turn */
	for (int k = nstale - 1; k >= 0 && rc == 0; k--) {
		od_forget(&od);
		rc = prune(w, &od, stale[k]);
		od_forget(&od);
	}
	free(stale);
	od_free(&od);
	if (rc == 0 && syncfs(outfd) != 0)
		rc = fail(w, "cannot flush `%s` to disk: %s", w->outdir, strerror(errno));
	return rc;
}

/*
 * Finishes the render a journal left half-applied, before anything else
 * reads the output folder (a write-mode session; a check-mode one refuses
 * while it is pending). A journal cut short was never the commit: its
 * staging folder is a leftover like any other.
 */
static int recover_journal(Writer *w)
{
	StagingState s;
	if (staging_state(w->parentfd, w->newname, &s) != 0 || s != STG_OURS)
		return 0;
	int newfd = openat(w->parentfd, w->newname, DIR_FLAGS);
	if (newfd < 0)
		return 0;
	StrBuf j;
	sb_init(&j);
	int rc = 0;
	if (read_journal(newfd, &j) != 1) {
	} else if (w->mode == WR_CHECK) {
		rc = fail(w, "`%s` is part old, part new: a render into it was interrupted while it moved "
			  "its files into place (its journal is `%s/" JOURNAL_FILE "`); run `platformc "
			  "render <platform.yaml> -o %s` to finish it first",
			  w->outdir, disp_parent(w, w->newname), w->outdir);
	} else {
		int outfd = openat(w->parentfd, w->base, DIR_FLAGS);
		int treefd = openat(newfd, STAGING_TREE, DIR_FLAGS);
		if (outfd < 0)
			rc = fail(w, "cannot finish the interrupted render of `%s`: %s", w->outdir, strerror(errno));
		else if (apply_journal(w, outfd, treefd, j.data) != 0)
			rc = -1;
		else if (unlinkat(newfd, JOURNAL_FILE, 0) != 0 || fsync(newfd) != 0)
			rc = fail(w, "cannot remove the journal `%s/" JOURNAL_FILE "`: %s",
				  disp_parent(w, w->newname), strerror(errno));
		close_fd(&treefd);
		close_fd(&outfd);
		if (rc == 0)
			remove_staging(w->parentfd, w->newname);
	}
	sb_free(&j);
	close(newfd);
	return rc;
}

/*
 * Can the staged files be moved into the existing output tree one by one?
 * Not when a generated file takes the place of a folder, or a folder that
 * of a file (an owned file in the way, which the whole-tree swap removes
 * first). 1 yes, 0 no, -1 an error (reported).
 */
static int journal_fits(Writer *w)
{
	const FileSet *fs = w->fs;
	DirStack *ds = &w->old;
	for (int i = 0; i < fs->n; i++) {
		if (!w->st[i].written || w->st[i].status != OLD_ABSENT)
			continue;
		const char *p = fs->files[i].path;
		size_t dl = dir_len(p);
		int r = ds_seek(w, ds, p, dl, true);
		if (r < 0)
			return -1;
		/* the first missing component, or the file itself */
		size_t from = r == 1 ? (dl ? dl + 1 : 0) : ds->n ? ds->ends[ds->n - 1] + 1 : 0, to = from;
		while (p[to] && p[to] != '/')
			to++;
		w->pre.len = 0;
		sb_putn(&w->pre, p + from, to - from);
		struct stat st;
		if (fstatat(ds_fd(ds), w->pre.data, &st, AT_SYMLINK_NOFOLLOW) == 0 || errno != ENOENT)
			return 0;
	}
	return 1;
}

/*
 * Commits the render with a journal: O(changed files). The changed files
 * are already in the staging tree; the new manifest joins them when the
 * paths changed; one syncfs. Then the journal (the moves and removals to
 * make, and a hash of them as its last line) is written and fsynced: that
 * is the commit point. Its steps are applied, the output tree synced, and
 * the journal and the staging folder removed. A failure after the commit
 * point leaves the journal for the next render to finish.
 */
static int commit_journal(Writer *w, WriterReport *rep, bool same_manifest)
{
	const FileSet *fs = w->fs;
	if (!same_manifest && write_manifest(w) != 0)
		return fail(w, "cannot write `%s` (in the staging folder): %s",
			    disp(w, MANIFEST_NAME, strlen(MANIFEST_NAME)), strerror(errno));
	StrBuf j;
	sb_init(&j);
	sb_puts(&j, JOURNAL_HEADER);
	for (int k = 0; k < fs->n; k++) {
		int i = (int)w->order[k];
		FileState *s = &w->st[i];
		const char *p = fs->files[i].path;
		if (s->written) {
			/* moving it sets its ctime: the cache records it once moved */
			struct stat st;
			if (fstatat(w->treefd, p, &st, AT_SYMLINK_NOFOLLOW) != 0) {
				sb_free(&j);
				return fail(w, "cannot inspect `%s` in the staging folder: %s", disp(w, p, strlen(p)),
					    strerror(errno));
			}
			s->id = identity(&st, false);
			s->cached = false;
			sb_puts(&j, "R ");
			sb_puts(&j, p);
			sb_putc(&j, '\n');
		} else if (s->status == OLD_SAME && s->vouched && w->cache) {
			/* untouched, and the old cache's entry proved it: still true */
			int o = owned_find(w, p);
			if (o >= 0) {
				s->id = get64(entry_at(w, o));
				s->cached = true;
			}
		}
	}
	for (int k = 0; k < w->nstale; k++) {
		sb_puts(&j, "D ");
		sb_puts(&j, w->stale[k]);
		sb_putc(&j, '\n');
	}
	if (!same_manifest)
		sb_puts(&j, "M\n");
	size_t body = j.len;
	char end[40];
	snprintf(end, sizeof end, JOURNAL_END "%016llx\n", (unsigned long long)hash64(j.data, j.len));
	sb_puts(&j, end);
	/* the staged files first, then the journal that points at them */
	int rc = 0;
	if (syncfs(w->treefd) != 0) {
		rc = fail(w, "cannot flush the changed files of `%s` to disk: %s", w->outdir, strerror(errno));
	} else {
		int fd = openat(w->newfd, JOURNAL_FILE, NEW_FLAGS, 0666);
		int r = fd < 0 ? -1 : write_all(fd, j.data, j.len);
		if (r == 0)
			r = fsync(fd);
		int e = errno;
		if (fd >= 0 && close(fd) != 0 && r == 0)
			r = -1, e = errno;
		if (r == 0 && fsync(w->newfd) != 0)
			r = -1, e = errno;
		if (r != 0) {
			unlinkat(w->newfd, JOURNAL_FILE, 0);
			rc = fail(w, "cannot write the journal `%s/" JOURNAL_FILE "`: %s",
				  disp_parent(w, w->newname), strerror(e));
		}
	}
	if (rc != 0) {
		sb_free(&j);
		return -1;
	}
	/* committed: from here on the render is finished, now or by the next one */
	j.len = body;
	j.data[body] = 0;
	rc = apply_journal(w, w->outfd, w->treefd, j.data);
	sb_free(&j);
	if (rc != 0) {
		/* keep the staging folder and its journal for the next render */
		close_fd(&w->treefd);
		close_fd(&w->newfd);
		w->staging = false;
		pthread_mutex_lock(&w->lock);
		size_t n = w->err ? strlen(w->err) : 0;
		if (w->err && n + 1 < w->errlen)
			snprintf(w->err + n, w->errlen - n, " (the render stopped half-way: the next "
				 "`platformc render` into `%s` finishes it)", w->outdir);
		pthread_mutex_unlock(&w->lock);
		return -1;
	}
	if (unlinkat(w->newfd, JOURNAL_FILE, 0) == 0)
		fsync(w->newfd);
	close_fd(&w->treefd);
	close_fd(&w->newfd);
	remove_staging(w->parentfd, w->newname);
	w->staging = false;
	if (!same_manifest) {
		struct stat st;
		w->manifest_id = 0; /* no cache of a manifest we cannot see */
		if (fstatat(w->outfd, MANIFEST_NAME, &st, AT_SYMLINK_NOFOLLOW) == 0) {
			w->manifest_id = identity(&st, true);
			if (ns_of(st.st_ctim) > w->newest)
				w->newest = ns_of(st.st_ctim);
		}
	}
	write_cache(w, rep);
	return 0;
}

/*
 * How this render commits: 1 with a journal, 0 with the whole-tree swap, -1
 * on an error. The swap when there is no output folder yet (the staged tree
 * is all of it: one rename), when a file takes a folder's place or the
 * reverse, when the staging folder is on another file system, and when more
 * than half of the files change: a render that rewrites most of the tree
 * pays O(files) either way, and the swap then also shows other programs
 * the old tree or the new one at every instant. PLATFORMC_COMMIT=swap or
 * =journal (tests) forces one where both can work.
 */
static int use_journal(Writer *w)
{
	const char *force = getenv("PLATFORMC_COMMIT");
	if (w->outfd < 0 || (force && !strcmp(force, "swap")))
		return 0;
	long written = 0, total = w->fs->n > w->nowned ? w->fs->n : w->nowned;
	for (int i = 0; i < w->fs->n; i++)
		written += w->st[i].written;
	if (!(force && !strcmp(force, "journal")) && (written + w->nstale) * 2 > total)
		return 0;
	if (start_staging(w) != 0)
		return -1;
	struct stat st;
	if (fstat(w->treefd, &st) != 0 || st.st_dev != w->outst.st_dev)
		return 0;
	return journal_fits(w);
}

/* ---- after the swap: the stat cache ---- */

static void warn(Writer *w, WriterReport *rep, const char *what, int e)
{
	if (rep->warning)
		return;
	const char *shown = disp_parent(w, w->cachename);
	size_t n = strlen(shown) + strlen(what) + 160;
	rep->warning = xmalloc(n);
	snprintf(rep->warning, n, "cannot save the stat cache `%s` (%s: %s); the next render "
		 "reads every file back", shown, what, strerror(e));
}

/*
 * Records the identity of every file of the new tree: written files have
 * theirs since they were written; linked files got a new ctime when the old
 * tree's links were deleted, so they are looked at now.
 */
static int restat_linked(Writer *w, int outfd)
{
	const FileSet *fs = w->fs;
	DirStack ds;
	ds_init(&ds, outfd);
	int rc = 0;
	for (int k = 0; k < fs->n && rc == 0; k++) {
		int i = (int)w->order[k];
		FileState *s = &w->st[i];
		if (s->cached)
			continue;
		const char *p = fs->files[i].path;
		struct stat st;
		int r = ds_seek(w, &ds, p, dir_len(p), false);
		if (r < 0) {
			rc = -1;
		} else if (r == 1 && fstatat(ds_fd(&ds), base_name(p), &st, AT_SYMLINK_NOFOLLOW) == 0 &&
			   S_ISREG(st.st_mode) && identity(&st, false) == s->id) {
			record(w, s, &st);
		}
		/* otherwise it changed under us: not recorded, read next time */
	}
	ds_free(&ds);
	return rc;
}

/*
 * Writes `<parent>/.<base>.platformc-cache/stat`: a text line, then 64-bit
 * little-endian words — the output folder's dev and inode, the manifest's
 * identity, this binary's, the count, then per path of the manifest (in its
 * order) the file's identity(), the hash of its bytes and its document key
 * — then per unit of output (fileset.c) its id, key, file count and its
 * files' positions in the manifest, and last the hash64 of all that: about
 * 32 bytes a file. Dated after the
 * newest ctime it records (see the top of the file).
 */
static void write_cache(Writer *w, WriterReport *rep)
{
	int outfd = openat(w->parentfd, w->base, DIR_FLAGS);
	struct stat ost;
	if (outfd < 0 || fstat(outfd, &ost) != 0) {
		warn(w, rep, "the output folder", errno);
		close_fd(&outfd);
		return;
	}
	w->quiet = true; /* the render is done: nothing here is its error */
	int rc = restat_linked(w, outfd);
	w->quiet = false;
	close(outfd);
	if (rc != 0) {
		warn(w, rep, "the new tree", errno);
		return;
	}
	if (mkdirat(w->parentfd, w->cachename, 0777) != 0 && errno != EEXIST) {
		warn(w, rep, "mkdir", errno);
		return;
	}
	int dfd = openat(w->parentfd, w->cachename, DIR_FLAGS);
	if (dfd < 0) {
		warn(w, rep, "not a folder of platformc's", errno);
		return;
	}
	int fd = openat(dfd, ".gitignore", NEW_FLAGS, 0666);
	if (fd >= 0) {
		rc = write_all(fd, "*\n", 2);
		int e = errno;
		if (close(fd) != 0 && rc == 0)
			rc = -1, e = errno;
		if (rc != 0) {
			unlinkat(dfd, ".gitignore", 0);
			warn(w, rep, ".gitignore", e);
			close(dfd);
			return;
		}
	}
	unlinkat(dfd, CACHE_TMP, 0); /* a leftover of an interrupted render */
	fd = openat(dfd, CACHE_TMP, NEW_FLAGS, 0666);
	if (fd < 0) {
		warn(w, rep, CACHE_TMP, errno);
		close(dfd);
		return;
	}
	const FileSet *fs = w->fs;
	/* the units: a file's position in the new manifest is its place in
	 * path order (w->order's inverse) */
	size_t uwords = 0;
	for (int u = 0; u < fs->nounits; u++)
		uwords += 3 + (size_t)fs->ounits[u].n;
	uint32_t *pos = xmalloc((size_t)(fs->n ? fs->n : 1) * sizeof *pos);
	for (int k = 0; k < fs->n; k++)
		pos[w->order[k]] = (uint32_t)k;
	size_t head = strlen(CACHE_MAGIC), len = head + 8 * (CACHE_HEAD + (size_t)fs->n * CACHE_ENTRY + uwords + 1);
	unsigned char *buf = xmalloc(len), *p = buf + head;
	memcpy(buf, CACHE_MAGIC, head);
	uint64_t words[CACHE_HEAD] = { (uint64_t)ost.st_dev, (uint64_t)ost.st_ino, w->manifest_id,
				       binary_id(), (uint64_t)fs->n, (uint64_t)fs->nounits, uwords };
	for (int i = 0; i < CACHE_HEAD; i++, p += 8)
		put64(p, words[i]);
	for (int k = 0; k < fs->n; k++, p += 8 * CACHE_ENTRY) {
		const FileState *s = &w->st[w->order[k]];
		const OutFile *f = &fs->files[w->order[k]];
		/* a file not recorded: identity 0, which no file has */
		put64(p, s->cached ? s->id : 0);
		put64(p + 8, f->hash);
		put64(p + 16, f->key);
	}
	for (int u = 0; u < fs->nounits; u++) {
		const OutUnit *ou = &fs->ounits[u];
		put64(p, ou->id), put64(p + 8, ou->key), put64(p + 16, (uint64_t)ou->n);
		p += 24;
		for (int j = 0; j < ou->n; j++, p += 8)
			put64(p, pos[ou->first + j]);
	}
	free(pos);
	put64(p, hash64(buf, len - 8));
	rc = write_all(fd, (const char *)buf, len);
	free(buf);
	/* date it after every ctime it records: wait for the clock's next tick */
	struct stat cst;
	for (int tries = 0; rc == 0 && tries < 200; tries++) {
		rc = fstat(fd, &cst);
		if (rc != 0 || ns_of(cst.st_mtim) > w->newest)
			break;
		struct timespec ts = { 0, 1000 * 1000 };
		nanosleep(&ts, NULL);
		rc = futimens(fd, NULL);
	}
	int e = errno;
	if (close(fd) != 0 && rc == 0)
		rc = -1, e = errno;
	if (rc == 0 && renameat(dfd, CACHE_TMP, dfd, CACHE_FILE) != 0)
		rc = -1, e = errno;
	if (rc != 0) {
		unlinkat(dfd, CACHE_TMP, 0);
		warn(w, rep, CACHE_FILE, e);
	}
	close(dfd);
}
/* ---- the session ---- */

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
	w->cachename = arena_sprintf(w->a, ".%s.platformc-cache", w->base);
	return 0;
}

static int open_outdir(Writer *w)
{
	w->parentfd = open(w->parent, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (w->parentfd < 0)
		return fail(w, errno == ENOENT ? "the folder `%s` that should hold the output "
						 "folder `%s` does not exist"
					       : "cannot open the folder `%s` that holds `%s`: %s",
			    w->parent, w->outdir, strerror(errno));
	if ((w->mode == WR_WRITE && recover_old_tree(w) != 0) || recover_journal(w) != 0)
		return -1;
	struct stat *st = &w->outst;
	if (fstatat(w->parentfd, w->base, st, AT_SYMLINK_NOFOLLOW) != 0) {
		if (errno != ENOENT)
			return fail(w, "cannot inspect `%s`: %s", w->outdir, strerror(errno));
	} else if (S_ISLNK(st->st_mode)) {
		return fail(w, "output folder `%s` is a symlink; refusing to follow it", w->outdir);
	} else if (!S_ISDIR(st->st_mode)) {
		return fail(w, "output folder `%s` exists and is not a folder", w->outdir);
	} else if ((w->outfd = openat(w->parentfd, w->base, DIR_FLAGS)) < 0) {
		return fail(w, "cannot open `%s`: %s", w->outdir, strerror(errno));
	} else if (fstat(w->outfd, st) != 0) {
		return fail(w, "cannot inspect `%s`: %s", w->outdir, strerror(errno));
	}
	return 0;
}

/* The manifest's copy of path, shared with the file set that holds it. */
static const char *writer_intern(void *ctx, const char *path)
{
	Writer *w = ctx;
	int k = w->held ? owned_find(w, path) : -1;
	return k >= 0 ? w->owned[k] : NULL;
}

static void disk_start(Writer *w);
static void disk_stop(Writer *w);

Writer *writer_begin(FileSet *fs, const char *outdir, WriterMode mode, char *err, size_t errlen)
{
	if (err && errlen)
		err[0] = 0;
	Writer *w = xmalloc(sizeof *w);
	*w = (Writer){ .mode = mode, .a = arena_new(), .err = err, .errlen = errlen, .parentfd = -1,
		       .outfd = -1, .newfd = -1, .treefd = -1 };
	pthread_mutex_init(&w->lock, NULL);
	pthread_cond_init(&w->wake, NULL);
	pthread_cond_init(&w->room, NULL);
	sb_init(&w->oldman);
	sb_init(&w->pre);
	w->buf = xmalloc(CHUNK);
	if (split_outdir(w, outdir) == 0 && open_outdir(w) == 0 && read_manifest(w) == 0)
		load_cache(w);
	ds_init(&w->old, w->outfd);
	/* writer_keep's lookups report nothing: what is wrong in the old tree
	 * is found again, and reported, by writer_add, in the order files come
	 * (on the disk thread or not), so the error is the same either way */
	w->old.probe = true;
	ds_init(&w->disk, w->outfd);
	sb_init(&w->made);
	sb_init(&w->mk);
	if (fs && w->rc == 0) {
		if (w->oldman.data) {
			fileset_hold(fs, w->oldman.data);
			w->held = true;
		}
		fileset_set_sink(fs, &(FileSink){ .add = writer_add, .keep = writer_keep,
						  .keep_unit = writer_keep_unit, .intern = writer_intern,
						  .ctx = w });
		disk_start(w);
	}
	return w;
}

/*
 * For verbs that read the output folder without a session (diff): false,
 * or true with the message in err when a render into it is half-applied
 * (a journal is pending; recover_journal).
 */
bool writer_pending(const char *outdir, char *err, size_t errlen)
{
	if (err && errlen)
		err[0] = 0;
	Writer *w = xmalloc(sizeof *w);
	*w = (Writer){ .mode = WR_CHECK, .a = arena_new(), .err = err, .errlen = errlen, .parentfd = -1,
		       .outfd = -1, .newfd = -1, .treefd = -1 };
	pthread_mutex_init(&w->lock, NULL);
	bool pending = false;
	if (split_outdir(w, outdir) == 0 &&
	    (w->parentfd = open(w->parent, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) >= 0)
		pending = recover_journal(w) != 0;
	if (!pending && err && errlen)
		err[0] = 0;
	close_fd(&w->parentfd);
	pthread_mutex_destroy(&w->lock);
	arena_free(w->a);
	free(w);
	return pending;
}

bool writer_failed(const Writer *w)
{
	return failed(w);
}

/* The cache's answers and unit records, once no file is to come. */
static void free_lookups(Writer *w)
{
	free((void *)w->look);
	free(w->look_id);
	free(w->look_size);
	free(w->look_order);
	free(w->unit_id);
	free(w->unit_key);
	free(w->unit_first);
	free(w->unit_n);
	free(w->unit_files);
	free(w->uslots);
	free(w->upos);
	free(w->uid);
	free(w->usize);
	free(w->upaths);
	w->look = NULL, w->look_id = NULL, w->look_size = NULL, w->look_order = NULL;
	w->unit_id = w->unit_key = NULL;
	w->unit_first = w->unit_n = w->unit_files = w->uslots = w->upos = NULL;
	w->uid = NULL, w->usize = NULL, w->upaths = NULL;
	w->nunits = 0;
}

static void writer_free(Writer *w)
{
	disk_stop(w);
	ds_free(&w->old);
	ds_free(&w->disk);
	ds_free(&w->lookds);
	sb_free(&w->mk);
	free(w->jobs);
	free_lookups(w);
	pthread_cond_destroy(&w->wake);
	pthread_cond_destroy(&w->room);
	pthread_mutex_destroy(&w->lock);
	sb_free(&w->made);
	close_fd(&w->treefd);
	close_fd(&w->newfd);
	close_fd(&w->outfd);
	close_fd(&w->parentfd);
	free(w->buf);
	free(w->st);
	free(w->order);
	free(w->owned);
	free(w->oslots);
	free(w->cache);
	free(w->stale);
	free(w->carry);
	if (!w->held)
		sb_free(&w->oldman);
	sb_free(&w->pre);
	arena_free(w->a);
	free(w);
}

/* Checks a new output's path and makes room for its state. */
static void make_room(Writer *w, int i)
{
	if (i >= w->nst) {
		int cap = w->nst ? w->nst : 1024;
		while (cap <= i)
			cap *= 2;
		w->st = xrealloc(w->st, (size_t)cap * sizeof *w->st);
		memset(w->st + w->nst, 0, (size_t)(cap - w->nst) * sizeof *w->st);
		w->nst = cap;
	}
}

static int admit(Writer *w, const FileSet *fs, int i)
{
	w->fs = fs;
	if (failed(w))
		return -1;
	if (w->admitted == i + 1)
		return 0;
	make_room(w, i);
	const char *p = fs->files[i].path;
	if (!rel_path_is_safe(p))
		return fail(w, "internal error: output path `%s` cannot be written", p);
	/* a file where an earlier output needs a folder (the converse shows
	 * when writing, or at the end) */
	for (const char *sl = strchr(p, '/'); sl; sl = strchr(sl + 1, '/')) {
		w->pre.len = 0;
		sb_putn(&w->pre, p, (size_t)(sl - p));
		if (fileset_find(fs, w->pre.data))
			return fail(w, "internal error: outputs `%s` and `%s` clash: `%s` cannot be both "
				    "a file and a folder", w->pre.data, p, w->pre.data);
	}
	w->admitted = i + 1;
	return 0;
}

/*
 * Before a document is emitted: keeps it when the cache says the file on
 * disk was made by this binary from trees with the same key and is
 * untouched since (the same identity rule as cache_vouches). Then it is
 * never emitted; its length and hash are the file's.
 */
/*
 * Is the old tree's file at path (owned) the one cache entry e describes,
 * untouched since (the identity rule of cache_vouches)? Then *id is its
 * identity without ctime and *size its size.
 */
static bool cache_match(Writer *w, DirStack *ds, const char *path, const unsigned char *e, uint64_t *id,
			int64_t *size)
{
	struct stat st;
	if (ds_seek(w, ds, path, dir_len(path), true) != 1 ||
	    fstatat(ds_fd(ds), base_name(path), &st, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISREG(st.st_mode) ||
	    get64(e) != identity(&st, true) || ns_of(st.st_ctim) >= w->cache_mtime)
		return false;
	*id = identity(&st, false);
	*size = st.st_size;
	return true;
}

/*
 * The producer's question: is owned file k (cache entry e) the one the
 * cache recorded? The look-ahead's answer, or the producer's own look,
 * which it then answers for the look-ahead (see `look` in Writer).
 */
static bool looked_same(Writer *w, int k, const unsigned char *e, uint64_t *id, int64_t *size)
{
	if (!w->look)
		return cache_match(w, &w->old, w->owned[k], e, id, size);
	unsigned char v = 0;
	if (atomic_compare_exchange_strong(&w->look[k], &v, LOOK_BUSY)) {
		bool same = cache_match(w, &w->old, w->owned[k], e, id, size);
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
	return cache_match(w, &w->old, w->owned[k], e, id, size); /* the look-ahead is at it */
}

bool writer_keep(void *ctx, const FileSet *fs, int i, size_t *len, uint64_t *hash)
{
	Writer *w = ctx;
	const OutFile *f = &fs->files[i];
	int k = w->cache && w->cache_keys ? owned_find(w, f->path) : -1;
	const unsigned char *e = k < 0 ? NULL : entry_at(w, k);
	uint64_t id;
	int64_t size;
	if (e && w->upos && w->upos[k]) {
		/* a file of the unit writer_keep_unit just kept: checked there;
		 * a path of the manifest, written nowhere (check_outputs, at the
		 * end, still sees any clash with another output) */
		w->fs = fs;
		make_room(w, i);
		uint32_t j = w->upos[k] - 1;
		w->upos[k] = 0;
		id = w->uid[j], size = w->usize[j];
		goto kept;
	}
	if (admit(w, fs, i) != 0 || !w->cache_keys || !e || !f->key || get64(e + 16) != f->key)
		return false;
	if (!looked_same(w, k, e, &id, &size))
		return false; /* writer_add looks again, and reports what is wrong */
kept:;
	FileState *s = &w->st[i];
	s->status = OLD_SAME;
	s->vouched = true;
	s->id = id;
	w->vouched++;
	w->kept++;
	*len = (size_t)size;
	*hash = get64(e + 8);
	return true;
}

/*
 * May a unit of output (fileset.c) whose inputs hash to `key` stay as it is
 * on disk? Yes when the cache, written by this binary, records the unit
 * with that key and vouches for each of its files (the rule of
 * writer_keep). Then *paths are its files (the manifest's strings, in the
 * order they were made) and their count is returned; the file set adds
 * each one and asks writer_keep, which takes them without a second look.
 * -1: build the unit.
 */
int writer_keep_unit(void *ctx, const FileSet *fs, uint64_t id, uint64_t key, const char *const **paths)
{
	Writer *w = ctx;
	w->fs = fs;
	if (failed(w) || !w->cache_keys)
		return -1;
	uint32_t u = w->uslots ? w->uslots[unit_slot(w, id)] : 0;
	if (!u || w->unit_key[u - 1] != key) {
		w->units_dirty = true;
		return -1;
	}
	u--;
	int n = (int)w->unit_n[u];
	const uint32_t *files = w->unit_files + w->unit_first[u];
	if (n > w->capukept) {
		w->capukept = n * 2;
		w->uid = xrealloc(w->uid, (size_t)w->capukept * sizeof *w->uid);
		w->usize = xrealloc(w->usize, (size_t)w->capukept * sizeof *w->usize);
		w->upaths = xrealloc(w->upaths, (size_t)w->capukept * sizeof *w->upaths);
	}
	for (int j = 0; j < n; j++) {
		int k = (int)files[j];
		const unsigned char *e = entry_at(w, k);
		if (!looked_same(w, k, e, &w->uid[j], &w->usize[j]))
			return -1;
		/* made already by another unit: the keys missed something; build */
		if (fileset_find(fs, w->owned[k]))
			return -1;
		w->upaths[j] = w->owned[k];
	}
	if (!w->upos) {
		w->upos = calloc((size_t)(w->nowned ? w->nowned : 1), sizeof *w->upos);
		if (!w->upos)
			die_oom();
	}
	for (int j = 0; j < n; j++)
		w->upos[files[j]] = (uint32_t)j + 1;
	*paths = w->upaths;
	return n;
}

/* Compares a generated file with the old tree and, if it differs and this
 * render writes, puts it in the staging tree (either thread). */
static void put_file(Writer *w, DirStack *ds, Job *j)
{
	if (failed(w))
		return;
	const char *p = j->f.path;
	int r = ds_seek(w, ds, p, dir_len(p), true);
	if (r == 1)
		r = compare_file(w, ds_fd(ds), base_name(p), &j->f, &j->st);
	if (r == 0 && j->st.status != OLD_SAME && w->mode == WR_WRITE && start_staging(w) == 0)
		write_new(w, &j->f, &j->st);
}

/* ---- the disk thread ---- */

static void take_result(Writer *w, const Job *j)
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
	int k = w->look_order ? (int)w->look_order[w->looked] : w->looked;
	w->looked++;
	unsigned char v = 0;
	if (!atomic_compare_exchange_strong(&w->look[k], &v, LOOK_BUSY))
		return true; /* the producer asked first */
	const unsigned char *e = entry_at(w, k);
	uint64_t id;
	int64_t size;
	unsigned char r = LOOK_OTHER;
	if ((get64(e + 16) || w->uslots) && cache_match(w, &w->lookds, w->owned[k], e, &id, &size)) {
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
static void disk_start(Writer *w)
{
	if (par_threads(2) < 2)
		return;
	w->jobs = xmalloc(QUEUE * sizeof *w->jobs);
	if (w->cache_keys && w->nowned) {
		w->look = calloc((size_t)w->nowned, sizeof *w->look);
		if (!w->look)
			die_oom();
		w->look_id = xmalloc((size_t)w->nowned * sizeof *w->look_id);
		w->look_size = xmalloc((size_t)w->nowned * sizeof *w->look_size);
		ds_init(&w->lookds, w->outfd);
		w->lookds.probe = true;
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

static void enqueue(Writer *w, const OutFile *f, int i)
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
	w->jobs[pushed % QUEUE] = (Job){ .f = *f, .index = i };
	atomic_store(&w->pushed, ++pushed);
	if (atomic_load(&w->sleeping) && pushed - atomic_load(&w->finished) >= BATCH) {
		pthread_mutex_lock(&w->lock);
		pthread_cond_signal(&w->wake);
		pthread_mutex_unlock(&w->lock);
	}
}

/* Waits for the disk thread to put every queued file, and ends it. */
static void disk_stop(Writer *w)
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

/* A generated file: with `owned`, its bytes are the writer's to free. */
static void add_file(Writer *w, const FileSet *fs, int i, bool owned)
{
	OutFile f = fs->files[i];
	if (admit(w, fs, i) != 0) {
		if (owned)
			free(f.data);
		return;
	}
	if (w->threaded && owned) {
		enqueue(w, &f, i);
		return;
	}
	Job j = { .f = f, .index = i };
	put_file(w, &w->disk, &j);
	take_result(w, &j);
	if (owned)
		free(f.data);
}

void writer_add(void *ctx, const FileSet *fs, int i)
{
	add_file(ctx, fs, i, true);
}

static const char *path_of(const Writer *w, int k)
{
	return w->fs->files[w->order[k]].path;
}

static int cmp_file_number(const void *a, const void *b, void *fs)
{
	const OutFile *f = ((const FileSet *)fs)->files;
	return strcmp(f[*(const uint32_t *)a].path, f[*(const uint32_t *)b].path);
}

/* w->order: the file numbers in path order */
static void sort_files(Writer *w)
{
	int n = w->fs->n;
	w->order = xmalloc((size_t)(n ? n : 1) * sizeof *w->order);
	for (int i = 0; i < n; i++)
		w->order[i] = (uint32_t)i;
	qsort_r(w->order, (size_t)n, sizeof *w->order, cmp_file_number, (void *)w->fs);
}

/* No path may be both a file and a folder, none twice. In path order, the
 * outputs under a folder `x/` follow `x` (with `x-`, `x.` between). */
static int check_outputs(Writer *w)
{
	const FileSet *fs = w->fs;
	StrBuf pre; /* one scratch buffer: 500,000 paths must not fill the arena */
	sb_init(&pre);
	int rc = 0;
	for (int k = 0; k < fs->n && rc == 0; k++) {
		const char *p = path_of(w, k);
		if (k && !strcmp(p, path_of(w, k - 1))) {
			rc = fail(w, "internal error: two outputs at `%s`", p);
			break;
		}
		for (const char *s = strchr(p, '/'); s && rc == 0; s = strchr(s + 1, '/')) {
			pre.len = 0;
			sb_putn(&pre, p, (size_t)(s - p));
			if (fileset_find(fs, pre.data))
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
	int i = 0, j = 0, n = w->fs->n;
	while (i < n || j < w->nstale) {
		if (j == w->nstale || (i < n && strcmp(path_of(w, i), w->stale[j]) < 0)) {
			const FileState *s = &w->st[w->order[i]];
			if (s->status != OLD_SAME)
				add_line(rep, s->status == OLD_ABSENT ? "added" : "changed", path_of(w, i));
			i++;
		} else {
			add_line(rep, "stale", w->stale[j++]);
		}
	}
}

/* Owned files no longer generated and still there are stale. */
static int find_stale(Writer *w)
{
	int cap = 0;
	for (int i = 0; i < w->nowned; i++) {
		const char *p = w->owned[i];
		if (fileset_find(w->fs, p))
			continue;
		int found = ds_seek(w, &w->old, p, dir_len(p), false);
		if (found < 0)
			return -1;
		struct stat st;
		if (found == 0) {
		} else if (fstatat(ds_fd(&w->old), base_name(p), &st, AT_SYMLINK_NOFOLLOW) != 0) {
			if (errno != ENOENT)
				return fail(w, "cannot inspect `%s`: %s", disp(w, p, strlen(p)), strerror(errno));
		} else if (S_ISLNK(st.st_mode)) {
			return fail(w, "`%s` is a symlink; refusing to follow it", disp(w, p, strlen(p)));
		} else if (S_ISREG(st.st_mode)) {
			if (w->nstale == cap) {
				cap = cap ? cap * 2 : 64;
				w->stale = xrealloc(w->stale, (size_t)cap * sizeof *w->stale);
			}
			w->stale[w->nstale++] = p;
		}
	}
	return 0;
}

static int finish(Writer *w, WriterReport *rep)
{
	const FileSet *fs = w->fs;
	int n = fs->n;
	/* the cache's answers and unit records have been given while files came
	 * (the disk thread has stopped: nothing looks any more); its entries
	 * stay until the commit, which carries those of untouched files over */
	free_lookups(w);
	sort_files(w);
	if (check_outputs(w) != 0 || find_stale(w) != 0)
		return -1;
	for (int i = 0; i < n; i++) {
		OldStatus s = w->st[i].status;
		rep->added += s == OLD_ABSENT;
		rep->changed += s == OLD_DIFF;
		rep->unchanged += s == OLD_SAME;
	}
	rep->removed = w->nstale;
	rep->vouched = w->vouched;
	rep->kept = w->kept;
	bool same_manifest = w->canonical && w->nowned == n;
	for (int k = 0; k < n && same_manifest; k++)
		same_manifest = !strcmp(w->owned[k], path_of(w, k));
	bool differs = w->outfd < 0 || rep->added || rep->changed || rep->removed || !same_manifest;
	if (w->mode == WR_CHECK) {
		/* as the whole-tree swap would find it: no symlink anywhere */
		if (differs && walk(w) != 0)
			return -1;
		fill_lines(w, rep);
		return 0;
	}
	if (!differs) {
		/* Nothing to write. But if the stat cache did not vouch for every
		 * file (a fresh checkout, files git rewrote, a new platformc), it
		 * is renewed beside the tree, which stays as it is: else every
		 * later render that changes nothing would read every file again. */
		int rc = clean_leftovers(w, false);
		if (rc == 0 && (w->vouched < n || (!w->cache_keys && binary_id()) || w->units_dirty))
			write_cache(w, rep);
		return rc;
	}
	int j = use_journal(w);
	if (j != 0)
		return j < 0 ? -1 : commit_journal(w, rep, same_manifest);
	/* what the cache of the old tree had to say, it said while files came */
	free(w->cache);
	w->cache = NULL;
	/* the whole tree is rebuilt: the whole old tree must be free of
	 * symlinks, and its user files are listed */
	if (walk(w) != 0)
		return -1;
	/* the old tree's manifest has said all it had to say */
	free(w->owned);
	w->owned = NULL;
	free(w->oslots);
	w->oslots = NULL;
	w->nowned = 0;
	w->nstale = 0;
	if (!w->held)
		sb_free(&w->oldman);
	w->held = false;
	sb_init(&w->oldman);
	if (start_staging(w) != 0 || build_staging(w) != 0 || swap_in(w, w->newfd) != 0)
		return -1;
	fsync(w->parentfd); /* the swap itself must reach the disk */
	/* the old tree, now in the staging folder; a failure leaves a marked
	 * folder that the next render deletes */
	close_fd(&w->treefd);
	close_fd(&w->newfd);
	ds_free(&w->old);
	remove_staging(w->parentfd, w->newname);
	w->staging = false;
	write_cache(w, rep);
	return 0;
}

int writer_end(Writer *w, const FileSet *fs, WriterReport *rep)
{
	WriterReport local;
	if (!rep)
		rep = &local;
	memset(rep, 0, sizeof *rep);
	disk_stop(w);
	ds_free(&w->disk);
	ds_free(&w->lookds);
	w->old.probe = false;
	w->fs = fs;
	int rc = w->rc == 0 ? finish(w, rep) : -1;
	if (rc != 0)
		rc = -1;
	if (rc != 0 || rep == &local)
		writer_report_free(rep);
	if (rc != 0)
		rep->added = rep->changed = rep->removed = rep->unchanged = rep->vouched = rep->kept = 0;
	if (w->staging) {
		/* After a failure this drops the half-built tree. Either way it is
		 * ours, and a failure here leaves a marked folder that the next
		 * render deletes. */
		close_fd(&w->treefd);
		close_fd(&w->newfd);
		remove_staging(w->parentfd, w->newname);
	}
	writer_free(w);
	return rc;
}

int writer_run(const FileSet *fs, const char *outdir, WriterMode mode, WriterReport *rep,
	       char *err, size_t errlen)
{
	Writer *w = writer_begin(NULL, outdir, mode, err, errlen);
	for (int i = 0; i < fs->n && w->rc == 0; i++)
		add_file(w, fs, i, false);
	return writer_end(w, fs, rep);
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
	free(rep->warning);
	rep->warning = NULL;
}
