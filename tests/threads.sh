#!/usr/bin/env bash
# Threads: the included files are parsed and checked on several threads
# (compiler/par.c), and the result must not depend on it. Diagnostics (every
# format, with errors in many included files), exit codes and rendered trees
# are compared byte for byte between PLATFORMC_THREADS=1 (one loop, no
# thread at all), 2 and 8. `make tsan` runs this with a ThreadSanitizer build.
# Usage: tests/threads.sh TMPDIR; prints "ok   threads/..." / "FAIL threads/..." lines
# (7 cases) and exits 1 when one failed.
set -u
T=$1/threads
rm -rf "$T"; mkdir -p "$T"
P=${PLATFORMC:?}
ROOT=${ROOT:-$PWD}

status=0
# run NAME WANT_EXIT MIN_LINES DIR ARGS...: the combined output and exit code
# per thread count must agree, be WANT_EXIT and hold at least MIN_LINES lines
# (with the exit line)
run() {
	local name=$1 want=$2 min=$3 dir=$4; shift 4
	local base="" out
	for n in 1 2 8; do
		out=$(cd "$dir" && PLATFORMC_THREADS=$n "$P" "$@" 2>&1; echo "exit: $?")
		if [ $n = 1 ]; then
			base=$out
			if [ "$(tail -1 <<<"$base")" != "exit: $want" ] || [ "$(wc -l <<<"$base")" -lt "$min" ]; then
				echo "FAIL threads/$name (expected exit $want and at least $min lines)"
				head -20 <<<"$base" | sed 's/^/     /'; status=1
				return
			fi
		elif [ "$out" != "$base" ]; then
			echo "FAIL threads/$name (PLATFORMC_THREADS=$n differs from 1)"
			diff <(printf '%s\n' "$base") <(printf '%s\n' "$out") | head -20 | sed 's/^/     /'
			status=1
			return
		fi
	done
	echo "ok   threads/$name ($(printf '%s\n' "$base" | wc -l) lines, $(printf '%s\n' "$base" | tail -1))"
}

# a valid platform of 1000 services in 50 included files
python3 "$ROOT/tests/bench/gen.py" 1000 "$T/valid" >/dev/null || { echo "FAIL threads/setup (tests/bench/gen.py)"; exit 1; }
run check-1000-services 0 1 "$T/valid" check platform.yaml

# the same with mistakes in most included files: unknown keys, invalid
# names, duplicate keys, a credential, a syntax error, root-only keys, an
# empty file, a broken reference (resolve runs only on clean input, so the
# reference is checked on its own copy)
cp -r "$T/valid" "$T/broken"
i=0
for f in "$T/broken"/teams/*.yaml; do
	i=$((i + 1))
	case $((i % 8)) in
	0) sed -i '0,/^  - name: /s//  - colour: blue\n    name: /' "$f" ;;
	1) sed -i '0,/name: team-/s//name: Team_/' "$f" ;;
	2) sed -i '0,/^    port: /s//    port: 1\n    port: /' "$f" ;;
	3) sed -i "0,/^    port: /s//    description: AKIA""IOSFODNN7EXAMPLE\n    port: /" "$f" ;;
	4) printf 'services: [\n' >>"$f" ;;
	5) printf 'environments: []\ninclude: [x.yaml]\n' >>"$f" ;;
	6) : >"$f" ;;
	esac
done
for fmt in human json github; do
	run "errors-in-included-files-$fmt" 1 20 "$T/broken" check platform.yaml --diagnostics "$fmt"
done
cp -r "$T/valid" "$T/badref"
f=$(ls "$T/badref"/teams/*.yaml | sed -n 7p)
sed -i '0,/^    team: team-/s//    team: nobody-/' "$f"
run unknown-team-in-an-included-file 1 3 "$T/badref" check platform.yaml

# the rendered tree of the example with included files
ex=$ROOT/examples/company
hashes=() bad=""
for n in 1 2 8; do
	rm -rf "$T/out$n"
	PLATFORMC_THREADS=$n "$P" render "$ex/platform.yaml" -o "$T/out$n" >/dev/null 2>"$T/err"; rc=$?
	h=""
	[ -f "$T/out$n/README.md" ] && h=$(cd "$T/out$n" && find . -type f ! -name .platformc-manifest -print0 | LC_ALL=C sort -z |
		xargs -0 sha256sum | sha256sum | cut -c1-16)
	[ $rc -eq 0 ] && [ -n "$h" ] || bad+="PLATFORMC_THREADS=$n: exit $rc, $([ -n "$h" ] && echo "a tree" || echo "no tree"): $(head -2 "$T/err")"$'\n'
	hashes+=("${h:-none}")
done
if [ -z "$bad" ] && [ "${hashes[0]}" = "${hashes[1]}" ] && [ "${hashes[0]}" = "${hashes[2]}" ]; then
	echo "ok   threads/render-company"
else
	echo "FAIL threads/render-company (trees differ: ${hashes[*]})"; printf '%s' "$bad" | sed 's/^/     /'; status=1
fi

# The writer's disk thread (compiler/writer_disk.c): a fresh render, a no-op render
# (the look-ahead of the stat cache), a render after a change to the input, a
# hand-edited output found by --check, the render that restores it, and a
# rebuild refused for a symlinked folder (with the stat cache valid). What
# each step reports, its exit code and the final trees must not depend on the
# number of threads.
writer_steps() {
	local n=$1 d=$T/writer$1 f
	rm -rf "$d"; mkdir -p "$d"; cp -r "$T/valid" "$d/in"
	step() { (cd "$d" && PLATFORMC_THREADS=$n "$P" "$@" 2>&1; echo "exit: $?"); }
	step render in/platform.yaml -o out
	step render in/platform.yaml -o out
	f=$(ls "$d"/in/teams/*.yaml | sed -n 3p)
	sed -i '0,/^    port: [0-9]*/s//    port: 9443/' "$f"
	step render in/platform.yaml -o out
	f=$(cd "$d/out" && find . -name deployment.yaml | LC_ALL=C sort | sed -n 5p)
	printf '# edited by hand\n' >>"$d/out/$f"
	step render in/platform.yaml -o out --check
	step render in/platform.yaml -o out
	step render in/platform.yaml -o out --check
	# an edit early in the tree and a symlinked folder later in it: the
	# rebuild must refuse with the same words, whichever thread meets it
	f=$(cd "$d/out" && find . -name namespace.yaml | LC_ALL=C sort | sed -n 1p)
	printf '# edited by hand\n' >>"$d/out/$f"
	f=$(cd "$d/out" && find . -name namespace.yaml | LC_ALL=C sort | sed -n 2p); f=$(dirname "$f")
	mv "$d/out/$f" "$d/moved"; ln -s "$d/moved" "$d/out/$f"
	step render in/platform.yaml -o out
	rm "$d/out/$f"; mv "$d/moved" "$d/out/$f"
	(cd "$d/out" && find . -type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum | sha256sum | cut -c1-16)
}
w1=$(writer_steps 1)
w2=$(writer_steps 2)
if [ "$w1" = "$w2" ] && [ "$(printf '%s\n' "$w1" | grep -c '^exit: 0')" = 5 ]; then
	echo "ok   threads/writer-disk-thread ($(printf '%s\n' "$w1" | grep -c '^exit:') renders agree)"
else
	echo "FAIL threads/writer-disk-thread (PLATFORMC_THREADS=2 differs from 1, or an unexpected exit)"
	diff <(printf '%s\n' "$w1") <(printf '%s\n' "$w2") | head -20 | sed 's/^/     /'
	printf '%s\n' "$w1" | head -20 | sed 's/^/     1: /'
	status=1
fi
exit $status
