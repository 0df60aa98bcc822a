#!/usr/bin/env bash
# The Kubernetes provisioning ceremony's offline step (docs/OPERATIONS.md, "Kubernetes"): from the ROMs
# the servers' init containers made, build C (cluster.json, with the StatefulSet's stable DNS names as
# hosts) and the two objects the pods wait for: the ConfigMap proactive-cluster (C) and the Secret
# proactive-rom (every server's ROM, byte for byte), both immutable.
#
#   deploy/k8s/ceremony.sh --namespace proactive --period 1h --out ceremony rom-1.json rom-2.json ...
#   kubectl -n proactive apply -f ceremony/ceremony.yaml
#
# Needs the `proactive` program (or PROACTIVE=/path/to/proactive) and base64. Names and ports must match
# statefulset.yaml and service.yaml.
set -euo pipefail

statefulset=proactive
service=proactive
peer_port=7000
api_port=8080
namespace=
domain=cluster.local
out=
config_options=()
roms=()

usage() {
  echo "usage: $0 --namespace NS [--domain cluster.local] [--period 1h] [--threshold T] [--faults F] [--suite ed25519] --out DIR ROM..." >&2
  exit 2
}

while [ $# -gt 0 ]; do
  case "$1" in
    --namespace) namespace=${2:?}; shift 2 ;;
    --domain) domain=${2:?}; shift 2 ;;
    --out) out=${2:?}; shift 2 ;;
    --period|--threshold|--faults|--suite|--genesis) config_options+=("$1" "${2:?}"); shift 2 ;;
    -h|--help) usage ;;
    -*) echo "$0: unknown option $1" >&2; usage ;;
    *) roms+=("$1"); shift ;;
  esac
done
[ -n "$namespace" ] && [ -n "$out" ] && [ ${#roms[@]} -gt 0 ] || usage
proactive=${PROACTIVE:-proactive}
command -v "$proactive" >/dev/null || { echo "$0: '$proactive' not found (set PROACTIVE=/path/to/proactive)" >&2; exit 1; }

mkdir -p "$out"
servers=()
secret_data=()
for rom in "${roms[@]}"; do
  # RomRecord writes one compact JSON line: {"format":"proactive-rom-v1","serverId":3,"startPublicKey":"<64 hex>"}
  id=$(sed -n 's/.*"serverId":\([0-9][0-9]*\).*/\1/p' "$rom")
  key=$(sed -n 's/.*"startPublicKey":"\([0-9a-f]*\)".*/\1/p' "$rom")
  if [ -z "$id" ] || [ -z "$key" ] || ! grep -q '"format":"proactive-rom-v1"' "$rom"; then
    echo "$0: $rom is not a ROM made by 'proactive provision'" >&2
    exit 1
  fi
  host="$statefulset-$((id - 1)).$service.$namespace.svc.$domain"
  servers+=(--server "$id=$host:$peer_port:$api_port:$key")
  secret_data+=("  rom-$id.json: $(base64 -w0 < "$rom")")
done

# C: 'config new' checks the ids (1..n), the start keys and the thresholds.
"$proactive" config new "${servers[@]}" "${config_options[@]}" --out "$out/cluster.json" --force >&2

{
  echo "# Made by deploy/k8s/ceremony.sh from ${#roms[@]} ROMs. Apply: kubectl -n $namespace apply -f $out/ceremony.yaml"
  echo "# C never changes for the life of the network (its id is derived from it): both objects are immutable."
  echo "apiVersion: v1"
  echo "kind: ConfigMap"
  echo "metadata:"
  echo "  name: proactive-cluster"
  echo "  labels:"
  echo "    app.kubernetes.io/name: proactive"
  echo "immutable: true"
  echo "data:"
  echo "  cluster.json: |"
  sed 's/^/    /' "$out/cluster.json"
  echo "---"
  echo "# The servers' ROMs (V_start and id: public, but the root of each server's trust): mounted read-only."
  echo "apiVersion: v1"
  echo "kind: Secret"
  echo "metadata:"
  echo "  name: proactive-rom"
  echo "  labels:"
  echo "    app.kubernetes.io/name: proactive"
  echo "type: Opaque"
  echo "immutable: true"
  echo "data:"
  printf '%s\n' "${secret_data[@]}"
} > "$out/ceremony.yaml"
echo "Wrote $out/cluster.json and $out/ceremony.yaml (network $(sed -n 's/.*"networkId": *"\([0-9a-f]*\)".*/\1/p' "$out/cluster.json"))." >&2
