#!/usr/bin/env bash
# tests/admission/cases.sh — check = admission. Each case breaks one value of
# cases/base.yaml the way a rendered policy forbids; `check` must fail with the
# diagnostic that names the policy, and the engine must deny the object the
# passing base renders once that object carries the same value (the value is
# the one the failing input holds: the two halves test the same thing). The
# base itself passes check and renders objects every policy admits.
set -u
cd "$(dirname "$0")/../.."
PLATFORMC=${PLATFORMC:-build/platformc}
export SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-1767225600} NO_COLOR=1
DIR=tests/admission
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
n=0 bad=0
say() { printf '%s\n' "$1"; case $1 in FAIL*) bad=$((bad + 1)) ;; esac; n=$((n + 1)); }

# the base: check passes, render + kustomize build
if ! "$PLATFORMC" check $DIR/cases/base.yaml >/dev/null 2>"$TMP/err"; then
	say "FAIL check-admission/base-passes-check"; sed 's/^/     /' "$TMP/err"
	exit 1
fi
say "ok   check-admission/base-passes-check"
if ! "$PLATFORMC" render $DIR/cases/base.yaml -o "$TMP/out" >/dev/null 2>"$TMP/err" ||
	! kubectl kustomize "$TMP/out/clusters/production" >"$TMP/built.yaml" 2>>"$TMP/err" || [ ! -s "$TMP/built.yaml" ]; then
	say "FAIL check-admission/base-renders"; sed 's/^/     /' "$TMP/err"
	exit 1
fi
out=$(node $DIR/admit.mjs admit check-admission/base "$TMP/built.yaml" 2>&1) || true
while IFS= read -r l; do case $l in ok*|FAIL*) say "$l" ;; "     "*) printf '%s\n' "$l" ;; esac; done <<<"$out"

# NAME CODE POLICY WHAT VALUE SED: the input breaks with SED; the rendered object gets WHAT=VALUE
case_() {
	local name=$1 code=$2 policy=$3 what=$4 value=$5 expr=$6
	sed "$expr" $DIR/cases/base.yaml >"$TMP/$name.yaml"
	if cmp -s $DIR/cases/base.yaml "$TMP/$name.yaml" || ! grep -qF -- "$value" "$TMP/$name.yaml"; then
		say "FAIL check-admission/$name/input"; echo "     the edit did not put $value into the input"; return
	fi
	"$PLATFORMC" check "$TMP/$name.yaml" >/dev/null 2>"$TMP/$name.err"; rc=$?
	if [ $rc -eq 1 ] && grep -q "^error\[$code\]" "$TMP/$name.err" && { [ -z "$policy" ] || grep -q "$policy" "$TMP/$name.err"; }; then
		say "ok   check-admission/$name/check-fails ($code)"
	else
		say "FAIL check-admission/$name/check-fails"; printf '     want exit 1 with %s naming %s; got exit %s:\n' "$code" "$policy" "$rc"; sed 's/^/     /' "$TMP/$name.err" | head -12
	fi
	if [ -n "$what" ]; then
		l=$(node $DIR/case.mjs "$TMP/built.yaml" users-api "$what" "$value" "$policy" "check-admission/$name/admission-denies" 2>&1)
		say "$l"
	fi
}
case_ ingress-host-outside-domain E0232 restrict-ingress-hosts host shop.example.org \
	's/host: users.acme.example.com/host: shop.example.org/'
case_ ingress-host-suffix-lookalike E0232 restrict-ingress-hosts host users.evilacme.example.com \
	's/host: users.acme.example.com/host: users.evilacme.example.com/'
case_ container-cpu E0233 restrict-container-size cpu 6 's/cpu: 500m/cpu: "6"/'
case_ container-memory E0233 restrict-container-size memory 20Gi 's/memory: 512Mi/memory: 20Gi/'
case_ image-registry E0209 restrict-image-registries image docker.io/library/nginx \
	's#image: ghcr.io/acme/users-api$#image: docker.io/library/nginx#'
# no Kyverno policy: ingress-nginx's own admission refuses the second Ingress of a host and path
case_ ingress-host-twice-in-cluster E0234 "" "" users.dev.acme.example.com \
	's/host: users.acme.example.com/host: users.dev.acme.example.com/'

[ $n -ge 12 ] || say "FAIL check-admission/case-count (ran $n)"
printf '%d passed, %d failed\n' $((n - bad)) $bad
[ $bad -eq 0 ]
