/*
 * test_writer.c — the writer (writer*.c) against real folders (guide §7): ownership,
 * no-op renders, symlink refusal, tampered manifests, leftovers of
 * interrupted renders, write failures and SIGKILL at random moments.
 * Each test works in its own mkdtemp folder under $TMPDIR (default /tmp)
 * and removes it; the test suite points TMPDIR at tmpfs when it can.
 */
#include "platformc.h"
#include "unit.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define ERRLEN 512

/* ---- helpers ---- */

static char *tmpdir(void)
{
	const char *base = getenv("TMPDIR");
	char t[4096];
	snprintf(t, sizeof t, "%s/platformc-writer.XXXXXX", base && *base ? base : "/tmp");
	char *d = mkdtemp(t);
	if (!d) {
		perror("mkdtemp");
		abort();
	}
	return xstrdup(d);
}

static int rm_cb(const char *p, const struct stat *st, int flag, struct FTW *f)
{
	(void)st, (void)flag, (void)f;
	return remove(p);
}

static void rm_rf(char *dir)
{
	nftw(dir, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
	free(dir);
}

/* A path inside a test folder; a small ring of buffers so that several
 * can be used in one expression. */
static const char *P(const char *dir, const char *rel)
{
	static char bufs[8][4096];
	static int k;
	char *b = bufs[k++ % 8];
	snprintf(b, sizeof bufs[0], "%s/%s", dir, rel);
	return b;
}

static void put(const char *path, const char *text)
{
	FILE *f = fopen(path, "wb");
	if (!f) {
		perror(path);
		abort();
	}
	fputs(text, f);
	fclose(f);
}

static char *get(const char *path)
{
	return read_file_all(path, NULL);
}

static bool exists(const char *path)
{
	struct stat st;
	return lstat(path, &st) == 0;
}

static ino_t inode_of(const char *path)
{
	struct stat st;
	return lstat(path, &st) == 0 ? st.st_ino : 0;
}

/* Builds a FileSet from (path, text) pairs ending with NULL. */
static void mkset(FileSet *fs, Arena *a, ...)
{
	fileset_init(fs, a);
	va_list ap;
	va_start(ap, a);
	for (const char *p; (p = va_arg(ap, const char *));)
		fileset_add_text(fs, p, va_arg(ap, const char *));
	va_end(ap);
	fileset_sort(fs);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/*
 * A sorted recursive listing of `dir`. With `meta`, inode, mode, size and
 * mtime of every entry (folders too) are included, so equal listings mean
 * that nothing was written at all; without, paths, types and contents only.
 */
static void list_rec(const char *dir, const char *rel, bool meta, char ***v, int *n)
{
	DIR *d = opendir(dir);
	if (!d)
		return;
	struct dirent *e;
	while ((e = readdir(d))) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		char path[4096], r[4096];
		snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
		snprintf(r, sizeof r, "%s%s%s", rel, *rel ? "/" : "", e->d_name);
		struct stat st;
		if (lstat(path, &st) != 0)
			continue;
		StrBuf b;
		sb_init(&b);
		sb_printf(&b, "%s %c", r, S_ISDIR(st.st_mode) ? 'd' : S_ISLNK(st.st_mode) ? 'l' : 'f');
		if (meta)
			sb_printf(&b, " ino=%llu mode=%o size=%lld mtime=%lld.%09ld",
				  (unsigned long long)st.st_ino, (unsigned)st.st_mode,
				  (long long)st.st_size, (long long)st.st_mtim.tv_sec,
				  st.st_mtim.tv_nsec);
		if (S_ISREG(st.st_mode)) {
			char *c = get(path);
			sb_printf(&b, " = %s", c ? c : "?");
			free(c);
		} else if (S_ISLNK(st.st_mode)) {
			char t[4096];
			ssize_t k = readlink(path, t, sizeof t - 1);
			t[k < 0 ? 0 : k] = 0;
			sb_printf(&b, " -> %s", t);
		}
		*v = xrealloc(*v, (size_t)(*n + 1) * sizeof **v);
		(*v)[(*n)++] = sb_detach(&b);
		if (S_ISDIR(st.st_mode))
			list_rec(path, r, meta, v, n);
	}
	closedir(d);
}

static char *listing(const char *dir, bool meta)
{
	char **v = NULL;
	int n = 0;
	StrBuf b;
	sb_init(&b);
	struct stat st;
	if (meta && lstat(dir, &st) == 0)
		sb_printf(&b, "root ino=%llu mtime=%lld.%09ld\n", (unsigned long long)st.st_ino,
			  (long long)st.st_mtim.tv_sec, st.st_mtim.tv_nsec);
	list_rec(dir, "", meta, &v, &n);
	qsort(v, (size_t)n, sizeof *v, cmp_str);
	for (int i = 0; i < n; i++) {
		sb_printf(&b, "%s\n", v[i]);
		free(v[i]);
	}
	free(v);
	return sb_detach(&b);
}

static int render(const FileSet *fs, const char *out, char *err)
{
	WriterReport rep;
	int rc = writer_run(fs, out, WR_WRITE, &rep, err, ERRLEN);
	writer_report_free(&rep);
	return rc;
}

/* The staging folders of `base` inside `dir`: none may remain. */
static bool no_staging(const char *dir, const char *base)
{
	char a[4096], b[4096];
	snprintf(a, sizeof a, "%s/.%s.platformc-new", dir, base);
	snprintf(b, sizeof b, "%s/.%s.platformc-old", dir, base);
	return !exists(a) && !exists(b);
}

#define CHECK_LISTING(dir, before)                                              \
	do {                                                                    \
		char *after_ = listing((dir), true);                            \
		CHECK_STR(after_, (before));                                    \
		free(after_);                                                   \
	} while (0)

/* The same below `dir`: its own mtime may change (a staging folder beside
 * the output folder came and went). */
#define CHECK_LISTING_BELOW(dir, before)                                        \
	do {                                                                    \
		char *after_ = listing((dir), true);                            \
		const char *after_nl = strchr(after_, '\n'), *before_nl = strchr((before), '\n'); \
		CHECK_STR(after_nl ? after_nl : after_, before_nl ? before_nl : (before)); \
		free(after_);                                                   \
	} while (0)

/* ---- tests ---- */

TEST(writer_first_render_writes_files_and_manifest)
{
	char *d = tmpdir(), err[ERRLEN];
	Arena *a = arena_new();
	FileSet fs;
	mkset(&fs, a, "b.yaml", "b\n", "a/x.yaml", "x\n", "a/y/z.json", "{}\n", NULL);
	char out[4096];
	snprintf(out, sizeof out, "%s/out", d);
	WriterReport rep;
	CHECK(writer_run(&fs, out, WR_WRITE, &rep, err, sizeof err) == 0);
	CHECK(rep.added == 3 && rep.changed == 0 && rep.removed == 0 && rep.unchanged == 0);
	CHECK(rep.nlines == 0);
	writer_report_free(&rep);
	char *c = get(P(out, "a/y/z.json"));
	CHECK_STR(c, "{}\n");
	free(c);
	c = get(P(out, MANIFEST_NAME));
	CHECK_STR(c, "# platformc manifest v1\na/x.yaml\na/y/z.json\nb.yaml\n");
	free(c);
	CHECK(no_staging(d, "out"));
	fileset_free(&fs);
	arena_free(a);
	rm_rf(d);
}

TEST(writer_noop_rerender_touches_nothing)
{
	char *d = tmpdir(), err[ERRLEN];
	Arena *a = arena_new();
	FileSet fs;
	mkset(&fs, a, "a.yaml", "a\n", "d/b.yaml", "b\n", NULL);
	char out[4096];
	snprintf(out, sizeof out, "%s/out", d);
	CHECK(render(&fs, out, err) == 0);
	put(P(out, "user.txt"), "mine\n");
	char *before = listing(d, true);
	struct timespec ts = { 0, 20 * 1000 * 1000 };
	nanosleep(&ts, NULL); /* any write would now show in an mtime */
	WriterReport rep;
	CHECK(writer_run(&fs, out, WR_WRITE, &rep, err, sizeof err) == 0);
	CHECK(rep.unchanged == 2 && rep.added == 0 && rep.changed == 0 && rep.removed == 0);
	writer_report_free(&rep);
	CHECK_LISTING(d, before);
	/* relative path, trailing slash: same folder, still nothing to do */
	char cwd[4096];
	CHECK(getcwd(cwd, sizeof cwd) != NULL);
	CHECK(chdir(d) == 0);
	CHECK(render(&fs, "out/", err) == 0);
	CHECK(render(&fs, "./out", err) == 0);
	CHECK(chdir(cwd) == 0);
	CHECK_LISTING(d, before);
	free(before);
	fileset_free(&fs);
	arena_free(a);
	rm_rf(d);
}

TEST(writer_change_rewrites_only_changed_files)
{
	char *d = tmpdir(), err[ERRLEN];
	Arena *a = arena_new();
	FileSet fs1, fs2;
	mkset(&fs1, a, "a.yaml", "a\n", "b.yaml", "b\n", "d/c.yaml", "c\n", NULL);
	mkset(&fs2, a, "a.yaml", "a\n", "b.yaml", "B!\n", "d/c.yaml", "c\n", NULL);
	char out[4096];
	snprintf(out, sizeof out, "%s/out", d);
	CHECK(render(&fs1, out, err) == 0);
	ino_t ia = inode_of(P(out, "a.yaml")), ic = inode_of(P(out, "d/c.yaml"));
	ino_t ib = inode_of(P(out, "b.yaml"));
	struct stat st0, st1;
	CHECK(stat(P(out, "a.yaml"), &st0) == 0);
	WriterReport rep;
	CHECK(writer_run(&fs2, out, WR_WRITE, &rep, err, sizeof err) == 0);
	CHECK(rep.changed == 1 && rep.unchanged == 2 && rep.added == 0 && rep.removed == 0);
	writer_report_free(&rep);
	char *c = get(P(out, "b.yaml"));
	CHECK_STR(c, "B!\n");
	free(c);
	CHECK(inode_of(P(out, "a.yaml")) == ia);
	CHECK(inode_of(P(out, "d/c.yaml")) == ic);
	CHECK(inode_of(P(out, "b.yaml")) != ib);
	CHECK(stat(P(out, "a.yaml"), &st1) == 0);
	CHECK(st0.st_mtim.tv_sec == st1.st_mtim.tv_sec && st0.st_mtim.tv_nsec == st1.st_mtim.tv_nsec);
	CHECK(no_staging(d, "out"));
	fileset_free(&fs1);
	fileset_free(&fs2);
	arena_free(a);
	rm_rf(d);
}

TEST(writer_removed_output_is_pruned)
{
	char *d = tmpdir(), err[ERRLEN];
	Arena *a = arena_new();
	FileSet fs1, fs2;
	mkset(&fs1, a, "a.yaml", "a\n", "gone/b.yaml", "b\n", "keep/c.yaml", "c\n", NULL);
	mkset(&fs2, a, "a.yaml", "a\n", "keep/c.yaml", "c\n", NULL);
	char out[4096];
	snprintf(out, sizeof out, "%s/out", d);
	CHECK(render(&fs1, out, err) == 0);
	CHECK(mkdir(P(out, "userempty"), 0777) == 0);
	WriterReport rep;
	CHECK(writer_run(&fs2, out, WR_WRITE, &rep, err, sizeof err) == 0);
	CHECK(rep.removed == 1 && rep.unchanged == 2);
	writer_report_free(&rep);
	CHECK(!exists(P(out, "gone/b.yaml")));
	CHECK(!exists(P(out, "gone"))); /* emptied by platformc: pruned */
	CHECK(exists(P(out, "userempty"))); /* empty before: the user's, kept */
	char *c = get(P(out, MANIFEST_NAME));
	CHECK_STR(c, "# platformc manifest v1\na.yaml\nkeep/c.yaml\n");
	free(c);
	fileset_free(&fs1);
	fileset_free(&fs2);
	arena_free(a);
	rm_rf(d);
}

TEST(writer_user_files_survive_and_are_never_reported)
{
	char *d = tmpdir(), err[ERRLEN];
	Arena *a = arena_new();
	FileSet fs1, fs2;
	mkset(&fs1, a, "a.yaml", "a\n", "d/b.yaml", "b\n", NULL);
	mkset(&fs2, a, "a.yaml", "a2\n", NULL);
	char out[4096];
	snprintf(out, sizeof out, "%s/out", d);
	CHECK(render(&fs1, out, err) == 0);
	put(P(out, "README.md"), "hand-written\n");
	put(P(out, "d/notes.txt"), "notes\n");
	CHECK(chmod(P(out, "d/notes.txt"), 0600) == 0);
	ino_t ir = inode_of(P(out, "README.md")), in = inode_of(P(out, "d/notes.txt"));
	WriterReport rep;
	CHECK(writer_run(&fs2, out, WR_CHECK, &rep, err, sizeof err) == 0);
	CHECK(rep.nlines == 2);
	if (rep.nlines == 2) {
		CHECK_STR(rep.lines[0], "changed: a.yaml");
		CHECK_STR(rep.lines[1], "stale: d/b.yaml");
	}
	writer_report_free(&rep);
	CHECK(render(&fs2, out, err) == 0);
	CHECK(inode_of(P(out, "README.md")) == ir);
	CHECK(inode_of(P(out, "d/notes.txt")) == in);
	struct stat st;
	CHECK(stat(P(out, "d/notes.txt"), &st) == 0 && (st.st_mode & 0777) == 0600);
	CHECK(!exists(P(out, "d/b.yaml")));
	char *c = get(P(out, "README.md"));
	CHECK_STR(c, "hand-written\n");
	free(c);
	/* the user's files are not in the manifest */
	c = get(P(out, MANIFEST_NAME));
	CHECK_STR(c, "# platformc manifest v1\na.yaml\n");
	free(c);
	CHECK(writer_run(&fs2, out, WR_CHECK, &rep, err, sizeof err) == 0);
	CHECK(rep.nlines == 0 && rep.unchanged == 1);
	writer_report_free(&rep);
	fileset_free(&fs1);
	fileset_free(&fs2);
	arena_free(a);
	rm_rf(d);
}

TEST(writer_check_reports_and_writes_nothing)
{
	char *d = tmpdir(), err[ERRLEN];
	Arena *a = arena_new();
	FileSet fs1, fs2;
	mkset(&fs1, a, "a", "a\n", "b", "b\n", "c/d", "d\n", NULL);
	mkset(&fs2, a, "a", "a\n", "b", "b2\n", "c/e", "e\n", NULL);
	char out[4096];
	snprintf(out, sizeof out, "%s/out", d);
	WriterReport rep;
	/* no output folder yet: everything is added, nothing is created */
	CHECK(writer_run(&fs1, out, WR_CHECK, &rep, err, sizeof err) == 0);
	CHECK(rep.added == 3 && rep.nlines == 3);
	if (rep.nlines == 3)
		CHECK_STR(rep.lines[2], "added: c/d");
	writer_report_free(&rep);
	CHECK(!exists(out));
	CHECK(render(&fs1, out, err) == 0);
	put(P(out, "user"), "u\n");
	char *before = listing(d, true);
	CHECK(writer_run(&fs2, out, WR_CHECK, &rep, err, sizeof err) == 0);
	CHECK(rep.added == 1 && rep.changed == 1 && rep.removed == 1 && rep.unchanged == 1);
	CHECK(rep.nlines == 3);
	if (rep.nlines == 3) {
		CHECK_STR(rep.lines[0], "changed: b");
		CHECK_STR(rep.lines[1], "stale: c/d");
		CHECK_STR(rep.lines[2], "added: c/e");
	}
	writer_report_free(&rep);
	CHECK_LISTING(d, before);
	free(before);
	/* a missing manifest is not a line; identical files stay unchanged */
	CHECK(unlink(P(out, MANIFEST_NAME)) == 0);
	CHECK(writer_run(&fs1, out, WR_CHECK, &rep, err, sizeof err) == 0);
	CHECK(rep.nlines == 0 && rep.unchanged == 3);
	writer_report_free(&rep);
	/* ... and the next render puts it back, keeping the files' inodes */
	ino_t ia = inode_of(P(out, "a"));
	CHECK(render(&fs1, out, err) == 0);
	CHECK(exists(P(out, MANIFEST_NAME)));
	CHECK(inode_of(P(out, "a")) == ia);
	fileset_free(&fs1);
	fileset_free(&fs2);
	arena_free(a);
	rm_rf(d);
}

TEST(writer_refuses_symlinked_outdir)
{
	char *d = tmpdir(), err[ERRLEN];
	Arena *a = arena_new();
	FileSet fs;
	mkset(&fs, a, "a.yaml", "a\n", NULL);
	CHECK(mkdir(P(d, "real"), 0777) == 0);
	put(P(d, "real/precious"), "p\n");
	CHECK(symlink("real", P(d, "out")) == 0);
	char *before = listing(d, true);
	WriterReport rep;
	CHECK(writer_run(&fs, P(d, "out"), WR_WRITE, &rep, err, sizeof err) == -1);
	CHECK(strstr(err, "is a symlink; refusing to follow it") != NULL);
	CHECK(writer_run(&fs, P(d, "out"), WR_CHECK, &rep, err, sizeof err) == -1);
	CHECK_LISTING(d, before);
	free(before);
	fileset_free(&fs);
	arena_free(a);
	rm_rf(d);
}

TEST(writer_refuses_symlinks_inside)
{
	char *d = tmpdir(), err[ERRLEN];
	Arena *a = arena_new();
	FileSet fs1, fs2;
	mkset(&fs1, a, "a.yaml", "a\n", "c/d.yaml", "d\n", NULL);
	mkset(&fs2, a, "a.yaml", "A\n", "c/d.yaml", "D\n", NULL);
	char out[4096];
	snprintf(out, sizeof out, "%s/out", d);
	CHECK(render(&fs1, out, err) == 0);
	CHECK(mkdir(P(d, "elsewhere"), 0777) == 0);
	put(P(d, "elsewhere/d.yaml"), "secret\n");
	put(P(d, "secret"), "secret\n");

	/* a generated file that is a symlink */
	CHECK(unlink(P(out, "a.yaml")) == 0);
	CHECK(symlink("../secret", P(out, "a.yaml")) == 0);
	char *before = listing(d, true);
	CHECK(render(&fs2, out, err) == -1);
	CHECK(strstr(err, "out/a.yaml` is a symlink") != NULL);
	WriterReport rep;
	CHECK(writer_run(&fs2, out, WR_CHECK, &rep, err, sizeof err) == -1);
	CHECK_LISTING(d, before);
	free(before);
	CHECK(unlink(P(out, "a.yaml")) == 0);
	put(P(out, "a.yaml"), "a\n");

	/* a folder on the way to a generated file that is a symlink (a.yaml,
	 * which differs, came first: the staging folder beside `out` came and
	 * went, nothing else changed) */
	CHECK(rm_cb(P(out, "c/d.yaml"), NULL, 0, NULL) == 0);
	CHECK(rmdir(P(out, "c")) == 0);
	CHECK(symlink("../elsewhere", P(out, "c")) == 0);
	before = listing(d, true);
	CHECK(render(&fs2, out, err) == -1);
	CHECK(strstr(err, "out/c` is a symlink") != NULL);
	CHECK_LISTING_BELOW(d, before);
	free(before);
	CHECK(unlink(P(out, "c")) == 0);

	/* a symlink the user put anywhere else: a render that must rebuild
	 * the tree (every file changes) refuses it too */
	CHECK(symlink("/etc", P(out, "etc")) == 0);
	before = listing(d, true);
	CHECK(render(&fs2, out, err) == -1);
	CHECK(strstr(err, "out/etc` is a symlink") != NULL);
	CHECK_LISTING_BELOW(d, before);
	free(before);
	fileset_free(&fs1);
	fileset_free(&fs2);
	arena_free(a);
	rm_rf(d);
}

TEST(writer_refuses_tampered_manifest)
{
	static const char *const bad[] = { "../x", "/etc/passwd", "a//b", "./a", "a/./b", "a/..",
					   "a/", "." };
	char *d = tmpdir(), err[ERRLEN];
	Arena *a = arena_new();
	FileSet fs1, fs2;
	mkset(&fs1, a, "a.yaml", "a\n", NULL);
	mkset(&fs2, a, "b.yaml", "b\n", NULL);
	char out[4096];
	snprintf(out, sizeof out, "%s/out", d);
	CHECK(render(&fs1, out, err) == 0);
	put(P(d, "x"), "victim\n");
	for (size_t i = 0; i < ARRAY_LEN(bad); i++) {
		char man[256], want[256];
		snprintf(man, sizeof man, "# platformc manifest v1\na.yaml\n%s\n", bad[i]);
		put(P(out, MANIFEST_NAME), man);
		char *before = listing(d, true);
		CHECK(render(&fs2, out, err) == -1);
		snprintf(want, sizeof want, "manifest names an unsafe path `%s`: refusing to touch it",
			 bad[i]);
		CHECK_STR(err, want);
		WriterReport rep;
		CHECK(writer_run(&fs2, out, WR_CHECK, &rep, err, sizeof err) == -1);
		CHECK_LISTING(d, before);
		free(before);
	}
	put(P(out, MANIFEST_NAME), "a.yaml\n");
	CHECK(render(&fs2, out, err) == -1);
	CHECK(strstr(err, "is not a platformc manifest") != NULL);
	CHECK(exists(P(out, "a.yaml")));
	fileset_free(&fs1);
	fileset_free(&fs2);
	arena_free(a);
	rm_rf(d);
}

TEST(writer_cleans_marked_leftovers)
{
	char *d = tmpdir(), err[ERRLEN];
	Arena *a = arena_new();
	FileSet fs1, fs2;
	mkset(&fs1, a, "a.yaml", "a\n", NULL);
	mkset(&fs2, a, "a.yaml", "a2\n", NULL);
	char out[4096];
	snprintf(out, sizeof out, "%s/out", d);
	CHECK(render(&fs1, out, err) == 0);
	/* as a kill in the middle of staging leaves it */
	CHECK(mkdir(P(d, ".out.platformc-new"), 0777) == 0);
	put(P(d, ".out.platformc-new/.platformc-staging"), "");
	CHECK(mkdir(P(d, ".out.platformc-new/tree"), 0777) == 0);
	CHECK(mkdir(P(d, ".out.platformc-new/tree/sub"), 0777) == 0);
	put(P(d, ".out.platformc-new/tree/sub/half"), "hal");
	CHECK(symlink("/etc", P(d, ".out.platformc-new/tree/sub/link")) == 0);
	/* as a kill right after its mkdir leaves it */
	CHECK(mkdir(P(d, ".out.platformc-old"), 0777) == 0);
	CHECK(render(&fs2, out, err) == 0);
	CHECK(no_staging(d, "out"));
	char *c = get(P(out, "a.yaml"));
	CHECK_STR(c, "a2\n");
	free(c);
	/* a render with nothing to do still removes leftovers of ours */
	CHECK(mkdir(P(d, ".out.platformc-new"), 0777) == 0);
	put(P(d, ".out.platformc-new/.platformc-staging"), "");
	CHECK(render(&fs2, out, err) == 0);
	CHECK(no_staging(d, "out"));
	CHECK(exists("/etc"));
	fileset_free(&fs1);
	fileset_free(&fs2);
	arena_free(a);
	rm_rf(d);
}

TEST(writer_refuses_unmarked_staging_folder)
{
	char *d = tmpdir(), err[ERRLEN];
	Arena *a = arena_new();
	FileSet fs1, fs2;
	mkset(&fs1, a, "a.yaml", "a\n", NULL);
	mkset(&fs2, a, "a.yaml", "a2\n", NULL);
	char out[4096];
	snprintf(out, sizeof out, "%s/out", d);
	CHECK(render(&fs1, out, err) == 0);
	CHECK(mkdir(P(d, ".out.platformc-new"), 0777) == 0);
	put(P(d, ".out.platformc-new/important"), "not yours\n");
	char *before = listing(d, true);
	CHECK(render(&fs2, out, err) == -1);
	CHECK(strstr(err, "was not made by platformc") != NULL);
	CHECK_LISTING(d, before);
	/* with nothing to do, the folder is not needed and is left alone */
	CHECK(render(&fs1, out, err) == 0);
	CHECK_LISTING(d, before);
	free(before);
	/* a regular file with that name: the same */
	CHECK(rm_cb(P(d, ".out.platformc-new/important"), NULL, 0, NULL) == 0);
	CHECK(rmdir(P(d, ".out.platformc-new")) == 0);
	put(P(d, ".out.platformc-old"), "file\n");
	before = listing(d, true);
	CHECK(render(&fs2, out, err) == -1);
	CHECK_LISTING(d, before);
	free(before);
	fileset_free(&fs1);
	fileset_free(&fs2);
	arena_free(a);
	rm_rf(d);
}

TEST(writer_restores_tree_moved_aside_by_fallback_swap)
{
	char *d = tmpdir(), err[ERRLEN];
	Arena *a = arena_new();
	FileSet fs1, fs2;
	mkset(&fs1, a, "a.yaml", "a\n", "b.yaml", "b\n", NULL);
	mkset(&fs2, a, "a.yaml", "a2\n", NULL);
	char out[4096];
	snprintf(out, sizeof out, "%s/out", d);
	CHECK(render(&fs1, out, err) == 0);
	put(P(out, "user"), "u\n");
	/* a crash between the two renames of the fallback swap */
	CHECK(mkdir(P(d, ".out.platformc-old"), 0777) == 0);
	put(P(d, ".out.platformc-old/.platformc-staging"), "");
	CHECK(rename(out, P(d, ".out.platformc-old/tree")) == 0);
	CHECK(render(&fs2, out, err) == 0);
	char *c = get(P(out, "user"));
	CHECK_STR(c, "u\n");
	free(c);
	CHECK(!exists(P(out, "b.yaml"))); /* it knew b.yaml was its own */
	CHECK(no_staging(d, "out"));
	fileset_free(&fs1);
	fileset_free(&fs2);
	arena_free(a);
	rm_rf(d);
}

/* Writes `<d>/.out.platformc-new/journal` with the lines given and the
 * hash line the writer ends a whole journal with (or a wrong one). */
static void put_journal(const char *d, const char *lines, bool whole)
{
	char text[4096];
	int n = snprintf(text, sizeof text, "# platformc journal v1\n%s", lines);
	snprintf(text + n, sizeof text - (size_t)n, "# end %016llx\n",
		 (unsigned long long)(hash64(text, (size_t)n) + !whole));
	put(P(d, ".out.platformc-new/journal"), text);
}

TEST(writer_journal_commit_touches_only_changed_files)
{
	char *d = tmpdir(), err[ERRLEN];
	Arena *a = arena_new();
	FileSet fs1, fs2;
	/* 3 of 8 files change: at most half, a journal commit */
	mkset(&fs1, a, "a.yaml", "a\n", "b.yaml", "b\n", "c.yaml", "c\n", "d/e.yaml", "e\n", "d/f.yaml", "f\n",
	      "d/g.yaml", "g\n", "h.yaml", "h\n", "old/x.yaml", "x\n", NULL);
	mkset(&fs2, a, "a.yaml", "a\n", "b.yaml", "B\n", "c.yaml", "c\n", "d/e.yaml", "e\n", "d/f.yaml", "f\n",
	      "d/g.yaml", "g\n", "h.yaml", "h\n", "n/new.yaml", "n\n", NULL);
	char out[4096];
	snprintf(out, sizeof out, "%s/out", d);
	CHECK(render(&fs1, out, err) == 0);
	ino_t root = inode_of(out), ia = inode_of(P(out, "a.yaml")), ib = inode_of(P(out, "b.yaml"));
	CHECK(render(&fs2, out, err) == 0);
	/* the output folder itself stays (no swap); untouched files keep their inode */
	CHECK(inode_of(out) == root);
	CHECK(inode_of(P(out, "a.yaml")) == ia);
	CHECK(inode_of(P(out, "b.yaml")) != ib);
	CHECK(!exists(P(out, "old"))); /* emptied by the stale file: pruned */
	char *c = get(P(out, "n/new.yaml"));
	CHECK_STR(c, "n\n");
	free(c);
	CHECK(no_staging(d, "out"));
	/* the stat cache it left vouches for every file: the untouched ones
	 * by their old entries, the moved ones as they are now */
	WriterReport rep;
	CHECK(writer_run(&fs2, out, WR_CHECK, &rep, err, sizeof err) == 0 && rep.nlines == 0);
	CHECK(rep.vouched == 8);
	writer_report_free(&rep);
	fileset_free(&fs1);
	fileset_free(&fs2);
	arena_free(a);
	rm_rf(d);
}

TEST(writer_finishes_a_pending_journal)
{
	char *d = tmpdir(), err[ERRLEN];
	Arena *a = arena_new();
	FileSet fs1, fs2;
	mkset(&fs1, a, "a.yaml", "a\n", "d/c.yaml", "c\n", "old/x.yaml", "x\n", NULL);
	mkset(&fs2, a, "a.yaml", "A\n", "d/c.yaml", "c\n", "n/new.yaml", "N\n", NULL);
	char out[4096], ref[4096];
	snprintf(out, sizeof out, "%s/out", d);
	snprintf(ref, sizeof ref, "%s/ref", d);
	CHECK(render(&fs2, ref, err) == 0);
	char *want = listing(ref, false);
	CHECK(render(&fs1, out, err) == 0);
	put(P(out, "user.txt"), "mine\n");
	/* a render killed after its journal was whole and its first move done */
	CHECK(mkdir(P(d, ".out.platformc-new"), 0777) == 0);
	put(P(d, ".out.platformc-new/.platformc-staging"), "");
	CHECK(mkdir(P(d, ".out.platformc-new/tree"), 0777) == 0);
	CHECK(mkdir(P(d, ".out.platformc-new/tree/n"), 0777) == 0);
	put(P(d, ".out.platformc-new/tree/n/new.yaml"), "N\n");
	put(P(d, ".out.platformc-new/tree/.platformc-manifest"),
	    "# platformc manifest v1\na.yaml\nd/c.yaml\nn/new.yaml\n");
	put(P(out, "a.yaml"), "A\n");
	put_journal(d, "R a.yaml\nR n/new.yaml\nD old/x.yaml\nM\n", true);
	/* read-only: refused, naming the command that finishes it */
	WriterReport rep;
	CHECK(writer_run(&fs2, out, WR_CHECK, &rep, err, sizeof err) == -1);
	CHECK(strstr(err, "part old, part new") && strstr(err, "platformc render"));
	CHECK(writer_pending(out, err, sizeof err));
	CHECK(exists(P(d, ".out.platformc-new/journal")));
	/* any render into it finishes it first */
	CHECK(render(&fs2, out, err) == 0);
	CHECK(!writer_pending(out, err, sizeof err));
	CHECK(no_staging(d, "out"));
	CHECK(unlink(P(out, "user.txt")) == 0);
	char *got = listing(out, false);
	CHECK_STR(got, want);
	free(got);

	/* a journal cut short was never the commit: the tree is left as it
	 * was, the leftover removed by the next render */
	CHECK(render(&fs1, out, err) == 0);
	CHECK(mkdir(P(d, ".out.platformc-new"), 0777) == 0);
	put(P(d, ".out.platformc-new/.platformc-staging"), "");
	CHECK(mkdir(P(d, ".out.platformc-new/tree"), 0777) == 0);
	put(P(d, ".out.platformc-new/tree/a.yaml"), "A\n");
	put_journal(d, "R a.yaml\n", false);
	CHECK(!writer_pending(out, err, sizeof err));
	CHECK(writer_run(&fs1, out, WR_CHECK, &rep, err, sizeof err) == 0 && rep.nlines == 0);
	writer_report_free(&rep);
	CHECK(render(&fs2, out, err) == 0);
	CHECK(no_staging(d, "out"));
	got = listing(out, false);
	CHECK_STR(got, want);
	free(got);
	free(want);
	fileset_free(&fs1);
	fileset_free(&fs2);
	arena_free(a);
	rm_rf(d);
}

TEST(writer_write_failure_leaves_outdir_as_before)
{
	char *d = tmpdir(), err[ERRLEN];
	Arena *a = arena_new();
	FileSet fs1, fs2;
	mkset(&fs1, a, "a.yaml", "a\n", "z.yaml", "z\n", NULL);
	fileset_init(&fs2, a);
	fileset_add_text(&fs2, "a.yaml", "a2\n");
	size_t big = 1024 * 1024;
	char *data = xmalloc(big);
	memset(data, 'x', big);
	fileset_add(&fs2, "m/big.yaml", data, big);
	fileset_add_text(&fs2, "z.yaml", "z2\n");
	fileset_sort(&fs2);
	char out[4096];
	snprintf(out, sizeof out, "%s/out", d);
	CHECK(render(&fs1, out, err) == 0);
	put(P(out, "user"), "u\n");
	/* the staging folder is made and removed beside it: out is untouched */
	char *before = listing(out, true);
	/* a full disk, simulated: writes beyond 256 KiB fail with EFBIG */
	struct rlimit old, lim;
	CHECK(getrlimit(RLIMIT_FSIZE, &old) == 0);
	lim = old;
	lim.rlim_cur = 256 * 1024;
	void (*prev)(int) = signal(SIGXFSZ, SIG_IGN);
	CHECK(setrlimit(RLIMIT_FSIZE, &lim) == 0);
	int rc = render(&fs2, out, err);
	CHECK(setrlimit(RLIMIT_FSIZE, &old) == 0);
	signal(SIGXFSZ, prev);
	CHECK(rc == -1);
	CHECK(strstr(err, "cannot write `") && strstr(err, "out/m/big.yaml") &&
	      strstr(err, strerror(EFBIG)));
	CHECK_LISTING(out, before);
	CHECK(no_staging(d, "out"));
	free(before);
	CHECK(render(&fs2, out, err) == 0);
	fileset_free(&fs1);
	fileset_free(&fs2);
	arena_free(a);
	rm_rf(d);
}

TEST(writer_refuses_conflicting_paths)
{
	char *d = tmpdir(), err[ERRLEN];
	Arena *a = arena_new();
	FileSet fs1, fs2, fs3;
	mkset(&fs1, a, "a", "a\n", "a-b", "x\n", "a/b", "b\n", NULL);
	mkset(&fs2, a, "x/y", "y\n", NULL);
	mkset(&fs3, a, "x", "x\n", NULL);
	char out[4096];
	snprintf(out, sizeof out, "%s/out", d);
	CHECK(render(&fs1, out, err) == -1);
	CHECK(strstr(err, "outputs `a` and `a/b` clash") != NULL);
	CHECK(!exists(out) && no_staging(d, "out"));
	/* a user's file where an output needs a folder */
	CHECK(mkdir(out, 0777) == 0);
	put(P(out, "x"), "user\n");
	char *before = listing(d, true);
	CHECK(render(&fs2, out, err) == -1);
	CHECK(strstr(err, "is in the way of the output `x/y`") != NULL);
	CHECK_LISTING(d, before);
	free(before);
	/* a user's file inside a folder where an output needs a file: found
	 * while staging, rolled back */
	CHECK(unlink(P(out, "x")) == 0);
	CHECK(mkdir(P(out, "x"), 0777) == 0);
	put(P(out, "x/mine"), "user\n");
	before = listing(out, true);
	CHECK(render(&fs3, out, err) == -1);
	CHECK(strstr(err, "out/x") != NULL);
	CHECK_LISTING(out, before);
	free(before);
	CHECK(no_staging(d, "out"));
	fileset_free(&fs1);
	fileset_free(&fs2);
	fileset_free(&fs3);
	arena_free(a);
	rm_rf(d);
}

TEST(writer_file_and_folder_trade_places)
{
	char *d = tmpdir(), err[ERRLEN];
	Arena *a = arena_new();
	FileSet fs1, fs2;
	mkset(&fs1, a, "x/y", "y\n", "z", "z\n", NULL);
	mkset(&fs2, a, "x", "x\n", "z/w", "w\n", NULL);
	char out[4096];
	snprintf(out, sizeof out, "%s/out", d);
	CHECK(render(&fs1, out, err) == 0);
	CHECK(render(&fs2, out, err) == 0);
	char *l = listing(out, false);
	CHECK_STR(l, ".platformc-manifest f = # platformc manifest v1\nx\nz/w\n\n"
		     "x f = x\n\nz d\nz/w f = w\n\n");
	free(l);
	CHECK(render(&fs1, out, err) == 0);
	l = listing(out, false);
	CHECK_STR(l, ".platformc-manifest f = # platformc manifest v1\nx/y\nz\n\n"
		     "x d\nx/y f = y\n\nz f = z\n\n");
	free(l);
	fileset_free(&fs1);
	fileset_free(&fs2);
	arena_free(a);
	rm_rf(d);
}

TEST(writer_refuses_bad_outdirs)
{
	static const char *const bad[] = { "", "/", "//", ".", "./", "..", "x/.", "x/..", "x/./" };
	char err[ERRLEN];
	Arena *a = arena_new();
	FileSet fs;
	mkset(&fs, a, "a", "a\n", NULL);
	for (size_t i = 0; i < ARRAY_LEN(bad); i++) {
		err[0] = 0;
		CHECK(render(&fs, bad[i], err) == -1);
		CHECK(err[0] != 0);
	}
	char *d = tmpdir();
	CHECK(render(&fs, P(d, "missing/out"), err) == -1);
	CHECK(strstr(err, "does not exist") != NULL);
	put(P(d, "file"), "f\n");
	CHECK(render(&fs, P(d, "file"), err) == -1);
	CHECK(strstr(err, "is not a folder") != NULL);
	fileset_free(&fs);
	arena_free(a);
	rm_rf(d);
}

TEST(writer_empty_fileset_and_same_bytes_any_order)
{
	char *d = tmpdir(), err[ERRLEN];
	Arena *a = arena_new();
	FileSet empty, fs1, fs2;
	fileset_init(&empty, a);
	CHECK(render(&empty, P(d, "out"), err) == 0);
	char *c = get(P(d, "out/" MANIFEST_NAME));
	CHECK_STR(c, "# platformc manifest v1\n");
	free(c);
	/* an unsorted FileSet gives the same tree and manifest as a sorted one */
	fileset_init(&fs1, a);
	fileset_add_text(&fs1, "b/c", "c\n");
	fileset_add_text(&fs1, "a", "a\n");
	fileset_add_text(&fs1, "b-", "-\n");
	mkset(&fs2, a, "b/c", "c\n", "a", "a\n", "b-", "-\n", NULL);
	CHECK(render(&fs1, P(d, "o1"), err) == 0);
	CHECK(render(&fs2, P(d, "o2"), err) == 0);
	char *l1 = listing(P(d, "o1"), false), *l2 = listing(P(d, "o2"), false);
	CHECK_STR(l1, l2);
	free(l1);
	free(l2);
	fileset_free(&empty);
	fileset_free(&fs1);
	fileset_free(&fs2);
	arena_free(a);
	rm_rf(d);
}

/* ---- the stat cache: files the writer need not read again ---- */

/* `<d>/.out.platformc-cache/stat`, the cache of `<d>/out` */
static const char *cache_of(const char *d)
{
	return P(d, ".out.platformc-cache/stat");
}

static WriterReport check_of(const FileSet *fs, const char *out, char *err, int *rc)
{
	WriterReport rep;
	*rc = writer_run(fs, out, WR_CHECK, &rep, err, ERRLEN);
	return rep;
}

/* Overwrites a file's bytes in place (same inode, same size) and puts its
 * atime and mtime back, as a careful hand edit or a tool could. Only the
 * ctime, which nobody can set, tells. */
static void edit_keeping_mtime(const char *path, const char *text)
{
	struct stat st0, st1;
	CHECK(lstat(path, &st0) == 0);
	int fd = open(path, O_WRONLY);
	CHECK(fd >= 0 && pwrite(fd, text, strlen(text), 0) == (ssize_t)strlen(text));
	close(fd);
	struct timespec ts[2] = { st0.st_atim, st0.st_mtim };
	CHECK(utimensat(AT_FDCWD, path, ts, AT_SYMLINK_NOFOLLOW) == 0);
	CHECK(lstat(path, &st1) == 0);
	CHECK(st1.st_ino == st0.st_ino && st1.st_size == st0.st_size &&
	      st1.st_mtim.tv_sec == st0.st_mtim.tv_sec && st1.st_mtim.tv_nsec == st0.st_mtim.tv_nsec);
}

static uint64_t get64(const unsigned char *p)
{
	uint64_t v = 0;
	for (int i = 7; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

static void set64(unsigned char *p, uint64_t v)
{
	for (int i = 0; i < 8; i++, v >>= 8)
		p[i] = (unsigned char)v;
}

/*
 * Adds `delta` to word `field` (0 the file's lstat identity, 1 the hash of
 * its bytes, 2 its document key) of entry k of a stat cache, or to header
 * word -field-1 when field < 0, and seals it again: a cache that lies but is
 * well formed. The layout is writer_cache.c's: a text line, 7 words (output
 * folder dev and inode, manifest identity, binary, count, units, words of
 * the units), 3 words an entry in manifest order, the units, then hash64 of
 * all that.
 */
static void forge_cache(const char *path, int k, int field, uint64_t delta)
{
	char *c = get(path);
	CHECK(c != NULL);
	struct stat st;
	CHECK(stat(path, &st) == 0);
	size_t n = (size_t)st.st_size, head = strlen("# platformc stat cache v4\n");
	unsigned char *b = (unsigned char *)c;
	CHECK(n >= head + 11 * 8 && k >= 0 && (int)get64(b + head + 32) > k);
	unsigned char *at = field < 0 ? b + head + (size_t)(-field - 1) * 8
				      : b + head + 80 + (size_t)k * 40 + (size_t)field * 8;
	set64(at, get64(at) + delta);
	set64(b + n - 8, hash64(b, n - 8));
	FILE *f = fopen(path, "wb");
	CHECK(f && fwrite(b, 1, n, f) == n);
	fclose(f);
	free(c);
}

TEST(writer_stat_cache_vouches_for_untouched_files)
{
	char *d = tmpdir(), err[ERRLEN];
	Arena *a = arena_new();
	FileSet fs1, fs2;
	mkset(&fs1, a, "a.yaml", "a\n", "d/b.yaml", "b\n", "d/e/c.json", "{}\n", NULL);
	mkset(&fs2, a, "a.yaml", "a\n", "d/b.yaml", "B\n", "d/e/c.json", "{}\n", NULL);
	char out[4096];
	snprintf(out, sizeof out, "%s/out", d);
	CHECK(render(&fs1, out, err) == 0);
	CHECK(exists(cache_of(d)));
	char *c = get(P(d, ".out.platformc-cache/.gitignore"));
	CHECK_STR(c, "*\n"); /* git never sees it */
	free(c);
	int rc;
	WriterReport rep = check_of(&fs1, out, err, &rc);
	CHECK(rc == 0 && rep.nlines == 0 && rep.unchanged == 3 && rep.vouched == 3);
	writer_report_free(&rep);
	/* a no-op render trusts it too, and writes nothing, the cache included */
	char *before = listing(d, true);
	CHECK(writer_run(&fs1, out, WR_WRITE, &rep, err, sizeof err) == 0);
	CHECK(rep.unchanged == 3 && rep.vouched == 3);
	writer_report_free(&rep);
	CHECK_LISTING(d, before);
	free(before);
	/* after a render that changes one file, the files hard-linked into the
	 * new tree are vouched for again, and so is the new one */
	CHECK(render(&fs2, out, err) == 0);
	rep = check_of(&fs2, out, err, &rc);
	CHECK(rc == 0 && rep.nlines == 0 && rep.vouched == 3);
	writer_report_free(&rep);
	/* without the cache, every file is read: same verdicts */
	CHECK(unlink(cache_of(d)) == 0);
	rep = check_of(&fs2, out, err, &rc);
	CHECK(rc == 0 && rep.nlines == 0 && rep.unchanged == 3 && rep.vouched == 0);
	writer_report_free(&rep);
	/* a render that changes nothing, without a cache (a fresh checkout),
	 * leaves the tree as it is and writes the cache beside it: the next
	 * render reads nothing */
	char *tree = listing(out, true);
	CHECK(writer_run(&fs2, out, WR_WRITE, &rep, err, sizeof err) == 0);
	CHECK(rep.unchanged == 3 && rep.vouched == 0 && !rep.warning);
	writer_report_free(&rep);
	CHECK_LISTING(out, tree);
	free(tree);
	CHECK(exists(cache_of(d)));
	rep = check_of(&fs2, out, err, &rc);
	CHECK(rc == 0 && rep.nlines == 0 && rep.vouched == 3);
	writer_report_free(&rep);
	fileset_free(&fs1);
	fileset_free(&fs2);
	arena_free(a);
	rm_rf(d);
}

TEST(writer_stat_cache_sees_same_size_edit_with_restored_mtime)
{
	char *d = tmpdir(), err[ERRLEN];
	Arena *a = arena_new();
	FileSet fs;
	mkset(&fs, a, "a.yaml", "a\n", "d/b.yaml", "b\n", NULL);
	char out[4096];
	snprintf(out, sizeof out, "%s/out", d);
	for (int round = 0; round < 2; round++) {
		/* round 0 edits at once (within the render's clock tick), round 1 later */
		CHECK(render(&fs, out, err) == 0);
		if (round) {
			struct timespec ts = { 0, 30 * 1000 * 1000 };
			nanosleep(&ts, NULL);
		}
		edit_keeping_mtime(P(out, "d/b.yaml"), "X\n");
		int rc;
		WriterReport rep = check_of(&fs, out, err, &rc);
		CHECK(rc == 0 && rep.nlines == 1 && rep.changed == 1 && rep.vouched == 1);
		if (rep.nlines == 1)
			CHECK_STR(rep.lines[0], "changed: d/b.yaml");
		writer_report_free(&rep);
		CHECK(render(&fs, out, err) == 0);
		char *c = get(P(out, "d/b.yaml"));
		CHECK_STR(c, "b\n");
		free(c);
	}
	fileset_free(&fs);
	arena_free(a);
	rm_rf(d);
}

TEST(writer_stat_cache_refuses_file_replaced_by_symlink)
{
	char *d = tmpdir(), err[ERRLEN];
	Arena *a = arena_new();
	FileSet fs;
	mkset(&fs, a, "a.yaml", "a\n", "d/b.yaml", "b\n", NULL);
	char out[4096];
	snprintf(out, sizeof out, "%s/out", d);
	CHECK(render(&fs, out, err) == 0);
	/* a symlink to a file with the very same bytes */
	put(P(d, "same"), "a\n");
	CHECK(unlink(P(out, "a.yaml")) == 0);
	CHECK(symlink("../same", P(out, "a.yaml")) == 0);
	char *before = listing(d, true);
	CHECK(render(&fs, out, err) == -1);
	CHECK(strstr(err, "out/a.yaml` is a symlink") != NULL);
	int rc;
	WriterReport rep = check_of(&fs, out, err, &rc);
	CHECK(rc == -1 && strstr(err, "out/a.yaml` is a symlink") != NULL);
	writer_report_free(&rep);
	CHECK_LISTING(d, before);
	free(before);
	CHECK(unlink(P(out, "a.yaml")) == 0);
	put(P(out, "a.yaml"), "a\n");
	/* a folder on the way replaced by a symlink to a copy of itself */
	CHECK(rename(P(out, "d"), P(d, "copy")) == 0);
	CHECK(symlink("../copy", P(out, "d")) == 0);
	before = listing(d, true);
	CHECK(render(&fs, out, err) == -1);
	CHECK(strstr(err, "out/d` is a symlink") != NULL);
	rep = check_of(&fs, out, err, &rc);
	CHECK(rc == -1 && strstr(err, "out/d` is a symlink") != NULL);
	writer_report_free(&rep);
	CHECK_LISTING(d, before);
	free(before);
	fileset_free(&fs);
	arena_free(a);
	rm_rf(d);
}

TEST(writer_stat_cache_that_lies_is_not_trusted)
{
	char *d = tmpdir(), err[ERRLEN];
	Arena *a = arena_new();
	FileSet fs;
	mkset(&fs, a, "a.yaml", "a\n", "d/b.yaml", "b\n", "d/c.yaml", "c\n", NULL);
	char out[4096];
	snprintf(out, sizeof out, "%s/out", d);
	int rc;
	WriterReport rep;

	/* 1. an entry whose stat is not the file's (here: another inode) is
	 * not trusted: the file is read, and an edit is seen */
	CHECK(render(&fs, out, err) == 0);
	forge_cache(cache_of(d), 0, 0, 1);
	rep = check_of(&fs, out, err, &rc);
	CHECK(rc == 0 && rep.nlines == 0 && rep.unchanged == 3 && rep.vouched == 2);
	writer_report_free(&rep);
	edit_keeping_mtime(P(out, "a.yaml"), "z\n");
	forge_cache(cache_of(d), 0, 0, 0); /* re-seal after the edit: the cache is newer */
	rep = check_of(&fs, out, err, &rc);
	CHECK(rc == 0 && rep.changed == 1 && rep.vouched == 2);
	writer_report_free(&rep);
	/* ... and neither is one whose hash of the bytes is not the new bytes' */
	CHECK(render(&fs, out, err) == 0);
	forge_cache(cache_of(d), 1, 1, 1);
	rep = check_of(&fs, out, err, &rc);
	CHECK(rc == 0 && rep.nlines == 0 && rep.unchanged == 3 && rep.vouched == 2);
	writer_report_free(&rep);

	/* 2. an entry is trusted only when the file's ctime is older than the
	 * cache: a cache dated back (or written within the same clock tick as
	 * an edit) vouches for nothing */
	CHECK(render(&fs, out, err) == 0);
	struct timespec old[2] = { { 1, 0 }, { 1, 0 } };
	CHECK(utimensat(AT_FDCWD, cache_of(d), old, 0) == 0);
	rep = check_of(&fs, out, err, &rc);
	CHECK(rc == 0 && rep.nlines == 0 && rep.unchanged == 3 && rep.vouched == 0);
	writer_report_free(&rep);

	/* 3. a truncated or garbled cache is ignored, never an error */
	CHECK(render(&fs, out, err) == 0);
	char *c = get(cache_of(d));
	CHECK(c != NULL);
	c[40] ^= 1;
	FILE *f = fopen(cache_of(d), "wb");
	CHECK(f && fwrite(c, 1, 60, f) == 60);
	fclose(f);
	free(c);
	rep = check_of(&fs, out, err, &rc);
	CHECK(rc == 0 && rep.nlines == 0 && rep.unchanged == 3 && rep.vouched == 0);
	writer_report_free(&rep);
	put(cache_of(d), "# platformc stat cache v4\ngarbage");
	rep = check_of(&fs, out, err, &rc);
	CHECK(rc == 0 && rep.unchanged == 3 && rep.vouched == 0);
	writer_report_free(&rep);

	/* 4. a cache copied with its tree describes other inodes: ignored */
	CHECK(render(&fs, out, err) == 0);
	CHECK(mkdir(P(d, "out2"), 0777) == 0 && mkdir(P(d, "out2/d"), 0777) == 0);
	CHECK(mkdir(P(d, ".out2.platformc-cache"), 0777) == 0);
	const char *copies[] = { "out/a.yaml", "out/d/b.yaml", "out/d/c.yaml", "out/.platformc-manifest",
				 ".out.platformc-cache/stat" };
	const char *to[] = { "out2/a.yaml", "out2/d/b.yaml", "out2/d/c.yaml", "out2/.platformc-manifest",
			     ".out2.platformc-cache/stat" };
	for (size_t i = 0; i < ARRAY_LEN(copies); i++) {
		c = get(P(d, copies[i]));
		put(P(d, to[i]), c);
		free(c);
		struct stat st;
		CHECK(stat(P(d, copies[i]), &st) == 0);
		struct timespec ts[2] = { st.st_atim, st.st_mtim };
		CHECK(utimensat(AT_FDCWD, P(d, to[i]), ts, 0) == 0);
	}
	rep = check_of(&fs, P(d, "out2"), err, &rc);
	CHECK(rc == 0 && rep.nlines == 0 && rep.unchanged == 3 && rep.vouched == 0);
	writer_report_free(&rep);

	/* 5. a symlink at the cache's name is neither read nor written through */
	CHECK(mkdir(P(d, "elsewhere"), 0777) == 0);
	put(P(d, "elsewhere/stat"), "not a cache\n");
	c = get(cache_of(d));
	put(P(d, "elsewhere/copy"), c); /* a valid cache, behind a symlink */
	free(c);
	CHECK(rename(P(d, "elsewhere/copy"), P(d, "elsewhere/stat")) == 0);
	CHECK(rm_cb(cache_of(d), NULL, 0, NULL) == 0);
	CHECK(rm_cb(P(d, ".out.platformc-cache/.gitignore"), NULL, 0, NULL) == 0);
	CHECK(rmdir(P(d, ".out.platformc-cache")) == 0);
	CHECK(symlink("elsewhere", P(d, ".out.platformc-cache")) == 0);
	rep = check_of(&fs, out, err, &rc);
	CHECK(rc == 0 && rep.nlines == 0 && rep.vouched == 0);
	writer_report_free(&rep);
	char *l0 = listing(P(d, "elsewhere"), true);
	FileSet fs2;
	mkset(&fs2, a, "a.yaml", "A\n", "d/b.yaml", "b\n", "d/c.yaml", "c\n", NULL);
	CHECK(writer_run(&fs2, out, WR_WRITE, &rep, err, sizeof err) == 0);
	CHECK(rep.warning != NULL); /* says that no cache is kept */
	writer_report_free(&rep);
	char *l1 = listing(P(d, "elsewhere"), true);
	CHECK_STR(l1, l0);
	free(l0);
	free(l1);
	fileset_free(&fs);
	fileset_free(&fs2);
	arena_free(a);
	rm_rf(d);
}

/*
 * Renders documents through a writer session, as `render` does: the file set
 * hands each one to the writer, which may keep it without emitting it.
 * `variant` changes the second document's tree.
 */
static int render_docs(FileSet *fs, Arena *a, const char *out, WriterMode mode, int variant,
		       WriterReport *rep, char *err)
{
	fileset_init(fs, a);
	Writer *w = writer_begin(fs, out, mode, err, ERRLEN);
	for (int i = 0; i < 3; i++) {
		DNode *m = doc_map(a);
		doc_set_str(a, m, "name", i == 2 ? "no" : "svc");
		doc_set_int(a, m, "replicas", i == 1 ? variant : 0);
		DNode *l = doc_set_seq(a, m, "ports");
		doc_push(a, l, doc_int(a, 8080 + i));
		char path[32];
		snprintf(path, sizeof path, "d/%d.yaml", i);
		fileset_add_yaml(fs, path, m);
	}
	DNode *j = doc_map(a);
	doc_set_str(a, j, "title", "dash");
	fileset_add_json(fs, "d/x.json", j);
	fileset_add_text(fs, "notes.md", "text\n");
	int rc = writer_end(w, fs, rep);
	return rc;
}

/* The file's length and hash are the bytes on disk, emitted or not. */
static bool sizes_match_disk(const FileSet *fs, const char *out)
{
	bool ok = true;
	for (int i = 0; i < fs->n; i++) {
		char *c = get(P(out, fs->files[i].path));
		ok = ok && c && strlen(c) == fs->files[i].len && hash64(c, strlen(c)) == fs->files[i].hash;
		free(c);
	}
	return ok;
}

TEST(writer_stat_cache_keeps_documents_without_emitting)
{
	char *d = tmpdir(), err[ERRLEN];
	Arena *a = arena_new();
	FileSet fs;
	char out[4096];
	snprintf(out, sizeof out, "%s/out", d);
	WriterReport rep;
	CHECK(render_docs(&fs, a, out, WR_WRITE, 0, &rep, err) == 0);
	CHECK(rep.added == 5 && rep.kept == 0);
	writer_report_free(&rep);
	fileset_free(&fs);

	/* the same trees: the four documents are kept, the text file vouched for */
	CHECK(render_docs(&fs, a, out, WR_CHECK, 0, &rep, err) == 0);
	CHECK(rep.nlines == 0 && rep.unchanged == 5 && rep.vouched == 5 && rep.kept == 4);
	CHECK(sizes_match_disk(&fs, out));
	writer_report_free(&rep);
	fileset_free(&fs);

	/* another tree for d/1.yaml: emitted, compared, changed */
	CHECK(render_docs(&fs, a, out, WR_CHECK, 7, &rep, err) == 0);
	CHECK(rep.nlines == 1 && rep.changed == 1 && rep.kept == 3);
	if (rep.nlines == 1)
		CHECK_STR(rep.lines[0], "changed: d/1.yaml");
	writer_report_free(&rep);
	fileset_free(&fs);

	/* a same-size edit of a document with its mtime put back is seen */
	char *c = get(P(out, "d/0.yaml"));
	char *x = strstr(c, "svc");
	CHECK(x != NULL);
	if (x)
		x[0] = 'S';
	edit_keeping_mtime(P(out, "d/0.yaml"), c);
	free(c);
	/* (even with the cache dated after the edit, which a `touch` would do) */
	struct timespec tick = { 0, 30 * 1000 * 1000 };
	nanosleep(&tick, NULL);
	CHECK(utimensat(AT_FDCWD, cache_of(d), NULL, 0) == 0);
	CHECK(render_docs(&fs, a, out, WR_CHECK, 0, &rep, err) == 0);
	CHECK(rep.nlines == 1 && rep.changed == 1 && rep.kept == 3);
	if (rep.nlines == 1)
		CHECK_STR(rep.lines[0], "changed: d/0.yaml");
	writer_report_free(&rep);
	fileset_free(&fs);

	/* a render that changes something keeps what it can and records the rest */
	CHECK(render_docs(&fs, a, out, WR_WRITE, 7, &rep, err) == 0);
	CHECK(rep.changed == 2 && rep.kept == 2);
	writer_report_free(&rep);
	fileset_free(&fs);
	CHECK(render_docs(&fs, a, out, WR_CHECK, 7, &rep, err) == 0);
	CHECK(rep.nlines == 0 && rep.kept == 4 && rep.vouched == 5);
	CHECK(sizes_match_disk(&fs, out));
	writer_report_free(&rep);
	fileset_free(&fs);

	/* a key the cache lies about: emitted, compared by its bytes */
	forge_cache(cache_of(d), 0, 2, 1);
	CHECK(render_docs(&fs, a, out, WR_CHECK, 7, &rep, err) == 0);
	CHECK(rep.nlines == 0 && rep.kept == 3 && rep.vouched == 5);
	writer_report_free(&rep);
	fileset_free(&fs);

	/* keys from another binary (another emitter) count for nothing; the
	 * bytes' hashes still do */
	forge_cache(cache_of(d), 0, -4, 1);
	CHECK(render_docs(&fs, a, out, WR_CHECK, 7, &rep, err) == 0);
	CHECK(rep.nlines == 0 && rep.kept == 0 && rep.vouched == 5);
	writer_report_free(&rep);
	fileset_free(&fs);
	arena_free(a);
	rm_rf(d);
}

/* What render_units found while its session lasted: each unit's files,
 * by fileset_unit_has and by fileset_find, whether kept or built */
static bool units_found;
/* render_units adds extra.md too: another manifest */
static bool units_extra;

/* Two units of output, u/a and u/b, of two files each (a document and a
 * text), keyed 1 and key_b; variant changes u/b's document. */
static int render_units(FileSet *fs, Arena *a, const char *out, WriterMode mode, uint64_t key_b, int variant,
			WriterReport *rep, char *err)
{
	fileset_init(fs, a);
	Writer *w = writer_begin(fs, out, mode, err, ERRLEN);
	units_found = true;
	for (int u = 0; u < 2; u++) {
		char id[16], path[32];
		snprintf(id, sizeof id, "u/%c", 'a' + u);
		bool kept = fileset_unit_begin(fs, id, u ? key_b : 1);
		snprintf(path, sizeof path, "%s/notes.md", id);
		units_found &= fileset_unit_has(fs, path) == kept && !fileset_find(fs, "u/c/notes.md");
		if (!kept) {
			DNode *m = doc_map(a);
			doc_set_str(a, m, "unit", id);
			doc_set_int(a, m, "variant", u ? variant : 0);
			snprintf(path, sizeof path, "%s/doc.yaml", id);
			fileset_add_yaml(fs, path, m);
			snprintf(path, sizeof path, "%s/notes.md", id);
			fileset_add_text(fs, path, u ? "b\n" : "a\n");
		}
		units_found &= fileset_unit_has(fs, path) && !fileset_unit_has(fs, "u/c/notes.md");
		fileset_unit_end(fs);
		units_found &= fileset_find(fs, path) && !fileset_unit_has(fs, path);
	}
	fileset_add_text(fs, "top.md", "top\n");
	if (units_extra)
		fileset_add_text(fs, "extra.md", "extra\n");
	return writer_end(w, fs, rep);
}

/* The offset of unit u's first word (its id) in a stat cache's bytes. */
static size_t unit_at(const unsigned char *b, int u)
{
	size_t head = strlen("# platformc stat cache v4\n");
	size_t at = head + 80 + (size_t)get64(b + head + 32) * 40;
	for (int i = 0; i < u; i++)
		at += 24 + 8 * (size_t)get64(b + at + 16);
	return at;
}

TEST(writer_units_of_output_are_kept_without_being_built)
{
	char *d = tmpdir(), err[ERRLEN];
	Arena *a = arena_new();
	FileSet fs;
	char out[4096];
	snprintf(out, sizeof out, "%s", P(d, "out"));
	WriterReport rep;
	CHECK(render_units(&fs, a, out, WR_WRITE, 2, 0, &rep, err) == 0);
	CHECK(rep.added == 5 && fs.nounits == 2 && fs.units_kept == 0);
	CHECK(units_found);
	writer_report_free(&rep);
	fileset_free(&fs);

	/* the same keys, the files untouched: neither unit is built; their
	 * files count as unchanged, with the lengths and hashes on disk, and
	 * the file set finds them (through the writer: it does not index them) */
	CHECK(render_units(&fs, a, out, WR_CHECK, 2, 0, &rep, err) == 0);
	CHECK(rep.nlines == 0 && rep.unchanged == 5 && fs.units_kept == 2 && fs.n == 5);
	CHECK(units_found);
	CHECK(sizes_match_disk(&fs, out));
	writer_report_free(&rep);
	fileset_free(&fs);

	/* another key: u/b is built (and would show a change) */
	CHECK(render_units(&fs, a, out, WR_CHECK, 3, 7, &rep, err) == 0);
	CHECK(rep.nlines == 1 && rep.changed == 1 && fs.units_kept == 1);
	CHECK(units_found);
	if (rep.nlines == 1)
		CHECK_STR(rep.lines[0], "changed: u/b/doc.yaml");
	writer_report_free(&rep);
	fileset_free(&fs);

	/* a file of u/a edited (same size, mtime put back): u/a is built, the
	 * edit is seen and repaired */
	edit_keeping_mtime(P(out, "u/a/notes.md"), "A\n");
	CHECK(render_units(&fs, a, out, WR_CHECK, 2, 0, &rep, err) == 0);
	CHECK(rep.nlines == 1 && rep.changed == 1 && fs.units_kept == 1);
	if (rep.nlines == 1)
		CHECK_STR(rep.lines[0], "changed: u/a/notes.md");
	writer_report_free(&rep);
	fileset_free(&fs);
	CHECK(render_units(&fs, a, out, WR_WRITE, 2, 0, &rep, err) == 0);
	CHECK(rep.changed == 1);
	writer_report_free(&rep);
	fileset_free(&fs);
	char *c = get(P(out, "u/a/notes.md"));
	CHECK(c && strcmp(c, "a\n") == 0);
	free(c);
	CHECK(render_units(&fs, a, out, WR_CHECK, 2, 0, &rep, err) == 0);
	CHECK(rep.nlines == 0 && fs.units_kept == 2);
	writer_report_free(&rep);
	fileset_free(&fs);

	/* a unit record naming a file past the manifest, or a file of another
	 * unit: every record is dropped, both units are built, nothing differs */
	for (int forgery = 0; forgery < 2; forgery++) {
		char *b = get(cache_of(d));
		CHECK(b != NULL);
		struct stat st;
		CHECK(stat(cache_of(d), &st) == 0);
		size_t n = (size_t)st.st_size;
		unsigned char *ub = (unsigned char *)b;
		size_t u1 = unit_at(ub, 1), u0 = unit_at(ub, 0);
		set64(ub + u1 + 24, forgery ? get64(ub + u0 + 24) : 99);
		set64(ub + n - 8, hash64(ub, n - 8));
		FILE *f = fopen(cache_of(d), "wb");
		CHECK(f && fwrite(b, 1, n, f) == n);
		fclose(f);
		free(b);
		CHECK(render_units(&fs, a, out, WR_CHECK, 2, 0, &rep, err) == 0);
		CHECK(rep.nlines == 0 && rep.unchanged == 5 && fs.units_kept == 0);
		writer_report_free(&rep);
		fileset_free(&fs);
		/* a write render that changes nothing renews the records */
		CHECK(render_units(&fs, a, out, WR_WRITE, 2, 0, &rep, err) == 0);
		writer_report_free(&rep);
		fileset_free(&fs);
		CHECK(render_units(&fs, a, out, WR_CHECK, 2, 0, &rep, err) == 0);
		CHECK(fs.units_kept == 2);
		writer_report_free(&rep);
		fileset_free(&fs);
	}
	arena_free(a);
	rm_rf(d);
}

/* Builds a tree of n files; `v` changes half of them, drops some, adds some. */
static void big_set(FileSet *fs, Arena *a, int n, int v)
{
	fileset_init(fs, a);
	for (int i = 0; i < n; i++) {
		if (v && i % 7 == 0)
			continue;
		char p[64], t[256];
		snprintf(p, sizeof p, "d%02d/s%d/f%05d.yaml", i % 40, i % 3, i);
		snprintf(t, sizeof t, "file %d version %d\n%0*d\n", i, v && i % 2 ? v : 0, 100, i);
		fileset_add_text(fs, p, t);
	}
	if (v)
		for (int i = 0; i < n / 10; i++) {
			char p[64];
			snprintf(p, sizeof p, "new/n%05d.yaml", i);
			fileset_add_text(fs, p, "new\n");
		}
	fileset_sort(fs);
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* SIGKILL at many moments of a render: the output folder is always wholly
 * old or wholly new, and the next render finishes the job. */
TEST(writer_sigkill_leaves_old_or_new)
{
	char *d = tmpdir(), err[ERRLEN];
	Arena *a = arena_new();
	FileSet fs1, fs2;
	big_set(&fs1, a, 600, 0);
	big_set(&fs2, a, 600, 1);
	char out[4096];
	snprintf(out, sizeof out, "%s/out", d);
	CHECK(render(&fs1, out, err) == 0);
	put(P(out, "user"), "u\n");
	char *old_l = listing(out, false);
	double t0 = now_s();
	CHECK(render(&fs2, out, err) == 0);
	double dt = now_s() - t0;
	char *new_l = listing(out, false);
	int nold = 0, nnew = 0, nleft = 0;
	/* at least 16 evenly spaced kills; then, while some phase was never
	 * hit (timing varies with machine load), more at scattered moments,
	 * timed by the last render, for at most 30 s */
	const int rounds = 16;
	double start = now_s();
	for (int k = 0; k < rounds || (!(nold > 0 && nnew > 0 && nleft > 0) && k < 1000 && now_s() - start < 30);
	     k++) {
		/* the render back to the old tree costs what the killed one would:
		 * it keeps the kills' spread in step with the machine's load */
		double t1 = now_s();
		CHECK(render(&fs1, out, err) == 0);
		if (k >= rounds)
			dt = now_s() - t1;
		fflush(NULL);
		pid_t pid = fork();
		if (pid == 0) {
			int rc = render(&fs2, out, err);
			_exit(rc == 0 ? 0 : 1);
		}
		/* from before the render starts to after it should have ended */
		double frac = k < rounds ? (double)k / rounds : (double)((k * 7919) % 1000) / 1000.0;
		double delay = dt * 2.0 * frac;
		struct timespec ts = { (time_t)delay, (long)((delay - (double)(time_t)delay) * 1e9) };
		nanosleep(&ts, NULL);
		kill(pid, SIGKILL);
		int status;
		waitpid(pid, &status, 0);
		char *l = listing(out, false);
		bool is_old = !strcmp(l, old_l), is_new = !strcmp(l, new_l);
		CHECK(is_old || is_new);
		nold += is_old, nnew += is_new;
		nleft += !no_staging(d, "out");
		free(l);
		CHECK(render(&fs2, out, err) == 0);
		l = listing(out, false);
		CHECK_STR(l, new_l);
		free(l);
		CHECK(no_staging(d, "out"));
	}
	if (!(nold > 0 && nnew > 0 && nleft > 0))
		fprintf(stderr, "  kills saw the old tree %d times, the new one %d, leftovers %d\n",
			nold, nnew, nleft);
	CHECK(nold > 0 && nnew > 0 && nleft > 0); /* the kills hit every phase */
	free(old_l);
	free(new_l);
	fileset_free(&fs1);
	fileset_free(&fs2);
	arena_free(a);
	rm_rf(d);
}

/* the rule of rel_path_is_safe, written plainly: the oracle for its
 * word-at-a-time form */
static bool safe_path_oracle(const char *p)
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

TEST(rel_path_is_safe_matches_its_rule)
{
	static const char *const fixed[] = {
		"", "/", "a", "a/", "/a", "a//b", ".", "..", "./a", "a/.", "a/..", "a/../b",
		"...", ".a", "a.", "a/.b/c", MANIFEST_NAME, "x/" MANIFEST_NAME, MANIFEST_NAME "x",
		"envs/prod/services/team-a/svc-b/deployment.yaml", "a\x7f", "a\x1f" "bcdefghij",
		"abcdefgh\x01", "\xc3\xa9t\xc3\xa9/caf\xc3\xa9.yaml", "\x80\x81\xff/x",
	};
	for (size_t i = 0; i < ARRAY_LEN(fixed); i++)
		CHECK(rel_path_is_safe(fixed[i]) == safe_path_oracle(fixed[i]));
	/* a control byte, DEL or high byte at each place of paths of each length */
	static const unsigned char odd[] = { 0x01, 0x09, 0x1f, 0x20, 0x7e, 0x7f, 0x80, 0x9f, 0xff };
	char p[40];
	for (size_t n = 1; n < sizeof p - 1; n++)
		for (size_t at = 0; at < n; at++)
			for (size_t o = 0; o < ARRAY_LEN(odd); o++) {
				for (size_t j = 0; j < n; j++)
					p[j] = j % 6 == 5 ? '/' : (char)('a' + j % 26);
				p[n] = 0;
				p[at] = (char)odd[o];
				CHECK(rel_path_is_safe(p) == safe_path_oracle(p));
			}
}

/* a file added after an output under it, as a render streams them (the
 * earlier file was admitted before this one existed): found at the end, in
 * path order, with names between them (`a-c` sorts between `a` and `a/b`),
 * or right after it; in check mode, where nothing is written that could
 * find it first */
TEST(writer_refuses_a_file_added_after_its_folder)
{
	static const char *const sets[][9] = {
		{ "a/b", "b\n", "a-c", "c\n", "a", "a\n", NULL },
		{ "x/y/z", "z\n", "x/y", "y\n", NULL },
		{ "m/n/o", "o\n", "m/n-1", "1\n", "m/n.2", "2\n", "m/n", "n\n", NULL },
	};
	static const char *const clash[] = { "outputs `a` and `a/b` clash", "outputs `x/y` and `x/y/z` clash",
					     "outputs `m/n` and `m/n/o` clash" };
	for (size_t i = 0; i < ARRAY_LEN(sets); i++) {
		char *d = tmpdir(), err[ERRLEN], out[4096];
		Arena *a = arena_new();
		FileSet fs;
		fileset_init(&fs, a);
		snprintf(out, sizeof out, "%s/out", d);
		Writer *w = writer_begin(&fs, out, WR_CHECK, err, ERRLEN);
		for (int j = 0; sets[i][j]; j += 2)
			fileset_add_text(&fs, sets[i][j], sets[i][j + 1]);
		WriterReport rep;
		CHECK(writer_end(w, &fs, &rep) == -1);
		writer_report_free(&rep);
		CHECK(strstr(err, clash[i]) != NULL);
		if (!strstr(err, clash[i]))
			fprintf(stderr, "  %s\n", err);
		fileset_free(&fs);
		arena_free(a);
		rm_rf(d);
	}
}

/* A render that changes a few files of the same tree writes the stat cache
 * by changing it in place (the same file), and the cache stays whole: the
 * next render keeps every unit. A render that adds a path writes it anew. */
TEST(writer_stat_cache_is_changed_in_place)
{
	char *d = tmpdir(), err[ERRLEN];
	Arena *a = arena_new();
	FileSet fs;
	char out[4096];
	snprintf(out, sizeof out, "%s", P(d, "out"));
	WriterReport rep;
	struct stat before, after;
	CHECK(render_units(&fs, a, out, WR_WRITE, 2, 0, &rep, err) == 0);
	writer_report_free(&rep);
	fileset_free(&fs);
	CHECK(stat(cache_of(d), &before) == 0);
	/* u/b's key and document change: one file rewritten */
	CHECK(render_units(&fs, a, out, WR_WRITE, 3, 7, &rep, err) == 0);
	CHECK(rep.changed == 1 && fs.units_kept == 1);
	writer_report_free(&rep);
	fileset_free(&fs);
	CHECK(stat(cache_of(d), &after) == 0);
	CHECK(after.st_ino == before.st_ino && after.st_size == before.st_size);
	CHECK(render_units(&fs, a, out, WR_CHECK, 3, 7, &rep, err) == 0);
	CHECK(rep.nlines == 0 && fs.units_kept == 2 && rep.vouched == 5 && rep.kept == 4);
	writer_report_free(&rep);
	fileset_free(&fs);
	/* a file of u/a edited behind the cache's back: u/a is built, the edit
	 * found and repaired, u/b kept; the cache, changed in place again,
	 * vouches for the repair */
	edit_keeping_mtime(P(out, "u/a/notes.md"), "A\n");
	CHECK(render_units(&fs, a, out, WR_WRITE, 3, 7, &rep, err) == 0);
	CHECK(rep.changed == 1 && fs.units_kept == 1);
	writer_report_free(&rep);
	fileset_free(&fs);
	CHECK(stat(cache_of(d), &after) == 0 && after.st_ino == before.st_ino);
	CHECK(render_units(&fs, a, out, WR_CHECK, 3, 7, &rep, err) == 0);
	CHECK(rep.nlines == 0 && fs.units_kept == 2 && rep.vouched == 5);
	writer_report_free(&rep);
	fileset_free(&fs);
	/* a path added: the manifest changes, the cache is written anew; the
	 * document keys of the kept units' files stay in it: u/b, built now
	 * under another unit key but the same tree, keeps its document
	 * without emitting it */
	units_extra = true;
	CHECK(render_units(&fs, a, out, WR_WRITE, 3, 7, &rep, err) == 0);
	CHECK(rep.added == 1 && fs.units_kept == 2);
	writer_report_free(&rep);
	fileset_free(&fs);
	CHECK(stat(cache_of(d), &after) == 0 && after.st_ino != before.st_ino);
	CHECK(render_units(&fs, a, out, WR_WRITE, 4, 7, &rep, err) == 0);
	CHECK(rep.nlines == 0 && rep.unchanged == 6 && fs.units_kept == 1 && rep.kept == 3);
	writer_report_free(&rep);
	fileset_free(&fs);
	units_extra = false;
	CHECK(render_units(&fs, a, out, WR_WRITE, 4, 7, &rep, err) == 0);
	CHECK(rep.removed == 1);
	writer_report_free(&rep);
	fileset_free(&fs);
	CHECK(stat(cache_of(d), &before) == 0);
	/* a cache changed half-way (a render killed between two pages): its
	 * last word is not the hash of the rest, so it counts for nothing */
	int fd = open(cache_of(d), O_WRONLY);
	CHECK(fd >= 0 && pwrite(fd, "\x01", 1, (off_t)before.st_size / 2) == 1);
	close(fd);
	CHECK(render_units(&fs, a, out, WR_CHECK, 4, 7, &rep, err) == 0);
	CHECK(rep.nlines == 0 && fs.units_kept == 0 && rep.vouched == 0);
	writer_report_free(&rep);
	fileset_free(&fs);
	arena_free(a);
	rm_rf(d);
}

/* The manifest's lookups: bisection for the first OWNED_BISECT, then an
 * index; both give every path's place and -1 for paths not in it (a
 * prefix, a longer name, one between two, one before all, one after all). */
TEST(owned_lookup_bisects_then_indexes_alike)
{
	enum { N = 3000 };
	Arena *a = arena_new();
	Writer w = {0};
	w.owned = malloc(N * sizeof *w.owned);
	for (int i = 0; i < N; i++)
		w.owned[i] = arena_sprintf(a, "d%02d/f%04d.yaml", i / 100, i * 2);
	w.nowned = N;
	for (int round = 0; round < 2; round++) {
		int bad = 0;
		w.nlookups = round ? OWNED_BISECT : -8 * N; /* round 0: bisects all; 1: indexed */
		for (int i = 0; i < N; i++) {
			const char *p = w.owned[i];
			bad += owned_lookup(&w, p, hash64(p, strlen(p))) != i || owned_find(&w, p) != i;
			const char *q[] = { arena_sprintf(a, "d%02d/f%04d.yaml", i / 100, i * 2 + 1),
					    arena_sprintf(a, "d%02d/f%04d.yam", i / 100, i * 2),
					    arena_sprintf(a, "d%02d/f%04d.yaml/x", i / 100, i * 2),
					    "a", "z", "" };
			for (size_t j = 0; j < sizeof q / sizeof *q; j++)
				bad += owned_lookup(&w, q[j], hash64(q[j], strlen(q[j]))) != -1 ||
				       owned_find(&w, q[j]) != -1;
		}
		CHECK(bad == 0);
		CHECK((w.oslots != NULL) == (round == 1));
	}
	free(w.oslots);
	free(w.owned);
	arena_free(a);
}

/* common_prefix a word at a time gives what it gives a byte at a time, for
 * every pair of strings that end anywhere in a word and part anywhere
 * (strings laid out as the manifest's: one after the other, 8 zeros after
 * the last). */
TEST(common_prefix_by_words_matches_bytes)
{
	const char *words[] = { "", "a", "ab", "abcdefg", "abcdefgh", "abcdefghi", "abcdefgx", "abcdefghijklmnop",
				"abcdefghijklmnoq", "abcdefghijklmno", "x/y", "x/yz", "x-y", "apps/checkout/base/kustomization.yaml",
				"apps/checkout/base/deployment.yaml", "apps/checkout" };
	enum { N = sizeof words / sizeof *words };
	int bad = 0;
	for (int i = 0; i < N; i++)
		for (int j = 0; j < N; j++) {
			size_t a = strlen(words[i]), b = strlen(words[j]);
			char *buf = calloc(a + b + 2 + 8, 1);
			memcpy(buf, words[i], a);
			memcpy(buf + a + 1, words[j], b);
			const char *p = buf, *q = buf + a + 1;
			bad += common_prefix(p, q, true) != common_prefix(p, q, false);
			bad += common_prefix(q, p, true) != common_prefix(q, p, false);
			free(buf);
		}
	CHECK(bad == 0);
	CHECK(common_prefix("abcdefghij", "abcdefghXj", false) == 8);
}

/* Many kept units, then more files than the file set's first index holds:
 * the index grows (index_rebuild) past the kept units' files, which it
 * leaves to the writer; every path is still found, once. */
TEST(fileset_index_grows_past_kept_units)
{
	char *d = tmpdir(), err[ERRLEN];
	Arena *a = arena_new();
	char out[4096];
	snprintf(out, sizeof out, "%s", P(d, "out"));
	for (int round = 0; round < 2; round++) {
		FileSet fs;
		fileset_init(&fs, a);
		Writer *w = writer_begin(&fs, out, WR_WRITE, err, ERRLEN);
		int kept = 0;
		for (int u = 0; u < 600; u++) {
			char id[32], path[48];
			snprintf(id, sizeof id, "k/%03d", u);
			snprintf(path, sizeof path, "k/%03d/doc.yaml", u);
			if (fileset_unit_begin(&fs, id, 5)) {
				kept++;
			} else {
				DNode *m = doc_map(a);
				doc_set_int(a, m, "u", u);
				fileset_add_yaml(&fs, path, m);
			}
			fileset_unit_end(&fs);
		}
		CHECK(kept == (round ? 600 : 0));
		/* 1,500 files made now: the index is rebuilt twice on the way */
		for (int i = 0; i < 1500; i++) {
			char path[48];
			snprintf(path, sizeof path, "m/%04d.md", i);
			fileset_add_text(&fs, path, "m\n");
		}
		bool found = fileset_find(&fs, "k/000/doc.yaml") && fileset_find(&fs, "k/599/doc.yaml") &&
			     fileset_find(&fs, "m/0000.md") && fileset_find(&fs, "m/1499.md") &&
			     !fileset_find(&fs, "k/600/doc.yaml") && !fileset_find(&fs, "m/1500.md");
		CHECK(found);
		CHECK(round == 0 || fs.nindexed == 1500);
		WriterReport rep;
		CHECK(writer_end(w, &fs, &rep) == 0);
		CHECK(rep.added == (round ? 0 : 2100) && rep.unchanged == (round ? 2100 : 0));
		writer_report_free(&rep);
		fileset_free(&fs);
	}
	arena_free(a);
	rm_rf(d);
}
