#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# kmod/dkms.conf with the real dkms (3.0.10 in Debian 12): the source tree
# laid out as dkms.conf says (/usr/src/kperflab-<version>/ with kmod/ and
# include/), `dkms add` and `dkms build` against the lab's Debian 6.12
# headers in a private dkms tree (nothing is installed on this machine), and
# the module that comes out is for that kernel and carries the version that
# dkms.conf and the module agree on. Usage: dkms_build.sh SRC_ROOT
set -euo pipefail
src=${1:?usage: dkms_build.sh SRC_ROOT}
skip() { echo "SKIP: $*"; exit 77; }
command -v dkms >/dev/null || skip "dkms is not installed (./run.sh deps installs it)"
cache=${KPERFLAB_LAB_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/kperflab/lab}
kdir=$("$src/lab/fetch.sh" "$cache" 6.12-cloud-amd64) ||
  skip "the Debian 6.12 headers could not be fetched (lab/fetch.sh; no network?)"
krel=$(source "$kdir/kernel.env"; echo "$KREL")
headers=$kdir/root/usr/src/linux-headers-$krel

ver=$(sed -n 's/^PACKAGE_VERSION="\(.*\)"/\1/p' "$src/kmod/dkms.conf")
modver=$(sed -n 's/^#define KPERFLAB_MODULE_VERSION "\(.*\)"/\1/p' "$src/kmod/kperflab.h")
[[ -n $ver && $ver == "$modver" ]] ||
  { echo "FAIL: dkms.conf PACKAGE_VERSION '$ver' != KPERFLAB_MODULE_VERSION '$modver'"; exit 1; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
tree=$tmp/src/kperflab-$ver
mkdir -p "$tree" "$tmp/dkms"
cp -r "$src/kmod" "$src/include" "$tree/"
cp "$src/kmod/dkms.conf" "$tree/dkms.conf"
d() { dkms --dkmstree "$tmp/dkms" --sourcetree "$tmp/src" "$@"; }
d add -m kperflab -v "$ver" >"$tmp/add.log" 2>&1 || { cat "$tmp/add.log"; echo "FAIL: dkms add"; exit 1; }
if ! d build -m kperflab -v "$ver" -k "$krel" --kernelsourcedir "$headers" >"$tmp/build.log" 2>&1; then
  cat "$tmp/build.log"
  find "$tmp/dkms" -name make.log -exec tail -n 30 {} \;
  echo "FAIL: dkms build"
  exit 1
fi
ko=$(find "$tmp/dkms/kperflab/$ver/$krel" -name 'kperflab.ko*' | head -n 1)
[[ -n $ko ]] || { echo "FAIL: dkms build left no kperflab.ko"; exit 1; }
vermagic=$(modinfo -F vermagic "$ko")
version=$(modinfo -F version "$ko")
license=$(modinfo -F license "$ko")
echo "dkms $(dkms --version | sed 's/dkms-//'): built $(basename "$ko") for $krel (vermagic '$vermagic', version $version, license $license)"
[[ $vermagic == "$krel "* ]] || { echo "FAIL: vermagic '$vermagic' is not $krel"; exit 1; }
[[ $version == "$ver" ]] || { echo "FAIL: module version '$version' != $ver"; exit 1; }
[[ $license == GPL ]] || { echo "FAIL: license '$license'"; exit 1; }
grep -q '^AUTOINSTALL="yes"' "$src/kmod/dkms.conf" || { echo "FAIL: dkms.conf lacks AUTOINSTALL=\"yes\""; exit 1; }
echo "PASS"
