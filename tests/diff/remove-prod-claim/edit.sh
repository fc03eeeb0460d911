# frontend drops its storefront-assets bucket: its production claim goes, a
# destructive change the diff lists in a section of its own
python3 - <<'PY'
p = "teams/frontend.yaml"
s = open(p).read()
s = s.replace("    uses: [storefront-assets]\n", "")
a = s.index("resources:\n  - name: storefront-assets")
s = s[:a].rstrip() + "\n"
open(p, "w").write(s)
PY
! grep -q storefront-assets teams/frontend.yaml
