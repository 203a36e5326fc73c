#!/usr/bin/env bash
# Install the Debian packages a make target needs, when running as root on Debian.
# Usage: scripts/sysdeps.sh chromium nmap tcpdump postgresql redis tshark
# (names are what the project needs; each maps to its Debian package(s) below).
set -u
declare -A PACKAGES=(
  [chromium]="chromium chromium-driver"   # PDF report, browser test
  [nmap]="nmap"                           # ingest tests (real nmap XML), benchmarks
  [tcpdump]="tcpdump"                     # pcap ingest tests (capture on lo)
  [postgresql]="postgresql"               # store tests on a real PostgreSQL
  [redis]="redis-server"                  # Celery broker of the site-worker tests
  [tshark]="tshark"                       # pcap ingest benchmark
  [ocr]="tesseract-ocr tesseract-ocr-eng tesseract-ocr-chi-sim"  # docs scan: scanned pages
  [cjkfonts]="fonts-noto-cjk"             # docs tests draw Chinese scanned pages
)
present() {
  case "$1" in
    postgresql) ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 ;;
    ocr) tesseract --list-langs 2>/dev/null | grep -qx chi_sim ;;
    cjkfonts) fc-list :lang=zh 2>/dev/null | grep -q . ;;
    redis) command -v redis-server >/dev/null 2>&1 ;;
    *) command -v "$1" >/dev/null 2>&1 ;;
  esac
}
missing=()
for need in "$@"; do
  present "$need" || missing+=(${PACKAGES[$need]})
done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "note: please install ${missing[*]} (some features and tests need them)" >&2
  exit 0
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq && apt-get install -y -qq "${missing[@]}" >/dev/null \
  || echo "warning: could not install ${missing[*]}; the tests that need them will say so" >&2
