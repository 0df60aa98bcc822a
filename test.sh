#!/usr/bin/env bash
# Runs every Proactive test: restores packages, builds (warnings are errors), runs all test
# projects, and ends with one summary line "tests: N passed, N failed, N skipped".
set -euo pipefail
cd "$(dirname "$0")"
. scripts/prerequisites.sh
PROACTIVE_NEEDS_OPENSSL_CLI=1 PROACTIVE_NEEDS_CHROMIUM=1 proactive_check_prerequisites

[ -d ../shared/vectors ] || proactive_fail "the published test vectors are missing: expected ../shared/vectors beside this repository."

echo "== restore"
dotnet restore Proactive.slnx || proactive_fail "dotnet restore failed (is the NuGet source reachable?)."
echo "== build"
dotnet build Proactive.slnx -c Release --no-restore -nologo -clp:ErrorsOnly
echo "== format check"
dotnet format Proactive.slnx --verify-no-changes --no-restore || proactive_fail "code is not 'dotnet format' clean: run 'dotnet format Proactive.slnx'."

echo "== test"
# The browser tests' screenshots of this run (under bin/, never committed).
artifacts=tests/Proactive.Browser.Tests/bin/Release/net10.0/artifacts
rm -rf "$artifacts"
log=$(mktemp)
trap 'rm -f "$log"' EXIT
set +e
dotnet test Proactive.slnx -c Release --no-build -nologo --filter 'Category!=EndToEnd' 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
# The end-to-end tests run local clusters of real processes with short periods: they get the cores
# to themselves, after everything else.
echo "== end-to-end (local clusters of real processes)"
dotnet test tests/Proactive.Cli.Tests -c Release --no-build -nologo --filter 'Category=EndToEnd' 2>&1 | tee -a "$log"
e2e=${PIPESTATUS[0]}
[ "$e2e" -eq 0 ] || status=$e2e
# The status page in headless Chromium against a local cluster (a wiped server recovering).
dotnet test tests/Proactive.Browser.Tests -c Release --no-build -nologo --filter 'Category=EndToEnd' 2>&1 | tee -a "$log"
browser=${PIPESTATUS[0]}
[ "$browser" -eq 0 ] || status=$browser
for shot in "$artifacts"/*.png; do
  [ -e "$shot" ] && echo "status page screenshot: $shot"
done
set -e

# Sum the per-assembly summaries ("Passed!  - Failed: 0, Passed: 12, Skipped: 0, ...").
read -r passed failed skipped < <(awk '
  /(Passed|Failed)! +- +Failed:/ {
    for (i = 1; i <= NF; i++) {
      gsub(",", "", $(i+1))
      if ($i == "Failed:") f += $(i+1)
      if ($i == "Passed:") p += $(i+1)
      if ($i == "Skipped:") s += $(i+1)
    }
  }
  END { printf "%d %d %d\n", p, f, s }' "$log")
echo
echo "tests: ${passed} passed, ${failed} failed, ${skipped} skipped"
if [ "$status" -ne 0 ] || [ "$failed" -ne 0 ] || [ "$passed" -eq 0 ]; then
  exit 1
fi
