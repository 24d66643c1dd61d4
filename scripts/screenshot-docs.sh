#!/usr/bin/env bash
# Build the documentation site and photograph its widest pages with headless Chromium, so a person can look
# at what readers see: the § 6103(i)(2) rule page, the overview matrix, the vocabulary and a rule set, at a
# desktop's width and a phone's.
#
#   scripts/screenshot-docs.sh [OUT_DIR]          (default OUT_DIR: /tmp/disclosure-rules-screens)
#
# Needs mkdocs (python -m pip install -e ".[docs]") and Chromium (Debian: apt-get install -y chromium).
# The site is built into a temporary directory and served on 127.0.0.1 only, for as long as the script runs.
# Set WINDOW (default 1280,2000) for another window size; each page is also taken at 1280x6000 ("-full").
set -euo pipefail
cd "$(dirname "$0")/.."

out="${1:-/tmp/disclosure-rules-screens}"
window="${WINDOW:-1280,2000}"
mkdir -p "$out"
site="$(mktemp -d)"
profile="$(mktemp -d)"
server_pid=""
cleanup() {
    if [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null || true; fi
    rm -rf "$site" "$profile"
}
trap cleanup EXIT

chromium_bin="$(command -v chromium || command -v chromium-browser || command -v google-chrome || true)"
if [ -z "$chromium_bin" ]; then
    echo "screenshot-docs: no Chromium found; on Debian: apt-get install -y chromium" >&2
    exit 1
fi

mkdocs build --strict --quiet --site-dir "$site"

port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
python3 -m http.server "$port" --bind 127.0.0.1 --directory "$site" >/dev/null 2>&1 &
server_pid=$!
for _ in $(seq 50); do
    python3 -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:$port/')" 2>/dev/null && break
    sleep 0.1
done

shoot() {  # shoot NAME PATH SIZE
    "$chromium_bin" --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
        --disable-background-networking --disable-component-update --disable-sync --hide-scrollbars \
        --user-data-dir="$profile" --virtual-time-budget=3000 --window-size="$3" \
        --screenshot="$out/$1.png" "http://127.0.0.1:$port/$2" >/dev/null 2>&1
    echo "$out/$1.png"
}

shoot rule-irc-6103-i-2 generated/rules/irc-6103-i-2/ "$window"
shoot rule-irc-6103-i-2-full generated/rules/irc-6103-i-2/ 1280,6000
shoot matrix generated/matrix/ "$window"
shoot matrix-full generated/matrix/ 1280,6000
# A phone's width (390 CSS pixels, as an iPhone 12 to 15), for the pages with the widest content.
phone="${PHONE:-390,1600}"
shoot phone-rule-irc-6103-i-2 generated/rules/irc-6103-i-2/ "$phone"
shoot phone-matrix generated/matrix/ "$phone"
shoot phone-vocabulary generated/vocabulary/ "$phone"
shoot vocabulary generated/vocabulary/ "$window"
shoot ruleset generated/rulesets/irc-6103/ "$window"
shoot home "" "$window"
