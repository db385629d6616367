#!/usr/bin/env bash
# Installs the Debian packages the tests and the lab need, only those missing.
# Runs as root with apt-get (CI, a fresh machine); elsewhere it says what is missing.
set -euo pipefail

declare -A want=(
  [ip]=iproute2
  [ping]=iputils-ping
  [xenstore-read]=xenstore-utils
  [linux.uml]=user-mode-linux
  [depmod]=kmod
  [iptables]=iptables
  [nft]=nftables
  [sysctl]=procps
  [strace]=strace
)
missing=()
for cmd in "${!want[@]}"; do
  command -v "$cmd" >/dev/null 2>&1 || missing+=("${want[$cmd]}")
done
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
