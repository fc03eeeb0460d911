// kyverno.mjs — Kyverno's admission of one object, as Kyverno 1.15–1.17 does it,
// with the CEL evaluated by a conformant engine (k8scel.mjs).
//
// ValidatingPolicy (policies.kyverno.io/v1): matchConstraints (resourceRules,
// excludeResourceRules, namespaceSelector, objectSelector), matchConditions,
// PolicyExceptions (policies.kyverno.io/v1: policyRefs + matchConditions),
// variables, validations; autogen as pkg/cel/autogen + pkg/cel/policies/vpol/
// autogen (v1.15.0–v1.17.x: CanAutoGen refuses a namespace or object selector,
// excluded rules, anything but one rule of exactly group "" / v1 / [pods];
// the generated specs rewrite `object.spec`/`object.metadata` textually over
// the whole JSON spec).
//
// ClusterPolicy (kyverno.io/v1) rules with validate.cel: match/exclude any/all
// resource descriptions (kinds as pkg/utils/kube ParseKindSelector +
// pkg/utils/match CheckKind, namespaces, namespaceSelector, selector),
// celPreconditions, variables, expressions; autogen as pkg/autogen/v1 (rules
// autogen-<rule> for DaemonSet, Deployment, Job, ReplicaSet,
// ReplicationController, StatefulSet and autogen-cronjob-<rule> for CronJob,
// CEL rewritten by podCELReplacementRules / cronJobCELReplacementRules);
// PolicyExceptions kyverno.io/v2 (exceptions[].policyName/ruleNames + match).
//
// `request` is the AdmissionRequest as JSON with omitempty, as both engines
// give it to CEL: a cluster-scoped object's request has no `namespace` key.
import { evaluate, toCel } from "./k8scel.mjs";

// ---- resources -------------------------------------------------------------------
const PLURAL = {
	Pod: "pods", Service: "services", Ingress: "ingresses", Secret: "secrets", Namespace: "namespaces",
	PersistentVolumeClaim: "persistentvolumeclaims", ExternalSecret: "externalsecrets", Deployment: "deployments",
	StatefulSet: "statefulsets", DaemonSet: "daemonsets", ReplicaSet: "replicasets", Job: "jobs", CronJob: "cronjobs",
	ReplicationController: "replicationcontrollers", NetworkPolicy: "networkpolicies", ConfigMap: "configmaps",
};
export function gvk(o) {
	const [g, v] = o.apiVersion.includes("/") ? o.apiVersion.split("/") : ["", o.apiVersion];
	return { group: g, version: v, kind: o.kind };
}
export function resourceOf(o, plurals) {
	const k = gvk(o);
	const key = `${k.group}/${k.kind}`;
	if (plurals && plurals[key]) return plurals[key];
	if (PLURAL[o.kind] && (k.group === "" || ["apps", "batch", "networking.k8s.io", "external-secrets.io"].includes(k.group)))
		return PLURAL[o.kind];
	const l = o.kind.toLowerCase();
	return l.endsWith("y") ? l.slice(0, -1) + "ies" : l.endsWith("s") ? l + "es" : l + "s";
}

// ---- label selectors ---------------------------------------------------------------
export function selectorMatches(sel, labels) {
	if (!sel) return true;
	labels = labels || {};
	for (const [k, v] of Object.entries(sel.matchLabels || {})) if (labels[k] !== v) return false;
	for (const e of sel.matchExpressions || []) {
		const has = Object.hasOwn(labels, e.key);
		switch (e.operator) {
		case "In": if (!has || !e.values.includes(labels[e.key])) return false; break;
		case "NotIn": if (has && e.values.includes(labels[e.key])) return false; break;
		case "Exists": if (!has) return false; break;
		case "DoesNotExist": if (has) return false; break;
		default: throw new Error(`selector operator ${e.operator}`);
		}
	}
	return true;
}
const emptySel = (s) => !s || (!Object.keys(s.matchLabels || {}).length && !(s.matchExpressions || []).length);

// ---- wildcard (ext/wildcard: * and ?) ------------------------------------------------
function wild(pattern, s) {
	const re = new RegExp("^" + pattern.replace(/[.+^${}()|[\]\\]/g, "\\$&").replace(/\*/g, ".*").replace(/\?/g, ".") + "$", "s");
	return re.test(s);
}

// ---- the request ----------------------------------------------------------------------
export class Cluster {
	// namespaces: name -> labels (as the API server keeps them: kubernetes.io/metadata.name added)
	constructor(namespaces, plurals) {
		this.namespaces = namespaces;
		this.plurals = plurals;
	}
	request(obj, op = "CREATE") {
		const k = gvk(obj);
		const ns = obj.metadata.namespace;
		const req = {
			uid: "00000000-0000-0000-0000-000000000000",
			kind: k,
			resource: { group: k.group, version: k.version, resource: resourceOf(obj, this.plurals) },
			name: obj.metadata.name,
			operation: op,
			userInfo: { username: "system:serviceaccount:argocd:argocd-application-controller" },
			object: obj,
		};
		if (ns) req.namespace = ns;
		let nsObj = null;
		if (ns) {
			const labels = this.namespaces.get(ns);
			if (!labels) throw new Error(`object ${obj.kind}/${obj.metadata.name} in unknown namespace ${ns}`);
			nsObj = { apiVersion: "v1", kind: "Namespace", metadata: { name: ns, labels } };
		}
		return { req, obj, nsObj, ns, celBindings: null };
	}
	nsLabels(r) {
		if (r.obj.kind === "Namespace" && gvk(r.obj).group === "") return r.obj.metadata.labels || {};
		return r.ns ? r.nsObj.metadata.labels : null;
	}
}

function bindings(r) {
	if (!r.celBindings)
		r.celBindings = {
			object: toCel(r.obj), oldObject: null, request: toCel({ ...r.req, object: undefined }),
			namespaceObject: toCel(r.nsObj),
		};
	return r.celBindings;
}

// ---- ValidatingPolicy ---------------------------------------------------------------------
function ruleMatches(rule, r) {
	const g = r.req.resource.group, v = r.req.resource.version, res = r.req.resource.resource;
	const inList = (l, x) => (l || []).includes("*") || (l || []).includes(x);
	if (!inList(rule.apiGroups, g) || !inList(rule.apiVersions, v) || !inList(rule.operations, r.req.operation)) return false;
	if (!(rule.resources || []).some((x) => x === "*" || x === "*/*" || x === res)) return false;
	const scope = rule.scope || "*";
	if (scope === "Namespaced" && !r.ns) return false;
	if (scope === "Cluster" && r.ns) return false;
	if ((rule.resourceNames || []).length && !rule.resourceNames.includes(r.obj.metadata.name)) return false;
	return true;
}

export function vpMatches(mc, cluster, r) {
	if (!mc) return false;
	if (!(mc.resourceRules || []).some((x) => ruleMatches(x, r))) return false;
	if ((mc.excludeResourceRules || []).some((x) => ruleMatches(x, r))) return false;
	// k8s: a cluster-scoped object other than a Namespace always matches namespaceSelector
	const nsl = cluster.nsLabels(r);
	if (mc.namespaceSelector && nsl !== null && !selectorMatches(mc.namespaceSelector, nsl)) return false;
	if (mc.objectSelector && !selectorMatches(mc.objectSelector, r.obj.metadata.labels)) return false;
	return true;
}

// CanAutoGen, pkg/cel/autogen/support.go (v1.15.0 .. v1.17.x)
export function vpCanAutogen(mc) {
	if (!mc) return false;
	if (!emptySel(mc.namespaceSelector)) return false;
	if (!emptySel(mc.objectSelector)) return false;
	if ((mc.excludeResourceRules || []).length) return false;
	if ((mc.resourceRules || []).length !== 1) return false;
	const x = mc.resourceRules[0];
	if ((x.resourceNames || []).length) return false;
	if ((x.apiGroups || []).length !== 1 || x.apiGroups[0] !== "") return false;
	if ((x.apiVersions || []).length !== 1 || x.apiVersions[0] !== "v1") return false;
	if ((x.resources || []).length !== 1 || x.resources[0] !== "pods") return false;
	return true;
}

const CONFIGS = {
	daemonsets: ["apps", "v1", "daemonsets", "DaemonSet", "defaults"],
	deployments: ["apps", "v1", "deployments", "Deployment", "defaults"],
	replicasets: ["apps", "v1", "replicasets", "ReplicaSet", "defaults"],
	statefulsets: ["apps", "v1", "statefulsets", "StatefulSet", "defaults"],
	jobs: ["batch", "v1", "jobs", "Job", "defaults"],
	cronjobs: ["batch", "v1", "cronjobs", "CronJob", "cronjobs"],
};
const REPLACEMENTS = {
	defaults: [["spec", "spec.template.spec"], ["metadata", "spec.template.metadata"]],
	cronjobs: [["spec", "spec.jobTemplate.spec.template.spec"], ["metadata", "spec.jobTemplate.spec.template.metadata"]],
};
const replaceAll = (s, a, b) => s.split(a).join(b);

// pkg/cel/policies/vpol/autogen Autogen: {config -> {targets, spec}}
export function vpAutogen(spec) {
	if (!vpCanAutogen(spec.matchConstraints)) return {};
	const wanted = spec.autogen?.podControllers?.controllers ?? Object.keys(CONFIGS);
	const mapping = {};
	for (const c of wanted) {
		const cfg = CONFIGS[c];
		if (!cfg) continue;
		(mapping[cfg[4]] ||= []).push({ group: cfg[0], version: cfg[1], resource: cfg[2], kind: cfg[3] });
	}
	const out = {};
	for (const config of Object.keys(mapping).sort()) {
		const targets = mapping[config];
		const ops = spec.matchConstraints.resourceRules[0].operations;
		const byGv = {};
		for (const t of targets) (byGv[`${t.group}/${t.version}`] ||= new Set()).add(t.resource);
		const rules = Object.keys(byGv).sort().map((gv) => {
			const [g, v] = gv.split("/");
			return { apiGroups: [g], apiVersions: [v], resources: [...byGv[gv]].sort(), operations: ops };
		});
		const copy = { ...spec, matchConstraints: { resourceRules: rules } };
		let text = JSON.stringify(copy);
		for (const [from, to] of REPLACEMENTS[config]) {
			text = replaceAll(text, `object.${from}`, `object.${to}`);
			text = replaceAll(text, `oldObject.${from}`, `oldObject.${to}`);
		}
		out[config] = { targets, spec: JSON.parse(text) };
	}
	return out;
}

// evaluate one ValidatingPolicy spec on r: null (not matched) or a result
function evalVpSpec(name, spec, exceptions, cluster, r) {
	if (!vpMatches(spec.matchConstraints, cluster, r)) return null;
	const b = bindings(r);
	const res = { policy: name, errors: [], denied: [], excepted: null };
	// pkg/cel/policies/vpol/compiler/policy.go: exceptions first, then the match conditions
	for (const ex of exceptions) {
		if (!(ex.spec.policyRefs || []).some((p) => p.name === name && (!p.kind || p.kind === "ValidatingPolicy"))) continue;
		let all = true;
		for (const m of ex.spec.matchConditions || []) {
			const x = evaluate(m.expression, b);
			if (x.error) { res.errors.push(`exception ${ex.metadata.name} ${m.name}: ${x.error}`); all = false; break; }
			if (x.value !== true) { all = false; break; }
		}
		if (all) { res.excepted = ex.metadata.name; return res; }
	}
	for (const m of spec.matchConditions || []) {
		const x = evaluate(m.expression, b);
		if (x.error) { res.errors.push(`matchCondition ${m.name}: ${x.error}`); return res; }
		if (x.value !== true) return null;
	}
	const vars = new Map();
	const vb = { ...b, variables: vars };
	for (const v of spec.variables || []) {
		const x = evaluate(v.expression, vb);
		if (x.error) { res.errors.push(`variable ${v.name}: ${x.error}`); return res; }
		vars.set(v.name, x.value);
	}
	for (const v of spec.validations || []) {
		const x = evaluate(v.expression, vb);
		if (x.error) res.errors.push(`validation: ${x.error}`);
		else if (x.value !== true) res.denied.push(v.message || v.expression);
	}
	return res;
}

// all evaluations of a ValidatingPolicy (the policy and its autogen rules) on r
export function evalValidatingPolicy(p, exceptions, cluster, r) {
	const out = [];
	const base = evalVpSpec(p.metadata.name, p.spec, exceptions, cluster, r);
	if (base) out.push({ ...base, rule: p.metadata.name });
	for (const [config, g] of Object.entries(p.autogen ||= vpAutogen(p.spec))) {
		const x = evalVpSpec(p.metadata.name, g.spec, exceptions, cluster, r);
		if (x) out.push({ ...x, rule: `${p.metadata.name} (autogen ${config})` });
	}
	return out;
}

// ---- ClusterPolicy ----------------------------------------------------------------------------
const versionRe = /^(v\d((alpha|beta)\d)?|\*)$/;
export function parseKindSelector(input) {
	let parts = input.split("/");
	parts = [...parts.slice(0, -1), ...parts[parts.length - 1].split(".")];
	switch (parts.length) {
	case 1: return ["*", "*", parts[0], ""];
	case 2:
		if (parts[0] === "*" && parts[1] === "*") return ["*", "*", "*", "*"];
		if (parts[0] === "*" && parts[1].toLowerCase() === parts[1]) return ["*", "*", parts[0], parts[1]];
		if (versionRe.test(parts[0])) return ["*", parts[0], parts[1], ""];
		return ["*", "*", parts[0], parts[1]];
	case 3:
		if (versionRe.test(parts[0])) return ["*", parts[0], parts[1], parts[2]];
		return [parts[0], parts[1], parts[2], ""];
	case 4: return parts;
	default: return ["", "", "", ""];
	}
}
export function checkKind(kinds, k) {
	return kinds.some((s) => {
		const [g, v, kind, sub] = parseKindSelector(s);
		return wild(g, k.group) && wild(v, k.version) && wild(kind, k.kind) && wild(sub, "");
	});
}

function descMatches(d, cluster, r) {
	if (!d) return true;
	if (d.kinds && !checkKind(d.kinds, gvk(r.obj))) return false;
	if (d.name && !wild(d.name, r.obj.metadata.name)) return false;
	if (d.names && !d.names.some((n) => wild(n, r.obj.metadata.name))) return false;
	if (d.namespaces && !d.namespaces.some((n) => wild(n, r.ns || ""))) return false;
	if (d.operations && !d.operations.includes(r.req.operation)) return false;
	if (d.selector && !selectorMatches(d.selector, r.obj.metadata.labels)) return false;
	if (d.namespaceSelector) {
		const l = cluster.nsLabels(r);
		if (!selectorMatches(d.namespaceSelector, l || {})) return false;
	}
	return true;
}
function filterMatches(f, cluster, r) {
	if (!f) return false;
	if (f.any) return f.any.some((x) => descMatches(x.resources, cluster, r));
	if (f.all) return f.all.every((x) => descMatches(x.resources, cluster, r));
	if (f.resources) return descMatches(f.resources, cluster, r);
	return false;
}

// pkg/autogen/v1: the rules Kyverno computes for a ClusterPolicy
const POD_CONTROLLERS = ["DaemonSet", "Deployment", "Job", "StatefulSet", "ReplicaSet", "ReplicationController", "CronJob"];
function kindsOf(f) {
	if (!f) return [];
	const ds = [...(f.any || []), ...(f.all || [])].map((x) => x.resources || {});
	if (f.resources) ds.push(f.resources);
	return ds;
}
function legacyCanAutogen(spec) {
	let needed = false;
	for (const rule of spec.rules) {
		if (rule.generate) return false;
		if (rule.mutate?.patchesJson6902) return false;
		for (const d of [...kindsOf(rule.match), ...kindsOf(rule.exclude)]) {
			const kinds = d.kinds || [];
			const other = kinds.length > 1 && kinds.some((k) => parseKindSelector(k)[2] === "Pod");
			if (d.name || (d.names || []).length || d.selector || d.annotations || other) return false;
			needed = needed || kinds.some((k) => ["Pod", ...POD_CONTROLLERS].includes(parseKindSelector(k)[2]));
		}
	}
	return needed;
}
const POD_CEL = [["object.spec", "object.spec.template.spec"], ["oldObject.spec", "oldObject.spec.template.spec"],
	["object.metadata", "object.spec.template.metadata"], ["oldObject.metadata", "oldObject.spec.template.metadata"]];
const CRON_CEL = [["object.spec", "object.spec.jobTemplate.spec.template.spec"],
	["oldObject.spec", "oldObject.spec.jobTemplate.spec.template.spec"],
	["object.metadata", "object.spec.jobTemplate.spec.template.metadata"],
	["oldObject.metadata", "oldObject.spec.jobTemplate.spec.template.metadata"]];
function retarget(rule, name, kinds, repl) {
	const swap = (f) => {
		if (!f) return f;
		const c = JSON.parse(JSON.stringify(f));
		for (const d of kindsOf(c)) if ((d.kinds || []).some((k) => parseKindSelector(k)[2] === "Pod")) d.kinds = kinds;
		return c;
	};
	let text = JSON.stringify({ ...rule, name: name.slice(0, 63), match: swap(rule.match), exclude: swap(rule.exclude) });
	if (rule.validate?.cel) for (const [a, b] of repl) text = replaceAll(text, a, b);
	return JSON.parse(text);
}
export function legacyRules(p) {
	const spec = p.spec;
	if (!legacyCanAutogen(spec)) return spec.rules;
	const ann = p.metadata.annotations?.["pod-policies.kyverno.io/autogen-controllers"];
	const controllers = ann ? ann.split(",") : POD_CONTROLLERS;
	if (ann === "none") return spec.rules;
	const out = [...spec.rules.filter((x) => !x.name.startsWith("autogen-"))];
	for (const rule of spec.rules) {
		const kinds = kindsOf(rule.match).flatMap((d) => d.kinds || []);
		if (!kinds.some((k) => parseKindSelector(k)[2] === "Pod")) continue;
		const plain = controllers.filter((c) => c !== "CronJob" && c !== "none").sort();
		if (plain.length) out.push(retarget(rule, `autogen-${rule.name}`, plain, POD_CEL));
		if (controllers.includes("CronJob")) out.push(retarget(rule, `autogen-cronjob-${rule.name}`, ["CronJob"], CRON_CEL));
	}
	return out;
}

function legacyExcepted(exceptions, policy, rule, cluster, r) {
	for (const ex of exceptions) {
		const hit = (ex.spec.exceptions || []).some((e) => e.policyName === policy &&
			(e.ruleNames || []).some((n) => wild(n, rule)));
		if (hit && filterMatches(ex.spec.match, cluster, r)) return ex.metadata.name;
	}
	return null;
}

export function evalClusterPolicy(p, exceptions, cluster, r) {
	const out = [];
	for (const rule of (p.rules ||= legacyRules(p))) {
		const cel = rule.validate?.cel;
		if (!cel) continue;
		if (!filterMatches(rule.match, cluster, r)) continue;
		if (rule.exclude && filterMatches(rule.exclude, cluster, r)) continue;
		const b = bindings(r);
		const res = { policy: p.metadata.name, rule: `${p.metadata.name}/${rule.name}`, errors: [], denied: [], excepted: null };
		out.push(res);
		let pre = true;
		for (const m of rule.celPreconditions || []) {
			const x = evaluate(m.expression, b);
			if (x.error) { res.errors.push(`celPrecondition ${m.name}: ${x.error}`); pre = false; break; }
			if (x.value !== true) { pre = false; break; }
		}
		if (!pre) { if (!res.errors.length) out.pop(); continue; }
		res.excepted = legacyExcepted(exceptions, p.metadata.name, rule.name, cluster, r);
		if (res.excepted) continue;
		const vars = new Map();
		const vb = { ...b, variables: vars };
		let ok = true;
		for (const v of cel.variables || []) {
			const x = evaluate(v.expression, vb);
			if (x.error) { res.errors.push(`variable ${v.name}: ${x.error}`); ok = false; break; }
			vars.set(v.name, x.value);
		}
		if (!ok) continue;
		for (const v of cel.expressions || []) {
			const x = evaluate(v.expression, vb);
			if (x.error) res.errors.push(`expression: ${x.error}`);
			else if (x.value !== true) res.denied.push(v.message || v.expression);
		}
	}
	return out;
}

// ---- a policy set -----------------------------------------------------------------------------
export class PolicySet {
	constructor(docs) {
		this.vps = docs.filter((d) => d.kind === "ValidatingPolicy");
		this.cps = docs.filter((d) => d.kind === "ClusterPolicy" && d.apiVersion === "kyverno.io/v1");
		this.vpEx = docs.filter((d) => d.kind === "PolicyException" && d.apiVersion === "policies.kyverno.io/v1");
		this.cpEx = docs.filter((d) => d.kind === "PolicyException" && d.apiVersion === "kyverno.io/v2");
	}
	validatingNames() {
		return [...this.vps.map((p) => p.metadata.name),
			...this.cps.filter((p) => p.spec.rules.some((x) => x.validate?.cel)).map((p) => p.metadata.name)];
	}
	admit(cluster, obj) {
		const r = cluster.request(obj);
		const results = [];
		for (const p of this.vps) results.push(...evalValidatingPolicy(p, this.vpEx, cluster, r));
		for (const p of this.cps) results.push(...evalClusterPolicy(p, this.cpEx, cluster, r));
		return results;
	}
}
