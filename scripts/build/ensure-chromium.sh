#!/usr/bin/env bash
# Ensures a Chromium for the headless browser test (test/browser.test.ts) exists at
# /usr/bin/chromium. Playwright's own browser download is not used: the test drives Debian's
# chromium through playwright-core (`executablePath: '/usr/bin/chromium'`). Idempotent; needs
# root (or sudo) and apt on Debian/Ubuntu.
set -euo pipefail

CHROMIUM=/usr/bin/chromium
if [[ -x "$CHROMIUM" ]]; then
  echo "[ensure-chromium] $("$CHROMIUM" --version 2>/dev/null || echo chromium) at $CHROMIUM" >&2
  exit 0
fi

if ! command -v apt-get >/dev/null 2>&1; then
  echo "[ensure-chromium] $CHROMIUM is missing and apt-get is not available; install Chromium yourself" >&2
  exit 1
fi

SUDO=()
if [[ "$(id -u)" -ne 0 ]]; then
  if command -v sudo >/dev/null 2>&1; then SUDO=(sudo); else
    echo "[ensure-chromium] need root (or sudo) to install chromium with apt" >&2
    exit 1
  fi
fi

export DEBIAN_FRONTEND=noninteractive
echo "[ensure-chromium] installing Debian's chromium with apt" >&2
"${SUDO[@]}" apt-get update -qq
"${SUDO[@]}" apt-get install -y -qq --no-install-recommends chromium fonts-dejavu-core >/dev/null

if [[ ! -x "$CHROMIUM" ]]; then
  echo "[ensure-chromium] apt finished but $CHROMIUM does not exist" >&2
  exit 1
fi
echo "[ensure-chromium] $("$CHROMIUM" --version 2>/dev/null || echo chromium) installed at $CHROMIUM" >&2
