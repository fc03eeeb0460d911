/*
 * writer_swap.c — comparing generated files with the old tree, walking the
 * old tree (what is carried over), the staging tree, and the whole-tree
 * swap: one of the two ways a render that changes something commits (the
 * other is writer_journal.c; use_journal chooses).
 *
 * Atomicity, as platformc and `render --check` see the folder: after a
 * render killed at any point, the next platformc run that opens the output
 * folder finds it wholly old or wholly new. The whole-tree swap commits
 * when the journal does not (a first render, a file taking a folder's
 * place or the reverse, more than half of the files changing, a staging
 * folder on another file system): the whole new tree is built beside the
 * old one, in `<parent>/.<base>.platformc-new/tree`, then the two
 * directories are swapped with renameat2(RENAME_EXCHANGE). Unchanged files
 * are hard-linked, not copied, so they keep their inode and mtime and the
 * build costs one link per file. A crash at any point leaves <out> wholly
 * old or wholly new, for every reader. Files that are neither listed in
 * the manifest nor generated now belong to the user: they are carried into
 * the new tree by hard link (same inode).
 *
 * Durability: one syncfs() of the staging tree's file system before the
 * swap (so a power cut after the swap cannot expose empty files) and one
 * fsync() of the parent folder after it (so the swap itself is on disk).
 * Per-file fsync would cost a flush per file on 200,000-file trees.
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

/* ---- comparing a generated file with the old tree ---- */

/*
 * Compares the old tree's file at `name` in dirfd with f's bytes: the stat
 * cache vouches for it (one fstatat), or its bytes are read. Sets s->status;
 * OLD_SAME also records which file was compared.
 */
int compare_file(Writer *w, int dirfd, const char *name, const OutFile *f, FileState *s)
{
	struct stat st;
	s->status = OLD_ABSENT;
	if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) != 0) {
		if (errno == ENOENT)
			return 0;
		return w_fail(w, "cannot inspect `%s`: %s", disp(w, f->path, strlen(f->path)),
			    strerror(errno));
	}
	if (S_ISLNK(st.st_mode))
		return w_fail(w, "`%s` is a symlink; refusing to follow it",
			    disp(w, f->path, strlen(f->path)));
	if (S_ISDIR(st.st_mode))
		return 0; /* replaced by a file; a conflict, if any, shows when staging */
	if (!S_ISREG(st.st_mode))
		return w_fail(w, "`%s` is not a regular file or folder",
			    disp(w, f->path, strlen(f->path)));
	s->status = OLD_DIFF;
	if ((size_t)st.st_size != f->len)
		return 0;
	bool same = s->vouched = cache_vouches(w, s, f, &st);
	if (!same) {
		int fd = openat(dirfd, name, READ_FLAGS);
		if (fd < 0)
			return w_fail(w, "cannot read `%s`: %s", disp(w, f->path, strlen(f->path)),
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
				return w_fail(w, "cannot read `%s`: %s", disp(w, f->path, strlen(f->path)),
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
		s->id = w_identity(&st, false);
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
		return w_fail(w, "cannot read `%s`: %s", disp(w, rel->data, rel->len), strerror(errno));
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
			rc = w_fail(w, "cannot inspect `%s`: %s", disp(w, rel->data, rel->len),
				  strerror(errno));
		} else {
			type = S_ISLNK(st.st_mode) ? DT_LNK : S_ISDIR(st.st_mode) ? DT_DIR
				: S_ISREG(st.st_mode) ? DT_REG : DT_FIFO;
		}
		if (rc != 0) {
		} else if (type == DT_LNK) {
			rc = w_fail(w, "`%s` is a symlink; refusing to follow it (the output folder "
				  "must hold no symlinks)", disp(w, rel->data, rel->len));
		} else if (type == DT_DIR) {
			int sub = openat(dirfd(d), name, DIR_FLAGS);
			rc = sub < 0 ? w_fail(w, "cannot open `%s`: %s", disp(w, rel->data, rel->len),
					    strerror(errno))
				     : walk_old(w, sub, rel);
		} else if (type == DT_REG) {
			if (owned_lookup(w, rel->data, hash64(rel->data, rel->len)) < 0)
				add_carry(w, rel->data, IT_CARRY);
		} else {
			rc = w_fail(w, "`%s` is not a regular file or folder",
				  disp(w, rel->data, rel->len));
		}
		rel->len = len;
		if (rel->data)
			rel->data[len] = 0;
	}
	if (rc == 0 && errno)
		rc = w_fail(w, "cannot read `%s`: %s", disp(w, rel->data, rel->len), strerror(errno));
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


/* Walks the old tree once, before anything is written or reported. */
int w_walk(Writer *w)
{
	if (w->walked || w->outfd < 0)
		return w_failed(w) ? -1 : 0;
	w->walked = true;
	StrBuf rel;
	sb_init(&rel);
	sb_reserve(&rel, 0);
	rel.data[0] = 0;
	int fd = openat(w->outfd, ".", DIR_FLAGS);
	int rc = fd < 0 ? w_fail(w, "cannot open `%s`: %s", w->outdir, strerror(errno)) : walk_old(w, fd, &rel);
	sb_free(&rel);
	return rc;
}
/* ---- the staging tree ---- */

/*
 * Makes `<parent>/.<base>.platformc-new/tree`, once: after the whole old
 * tree was walked (a symlink anywhere stops the render before any write)
 * and leftovers of ours were removed.
 */
int start_staging(Writer *w)
{
	if (w->staging)
		return 0;
	if (clean_leftovers(w, true) != 0)
		return -1;
	if (mkdirat(w->parentfd, w->newname, 0777) != 0)
		return w_fail(w, "cannot create the staging folder `%s`: %s",
			    disp_parent(w, w->newname), strerror(errno));
	w->staging = true;
	w->newfd = openat(w->parentfd, w->newname, DIR_FLAGS);
	if (w->newfd < 0 || create_file(w->newfd, STAGING_MARKER,
					"platformc staging folder: safe to delete\n", 41, 0666) != 0)
		return w_fail(w, "cannot create the staging folder `%s`: %s",
			    disp_parent(w, w->newname), strerror(errno));
	if (mkdirat(w->newfd, STAGING_TREE, 0777) != 0)
		return w_fail(w, "cannot create `%s/" STAGING_TREE "`: %s",
			    disp_parent(w, w->newname), strerror(errno));
	w->treefd = openat(w->newfd, STAGING_TREE, DIR_FLAGS);
	if (w->treefd < 0)
		return w_fail(w, "cannot open `%s/" STAGING_TREE "`: %s",
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
			return w_fail(w, errno == ENOTDIR ? "cannot create folder `%s`: a file of the new tree is there (%s)"
							: "cannot create folder `%s`: %s",
				    disp(w, path, j), strerror(errno));
	}
	w->made.len = 0;
	sb_putn(&w->made, path, len);
	return 0;
}

/* Writes generated file i into the staging tree and records its identity. */
int write_new(Writer *w, const OutFile *f, FileState *s)
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
		return w_fail(w, e == EEXIST ? "internal error: output `%s` is also a folder of other outputs "
				     "(in the staging folder `%s`: %s)"
			    : e == ENOTDIR ? "cannot write `%s`: a file of the new tree is where its folder "
					     "goes (in the staging folder `%s`): %s"
					   : "cannot write `%s` (in the staging folder `%s`): %s",
			    disp(w, path, strlen(path)), disp_parent(w, w->newname), strerror(e));
	s->written = true;
	w_record(w, s, &st);
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
		    w_identity(&st, false) == w->st[it->file].id)
			return 0;
		if (unlinkat(w->treefd, p, 0) != 0)
			return w_fail(w, "cannot unlink `%s` in the staging folder: %s", SHOWN, strerror(errno));
	} else if (r == 1) {
		e = errno;
	}
	if (it->kind == IT_GEN) {
		if (r == 1 && e != ENOENT && !link_unsupported(e))
			return w_fail(w, "cannot link `%s` into the new tree: %s", SHOWN, strerror(e));
		/* Its bytes are gone (freed once compared): it can only be copied
		 * from the old tree, and must still be what was compared. */
		if (r == 1 && copy_checked(w, ds_fd(&w->old), name, p, &w->fs->files[it->file]) == 0)
			return 0;
		e = r == 1 ? errno : ENOENT;
		return w_fail(w, e == ENOENT || e == ESTALE
			    ? "`%s` changed while platformc was rendering; run it again (%s)"
			    : "cannot copy `%s` into the new tree: %s", SHOWN, strerror(e));
	}
	if (r == 1 && link_unsupported(e)) {
		if (copy_file(w, ds_fd(&w->old), name, w->treefd, p) == 0)
			return 0;
		e = errno;
	}
	return w_fail(w, e == EEXIST ? "cannot carry over `%s` (not platformc's): an output of "
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
int write_manifest(Writer *w)
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
		w->manifest_id = w_identity(&st, true);
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
int build_staging(Writer *w)
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
		return w_fail(w, "cannot write `%s` (in the staging folder): %s",
			    disp(w, MANIFEST_NAME, strlen(MANIFEST_NAME)), strerror(errno));
	/* everything must be on disk before the swap makes it visible */
	if (syncfs(w->treefd) != 0)
		return w_fail(w, "cannot flush the new tree of `%s` to disk: %s", w->outdir,
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
int swap_in(Writer *w, int newfd)
{
	if (w->outfd < 0) {
		if (rename2(newfd, STAGING_TREE, w->parentfd, w->base, RENAME_NOREPLACE) == 0)
			return 0;
		if ((errno == EINVAL || errno == ENOSYS) &&
		    renameat(newfd, STAGING_TREE, w->parentfd, w->base) == 0)
			return 0;
		return w_fail(w, "cannot move the new tree into place as `%s`: %s", w->outdir,
			    strerror(errno));
	}
	if (rename2(newfd, STAGING_TREE, w->parentfd, w->base, RENAME_EXCHANGE) == 0)
		return 0;
	if (errno != EINVAL && errno != ENOSYS && errno != ENOTSUP && errno != EOPNOTSUPP)
		return w_fail(w, "cannot swap the new tree into `%s`: %s", w->outdir, strerror(errno));
	if (mkdirat(w->parentfd, w->oldname, 0777) != 0)
		return w_fail(w, "cannot create `%s`: %s", disp_parent(w, w->oldname), strerror(errno));
	int oldfd = openat(w->parentfd, w->oldname, DIR_FLAGS);
	if (oldfd < 0 || create_file(oldfd, STAGING_MARKER, "", 0, 0666) != 0) {
		int e = errno;
		close_fd(&oldfd);
		remove_staging(w->parentfd, w->oldname);
		return w_fail(w, "cannot create `%s`: %s", disp_parent(w, w->oldname), strerror(e));
	}
	int rc = 0;
	bool stuck = false; /* the old tree could not be put back: keep it */
	if (renameat(w->parentfd, w->base, oldfd, STAGING_TREE) != 0) {
		rc = w_fail(w, "cannot move `%s` aside: %s", w->outdir, strerror(errno));
	} else if (renameat(newfd, STAGING_TREE, w->parentfd, w->base) != 0) {
		int e = errno;
		if (renameat(oldfd, STAGING_TREE, w->parentfd, w->base) != 0) {
			stuck = true;
			rc = w_fail(w, "cannot move the new tree into place as `%s` (%s), nor put "
				  "the old one back (%s): it is in `%s/" STAGING_TREE "`, and the "
				  "next render restores it", w->outdir, strerror(e), strerror(errno),
				  disp_parent(w, w->oldname));
		} else {
			rc = w_fail(w, "cannot move the new tree into place as `%s`: %s", w->outdir,
				  strerror(e));
		}
	}
	close_fd(&oldfd);
	if (!stuck)
		remove_staging(w->parentfd, w->oldname);
	return rc;
}
