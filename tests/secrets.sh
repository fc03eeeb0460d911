#!/usr/bin/env bash
# Secrets (guide §7.1): every credential pattern, planted anywhere in the input
# (a value, a key, a comment, the root file or an included one), is rejected
# with E0118 and its text never appears in any diagnostic format; and no
# `kind: Secret` is in any output of any example or any fixture that renders.
# Usage: tests/secrets.sh TMPDIR; prints "ok   secrets/..." / "FAIL secrets/..." lines
# (2 cases) and exits 1 when one failed. SECRETS_QUICK=1: one credential
# pattern in every place, and the examples only for the second case.
set -u
T=$1/secrets
rm -rf "$T"; mkdir -p "$T"
P=${PLATFORMC:?}
ROOT=${ROOT:-$PWD}

# one sample per pattern of stdlib/schema.yaml `credentials` (built from parts
# so this file does not itself look like it holds credentials)
A=AKIA; G=ghp_; S=xoxb; L=glpat; K=sk_live_; Z=AIza; J=eyJ
creds=(
	"aws-key|${A}IOSFODNN7EXAMPLE"
	"private-key|-----BEGIN RSA PRIVATE"" KEY-----"
	"github-token|${G}aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456789"
	"slack-token|${S}-1234567890-abcdefghij"
	"gitlab-token|${L}-abcdefghijklmnopqrst"
	"stripe-key|${K}abcdefghijklmnopqrstuvwx"
	"google-key|${Z}SyA1234567890abcdefghijklmnopqrstuv"
	"jwt|${J}hbGciOiJIUzI1NiJ9.${J}zdWIiOiIxMjM0NTY3ODkwIn0.abcdefghijklmnop"
	"password-url|https://deploy:hunter2hunter2@git.example.com"
	"aws-secret|aws_secret_access_key=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
)
# where: a sed script run on a copy of examples/company (%s is the credential)
places=(
	"root-comment|platform.yaml|1a # note: %s"
	"root-value|platform.yaml|s|^  name: .*|  name: \"%s\"|"
	"included-comment|teams/growth.yaml|1a # %s"
	"included-value|teams/growth.yaml|s|^    description: Product recommendations.*|    description: \"%s\"|"
	"included-key|teams/growth.yaml|/^    port: 9090$/a\\    env: {\"%s\": x}"
	"included-env-value|teams/growth.yaml|/^    port: 9090$/a\\    env: {TOKEN: \"%s\"}"
)
status=0
[ -n "${SECRETS_QUICK:-}" ] && creds=("${creds[0]}")
bad="" n=0
for c in "${creds[@]}"; do
	cname=${c%%|*} cred=${c#*|}
	for pl in "${places[@]}"; do
		pname=${pl%%|*} rest=${pl#*|}; file=${rest%%|*} script=${rest#*|}
		n=$((n + 1))
		rm -rf "$T/in"; cp -r "$ROOT/examples/company" "$T/in"
		esc=$(printf '%s' "$cred" | sed 's/[\/&|]/\\&/g')
		sed -i "$(printf "$script" "$esc")" "$T/in/$file"
		grep -qF -- "$cred" "$T/in/$file" || { bad+="$cname in $pname: the test could not plant it"$'\n'; continue; }
		for fmt in human json github; do
			"$P" check "$T/in/platform.yaml" --diagnostics "$fmt" >"$T/out" 2>&1; rc=$?
			if [ $rc -ne 1 ]; then bad+="$cname in $pname ($fmt): exit $rc, expected 1"$'\n'
			elif ! grep -q E0118 "$T/out"; then bad+="$cname in $pname ($fmt): no E0118: $(head -3 "$T/out")"$'\n'
			elif grep -qF -- "${cred:8:12}" "$T/out"; then bad+="$cname in $pname ($fmt): the value is printed"$'\n'; fi
		done
	done
done
[ -z "$bad" ] && echo "ok   secrets/every-pattern-everywhere-rejected-and-redacted ($n inputs x 3 formats)" ||
	{ echo "FAIL secrets/every-pattern-everywhere-rejected-and-redacted"; printf '%s' "$bad" | head -20 | sed 's/^/     /'; status=1; }

# no Secret object in any output: every example, every fixture that renders
bad="" n=0 nex=0
inputs=("$ROOT"/examples/*/platform.yaml)
[ -n "${SECRETS_QUICK:-}" ] || inputs+=("$ROOT"/tests/errors/*/input.yaml "$ROOT"/tests/validate/good/*.yaml "$ROOT"/tests/bench/*.yaml)
for f in "${inputs[@]}"; do
	[ -f "$f" ] || continue
	rm -rf "$T/r"
	# the examples must render; a fixture that does not render has no output to check
	case $f in "$ROOT"/examples/*) nex=$((nex + 1)) ;; esac
	if ! "$P" render "$f" -o "$T/r" >/dev/null 2>"$T/err"; then
		case $f in "$ROOT"/examples/*) bad+="$f: does not render: $(head -2 "$T/err")"$'\n' ;; esac
		continue
	fi
	[ -f "$T/r/README.md" ] || { bad+="$f: the render exits 0 and writes nothing"$'\n'; continue; }
	n=$((n + 1))
	# a core Secret (apiVersion v1) anywhere, at top level or nested; a claim
	# of the `secret` catalog kind (platform.<domain>/…, kind Secret) is
	# not one: it asks the cloud to generate the value
	hits=$("${PY:-python3}" - "$T/r" <<'PY'
import json, os, sys, yaml
def walk(o):
    if isinstance(o, dict):
        if o.get("kind") == "Secret" and o.get("apiVersion") == "v1":
            return True
        return any(walk(v) for v in o.values())
    if isinstance(o, list):
        return any(walk(v) for v in o)
    return False
for dp, _, fs in os.walk(sys.argv[1]):
    for f in fs:
        p = os.path.join(dp, f)
        try:
            text = open(p, encoding="utf-8").read()
            docs = [json.loads(text)] if f.endswith(".json") else list(yaml.safe_load_all(text)) if f.endswith((".yaml", ".yml")) else []
        except Exception:
            continue
        if any(walk(d) for d in docs):
            print(p)
PY
)
	[ -z "$hits" ] || bad+="$f: $hits"$'\n'
done
if [ -n "$bad" ]; then echo "FAIL secrets/no-kind-secret-in-any-output"; printf '%s' "$bad" | head -10 | sed 's/^/     /'; status=1
elif [ $n -lt 2 ] || [ $n -lt "$nex" ]; then echo "FAIL secrets/no-kind-secret-in-any-output (only $n inputs rendered)"; status=1
else echo "ok   secrets/no-kind-secret-in-any-output ($n inputs rendered)"; fi
rm -rf "$T"
exit $status
