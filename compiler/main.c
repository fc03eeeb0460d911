/*
 * main.c — the command line. It reads like the pipeline:
 *
 *   source -> check -> lower -> resolve      (lower_load)
 *   backends -> file set                      (the table below)
 *   writer                                    (writer_begin/add/end)
 *
 * The verbs are one table (`verbs` below): name, synopsis, the options each
 * takes, the values of its --format, its help screen, what its argument
 * completes to and its handler; the options are another (`options`: their
 * spellings and what their values are). The tables are the one source of
 * `platformc --help`, `platformc VERB --help`, the options that take a value,
 * the check that rejects an option a verb does not take, the bash completion
 * (`platformc completion bash`) and dispatch; the man page and the guide are
 * checked against them (tests/groups/cli.sh).
 *
 * Diagnostics go to stderr in the format --diagnostics picks (human, json,
 * github; github is the default under GITHUB_ACTIONS=true). Exit codes are
 * those of guide §4: 0 ok, 1 input errors, 2 usage or I/O, 3 out of date.
 */
#include "platformc.h"

#include <libfyaml.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <xxhash.h>
#include <yaml.h>
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>


typedef struct Options {
	const char *verb;
	const char *file;
	const char *outdir;
	bool check_only;
	bool fail_over_budget; /* cost: exit 1 when a team is over budget */
	DiagFormat diag_format;
	const char *format;    /* a value of the verb's `formats`; its first when not given */
	const char *dump;
	const char *code;      /* explain: a diagnostic code or a resource kind */
	bool help;             /* VERB --help */
	bool markdown;         /* explain --markdown */
	bool included;         /* schema --included */
	bool kind;             /* schema --kind */
	unsigned given;        /* OPT_* bits: the options on the command line */
} Options;

enum { OPT_OUTPUT = 1, OPT_FORMAT = 2, OPT_CHECK = 4, OPT_DUMP = 8, OPT_DIAGNOSTICS = 16, OPT_FILE = 32,
       OPT_MARKDOWN = 64, OPT_INCLUDED = 128, OPT_MAXDIAG = 256, OPT_FAIL_BUDGET = 512,
       OPT_KIND = 1024 };

/* What an option's value is: none (a flag), one of some words, a folder,
 * one of the verb's formats, or anything (a count). */
typedef enum OptValue { OV_NONE, OV_WORDS, OV_DIR, OV_FORMAT, OV_ANY } OptValue;

/* The options, in the order a verb's usage line lists them: the bit, the
 * name an error message uses, the usage-line form, the spellings (NULL: the
 * positional FILE), what the value is and, for OV_WORDS, its words. */
static const struct {
	unsigned bit;
	const char *name, *usage;
	const char *spellings;
	OptValue value;
	const char *words;
} options[] = {
	{OPT_FILE, "a FILE argument", "[FILE]", NULL, OV_NONE, NULL},
	{OPT_OUTPUT, "-o", "[-o DIR]", "-o --output", OV_DIR, NULL},
	{OPT_CHECK, "--check", "[--check]", "--check", OV_NONE, NULL},
	{OPT_FORMAT, "--format", NULL, "--format", OV_FORMAT, NULL}, /* [--format a|b]: the verb's formats */
	{OPT_FAIL_BUDGET, "--fail-over-budget", "[--fail-over-budget]", "--fail-over-budget", OV_NONE, NULL},
	{OPT_INCLUDED, "--included", "[--included]", "--included", OV_NONE, NULL},
	{OPT_KIND, "--kind", "[--kind]", "--kind", OV_NONE, NULL},
	{OPT_MARKDOWN, "--markdown", "[--markdown]", "--markdown", OV_NONE, NULL},
	{OPT_DUMP, "--dump", "[--dump model|files]", "--dump", OV_WORDS, "model files"},
	{OPT_DIAGNOSTICS, "--diagnostics", "[--diagnostics human|json|github]", "--diagnostics", OV_WORDS,
	 "human json github"},
	{OPT_MAXDIAG, "--max-diagnostics", "[--max-diagnostics N]", "--max-diagnostics", OV_ANY, NULL},
};

/* The verbs that read a platform (check, render, cost, diff, graph) share
 * the front end; their handler gets the resolved model. */
typedef struct Verb Verb;
struct Verb {
	const char *name;
	const char *args;     /* positional arguments of the usage line, or ""; without
			       * OPT_FILE, the one positional argument goes to `code` */
	const char *synopsis; /* its lines in `platformc --help`; NULL: not listed */
	unsigned options;     /* OPT_* bits it takes */
	const char *formats[3]; /* values of --format, the default first; none: {NULL} */
	const char *help;     /* `platformc VERB --help` after the usage line; NULL: none */
	bool progress;        /* the status line on a terminal (progress.c) */
	/* the words its argument completes to when it is not a FILE; NULL: none */
	const char *(*arg_words)(Arena *a);
	int (*run)(Options *o);                        /* a verb without a model, or */
	int (*use)(Options *o, Platform *p, Arena *a); /* one of the front end's */
};

static int run_version(Options *o);
static int run_explain(Options *o);
static int run_completion(Options *o);
static const char *kind_words(Arena *a);
static const char *shell_words(Arena *a);
static int run_lsp(Options *o);
static int run_watch(Options *o);
static int run_schema(Options *o);
static int use_check(Options *o, Platform *p, Arena *a);
static int use_cost(Options *o, Platform *p, Arena *a);
static int use_graph(Options *o, Platform *p, Arena *a);
static int use_render(Options *o, Platform *p, Arena *a);
static int use_diff(Options *o, Platform *p, Arena *a);

#define FRONT (OPT_FILE | OPT_DIAGNOSTICS | OPT_MAXDIAG)

static const Verb verbs[] = {
	{"check", "[FILE]", "  check  [FILE]                 parse and type-check; write nothing\n",
	 FRONT | OPT_DUMP, {NULL},
	 "Parse and type-check FILE (default platform.yaml) and its includes; write nothing.\n"
	 "Exit status: 0 no errors, 1 errors were reported, 2 usage or I/O error.\n",
	 true, NULL, NULL, use_check},
	{"render", "[FILE]",
	 "  render [FILE] [-o DIR]        write the output tree (default DIR: out)\n"
	 "  render [FILE] [-o DIR] --check   compare only; list what differs; write nothing\n",
	 FRONT | OPT_DUMP | OPT_OUTPUT | OPT_CHECK, {NULL},
	 "Write the output tree of FILE into DIR (default out). Files platformc does not own\n"
	 "are left alone; stale files it wrote before are removed.\n"
	 "  --check   write nothing; list what differs; exit 3 if DIR is out of date\n",
	 true, NULL, NULL, use_render},
	{"cost", "[FILE]",
	 "  cost   [FILE] [--format text|json] [--fail-over-budget]   estimated monthly cost vs budgets\n",
	 FRONT | OPT_FORMAT | OPT_FAIL_BUDGET, {"text", "json"},
	 "Print the estimated monthly cost (USD, list prices of the catalog's cost models)\n"
	 "of every resource in every environment, per team and per environment, against\n"
	 "each team's `budget` (warning W0310 when over). Kinds billed by use show `usage`.\n"
	 "Prices of another region than `platform.cloud.region` are a warning (W0340).\n"
	 "  --fail-over-budget   exit 1 when a team is over its budget (CI)\n"
	 "Writes nothing. Exit status: 0, or 1 when the input has errors.\n",
	 false, NULL, NULL, use_cost},
	{"diff", "[FILE]", "  diff   [FILE] [-o DIR] [--format text|markdown]   objects a render would change\n",
	 FRONT | OPT_OUTPUT | OPT_FORMAT, {"text", "markdown"},
	 "Show what `platformc render` would change in DIR (default out), as Kubernetes\n"
	 "objects (apiVersion/kind/namespace/name) added, changed or removed, grouped by team\n"
	 "and family (top folder). Changed objects list the fields that differ. Writes\n"
	 "nothing; exit 0. markdown suits $GITHUB_STEP_SUMMARY or a pull-request comment.\n",
	 false, NULL, NULL, use_diff},
	{"graph", "[FILE]", "  graph  [FILE] [--format dot|mermaid]   teams, services, resources and their edges\n",
	 FRONT | OPT_FORMAT, {"dot", "mermaid"},
	 "Print teams, systems, services and resources with their edges (owner, part of,\n"
	 "calls, uses, shared_with) as Graphviz dot (default) or a Mermaid flowchart.\n"
	 "  platformc graph | dot -Tsvg > platform.svg\n",
	 false, NULL, NULL, use_graph},
	{"schema", "",
	 "  schema [--included|--kind]    print the JSON Schema of platform.yaml, of the files\n"
	 "                                it includes, or of a resource kind file (for editors)\n",
	 OPT_INCLUDED | OPT_KIND, {NULL},
	 "Print the JSON Schema (draft-07) of platform.yaml, for editors: a resource's `kind`\n"
	 "is one of the built-in kinds and its `params` are typed per kind (also under\n"
	 "`overrides.<env>.params` and `defaults.resources.<kind>`). Published as\n"
	 "docs/platform.schema.json; guide §8 shows how to point an editor at it.\n"
	 "  --included   the schema of a file platform.yaml includes\n"
	 "               (docs/platform-included.schema.json)\n"
	 "  --kind       the schema of a resource kind file, catalog/<kind>/kind.yaml or a\n"
	 "               kind of `platform.catalog` (docs/kind.schema.json)\n",
	 false, NULL, run_schema, NULL},
	{"explain", "CODE|KIND",
	 "  explain CODE|KIND             explain a diagnostic code (E0201) or a resource kind's\n"
	 "                                parameters (sqs); `explain --markdown`: every kind\n",
	 OPT_MARKDOWN, {NULL},
	 "       platformc explain --markdown [KIND]\n\n"
	 "Print the long explanation of a diagnostic code (`platformc explain E0201`), or the\n"
	 "parameters of a built-in resource kind (`platformc explain sqs`): each parameter's\n"
	 "type, default (per environment tier), allowed values and description, and the\n"
	 "kind's rules. An unknown name exits 2 with a did-you-mean.\n"
	 "  --markdown   the kind's reference as Markdown; without KIND, every built-in kind\n"
	 "               (the generated section of docs/catalog.md)\n",
	 false, kind_words, run_explain, NULL},
	{"lsp", "", "  lsp                           a Language Server Protocol server on stdin/stdout (editors)\n",
	 0, {NULL},
	 "A Language Server Protocol server on stdin/stdout for editors: the diagnostics\n"
	 "of `check` as you type, definition, references, completion, hover, rename.\n"
	 "See docs/guide.md §8.1 for VS Code, Neovim and Helix.\n",
	 false, NULL, run_lsp, NULL},
	{"watch", "", "  watch  [-o DIR]               watch DIR so that renders need not look at every file\n",
	 OPT_OUTPUT, {NULL},
	 "Watch the output folder DIR (default out) with inotify, in the foreground until\n"
	 "SIGINT or SIGTERM, and tell each `platformc render` (or `render --check`) into\n"
	 "DIR what changed since the render before it: the files nothing touched are\n"
	 "not looked at. Renders ask on the socket `.<DIR>.platformc-watch` beside DIR;\n"
	 "without an answer they look at every file, as they do with no watcher.\n"
	 "  platformc watch -o out &        then render as usual\n"
	 "Exit status: 0 when stopped by a signal, 2 when it cannot watch DIR (the\n"
	 "inotify watch limit, fs.inotify.max_user_watches, is too low for its folders).\n",
	 false, NULL, run_watch, NULL},
	{"completion", "bash", "  completion bash               print the bash completion (source it, or install it)\n",
	 0, {NULL},
	 "Print the bash completion of platformc, made from its table of commands and\n"
	 "options: every command, each command's options, the values of --format,\n"
	 "--diagnostics and --dump, and the built-in resource kinds for `explain`.\n"
	 "  source <(platformc completion bash)       in the current shell\n"
	 "`make install` installs it as share/bash-completion/completions/platformc.\n",
	 false, shell_words, run_completion, NULL},
	{"version", "", NULL, 0, {NULL}, NULL, false, NULL, run_version, NULL}, /* --version */
};

static const char usage_head[] = "usage: platformc <command> [options]\n"
				 "\n"
				 "commands:\n";
static const char usage_tail[] =
	"  --version                     print the version and the libraries' versions\n"
	"  --help                        this text; `platformc VERB --help` for one verb\n"
	"\n"
	"options:\n"
	"  --diagnostics human|json|github   diagnostic format (github when GITHUB_ACTIONS=true)\n"
	"  --max-diagnostics N           show at most N diagnostics, errors first (default 200; 0 = all)\n"
	"  --dump model|files            print a phase's result instead of writing (debugging)\n"
	"\n"
	"FILE defaults to platform.yaml. Exit status: 0 ok, 1 input errors, 2 usage or I/O error,\n"
	"3 `render --check` found the output out of date. NO_COLOR disables colour.\n";

static const Verb *find_verb(const char *name)
{
	for (size_t i = 0; i < ARRAY_LEN(verbs); i++)
		if (!strcmp(verbs[i].name, name))
			return &verbs[i];
	return NULL;
}

/* `platformc --help`: the synopses of the table. */
static void print_usage(FILE *f)
{
	fputs(usage_head, f);
	for (size_t i = 0; i < ARRAY_LEN(verbs); i++)
		if (verbs[i].synopsis)
			fputs(verbs[i].synopsis, f);
	fputs(usage_tail, f);
}

/* `platformc VERB --help`: a usage line made of the verb's options, then its text. */
static void print_verb_help(const Verb *v)
{
	printf("usage: platformc %s%s%s", v->name, *v->args ? " " : "", v->args);
	for (size_t k = 0; k < ARRAY_LEN(options); k++) {
		if (!(v->options & options[k].bit) || options[k].bit == OPT_FILE)
			continue;
		if (options[k].usage)
			printf(" %s", options[k].usage);
		else
			for (int f = 0; v->formats[f]; f++)
				printf("%s%s", f ? "|" : " [--format ", v->formats[f]);
		if (options[k].bit == OPT_FORMAT)
			putchar(']');
	}
	fputs(v->help[0] == ' ' ? "\n" : "\n\n", stdout); /* a second usage line follows directly */
	fputs(v->help, stdout);
}

static int usage_error(const char *fmt, const char *arg)
{
	fputs("platformc: ", stderr);
	fprintf(stderr, fmt, arg);
	fputs("\nrun `platformc --help` for usage\n", stderr);
	return EXIT_USAGE;
}

static void print_version(void)
{
	char pcre[64] = "";
	pcre2_config(PCRE2_CONFIG_VERSION, pcre);
	printf("platformc %s\n", PLATFORMC_VERSION);
	unsigned xxh = XXH_versionNumber();
	printf("libfyaml %s\nlibyaml %s\npcre2 %s\nxxhash %u.%u.%u\njsmn (header-only)\n", fy_library_version(),
	       yaml_get_version_string(), pcre, xxh / 10000, xxh / 100 % 100, xxh % 100);
}

static bool use_color(void)
{
	const char *nc = getenv("NO_COLOR");
	return isatty(2) && !(nc && *nc);
}

/* The options without a value: each sets one bool. False when `a` is none. */
static bool set_flag(Options *o, const char *a)
{
	const struct {
		const char *name;
		bool *flag;
		unsigned bit;
	} flags[] = {{"--check", &o->check_only, OPT_CHECK},
		     {"--included", &o->included, OPT_INCLUDED},
		     {"--kind", &o->kind, OPT_KIND},
		     {"--markdown", &o->markdown, OPT_MARKDOWN},
		     {"--fail-over-budget", &o->fail_over_budget, OPT_FAIL_BUDGET}};
	for (size_t i = 0; i < ARRAY_LEN(flags); i++)
		if (!strcmp(a, flags[i].name)) {
			*flags[i].flag = true;
			o->given |= flags[i].bit;
			return true;
		}
	return false;
}

/* The option with a value that argv[*i] spells (`--format x`, `--format=x`):
 * its bit, and its value in *val (*i moves past a separate value). 0 when
 * argv[*i] is no such option; a missing value is a usage error in *rc. */
static unsigned option_value(int argc, char **argv, int *i, const char **val, int *rc)
{
	const char *a = argv[*i];
	*val = NULL;
	*rc = 0;
	for (size_t k = 0; k < ARRAY_LEN(options); k++) {
		const char *sp = options[k].spellings;
		if (!sp || options[k].value == OV_NONE)
			continue;
		while (*sp) {
			size_t n = strcspn(sp, " ");
			if (strlen(a) == n && !strncmp(a, sp, n)) {
				if (*i + 1 >= argc) {
					*rc = usage_error("option `%s` needs a value", a);
					return 0;
				}
				*val = argv[++*i];
				return options[k].bit;
			}
			if (n > 2 && !strncmp(a, sp, n) && a[n] == '=') { /* --long=value */
				*val = a + n + 1;
				return options[k].bit;
			}
			sp += n + (sp[n] == ' ');
		}
	}
	return 0;
}

static int parse_args(int argc, char **argv, Options *o)
{
	const char *gha = getenv("GITHUB_ACTIONS");
	o->diag_format = gha && strcmp(gha, "true") == 0 ? DF_GITHUB : DF_HUMAN;
	o->outdir = "out";
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		const char *val;
		int rc;
		unsigned opt = option_value(argc, argv, &i, &val, &rc);
		if (rc)
			return rc;
		if (opt == OPT_OUTPUT) {
			o->outdir = val;
			o->given |= OPT_OUTPUT;
		} else if (opt == OPT_MAXDIAG) {
			char *end;
			long n = strtol(val, &end, 10);
			if (!*val || *end || n < 0 || n > 1000000)
				return usage_error("`--max-diagnostics` takes a count (0 = all), not `%s`", val);
			diags_set_limit((int)n);
			o->given |= OPT_MAXDIAG;
		} else if (opt == OPT_DIAGNOSTICS) {
			o->given |= OPT_DIAGNOSTICS;
			if (!strcmp(val, "human"))
				o->diag_format = DF_HUMAN;
			else if (!strcmp(val, "json"))
				o->diag_format = DF_JSON;
			else if (!strcmp(val, "github"))
				o->diag_format = DF_GITHUB;
			else
				return usage_error("unknown diagnostics format `%s` (human, json, github)", val);
		} else if (opt == OPT_FORMAT) {
			o->format = val;
			o->given |= OPT_FORMAT;
		} else if (opt == OPT_DUMP) {
			o->given |= OPT_DUMP;
			if (strcmp(val, "model") && strcmp(val, "files"))
				return usage_error("unknown dump `%s` (model, files)", val);
			o->dump = val;
		} else if (set_flag(o, a)) {
			/* --check, --included, --markdown, --fail-over-budget */
		} else if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
			o->help = true; /* `platformc -h check` as `platformc check -h` */
		} else if (!strcmp(a, "--version") || !strcmp(a, "-V")) {
			o->verb = "version";
		} else if (a[0] == '-' && a[1]) {
			return usage_error("unknown option `%s`", a);
		} else if (!o->verb) {
			o->verb = a;
		} else if (!o->file && !o->code) {
			const Verb *v = find_verb(o->verb);
			if (v && !(v->options & OPT_FILE) && *v->args) { /* explain CODE|KIND */
				o->code = a;
			} else {
				o->file = a;
				o->given |= OPT_FILE;
			}
		} else {
			return usage_error("unexpected argument `%s`", a);
		}
	}
	if (o->help && !o->verb)
		o->verb = "help";
	if (!o->file)
		o->file = "platform.yaml";
	return 0;
}

/* An option the verb does not use is a mistake on the command line (a
 * `graph -o x` that silently writes nothing helps nobody): say so. So is a
 * --format the verb does not have; the verb's first format is the default. */
static int check_options(const Verb *v, Options *o)
{
	for (size_t k = 0; k < ARRAY_LEN(options); k++)
		if ((o->given & options[k].bit) && !(v->options & options[k].bit)) {
			fprintf(stderr, "platformc: `%s` does not take %s\n", o->verb, options[k].name);
			if (v->help)
				fprintf(stderr, "run `platformc %s --help` for its options\n", o->verb);
			else
				fputs("run `platformc --help` for usage\n", stderr);
			return EXIT_USAGE;
		}
	if (!v->formats[0])
		return 0;
	if (!o->format)
		o->format = v->formats[0];
	for (int f = 0; v->formats[f]; f++)
		if (!strcmp(o->format, v->formats[f]))
			return 0;
	fprintf(stderr, "platformc: unknown %s format `%s` (", o->verb, o->format);
	for (int f = 0; v->formats[f]; f++)
		fprintf(stderr, "%s%s", f ? ", " : "", v->formats[f]);
	fputs(")\nrun `platformc --help` for usage\n", stderr);
	return EXIT_USAGE;
}

/* ------------------------------------------------ verbs without a model */

static int run_version(Options *o)
{
	print_version();
	return EXIT_OK;
}

static int run_explain(Options *o)
{
	return cmd_explain(o->code, o->markdown);
}

static int run_lsp(Options *o)
{
	return cmd_lsp();
}

static int run_watch(Options *o)
{
	return cmd_watch(o->outdir);
}

static int run_schema(Options *o)
{
	if (o->included && o->kind)
		return usage_error("schema: `%s` and `--kind` name two different schemas; give one", "--included");
	Arena *a = arena_new();
	Schema *schema = o->kind ? schema_load_kind(a) : schema_load(a);
	const Catalog *c = o->kind ? NULL : catalog_load_builtin(a);
	if (!o->kind && !c) {
		arena_free(a);
		return EXIT_USAGE;
	}
	StrBuf b;
	sb_init(&b);
	schema_json_emit(schema, c, o->kind ? SCHEMA_KIND : o->included ? SCHEMA_INCLUDED : SCHEMA_PLATFORM, &b);
	fwrite(b.data, 1, b.len, stdout);
	sb_free(&b);
	arena_free(a);
	return EXIT_OK;
}

/* ---- `completion bash`: the completion made from the tables above ---- */

/* explain's argument: the built-in kinds a platform may use (diagnostic
 * codes are too many to offer). */
static const char *kind_words(Arena *a)
{
	const Catalog *c = catalog_load_builtin(a);
	StrBuf b;
	sb_init(&b);
	for (int i = 0; c && i < c->n; i++)
		sb_printf(&b, "%s%s", i ? " " : "", c->kinds[i]->name);
	const char *w = arena_strdup(a, b.data ? b.data : "");
	sb_free(&b);
	return w;
}

static const char *shell_words(Arena *a)
{
	return "bash";
}

/* The spellings of the options in `bits`, in the table's order. */
static void put_spellings(FILE *f, unsigned bits)
{
	for (size_t k = 0; k < ARRAY_LEN(options); k++)
		if ((bits & options[k].bit) && options[k].spellings)
			fprintf(f, "%s ", options[k].spellings);
}

/* `name) COMPREPLY=($(compgen -W "words" -- "$cur")) ;;` */
static void put_case(FILE *f, const char *indent, const char *name, const char *words, const char *tail)
{
	fprintf(f, "%s%s) COMPREPLY=($(compgen -W \"%s\" -- \"$cur\"))%s ;;\n", indent, name, words, tail);
}

/* The bash completion: the verb before the cursor (an option's value is
 * skipped), then the value of the option just typed, else the verbs, else
 * the verb's options, else its argument. */
static void print_completion_bash(Arena *a, FILE *f)
{
	fputs("# bash completion for platformc, printed by `platformc completion bash` from its\n"
	      "# table of commands and options. Source it (source <(platformc completion bash)),\n"
	      "# or install it as $(PREFIX)/share/bash-completion/completions/platformc\n"
	      "# (`make install` does).\n"
	      "_platformc()\n"
	      "{\n"
	      "\tlocal cur prev verb i\n"
	      "\tcur=${COMP_WORDS[COMP_CWORD]}\n"
	      "\tprev=${COMP_WORDS[COMP_CWORD-1]}\n"
	      "\tverb=\n"
	      "\tfor ((i = 1; i < COMP_CWORD; i++)); do\n"
	      "\t\tcase ${COMP_WORDS[i]} in\n"
	      "\t\t",
	      f);
	const char *sep = "";
	for (size_t k = 0; k < ARRAY_LEN(options); k++)
		if (options[k].spellings && options[k].value != OV_NONE) {
			const char *sp = options[k].spellings;
			while (*sp) {
				size_t n = strcspn(sp, " ");
				fprintf(f, "%s%.*s", sep, (int)n, sp);
				sep = " | ";
				sp += n + (sp[n] == ' ');
			}
		}
	fputs(") ((i++)) ;;\n"
	      "\t\t-*) ;;\n"
	      "\t\t*) verb=${COMP_WORDS[i]}; break ;;\n"
	      "\t\tesac\n"
	      "\tdone\n"
	      "\tcase $prev in\n",
	      f);
	for (size_t k = 0; k < ARRAY_LEN(options); k++) {
		if (!options[k].spellings || options[k].value == OV_NONE)
			continue;
		StrBuf pat;
		sb_init(&pat);
		for (const char *sp = options[k].spellings; *sp;) {
			size_t n = strcspn(sp, " ");
			sb_printf(&pat, "%s%.*s", pat.len ? " | " : "", (int)n, sp);
			sp += n + (sp[n] == ' ');
		}
		switch (options[k].value) {
		case OV_WORDS:
			put_case(f, "\t", pat.data, options[k].words, "; return");
			break;
		case OV_DIR:
			fprintf(f, "\t%s) COMPREPLY=($(compgen -d -- \"$cur\")); return ;;\n", pat.data);
			break;
		case OV_FORMAT:
			fprintf(f, "\t%s)\n\t\tcase $verb in\n", pat.data);
			for (size_t v = 0; v < ARRAY_LEN(verbs); v++) {
				if (!verbs[v].formats[0])
					continue;
				StrBuf w;
				sb_init(&w);
				for (int j = 0; verbs[v].formats[j]; j++)
					sb_printf(&w, "%s%s", j ? " " : "", verbs[v].formats[j]);
				put_case(f, "\t\t", verbs[v].name, w.data, "");
				sb_free(&w);
			}
			fputs("\t\tesac\n\t\treturn ;;\n", f);
			break;
		default: /* a value with nothing to offer */
			fprintf(f, "\t%s) return ;;\n", pat.data);
			break;
		}
		sb_free(&pat);
	}
	fputs("\tesac\n"
	      "\tif [ -z \"$verb\" ]; then\n"
	      "\t\tCOMPREPLY=($(compgen -W \"",
	      f);
	for (size_t v = 0; v < ARRAY_LEN(verbs); v++)
		if (verbs[v].synopsis)
			fprintf(f, "%s ", verbs[v].name);
	fputs("--help --version\" -- \"$cur\"))\n"
	      "\t\treturn\n"
	      "\tfi\n"
	      "\tcase $cur in\n"
	      "\t-*)\n"
	      "\t\tcase $verb in\n",
	      f);
	for (size_t v = 0; v < ARRAY_LEN(verbs); v++) {
		if (!verbs[v].synopsis)
			continue;
		fprintf(f, "\t\t%s) COMPREPLY=($(compgen -W \"", verbs[v].name);
		put_spellings(f, verbs[v].options);
		fputs("--help\" -- \"$cur\")) ;;\n", f);
	}
	fputs("\t\t*) COMPREPLY=($(compgen -W \"--help\" -- \"$cur\")) ;;\n"
	      "\t\tesac\n"
	      "\t\treturn ;;\n"
	      "\tesac\n"
	      "\tcase $verb in\n",
	      f);
	sep = "\t";
	for (size_t v = 0; v < ARRAY_LEN(verbs); v++)
		if (verbs[v].synopsis && (verbs[v].options & OPT_FILE)) {
			fprintf(f, "%s%s", sep, verbs[v].name);
			sep = " | ";
		}
	fputs(")\n\t\tCOMPREPLY=($(compgen -f -X '!*.@(yaml|yml)' -- \"$cur\") $(compgen -d -- \"$cur\")) ;;\n", f);
	for (size_t v = 0; v < ARRAY_LEN(verbs); v++)
		if (verbs[v].synopsis && verbs[v].arg_words)
			put_case(f, "\t", verbs[v].name, verbs[v].arg_words(a), "");
	fputs("\tesac\n"
	      "}\n"
	      "complete -F _platformc platformc\n",
	      f);
}

static int run_completion(Options *o)
{
	if (!o->code)
		return usage_error("`completion` needs a shell: `platformc completion %s`", "bash");
	if (strcmp(o->code, "bash"))
		return usage_error("no completion for the shell `%s` (bash)", o->code);
	Arena *a = arena_new();
	print_completion_bash(a, stdout);
	arena_free(a);
	return EXIT_OK;
}

/* ------------------------------------------ verbs of the front end's model */

static void dump_model(const Platform *p)
{
	printf("platform %s (%s)\n", p->name, p->domain);
	for (int i = 0; i < p->nenvs; i++)
		printf("environment %s %s\n", p->envs[i].name, p->envs[i].prod ? "prod" : "nonprod");
	for (int i = 0; i < p->nteams; i++)
		printf("team %s quota cpu=%s memory=%s\n", p->teams[i]->name, p->teams[i]->quota_cpu,
		       p->teams[i]->quota_memory);
	for (int i = 0; i < p->nservices; i++) {
		const Service *s = p->services[i];
		printf("service %s team=%s image=%s\n", s->name, s->team->name, s->image);
		for (int k = 0; k < s->nenvs; k++) {
			const ServiceEnv *e = &s->envs[k];
			printf("  %s replicas=%lld", e->env->name, e->replicas);
			if (e->autoscale)
				printf("..%lld cpu=%lld%%", e->max_replicas, e->cpu_target);
			printf(" requests=%s/%s vars=%d%s%s\n", e->cpu, e->memory, e->nvars,
			       e->ingress_host ? " ingress=" : "", e->ingress_host ? e->ingress_host : "");
		}
	}
	for (int i = 0; i < p->nresources; i++)
		printf("resource %s kind=%s team=%s envs=%d\n", p->resources[i]->name, p->resources[i]->kind,
		       p->resources[i]->team->name, p->resources[i]->nenvs);
}

static int use_check(Options *o, Platform *p, Arena *a)
{
	if (o->dump && !strcmp(o->dump, "model"))
		dump_model(p);
	return EXIT_OK;
}

static int use_cost(Options *o, Platform *p, Arena *a)
{
	return cost_report(p, a, o->format, o->diag_format, use_color(), stdout, o->fail_over_budget);
}

static int use_graph(Options *o, Platform *p, Arena *a)
{
	cmd_graph(p, o->format, stdout);
	return EXIT_OK;
}

/* What a render or `render --check` that went through says: the counts,
 * the lines of `--check`, the writer's warning, and with PLATFORMC_STATS=1
 * how much was skipped (tests, bench); `keyed`: answered by the platform's
 * key (writer_up_to_date). The exit code. */
static int render_report(const Options *o, Arena *a, const WriterReport *rep, int nunits, int units_kept,
			 int nfiles, bool keyed)
{
	int rc = EXIT_OK;
	if (o->check_only) {
		for (int i = 0; i < rep->nlines; i++)
			printf("%s\n", rep->lines[i]);
		if (rep->nlines) {
			fprintf(stderr, "platformc: `%s` is out of date: %d added, %d changed, %d stale; "
					"run `platformc render` and commit the result\n",
				o->outdir, rep->added, rep->changed, rep->removed);
			rc = EXIT_OUT_OF_DATE;
		} else {
			fprintf(stderr, "platformc: `%s` is up to date (%d files)\n", o->outdir, rep->unchanged);
		}
	} else {
		fprintf(stderr, "platformc: wrote %s: %d added, %d changed, %d removed, %d unchanged\n", o->outdir,
			rep->added, rep->changed, rep->removed, rep->unchanged);
	}
	if (rc == 0 && rep->warning)
		fprintf(stderr, "platformc: warning: %s\n", rep->warning);
	const char *stats = getenv("PLATFORMC_STATS");
	if (rc == 0 && stats && !strcmp(stats, "1"))
		fprintf(stderr, "platformc: stats: %d units, %d kept; %d files, %d vouched, %d kept%s; %s\n",
			nunits, units_kept, nfiles, rep->vouched, rep->kept, keyed ? " (the platform's key)" : "",
			rep->watched == -1 ? "no watcher" : rep->watched == -2 ? "watcher: all"
						: arena_sprintf(a, "%d watched", rep->watched));
	return rc;
}

/* render and diff: the back ends into a file set; render hands each file to
 * the writer as a backend adds it (writer.c, writer_disk.c), diff compares the set with the
 * tree on disk. */
static int use_files(Options *o, Platform *p, Arena *a, bool render)
{
	if (o->dump && !strcmp(o->dump, "model")) {
		dump_model(p);
		return EXIT_OK;
	}
	FileSet fs;
	fileset_init(&fs, a);
	char err[512] = "";
	Writer *w = NULL;
	if (render && !o->dump) {
		WriterMode mode = o->check_only ? WR_CHECK : WR_WRITE;
		/* the same platform, and a watcher that saw nothing change in the
		 * tree: no backend needs to run (writer_up_to_date) */
		uint64_t key = unitkey_platform(&fs, p);
		int nfiles = 0, nunits = 0;
		if (writer_up_to_date(o->outdir, mode, key, &nfiles, &nunits)) {
			WriterReport rep = { .unchanged = nfiles, .vouched = nfiles, .kept = nfiles,
					     .watched = nfiles };
			int rc = render_report(o, a, &rep, nunits, nunits, nfiles, true);
			fileset_free(&fs);
			return rc;
		}
		w = writer_begin(&fs, o->outdir, mode, err, sizeof err);
		if (writer_failed(w)) {
			writer_end(w, NULL, NULL);
			fprintf(stderr, "platformc: %s\n", err);
			fileset_free(&fs);
			return EXIT_USAGE;
		}
		writer_set_key(w, key);
	}

	/* back ends: pure functions into the file set */
	progress_phase(arena_sprintf(a, "%s %s", o->check_only ? "comparing" : "rendering", o->outdir), &fs.n);
	for (int i = 0; i < nbackends; i++)
		backends[i](p, &fs);
	if (!w)
		fileset_sort(&fs);
	if (o->dump) { /* files */
		for (int i = 0; i < fs.n; i++)
			printf("%s (%zu bytes)\n", fs.files[i].path, fs.files[i].len);
		fileset_free(&fs);
		return EXIT_OK;
	}
	if (!render) {
		if (writer_pending(o->outdir, err, sizeof err)) { /* a render stopped half-way: finish it first */
			fprintf(stderr, "platformc: %s\n", err);
			fileset_free(&fs);
			return EXIT_USAGE;
		}
		cmd_diff(&fs, p, o->outdir, o->format, stdout);
		fileset_free(&fs);
		return EXIT_OK;
	}

	/* the writer: the only code that touches the disk */
	WriterReport rep = {0};
	progress_phase(arena_sprintf(a, "finishing %s", o->outdir), &fs.n);
	int rc = writer_end(w, &fs, &rep);
	progress_stop();
	if (rc != 0) {
		fprintf(stderr, "platformc: %s\n", err);
		rc = EXIT_USAGE;
	} else {
		rc = render_report(o, a, &rep, fs.nounits, fs.units_kept, fs.n, false);
	}
	writer_report_free(&rep);
	fileset_free(&fs);
	return rc;
}

static int use_render(Options *o, Platform *p, Arena *a)
{
	return use_files(o, p, a, true);
}

static int use_diff(Options *o, Platform *p, Arena *a)
{
	return use_files(o, p, a, false);
}

/* The front end (source, check, lower, resolve), then the verb's handler. */
static int run_front(const Verb *v, Options *o)
{
	Arena *a = arena_new();
	Schema *schema = schema_load(a);
	Diags d;
	diags_init(&d, a);
	progress_start(progress_wanted(o->diag_format == DF_HUMAN) && !o->dump && v->progress);
	progress_phase(arena_sprintf(a, "checking %s", o->file), NULL);
	Platform *p = lower_load(a, schema, &d, o->file);
	progress_clear();
	bool io_error = false;
	for (int i = 0; i < d.n; i++)
		io_error |= !strcmp(d.items[i]->code, "E0001") && !d.items[i]->span.file;
	if (d.n || o->diag_format == DF_JSON)
		diags_print(&d, o->diag_format, use_color(), stderr);
	int rc = !p ? io_error ? EXIT_USAGE : EXIT_INPUT_ERRORS : v->use(o, p, a);
	arena_free(a);
	return rc;
}

int main(int argc, char **argv)
{
	Options o = {0};
	int rc = parse_args(argc, argv, &o);
	if (rc)
		return rc;
	if (!o.verb || !strcmp(o.verb, "help")) {
		print_usage(o.verb ? stdout : stderr);
		return o.verb ? EXIT_OK : EXIT_USAGE;
	}
	const Verb *v = find_verb(o.verb);
	if (!v)
		return usage_error("unknown command `%s`", o.verb);
	if (o.help && v->help) {
		print_verb_help(v);
		return EXIT_OK;
	}
	if ((rc = check_options(v, &o)) != 0)
		return rc;
	return v->run ? v->run(&o) : run_front(v, &o);
}
