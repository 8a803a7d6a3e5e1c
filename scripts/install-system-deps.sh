#!/usr/bin/env bash
# Installs what the test suite needs beyond Python packages, only when it is missing.
# Each block names the tests that need it. Safe to run again: it does nothing when all is present.
set -euo pipefail
cd "$(dirname "$0")/.."

apt_install() {
  local packages=("$@")
  if [ "$(id -u)" = 0 ]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${packages[@]}" >/dev/null
  else
    sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${packages[@]}" >/dev/null
  fi
}

# (More blocks are added by the features that need them: Chromium for the browser tests,
#  Azurite for the Blob Storage tests.)
true
