#!/usr/bin/env bash
# ---- sanitizers: unit, errors, golden, emitter, determinism, hostile under ASan+UBSan
# Builds build-asan/ (clang, else gcc; as root a missing clang is installed)
# and reruns those groups against it, one line per group. Every sanitizer
# report goes to a log file (so one that a group does not look at, e.g. a leak
# at exit after a correct render, still fails). hostile.sh bounds memory with
# `ulimit -v`, which ASan cannot start under; here its inputs run unbounded
# with a longer timeout and must exit 0 or 1 with a coded diagnostic.
. "$(dirname "$0")/../lib.sh"

SAN=$TMP/san; mkdir -p "$SAN"
if ! out=$(env -u MAKEFLAGS -u MAKELEVEL make -j"$(nproc)" asan-build 2>&1); then
	fail asan/build "$(tail -30 <<<"$out")"
else
	ABIN=$ROOT/build-asan/platformc AUNIT=$ROOT/build-asan/unit
	san_env() { env ASAN_OPTIONS="detect_leaks=1:halt_on_error=1:log_path=$SAN/$1" \
		UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1:log_path=$SAN/$1" "${@:2}"; }
	san_reports() {
		local f
		for f in "$SAN/$1".*; do
			[ -f "$f" ] && grep -qE 'ERROR: [A-Za-z]+Sanitizer|runtime error:' "$f" && grep -v '^LLVMSymbolizer' "$f"
		done | head -40
	}
	for g in unit errors golden emitter determinism diff graph threads; do
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
	# hostile: reuse hostile.sh's generated inputs
	PLATFORMC=true bash tests/hostile.sh "$TMP/asan-hostile" >/dev/null 2>&1
	bad="" n=0
	for f in "$TMP"/asan-hostile/hostile/*.yaml; do
		[ -f "$f" ] || continue
		n=$((n + 1)); name=$(basename "$f" .yaml)
		san_env hostile timeout 60 "$ABIN" check "$f" >/dev/null 2>"$SAN/err"; rc=$?
		if [ $rc -ne 0 ] && { [ $rc -ne 1 ] || ! grep -qE '^error\[E[0-9]{4}\]' "$SAN/err"; }; then
			bad+="$name: exit $rc $(grep -v '^ ' "$SAN/err" | head -2)"$'\n'
		fi
	done
	reports=$(san_reports hostile)
	if [ $n -gt 0 ] && [ -z "$bad" ] && [ -z "$reports" ]; then ok "asan/hostile ($n inputs)"
	else fail asan/hostile "${bad}${reports:-}$([ $n -eq 0 ] && echo 'no inputs generated')"; fi
fi

finish
