/*
 * writer.c — the render-to-folder driver: the session (writer_begin,
 * writer_add, writer_keep, writer_keep_unit, writer_end, writer_run,
 * writer_pending), its per-file state, the stale files and the report.
 * With writer_fs.c, writer_cache.c, writer_swap.c, writer_journal.c and
 * writer_disk.c it is the only code that touches the disk (guide §7); the
 * guarantees below hold for the family as a whole, and each of those files
 * states the part it keeps.
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
 *     file; see writer_cache.c.)
 *   - Atomicity, as platformc and `render --check` see the folder: after a
 *     render killed at any point, the next platformc run that opens the
 *     output folder finds it wholly old or wholly new. A render that
 *     changes something commits in one of two ways (use_journal):
 *       * the journal, O(changed files) (writer_journal.c);
 *       * the whole-tree swap otherwise (writer_swap.c).
 *     Either way the staging folder left behind carries the marker file
 *     `.platformc-staging` so the next render knows it may delete it
 *     (writer_fs.c).
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
 * Per-file state (w->st) is touched by the producer alone; the disk thread
 * (writer_disk.c) hands its results back in the job.
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

/* ---- the session ---- */

static int split_outdir(Writer *w, const char *outdir)
{
	size_t n = outdir ? strlen(outdir) : 0;
	while (n > 1 && outdir[n - 1] == '/')
		n--;
	if (!n)
		return w_fail(w, "the output folder is an empty path");
	w->outdir = arena_strndup(w->a, outdir, n);
	if (!strcmp(w->outdir, "/"))
		return w_fail(w, "refusing to render into `/`");
	const char *b = base_name(w->outdir);
	if (!strcmp(b, ".") || !strcmp(b, ".."))
		return w_fail(w, "output folder `%s` must name a folder (not `.` or `..`): it is "
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
		return w_fail(w, errno == ENOENT ? "the folder `%s` that should hold the output "
						 "folder `%s` does not exist"
					       : "cannot open the folder `%s` that holds `%s`: %s",
			    w->parent, w->outdir, strerror(errno));
	if ((w->mode == WR_WRITE && recover_old_tree(w) != 0) || recover_journal(w) != 0)
		return -1;
	struct stat *st = &w->outst;
	if (fstatat(w->parentfd, w->base, st, AT_SYMLINK_NOFOLLOW) != 0) {
		if (errno != ENOENT)
			return w_fail(w, "cannot inspect `%s`: %s", w->outdir, strerror(errno));
	} else if (S_ISLNK(st->st_mode)) {
		return w_fail(w, "output folder `%s` is a symlink; refusing to follow it", w->outdir);
	} else if (!S_ISDIR(st->st_mode)) {
		return w_fail(w, "output folder `%s` exists and is not a folder", w->outdir);
	} else if ((w->outfd = openat(w->parentfd, w->base, DIR_FLAGS)) < 0) {
		return w_fail(w, "cannot open `%s`: %s", w->outdir, strerror(errno));
	} else if (fstat(w->outfd, st) != 0) {
		return w_fail(w, "cannot inspect `%s`: %s", w->outdir, strerror(errno));
	}
	return 0;
}

static void make_room(Writer *w, int i);

/* The manifest's copy of path, shared with the file set that holds it; and
 * file i's place in the manifest, for the lookups to come (owned_of,
 * writer_find). */
static const char *writer_intern(void *ctx, const FileSet *fs, int i, const char *path, uint64_t h, bool *taken)
{
	Writer *w = ctx;
	int k = owned_lookup(w, path, h);
	w->fs = fs;
	make_room(w, i);
	w->st[i].owned = k >= 0 ? k + 1 : -1;
	if (k >= 0) {
		*taken |= w->ofile[k] != 0;
		w->ofile[k] = (uint32_t)i + 1;
	}
	return k >= 0 && w->held ? w->owned[k] : NULL;
}

/* The file set's question about a path (hash h) it did not index: the
 * number of the kept unit's file at it, or -1. Every file of the set at a
 * path of the manifest is known by that path's place (writer_intern,
 * writer_keep); a kept unit's files are only known so. */
static int writer_find(void *ctx, const FileSet *fs, const char *path, uint64_t h)
{
	Writer *w = ctx;
	int k = owned_lookup(w, path, h);
	return k >= 0 && w->ofile[k] ? (int)w->ofile[k] - 1 : -1;
}


static Writer *writer_new(WriterMode mode, char *err, size_t errlen)
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
	return w;
}

static void writer_free(Writer *w);

bool writer_up_to_date(const char *outdir, WriterMode mode, uint64_t key, int *nfiles, int *nunits)
{
	char err[512];
	Writer *w = writer_new(mode, err, sizeof err);
	ds_init(&w->old, -1);
	ds_init(&w->disk, -1);
	sb_init(&w->made);
	sb_init(&w->mk);
	bool yes = split_outdir(w, outdir) == 0 && open_outdir(w) == 0 && cache_up_to_date(w, key, nfiles, nunits);
	writer_free(w);
	return yes;
}

void writer_set_key(Writer *w, uint64_t key)
{
	w->platform_key = key;
}

/* Does the folder fd hold nothing? (A fresh render into a folder made
 * for it: no generated file has an old one to compare with.) */
static bool folder_is_empty(int fd)
{
	if (fd < 0)
		return false;
	int d = openat(fd, ".", DIR_FLAGS); /* its own position in the folder */
	DIR *dir = d < 0 ? NULL : fdopendir(d);
	if (!dir) {
		if (d >= 0)
			close(d);
		return false;
	}
	bool empty = true;
	for (struct dirent *e; empty && (e = readdir(dir));)
		empty = !strcmp(e->d_name, ".") || !strcmp(e->d_name, "..");
	closedir(dir);
	return empty;
}

/* The old tree's manifest and stat cache, read side by side (60 MB at
 * 600,000 files), each on a core. */
static void read_old_job(void *ctx, int i, Arena *a)
{
	(void)a;
	Writer *w = ctx;
	if (i == 0)
		w->manifest_rc = read_manifest(w);
	else
		read_cache(w);
}

Writer *writer_begin(FileSet *fs, const char *outdir, WriterMode mode, char *err, size_t errlen)
{
	Writer *w = writer_new(mode, err, errlen);
	if (split_outdir(w, outdir) == 0 && open_outdir(w) == 0) {
		par_run(w->a, 2, read_old_job, w);
		if (w->manifest_rc == 0) {
			load_cache(w);
			cache_ask_watcher(w); /* before any look at the old tree */
		}
		free(w->raw_cache);
		w->raw_cache = NULL;
		w->old_empty = w->manifest_rc == 0 && !w->have_manifest && folder_is_empty(w->outfd);
	}
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
		w->ofile = calloc((size_t)(w->nowned ? w->nowned : 1), sizeof *w->ofile);
		if (!w->ofile)
			die_oom();
		fileset_set_sink(fs, &(FileSink){ .add = writer_add, .keep = writer_keep,
						  .keep_unit = writer_keep_unit, .intern = writer_intern,
						  .find = writer_find, .ctx = w });
		fileset_reserve(fs, w->nowned);
		if (w->nowned)
			make_room(w, w->nowned - 1);
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
	return w_failed(w);
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
	free(w->unit_n);
	free(w->unit_files);
	free(w->uslots);
	free(w->ukept);
	free(w->ukid);
	w->look = NULL, w->look_id = NULL, w->look_size = NULL, w->look_order = NULL;
	w->unit_id = w->unit_key = NULL;
	w->unit_n = w->unit_files = NULL;
	w->uslots = NULL;
	w->ukept = NULL, w->ukid = NULL, w->capukept = 0;
	w->nunits = 0;
}

static void writer_free(Writer *w)
{
	disk_stop(w);
	ds_free(&w->old);
	ds_free(&w->disk);
	free(w->lookpr.dir);
	free(w->mainpr.dir);
	free(w->lookpr.seen);
	free(w->mainpr.seen);
	w->lookpr = w->mainpr = (Probe){0};
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
	free(w->order_pos);
	free(w->owned);
	free(w->oslots);
	free(w->ofile);
	free(w->unit_first);
	free(w->unit_kept_here);
	free(w->cache);
	free(w->watch_dirty);
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
		/* the first call is for the old manifest's count (writer_begin):
		 * room for that many, the most a render that adds nothing needs */
		int cap = w->nst ? w->nst * 2 : i + 1;
		while (cap <= i)
			cap *= 2;
		w->st = xrealloc(w->st, (size_t)cap * sizeof *w->st);
		memset(w->st + w->nst, 0, (size_t)(cap - w->nst) * sizeof *w->st);
		w->nst = cap;
	}
}

/* The first `/` of p that ends a folder p does not share with q (NULL: none):
 * the folders before it are q's too. Paths come sorted, or in the order a
 * backend makes them, so most share all but their last name with the one
 * before. */
static const char *first_new_folder(const char *p, const char *q)
{
	const char *from = memrchr(p, '/', common_prefix(p, q, false));
	return strchr(from ? from + 1 : p, '/');
}

static int admit(Writer *w, const FileSet *fs, int i)
{
	w->fs = fs;
	if (w_failed(w))
		return -1;
	if (w->admitted == i + 1)
		return 0;
	make_room(w, i);
	const char *p = fs->files[i].path, *q = w->admit_prev ? w->admit_prev : "";
	if (!rel_path_is_safe(p))
		return w_fail(w, "internal error: output path `%s` cannot be written", p);
	/* a file where an earlier output needs a folder (the converse shows
	 * when writing, or at the end, which also sees a file added since the
	 * folders p shares with the file admitted before it were looked up) */
	w->admit_prev = p;
	for (const char *sl = first_new_folder(p, q); sl; sl = strchr(sl + 1, '/')) {
		w->pre.len = 0;
		sb_putn(&w->pre, p, (size_t)(sl - p));
		if (fileset_find(fs, w->pre.data))
			return w_fail(w, "internal error: outputs `%s` and `%s` clash: `%s` cannot be both "
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

bool writer_keep(void *ctx, const FileSet *fs, int i, size_t *len, uint64_t *hash, uint64_t *key)
{
	Writer *w = ctx;
	const OutFile *f = &fs->files[i];
	w->fs = fs;
	make_room(w, i);
	FileState *s = &w->st[i];
	uint64_t id;
	int64_t size;
	int k = w->cache && w->cache_keys ? owned_of(w, s, f->path) : -1;
	const unsigned char *e = k < 0 ? NULL : entry_at(w, k);
	if (admit(w, fs, i) != 0 || !w->cache_keys || !e || !f->key || w_get64(e + 16) != f->key)
		return false;
	if (!looked_same(w, k, e, &id, &size))
		return false; /* writer_add looks again, and reports what is wrong */
	s->status = OLD_SAME;
	s->vouched = true;
	s->id = id;
	/* the entry write_cache would make for it is the one it has: the
	 * same identity (known without its ctime), hash, key and size */
	s->same_entry = w_get64(e) && w_get64(e + 24) == id;
	w->vouched++;
	w->kept++;
	*len = (size_t)size;
	*hash = w_get64(e + 8);
	*key = w_get64(e + 16);
	return true;
}

/*
 * May a unit of output (fileset.c) whose inputs hash to `key` stay as it is
 * on disk? Yes when the cache, written by this binary, records the unit
 * with that key and vouches for each of its files (the rule of
 * writer_keep), none of which the file set has yet. Then *kept are its
 * files (the manifest's strings, in the order they were made, with their
 * lengths, hashes and document keys), already counted as kept under the
 * numbers the file set gives them next, each noted by its place in the
 * manifest (writer_find answers for them), and their count is returned;
 * the file set adds them without indexing them. -1: build the unit.
 */
int writer_keep_unit(void *ctx, const FileSet *fs, uint64_t id, uint64_t key, const KeptFile **kept)
{
	Writer *w = ctx;
	w->fs = fs;
	if (w_failed(w) || !w->cache_keys)
		return -1;
	/* units come in the order the cache recorded them, unless the
	 * platform gained or lost some: the one after the last found first */
	uint32_t u = w->unext < (uint32_t)w->nunits && w->unit_id[w->unext] == id ? w->unext + 1
		   : w->uslots ? w->uslots[unit_slot(w, id)].n : 0;
	if (u)
		w->unext = u;
	if (!u || w->unit_key[u - 1] != key) {
		w->units_dirty = true;
		return -1;
	}
	u--;
	int n = (int)w->unit_n[u];
	const uint32_t *files = w->unit_files + w->unit_first[u];
	if (n > w->capukept) {
		w->capukept = n * 2;
		w->ukept = xrealloc(w->ukept, (size_t)w->capukept * sizeof *w->ukept);
		w->ukid = xrealloc(w->ukid, (size_t)w->capukept * sizeof *w->ukid);
	}
	/* each file: made by no other unit yet (else the keys missed
	 * something: build), and the one the cache recorded */
	for (int j = 0; j < n; j++) {
		int k = (int)files[j];
		const unsigned char *e = entry_at(w, k);
		int64_t size;
		if (w->ofile[k] || !looked_same(w, k, e, &w->ukid[j], &size))
			return -1;
		w->ukept[j] = (KeptFile){ .path = w->owned[k], .len = (size_t)size, .hash = w_get64(e + 8),
					  .key = w_get64(e + 16) };
	}
	/* kept: the set's next n files, paths of the manifest written nowhere
	 * (check_outputs, at the end, still sees any clash with another
	 * output); the entry write_cache would make for each is the one it
	 * has when the cache knew its identity without ctime */
	if (u == (uint32_t)fs->nounits - 1)
		w->unit_kept_here[u] = 1;
	if (n)
		make_room(w, fs->n + n - 1);
	for (int j = 0; j < n; j++) {
		int k = (int)files[j], i = fs->n + j;
		const unsigned char *e = entry_at(w, k);
		w->st[i] = (FileState){ .status = OLD_SAME, .vouched = true, .owned = k + 1, .id = w->ukid[j],
					.same_entry = w_get64(e) && w_get64(e + 24) == w->ukid[j] };
		w->ofile[k] = (uint32_t)i + 1;
	}
	w->vouched += n;
	w->kept += n;
	*kept = w->ukept;
	return n;
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
	Job j = { .f = f, .index = i, .st.owned = w->st[i].owned };
	put_file(w, &w->disk, &j);
	take_result(w, &j);
	if (owned)
		free(f.data);
}

void writer_add(void *ctx, const FileSet *fs, int i)
{
	add_file(ctx, fs, i, true);
}

/* The k-th path in path order: when every file knows its manifest place,
 * the manifest's string (read in order), not the file's (here and there) */
static const char *path_of(const Writer *w, int k)
{
	return w->order_pos ? w->owned[w->order_pos[k]] : w->fs->files[w->order[k]].path;
}

static int cmp_file_number(const void *a, const void *b, void *fs)
{
	const OutFile *f = ((const FileSet *)fs)->files;
	return strcmp(f[*(const uint32_t *)a].path, f[*(const uint32_t *)b].path);
}

/* w->order: the file numbers in path order. When every file is a path of
 * the manifest (sorted) and knows its place there, that place orders it. */
static void sort_files(Writer *w)
{
	int n = w->fs->n;
	w->order = xmalloc((size_t)(n ? n : 1) * sizeof *w->order);
	bool placed = w->ofile && n <= w->nst && n <= w->nowned;
	for (int i = 0; i < n && placed; i++)
		placed = w->st[i].owned > 0;
	if (placed) {
		/* w->ofile: the file at each manifest place (writer_intern,
		 * writer_keep); every file has one */
		w->order_pos = xmalloc((size_t)(n ? n : 1) * sizeof *w->order_pos);
		int k = 0;
		for (int o = 0; o < w->nowned; o++)
			if (w->ofile[o]) {
				w->order_pos[k] = (uint32_t)o;
				w->order[k++] = w->ofile[o] - 1;
			}
		return;
	}
	for (int i = 0; i < n; i++)
		w->order[i] = (uint32_t)i;
	qsort_r(w->order, (size_t)n, sizeof *w->order, cmp_file_number, (void *)w->fs);
}

/* The length of the common start of p and q up to p's end (where p and q
 * part, or p ends): the first i with p[i] == 0 or p[i] != q[i]. With
 * `words`, both may be read 8 bytes at a time to 7 bytes past their ends
 * (the manifest's paths: read_manifest leaves 8 zeros after the last). */
size_t common_prefix(const char *p, const char *q, bool words)
{
	size_t c = 0;
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	if (words) {
		for (;; c += 8) {
			uint64_t x, y;
			memcpy(&x, p + c, 8);
			memcpy(&y, q + c, 8);
			/* the bytes that differ, and p's zero bytes (the lowest one
			 * is exact; little-endian: the lowest byte comes first) */
			uint64_t m = (x ^ y) | bytes_below(x, 1);
			if (m)
				return c + (size_t)__builtin_ctzll(m) / 8;
		}
	}
#else
	(void)words;
#endif
	while (p[c] && p[c] == q[c])
		c++;
	return c;
}

/* No path may be both a file and a folder, none twice. In path order, the
 * outputs under a folder `x/` follow `x` (with `x-`, `x.` between).
 * So if a folder of p is also a file d, the path q before p starts with d
 * (d <= q < p, and p starts with d): the only folder of p that can be a
 * file is the one ending where p and q part (p[c] == '/'), when it is not
 * a folder of q; any longer one is not q's start, and the shorter ones are
 * q's folders, asked about at q or before. One lookup at most per path,
 * and for nearly every path none. */
static int check_outputs(Writer *w)
{
	const FileSet *fs = w->fs;
	StrBuf pre; /* one scratch buffer */
	sb_init(&pre);
	int rc = 0;
	for (int k = 1; k < fs->n && rc == 0; k++) {
		const char *p = path_of(w, k), *q = path_of(w, k - 1);
		size_t c = common_prefix(p, q, w->order_pos != NULL);
		if (!p[c] && !q[c]) {
			rc = w_fail(w, "internal error: two outputs at `%s`", p);
			break;
		}
		if (c == 0 || p[c] != '/')
			continue;
		pre.len = 0;
		sb_putn(&pre, p, c);
		if (!q[c] || fileset_find(fs, pre.data))
			rc = w_fail(w, "internal error: outputs `%s` and `%s` clash: `%s` "
				  "cannot be both a file and a folder", pre.data, p, pre.data);
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
	int cap = 0, rc = 0;
	/* the owned paths generated again, as far as each file's place is known */
	unsigned char *gen = calloc((size_t)(w->nowned ? w->nowned : 1), 1);
	if (!gen)
		die_oom();
	bool all_known = true;
	for (int i = 0; i < w->fs->n; i++) {
		int o = i < w->nst ? w->st[i].owned : 0;
		if (o > 0)
			gen[o - 1] = 1;
		all_known &= o != 0;
	}
	for (int i = 0; i < w->nowned && rc == 0; i++) {
		const char *p = w->owned[i];
		if (gen[i] || (!all_known && fileset_find(w->fs, p)))
			continue;
		int found = ds_seek(w, &w->old, p, dir_len(p), false);
		struct stat st;
		if (found < 0) {
			rc = -1;
		} else if (found == 0) {
		} else if (fstatat(ds_fd(&w->old), base_name(p), &st, AT_SYMLINK_NOFOLLOW) != 0) {
			if (errno != ENOENT)
				rc = w_fail(w, "cannot inspect `%s`: %s", disp(w, p, strlen(p)), strerror(errno));
		} else if (S_ISLNK(st.st_mode)) {
			rc = w_fail(w, "`%s` is a symlink; refusing to follow it", disp(w, p, strlen(p)));
		} else if (S_ISREG(st.st_mode)) {
			if (w->nstale == cap) {
				cap = cap ? cap * 2 : 64;
				w->stale = xrealloc(w->stale, (size_t)cap * sizeof *w->stale);
			}
			w->stale[w->nstale++] = p;
		}
	}
	free(gen);
	return rc;
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
	rep->watched = w->watched ? 0 : w->watch_all ? -2 : -1;
	for (int i = 0; i < n && w->watched; i++) {
		int o = w->st[i].vouched ? owned_of(w, &w->st[i], fs->files[i].path) : -1;
		rep->watched += o >= 0 && !w->watch_dirty[o];
	}
	/* every file at a place of the manifest, and as many: every place */
	bool same_manifest = w->canonical && w->nowned == n;
	w->same_places = same_manifest && w->order_pos;
	for (int k = 0; k < n && same_manifest && !w->order_pos; k++) {
		int o = w->st[w->order[k]].owned;
		same_manifest = o > 0 ? o == k + 1 : o == 0 && !strcmp(w->owned[k], path_of(w, k));
	}
	bool differs = w->outfd < 0 || rep->added || rep->changed || rep->removed || !same_manifest;
	if (w->mode == WR_CHECK) {
		/* as the whole-tree swap would find it: no symlink anywhere */
		if (differs && w_walk(w) != 0)
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
		if (rc == 0 && (w->vouched < n || (!w->cache_keys && binary_id()) || w->units_dirty ||
				cache_watcher_renew(w)))
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
	if (w_walk(w) != 0)
		return -1;
	/* the old tree's manifest has said all it had to say */
	free(w->owned);
	w->owned = NULL;
	free(w->oslots);
	w->oslots = NULL;
	free(w->ofile);
	w->ofile = NULL;
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
	free(w->lookpr.dir);
	free(w->mainpr.dir);
	free(w->lookpr.seen);
	free(w->mainpr.seen);
	w->lookpr = w->mainpr = (Probe){0};
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
