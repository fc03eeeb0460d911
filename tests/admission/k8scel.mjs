// k8scel.mjs — the Kubernetes CEL libraries the rendered policies use, as
// small shims over @bufbuild/cel (a conformant CEL engine), and the JSON ->
// CEL value conversion Kubernetes applies to objects.
//
// Only what the policies call is implemented; `unknownFunctions` reports any
// other function a policy names, so a policy that starts using (say) the url
// library fails the harness instead of passing untested. Each shim is checked
// against known cases by `selfTest` (values from the Kubernetes docs and
// k8s.io/apimachinery/pkg/api/resource tests).
import { celFunc, celMethod, CelScalar, mapType, listType, parse, plan, celEnv, isCelError } from "@bufbuild/cel";

// ---- values ------------------------------------------------------------------
// JSON objects are CEL maps, integers CEL ints (bigint), other numbers doubles.
export function toCel(v) {
	if (v === null || v === undefined) return null;
	if (Array.isArray(v)) return v.map(toCel);
	if (typeof v === "number") return Number.isInteger(v) ? BigInt(v) : v;
	if (typeof v === "object") {
		const m = new Map();
		for (const [k, x] of Object.entries(v)) m.set(k, toCel(x));
		return m;
	}
	return v;
}

// ---- quantity (k8s.io/apiserver/pkg/cel/library/quantity.go) -------------------
// A Quantity is represented as a map {"@quantity": <exact value in nano units as bigint>}:
// the engine has no opaque types without protobuf descriptors. Only quantity(),
// isQuantity() and the comparison/arithmetic-free methods are provided.
const QTYPE = mapType(CelScalar.STRING, CelScalar.DYN);
const SUFFIX = {
	n: 1n, u: 1000n, m: 1000000n, "": 1000000000n, k: 10n ** 12n, M: 10n ** 15n, G: 10n ** 18n, T: 10n ** 21n,
	P: 10n ** 24n, E: 10n ** 27n, Ki: 1024n * 10n ** 9n, Mi: 1024n ** 2n * 10n ** 9n, Gi: 1024n ** 3n * 10n ** 9n,
	Ti: 1024n ** 4n * 10n ** 9n, Pi: 1024n ** 5n * 10n ** 9n, Ei: 1024n ** 6n * 10n ** 9n,
};
const QRE = /^([+-]?)([0-9]+)?(?:\.([0-9]*))?(?:(Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E)|[eE]([+-]?[0-9]+))?$/;

// exact value * 1e9 (rounded up towards +inf below nano, as Kubernetes rounds up); null if not a quantity
export function parseQuantity(s) {
	const m = QRE.exec(s);
	if (!m || (m[2] === undefined && m[3] === undefined) || (m[2] === undefined && m[3] === "")) return null;
	const digits = (m[2] || "0") + (m[3] || "");
	let num = BigInt(digits), den = 10n ** BigInt((m[3] || "").length);
	if (m[5] !== undefined) {
		const e = BigInt(m[5]);
		if (e >= 0n) num *= 10n ** e; else den *= 10n ** -e;
		num *= 1000000000n;
	} else {
		num *= SUFFIX[m[4] || ""];
	}
	let v = num / den;
	if (num % den !== 0n) v += 1n; // Kubernetes rounds a value below its precision up
	return m[1] === "-" ? -v : v;
}

function q(s) {
	const v = parseQuantity(s);
	if (v === null) throw new Error(`quantity: cannot parse '${s}'`);
	return new Map([["@quantity", v]]);
}
const qv = (m) => {
	const v = m.get ? m.get("@quantity") : undefined;
	if (typeof v !== "bigint") throw new Error("no such overload: not a quantity");
	return v;
};
const cmp = (a, b) => (a < b ? -1n : a > b ? 1n : 0n);

export const funcs = [
	celFunc("quantity", [CelScalar.STRING], QTYPE, (s) => q(s)),
	celFunc("isQuantity", [CelScalar.STRING], CelScalar.BOOL, (s) => parseQuantity(s) !== null),
	celMethod("compareTo", QTYPE, [QTYPE], CelScalar.INT, function (o) { return cmp(qv(this), qv(o)); }),
	celMethod("isLessThan", QTYPE, [QTYPE], CelScalar.BOOL, function (o) { return qv(this) < qv(o); }),
	celMethod("isGreaterThan", QTYPE, [QTYPE], CelScalar.BOOL, function (o) { return qv(this) > qv(o); }),
	celMethod("sign", QTYPE, [], CelScalar.INT, function () { return cmp(qv(this), 0n); }),
];
const KNOWN = new Set(["quantity", "isQuantity", "compareTo", "isLessThan", "isGreaterThan", "sign",
	// CEL standard definitions used by the policies (operators are names with _ or @)
	"size", "matches", "startsWith", "endsWith", "contains", "in", "int", "string",
	// macros
	"has", "all", "exists", "exists_one", "map", "filter"]);

// ---- compile -------------------------------------------------------------------
const ENV = celEnv({ funcs });
const cache = new Map();
// { run(bindings) -> value | CelError } or throws a compile error (parse error, unknown function)
export function compile(expr) {
	let c = cache.get(expr);
	if (c) return c;
	let parsed;
	try {
		parsed = parse(expr);
	} catch (e) {
		throw new Error(`compile: ${e.message}`);
	}
	const unknown = [...functionsOf(parsed)].filter((f) => !/^[_@!]/.test(f) && !KNOWN.has(f));
	if (unknown.length) throw new Error(`compile: undeclared function(s) ${unknown.join(", ")}`);
	const p = plan(ENV, parsed);
	c = { run: (b) => p(b) };
	cache.set(expr, c);
	return c;
}

function* functionsOf(node, seen = new Set()) {
	if (!node || typeof node !== "object" || seen.has(node)) return;
	seen.add(node);
	if (typeof node.function === "string" && node.$typeName === "cel.expr.Expr.Call") yield node.function;
	for (const k of Object.keys(node)) {
		const v = node[k];
		if (v && typeof v === "object") yield* functionsOf(v, seen);
	}
}

// evaluate; returns {value} or {error}
export function evaluate(expr, bindings) {
	let c;
	try {
		c = compile(expr);
	} catch (e) {
		return { error: e.message, compile: true };
	}
	let r;
	try {
		r = c.run(bindings);
	} catch (e) {
		return { error: `runtime: ${e.message}` };
	}
	if (isCelError(r)) return { error: `runtime: ${r.message}` };
	return { value: r };
}

// ---- known cases -----------------------------------------------------------------
export function selfTest() {
	const cases = [
		["quantity('4').compareTo(quantity('4000m')) == 0", true],
		["quantity('4').compareTo(quantity('4001m')) < 0", true],
		["quantity('6').compareTo(quantity('4')) > 0", true],
		["quantity('16Gi').compareTo(quantity('17179869184')) == 0", true],
		["quantity('20Gi').compareTo(quantity('16Gi')) > 0", true],
		["quantity('1G').compareTo(quantity('1Gi')) < 0", true],
		["quantity('1e3').compareTo(quantity('1k')) == 0", true],
		["quantity('1.5').compareTo(quantity('1500m')) == 0", true],
		["quantity('100Gi').compareTo(quantity('100Gi')) <= 0", true],
		["quantity('101Gi').compareTo(quantity('100Gi')) <= 0", false],
		["quantity('200m').isLessThan(quantity('1'))", true],
		["quantity('2').isGreaterThan(quantity('1999m'))", true],
		["isQuantity('1.5Gi')", true],
		["isQuantity('1.5GiB')", false],
		["isQuantity('abc')", false],
		["quantity('-1').sign() == -1", true],
		["'ghcr.io/a/b:1.2'.matches(':[^/:]+$')", true],
		["'localhost:5000/a/b'.matches(':[^/:]+$')", false],
		["'x@sha256:' + 'a'.repeat(1) != ''", "compile"],
	];
	const failures = [];
	for (const [expr, want] of cases) {
		const r = evaluate(expr, {});
		const got = r.compile ? "compile" : r.error ? "error" : r.value;
		if (got !== want) failures.push(`${expr}: want ${want}, got ${got}${r.error ? ` (${r.error})` : ""}`);
	}
	const e = evaluate("quantity('4x')", {});
	if (!e.error) failures.push("quantity('4x') must be a runtime error");
	return { cases: cases.length + 1, failures };
}
