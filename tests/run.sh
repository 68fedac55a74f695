#!/usr/bin/env bash
# The tests, on a fresh machine: installs what they need that cargo cannot fetch (Debian's
# Chromium and its WebDriver, for tests/it/browser.rs), then runs every test.
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
cargo test --locked "$@"
