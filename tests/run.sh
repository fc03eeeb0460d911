#!/usr/bin/env bash
# The whole test suite: `make test` runs it. Each group is a script that
# prints one line per case ("ok   group/name" or "FAIL group/name") and ends
# with "N passed, N failed" (tests/README.md); this driver runs the selected
# groups, TESTS_JOBS at a time, relays their lines in the table's order,
# and ends with the sum, exit status non-zero when anything failed. A group also fails when its script exits
# non-zero without reporting a failure, reports fewer cases than the table
# below declares, or ends without its count line.
# Environment: PLATFORMC (binary), UNIT (unit-test binary), TESTS_ONLY (a
# regex of groups to run, e.g. TESTS_ONLY='errors|golden'), TESTS_JOBS
# (groups at a time), TESTS_QUICK=1 (each group's smallest form, as the
# meta group runs them).
# `bash tests/run.sh --list` prints the table.
unset SHARED   # every run shares its renders among its own groups only
. "$(dirname "$0")/lib.sh"

# group        min  script (wiring a group in is one line: name, the fewest
#                   cases it may report, counting visible skips; its script)
GROUP_TABLE='
unit           90   tests/groups/unit.sh
errors         244  tests/groups/errors.sh
codes          5    tests/groups/codes.sh
cli            33   tests/groups/cli.sh
golden         4    tests/groups/golden.sh
emitter        5    tests/groups/emitter.sh
kustomize      9    tests/groups/kustomize.sh
validate       3    tests/groups/validate.sh
model          46   tests/groups/model.sh
workloads      51   tests/groups/workloads.sh
argocd         18   tests/groups/argocd.sh
rollouts       14   tests/groups/rollouts.sh
backstage      18   tests/groups/backstage.sh
kyverno        10   tests/groups/kyverno.sh
admission      838  tests/groups/admission.sh
monitoring     26   tests/groups/monitoring.sh
catalog        63   tests/groups/catalog.sh
identity       79   tests/groups/identity.sh
cost           9    tests/groups/cost.sh
graph          14   tests/groups/graph.sh
edges          3    tests/groups/edges.sh
diff           13   tests/groups/diff.sh
install        15   tests/groups/install.sh
docs           24   tests/groups/docs.sh
reference      21   tests/groups/reference.sh
schema         32   tests/groups/schema.sh
lsp            25   tests/groups/lsp.sh
progress       7    tests/groups/progress.sh
crash          12   tests/groups/crash.sh
fs             19   tests/groups/fs.sh
secrets        2    tests/groups/secrets.sh
threads        7    tests/groups/threads.sh
incremental    20   tests/groups/incremental.sh
watch          38   tests/groups/watch.sh
determinism    8    tests/groups/determinism.sh
hostile        25   tests/groups/hostile.sh
asan           9    tests/groups/asan.sh
fuzz           3    tests/groups/fuzz.sh
integration    29   tests/groups/integration.sh
meta           85   tests/groups/meta.sh
'
if [ "${1:-}" = --list ]; then
	grep -v '^$' <<<"$GROUP_TABLE"
	exit 0
fi

want() { [[ -z "${TESTS_ONLY:-}" || "$1" =~ ${TESTS_ONLY} ]]; }

# The sanitizer build takes one core for a minute or two. When clang is
# already installed it starts now, beside the first groups (most of which use
# one core), and the asan group waits for it; without clang the asan group
# builds (and installs clang) itself, so that no two apt-get runs meet.
if want asan && ! want_quick && [ -z "${ASAN_PLATFORMC:-}${ASAN_UNIT:-}" ] && command -v clang >/dev/null 2>&1; then
	(
		env -u MAKEFLAGS -u MAKELEVEL make -j1 asan-build >"$SHARED/asan-build.log" 2>&1
		echo $? >"$SHARED/asan-build.rc.part" && mv "$SHARED/asan-build.rc.part" "$SHARED/asan-build.rc"
	) </dev/null &
fi

# Groups run TESTS_JOBS at a time (default: the number of CPUs), started in
# the table's order; each one's lines are kept in a file and printed, whole
# and in the table's order, once it ends, so the log reads as a sequential
# run would. Most groups use one core; two at a time keep a 2-core machine
# busy. TESTS_JOBS=1 runs them one after another.
JOBS=${TESTS_JOBS:-$(nproc 2>/dev/null || echo 1)}
[[ "$JOBS" =~ ^[1-9][0-9]*$ ]] || JOBS=1
RUNDIR=$SHARED/run
mkdir -p "$RUNDIR"
ROWS=()
while read -r group min script; do
	[ -n "$group" ] && want "$group" && ROWS+=("$group $min $script")
done <<<"$GROUP_TABLE"

# start_group I: row I in the background; its lines in $RUNDIR/I.out, then
# its counts, time and failed cases in $RUNDIR/I.cnt (written last, renamed in)
start_group() {
	local group min script
	read -r group min script <<<"${ROWS[$1]}"
	want_quick && min=1   # the quick forms run fewer cases
	(
		PASSED=0 FAILED=0 SKIPPED=0 FAILURES=()
		start=$SECONDS
		relay -S -n "$min" "$group/runner" bash "$script" >"$RUNDIR/$1.out"
		{
			echo "$PASSED $FAILED $SKIPPED $((SECONDS - start))"
			if [ ${#FAILURES[@]} -gt 0 ]; then printf '%s\n' "${FAILURES[@]}"; fi
		} >"$RUNDIR/$1.part" && mv "$RUNDIR/$1.part" "$RUNDIR/$1.cnt"
	) </dev/null &
	PIDS[$1]=$!
}

TIMES=""
PIDS=()
next=0 shown=0
while [ $shown -lt ${#ROWS[@]} ]; do
	done_n=0
	for ((i = shown; i < next; i++)); do [ -f "$RUNDIR/$i.cnt" ] && done_n=$((done_n + 1)); done
	while [ $next -lt ${#ROWS[@]} ] && [ $((next - shown - done_n)) -lt "$JOBS" ]; do
		start_group $next; next=$((next + 1))
	done
	if [ -f "$RUNDIR/$shown.cnt" ]; then
		cat "$RUNDIR/$shown.out"
		{ read -r p f s t; mapfile -t fl; } <"$RUNDIR/$shown.cnt"
		PASSED=$((PASSED + p)) FAILED=$((FAILED + f)) SKIPPED=$((SKIPPED + s))
		[ ${#fl[@]} -gt 0 ] && FAILURES+=("${fl[@]}")
		TIMES+=" ${ROWS[$shown]%% *} ${t}s,"
		shown=$((shown + 1))
		continue
	fi
	if ! kill -0 "${PIDS[$shown]}" 2>/dev/null && [ ! -f "$RUNDIR/$shown.cnt" ]; then
		cat "$RUNDIR/$shown.out" 2>/dev/null
		fail "${ROWS[$shown]%% *}/runner (the group's driver died without its counts)"
		shown=$((shown + 1))
		continue
	fi
	sleep 0.2
done

wait # the sanitizer build started above, if no group waited for it
echo
[ -n "$TIMES" ] && echo "time:${TIMES%,}"
if [ ${#FAILURES[@]} -gt 0 ]; then printf 'failed: %s\n' "${FAILURES[@]}"; fi
echo "$PASSED passed, $FAILED failed"
[ "$FAILED" -eq 0 ] && [ $((PASSED + SKIPPED)) -gt 0 ]
