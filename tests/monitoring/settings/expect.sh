#!/usr/bin/env bash
# Runs inside the rendered tree; every line names what it proves.
set -u
fail=0
must() { # must <what> <command...>
	local what=$1; shift
	"$@" >/dev/null 2>&1 || { echo "not true: $what"; fail=1; }
}
must "the Prometheus selector labels are on ServiceMonitors" grep -q '^    prometheus: main$' monitoring/api-2/live/servicemonitor.yaml
must "... and on PrometheusRules (YAML 1.1-safe quoting)" grep -q '^    example.com/rules: "on"$' monitoring/gql/live/prometheusrule.yaml
must "... and on platform rules" grep -q '^    prometheus: main$' platform/monitoring/rules/team-ops.yaml
must "platform rules live in the configured namespace" grep -q '^  namespace: observability$' platform/monitoring/rules/platform.yaml
must "network policies admit scrapes from the configured namespace" grep -q 'kubernetes.io/metadata.name: observability' services/api-2/live/networkpolicy.yaml
must "service dashboards go to the configured namespace" grep -A1 -- '- name: dashboard-service-gql$' platform/monitoring/kustomization.yaml
must "... (that namespace)" bash -c "grep -A1 -- '- name: dashboard-service-gql\$' platform/monitoring/kustomization.yaml | grep -q '^  namespace: grafana-dashboards\$'"
must "... so the platform project deploys them" grep -q '^  project: platform-system$' argocd/qa/platform/platform-monitoring.yaml
must "one dashboard per service, an env variable over its environments" grep -q '"query": "qa,live"' platform/monitoring/dashboards/service-gql.json
must "no dashboard per environment" test ! -e monitoring/gql/live/dashboard.json
must "a service's scrape path overrides the default" grep -q '^    path: /internal/metrics$' monitoring/gql/live/servicemonitor.yaml
must "defaults.service.metrics reaches services" grep -q '^    path: /metrics$' monitoring/api-2/live/servicemonitor.yaml
must "platform-wide gRPC metric names" grep -q 'rpc_requests_total{job="api2",namespace="ops-live",status=~"INTERNAL|UNAVAILABLE"}' monitoring/api2/live/prometheusrule.yaml
must "platform-wide GraphQL requests, service latency and error selector (escaped)" \
	grep -qF 'graphql_requests_total{job="gql",namespace="ops-live",code=~"5\\d\\d|\"quoted\""}' monitoring/gql/live/prometheusrule.yaml
must "service latency histogram" grep -q 'gql_request_seconds_bucket{job="gql",namespace="ops-live",le="0.25"}' monitoring/gql/live/prometheusrule.yaml
must "an integral threshold matches Prometheus 2 and 3 spellings of le" grep -qF 'le=~"2|2\\.0"' monitoring/api-2/live/prometheusrule.yaml
must "names differing by a dash get different alerts" grep -q 'alert: Api_2AvailabilityBudgetBurn' monitoring/api-2/live/prometheusrule.yaml
must "... and different runbooks" test -f docs/runbooks/Api2AvailabilityBudgetBurn.md -a -f docs/runbooks/Api_2AvailabilityBudgetBurn.md
must "template text from the input is escaped" grep -qF 'Returns {{ \"{{\" }} .Secret }} and {{ \"{{\" }} template' monitoring/api-2/qa/prometheusrule.yaml
must "... and never left raw" bash -c '! grep -rqE "\{\{ ?(\.Secret|template)" monitoring/*/*/prometheusrule.yaml'
must "HTML from the input is escaped in runbooks" grep -qF '&lt;script&gt;alert(1)&lt;/script&gt; \*bold\* \[x\](y)' docs/runbooks/Api_2AvailabilityBudgetBurn.md
must "nonprod never pages" bash -c '! grep -q "severity: page" monitoring/*/qa/prometheusrule.yaml'
must "prod pages" grep -q 'severity: page' monitoring/gql/live/prometheusrule.yaml
must "without an slo, no PrometheusRule" test ! -e monitoring/worker/live/prometheusrule.yaml
must "api: none has no request panels" bash -c '! grep -q "Request rate" platform/monitoring/dashboards/service-worker.json'
exit $fail
