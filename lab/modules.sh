#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Modules the guest needs before it can send results back, taken from the
# unpacked image package (dpkg -x leaves no modules.dep, so dependencies are
# read from each module's modinfo). Built-in ones are skipped.
#   lab_guest_modules MODDIR DEST NAME...
# MODDIR is <root>/lib/modules/<krel>; DEST gets NN-name.ko (decompressed)
# in load order. The guest init insmods DEST/*.ko in name order.
set -euo pipefail
lab_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source "$lab_dir/lib.sh"

# The results channel: a virtio-serial port on a virtio PCI device.
LAB_GUEST_MODULES=(virtio_pci virtio_console)

lab_module_file() {
  local moddir=$1 name=$2 alt
  alt=${name//_/-}
  find "$moddir/kernel" \( -name "$name.ko*" -o -name "$alt.ko*" \) -print -quit
}

lab_module_builtin() {
  local moddir=$1 name=$2
  [[ -f $moddir/modules.builtin ]] &&
    sed 's|.*/||; s|\.ko$||; s|-|_|g' "$moddir/modules.builtin" | grep -qx "${name//-/_}"
}

lab_add_module() {
  local moddir=$1 dest=$2 name=${3//-/_} file dep n
  [[ -e $dest/.seen-$name ]] && return 0
  touch "$dest/.seen-$name"
  lab_module_builtin "$moddir" "$name" && return 0
  file=$(lab_module_file "$moddir" "$name")
  [[ -n $file ]] || lab_die "module $name is neither built in nor in $moddir"
  for dep in $(modinfo -F depends "$file" | tr ',' ' '); do
    lab_add_module "$moddir" "$dest" "$dep"
  done
  n=$(printf '%02d' "$(find "$dest" -name '*.ko' | wc -l)")
  case $file in
    *.xz) xz -dc "$file" >"$dest/$n-$name.ko" ;;
    *.zst) zstd -qdc "$file" >"$dest/$n-$name.ko" ;;
    *.gz) gzip -dc "$file" >"$dest/$n-$name.ko" ;;
    *) cp "$file" "$dest/$n-$name.ko" ;;
  esac
}

lab_guest_modules() {
  local moddir=$1 dest=$2 name
  shift 2
  [[ -d $moddir/kernel ]] || lab_die "no modules in $moddir"
  command -v modinfo >/dev/null || lab_die "modinfo missing: install kmod"
  mkdir -p "$dest"
  for name in "$@"; do lab_add_module "$moddir" "$dest" "$name"; done
  rm -f "$dest"/.seen-*
}
