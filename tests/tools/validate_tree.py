#!/usr/bin/env python3
"""validate_tree.py - offline schema + convention validator for platformc output trees.

Usage:
    python3 tests/tools/validate_tree.py [--schemas DIR] [--quiet] [--count-by-kind]
                                         [--allow-unknown GROUP]... ROOT...

Walks every *.yaml / *.yml / *.json file under each ROOT (hidden files and directories are
skipped), reads every YAML document with PyYAML (a YAML 1.1 reader, on purpose: the output must
be read correctly by 1.1 readers such as kubectl's/Argo CD's go-yaml v2 heritage) and validates
each object against the offline JSON Schemas in tests/schemas (see its README.md).

Schema selection (apiVersion "group/version", kind):
  * core groups ("" / apps / autoscaling / policy / batch / *.k8s.io)
        -> kubernetes/v1.35-standalone-strict/<kind>[-<groupprefix>]-<version>.json
           (groupprefix = first dot-component of the group; none for core v1)
  * kustomize.config.k8s.io Kustomization (and any kustomization.yaml|yml|Kustomization file)
        -> schemastore/kustomization.json
  * backstage.io/<v> <Kind>        -> backstage-catalog-model/kinds/<Kind>.v1alpha1 (by $id, after
    resolving $text/$json/$yaml placeholders to text as the catalog does at ingestion;
    scaffolder.backstage.io/v1beta3 Template -> TemplateV1beta3; all Backstage files in one registry)
  * v1 Pod -> the pod template (spec.template) of deployment-apps-v1.json, with apiVersion/kind
  * other groups -> first existing of datreeio-CRDs-catalog/, provider-upjet-aws/,
        function-patch-and-transform/, argo-rollouts/, kubernetes-autoscaler/, kyverno-cli/
        <group>/<kind lower>_<version>.json
  * groups not known to any schema folder: claims / XRs -> schema derived from an XRD
        (apiextensions.crossplane.io CompositeResourceDefinition) found in the validated ROOTs
  * JSON documents without apiVersion that have "panels"/"schemaVersion"
        -> grafana-foundation-sdk/jsonschema/dashboard.jsonschema.json;
    with "elements"+"layout" -> dashboardv2.jsonschema.json#/definitions/Dashboard;
    dashboard.grafana.app/v2 Dashboard -> its spec against dashboardv2 as well
  * ConfigMap data values that are JSON dashboards -> also validated as dashboards
  * PrometheusRule spec, and plain rule files ("groups:" without apiVersion)
        -> schemastore/prometheus.rules.json; promtool test files ("rule_files:" and "tests:")
        -> schemastore/prometheus.rules.test.json
  * Composition pipeline step `input` -> schema of its apiVersion/kind (P&T Resources), and every
    P&T resources[].base -> its MR schema with "required" dropped (bases are partial)
  Anything else is a FAILURE "no schema for ..." unless its group is passed via --allow-unknown.

Extra checks the schemas do not do: metadata.name present (not for Kustomizations, dashboards,
plain rule files), names/namespaces in Kubernetes DNS formats, Backstage name/tag formats, label
keys/values and annotation keys/values (strings!), duplicate mapping keys, XRD name =
<plural>.<group>, and no core `kind: Secret` (guide §7.1: secret values never appear in output) - at top
level, nested (a {apiVersion: v1, kind: Secret} carrying data/stringData), or as a kustomize
secretGenerator.

Output: `FAIL <file>#<doc index> <apiVersion>/<kind> <name>: <message>` (at most 5 messages per
object), then `validated N objects in M files: K failed`; exit status 1 if K > 0.
"""

import argparse
import json
import os
import re
import sys
import time
from collections import Counter, defaultdict

import yaml
from jsonschema import Draft7Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT7

MAX_MSGS = 5
MAX_MSG_LEN = 300

# --------------------------------------------------------------------------------------------
# YAML loading (YAML 1.1 via PyYAML, C accelerated when available) with duplicate-key detection

_BaseLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _Loader(_BaseLoader):
    def __init__(self, stream):
        super().__init__(stream)
        self.dups = []

    def construct_mapping(self, node, deep=False):
        if isinstance(node, yaml.MappingNode):
            seen = set()
            for k, _ in node.value:
                if isinstance(k, yaml.ScalarNode) and k.tag != "tag:yaml.org,2002:merge":
                    if k.value in seen:
                        self.dups.append("duplicate key %r (line %d)" % (k.value, k.start_mark.line + 1))
                    seen.add(k.value)
        return super().construct_mapping(node, deep)


def load_yaml_docs(text):
    """Yields (doc, [dup-key messages]) per document."""
    loader = _Loader(text)
    try:
        while loader.check_data():
            doc = loader.get_data()
            dups, loader.dups = loader.dups, []
            yield doc, dups
    finally:
        loader.dispose()


def _json_pairs(pairs):
    d = {}
    for k, v in pairs:
        if k in d:
            d.setdefault("\x00dups", []).append(k)
        d[k] = v
    return d


def load_json(text):
    doc = json.loads(text, object_pairs_hook=_json_pairs)
    dups = []

    def strip(o):
        if isinstance(o, dict):
            if "\x00dups" in o:
                dups.extend("duplicate key %r" % k for k in o.pop("\x00dups"))
            for v in o.values():
                strip(v)
        elif isinstance(o, list):
            for v in o:
                strip(v)
    strip(doc)
    return doc, dups


# --------------------------------------------------------------------------------------------
# Formats

DNS1123_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?\Z")
DNS1123_SUBDOMAIN = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\Z")
DNS1035_LABEL = re.compile(r"[a-z]([-a-z0-9]*[a-z0-9])?\Z")
QUALIFIED_NAME = re.compile(r"[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?\Z")
LABEL_VALUE = re.compile(r"(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?\Z")
BACKSTAGE_TAG = re.compile(r"[a-z0-9:+#]+(-[a-z0-9:+#]+)*\Z")

CORE_GROUPS = {"", "apps", "autoscaling", "policy", "batch"}
CLAIM_SPEC_FIELDS = [
    "compositionRef", "compositionSelector", "compositionUpdatePolicy", "compositeDeletePolicy",
    "compositionRevisionRef", "compositionRevisionSelector", "resourceRef", "resourceRefs",
    "writeConnectionSecretToRef", "publishConnectionDetailsTo", "crossplane", "claimRef",
    "environmentConfigRefs",
]


def is_core_group(group):
    return group in CORE_GROUPS or group.endswith(".k8s.io")


def split_api(api):
    if "/" in api:
        g, v = api.rsplit("/", 1)
        return g, v
    return "", api


def check_subdomain(s):
    return isinstance(s, str) and len(s) <= 253 and bool(DNS1123_SUBDOMAIN.match(s))


def check_label_key(k):
    """Returns an error string or None."""
    if not isinstance(k, str):
        return "key %r is not a string" % (k,)
    if "/" in k:
        prefix, name = k.split("/", 1)
        if not check_subdomain(prefix):
            return "key %r: prefix is not a DNS-1123 subdomain" % k
    else:
        name = k
    if not name or len(name) > 63 or not QUALIFIED_NAME.match(name):
        return "key %r: name part must be 1-63 chars [A-Za-z0-9-_.], alphanumeric at both ends" % k
    return None


_IDENT = re.compile(r"[A-Za-z_$][A-Za-z0-9_$-]*\Z")


def jpath(parts):
    out = "$"
    for p in parts:
        if isinstance(p, int):
            out += "[%d]" % p
        elif _IDENT.match(str(p)):
            out += "." + str(p)
        else:
            out += "[%r]" % (str(p),)
    return out


def short(s, n=MAX_MSG_LEN):
    s = s.replace("\n", " ")
    return s if len(s) <= n else s[: n - 3] + "..."


def closest(err):
    """For a oneOf/anyOf error, the most plausible failing sub-error: the branch with the fewest
    errors (ties: the deepest), recursively."""
    branches = defaultdict(list)
    for c in err.context:
        branches[c.relative_schema_path[0] if c.relative_schema_path else 0].append(c)
    best = min(branches.values(), key=lambda es: (len(es), -max(len(e.absolute_path) for e in es)))
    e = sorted(best, key=lambda e: -len(e.absolute_path))[0]
    return closest(e) if e.context else e


def schema_errors(validator, instance, prefix=()):
    msgs = []
    for e in sorted(validator.iter_errors(instance), key=lambda e: list(map(str, e.absolute_path))):
        if e.context:
            sub = closest(e)
            msgs.append("%s: %s (no %s branch of %s matched)" % (
                jpath(list(prefix) + list(sub.absolute_path)), short(sub.message, 200), e.validator,
                jpath(list(prefix) + list(e.absolute_path))))
        else:
            msgs.append("%s: %s" % (jpath(list(prefix) + list(e.absolute_path)), short(e.message)))
    return msgs


# --------------------------------------------------------------------------------------------
# OpenAPI v3 (XRD) -> JSON Schema draft-07

def oapi_to_jsonschema(s, strict=True):
    if not isinstance(s, dict):
        return s
    out = {}
    for k, v in s.items():
        if k in ("properties", "patternProperties"):
            out[k] = {pk: oapi_to_jsonschema(pv, strict) for pk, pv in v.items()}
        elif k in ("items", "additionalProperties", "not") and isinstance(v, dict):
            out[k] = oapi_to_jsonschema(v, strict)
        elif k in ("allOf", "anyOf", "oneOf"):
            out[k] = [oapi_to_jsonschema(x, strict) for x in v]
        elif k in ("nullable", "x-kubernetes-int-or-string", "x-kubernetes-preserve-unknown-fields",
                   "x-kubernetes-embedded-resource", "x-kubernetes-validations", "default"):
            continue
        else:
            out[k] = v
    if s.get("x-kubernetes-int-or-string"):
        out.pop("type", None)
        out["type"] = ["integer", "string"]
    if s.get("nullable") and "type" in out:
        t = out["type"]
        out["type"] = (t if isinstance(t, list) else [t]) + ["null"]
    if (strict and "properties" in out and "additionalProperties" not in out
            and not s.get("x-kubernetes-preserve-unknown-fields")):
        out["additionalProperties"] = False
    return out


def strip_required(s):
    if isinstance(s, dict):
        out = {}
        for k, v in s.items():
            if k == "required" and isinstance(v, list):
                continue
            if k in ("properties", "patternProperties", "definitions") and isinstance(v, dict):
                out[k] = {pk: strip_required(pv) for pk, pv in v.items()}
            else:
                out[k] = strip_required(v)
        return out
    if isinstance(s, list):
        return [strip_required(x) for x in s]
    return s


# --------------------------------------------------------------------------------------------
# Schema store

class Schemas:
    def __init__(self, root):
        self.root = root
        self.k8s_dir = os.path.join(root, "kubernetes", "v1.35-standalone-strict")
        self.crd_dirs = [os.path.join(root, d) for d in
                         ("datreeio-CRDs-catalog", "provider-upjet-aws", "function-patch-and-transform",
                          "argo-rollouts", "kubernetes-autoscaler", "kyverno-cli")]
        self.known_groups = set()
        for d in self.crd_dirs:
            if os.path.isdir(d):
                self.known_groups.update(os.listdir(d))
        self._files = {}            # (relpath, fragment, partial) -> validator
        self._kinds = {}            # (api, kind, partial) -> (validator, label) | None
        self._backstage = None      # (registry, {(group, kind): $id})
        self.xrds = {}              # (group, kind) -> {version: openAPIV3Schema}, also "claim" flag
        self._xrd_validators = {}

    def _load(self, path):
        with open(path, encoding="utf-8") as f:
            return json.load(f)

    def file_validator(self, rel, fragment=None, partial=False):
        key = (rel, fragment, partial)
        v = self._files.get(key)
        if v is None:
            schema = self._load(os.path.join(self.root, rel))
            schema.pop("$schema", None)          # force draft-07 ("http://json-schema.org/schema#")
            if fragment:
                schema = {"$ref": "#/definitions/" + fragment, "definitions": schema["definitions"]}
            if partial:
                schema = strip_required(schema)
            v = Draft7Validator(schema)
            self._files[key] = v
        return v

    def backstage(self):
        if self._backstage is None:
            reg = Registry()
            ids = {}
            for d in ("backstage-catalog-model", "backstage-plugin-scaffolder-common"):
                for dp, _, fs in os.walk(os.path.join(self.root, d)):
                    for fn in sorted(fs):
                        if not fn.endswith(".json"):
                            continue
                        c = self._load(os.path.join(dp, fn))
                        reg = reg.with_resource(c["$id"], Resource.from_contents(c, default_specification=DRAFT7))
                        m = re.match(r"([A-Za-z]+)\.(v\d+\w*)\.schema\.json$", fn)
                        if m:
                            group = "scaffolder.backstage.io" if d.endswith("scaffolder-common") else "backstage.io"
                            ids[(group, m.group(1))] = c["$id"]
            self._backstage = (reg.crawl(), ids)
        return self._backstage

    def for_kind(self, api, kind, partial=False):
        """Returns (validator, label) or None if no schema is known."""
        key = (api, kind, partial)
        if key in self._kinds:
            return self._kinds[key]
        res = self._select(api, kind, partial)
        self._kinds[key] = res
        return res

    def _select(self, api, kind, partial):
        group, version = split_api(api)
        kl = kind.lower()
        if group == "" and kind == "Pod" and version == "v1":
            # no Pod schema here: a Pod's metadata and spec are a Deployment's pod template
            rel = "kubernetes/v1.35-standalone-strict/deployment-apps-v1.json"
            key = (rel, "#pod", partial)
            if key not in self._files:
                t = self._load(os.path.join(self.root, rel))["properties"]["spec"]["properties"]["template"]
                t["properties"]["apiVersion"] = {"type": "string", "enum": ["v1"]}
                t["properties"]["kind"] = {"type": "string", "enum": ["Pod"]}
                self._files[key] = Draft7Validator(strip_required(t) if partial else t)
            return self._files[key], rel + " (spec.template, for a Pod)"
        if is_core_group(group):
            prefix = "" if group == "" else "-" + group.split(".")[0]
            rel = "kubernetes/v1.35-standalone-strict/%s%s-%s.json" % (kl, prefix, version)
            if os.path.exists(os.path.join(self.root, rel)):
                return self.file_validator(rel, partial=partial), rel
            # a *.k8s.io CRD outside the core API (the VerticalPodAutoscaler)
            for d in self.crd_dirs:
                p = os.path.join(d, group, "%s_%s.json" % (kl, version))
                if os.path.exists(p):
                    return self.file_validator(os.path.relpath(p, self.root), partial=partial), os.path.relpath(p, self.root)
            return None
        if group == "kustomize.config.k8s.io" and kind == "Kustomization":
            rel = "schemastore/kustomization.json"
            return self.file_validator(rel, partial=partial), rel
        if group in ("backstage.io", "scaffolder.backstage.io"):
            reg, ids = self.backstage()
            sid = ids.get((group, kind))
            if sid is None:
                return None
            schema = reg.contents(sid)
            return Draft7Validator(strip_required(schema) if partial else schema, registry=reg), "backstage:" + sid
        for d in self.crd_dirs:
            p = os.path.join(d, group, "%s_%s.json" % (kl, version))
            if os.path.exists(p):
                rel = os.path.relpath(p, self.root)
                return self.file_validator(rel, partial=partial), rel
        return None

    # -- Crossplane XRDs -> claim / XR schemas
    def add_xrd(self, doc):
        spec = doc.get("spec") or {}
        group = spec.get("group")
        if not isinstance(group, str):
            return
        versions = {}
        for v in spec.get("versions") or []:
            if isinstance(v, dict) and isinstance(v.get("name"), str):
                versions[v["name"]] = ((v.get("schema") or {}).get("openAPIV3Schema")) or {}
        for names_key, what in (("names", "XR"), ("claimNames", "claim")):
            k = (spec.get(names_key) or {}).get("kind")
            if isinstance(k, str):
                self.xrds[(group, k)] = (versions, what, (doc.get("metadata") or {}).get("name"))

    def for_claim(self, api, kind, partial=False):
        group, version = split_api(api)
        ent = self.xrds.get((group, kind))
        if ent is None:
            return None
        versions, what, xrdname = ent
        if version not in versions:
            return "XRD %s has no version %r for %s" % (xrdname, version, kind)
        key = (api, kind, partial)
        if key not in self._xrd_validators:
            base = oapi_to_jsonschema(versions[version]) if versions[version] else {"type": "object"}
            props = dict(base.get("properties") or {})
            spec = dict(props.get("spec") or {"type": "object"})
            sprops = dict(spec.get("properties") or {})
            for f in CLAIM_SPEC_FIELDS:
                sprops.setdefault(f, {})
            spec["properties"] = sprops
            if "additionalProperties" not in spec and "properties" in (props.get("spec") or {}):
                spec["additionalProperties"] = False
            props["spec"] = spec
            props["apiVersion"] = {"const": api}
            props["kind"] = {"const": kind}
            props["metadata"] = {"type": "object"}
            props.setdefault("status", {"type": "object"})
            base["properties"] = props
            base["type"] = "object"
            base["additionalProperties"] = False
            req = [r for r in base.get("required", []) if r != "status"]
            base["required"] = sorted(set(req) | {"apiVersion", "kind"})
            if partial:
                base = strip_required(base)
            self._xrd_validators[key] = (Draft7Validator(base), "XRD %s (%s)" % (xrdname, what))
        return self._xrd_validators[key]


# --------------------------------------------------------------------------------------------
# Validation of one document

def is_dashboard(d):
    return isinstance(d, dict) and "apiVersion" not in d and ("panels" in d or "schemaVersion" in d)


def is_dashboard_v2_spec(d):
    return isinstance(d, dict) and "apiVersion" not in d and "elements" in d and "layout" in d


def find_core_secrets(o, path, out, depth=0):
    """Nested {apiVersion: v1, kind: Secret} objects carrying data/stringData."""
    if depth > 64:
        return
    if isinstance(o, dict):
        if (o.get("kind") == "Secret" and o.get("apiVersion") == "v1"
                and ("data" in o or "stringData" in o)):
            out.append(jpath(path))
        for k, v in o.items():
            if isinstance(v, (dict, list)):
                find_core_secrets(v, path + [k], out, depth + 1)
    elif isinstance(o, list):
        for i, v in enumerate(o):
            if isinstance(v, (dict, list)):
                find_core_secrets(v, path + [i], out, depth + 1)


def resolve_backstage_placeholders(v):
    """Replaces each Backstage placeholder ({"$text": location}, $json, $yaml) by a string,
    as the catalog's PlaceholderProcessor does with what it reads from the location."""
    if isinstance(v, list):
        return [resolve_backstage_placeholders(x) for x in v]
    if isinstance(v, dict):
        if len(v) == 1:
            (k, target), = v.items()
            if k in ("$text", "$json", "$yaml") and isinstance(target, str) and target:
                return "(content of %s)" % target
        return {k: resolve_backstage_placeholders(x) for k, x in v.items()}
    return v


class Validator:
    def __init__(self, schemas, allow_unknown=()):
        self.s = schemas
        self.allow_unknown = set(allow_unknown)
        self.failures = []         # (file, idx, api, kind, name, [msgs])
        self.notes = []
        self.objects = 0
        self.files = 0
        self.by_kind = Counter()
        self.deferred = []         # claims / unknown groups, checked after all XRDs are known
        self.deferred_bases = []   # Composition bases of XR/claim kinds
        self._cur = None

    # -- generic metadata checks
    def meta_checks(self, doc, api, kind, msgs, need_name=True):
        group, _ = split_api(api)
        backstage = group in ("backstage.io", "scaffolder.backstage.io")
        meta = doc.get("metadata")
        if meta is None:
            if need_name:
                msgs.append("$.metadata: missing (metadata.name is required)")
            return
        if not isinstance(meta, dict):
            msgs.append("$.metadata: not a mapping")
            return
        name = meta.get("name")
        if need_name:
            if name is None or name == "":
                msgs.append("$.metadata.name: missing")
            elif not isinstance(name, str):
                msgs.append("$.metadata.name: %r is not a string (YAML 1.1 type?)" % (name,))
            elif backstage:
                if len(name) > 63 or not QUALIFIED_NAME.match(name):
                    msgs.append("$.metadata.name: %r is not a valid Backstage entity name "
                                "(1-63 chars [A-Za-z0-9-_.], alphanumeric at both ends)" % name)
            elif kind == "Namespace" and group == "":
                if len(name) > 63 or not DNS1123_LABEL.match(name):
                    msgs.append("$.metadata.name: %r is not a DNS-1123 label (<=63, [a-z0-9-])" % name)
            elif kind == "Service" and group == "":
                if len(name) > 63 or not DNS1035_LABEL.match(name):
                    msgs.append("$.metadata.name: %r is not a DNS-1035 label (<=63, [a-z0-9-], starts with a letter)" % name)
            elif group == "rbac.authorization.k8s.io":
                if name in (".", "..") or "/" in name or "%" in name:
                    msgs.append("$.metadata.name: %r is not a valid path segment name" % name)
            elif not check_subdomain(name):
                msgs.append("$.metadata.name: %r is not a DNS-1123 subdomain (<=253, [a-z0-9-.])" % name)
        ns = meta.get("namespace")
        if ns is not None and (not isinstance(ns, str) or len(ns) > 63 or not DNS1123_LABEL.match(ns)):
            msgs.append("$.metadata.namespace: %r is not a DNS-1123 label" % (ns,))
        self.label_checks(meta.get("labels"), "$.metadata.labels", msgs)
        ann = meta.get("annotations")
        if ann is not None:
            if not isinstance(ann, dict):
                msgs.append("$.metadata.annotations: not a mapping")
            else:
                for k, v in ann.items():
                    err = check_label_key(k)
                    if err:
                        msgs.append("$.metadata.annotations: " + err)
                    if not isinstance(v, str):
                        msgs.append("$.metadata.annotations[%r]: value %r is not a string (quote it; YAML 1.1 "
                                    "reads yes/no/on/off/1.10 as bool/number)" % (k, v))
        if backstage:
            tags = meta.get("tags")
            if isinstance(tags, list):
                for t in tags:
                    if not isinstance(t, str) or len(t) > 63 or not BACKSTAGE_TAG.match(t):
                        msgs.append("$.metadata.tags: %r is not a valid Backstage tag "
                                    "(lower case [a-z0-9:+#] words joined by '-', <=63)" % (t,))
        spec = doc.get("spec")
        if isinstance(spec, dict):
            tmpl = spec.get("template")
            if isinstance(tmpl, dict) and isinstance(tmpl.get("metadata"), dict):
                self.label_checks(tmpl["metadata"].get("labels"), "$.spec.template.metadata.labels", msgs)
            sel = spec.get("selector")
            if isinstance(sel, dict) and isinstance(sel.get("matchLabels"), dict):
                self.label_checks(sel["matchLabels"], "$.spec.selector.matchLabels", msgs)

    @staticmethod
    def label_checks(labels, where, msgs):
        if labels is None:
            return
        if not isinstance(labels, dict):
            msgs.append("%s: not a mapping" % where)
            return
        for k, v in labels.items():
            err = check_label_key(k)
            if err:
                msgs.append("%s: %s" % (where, err))
            if not isinstance(v, str):
                msgs.append("%s[%r]: value %r is not a string (quote it; YAML 1.1 reads "
                            "yes/no/on/off/true/1.10 as bool/number)" % (where, k, v))
            elif len(v) > 63 or not LABEL_VALUE.match(v):
                msgs.append("%s[%r]: value %r is not a valid label value (<=63 chars [A-Za-z0-9-_.], "
                            "alphanumeric at both ends)" % (where, k, v))

    def dashboard(self, d, msgs, prefix=()):
        msgs.extend(schema_errors(self.s.file_validator("grafana-foundation-sdk/jsonschema/dashboard.jsonschema.json"),
                                  d, prefix))

    def dashboard_v2(self, d, msgs, prefix=()):
        msgs.extend(schema_errors(self.s.file_validator("grafana-foundation-sdk/jsonschema/dashboardv2.jsonschema.json",
                                                        fragment="Dashboard"), d, prefix))

    def fail(self, f, idx, api, kind, name, msgs):
        self.failures.append((f, idx, api, kind, name, msgs))

    # -- one document
    def check(self, f, idx, doc, is_json, dups):
        self.objects += 1
        msgs = list(dups)
        base = os.path.basename(f)
        if isinstance(doc, list) and os.path.abspath(f) in JSON_PATCH_FILES:
            # a JSON patch (RFC 6902) with a kustomize `target`: operations, not an object
            self.by_kind[("-", "JSONPatch")] += 1
            bad = ["$[%d]: not an RFC 6902 operation" % i for i, op in enumerate(doc)
                   if not isinstance(op, dict) or op.get("op") not in ("add", "remove", "replace", "move", "copy", "test")
                   or not isinstance(op.get("path"), str) or not op["path"].startswith("/")
                   or (op.get("op") in ("add", "replace", "test") and "value" not in op)]
            if bad or not doc:
                self.fail(f, idx, "-", "JSONPatch", "-", bad or ["$: no operations"])
            return
        if not isinstance(doc, dict):
            self.by_kind[("-", type(doc).__name__)] += 1
            self.fail(f, idx, "-", "-", "-", ["$: document is a %s, not a mapping" % type(doc).__name__])
            return
        api, kind = doc.get("apiVersion"), doc.get("kind")
        name = (doc.get("metadata") or {}).get("name") if isinstance(doc.get("metadata"), dict) else None
        name = name if isinstance(name, str) else "-"

        if api is None and kind is None:
            if base in ("kustomization.yaml", "kustomization.yml", "Kustomization"):
                self.by_kind[("(kustomization)", "Kustomization")] += 1
                self.kustomization(doc, msgs)
            elif is_json and is_dashboard(doc):
                self.by_kind[("(grafana)", "Dashboard")] += 1
                self.dashboard(doc, msgs)
                name = str(doc.get("uid", "-"))
            elif is_json and is_dashboard_v2_spec(doc):
                self.by_kind[("(grafana)", "DashboardV2Spec")] += 1
                self.dashboard_v2(doc, msgs)
            elif "rule_files" in doc and "tests" in doc:
                self.by_kind[("(prometheus)", "RuleTestFile")] += 1
                msgs.extend(schema_errors(self.s.file_validator("schemastore/prometheus.rules.test.json"), doc))
            elif "groups" in doc:
                self.by_kind[("(prometheus)", "RuleFile")] += 1
                msgs.extend(schema_errors(self.s.file_validator("schemastore/prometheus.rules.json"), doc))
            else:
                self.by_kind[("-", "-")] += 1
                msgs.append("$: unrecognized document (no apiVersion/kind; not a kustomization, "
                            "dashboard, rule file or rule test file)")
            if msgs:
                self.fail(f, idx, "-", "-", name, msgs)
            return

        if not isinstance(api, str) or not isinstance(kind, str):
            self.by_kind[(str(api), str(kind))] += 1
            self.fail(f, idx, str(api), str(kind), name, msgs + ["$: apiVersion and kind must both be strings"])
            return
        self.by_kind[(api, kind)] += 1
        group, version = split_api(api)

        # guide §7.1: secret values never appear in output
        if kind == "Secret" and group == "":
            self.fail(f, idx, api, kind, name, msgs + ["$.kind: kind: Secret in output (guide §7.1: secret values "
                                                       "never appear in output; use an ExternalSecret)"])
            return
        nested = []
        find_core_secrets(doc, [], nested)
        for p in nested:
            msgs.append("%s: embedded kind: Secret with data (guide §7.1: secret values never appear in output)" % p)

        if group == "apiextensions.crossplane.io" and kind == "CompositeResourceDefinition":
            self.s.add_xrd(doc)
            spec = doc.get("spec") or {}
            if isinstance(spec, dict):
                exp = "%s.%s" % ((spec.get("names") or {}).get("plural"), spec.get("group"))
                if name != "-" and name != exp:
                    msgs.append("$.metadata.name: XRD name %r must be <names.plural>.<group> = %r" % (name, exp))
                if version == "v2":   # CEL rules of the v2 XRD CRD (not checked by JSON Schema)
                    for k in ("claimNames", "connectionSecretKeys"):
                        if k in spec:
                            msgs.append("$.spec.%s: not supported in apiextensions.crossplane.io/v2 "
                                        "(CEL rule; use apiextensions.crossplane.io/v1 for claims)" % k)

        if not self.is_known_group(group):
            self.deferred.append((f, idx, doc, msgs))
            return
        self.check_known(f, idx, doc, api, kind, name, msgs)

    def is_known_group(self, group):
        return (is_core_group(group) or group in self.s.known_groups
                or group in ("kustomize.config.k8s.io", "backstage.io", "scaffolder.backstage.io",
                             "dashboard.grafana.app"))

    def kustomization(self, doc, msgs):
        msgs.extend(schema_errors(self.s.file_validator("schemastore/kustomization.json"), doc))
        if doc.get("secretGenerator"):
            msgs.append("$.secretGenerator: generates a kind: Secret (guide §7.1: secret values never appear in output)")

    def check_known(self, f, idx, doc, api, kind, name, msgs):
        self._cur = (f, idx, api, kind, name)
        group, version = split_api(api)
        if group == "kustomize.config.k8s.io" and kind == "Kustomization":
            self.kustomization(doc, msgs)
            self.meta_checks(doc, api, kind, msgs, need_name=False)
        elif group == "dashboard.grafana.app" and kind == "Dashboard" and version.startswith("v2"):
            self.meta_checks(doc, api, kind, msgs)
            extra = set(doc) - {"apiVersion", "kind", "metadata", "spec", "status"}
            if extra:
                msgs.append("$: unknown root fields %s" % sorted(extra))
            if not isinstance(doc.get("spec"), dict):
                msgs.append("$.spec: missing")
            else:
                self.dashboard_v2(doc["spec"], msgs, ("spec",))
        else:
            # a kustomize patch is a partial object: only what it sets is checked
            sel = self.s.for_kind(api, kind, partial=os.path.abspath(f) in PATCH_FILES)
            if sel is None:
                if group in self.allow_unknown:
                    self.notes.append("SKIP %s#%d %s/%s %s: no schema (group allowed by --allow-unknown)"
                                      % (f, idx, api, kind, name))
                else:
                    msgs.append("no schema for %s/%s" % (api, kind))
            else:
                if group == "backstage.io":
                    # the catalog resolves {$text|$json|$yaml: location} at ingestion, before
                    # it validates: the schemas see the text it read
                    doc = resolve_backstage_placeholders(doc)
                msgs.extend(schema_errors(sel[0], doc))
            self.meta_checks(doc, api, kind, msgs)
            self.extra_checks(doc, api, kind, msgs)
        if msgs:
            self.fail(f, idx, api, kind, name, msgs)

    def extra_checks(self, doc, api, kind, msgs):
        group, _ = split_api(api)
        spec = doc.get("spec")
        if kind == "ConfigMap" and group == "":
            data = doc.get("data")
            if isinstance(data, dict):
                for k, v in data.items():
                    if not isinstance(v, str):
                        continue
                    t = v.lstrip()
                    if not (k.endswith(".json") or t.startswith("{")):
                        continue
                    try:
                        d, dups = load_json(v)
                    except ValueError as e:
                        if k.endswith(".json"):
                            msgs.append("$.data[%r]: invalid JSON: %s" % (k, e))
                        continue
                    msgs.extend("$.data[%r]: %s" % (k, m) for m in dups)
                    if is_dashboard(d):
                        self.dashboard(d, msgs, ("data", k))
                    elif is_dashboard_v2_spec(d):
                        self.dashboard_v2(d, msgs, ("data", k))
        elif kind == "PrometheusRule" and group == "monitoring.coreos.com":
            if isinstance(spec, dict):
                msgs.extend(schema_errors(self.s.file_validator("schemastore/prometheus.rules.json"), spec, ("spec",)))
        elif kind == "Composition" and group == "apiextensions.crossplane.io" and isinstance(spec, dict):
            for i, step in enumerate(spec.get("pipeline") or []):
                inp = step.get("input") if isinstance(step, dict) else None
                if not isinstance(inp, dict):
                    continue
                ia, ik = inp.get("apiVersion"), inp.get("kind")
                where = ("spec", "pipeline", i, "input")
                if not isinstance(ia, str) or not isinstance(ik, str):
                    msgs.append("%s: input has no apiVersion/kind" % jpath(where))
                    continue
                sel = self.s.for_kind(ia, ik)
                if sel is None:
                    if split_api(ia)[0] not in self.allow_unknown:
                        msgs.append("%s: no schema for %s/%s" % (jpath(where), ia, ik))
                    continue
                msgs.extend(schema_errors(sel[0], inp, where))
                if ia.startswith("pt.fn.crossplane.io/") and ik == "Resources":
                    for j, r in enumerate(inp.get("resources") or []):
                        b = r.get("base") if isinstance(r, dict) else None
                        if not isinstance(b, dict):
                            continue
                        bw = where + ("resources", j, "base")
                        ba, bk = b.get("apiVersion"), b.get("kind")
                        if not isinstance(ba, str) or not isinstance(bk, str):
                            msgs.append("%s: base has no apiVersion/kind" % jpath(bw))
                            continue
                        bsel = self.s.for_kind(ba, bk, partial=True)
                        if bsel is None and not self.is_known_group(split_api(ba)[0]):
                            # an XR/claim kind: its XRD may be in a file not read yet
                            self.deferred_bases.append(self._cur + (b, bw))
                            continue
                        if bsel is None:
                            if split_api(ba)[0] not in self.allow_unknown:
                                msgs.append("%s: no schema for %s/%s" % (jpath(bw), ba, bk))
                            continue
                        msgs.extend(schema_errors(bsel[0], b, bw))

    def finish(self):
        for f, idx, doc, msgs in self.deferred:
            api, kind = doc["apiVersion"], doc["kind"]
            meta = doc.get("metadata")
            name = meta.get("name") if isinstance(meta, dict) else None
            name = name if isinstance(name, str) else "-"
            group, _ = split_api(api)
            sel = self.s.for_claim(api, kind)
            if isinstance(sel, str):
                msgs.append(sel)
            elif sel is None:
                if group in self.allow_unknown:
                    self.notes.append("SKIP %s#%d %s/%s %s: no schema (group allowed by --allow-unknown)"
                                      % (f, idx, api, kind, name))
                else:
                    msgs.append("no schema for %s/%s (no schema file and no XRD for it in the validated roots)"
                                % (api, kind))
            else:
                if group == "backstage.io":
                    # the catalog resolves {$text|$json|$yaml: location} at ingestion, before
                    # it validates: the schemas see the text it read
                    doc = resolve_backstage_placeholders(doc)
                msgs.extend(schema_errors(sel[0], doc))
            self.meta_checks(doc, api, kind, msgs)
            if msgs:
                self.fail(f, idx, api, kind, name, msgs)
        self.deferred = []
        for f, idx, api, kind, name, b, bw in self.deferred_bases:
            ba, bk = b["apiVersion"], b["kind"]
            sel = self.s.for_claim(ba, bk, partial=True)
            if isinstance(sel, str):
                self.fail(f, idx, api, kind, name, ["%s: %s" % (jpath(bw), sel)])
            elif sel is None:
                if split_api(ba)[0] not in self.allow_unknown:
                    self.fail(f, idx, api, kind, name, ["%s: no schema for %s/%s" % (jpath(bw), ba, bk)])
            else:
                msgs = schema_errors(sel[0], b, bw)
                if msgs:
                    self.fail(f, idx, api, kind, name, msgs)
        self.deferred_bases = []

    # -- files
    def check_file(self, path):
        self.files += 1
        is_json = path.endswith(".json")
        try:
            with open(path, encoding="utf-8") as fh:
                text = fh.read()
        except (OSError, UnicodeDecodeError) as e:
            self.objects += 1
            self.fail(path, 0, "-", "-", "-", ["cannot read: %s" % e])
            return
        if is_json:
            try:
                doc, dups = load_json(text)
            except ValueError as e:
                self.objects += 1
                self.fail(path, 0, "-", "-", "-", ["JSON parse error: %s" % short(str(e))])
                return
            self.check(path, 0, doc, True, dups)
            return
        idx = -1
        try:
            for idx_, (doc, dups) in enumerate(load_yaml_docs(text)):
                idx = idx_
                if doc is None:
                    continue            # empty document (e.g. leading '---')
                self.check(path, idx, doc, False, dups)
        except yaml.YAMLError as e:
            self.objects += 1
            self.fail(path, idx + 1, "-", "-", "-", ["YAML parse error: %s" % short(str(e))])


def walk(root):
    if os.path.isfile(root):
        yield root
        return
    for dp, dns, fns in os.walk(root):
        dns[:] = sorted(d for d in dns if not d.startswith("."))
        for fn in sorted(fns):
            if fn.startswith("."):
                continue
            if fn.endswith((".yaml", ".yml", ".json")) or fn == "Kustomization":
                yield os.path.join(dp, fn)


_W = None

# Files that kustomization.yaml files name under `patches` (strategic-merge
# patches: partial objects, validated with "required" dropped); those with a
# `target` may be JSON patches (a list of operations).
PATCH_FILES = set()
JSON_PATCH_FILES = set()


def collect_patch_files(paths):
    for p in paths:
        if os.path.basename(p) not in ("kustomization.yaml", "kustomization.yml", "Kustomization"):
            continue
        try:
            with open(p, encoding="utf-8") as fh:
                k = yaml.safe_load(fh)
        except (OSError, UnicodeDecodeError, yaml.YAMLError):
            continue
        if not isinstance(k, dict):
            continue
        for patch in k.get("patches") or []:
            if isinstance(patch, dict) and isinstance(patch.get("path"), str):
                PATCH_FILES.add(os.path.abspath(os.path.join(os.path.dirname(p), patch["path"])))
                if isinstance(patch.get("target"), dict):
                    JSON_PATCH_FILES.add(os.path.abspath(os.path.join(os.path.dirname(p), patch["path"])))


def _worker_init(sdir, allow):
    global _W
    _W = Validator(Schemas(sdir), allow)


def _worker_run(paths):
    v = _W
    for p in paths:
        v.check_file(p)
    res = (v.failures, v.notes, v.objects, v.files, v.by_kind, v.deferred, v.deferred_bases, v.s.xrds)
    v.failures, v.notes, v.objects, v.files, v.by_kind = [], [], 0, 0, Counter()
    v.deferred, v.deferred_bases, v.s.xrds = [], [], {}
    return res


def run_parallel(v, sdir, allow, paths, jobs):
    import multiprocessing as mp
    chunk = max(20, min(500, len(paths) // (jobs * 8) or 1))
    chunks = [paths[i:i + chunk] for i in range(0, len(paths), chunk)]
    ctx = mp.get_context("fork") if "fork" in mp.get_all_start_methods() else mp.get_context()
    with ctx.Pool(jobs, initializer=_worker_init, initargs=(sdir, allow)) as pool:
        for fl, nt, ob, fi, bk, de, db, xr in pool.imap_unordered(_worker_run, chunks):
            v.failures.extend(fl)
            v.notes.extend(nt)
            v.objects += ob
            v.files += fi
            v.by_kind.update(bk)
            v.deferred.extend(de)
            v.deferred_bases.extend(db)
            v.s.xrds.update(xr)


def default_schemas():
    env = os.environ.get("PLATFORMC_SCHEMAS")
    if env:
        return env
    repo = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    return os.path.join(repo, "tests", "schemas")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("roots", metavar="ROOT", nargs="+")
    ap.add_argument("--schemas", metavar="DIR", default=None,
                    help="schema folder (default: $PLATFORMC_SCHEMAS or <repo>/tests/schemas)")
    ap.add_argument("--quiet", action="store_true", help="print only failures and the summary")
    ap.add_argument("--count-by-kind", action="store_true", help="print a table of apiVersion/kind counts")
    ap.add_argument("-j", "--jobs", type=int, default=0,
                    help="worker processes (default: number of CPUs, max 8; 1 = no multiprocessing)")
    ap.add_argument("--allow-unknown", metavar="GROUP", action="append", default=[],
                    help="API group whose objects may have no schema (repeatable, or comma-separated)")
    a = ap.parse_args(argv)
    sdir = a.schemas or default_schemas()
    if not os.path.isdir(os.path.join(sdir, "kubernetes")):
        print("validate_tree: schema folder not found: %s" % sdir, file=sys.stderr)
        return 2
    allow = {g.strip() for x in a.allow_unknown for g in x.split(",") if g.strip()}
    v = Validator(Schemas(sdir), allow)
    t0 = time.time()
    paths = []
    for r in a.roots:
        if not os.path.exists(r):
            print("validate_tree: no such file or directory: %s" % r, file=sys.stderr)
            return 2
        paths.extend(walk(r))
    collect_patch_files(paths)
    jobs = a.jobs if a.jobs > 0 else min(8, os.cpu_count() or 1)
    if jobs > 1 and len(paths) >= 200:
        run_parallel(v, sdir, allow, paths, jobs)
    else:
        for p in paths:
            v.check_file(p)
    v.finish()
    dt = time.time() - t0
    out = sys.stdout
    merged = {}
    for f, idx, api, kind, name, msgs in v.failures:
        if (f, idx) in merged:
            merged[(f, idx)][5].extend(msgs)
        else:
            merged[(f, idx)] = [f, idx, api, kind, name, list(msgs)]
    for f, idx, api, kind, name, msgs in sorted(merged.values(), key=lambda x: (x[0], x[1])):
        shown = msgs[:MAX_MSGS]
        if len(msgs) > MAX_MSGS:
            shown[-1] += " (and %d more)" % (len(msgs) - MAX_MSGS + 1)
        for m in shown:
            out.write("FAIL %s#%d %s/%s %s: %s\n" % (f, idx, api, kind, name, m))
    if not a.quiet:
        for n in v.notes:
            out.write(n + "\n")
    if a.count_by_kind:
        w = max([len("%s %s" % k) for k in v.by_kind] + [10])
        out.write("%-*s %8s\n" % (w, "apiVersion kind", "count"))
        for (api, kind), n in sorted(v.by_kind.items()):
            out.write("%-*s %8d\n" % (w, "%s %s" % (api, kind), n))
    failed = len(merged)
    if not a.quiet:
        out.write("time: %.2fs, %.0f objects/s\n" % (dt, v.objects / dt if dt > 0 else 0))
    out.write("validated %d objects in %d files: %d failed\n" % (v.objects, v.files, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
