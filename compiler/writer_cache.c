/*
 * writer_cache.c — the stat cache: reading it (load_cache, its units), the
 * files it vouches for (cache_vouches, cache_match), and writing it last,
 * after the commit (write_cache). A speed-up only: without it every
 * unchanged file is read back and compared.
 *
 * The stat cache. Reading every unchanged file back costs four syscalls and
 * its bytes. `<parent>/.<base>.platformc-cache/stat` records, for each path
 * of the manifest, the lstat identity the file had when platformc last
 * wrote or linked it (a hash of dev, inode, size, mtime and ctime) and the
 * hash of its bytes. A generated file whose new bytes hash to the recorded
 * hash, and whose lstat still shows exactly the recorded identity, is
 * unchanged without being opened: one fstatat instead of four syscalls
 * (cache_match: one lstat of the path from the output folder, and one of
 * each folder on its way, the first time the manifest's order meets it;
 * no folder is opened). Why that is safe:
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
 * The watcher (watch.c). When `platformc watch` runs on the output folder,
 * the session asks it first (cache_ask_watcher, before any look) what
 * changed since the token this cache stored, the one the render that wrote
 * it got when it started. On a list answer, an owned path under no listed
 * path is vouched for from its entry alone: cache_match returns the
 * recorded identity without ctime and size, with no fstatat and no
 * probe_dirs. Why that is safe: every entry was true at the stored token
 * (recorded after it, or carried over from an entry vouched for after the
 * previous one with nothing listed since), and the watcher lists every
 * change made after the token and before the question (watch.c). The
 * cache then stores this session's own token. With the platform's key it
 * also stores, a render of the same platform whose watcher lists nothing
 * since that token is answered from the header alone (cache_up_to_date).
 *
 * Written in place. When a render leaves the tree's paths and units as
 * they were (the usual edit: a few files change), the new cache differs
 * from the old one only in the entries of the files it wrote or looked at,
 * the keys of the units it built, the header and the last word: it changes
 * those pages of the old file (patch_cache) instead of writing 48 bytes
 * for every file of the tree. A render killed half-way through, or a
 * reader at the same moment, finds a last word that is not the hash of the
 * rest: the whole cache is ignored, as any damaged one.
 *
 * The cache is not synced: its integrity is checked when it is read.
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

#define CACHE_FILE "stat"
#define CACHE_TMP "stat.tmp"
#define CACHE_MAGIC "# platformc stat cache v4\n"
#define CACHE_HEAD 10          /* words: output folder dev, inode; manifest identity; binary; count;
				* units; words of the units; the watcher's token (instance, seq);
				* the platform's key */
#define CACHE_ENTRY 5          /* words: identity (lstat), content hash, document key, identity
				* without ctime, size */

/* ---- the stat cache (see the top of the file) ---- */

/*
 * This binary, as a word: the hash of /proc/self/exe. Document keys say
 * which trees made a file; the bytes follow from the trees only for the
 * emitter that made them, so keys count only in a cache this same binary
 * wrote. 0: unknown (keys never count).
 */
uint64_t binary_id(void)
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

/*
 * The cache file's bytes, whole, if it is one: its magic first and the hash
 * of the rest last (w->raw_cache, else NULL). It asks nothing of the
 * manifest, so it may run on another thread while read_manifest does
 * (writer.c, read_old); load_cache then decides whether it describes this
 * tree and manifest.
 */
void read_cache(Writer *w)
{
	w->raw_cache = NULL;
	int dfd = w->outfd < 0 ? -1 : openat(w->parentfd, w->cachename, DIR_FLAGS);
	if (dfd < 0)
		return;
	int fd = openat(dfd, CACHE_FILE, READ_FLAGS);
	close(dfd);
	if (fd < 0)
		return;
	struct stat st;
	size_t head = strlen(CACHE_MAGIC);
	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && (size_t)st.st_size >= head + 8 * (CACHE_HEAD + 1) &&
	    (size_t)st.st_size % 8 == head % 8) {
		/* sized to the file (read_all then only finds its end) */
		size_t want = (size_t)st.st_size;
		StrBuf b = { .data = xmalloc(want + 1), .cap = want + 1 };
		bool whole = read_all(fd, &b) == 0 && b.len == want;
		const unsigned char *u = (const unsigned char *)b.data;
		if (whole && !memcmp(u, CACHE_MAGIC, head) && w_get64(u + want - 8) == hash64(u, want - 8)) {
			w->raw_cache = (unsigned char *)b.data;
			w->cache_st = st;
		} else {
			sb_free(&b);
		}
	}
	close(fd);
}

/* The cache read (read_cache), if it is the cache of this output folder
 * and manifest; never an error: anything unexpected means no cache. */
void load_cache(Writer *w)
{
	unsigned char *b = w->raw_cache;
	w->raw_cache = NULL;
	if (!b)
		return;
	size_t head = strlen(CACHE_MAGIC), base = head + 8 * (CACHE_HEAD + (size_t)w->nowned * CACHE_ENTRY + 1);
	size_t want = (size_t)w->cache_st.st_size;
	const unsigned char *h = b + head;
	if (w->outfd < 0 || !w->have_manifest || !w->canonical || want < base ||
	    w_get64(h) != (uint64_t)w->outst.st_dev || w_get64(h + 8) != (uint64_t)w->outst.st_ino ||
	    !w->manifest_id || w_get64(h + 16) != w->manifest_id || w_get64(h + 32) != (uint64_t)w->nowned ||
	    w_get64(h + 48) != (want - base) / 8) {
		free(b);
		return;
	}
	w->cache = b;
	w->cache_mtime = ns_of(w->cache_st.st_mtim);
	w->cache_keys = binary_id() && w_get64(b + head + 24) == binary_id();
	if (w->cache_keys)
		load_units(w, b + base - 8, w_get64(b + head + 40), w_get64(b + head + 48));
}

size_t unit_slot(const Writer *w, uint64_t id)
{
	size_t mask = w->nuslots - 1, i = (size_t)id & mask;
	uint32_t tag = (uint32_t)(id >> 32);
	while (w->uslots[i].n && (w->uslots[i].tag != tag || w->unit_id[w->uslots[i].n - 1] != id))
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
		uint64_t id = w_get64(p + 8 * at), key = w_get64(p + 8 * at + 8), cnt = w_get64(p + 8 * at + 16);
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
			uint64_t k = w_get64(p + 8 * at);
			ok = k < (uint64_t)w->nowned && !seen[k];
			if (ok)
				seen[k] = 1;
			w->unit_files[nfiles++] = (uint32_t)k;
		}
		w->nunits = u + 1;
	}
	free(seen);
	/* the index by id; each insert misses the cache at its slot: the slot
	 * PREFETCH_AHEAD inserts on is asked for meanwhile */
	size_t mask = w->nuslots - 1;
	for (int u = 0; u < w->nunits && ok; u++) {
		if (u + PREFETCH_AHEAD < w->nunits)
			__builtin_prefetch(&w->uslots[w->unit_id[u + PREFETCH_AHEAD] & mask], 1);
		uint64_t id = w->unit_id[u];
		size_t slot = unit_slot(w, id);
		ok = !w->uslots[slot].n;
		w->uslots[slot] = (FileSlot){ (uint32_t)u + 1, (uint32_t)(id >> 32) };
	}
	if (!ok || at != nwords) {
		free(w->uslots);
		w->uslots = NULL;
		w->nunits = 0;
	}
	w->nunits_read = w->nunits;
	w->unit_kept_here = calloc((size_t)(w->nunits ? w->nunits : 1), 1);
	if (!w->unit_kept_here)
		die_oom();
}

/*
 * Is the old file (lstat st, of f's size) at generated path f exactly the
 * one the cache recorded, with the bytes f now has, and older than the
 * cache?
 */
/* The cache's entry for path, or NULL. */
const unsigned char *entry_at(const Writer *w, int k)
{
	return w->cache + strlen(CACHE_MAGIC) + 8 * (CACHE_HEAD + (size_t)k * CACHE_ENTRY);
}

bool cache_vouches(const Writer *w, const FileState *s, const OutFile *f, const struct stat *st)
{
	int k = w->cache ? owned_of(w, s, f->path) : -1;
	const unsigned char *e = k < 0 ? NULL : entry_at(w, k);
	return e && w_get64(e) == w_identity(st, true) && w_get64(e + 8) == f->hash &&
	       ns_of(st->st_ctim) < w->cache_mtime;
}

/*
 * Are the folders of path[0..dirlen) folders of the old tree, not symlinks?
 * Each is looked at once, with one lstat from the output folder: no folder
 * is opened. A run of paths under the same folder (the manifest's order
 * keeps them together) asks nothing; a folder seen before under another run
 * (a unit's files lie in several environments' folders, and the producer
 * goes unit by unit) is found in the probe's set of seen folders, which
 * points into the paths asked about (the manifest's: they outlive it). Then one fstatat of the whole path cannot pass
 * through a symlink that was a folder a moment before, unless someone swaps
 * them in between, and then the cache keeps at worst a file whose identity
 * (inode, ctime) is the recorded one. For the cache's looks only: what they
 * find wrong is found again, and reported, by the lookups that write.
 */
static size_t seen_slot(const Probe *pr, const char *path, size_t len, uint64_t h)
{
	size_t mask = pr->capseen - 1, i = (size_t)h & mask;
	for (; pr->seen[i].path; i = (i + 1) & mask)
		if (pr->seen[i].tag == (uint32_t)(h >> 32) && pr->seen[i].len == len &&
		    !memcmp(pr->seen[i].path, path, len))
			break;
	return i;
}

static bool seen_dir(const Probe *pr, const char *path, size_t len, uint64_t h)
{
	return pr->capseen && pr->seen[seen_slot(pr, path, len, h)].path;
}

static void add_seen(Probe *pr, const char *path, size_t len, uint64_t h)
{
	if (2 * (pr->nseen + 1) > pr->capseen) {
		ProbeDir *old = pr->seen;
		size_t n = pr->capseen;
		pr->capseen = n ? 2 * n : 1024;
		pr->seen = calloc(pr->capseen, sizeof *pr->seen);
		if (!pr->seen)
			die_oom();
		for (size_t i = 0; i < n; i++)
			if (old[i].path)
				pr->seen[seen_slot(pr, old[i].path, old[i].len,
						   hash64(old[i].path, old[i].len))] = old[i];
		free(old);
	}
	pr->seen[seen_slot(pr, path, len, h)] = (ProbeDir){ path, (uint32_t)len, (uint32_t)(h >> 32) };
	pr->nseen++;
}

static bool probe_dirs(int root, Probe *pr, const char *path, size_t dirlen)
{
	size_t k = 0, m = pr->len < dirlen ? pr->len : dirlen;
	while (k < m && pr->dir[k] == path[k])
		k++;
	/* k: the longest prefix both have, that ends a folder name in both */
	if (!(k == pr->len && (k == dirlen || path[k] == '/')))
		while (k > 0 && !((k == pr->len || pr->dir[k] == '/') && (k == dirlen || path[k] == '/')))
			k--;
	if (pr->cap < dirlen + 1) {
		pr->cap = dirlen + 64;
		pr->dir = xrealloc(pr->dir, pr->cap);
	}
	memcpy(pr->dir, path, dirlen);
	pr->dir[dirlen] = 0;
	for (size_t j = k ? k + 1 : 0; j <= dirlen; j++) {
		if (j < dirlen && path[j] != '/')
			continue;
		/* a folder looked at before, under another run of paths */
		uint64_t h = hash64(path, j);
		if (seen_dir(pr, path, j, h))
			continue;
		struct stat st;
		pr->dir[j] = 0;
		bool ok = fstatat(root, pr->dir, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(st.st_mode);
		if (j < dirlen)
			pr->dir[j] = '/';
		if (ok)
			add_seen(pr, path, j, h);
		if (!ok) {
			pr->len = 0;
			return false;
		}
	}
	pr->len = dirlen;
	return true;
}

/*
 * Is the old tree's file at path (owned) the one cache entry e describes,
 * untouched since (the identity rule of cache_vouches)? Then *id is its
 * identity without ctime and *size its size. One lstat of the file, and of
 * each folder on its way the first time (probe_dirs).
 */
bool cache_match(Writer *w, Probe *pr, const char *path, const unsigned char *e, uint64_t *id,
		 int64_t *size)
{
	if (w->watched && w_get64(e) && w_get64(e + 24) && !w->watch_dirty[(size_t)(e - entry_at(w, 0)) / (8 * CACHE_ENTRY)]) {
		/* the watcher saw no change to it since the cache's token */
		*id = w_get64(e + 24);
		*size = (int64_t)w_get64(e + 32);
		return true;
	}
	struct stat st;
	size_t dl = dir_len(path);
	if (w->outfd < 0 || (dl && !probe_dirs(w->outfd, pr, path, dl)) ||
	    fstatat(w->outfd, path, &st, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISREG(st.st_mode) ||
	    w_get64(e) != w_identity(&st, true) || ns_of(st.st_ctim) >= w->cache_mtime)
		return false;
	*id = w_identity(&st, false);
	*size = st.st_size;
	return true;
}

/* ---- the watcher (watch.c) ---- */

/*
 * At the session's start, before any look: asks the output folder's
 * watcher, if one runs, what changed since the token the cache stored.
 * Its new token is what the cache this session writes stores. A list
 * answer to the cache's own token marks the owned paths under a listed path
 * (watch_dirty); cache_match then vouches for every other one with the
 * recorded identity and size, without a look. No answer: as without a
 * watcher.
 */
void cache_ask_watcher(Writer *w)
{
	if (w->outfd < 0)
		return;
	uint64_t inst = 0, seq = 0;
	if (w->cache) {
		const unsigned char *h = w->cache + strlen(CACHE_MAGIC);
		inst = w_get64(h + 56), seq = w_get64(h + 64);
	}
	WatchAnswer a;
	if (watch_ask(w->parentfd, w->base, inst, seq, &a) != 0)
		return;
	w->watch_inst = a.inst, w->watch_seq = a.seq;
	w->watch_listed = a.n;
	if (a.all || !w->cache || !inst || a.inst != inst) {
		w->watch_all = true;
		watch_answer_free(&a);
		return;
	}
	w->watch_dirty = calloc((size_t)(w->nowned ? w->nowned : 1), 1);
	if (!w->watch_dirty)
		die_oom();
	for (int j = 0; j < a.n; j++) {
		const char *c = a.paths[j];
		size_t n = strlen(c);
		/* the first owned path not before c; those under c follow it (with
		 * `c-x`, `c.x` between: strcmp order) */
		int lo = 0, hi = w->nowned;
		while (lo < hi) {
			int mid = lo + (hi - lo) / 2;
			if (strcmp(w->owned[mid], c) < 0)
				lo = mid + 1;
			else
				hi = mid;
		}
		for (int k = lo; k < w->nowned && !strncmp(w->owned[k], c, n); k++)
			if (!n || w->owned[k][n] == 0 || w->owned[k][n] == '/')
				w->watch_dirty[k] = 1;
	}
	for (int k = 0; k < w->nowned; k++)
		w->watch_ndirty += w->watch_dirty[k];
	w->watched = true;
	watch_answer_free(&a);
}

/*
 * Does the watcher vouch for the old file at generated path f: untouched
 * since the cache recorded it with f's bytes and size? Then *id is its
 * identity without ctime. No syscall.
 */
bool cache_watcher_vouches(const Writer *w, const FileState *s, const OutFile *f, uint64_t *id)
{
	int k = w->watched ? owned_of(w, s, f->path) : -1;
	if (k < 0 || w->watch_dirty[k])
		return false;
	const unsigned char *e = entry_at(w, k);
	if (!w_get64(e) || !w_get64(e + 24) || w_get64(e + 8) != f->hash || w_get64(e + 32) != (uint64_t)f->len)
		return false;
	*id = w_get64(e + 24);
	return true;
}

/*
 * Should a render that changes nothing renew the cache for the watcher's
 * sake? When the watcher could not answer to the cache's token (the next
 * render would hear "all" again), or listed anything (the next one would
 * look at it again, and could not be answered by the platform's key alone:
 * cache_up_to_date).
 */
bool cache_watcher_renew(const Writer *w)
{
	return w->watch_inst && (!w->watched || w->watch_listed > 0);
}

/*
 * The no-op that builds nothing (writer_up_to_date): the tree is what the
 * render that wrote this cache made, for the platform's key it records,
 * when that key is the key now, the folder and its manifest are the ones
 * it recorded, no staging folder is about, and the watcher has seen
 * nothing at all change in the folder since that render began (its token:
 * a render that wrote files hears of them, so only a render that changed
 * nothing, or renewed the cache, leaves a token with nothing since). The
 * key holds every input of every unit and of every file made outside one
 * (unitkey.c): the same key, the same tree.
 */
bool cache_up_to_date(Writer *w, uint64_t key, int *nfiles, int *nunits)
{
	if (!key || w->outfd < 0)
		return false;
	const char *names[] = { w->newname, w->oldname };
	for (size_t i = 0; i < ARRAY_LEN(names); i++) {
		StagingState s;
		if (staging_state(w->parentfd, names[i], &s) != 0 || s != STG_ABSENT)
			return false;
	}
	struct stat mst;
	if (fstatat(w->outfd, MANIFEST_NAME, &mst, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISREG(mst.st_mode))
		return false;
	int dfd = openat(w->parentfd, w->cachename, DIR_FLAGS);
	if (dfd < 0)
		return false;
	int fd = openat(dfd, CACHE_FILE, READ_FLAGS);
	close(dfd);
	if (fd < 0)
		return false;
	/* the header first: a changed platform (the usual reason for no) costs
	 * one small read, not the whole cache */
	size_t head = strlen(CACHE_MAGIC), hlen = head + 8 * CACHE_HEAD;
	unsigned char hb[128];
	const unsigned char *h = hb + head;
	bool ok = hlen <= sizeof hb && pread(fd, hb, hlen, 0) == (ssize_t)hlen && !memcmp(hb, CACHE_MAGIC, head) &&
		  w_get64(h) == (uint64_t)w->outst.st_dev && w_get64(h + 8) == (uint64_t)w->outst.st_ino &&
		  w_get64(h + 16) == w_identity(&mst, true) && binary_id() && w_get64(h + 24) == binary_id() &&
		  w_get64(h + 72) == key && w_get64(h + 32) <= INT32_MAX && w_get64(h + 40) <= INT32_MAX &&
		  w_get64(h + 56);
	/* then the whole of it, whose last word is the hash of the rest */
	StrBuf b;
	sb_init(&b);
	ok = ok && read_all(fd, &b) == 0 && b.len >= hlen + 8 && b.len % 8 == head % 8 &&
	     !memcmp(b.data, hb, hlen) && w_get64((unsigned char *)b.data + b.len - 8) == hash64(b.data, b.len - 8);
	close(fd);
	sb_free(&b);
	uint64_t inst = ok ? w_get64(h + 56) : 0, seq = ok ? w_get64(h + 64) : 0;
	if (ok) {
		*nfiles = (int)w_get64(h + 32);
		*nunits = (int)w_get64(h + 40);
	}
	WatchAnswer a;
	if (!ok || watch_ask(w->parentfd, w->base, inst, seq, &a) != 0)
		return false;
	ok = !a.all && a.inst == inst && a.n == 0;
	watch_answer_free(&a);
	return ok;
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

/* The cache file as it is written: a chunk buffered, the hash of all so far. */
typedef struct CacheOut {
	int fd, err;
	unsigned char *buf;
	size_t len;
	Hash64 h;
	bool hashing;
} CacheOut;

static void co_flush(CacheOut *co)
{
	if (co->hashing)
		hash64_add(&co->h, co->buf, co->len);
	if (!co->err && co->len && write_all(co->fd, (const char *)co->buf, co->len) != 0)
		co->err = errno ? errno : EIO;
	co->len = 0;
}

static void co_put(CacheOut *co, const void *p, size_t n)
{
	if (co->len + n > CHUNK)
		co_flush(co);
	memcpy(co->buf + co->len, p, n);
	co->len += n;
}

/* Room for n more bytes in the buffer (n <= CHUNK): where they go. */
static unsigned char *co_room(CacheOut *co, size_t n)
{
	if (co->len + n > CHUNK)
		co_flush(co);
	unsigned char *at = co->buf + co->len;
	co->len += n;
	return at;
}

static void co_word(CacheOut *co, uint64_t v)
{
	w_put64(co_room(co, 8), v);
}

/*
 * The entry of the new tree's file i: files written into a swap's staging
 * tree have their identity since they were written (not their identity
 * without ctime: the watcher does not vouch for them, and the render
 * after a swap hears "all" anyway); linked or moved files got a new
 * ctime, so they are looked at now; a file left untouched whose old entry
 * vouched for it (by its identity or by the watcher's word) keeps that
 * entry, which is still true. -1: the tree cannot be looked at.
 */
static int make_entry(Writer *w, DirStack *ds, int i, unsigned char *e)
{
	FileState *s = &w->st[i];
	const OutFile *f = &w->fs->files[i];
	const char *p = f->path;
	/* a file not recorded: identity 0, which no file has; an identity
	 * without ctime of 0: not known (the watcher does not vouch) */
	uint64_t id = 0, bare = 0;
	int o = !s->cached && w->cache && s->status == OLD_SAME && s->vouched ? owned_of(w, s, p) : -1;
	if (s->cached) {
		/* written into the staging tree of a swap: recorded then */
		id = s->id;
	} else if (o >= 0 && w_get64(entry_at(w, o))) {
		/* untouched, and the old entry proved it (by its identity or
		 * the watcher's word): still true. s->id is the file's
		 * identity without ctime, as it was vouched for */
		id = w_get64(entry_at(w, o));
		bare = s->id;
	} else {
		struct stat st;
		int r = ds_seek(w, ds, p, dir_len(p), false);
		if (r < 0)
			return -1;
		if (r == 1 && fstatat(ds_fd(ds), base_name(p), &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st.st_mode) &&
		    w_identity(&st, false) == s->id) {
			bare = s->id;
			w_record(w, s, &st);
			id = s->id;
		}
		/* otherwise it changed under us: not recorded, read next time */
	}
	w_put64(e, id);
	w_put64(e + 8, f->hash);
	w_put64(e + 16, f->key);
	w_put64(e + 24, bare);
	w_put64(e + 32, (uint64_t)f->len);
	return 0;
}

/* The entries of the new tree's files, in path order. */
static int record_entries(Writer *w, int outfd, CacheOut *co)
{
	DirStack ds;
	ds_init(&ds, outfd);
	int rc = 0;
	for (int k = 0; k < w->fs->n && rc == 0; k++)
		rc = make_entry(w, &ds, (int)w->order[k], co_room(co, 8 * CACHE_ENTRY));
	ds_free(&ds);
	return rc;
}

/* The cache as it was read, changed where this render changed it: the
 * 4 KiB pages changed are marked in `dirty`. */
typedef struct Patch {
	unsigned char *b;
	size_t len;
	unsigned char *dirty;
} Patch;

static void patch(Patch *pt, size_t at, const unsigned char *v, size_t n)
{
	if (!memcmp(pt->b + at, v, n))
		return;
	memcpy(pt->b + at, v, n);
	for (size_t pg = at / 4096; pg <= (at + n - 1) / 4096; pg++)
		pt->dirty[pg] = 1;
}

static void patch_word(Patch *pt, size_t at, uint64_t v)
{
	unsigned char b[8];
	w_put64(b, v);
	patch(pt, at, b, 8);
}

/*
 * The new cache has the old one's shape when the tree has the same paths
 * (the manifest was not rewritten, and each file is at its old place) and
 * the same units, in the same order, of the same files: then only the
 * entries and unit keys this render changed differ, and the header. Are
 * the units the same? A kept unit is the one the cache recorded at its
 * place (writer_keep_unit); a built one is compared.
 */
static bool same_shape(const Writer *w)
{
	const FileSet *fs = w->fs;
	if (!w->cache || !w->same_places || !w->unit_first || fs->nounits != w->nunits_read)
		return false;
	const unsigned char *ub = w->cache + strlen(CACHE_MAGIC) + 8 * (CACHE_HEAD + (size_t)w->nowned * CACHE_ENTRY);
	for (int u = 0; u < fs->nounits; u++) {
		const OutUnit *ou = &fs->ounits[u];
		const unsigned char *r = ub + 8 * (3 * (size_t)u + w->unit_first[u]);
		if (w_get64(r) != ou->id || w_get64(r + 16) != (uint64_t)ou->n)
			return false;
		if (w->unit_kept_here[u])
			continue; /* kept: the record's files, at their old places */
		for (int j = 0; j < ou->n; j++)
			if (w_get64(r + 24 + 8 * (size_t)j) != (uint64_t)(w->st[ou->first + j].owned - 1))
				return false;
	}
	return true;
}

/* Dates the cache file fd after every ctime it records (waits for the
 * clock's next tick), then closes it; rc: how the writing went. Returns
 * the first failure (errno set), else 0. */
static int date_and_close(Writer *w, int fd, int rc)
{
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
	errno = e;
	return rc;
}

/*
 * Writes the cache by changing the old one in place, when it has the new
 * one's shape (same_shape) and is still the file that was read: the
 * entries of the files this render did not leave as they were, the keys
 * of the units it built, the header, and the hash, a page at a time. A
 * render that changed a few files writes a few pages, not 48 bytes for
 * every file of the tree. Not atomic: a reader at the same moment, or a
 * render killed half-way, leaves a cache whose last word is not the hash
 * of the rest, which is ignored as a whole (load_cache), as any damaged
 * cache is. 0: written; 1: not possible here, write it whole; -1: failed
 * (errno).
 */
static int patch_cache(Writer *w, int dfd, int outfd, const uint64_t *head)
{
	if (!same_shape(w))
		return 1;
	int fd = openat(dfd, CACHE_FILE, O_WRONLY | O_NOFOLLOW | O_CLOEXEC);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_dev != w->cache_st.st_dev ||
	    st.st_ino != w->cache_st.st_ino || st.st_size != w->cache_st.st_size) {
		if (fd >= 0)
			close(fd);
		return 1;
	}
	const FileSet *fs = w->fs;
	Patch pt = { .b = w->cache, .len = (size_t)st.st_size };
	pt.dirty = calloc(pt.len / 4096 + 1, 1);
	if (!pt.dirty)
		die_oom();
	size_t magic = strlen(CACHE_MAGIC);
	for (int i = 0; i < CACHE_HEAD; i++)
		patch_word(&pt, magic + 8 * (size_t)i, head[i]);
	DirStack ds;
	ds_init(&ds, outfd);
	int rc = 0;
	w->quiet = true; /* the render is done: nothing here is its error */
	for (int i = 0; i < fs->n && rc == 0; i++) {
		if (w->st[i].same_entry)
			continue;
		unsigned char e[8 * CACHE_ENTRY];
		rc = make_entry(w, &ds, i, e);
		if (rc == 0)
			patch(&pt, (size_t)(entry_at(w, w->st[i].owned - 1) - w->cache), e, sizeof e);
	}
	w->quiet = false;
	ds_free(&ds);
	size_t ub = magic + 8 * (CACHE_HEAD + (size_t)w->nowned * CACHE_ENTRY);
	for (int u = 0; u < fs->nounits && rc == 0; u++)
		patch_word(&pt, ub + 8 * (3 * (size_t)u + w->unit_first[u]) + 8, fs->ounits[u].key);
	if (rc == 0)
		patch_word(&pt, pt.len - 8, hash64(pt.b, pt.len - 8));
	size_t npages = (pt.len + 4095) / 4096;
	for (size_t pg = 0; pg < npages && rc == 0;) {
		if (!pt.dirty[pg]) {
			pg++;
			continue;
		}
		size_t end = pg;
		while (end < npages && pt.dirty[end])
			end++;
		size_t from = pg * 4096, to = end * 4096 < pt.len ? end * 4096 : pt.len;
		for (size_t done = from; done < to && rc == 0;) {
			ssize_t r = pwrite(fd, pt.b + done, to - done, (off_t)done);
			if (r < 0 && errno == EINTR)
				continue;
			if (r <= 0)
				rc = -1;
			else
				done += (size_t)r;
		}
		pg = end;
	}
	free(pt.dirty);
	return date_and_close(w, fd, rc);
}


/*
 * Writes `<parent>/.<base>.platformc-cache/stat`: a text line, then 64-bit
 * little-endian words — the output folder's dev and inode, the manifest's
 * identity, this binary's, the count, then per path of the manifest (in its
 * order) the file's w_identity(), the hash of its bytes, its document key,
 * its identity without ctime and its size (what the watcher vouches for,
 * cache_ask_watcher) — then per unit of output (fileset.c) its id, key, file
 * count and its files' positions in the manifest, and last the hash64 of
 * all that (the token the watcher gave when this render started, 0 0 for
 * none, is the last two words of the head): about 48 bytes a file. Dated after the newest ctime it records (see
 * the top of the file).
 */
void write_cache(Writer *w, WriterReport *rep)
{
	int outfd = openat(w->parentfd, w->base, DIR_FLAGS);
	struct stat ost;
	if (outfd < 0 || fstat(outfd, &ost) != 0) {
		warn(w, rep, "the output folder", errno);
		close_fd(&outfd);
		return;
	}
	int rc = 0;
	if (mkdirat(w->parentfd, w->cachename, 0777) != 0 && errno != EEXIST) {
		warn(w, rep, "mkdir", errno);
		close(outfd);
		return;
	}
	int dfd = openat(w->parentfd, w->cachename, DIR_FLAGS);
	if (dfd < 0) {
		warn(w, rep, "not a folder of platformc's", errno);
		close(outfd);
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
			close(outfd);
			return;
		}
	}
	const FileSet *fs = w->fs;
	size_t uwords = 0;
	for (int u = 0; u < fs->nounits; u++)
		uwords += 3 + (size_t)fs->ounits[u].n;
	uint64_t words[CACHE_HEAD] = { (uint64_t)ost.st_dev, (uint64_t)ost.st_ino, w->manifest_id,
				       binary_id(), (uint64_t)fs->n, (uint64_t)fs->nounits, uwords,
				       w->watch_inst, w->watch_seq, w->platform_key };
	rc = patch_cache(w, dfd, outfd, words);
	if (rc <= 0) {
		if (rc < 0)
			warn(w, rep, CACHE_FILE, errno);
		close(outfd);
		close(dfd);
		return;
	}
	unlinkat(dfd, CACHE_TMP, 0); /* a leftover of an interrupted render */
	fd = openat(dfd, CACHE_TMP, NEW_FLAGS, 0666);
	if (fd < 0) {
		warn(w, rep, CACHE_TMP, errno);
		close(dfd);
		close(outfd);
		return;
	}
	/* written as it is made, a chunk at a time: 48 bytes a file would be
	 * 30 MB at 622,000 files */
	CacheOut co = { .fd = fd, .buf = xmalloc(CHUNK), .hashing = true };
	hash64_begin(&co.h);
	/* the units: a file's position in the new manifest is its place in
	 * path order (w->order's inverse) */
	co_put(&co, CACHE_MAGIC, strlen(CACHE_MAGIC));
	for (int i = 0; i < CACHE_HEAD; i++)
		co_word(&co, words[i]);
	w->quiet = true; /* the render is done: nothing here is its error */
	rc = record_entries(w, outfd, &co);
	w->quiet = false;
	close(outfd);
	if (rc != 0) {
		hash64_end(&co.h);
		free(co.buf);
		close(fd);
		unlinkat(dfd, CACHE_TMP, 0);
		warn(w, rep, "the new tree", errno);
		close(dfd);
		return;
	}
	uint32_t *pos = xmalloc((size_t)(fs->n ? fs->n : 1) * sizeof *pos);
	for (int k = 0; k < fs->n; k++)
		pos[w->order[k]] = (uint32_t)k;
	for (int u = 0; u < fs->nounits; u++) {
		const OutUnit *ou = &fs->ounits[u];
		unsigned char *r = co_room(&co, 24);
		w_put64(r, ou->id), w_put64(r + 8, ou->key), w_put64(r + 16, (uint64_t)ou->n);
		for (int j = 0; j < ou->n; j++)
			w_put64(co_room(&co, 8), pos[ou->first + j]);
	}
	free(pos);
	co_flush(&co);
	co.hashing = false;
	co_word(&co, hash64_end(&co.h));
	co_flush(&co);
	rc = co.err ? -1 : 0;
	if (rc != 0)
		errno = co.err;
	free(co.buf);
	rc = date_and_close(w, fd, rc);
	int e = errno;
	if (rc == 0 && renameat(dfd, CACHE_TMP, dfd, CACHE_FILE) != 0)
		rc = -1, e = errno;
	if (rc != 0) {
		unlinkat(dfd, CACHE_TMP, 0);
		warn(w, rep, CACHE_FILE, e);
	}
	close(dfd);
}
