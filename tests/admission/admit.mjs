// admit.mjs — run the Kyverno policies a platform renders over the objects it
// builds, as the cluster would. Prints one line per case ("ok   NAME" or
// "FAIL NAME" + indented detail) and exits 1 when a case failed.
//
//   node admit.mjs selftest
//   node admit.mjs admit LABEL BUILT.yaml...     (kubectl kustomize clusters/<env> output, one per env)
//   node admit.mjs mutants LABEL BUILT.yaml...   (each mutant must be denied by the policy it targets)
//   node admit.mjs suites LABEL TREE              (the `kyverno test` suites a render ships, tests/kyverno/<env>/:
//                                                  each declared result is what the engine gives)
//
// The policies are those of each build (platform/kyverno is part of every
// clusters/<env>): ValidatingPolicies, ClusterPolicies and PolicyExceptions.
import fs from "node:fs";
import path from "node:path";
import { pathToFileURL } from "node:url";
import yaml from "js-yaml";
import { selfTest } from "./k8scel.mjs";
import { Cluster, PolicySet, vpAutogen, legacyRules, checkKind, selectorMatches } from "./kyverno.mjs";
import { controllerObjects } from "./controllers.mjs";
import { mutantsFor, exceptionCases, wrappers } from "./mutants.mjs";
import { psaViolations } from "./psa.mjs";

let failed = 0, passed = 0;
function ok(name) { console.log(`ok   ${name}`); passed++; }
function fail(name, detail) {
	console.log(`FAIL ${name}`);
	for (const l of String(detail).split("\n").slice(0, 40)) console.log(`     ${l}`);
	failed++;
}

// the cluster's namespaces: those of the build, and the ones its components live in
const SYSTEM_NS = ["default", "kube-system", "kyverno", "crossplane-system", "external-secrets", "argocd", "monitoring"];
export function loadBuild(file) {
	const docs = yaml.loadAll(fs.readFileSync(file, "utf8")).filter((d) => d && d.kind);
	const seen = new Set();
	for (const d of docs) { // what kustomize refuses in one build (run.sh may build in chunks)
		const k = `${d.apiVersion.split("/").length > 1 ? d.apiVersion.split("/")[0] : ""}/${d.kind}/${d.metadata.namespace || ""}/${d.metadata.name}`;
		if (seen.has(k)) throw new Error(`${file}: two objects ${k}`);
		seen.add(k);
	}
	const namespaces = new Map();
	for (const n of SYSTEM_NS) namespaces.set(n, { "kubernetes.io/metadata.name": n });
	for (const d of docs)
		if (d.kind === "Namespace" && d.apiVersion === "v1")
			namespaces.set(d.metadata.name, { ...(d.metadata.labels || {}), "kubernetes.io/metadata.name": d.metadata.name });
	for (const d of docs)
		if (d.metadata.namespace && !namespaces.has(d.metadata.namespace))
			namespaces.set(d.metadata.namespace, { "kubernetes.io/metadata.name": d.metadata.namespace });
	const xrds = new Map(), plurals = {};
	for (const d of docs)
		if (d.kind === "CompositeResourceDefinition") {
			const g = d.spec.group;
			if (d.spec.claimNames) {
				xrds.set(`${g}/${d.spec.claimNames.kind}`, d);
				plurals[`${g}/${d.spec.claimNames.kind}`] = d.spec.claimNames.plural;
			}
			plurals[`${g}/${d.spec.names.kind}`] = d.spec.names.plural;
		}
	const policies = new PolicySet(docs);
	const cluster = new Cluster(namespaces, plurals);
	return { docs, namespaces, xrds, policies, cluster };
}

const id = (o) => `${o.apiVersion} ${o.kind} ${o.metadata.namespace ? o.metadata.namespace + "/" : ""}${o.metadata.name}`;

function admitAll(b, items) {
	const errors = [], denials = [], excepted = [];
	let evaluations = 0;
	const matched = new Set();
	for (const { obj, from } of items) {
		for (const r of b.policies.admit(b.cluster, obj)) {
			evaluations++;
			matched.add(r.policy);
			const where = `${id(obj)}${from ? ` (from ${from})` : ""}`;
			for (const e of r.errors) errors.push(`${r.rule}: ${where}: ${e}`);
			for (const m of r.denied) denials.push(`${r.rule}: ${where}: ${m}`);
			if (r.excepted) excepted.push(`${r.rule}: ${where}: ${r.excepted}`);
		}
	}
	return { errors, denials, excepted, evaluations, matched };
}

function cmdAdmit(label, files) {
	const totals = { own: 0, made: 0 };
	for (const file of files) {
		const env = file.replace(/^.*\/|\.yaml$/g, "").replace(/^.*-/, "");
		const b = loadBuild(file);
		const own = b.docs.map((obj) => ({ obj }));
		const made = controllerObjects(b.docs, b.xrds);
		totals.own += own.length;
		totals.made += made.length;
		if (!b.policies.validatingNames().length) {
			fail(`${label}/${env}/policies`, `no validating policy in ${file}`);
			continue;
		}
		for (const [what, items] of [["own", own], ["controller-made", made]]) {
			const name = `${label}/${env}/${what}`;
			const r = admitAll(b, items);
			const kinds = {};
			for (const { obj } of items) kinds[obj.kind] = (kinds[obj.kind] || 0) + 1;
			const summary = `${items.length} objects, ${r.evaluations} evaluations, ${r.errors.length} CEL errors, ${r.denials.length} denials, ${r.excepted.length} excepted`;
			if (!items.length && what === "own") fail(name, "no objects");
			else if (r.errors.length || r.denials.length) fail(`${name} (${summary})`, [...r.errors, ...r.denials].join("\n"));
			else ok(`${name} (${summary}; ${Object.entries(kinds).sort().map(([k, n]) => `${n} ${k}`).join(", ")})`);
		}
		// Pod Security Admission: every pod passes the level its namespace enforces
		const pods = made.filter((x) => x.obj.kind === "Pod");
		const bad = [];
		const levels = {};
		for (const { obj, from } of pods) {
			const level = b.namespaces.get(obj.metadata.namespace)?.["pod-security.kubernetes.io/enforce"];
			levels[level || "none"] = (levels[level || "none"] || 0) + 1;
			for (const v of psaViolations(obj, level)) bad.push(`${id(obj)} (from ${from}): Pod Security ${level}: ${v}`);
		}
		const lv = Object.entries(levels).sort().map(([l, n]) => `${n} ${l}`).join(", ");
		if (bad.length) fail(`${label}/${env}/pod-security-admission (${pods.length} pods)`, bad.join("\n"));
		else ok(`${label}/${env}/pod-security-admission (${pods.length} pods: ${lv || "none"})`);
	}
	console.log(`# ${label}: ${totals.own} own objects, ${totals.made} controller-made objects`);
}

function cmdMutants(label, files) {
	const file = files[0];
	const b = loadBuild(file);
	const own = b.docs;
	const made = controllerObjects(b.docs, b.xrds).map((x) => x.obj);
	const all = [...own, ...made];
	const policyNames = new Set(b.policies.validatingNames());
	const cases = mutantsFor(all, b);
	const covered = new Set(), skipped = new Set();
	for (const c of cases) {
		const name = `${label}/${c.policy}/${c.mutant}`;
		if (!policyNames.has(c.policy)) continue; // disabled on this platform
		if (!c.obj) { skipped.add(c.policy); continue; } // this platform renders no such object
		const results = b.policies.admit(b.cluster, c.obj);
		const mine = results.filter((r) => r.policy === c.policy);
		const errs = results.flatMap((r) => r.errors.map((e) => `${r.rule}: ${e}`));
		const denied = mine.some((r) => r.denied.length);
		if (errs.length) fail(name, `CEL errors on ${id(c.obj)}:\n${errs.join("\n")}`);
		else if (!denied)
			fail(name, `${id(c.obj)} is admitted by ${c.policy}${mine.length ? "" : " (the policy does not match it)"}; ` +
				`rules evaluated: ${results.map((r) => r.rule).join(", ") || "none"}`);
		else {
			covered.add(c.policy);
			ok(`${name} (${mine.filter((r) => r.denied.length).map((r) => r.rule).join(", ")})`);
		}
	}
	for (const p of [...policyNames].sort())
		if (!covered.has(p) && !skipped.has(p)) fail(`${label}/${p}/has-a-denied-mutant`, `no mutant of a rendered object is denied by ${p}`);
	// run.sh checks that the examples together cover every validating policy of the library
	console.log(`# covered: ${[...covered].sort().join(" ")}`);
	// the other pod controllers, unchanged, and the objects their controllers make: admitted
	const dep0 = own.find((o) => o.kind === "Deployment" && b.namespaces.get(o.metadata.namespace)?.["pod-security.kubernetes.io/enforce"] === "restricted");
	if (dep0) {
		const ws = Object.values(wrappers(dep0));
		const items = [...ws.map((obj) => ({ obj })), ...controllerObjects(ws, b.xrds)];
		const r = admitAll(b, items);
		const kinds = [...new Set(items.map((x) => x.obj.kind))].sort().join(", ");
		const name = `${label}/other-pod-controllers-admitted`;
		if (r.errors.length || r.denials.length || !r.evaluations) fail(name, [...r.errors, ...r.denials, r.evaluations ? "" : "nothing evaluated"].join("\n"));
		else ok(`${name} (${items.length} objects: ${kinds}; ${r.evaluations} evaluations)`);
	} else fail(`${label}/other-pod-controllers-admitted`, "no Deployment in a restricted namespace");
	// a team namespace created outside platformc (what the generate policies are for): the
	// namespace with the team label and Pod Security restricted, and a pod of that team in it,
	// are admitted; the same namespace relaxed to privileged is denied
	const isTeamNs = (o) => o.kind === "Namespace" && o.metadata.labels?.["app.kubernetes.io/managed-by"] === "platformc" &&
		Object.keys(o.metadata.labels).some((k) => k.endsWith("/team"));
	const tpl = own.find((o) => isTeamNs(o) && made.some((p) => p.kind === "Pod" && p.metadata.namespace === o.metadata.name));
	const teamKey = tpl && Object.keys(tpl.metadata.labels).find((k) => k.endsWith("/team"));
	const srcPod = tpl && made.find((o) => o.kind === "Pod" && o.metadata.namespace === tpl.metadata.name);
	if (tpl && srcPod) {
		const nsName = `${tpl.metadata.labels[teamKey]}-preview-1`;
		const labels = { [teamKey]: tpl.metadata.labels[teamKey], "pod-security.kubernetes.io/enforce": "restricted" };
		const nsObj = { apiVersion: "v1", kind: "Namespace", metadata: { name: nsName, labels } };
		b.cluster.namespaces.set(nsName, { ...labels, "kubernetes.io/metadata.name": nsName });
		const p = JSON.parse(JSON.stringify(srcPod));
		p.metadata.namespace = nsName;
		for (const k of Object.keys(p.metadata.labels)) if (/\/(environment|tier)$/.test(k)) delete p.metadata.labels[k];
		for (const [what, o, want] of [["namespace", nsObj, "admitted"], ["pod", p, "admitted"],
			["namespace-privileged", { ...nsObj, metadata: { ...nsObj.metadata, labels: { ...labels, "pod-security.kubernetes.io/enforce": "privileged" } } }, "denied"]]) {
			const rs = b.policies.admit(b.cluster, o);
			const errs = rs.flatMap((r) => r.errors), den = rs.filter((r) => r.denied.length).map((r) => `${r.rule}: ${r.denied.join("; ")}`);
			const name = `${label}/unmanaged-team-namespace/${what}-${want}`;
			if (errs.length) fail(name, errs.join("\n"));
			else if ((want === "denied") !== (den.length > 0)) fail(name, den.length ? den.join("\n") : `${id(o)} admitted; want denied`);
			else ok(`${name} (${id(o)}${den.length ? `: ${rs.filter((r) => r.denied.length).map((r) => r.policy).join(", ")}` : ""})`);
		}
		b.cluster.namespaces.delete(nsName);
	} else fail(`${label}/unmanaged-team-namespace`, "no platformc team namespace with a pod to start from");
	// exceptions: each lets exactly its case through
	const noEx = new PolicySet(b.docs.filter((d) => d.kind !== "PolicyException"));
	for (const c of exceptionCases(all, b)) {
		const name = `${label}/exception/${c.exception}/${c.name}`;
		const set = c.withoutExceptions ? noEx : b.policies;
		const results = set.admit(b.cluster, c.obj);
		const mine = results.filter((r) => r.policy === c.policy);
		const errs = results.flatMap((r) => r.errors.map((e) => `${r.rule}: ${e}`));
		const denied = mine.some((r) => r.denied.length);
		const excepted = mine.some((r) => r.excepted);
		if (errs.length) fail(name, errs.join("\n"));
		else if (!mine.length) fail(name, `${c.policy} does not match ${id(c.obj)}`);
		else if (c.want === "denied" && !denied) fail(name, `${id(c.obj)} is admitted by ${c.policy}; want denied`);
		else if (c.want === "excepted" && (denied || !excepted)) fail(name, `${id(c.obj)}: want admitted through the exception, got ${denied ? "denied" : "no exception applied"}`);
		else ok(`${name} (${c.want}: ${id(c.obj)})`);
	}
}

// The Kyverno CLI test suites a render ships: each result a kyverno-test.yaml
// declares (pass / fail / skip of a policy, a ClusterPolicy rule, on named
// resources of a kind) is the verdict of the engine here, with the suite's
// policies, exceptions and namespaces; every resource of the suite is named
// by some result, and every mutant fails the policy it was made for.
function cmdSuites(label, tree) {
	const dirs = fs.readdirSync(path.join(tree, "tests/kyverno")).sort();
	if (!dirs.length) fail(`${label}/suites`, `no suite under ${tree}/tests/kyverno`);
	for (const env of dirs) {
		const dir = path.join(tree, "tests/kyverno", env);
		const name = `${label}/${env}`;
		const test = yaml.load(fs.readFileSync(path.join(dir, "kyverno-test.yaml"), "utf8"));
		const load = (files) => (files || []).flatMap((f) => yaml.loadAll(fs.readFileSync(path.join(dir, f), "utf8")).filter((d) => d && d.kind));
		const set = new PolicySet([...load(test.policies), ...load(test.exceptions)]);
		const namespaces = new Map();
		for (const n of test.values?.namespaces || [])
			namespaces.set(n.metadata.name, { ...(n.metadata.labels || {}), "kubernetes.io/metadata.name": n.metadata.name });
		const cluster = new Cluster(namespaces, {});
		const resources = [];
		for (const f of test.resources || [])
			for (const d of load([f])) resources.push({ obj: d, mutant: f === "mutants.yaml" });
		const named = new Set();
		const problems = [];
		const n = { pass: 0, fail: 0, skip: 0 };
		for (const r of test.results || []) {
			for (const rn of r.resources || []) {
				const hit = resources.find((x) => x.obj.kind === r.kind && x.obj.metadata.name === rn);
				if (!hit) { problems.push(`${r.policy}: no ${r.kind} ${rn} in the suite's resources`); continue; }
				named.add(hit);
				const results = set.admit(cluster, hit.obj).filter((x) => x.policy === r.policy &&
					(r.rule ? x.rule === `${r.policy}/${r.rule}` : !!r.isValidatingPolicy));
				const errs = results.flatMap((x) => x.errors);
				const got = errs.length ? "error" : !results.length ? "skip" : results.some((x) => x.denied.length) ? "fail" :
					results.some((x) => x.excepted) ? "skip" : "pass";
				if (got !== r.result) problems.push(`${r.policy}${r.rule ? "/" + r.rule : ""} on ${r.kind} ${rn}: declared ${r.result}, the engine gives ${got}${errs.length ? ": " + errs.join("; ") : ""}`);
				else n[got]++;
				if (hit.mutant && r.result !== "fail") problems.push(`mutant ${r.kind} ${rn} is declared ${r.result} for ${r.policy}`);
			}
		}
		for (const x of resources) if (!named.has(x)) problems.push(`${x.obj.kind} ${x.obj.metadata.name} is named by no result`);
		const mutants = resources.filter((x) => x.mutant).length;
		if (!mutants || !n.pass) problems.push(`${mutants} mutants, ${n.pass} passing results: the suite proves nothing`);
		if (problems.length) fail(`${name}/kyverno-test`, problems.join("\n"));
		else ok(`${name}/kyverno-test (${resources.length - mutants} resources, ${mutants} mutants; ${n.pass} pass, ${n.fail} fail and ${n.skip} skip (excepted) results agree with the engine)`);
	}
}

function main() {
	const [cmd, label, ...files] = process.argv.slice(2);
	try {
		if (cmd === "selftest") {
			const r = selfTest();
			if (r.failures.length) fail(`cel-shims (${r.cases} known cases)`, r.failures.join("\n"));
			else ok(`cel-shims (${r.cases} known cases)`);
		} else if (cmd === "admit" && label && files.length) cmdAdmit(label, files);
		else if (cmd === "mutants" && label && files.length) cmdMutants(label, files);
		else if (cmd === "suites" && label && files.length === 1) cmdSuites(label, files[0]);
		else {
			console.error("usage: admit.mjs selftest | admit LABEL BUILT.yaml... | mutants LABEL BUILT.yaml | suites LABEL TREE");
			process.exit(2);
		}
	} catch (e) {
		fail(`${label || cmd}/harness`, e.stack || e);
	}
	process.exit(failed ? 1 : 0);
}
if (import.meta.url === pathToFileURL(process.argv[1]).href) main();
