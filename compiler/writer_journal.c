/*
 * writer_journal.c — the journal: a commit that costs what changed, and
 * its roll-forward (recover_journal). One of the two ways a render that
 * changes something commits (the other is the whole-tree swap,
 * writer_swap.c; use_journal chooses).
 *
 * Atomicity, as platformc and `render --check` see the folder: after a
 * render killed at any point, the next platformc run that opens the output
 * folder finds it wholly old or wholly new. The journal, O(changed files),
 * commits when the folder exists and at most half of its files change:
 * changed files are written to staging names in
 * `<parent>/.<base>.platformc-new/tree` (same paths), one syncfs; then
 * `.../journal` (the moves, removals and the manifest to put in place,
 * ending with a hash of itself) is written and fsynced, which is the
 * commit point; then its steps are applied (renameat of each staged file
 * over the old one, unlink of stale files and of the folders that leaves
 * empty), one syncfs, and the journal and staging folder are removed.
 * Unchanged files are never touched (files the user owns are left in
 * place). A journal that is whole is finished (rolled forward) by the next
 * write-mode session before it reads anything (recover_journal; each step
 * may be applied twice: a move whose staged file is gone was done);
 * `render --check` and `diff` refuse a folder with a whole journal, saying
 * which command finishes it. A journal cut short was never committed: the
 * old tree is intact. Other programs reading the folder while a journal is
 * applied, or before it is finished, can see it part old, part new.
 *
 * Durability: one syncfs() of the staged files, the journal and its folder
 * fsynced before the first move, one syncfs() after the last, before the
 * journal is removed.
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

#define JOURNAL_FILE "journal"
#define JOURNAL_HEADER "# platformc journal v1\n"
#define JOURNAL_END "# end "

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
				w_fail(w, "`%s` is a symlink; refusing to follow it", disp(w, p, j));
			else if (e == ENOTDIR)
				w_fail(w, "`%s` is in the way of the output folder `%s`: it is not a folder",
				     disp(w, p, j), disp(w, p, len));
			else
				w_fail(w, "cannot open `%s`: %s", disp(w, p, j), strerror(e));
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
				rc = w_fail(w, "cannot move `%s` into place: %s",
					  disp(w, MANIFEST_NAME, strlen(MANIFEST_NAME)), strerror(errno));
			continue;
		}
		if ((op != 'R' && op != 'D') || n < 3 || line[1] != ' ' || !rel_path_is_safe(path)) {
			rc = w_fail(w, "the journal of `%s` names an unsafe step `%s`: refusing to apply it",
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
				rc = w_fail(w, errno == EISDIR || errno == ENOTEMPTY || errno == EEXIST
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
				rc = w_fail(w, "cannot remove the stale file `%s`: %s", disp(w, path, strlen(path)),
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
		rc = w_fail(w, "cannot flush `%s` to disk: %s", w->outdir, strerror(errno));
	return rc;
}

/*
 * Finishes the render a journal left half-applied, before anything else
 * reads the output folder (a write-mode session; a check-mode one refuses
 * while it is pending). A journal cut short was never the commit: its
 * staging folder is a leftover like any other.
 */
int recover_journal(Writer *w)
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
		rc = w_fail(w, "`%s` is part old, part new: a render into it was interrupted while it moved "
			  "its files into place (its journal is `%s/" JOURNAL_FILE "`); run `platformc "
			  "render <platform.yaml> -o %s` to finish it first",
			  w->outdir, disp_parent(w, w->newname), w->outdir);
	} else {
		int outfd = openat(w->parentfd, w->base, DIR_FLAGS);
		int treefd = openat(newfd, STAGING_TREE, DIR_FLAGS);
		if (outfd < 0)
			rc = w_fail(w, "cannot finish the interrupted render of `%s`: %s", w->outdir, strerror(errno));
		else if (apply_journal(w, outfd, treefd, j.data) != 0)
			rc = -1;
		else if (unlinkat(newfd, JOURNAL_FILE, 0) != 0 || fsync(newfd) != 0)
			rc = w_fail(w, "cannot remove the journal `%s/" JOURNAL_FILE "`: %s",
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
int commit_journal(Writer *w, WriterReport *rep, bool same_manifest)
{
	const FileSet *fs = w->fs;
	if (!same_manifest && write_manifest(w) != 0)
		return w_fail(w, "cannot write `%s` (in the staging folder): %s",
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
				return w_fail(w, "cannot inspect `%s` in the staging folder: %s", disp(w, p, strlen(p)),
					    strerror(errno));
			}
			s->id = w_identity(&st, false);
			s->cached = false;
			sb_puts(&j, "R ");
			sb_puts(&j, p);
			sb_putc(&j, '\n');
		}
		/* an untouched file whose old cache entry proved it keeps that
		 * entry (write_cache) */
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
		rc = w_fail(w, "cannot flush the changed files of `%s` to disk: %s", w->outdir, strerror(errno));
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
			rc = w_fail(w, "cannot write the journal `%s/" JOURNAL_FILE "`: %s",
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
			w->manifest_id = w_identity(&st, true);
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
int use_journal(Writer *w)
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
