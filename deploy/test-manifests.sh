#!/usr/bin/env bash
# Checks the deploy manifests: the PrometheusRule matches the promtool-checked rules file, and
# `kubectl kustomize` renders the base and the NERC overlay with every object the deployment needs
# and no committed Secret.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

"$here/gen-prometheusrule.sh" "$tmp/prometheusrule.yaml"
cmp -s "$tmp/prometheusrule.yaml" "$here/kustomize/base/prometheusrule.yaml" ||
  { echo "deploy: prometheusrule.yaml is stale: run deploy/gen-prometheusrule.sh" >&2; exit 1; }

command -v kubectl >/dev/null || { echo "deploy: kubectl not found (scripts/setup installs kubernetes-client)" >&2; exit 1; }
for dir in base overlays/nerc; do
  kubectl kustomize "$here/kustomize/$dir" >"$tmp/out.yaml"
  for kind in ServiceAccount Deployment Service Route PodDisruptionBudget NetworkPolicy ConfigMap \
              ServiceMonitor PrometheusRule AlertmanagerConfig; do
    grep -q "^kind: $kind$" "$tmp/out.yaml" || { echo "deploy: $dir renders no $kind" >&2; exit 1; }
  done
  if grep -q "^kind: Secret$" "$tmp/out.yaml"; then
    echo "deploy: $dir renders a Secret; secrets must be referenced, not committed" >&2
    exit 1
  fi
  [ "$(grep -c 'component: worker' "$tmp/out.yaml")" -gt 0 ] || { echo "deploy: no worker" >&2; exit 1; }
done
grep -q "host: gpu-telemetry.apps.nerc.example" "$tmp/out.yaml" || { echo "deploy: overlay patch missing" >&2; exit 1; }
grep -q "mountPath: /etc/aitelemetry/secrets/observatorium" "$tmp/out.yaml" || { echo "deploy: mTLS mount missing" >&2; exit 1; }
grep -A2 "bearerTokenSecret:" "$tmp/out.yaml" | grep -q "name: aitelemetry-metrics" ||
  { echo "deploy: the ServiceMonitor scrapes /metrics without its bearer token" >&2; exit 1; }
grep -q "mountPath: /etc/aitelemetry/secrets/metrics" "$tmp/out.yaml" || { echo "deploy: metrics token mount missing" >&2; exit 1; }
echo "deploy: manifests render"
