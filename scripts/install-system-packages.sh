#!/usr/bin/env bash
# Installs the real telephony programs the end-to-end tests drive: Kamailio (registrar) with its
# WebSocket modules, sipp (Debian package sip-tester), baresip (baresip-core), Chromium and Node.js
# with npm (the WebRTC browser tests) and Asterisk 22 (from the shared tools next to the checkout,
# ../shared/tools/asterisk/, into $ASTERISK_PREFIX). Idempotent and quiet when present.
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
asterisk_prefix="${ASTERISK_PREFIX:-/opt/asterisk22}"
asterisk_installer="$here/../shared/tools/asterisk/install.sh"

missing=()
command -v kamailio >/dev/null 2>&1 || [ -x /usr/sbin/kamailio ] || missing+=(kamailio)
command -v sipp >/dev/null 2>&1 || missing+=(sip-tester)
command -v baresip >/dev/null 2>&1 || missing+=(baresip-core)
# Packages without a command of their own: asked of dpkg.
installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "ok installed"; }
installed kamailio-websocket-modules || missing+=(kamailio-websocket-modules)
# The WebRTC tests drive Debian's Chromium (headless) with a SIP.js page, through npm packages.
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
command -v node >/dev/null 2>&1 || missing+=(nodejs)
command -v npm >/dev/null 2>&1 || missing+=(npm)
need_asterisk=0
if [ ! -x "$asterisk_prefix/sbin/asterisk" ] && ! command -v asterisk >/dev/null 2>&1 && [ -f "$asterisk_installer" ]; then
  need_asterisk=1
fi
[ ${#missing[@]} -eq 0 ] && [ $need_asterisk -eq 0 ] && exit 0
if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "note: ${missing[*]} $([ $need_asterisk -eq 1 ] && echo asterisk) not installed (needs root and apt-get); the registrar tests will be skipped" >&2
  exit 0
fi
export DEBIAN_FRONTEND=noninteractive
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing ${missing[*]} ..." >&2
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  # The Debian package may start a system Kamailio on 5060; the tests start their own on free ports.
  if command -v systemctl >/dev/null 2>&1; then systemctl disable --now kamailio >/dev/null 2>&1 || true; fi
fi
if [ $need_asterisk -eq 1 ]; then
  echo "installing Asterisk 22 into $asterisk_prefix ..." >&2
  bash "$asterisk_installer" "$asterisk_prefix" >/dev/null
fi
