#!/usr/bin/env bash
# Runs libFuzzer harnesses: tests/fuzz/run.sh SECONDS [NAME...] (default:
# every build-fuzz/fuzz_* built from tests/fuzz/fuzz_*.c). Each harness runs
# SECONDS under ASan+UBSan on its corpus build-fuzz/corpus-NAME, seeded from
# tests/fuzz/seeds_NAME/ (if any), every example and every tests/errors
# input, with tests/fuzz/NAME.dict when present. Crashes, timeouts, leaks
# and sanitizer reports land in build-fuzz/findings/ (turn each into a
# regression case). Prints one line per harness:
#   ok   fuzz/NAME (RUNS runs in S s, cov: N, ft: N)   or   FAIL fuzz/NAME ...
# A harness passes only when libFuzzer reports its runs. FUZZ_HARNESS: a
# command run in place of every harness (the meta group's broken binaries);
# FUZZ_WORK: the folder of corpora, findings and logs (default build-fuzz).
set -u
cd "$(dirname "$0")/../.."
secs=${1:-30}; shift
names=("$@")
[ ${#names[@]} -gt 0 ] || for f in tests/fuzz/fuzz_*.c; do names+=("$(basename "$f" .c)"); done
W=${FUZZ_WORK:-build-fuzz}
mkdir -p "$W/findings"
status=0
for name in "${names[@]}"; do
	corpus=$W/corpus-$name; mkdir -p "$corpus"
	for f in tests/fuzz/seeds_"$name"/* examples/*/platform.yaml examples/*/*/*.yaml tests/errors/*/*.yaml; do
		[ -f "$f" ] && cp "$f" "$corpus/$(tr / _ <<<"$f")"
	done
	dict=(); [ -f "tests/fuzz/$name.dict" ] && dict=(-dict="tests/fuzz/$name.dict")
	log=$W/$name.log
	before=$(ls "$W/findings" | wc -l)
	ASAN_OPTIONS=detect_leaks=1:halt_on_error=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
		timeout $((secs + 120)) "${FUZZ_HARNESS:-build-fuzz/$name}" -timeout=5 -rss_limit_mb=2048 -max_len=65536 \
		-max_total_time="$secs" -print_final_stats=1 -artifact_prefix="$W/findings/$name-" \
		"${dict[@]}" "$corpus" >"$log" 2>&1
	rc=$?
	after=$(ls "$W/findings" | wc -l)
	runs=$(grep -oE '^stat::number_of_executed_units: *[0-9]+' "$log" | grep -oE '[0-9]+$')
	cov=$(grep -oE 'cov: [0-9]+ ft: [0-9]+' "$log" | tail -1)
	if [ $rc -eq 0 ] && [ "$after" -eq "$before" ] && [ "${runs:-0}" -gt 0 ]; then
		echo "ok   fuzz/$name (${runs:-?} runs in $secs s, ${cov/ ft/, ft})"
	else
		status=1
		echo "FAIL fuzz/$name"
		echo "     exit $rc, ${runs:-no} runs reported; findings in $W/findings/: $(ls -t "$W/findings" | head -3 | tr '\n' ' ')"
		grep -E 'fuzz_doc:|ERROR|runtime error|SUMMARY|^    #[0-9] ' "$log" | head -25 | sed 's/^/     /'
	fi
done
exit $status
