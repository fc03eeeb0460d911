/*
 * lsp.c — `platformc lsp`: a Language Server Protocol server over stdio.
 *
 * JSON-RPC messages (Content-Length framed) are read with jsmn and written as
 * DNode trees by json.c (compact), each built in a message arena released
 * once it is sent. Documents are synchronised whole
 * (TextDocumentSyncKind.Full). After an open, change,
 * close or save, once no further message is waiting, the whole platform is
 * checked again with the same front end as `platformc check` (lower_load),
 * the open buffers standing in for the files on disk (source.c's overlay
 * hook), and the diagnostics are published per file: the same codes,
 * messages, help lines and related locations as `check` prints.
 *
 * The same run indexes every name (source.c's observer hook hands over each
 * file's tree, parsed even when the platform has errors): definitions
 * (`environments`, `teams`, `systems`, `services`, `resources` entries) and
 * the fields that refer to them (`team`, `owner`, `system`, `calls`, `uses`,
 * `shared_with`, `environments`, `overrides` keys, policy exceptions,
 * subscriptions). Definition, references and rename read that index; hover
 * reads the schema (a key's doc) and the model (a resource's params and
 * monthly cost); completion reads the text around the cursor (it must work
 * while the file does not parse), the schema and the index.
 *
 * One thread (PLATFORMC_THREADS=1): the server answers one request at a
 * time, and a check of 1,000 services takes about 0.15 s.
 */
#define JSMN_STATIC
#include "platformc.h"

#include <errno.h>
#include <jsmn.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- JSON in (jsmn) ---- */

typedef struct J {
	const char *s;
	jsmntok_t *t;
	int n;
} J;

static int j_skip(const J *j, int i)
{
	int end = i + 1;
	if (j->t[i].type == JSMN_OBJECT)
		for (int k = 0; k < j->t[i].size; k++)
			end = j_skip(j, j_skip(j, end));
	else if (j->t[i].type == JSMN_ARRAY)
		for (int k = 0; k < j->t[i].size; k++)
			end = j_skip(j, end);
	return end;
}

static bool j_eq(const J *j, int i, const char *s)
{
	size_t n = strlen(s);
	return i >= 0 && j->t[i].type == JSMN_STRING && (size_t)(j->t[i].end - j->t[i].start) == n &&
	       memcmp(j->s + j->t[i].start, s, n) == 0;
}

static int j_get(const J *j, int obj, const char *key)
{
	if (obj < 0 || obj >= j->n || j->t[obj].type != JSMN_OBJECT)
		return -1;
	int i = obj + 1;
	for (int k = 0; k < j->t[obj].size; k++) {
		if (j_eq(j, i, key))
			return i + 1;
		i = j_skip(j, i + 1);
	}
	return -1;
}

/* j_path(j, 0, "params", "textDocument", "uri", NULL) */
static int j_path(const J *j, int i, ...)
{
	va_list ap;
	va_start(ap, i);
	const char *k;
	while (i >= 0 && (k = va_arg(ap, const char *)) != NULL)
		i = j_get(j, i, k);
	va_end(ap);
	return i;
}

/* A string token, unescaped (heap); NULL when `i` is not a string. */
static char *j_str(const J *j, int i, size_t *len)
{
	if (i < 0 || j->t[i].type != JSMN_STRING)
		return NULL;
	return json_unescape(j->s + j->t[i].start, (size_t)(j->t[i].end - j->t[i].start), len);
}

static long j_int(const J *j, int i, long def)
{
	if (i < 0 || j->t[i].type != JSMN_PRIMITIVE)
		return def;
	return strtol(j->s + j->t[i].start, NULL, 10);
}

/* ---- JSON out ---- */

/* Every message is a DNode tree written compact by json.c, built in the
 * server's message arena (released after each message). */
static void send_msg(const DNode *msg)
{
	StrBuf body;
	sb_init(&body);
	json_write(&body, msg, JSON_COMPACT);
	printf("Content-Length: %zu\r\n\r\n", body.len);
	fwrite(body.data, 1, body.len, stdout);
	fflush(stdout);
	sb_free(&body);
}

/* The request's id: a number as written (an integer), a string as its text. */
static DNode *id_node(Arena *a, const J *j, int id)
{
	if (id < 0)
		return doc_null(a);
	if (j->t[id].type == JSMN_STRING) {
		char *s = j_str(j, id, NULL);
		DNode *v = doc_str(a, s);
		free(s);
		return v;
	}
	const char *s = j->s + j->t[id].start;
	size_t n = (size_t)(j->t[id].end - j->t[id].start);
	char *end;
	errno = 0;
	long long v = strtoll(s, &end, 10);
	if ((size_t)(end - s) == n && errno != ERANGE)
		return doc_int(a, v);
	if (n == 4 && !memcmp(s, "null", 4))
		return doc_null(a);
	return doc_num(a, strtod(s, NULL));
}

static DNode *envelope(Arena *a, const J *j, int id)
{
	DNode *m = doc_map(a);
	doc_set_str(a, m, "jsonrpc", "2.0");
	doc_set(a, m, "id", id_node(a, j, id));
	return m;
}

static void reply(Arena *a, const J *j, int id, DNode *result)
{
	DNode *m = envelope(a, j, id);
	doc_set(a, m, "result", result ? result : doc_null(a));
	send_msg(m);
}

static void reply_error(Arena *a, const J *j, int id, int code, const char *msg)
{
	DNode *m = envelope(a, j, id);
	DNode *e = doc_set_map(a, m, "error");
	doc_set_int(a, e, "code", code);
	doc_set_str(a, e, "message", msg);
	send_msg(m);
}

/* ---- URIs ---- */

static char *uri_to_path(const char *uri)
{
	if (strncmp(uri, "file://", 7))
		return xstrdup(uri);
	const char *s = uri + 7;
	StrBuf b;
	sb_init(&b);
	for (; *s; s++) {
		if (*s == '%' && s[1] && s[2]) {
			char h[3] = {s[1], s[2], 0};
			char c = (char)strtol(h, NULL, 16);
			sb_putn(&b, &c, 1);
			s += 2;
		} else {
			sb_putn(&b, s, 1);
		}
	}
	return sb_detach(&b);
}

static const char *uri_of(Arena *a, const char *path)
{
	StrBuf u;
	sb_init(&u);
	sb_puts(&u, "file://");
	for (const unsigned char *s = (const unsigned char *)path; *s; s++) {
		if ((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') || strchr("/-._~", *s))
			sb_putn(&u, (const char *)s, 1);
		else
			sb_printf(&u, "%%%02X", *s);
	}
	sb_putc(&u, 0);
	const char *uri = arena_strdup(a, u.data);
	sb_free(&u);
	return uri;
}

/* ---- state ---- */

typedef enum NameKind { K_ENV, K_TEAM, K_SYSTEM, K_SERVICE, K_RESOURCE, K_POLICY, K_N } NameKind;
static const char *const kind_names[K_N] = {"environment", "team", "system", "service", "resource", "policy"};

typedef struct Occ {
	NameKind kind;
	const char *name;
	const SourceFile *f;
	Span sp;
	bool def;
	const Node *item;      /* def: the entry's mapping */
} Occ;

typedef struct Doc {
	char *path, *text;
	size_t len;
} Doc;

typedef struct Loaded {
	SourceFile *f;
	Node *root;
	bool is_root;
} Loaded;

typedef struct Analysis {
	Arena *a;
	Diags d;
	Platform *p;
	Loaded *files;
	int nfiles, capfiles;
	Occ *occ;
	int nocc, capocc;
} Analysis;

typedef struct Server {
	Schema *schema;
	Doc *docs;
	int ndocs;
	char *root;            /* absolute path of the root platform.yaml */
	char *workspace;
	Analysis *cur, *good;  /* the latest analysis; the latest with a model */
	char **published;      /* paths with diagnostics last time */
	int npublished;
	bool dirty, shutdown;
	const LibPolicy *policies;
	int npolicies;
	Arena *policy_arena;
	Arena *out;            /* the message being written (released after each) */
} Server;

static Doc *doc_find(Server *sv, const char *path)
{
	for (int i = 0; i < sv->ndocs; i++)
		if (!strcmp(sv->docs[i].path, path))
			return &sv->docs[i];
	return NULL;
}

static const char *overlay(void *ctx, const char *path, size_t *len)
{
	Doc *d = doc_find(ctx, path);
	if (!d)
		return NULL;
	*len = d->len;
	return d->text;
}

static Analysis *observing;

static void observe(void *ctx, SourceFile *f, Node *root)
{
	Analysis *an = observing;
	if (!an || !f || f->path[0] != '/')
		return; /* the embedded schema, catalog and policies */
	if (an->nfiles == an->capfiles) {
		an->capfiles = an->capfiles ? an->capfiles * 2 : 16;
		an->files = xrealloc(an->files, sizeof *an->files * (size_t)an->capfiles);
	}
	an->files[an->nfiles++] = (Loaded){f, root, an->nfiles == 0};
}

static void analysis_free(Analysis *an)
{
	if (!an)
		return;
	free(an->files);
	free(an->occ);
	arena_free(an->a);
	free(an);
}

/* ---- the name index ---- */

static void add_occ(Analysis *an, NameKind k, const Node *n, bool def, const Node *item)
{
	if (!n || n->kind != N_SCALAR || n->is_null || !n->span.file || n->secret)
		return;
	if (an->nocc == an->capocc) {
		an->capocc = an->capocc ? an->capocc * 2 : 256;
		an->occ = xrealloc(an->occ, sizeof *an->occ * (size_t)an->capocc);
	}
	an->occ[an->nocc++] = (Occ){k, n->text, n->span.file, n->span, def, item};
}

/* A list of names; an item may be a mapping naming it by `team`
 * (`shared_with: [{team, access}]`) or `resource` (`uses: [{resource, access}]`). */
static void add_list(Analysis *an, NameKind k, const Node *l)
{
	if (l && l->kind == N_SCALAR)
		add_occ(an, k, l, false, NULL);
	for (int i = 0; l && l->kind == N_SEQ && i < l->n; i++) {
		const Node *it = l->items[i];
		if (it->kind == N_MAP)
			it = node_get(it, k == K_TEAM ? "team" : "resource");
		if (it)
			add_occ(an, k, it, false, NULL);
	}
}

static void add_override_keys(Analysis *an, const Node *ov)
{
	for (int i = 0; ov && ov->kind == N_MAP && i < ov->n; i++)
		add_occ(an, K_ENV, ov->pairs[i].key, false, NULL);
}

static void index_file(Analysis *an, const Node *root)
{
	if (!root || root->kind != N_MAP)
		return;
	static const struct {
		const char *key;
		NameKind kind;
	} lists[] = {{"environments", K_ENV}, {"teams", K_TEAM}, {"systems", K_SYSTEM},
		     {"services", K_SERVICE}, {"resources", K_RESOURCE}};
	for (size_t l = 0; l < ARRAY_LEN(lists); l++) {
		const Node *list = node_get(root, lists[l].key);
		for (int i = 0; list && list->kind == N_SEQ && i < list->n; i++) {
			const Node *it = list->items[i];
			if (it->kind != N_MAP)
				continue;
			add_occ(an, lists[l].kind, node_get(it, "name"), true, it);
			switch (lists[l].kind) {
			case K_SYSTEM:
				add_occ(an, K_TEAM, node_get(it, "owner"), false, NULL);
				break;
			case K_SERVICE:
				add_occ(an, K_TEAM, node_get(it, "team"), false, NULL);
				add_occ(an, K_SYSTEM, node_get(it, "system"), false, NULL);
				add_list(an, K_SERVICE, node_get(it, "calls"));
				add_list(an, K_RESOURCE, node_get(it, "uses"));
				add_list(an, K_ENV, node_get(it, "environments"));
				add_override_keys(an, node_get(it, "overrides"));
				break;
			case K_RESOURCE: {
				add_occ(an, K_TEAM, node_get(it, "team"), false, NULL);
				add_list(an, K_TEAM, node_get(it, "shared_with"));
				add_list(an, K_ENV, node_get(it, "environments"));
				add_override_keys(an, node_get(it, "overrides"));
				const Node *subs = node_get(node_get(it, "params"), "subscriptions");
				for (int s = 0; subs && subs->kind == N_SEQ && s < subs->n; s++)
					add_occ(an, K_RESOURCE, node_get(subs->items[s], "resource"), false, NULL);
				break;
			}
			default:
				break;
			}
		}
	}
	add_occ(an, K_TEAM, node_get(node_get(root, "platform"), "owner"), false, NULL);
	const Node *pol = node_get(root, "policies");
	add_list(an, K_POLICY, node_get(pol, "disable"));
	const Node *ex = node_get(pol, "exceptions");
	for (int i = 0; ex && ex->kind == N_SEQ && i < ex->n; i++) {
		add_occ(an, K_POLICY, node_get(ex->items[i], "policy"), false, NULL);
		add_list(an, K_SERVICE, node_get(ex->items[i], "services"));
	}
	const Node *ds = node_get(node_get(root, "defaults"), "service");
	add_list(an, K_ENV, node_get(ds, "environments"));
	add_override_keys(an, node_get(ds, "overrides"));
}

/* ---- check and publish ---- */

static DNode *range_node(Arena *a, const Span *sp)
{
	int line = sp->line > 0 ? sp->line - 1 : 0, col = sp->col > 0 ? sp->col - 1 : 0;
	int len = sp->len > 0 ? sp->len : 1;
	DNode *r = doc_map(a), *start = doc_set_map(a, r, "start"), *end = doc_set_map(a, r, "end");
	doc_set_int(a, start, "line", line);
	doc_set_int(a, start, "character", col);
	doc_set_int(a, end, "line", line);
	doc_set_int(a, end, "character", col + len);
	return r;
}

static DNode *diag_node(Arena *a, const Diags *d, const Diag *g)
{
	DNode *m = doc_map(a);
	doc_set(a, m, "range", range_node(a, &g->span));
	doc_set_int(a, m, "severity", g->sev == SEV_ERROR ? 1 : 2);
	doc_set_str(a, m, "code", g->code);
	doc_set_str(a, m, "source", "platformc");
	StrBuf msg;
	sb_init(&msg);
	char *text = diags_clean(d, g->msg);
	sb_puts(&msg, text);
	free(text);
	if (g->label && !g->redact) {
		char *l = diags_clean(d, g->label);
		sb_printf(&msg, " (%s)", l);
		free(l);
	}
	if (g->help) {
		char *h = diags_clean(d, g->help);
		sb_printf(&msg, "\nhelp: %s", h);
		free(h);
	}
	sb_putc(&msg, 0);
	doc_set_str(a, m, "message", msg.data);
	sb_free(&msg);
	DNode *related = doc_set_seq(a, m, "relatedInformation");
	for (int i = 0; i < g->nnotes; i++) {
		const DiagNote *n = &g->notes[i];
		if (!n->span.file || n->span.file->path[0] != '/')
			continue;
		DNode *r = doc_push_map(a, related);
		DNode *loc = doc_set_map(a, r, "location");
		doc_set_str(a, loc, "uri", uri_of(a, n->span.file->path));
		doc_set(a, loc, "range", range_node(a, &n->span));
		char *nm = diags_clean(d, n->msg);
		doc_set_str(a, r, "message", nm);
		free(nm);
	}
	return m;
}

static void publish(Server *sv, const char *path, const Analysis *an)
{
	Arena *a = sv->out;
	ArenaMark mark = arena_mark(a);
	DNode *m = doc_map(a);
	doc_set_str(a, m, "jsonrpc", "2.0");
	doc_set_str(a, m, "method", "textDocument/publishDiagnostics");
	DNode *params = doc_set_map(a, m, "params");
	doc_set_str(a, params, "uri", uri_of(a, path));
	DNode *list = doc_set_seq(a, params, "diagnostics");
	for (int i = 0; an && i < an->d.n; i++) {
		const Diag *g = an->d.items[i];
		const char *gp = g->span.file ? g->span.file->path : sv->root;
		if (!strcmp(gp, path))
			doc_push(a, list, diag_node(a, &an->d, g));
	}
	send_msg(m);
	arena_release(a, mark);
}

static char *find_root(const char *start_dir)
{
	char dir[PATH_MAX];
	snprintf(dir, sizeof dir, "%s", start_dir);
	for (;;) {
		char cand[PATH_MAX + 16];
		struct stat st;
		snprintf(cand, sizeof cand, "%s/platform.yaml", dir);
		if (stat(cand, &st) == 0 && S_ISREG(st.st_mode))
			return xstrdup(cand);
		char *slash = strrchr(dir, '/');
		if (!slash || slash == dir)
			return NULL;
		*slash = 0;
	}
}

/* The root for a document: the nearest platform.yaml at or above its folder
 * (the document itself when it is one), kept while documents live under it. */
static void choose_root(Server *sv, const char *path)
{
	if (sv->root) {
		size_t n = strrchr(sv->root, '/') - sv->root;
		if (!strncmp(path, sv->root, n) && path[n] == '/')
			return;
	}
	char dir[PATH_MAX];
	snprintf(dir, sizeof dir, "%s", path);
	char *slash = strrchr(dir, '/');
	if (slash)
		*slash = 0;
	char *r = find_root(dir);
	if (!r) {
		Doc *d = doc_find(sv, path);
		if (d && memmem(d->text, d->len, "platform:", 9))
			r = xstrdup(path);
	}
	if (r) {
		free(sv->root);
		sv->root = r;
	}
}

static void analyse(Server *sv)
{
	sv->dirty = false;
	if (!sv->root)
		return;
	Analysis *an = xmalloc(sizeof *an);
	memset(an, 0, sizeof *an);
	an->a = arena_new();
	diags_init(&an->d, an->a);
	observing = an;
	src_set_hooks(overlay, observe, sv);
	an->p = lower_load(an->a, sv->schema, &an->d, sv->root);
	src_set_hooks(NULL, NULL, NULL);
	observing = NULL;
	diags_sort(&an->d);
	for (int i = 0; i < an->nfiles; i++)
		index_file(an, an->files[i].root);

	/* publish: every file with diagnostics now, and every file that had some */
	char **now = NULL;
	int nnow = 0;
	for (int i = 0; i < an->d.n; i++) {
		const Diag *g = an->d.items[i];
		const char *gp = g->span.file ? g->span.file->path : sv->root;
		if (gp[0] != '/')
			continue;
		bool seen = false;
		for (int k = 0; k < nnow && !seen; k++)
			seen = !strcmp(now[k], gp);
		if (!seen) {
			now = xrealloc(now, sizeof *now * (size_t)(nnow + 1));
			now[nnow++] = xstrdup(gp);
		}
	}
	for (int k = 0; k < nnow; k++)
		publish(sv, now[k], an);
	/* files that had diagnostics and have none now, and open documents
	 * without any: an empty list (so a client sees every check) */
	for (int k = 0; k < sv->npublished; k++) {
		bool still = false;
		for (int m = 0; m < nnow && !still; m++)
			still = !strcmp(now[m], sv->published[k]);
		if (!still && !doc_find(sv, sv->published[k]))
			publish(sv, sv->published[k], NULL);
		free(sv->published[k]);
	}
	for (int i = 0; i < sv->ndocs; i++) {
		bool has = false;
		for (int m = 0; m < nnow && !has; m++)
			has = !strcmp(now[m], sv->docs[i].path);
		if (!has)
			publish(sv, sv->docs[i].path, NULL);
	}
	free(sv->published);
	sv->published = now;
	sv->npublished = nnow;

	if (sv->cur != sv->good)
		analysis_free(sv->cur);
	if (an->p) {
		if (sv->good != sv->cur)
			analysis_free(sv->good);
		sv->good = an;
	}
	sv->cur = an;
}

/* ---- positions ---- */

typedef struct Pos {
	char *path;
	int line, col;         /* 1-based, as Span */
} Pos;

static bool get_pos(const J *j, Pos *p)
{
	char *uri = j_str(j, j_path(j, 0, "params", "textDocument", "uri", NULL), NULL);
	int pos = j_path(j, 0, "params", "position", NULL);
	if (!uri || pos < 0) {
		free(uri);
		return false;
	}
	p->path = uri_to_path(uri);
	free(uri);
	p->line = (int)j_int(j, j_get(j, pos, "line"), 0) + 1;
	p->col = (int)j_int(j, j_get(j, pos, "character"), 0) + 1;
	return true;
}

static const Occ *occ_at(const Analysis *an, const Pos *p)
{
	for (int i = 0; an && i < an->nocc; i++) {
		const Occ *o = &an->occ[i];
		if (o->sp.line == p->line && p->col >= o->sp.col && p->col <= o->sp.col + o->sp.len &&
		    !strcmp(o->f->path, p->path))
			return o;
	}
	return NULL;
}

static const Occ *def_of(const Analysis *an, NameKind k, const char *name)
{
	for (int i = 0; an && i < an->nocc; i++)
		if (an->occ[i].def && an->occ[i].kind == k && !strcmp(an->occ[i].name, name))
			return &an->occ[i];
	return NULL;
}

static DNode *location_node(Arena *a, const Occ *o)
{
	DNode *m = doc_map(a);
	doc_set_str(a, m, "uri", uri_of(a, o->f->path));
	doc_set(a, m, "range", range_node(a, &o->sp));
	return m;
}

/* The name at a request's position into *o (NULL: none there). False when the
 * request has no position: it has then been answered with `none`. */
static bool occ_of_request(Server *sv, const J *j, int id, DNode *none, const Occ **o)
{
	Pos p;
	if (!get_pos(j, &p)) {
		reply(sv->out, j, id, none);
		return false;
	}
	*o = occ_at(sv->cur, &p);
	free(p.path);
	return true;
}

static void on_definition(Server *sv, const J *j, int id)
{
	const Occ *o;
	if (!occ_of_request(sv, j, id, NULL, &o))
		return;
	const Occ *d = o ? def_of(sv->cur, o->kind, o->name) : NULL;
	reply(sv->out, j, id, d ? location_node(sv->out, d) : NULL);
}

static void on_references(Server *sv, const J *j, int id)
{
	Arena *a = sv->out;
	const Occ *o;
	if (!occ_of_request(sv, j, id, doc_seq(a), &o))
		return;
	int ctx = j_path(j, 0, "params", "context", "includeDeclaration", NULL);
	bool with_decl = ctx < 0 || j->s[j->t[ctx].start] == 't';
	DNode *list = doc_seq(a);
	for (int i = 0; o && i < sv->cur->nocc; i++) {
		const Occ *x = &sv->cur->occ[i];
		if (x->kind != o->kind || strcmp(x->name, o->name) || (x->def && !with_decl))
			continue;
		doc_push(a, list, location_node(a, x));
	}
	reply(a, j, id, list);
}

static void on_rename(Server *sv, const J *j, int id)
{
	Arena *a = sv->out;
	const Occ *o;
	if (!occ_of_request(sv, j, id, NULL, &o))
		return;
	char *to = j_str(j, j_path(j, 0, "params", "newName", NULL), NULL);
	if (!o || o->kind == K_POLICY) {
		reply_error(a, j, id, -32602, o ? "policies are named by the library; they cannot be renamed"
					       : "no team, system, service, resource or environment name here");
		free(to);
		return;
	}
	if (!to || !scalar_is_name(to, strlen(to))) {
		reply_error(a, j, id, -32602,
			    "not a valid name: lower-case letters, digits and `-`, starting with a letter");
		free(to);
		return;
	}
	/* services and resources share one name table */
	for (int i = 0; i < sv->cur->nocc; i++) {
		const Occ *x = &sv->cur->occ[i];
		bool same_table = x->kind == o->kind ||
				  ((x->kind == K_SERVICE || x->kind == K_RESOURCE) &&
				   (o->kind == K_SERVICE || o->kind == K_RESOURCE));
		if (x->def && same_table && !strcmp(x->name, to)) {
			char msg[200];
			snprintf(msg, sizeof msg, "a %s is already named `%s`", kind_names[x->kind], to);
			reply_error(a, j, id, -32602, msg);
			free(to);
			return;
		}
	}
	DNode *edit = doc_map(a), *changes = doc_set_map(a, edit, "changes");
	/* one entry per file, in the order the files were loaded */
	for (int f = 0; f < sv->cur->nfiles; f++) {
		const SourceFile *sf = sv->cur->files[f].f;
		DNode *edits = NULL;
		for (int i = 0; i < sv->cur->nocc; i++) {
			const Occ *x = &sv->cur->occ[i];
			if (x->f != sf || x->kind != o->kind || strcmp(x->name, o->name))
				continue;
			if (!edits)
				edits = doc_append(a, changes, uri_of(a, sf->path), doc_seq(a));
			DNode *e = doc_push_map(a, edits);
			doc_set(a, e, "range", range_node(a, &x->sp));
			doc_set_str(a, e, "newText", to);
		}
	}
	reply(a, j, id, edit);
	free(to);
}

/* ---- hover ---- */

/* The schema field of the key at a position: walks the tree beside its type. */
static const Field *key_at(const Node *n, const Type *t, int line, int col, const Type **owner)
{
	if (!n || !t)
		return NULL;
	if (t->kind == T_UNION) {
		for (int i = 0; i < t->nalts; i++) {
			const Type *a = t->alts[i];
			if ((n->kind == N_MAP && (a->kind == T_OBJECT || a->kind == T_MAP)) ||
			    (n->kind == N_SEQ && a->kind == T_LIST))
				return key_at(n, a, line, col, owner);
		}
		return NULL;
	}
	if (n->kind == N_SEQ && t->kind == T_LIST) {
		for (int i = 0; i < n->n; i++) {
			const Field *f = key_at(n->items[i], t->elem, line, col, owner);
			if (f)
				return f;
		}
		return NULL;
	}
	if (n->kind != N_MAP)
		return NULL;
	for (int i = 0; i < n->n; i++) {
		const Node *k = n->pairs[i].key;
		const Field *f = NULL;
		for (int j = 0; t->kind == T_OBJECT && j < t->nfields && !f; j++)
			if (!strcmp(t->fields[j].name, k->text))
				f = &t->fields[j];
		if (k->span.line == line && col >= k->span.col && col <= k->span.col + k->span.len) {
			*owner = t;
			return f;
		}
		const Type *vt = f ? f->type : t->kind == T_MAP ? t->elem : NULL;
		const Field *r = key_at(n->pairs[i].val, vt, line, col, owner);
		if (r)
			return r;
	}
	return NULL;
}

static void md_scalar_params(StrBuf *b, const Node *params)
{
	for (int i = 0; params && params->kind == N_MAP && i < params->n; i++) {
		const Node *v = params->pairs[i].val;
		if (v->secret)
			continue;
		if (v->kind == N_SCALAR)
			sb_printf(b, "- `%s`: `%s`\n", params->pairs[i].key->text, v->text);
		else
			sb_printf(b, "- `%s`: %s\n", params->pairs[i].key->text, v->kind == N_SEQ ? "(list)" : "(mapping)");
	}
}

static void hover_name(Server *sv, const Occ *o, StrBuf *md)
{
	const Occ *d = def_of(sv->cur, o->kind, o->name);
	const Node *it = d ? d->item : NULL;
	sb_printf(md, "**%s `%s`**", kind_names[o->kind], o->name);
	const Node *desc = node_get(it, "description");
	if (desc && desc->kind == N_SCALAR)
		sb_printf(md, " — %s", desc->text);
	sb_puts(md, "\n\n");
	if (d)
		sb_printf(md, "defined at %s:%d:%d\n\n", d->f->path, d->sp.line, d->sp.col);
	const Platform *p = sv->good ? sv->good->p : NULL;
	switch (o->kind) {
	case K_RESOURCE: {
		const Node *kind = node_get(it, "kind"), *team = node_get(it, "team");
		if (kind && team)
			sb_printf(md, "kind `%s`, team `%s`\n\n", kind->text, team->text);
		const Resource *r = NULL;
		for (int i = 0; p && i < p->nresources && !r; i++)
			if (!strcmp(p->resources[i]->name, o->name))
				r = p->resources[i];
		sb_puts(md, "params:\n\n");
		md_scalar_params(md, r ? r->params : node_get(it, "params"));
		if (r) {
			sb_puts(md, "\nestimated monthly cost (USD, list prices):\n\n");
			for (int e = 0; e < r->nenvs; e++) {
				double usd = 0;
				int c = cost_estimate(r, r->envs[e], &usd);
				char m[40];
				cost_money(m, sizeof m, usd);
				sb_printf(md, "- %s: %s\n", r->envs[e]->name,
					  c == COST_PRICED ? m : c == COST_USAGE ? "usage-based" : "not priced");
			}
		}
		break;
	}
	case K_SERVICE: {
		static const char *const keys[] = {"team", "system", "image", "port", "api"};
		for (size_t k = 0; k < ARRAY_LEN(keys); k++) {
			const Node *v = node_get(it, keys[k]);
			if (v && v->kind == N_SCALAR)
				sb_printf(md, "- %s: `%s`\n", keys[k], v->text);
		}
		break;
	}
	case K_TEAM: {
		const Node *q = node_get(it, "quota");
		const Node *cpu = node_get(q, "cpu"), *mem = node_get(q, "memory");
		if (cpu && mem)
			sb_printf(md, "quota: cpu `%s`, memory `%s`\n\n", cpu->text, mem->text);
		int ns = 0, nr = 0;
		for (int i = 0; i < sv->cur->nocc; i++) {
			const Occ *x = &sv->cur->occ[i];
			if (x->def && (x->kind == K_SERVICE || x->kind == K_RESOURCE)) {
				const Node *t = node_get(x->item, "team");
				if (t && t->kind == N_SCALAR && !strcmp(t->text, o->name))
					x->kind == K_SERVICE ? ns++ : nr++;
			}
		}
		sb_printf(md, "%d service%s, %d resource%s\n", ns, ns == 1 ? "" : "s", nr, nr == 1 ? "" : "s");
		break;
	}
	case K_ENV: {
		const Node *tier = node_get(it, "tier");
		if (tier)
			sb_printf(md, "tier `%s`\n", tier->text);
		break;
	}
	case K_POLICY:
		for (int i = 0; i < sv->npolicies; i++)
			if (!strcmp(sv->policies[i].name, o->name))
				sb_printf(md, "%s\n\n%s\n", sv->policies[i].title ? sv->policies[i].title : "",
					  sv->policies[i].why ? sv->policies[i].why : "");
		break;
	default:
		break;
	}
}

static void on_hover(Server *sv, const J *j, int id)
{
	Pos p;
	if (!get_pos(j, &p)) {
		reply(sv->out, j, id, NULL);
		return;
	}
	StrBuf md;
	sb_init(&md);
	const Occ *o = occ_at(sv->cur, &p);
	if (o) {
		hover_name(sv, o, &md);
	} else {
		for (int i = 0; sv->cur && i < sv->cur->nfiles; i++) {
			const Loaded *l = &sv->cur->files[i];
			if (strcmp(l->f->path, p.path))
				continue;
			const Type *owner = NULL;
			const Type *root = l->is_root ? sv->schema->root : sv->schema->include_root;
			const Field *f = key_at(l->root, root, p.line, p.col, &owner);
			if (!f)
				break;
			sb_printf(&md, "**`%s`**%s%s — %s", f->name, owner && owner->name ? " in " : "",
				  owner && owner->name ? owner->name : "", type_describe(f->type));
			if (f->required)
				sb_puts(&md, ", required");
			if (f->def)
				sb_printf(&md, ", default `%s`", f->def);
			if (f->type->nenums) {
				sb_puts(&md, "\n\none of:");
				for (int e = 0; e < f->type->nenums; e++)
					sb_printf(&md, " `%s`", f->type->enums[e]);
			}
			if (f->doc)
				sb_printf(&md, "\n\n%s", f->doc);
			break;
		}
	}
	free(p.path);
	if (!md.len) {
		reply(sv->out, j, id, NULL);
		sb_free(&md);
		return;
	}
	Arena *a = sv->out;
	DNode *hover = doc_map(a), *contents = doc_set_map(a, hover, "contents");
	doc_set_str(a, contents, "kind", "markdown");
	sb_putc(&md, 0);
	doc_set_str(a, contents, "value", md.data);
	reply(a, j, id, hover);
	sb_free(&md);
}

/* ---- completion ---- */

typedef struct Lines {
	const char *text;
	size_t len;
	int n;
	int *start;
} Lines;

static void lines_of(Lines *L, const char *text, size_t len)
{
	L->text = text, L->len = len, L->n = 1;
	for (size_t i = 0; i < len; i++)
		L->n += text[i] == '\n';
	L->start = xmalloc(sizeof(int) * (size_t)(L->n + 1));
	int k = 0;
	L->start[k++] = 0;
	for (size_t i = 0; i < len; i++)
		if (text[i] == '\n')
			L->start[k++] = (int)i + 1;
	L->start[L->n] = (int)len + 1;
}

static int line_len(const Lines *L, int ln) /* 0-based */
{
	return L->start[ln + 1] - 1 - L->start[ln];
}

/* A line's indentation, whether it is a list item, and the key on it. */
typedef struct LineInfo {
	int indent;            /* of its first character (the `-` of an item) */
	bool item;
	int key_col;           /* where the key starts (after `- `), -1: no key */
	int key_len;
	bool blank;
} LineInfo;

static LineInfo line_info(const Lines *L, int ln)
{
	LineInfo r = {0, false, -1, 0, true};
	const char *s = L->text + L->start[ln];
	int n = line_len(L, ln), i = 0;
	while (i < n && s[i] == ' ')
		i++;
	if (i == n || s[i] == '#')
		return r;
	r.blank = false;
	r.indent = i;
	if (s[i] == '-' && (i + 1 == n || s[i + 1] == ' ')) {
		r.item = true;
		i++;
		while (i < n && s[i] == ' ')
			i++;
	}
	int k = i;
	while (k < n && (s[k] == '_' || s[k] == '-' || (s[k] >= 'a' && s[k] <= 'z') || (s[k] >= 'A' && s[k] <= 'Z') ||
			 (s[k] >= '0' && s[k] <= '9')))
		k++;
	if (k > i && k < n && s[k] == ':') {
		r.key_col = i;
		r.key_len = k - i;
	} else if (k > i && k == n) {
		r.key_col = i; /* a key being typed */
		r.key_len = k - i;
	}
	return r;
}

/* The keys above line `ln` that enclose column `col`, outermost first ("-"
 * for a list item): the path of the mapping the cursor is in. */
static int key_path(const Lines *L, int ln, int col, char path[][64], int max)
{
	char rev[32][64];
	int n = 0, want = col;
	for (int i = ln - 1; i >= 0 && want > 0 && n < 32; i--) {
		LineInfo li = line_info(L, i);
		if (li.blank)
			continue;
		if (li.item && li.indent < want) {
			/* `- key: ...` with the cursor deeper than `key`: inside its value */
			if (li.key_col >= 0 && li.key_col < want && n < 31)
				snprintf(rev[n++], 64, "%.*s", li.key_len, L->text + L->start[i] + li.key_col);
			snprintf(rev[n++], 64, "-");
			want = li.indent;
			continue;
		}
		if (!li.item && li.key_col >= 0 && li.indent < want) {
			snprintf(rev[n++], 64, "%.*s", li.key_len, L->text + L->start[i] + li.key_col);
			want = li.indent;
		}
	}
	int k = 0;
	for (int i = n - 1; i >= 0 && k < max; i--)
		snprintf(path[k++], 64, "%s", rev[i]);
	return k;
}

static const Type *pick(const Type *t, bool want_list)
{
	if (!t || t->kind != T_UNION)
		return t;
	for (int i = 0; i < t->nalts; i++)
		if ((t->alts[i]->kind == T_LIST) == want_list &&
		    (want_list || t->alts[i]->kind == T_OBJECT || t->alts[i]->kind == T_MAP))
			return t->alts[i];
	return t;
}

static const Field *field_of(const Type *t, const char *name)
{
	for (int i = 0; t && t->kind == T_OBJECT && i < t->nfields; i++)
		if (!strcmp(t->fields[i].name, name))
			return &t->fields[i];
	return NULL;
}

/* The type of the mapping at `path` (NULL when unknown). */
static const Type *walk(const Type *t, char path[][64], int n, const char **last_key)
{
	*last_key = NULL;
	for (int i = 0; i < n && t; i++) {
		if (!strcmp(path[i], "-")) {
			t = pick(t, true);
			t = t && t->kind == T_LIST ? t->elem : NULL;
			continue;
		}
		t = pick(t, false);
		if (t && t->kind == T_OBJECT) {
			const Field *f = field_of(t, path[i]);
			t = f ? f->type : NULL;
		} else if (t && t->kind == T_MAP) {
			t = t->elem;
		} else {
			t = NULL;
		}
		*last_key = path[i];
	}
	return t;
}

typedef struct Items {
	Arena *a;
	DNode *list;
} Items;

static void item(Items *it, const char *label, int kind, const char *detail, const char *doc, const char *insert)
{
	Arena *a = it->a;
	DNode *m = doc_push_map(a, it->list);
	doc_set_str(a, m, "label", label ? label : "");
	doc_set_int(a, m, "kind", kind);
	if (detail)
		doc_set_str(a, m, "detail", detail);
	if (doc)
		doc_set_str(a, m, "documentation", doc);
	if (insert)
		doc_set_str(a, m, "insertText", insert);
}

/* The value of `key:` in the list item around line `ln` (the service's
 * team), read from the text; NULL when absent. Heap. */
static char *item_value(const Lines *L, int ln, const char *key)
{
	int item_line = -1, item_col = 0;
	LineInfo cur = line_info(L, ln);
	int col = cur.blank ? INT_MAX : cur.indent;
	/* the nearest `- ` item above that encloses the line (not the line's own
	 * `- `: in `uses:` / `  - x` that is an entry of the list) */
	for (int i = ln - 1; i >= 0; i--) {
		LineInfo li = line_info(L, i);
		if (!li.blank && li.item && li.indent < col) {
			item_line = i, item_col = li.key_col;
			break;
		}
		if (!li.blank && !li.item && li.indent < col)
			col = li.indent;
	}
	if (item_line < 0)
		return NULL;
	for (int i = item_line; i < L->n; i++) {
		LineInfo li = line_info(L, i);
		if (li.blank)
			continue;
		if (i > item_line && (li.indent < item_col || (li.item && li.indent < item_col)))
			break;
		if (li.key_col == item_col && li.key_len == (int)strlen(key) &&
		    !memcmp(L->text + L->start[i] + li.key_col, key, (size_t)li.key_len)) {
			const char *v = L->text + L->start[i] + li.key_col + li.key_len + 1;
			const char *e = L->text + L->start[i] + line_len(L, i);
			while (v < e && *v == ' ')
				v++;
			const char *ve = v;
			while (ve < e && *ve != ' ' && *ve != '#')
				ve++;
			return ve > v ? strndup(v, (size_t)(ve - v)) : NULL;
		}
	}
	return NULL;
}

/* Did `path` parse in this analysis? */
static bool parsed(const Analysis *an, const char *path)
{
	for (int i = 0; an && i < an->nfiles; i++)
		if (!strcmp(an->files[i].f->path, path))
			return an->files[i].root != NULL;
	return false;
}

static void names_of(Server *sv, Items *it, NameKind k, const char *team_filter, const char *exclude)
{
	/* the latest check's names, and for a file that does not parse now (the
	 * one being typed in), the names it had at the last good check */
	int n = 0;
	const Occ **all = xmalloc(sizeof *all * (size_t)((sv->cur ? sv->cur->nocc : 0) + (sv->good ? sv->good->nocc : 0) + 1));
	for (int i = 0; sv->cur && i < sv->cur->nocc; i++)
		all[n++] = &sv->cur->occ[i];
	for (int i = 0; sv->good && sv->good != sv->cur && i < sv->good->nocc; i++)
		if (!parsed(sv->cur, sv->good->occ[i].f->path))
			all[n++] = &sv->good->occ[i];
	for (int i = 0; i < n; i++) {
		const Occ *o = all[i];
		if (!o->def || o->kind != k || (exclude && !strcmp(o->name, exclude)))
			continue;
		bool dup = false;
		for (int m = 0; m < i && !dup; m++)
			dup = all[m]->def && all[m]->kind == k && !strcmp(all[m]->name, o->name);
		if (dup)
			continue;
		const char *detail = kind_names[k];
		if (team_filter) {
			/* a resource of the team, or shared with it */
			const Node *t = node_get(o->item, "team");
			bool ok = t && t->kind == N_SCALAR && !strcmp(t->text, team_filter);
			const Node *sw = node_get(o->item, "shared_with");
			for (int s = 0; !ok && sw && sw->kind == N_SEQ && s < sw->n; s++) {
				/* a team's name, or {team, access} */
				const Node *st = sw->items[s]->kind == N_MAP ? node_get(sw->items[s], "team") : sw->items[s];
				ok = st && st->kind == N_SCALAR && st->text && !strcmp(st->text, team_filter);
			}
			if (!ok)
				continue;
			if (t && strcmp(t->text, team_filter))
				detail = "resource shared with the team";
		}
		const Node *kind = node_get(o->item, "kind");
		char det[160];
		if (k == K_RESOURCE && kind && kind->kind == N_SCALAR)
			snprintf(det, sizeof det, "%s (%s)", detail, kind->text), detail = det;
		item(it, o->name, k == K_RESOURCE ? 12 : k == K_SERVICE ? 7 : k == K_TEAM ? 9 : 21, detail, NULL, NULL);
	}
	free(all);
	if (k == K_POLICY)
		for (int i = 0; i < sv->npolicies; i++)
			item(it, sv->policies[i].name, 21, "policy", sv->policies[i].title, NULL);
}

static void complete_value(Server *sv, Items *it, const Type *obj, const char *key, const Lines *L, int ln,
			   char path[][64], int np)
{
	const char *parent = np > 0 ? path[np - 1] : "";
	const char *grand = np > 1 ? path[np - 2] : "";
	bool in_service = !strcmp(np > 1 ? path[np - 2] : "", "services") || !strcmp(grand, "services");
	bool in_resource = !strcmp(np > 1 ? path[np - 2] : "", "resources");
	(void)parent;
	if (!strcmp(key, "team") || !strcmp(key, "owner") || !strcmp(key, "shared_with")) {
		names_of(sv, it, K_TEAM, NULL, NULL);
	} else if (!strcmp(key, "system")) {
		names_of(sv, it, K_SYSTEM, NULL, NULL);
	} else if (!strcmp(key, "calls")) {
		char *self = item_value(L, ln, "name");
		names_of(sv, it, K_SERVICE, NULL, self);
		free(self);
	} else if (!strcmp(key, "uses")) {
		char *team = item_value(L, ln, "team");
		names_of(sv, it, K_RESOURCE, team, NULL);
		free(team);
	} else if (!strcmp(key, "environments")) {
		names_of(sv, it, K_ENV, NULL, NULL);
	} else if (!strcmp(key, "policy") || !strcmp(key, "disable")) {
		names_of(sv, it, K_POLICY, NULL, NULL);
	} else if (!strcmp(key, "services") && !in_service) {
		names_of(sv, it, K_SERVICE, NULL, NULL);
	} else if (!strcmp(key, "kind") && in_resource && sv->good && sv->good->p && sv->good->p->catalog) {
		const Catalog *c = sv->good->p->catalog;
		for (int i = 0; i < c->n; i++)
			item(it, c->kinds[i]->name, 12, c->kinds[i]->title, c->kinds[i]->description, NULL);
	} else {
		const Field *f = field_of(obj, key);
		const Type *t = f ? f->type : NULL;
		if (t && t->kind == T_LIST)
			t = t->elem;
		for (int i = 0; t && i < t->nenums; i++)
			item(it, t->enums[i], 20, key, NULL, NULL);
	}
}

static void on_completion(Server *sv, const J *j, int id)
{
	Pos p;
	if (!get_pos(j, &p)) {
		reply(sv->out, j, id, doc_seq(sv->out));
		return;
	}
	Doc *d = doc_find(sv, p.path);
	char *disk = NULL;
	size_t dlen = 0;
	const char *text = d ? d->text : NULL;
	if (!d)
		text = disk = read_file_all(p.path, &dlen);
	Items it = {sv->out, doc_seq(sv->out)};
	if (text) {
		Lines L;
		lines_of(&L, text, d ? d->len : dlen);
		int ln = p.line - 1;
		if (ln >= 0 && ln < L.n) {
			const char *s = text + L.start[ln];
			int n = line_len(&L, ln), c = p.col - 1 < n ? p.col - 1 : n;
			/* what is before the cursor on its line */
			int i = 0;
			while (i < c && s[i] == ' ')
				i++;
			bool item_line = i < c && s[i] == '-' && (i + 1 == c || s[i + 1] == ' ');
			int key_start = item_line ? i + 1 : i;
			while (key_start < c && s[key_start] == ' ')
				key_start++;
			const char *colon = memchr(s + key_start, ':', (size_t)(c - key_start));
			bool is_root = sv->root && !strcmp(sv->root, p.path);
			const Type *root = is_root || !sv->root ? sv->schema->root : sv->schema->include_root;
			char path[32][64];
			int np = key_path(&L, ln, item_line ? i : key_start, path, 30);
			const char *last = NULL;
			if (!colon) {
				if (item_line)
					snprintf(path[np++], 64, "-");
				const Type *t = walk(root, path, np, &last);
				const Type *tm = pick(t, false);
				if (tm && tm->kind == T_LIST && item_line) {
					/* `- ` in a list of names: a value */
					np--;
					const Type *obj = pick(walk(root, path, np - 1 > 0 ? np - 1 : 0, &last), false);
					complete_value(sv, &it, obj, path[np - 1], &L, ln, path, np - 1);
				} else if (tm && tm->kind == T_OBJECT) {
					for (int f = 0; f < tm->nfields; f++)
						item(&it, tm->fields[f].name, 10, type_describe(tm->fields[f].type),
						     tm->fields[f].doc,
						     arena_sprintf(sv->policy_arena, "%s: ", tm->fields[f].name));
					if (t != tm && item_line && np > 1 && !strcmp(path[np - 1], "-")) {
						/* an item that is a name or a mapping (`uses`, `shared_with`): the names too */
						char key[64];
						snprintf(key, sizeof key, "%s", path[np - 2]);
						const Type *obj = pick(walk(root, path, np > 2 ? np - 2 : 0, &last), false);
						complete_value(sv, &it, obj, key, &L, ln, path, np - 2 > 0 ? np - 2 : 0);
					}
				} else if (tm && tm->kind == T_MAP && last && !strcmp(last, "overrides")) {
					names_of(sv, &it, K_ENV, NULL, NULL);
				} else if (np > 0 && !strcmp(path[np - 1], "-")) {
					/* `- ` item of a list of names written as a block */
					char key[64];
					snprintf(key, sizeof key, "%s", np > 1 ? path[np - 2] : "");
					const Type *obj = pick(walk(root, path, np > 2 ? np - 2 : 0, &last), false);
					complete_value(sv, &it, obj, key, &L, ln, path, np - 2 > 0 ? np - 2 : 0);
				}
			} else {
				char key[64];
				snprintf(key, sizeof key, "%.*s", (int)(colon - (s + key_start)), s + key_start);
				if (item_line)
					snprintf(path[np++], 64, "-");
				const Type *obj = pick(walk(root, path, np, &last), false);
				complete_value(sv, &it, obj, key, &L, ln, path, np);
			}
		}
		free(L.start);
	}
	free(disk);
	free(p.path);
	DNode *result = doc_map(it.a);
	doc_set_bool(it.a, result, "isIncomplete", false);
	doc_set(it.a, result, "items", it.list);
	reply(it.a, j, id, result);
}

/* ---- documents ---- */

static void buffer_set(Server *sv, const char *path, char *text, size_t len)
{
	Doc *d = doc_find(sv, path);
	if (!d) {
		sv->docs = xrealloc(sv->docs, sizeof *sv->docs * (size_t)(sv->ndocs + 1));
		d = &sv->docs[sv->ndocs++];
		d->path = xstrdup(path);
	} else {
		free(d->text);
	}
	d->text = text, d->len = len;
}

static void buffer_close(Server *sv, const char *path)
{
	Doc *d = doc_find(sv, path);
	if (!d)
		return;
	free(d->path);
	free(d->text);
	*d = sv->docs[--sv->ndocs];
}

static char *param_path(const J *j)
{
	char *uri = j_str(j, j_path(j, 0, "params", "textDocument", "uri", NULL), NULL);
	if (!uri)
		return NULL;
	char *p = uri_to_path(uri);
	free(uri);
	return p;
}

static void on_initialize(Server *sv, const J *j, int id)
{
	char *uri = j_str(j, j_path(j, 0, "params", "rootUri", NULL), NULL);
	if (!uri) {
		int wf = j_path(j, 0, "params", "workspaceFolders", NULL);
		if (wf >= 0 && j->t[wf].type == JSMN_ARRAY && j->t[wf].size > 0)
			uri = j_str(j, j_get(j, wf + 1, "uri"), NULL);
	}
	if (uri) {
		sv->workspace = uri_to_path(uri);
		free(uri);
		char cand[PATH_MAX + 16];
		struct stat st;
		snprintf(cand, sizeof cand, "%s/platform.yaml", sv->workspace);
		if (stat(cand, &st) == 0)
			sv->root = xstrdup(cand);
	}
	Arena *a = sv->out;
	DNode *r = doc_map(a), *caps = doc_set_map(a, r, "capabilities");
	doc_set_str(a, caps, "positionEncoding", "utf-16");
	DNode *sync = doc_set_map(a, caps, "textDocumentSync");
	doc_set_bool(a, sync, "openClose", true);
	doc_set_int(a, sync, "change", 1);
	doc_set_bool(a, doc_set_map(a, sync, "save"), "includeText", false);
	doc_set_bool(a, caps, "definitionProvider", true);
	doc_set_bool(a, caps, "referencesProvider", true);
	doc_set_bool(a, caps, "hoverProvider", true);
	doc_set_bool(a, caps, "renameProvider", true);
	DNode *trig = doc_set_seq(a, doc_set_map(a, caps, "completionProvider"), "triggerCharacters");
	static const char *const triggers[] = {":", " ", "[", ",", "-"};
	for (size_t i = 0; i < ARRAY_LEN(triggers); i++)
		doc_push_str(a, trig, triggers[i]);
	DNode *info = doc_set_map(a, r, "serverInfo");
	doc_set_str(a, info, "name", "platformc");
	doc_set_str(a, info, "version", PLATFORMC_VERSION);
	reply(a, j, id, r);
}

/* Handles one message; returns false on `exit`. */
static bool dispatch(Server *sv, const J *j)
{
	int m = j_get(j, 0, "method"), id = j_get(j, 0, "id");
	char *method = j_str(j, m, NULL);
	if (!method) {
		free(method);
		return true; /* a response to something we never ask */
	}
	bool positional = !strcmp(method, "textDocument/definition") || !strcmp(method, "textDocument/references") ||
			  !strcmp(method, "textDocument/hover") || !strcmp(method, "textDocument/completion") ||
			  !strcmp(method, "textDocument/rename");
	if (positional && sv->dirty)
		analyse(sv); /* answer from the text the editor shows */
	if (!strcmp(method, "initialize")) {
		on_initialize(sv, j, id);
	} else if (!strcmp(method, "shutdown")) {
		sv->shutdown = true;
		reply(sv->out, j, id, NULL);
	} else if (!strcmp(method, "exit")) {
		free(method);
		return false;
	} else if (!strcmp(method, "textDocument/didOpen")) {
		char *path = param_path(j);
		size_t len = 0;
		char *text = j_str(j, j_path(j, 0, "params", "textDocument", "text", NULL), &len);
		if (path && text) {
			buffer_set(sv, path, text, len);
			choose_root(sv, path);
			sv->dirty = true;
		} else {
			free(text);
		}
		free(path);
	} else if (!strcmp(method, "textDocument/didChange")) {
		char *path = param_path(j);
		int ch = j_path(j, 0, "params", "contentChanges", NULL);
		if (path && ch >= 0 && j->t[ch].type == JSMN_ARRAY && j->t[ch].size > 0) {
			int last = ch + 1;
			for (int k = 1; k < j->t[ch].size; k++)
				last = j_skip(j, last);
			size_t len = 0;
			char *text = j_str(j, j_get(j, last, "text"), &len);
			if (text) {
				buffer_set(sv, path, text, len);
				sv->dirty = true;
			}
		}
		free(path);
	} else if (!strcmp(method, "textDocument/didClose")) {
		char *path = param_path(j);
		if (path)
			buffer_close(sv, path);
		free(path);
		sv->dirty = true;
	} else if (!strcmp(method, "textDocument/didSave")) {
		sv->dirty = true;
	} else if (!strcmp(method, "textDocument/definition")) {
		on_definition(sv, j, id);
	} else if (!strcmp(method, "textDocument/references")) {
		on_references(sv, j, id);
	} else if (!strcmp(method, "textDocument/hover")) {
		on_hover(sv, j, id);
	} else if (!strcmp(method, "textDocument/completion")) {
		on_completion(sv, j, id);
	} else if (!strcmp(method, "textDocument/rename")) {
		on_rename(sv, j, id);
	} else if (id >= 0) {
		reply_error(sv->out, j, id, -32601, "method not supported");
	}
	free(method);
	return true;
}

/* ---- framing ---- */

typedef struct In {
	char buf[65536];
	size_t pos, len;
	bool eof;
} In;

static int in_byte(In *in)
{
	if (in->pos == in->len) {
		if (in->eof)
			return -1;
		ssize_t r = read(0, in->buf, sizeof in->buf);
		if (r <= 0) {
			in->eof = true;
			return -1;
		}
		in->pos = 0, in->len = (size_t)r;
	}
	return (unsigned char)in->buf[in->pos++];
}

static bool input_waiting(In *in)
{
	if (in->pos < in->len)
		return true;
	struct pollfd pf = {0, POLLIN, 0};
	return poll(&pf, 1, 0) > 0;
}

/* One message body (heap), or NULL at the end of the input. */
static char *read_msg(In *in, size_t *out_len)
{
	long clen = -1;
	char line[1024];
	for (;;) {
		size_t n = 0;
		int c;
		while ((c = in_byte(in)) >= 0 && c != '\n')
			if (n + 1 < sizeof line)
				line[n++] = (char)c;
		if (c < 0)
			return NULL;
		if (n && line[n - 1] == '\r')
			n--;
		line[n] = 0;
		if (n == 0) {
			if (clen >= 0)
				break;
			continue;
		}
		if (!strncasecmp(line, "Content-Length:", 15))
			clen = strtol(line + 15, NULL, 10);
	}
	if (clen < 0 || clen > (long)64 << 20)
		return NULL;
	char *body = xmalloc((size_t)clen + 1);
	for (long k = 0; k < clen; k++) {
		int c = in_byte(in);
		if (c < 0) {
			free(body);
			return NULL;
		}
		body[k] = (char)c;
	}
	body[clen] = 0;
	*out_len = (size_t)clen;
	return body;
}

int cmd_lsp(void)
{
	/* one thread: worker arenas of par_run live until exit (par.c) */
	setenv("PLATFORMC_THREADS", "1", 1);
	Server sv = {0};
	Arena *sa = arena_new();
	sv.schema = schema_load(sa);
	sv.policy_arena = arena_new();
	sv.out = arena_new();
	sv.npolicies = policy_library(sv.policy_arena, &sv.policies);
	In *in = xmalloc(sizeof *in);
	memset(in, 0, sizeof *in);
	int rc = 1;
	for (;;) {
		size_t len;
		char *body = read_msg(in, &len);
		if (!body)
			break;
		jsmn_parser p;
		jsmn_init(&p);
		int ntok = jsmn_parse(&p, body, len, NULL, 0);
		if (ntok > 0) {
			J j = {body, xmalloc(sizeof(jsmntok_t) * (size_t)ntok), ntok};
			jsmn_init(&p);
			if (jsmn_parse(&p, body, len, j.t, (unsigned)ntok) > 0 && j.t[0].type == JSMN_OBJECT) {
				ArenaMark mark = arena_mark(sv.out);
				bool more = dispatch(&sv, &j);
				arena_release(sv.out, mark);
				if (!more) {
					free(j.t);
					free(body);
					rc = sv.shutdown ? 0 : 1;
					break;
				}
			}
			free(j.t);
		}
		free(body);
		/* after a burst of edits, check once */
		if (sv.dirty && !input_waiting(in))
			analyse(&sv);
	}
	if (sv.good != sv.cur)
		analysis_free(sv.good);
	analysis_free(sv.cur);
	for (int i = 0; i < sv.ndocs; i++)
		free(sv.docs[i].path), free(sv.docs[i].text);
	free(sv.docs);
	for (int i = 0; i < sv.npublished; i++)
		free(sv.published[i]);
	free(sv.published);
	free(sv.root);
	free(sv.workspace);
	free(in);
	arena_free(sv.policy_arena);
	arena_free(sv.out);
	arena_free(sa);
	return rc;
}
