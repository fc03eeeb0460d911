// psa.mjs — Pod Security Admission's checks (k8s.io/pod-security-admission,
// policy version "latest"), the ones a pod platformc renders can meet: the
// built-in layer under the Kyverno policies. A pod must pass the level its
// namespace enforces (label pod-security.kubernetes.io/enforce), or an
// exception that Kyverno lets through is still refused by the API server.
const BASELINE_CAPS = new Set(["AUDIT_WRITE", "CHOWN", "DAC_OVERRIDE", "FOWNER", "FSETID", "KILL", "MKNOD",
	"NET_BIND_SERVICE", "SETFCAP", "SETGID", "SETPCAP", "SETUID", "SYS_CHROOT"]);
const RESTRICTED_VOLUMES = ["configMap", "csi", "downwardAPI", "emptyDir", "ephemeral", "persistentVolumeClaim", "projected", "secret"];

export function psaViolations(pod, level) {
	if (!level || level === "privileged") return [];
	const s = pod.spec || {};
	const cs = [...(s.containers || []), ...(s.initContainers || []), ...(s.ephemeralContainers || [])];
	const psc = s.securityContext || {};
	const v = [];
	// baseline
	if (s.hostNetwork || s.hostPID || s.hostIPC) v.push("host namespaces");
	if (cs.some((c) => c.securityContext?.privileged)) v.push("privileged");
	if ((s.volumes || []).some((x) => x.hostPath)) v.push("hostPath volumes");
	if (cs.some((c) => (c.ports || []).some((p) => p.hostPort))) v.push("hostPort");
	if (cs.some((c) => (c.securityContext?.capabilities?.add || []).some((x) => !BASELINE_CAPS.has(x)))) v.push("non-default capabilities");
	const unconfined = (x) => x?.seccompProfile?.type === "Unconfined";
	if (unconfined(psc) || cs.some((c) => unconfined(c.securityContext))) v.push("seccompProfile Unconfined");
	if (cs.some((c) => c.securityContext?.procMount && c.securityContext.procMount !== "Default")) v.push("procMount");
	if (level === "baseline") return v;
	// restricted
	if ((s.volumes || []).some((x) => !RESTRICTED_VOLUMES.some((k) => x[k]))) v.push("restricted volume types");
	if (cs.some((c) => c.securityContext?.allowPrivilegeEscalation !== false)) v.push("allowPrivilegeEscalation != false");
	if (cs.some((c) => (c.securityContext?.runAsNonRoot ?? psc.runAsNonRoot) !== true) ||
		psc.runAsNonRoot === false || cs.some((c) => c.securityContext?.runAsNonRoot === false)) v.push("runAsNonRoot != true");
	if (psc.runAsUser === 0 || cs.some((c) => c.securityContext?.runAsUser === 0)) v.push("runAsUser=0");
	const sec = (x) => ["RuntimeDefault", "Localhost"].includes(x?.seccompProfile?.type);
	if (!cs.every((c) => sec(c.securityContext) || (!c.securityContext?.seccompProfile && sec(psc)))) v.push("seccompProfile");
	if (cs.some((c) => !(c.securityContext?.capabilities?.drop || []).includes("ALL"))) v.push("capabilities drop ALL");
	if (cs.some((c) => (c.securityContext?.capabilities?.add || []).some((x) => x !== "NET_BIND_SERVICE"))) v.push("capabilities add");
	return v;
}
