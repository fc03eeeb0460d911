# the growth team goes, with its services and resources: its production
# namespace and claims are removed, destructive changes listed first
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
PY
rm teams/growth.yaml
! grep -rq "growth" platform.yaml teams/
