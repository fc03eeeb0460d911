#!/usr/bin/env bash
# ---- fuzz: every libFuzzer harness for FUZZ_SECONDS each (default 20) -------
# tests/fuzz/run.sh: seeded from examples/ and every tests/errors input; a
# harness passes when its run ends without a crash, timeout (-timeout=5),
# leak or sanitizer report. Findings are kept in build-fuzz/findings/ (make
# each a regression case).
. "$(dirname "$0")/../lib.sh"

if ! out=$(env -u MAKEFLAGS -u MAKELEVEL make -j"$(nproc)" fuzz-build 2>&1); then
	if ! command -v clang >/dev/null 2>&1 && [ "$(id -u)" != 0 ]; then
		printf 'skip fuzz (clang with libFuzzer is not installed: apt-get install clang libclang-rt-dev)\n'
	else
		fail fuzz/build "$(tail -30 <<<"$out")"
	fi
else
	details="" name=""
	while IFS= read -r line; do
		case $line in
		"ok   "*) ok "${line#ok   }" ;;
		"FAIL "*) [ -n "$name" ] && fail "$name" "$details"; name=${line#FAIL } details="" ;;
		*) details+="${line#     }"$'\n' ;;
		esac
	done < <(bash tests/fuzz/run.sh "${FUZZ_SECONDS:-20}" 2>&1)
	[ -n "$name" ] && fail "$name" "$details"
fi

finish
