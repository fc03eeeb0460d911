"""A case for a kind file of one's own: a platform whose `platform.catalog` is
`kinds/`, with one resource of a given kind, and the kind file beside it at
kinds/<name>/kind.yaml. Used by tests/catalog/mutate_kinds.py and
tests/schema/kind_check.py, which run `platformc check` in the case folder."""
import os

import yaml

PLATFORM = """platform:
  name: acme
  domain: acme.example.com
  owner: platform
  cloud: {{provider: aws, region: us-east-1, account: "111122223333"}}
  gitops: {{repo: https://github.com/acme/platform-gitops}}
  registries: [ghcr.io/acme]
  catalog: [kinds]
environments:
  - {{name: dev, tier: nonprod}}
teams:
  - name: platform
    quota: {{cpu: 2, memory: 4Gi}}
resources:
  - {{name: q, kind: {kind}, team: platform}}
"""


def write(case, name, tree, resource_kind):
    """platform.yaml (one resource of `resource_kind`) and kinds/<name>/kind.yaml (tree) in case."""
    os.makedirs(os.path.join(case, "kinds", name), exist_ok=True)
    with open(os.path.join(case, "platform.yaml"), "w", encoding="utf-8") as f:
        f.write(PLATFORM.format(kind=resource_kind))
    with open(os.path.join(case, "kinds", name, "kind.yaml"), "w", encoding="utf-8") as f:
        yaml.safe_dump(tree, f, sort_keys=False)
