/*
 * platformc.h — the one internal header, sectioned by file in pipeline order.
 *
 * Conventions: a function's prefix is its file's name (arena_*, sb_*, src_*,
 * diag_*, scalar_*, schema_*, lower_*, resolve_*, doc_*, fileset_*,
 * writer_*); enum constants carry a kind prefix (N_, T_, D_, SEV_, WR_).
 * Memory rule: everything a compilation allocates lives in one Arena and is
 * freed at once; allocation failure aborts with a message (arena.c).
 */
#ifndef PLATFORMC_H
#define PLATFORMC_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define PLATFORMC_VERSION "0.1.0"

/* Exit codes of guide §4. */
enum {
	EXIT_OK = 0,
	EXIT_INPUT_ERRORS = 1,
	EXIT_USAGE = 2,
	EXIT_OUT_OF_DATE = 3,
};

/* Fixed limits of guide §3.1: checked before they can cost time or memory. */
#define MAX_FILE_BYTES (4u * 1024 * 1024)
#define MAX_DEPTH 32
#define MAX_SCALAR_BYTES (64u * 1024)
#define MAX_LINE_BYTES (64u * 1024)
#define MAX_BLANK_RUN 1024 /* spaces or tabs in a row on one line */
#define MAX_NAME_LEN 63
#define MAX_DIAGS 200 /* printed; the count of all is still reported */
#define MAX_INCLUDED_FILES 10000

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

#if defined(__GNUC__)
#define PRINTF_LIKE(f, a) __attribute__((format(printf, f, a)))
#else
#define PRINTF_LIKE(f, a)
#endif

/* ---------------------------------------------------------------- arena.c */

typedef struct Arena Arena;

Arena *arena_new(void);
/* An arena that lives until the process exits, freed then (arena.c). */
Arena *arena_new_kept(void);
void arena_free(Arena *a);
void *arena_alloc(Arena *a, size_t n);            /* zeroed, 16-aligned */
char *arena_strdup(Arena *a, const char *s);
char *arena_strndup(Arena *a, const char *s, size_t n);
char *arena_sprintf(Arena *a, const char *fmt, ...) PRINTF_LIKE(2, 3);
char *arena_vsprintf(Arena *a, const char *fmt, va_list ap);
/* Grows an arena-owned array (old block is abandoned in the arena). */
void *arena_grow(Arena *a, void *old, size_t old_n, size_t new_n, size_t elem);
/*
 * A scope inside an arena's lifetime: arena_release frees everything
 * allocated since arena_mark (marks nest; release the inner one first).
 * Nothing allocated in the scope may be used after it.
 */
typedef struct ArenaMark {
	void *block, *next;
	size_t used;
} ArenaMark;
ArenaMark arena_mark(Arena *a);
void arena_release(Arena *a, ArenaMark m);

void *xmalloc(size_t n);                          /* abort on OOM */
void *xrealloc(void *p, size_t n);
void *xcalloc(size_t n, size_t size);             /* zeroed */
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
_Noreturn void die_oom(void);

/* ----------------------------------------------------------------- util.c */

/* Growable byte buffer, heap-backed (not arena): used by emitters and I/O. */
typedef struct StrBuf {
	char *data;
	size_t len, cap;
} StrBuf;

void sb_init(StrBuf *b);
void sb_free(StrBuf *b);
void sb_reserve(StrBuf *b, size_t extra);
void sb_putc(StrBuf *b, char c);
void sb_puts(StrBuf *b, const char *s);
void sb_putn(StrBuf *b, const char *s, size_t n);
void sb_printf(StrBuf *b, const char *fmt, ...) PRINTF_LIKE(2, 3);
void sb_vprintf(StrBuf *b, const char *fmt, va_list ap);
/* printf without the C library for plain formats (fmt.c): fmt_is_plain
 * says whether fmt has only %s %c %d %u %ld %lu %lld %llu %zu %.*s %%;
 * fmt_plain_out writes the result to out (NULL: none) and returns its length. */
bool fmt_is_plain(const char *fmt);
size_t fmt_plain_out(char *out, const char *fmt, va_list ap);
/* Formats fmt into room(ctx, n), which gives space for n bytes and the NUL
 * (plain formats by fmt_plain_out, others by vsnprintf); returns n. */
size_t fmt_vformat(const char *fmt, va_list ap, char *(*room)(void *ctx, size_t n), void *ctx);
/* The decimal digits of v at out (NULL: none, not NUL-terminated); their count. */
size_t fmt_uint(char *out, unsigned long long v);
char *sb_detach(StrBuf *b);                       /* NUL-terminated, caller frees */
/* The whole file at `path`, NUL-terminated (caller frees), its length in
 * *len (len may be NULL); NULL when it cannot be opened. */
char *read_file_all(const char *path, size_t *len);
/* Whether `s` contains any of the `n` strings `needles`. */
bool str_has_any(const char *s, const char *const *needles, size_t n);

/* String-keyed hash map (open addressing), keys not copied: the one hash
 * table for names. Its slots are on the heap (strmap_free), or in an arena
 * (strmap_init_arena; the arena frees them, strmap_free is not needed). */
typedef struct StrMap {
	const char **keys;
	void **vals;
	size_t cap, len;
	Arena *arena;
} StrMap;

void strmap_init(StrMap *m);
void strmap_init_arena(StrMap *m, Arena *a);
void strmap_free(StrMap *m);
void *strmap_get(const StrMap *m, const char *key);
/* Returns the previous value (NULL if none). */
void *strmap_put(StrMap *m, const char *key, void *val);

/* Levenshtein distance, capped: returns cap+1 when larger. */
int edit_distance(const char *a, const char *b, int cap);
/* Best candidate within a distance that scales with length, or NULL. */
const char *did_you_mean(const char *word, const char *const *cands, int n);

bool utf8_valid(const char *s, size_t n, size_t *bad_offset);
uint64_t hash_bytes(const void *p, size_t n);    /* FNV-1a 64 */
uint64_t hash64(const void *p, size_t n);        /* XXH64 (libxxhash), seed 0: for file contents */
/* hash64 of bytes given in pieces: begin, add..., then end exactly once (it
 * frees the state). Pieces are gathered in `buf` and given to libxxhash a
 * buffer at a time: most are a few bytes (a tag, a length, a key), and
 * its streaming call costs more than copying them. */
typedef struct Hash64 {
	struct XXH64_state_s *state; /* libxxhash's, made when buf first fills */
	size_t n;                    /* bytes in buf */
	unsigned char buf[1024];
} Hash64;
void hash64_begin(Hash64 *h);
void hash64_spill(Hash64 *h, const void *p, size_t n);
static inline void hash64_add(Hash64 *h, const void *p, size_t n)
{
	if (n > sizeof h->buf - h->n) {
		hash64_spill(h, p, n);
		return;
	}
	memcpy(h->buf + h->n, p, n);
	h->n += n;
}
uint64_t hash64_end(Hash64 *h);
int str_cmp_ptr(const void *a, const void *b);   /* qsort over char* */
bool has_prefix(const char *s, const char *p);
bool has_suffix(const char *s, const char *p);

/* ------------------------------------------------------------------ par.c */

/* Job i of a par_run, allocating from `a` (its worker's arena). */
typedef void ParJob(void *ctx, int i, Arena *a);
/* Runs jobs 0..njobs-1, each once, on up to par_threads(njobs) threads (the
 * calling thread, in arena `a`, and workers with arenas that live until
 * exit); returns when all are done. Jobs must share nothing writable. */
void par_run(Arena *a, int njobs, ParJob *fn, void *ctx);
/* Threads for njobs jobs: one per CPU this process may use (or
 * PLATFORMC_THREADS), at most 8, at most njobs. */
int par_threads(int njobs);

/* ---------------------------------------------------------------- source.c */

/* Bytes [start, end) of a file's text that hold a credential: printed as `*`. */
typedef struct SecretRange {
	size_t start, end;
} SecretRange;

/* A loaded input file with a line index, kept for diagnostics. */
typedef struct SourceFile {
	const char *path;      /* as the user named it (relative to cwd) */
	char *text;            /* normalised: BOM stripped, CRLF -> LF, NUL-terminated */
	size_t len;
	int *line_starts;      /* byte offset of each line's start */
	int nlines;
	SecretRange *secrets;  /* sorted by start, not overlapping */
	int nsecrets;
} SourceFile;

/* A span: 1-based line and column (in characters), length in characters.
 * line 0 with a file: the whole file (no line to show). */
typedef struct Span {
	const SourceFile *file;
	int line, col, len;
} Span;

typedef enum NodeKind { N_SCALAR, N_MAP, N_SEQ } NodeKind;

typedef struct Node Node;
typedef struct Pair {
	Node *key;
	Node *val;
} Pair;

/*
 * The YAML tree source.c builds from a parser's events. Scalars keep their
 * source text: the checker types them by the schema (guide §3.1), never by YAML.
 */
struct Node {
	Span span;
	const char *text;      /* scalar: the value after unescaping */
	union {
		Node **items;  /* N_SEQ */
		Pair *pairs;   /* N_MAP, in source order */
	};
	uint32_t textlen;      /* at most MAX_SCALAR_BYTES */
	int n;                 /* items or pairs */
	NodeKind kind;
	bool plain;            /* scalar written without quotes */
	bool is_null;          /* plain empty or `~`/`null`; N_MAP: an empty file */
	bool secret;           /* looks like a credential (E0118): never echo `text` */
};                             /* 56 bytes: a large platform has millions */

typedef struct Diags Diags;
typedef struct Credential Credential;

/* Reads and parses one file. Returns the root node or NULL (diagnostics added).
 * `display_path` is the name used in diagnostics. */
Node *src_load_file(Arena *a, Diags *d, const char *path, SourceFile **out_file);
/* Same over bytes in memory (fuzzing, tests). */
Node *src_load_bytes(Arena *a, Diags *d, const char *display_path, const char *bytes,
		     size_t len, SourceFile **out_file);
/* Parses one embedded stdlib YAML file (e.g. "stdlib/policies.yaml"). Returns
 * the root, or with `list_key` the sequence at that key of the root; NULL
 * with `*why` set ("missing file", "cannot parse") when it cannot: the caller
 * reports that as its own internal error. */
Node *src_load_embedded(Arena *a, const char *path, const char *list_key, const char **why);
/* Tests: NULL when source.c's own reader of common YAML makes the same events
 * as libfyaml over `text` (normalised, valid UTF-8, no controls) or leaves it
 * to libfyaml (*taken false); else where the two differ. */
const char *src_fast_agrees(const char *text, size_t len, bool *taken);
/* Language server hooks: `overlay` returns the unsaved bytes of a path (or
 * NULL: read the disk); `observe` sees each file loaded and its tree (NULL
 * when it did not parse). Set once, before a load; NULL, NULL clears them. */
typedef const char *(*SrcOverlayFn)(void *ctx, const char *path, size_t *len);
typedef void (*SrcObserveFn)(void *ctx, SourceFile *f, Node *root);
void src_set_hooks(SrcOverlayFn overlay, SrcObserveFn observe, void *ctx);

/* ----------------------------------------------------------------- node.c */

/* Map lookup by key text; NULL when absent. */
Node *node_get(const Node *map, const char *key);
/* The text of the scalar at `key`; NULL when absent, null or not a scalar. */
const char *node_text(const Node *map, const char *key);
/* That text, or `def` when there is none. */
const char *node_text_or(const Node *map, const char *key, const char *def);
/* That text as an integer; `def` when absent or not an integer. */
long long node_int(const Node *map, const char *key, long long def);
/* `over` merged onto `base`: mappings merge key by key, any other value
 * replaces; neither input is changed. */
const Node *node_merge(Arena *a, const Node *base, const Node *over);
/* The span of `key` in a mapping (the mapping's when absent). */
Span span_of_key(const Node *map, const char *key);
/* Bytes in one character at `s` (a valid UTF-8 sequence, else 1): the unit
 * that columns count. */
int node_char_len(const char *s, size_t n);

/* ----------------------------------------------------------------- diag.c */

typedef enum Severity { SEV_ERROR, SEV_WARNING } Severity;

typedef enum DiagFormat { DF_HUMAN, DF_JSON, DF_GITHUB } DiagFormat;

typedef struct DiagNote {
	Span span;             /* file == NULL: no position */
	char *msg;
} DiagNote;

typedef struct Diag {
	Severity sev;
	const char *code;      /* "E0201" */
	Span span;             /* file == NULL: no position (e.g. I/O) */
	char *msg;
	char *label;           /* text beside the caret */
	char *help;
	DiagNote notes[8];
	int nnotes;
	unsigned seq;          /* insertion order, for a stable sort */
	bool redact;           /* the spanned text is a secret: never print it */
	Arena *arena;          /* where label, help and notes are allocated */
} Diag;

struct Diags {
	Arena *arena;
	Diag **items;
	int n, cap;
	int errors, warnings;
	/* credential patterns: source.c scans every file with them, and every
	 * printed message is masked with them (NULL: no scanning) */
	const Credential *creds;
	int ncreds;
};

void diags_init(Diags *d, Arena *a);
Diag *diag_add(Diags *d, Severity sev, const char *code, Span sp, const char *fmt, ...)
	PRINTF_LIKE(5, 6);
#define diag_error(d, code, ...) diag_add((d), SEV_ERROR, (code), __VA_ARGS__)
#define diag_warn(d, code, ...) diag_add((d), SEV_WARNING, (code), __VA_ARGS__)
/* An error a phase also counts in its own `*errors` (the count it returns):
 * the one way to count an error and report it. */
#define diag_count_error(errors, d, code, ...) ((*(errors))++, diag_error((d), (code), __VA_ARGS__))
void diag_label(Diag *g, const char *fmt, ...) PRINTF_LIKE(2, 3);
void diag_help(Diag *g, const char *fmt, ...) PRINTF_LIKE(2, 3);
void diag_note(Diag *g, Span sp, const char *fmt, ...) PRINTF_LIKE(3, 4);
void diags_sort(Diags *d);
/* Appends diagnostics [start, end) of `from` to `to`, in order, as if they
 * had been added to `to` (their text stays in from's arena). */
void diags_append(Diags *to, const Diags *from, int start, int end);
/* Prints the (sorted) diagnostics to `out` with a summary line: at most the
 * limit (default MAX_DIAGS; 0 = all), errors first when truncated. */
void diags_set_limit(int n);
/* A message, label or note with credentials masked, as printed (heap). */
char *diags_clean(const Diags *d, const char *s);
void diags_print(Diags *d, DiagFormat fmt, bool color, void *file /* FILE* */);

/* The diagnostic code table (stdlib/diagnostics.json, read with jsmn). */
typedef struct DiagCode {
	const char *code, *title, *explain;
} DiagCode;
const DiagCode *diag_code_lookup(const char *code);
int diag_code_count(void);
const DiagCode *diag_code_at(int i);

/* ------------------------------------------------------------- progress.c */

/* One status line on stderr for a long check or render (a terminal only,
 * not in CI, human diagnostics; after about a second). `count` points at a
 * counter of files so far (read relaxed) or is NULL. progress_clear erases
 * the line before other output; progress_stop ends it (also at exit). */
bool progress_wanted(bool human_diagnostics);
void progress_start(bool enabled);
void progress_phase(const char *phase, const int *count);
void progress_clear(void);
void progress_stop(void);

/* --------------------------------------------------------------- syntax.c */

/* Reports a YAML syntax error (E0005) that libfyaml found at 1-based
 * `line`:`col` with `msg`: platformc's message, help and position for the
 * class of error (a tab, an indentation, an unclosed quote or bracket, …). */
void syntax_error(Diags *d, const SourceFile *f, int line, int col, const char *msg);

/* ------------------------------------------------------------------ lsp.c */

/* `platformc lsp`: a Language Server Protocol server on stdin/stdout until
 * `exit`; returns the exit code (0 after `shutdown`). */
int cmd_lsp(void);

/* ---------------------------------------------------------------- watch.c */

/* The watcher of an output folder (`platformc watch -o OUT`), and what a
 * render asks it: the paths changed under OUT since a token (each standing
 * for itself and everything under it), or `all`. */
typedef struct WatchAnswer {
	bool all;              /* nothing can be vouched for */
	uint64_t inst, seq;    /* the new token */
	char **paths;          /* sorted; into buf */
	int n;
	char *buf;
} WatchAnswer;
int cmd_watch(const char *outdir);
char *watch_socket_name(const char *base);
int watch_ask(int parentfd, const char *base, uint64_t inst, uint64_t seq, WatchAnswer *a);
void watch_answer_free(WatchAnswer *a);

/* --------------------------------------------------------------- scalar.c */

/* Parsers for the built-in scalar types of guide §3.1. Each returns true
 * and fills the value on success; never allocates. */
bool scalar_is_name(const char *s, size_t n);
bool scalar_int(const char *s, long long *out);
bool scalar_number(const char *s, double *out);
bool scalar_bool(const char *s, bool *out);
/* Kubernetes quantity: value in milli-units (cpu) / bytes*1000 (memory). */
bool scalar_quantity(const char *s, long double *out_base_units);
bool scalar_duration(const char *s, long long *out_ms);
/* The valid spelling a rejected quantity or duration probably meant
 * (`512MB` -> `512Mi`, `30 seconds` -> `30s`, `0.3s` -> `300ms`), for a
 * did-you-mean; false when there is none. */
bool scalar_quantity_suggest(const char *s, char *out, size_t n);
bool scalar_duration_suggest(const char *s, char *out, size_t n);
bool scalar_date(const char *s, int *y, int *m, int *d);
bool scalar_url(const char *s);
/* Formats a number the same way on every machine ("0.5", "16", "1e+21"). */
void scalar_format_number(double v, char *buf, size_t n);

/* ---------------------------------------------------------------- embed.c */
/* Generated at build time from stdlib/ and catalog/: name -> bytes. */
typedef struct EmbeddedFile {
	const char *path;
	const char *data;
	size_t len;
} EmbeddedFile;
extern const EmbeddedFile embedded_files[];
extern const int embedded_files_count;
const EmbeddedFile *embedded_find(const char *path);

/* --------------------------------------------------------------- schema.c */

typedef enum TypeKind {
	T_STRING, T_NAME, T_INT, T_NUMBER, T_BOOL, T_QUANTITY, T_DURATION, T_PERCENT,
	T_URL, T_DATE, T_ANY, T_OBJECT, T_LIST, T_MAP, T_UNION,
} TypeKind;

typedef struct Type Type;
typedef struct Field {
	const char *name;
	Type *type;
	bool required;
	const char *doc;
	const char *def;       /* default, as text (docs and JSON Schema) */
} Field;

struct Type {
	TypeKind kind;
	const char *name;      /* named types: "Service", "github-user" */
	const char *doc;
	const char *const *json; /* scalar types: the JSON types of the editor schema, when not the base's */
	int njson;
	const char *what;      /* how a message describes a valid value */
	const char *help;      /* help line for a value that does not match `pattern` */
	void *help_re;         /* ... when it matches this (NULL: always) */
	Field *fields;         /* T_OBJECT */
	int nfields;
	Type *elem;            /* T_LIST, T_MAP values */
	Type *key;             /* T_MAP keys (a scalar type) */
	Type *alts[3];         /* T_UNION: picked by node kind */
	int nalts;
	const char **enums;
	int nenums;
	bool has_min, has_max;
	double min, max;
	int min_items, max_len;
	const char *pattern;
	void *re;              /* pcre2_code* */
};

struct Credential {
	const char *what;
	void *re;
};

typedef struct Schema {
	Arena *arena;
	StrMap types;
	Type *root, *include_root;   /* include_root: NULL in the kind schema */
	const char *empty;           /* the help of an empty root file */
	Credential *creds;
	int ncreds;
} Schema;

/* Loads stdlib/schema.yaml (embedded). Aborts on a malformed schema: it is
 * part of the compiler, so that is a build bug, caught by every test. */
Schema *schema_load(Arena *a);
/* Loads stdlib/kind-schema.yaml: the format of catalog/<kind>/kind.yaml. */
Schema *schema_load_kind(Arena *a);
/* The JSON Schema `pattern` of a built-in scalar type (`name`, quantity,
 * duration, url, date), as the regex itself; NULL for the others. Shared by
 * `platformc schema` and the catalog kinds' schemas (catalog_doc.c). */
const char *schema_type_pattern(TypeKind k);
Type *schema_type(Schema *s, const char *name);
/* The default of `type`.`field` in stdlib/schema.yaml, the one place defaults
 * are written; aborts when there is none (a build bug). */
const char *schema_default(Schema *s, const char *type, const char *field);
/* Checks `n` against `t`; adds diagnostics. Returns the number of errors. */
int schema_check(Schema *s, const Node *n, const Type *t, Diags *d);
/* schema_check, every problem reported as `code` with its message after
 * `prefix` (a kind file: E0301, "invalid resource kind `sqs`: "). */
int schema_check_as(Schema *s, const Node *n, const Type *t, Diags *d, const char *code, const char *prefix);
/* Matches a PCRE2 pattern compiled by the schema. */
bool schema_match(void *re, const char *s, size_t n);
/* credentials.c: the first match of `re` in s[from..n): true and its byte
 * range, or false. */
bool cred_search(void *re, const char *s, size_t n, size_t from, size_t *mstart, size_t *mend);
/* The same over text the caller has checked is valid UTF-8 (utf8_valid), with
 * `from` on a character boundary: PCRE2's own check, which reads the whole
 * subject, is skipped. */
bool cred_search_utf8(void *re, const char *s, size_t n, size_t from, size_t *mstart, size_t *mend);
/* One match of credential pattern `cred` at bytes [start, end). */
typedef struct CredMatch {
	size_t start, end;
	int cred;
	bool claimed;          /* source.c: a scalar claimed it */
} CredMatch;
/* Every match of every pattern of d->creds in `text` (valid UTF-8), sorted
 * by end; *n of them, in the arena. */
CredMatch *cred_scan(Arena *a, const Diags *d, const char *text, size_t len, int *n);
/* `s` with every match of d->creds replaced by `****`. Heap result. */
char *cred_mask(const Diags *d, const char *s);
/* schema_json.c: JSON Schema (draft-07), for editors, of platform.yaml, of a
 * file it includes, or of a resource kind file (s: schema_load_kind, c
 * NULL); with a catalog, resources' `kind` is one of its kinds and `params`
 * are typed per kind (catalog_doc_params_json). */
struct Catalog;
typedef enum SchemaDoc { SCHEMA_PLATFORM, SCHEMA_INCLUDED, SCHEMA_KIND } SchemaDoc;
void schema_json_emit(Schema *s, const struct Catalog *c, SchemaDoc which, StrBuf *out);
const char *type_describe(const Type *t);

/* ------------------------------------------------------ lower.c, resolve.c */

/*
 * The typed model. lower.c fills it from checked trees (every object keeps
 * its node for spans); resolve.c links references, applies `defaults` and
 * `overrides`, computes each service's values per environment and enforces
 * the cross-object rules. Backends read only the resolved model.
 */
typedef struct FileSet FileSet;
typedef struct Team Team;
typedef struct Service Service;
typedef struct Resource Resource;

typedef struct Env {
	const char *name;
	bool prod;
	const char *cluster;   /* NULL: in-cluster */
	int index;             /* promotion order */
	const Node *node;
} Env;

struct Team {
	const char *name, *title, *email, *slack;
	const char **members;
	int nmembers;
	const char *quota_cpu, *quota_memory; /* as written */
	long double quota_cpu_m, quota_memory_m;
	long long quota_pods;  /* 0: not set */
	bool has_budget;
	double budget;
	int index;
	const Node *node;
};

typedef struct System {
	const char *name, *description;
	Team *owner;
	const Node *node;
} System;

typedef struct EnvVar {
	const char *key, *value;
} EnvVar;

/* A service's effective values in one environment (defaults, then the
 * service, then overrides.<env>: mappings merge, other values replace). */
typedef struct ServiceEnv {
	Env *env;
	bool autoscale;        /* replicas is a range: an HPA */
	long long replicas, max_replicas, cpu_target; /* replicas = min */
	const char *cpu, *memory;                  /* requests as written */
	long double cpu_m, memory_m;
	EnvVar *vars;
	int nvars;
	const char *ingress_host, *ingress_path;
	const Node *node;      /* the merged node, for spans */
} ServiceEnv;

struct Service {
	const char *name, *description, *repo, *lifecycle, *language, *image, *api;
	const char *liveness, *readiness;
	long long port;
	Team *team;
	struct System *system;
	Resource **uses;
	const Node **uses_access;      /* per uses[i]: its `access` list ({resource, access}), NULL: every mode */
	int nuses;
	Service **calls;
	int ncalls;
	bool has_availability, has_latency;
	double availability;           /* percent */
	long long latency_ms;
	double latency_percent;
	ServiceEnv *envs;              /* in promotion order */
	int nenvs;
	const Node *node;              /* as written */
	const Node *eff;               /* merged with defaults.service */
	bool canary, vpa;              /* rollouts.c: rollout_resolve */
};

struct Resource {
	const char *name, *kind, *description;
	Team *team;
	Env **envs;
	int nenvs;
	Team **shared_with;
	const Node **shared_access;    /* per shared_with[i]: its `access` list, NULL: every mode */
	int nshared;
	const Node *params;            /* defaults.resources.<kind> merged with params */
	const Node *overrides;
	const Node *node;
	const struct Kind *kindp;      /* catalog_check.c: the kind, once checked */
	struct PVal **env_params;      /* catalog_check.c: effective params, per envs[i] */
};

typedef struct PolicyException {
	const char *policy, *reason, *expires;
	const char *pod_security;      /* policies.c: the policy's Pod Security level (LibPolicy) */
	Service **services;
	int nservices;
	const Node *node;
} PolicyException;

typedef struct Platform {
	struct Schema *schema;         /* lower.c: the schema, for its defaults (schema_default) */
	const char *name, *domain;
	Team *owner;
	const char *provider, *region, *account;
	const char *gitops_repo, *gitops_revision, *gitops_path;
	const char **registries;
	int nregistries;
	const char *grafana_url, *backstage_url;
	const char *crossplane_target, *kyverno_target;
	const char **catalog_dirs;
	int ncatalog_dirs;
	Env *envs;
	int nenvs;
	Team **teams;
	int nteams;
	struct System **systems;
	int nsystems;
	Service **services;
	int nservices;
	Resource **resources;
	int nresources;
	const char *policy_action;
	const char **policy_disable;
	int npolicy_disable;
	PolicyException *exceptions;
	int nexceptions;
	const Node *root;              /* root file's tree */
	const SourceFile *root_file;
	const Node *defaults_service, *defaults_resources;
	struct Catalog *catalog;       /* catalog_load.c: built-in and platform.catalog kinds */
} Platform;

/* The front end in one call: load FILE and its includes, check, lower,
 * resolve. Returns NULL when any error was reported. */
Platform *lower_load(Arena *a, Schema *s, Diags *d, const char *path);
/* The same over bytes in memory (fuzzing); includes resolve against `path`. */
Platform *lower_load_bytes(Arena *a, Schema *s, Diags *d, const char *path, const char *bytes, size_t len);
/* Fills references and per-environment values; returns the error count. */
int resolve_platform(Arena *a, Platform *p, Diags *d);
/* model.c: the service / resource runs in that environment. */
/* The folder of the render's test suites (`kyverno test`, `promtool test
 * rules`): copies of objects, never applied, which diff counts as files. */
#define SUITES_DIR "tests/"
/* The service in that environment, or NULL where it does not run. */
const ServiceEnv *service_in(const Service *s, const Env *e);
bool service_runs_in(const Service *s, const Env *e);
bool resource_runs_in(const Resource *r, const Env *e);
/* model.c: `policies.disable` names the policy. */
bool policy_disabled(const Platform *p, const char *name);
/* model.c: `platform.cloud`, or NULL. */
const Node *platform_cloud(const Platform *p);
/* The Argo CD name of e's cluster: its `cluster`, or `in-cluster` (the
 * cluster Argo CD runs in). */
const char *env_argo_cluster(const Env *e);
/* `platform.cloud.clusters.<c>` for e's cluster c, or NULL. */
const Node *env_cloud(const Platform *p, const Env *e);
/* The VPC of e's cluster (cloud.clusters.<c>.network, else cloud.network), or NULL. */
const Node *env_network(const Platform *p, const Env *e);
/* Whether some environment's cluster has a network. */
bool platform_has_network(const Platform *p);

/* --------------------------------------------------------------- backend */

/* A backend is a pure function: model -> documents in the file set. Each
 * lives in backend_<family>.c; backends.c lists them in the order they run. */
typedef void Backend(const Platform *p, FileSet *fs);

Backend backend_tenancy;    /* namespaces, quotas, RBAC, network policies per team */
Backend backend_services;   /* each service's workload objects per environment */
Backend backend_backstage;  /* Backstage catalog entities and scaffolder templates */
Backend backend_kyverno;    /* admission policies */
Backend backend_monitoring; /* alerts, dashboards, the platform's own monitoring */
Backend backend_crossplane; /* cloud resources as Crossplane claims */
Backend backend_clusters;   /* the clusters' deployment units */
Backend backend_argocd;     /* Argo CD applications of every deployment unit */
Backend backend_readme;     /* the tree's README (last: it counts the files) */

extern Backend *const backends[];
extern const int nbackends;

/* ------------------------------------------------------------------ doc.c */

/*
 * The output document layer. Backends build trees of DNode and never print;
 * emitters turn them into bytes. Maps keep insertion order: the backend
 * decides key order, so the order is stable by construction.
 */
typedef enum DKind { D_NULL, D_BOOL, D_INT, D_NUM, D_STR, D_MAP, D_SEQ } DKind;

typedef struct DNode DNode;
typedef struct DPair {
	const char *key;
	DNode *val;
} DPair;

struct DNode {
	DKind kind;
	bool flow;             /* prefer flow style ([a, b]) for short sequences */
	bool literal;          /* D_STR: prefer literal block style (|) when multi-line */
	unsigned char jlayout; /* DJ_* bits: the JSON writer's hand-set layout (json.c) */
	unsigned char jdepth;  /* with DJ_DEPTH: the indent level */
	long long i;           /* D_INT, D_BOOL */
	const char *s;         /* D_STR text; D_NUM canonical text */
	int n, cap;
	DPair *pairs;          /* D_MAP */
	DNode **items;         /* D_SEQ */
};

DNode *doc_map(Arena *a);
DNode *doc_seq(Arena *a);
DNode *doc_str(Arena *a, const char *s);           /* copies s */
DNode *doc_strf(Arena *a, const char *fmt, ...) PRINTF_LIKE(2, 3);
DNode *doc_int(Arena *a, long long v);
DNode *doc_num(Arena *a, double v);                /* formatted by scalar_format_number */
DNode *doc_bool(Arena *a, bool v);
/* An input scalar as a value: `true`, `false` and numbers written plain keep
 * their type (catalog map transforms and templates), anything else is text. */
DNode *doc_typed_scalar(Arena *a, const Node *n);
DNode *doc_null(Arena *a);
/* Appends (or replaces an existing key's value in place); returns val. */
DNode *doc_set(Arena *a, DNode *map, const char *key, DNode *val);
/* Appends, even when the key is there already (JSON text may repeat a key). */
DNode *doc_append(Arena *a, DNode *map, const char *key, DNode *val);
DNode *doc_set_str(Arena *a, DNode *map, const char *key, const char *v);
DNode *doc_set_int(Arena *a, DNode *map, const char *key, long long v);
DNode *doc_set_bool(Arena *a, DNode *map, const char *key, bool v);
DNode *doc_set_map(Arena *a, DNode *map, const char *key);   /* new child map */
DNode *doc_set_seq(Arena *a, DNode *map, const char *key);   /* new child seq */
DNode *doc_push(Arena *a, DNode *seq, DNode *val);
DNode *doc_push_str(Arena *a, DNode *seq, const char *v);
DNode *doc_push_map(Arena *a, DNode *seq);
DNode *doc_get(const DNode *map, const char *key);
/* %lld without printf's machinery, into buf; returns the start of the
 * digits. Both emitters write integers with it. */
const char *doc_format_int(long long v, char buf[24]);

/* doc_yaml.c */

/* True when a YAML 1.1 or 1.2 reader would not read `s` back as this same
 * string from a plain scalar (no, on, y, ~, 0755, 1.10, 12:30, 2024-01-01,
 * leading/trailing space, indicators, ...). */
bool doc_yaml_needs_quotes(const char *s);
/* Emits one or more documents as a YAML stream (`---` between them) after a
 * `# header` comment block (each line of `header` prefixed "# "; NULL: none).
 * Uses the direct emitter, or libyaml's when PLATFORMC_EMITTER=libyaml. */
void doc_yaml_emit(StrBuf *out, DNode *const *docs, int ndocs, const char *header);
/* The two emitters behind doc_yaml_emit: the direct one writes the DNode tree
 * straight into `out` (production); libyaml's is the reference, and the
 * fallback, whose bytes the direct one reproduces exactly. */
void doc_yaml_emit_direct(StrBuf *out, DNode *const *docs, int ndocs, const char *header);
void doc_yaml_emit_libyaml(StrBuf *out, DNode *const *docs, int ndocs, const char *header);
/* Tests only: when set, every string flagged `literal` is offered to the
 * emitters as `|`, not only the ones doc.c would choose, so that the tests
 * compare `|+`, `|2` and libyaml's refusals of literal style too. */
extern bool doc_literal_any;

/* ----------------------------------------------------------------- json.c */

/* The one JSON writer: a DNode tree -> JSON text. */
typedef enum JsonStyle {
	JSON_INDENTED,         /* 2 spaces a level; honours DNode.jlayout */
	JSON_LINE,             /* one line: {"a": 1, "b": [2, 3]} */
	JSON_COMPACT,          /* no whitespace: {"a":1,"b":[2,3]} */
} JsonStyle;
/* DNode.jlayout, for JSON_INDENTED only (the editor schemas' layout):
 * DJ_INLINE: this container on one line, as JSON_LINE; DJ_BREAK: this entry of
 * an inline container starts its own line; DJ_DEPTH: this node's indent level
 * is jdepth (0..255), not its parent's plus one. */
enum { DJ_INLINE = 1, DJ_BREAK = 2, DJ_DEPTH = 4 };
void json_write(StrBuf *out, const DNode *root, JsonStyle style);
/* JSON_INDENTED and a trailing newline: the files platformc writes. */
void json_emit(StrBuf *out, const DNode *root);
/* A string with its quotes and escapes (a scalar literal alone: backend_backstage.c). */
void json_string(StrBuf *out, const char *s);
/* Set the DJ_* bits (json_break and json_depth with the indent level); return d. */
DNode *json_inline(DNode *d);
DNode *json_break(DNode *d, int depth);
DNode *json_depth(DNode *d, int depth);
/* The text of a JSON string token (between its quotes, as jsmn gives it) as
 * UTF-8, NUL-terminated, caller frees; its length in *len (len may be NULL).
 * A \uD83D\uDE00 surrogate pair becomes one character, a lone surrogate
 * U+FFFD. The one JSON unescaper: diag.c's code table and lsp.c use it. */
char *json_unescape(const char *s, size_t n, size_t *len);

/* -------------------------------------------------------------- fileset.c */

/* The output tree: relative path -> bytes. Backends add; the writer is the
 * only code that touches the disk. */
typedef struct OutFile {
	const char *path;      /* relative, '/'-separated, no '..', no leading '/' */
	char *data;            /* heap (freed by fileset_free); NULL once a sink took it */
	size_t len;
	uint64_t hash;         /* hash64(data, len) */
	uint64_t key;          /* documents, with a sink that keeps: hash of the trees; else 0 */
} OutFile;

/* A file of a kept unit, as the sink recorded it (keep_unit). */
typedef struct KeptFile {
	const char *path;      /* the sink's copy, as long as the set lives */
	size_t len;
	uint64_t hash, key;    /* of its bytes; its document key (0: none) */
} KeptFile;

/* Where a render's files go as they are made (the writer). */
typedef struct FileSink {
	/* each new file (fs->files[index]); it takes the bytes (frees them,
	 * perhaps later, from another thread) and the file set forgets them */
	void (*add)(void *ctx, const FileSet *fs, int index);
	/* optional: may document fs->files[index] (key set, no bytes yet) stay
	 * as it is on disk, without being emitted? If so, sets its length,
	 * the hash of its bytes and its document key (as the sink recorded
	 * it: a kept unit's files come without one), and add is not called */
	bool (*keep)(void *ctx, const FileSet *fs, int index, size_t *len, uint64_t *hash, uint64_t *key);
	/* optional: may the unit of output `id`, whose inputs hash to `key`,
	 * stay as it is on disk? If so, sets *files to its files, which the
	 * sink counts as kept as the set's next files (numbers fs->n on), and
	 * returns their count: the set adds them, without indexing them;
	 * else -1 */
	int (*keep_unit)(void *ctx, const FileSet *fs, uint64_t id, uint64_t key, const KeptFile **files);
	/* with keep_unit: the number of the set's file at path (whose hash64
	 * is h) among those it added for a kept unit, or -1 */
	int (*find)(void *ctx, const FileSet *fs, const char *path, uint64_t h);
	/* optional: a copy of path (whose hash64 is h), the path of the new
	 * fs->files[index], that lives as long as the file set, if the sink
	 * holds one (the writer: the manifest's), or NULL; sets *taken when
	 * a kept unit's file is at that path already (find's answer, without
	 * a second lookup) */
	const char *(*intern)(void *ctx, const FileSet *fs, int index, const char *path, uint64_t h, bool *taken);
	void *ctx;
} FileSink;

/*
 * A unit of deployment: one folder with a kustomization.yaml that
 * `clusters/<env>` includes and one Argo CD Application syncs. Family
 * backends register theirs; the clusters and argocd backends read them, so a
 * new family is wired into every environment by registering its folders.
 * The kind is also the sync order (Argo CD sync waves).
 */
typedef enum UnitKind {
	U_PLATFORM,            /* cluster-scoped platform parts: XRDs, policies */
	U_TENANCY,             /* a team's namespace in one environment */
	U_RESOURCE,            /* claims and connection secrets */
	U_SERVICE,             /* a service's overlay */
	U_MONITORING,          /* rules, monitors, dashboards */
} UnitKind;

typedef struct Unit {
	UnitKind kind;
	const char *dir;       /* relative folder holding kustomization.yaml */
	const char *name;      /* Argo CD Application name without the env suffix */
	const Env *env;        /* NULL: every environment (one Application each) */
	const Team *team;      /* NULL or U_TENANCY: the platform's own AppProject */
	const char *namespace; /* destination namespace; NULL: several/cluster-scoped */
	const char *label_key, *label_value; /* extra Application label (selectors) */
} Unit;

/* A slot of the path index: file number + 1 (0 = empty), and the high
 * half of the path's hash, so a probe compares strings only on a match. */
typedef struct FileSlot {
	uint32_t n, tag;
} FileSlot;

/* A unit of output (fileset_unit_begin): the files [first, first + n) */
typedef struct OutUnit {
	uint64_t id, key;
	int first, n;
	bool kept;             /* its files are the sink's (fileset_unit_begin) */
} OutUnit;

struct FileSet {
	Arena *arena;          /* the backends' working arena (documents) */
	FileSink sink;         /* add NULL: keep every file's bytes */
	OutFile *files;
	int n, cap;
	FileSlot *slots;       /* path index (fileset.c): every file but a kept unit's */
	size_t nslots;
	int nindexed;
	Arena *strings;        /* paths and unit strings: outlive backend scopes */
	void **held;           /* heap blocks freed with the set (fileset_hold) */
	int nheld;
	const char *header;    /* generated-file comment text */
	Unit *units;
	int nunits, unitcap;
	const Unit **sorted_units; /* clusters_sorted_units: the units in deployment order */
	int nsorted_units;
	OutUnit *ounits;       /* units of output, in the order they were made */
	int nounits, capounits;
	bool in_unit;          /* between fileset_unit_begin and _end */
	int units_kept;        /* units whose files were kept without being built */
	const struct UnitKeys *keys; /* unitkey.c: the inputs' hashes, made once */
};

void fileset_init(FileSet *fs, Arena *a);
void fileset_free(FileSet *fs);
/* From now on each added file goes to the sink (copied), and its bytes are freed. */
void fileset_set_sink(FileSet *fs, const FileSink *sink);
/* Frees block (heap) with the set. */
void fileset_hold(FileSet *fs, void *block);
/* Takes ownership of data (heap). Aborts on a duplicate path (a backend bug).
 * The path is copied. */
void fileset_add(FileSet *fs, const char *path, char *data, size_t len);
void fileset_add_text(FileSet *fs, const char *path, const char *text);
/* Emit a document (YAML with fs->header as its comment) and add it; with a
 * sink that keeps files, perhaps without emitting it (see fileset.c). */
void fileset_add_yaml(FileSet *fs, const char *path, DNode *doc);
void fileset_add_yaml_multi(FileSet *fs, const char *path, DNode *const *docs, int n);
void fileset_add_json(FileSet *fs, const char *path, const DNode *doc);
/*
 * A unit of output: an item of a backend (a service, a resource, a family)
 * whose files are added between fileset_unit_begin and fileset_unit_end and
 * depend on nothing but inputs that hash to `key` (unitkey.c). When the sink
 * knows the unit by `id` with that key and vouches for its files on disk,
 * begin adds them as they are and returns true: the caller skips building
 * them (but still registers its deployment units). Always call _end.
 */
bool fileset_unit_begin(FileSet *fs, const char *id, uint64_t key);
void fileset_unit_end(FileSet *fs);
/* unitkey.c: the key of a unit of output, from what it reads (made once per
 * file set, freed with it) */
uint64_t unitkey_service(FileSet *fs, const Platform *p, const Service *s);
uint64_t unitkey_resource(FileSet *fs, const Platform *p, const Resource *r);
uint64_t unitkey_team(FileSet *fs, const Platform *p, const Team *t);
uint64_t unitkey_platform(FileSet *fs, const Platform *p);
/* the teams, the resources, and the services' names and teams only */
uint64_t unitkey_platform_outline(FileSet *fs, const Platform *p);
/* the outline, and each service's uses (with access modes) and environments */
uint64_t unitkey_platform_access(FileSet *fs, const Platform *p);
typedef struct Unit Unit;
uint64_t unitkey_deployment(FileSet *fs, const Platform *p, const Unit *u, const Env *e);
void unitkeys_free(const struct UnitKeys *k);
/* Registers a deployment unit (copied, strings too). */
void fileset_add_unit(FileSet *fs, const Unit *u);
/* Sorts by path (byte order). */
void fileset_sort(FileSet *fs);
const OutFile *fileset_find(const FileSet *fs, const char *path);
/* Has the unit of output begun last, and not yet ended, a file at path? */
bool fileset_unit_has(const FileSet *fs, const char *path);
/* The same, for a path whose hash64 the caller has */
const OutFile *fileset_find_hashed(const FileSet *fs, const char *path, uint64_t h);
/* Room for n files, so that adding them moves nothing (the path index
 * grows with the files it holds) */
void fileset_reserve(FileSet *fs, int n);

/* --------------------------------------------------------------- writer.c */

typedef enum WriterMode { WR_WRITE, WR_CHECK } WriterMode;

typedef struct WriterReport {
	int added, changed, removed, unchanged;
	int vouched;           /* unchanged files the stat cache vouched for (not read) */
	int watched;           /* ... of which the watcher vouched for, without a look (-1: no
				* watcher, -2: it could not vouch for any) */
	int kept;              /* ... of which documents not even emitted (writer_keep) */
	/* WR_CHECK: the differing paths, each prefixed "added: ", "changed: ", "stale: " */
	char **lines;
	int nlines;
	char *warning;         /* NULL, or what went wrong after a successful render */
} WriterReport;

/*
 * Makes `outdir` hold exactly the files of `fs` plus whatever files in it
 * platformc does not own (guide §7). Returns 0 on success, -1 on an error
 * (message in err). With WR_CHECK, writes nothing and fills the report.
 */
int writer_run(const FileSet *fs, const char *outdir, WriterMode mode, WriterReport *rep,
	       char *err, size_t errlen);
void writer_report_free(WriterReport *rep);

/*
 * The same as a session, so that files reach the disk as they are made:
 * writer_begin before the backends run (a failure there is in err at once:
 * writer_failed) makes the writer the sink of fs (writer_add, writer_keep,
 * and paths shared with the old manifest, which fs then holds); writer_end
 * after the last file returns what writer_run would, and frees the
 * session. With fs NULL, no sink: call writer_add for each file.
 */
typedef struct Writer Writer;
Writer *writer_begin(FileSet *fs, const char *outdir, WriterMode mode, char *err, size_t errlen);
bool writer_failed(const Writer *w);
/* true (message in err) when a render into outdir stopped half-way while
 * moving its files into place: the next render finishes it */
bool writer_pending(const char *outdir, char *err, size_t errlen);
/* Is the output folder exactly what a render of a platform whose key
 * (unitkey_platform) is `key` makes, without a file to look at? Yes when
 * its stat cache was written for that key by this binary and the folder's
 * watcher (watch.c) has seen nothing change in it since that render began;
 * then *nfiles and *nunits are the tree's. Never an error: no is the
 * answer to anything unexpected, and the caller renders as usual. */
bool writer_up_to_date(const char *outdir, WriterMode mode, uint64_t key, int *nfiles, int *nunits);
void writer_set_key(Writer *w, uint64_t key);
void writer_add(void *w, const FileSet *fs, int index);
bool writer_keep(void *w, const FileSet *fs, int index, size_t *len, uint64_t *hash, uint64_t *key);
int writer_keep_unit(void *w, const FileSet *fs, uint64_t id, uint64_t key, const KeptFile **files);
int writer_end(Writer *w, const FileSet *fs, WriterReport *rep);
/* A path platformc may write below its output folder: relative, `/`-separated,
 * no empty, `.` or `..` name, no control character, not the manifest's name
 * (writer_fs.c; the file set checks each path a backend adds with it too). */
bool rel_path_is_safe(const char *p);

#define MANIFEST_NAME ".platformc-manifest"

const Unit *const *clusters_sorted_units(FileSet *fs); /* deployment order; the set's, until a unit is added */

/* ------------- writer_fs.c, writer_cache.c, writer_swap.c, writer_journal.c,
 * writer_disk.c: the writer's parts, shared by the writer*.c files alone */
#include <stdatomic.h>
#include <sys/stat.h>
#include <sys/types.h>   /* pthread_t and its kin, without <pthread.h>'s names */

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
#define NEW_FLAGS (O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC)
#define CHUNK (64u * 1024)
#define OWNED_BISECT 4096     /* manifest lookups that bisect, at least, before it is indexed (owned_lookup) */
#define PREFETCH_AHEAD 16     /* inserts into a large index: how far ahead its slots are asked for */

/* What the old tree holds at a generated path. */
typedef enum OldStatus { OLD_ABSENT, OLD_SAME, OLD_DIFF } OldStatus;

/*
 * Per generated file, by its number in the file set: 16 bytes, for there
 * may be half a million. `id` is a w_identity() — OLD_SAME: of the old file
 * as compared, without its ctime (the file we link must be that file);
 * `cached`: with its ctime, final, as the stat cache records it.
 */
typedef struct FileState {
	uint8_t status;        /* OldStatus */
	bool written : 1;      /* created in the staging tree */
	bool cached : 1;
	bool vouched : 1;      /* the stat cache vouched for the old file */
	bool same_entry : 1;   /* kept, and its cache entry stays as it is (writer_keep) */
	int32_t owned;         /* its position in the manifest + 1; -1: not there; 0: not known yet */
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
	bool probe;            /* failures are not the render's: return -1 without w_fail() */
	char *comp;            /* one component, NUL-terminated */
} DirStack;

/* The folders a cache look has found to be folders, not symlinks: dir[0..len). */
typedef struct ProbeDir {
	const char *path;              /* a manifest path: the folder is its first len bytes */
	uint32_t len, tag;             /* tag: the folder's hash's high half */
} ProbeDir;

typedef struct Probe {
	char *dir;
	size_t len, cap;
	ProbeDir *seen;                /* folders found to be folders, by hash */
	size_t nseen, capseen;
} Probe;

struct Writer {
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
	int manifest_rc;       /* read_manifest's */
	bool canonical;        /* byte for byte what we would write for these paths */
	uint64_t manifest_id;  /* its w_identity(): binds the stat cache to it */
	const char **owned;    /* sorted */
	int nowned;
	FileSlot *oslots;      /* index over owned (owned_lookup): position + 1 (0 = empty) and
				* hash tag; NULL until lookups turn many */
	size_t noslots;
	int nlookups;          /* owned_lookup's bisections so far */
	/* per path of the manifest: the number + 1 of this render's file at
	 * that path, once the file set has it (0: none yet) */
	uint32_t *ofile;

	/* the stat cache as read (NULL: none): entry k describes owned[k] */
	unsigned char *cache;
	int64_t cache_mtime;
	struct stat cache_st;  /* the cache file as it was read */
	unsigned char *raw_cache; /* its bytes, until load_cache takes them */
	bool cache_keys;       /* written by this very binary: document keys count */
	int vouched, kept;
	int admitted;          /* the file writer_keep last admitted */
	const char *admit_prev; /* the path admit() last looked at */
	int64_t newest;        /* the newest ctime recorded for the cache */
	/* the units of output the cache records (fileset.c): each its id, key
	 * and files (positions in owned), found by id through uslots */
	int nunits;
	uint64_t *unit_id, *unit_key;
	uint32_t *unit_first, *unit_n, *unit_files;
	FileSlot *uslots;              /* unit number + 1, and the id's high half */
	uint32_t unext;                /* the unit after the one writer_keep_unit found last */
	/* for write_cache (after the lookups are gone): the count of units
	 * read, where each unit's files begin among their records, and
	 * whether the unit made u-th now was kept from the u-th record */
	int nunits_read;
	unsigned char *unit_kept_here;
	bool same_places;      /* each file at its old manifest place, none added or removed */
	size_t nuslots;
	bool units_dirty;      /* a unit was built whose key the cache does not hold */
	/* the watcher (watch.c): the token it gave when this session started
	 * (0: no answer), stored in the cache this session writes; `watched`
	 * when it listed what changed since the cache's token, then
	 * watch_dirty[k] says owned[k] is under a changed path */
	uint64_t watch_inst, watch_seq;
	bool watched, watch_all;
	unsigned char *watch_dirty;
	int watch_ndirty, nwatched;
	int watch_listed;      /* paths the watcher listed (owned or not) */
	uint64_t platform_key; /* the platform's key (unitkey_platform), stored in the cache */
	/* the files of the unit writer_keep_unit kept last, as the file set
	 * adds them */
	KeptFile *ukept;
	uint64_t *ukid;        /* ... their identities without ctime */
	int capukept;

	FileState *st;         /* per generated file */
	int nst;
	DirStack old;          /* lookups in the old tree */
	uint32_t *order;       /* file numbers in path order (writer_end) */
	uint32_t *order_pos;   /* ... and their places in the manifest, when all have one */

	bool walked;           /* the old tree was walked: no symlink, carry known */
	bool old_empty;        /* no manifest, and the output folder held nothing (writer_begin) */
	Item *carry;           /* unowned files and empty folders to keep */
	int ncarry, capcarry;
	bool staging;          /* the staging folder exists */
	int newfd, treefd;
	StrBuf made;           /* the staging tree's folder made last */
	const char **stale;
	int nstale;
	char *buf;             /* CHUNK bytes for comparisons and copies */

	/* The disk thread (writer_add, see "Threads" in writer_disk.c): a ring of jobs
	 * with one producer and one consumer. `lock` is for sleeping and waking
	 * (wake, room, closing), w_fail(), and allocation from w->a. */
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
	 * against the stat cache, from the last file the producer will ask for
	 * back to the first, so writer_keep finds the answer ready once they
	 * meet (going the same way, the two raced for each next file and often
	 * both looked at it). look[k]: 0 not yet, LOOK_SAME (then look_id/look_size
	 * hold its identity without ctime and its size), LOOK_OTHER, LOOK_BUSY.
	 * Whoever moves look[k] from 0 to LOOK_BUSY looks and answers; so
	 * the producer, when it asks first, answers for the look-ahead. */
	_Atomic unsigned char *look;
	uint64_t *look_id;
	int64_t *look_size;
	int looked;            /* owned paths looked at, from the end of ... */
	uint32_t *look_order;  /* ... this order: the recorded units' files first, as the
				* backends will ask for them, then the others; NULL: manifest order */
	Probe lookpr;          /* the look-ahead's folder checks */
	Probe mainpr;          /* the producer's */
	DirStack disk;         /* the disk thread's lookups in the old tree */
	StrBuf mk;             /* stage_mkdirs' scratch */
	StrBuf pre;            /* scratch for path prefixes */
};

typedef enum StagingState { STG_ABSENT, STG_OURS, STG_EMPTY, STG_FOREIGN } StagingState;

/* writer_fs.c: the first error, paths, small I/O, staging folders, identities,
 * lookups in the old tree, the manifest */
int w_fail(Writer *w, const char *fmt, ...) PRINTF_LIKE(2, 3);
bool w_failed(const Writer *w);
const char *w_sprintf(Writer *w, const char *fmt, ...) PRINTF_LIKE(2, 3);
const char *disp(Writer *w, const char *rel, size_t n);
const char *disp_parent(Writer *w, const char *name);
void close_fd(int *fd);
size_t dir_len(const char *path);
const char *base_name(const char *path);
int read_all(int fd, StrBuf *out);
int write_all(int fd, const char *p, size_t n);
int create_file(int dirfd, const char *name, const char *data, size_t len, mode_t mode);
int copy_file(Writer *w, int srcdir, const char *name, int dstdir, const char *dstname);
bool link_unsupported(int e);
int rename2(int olddir, const char *oldname, int newdir, const char *newname, unsigned flags);
int staging_state(int parentfd, const char *name, StagingState *out);
int remove_staging(int parentfd, const char *name);
int clean_leftovers(Writer *w, bool strict);
int recover_old_tree(Writer *w);
/* the cache's and journal's words: 8 bytes, little-endian */
static inline uint64_t w_get64(const unsigned char *p)
{
	uint64_t v = 0;
	for (int i = 7; i >= 0; i--)
		v = (v << 8) | p[i];
	return v;
}
/* Eight bytes read as a word (little-endian): a marker bit on each byte
 * below n (n <= 0x80). The lowest marked byte is exact; a byte above it
 * may be marked wrongly (the subtraction's borrow). */
static inline uint64_t bytes_below(uint64_t x, unsigned char n)
{
	return (x - 0x0101010101010101ull * n) & ~x & 0x8080808080808080ull;
}
static inline void w_put64(unsigned char *p, uint64_t v)
{
	for (int i = 0; i < 8; i++, v >>= 8)
		p[i] = (unsigned char)v;
}
int64_t ns_of(struct timespec t);
uint64_t w_identity(const struct stat *st, bool with_ctime);
void w_record(Writer *w, FileState *s, const struct stat *st);
void ds_init(DirStack *ds, int root);
void ds_free(DirStack *ds);
int ds_fd(const DirStack *ds);
int ds_seek(Writer *w, DirStack *ds, const char *path, size_t dirlen, bool strict);
int owned_find(const Writer *w, const char *path);
int owned_lookup(Writer *w, const char *path, uint64_t h);
size_t common_prefix(const char *p, const char *q, bool words);
int owned_of(const Writer *w, const FileState *s, const char *path);
int read_manifest(Writer *w);

/* writer_cache.c */
uint64_t binary_id(void);
void read_cache(Writer *w);
void load_cache(Writer *w);
size_t unit_slot(const Writer *w, uint64_t id);
const unsigned char *entry_at(const Writer *w, int k);
bool cache_vouches(const Writer *w, const FileState *s, const OutFile *f, const struct stat *st);
bool cache_match(Writer *w, Probe *pr, const char *path, const unsigned char *e, uint64_t *id,
		 int64_t *size);
void cache_ask_watcher(Writer *w);
bool cache_watcher_vouches(const Writer *w, const FileState *s, const OutFile *f, uint64_t *id);
bool cache_watcher_renew(const Writer *w);
bool cache_up_to_date(Writer *w, uint64_t key, int *nfiles, int *nunits);
void write_cache(Writer *w, WriterReport *rep);

/* writer_swap.c */
int compare_file(Writer *w, int dirfd, const char *name, const OutFile *f, FileState *s);
int w_walk(Writer *w);
int start_staging(Writer *w);
int write_new(Writer *w, const OutFile *f, FileState *s);
int write_manifest(Writer *w);
int build_staging(Writer *w);
int swap_in(Writer *w, int newfd);

/* writer_journal.c */
int recover_journal(Writer *w);
int commit_journal(Writer *w, WriterReport *rep, bool same_manifest);
int use_journal(Writer *w);

/* writer_disk.c */
bool looked_same(Writer *w, int k, const unsigned char *e, uint64_t *id, int64_t *size);
void put_file(Writer *w, DirStack *ds, Job *j);
void take_result(Writer *w, const Job *j);
void disk_start(Writer *w);
void enqueue(Writer *w, const OutFile *f, int i);
void disk_stop(Writer *w);

/* ------------------------------------------------------ k8s.c, backends */

/* The conventions every family agrees on. */
const char *k8s_label(Arena *a, const Platform *p, const char *what); /* platform.<domain>/<what> */
const char *k8s_namespace(Arena *a, const Team *t, const Env *e);     /* <team>-<env> */
DNode *k8s_object(Arena *a, const char *api_version, const char *kind, const char *name, const char *ns);
DNode *k8s_kustomization(Arena *a);
/* The standard labels of a service's objects (app.kubernetes.io/ labels, team, backstage id). */
DNode *k8s_service_labels(Arena *a, const Platform *p, const Service *s);
/* Argo CD destination of an environment: {name: cluster} or the in-cluster server. */
DNode *k8s_destination(Arena *a, const Env *e, const char *ns);
/* The team's Namespace in environment e, as clusters/<env> builds it. */
DNode *tenancy_namespace(Arena *a, const Platform *p, const Team *t, const Env *e);
/* The Deployment, Service and Ingress (NULL: none) that clusters/<env> builds
 * for service s (not canary: a Rollout's overlay is a JSON patch). */
void services_built(Arena *a, const Platform *p, const Service *s, const ServiceEnv *se, DNode *out[3]);


/* ------------------------------------------------------ backend_backstage.c */

/* backend_backstage: see the backend section. */

/* ----------------------------------------------- policies.c, backend_kyverno.c */

/* One policy of the library (stdlib/policies.yaml). */
typedef struct LibPolicy {
	const char *name, *category, *title, *severity, *namespaces, *match, *checks, *why;
	const char *pod_security; /* the Pod Security level that enforces it too: "baseline", "restricted" or NULL */
	bool validate;         /* has CEL validations (else mutate or generate) */
	const Node *node;      /* the definition */
} LibPolicy;

/* Parses the embedded library into `a`; returns the count. */
int policy_library(Arena *a, const LibPolicy **out);
/* The registries a team's images may come from: its own, else the platform's. */
const char **team_registries(Arena *a, const Platform *p, const Team *t, int *n);
/* Checks `policies.disable` and `policies.exceptions` names (E0221); returns the error count. */
int policies_resolve(Arena *a, Platform *p, Diags *d);
/* Whether an exception of `policies.exceptions` to `policy` (enabled) names service s. */
bool policy_excepts(const Platform *p, const Service *s, const char *policy);
/* The Pod Security level a team namespace enforces: "baseline" when one of its
 * services has an exception to a policy Pod Security "restricted" enforces too,
 * else "restricted" (docs/policies.md, Exceptions). */
const char *pod_security_level(const Platform *p, const Team *t, const Env *e);

/* ------------------------------------- monitoring.c, backend_monitoring.c,
 *                                        monitoring_platform.c, dash.c */

/* Escaping for what reaches PromQL, Alertmanager templates and Markdown
 * (guide §7.1). Each appends to `b`. */
void promql_quote(StrBuf *b, const char *s);        /* "…": \ " and control characters escaped */
void re2_escape(StrBuf *b, const char *s);          /* a literal as an RE2 pattern (metacharacters escaped) */
void promql_regex_quote(StrBuf *b, const char *s);  /* re2_escape, then promql_quote */
/* Text that Prometheus expands as a Go template but must print as is:
 * every `{{` becomes `{{ "{{" }}`. */
void gotmpl_escape(StrBuf *b, const char *s);
/* Text for Markdown: HTML-significant characters and Markdown emphasis/link
 * punctuation escaped, newlines folded to spaces. */
void md_escape(StrBuf *b, const char *s);
/* Any of the escapes above, into a string in `a`: esc_str(a, promql_quote, s). */
const char *esc_str(Arena *a, void (*escape)(StrBuf *, const char *), const char *s);
/* `user-service` -> `UserService` (injective over names: `-` before a
 * non-letter becomes `_`). */
const char *monitoring_camel(Arena *a, const char *name);
/* A Grafana uid (≤ 40 chars, [a-z0-9-]): readable prefix + hash of `key`. */
const char *monitoring_uid(Arena *a, const char *readable, const char *key);

typedef struct MonMetrics {
	const char *path, *requests, *latency, *error_label, *error_regex;
} MonMetrics;

typedef struct MonSettings {
	const char *namespace;          /* Prometheus and Grafana */
	const char *dashboards_namespace; /* NULL: the team namespace */
	const Node *selector;           /* prometheus_selector, NULL: default */
	const char *runbook_base;       /* no trailing slash */
} MonSettings;

MonSettings monitoring_settings(Arena *a, const Platform *p);
MonMetrics monitoring_metrics(const Platform *p, const Service *s);
/* The Prometheus CR's selector labels, added to `labels`. */
void monitoring_selector_labels(Arena *a, const MonSettings *m, DNode *labels);
const char *monitoring_runbook_url(Arena *a, const MonSettings *m, const char *alert);
/* `<grafana>/d/<uid>` when platform.grafana is set, else `/d/<uid>`. */
const char *monitoring_dashboard_url(Arena *a, const Platform *p, const char *uid);
/* The Backstage page of a catalog entity (`platform.backstage.url`), or NULL
 * when no Backstage is configured. kind: "component", "group", ... */
const char *monitoring_backstage_url(Arena *a, const Platform *p, const char *kind, const char *name);
/* One dashboard per service; its URL selects environment e (NULL: the default). */
const char *monitoring_service_uid(Arena *a, const Service *s);
const char *monitoring_service_url(Arena *a, const Platform *p, const Service *s, const Env *e);
const char *monitoring_team_uid(Arena *a, const Team *t);
const char *monitoring_overview_uid(Arena *a, const Platform *p);
/* Adds docs/runbooks/<alert>.md (heading, what fires it, confirm, mitigate). */
void monitoring_runbook(FileSet *fs, const char *alert, const char *title, const char *body);
/* A ConfigMap generator entry for the Grafana sidecar. */
DNode *monitoring_dashboard_generator(Arena *a, const char *name, const char *ns, const char *key, const char *file,
				      const char *folder);

/* promtool unit tests: `tests/promtool/<path>.rules.yaml` (the PrometheusRule's
 * groups as a plain rule file, the same tree) and `<path>.test.yaml` (rule_files,
 * the test cases). A case has input series and alert tests; an alert test's
 * expected alerts are added with monitoring_test_expect (none: the alert must not fire). */
DNode *monitoring_test_case(Arena *a, DNode *tests, const char *interval);
void monitoring_test_series(Arena *a, DNode *tc, const char *series, const char *values);
DNode *monitoring_test_alert(Arena *a, DNode *tc, const char *eval_time, const char *alertname);
/* One expected alert of `rule` (its DNode): the series' labels (k, v, ..., NULL)
 * with the rule's labels over them, and its annotations as Prometheus expands
 * them, `value` standing for any action on $value. */
void monitoring_test_expect(Arena *a, DNode *exp, const DNode *rule, const char *const *series_labels, const char *value);
const char *monitoring_expand(Arena *a, const char *tmpl, const DNode *labels, const char *value);
void monitoring_test_files(FileSet *fs, const char *path, const DNode *groups, DNode *tests);

/* dash.c: Grafana dashboards (classic JSON, schemaVersion 42), laid out on a
 * 24-column grid. */
typedef struct Dash {
	Arena *a;
	DNode *root, *panels, *links;
	int next_id, x, y, row_h;
} Dash;
Dash *dash_new(Arena *a, const char *uid, const char *title, const char *const *tags);
void dash_link(Dash *d, const char *title, const char *url, const char *tooltip);
void dash_row(Dash *d, const char *title);
/* A panel `w` columns wide and `h` high; returns it for targets/options. */
DNode *dash_panel(Dash *d, const char *type, const char *title, int w, int h, const char *unit);
void dash_target(Dash *d, DNode *panel, const char *expr, const char *legend);
void dash_table_target(Dash *d, DNode *panel, const char *expr);
void dash_thresholds(Dash *d, DNode *panel, double warn, double ok);
void dash_custom_variable(Dash *d, const char *name, const char *label, const char *const *values, int n, int current);

void monitoring_platform(const Platform *p, FileSet *fs, const MonSettings *m);
/* -------------------------------------- expr.c, catalog*.c, cost.c */

/*
 * Small expressions over a kind's parameters (constraints, `when`, cost):
 *   literals 1, 0.5, "text", true, false; paths a.b.c; has(p), len(p),
 *   distinct(p, ...), lookup("table", e); ! - * / + - == != < <= > >= && ||
 *   and c ? a : b. Parsing is bounded (MAX_EXPR_DEPTH, MAX_EXPR_LEN).
 */
#define MAX_EXPR_DEPTH 32
#define MAX_EXPR_LEN 2048

typedef enum ExprKind {
	X_NUM, X_STR, X_BOOL, X_PATH, X_CALL, X_NOT, X_NEG, X_BIN, X_COND,
} ExprKind;

typedef struct Expr Expr;
struct Expr {
	ExprKind kind;
	int op;                /* X_BIN: one of the operator tokens below */
	double num;
	const char *s;         /* X_STR text, X_PATH dotted path, X_CALL name */
	Expr *a, *b, *c;       /* operands; X_CALL: args in `args` */
	Expr **args;
	int nargs;
	int pos;               /* byte offset in the source */
};
enum { XOP_OR = 1, XOP_AND, XOP_EQ, XOP_NE, XOP_LT, XOP_LE, XOP_GT, XOP_GE, XOP_ADD, XOP_SUB, XOP_MUL, XOP_DIV };

/* Parses `src`; NULL on error with a message and the byte offset. */
Expr *expr_parse(Arena *a, const char *src, char *err, size_t errlen, int *errpos);
/* Calls fn for every node of `kind` in e (and in nested calls), in source order. */
void expr_each(const Expr *e, ExprKind kind, void (*fn)(const Expr *e, void *ctx), void *ctx);
/* Calls fn for every path in e: expr_each(e, X_PATH, ...). */
void expr_paths(const Expr *e, void (*fn)(const Expr *path, void *ctx), void *ctx);
/* A built-in function of the language (has, len, distinct, ...). */
bool expr_builtin(const char *name);

/* A typed parameter value (defaults applied). */
typedef enum PValKind { PV_NULL, PV_BOOL, PV_NUM, PV_STR, PV_LIST, PV_OBJ } PValKind;
typedef struct Param Param;
typedef struct PVal PVal;
struct PVal {
	PValKind kind;
	const Param *param;
	bool b;
	double num;            /* PV_NUM; durations in milliseconds */
	const char *s;         /* PV_STR text; PV_NUM source text */
	const char **keys;     /* PV_OBJ */
	PVal **items;          /* PV_LIST items; PV_OBJ values */
	int n;
	const Node *node;      /* where it was written; NULL for a default */
};
/* expr.c: the value at a dotted path through objects, or NULL. */
const PVal *pval_get(const PVal *obj, const char *path);
/* Every leaf a path reaches, through lists (at most cap, into out[*n..]);
 * *through_list is set when a list was crossed. */
void pval_gather(const PVal *v, const char *path, const PVal **out, int *n, int cap, bool *through_list);
/* Two values are the same (objects field by field, in any order). */
bool pval_same(const PVal *x, const PVal *y);
/* all_in(p, "a", ...): the first string p reaches that is none of the
 * listed ones (NULL: every one is). */
const PVal *expr_all_in_outlier(const PVal *scope, const Expr *e);
/* unique_by("field", p, ...): the objects the paths reach with the same
 * `field` are the same object. The first object that breaks it, and in
 * *earlier the one it clashes with (NULL: none). */
const PVal *expr_unique_by_conflict(const PVal *scope, const Expr *e, const PVal **earlier);

typedef struct KConstraint {
	const char *src, *message;
	Expr *e;
	const Node *node;
} KConstraint;

struct Param {
	const char *name, *claim, *title, *description;
	TypeKind type;         /* scalar types, T_OBJECT, T_LIST */
	const char **enums;
	const char **enum_titles; /* per value; NULL: none (`enum` as a mapping gives them) */
	int nenums;
	bool has_min, has_max, has_step;
	double min, max, step; /* durations in milliseconds */
	const char *pattern;
	const Node *def, *def_prod; /* default (all tiers), prod-tier default */
	bool has_def, has_def_prod;
	struct PVal *def_val[2];   /* catalog_check.c: def's and def_prod's value (scalars), built once */
	bool required;
	Expr *when;
	const char *when_src;
	Param *fields;         /* T_OBJECT */
	int nfields;
	Param *item;           /* T_LIST */
	KConstraint *cons;     /* T_OBJECT: constraints over its fields */
	int ncons;
	Type *check;           /* the same as a schema Type, for schema_check */
	const Node *node;
};

typedef struct KPatch {
	const char *from, *to, *convert, *fmt;
	const Node *map;       /* value -> value */
} KPatch;

typedef struct KConn {
	const char *name, *from, *value;
} KConn;

typedef struct KManaged {
	const char *name, *kind;
	const char *api[2];    /* [0] claims target, [1] namespaced target */
	const Node *base;      /* spec fields of the base */
	KPatch *patches;
	int npatches;
	KConn *conn;
	int nconn;
	bool primary;          /* writes the connection secret (namespaced target) */
	bool global;           /* a global AWS service (IAM): no forProvider.region */
	bool network;          /* composed only when the platform has a `cloud.network` */
	const Node *with_network; /* spec fields added to `base` when it has one */
} KManaged;

typedef struct Kind {
	const char *name, *title, *type, *description;
	int port;
	const char *claim_kind, *claim_plural, *xr_kind, *xr_plural;
	Param params;          /* a T_OBJECT: the parameter schema */
	KManaged *mrs;
	int nmrs;
	const char *cost_source, *cost_date, *cost_usage;
	const char *cost_region;   /* the region of the prices; NULL: not said */
	Expr *cost_monthly;
	const Node *cost_tables;
	const Node *cost_regions;  /* `cost.regions`: {<region>: {source, date, tables}} */
	bool builtin, defaults_checked;
	bool internal;         /* only platformc creates its claims (`claims` of another kind) */
	Param computed;        /* a T_OBJECT: the values platformc computes into the claim */
	struct Compute *compute; /* compute.c: their templates and the kind's further claims */
	const Node *node;
} Kind;

typedef struct Catalog {
	Kind **kinds;          /* sorted by name; the kinds platform.yaml may use */
	int n;
	Kind **internal;       /* sorted by name; `internal: true` kinds */
	int ninternal;
	Schema *schema;        /* for schema_check of params */
	void *seen;            /* catalog_check.c: diagnostics already reported */
	void *index;           /* compute.c: resources by name and who names them */
	void *by_name;         /* catalog_check.c: the resources sorted by name, for references */
	bool computed;         /* catalog_check.c: every resource's values are computed */
} Catalog;

/* Loads the built-in kinds and those of `platform.catalog` (once per
 * platform); a malformed kind file is an error (E0301). */
Catalog *catalog_load(Arena *a, Platform *p, Diags *d);
/* The built-in catalog (catalog/, compiled in), loaded without a platform;
 * NULL (diagnostics on stderr) when a built-in kind is broken. */
const Catalog *catalog_load_builtin(Arena *a);
/* E0301 for a malformed kind file, at `at` (the kind's root when NULL);
 * counts it in *errors. Both kind loaders (catalog.c, compute.c) use it. */
void catalog_kind_error(Diags *d, const Kind *k, int *errors, const Node *at, const char *fmt, ...)
	PRINTF_LIKE(5, 6);
/* A kind platform.yaml may use (NULL for unknown and internal kinds). */
const Kind *catalog_kind(const Platform *p, const char *name);
/* Any kind, internal ones included. */
const Kind *catalog_kind_any(const Catalog *c, const char *name);
/* A parameter by dotted path, through objects and list items, or NULL. */
const Param *catalog_param(const Param *scope, const char *path);
/* A field of an object parameter by name, or NULL. */
const Param *catalog_field(const Param *obj, const char *name);
/* Checks a resource's params per environment (types, ranges, steps,
 * patterns, constraints, cross-resource rules) and fills kindp and
 * env_params. Call after every resource's environments are known. */
int catalog_check_resource(Arena *a, Platform *p, Resource *r, Diags *d);
const PVal *catalog_values(const Resource *r, const Env *e);
/* The port services reach a resource of this kind on (egress rules). */
/* expr.c, evaluation: over a typed value, the environment giving `tier`
 * and `env`; `k` (or NULL) gives `lookup` its cost tables. */
typedef enum EvalKind { EV_NONE, EV_BOOL, EV_NUM, EV_STR } EvalKind;
typedef struct EvalResult {
	EvalKind kind;
	bool b;
	double num;
	const char *s;
} EvalResult;
EvalResult expr_eval(const Kind *k, const Expr *e, const PVal *scope, const Env *env);
/* The same with functions of the caller's (compute.c): `fn` is asked for a
 * call the language does not know, with its arguments evaluated; it
 * returns false when it does not know the function either. */
typedef bool (*EvalFn)(void *ctx, const char *name, const EvalResult *args, int nargs, EvalResult *out);
EvalResult expr_eval_fn(const Kind *k, const Expr *e, const PVal *scope, const Env *env, EvalFn fn, void *ctx);

/*
 * compute.c: what platformc computes for a claim from the whole platform
 * (docs/catalog.md, "Computed values and further claims"): a kind's
 * `computed` values (templates over its parameters, the cloud and the
 * resources that name it) and its `claims`, further claims per (resource,
 * environment) of another kind (an SNS subscription, a dead-letter queue).
 */
/* Loads a kind's `computed` templates and `claims` (E0301); the error count. */
int compute_load(Arena *a, Diags *d, Kind *k, const Node *computed, const Node *claims, const Node *access,
		 const Node *values);
/* After every kind is loaded: the kinds `claims` name exist; the error count. */
int compute_link(Arena *a, Diags *d, Catalog *c);
/* `<resource>-<env>`, with `.fifo` for FIFO queues and topics (AWS). */
const char *compute_external_name(Arena *a, const Resource *r, const Env *e);
/* Adds r's computed values in e to its claim's parameters. */
void compute_values(Arena *a, const Platform *p, const Resource *r, const Env *e, DNode *params);
typedef struct ChildClaim {
	const Kind *kind;
	const char *name;      /* `<resource>.<key>`, at most 63 characters */
	const char *file;      /* `claim-<key>.yaml` */
	const char *external_name; /* NULL: none */
	DNode *params;         /* the claim's spec.parameters */
} ChildClaim;
/* r's further claims in e, in the order of the kind's `claims`. */
int compute_children(Arena *a, const Platform *p, const Resource *r, const Env *e, ChildClaim **out);
/* Whether kind k makes further claims of kind `other`. */
bool compute_makes(const Kind *k, const Kind *other);
/* Compact JSON text of a document (the `json` template directive's). */
const char *compute_json(Arena *a, const DNode *v);
/* Check time: two further claims of r may not get the same name (E0303). */
int compute_check(Arena *a, Platform *p, const Resource *r, Diags *d);
/* A kind's access modes (`access` in kind.yaml): what a service that uses a
 * resource of the kind may do in AWS. */
int compute_nmodes(const Kind *k);
const char *compute_mode_name(const Kind *k, int i);
const char *compute_mode_description(const Kind *k, int i);
int compute_mode_index(const Kind *k, const char *name); /* -1: none */
/* The IAM statements mode `mode` grants on r in e:
 * [{Action: [...], Resource: [...], Condition: {...}}]; the templates see
 * `grant.prefix` = prefix (NULL: "", the whole resource). */
DNode *compute_access(Arena *a, const Platform *p, const Resource *r, const Env *e, int mode, const char *prefix);
/* Whether the kind's access statements narrow to a `shared_with` prefix. */
bool compute_has_prefixes(const Kind *k);
/* `secret_values`: what External Secrets reads from Secrets Manager into the
 * connection secret, with the identity of a service granted mode
 * compute_values_mode(k) (-1: the kind has none). */
int compute_values_mode(const Kind *k);
void compute_secret_values(Arena *a, const Platform *p, const Resource *r, const Env *e, DNode **data,
			   DNode **data_from);

/* cost.c: `platformc cost` (text or json to `out`, a FILE*; budget
 * warnings to stderr). Returns an exit code. */
int cost_report(const Platform *p, Arena *a, const char *format, DiagFormat df, bool color, void *out,
		bool fail_over_budget);
/* The estimate of one resource in one environment (USD a month in *usd when
 * COST_PRICED); `cost_money` formats 1234.5 as "1,234.50". */
enum { COST_NOT_RUNNING, COST_PRICED, COST_USAGE, COST_UNPRICED };
int cost_estimate(const Resource *r, const Env *e, double *usd);
void cost_money(char *buf, size_t n, double v);


/*
 * identity.c: the AWS identity of each service (an IAM role per service and
 * environment, its least-privilege policy from the `access` modes of the
 * kinds it uses, and who may assume it: EKS Pod Identity or IRSA).
 */
bool identity_irsa(const Platform *p);                   /* cloud.identity: irsa */
const char *identity_cluster(const Platform *p, const Env *e); /* the EKS cluster's name */
const char *identity_secrets_role(const Platform *p);   /* External Secrets' role (Pod Identity) */
const char *identity_role_name(Arena *a, const Platform *p, const Service *s, const Env *e);
const char *identity_role_arn(Arena *a, const Platform *p, const Service *s, const Env *e);
/* Whether s's team may use access mode `mode` of r (r's team, shared_with). */
bool identity_grants(const Service *s, const Resource *r, int mode);
/* The `shared_with` prefix s's team is limited to on r (`{team, access, prefix}`); NULL: all of r. */
const char *identity_prefix(const Service *s, const Resource *r);
/* The IAM policy document of s in e; NULL when nothing it uses grants AWS access. */
DNode *identity_policy(Arena *a, const Platform *p, const Service *s, const Env *e);
/* Who may assume the role; `secrets`: External Secrets reads secrets with it. */
DNode *identity_trust(Arena *a, const Platform *p, const Service *s, const Env *e, bool secrets);
/* E0320 (shared_with access modes), E0321 (IRSA without an OIDC issuer),
 * E0322 (cloud.clusters names no cluster), E0323 (a network for some
 * clusters only); the error count. */
int identity_check(Arena *a, Platform *p, Diags *d);
/* ------------------------------------------------- cmd_graph.c, cmd_diff.c */

#include <stdio.h>

/* `graph`: format "dot" or "mermaid" (main.c checks it) on o. */
void cmd_graph(const Platform *p, const char *format, FILE *o);
/* `diff`: the objects a render of fs would add, change or remove in outdir,
 * format "text" or "markdown" (main.c checks it) on o. Writes nothing. */
void cmd_diff(const FileSet *fs, const Platform *p, const char *outdir, const char *format, FILE *o);

/* ------------------------------------------------------------ catalog_doc.c */
/* `explain NAME`: a diagnostic code or a resource kind (text, or Markdown
 * with `markdown`); `explain --markdown`: every built-in kind (docs/catalog.md).
 * An unknown name is a usage error with a did-you-mean. Returns an exit code. */
int cmd_explain(const char *name, bool markdown);
/* A kind's `params` as a JSON Schema object (draft-07; `platformc schema`),
 * its properties one a line at indentation level `ind` + 1 (json.c). */
DNode *catalog_doc_params_json(Arena *a, const Kind *k, int ind);

/* ----------------------------------------------------------------- apis.c */

/* The parsed stdlib/apis.yaml (loaded once, read-only), the entry of an API
 * style (`rest` for NULL), of a language (NULL: none). */
const Node *apis_data(void);
const Node *apis_type(const char *api);
const Node *apis_language(const char *language);

/* ------------------------------------------------------------- workload.c */

/* What a service's `api` means for its workload (stdlib/apis.yaml). */
typedef struct Workload {
	const char *api, *family;     /* family: "http" | "grpc" (metric names) */
	const char *port_name;        /* the serving port's name; NULL: serves nothing */
	const char *app_protocol;     /* the Service port's appProtocol */
	long long port, service_port; /* container port; the Service's port */
	bool ingress;                 /* an Ingress may route to it */
	bool service;                 /* a Service exists (serving or metrics port) */
	const Node *ingress_annotations;
	long long metrics_port;       /* a separate HTTP port `metrics`; 0: none */
	const char *scrape_port;      /* the port name Prometheus scrapes; NULL: none */
	const char *probe;            /* "http" | "grpc" | "exec"; NULL: no probes */
	const char *probe_port_name;  /* http, grpc */
	long long probe_port;
	const char *liveness, *readiness; /* http paths */
	const Node *command;          /* exec */
	long long period, timeout, failure, startup_period, startup_failure, startup_seconds;
} Workload;

/* platform.ingress: the controller's class and namespace, the ClusterIssuer
 * (defaults from stdlib/schema.yaml's PlatformIngress). */
typedef struct IngressSettings {
	const char *cls, *namespace, *issuer;
} IngressSettings;
IngressSettings platform_ingress(const Platform *p);

/* rollouts.c: `rollout: canary` (Argo Rollouts) and `autoscaling.vpa`,
 * read once from the service's effective tree (rollout_resolve, resolve.c). */
void rollout_resolve(Service *s);
bool rollout_canary(const Service *s);
/* Sets apiVersion, kind and name of `ref` to the service's workload: its
 * Rollout when canary, else its Deployment (HPA and VPA targets). */
void rollout_target_ref(Arena *a, DNode *ref, const Service *s);
bool rollout_vpa(const Service *s);
const char *rollout_analysis_name(Arena *a, const Service *s);
DNode *rollout_steps(Arena *a, const Env *e);
DNode *rollout_strategy(Arena *a, const Service *s);
const char *rollout_query(Arena *a, const Service *s, const Env *e);
const char *rollout_max_burn_rate(void);
DNode *rollout_analysis_template(Arena *a, const Platform *p, const Service *s, const Env *e);
DNode *rollout_vpa_doc(Arena *a, const Platform *p, const Service *s);

void workload_of(const Service *s, Workload *w);
/* E0260-E0262, W0280; returns the error count. */
int workload_check(const Platform *p, Diags *d);

#endif
