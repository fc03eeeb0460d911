#!/usr/bin/env bash
# Group `reference`: the docs a user acts on, from the repository alone.
#   - docs/catalog.md's parameter reference is `platformc explain --markdown`, current, and
#     lists every parameter of every catalog/<kind>/kind.yaml (read here independently);
#   - `platformc explain KIND` prints the same facts; an unknown name exits 2 with a
#     did-you-mean; --help, the man page, the guide and the bash completion know it;
#   - out/README.md's cluster requirements are those of stdlib/requirements.yaml that apply
#     (examples and variants), and the guide's list (§7) is generated from the same file.
# usage: tests/reference/run.sh   (PLATFORMC: the binary, default build/platformc)
# Prints "ok   reference/<case>" or "FAIL reference/<case>" with indented details,
# then "N passed, N failed"; exits 1 on any failure or when fewer cases ran.
set -u
cd "$(dirname "$0")/../.."
ROOT=$PWD
PLATFORMC=${PLATFORMC:-build/platformc}
case $PLATFORMC in /*) ;; *) PLATFORMC=$ROOT/$PLATFORMC ;; esac
export PLATFORMC
export NO_COLOR=1
PY=${PY:-python3}
python3 -c 'import yaml' 2>/dev/null || PY=/usr/bin/python3
if ! "$PY" -c 'import yaml' 2>/dev/null && [ "$(id -u)" = 0 ]; then
	apt-get install -y -qq --no-install-recommends python3-yaml >/dev/null 2>&1 ||
		{ apt-get update -qq && apt-get install -y -qq --no-install-recommends python3-yaml >/dev/null; }
fi
EXPECTED=21
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
PASSED=0 FAILED=0
ok() { printf 'ok   reference/%s\n' "$1"; PASSED=$((PASSED + 1)); }
fail() {
	printf 'FAIL reference/%s\n' "$1"
	[ $# -gt 1 ] && printf '%s\n' "$2" | head -40 | sed 's/^/     /'
	FAILED=$((FAILED + 1))
}
# run ARGS...: sets OUT, ERR, RC
run() { "$PLATFORMC" "$@" >"$TMP/out" 2>"$TMP/err"; RC=$?; OUT=$(cat "$TMP/out"); ERR=$(cat "$TMP/err"); }

# the parameters of every kind, read from catalog/<kind>/kind.yaml without platformc:
# "<kind> <path>" lines (a.b for object fields, a[].b for list items' fields)
"$PY" - >"$TMP/params" <<'PY'
import glob, os, yaml
def walk(kind, params, prefix):
    for name, p in (params or {}).items():
        path = f"{prefix}{name}"
        print(kind, path)
        if p.get("type") == "object":
            walk(kind, p.get("fields"), path + ".")
        elif p.get("type") == "list" and (p.get("items") or {}).get("type") == "object":
            walk(kind, p["items"].get("fields"), path + "[].")
for f in sorted(glob.glob("catalog/*/kind.yaml")):
    k = yaml.safe_load(open(f))
    walk(os.path.basename(os.path.dirname(f)), k.get("params"), "")
PY
KINDS=$(cut -d' ' -f1 "$TMP/params" | sort -u)
PUBLIC=$(for k in $(ls catalog); do [ -f "catalog/$k/kind.yaml" ] && ! grep -q '^internal: *true' "catalog/$k/kind.yaml" && echo "$k"; done)
[ "$(wc -l <"$TMP/params")" -ge 40 ] || fail setup "read only $(wc -l <"$TMP/params") parameters from catalog/"

# ---- docs/catalog.md ---------------------------------------------------------------
if out=$(PLATFORMC=$PLATFORMC "$PY" tests/tools/gen_catalog_md.py --check 2>&1); then ok catalog-md-current
else fail catalog-md-current "$out"; fi

# every parameter of every kind.yaml has its row, and no row names a parameter that is not
sed -n '/^<!-- BEGIN platformc explain --markdown -->/,/^<!-- END platformc explain --markdown -->/p' docs/catalog.md >"$TMP/section"
awk '/^### `/ { k = $2; gsub("`", "", k) } /^\| `/ { p = $2; gsub("`", "", p); print k, p }' "$TMP/section" | sort >"$TMP/rows"
if d=$(diff <(sort "$TMP/params") "$TMP/rows") && [ -s "$TMP/rows" ]; then ok catalog-md-every-parameter
else fail catalog-md-every-parameter "< kind.yaml, > docs/catalog.md:"$'\n'"$d"; fi

# facts that must be in the table: a per-tier default, a range, a step, a when, an enum, a ref
missing=""
for want in '| `instances` | int | `1`, prod: `2` | 1 to 15 |' \
	'| `deletion_protection` | bool | `false`, prod: `true` |' \
	'| `min_acu` | number | `0.5` when `mode == "serverless"` | 0.5 to 256, in steps of 0.5 |' \
	'| `retention` | duration | `4d` | 60s to 14d |' \
	'| `encryption` | string | `sqs-managed` | one of `sqs-managed`, `kms` |' \
	'| `dlq.max_receive` | int, **required** |' \
	'the name of a resource of kind `sqs` with the same `fifo`, `encryption: sqs-managed`' \
	'- `min_acu <= max_acu` — `min_acu` must not exceed `max_acu`' \
	'- each `subscriptions[]`: `!raw_delivery || protocol == "sqs" || protocol == "https"`'; do
	grep -qF -- "$want" "$TMP/section" || missing+=$'\n'"$want"
done
[ -z "$missing" ] && ok catalog-md-facts || fail catalog-md-facts "not in docs/catalog.md:$missing"

# ---- platformc explain KIND ------------------------------------------------------------
bad=""
for k in $KINDS; do
	run explain "$k"
	if [ $RC -ne 0 ] || [[ $OUT != "$k: "* ]]; then bad+=$'\n'"$k: exit $RC: $(head -3 <<<"$OUT$ERR")"; continue; fi
	for p in $(awk -v k="$k" '$1 == k { print $2 }' "$TMP/params"); do
		grep -qF "  $p: " <<<"$OUT" || bad+=$'\n'"$k: no line for parameter $p"
	done
done
[ -z "$bad" ] && ok explain-every-kind-every-parameter || fail explain-every-kind-every-parameter "$bad"

run explain aurora-postgresql
missing=""
for want in '  instances: int; default `1`, prod: `2`' '      1 to 15' '  min_acu: number; default `0.5` when `mode == "serverless"`' \
	'      0.5 to 256, in steps of 0.5' '  mode == "provisioned" || !has(instance_class)' '      `instance_class` applies only with `mode: provisioned`'; do
	grep -qxF -- "$want" <<<"$OUT" || missing+=$'\n'"$want"
done
[ $RC -eq 0 ] && [ -z "$missing" ] && ok explain-kind-facts || fail explain-kind-facts "exit $RC; missing:$missing"$'\n'"$OUT"

run explain SQS
[ $RC -eq 0 ] && grep -qxF '  dlq.max_receive: int, required' <<<"$OUT" && grep -qxF '      one of `sqs-managed`, `kms`' <<<"$OUT" &&
	ok explain-kind-case-insensitive || fail explain-kind-case-insensitive "exit $RC: $OUT$ERR"

run explain sqs --markdown
awk '/^### /{f=($0 ~ /^### `sqs`/)} f' "$TMP/section" >"$TMP/sqs.md"
if [ $RC -eq 0 ] && [ -s "$TMP/sqs.md" ] && d=$(diff "$TMP/sqs.md" "$TMP/out"); then ok explain-markdown-kind-is-the-page
else fail explain-markdown-kind-is-the-page "exit $RC: $d"; fi

run explain sqss
[ $RC -eq 2 ] && [ -z "$OUT" ] && grep -qF 'no diagnostic code or resource kind is named `sqss`' <<<"$ERR" &&
	grep -qF 'did you mean `sqs`?' <<<"$ERR" && ok explain-unknown-kind-did-you-mean || fail explain-unknown-kind-did-you-mean "exit $RC: $ERR"

run explain aurora-postgres
[ $RC -eq 2 ] && grep -qF 'did you mean `aurora-postgresql`?' <<<"$ERR" && ok explain-unknown-prefix-did-you-mean ||
	fail explain-unknown-prefix-did-you-mean "exit $RC: $ERR"

run explain E0201x
[ $RC -eq 2 ] && grep -qF 'did you mean `E0201`?' <<<"$ERR" && ok explain-unknown-code-did-you-mean || fail explain-unknown-code-did-you-mean "exit $RC: $ERR"

run explain e0201
[ $RC -eq 0 ] && [[ $OUT == "E0201: "* ]] && ok explain-code-still-works || fail explain-code-still-works "exit $RC: $OUT$ERR"

run explain sqs --format text
[ $RC -eq 2 ] && grep -qF 'does not take --format' <<<"$ERR" && ok explain-rejects-format || fail explain-rejects-format "exit $RC: $ERR"

# ---- where a user looks: --help, the man page, the guide, the completion ------------
run explain --help
h1=$OUT; run --help
if grep -qF 'usage: platformc explain CODE|KIND' <<<"$h1" && grep -qF -- '--markdown' <<<"$h1" && grep -q '^  explain CODE|KIND ' <<<"$OUT"; then
	ok explain-help; else fail explain-help "$h1"$'\n'"$OUT"; fi
missing=""
grep -q '^\.IR CODE | KIND' docs/platformc.1 || missing+=" man:synopsis"
grep -q '^\.B platformc explain \\-\\-markdown' docs/platformc.1 || missing+=" man:--markdown"
grep -qF 'platformc explain KIND ' docs/guide.md || missing+=" guide:explain-KIND"
grep -qF 'platformc explain sqs' docs/guide.md || missing+=" guide:example"
grep -qF 'platformc explain CODE|KIND' README.md || missing+=" README"
[ -z "$missing" ] && ok explain-documented || fail explain-documented "missing:$missing"
"$PLATFORMC" completion bash >"$TMP/completion.bash" 2>/dev/null
comp() { bash -c 'source "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); _platformc; printf "%s\n" "${COMPREPLY[@]}"' _ "$TMP/completion.bash" "$@"; }
if [ "$(comp platformc explain '' | sort)" = "$(sort <<<"$PUBLIC")" ] && [ "$(comp platformc explain --m)" = "--markdown" ]; then
	ok completion-explain-kinds; else fail completion-explain-kinds "$(comp platformc explain '' | tr '\n' ' ') vs $(tr '\n' ' ' <<<"$PUBLIC")"; fi

# ---- out/README.md: the cluster requirements, one list with the guide's ------------------
if out=$("$PY" tests/tools/gen_requirements_md.py --check 2>&1); then ok guide-requirements-current
else fail guide-requirements-current "$out"; fi
# the examples and variants of minimal: other targets and monitoring settings, no resources
"$PY" - "$TMP" <<'PY'
import copy, sys, yaml
base = yaml.safe_load(open("examples/minimal/platform.yaml"))
v = copy.deepcopy(base)
v["platform"]["targets"] = {"crossplane": "namespaced", "kyverno": "cluster-policy"}
v["platform"]["monitoring"] = {"namespace": "observability", "prometheus_selector": {"prometheus": "main"}}
n = copy.deepcopy(base)
del n["resources"]
for s in n["services"]:
    s.pop("uses", None)
for name, doc in (("variant", v), ("no-resources", n)):
    yaml.safe_dump(doc, open(f"{sys.argv[1]}/{name}.yaml", "w"), sort_keys=False)
PY
listed=""
for c in company:examples/company/platform.yaml minimal:examples/minimal/platform.yaml variant:$TMP/variant.yaml \
	no-resources:$TMP/no-resources.yaml; do
	name=${c%%:*} file=${c#*:}
	"$PLATFORMC" render "$file" -o "$TMP/readme-$name" >/dev/null 2>"$TMP/err"; RC=$?
	if [ $RC -ne 0 ] || [ ! -s "$TMP/readme-$name/README.md" ]; then
		fail "readme-requirements-$name" "render exit $RC: $(cat "$TMP/err")"; continue
	fi
	if out=$("$PY" tests/reference/requirements.py stdlib/requirements.yaml "$file" "$TMP/readme-$name/README.md" 2>&1); then
		ok "readme-requirements-$name"; listed+=" $out"
	else fail "readme-requirements-$name" "$out"; fi
done
# every entry of the guide's list is in some README
all=$("$PY" -c 'import yaml; print(" ".join(str(i) for i in range(len(yaml.safe_load(open("stdlib/requirements.yaml"))["requirements"]))))')
missing=$(comm -23 <(tr ' ' '\n' <<<"$all" | sort -u) <(tr ' ' '\n' <<<"$listed" | sed '/^$/d' | sort -u))
[ -n "$all" ] && [ -z "$missing" ] && ok readme-lists-every-guide-requirement ||
	fail readme-lists-every-guide-requirement "entries of stdlib/requirements.yaml in no README: $missing"

RAN=$((PASSED + FAILED))
[ $RAN -ge $EXPECTED ] || { printf 'FAIL reference/case-count\n     ran %d cases, expected %d\n' $RAN $EXPECTED; FAILED=$((FAILED + 1)); }
echo "$PASSED passed, $FAILED failed"
[ $FAILED -eq 0 ]
