#!/usr/bin/env bash
. "$(dirname "$0")/../lib.sh"

# NUL-separated: generated names may hold spaces (`${{ values.name }}.yaml.njk`)
tree_hash() { (cd "$1" && find . -type f ! -name .platformc-manifest -print0 | LC_ALL=C sort -z | xargs -0 sha256sum | sha256sum | cut -c1-16); }
ex=company
"$PLATFORMC" render "examples/$ex/platform.yaml" -o "$TMP/d0" 2>/dev/null
base=$(tree_hash "$TMP/d0")
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
		printf 'skip determinism/%s (locale %s is not installed: localedef -i %s -f UTF-8 %s)\n' "$envs" "$loc" "${loc%%.*}" "$loc"
		continue
	fi
	(umask 077; env $envs "$PLATFORMC" render "examples/$ex/platform.yaml" -o "$TMP/d$i" 2>/dev/null)
	h=$(tree_hash "$TMP/d$i")
	[ "$h" = "$base" ] && ok "determinism/$envs" || fail "determinism/$envs" "$h != $base"
done
# CRLF input and a different checkout path give the same bytes
cp -r "examples/$ex" "$TMP/moved-checkout"
find "$TMP/moved-checkout" -name '*.yaml' -exec sed -i 's/$/\r/' {} +
(cd "$TMP/moved-checkout" && "$PLATFORMC" render platform.yaml -o "$TMP/dcrlf" 2>/dev/null)
h=$(tree_hash "$TMP/dcrlf")
[ "$h" = "$base" ] && ok determinism/crlf-and-checkout-path || fail determinism/crlf-and-checkout-path "$h != $base"
# included files created in reverse order (so the directory lists them
# the other way round on file systems that keep creation order), umask 000
mkdir -p "$TMP/rev/teams" "$TMP/rev/platform.d"
for f in $(cd "examples/$ex" && find . -name '*.yaml' | LC_ALL=C sort -r); do cp "examples/$ex/$f" "$TMP/rev/$f"; done
(umask 000; cd "$TMP/rev" && "$PLATFORMC" render platform.yaml -o "$TMP/drev" 2>/dev/null)
h=$(tree_hash "$TMP/drev")
[ "$h" = "$base" ] && ok determinism/include-creation-order-reversed-umask-000 || fail determinism/include-creation-order-reversed-umask-000 "$h != $base"
# every locale the machine has, beyond the matrix
bad=""
for l in $(locale -a 2>/dev/null | head -20); do
	rm -rf "$TMP/dl"; LC_ALL=$l "$PLATFORMC" render "examples/$ex/platform.yaml" -o "$TMP/dl" 2>/dev/null
	[ "$(tree_hash "$TMP/dl")" = "$base" ] || bad+="$l "
done
[ -z "$bad" ] && ok "determinism/every-installed-locale ($(locale -a 2>/dev/null | head -20 | wc -l))" || fail determinism/every-installed-locale "differs under: $bad"
"$PLATFORMC" render "examples/$ex/platform.yaml" -o "$TMP/d0" 2>"$TMP/w"
grep -q ' 0 added, 0 changed, 0 removed' "$TMP/w" && ok determinism/re-render-writes-nothing || fail determinism/re-render-writes-nothing "$(cat "$TMP/w")"

finish
