/*
 * cmd_help.c — `platformc VERB --help`: one screen per verb.
 */
#include "platformc.h"

#include <string.h>

static const struct {
	const char *verb, *text;
} helps[] = {
	{"check", "usage: platformc check [FILE] [--diagnostics human|json|github]\n\n"
		  "Parse and type-check FILE (default platform.yaml) and its includes; write nothing.\n"
		  "Exit status: 0 no errors, 1 errors were reported, 2 usage or I/O error.\n"},
	{"render", "usage: platformc render [FILE] [-o DIR] [--check] [--diagnostics FORMAT]\n\n"
		   "Write the output tree of FILE into DIR (default out). Files platformc does not own\n"
		   "are left alone; stale files it wrote before are removed.\n"
		   "  --check   write nothing; list what differs; exit 3 if DIR is out of date\n"},
	{"cost", "usage: platformc cost [FILE] [--format text|json] [--fail-over-budget]\n\n"
		 "Print the estimated monthly cost (USD, list prices of the catalog's cost models)\n"
		 "of every resource in every environment, per team and per environment, against\n"
		 "each team's `budget` (warning W0310 when over). Kinds billed by use show `usage`.\n"
		 "Prices of another region than `platform.cloud.region` are a warning (W0340).\n"
		 "  --fail-over-budget   exit 1 when a team is over its budget (CI)\n"
		 "Writes nothing. Exit status: 0, or 1 when the input has errors.\n"},
	{"diff", "usage: platformc diff [FILE] [-o DIR] [--format text|markdown]\n\n"
		 "Show what `platformc render` would change in DIR (default out), as Kubernetes\n"
		 "objects (apiVersion/kind/namespace/name) added, changed or removed, grouped by team\n"
		 "and family (top folder). Changed objects list the fields that differ. Writes\n"
		 "nothing; exit 0. markdown suits $GITHUB_STEP_SUMMARY or a pull-request comment.\n"},
	{"graph", "usage: platformc graph [FILE] [--format dot|mermaid]\n\n"
		  "Print teams, systems, services and resources with their edges (owner, part of,\n"
		  "calls, uses, shared_with) as Graphviz dot (default) or a Mermaid flowchart.\n"
		  "  platformc graph | dot -Tsvg > platform.svg\n"},
	{"schema", "usage: platformc schema [--included]\n\n"
		   "Print the JSON Schema (draft-07) of platform.yaml, for editors: a resource's `kind`\n"
		   "is one of the built-in kinds and its `params` are typed per kind (also under\n"
		   "`overrides.<env>.params` and `defaults.resources.<kind>`). Published as\n"
		   "docs/platform.schema.json; guide §8 shows how to point an editor at it.\n"
		   "  --included   the schema of a file platform.yaml includes\n"
		   "               (docs/platform-included.schema.json)\n"},
	{"explain", "usage: platformc explain CODE|KIND\n"
		    "       platformc explain --markdown [KIND]\n\n"
		    "Print the long explanation of a diagnostic code (`platformc explain E0201`), or the\n"
		    "parameters of a built-in resource kind (`platformc explain sqs`): each parameter's\n"
		    "type, default (per environment tier), allowed values and description, and the\n"
		    "kind's rules. An unknown name exits 2 with a did-you-mean.\n"
		    "  --markdown   the kind's reference as Markdown; without KIND, every built-in kind\n"
		    "               (the generated section of docs/catalog.md)\n"},
};

const char *verb_help(const char *verb)
{
	for (size_t i = 0; i < sizeof helps / sizeof helps[0]; i++)
		if (!strcmp(helps[i].verb, verb))
			return helps[i].text;
	return NULL;
}
