# a bigger cache node and more read capacity: the cost delta shows per claim
sed -i 's/params: {mode: single, node_type: cache.t4g.medium}/params: {mode: single, node_type: cache.r7g.large}/' teams/growth.yaml
sed -i 's/read_capacity: 5$/read_capacity: 50/' teams/growth.yaml
