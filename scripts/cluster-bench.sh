#!/usr/bin/env bash
# Measures the local cluster (issue 4, docs/BENCHMARKS.md): initialization time, the refresh wall time
# of every period (from its start until the refresh committed, per server), the time until a wiped
# server is operational again after the start of the period it recovers in, and resident memory.
# Usage: scripts/cluster-bench.sh NODES THRESHOLD FAULTS PERIOD PERIODS [--wipe SERVER]
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/prerequisites.sh
PROACTIVE_NEEDS_PYTHON=1 proactive_check_prerequisites
[ $# -ge 5 ] || { echo "usage: $0 NODES THRESHOLD FAULTS PERIOD PERIODS [--wipe SERVER]" >&2; exit 2; }
n=$1 t=$2 f=$3 period=$4 periods=$5 wipe=${7:-}
dotnet build src/Proactive.Cli -c Release -nologo -clp:ErrorsOnly -v quiet >/dev/null
proactive() { dotnet src/Proactive.Cli/bin/Release/net10.0/proactive.dll "$@"; }
dir=$(mktemp -d /tmp/proactive-bench-XXXXXX)
trap 'proactive cluster down --dir "$dir" >/dev/null 2>&1 || true; rm -rf "$dir"' EXIT
proactive cluster up --nodes "$n" --threshold "$t" --faults "$f" --period "$period" --dir "$dir" --detach --timeout 300s >/dev/null
current() { proactive cluster status --dir "$dir" --json | python3 -c 'import json,sys; print(min((s.get("period") or 0) for s in json.load(sys.stdin)))'; }
start=$(current)
if [ -n "$wipe" ]; then
  while [ "$(current)" -lt $((start + 1)) ]; do sleep 1; done
  proactive cluster break-in --server "$wipe" --wipe --dir "$dir" >/dev/null
fi
while [ "$(current)" -lt $((start + periods + 1)) ]; do sleep 1; done
rss=$(python3 - "$dir" <<'PY'
import json, sys
state = json.load(open(sys.argv[1] + "/cluster-state.json"))
values = []
for s in state["servers"]:
    try:
        for line in open(f"/proc/{s['pid']}/status"):
            if line.startswith("VmRSS:"):
                values.append(int(line.split()[1]) / 1024)
    except OSError:
        pass
print("%.0f-%.0f MB (max %.0f)" % (min(values), max(values), max(values)) if values else "n/a")
PY
)
python3 - "$dir" "$n" "$wipe" "$rss" <<'PY'
import glob, re, statistics, sys, datetime
root, n, wipe, rss = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
init, refresh, recover = [], [], []
stamp = lambda line: datetime.datetime.strptime(line[:12], "%H:%M:%S.%f")
for path in sorted(glob.glob(root + "/server-*/node.log")):
    server = int(re.search(r"server-(\d+)", path).group(1))
    starts = {}
    for line in open(path, errors="replace"):
        m = re.search(r"initialized in ([0-9.]+) s", line)
        if m: init.append(float(m.group(1)))
        m = re.search(r"period (\d+) starts", line)
        if m: starts[int(m.group(1))] = stamp(line)
        m = re.search(r"refresh of period (\d+) committed in ([0-9.]+) ms", line)
        if m:
            p = int(m.group(1))
            if wipe and server == int(wipe) and "recovering its shares" in open(path, errors="replace").read().split(f"period {p} starts")[1][:40]:
                recover.append(float(m.group(2)))
            else:
                refresh.append(float(m.group(2)))
print(f"servers {n}: initialization {max(init):.2f} s (slowest server)")
print(f"refresh wall time per server: median {statistics.median(refresh):.0f} ms, p95 {sorted(refresh)[int(len(refresh)*0.95)-1]:.0f} ms, max {max(refresh):.0f} ms over {len(refresh)} refreshes")
if recover: print(f"wiped server operational (refresh committed with recovered shares) {max(recover):.0f} ms after the start of its period")
print(f"resident memory per server: {rss}")
PY
