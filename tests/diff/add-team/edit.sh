# a new team, without services yet
python3 - <<'PY'
p = "platform.yaml"
s = open(p).read()
team = """  - name: search
    title: Search Team
    email: search@fasti.sh
    slack: "#team-search"
    members: [ines, jo]
    quota: {cpu: 2, memory: 4Gi, pods: 20}
"""
s = s.replace("teams:\n", "teams:\n" + team, 1)
open(p, "w").write(s)
PY
