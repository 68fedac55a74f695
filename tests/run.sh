#!/usr/bin/env bash
# The tests, on a fresh machine: installs what they need that cargo cannot fetch (Debian's
# Chromium and its WebDriver, and axe-core from npm, for tests/it/browser.rs; Python's icalendar
# from PyPI, the independent parser tests/it/learning.rs reads the calendar files with), then
# runs every test.
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
# icalendar, an independent iCalendar (RFC 5545) parser, from PyPI, into target/python.
ICALENDAR_VERSION=7.3.2
if ! PYTHONPATH=target/python python3 -c "import icalendar, sys; sys.exit(icalendar.__version__ != '$ICALENDAR_VERSION')" 2>/dev/null; then
    echo "installing icalendar $ICALENDAR_VERSION for the calendar test"
    if ! python3 -m pip --version >/dev/null 2>&1; then
        sudo=""
        [ "$(id -u)" -ne 0 ] && sudo="sudo"
        $sudo apt-get update -qq
        DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq python3-pip >/dev/null
    fi
    python3 -m pip install --quiet --disable-pip-version-check --no-warn-conflicts --upgrade --target target/python "icalendar==$ICALENDAR_VERSION"
fi
cargo test --locked "$@"
