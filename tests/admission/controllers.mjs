// controllers.mjs — the objects controllers create from the objects the
// platform applies, with the metadata each controller adds. Each comes with
// its source ("from") so a denial names the rendered object behind it.
//
//   Deployment  -> ReplicaSet (labels + pod-template-hash, ownerReference Deployment)
//               -> Pod (template labels + pod-template-hash, ownerReference ReplicaSet)
//   StatefulSet -> Pod (+ controller-revision-hash, statefulset.kubernetes.io/pod-name,
//                  apps.kubernetes.io/pod-index), PersistentVolumeClaims of volumeClaimTemplates
//   DaemonSet   -> Pod (+ controller-revision-hash, pod-template-generation)
//   Job         -> Pod (+ batch.kubernetes.io/controller-uid, batch.kubernetes.io/job-name,
//                  controller-uid, job-name; ownerReference Job)
//   CronJob     -> Job (jobTemplate metadata, ownerReference CronJob) -> Pod
//   Crossplane claim with writeConnectionSecretToRef
//               -> Secret in the claim's namespace: crossplane-runtime
//                  resource.LocalConnectionSecretFor — ownerReference the claim
//                  (controller, blockOwnerDeletion), type connection.crossplane.io/v1alpha1, no labels
//               -> the composite (XR): cluster-scoped, kind from the XRD, labels of the claim +
//                  crossplane.io/claim-name, crossplane.io/claim-namespace, crossplane.io/composite
//                  (Crossplane v1 claim syncer), spec of the claim + claimRef, its connection
//                  secret in the XRD's writeConnectionSecretsToNamespace
//   ExternalSecret (creationPolicy Owner, the default)
//               -> Secret spec.target.name: ownerReference ExternalSecret (controller), labels
//                  reconcile.external-secrets.io/managed: "true" and
//                  reconcile.external-secrets.io/created-by, annotation reconcile.external-secrets.io/data-hash,
//                  plus spec.target.template.metadata
const clone = (o) => JSON.parse(JSON.stringify(o));
const owner = (o, extra = {}) => ({
	apiVersion: o.apiVersion, kind: o.kind, name: o.metadata.name, uid: `uid-${o.kind}-${o.metadata.name}`,
	controller: true, blockOwnerDeletion: true, ...extra,
});

function podFrom(tpl, ns, name, extraLabels, ownerRef) {
	const md = clone(tpl.metadata || {});
	const pod = {
		apiVersion: "v1", kind: "Pod",
		metadata: {
			...md, name, namespace: ns, generateName: name.replace(/[^-]+$/, ""),
			labels: { ...(md.labels || {}), ...extraLabels },
			ownerReferences: [ownerRef],
		},
		spec: clone(tpl.spec || {}),
	};
	return pod;
}

export function controllerObjects(objs, xrds) {
	const out = [];
	const add = (o, from) => out.push({ obj: o, from });
	for (const o of objs) {
		const ns = o.metadata?.namespace;
		const src = `${o.kind}/${ns ? ns + "/" : ""}${o.metadata?.name}`;
		switch (o.apiVersion + " " + o.kind) {
		case "apps/v1 Deployment": {
			const hash = "5d4f8c7b9";
			const rs = {
				apiVersion: "apps/v1", kind: "ReplicaSet",
				metadata: {
					name: `${o.metadata.name}-${hash}`, namespace: ns,
					labels: { ...(o.spec.template.metadata?.labels || {}), "pod-template-hash": hash },
					annotations: { "deployment.kubernetes.io/revision": "1" },
					ownerReferences: [owner(o)],
				},
				spec: {
					replicas: o.spec.replicas ?? 1,
					selector: { matchLabels: { ...(o.spec.selector?.matchLabels || {}), "pod-template-hash": hash } },
					template: clone(o.spec.template),
				},
			};
			rs.spec.template.metadata = { ...(rs.spec.template.metadata || {}), labels: { ...(o.spec.template.metadata?.labels || {}), "pod-template-hash": hash } };
			add(rs, src);
			add(podFrom(o.spec.template, ns, `${rs.metadata.name}-x7k2p`, { "pod-template-hash": hash }, owner(rs)), src);
			break;
		}
		case "apps/v1 StatefulSet": {
			const n = `${o.metadata.name}-0`;
			add(podFrom(o.spec.template, ns, n, {
				"controller-revision-hash": `${o.metadata.name}-6b9c7d8f5`, "statefulset.kubernetes.io/pod-name": n,
				"apps.kubernetes.io/pod-index": "0",
			}, owner(o)), src);
			for (const t of o.spec.volumeClaimTemplates || [])
				add({
					apiVersion: "v1", kind: "PersistentVolumeClaim",
					metadata: { name: `${t.metadata.name}-${n}`, namespace: ns,
						labels: { ...(t.metadata.labels || {}), ...(o.spec.selector?.matchLabels || {}) } },
					spec: clone(t.spec),
				}, src);
			break;
		}
		case "apps/v1 DaemonSet":
			add(podFrom(o.spec.template, ns, `${o.metadata.name}-q8w4r`, {
				"controller-revision-hash": "7c9d5b6f4", "pod-template-generation": "1",
			}, owner(o)), src);
			break;
		case "batch/v1 Job":
			jobPods(o, src, add);
			break;
		case "batch/v1 CronJob": {
			const jt = o.spec.jobTemplate || {};
			const job = {
				apiVersion: "batch/v1", kind: "Job",
				metadata: {
					...clone(jt.metadata || {}), name: `${o.metadata.name}-29400000`, namespace: ns,
					annotations: { ...(jt.metadata?.annotations || {}), "batch.kubernetes.io/cronjob-scheduled-timestamp": "2026-01-01T00:00:00Z" },
					ownerReferences: [owner(o)],
				},
				spec: clone(jt.spec || {}),
			};
			add(job, src);
			jobPods(job, src, add);
			break;
		}
		case "external-secrets.io/v1 ExternalSecret": {
			const t = o.spec.target || {};
			if ((t.creationPolicy || "Owner") !== "Owner") break;
			const tm = t.template?.metadata || {};
			add({
				apiVersion: "v1", kind: "Secret", type: t.template?.type || "Opaque",
				metadata: {
					name: t.name || o.metadata.name, namespace: ns,
					labels: { ...(tm.labels || {}), "reconcile.external-secrets.io/managed": "true",
						"reconcile.external-secrets.io/created-by": "2c26b46b68ffc68ff99b453c1d304134" },
					annotations: { ...(tm.annotations || {}), "reconcile.external-secrets.io/data-hash": "0f3e8a2c" },
					ownerReferences: [owner(o)],
				},
				data: {},
			}, src);
			break;
		}
		default: {
			const xrd = xrds.get(`${o.apiVersion.split("/")[0]}/${o.kind}`);
			if (!xrd || !ns) break;
			if (o.spec?.writeConnectionSecretToRef?.name)
				add({
					apiVersion: "v1", kind: "Secret", type: "connection.crossplane.io/v1alpha1",
					metadata: { name: o.spec.writeConnectionSecretToRef.name, namespace: ns, ownerReferences: [owner(o)] },
					data: {},
				}, src);
			const xrName = `${o.metadata.name}-h7x2q`;
			const spec = clone(o.spec || {});
			delete spec.writeConnectionSecretToRef;
			spec.claimRef = { apiVersion: o.apiVersion, kind: o.kind, name: o.metadata.name, namespace: ns };
			const connNs = xrd.spec.writeConnectionSecretsToNamespace;
			if (connNs) spec.writeConnectionSecretToRef = { name: `uid-${xrName}`, namespace: connNs };
			const xr = {
				apiVersion: o.apiVersion, kind: xrd.spec.names.kind,
				metadata: {
					name: xrName,
					labels: { ...(o.metadata.labels || {}), "crossplane.io/claim-name": o.metadata.name,
						"crossplane.io/claim-namespace": ns, "crossplane.io/composite": xrName },
					annotations: { ...(o.metadata.annotations || {}) },
				},
				spec,
			};
			add(xr, src);
			if (connNs)
				add({
					apiVersion: "v1", kind: "Secret", type: "connection.crossplane.io/v1alpha1",
					metadata: { name: `uid-${xrName}`, namespace: connNs, ownerReferences: [owner(xr)] },
					data: {},
				}, src);
		}
		}
	}
	return out;
}

function jobPods(job, src, add) {
	const uid = `uid-Job-${job.metadata.name}`;
	add(podFrom(job.spec.template || {}, job.metadata.namespace, `${job.metadata.name}-m4n8t`, {
		"batch.kubernetes.io/controller-uid": uid, "batch.kubernetes.io/job-name": job.metadata.name,
		"controller-uid": uid, "job-name": job.metadata.name,
	}, owner(job, { uid })), src);
}
