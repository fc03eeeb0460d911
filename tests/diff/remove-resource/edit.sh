# growth drops its experiments table (and the experiment that used it)
python3 - <<'PY'
p = "teams/growth.yaml"
s = open(p).read()
a = s.index("  - name: experiments-service")
b = s.index("resources:\n")
s = s[:a] + s[b:]
a = s.index("  - name: experiments-table")
s = s[:a].rstrip() + "\n"
open(p, "w").write(s)
PY
