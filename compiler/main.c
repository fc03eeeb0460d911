/*
 * main.c — the command line. It reads like the pipeline:
 *
 *   source -> check -> lower -> resolve      (lower_load)
 *   backends -> file set                      (the table below)
 *   writer                                    (writer_begin/add/end)
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
	const char *format;
	const char *dump;
	const char *code;      /* explain: a diagnostic code or a resource kind */
	bool help;             /* VERB --help */
	bool markdown;         /* explain --markdown */
	bool included;         /* schema --included */
	unsigned given;        /* OPT_* bits: the options on the command line */
} Options;

enum { OPT_OUTPUT = 1, OPT_FORMAT = 2, OPT_CHECK = 4, OPT_DUMP = 8, OPT_DIAGNOSTICS = 16, OPT_FILE = 32,
       OPT_MARKDOWN = 64, OPT_INCLUDED = 128, OPT_MAXDIAG = 256, OPT_FAIL_BUDGET = 512 };

static const char usage[] =
	"usage: platformc <command> [options]\n"
	"\n"
	"commands:\n"
	"  check  [FILE]                 parse and type-check; write nothing\n"
	"  render [FILE] [-o DIR]        write the output tree (default DIR: out)\n"
	"  render [FILE] [-o DIR] --check   compare only; list what differs; write nothing\n"
	"  cost   [FILE] [--format text|json] [--fail-over-budget]   estimated monthly cost vs budgets\n"
	"  diff   [FILE] [-o DIR] [--format text|markdown]   objects a render would change\n"
	"  graph  [FILE] [--format dot|mermaid]   teams, services, resources and their edges\n"
	"  schema [--included]           print the JSON Schema of platform.yaml, or of the files\n"
	"                                it includes (for editors)\n"
	"  explain CODE|KIND             explain a diagnostic code (E0201) or a resource kind's\n"
	"                                parameters (sqs); `explain --markdown`: every kind\n"
	"  lsp                           a Language Server Protocol server on stdin/stdout (editors)\n"
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
	printf("libfyaml %s\nlibyaml %s\npcre2 %s\njsmn (header-only)\n", fy_library_version(),
	       yaml_get_version_string(), pcre);
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

static int parse_args(int argc, char **argv, Options *o)
{
	const char *gha = getenv("GITHUB_ACTIONS");
	o->diag_format = gha && strcmp(gha, "true") == 0 ? DF_GITHUB : DF_HUMAN;
	o->outdir = "out";
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		const char *val = NULL;
		if (!strcmp(a, "-o") || !strcmp(a, "--output") || !strcmp(a, "--diagnostics") ||
		    !strcmp(a, "--format") || !strcmp(a, "--dump") || !strcmp(a, "--max-diagnostics")) {
			if (i + 1 >= argc)
				return usage_error("option `%s` needs a value", a);
			val = argv[++i];
		} else if (!strncmp(a, "--diagnostics=", 14) || !strncmp(a, "--format=", 9) ||
			   !strncmp(a, "--dump=", 7) || !strncmp(a, "--output=", 9) ||
			   !strncmp(a, "--max-diagnostics=", 18)) {
			val = strchr(a, '=') + 1;
		}
		if (!strcmp(a, "-o") || !strncmp(a, "--output", 8)) {
			o->outdir = val;
			o->given |= OPT_OUTPUT;
		} else if (!strncmp(a, "--max-diagnostics", 17)) {
			char *end;
			long n = strtol(val, &end, 10);
			if (!*val || *end || n < 0 || n > 1000000)
				return usage_error("`--max-diagnostics` takes a count (0 = all), not `%s`", val);
			diags_set_limit((int)n);
			o->given |= OPT_MAXDIAG;
		} else if (!strncmp(a, "--diagnostics", 13)) {
			o->given |= OPT_DIAGNOSTICS;
			if (!strcmp(val, "human"))
				o->diag_format = DF_HUMAN;
			else if (!strcmp(val, "json"))
				o->diag_format = DF_JSON;
			else if (!strcmp(val, "github"))
				o->diag_format = DF_GITHUB;
			else
				return usage_error("unknown diagnostics format `%s` (human, json, github)", val);
		} else if (!strncmp(a, "--format", 8)) {
			o->format = val;
			o->given |= OPT_FORMAT;
		} else if (!strncmp(a, "--dump", 6)) {
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
			if (!strcmp(o->verb, "explain")) {
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
 * `graph -o x` that silently writes nothing helps nobody): say so. */
static int check_options(const Options *o)
{
	static const struct {
		const char *verb;
		unsigned ok;
	} verbs[] = {
		{"check", OPT_FILE | OPT_DIAGNOSTICS | OPT_DUMP | OPT_MAXDIAG},
		{"render", OPT_FILE | OPT_DIAGNOSTICS | OPT_DUMP | OPT_OUTPUT | OPT_CHECK | OPT_MAXDIAG},
		{"cost", OPT_FILE | OPT_DIAGNOSTICS | OPT_FORMAT | OPT_MAXDIAG | OPT_FAIL_BUDGET},
		{"diff", OPT_FILE | OPT_DIAGNOSTICS | OPT_OUTPUT | OPT_FORMAT | OPT_MAXDIAG},
		{"graph", OPT_FILE | OPT_DIAGNOSTICS | OPT_FORMAT | OPT_MAXDIAG},
		{"schema", OPT_INCLUDED},
		{"explain", OPT_MARKDOWN},
		{"lsp", 0},
		{"version", 0},
		{"help", 0},
	};
	static const struct {
		unsigned bit;
		const char *name;
	} names[] = {{OPT_OUTPUT, "-o"},     {OPT_FORMAT, "--format"},          {OPT_CHECK, "--check"},
		     {OPT_DUMP, "--dump"}, {OPT_DIAGNOSTICS, "--diagnostics"}, {OPT_FILE, "a FILE argument"},
		     {OPT_MARKDOWN, "--markdown"}, {OPT_INCLUDED, "--included"}, {OPT_MAXDIAG, "--max-diagnostics"},
		     {OPT_FAIL_BUDGET, "--fail-over-budget"}};
	for (size_t v = 0; v < sizeof verbs / sizeof verbs[0]; v++) {
		if (strcmp(verbs[v].verb, o->verb))
			continue;
		for (size_t k = 0; k < sizeof names / sizeof names[0]; k++)
			if ((o->given & names[k].bit) && !(verbs[v].ok & names[k].bit)) {
				fprintf(stderr, "platformc: `%s` does not take %s\n", o->verb, names[k].name);
				if (verb_help(o->verb))
					fprintf(stderr, "run `platformc %s --help` for its options\n", o->verb);
				else
					fputs("run `platformc --help` for usage\n", stderr);
				return EXIT_USAGE;
			}
	}
	return 0;
}

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

/* One piece on purpose: it reads like the pipeline picture of docs/architecture.md §1. */
int main(int argc, char **argv)
{
	Options o = {0};
	int rc = parse_args(argc, argv, &o);
	if (rc)
		return rc;
	if (!o.verb || !strcmp(o.verb, "help")) {
		fputs(usage, o.verb ? stdout : stderr);
		return o.verb ? EXIT_OK : EXIT_USAGE;
	}
	if (o.help && verb_help(o.verb)) {
		fputs(verb_help(o.verb), stdout);
		return EXIT_OK;
	}
	if ((rc = check_options(&o)) != 0)
		return rc;
	if (!strcmp(o.verb, "version")) {
		print_version();
		return EXIT_OK;
	}
	if (!strcmp(o.verb, "explain"))
		return cmd_explain(o.code, o.markdown);
	if (!strcmp(o.verb, "lsp") && o.help) {
		fputs("usage: platformc lsp\n\nA Language Server Protocol server on stdin/stdout for editors: the diagnostics\n"
		      "of `check` as you type, definition, references, completion, hover, rename.\n"
		      "See docs/guide.md §8.1 for VS Code, Neovim and Helix.\n", stdout);
		return EXIT_OK;
	}
	if (!strcmp(o.verb, "lsp"))
		return cmd_lsp();

	Arena *a = arena_new();
	Schema *schema = schema_load(a);
	if (!strcmp(o.verb, "schema")) {
		const Catalog *c = catalog_builtin(a);
		if (!c) {
			arena_free(a);
			return EXIT_USAGE;
		}
		StrBuf b;
		sb_init(&b);
		schema_emit_json(schema, c, o.included, &b);
		fwrite(b.data, 1, b.len, stdout);
		sb_free(&b);
		arena_free(a);
		return EXIT_OK;
	}
	if (strcmp(o.verb, "check") && strcmp(o.verb, "render") && strcmp(o.verb, "cost") &&
	    strcmp(o.verb, "graph") && strcmp(o.verb, "diff")) {
		arena_free(a);
		return usage_error("unknown command `%s`", o.verb);
	}

	/* front end: source, check, lower, resolve */
	Diags d;
	diags_init(&d, a);
	progress_start(progress_wanted(o.diag_format == DF_HUMAN) && !o.dump &&
		       (!strcmp(o.verb, "check") || !strcmp(o.verb, "render")));
	progress_phase(arena_sprintf(a, "checking %s", o.file), NULL);
	Platform *p = lower_load(a, schema, &d, o.file);
	progress_clear();
	bool io_error = false;
	for (int i = 0; i < d.n; i++)
		io_error |= !strcmp(d.items[i]->code, "E0001") && !d.items[i]->span.file;
	if (d.n || o.diag_format == DF_JSON)
		diags_print(&d, o.diag_format, use_color(), stderr);
	if (!p) {
		arena_free(a);
		return io_error ? EXIT_USAGE : EXIT_INPUT_ERRORS;
	}
	if (o.dump && !strcmp(o.dump, "model")) {
		dump_model(p);
		arena_free(a);
		return EXIT_OK;
	}
	if (!strcmp(o.verb, "check")) {
		arena_free(a);
		return EXIT_OK;
	}
	if (!strcmp(o.verb, "cost")) {
		rc = cost_report(p, a, o.format, o.diag_format, use_color(), stdout, o.fail_over_budget);
		arena_free(a);
		return rc;
	}
	if (!strcmp(o.verb, "graph")) {
		rc = cmd_graph(p, o.format, stdout);
		arena_free(a);
		return rc ? usage_error("unknown graph format `%s` (dot, mermaid)", o.format) : EXIT_OK;
	}

	/* render: the writer takes each file as a backend adds it (writer.c) */
	FileSet fs;
	fileset_init(&fs, a);
	char err[512] = "";
	Writer *w = NULL;
	if (!strcmp(o.verb, "render") && !o.dump) {
		w = writer_begin(&fs, o.outdir, o.check_only ? WR_CHECK : WR_WRITE, err, sizeof err);
		if (writer_failed(w)) {
			writer_end(w, NULL, NULL);
			fprintf(stderr, "platformc: %s\n", err);
			fileset_free(&fs);
			arena_free(a);
			return EXIT_USAGE;
		}
	}

	/* back ends: pure functions into the file set */
	progress_phase(arena_sprintf(a, "%s %s", o.check_only ? "comparing" : "rendering", o.outdir), &fs.n);
	for (int i = 0; i < nbackends; i++)
		backends[i].run(p, &fs);
	if (!w)
		fileset_sort(&fs);
	if (o.dump && !strcmp(o.dump, "files")) {
		for (int i = 0; i < fs.n; i++)
			printf("%s (%zu bytes)\n", fs.files[i].path, fs.files[i].len);
		fileset_free(&fs);
		arena_free(a);
		return EXIT_OK;
	}

	if (!strcmp(o.verb, "diff")) {
		rc = cmd_diff(&fs, p, o.outdir, o.format, stdout);
		fileset_free(&fs);
		arena_free(a);
		return rc ? usage_error("unknown diff format `%s` (text, markdown)", o.format) : EXIT_OK;
	}

	/* the writer: the only code that touches the disk */
	WriterReport rep = {0};
	progress_phase(arena_sprintf(a, "finishing %s", o.outdir), &fs.n);
	rc = writer_end(w, &fs, &rep);
	progress_stop();
	if (rc != 0) {
		fprintf(stderr, "platformc: %s\n", err);
		rc = EXIT_USAGE;
	} else if (o.check_only) {
		for (int i = 0; i < rep.nlines; i++)
			printf("%s\n", rep.lines[i]);
		if (rep.nlines) {
			fprintf(stderr, "platformc: `%s` is out of date: %d added, %d changed, %d stale; "
					"run `platformc render` and commit the result\n",
				o.outdir, rep.added, rep.changed, rep.removed);
			rc = EXIT_OUT_OF_DATE;
		} else {
			fprintf(stderr, "platformc: `%s` is up to date (%d files)\n", o.outdir, rep.unchanged);
		}
	} else {
		fprintf(stderr, "platformc: wrote %s: %d added, %d changed, %d removed, %d unchanged\n", o.outdir,
			rep.added, rep.changed, rep.removed, rep.unchanged);
	}
	if (rc == 0 && rep.warning)
		fprintf(stderr, "platformc: warning: %s\n", rep.warning);
	/* PLATFORMC_STATS=1: how much of the render was skipped (tests, bench) */
	const char *stats = getenv("PLATFORMC_STATS");
	if (rc == 0 && stats && !strcmp(stats, "1"))
		fprintf(stderr, "platformc: stats: %d units, %d kept; %d files, %d vouched, %d kept\n", fs.nounits,
			fs.units_kept, fs.n, rep.vouched, rep.kept);
	writer_report_free(&rep);
	fileset_free(&fs);
	arena_free(a);
	return rc;
}
