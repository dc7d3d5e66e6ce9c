#!/usr/bin/env bash
# Installs every Debian package Kefu needs to build, run and test.
# Idempotent: installs only what is missing, and runs `apt-get update` at most once.
set -euo pipefail

PACKAGES=(
  # build
  build-essential cmake ninja-build ccache pkg-config git
  clang libclang-rt-14-dev            # libFuzzer targets
  # libraries
  libboost1.81-dev libboost-json1.81-dev libboost-url1.81-dev
  libsqlite3-dev sqlite3 libpq-dev
  libspdlog-dev libfmt-dev libcli11-dev libtomlplusplus-dev
  libsodium-dev libssl-dev libxlsxwriter-dev libcsv-dev
  libsofia-sip-ua-dev                 # SIP signalling (nua) for the softswitch
  libcurl4-openssl-dev                # outbound HTTP: webhooks, integration adapters; SMTP for e-mail
  libkainjow-mustache-dev             # message templates (mustache)
  libsmpp34-dev                       # SMPP 3.4 PDUs for the SMS channel
  libspandsp-dev libspeexdsp-dev      # media: loss concealment and in-band DTMF; jitter buffer, resampler
  libsndfile1-dev                     # media: prompts in any WAV/FLAC/Ogg form, recordings
  espeak-ng                           # IVR prompts spoken from their text (Mandarin voice)
  # tests and benchmarks
  libgtest-dev libgmock-dev libbenchmark-dev
  postgresql-15 postgresql-client-15
  python3 python3-pytest python3-openpyxl
  python3-aiosmtpd                    # the SMTP server that receives the e-mail channel's messages in tests
  wrk nginx-light curl procps openssl
  sip-tester baresip-core              # SIPp and baresip: callers and agent phones in the SIP tests
  kamailio                            # SIP proxy: the signalling baseline of the SIP bench, scale-out
  # web console: Node.js for the Vite build; Debian's Chromium for the Playwright tests,
  # with CJK fonts so screenshots show Chinese rather than boxes
  nodejs chromium fonts-noto-cjk
)

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
# Debian starts services on install; Kefu's tests run their own throw-away servers.
for svc in nginx postgresql kamailio; do
  if command -v systemctl >/dev/null && systemctl is-active --quiet "$svc" 2>/dev/null; then
    $SUDO systemctl stop "$svc" || true
  fi
done
