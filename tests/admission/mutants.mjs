// mutants.mjs — rendered objects changed the way each validating policy exists
// to catch: the library's mutants (stdlib/policies.yaml), and below, in code,
// those of the kinds the shipped suites do not carry (Secrets, ExternalSecrets,
// claims, PersistentVolumeClaims). Every pod mutant is made twice: on a rendered Deployment (the
// autogen rule must deny it at apply time) and on the Pod its ReplicaSet
// makes. The harness fails a mutant that its policy does not deny, and a
// validating policy that no mutant exercises.
import fs from "node:fs";
import yaml from "js-yaml";

const clone = (o) => (o === undefined ? undefined : JSON.parse(JSON.stringify(o)));

// the pod spec and pod metadata inside any pod-carrying object
function pod(o) {
	if (o.kind === "Pod") return { spec: o.spec, meta: o.metadata };
	if (o.kind === "CronJob") return { spec: o.spec.jobTemplate.spec.template.spec, meta: o.spec.jobTemplate.spec.template.metadata };
	return { spec: o.spec.template.spec, meta: (o.spec.template.metadata ||= {}) };
}
const c0 = (o) => pod(o).spec.containers[0];
const sc = (c) => (c.securityContext ||= {});

// The mutants are the policy library's (stdlib/policies.yaml `mutants`: JSON
// patches of a Pod, a Service, an Ingress or a team Namespace), the same data
// the Kyverno test suites of a render are made from (backend_kyverno.c).
const LIBRARY = yaml.load(fs.readFileSync(new URL("../../stdlib/policies.yaml", import.meta.url), "utf8")).policies;

function subst(v, params) {
	if (typeof v === "string") return v.replace(/\$\{([A-Z_]+)\}/g, (m, k) => (k in params ? params[k] : m));
	if (Array.isArray(v)) return v.map((x) => subst(x, params));
	if (v && typeof v === "object") return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, subst(x, params)]));
	return v;
}

// RFC 6902 add | replace | remove, as backend_kyverno.c applies them: `add`
// makes missing parent maps, a missing path makes replace and remove no-ops.
// prefix: where the pod lives in a controller ("/spec/template", ...).
export function applyPatch(o, ops, params, prefix = "") {
	for (const op of ops) {
		let p = op.path;
		if (prefix && !/^\/metadata\/(namespace|name)(\/|$)/.test(p)) p = prefix + p;
		const segs = p.split("/").slice(1).map((x) => subst(x, params).replace(/~1/g, "/").replace(/~0/g, "~"));
		let cur = o;
		for (const sg of segs.slice(0, -1)) {
			if (cur == null) break;
			if (Array.isArray(cur)) cur = cur[Number(sg)];
			else {
				if (!(sg in cur) && op.op === "add") cur[sg] = {};
				cur = cur[sg];
			}
		}
		if (cur == null || typeof cur !== "object") continue;
		const last = segs[segs.length - 1], value = clone(subst(op.value, params));
		if (Array.isArray(cur)) {
			if (last === "-") { if (op.op === "add") cur.push(value); continue; }
			const k = Number(last);
			if (!(k >= 0 && k < cur.length)) continue;
			if (op.op === "remove") cur.splice(k, 1);
			else cur[k] = value;
		} else if (op.op === "remove") delete cur[last];
		else if (op.op === "add" || last in cur) cur[last] = value;
	}
}

// where the pod template sits in each pod-carrying kind
const podPrefix = (o) => (o.kind === "Pod" ? "" : o.kind === "CronJob" ? "/spec/jobTemplate/spec/template" : "/spec/template");
const params = (o, x) => {
	const img = o.kind === "Pod" || ["Deployment", "StatefulSet", "DaemonSet", "Job", "CronJob"].includes(o.kind) ? c0(o).image : "";
	const image = img.replace(/:[^/:]+$/, "");
	return { DOMAIN: x.domain, TEAM_LABEL: x.teamLabel, ENV_LABEL: x.envLabel, TIER_LABEL: x.tierLabel, IMAGE: image,
		REGISTRY: image.split("/")[0] };
};
// policy -> [[mutant name, change(obj, ctx)]] for each base: pods, Services, Ingresses, Namespaces
const BY_BASE = { pod: {}, service: {}, ingress: {}, namespace: {} };
for (const l of LIBRARY)
	for (const m of l.mutants || []) {
		const base = m.on || { pods: "pod", "pods-and-services": "pod", services: "service", ingresses: "ingress", namespaces: "namespace" }[l.match];
		(BY_BASE[base][l.name] ||= []).push([m.name, (o, x) => applyPatch(o, m.patch, params(o, x), base === "pod" ? podPrefix(o) : "")]);
	}
const POD_MUTANTS = BY_BASE.pod;

export function mutantsFor(all, b) {
	const teamNs = new Set([...b.namespaces].filter(([, l]) => Object.keys(l).some((k) => k.endsWith("/team"))).map(([n]) => n));
	const teamLabel = Object.keys(b.namespaces.get([...teamNs][0]) || {}).find((k) => k.endsWith("/team"));
	const prefix = teamLabel ? teamLabel.replace(/\/team$/, "") : "";
	const domain = prefix.replace(/^platform\./, "");
	const excepted = exceptedServices(b);
	const inTeam = (o) => teamNs.has(o.metadata.namespace);
	const notExcepted = (o) => !excepted.has(`${o.metadata.namespace}/${o.metadata.labels?.["app.kubernetes.io/name"]}`);
	const dep = all.find((o) => o.kind === "Deployment" && inTeam(o) && notExcepted(o));
	const podObj = all.find((o) => o.kind === "Pod" && inTeam(o) && notExcepted(o));
	const x = { teamLabel, envLabel: `${prefix}/environment`, tierLabel: `${prefix}/tier`, domain };
	const cases = [];
	const push = (policy, mutant, base, change, why) => {
		if (!base) { cases.push({ policy, mutant, obj: null, why }); return; }
		const o = clone(base);
		change(o, x);
		cases.push({ policy, mutant, obj: o });
	};
	const wrapped = dep ? wrappers(dep) : {};
	for (const [policy, ms] of Object.entries(POD_MUTANTS))
		for (const [i, [m, f]] of ms.entries()) {
			push(policy, `${m}/deployment`, dep, f, "no Deployment in a team namespace");
			push(policy, `${m}/pod`, podObj, f, "no Pod in a team namespace");
			// the other pod controllers, by the autogen rules (cronjobs: their own rewrite)
			if (i === 0) for (const [k, o] of Object.entries(wrapped)) push(policy, `${m}/${k}`, o, f, "no Deployment");
		}
	// Services, Ingresses, Namespaces
	const svc = all.find((o) => o.kind === "Service" && o.apiVersion === "v1" && inTeam(o));
	const ing = all.find((o) => o.kind === "Ingress" && inTeam(o));
	const ns = all.find((o) => o.kind === "Namespace" && teamNs.has(o.metadata.name));
	for (const [base, obj, why] of [["service", svc, "no Service"], ["ingress", ing, "no Ingress"], ["namespace", ns, "no team Namespace"]])
		for (const [policy, ms] of Object.entries(BY_BASE[base]))
			for (const [m, f] of ms) push(policy, m, obj, f, why);
	// Secrets: the ones External Secrets and Crossplane write, changed
	const esoSecret = all.find((o) => o.kind === "Secret" && inTeam(o) && o.metadata.ownerReferences?.[0]?.kind === "ExternalSecret");
	const xpSecret = all.find((o) => o.kind === "Secret" && inTeam(o) && o.type === "connection.crossplane.io/v1alpha1");
	push("disallow-plain-secrets", "hand-made-secret", esoSecret, (o) => { delete o.metadata.ownerReferences; delete o.metadata.labels; }, "no Secret");
	push("disallow-plain-secrets", "connection-type-foreign-owner", xpSecret,
		(o) => { o.metadata.ownerReferences[0] = { ...o.metadata.ownerReferences[0], apiVersion: "v1", kind: "ConfigMap" }; }, "no connection Secret");
	push("disallow-plain-secrets", "connection-type-no-owner", xpSecret, (o) => { delete o.metadata.ownerReferences; }, "no connection Secret");
	push("disallow-plain-secrets", "claim-owner-not-controller", xpSecret, (o) => { o.metadata.ownerReferences[0].controller = false; }, "no connection Secret");
	push("disallow-plain-secrets", "claim-owner-opaque-type", xpSecret, (o) => { o.type = "Opaque"; }, "no connection Secret");
	// ExternalSecrets
	const es = all.find((o) => o.kind === "ExternalSecret" && inTeam(o));
	push("restrict-external-secret-store", "namespaced-secret-store", es, (o) => { o.spec.secretStoreRef.kind = "SecretStore"; }, "no ExternalSecret");
	// claims
	const claim = all.find((o) => o.apiVersion.startsWith(`platform.${domain}/`) && inTeam(o));
	push("restrict-claims-to-team-namespace", "other-team-label", claim, (o) => { o.metadata.labels[teamLabel] = "someone-else"; }, "no claim");
	push("restrict-claims-to-team-namespace", "in-default-namespace", claim, (o) => { o.metadata.namespace = "default"; }, "no claim");
	// PersistentVolumeClaims: the platform renders none; one in a team namespace, as a StatefulSet would make
	const pvc = all.find((o) => o.kind === "PersistentVolumeClaim" && inTeam(o)) || (dep && {
		apiVersion: "v1", kind: "PersistentVolumeClaim",
		metadata: { name: "data-0", namespace: dep.metadata.namespace, labels: { ...dep.spec.template.metadata.labels } },
		spec: { accessModes: ["ReadWriteOnce"], resources: { requests: { storage: "10Gi" } } },
	});
	push("restrict-volume-size", "200gi", pvc, (o) => { o.spec.resources.requests.storage = "200Gi"; }, "no PVC");
	push("restrict-volume-size", "no-storage-request", pvc, (o) => { delete o.spec.resources.requests; }, "no PVC");
	return cases;
}

// namespace/service pairs some PolicyException of the build names
function exceptedServices(b) {
	const out = new Set();
	for (const ex of [...b.policies.vpEx, ...b.policies.cpEx]) {
		const text = JSON.stringify(ex.spec);
		for (const m of text.matchAll(/request\.namespace in \[([^\]]*)\].*?\['app\.kubernetes\.io\/name'\] == '([^']+)'/g))
			for (const n of m[1].matchAll(/'([^']+)'/g)) out.add(`${n[1]}/${m[2]}`);
		for (const a of ex.spec.match?.any || [])
			for (const n of a.resources?.namespaces || []) out.add(`${n}/${a.resources?.selector?.matchLabels?.["app.kubernetes.io/name"]}`);
	}
	return out;
}

// For each service an exception names (in this build): the rendered workload
// needs the exception (denied without the PolicyExceptions), passes with it, a
// mutant breaking the same policy on another service of the namespace is
// denied, and the excepted workload breaking another policy is denied.
export function exceptionCases(all, b) {
	const cases = [];
	const exs = [...b.policies.vpEx.map((e) => [e, e.spec.policyRefs.map((r) => r.name)]),
		...b.policies.cpEx.map((e) => [e, e.spec.exceptions.map((r) => r.policyName)])];
	for (const [ex, policies] of exs) {
		const svcNs = exceptedServices({ policies: { vpEx: ex.apiVersion.startsWith("policies.") ? [ex] : [], cpEx: ex.apiVersion.startsWith("kyverno.") ? [ex] : [] } });
		for (const policy of policies) {
			const ms = POD_MUTANTS[policy];
			for (const key of [...svcNs].sort()) {
				const [ns, svc] = key.split("/");
				const mine = all.filter((o) => ["Deployment", "Pod"].includes(o.kind) && o.metadata.namespace === ns &&
					o.metadata.labels?.["app.kubernetes.io/name"] === svc);
				if (!mine.length) continue;
				for (const o of mine) {
					const k = o.kind.toLowerCase();
					cases.push({ exception: ex.metadata.name, policy, name: `${ns}/${svc}/${k}/denied-without-exception`, obj: o, want: "denied", withoutExceptions: true });
					cases.push({ exception: ex.metadata.name, policy, name: `${ns}/${svc}/${k}/admitted-with-exception`, obj: o, want: "excepted" });
					if (ms) {
						const m = clone(o);
						ms[0][1](m, {});
						cases.push({ exception: ex.metadata.name, policy, name: `${ns}/${svc}/${k}/mutant-${ms[0][0]}-admitted`, obj: m, want: "excepted" });
					}
					const other = policy === "disallow-privileged-containers" ? "disallow-host-namespaces" : "disallow-privileged-containers";
					const m2 = clone(o);
					POD_MUTANTS[other][0][1](m2, {});
					cases.push({ exception: ex.metadata.name, policy: other, name: `${ns}/${svc}/${k}/other-policy-${POD_MUTANTS[other][0][0]}-denied`, obj: m2, want: "denied" });
				}
				const neighbour = all.find((o) => o.kind === "Deployment" && o.metadata.namespace === ns &&
					o.metadata.labels?.["app.kubernetes.io/name"] !== svc);
				if (neighbour && ms) {
					const m = clone(neighbour);
					ms[0][1](m, {});
					cases.push({ exception: ex.metadata.name, policy, name: `${ns}/${neighbour.metadata.name}/same-mutant-on-another-service-denied`, obj: m, want: "denied" });
				}
			}
		}
	}
	return cases;
}

// The pod template of a rendered Deployment in each other pod controller the
// autogen rules cover (the platform renders Deployments only).
export function wrappers(dep) {
	const md = { name: dep.metadata.name, namespace: dep.metadata.namespace, labels: { ...dep.metadata.labels } };
	const tpl = clone(dep.spec.template);
	const jobTpl = clone(tpl);
	jobTpl.spec.restartPolicy = "OnFailure";
	return {
		statefulset: { apiVersion: "apps/v1", kind: "StatefulSet", metadata: clone(md),
			spec: { serviceName: dep.metadata.name, selector: clone(dep.spec.selector), template: clone(tpl) } },
		daemonset: { apiVersion: "apps/v1", kind: "DaemonSet", metadata: clone(md),
			spec: { selector: clone(dep.spec.selector), template: clone(tpl) } },
		job: { apiVersion: "batch/v1", kind: "Job", metadata: clone(md), spec: { template: clone(jobTpl) } },
		cronjob: { apiVersion: "batch/v1", kind: "CronJob", metadata: clone(md),
			spec: { schedule: "0 3 * * *", jobTemplate: { metadata: { labels: { ...tpl.metadata.labels } }, spec: { template: clone(jobTpl) } } } },
	};
}
