#!/usr/bin/env bash
# Group `schema`: the editor schemas of `platformc schema` (docs/platform.schema.json)
# and `platformc schema --included` (docs/platform-included.schema.json).
#   - both are current and valid draft-07; the examples' root and included files
#     validate; a resource's kind is an enum of the built-in kinds and its params are
#     typed per kind (also overrides.<env>.params and defaults.resources.<kind>);
#   - broken copies (wrong param type, unknown kind or param, value outside the enum or
#     range, ...) fail validation where they are broken, and `platformc check` rejects
#     them too (tests/schema/check.py).
#   - `platformc schema --kind` equals docs/kind.schema.json, every built-in kind
#     validates, and broken copies of one fail where broken and `platformc check`
#     rejects them (E0301) as a `platform.catalog` kind (tests/schema/kind_check.py).
# The older check `cli/schema-is-valid-draft7` in tests/run.sh (draft-07, root files
# only, type errors ignored) is covered by this group.
# usage: tests/schema/run.sh   (PLATFORMC: the binary, default build/platformc)
# Prints "ok   schema/<case>" or "FAIL schema/<case>" with indented details, then
# "N passed, N failed"; exits 1 on any failure or when fewer cases ran than expected.
set -u
cd "$(dirname "$0")/../.."
ROOT=$PWD
PLATFORMC=${PLATFORMC:-build/platformc}
case $PLATFORMC in /*) ;; *) PLATFORMC=$ROOT/$PLATFORMC ;; esac
export NO_COLOR=1
unset GITHUB_ACTIONS
PY=python3
if ! python3 -c 'import jsonschema, yaml' 2>/dev/null; then
	if ! /usr/bin/python3 -c 'import jsonschema, yaml' 2>/dev/null && [ "$(id -u)" = 0 ]; then
		apt-get install -y -qq --no-install-recommends python3-jsonschema python3-yaml >/dev/null 2>&1 ||
			{ apt-get update -qq && apt-get install -y -qq --no-install-recommends python3-jsonschema python3-yaml >/dev/null; }
	fi
	PY=/usr/bin/python3
fi
EXPECTED=32
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
PASSED=0 FAILED=0
ok() { printf 'ok   schema/%s\n' "$1"; PASSED=$((PASSED + 1)); }
fail() {
	printf 'FAIL schema/%s\n' "$1"
	[ $# -gt 1 ] && printf '%s\n' "$2" | head -40 | sed 's/^/     /'
	FAILED=$((FAILED + 1))
}

"$PLATFORMC" schema >"$TMP/root.json" 2>"$TMP/err"; rc=$?
if [ $rc -eq 0 ] && [ -s "$TMP/root.json" ] && cmp -s "$TMP/root.json" docs/platform.schema.json; then ok root-schema-published-current
else fail root-schema-published-current "exit $rc $(cat "$TMP/err"); docs/platform.schema.json differs from \`platformc schema\` (regenerate it)"; fi
"$PLATFORMC" schema --included >"$TMP/included.json" 2>"$TMP/err"; rc=$?
if [ $rc -eq 0 ] && [ -s "$TMP/included.json" ] && cmp -s "$TMP/included.json" docs/platform-included.schema.json; then ok included-schema-published-current
else fail included-schema-published-current "exit $rc $(cat "$TMP/err"); docs/platform-included.schema.json differs from \`platformc schema --included\` (regenerate it)"; fi

# the kind-file schema (guide §8, docs/catalog.md)
"$PLATFORMC" schema --kind >"$TMP/kind.json" 2>"$TMP/err"; rc=$?
if [ $rc -eq 0 ] && [ -s "$TMP/kind.json" ] && cmp -s "$TMP/kind.json" docs/kind.schema.json; then ok kind-schema-published-current
else fail kind-schema-published-current "exit $rc $(cat "$TMP/err"); docs/kind.schema.json differs from \`platformc schema --kind\` (regenerate it)"; fi

# JSON allows a repeated key, but every reader keeps one of them: a schema must not
# say two things at one place (a field's description used to follow its type's)
if "$PY" - "$TMP/root.json" "$TMP/included.json" "$TMP/kind.json" >"$TMP/dups" 2>&1 <<'PY'
import json, sys
bad = []
def pairs(kv):
    keys = [k for k, _ in kv]
    bad.extend(sorted({k for k in keys if keys.count(k) > 1}))
    return dict(kv)
for f in sys.argv[1:]:
    json.load(open(f), object_pairs_hook=pairs)
print("repeated keys:", ", ".join(bad)) if bad else None
sys.exit(1 if bad else 0)
PY
then ok schemas-repeat-no-key
else fail schemas-repeat-no-key "$(cat "$TMP/dups")"; fi

# relay NAME SCRIPT ARGS...: the case lines of a Python checker, counted here
# with their details; the script failing without a FAIL line is a failure (NAME)
flush() { [ -n "$name" ] && fail "$name" "$details"; name="" details=""; }
relay() {
	local case=$1 script=$2 rc
	shift 2
	"$PY" "$script" "$@" >"$TMP/check.out" 2>&1; rc=$?
	details="" name=""
	while IFS= read -r line; do
		case $line in
		"ok   schema/"*) flush; ok "${line#ok   schema/}" ;;
		"FAIL schema/"*) flush; name=${line#FAIL schema/} ;;
		*) details+="${line#     }"$'\n' ;;
		esac
	done <"$TMP/check.out"
	flush
	[ $rc -eq 0 ] || grep -q '^FAIL ' "$TMP/check.out" || fail "$case" "$script exited $rc: $(tail -20 "$TMP/check.out")"
}
relay check-py tests/schema/check.py "$TMP/root.json" "$TMP/included.json" "$PLATFORMC" "$TMP/copies"
# the same for the kind-file schema
relay kind-check-py tests/schema/kind_check.py "$TMP/kind.json" "$PLATFORMC" "$TMP/kinds"

# the guide says how to point an editor at each schema
missing=""
for want in '# yaml-language-server: $schema=' 'platform-included.schema.json' '"yaml.schemas"' 'platformc schema --included' \
	'platform.catalog' 'platformc schema --kind' 'kind.schema.json'; do
	sed -n '/^## 8\. Editor setup/,$p' docs/guide.md | grep -qF -- "$want" || missing+=" $want"
done
[ -z "$missing" ] && ok guide-editor-section || fail guide-editor-section "guide §8 lacks:$missing"

RAN=$((PASSED + FAILED))
[ $RAN -ge $EXPECTED ] || fail case-count "ran $RAN cases, expected $EXPECTED"
echo "$PASSED passed, $FAILED failed"
[ $FAILED -eq 0 ]
