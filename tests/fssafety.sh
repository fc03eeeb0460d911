#!/usr/bin/env bash
# Filesystem safety of the writer (guide §7), at the process level: a
# symlinked output folder, symlinked files and folders inside it, a tampered
# manifest naming paths outside it, files platformc does not own. Nothing
# outside the output folder is touched (canary files beside it keep their
# bytes, inode and mtime), nothing unowned is deleted, and the error says why.
# Usage: tests/fssafety.sh TMPDIR; prints "ok   fs/..." / "FAIL fs/...: why"
# lines (19 cases) and exits 1 when one failed.
set -u
T=$1/fs
P=${PLATFORMC:?}
ROOT=${ROOT:-$PWD}
EX=$ROOT/examples/minimal/platform.yaml

status=0
fresh() { # a rendered out/ and canaries beside it; WHY starts with what went wrong
	rm -rf "$T"; mkdir -p "$T/elsewhere"
	echo canary >"$T/canary"; echo canary >"$T/elsewhere/README.md"
	WHY=""
	"$P" render "$EX" -o "$T/out" >/dev/null 2>"$T/err" && [ -f "$T/out/README.md" ] && [ -f "$T/out/.platformc-manifest" ] ||
		WHY="the first render (the setup) failed or wrote nothing: $(head -2 "$T/err"); "
	CANARY=$(stat -c '%i %Y %s' "$T/canary" "$T/elsewhere/README.md"; ls -A "$T/elsewhere"; cat "$T/canary" "$T/elsewhere/README.md")
}
report() { # NAME: one line for the case, from WHY
	if [ -z "$WHY" ]; then echo "ok   fs/$1"; else echo "FAIL fs/$1: $WHY"; status=1; fi
}
canary_ok() { [ "$(stat -c '%i %Y %s' "$T/canary" "$T/elsewhere/README.md"; ls -A "$T/elsewhere"; cat "$T/canary" "$T/elsewhere/README.md")" = "$CANARY" ]; }
# check WANT_RC GREP: runs a render of $EX into $T/out after the setup; adds
# to WHY what went wrong (report NAME prints the case)
check() {
	local want=$1 pat=$2
	"$P" render "$EX" -o "$T/out" >/dev/null 2>"$T/err"; local rc=$?
	[ $rc -eq "$want" ] || WHY+="exit $rc, expected $want; "
	[ -z "$pat" ] || grep -qiE "$pat" "$T/err" || WHY+="the error does not say why (want /$pat/): $(head -2 "$T/err"); "
	canary_ok || WHY+="a file outside the output folder changed; "
}

fresh; mv "$T/out" "$T/real"; ln -s "$T/elsewhere" "$T/out"
check 2 'symlink'
[ "$(readlink "$T/out")" = "$T/elsewhere" ] || WHY+="the symlink was replaced; "
report out-is-a-symlink

fresh; rm "$T/out/README.md"; ln -s ../canary "$T/out/README.md"
check 2 'README.md.*symlink'
report symlinked-generated-file

# a user's symlink is left alone by a render that changes nothing or moves
# a few changed files into place (it never looks there), and refused (never
# followed, never carried) by one that rebuilds the tree
fresh; ln -s "$T/canary" "$T/out/user-link"
check 0 ''
[ -L "$T/out/user-link" ] || WHY+="the symlink is gone; "
report symlinked-user-file-noop-render
WHY=""; echo user-edit-4711 >>"$T/out/README.md"
check 0 ''
[ -L "$T/out/user-link" ] || WHY+="the symlink is gone; "
grep -q user-edit-4711 "$T/out/README.md" 2>/dev/null && WHY+="README.md was not rewritten; "
report symlinked-user-file-journal
WHY=""; echo changed >>"$T/out/README.md"
PLATFORMC_COMMIT=swap check 2 'user-link.*symlink'
report symlinked-user-file-rebuild

fresh; d=$(cd "$T/out" 2>/dev/null && ls -d */ | head -1); d=${d%/}
[ -n "$d" ] || { d=no-folder; WHY+="the render made no folder; "; }
rm -rf "${T:?}/out/$d"; ln -s "$T/elsewhere" "$T/out/$d"
check 2 "$d.*symlink"
report symlinked-folder

# the same with the folder's own files (moved, so their inodes and ctimes are
# the ones the stat cache recorded): a render that would change nothing still
# finds the symlink on the way, and refuses
fresh; d=$(cd "$T/out" 2>/dev/null && ls -d */ | head -1); d=${d%/}
[ -n "$d" ] || { d=no-folder; WHY+="the render made no folder; "; }
mv "$T/out/$d" "$T/moved" && ln -s "$T/moved" "$T/out/$d"
check 2 "$d.*symlink"
[ -L "$T/out/$d" ] || WHY+="the symlink was replaced; "
report symlinked-folder-with-its-own-files
rm -rf "$T/moved"

for bad in ../canary "$T/canary" 'a/../../canary' '../elsewhere/README.md' 'x/../../elsewhere'; do
	fresh; echo "$bad" >>"$T/out/.platformc-manifest"
	# a change, so the writer would delete stale files if it trusted the list
	echo changed >>"$T/out/README.md"
	check 2 'manifest'
	report "tampered-manifest-$(tr -c 'a-zA-Z0-9\n' _ <<<"${bad/#"$T"/T}")"   # (T: the absolute path, stable names)
done

# files platformc does not own survive a render that rebuilds the tree,
# even in a folder whose generated files all go away
fresh; d=$(cd "$T/out" 2>/dev/null && ls -d */ | head -1); d=${d%/}
[ -n "$d" ] || { d=no-folder; WHY+="the render made no folder; "; }
mkdir -p "$T/out/$d"
echo mine >"$T/out/NOTES.md"; echo mine >"$T/out/$d/mine.txt"; mkdir -p "$T/out/empty-user-dir"
echo changed >>"$T/out/README.md"
check 0 ''
for f in NOTES.md "$d/mine.txt"; do [ "$(cat "$T/out/$f" 2>/dev/null)" = mine ] || WHY+="$f lost; "; done
[ -d "$T/out/empty-user-dir" ] || WHY+="an empty user folder lost; "
report unowned-files-kept

# a journal commit (a few files moved into place) gives the tree a rebuild
# gives: switching between two platforms both ways, forced through the
# journal, with a user's file in a folder that empties out and an empty
# folder of theirs; unchanged files keep their inode
CO=$ROOT/examples/company/platform.yaml
jtree() { (cd "$1" 2>/dev/null && find . -mindepth 1 -printf '%y %p\n' | LC_ALL=C sort && find . -type f -print0 | LC_ALL=C sort -z | xargs -0 -r sha256sum); }
fresh; rm -rf "$T/ref-min" "$T/ref-co"
"$P" render "$EX" -o "$T/ref-min" >/dev/null 2>&1 && "$P" render "$CO" -o "$T/ref-co" >/dev/null 2>&1 || WHY+="the reference renders failed; "
"$P" render "$CO" -o "$T/out" >/dev/null 2>&1 || WHY+="the render of examples/company failed; "
u=$(cd "$T/out" 2>/dev/null && comm -13 <(cd "$T/ref-min" && find . -type d | sort) <(find . -type d | sort) | sed -n 2p)
[ -n "$u" ] || { u=./no-folder; WHY+="no folder only the company platform makes; "; }
mkdir -p "$T/out/$u" "$T/out/empty-user-dir"; echo mine >"$T/out/$u/mine.txt"
for f in ref-min ref-co; do mkdir -p "$T/$f/$u" "$T/$f/empty-user-dir"; echo mine >"$T/$f/$u/mine.txt"; done
same=$(cd "$T/ref-min" 2>/dev/null && find . -type f ! -name .platformc-manifest | LC_ALL=C sort |
	while read -r f; do cmp -s "$f" "$T/ref-co/$f" && { echo "$f"; break; }; done)
[ -n "$same" ] || { same=./none; WHY+="no file the two platforms share; "; }
keep=$(stat -c %i "$T/out/$same" 2>/dev/null)
for step in min co min; do
	[ $step = min ] && in=$EX || in=$CO
	PLATFORMC_COMMIT=journal "$P" render "$in" -o "$T/out" >/dev/null 2>"$T/err" || WHY+="the $step render failed: $(head -1 "$T/err"); "
	[ "$(jtree "$T/out")" = "$(jtree "$T/ref-$step")" ] || WHY+="after the $step render the tree differs from a fresh one: $(diff <(jtree "$T/ref-$step") <(jtree "$T/out") | head -3 | tr '\n' ' '); "
	"$P" render "$in" -o "$T/out" --check >/dev/null 2>&1 || WHY+="--check after the $step render fails; "
done
[ "$(stat -c %i "$T/out/$same" 2>/dev/null)" = "$keep" ] || WHY+="an unchanged file ($same) got a new inode; "
! ls -A "$T" | grep -q platformc-new || WHY+="a staging folder stayed; "
canary_ok || WHY+="a file outside the output folder changed; "
rm -rf "$T/ref-min" "$T/ref-co"
report journal-commit-matches-fresh

# a manifest entry the user replaced with a folder of their own is not deleted
fresh; f=$(grep -v '^#' "$T/out/.platformc-manifest" 2>/dev/null | grep / | head -1)
[ -n "$f" ] || { f=no-file; WHY+="no generated file in a folder; "; }
rm -f "$T/out/$f"; mkdir -p "$T/out/$f"; echo mine >"$T/out/$f/x"
check 2 "$(basename "$f")"
[ "$(cat "$T/out/$f/x" 2>/dev/null)" = mine ] || WHY+="the user's file is gone; "
report user-folder-at-generated-path
# A write that fails half-way (files above 8 KiB, with RLIMIT_FSIZE and
# SIGXFSZ ignored, as a full disk would fail them) fails the render with the
# reason, on the writer's disk thread as without it: an existing output folder
# is left as it was, a new one is not created, and no staging folder stays.
tree() { (cd "$T/out" 2>/dev/null && find . -printf '%i %s %p\n' | LC_ALL=C sort); }
for n in 1 2; do
	for mode in changed fresh; do
		fresh
		if [ $mode = fresh ]; then rm -rf "$T/out"; else echo changed >>"$T/out/platform/monitoring/dashboards/service-orders-api.json" 2>/dev/null || WHY+="no dashboard to change; "; fi
		before=$(tree)
		(trap '' XFSZ; ulimit -f 8; PLATFORMC_THREADS=$n "$P" render "$EX" -o "$T/out" >/dev/null 2>"$T/err"); rc=$?
		[ $rc -eq 2 ] || WHY+="exit $rc, expected 2; "
		grep -qiE 'cannot write .*\.(json|yaml).*too large' "$T/err" || WHY+="the error does not say why: $(head -2 "$T/err"); "
		[ "$(tree)" = "$before" ] || WHY+="the output folder changed; "
		! ls -A "$T" | grep -q platformc-new || WHY+="a staging folder stayed; "
		canary_ok || WHY+="a file outside the output folder changed; "
		report "write-failure-$mode-threads-$n"
	done
done
rm -rf "$T"
exit $status
