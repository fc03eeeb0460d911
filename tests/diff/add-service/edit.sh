# growth adds a service that calls catalog-service
python3 - <<'PY'
p = "teams/growth.yaml"
s = open(p).read()
svc = """  - name: search-service
    team: growth
    description: Full-text product search
    repo: https://github.com/fastish/search-service
    language: go
    image: ghcr.io/fastish/search-service
    port: 8080
    api: rest
    calls: [catalog-service]

"""
s = s.replace("resources:\n", svc + "resources:\n", 1)
open(p, "w").write(s)
PY
