#!/usr/bin/env bash
# Crash and full-disk safety of the writer (guide §7), at the process level:
#  - a render of examples/company over a tree of examples/minimal (plus a
#    user file; most files change, so it commits by whole-tree swap) is
#    SIGKILLed at random delays, KILLS times; after each kill the output
#    folder is byte for byte the old tree or the new one, and the
#    next render finishes the job and leaves no staging folder behind;
#  - with tests/crash/failcall.c preloaded, the Nth write/syncfs/
#    mkdirat/linkat/openat(O_CREAT)/renameat2 fails with ENOSPC, for N spread
#    over the whole render: exit 2, the error names the cause, the output
#    folder is still the old tree and no staging folder is left. The one
#    exception is the last step, after the swap: saving the stat cache
#    beside the output folder (writer_cache.c). A failure there leaves the render
#    done: exit 0, the new tree, and a warning that names the cause;
#  - the journal commit (a render that changes part of an existing tree
#    moves only the changed files into place): a render of a generated
#    platform that changes one service (3 files), and one that removes one
#    of its three teams' services and rewrites an eighth of the files by
#    hand (1,545 of 3,517 files change), is SIGKILLed JKILLS times each, with
#    the stat cache and without: half at random delays, half as soon as its
#    journal exists (amid the moves). After each kill, `render --check`
#    either fails saying a render is half-applied, or fails with the tree
#    byte for byte the old one, or passes with the tree byte for byte a
#    fresh render's: never a mixed tree it does not name. The next render
#    then gives a fresh render's tree, leaves no staging folder, and a
#    `render --check` after it passes;
#  - the Nth rename of the journal's steps fails (ENOSPC through the shim):
#    exit 2 saying the render stopped half-way, `render --check` and `diff`
#    refuse the half-applied tree, the next render finishes it.
# Usage: tests/crash.sh TMPDIR; prints "ok   crash/..." / "FAIL crash/..." lines
# (12 cases) and exits 1 when one failed.
set -u
# on tmpfs when there is one: a render's syncfs() there costs nothing
T=$1/crash
[ -d /dev/shm ] && [ -w /dev/shm ] && T=$(mktemp -d /dev/shm/platformc-crash.XXXXXX) && trap 'rm -rf "$T"' EXIT
rm -rf "$T"; mkdir -p "$T"
P=${PLATFORMC:?}
KILLS=${KILLS:-25}
JKILLS=${JKILLS:-10}
ROOT=${ROOT:-$PWD}

snap() { # every entry with its type, and every file's content hash
	(cd "$1" && find . -mindepth 1 -printf '%y %p\n' | LC_ALL=C sort &&
		find . -type f -print0 | LC_ALL=C sort -z | xargs -0 -r sha256sum)
}
# the stat cache beside the output folder stays by design; staging folders must not
leftovers() { ls -A "$T/w" | grep -v -e '^out$' -e '^\.out\.platformc-cache$' ; }

status=0
mkdir -p "$T/w"
# the old tree (examples/minimal and a user file) and the new one (examples/company)
"$P" render "$ROOT/examples/minimal/platform.yaml" -o "$T/old" >/dev/null 2>"$T/err" && [ -f "$T/old/README.md" ] &&
	echo mine >"$T/old/USER-NOTES.md" ||
	{ echo "FAIL crash/setup (the render of examples/minimal fails or writes nothing)"; sed 's/^/     /' "$T/err"; exit 1; }
old() { rm -rf "$T/w/out" "$T/w"/.out.platformc-*; cp -a "$T/old" "$T/w/out"; }
old
OLD=$(snap "$T/w/out")
"$P" render "$ROOT/examples/company/platform.yaml" -o "$T/w/out" >/dev/null 2>"$T/err" ||
	{ echo "FAIL crash/setup (the render of examples/company fails)"; sed 's/^/     /' "$T/err"; exit 1; }
NEW=$(snap "$T/w/out")
[ "$OLD" != "$NEW" ] && grep -q USER-NOTES <<<"$NEW" || { echo "FAIL crash/setup (old and new trees)"; exit 1; }
ms=$( { /usr/bin/time -f %e "$P" render "$ROOT/examples/minimal/platform.yaml" -o "$T/w/out" 2>&1 >/dev/null; } | tail -1)
# delays from 0 to a bit more than one render
span=$(awk -v s="$ms" 'BEGIN { v = int(s * 1000 * 1.3); print (v < 20 ? 20 : v) }')

bad="" seen_old=0 seen_new=0
for i in $(seq "$KILLS"); do
	old
	"$P" render "$ROOT/examples/company/platform.yaml" -o "$T/w/out" >/dev/null 2>&1 &
	pid=$!
	sleep "$(awk -v r=$((RANDOM % span)) 'BEGIN { printf "%.3f", r / 1000 }')"
	kill -9 $pid 2>/dev/null; wait $pid 2>/dev/null
	now=$(snap "$T/w/out" 2>&1)
	if [ "$now" = "$OLD" ]; then seen_old=$((seen_old + 1))
	elif [ "$now" = "$NEW" ]; then seen_new=$((seen_new + 1))
	else bad+="kill $i: a mixed tree: $(diff <(echo "$OLD") <(echo "$now") | head -5)"$'\n'; fi
	"$P" render "$ROOT/examples/company/platform.yaml" -o "$T/w/out" >/dev/null 2>"$T/err" ||
		bad+="kill $i: the next render failed: $(cat "$T/err")"$'\n'
	[ "$(snap "$T/w/out")" = "$NEW" ] || bad+="kill $i: the next render did not give the new tree"$'\n'
	[ -z "$(leftovers)" ] || bad+="kill $i: left behind: $(leftovers)"$'\n'
done
if [ -z "$bad" ]; then
	echo "ok   crash/sigkill-old-or-new ($KILLS kills: $seen_old old, $seen_new new)"
else
	echo "FAIL crash/sigkill-old-or-new"; printf '%s' "$bad" | head -20 | sed 's/^/     /'; status=1
fi

# full disk: the Nth call of each kind fails
SHIM=$T/failcall.so
if ! cc -shared -fPIC -O1 -o "$SHIM" "$ROOT/tests/crash/failcall.c" -ldl 2>"$T/cc"; then
	echo "FAIL crash/enospc (cannot build the shim: $(head -3 "$T/cc"))"; exit 1
fi
for call in write syncfs mkdirat linkat openat renameat2; do
	old; rm -f "$T/count"
	FAILCALL=$call FAILCALL_COUNT=$T/count LD_PRELOAD=$SHIM "$P" render "$ROOT/examples/company/platform.yaml" -o "$T/w/out" >/dev/null 2>&1
	total=$(cat "$T/count" 2>/dev/null)
	if [ "${total:-0}" -eq 0 ]; then echo "FAIL crash/enospc-$call (the render makes no $call call: the shim sees nothing)"; status=1; continue; fi
	bad="" n=0 late=0
	for nth in 1 $((total / 3)) $((total * 2 / 3)) "$total"; do
		[ "$nth" -ge 1 ] && [ "$nth" -le "$total" ] || continue
		n=$((n + 1))
		old
		FAILCALL=$call FAILCALL_NTH=$nth LD_PRELOAD=$SHIM "$P" render "$ROOT/examples/company/platform.yaml" -o "$T/w/out" >/dev/null 2>"$T/err"
		rc=$?
		if [ $rc -eq 0 ] && grep -q '^platformc: warning: cannot save the stat cache' "$T/err"; then
			# after the swap: the render is done, only the cache is missing
			late=$((late + 1))
			grep -q 'No space left on device' "$T/err" || bad+="$call #$nth: the warning does not say why: $(head -2 "$T/err")"$'\n'
			[ "$(snap "$T/w/out")" = "$NEW" ] || bad+="$call #$nth: exit 0 but the output folder is not the new tree"$'\n'
		else
			if [ $rc -ne 2 ]; then bad+="$call #$nth of $total: exit $rc, expected 2"$'\n'
			elif ! grep -q 'No space left on device' "$T/err"; then bad+="$call #$nth: the error does not say why: $(head -2 "$T/err")"$'\n'; fi
			[ "$(snap "$T/w/out")" = "$OLD" ] || bad+="$call #$nth: the output folder is not the old tree"$'\n'
		fi
		[ -z "$(leftovers)" ] || bad+="$call #$nth: left behind: $(leftovers)"$'\n'
	done
	if [ -z "$bad" ]; then echo "ok   crash/enospc-$call ($n failure points of $total calls$([ $late -gt 0 ] && echo ", $late of them in the stat cache after the swap"))"
	else echo "FAIL crash/enospc-$call"; printf '%s' "$bad" | head -12 | sed 's/^/     /'; status=1; fi
done

# ---- the journal commit ----
G=$T/gen
python3 "$ROOT/tests/bench/gen.py" 60 "$G/full" >/dev/null && cp -r "$G/full" "$G/one" && cp -r "$G/full" "$G/third" &&
	sed -i '0,/LOG_LEVEL: info/s//LOG_LEVEL: warn/' "$G/one/teams/team-0000.yaml" && rm "$G/third/teams/team-0002.yaml" ||
	{ echo "FAIL crash/journal-setup (tests/bench/gen.py)"; exit 1; }
for v in full one third; do
	rm -rf "$T/j-$v" "$T"/.j-$v.platformc-*
	"$P" render "$G/$v/platform.yaml" -o "$T/j-$v" >/dev/null 2>"$T/err" && [ -f "$T/j-$v/.platformc-manifest" ] ||
		{ echo "FAIL crash/journal-setup (the render of the $v platform fails or writes nothing)"; sed 's/^/     /' "$T/err"; exit 1; }
done
JNEW_one=$(snap "$T/j-one"); JNEW_third=$(snap "$T/j-third")
# the old tree, as a user's render left it (its stat cache made by a render,
# inodes and all); for `third`, an eighth of its files edited by hand besides
# (with the team's removal, 44% of the files change: still a journal commit)
jold() { # CASE CACHE(yes|no)
	rm -rf "$T/w/out" "$T/w"/.out.platformc-*
	cp -a "$T/j-full" "$T/w/out"
	"$P" render "$G/full/platform.yaml" -o "$T/w/out" >/dev/null 2>&1
	[ "$1" = one ] || (cd "$T/w/out" && find . -type f ! -name .platformc-manifest | LC_ALL=C sort | awk 'NR % 8 == 0' |
		while read -r f; do printf x >>"$f"; done)
	[ "$2" = yes ] || rm -rf "$T/w/.out.platformc-cache"
}
for case in one third; do
	jold "$case" yes; JOLD=$(snap "$T/w/out"); JNEW=$(eval echo "\"\$JNEW_$case\"")
	ms=$( { /usr/bin/time -f %e "$P" render "$G/$case/platform.yaml" -o "$T/w/out" 2>&1 >/dev/null; } | tail -1)
	[ "$(snap "$T/w/out")" = "$JNEW" ] || { echo "FAIL crash/journal-$case (an uninterrupted render does not give a fresh render's tree)"; status=1; continue; }
	span=$(awk -v s="$ms" 'BEGIN { v = int(s * 1000 * 1.2); print (v < 20 ? 20 : v) }')
	for cache in yes no; do
		bad="" seen_old=0 seen_half=0 seen_new=0
		for i in $(seq "$JKILLS"); do
			jold "$case" $cache
			"$P" render "$G/$case/platform.yaml" -o "$T/w/out" >/dev/null 2>&1 &
			pid=$!
			if [ $((i % 2)) -eq 1 ]; then
				sleep "$(awk -v r=$((RANDOM % span)) 'BEGIN { printf "%.3f", r / 1000 }')"
			else
				# every other kill as soon as the journal exists: amid its steps
				while [ ! -e "$T/w/.out.platformc-new/journal" ] && kill -0 $pid 2>/dev/null; do :; done
			fi
			kill -9 $pid 2>/dev/null; wait $pid 2>/dev/null
			"$P" render "$G/$case/platform.yaml" -o "$T/w/out" --check >/dev/null 2>"$T/err"; rc=$?
			now=$(snap "$T/w/out" 2>&1)
			if [ $rc -eq 0 ]; then
				[ "$now" = "$JNEW" ] && seen_new=$((seen_new + 1)) || bad+="kill $i: --check passes on a tree that is not a fresh render's"$'\n'
			elif [ $rc -eq 2 ] && grep -q 'part old, part new.*platformc render' "$T/err"; then
				seen_half=$((seen_half + 1))
			elif [ "$now" = "$JOLD" ]; then
				seen_old=$((seen_old + 1))
			else
				bad+="kill $i: --check exits $rc ($(head -1 "$T/err")) on a mixed tree: $(diff <(echo "$JOLD") <(echo "$now") | head -3)"$'\n'
			fi
			"$P" render "$G/$case/platform.yaml" -o "$T/w/out" >/dev/null 2>"$T/err" ||
				bad+="kill $i: the next render failed: $(head -2 "$T/err")"$'\n'
			[ "$(snap "$T/w/out")" = "$JNEW" ] || bad+="kill $i: the next render did not give a fresh render's tree"$'\n'
			[ -z "$(leftovers)" ] || bad+="kill $i: left behind: $(leftovers)"$'\n'
			"$P" render "$G/$case/platform.yaml" -o "$T/w/out" --check >/dev/null 2>"$T/err" ||
				bad+="kill $i: --check after the next render fails: $(head -1 "$T/err")"$'\n'
		done
		name="sigkill-journal-$case-$([ $cache = yes ] && echo cache || echo no-cache)"
		if [ -z "$bad" ]; then
			echo "ok   crash/$name ($JKILLS kills: $seen_old old, $seen_half half-applied, $seen_new new)"
		else
			echo "FAIL crash/$name"; printf '%s' "$bad" | head -12 | sed 's/^/     /'; status=1
		fi
	done
done

# a failed step after the commit point: the Nth rename of the journal
jold third yes; rm -f "$T/count"
FAILCALL=renameat FAILCALL_COUNT=$T/count LD_PRELOAD=$SHIM "$P" render "$G/third/platform.yaml" -o "$T/w/out" >/dev/null 2>&1
total=$(cat "$T/count" 2>/dev/null)
bad="" n=0
[ "${total:-0}" -ge 2 ] || bad+="the render makes ${total:-no} renameat calls: no journal commit"$'\n'
# (the last renameat is the stat cache's, after the journal: not a step)
for nth in 1 $((total / 2)) $((total - 1)); do
	[ "${total:-0}" -ge 2 ] && [ "$nth" -ge 1 ] || continue
	n=$((n + 1))
	jold third yes
	FAILCALL=renameat FAILCALL_NTH=$nth LD_PRELOAD=$SHIM "$P" render "$G/third/platform.yaml" -o "$T/w/out" >/dev/null 2>"$T/err"; rc=$?
	[ $rc -eq 2 ] && grep -q 'No space left on device.*half-way.*platformc render' "$T/err" ||
		bad+="renameat #$nth of $total: exit $rc, not saying it stopped half-way: $(head -2 "$T/err")"$'\n'
	"$P" render "$G/third/platform.yaml" -o "$T/w/out" --check >/dev/null 2>"$T/err"; rc=$?
	[ $rc -eq 2 ] && grep -q 'part old, part new' "$T/err" || bad+="renameat #$nth: --check exits $rc: $(head -1 "$T/err")"$'\n'
	"$P" diff "$G/third/platform.yaml" -o "$T/w/out" >/dev/null 2>"$T/err"; rc=$?
	[ $rc -eq 2 ] && grep -q 'part old, part new' "$T/err" || bad+="renameat #$nth: diff exits $rc: $(head -1 "$T/err")"$'\n'
	"$P" render "$G/third/platform.yaml" -o "$T/w/out" >/dev/null 2>"$T/err" || bad+="renameat #$nth: the next render failed: $(head -2 "$T/err")"$'\n'
	[ "$(snap "$T/w/out")" = "$JNEW_third" ] || bad+="renameat #$nth: the next render did not give a fresh render's tree"$'\n'
	[ -z "$(leftovers)" ] || bad+="renameat #$nth: left behind: $(leftovers)"$'\n'
done
if [ -z "$bad" ]; then echo "ok   crash/enospc-journal-rename ($n failure points of ${total:-0} renames)"
else echo "FAIL crash/enospc-journal-rename"; printf '%s' "$bad" | head -12 | sed 's/^/     /'; status=1; fi
exit $status
