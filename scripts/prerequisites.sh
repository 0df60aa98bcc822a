# Sourced by run.sh and test.sh: makes sure the machine has what Proactive needs, or says
# exactly what to run. Installs Debian packages itself only when running as root.

proactive_fail() {
  echo "proactive: $*" >&2
  exit 1
}

# A library is "present" when the dynamic loader can find its versioned soname.
proactive_has_library() {
  ldconfig -p 2>/dev/null | grep -q "$1" && return 0
  for dir in /usr/lib/x86_64-linux-gnu /usr/lib/aarch64-linux-gnu /usr/lib /usr/local/lib /lib/x86_64-linux-gnu; do
    [ -e "$dir/$1" ] && return 0
  done
  return 1
}

proactive_has_chromium() {
  [ -x "${PROACTIVE_CHROMIUM:-/usr/bin/chromium}" ]
}

proactive_install_debian_packages() {
  if [ "$(id -u)" != "0" ]; then
    proactive_fail "missing packages. Run: sudo apt-get update && sudo apt-get install -y $*"
  fi
  if ! command -v apt-get >/dev/null 2>&1; then
    proactive_fail "missing packages and no apt-get here. Install the packages that provide: $*"
  fi
  echo "proactive: installing $* (apt-get)..." >&2
  if ! { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@"; } >&2; then
    proactive_fail "could not install $*. Run: apt-get update && apt-get install -y $*"
  fi
}

proactive_check_prerequisites() {
  if ! command -v dotnet >/dev/null 2>&1; then
    proactive_fail "the .NET SDK is not installed (dotnet not on PATH). Install the .NET 10 SDK (Debian/Ubuntu package dotnet-sdk-10.0) and run this again."
  fi
  local sdk_major
  sdk_major=$(dotnet --version 2>/dev/null | cut -d. -f1)
  if [ -z "$sdk_major" ] || [ "$sdk_major" -lt 10 ]; then
    proactive_fail "the .NET SDK found is $(dotnet --version 2>/dev/null || echo unknown); Proactive needs 10.0 or later."
  fi

  local missing=()
  proactive_has_library libsodium.so.23 || missing+=(libsodium23)
  proactive_has_library libcrypto.so.3 || missing+=(libssl3)
  # The end-to-end tests check Ed25519 signatures with the openssl command-line tool.
  if [ "${PROACTIVE_NEEDS_OPENSSL_CLI:-0}" = "1" ] && ! command -v openssl >/dev/null 2>&1; then
    missing+=(openssl)
  fi
  # run.sh's demo reads the cluster's JSON status with python3.
  if [ "${PROACTIVE_NEEDS_PYTHON:-0}" = "1" ] && ! command -v python3 >/dev/null 2>&1; then
    missing+=(python3)
  fi
  # The status page's browser tests drive the system's Chromium (PROACTIVE_CHROMIUM names another binary).
  if [ "${PROACTIVE_NEEDS_CHROMIUM:-0}" = "1" ] && ! proactive_has_chromium; then
    missing+=(chromium)
  fi
  if [ ${#missing[@]} -gt 0 ]; then
    proactive_install_debian_packages "${missing[@]}"
    proactive_has_library libsodium.so.23 || proactive_fail "libsodium.so.23 still cannot be found after installing libsodium23."
    proactive_has_library libcrypto.so.3 || proactive_fail "libcrypto.so.3 still cannot be found after installing libssl3."
    if [ "${PROACTIVE_NEEDS_PYTHON:-0}" = "1" ]; then
      command -v python3 >/dev/null 2>&1 || proactive_fail "python3 is still missing after installing it."
    fi
    if [ "${PROACTIVE_NEEDS_OPENSSL_CLI:-0}" = "1" ]; then
      command -v openssl >/dev/null 2>&1 || proactive_fail "the openssl command is still missing after installing openssl."
    fi
    if [ "${PROACTIVE_NEEDS_CHROMIUM:-0}" = "1" ]; then
      proactive_has_chromium || proactive_fail "Chromium is still missing after installing chromium (expected ${PROACTIVE_CHROMIUM:-/usr/bin/chromium})."
    fi
  fi

  export DOTNET_CLI_TELEMETRY_OPTOUT=1
  export DOTNET_NOLOGO=1
  export DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1
}
