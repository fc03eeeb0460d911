#!/usr/bin/env bash
# ---- determinism: locale, time zone, umask, CRLF, checkout path -------------
# examples/company rendered under each setting gives the same bytes as the
# base render. Every render must exit 0 and leave a tree: the hash of a
# folder that is missing or empty is never compared.
. "$(dirname "$0")/../lib.sh"

ex=company
# render_hash CASE CMD...: runs the render command CMD (in a subshell: it may
# cd or umask); sets H to the tree's hash, or fails CASE and returns 1
render_hash() {
	local name=$1 out; shift
	out=${*: -1}
	H=""
	rm -rf "$out"
	("$@") >/dev/null 2>"$TMP/err"; local rc=$?
	if [ $rc -ne 0 ]; then fail "$name" "the render exits $rc: $(head -5 "$TMP/err")"; return 1; fi
	if ! H=$(tree_hash "$out"); then fail "$name" "the render exits 0 but $out holds no file"; return 1; fi
}
in_dir() { local d=$1; shift; cd "$d" && "$@"; }
with_umask() { local m=$1; shift; umask "$m" && "$@"; }

if ! render_hash determinism/base "$PLATFORMC" render "examples/$ex/platform.yaml" -o "$TMP/d0"; then
	finish
fi
base=$H
# the matrix needs de_DE and tr_TR (tr_TR: dotless i in case mapping):
# generated when missing and running as root, else each is a visible skip
have_locale() { locale -a 2>/dev/null | grep -qix "$(sed 's/UTF-8/utf8/' <<<"$1")"; }
for l in de_DE tr_TR; do
	have_locale "$l.UTF-8" || [ "$(id -u)" != 0 ] || localedef -i "$l" -f UTF-8 "$l.UTF-8" >/dev/null 2>&1
done
i=0
for envs in "LC_ALL=C TZ=UTC" "LC_ALL=de_DE.UTF-8 TZ=Asia/Kolkata" "LC_ALL=tr_TR.UTF-8 TZ=America/St_Johns" "LANG=C.UTF-8 TZ=Pacific/Chatham"; do
	i=$((i + 1))
	loc=$(grep -oE 'LC_ALL=[^ ]+' <<<"$envs" | cut -d= -f2)
	if [ -n "$loc" ] && [ "$loc" != C ] && ! have_locale "$loc"; then
		skip "determinism/$envs" "locale $loc is not installed: localedef -i ${loc%%.*} -f UTF-8 $loc"
		continue
	fi
	# shellcheck disable=SC2086
	render_hash "determinism/$envs" with_umask 077 env $envs "$PLATFORMC" render "examples/$ex/platform.yaml" -o "$TMP/d$i" || continue
	[ "$H" = "$base" ] && ok "determinism/$envs" || fail "determinism/$envs" "$H != $base"
done
# CRLF input and a different checkout path give the same bytes
cp -r "examples/$ex" "$TMP/moved-checkout"
find "$TMP/moved-checkout" -name '*.yaml' -exec sed -i 's/$/\r/' {} +
if render_hash determinism/crlf-and-checkout-path in_dir "$TMP/moved-checkout" "$PLATFORMC" render platform.yaml -o "$TMP/dcrlf"; then
	[ "$H" = "$base" ] && ok determinism/crlf-and-checkout-path || fail determinism/crlf-and-checkout-path "$H != $base"
fi
# included files created in reverse order (so the directory lists them
# the other way round on file systems that keep creation order), umask 000
mkdir -p "$TMP/rev/teams" "$TMP/rev/platform.d"
for f in $(cd "examples/$ex" && find . -name '*.yaml' | LC_ALL=C sort -r); do cp "examples/$ex/$f" "$TMP/rev/$f"; done
if render_hash determinism/include-creation-order-reversed-umask-000 with_umask 000 in_dir "$TMP/rev" "$PLATFORMC" render platform.yaml -o "$TMP/drev"; then
	[ "$H" = "$base" ] && ok determinism/include-creation-order-reversed-umask-000 || fail determinism/include-creation-order-reversed-umask-000 "$H != $base"
fi
# every locale the machine has, beyond the matrix
bad="" n=0
for l in $(locale -a 2>/dev/null | head -20); do
	n=$((n + 1))
	rm -rf "$TMP/dl"; LC_ALL=$l "$PLATFORMC" render "examples/$ex/platform.yaml" -o "$TMP/dl" >/dev/null 2>&1; rc=$?
	h=$(tree_hash "$TMP/dl") || h="no tree"
	[ $rc -eq 0 ] && [ "$h" = "$base" ] || bad+="$l (exit $rc, $h) "
done
[ -z "$bad" ] && [ $n -gt 0 ] && ok "determinism/every-installed-locale ($n)" || fail determinism/every-installed-locale "differs under: ${bad:-(no locale installed)}"
"$PLATFORMC" render "examples/$ex/platform.yaml" -o "$TMP/d0" 2>"$TMP/w" >/dev/null; rc=$?
[ $rc -eq 0 ] && grep -q ' 0 added, 0 changed, 0 removed' "$TMP/w" && ok determinism/re-render-writes-nothing || fail determinism/re-render-writes-nothing "exit $rc: $(cat "$TMP/w")"

finish
