// tests/lsp/latency.js PLATFORMC DIR [CHANGES] — latency of `platformc lsp`
// from a didChange to the publishDiagnostics it causes, on the platform in
// DIR (tests/bench/gen.py output). Opens the first team file, then sends
// CHANGES (default 40) edits one at a time, alternating a valid edit and one
// with an error (an unknown team), and waits for the diagnostics of each.
// Prints "lsp change->diagnostics: p50 X ms, p95 Y ms, max Z ms (N changes)";
// exits 1 when an edit's diagnostics are missing or wrong.
'use strict';
const cp = require('child_process');
const fs = require('fs');
const path = require('path');
const P = require('vscode-languageserver-protocol/node');

const [bin, dir, count] = process.argv.slice(2);
const n = Number(count || 40);
const teams = fs.readdirSync(path.join(dir, 'teams')).filter((f) => f.endsWith('.yaml')).sort();
const file = path.join(dir, 'teams', teams[0]);
const u = 'file://' + file;
const text = fs.readFileSync(file, 'utf8');
const m = text.match(/\n    team: ([a-z0-9-]+)\n/);
if (!m) { console.error('no `team:` line in ' + file); process.exit(1); }
const broken = text.replace(m[0], '\n    team: ' + m[1] + 'x\n');

(async () => {
  const proc = cp.spawn(bin, ['lsp'], { stdio: ['pipe', 'pipe', 'inherit'] });
  const conn = P.createMessageConnection(new P.StreamMessageReader(proc.stdout), new P.StreamMessageWriter(proc.stdin));
  let waiter = null;
  conn.onNotification(P.PublishDiagnosticsNotification.type, (p) => { if (p.uri === u && waiter) { const w = waiter; waiter = null; w(p.diagnostics); } });
  conn.listen();
  const next = () => new Promise((res, rej) => { const t = setTimeout(() => rej(new Error('timeout')), 30000); waiter = (d) => { clearTimeout(t); res(d); }; });
  await conn.sendRequest(P.InitializeRequest.type, { processId: process.pid, rootUri: 'file://' + dir, capabilities: {}, workspaceFolders: null });
  conn.sendNotification(P.InitializedNotification.type, {});
  let w = next();
  conn.sendNotification(P.DidOpenTextDocumentNotification.type, { textDocument: { uri: u, languageId: 'yaml', version: 1, text } });
  let d = await w;
  if (d.length) { console.error('the generated platform has diagnostics: ' + JSON.stringify(d[0])); process.exit(1); }
  const ms = [];
  for (let i = 0; i < n; i++) {
    const bad = i % 2 === 0;
    w = next();
    const t0 = process.hrtime.bigint();
    conn.sendNotification(P.DidChangeTextDocumentNotification.type, { textDocument: { uri: u, version: i + 2 }, contentChanges: [{ text: bad ? broken : text }] });
    d = await w;
    ms.push(Number(process.hrtime.bigint() - t0) / 1e6);
    const ok = bad ? d.some((x) => x.code === 'E0201') : d.length === 0;
    if (!ok) { console.error('change ' + i + ': unexpected diagnostics ' + JSON.stringify(d)); process.exit(1); }
  }
  await conn.sendRequest(P.ShutdownRequest.type);
  conn.sendNotification(P.ExitNotification.type);
  ms.sort((a, b) => a - b);
  const q = (p) => ms[Math.min(ms.length - 1, Math.ceil(p * ms.length) - 1)];
  console.log(`lsp change->diagnostics: p50 ${q(0.5).toFixed(1)} ms, p95 ${q(0.95).toFixed(1)} ms, max ${ms[ms.length - 1].toFixed(1)} ms (${n} changes, ${path.basename(file)})`);
  setTimeout(() => process.exit(0), 100);
})().catch((e) => { console.error(e && e.stack || e); process.exit(1); });
