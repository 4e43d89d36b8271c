#!/usr/bin/env bash
# Installs nointrude's build and test dependencies from Debian 12 packages.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
sudo=""
if [ "$(id -u)" != 0 ]; then sudo=sudo; fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
# shellcheck disable=SC2046
$sudo apt-get install -y -qq --no-install-recommends $(grep -v '^#' "$here/deps.txt") >/dev/null
echo "dependencies installed"
