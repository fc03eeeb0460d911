// case.mjs BUILT.yaml SERVICE WHAT VALUE POLICY — the rendered object of SERVICE
// (its Deployment for image/cpu/memory, its Ingress for host) changed to VALUE
// must be denied by POLICY, and admitted unchanged. Prints one ok/FAIL line.
import { loadBuild } from "./admit.mjs";
const [file, svc, what, value, policy, label] = process.argv.slice(2);
const b = loadBuild(file);
const kind = what === "host" ? "Ingress" : "Deployment";
const obj = b.docs.find((o) => o.kind === kind && o.metadata.name === svc);
const verdict = (o) => {
	const rs = b.policies.admit(b.cluster, o).filter((r) => r.policy === policy);
	if (rs.some((r) => r.errors.length)) return "error";
	return !rs.length ? "unmatched" : rs.some((r) => r.denied.length) ? "denied" : "admitted";
};
if (!obj) { console.log(`FAIL ${label}\n     no ${kind} ${svc} in ${file}`); process.exit(1); }
const m = JSON.parse(JSON.stringify(obj));
const c = m.spec.template?.spec?.containers?.[0];
if (what === "host") m.spec.rules[0].host = value;
else if (what === "image") c.image = value;
else c.resources.requests[what] = value;
const before = verdict(obj), after = verdict(m);
if (before === "admitted" && after === "denied") console.log(`ok   ${label} (${policy} denies the rendered ${kind} with ${what} ${value})`);
else { console.log(`FAIL ${label}\n     ${policy}: rendered ${kind} ${before}, with ${what} ${value} ${after}; want admitted, denied`); process.exit(1); }
