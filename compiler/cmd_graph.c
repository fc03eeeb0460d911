/*
 * cmd_graph.c — `platformc graph`: the platform as a picture. Teams own
 * systems, services and resources; services belong to a system, call other
 * services and use resources; a resource belongs to the system of its users
 * when they agree, may be shared with other teams, and an SNS topic delivers
 * to the SQS queues it subscribes. Output is Graphviz dot or Mermaid, in
 * model order (deterministic).
 *
 * The edges are those of the Backstage catalog (backend_backstage.c: owner,
 * system, dependsOn, consumesApis), plus `shared_with`, which Backstage has
 * no relation for; tests/graph/run.sh compares the two sets.
 */
#include "platformc.h"

#include <stdio.h>
#include <string.h>

/* Node ids: a kind prefix and the name with anything but [A-Za-z0-9_] as '_'. */
static void put_id(FILE *o, const char *kind, const char *name)
{
	fprintf(o, "%s_", kind);
	for (const char *c = name; *c; c++) {
		bool ok = (*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9');
		fputc(ok ? *c : '_', o);
	}
}

static void edge(FILE *o, bool dot, const char *k1, const char *n1, const char *k2, const char *n2,
		 const char *label, bool dashed)
{
	fputs("  ", o);
	put_id(o, k1, n1);
	if (dot) {
		fputs(" -> ", o);
		put_id(o, k2, n2);
		fprintf(o, " [label=\"%s\"%s];\n", label, dashed ? ", style=dashed" : "");
	} else {
		fprintf(o, " %s|%s| ", dashed ? "-.->" : "-->", label);
		put_id(o, k2, n2);
		fputc('\n', o);
	}
}

static void node(FILE *o, bool dot, const char *kind, const char *name, const char *caption,
		 const char *shape)
{
	fputs("  ", o);
	put_id(o, kind, name);
	if (dot)
		fprintf(o, " [label=\"%s\\n%s\", shape=%s];\n", caption, name, shape);
	else if (!strcmp(shape, "cylinder"))
		fprintf(o, "[(\"%s: %s\")]\n", caption, name);
	else if (!strcmp(shape, "ellipse"))
		fprintf(o, "([\"%s: %s\"])\n", caption, name);
	else if (!strcmp(shape, "folder"))
		fprintf(o, "[/\"%s: %s\"/]\n", caption, name);
	else
		fprintf(o, "[\"%s: %s\"]\n", caption, name);
}

/* The declared system of a resource's users when they all agree (services
 * without a system count as the platform's own, which is not drawn), as the
 * Backstage catalog says; else NULL. */
static const System *resource_system(const Platform *p, const Resource *r)
{
	const System *sys = NULL;
	bool any = false;
	for (int i = 0; i < p->nservices; i++) {
		const Service *s = p->services[i];
		for (int k = 0; k < s->nuses; k++) {
			if (s->uses[k] != r)
				continue;
			if (any && s->system != sys)
				return NULL;
			sys = s->system, any = true;
			break;
		}
	}
	return sys;
}

void cmd_graph(const Platform *p, const char *format, FILE *o)
{
	bool dot = strcmp(format, "mermaid") != 0;
	if (dot)
		fprintf(o, "digraph \"%s\" {\n  rankdir=LR;\n  node [fontname=\"Helvetica\", fontsize=10];\n"
			   "  edge [fontname=\"Helvetica\", fontsize=8];\n", p->name);
	else
		fputs("flowchart LR\n", o);
	for (int i = 0; i < p->nteams; i++)
		node(o, dot, "team", p->teams[i]->name, "team", "box");
	for (int i = 0; i < p->nsystems; i++)
		node(o, dot, "system", p->systems[i]->name, "system", "folder");
	for (int i = 0; i < p->nservices; i++)
		node(o, dot, "service", p->services[i]->name, "service", "ellipse");
	for (int i = 0; i < p->nresources; i++)
		node(o, dot, "resource", p->resources[i]->name, p->resources[i]->kind, "cylinder");
	for (int i = 0; i < p->nsystems; i++)
		if (p->systems[i]->owner)
			edge(o, dot, "team", p->systems[i]->owner->name, "system", p->systems[i]->name, "owner",
			     false);
	for (int i = 0; i < p->nservices; i++) {
		const Service *s = p->services[i];
		edge(o, dot, "team", s->team->name, "service", s->name, "owner", false);
		if (s->system)
			edge(o, dot, "system", s->system->name, "service", s->name, "part of", true);
		for (int k = 0; k < s->ncalls; k++)
			edge(o, dot, "service", s->name, "service", s->calls[k]->name, "calls", false);
		for (int k = 0; k < s->nuses; k++)
			edge(o, dot, "service", s->name, "resource", s->uses[k]->name, "uses", false);
	}
	for (int i = 0; i < p->nresources; i++) {
		const Resource *r = p->resources[i];
		edge(o, dot, "team", r->team->name, "resource", r->name, "owner", false);
		const System *sys = resource_system(p, r);
		if (sys)
			edge(o, dot, "system", sys->name, "resource", r->name, "part of", true);
		for (int k = 0; k < r->nshared; k++)
			edge(o, dot, "resource", r->name, "team", r->shared_with[k]->name, "shared_with", true);
		/* an SNS topic's SQS subscriptions: the data flows topic -> queue */
		const Node *subs = node_get(r->params, "subscriptions");
		for (int k = 0; subs && subs->kind == N_SEQ && k < subs->n; k++) {
			const Node *proto = node_get(subs->items[k], "protocol"), *q = node_get(subs->items[k], "resource");
			if (!proto || !q || proto->kind != N_SCALAR || q->kind != N_SCALAR || strcmp(proto->text, "sqs"))
				continue;
			for (int j = 0; j < p->nresources; j++)
				if (!strcmp(p->resources[j]->name, q->text))
					edge(o, dot, "resource", r->name, "resource", q->text, "subscription", false);
		}
	}
	if (dot)
		fputs("}\n", o);
}
