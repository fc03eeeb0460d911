#!/usr/bin/env python3
"""compare.py GRAPH.dot CATALOG_DIR — the edges of `platformc graph` against
the relations of the Backstage catalog rendered from the same platform.

Backstage relations, as edges among teams, systems, services and resources:
  spec.owner                        team -> X         "owner"
  spec.system (Component, Resource) system -> X       "part of"
  Component dependsOn resource:R    service -> R      "uses"
  Component dependsOn component:C,
  Component consumesApis api:A      service -> C/A    "calls"   (an API is its service)
  Resource dependsOn resource:Q     topic -> queue    "subscription"
The graph must have exactly these, plus `shared_with` (no Backstage relation).
The platform's own System (services of no declared system) is not drawn: an
edge to it must be to the system named like the platform. Users and API
entities are not drawn (their relations repeat their team's and service's).
Prints the differences; exits 1 when there are any."""
import glob, os, re, sys
import yaml

dot, catalog, platform_name = sys.argv[1], sys.argv[2], sys.argv[3]

def ident(kind, name):
    return kind + "_" + re.sub(r"[^A-Za-z0-9]", "_", name)

graph, shared = set(), 0
for line in open(dot):
    m = re.match(r'\s+(\S+) -> (\S+) \[label="([^"]+)"', line)
    if not m:
        continue
    a, b, label = m.groups()
    if label == "shared_with":
        shared += 1
        continue
    graph.add((a, label, b))
nodes = set(re.findall(r"^\s+(\w+) \[label=", open(dot).read(), re.M))

def ref(r):
    kind, _, rest = r.partition(":")
    return kind, rest.split("/")[-1]

rel, implicit = set(), set()
for path in sorted(glob.glob(os.path.join(catalog, "**", "*.yaml"), recursive=True)):
    if "/templates/" in path:
        continue
    for e in yaml.safe_load_all(open(path)):
        if not isinstance(e, dict) or not str(e.get("apiVersion", "")).startswith("backstage.io/"):
            continue
        kind, name, spec = e.get("kind"), e["metadata"]["name"], e.get("spec") or {}
        me = {"Component": "service", "Resource": "resource", "System": "system"}.get(kind)
        if not me:
            continue
        if "owner" in spec:
            rel.add((ident("team", ref(spec["owner"])[1]), "owner", ident(me, name)))
        if kind in ("Component", "Resource") and "system" in spec:
            s = ident("system", ref(spec["system"])[1])
            if s in nodes:
                rel.add((s, "part of", ident(me, name)))
            else:
                implicit.add(ref(spec["system"])[1])
        for d in spec.get("dependsOn", []):
            k, n = ref(d)
            if kind == "Component":
                rel.add((ident(me, name), "uses" if k == "resource" else "calls", ident("service" if k == "component" else k, n)))
            elif kind == "Resource" and k == "resource":
                rel.add((ident(me, name), "subscription", ident("resource", n)))
        for a in spec.get("consumesApis", []):
            rel.add((ident(me, name), "calls", ident("service", ref(a)[1])))
        if kind == "System" and ident("system", name) not in nodes:
            implicit.add(name)
            rel.discard((ident("team", ref(spec["owner"])[1]), "owner", ident("system", name)))

bad = False
for e in sorted(rel - graph):
    print("  in Backstage, not in the graph: %s -[%s]-> %s" % (e[0], e[1], e[2])); bad = True
for e in sorted(graph - rel):
    print("  in the graph, not in Backstage: %s -[%s]-> %s" % (e[0], e[1], e[2])); bad = True
if implicit - {platform_name}:
    print("  Backstage systems not drawn: %s" % sorted(implicit - {platform_name})); bad = True
if not rel:
    print("  no Backstage relations found"); bad = True
print("  %d edges compared, %d shared_with" % (len(rel), shared))
sys.exit(1 if bad else 0)
