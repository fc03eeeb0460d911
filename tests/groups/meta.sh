#!/usr/bin/env bash
# ---- meta: the test of the tests ---------------------------------------------
# Every other group of tests/run.sh (its table, `tests/run.sh --list`) is run
# in its smallest form (TESTS_QUICK=1) with a broken compiler, twice:
#   false  PLATFORMC=/bin/false: exits 1, writes nothing
#   noop   PLATFORMC=a two-line shell script that exits 0 and writes nothing
# and must report at least one failed case and exit non-zero each time. The
# same broken binary stands in for UNIT (the unit tests), for the sanitizer
# build (ASAN_PLATFORMC, ASAN_UNIT: the asan group does not build) and for
# the libFuzzer harnesses (FUZZ_HARNESS: the fuzz group does not build;
# FUZZ_WORK keeps its corpora and logs out of build-fuzz/).
# One case per (group, broken binary):
#   ok   meta/<group>/<binary> (F of N cases failed)
# A group that does not run the compiler at all would have to be named in
# NO_BINARY below with the reason, and is then reported as a skip; there is
# none today.
# META_JOBS (default 2): groups run at the same time.
. "$(dirname "$0")/../lib.sh"

if [ -n "${TESTS_META:-}" ]; then
	fail meta/recursion "the meta group runs groups, never itself (TESTS_META is set)"
	finish
fi
declare -A NO_BINARY=()

# The relay itself (tests/lib.sh) fails a child that exits non-zero without a
# failed case, prints no case, reports fewer cases than declared, or whose
# count line disagrees with its lines; and passes a good one.
relay_case() { # NAME WANT(pass|fail) MIN CHILD-SCRIPT
	local out rc
	out=$(PASSED=0 FAILED=0; relay -n "$3" "child" bash -c "$4" >/dev/null; echo "$? $PASSED $FAILED")
	read -r rc p f <<<"$out"
	if { [ "$2" = pass ] && [ "$rc" = 0 ] && [ "$f" = 0 ]; } || { [ "$2" = fail ] && [ "$rc" != 0 ] && [ "$f" -gt 0 ]; }; then
		ok "meta/relay/$1"
	else
		fail "meta/relay/$1" "relay returned $rc with $p passed, $f failed; expected the child to $2"
	fi
}
relay_case good-child pass 2 'echo "ok   x/a"; echo "ok   x/b (detail)"; echo "2 passed, 0 failed"'
relay_case failed-case fail 1 'echo "ok   x/a"; echo "FAIL x/b"; echo "     why"; exit 1'
relay_case exit-status-without-failed-case fail 1 'echo "ok   x/a"; exit 1'
relay_case death-under-set-u fail 1 'set -u; echo "ok   x/a"; set -- $nothing_here; echo "ok   x/$1"'
relay_case no-case fail 1 'exit 0'
relay_case fewer-cases-than-declared fail 3 'echo "ok   x/a"; echo "ok   x/b"'
relay_case count-line-disagrees fail 1 'echo "ok   x/a"; echo "2 passed, 0 failed"'

mkdir -p "$TMP/bin"
printf '#!/bin/sh\nexit 0\n' >"$TMP/bin/platformc"
chmod +x "$TMP/bin/platformc"
BROKEN="false:/bin/false noop:$TMP/bin/platformc"

groups=()
while read -r g _ script; do
	[ "$g" = meta ] && continue
	groups+=("$g:$script")
done < <(bash tests/run.sh --list)
[ ${#groups[@]} -gt 0 ] || { fail meta/group-list "tests/run.sh --list lists no group"; finish; }

# run_one GROUP SCRIPT LABEL BINARY: the group's output in $TMP/GROUP-LABEL.out,
# its exit status in .rc
run_one() {
	local g=$1 script=$2 label=$3 bin=$4 o=$TMP/$1-$3 start=$SECONDS
	env -u SHARED -u TESTS_ONLY TESTS_META=1 TESTS_QUICK=1 PLATFORMC="$bin" UNIT="$bin" \
		ASAN_PLATFORMC="$bin" ASAN_UNIT="$bin" FUZZ_HARNESS="$bin" FUZZ_WORK="$o.fuzz" \
		timeout 300 bash "$script" </dev/null >"$o.out" 2>&1
	echo $? >"$o.rc"
	echo $((SECONDS - start)) >"$o.time"
}

jobs_max=${META_JOBS:-2}
for entry in "${groups[@]}"; do
	g=${entry%%:*} script=${entry#*:}
	[ -n "${NO_BINARY[$g]:-}" ] && continue
	for b in $BROKEN; do
		while [ "$(jobs -rp | wc -l)" -ge "$jobs_max" ]; do wait -n; done
		run_one "$g" "$script" "${b%%:*}" "${b#*:}" &
	done
done
wait

for entry in "${groups[@]}"; do
	g=${entry%%:*}
	if [ -n "${NO_BINARY[$g]:-}" ]; then
		skip "meta/$g" "does not run the compiler: ${NO_BINARY[$g]}"
		continue
	fi
	for b in $BROKEN; do
		label=${b%%:*} o=$TMP/$g-${b%%:*}
		rc=$(cat "$o.rc" 2>/dev/null || echo none)
		np=$(grep -c '^ok ' "$o.out" 2>/dev/null)
		nf=$(grep -c '^FAIL ' "$o.out" 2>/dev/null)
		if [ "$rc" != 0 ] && [ "$rc" != none ] && [ "$rc" != 124 ] && [ "$nf" -gt 0 ]; then
			ok "meta/$g/$label ($nf of $((np + nf)) cases failed, $(cat "$o.time")s)"
		else
			why="exit $rc, $nf of $((np + nf)) cases failed"
			[ "$rc" = 124 ] && why="timed out after 300 s"
			fail "meta/$g/$label ($why)" "$(grep '^ok ' "$o.out" | head -10)
$(tail -5 "$o.out")"
		fi
	done
done

finish
