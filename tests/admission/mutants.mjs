// mutants.mjs — rendered objects changed the way each validating policy exists
// to catch. Every pod mutant is made twice: on a rendered Deployment (the
// autogen rule must deny it at apply time) and on the Pod its ReplicaSet
// makes. The harness fails a mutant that its policy does not deny, and a
// validating policy that no mutant exercises.
const clone = (o) => JSON.parse(JSON.stringify(o));

// the pod spec and pod metadata inside any pod-carrying object
function pod(o) {
	if (o.kind === "Pod") return { spec: o.spec, meta: o.metadata };
	if (o.kind === "CronJob") return { spec: o.spec.jobTemplate.spec.template.spec, meta: o.spec.jobTemplate.spec.template.metadata };
	return { spec: o.spec.template.spec, meta: (o.spec.template.metadata ||= {}) };
}
const c0 = (o) => pod(o).spec.containers[0];
const sc = (c) => (c.securityContext ||= {});

// policy -> [mutant name, change(obj, ctx)] for pod-carrying objects
const POD_MUTANTS = {
	"disallow-privileged-containers": [["privileged", (o) => { sc(c0(o)).privileged = true; }],
		["privileged-init-container", (o) => { pod(o).spec.initContainers = [{ ...clone(c0(o)), name: "init", securityContext: { ...clone(c0(o).securityContext), privileged: true } }]; }]],
	"disallow-host-namespaces": [["host-network", (o) => { pod(o).spec.hostNetwork = true; }],
		["host-pid", (o) => { pod(o).spec.hostPID = true; }], ["host-ipc", (o) => { pod(o).spec.hostIPC = true; }]],
	"disallow-host-path": [["host-path-volume", (o) => { (pod(o).spec.volumes ||= []).push({ name: "node", hostPath: { path: "/var/lib/kubelet" } }); }]],
	"disallow-host-ports": [["host-port", (o) => { c0(o).ports = [{ containerPort: 8080, hostPort: 8080, name: "http" }]; }]],
	"restrict-capabilities": [["add-net-raw", (o) => { (sc(c0(o)).capabilities ||= {}).add = ["NET_RAW"]; }],
		["add-sys-admin", (o) => { (sc(c0(o)).capabilities ||= {}).add = ["SYS_ADMIN"]; }],
		["no-drop-all", (o) => { delete (sc(c0(o)).capabilities ||= {}).drop; }]],
	"require-run-as-non-root": [["run-as-non-root-false", (o) => { sc(c0(o)).runAsNonRoot = false; }],
		["run-as-user-0", (o) => { (pod(o).spec.securityContext ||= {}).runAsUser = 0; }],
		["run-as-non-root-unset", (o) => { delete sc(c0(o)).runAsNonRoot; delete (pod(o).spec.securityContext ||= {}).runAsNonRoot; }]],
	"disallow-privilege-escalation": [["allow-privilege-escalation", (o) => { sc(c0(o)).allowPrivilegeEscalation = true; }],
		["privilege-escalation-unset", (o) => { delete sc(c0(o)).allowPrivilegeEscalation; }]],
	"require-seccomp-profile": [["seccomp-unconfined", (o) => { (pod(o).spec.securityContext ||= {}).seccompProfile = { type: "Unconfined" }; }],
		["seccomp-unset", (o) => { delete (pod(o).spec.securityContext ||= {}).seccompProfile; delete sc(c0(o)).seccompProfile; }]],
	"restrict-volume-types": [["nfs-volume", (o) => { (pod(o).spec.volumes ||= []).push({ name: "nfs", nfs: { server: "10.0.0.1", path: "/" } }); }]],
	"require-labels": [["no-kubernetes-id-label", (o) => { delete pod(o).meta.labels["backstage.io/kubernetes-id"]; }],
		["no-part-of-label", (o) => { delete pod(o).meta.labels["app.kubernetes.io/part-of"]; }]],
	"disallow-latest-tag": [["latest-tag", (o) => { c0(o).image = c0(o).image.replace(/:[^/:]+$/, "") + ":latest"; }],
		["untagged", (o) => { c0(o).image = c0(o).image.replace(/:[^/:]+$/, ""); }]],
	"require-requests-limits": [["no-resources", (o) => { delete c0(o).resources; }],
		["no-memory-limit", (o) => { delete c0(o).resources.limits; }]],
	"require-probes": [["no-liveness-probe", (o) => { delete c0(o).livenessProbe; }],
		["no-readiness-probe", (o) => { delete c0(o).readinessProbe; }]],
	"require-read-only-root-fs": [["writable-root-fs", (o) => { sc(c0(o)).readOnlyRootFilesystem = false; }]],
	"disallow-default-namespace": [["in-default-namespace", (o) => { o.metadata.namespace = "default"; }]],
	"restrict-image-registries": [["foreign-registry", (o) => { c0(o).image = "docker.io/library/nginx:1.27"; }],
		["registry-prefix-lookalike", (o, x) => { c0(o).image = `${x.registry}.evil.example/app:1.0`; }]],
	"disallow-default-service-account": [["default-service-account", (o) => { pod(o).spec.serviceAccountName = "default"; }],
		["service-account-unset", (o) => { delete pod(o).spec.serviceAccountName; }]],
	"restrict-service-account-token": [["automount-token", (o) => { pod(o).spec.automountServiceAccountToken = true; }],
		["automount-unset", (o) => { delete pod(o).spec.automountServiceAccountToken; }]],
	"disallow-secret-env-vars": [["env-secret-key-ref", (o) => { (c0(o).env ||= []).push({ name: "PW", valueFrom: { secretKeyRef: { name: "x", key: "pw" } } }); }],
		["env-from-secret", (o) => { (c0(o).envFrom ||= []).push({ secretRef: { name: "x" } }); }]],
	"require-team-label": [["other-team-label", (o, x) => { pod(o).meta.labels[x.teamLabel] = "someone-else"; }],
		["no-team-label", (o, x) => { delete pod(o).meta.labels[x.teamLabel]; }]],
	"require-cost-allocation-labels": [["other-environment-label", (o, x) => { pod(o).meta.labels[x.envLabel] = "elsewhere"; }],
		["no-tier-label", (o, x) => { delete pod(o).meta.labels[x.tierLabel]; }]],
	"restrict-container-size": [["six-cpu", (o) => { c0(o).resources.requests.cpu = "6"; }],
		["twenty-gi", (o) => { c0(o).resources.requests.memory = "20Gi"; c0(o).resources.limits.memory = "20Gi"; }]],
};

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
	const x = {
		teamLabel, envLabel: `${prefix}/environment`, tierLabel: `${prefix}/tier`,
		registry: dep ? c0(dep).image.split("/")[0] : "ghcr.io",
	};
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
	// Services
	const svc = all.find((o) => o.kind === "Service" && o.apiVersion === "v1" && inTeam(o));
	for (const t of ["LoadBalancer", "NodePort", "ExternalName"])
		push("restrict-service-types", t.toLowerCase(), svc, (o) => { o.spec.type = t; }, "no Service");
	push("disallow-default-namespace", "service-in-default-namespace", svc, (o) => { o.metadata.namespace = "default"; }, "no Service");
	// Ingresses
	const ing = all.find((o) => o.kind === "Ingress" && inTeam(o));
	push("restrict-ingress-class", "other-class", ing, (o) => { o.spec.ingressClassName = "traefik"; }, "no Ingress");
	push("restrict-ingress-class", "class-unset", ing, (o) => { delete o.spec.ingressClassName; }, "no Ingress");
	push("restrict-ingress-hosts", "foreign-host", ing, (o) => { o.spec.rules[0].host = "shop.example.com"; }, "no Ingress");
	push("restrict-ingress-hosts", "suffix-lookalike", ing, (o) => { o.spec.rules[0].host = `evil${domain}`; }, "no Ingress");
	push("restrict-ingress-hosts", "wildcard-host", ing, (o) => { o.spec.rules[0].host = `*.${domain}`; }, "no Ingress");
	push("restrict-ingress-hosts", "no-host", ing, (o) => { delete o.spec.rules[0].host; }, "no Ingress");
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
	// Namespaces
	const ns = all.find((o) => o.kind === "Namespace" && teamNs.has(o.metadata.name));
	push("require-pod-security-labels", "enforce-privileged", ns, (o) => { o.metadata.labels["pod-security.kubernetes.io/enforce"] = "privileged"; }, "no team Namespace");
	push("require-pod-security-labels", "enforce-unset", ns, (o) => { delete o.metadata.labels["pod-security.kubernetes.io/enforce"]; }, "no team Namespace");
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
