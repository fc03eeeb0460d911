#!/usr/bin/env bash
# ---- emitter: the direct YAML emitter writes exactly libyaml's bytes ----------
# Every example, every tests/monitoring input and a generated platform of 300
# services, rendered with the reference emitter (PLATFORMC_EMITTER=libyaml)
# and with the default one: the two trees must not differ in a single byte.
# The trees go to tmpfs when there is one: on a disk, each render's syncfs of
# 15,000 files takes longer than the rest of the group.
. "$(dirname "$0")/../lib.sh"

ETMP=$TMP
[ -d /dev/shm ] && [ -w /dev/shm ] && ETMP=$(mktemp -d /dev/shm/platformc-emitter.XXXXXX) && CLEANUP+=("$ETMP")
emit_inputs="examples/*/platform.yaml tests/monitoring/*/platform.yaml"
if python3 tests/bench/gen.py 300 "$ETMP/emit-bench" >/dev/null 2>"$TMP/err"; then
	emit_inputs="$emit_inputs $ETMP/emit-bench/platform.yaml"
else
	fail emitter/generate-bench-300 "$(cat "$TMP/err")"
fi
for input in $emit_inputs; do
	label=$(basename "$(dirname "$input")")
	ref=$ETMP/emit-libyaml-$label direct=$ETMP/emit-direct-$label
	if ! PLATFORMC_EMITTER=libyaml render_to "$input" "$ref" || ! render_to "$input" "$direct"; then
		fail "emitter/$label-renders" "$RENDER_ERR"
		continue
	fi
	n=$(find "$ref" -type f -name '*.yaml' | wc -l)
	if [ "$n" -eq 0 ]; then
		fail "emitter/$label" "no YAML file rendered"
	elif d=$(diff -r "$ref" "$direct" 2>&1); then
		ok "emitter/$label ($n YAML files)"
	else
		fail "emitter/$label" "$d"
	fi
done
# the variable is read: a value that is neither emitter is refused
PLATFORMC_EMITTER=libyml "$PLATFORMC" render examples/minimal/platform.yaml -o "$TMP/emit-bogus" >/dev/null 2>"$TMP/err"
[ $? -eq 2 ] && grep -q PLATFORMC_EMITTER "$TMP/err" && ok emitter/unknown-emitter-exit-2 ||
	fail emitter/unknown-emitter-exit-2 "$(cat "$TMP/err")"

finish
