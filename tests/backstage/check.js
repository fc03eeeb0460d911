#!/usr/bin/env node
// check.js — what Backstage would do with the catalog platformc renders.
//
//   node check.js catalog DIR [EXTRA.yaml...]
//       Every entity under DIR (and in the EXTRA files, for negative tests) as
//       the catalog applies it: placeholders ($text, $json, $yaml) resolved to
//       text as at ingestion, then the entity policies (schema, default
//       namespace, no foreign root fields, field formats) and the kind's
//       validator of @backstage/catalog-model. Then relation integrity: every
//       entity reference is fully qualified and names an entity of the same
//       set; the root Location lists every entity file and only existing ones.
//   node check.js names
//       Names at the edges of the language's name rules are valid Backstage names.
//   node check.js skeletons CATALOG_DIR EXAMPLE_DIR WORK_DIR
//       For every Template: fills the form with its defaults (a sample name,
//       the template owner's team, a sample for a required field without a
//       default), renders the fetch step's values and the skeleton with
//       nunjucks as the scaffolder does, adds the file to a copy of the
//       example and runs `$PLATFORMC check` (must pass). The same file with
//       the name of an existing service must fail, which proves the include
//       globs pick the file up. The filled form must pass the form's own
//       JSON Schema (as the scaffolder's form does before it submits).
//       Then every field set to a value other than its default: the file
//       must hold exactly those values (the skeleton writes what changed);
//       a new service filled that way must pass `platformc check` too, and a
//       resource may fail only the kind's rules across fields or references.
//
// Prints "FAIL ..." lines and a summary; exit status 1 on any failure.
'use strict';

const fs = require('fs');
const path = require('path');
const { spawnSync } = require('child_process');
const yaml = require('js-yaml');
const nunjucks = require('nunjucks');
const model = require('@backstage/catalog-model');
const Ajv = require('ajv');

const failures = [];
const fail = (where, msg) => failures.push(`FAIL ${where}: ${msg}`);

function walk(dir, skip) {
	const out = [];
	for (const e of fs.readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
		const p = path.join(dir, e.name);
		if (e.name.startsWith('.') || (skip && skip(p))) continue;
		if (e.isDirectory()) out.push(...walk(p, skip));
		else out.push(p);
	}
	return out;
}

// ---- catalog ---------------------------------------------------------------

const policy = model.EntityPolicies.allOf([
	new model.SchemaValidEntityPolicy(),
	new model.DefaultNamespaceEntityPolicy(),
	new model.NoForeignRootFieldsEntityPolicy(),
	new model.FieldFormatEntityPolicy(),
]);

const validators = {
	API: model.apiEntityV1alpha1Validator,
	Component: model.componentEntityV1alpha1Validator,
	Domain: model.domainEntityV1alpha1Validator,
	Group: model.groupEntityV1alpha1Validator,
	Location: model.locationEntityV1alpha1Validator,
	Resource: model.resourceEntityV1alpha1Validator,
	System: model.systemEntityV1alpha1Validator,
	User: model.userEntityV1alpha1Validator,
};

// The catalog's PlaceholderProcessor replaces {$text: url} (and $json, $yaml)
// by the content it reads; here the reference is checked and becomes text.
function resolvePlaceholders(v, where) {
	if (Array.isArray(v)) return v.map((x, i) => resolvePlaceholders(x, `${where}[${i}]`));
	if (v && typeof v === 'object') {
		const keys = Object.keys(v);
		if (keys.length === 1 && ['$text', '$json', '$yaml'].includes(keys[0])) {
			const target = v[keys[0]];
			if (typeof target !== 'string' || !target) fail(where, `${keys[0]} needs a location`);
			else if (/^[a-z]+:/.test(target)) {
				try { new URL(target); } catch { fail(where, `${keys[0]} ${target} is not a URL`); }
			}
			return `(content of ${target})`;
		}
		const out = {};
		for (const k of keys) out[k] = resolvePlaceholders(v[k], `${where}.${k}`);
		return out;
	}
	return v;
}

// Relation fields and the kind a reference defaults to (BuiltinKindsEntityProcessor).
const relationFields = {
	Component: { owner: 'Group', system: 'System', subcomponentOf: 'Component', providesApis: 'API', consumesApis: 'API', dependsOn: 'Component', dependencyOf: 'Component' },
	API: { owner: 'Group', system: 'System' },
	Resource: { owner: 'Group', system: 'System', dependsOn: 'Component', dependencyOf: 'Component' },
	System: { owner: 'Group', domain: 'Domain' },
	Domain: { owner: 'Group', subdomainOf: 'Domain' },
	Group: { parent: 'Group', children: 'Group', members: 'User' },
	User: { memberOf: 'Group' },
	Template: { owner: 'Group' },
};

const key = (kind, ns, name) => `${kind}:${ns}/${name}`.toLowerCase();

async function checkCatalog(dir, extras) {
	const files = walk(dir, p => /\/templates\/[^/]+\/skeleton$/.test(p)).filter(f => f.endsWith('.yaml'));
	const entities = [];
	for (const f of [...files, ...extras]) {
		let docs;
		try { docs = yaml.loadAll(fs.readFileSync(f, 'utf8')); } catch (e) { fail(f, `YAML: ${e.message}`); continue; }
		docs.forEach((doc, i) => { if (doc) entities.push({ file: f, idx: i, doc }); });
	}
	const known = new Set();
	const counts = {};
	for (const e of entities) {
		const where = `${path.relative(dir, e.file)}#${e.idx} ${e.doc.kind}/${e.doc.metadata && e.doc.metadata.name}`;
		e.where = where;
		let ent = resolvePlaceholders(JSON.parse(JSON.stringify(e.doc)), where);
		try {
			ent = await policy.enforce(ent);
		} catch (err) { fail(where, `policy: ${err.message}`); continue; }
		if (!ent) { fail(where, 'rejected by the entity policies'); continue; }
		const v = validators[ent.kind];
		if (v) {
			try {
				if (!(await v.check(ent))) fail(where, `no validator accepts apiVersion ${ent.apiVersion}`);
			} catch (err) { fail(where, `${ent.kind} validator: ${err.message}`); continue; }
		} else if (!(ent.kind === 'Template' && ent.apiVersion === 'scaffolder.backstage.io/v1beta3')) {
			fail(where, `unexpected kind ${ent.apiVersion}/${ent.kind}`);
		}
		e.ent = ent;
		const k = key(ent.kind, ent.metadata.namespace, ent.metadata.name);
		if (known.has(k)) fail(where, `a second entity ${k}`);
		known.add(k);
		counts[ent.kind] = (counts[ent.kind] || 0) + 1;
	}
	// relation integrity
	let refs = 0;
	for (const e of entities) {
		if (!e.ent) continue;
		const fields = relationFields[e.ent.kind] || {};
		for (const [field, defaultKind] of Object.entries(fields)) {
			const v = e.ent.spec && e.ent.spec[field];
			if (v === undefined) continue;
			for (const r of Array.isArray(v) ? v : [v]) {
				refs++;
				if (typeof r !== 'string' || !/^[A-Za-z]+:[^/]+\/.+$/.test(r)) {
					fail(e.where, `spec.${field}: ${JSON.stringify(r)} is not a fully qualified entity reference`);
					continue;
				}
				const p = model.parseEntityRef(r, { defaultKind, defaultNamespace: 'default' });
				if (!known.has(key(p.kind, p.namespace, p.name)))
					fail(e.where, `spec.${field}: ${r} names no entity of this catalog`);
			}
		}
	}
	// the root Location lists every entity file, and only existing files
	const root = path.join(dir, 'catalog-info.yaml');
	const locs = entities.filter(e => e.file === root && e.doc.kind === 'Location');
	if (!locs.length) fail('catalog-info.yaml', 'no root Location');
	const listed = new Set();
	for (const l of locs) {
		for (const t of l.doc.spec.targets || []) {
			if (!t.startsWith('./')) fail(l.where, `target ${t} is not relative to the Location`);
			const p = path.resolve(dir, t);
			if (!fs.existsSync(p)) fail(l.where, `target ${t} does not exist`);
			listed.add(p);
		}
	}
	for (const f of files) if (f !== root && !listed.has(path.resolve(f))) fail(path.relative(dir, f), 'not listed by the root Location');
	const summary = Object.keys(counts).sort().map(k => `${counts[k]} ${k}`).join(', ');
	return `${entities.length} entities (${summary}), ${refs} references`;
}

// ---- names -----------------------------------------------------------------

function checkNames() {
	// guide §3.1 name: ^[a-z]([-a-z0-9]*[a-z0-9])?$, <= 63; GitHub user: ^[A-Za-z0-9](-?[A-Za-z0-9])*$, <= 39
	const specNames = ['a', 'a1', 'a-b', 'a--b', 'z'.repeat(63), 'a' + '-9'.repeat(31)];
	const githubUsers = ['A', '9', 'Priya-Nair', 'x'.repeat(39), 'A-' + 'b-'.repeat(18) + 'C'];
	const check = model.KubernetesValidatorFunctions.isValidObjectName;
	for (const n of [...specNames, ...githubUsers]) if (!check(n)) fail('names', `${n} is not a valid Backstage entity name`);
	// and the entity policy agrees: names out of the language's name rules are caught by the policy, not let through
	if (check('User Service') || check('a'.repeat(64))) fail('names', 'the validator accepts an invalid name');
	return `${specNames.length + githubUsers.length} edge names`;
}

// ---- skeletons ---------------------------------------------------------------

function templater() {
	// configured as the scaffolder's SecureTemplater (no autoescape, ${{ }}),
	// with its built-in filters that the templates use
	const env = new nunjucks.Environment(null, { autoescape: false, tags: { variableStart: '${{', variableEnd: '}}' } });
	env.addFilter('parseEntityRef', (ref, ctx) => model.parseEntityRef(ref, ctx));
	env.addFilter('pick', (obj, k) => (obj == null ? undefined : k.split('.').reduce((o, p) => (o == null ? o : o[p]), obj)));
	return env;
}

function isSingleTemplateString(input) {
	const parsed = nunjucks.parser.parse(input, {}, { autoescape: false, tags: { variableStart: '${{', variableEnd: '}}' } });
	return parsed.children.length === 1 && !(parsed.children[0]?.children?.[0] instanceof nunjucks.nodes.TemplateData);
}

// NunjucksWorkflowRunner.render: a string that is one ${{ }} keeps its JSON type.
function renderInput(env, input, context) {
	return JSON.parse(JSON.stringify(input), (_k, value) => {
		if (typeof value !== 'string') return value;
		if (!isSingleTemplateString(value)) return env.renderString(value, context);
		const templated = env.renderString(value.replace(/\${{(.+)}}/g, '${{ ( $1 ) | dump }}'), context);
		return templated === '' ? undefined : JSON.parse(templated);
	});
}

// Text samples for string fields: the first that the field's pattern accepts
// (kinds' patterns come from their kind.yaml, so fixed samples would not do).
const textSamples = ['sample', 'https://github.com/acme/sample', '7d', 'sample@example.com',
	'arn:aws:lambda:us-east-1:111122223333:function:sample'];
function sampleText(s, avoid) {
	const ok = v => v !== avoid && (!s.pattern || new RegExp(s.pattern, 'u').test(v));
	const cands = [avoid !== undefined ? avoid + 'x' : undefined, avoid !== undefined ? '1' + avoid : undefined, ...textSamples];
	return cands.find(v => v !== undefined && ok(v)) ?? 'sample';
}

// What the form holds before anyone types: the defaults (rjsf fills nested
// objects' defaults too), plus a sample for each required field without one.
function formDefaults(schema, required) {
	if (schema.type === 'object' && schema.properties) {
		const out = {};
		const req = new Set(schema.required || []);
		for (const [k, s] of Object.entries(schema.properties)) {
			const v = formDefaults(s, required && req.has(k));
			if (v !== undefined) out[k] = v;
		}
		return Object.keys(out).length || required ? out : undefined;
	}
	if (schema.default !== undefined) return schema.default;
	if (!required) return undefined;
	if (schema.oneOf) return schema.oneOf[0].const;
	if (schema.enum) return schema.enum[0];
	if (schema.type === 'integer' || schema.type === 'number') return schema.minimum ?? 1;
	if (schema.type === 'boolean') return false;
	if (schema.type === 'array') return [];
	return sampleText(schema);
}

function sortKeys(v) {
	if (Array.isArray(v)) return v.map(sortKeys);
	if (v && typeof v === 'object') return Object.fromEntries(Object.keys(v).sort().map(k => [k, sortKeys(v[k])]));
	return v;
}

function cp(src, dst) {
	fs.mkdirSync(dst, { recursive: true });
	for (const e of fs.readdirSync(src, { withFileTypes: true })) {
		const s = path.join(src, e.name), d = path.join(dst, e.name);
		if (e.isDirectory()) cp(s, d); else fs.copyFileSync(s, d);
	}
}

// A value other than the default that the field's schema accepts.
function changedValue(s) {
	const d = s.default;
	if (s.oneOf) return (s.oneOf.find(o => o.const !== d) || s.oneOf[0]).const;
	switch (s.type) {
	case 'boolean': return d === undefined ? true : !d;
	case 'integer': case 'number': {
		const cands = [s.minimum, s.maximum, 1, 2].filter(v => v !== undefined && v !== d);
		return cands[0];
	}
	case 'object': {
		const o = {};
		for (const [k, c] of Object.entries(s.properties || {})) o[k] = changedValue(c);
		return o;
	}
	case 'array': return [changedValue(s.items)];
	default: return sampleText(s, d);
	}
}

function pageSchemas(t) {
	return [].concat(t.spec.parameters).map(page => ({ type: 'object', ...page }));
}

function changedForm(t) {
	const p = {};
	for (const page of pageSchemas(t))
		for (const [k, s] of Object.entries(page.properties)) if (k !== 'name' && k !== 'team') p[k] = changedValue(s);
	return p;
}

// A resource form's fields keyed by parameter name: the fetch step's
// `values.params` maps each parameter to its form field (`name: ${{
// parameters.param_name }}` where a parameter is named like a first-page field).
function paramsByName(t, form) {
	const fetch = t.spec.steps.find(s => s.action === 'fetch:template');
	const fieldOf = {};
	for (const [param, expr] of Object.entries(fetch.input.values.params || {})) {
		const m = /^\$\{\{ parameters(?:\.([A-Za-z0-9_]+)|\["([A-Za-z0-9_]+)"\]) \}\}$/.exec(expr);
		if (m) fieldOf[m[1] || m[2]] = param;
		else fail(t.metadata.name, `values.params.${param} is ${JSON.stringify(expr)}, not one form field`);
	}
	return Object.fromEntries(Object.entries(form).map(([k, v]) => [fieldOf[k] || k, v]));
}

function checkForm(t, parameters, where) {
	const ajv = new Ajv({ strict: false, allErrors: true });
	for (const page of pageSchemas(t)) {
		const v = ajv.compile(page);
		if (!v(parameters)) fail(where, `the form rejects ${JSON.stringify(parameters)}: ${ajv.errorsText(v.errors)}`);
	}
}

function runTemplate(env, tdir, t, example, work, name, team, filled) {
	const parameters = {};
	for (const page of pageSchemas(t)) Object.assign(parameters, formDefaults(page, true));
	Object.assign(parameters, filled || {});
	parameters.name = name;
	parameters.team = team;
	checkForm(t, parameters, path.basename(work));
	const fetch = t.spec.steps.find(s => s.action === 'fetch:template');
	const input = renderInput(env, fetch.input, { parameters });
	const ext = input.templateFileExtension === true ? '.njk' : input.templateFileExtension;
	const skel = path.resolve(tdir, input.url);
	fs.rmSync(work, { recursive: true, force: true });
	cp(example, work);
	const written = [];
	for (const f of walk(skel)) {
		let rel = path.relative(skel, f);
		const render = !ext || rel.endsWith(ext);
		if (ext && render) rel = rel.slice(0, -ext.length);
		rel = env.renderString(rel, { values: input.values });
		const text = fs.readFileSync(f, 'utf8');
		fs.mkdirSync(path.dirname(path.join(work, rel)), { recursive: true });
		fs.writeFileSync(path.join(work, rel), render ? env.renderString(text, { values: input.values }) : text);
		written.push(rel);
	}
	const r = spawnSync(process.env.PLATFORMC, ['check', 'platform.yaml'], { cwd: work, encoding: 'utf8' });
	const added = yaml.load(fs.readFileSync(path.join(work, written[0]), 'utf8'));
	return { written, status: r.status, stderr: r.stderr, parameters, added };
}

// Errors a filled-in resource form may cause that the form cannot prevent:
// E0303 a rule of the kind across fields, E0305 a reference to a resource that
// is not there or not of the right kind (the sample names no real resource),
// E0115 a duration outside the kind's range (the form says the range in the
// field's description; JSON Schema cannot compare "7d" with "12h", while
// numbers get minimum/maximum, which checkForm above enforces).
const crossFieldCodes = new Set(['E0303', 'E0305', 'E0115']);

function checkSkeletons(catalog, example, workRoot) {
	const env = templater();
	const components = walk(path.join(catalog, 'components')).map(f => yaml.load(fs.readFileSync(f, 'utf8')).metadata.name);
	let n = 0;
	const tdirs = fs.existsSync(path.join(catalog, 'templates')) ? fs.readdirSync(path.join(catalog, 'templates')).sort() : [];
	for (const d of tdirs) {
		const tdir = path.join(catalog, 'templates', d);
		const t = yaml.load(fs.readFileSync(path.join(tdir, 'template.yaml'), 'utf8'));
		const team = t.spec.owner;
		const ok = runTemplate(env, tdir, t, example, path.join(workRoot, d), 'tmpl-sample', team);
		if (ok.written.length !== 1) fail(d, `the skeleton writes ${ok.written.length} files, not one`);
		if (ok.status !== 0) { fail(d, `platformc check of ${ok.written.join(', ')} (exit ${ok.status}):\n${ok.stderr}\nform: ${JSON.stringify(ok.parameters)}`); continue; }
		// every field changed: the file holds exactly what the form says
		const changed = changedForm(t);
		const full = runTemplate(env, tdir, t, example, path.join(workRoot, d + '-changed'), 'tmpl-sample', team, changed);
		const isService = t.spec.type === 'service';
		const obj = (full.added[isService ? 'services' : 'resources'] || [])[0] || {};
		let got = isService ? { ...obj } : obj.params || {};
		let want = isService ? { ...changed } : paramsByName(t, changed);
		if (isService) {
			for (const k of ['name', 'team', 'image']) delete got[k];
			want.system = want.system; // as written
			if (obj.image !== `${changed.registry}/tmpl-sample`) fail(d, `image ${obj.image} is not ${changed.registry}/tmpl-sample`);
			delete want.registry;
		}
		if (JSON.stringify(sortKeys(got)) !== JSON.stringify(sortKeys(want)))
			fail(d, `with every field changed the file holds ${JSON.stringify(sortKeys(got))}, not ${JSON.stringify(sortKeys(want))}`);
		if (isService && full.status !== 0) fail(d, `platformc check of a fully filled-in service (exit ${full.status}):\n${full.stderr}`);
		// A resource with every field changed may break the kind's rules across
		// fields (a minimum above a maximum, a field of another mode), which a
		// form cannot express, or name resources that do not exist; but what the
		// skeleton wrote must still have the kind's types and keys.
		if (!isService && full.status !== 0) {
			const codes = [...full.stderr.matchAll(/^error\[(E\d{4})\]/gm)].map(m => m[1]);
			const other = codes.filter(c => !crossFieldCodes.has(c));
			if (!codes.length || other.length)
				fail(d, `platformc check of a fully filled-in resource (exit ${full.status}) reports more than the kind's rules across fields:\n${full.stderr}`);
		}
		// the same file under an existing service's name must be read, and so fail
		const dup = runTemplate(env, tdir, t, example, path.join(workRoot, d + '-dup'), components[0], team);
		if (dup.status !== 1 || !dup.stderr.includes(dup.written[0]))
			fail(d, `${dup.written.join(', ')} named ${components[0]} was not reported (exit ${dup.status}): is it included?\n${dup.stderr}`);
		n++;
	}
	return `${n} of ${tdirs.length} templates' default output passes platformc check`;
}

// ---- main ----------------------------------------------------------------------

(async () => {
	const [cmd, ...args] = process.argv.slice(2);
	let summary;
	if (cmd === 'catalog') summary = await checkCatalog(path.resolve(args[0]), args.slice(1).map(f => path.resolve(f)));
	else if (cmd === 'names') summary = checkNames();
	else if (cmd === 'skeletons') summary = checkSkeletons(path.resolve(args[0]), path.resolve(args[1]), path.resolve(args[2]));
	else { console.error('usage: check.js catalog DIR [EXTRA...] | names | skeletons CATALOG EXAMPLE WORK'); process.exit(2); }
	for (const f of failures) console.log(f);
	console.log(`${summary}: ${failures.length} failed`);
	process.exit(failures.length ? 1 : 0);
})();
