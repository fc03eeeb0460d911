# session-service gets a production env override: a new ConfigMap patch in the
# production overlay; the base ConfigMap is unchanged
sed -i 's/^      dev: {replicas: 1}$/      dev: {replicas: 1}\n      production: {env: {SESSION_TTL: "3600"}}/' teams/backend.yaml
grep -q 'SESSION_TTL' teams/backend.yaml
