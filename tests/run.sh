#!/usr/bin/env bash
# The tests, on a fresh machine: installs what they need that cargo cannot fetch (Debian's
# Chromium and its WebDriver, and axe-core from npm, for tests/it/browser.rs), then runs every test.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -x /usr/bin/chromium ] || [ ! -x /usr/bin/chromedriver ]; then
    echo "installing Debian's chromium and chromium-driver for the browser test"
    sudo=""
    [ "$(id -u)" -ne 0 ] && sudo="sudo"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq chromium chromium-driver >/dev/null
fi
/usr/bin/chromium --version
# axe-core, which the browser test runs on every page (WCAG 2.1 AA), from the npm registry.
AXE_VERSION=4.14.1
if [ ! -f "target/axe/node_modules/axe-core/axe.min.js" ] || ! grep -q "\"version\": \"$AXE_VERSION\"" target/axe/node_modules/axe-core/package.json; then
    echo "installing axe-core $AXE_VERSION for the browser test"
    npm install --silent --no-audit --no-fund --no-save --prefix target/axe "axe-core@$AXE_VERSION"
fi
cargo test --locked "$@"
