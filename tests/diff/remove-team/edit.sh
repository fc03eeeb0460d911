# the growth team goes, with its services and resources: its production
# namespace and claims are removed, destructive changes listed first (and the
# data team stops sharing a prefix of its lake with it)
python3 - <<'PY'
p = "platform.yaml"
s = open(p).read()
a = s.index("  - name: growth\n")
b = s.index("\n# Systems group")
s = s[:a].rstrip() + "\n" + s[b:]
open(p, "w").write(s)
p = "teams/frontend.yaml"
s = open(p).read()
s = s.replace(", recommendation-service]", "]")
open(p, "w").write(s)
p = "teams/data.yaml"   # the lake's prefix shared with growth
s = open(p).read()
a = s.index("    # growth reads")
b = s.index("prefix: experiments/}]\n") + len("prefix: experiments/}]\n")
s = s[:a] + s[b:]
open(p, "w").write(s)
PY
rm teams/growth.yaml
! grep -rq "growth" platform.yaml teams/
