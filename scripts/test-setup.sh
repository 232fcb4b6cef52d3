#!/usr/bin/env bash
# Run by `pnpm test` before the tests: brings the system parts the tests use that npm cannot.
#
# - redis-server: the queue tests (sweeps across machines) start their own on a loopback port.
# - A WebGPU adapter: the webgpu tests run on a real one where it exists. A machine without a
#   GPU gets one from Mesa's lavapipe (a software Vulkan driver; Dawn needs the
#   bookworm-backports build, bookworm's own is too old).
# Both come from Debian's apt when this is Debian (bookworm for lavapipe) and we are root;
# otherwise this prints how to get them, and the tests that need them are skipped with the
# reason. Everything else comes with `pnpm install` (the report's Chromium is the npm package
# @sparticuz/chromium). SENTENCELAB_TEST_SETUP=skip leaves the system alone.
set -uo pipefail

note() { printf 'test setup: %s\n' "$*" >&2; }

[ "${SENTENCELAB_TEST_SETUP:-}" = skip ] && exit 0
[ "$(uname -s)" = Linux ] || exit 0
command -v dpkg-query >/dev/null 2>&1 || exit 0

need_redis=0
command -v redis-server >/dev/null 2>&1 || need_redis=1
need_lavapipe=0
if ! dpkg-query -W -f='${Version}' mesa-vulkan-drivers 2>/dev/null | grep -q bpo && grep -qs bookworm /etc/os-release; then
  need_lavapipe=1
fi
[ $need_redis = 0 ] && [ $need_lavapipe = 0 ] && exit 0

if [ "$(id -u)" != 0 ]; then
  note "not root, so nothing is installed; the tests that need these are skipped, each saying why. As root:"
  [ $need_redis = 1 ] && note "  apt-get install redis-server"
  if [ $need_lavapipe = 1 ]; then
    note "  echo 'deb http://deb.debian.org/debian bookworm-backports main' >/etc/apt/sources.list.d/sentencelab-backports.list"
    note "  apt-get update && apt-get install -t bookworm-backports mesa-vulkan-drivers libvulkan1"
  fi
  exit 0
fi

[ $need_lavapipe = 1 ] && echo "deb http://deb.debian.org/debian bookworm-backports main" >/etc/apt/sources.list.d/sentencelab-backports.list
apt-get update -qq || note "apt-get update failed; trying the installs anyway"
if [ $need_redis = 1 ]; then
  note "installing redis-server for the queue tests"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server >/dev/null \
    || note "could not install redis-server: the queue tests will be skipped"
fi
if [ $need_lavapipe = 1 ]; then
  note "installing Mesa's software Vulkan driver (mesa-vulkan-drivers, libvulkan1 from bookworm-backports) for the webgpu tests"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq -t bookworm-backports mesa-vulkan-drivers libvulkan1 >/dev/null \
    || note "could not install mesa-vulkan-drivers: the webgpu tests will be skipped"
fi
exit 0
