#!/usr/bin/env bash
# ---- watch: `platformc watch` vouches for the output tree between renders ----
# With a watcher running, a render that changes nothing looks at no output
# file (strace), and every change is still found: a file edited in place with
# its size and mtime put back, a file deleted, a stray file, a folder replaced
# by a symlink, a whole-tree swap, a watcher killed (stale socket) and
# restarted, two renders in a row. Each result is compared with what the
# same render gives without a watcher.
. "$(dirname "$0")/../lib.sh"

EX=examples/company/platform.yaml
# renders wait up to 2 s for the watcher's answer (200 ms by default): on a
# loaded machine an answer can come later, and the render then looks at every
# file, which is right but not what a case expects (the silent case below
# uses the default)
export PLATFORMC_WATCH_WAIT_MS=2000
OUT=$TMP/out
SOCK=$TMP/.out.platformc-watch
WPID=""
trap '[ -n "$WPID" ] && kill "$WPID" 2>/dev/null; rm -rf "${CLEANUP[@]}"' EXIT

# ask TOKEN: the watcher's answer to `since TOKEN` (first line), or nothing
ask() {
	"$PY" - "$SOCK" "$1" <<'EOF' 2>/dev/null
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.settimeout(2)
s.connect(sys.argv[1])
s.sendall(("since %s\n" % sys.argv[2]).encode())
data = b""
while True:
    b = s.recv(65536)
    if not b:
        break
    data += b
print(data.decode().split("\n")[0])
EOF
}

# start_watcher: in the background, until its socket answers (10 s at most)
start_watcher() {
	"$PLATFORMC" watch -o "$OUT" 2>"$TMP/watch.err" &
	WPID=$!
	for _ in $(seq 100); do
		case $(ask 0:0) in "all "*) return 0 ;; esac
		kill -0 "$WPID" 2>/dev/null || break
		sleep 0.1
	done
	return 1
}
stop_watcher() { [ -n "$WPID" ] && kill "$1" "$WPID" 2>/dev/null; wait "$WPID" 2>/dev/null; local rc=$?; WPID=""; return $rc; }

# r [ARGS...]: a render of the example into OUT with its stats; sets RC, ERR, STATS, LINES
r() {
	LINES=$(PLATFORMC_STATS=1 "$PLATFORMC" render "$EX" -o "$OUT" "$@" 2>"$TMP/err"); RC=$?
	ERR=$(cat "$TMP/err")
	STATS=$(grep -o 'stats: .*' "$TMP/err")
}
# settle MIN: renders (three at most) until the watcher vouches for MIN files
# or more: on a loaded machine a render may get no answer in time after the
# watcher re-walked the tree, and the render after it then hears "all"
settle() {
	for _ in 1 2 3; do
		r
		[ "$RC" = 0 ] && [ -n "$(watched)" ] && [ "$(watched)" -ge "$1" ] && return 0
	done
	return 1
}
# watched: the count of files the watcher vouched for, per the stats line
watched() { sed -n 's/.*; \([0-9]*\) watched$/\1/p' <<<"$STATS"; }
nfiles() { sed -n 's/.* kept; \([0-9]*\) files,.*/\1/p' <<<"$STATS"; }

# edit_in_place FILE CHAR: its first `a` becomes CHAR, written in place, with its
# size and mtime put back (what the stat cache alone would miss but for ctime)
edit_in_place() {
	"$PY" - "$1" "$2" <<'EOF'
import os, sys
p, c = sys.argv[1], sys.argv[2]
st = os.stat(p)
b = bytearray(open(p, "rb").read())
b[b.find(b"a")] = ord(c)
with open(p, "r+b") as f:
    f.write(b)
os.utime(p, ns=(st.st_atime_ns, st.st_mtime_ns))
EOF
}

# looks_at_outputs: how many stat and open calls of a render named a path of
# the manifest or one of its folders (strace), in $LOOKS
looks_at_outputs() {
	strace -f -qq -e trace=newfstatat,statx,stat,lstat,openat,open -o "$TMP/strace" \
		"$PLATFORMC" render "$EX" -o "$OUT" >/dev/null 2>&1 || { LOOKS=""; return 1; }
	LOOKS=$("$PY" - "$OUT/.platformc-manifest" "$TMP/strace" <<'EOF'
import re, sys
paths = set()
for line in open(sys.argv[1]).read().splitlines()[1:]:
    parts = line.split("/")
    for i in range(1, len(parts) + 1):
        paths.add("/".join(parts[:i]))
n = 0
for line in open(sys.argv[2]):
    m = re.search(r'(?:newfstatat|statx|stat|lstat|openat|open)\((?:[^,"]*, )?"([^"]*)"', line)
    if m and m.group(1) in paths:
        n += 1
print(n)
EOF
)
}

render_to "$EX" "$TMP/ref" || { fail watch/reference "$RENDER_ERR"; finish; }
REF=$(tree_hash "$TMP/ref")
render_to "$EX" "$OUT" || { fail watch/render "$RENDER_ERR"; finish; }
r
TOTAL=$(nfiles)
[ "$RC" = 0 ] && [ -n "$TOTAL" ] && [ "$TOTAL" -gt 100 ] || { fail watch/no-op "exit $RC: $ERR"; finish; }

HAVE_STRACE=1
command -v strace >/dev/null 2>&1 || HAVE_STRACE=0
# without a watcher, every output file is looked at: the counter works
if [ $HAVE_STRACE = 0 ]; then skip watch/unwatched-looks "no strace (apt-get install strace)"
elif looks_at_outputs && [ "$LOOKS" -ge "$TOTAL" ]; then ok watch/unwatched-looks
else fail watch/unwatched-looks "looked at ${LOOKS:-?} output paths of $TOTAL files without a watcher"; fi

if ! start_watcher; then
	fail watch/starts "$(cat "$TMP/watch.err")"
	finish
fi
ok watch/starts

# the first render hears "all" (its cache has no token) and stores one
r
if [ "$RC" = 0 ] && grep -q 'watcher: all$' <<<"$STATS"; then ok watch/first-all; else fail watch/first-all "exit $RC: $ERR"; fi
r
if [ "$RC" = 0 ] && [ "$(watched)" = "$TOTAL" ]; then ok watch/second-vouched; else fail watch/second-vouched "exit $RC: $ERR"; fi

# (1) a render that changes nothing looks at no output file
if [ $HAVE_STRACE = 0 ]; then
	skip watch/no-op-looks-at-nothing "no strace"
	skip watch/no-op-twice "no strace"
else
	if looks_at_outputs && [ "$LOOKS" = 0 ]; then ok watch/no-op-looks-at-nothing
	else fail watch/no-op-looks-at-nothing "looked at ${LOOKS:-?} output paths"; fi
	if looks_at_outputs && [ "$LOOKS" = 0 ] && [ "$(tree_hash "$OUT")" = "$REF" ]; then ok watch/no-op-twice
	else fail watch/no-op-twice "looked at ${LOOKS:-?} output paths"; fi
fi

# (1b) the platform's key: the same platform, and nothing changed in the
# tree since the render that wrote the cache began, answer without any
# backend (writer_up_to_date); each thing that could make the tree differ
# turns it off, and the render that follows is the full one
KEYED="(the platform's key)"
r
if [ "$RC" = 0 ] && grep -qF "$KEYED" <<<"$STATS" && [ "$(watched)" = "$TOTAL" ] && [ "$(tree_hash "$OUT")" = "$REF" ]
then ok watch/key-no-op; else fail watch/key-no-op "exit $RC: $STATS $ERR"; fi
r --check
if [ "$RC" = 0 ] && grep -qF "$KEYED" <<<"$STATS" && grep -q "is up to date ($TOTAL files)" <<<"$ERR"
then ok watch/key-check; else fail watch/key-check "exit $RC: $STATS $ERR"; fi
# a leftover staging folder beside the tree: the full render, which removes it
mkdir "$TMP/.out.platformc-new"
r
if [ "$RC" = 0 ] && ! grep -qF "$KEYED" <<<"$STATS" && [ ! -e "$TMP/.out.platformc-new" ] && [ "$(tree_hash "$OUT")" = "$REF" ]
then ok watch/key-not-with-staging; else fail watch/key-not-with-staging "exit $RC: $STATS $ERR"; fi
# another platform (one value changed): the full render, the other tree; then
# the first platform again: the full render, the first tree
cp -r "$(dirname "$EX")" "$TMP/ex2"
sed -i '0,/LOG_LEVEL: info/s//LOG_LEVEL: warn/' "$TMP/ex2/teams/backend.yaml"
render_to "$TMP/ex2/platform.yaml" "$TMP/ref2" && REF2=$(tree_hash "$TMP/ref2") && [ "$REF2" != "$REF" ] ||
	fail watch/key-setup "$RENDER_ERR"
STATS=$(PLATFORMC_STATS=1 "$PLATFORMC" render "$TMP/ex2/platform.yaml" -o "$OUT" 2>&1 >/dev/null | grep -o 'stats: .*'); RC=$?
if ! grep -qF "$KEYED" <<<"$STATS" && [ "$(tree_hash "$OUT")" = "$REF2" ]
then ok watch/key-other-platform; else fail watch/key-other-platform "$STATS"; fi
r
if [ "$RC" = 0 ] && ! grep -qF "$KEYED" <<<"$STATS" && [ "$(tree_hash "$OUT")" = "$REF" ]
then ok watch/key-back; else fail watch/key-back "exit $RC: $STATS $ERR"; fi
# a render that wrote files: the next one hears of them (the full render,
# which renews the cache), the one after it is answered by the key again
r
r
if [ "$RC" = 0 ] && grep -qF "$KEYED" <<<"$STATS" && [ "$(tree_hash "$OUT")" = "$REF" ]
then ok watch/key-again; else fail watch/key-again "exit $RC: $STATS $ERR"; fi

# (2) a file edited in place, its size and mtime put back
F=$(awk -F/ 'NF >= 3 && /\.yaml$/' "$OUT/.platformc-manifest" | head -1)
edit_in_place "$OUT/$F" b
r --check
if [ "$RC" = 3 ] && [ "$LINES" = "changed: $F" ]; then ok watch/edit-in-place-check; else fail watch/edit-in-place-check "exit $RC: $LINES $ERR"; fi
r
if [ "$RC" = 0 ] && [ "$(tree_hash "$OUT")" = "$REF" ]; then ok watch/edit-in-place-restored; else fail watch/edit-in-place-restored "exit $RC: $ERR"; fi

# (6) the render after it looks at what that one wrote, and no more
r
W=$(watched)
if [ "$RC" = 0 ] && [ -n "$W" ] && [ "$W" -lt "$TOTAL" ] && [ "$W" -ge $((TOTAL - 5)) ]; then ok watch/after-a-write
else fail watch/after-a-write "exit $RC, ${W:-?} of $TOTAL watched: $ERR"; fi
r
if [ "$RC" = 0 ] && [ "$(watched)" -ge $((TOTAL - 5)) ]; then ok watch/then-no-op; else fail watch/then-no-op "exit $RC: $ERR"; fi

# (3) a file deleted, a stray file, a folder replaced by a symlink
G=$(sed -n 10p "$OUT/.platformc-manifest")
rm "$OUT/$G"
r --check
if [ "$RC" = 3 ] && [ "$LINES" = "added: $G" ]; then ok watch/deleted-check; else fail watch/deleted-check "exit $RC: $LINES $ERR"; fi
r
if [ "$RC" = 0 ] && [ "$(tree_hash "$OUT")" = "$REF" ]; then ok watch/deleted-restored; else fail watch/deleted-restored "exit $RC: $ERR"; fi
echo mine >"$OUT/teams/stray.txt"
r --check
if [ "$RC" = 0 ] && [ -z "$LINES" ]; then ok watch/stray-check; else fail watch/stray-check "exit $RC: $LINES $ERR"; fi
r
if [ "$RC" = 0 ] && [ "$(cat "$OUT/teams/stray.txt")" = mine ]; then ok watch/stray-kept; else fail watch/stray-kept "exit $RC: $ERR"; fi
rm "$OUT/teams/stray.txt"
D=$(dirname "$F")
mv "$OUT/$D" "$TMP/moved"
ln -s "$TMP/moved" "$OUT/$D"
r --check
if [ "$RC" = 2 ] && grep -q 'symlink' <<<"$ERR"; then ok watch/symlink-check; else fail watch/symlink-check "exit $RC: $ERR"; fi
r
if [ "$RC" = 2 ] && grep -q 'symlink' <<<"$ERR"; then ok watch/symlink-refused; else fail watch/symlink-refused "exit $RC: $ERR"; fi
rm "$OUT/$D"
mv "$TMP/moved" "$OUT/$D"
r
if [ "$RC" = 0 ] && [ "$(tree_hash "$OUT")" = "$REF" ]; then ok watch/symlink-undone; else fail watch/symlink-undone "exit $RC: $ERR"; fi

# (5) a whole-tree swap: the next render hears "all", then a list again
rm "$OUT/$G"
PLATFORMC_COMMIT=swap r
ask 0:0 >/dev/null # the watcher has seen the swap and watches the new tree
r
# "no watcher": no answer in time, which also means every file is looked at
if [ "$RC" = 0 ] && grep -q 'watcher: all$\|no watcher$' <<<"$STATS" && [ "$(tree_hash "$OUT")" = "$REF" ]; then ok watch/swap-all
else fail watch/swap-all "exit $RC: $STATS $ERR"; fi
rm "$OUT/$G"
PLATFORMC_COMMIT=swap r
ask 0:0 >/dev/null
edit_in_place "$OUT/$F" c
r --check
if [ "$RC" = 3 ] && [ "$LINES" = "changed: $F" ]; then ok watch/swap-then-edit; else fail watch/swap-then-edit "exit $RC: $LINES $ERR"; fi
r
if settle $((TOTAL - 5)) && [ "$(tree_hash "$OUT")" = "$REF" ]; then ok watch/swap-then-list
else fail watch/swap-then-list "exit $RC: $STATS $ERR"; fi

# a second watcher of the same folder is refused
"$PLATFORMC" watch -o "$OUT" 2>"$TMP/second.err"; rc=$?
if [ $rc = 2 ] && grep -q 'already runs' "$TMP/second.err"; then ok watch/second-refused; else fail watch/second-refused "exit $rc: $(cat "$TMP/second.err")"; fi

# (4) a watcher killed: its socket stays; renders look at every file
stop_watcher -KILL
if [ -S "$SOCK" ]; then ok watch/killed-socket-stays; else fail watch/killed-socket-stays; fi
rm "$OUT/$G"
r --check
if [ "$RC" = 3 ] && [ "$LINES" = "added: $G" ]; then ok watch/killed-falls-back
else fail watch/killed-falls-back "exit $RC: $LINES $STATS $ERR"; fi
r
if [ "$RC" = 0 ] && grep -q 'no watcher$' <<<"$STATS" && [ "$(tree_hash "$OUT")" = "$REF" ]; then ok watch/killed-render
else fail watch/killed-render "exit $RC: $STATS $ERR"; fi
# a socket that answers nonsense, or nothing: renders behave as with no watcher
for kind in garbage silent; do
	rm -f "$SOCK"
	"$PY" - "$SOCK" "$kind" <<'PYEOF' &
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.bind(sys.argv[1])
s.listen(8)
held = []
while True:
    c, _ = s.accept()
    c.recv(128)
    if sys.argv[2] == "garbage":
        c.sendall(b"list ffffffffffffffff:1 1\nteams\n")
        c.close()
    else:
        held.append(c)
PYEOF
	FAKE=$!
	for _ in $(seq 50); do [ -S "$SOCK" ] && break; sleep 0.1; done
	rm "$OUT/$G"
	PLATFORMC_WATCH_WAIT_MS= r --check
	c_rc=$RC c_lines=$LINES
	PLATFORMC_WATCH_WAIT_MS= r
	kill "$FAKE" 2>/dev/null; wait "$FAKE" 2>/dev/null
	if [ "$c_rc" = 3 ] && [ "$c_lines" = "added: $G" ] && [ "$RC" = 0 ] && grep -q 'no watcher$' <<<"$STATS" &&
		[ "$(tree_hash "$OUT")" = "$REF" ]; then ok "watch/$kind-answer-ignored"
	else fail "watch/$kind-answer-ignored" "check exit $c_rc: $c_lines; render exit $RC: $STATS $ERR"; fi
done
rm -f "$SOCK"

if start_watcher; then
	r
	if [ "$RC" = 0 ] && grep -q 'watcher: all$' <<<"$STATS"; then ok watch/restart-all; else fail watch/restart-all "exit $RC: $STATS $ERR"; fi
	r
	if [ "$RC" = 0 ] && [ "$(watched)" = "$TOTAL" ]; then ok watch/restart-vouches; else fail watch/restart-vouches "exit $RC: $STATS $ERR"; fi
else
	fail watch/restart "$(cat "$TMP/watch.err")"
fi

# stopped by SIGTERM: exit 0, socket removed
stop_watcher -TERM; rc=$?
if [ $rc = 0 ] && [ ! -e "$SOCK" ]; then ok watch/sigterm; else fail watch/sigterm "exit $rc; socket: $(ls -la "$SOCK" 2>&1)"; fi

# a watcher started before its folder exists watches it once a render makes it
OUT_SAVED=$OUT SOCK_SAVED=$SOCK
OUT=$TMP/late SOCK=$TMP/.late.platformc-watch
if start_watcher; then
	r
	ask 0:0 >/dev/null
	if settle "$TOTAL" && [ "$(tree_hash "$OUT")" = "$REF" ]; then ok watch/made-after-start
	else fail watch/made-after-start "exit $RC: $STATS $ERR"; fi
	stop_watcher -TERM
else
	fail watch/made-after-start "$(cat "$TMP/watch.err")"
fi
OUT=$OUT_SAVED SOCK=$SOCK_SAVED

"$PLATFORMC" watch -o . 2>"$TMP/dot.err"; rc=$?
if [ $rc = 2 ] && grep -q 'must name a folder' "$TMP/dot.err"; then ok watch/dot-refused; else fail watch/dot-refused "exit $rc: $(cat "$TMP/dot.err")"; fi

# the watch limit: said clearly, exit 2
PLATFORMC_WATCH_MAX=3 "$PLATFORMC" watch -o "$OUT" 2>"$TMP/limit.err"; rc=$?
if [ $rc = 2 ] && grep -q 'fs.inotify.max_user_watches' "$TMP/limit.err" && [ ! -e "$SOCK" ]; then ok watch/limit
else fail watch/limit "exit $rc: $(cat "$TMP/limit.err")"; fi

finish
