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

# Azurite (the Azure Blob Storage emulator) for tests/cloud, notebooks/06_cloud_sync.ipynb and
# benchmarks/cloud: a pinned npm package in .tools/azurite (gitignored), installed only when missing.
AZURITE_VERSION=3.37.0
if [ ! -x .tools/azurite/node_modules/.bin/azurite-blob ] \
   || ! grep -q "\"version\": \"$AZURITE_VERSION\"" .tools/azurite/node_modules/azurite/package.json 2>/dev/null; then
  command -v npm >/dev/null || apt_install nodejs npm
  mkdir -p .tools/azurite
  npm install --silent --no-audit --no-fund --prefix .tools/azurite "azurite@$AZURITE_VERSION" >/dev/null
fi

# Chromium for the browser tests (tests/browser/, benchmarks/widgets/): Debian's package, driven by
# PyPI playwright through executable_path=/usr/bin/chromium (never `playwright install`).
if [ ! -x /usr/bin/chromium ]; then
  echo "installing Debian's chromium for the browser tests"
  apt_install chromium
fi

