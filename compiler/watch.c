/*
 * watch.c — the file watcher that vouches for an output tree between
 * renders (`platformc watch -o OUT`), and its client (watch_ask), which the
 * writer asks when a session starts. A speed-up only: with no watcher, a
 * watcher that does not answer in time, or an answer that is not well
 * formed, a render looks at every file as it always did.
 *
 * The watcher. It watches every folder of OUT with inotify (files created,
 * written, closed after writing, their attributes, deleted, moved; folders
 * deleted or moved), each new folder as it appears, and OUT's parent for
 * OUT itself being replaced (the writer's whole-tree swap renames a new
 * tree into place). It counts events: `seq` grows by one for each change,
 * and each changed path keeps the seq of its last change. A token is
 * "<instance>:<seq>", the instance a random word drawn at start.
 *
 * The protocol, one connection per question, lines of text:
 *     client:  since <token>            ("since 0:0": no token yet)
 *     watcher: all <token>              (cannot vouch for anything since it)
 *          or: list <token> <n>
 *              <path>                   n lines, relative to OUT
 *              end
 * A listed path stands for itself and everything under it. The new token
 * is the watcher's count when it answered. "all" when the token is of
 * another instance, when the kernel's queue overflowed since the token,
 * when OUT was replaced since it, or when the watcher forgot that far back
 * (it keeps at most WATCH_KEEP changed paths).
 *
 * Why an answer covers every change made before the question: the kernel
 * queues an inotify event inside the system call that makes the change, so
 * an event for every change completed before the client sent its question
 * is in the watcher's queue when the question arrives; the watcher reads
 * its queue to the end (EAGAIN) before it answers. A folder created while
 * no watch was on it yet counts as changed as a whole (its creation is an
 * event of its parent's), so what happened in it before its watch was
 * added is covered. A render stores the token it got when it STARTED, so
 * the next render is told about everything written during it, its own
 * writes included (looked at once, at a cost proportional to the change).
 *
 * Limits (docs/guide.md §7, decisions.md): writes through a shared mmap
 * make no event; network file systems do not report other machines'
 * changes; a path with a control character in a name is never listed (no
 * output path can be under it). When the watch limit of the user
 * (fs.inotify.max_user_watches) is reached, the watcher says so and exits.
 *
 * The socket is `.<base>.platformc-watch` beside OUT (next to the stat
 * cache). A Unix socket's path is at most 107 bytes, so both ends name it
 * as `/proc/self/fd/<fd of OUT's parent>/<name>`: short for any parent.
 */
#include "platformc.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/random.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define WATCH_MASK (IN_MODIFY | IN_ATTRIB | IN_CLOSE_WRITE | IN_CREATE | IN_DELETE | IN_MOVED_FROM | \
		    IN_MOVED_TO | IN_DELETE_SELF | IN_MOVE_SELF | IN_ONLYDIR)
#define PARENT_MASK (IN_CREATE | IN_DELETE | IN_MOVED_FROM | IN_MOVED_TO | IN_DELETE_SELF | IN_MOVE_SELF | \
		     IN_ONLYDIR)
#define WATCH_KEEP 65536       /* changed paths kept; past that, older tokens get "all" */
#define ASK_MS 200             /* the client's patience, from connect to the last line
				* (PLATFORMC_WATCH_WAIT_MS: tests on a loaded machine) */
#define QUERY_MAX 128

/* ---- names ---- */

/* The socket's name for OUT's base name: `.<base>.platformc-watch`. */
char *watch_socket_name(const char *base)
{
	size_t n = strlen(base) + 32;
	char *s = xmalloc(n);
	snprintf(s, n, ".%s.platformc-watch", base);
	return s;
}

/* The address of name in the folder dirfd; false when it does not fit. */
static bool socket_addr(struct sockaddr_un *sa, int dirfd, const char *name)
{
	memset(sa, 0, sizeof *sa);
	sa->sun_family = AF_UNIX;
	int n = snprintf(sa->sun_path, sizeof sa->sun_path, "/proc/self/fd/%d/%s", dirfd, name);
	return n > 0 && (size_t)n < sizeof sa->sun_path;
}

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* "<16 hex>:<decimal>" into inst and seq. */
static bool parse_token(const char *s, const char **end, uint64_t *inst, uint64_t *seq)
{
	char *e;
	errno = 0;
	unsigned long long a = strtoull(s, &e, 16);
	if (e == s || *e != ':' || errno)
		return false;
	s = e + 1;
	unsigned long long b = strtoull(s, &e, 10);
	if (e == s || errno || (*s < '0' || *s > '9'))
		return false;
	*inst = a, *seq = b, *end = e;
	return true;
}

/* ---- the client ---- */

void watch_answer_free(WatchAnswer *a)
{
	free(a->paths);
	free(a->buf);
	memset(a, 0, sizeof *a);
}

/*
 * Asks the watcher of the output folder `base` in parentfd what changed
 * since the token (inst, seq). 0: *a is the answer (all, or the listed
 * paths, sorted); -1: no answer (no watcher, no answer within ASK_MS, an
 * answer not well formed), and the caller looks at every file.
 */
int watch_ask(int parentfd, const char *base, uint64_t inst, uint64_t seq, WatchAnswer *a)
{
	memset(a, 0, sizeof *a);
	char *name = watch_socket_name(base);
	struct sockaddr_un sa;
	bool fits = socket_addr(&sa, parentfd, name);
	free(name);
	if (!fits)
		return -1;
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	if (connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
		close(fd);
		return -1;
	}
	const char *wait = getenv("PLATFORMC_WATCH_WAIT_MS");
	long ms = wait ? atol(wait) : 0;
	int64_t deadline = now_ms() + (ms > 0 && ms <= 60000 ? ms : ASK_MS);
	char q[QUERY_MAX];
	int qn = snprintf(q, sizeof q, "since %016llx:%llu\n", (unsigned long long)inst, (unsigned long long)seq);
	if (send(fd, q, (size_t)qn, MSG_NOSIGNAL) != qn) {
		close(fd);
		return -1;
	}
	size_t len = 0, cap = 4096;
	char *buf = xmalloc(cap);
	bool eof = false;
	for (;;) {
		int left = (int)(deadline - now_ms());
		struct pollfd p = { fd, POLLIN, 0 };
		if (left <= 0 || poll(&p, 1, left) <= 0)
			break;
		if (len + 1 >= cap)
			buf = xrealloc(buf, cap *= 2);
		ssize_t r = read(fd, buf + len, cap - len - 1);
		if (r < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (r <= 0) {
			eof = r == 0;
			break;
		}
		len += (size_t)r;
	}
	close(fd);
	buf[len] = 0;
	/* the watcher closes after its answer: a whole answer ends at EOF */
	int rc = -1;
	const char *s = buf, *e;
	if (!eof || strlen(buf) != len) {
	} else if (!strncmp(s, "all ", 4) && parse_token(s + 4, &e, &a->inst, &a->seq) && !strcmp(e, "\n")) {
		a->all = true;
		rc = 0;
	} else if (!strncmp(s, "list ", 5) && parse_token(s + 5, &e, &a->inst, &a->seq) && *e == ' ') {
		char *t;
		unsigned long n = strtoul(e + 1, &t, 10);
		if (t != e + 1 && *t == '\n' && n <= len / 2) {
			a->paths = xmalloc((n ? n : 1) * sizeof *a->paths);
			char *p = t + 1;
			size_t k = 0;
			while (k < n) {
				char *nl = strchr(p, '\n');
				if (!nl)
					break;
				*nl = 0;
				a->paths[k++] = p;
				p = nl + 1;
			}
			if (k == n && !strcmp(p, "end\n")) {
				a->n = (int)n;
				a->buf = buf;
				buf = NULL;
				qsort(a->paths, n, sizeof *a->paths, str_cmp_ptr);
				rc = 0;
			}
		}
	}
	free(buf);
	if (rc != 0 || !a->inst)
		watch_answer_free(a), rc = -1;
	return rc;
}

/* ---- the watcher ---- */

typedef struct Change {
	char *path;
	uint64_t seq;
	uint64_t hash;
} Change;

typedef struct Watcher {
	const char *outdir;
	char *base, *sockname;
	int parentfd, ifd, lfd, sfd;
	int parentwd, rootwd;
	dev_t sock_dev;
	ino_t sock_ino;
	char **dirs;           /* by watch descriptor: the folder's path under OUT ("" OUT) */
	int ndirs;
	long nwatched;
	long limit;            /* PLATFORMC_WATCH_MAX (tests): act as if the kernel's limit were this */
	char **blind;          /* folders that could not be watched: always listed */
	int nblind;
	uint64_t inst, seq, valid_from;
	bool redo;             /* OUT replaced, or the queue overflowed: watch it all again */
	Change *ch;
	size_t nch, capch;
	uint32_t *slots;       /* change + 1 */
	size_t nslots;
	char *ibuf;
} Watcher;

static int watch_fail_limit(Watcher *W)
{
	long max = -1;
	FILE *f = fopen("/proc/sys/fs/inotify/max_user_watches", "r");
	if (f) {
		if (fscanf(f, "%ld", &max) != 1)
			max = -1;
		fclose(f);
	}
	if (W->limit > 0)
		max = W->limit;
	fprintf(stderr,
		"platformc: cannot watch `%s`: the inotify watch limit is reached after %ld folders "
		"(fs.inotify.max_user_watches = %ld, shared by every program of this user)\n"
		"  = help: raise it as root: `sysctl fs.inotify.max_user_watches=%ld` (a file in "
		"/etc/sysctl.d/ keeps it), or render without a watcher\n",
		W->outdir, W->nwatched, max, max > 0 && max < 262144 ? 524288 : max * 2);
	return -1;
}

static void forget_changes(Watcher *W)
{
	for (size_t i = 0; i < W->nch; i++)
		free(W->ch[i].path);
	W->nch = 0;
	memset(W->slots, 0, W->nslots * sizeof *W->slots);
	W->valid_from = W->seq; /* no token before now can be answered */
}

static void mark(Watcher *W, const char *path)
{
	for (const char *c = path; *c; c++)
		if ((unsigned char)*c < 0x20 || *c == 0x7f)
			return; /* no output path is under it */
	W->seq++;
	uint64_t h = hash64(path, strlen(path));
	size_t m = W->nslots - 1, i = (size_t)h & m;
	while (W->slots[i]) {
		Change *c = &W->ch[W->slots[i] - 1];
		if (c->hash == h && !strcmp(c->path, path)) {
			c->seq = W->seq;
			return;
		}
		i = (i + 1) & m;
	}
	if (W->nch >= WATCH_KEEP) {
		forget_changes(W);
		W->seq++;
		i = (size_t)h & m;
	}
	if (W->nch == W->capch) {
		W->capch = W->capch ? W->capch * 2 : 1024;
		W->ch = xrealloc(W->ch, W->capch * sizeof *W->ch);
	}
	W->ch[W->nch] = (Change){ xstrdup(path), W->seq, h };
	W->slots[i] = (uint32_t)++W->nch;
}

static char *join(const char *dir, const char *name)
{
	size_t a = strlen(dir), b = strlen(name);
	char *s = xmalloc(a + b + 2);
	memcpy(s, dir, a);
	size_t k = a;
	if (a && b)
		s[k++] = '/';
	memcpy(s + k, name, b);
	s[k + b] = 0;
	return s;
}

static void set_dir(Watcher *W, int wd, const char *rel)
{
	if (wd >= W->ndirs) {
		int n = W->ndirs ? W->ndirs : 1024;
		while (n <= wd)
			n *= 2;
		W->dirs = xrealloc(W->dirs, (size_t)n * sizeof *W->dirs);
		memset(W->dirs + W->ndirs, 0, (size_t)(n - W->ndirs) * sizeof *W->dirs);
		W->ndirs = n;
	}
	if (!W->dirs[wd])
		W->nwatched++;
	free(W->dirs[wd]);
	W->dirs[wd] = xstrdup(rel);
}

static void add_blind(Watcher *W, const char *rel)
{
	W->blind = xrealloc(W->blind, (size_t)(W->nblind + 1) * sizeof *W->blind);
	W->blind[W->nblind++] = xstrdup(rel);
}

/*
 * Watches the folder fd (at rel under OUT) and every folder under it: the
 * watch first, then its entries, so that nothing made while it is listed
 * goes unseen. -1 only when the watch limit is reached.
 */
static int watch_dir(Watcher *W, int fd, const char *rel)
{
	char proc[64];
	snprintf(proc, sizeof proc, "/proc/self/fd/%d", fd);
	if (W->limit > 0 && W->nwatched >= W->limit)
		return watch_fail_limit(W);
	int wd = inotify_add_watch(W->ifd, proc, WATCH_MASK);
	if (wd < 0) {
		if (errno == ENOSPC)
			return watch_fail_limit(W);
		add_blind(W, rel);
		return 0;
	}
	set_dir(W, wd, rel);
	if (!*rel)
		W->rootwd = wd;
	int dfd = dup(fd);
	DIR *d = dfd < 0 ? NULL : fdopendir(dfd);
	if (!d) {
		if (dfd >= 0)
			close(dfd);
		add_blind(W, rel);
		return 0;
	}
	int rc = 0;
	struct dirent *de;
	while (rc == 0 && (de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (de->d_type != DT_DIR && de->d_type != DT_UNKNOWN)
			continue;
		int sub = openat(fd, de->d_name, DIR_FLAGS);
		if (sub < 0)
			continue; /* not a folder (a symlink, a file), or gone: its events say */
		char *r = join(rel, de->d_name);
		rc = watch_dir(W, sub, r);
		free(r);
		close(sub);
	}
	closedir(d);
	return rc;
}

/* Drops every watch and watches OUT (if it is a folder) and its parent
 * anew: after OUT was replaced, or the queue overflowed. */
static int watch_all(Watcher *W)
{
	if (W->ifd >= 0)
		close(W->ifd);
	for (int i = 0; i < W->ndirs; i++) {
		free(W->dirs[i]);
		W->dirs[i] = NULL;
	}
	for (int i = 0; i < W->nblind; i++)
		free(W->blind[i]);
	W->nblind = 0;
	W->nwatched = 0;
	W->rootwd = -1;
	W->redo = false;
	W->ifd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (W->ifd < 0) {
		fprintf(stderr, "platformc: cannot watch `%s`: inotify: %s\n", W->outdir, strerror(errno));
		return -1;
	}
	char proc[64];
	snprintf(proc, sizeof proc, "/proc/self/fd/%d", W->parentfd);
	W->parentwd = inotify_add_watch(W->ifd, proc, PARENT_MASK);
	if (W->parentwd < 0)
		return errno == ENOSPC ? watch_fail_limit(W)
				       : (fprintf(stderr, "platformc: cannot watch the folder that holds `%s`: %s\n",
						  W->outdir, strerror(errno)), -1);
	int rc = 0, fd = openat(W->parentfd, W->base, DIR_FLAGS);
	if (fd >= 0) {
		rc = watch_dir(W, fd, "");
		close(fd);
	}
	/* everything before now is unknown; changed paths from before are moot */
	forget_changes(W);
	W->valid_from = ++W->seq;
	return rc;
}

/* Reads the kernel's queue to its end; -1 when watching must stop. */
static int drain(Watcher *W)
{
	for (;;) {
		ssize_t r = read(W->ifd, W->ibuf, 64 * 1024);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		for (char *p = W->ibuf; p < W->ibuf + r;) {
			struct inotify_event *ev = (struct inotify_event *)p;
			p += sizeof *ev + ev->len;
			if (W->redo)
				continue; /* all of it is looked at again */
			if (ev->mask & IN_Q_OVERFLOW) {
				W->redo = true;
				continue;
			}
			if (ev->wd == W->parentwd) {
				if ((ev->mask & (IN_DELETE_SELF | IN_MOVE_SELF)) || (ev->len && !strcmp(ev->name, W->base)))
					W->redo = true;
				continue;
			}
			if (ev->wd < 0 || ev->wd >= W->ndirs || !W->dirs[ev->wd])
				continue;
			if (ev->mask & IN_IGNORED) {
				free(W->dirs[ev->wd]);
				W->dirs[ev->wd] = NULL;
				W->nwatched--;
				continue;
			}
			const char *dir = W->dirs[ev->wd];
			if (ev->mask & (IN_DELETE_SELF | IN_MOVE_SELF)) {
				if (ev->wd == W->rootwd)
					W->redo = true;
				else
					mark(W, dir);
				continue;
			}
			char *path = ev->len && ev->name[0] ? join(dir, ev->name) : xstrdup(dir);
			mark(W, path);
			if ((ev->mask & IN_ISDIR) && (ev->mask & (IN_CREATE | IN_MOVED_TO))) {
				int fd = openat(W->parentfd, W->base, DIR_FLAGS);
				int sub = fd < 0 ? -1 : openat(fd, path, DIR_FLAGS);
				int rc = sub < 0 ? 0 : watch_dir(W, sub, path);
				if (sub >= 0)
					close(sub);
				if (fd >= 0)
					close(fd);
				if (rc != 0) {
					free(path);
					return -1;
				}
			}
			free(path);
		}
	}
	if (W->redo)
		return watch_all(W);
	return 0;
}

static int cmp_change(const void *a, const void *b)
{
	return strcmp((*(const Change *const *)a)->path, (*(const Change *const *)b)->path);
}

/* Answers one client: its question, then the queue read to the end. */
static int serve(Watcher *W, int cfd)
{
	char q[QUERY_MAX + 1];
	size_t len = 0;
	int64_t deadline = now_ms() + ASK_MS;
	while (len < QUERY_MAX && !memchr(q, '\n', len)) {
		int left = (int)(deadline - now_ms());
		struct pollfd p = { cfd, POLLIN, 0 };
		if (left <= 0 || poll(&p, 1, left) <= 0)
			return 0;
		ssize_t r = read(cfd, q + len, QUERY_MAX - len);
		if (r < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (r <= 0)
			return 0;
		len += (size_t)r;
	}
	q[len] = 0;
	if (drain(W) != 0)
		return -1;
	uint64_t inst = 0, seq = 0;
	const char *e;
	bool known = !strncmp(q, "since ", 6) && parse_token(q + 6, &e, &inst, &seq) && !strcmp(e, "\n") &&
		     inst == W->inst && seq >= W->valid_from && seq <= W->seq;
	StrBuf out;
	sb_init(&out);
	char head[96];
	if (!known) {
		snprintf(head, sizeof head, "all %016llx:%llu\n", (unsigned long long)W->inst,
			 (unsigned long long)W->seq);
		sb_puts(&out, head);
	} else {
		size_t n = 0;
		Change **list = xmalloc((W->nch ? W->nch : 1) * sizeof *list);
		for (size_t i = 0; i < W->nch; i++)
			if (W->ch[i].seq > seq)
				list[n++] = &W->ch[i];
		qsort(list, n, sizeof *list, cmp_change);
		snprintf(head, sizeof head, "list %016llx:%llu %zu\n", (unsigned long long)W->inst,
			 (unsigned long long)W->seq, n + (size_t)W->nblind);
		sb_puts(&out, head);
		for (size_t i = 0; i < n; i++) {
			sb_puts(&out, list[i]->path);
			sb_putc(&out, '\n');
		}
		for (int i = 0; i < W->nblind; i++) {
			sb_puts(&out, W->blind[i]);
			sb_putc(&out, '\n');
		}
		sb_puts(&out, "end\n");
		free(list);
	}
	/* a client that stops reading costs at most a second */
	int fl = fcntl(cfd, F_GETFL);
	if (fl >= 0)
		fcntl(cfd, F_SETFL, fl & ~O_NONBLOCK);
	struct timeval tv = { 1, 0 };
	setsockopt(cfd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
	for (size_t off = 0; off < out.len;) {
		ssize_t r = send(cfd, out.data + off, out.len - off, MSG_NOSIGNAL);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		off += (size_t)r;
	}
	sb_free(&out);
	return 0;
}

/* Removes the socket if it is still ours. */
static void remove_socket(Watcher *W)
{
	struct stat st;
	if (fstatat(W->parentfd, W->sockname, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISSOCK(st.st_mode) &&
	    st.st_dev == W->sock_dev && st.st_ino == W->sock_ino)
		unlinkat(W->parentfd, W->sockname, 0);
}

static int open_socket(Watcher *W)
{
	struct sockaddr_un sa;
	if (!socket_addr(&sa, W->parentfd, W->sockname)) {
		fprintf(stderr, "platformc: the name `%s` is too long for a socket\n", W->sockname);
		return -1;
	}
	struct stat st;
	if (fstatat(W->parentfd, W->sockname, &st, AT_SYMLINK_NOFOLLOW) == 0) {
		if (!S_ISSOCK(st.st_mode)) {
			fprintf(stderr, "platformc: `%s` beside `%s` exists and is not a socket; "
				"refusing to replace it\n", W->sockname, W->outdir);
			return -1;
		}
		int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof sa) == 0) {
			close(fd);
			fprintf(stderr, "platformc: a watcher already runs for `%s` (socket `%s`)\n",
				W->outdir, W->sockname);
			return -1;
		}
		if (fd >= 0)
			close(fd);
		unlinkat(W->parentfd, W->sockname, 0); /* a watcher's that was killed */
	}
	W->lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (W->lfd < 0 || bind(W->lfd, (struct sockaddr *)&sa, sizeof sa) != 0 || listen(W->lfd, 64) != 0) {
		fprintf(stderr, "platformc: cannot listen on `%s` beside `%s`: %s\n", W->sockname,
			W->outdir, strerror(errno));
		return -1;
	}
	if (fstatat(W->parentfd, W->sockname, &st, AT_SYMLINK_NOFOLLOW) == 0)
		W->sock_dev = st.st_dev, W->sock_ino = st.st_ino;
	return 0;
}

/*
 * `platformc watch -o OUT`: watches OUT in the foreground until SIGINT or
 * SIGTERM, answering renders on its socket; then removes the socket.
 */
int cmd_watch(const char *outdir)
{
	Watcher W = { .outdir = outdir, .parentfd = -1, .ifd = -1, .lfd = -1, .sfd = -1, .rootwd = -1,
		      .parentwd = -1 };
	size_t n = strlen(outdir);
	while (n > 1 && outdir[n - 1] == '/')
		n--;
	char *dir = xmalloc(n + 1);
	memcpy(dir, outdir, n);
	dir[n] = 0;
	char *slash = strrchr(dir, '/');
	W.base = xstrdup(slash ? slash + 1 : dir);
	if (slash)
		slash[slash == dir ? 1 : 0] = 0;
	const char *parent = slash ? dir : ".";
	int rc = EXIT_USAGE;
	if (!*W.base || !strcmp(W.base, ".") || !strcmp(W.base, "..")) { /* `/` has no base */
		fprintf(stderr, "platformc: output folder `%s` must name a folder (not `.`, `..` or `/`)\n",
			outdir);
		goto out;
	}
	W.sockname = watch_socket_name(W.base);
	W.parentfd = open(parent, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (W.parentfd < 0) {
		fprintf(stderr, "platformc: cannot open the folder `%s` that holds `%s`: %s\n", parent,
			outdir, strerror(errno));
		goto out;
	}
	const char *lim = getenv("PLATFORMC_WATCH_MAX");
	W.limit = lim ? atol(lim) : 0;
	if (getrandom(&W.inst, sizeof W.inst, 0) != sizeof W.inst || !W.inst)
		W.inst = (uint64_t)time(NULL) * 2654435761u ^ (uint64_t)getpid() ^ 1;
	W.nslots = 2 * WATCH_KEEP;
	W.slots = calloc(W.nslots, sizeof *W.slots);
	W.ibuf = xmalloc(64 * 1024);
	if (!W.slots)
		die_oom();
	sigset_t sigs;
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGHUP);
	sigprocmask(SIG_BLOCK, &sigs, NULL);
	W.sfd = signalfd(-1, &sigs, SFD_CLOEXEC | SFD_NONBLOCK);
	if (W.sfd < 0 || watch_all(&W) != 0 || open_socket(&W) != 0)
		goto out;
	fprintf(stderr, "platformc: watching `%s` (%ld folders); renders ask `%s`\n", outdir, W.nwatched,
		W.sockname);
	for (;;) {
		struct pollfd p[3] = { { W.ifd, POLLIN, 0 }, { W.lfd, POLLIN, 0 }, { W.sfd, POLLIN, 0 } };
		if (poll(p, 3, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (p[2].revents) {
			rc = EXIT_OK;
			break;
		}
		if (p[0].revents && drain(&W) != 0)
			break;
		if (p[1].revents) {
			int cfd = accept4(W.lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
			if (cfd >= 0) {
				int r = serve(&W, cfd);
				close(cfd);
				if (r != 0)
					break;
			}
		}
	}
	if (rc == EXIT_OK)
		fprintf(stderr, "platformc: stopped watching `%s`\n", outdir);
out:
	if (W.lfd >= 0) {
		remove_socket(&W);
		close(W.lfd);
	}
	for (int i = 0; i < W.ndirs; i++)
		free(W.dirs[i]);
	free(W.dirs);
	for (int i = 0; i < W.nblind; i++)
		free(W.blind[i]);
	free(W.blind);
	for (size_t i = 0; i < W.nch; i++)
		free(W.ch[i].path);
	free(W.ch);
	free(W.slots);
	free(W.ibuf);
	if (W.ifd >= 0)
		close(W.ifd);
	if (W.sfd >= 0)
		close(W.sfd);
	if (W.parentfd >= 0)
		close(W.parentfd);
	free(W.sockname);
	free(W.base);
	free(dir);
	return rc;
}
