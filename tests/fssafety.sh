#!/usr/bin/env bash
# Filesystem safety of the writer (guide §7), at the process level: a
# symlinked output folder, symlinked files and folders inside it, a tampered
# manifest naming paths outside it, files platformc does not own. Nothing
# outside the output folder is touched (canary files beside it keep their
# bytes, inode and mtime), nothing unowned is deleted, and the error says why.
# Usage: tests/fssafety.sh TMPDIR; prints "ok   fs/..." / "FAIL fs/..." lines.
set -u
T=$1/fs
P=${PLATFORMC:?}
ROOT=${ROOT:-$PWD}
EX=$ROOT/examples/minimal/platform.yaml

fresh() { # a rendered out/ and canaries beside it
	rm -rf "$T"; mkdir -p "$T/elsewhere"
	echo canary >"$T/canary"; echo canary >"$T/elsewhere/README.md"
	"$P" render "$EX" -o "$T/out" >/dev/null 2>&1
	CANARY=$(stat -c '%i %Y %s' "$T/canary" "$T/elsewhere/README.md"; ls -A "$T/elsewhere"; cat "$T/canary" "$T/elsewhere/README.md")
}
canary_ok() { [ "$(stat -c '%i %Y %s' "$T/canary" "$T/elsewhere/README.md"; ls -A "$T/elsewhere"; cat "$T/canary" "$T/elsewhere/README.md")" = "$CANARY" ]; }
# case NAME WANT_RC GREP: runs a render of $EX into $T/out after the setup
check() {
	local name=$1 want=$2 pat=$3
	"$P" render "$EX" -o "$T/out" >/dev/null 2>"$T/err"; local rc=$?
	local why=""
	[ $rc -eq "$want" ] || why+="exit $rc, expected $want; "
	[ -z "$pat" ] || grep -qiE "$pat" "$T/err" || why+="the error does not say why (want /$pat/): $(head -2 "$T/err"); "
	canary_ok || why+="a file outside the output folder changed; "
	[ -z "$why" ] && echo "ok   fs/$name" || echo "FAIL fs/$name: $why"
}

fresh; mv "$T/out" "$T/real"; ln -s "$T/elsewhere" "$T/out"
check out-is-a-symlink 2 'symlink'
[ "$(readlink "$T/out")" = "$T/elsewhere" ] || echo "FAIL fs/out-is-a-symlink-kept: the symlink was replaced"

fresh; rm "$T/out/README.md"; ln -s ../canary "$T/out/README.md"
check symlinked-generated-file 2 'README.md.*symlink'

# a user's symlink is left alone by a render that changes nothing, and
# refused (never followed, never carried) by one that rebuilds the tree
fresh; ln -s "$T/canary" "$T/out/user-link"
check symlinked-user-file-noop-render 0 ''
[ -L "$T/out/user-link" ] || echo "FAIL fs/symlinked-user-file-noop-render: the symlink is gone"
echo changed >>"$T/out/README.md"
check symlinked-user-file 2 'user-link.*symlink'

fresh; d=$(cd "$T/out" && ls -d */ | head -1); d=${d%/}
rm -rf "${T:?}/out/$d"; ln -s "$T/elsewhere" "$T/out/$d"
check symlinked-folder 2 "$d.*symlink"

for bad in ../canary "$T/canary" 'a/../../canary' '../elsewhere/README.md' 'x/../../elsewhere'; do
	fresh; echo "$bad" >>"$T/out/.platformc-manifest"
	# a change, so the writer would delete stale files if it trusted the list
	echo changed >>"$T/out/README.md"
	check "tampered-manifest-$(tr -c 'a-zA-Z0-9\n' _ <<<"$bad")" 2 'manifest'
done

# files platformc does not own survive a render that rebuilds the tree,
# even in a folder whose generated files all go away
fresh; d=$(cd "$T/out" && ls -d */ | head -1); d=${d%/}
echo mine >"$T/out/NOTES.md"; echo mine >"$T/out/$d/mine.txt"; mkdir -p "$T/out/empty-user-dir"
echo changed >>"$T/out/README.md"
check unowned-files-kept 0 ''
for f in NOTES.md "$d/mine.txt"; do [ "$(cat "$T/out/$f")" = mine ] || echo "FAIL fs/unowned-files-kept: $f lost"; done
[ -d "$T/out/empty-user-dir" ] || echo "FAIL fs/unowned-files-kept: an empty user folder lost"

# a manifest entry the user replaced with a folder of their own is not deleted
fresh; f=$(grep -v '^#' "$T/out/.platformc-manifest" | grep / | head -1)
rm "$T/out/$f"; mkdir "$T/out/$f"; echo mine >"$T/out/$f/x"
check user-folder-at-generated-path 2 "$(basename "$f")"
[ "$(cat "$T/out/$f/x" 2>/dev/null)" = mine ] || echo "FAIL fs/user-folder-at-generated-path: the user's file is gone"
# A write that fails half-way (files above 8 KiB, with RLIMIT_FSIZE and
# SIGXFSZ ignored, as a full disk would fail them) fails the render with the
# reason, on the writer's disk thread as without it: an existing output folder
# is left as it was, a new one is not created, and no staging folder stays.
tree() { (cd "$T/out" 2>/dev/null && find . -printf '%i %s %p\n' | LC_ALL=C sort); }
for n in 1 2; do
	for mode in changed fresh; do
		fresh
		if [ $mode = fresh ]; then rm -rf "$T/out"; else echo changed >>"$T/out/platform/monitoring/dashboards/service-orders-api.json"; fi
		before=$(tree)
		(trap '' XFSZ; ulimit -f 8; PLATFORMC_THREADS=$n "$P" render "$EX" -o "$T/out" >/dev/null 2>"$T/err"); rc=$?
		why=""
		[ $rc -eq 2 ] || why+="exit $rc, expected 2; "
		grep -qiE 'cannot write .*dashboard.*json.*too large' "$T/err" || why+="the error does not say why: $(head -2 "$T/err"); "
		[ "$(tree)" = "$before" ] || why+="the output folder changed; "
		! ls -A "$T" | grep -q platformc-new || why+="a staging folder stayed; "
		canary_ok || why+="a file outside the output folder changed; "
		[ -z "$why" ] && echo "ok   fs/write-failure-$mode-threads-$n" || echo "FAIL fs/write-failure-$mode-threads-$n: $why"
	done
done
rm -rf "$T"
