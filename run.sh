#!/usr/bin/env bash
# The main job: a local cluster of 5 servers (t=2, f=1, a period of 10 s) as separate processes on
# loopback, and the demo of issues 4 and 5: initialization, a refresh, an application that stores a
# secret and gets a threshold Ed25519 signature (checked by `proactive verify` and OpenSSL), one
# server's store wiped and another's public data corrupted, both back within two periods with the
# network key unchanged and the secret still retrievable, and shares stolen before a refresh that do
# not combine with shares stolen after it. The cluster keeps running
# at the end (its live view: `proactive cluster up --dir .cluster`; stop: `proactive cluster down`).
# Options: --keep (leave the cluster running, default) or --down (stop it at the end).
set -euo pipefail
cd "$(dirname "$0")"
. scripts/prerequisites.sh
PROACTIVE_NEEDS_PYTHON=1 proactive_check_prerequisites

dotnet build src/Proactive.Cli -c Release -nologo -clp:ErrorsOnly -v quiet >/dev/null \
  || { dotnet build src/Proactive.Cli -c Release -nologo -clp:ErrorsOnly; proactive_fail "build failed."; }
proactive() { dotnet src/Proactive.Cli/bin/Release/net10.0/proactive.dll "$@"; }

dir=.cluster
stop_at_end=0
[ "${1:-}" = "--down" ] && stop_at_end=1

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
status() { proactive cluster status --dir "$dir" --json | python3 -c '
import json, sys
for s in json.load(sys.stdin):
    key = (s.get("networkKey") or "-")[:16]
    print("  server %s: %-12s period %-4s network key %s  alerts %s" % (s["id"], s["state"], s.get("period"), key, s.get("alertCount")))'; }
period() { proactive cluster status --dir "$dir" --json | python3 -c '
import json, sys; print(max((s.get("period") or 0) for s in json.load(sys.stdin)))'; }
wait_period() {  # wait until every server is operational in a period >= $1
  for _ in $(seq 1 120); do
    if proactive cluster status --dir "$dir" --json | python3 -c '
import json, sys
target = int(sys.argv[1]); servers = json.load(sys.stdin)
sys.exit(0 if all(s["state"] == "operational" and (s.get("period") or 0) >= target for s in servers) else 1)' "$1"; then return 0; fi
    sleep 1
  done
  proactive_fail "the cluster did not reach period $1 with every server operational (see $dir/server-*/node.log)."
}

if [ -f "$dir/cluster-state.json" ]; then
  step "Stopping the cluster left in $dir by an earlier run"
  proactive cluster down --dir "$dir"
  rm -rf "$dir"
fi

step "Provisioning 5 servers, writing C, starting them, running initialization (toolkit Table 3)"
proactive cluster up --nodes 5 --threshold 2 --faults 1 --period 10s --dir "$dir" --detach
status

step "Stealing the shares of servers 1, 2 and 3 in this period (the mobile adversary's first visit)"
first=$(period)
proactive cluster break-in --server 1 --steal --dir "$dir"
proactive cluster break-in --server 2 --steal --dir "$dir"
proactive cluster break-in --server 3 --steal --dir "$dir"
[ "$(period)" = "$first" ] || proactive_fail "a refresh fell between the thefts; run again."
step "t + 1 = 3 shares of one period rebuild the network key: the thefts were real"
proactive cluster combine-stolen --dir "$dir" "$dir"/stolen/server-1-period-$first.bin "$dir"/stolen/server-2-period-$first.bin "$dir"/stolen/server-3-period-$first.bin

step "Waiting for the refresh of period $((first + 1)) (new shares, same keys)"
wait_period $((first + 1))
status

step "An application registers and stores a secret; it gets a threshold key and a signature (the application API)"
creds="$dir/demo-credentials.json"
app() { proactive "$@" --credentials "$creds"; }
proactive app register --name demo --unique-id "run-$(date +%s)" --credentials "$creds" --force
app store launch-codes --value "the launch codes (demo)"
app key generate demo-key
app sign --key demo-key --message "hello from run.sh" --json > "$dir/signature.json"
python3 - "$dir/signature.json" "$dir" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))
open(sys.argv[2] + "/signature.der", "wb").write(bytes.fromhex("302a300506032b6570032100" + s["publicKey"]))
open(sys.argv[2] + "/signature.msg", "wb").write(bytes.fromhex(s["message"]))
open(sys.argv[2] + "/signature.sig", "wb").write(bytes.fromhex(s["signature"]))
print("  public key %s\n  signature  %s" % (s["publicKey"], s["signature"]))
PY
proactive verify --public-key "$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["publicKey"])' "$dir/signature.json")" \
  --message "hello from run.sh" --signature "$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["signature"])' "$dir/signature.json")" \
  || proactive_fail "the threshold signature does not verify."
if command -v openssl >/dev/null 2>&1; then
  openssl pkeyutl -verify -pubin -keyform DER -inkey "$dir/signature.der" -rawin -in "$dir/signature.msg" -sigfile "$dir/signature.sig" \
    || proactive_fail "OpenSSL does not accept the threshold signature."
fi

step "Breaking in: wiping server 3's store, corrupting server 4's public data"
proactive cluster break-in --server 3 --wipe --dir "$dir"
proactive cluster break-in --server 4 --corrupt-public --dir "$dir"
proactive cluster break-in --server 5 --steal --dir "$dir"
now=$(period)

step "Both recover within two periods (Table 2: M from a peer, the certified public state, share recovery)"
wait_period $((now + 2))
status

step "The application's secret after two refreshes and a wiped server (shares refreshed, recovered)"
app retrieve launch-codes

step "Two shares stolen before the refresh and one after it do not combine"
if proactive cluster combine-stolen --dir "$dir" "$dir"/stolen/server-1-period-$first.bin "$dir"/stolen/server-2-period-$first.bin "$dir"/stolen/server-5-period-*.bin; then
  proactive_fail "shares of different periods combined: the refresh is broken."
fi

step "What the servers recorded (GET /v1/alerts of every server)"
proactive cluster status --dir "$dir" --json | python3 -c '
import json, sys, urllib.request
for server in json.load(sys.stdin):
    alerts = json.load(urllib.request.urlopen(server["apiUrl"].rstrip("/") + "/v1/alerts", timeout=10))["alerts"]
    for a in alerts:
        print("  server %s #%s period %s %s culprit %s: %s" % (server["id"], a["id"], a["period"], a["type"], a["culprit"], a["detail"]))'

if [ $stop_at_end = 1 ]; then
  step "Stopping the cluster"
  proactive cluster down --dir "$dir"
else
  echo
  echo "The cluster keeps running: 'dotnet src/Proactive.Cli/bin/Release/net10.0/proactive.dll cluster status --dir $dir'"
  echo "(live view: '... cluster up --dir $dir'; stop: '... cluster down --dir $dir')."
fi
