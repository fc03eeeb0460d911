# backend's user-service runs 2 replicas in dev instead of 1
sed -i 's/^        replicas: 1$/        replicas: 2/' teams/backend.yaml
grep -q '^        replicas: 2$' teams/backend.yaml
