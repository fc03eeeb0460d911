#!/usr/bin/env bash
# ---- every documented code has a test case, every used code is documented --
# The first four cases read the sources and docs; the last asks the binary:
# its `explain` text for every code is exactly stdlib/diagnostics.json's
# (the file is embedded at build time), so a stale or broken binary fails here.
. "$(dirname "$0")/../lib.sh"

used=$(grep -ohE '"[EW][0-9]{4}"' compiler/*.c | tr -d '"' | sort -u)
documented=$("$PY" -c 'import json;[print(c["code"]) for c in json.load(open("stdlib/diagnostics.json"))]' | sort -u)
tested=$(cat tests/errors/*/expected 2>/dev/null | grep -aohE '^(error|warning)\[[EW][0-9]{4}\]' | grep -oE '[EW][0-9]{4}' | sort -u)
missing_doc=$(comm -23 <(echo "$used") <(echo "$documented"))
unused_doc=$(comm -13 <(echo "$used") <(echo "$documented"))
untested=$(comm -23 <(echo "$documented") <(echo "$tested"))
[ -z "$missing_doc" ] && ok codes/all-used-codes-documented || fail codes/all-used-codes-documented "$missing_doc"
[ -z "$unused_doc" ] && ok codes/no-stale-documented-codes || fail codes/no-stale-documented-codes "$unused_doc"
[ -z "$untested" ] && ok codes/every-code-has-an-error-case || fail codes/every-code-has-an-error-case "$untested"
if diff -u docs/diagnostics.md <("$PY" tests/tools/gen_diagnostics_md.py) >"$TMP/d" 2>&1; then
	ok codes/docs-diagnostics-md-current
else
	fail codes/docs-diagnostics-md-current "$(head -20 "$TMP/d"; echo '(regenerate: "$PY" tests/tools/gen_diagnostics_md.py > docs/diagnostics.md)')"
fi
if out=$("$PY" - "$PLATFORMC" <<'PY' 2>&1
import json, subprocess, sys
codes = json.load(open("stdlib/diagnostics.json"))
bad = []
for c in codes:
    r = subprocess.run([sys.argv[1], "explain", c["code"]], capture_output=True, text=True)
    want = "%s: %s\n\n%s\n" % (c["code"], c["title"], c["explain"])
    if r.returncode != 0 or r.stdout != want:
        bad.append("%s: exit %d, %r" % (c["code"], r.returncode, (r.stdout + r.stderr)[:120]))
if bad or not codes:
    print("\n".join(bad[:20]) or "no codes"); sys.exit(1)
print(len(codes), "codes")
PY
); then ok "codes/explain-text-is-diagnostics-json ($out)"; else fail codes/explain-text-is-diagnostics-json "$out"; fi

finish
