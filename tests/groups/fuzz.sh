#!/usr/bin/env bash
# ---- fuzz: every libFuzzer harness for FUZZ_SECONDS each (default 20) -------
# tests/fuzz/run.sh: seeded from examples/ and every tests/errors input; a
# harness passes when its run ends without a crash, timeout (-timeout=5),
# leak or sanitizer report, and libFuzzer reports its runs. Findings are
# kept in build-fuzz/findings/ (make each a regression case).
# FUZZ_HARNESS: a command run in place of every harness, without building
# them (the meta group passes broken ones, to prove this group fails).
# TESTS_QUICK=1: the first harness only, for 1 second.
. "$(dirname "$0")/../lib.sh"

harnesses=$(ls tests/fuzz/fuzz_*.c | xargs -n1 basename | sed 's/\.c$//')
n=$(wc -w <<<"$harnesses")
secs=${FUZZ_SECONDS:-20}
if want_quick; then secs=1 harnesses=$(head -1 <<<"$harnesses") n=1; fi
if [ -z "${FUZZ_HARNESS:-}" ] && ! out=$(env -u MAKEFLAGS -u MAKELEVEL make -j"$(nproc)" fuzz-build 2>&1); then
	if ! command -v clang >/dev/null 2>&1 && [ "$(id -u)" != 0 ]; then
		for h in $harnesses; do skip "fuzz/$h" "clang with libFuzzer is not installed: apt-get install clang libclang-rt-dev"; done
	else
		fail fuzz/build "$(tail -30 <<<"$out")"
	fi
else
	# tests/fuzz/run.sh: one line per harness, exit 1 on a failure
	# shellcheck disable=SC2086
	relay -n "$n" fuzz/runner bash tests/fuzz/run.sh "$secs" $harnesses
fi

finish
