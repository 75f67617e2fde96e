#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Download a kernel's image and headers packages into the cache and unpack
# them (dpkg -x, nothing is installed on the host).
#   lab/fetch.sh CACHE NAME   prints the unpacked root: CACHE/kernels/<krel>
# Cache layout:
#   CACHE/debs/*.deb                      the downloaded packages, reused by name+version
#   CACHE/kernels/<krel>/root/            image + headers + common headers + kbuild, unpacked
#   CACHE/kernels/<krel>/kernel.env       ARCH KREL and the package names
set -euo pipefail
lab_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source "$lab_dir/lib.sh"
source "$lab_dir/resolve.sh"

# Download package $1 (pkg or pkg:arch) into $2 unless that exact version is
# there; print the .deb path.
lab_fetch_deb() {
  local pkg=$1 dir=$2 file
  file=$(lab_pkg_field "$pkg" Filename)
  [[ -n $file ]] || lab_die "package $pkg is not in the apt index"
  file=$dir/$(basename "$file")
  mkdir -p "$dir"
  if [[ ! -s $file ]]; then
    lab_log "downloading $pkg"
    # apt names the file with the epoch (1%3a…); download apart, then name it
    # after the pool file so a cache lookup needs no network.
    local tmp; tmp=$(mktemp -d "$dir/.dl.XXXXXX")
    if ! (cd "$tmp" && timeout 1800 apt-get download -q "$pkg" >&2); then
      rm -rf "$tmp"
      lab_archive_reachable ||
        lab_skip "cannot reach Debian's archive to download $pkg (no network)"
      lab_die "apt-get download $pkg failed"
    fi
    mv "$tmp"/*.deb "$file" 2>/dev/null || lab_die "apt-get download $pkg produced no .deb"
    rm -rf "$tmp"
  fi
  echo "$file"
}

lab_unpack_kernel() {
  local cache=$1 arch=$2 krel=$3 image=$4 headers=$5 common=$6 kbuild=$7
  local dir=$cache/kernels/$krel deb debs=()
  debs+=("$(lab_fetch_deb "$image:$arch" "$cache/debs")")
  debs+=("$(lab_fetch_deb "$headers:$arch" "$cache/debs")")
  debs+=("$(lab_fetch_deb "$common" "$cache/debs")")
  # kbuild runs on the host (Multi-Arch: foreign): always the host's arch.
  debs+=("$(lab_fetch_deb "$kbuild" "$cache/debs")")
  rm -rf "$dir.tmp"
  mkdir -p "$dir.tmp/root"
  for deb in "${debs[@]}"; do
    dpkg -x "$deb" "$dir.tmp/root" || lab_die "dpkg -x $deb failed"
  done
  [[ -e $dir.tmp/root/boot/vmlinuz-$krel ]] || lab_die "no /boot/vmlinuz-$krel in $image"
  # The headers' scripts/tools links are relative (../../lib/linux-kbuild-*),
  # so they resolve inside this root; check rather than trust.
  [[ -e $dir.tmp/root/usr/src/linux-headers-$krel/scripts/basic/fixdep ]] ||
    lab_die "headers of $krel unpacked without a usable kbuild (scripts/basic/fixdep)"
  # The flavour's Makefile includes the common headers by absolute path
  # (/usr/src/…); point it into this root.
  sed -i "s|/usr/src/|$dir/root/usr/src/|g" "$dir.tmp/root/usr/src/linux-headers-$krel/Makefile"
  printf 'ARCH=%s\nKREL=%s\nIMAGE_PKG=%s\nHEADERS_PKG=%s\n' \
    "$arch" "$krel" "$image" "$headers" >"$dir.tmp/kernel.env"
  rm -rf "$dir"
  mv "$dir.tmp" "$dir"
}

# Resolve + download + unpack kernel NAME unless already unpacked.
lab_fetch() {
  local cache=$1 name=$2 arch krel image headers common kbuild
  read -r arch krel image headers common kbuild <<<"$(lab_resolve "$name")"
  [[ -n $krel ]] || lab_die "resolving $name failed"
  if [[ ! -f $cache/kernels/$krel/kernel.env ]]; then
    lab_locked "$cache/.lock" lab_unpack_kernel "$cache" "$arch" "$krel" \
      "$image" "$headers" "$common" "$kbuild"
  else
    lab_log "$name: $krel cached"
  fi
  echo "$cache/kernels/$krel"
}

if [[ ${BASH_SOURCE[0]} == "$0" ]]; then
  [[ $# -eq 2 ]] || lab_die "usage: lab/fetch.sh CACHE KERNEL-NAME"
  lab_fetch "$1" "$2"
fi
