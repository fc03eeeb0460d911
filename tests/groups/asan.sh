#!/usr/bin/env bash
# ---- sanitizers: unit, errors, golden, emitter, determinism, hostile under ASan+UBSan
# Builds build-asan/ (clang, else gcc; as root a missing clang is installed)
# and reruns those groups against it, one line per group. Every sanitizer
# report goes to a log file (so one that a group does not look at, e.g. a leak
# at exit after a correct render, still fails). hostile.sh bounds memory with
# `ulimit -v`, which ASan cannot start under; here its inputs run unbounded
# with a longer timeout and must give their expected exit code (1 with a
# coded diagnostic, or 0).
# ASAN_PLATFORMC / ASAN_UNIT: binaries to use instead of building
# build-asan/ (the meta group passes broken ones, to prove this group fails).
# TESTS_QUICK=1: only the unit and golden groups are rerun (in their full
# form), and five hostile inputs.
. "$(dirname "$0")/../lib.sh"

SAN=$TMP/san; mkdir -p "$SAN"
if [ -n "${ASAN_PLATFORMC:-}" ] || [ -n "${ASAN_UNIT:-}" ]; then
	ABIN=${ASAN_PLATFORMC:-$ROOT/build-asan/platformc} AUNIT=${ASAN_UNIT:-$ROOT/build-asan/unit}
elif [ -f "$SHARED/asan-build.log" ]; then # started by tests/run.sh: wait for it
	i=0
	while [ ! -f "$SHARED/asan-build.rc" ] && [ $i -lt 1800 ]; do sleep 0.5; i=$((i + 1)); done
	if [ "$(cat "$SHARED/asan-build.rc" 2>/dev/null)" != 0 ]; then
		fail asan/build "$(tail -30 "$SHARED/asan-build.log")"
		finish
	fi
	ABIN=$ROOT/build-asan/platformc AUNIT=$ROOT/build-asan/unit
elif ! out=$(env -u MAKEFLAGS -u MAKELEVEL make -j"$(nproc)" asan-build 2>&1); then
	fail asan/build "$(tail -30 <<<"$out")"
	finish
else
	ABIN=$ROOT/build-asan/platformc AUNIT=$ROOT/build-asan/unit
fi
# diff runs with full (slow) malloc stacks, so that tests/lsan.supp can name
# the libfyaml function that leaks; the other groups keep the fast unwinder.
san_env() { env ASAN_OPTIONS="detect_leaks=1:halt_on_error=1:log_path=$SAN/$1$([ "$1" = diff ] && echo :fast_unwind_on_malloc=0)" \
	LSAN_OPTIONS="suppressions=$ROOT/tests/lsan.supp:print_suppressions=0" \
	UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1:log_path=$SAN/$1" "${@:2}"; }
san_reports() {
	local f
	for f in "$SAN/$1".*; do
		[ -f "$f" ] && grep -qE 'ERROR: [A-Za-z]+Sanitizer|runtime error:' "$f" && grep -v '^LLVMSymbolizer' "$f"
	done | head -40
}
groups="unit errors golden emitter determinism diff graph threads"
want_quick && groups="unit golden"
for g in $groups; do
	# the driver on one group: its own count line, checked like any group's
	out=$(san_env "$g" PLATFORMC="$ABIN" UNIT="$AUNIT" TESTS_ONLY="^$g\$" bash tests/run.sh 2>&1)
	summary=$(tail -1 <<<"$out")
	reports=$(san_reports "$g")
	if [[ $summary =~ ^([0-9]+)\ passed,\ 0\ failed$ ]] && [ "${BASH_REMATCH[1]}" -gt 0 ] && [ -z "$reports" ]; then
		ok "asan/$g (${BASH_REMATCH[1]} tests)"
	else
		fail "asan/$g" "$summary
$(grep -E '^(failed: |FAIL |     )' <<<"$out" | head -20)
$reports"
	fi
done
# hostile: hostile.sh's generated inputs, each with its expected exit code
want_quick && export HOSTILE_CASES=$HOSTILE_QUICK_CASES
HOSTILE_GENERATE_ONLY=1 bash tests/hostile.sh "$TMP/asan-hostile" >/dev/null 2>&1
bad="" n=0
for f in "$TMP"/asan-hostile/hostile/*.yaml; do
	[ -f "$f" ] || continue
	n=$((n + 1)); name=$(basename "$f" .yaml); want=$(cat "${f%.yaml}.want")
	san_env hostile timeout 60 "$ABIN" check "$f" >/dev/null 2>"$SAN/err"; rc=$?
	if [ $rc -ne "$want" ]; then
		bad+="$name: exit $rc, expected $want: $(grep -v '^ ' "$SAN/err" | head -2)"$'\n'
	elif [ $rc -eq 1 ] && ! grep -qE '^error\[E[0-9]{4}\]' "$SAN/err"; then
		bad+="$name: exit 1 without a coded diagnostic: $(head -2 "$SAN/err")"$'\n'
	fi
done
reports=$(san_reports hostile)
if [ $n -gt 0 ] && [ -z "$bad" ] && [ -z "$reports" ]; then ok "asan/hostile ($n inputs)"
else fail asan/hostile "${bad}${reports:-}$([ $n -eq 0 ] && echo 'no inputs generated')"; fi

finish
