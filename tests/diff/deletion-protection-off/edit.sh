# users-db loses its deletion protection in production: destructive
sed -i 's/      production: {params: {min_acu: 2, max_acu: 32, backup_retention_days: 30}}/      production: {params: {min_acu: 2, max_acu: 32, backup_retention_days: 30, deletion_protection: false}}/' teams/backend.yaml
grep -q 'deletion_protection: false' teams/backend.yaml
