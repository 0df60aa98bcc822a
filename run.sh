#!/usr/bin/env bash
# The main job. Until the server exists this is the in-process FROST ceremony: a trusted dealer
# splits a fresh group key among 5 participants (threshold 2), 3 random participants sign, and
# the signature is verified — once per ciphersuite. Extra arguments go to `proactive frost-demo`.
set -euo pipefail
cd "$(dirname "$0")"
. scripts/prerequisites.sh
proactive_check_prerequisites

dotnet build src/Proactive.Cli -c Release -nologo -clp:ErrorsOnly -v quiet >/dev/null \
  || { dotnet build src/Proactive.Cli -c Release -nologo -clp:ErrorsOnly; proactive_fail "build failed."; }
proactive() { dotnet src/Proactive.Cli/bin/Release/net10.0/proactive.dll "$@"; }

if [ $# -gt 0 ]; then
  proactive frost-demo "$@"
  exit $?
fi

for suite in ed25519 ristretto255 p256; do
  proactive frost-demo --nodes 5 --threshold 2 --message "hello from Proactive" --suite "$suite"
  echo
done
