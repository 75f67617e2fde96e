#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# lab --mode lava: run lab/lava/kperflab.yaml on one lab kernel under LAVA's
# own dispatcher (lava-run, Debian's lava-dispatcher; no lava-server, no
# service), from the example job lab/lava/jobs/qemu.yaml, and check every
# test case it reports. Sourced by guest.sh:
#   lab_lava OUT ARCH VMLINUZ INITRD KREL
# Writes OUT/lava/: device.yaml, dispatcher.yaml, job.yaml, lava.log (the
# dispatcher's log, one YAML document per line), results.tsv, bundle/.
# Returns 0 when every check holds, 1 otherwise (lab_fail lines), 77 when
# lava-run is not installed.

# The device dictionary of a qemu device on a worker without KVM, written by
# hand (no lava-server renders one here). LAVA starts QEMU with these
# options, the deploy's image_args and its own overlay.
lab_lava_device() {
  local arch=$1 qemu cpu machine=""
  case $arch in
    amd64) qemu=qemu-system-x86_64 cpu=max ;;
    arm64) qemu=qemu-system-aarch64 cpu=max,pauth-impdef=on machine="          - -machine virt" ;;
    *) lab_die "lava: unsupported architecture $arch" ;;
  esac
  cat <<YAML
device_type: qemu
available_architectures:
- amd64
- arm64
constants:
  posix:
    lava_test_sh_cmd: /bin/sh
    lava_test_results_dir: /lava-%s
    lava_test_shell_file: ~/.bashrc
  shutdown-message: "The system is going down for reboot NOW"
  kernel-start-message: "Linux version [0-9]"
  default-shell-prompt: "lava-test: # "
  spawn_maxread: "4092"
  failure_retry: 1
  boot_retry: 1
actions:
  deploy:
    methods:
      image:
        parameters:
          guest:
            size: 512
            interface: ide
            driveid: lavatest
  boot:
    connections:
      serial:
    methods:
      qemu:
        parameters:
          command: $qemu
          options:
$( [[ -n $machine ]] && echo "$machine" )
          - -accel tcg,thread=single
          - -cpu $cpu
          - -smp ${LAB_VCPUS:-4}
          - -m ${LAB_MEM_MB:-1536}
          - -nographic
          - -no-reboot
          - -monitor none
          - -net none
timeouts:
  actions:
    lava-test-shell:
      minutes: 3
  connections:
    lava-test-shell:
      seconds: 10
YAML
}

# The dispatcher's own settings: everything on this machine.
lab_lava_dispatcher() {
  cat <<YAML
dispatcher_ip: 127.0.0.1
YAML
}

# The example job with its @NAME@ fields filled: KEY=VALUE arguments.
lab_lava_job() {
  local template=$1 kv key value
  shift
  local -a sed_args=()
  for kv in "$@"; do
    key=${kv%%=*} value=${kv#*=}
    value=${value//\\/\\\\} value=${value//|/\\|} value=${value//&/\\&}
    sed_args+=(-e "s|@$key@|$value|g")
  done
  local text
  text=$(sed "${sed_args[@]}" "$template")
  local left
  left=$(grep -v '^ *#' <<<"$text" | grep -o '@[A-Z_]*@' | sort -u | tr '\n' ' ' || true)
  [[ -z $left ]] || lab_die "lava: fields left unfilled in $template: $left"
  printf '%s\n' "$text"
}

lab_lava() {
  local out=$1 arch=$2 vmlinuz=$3 initrd=$4 krel=$5 dir repo job_id rc=0 console=ttyS0
  command -v lava-run >/dev/null ||
    lab_skip "lava-run not installed (Debian package lava-dispatcher; ./run.sh deps installs it)"
  dir=$out/lava
  rm -rf "$dir"; mkdir -p "$dir"
  [[ $arch == arm64 ]] && console=ttyAMA0
  # The test definition as LAVA fetches it in a real lab: from git. A
  # repository of this tree's lab/lava, so uncommitted changes are tested.
  repo=$dir/testdef.git
  mkdir -p "$repo/lab"
  cp -r "$LAB_SRC/lab/lava" "$repo/lab/"
  git -C "$repo" init -q
  git -C "$repo" add -A
  git -C "$repo" -c user.name=kperflab -c user.email=lab@kperflab.invalid commit -qm "test definition"
  lab_lava_device "$arch" >"$dir/device.yaml"
  lab_lava_dispatcher >"$dir/dispatcher.yaml"
  lab_lava_job "$LAB_SRC/lab/lava/jobs/qemu.yaml" ARCH="$arch" CONSOLE="$console" \
    KERNEL_NAME="$krel" KERNEL_URL="file://$vmlinuz" RAMDISK_URL="file://$initrd" \
    TESTDEF_REPO="file://$repo" PROFILE=lab PROBES="${LAB_LAVA_PROBES:-}" \
    RUN_ARGS="${LAB_RUN_ARGS:-}" LOG_BUNDLE=true >"$dir/job.yaml"
  # lava-run works under /var/lib/lava/dispatcher/tmp/<job id>, whatever
  # --output-dir says: a job id of our own, removed afterwards.
  job_id=$((900000000 + RANDOM * 1000 + $$ % 1000))
  lab_log "lava-run job $job_id: $krel ($arch), job $dir/job.yaml"
  timeout -k 10 "$LAB_TIMEOUT" lava-run --device "$dir/device.yaml" \
    --dispatcher "$dir/dispatcher.yaml" --job-id "$job_id" --output-dir "$dir/output" \
    "$dir/job.yaml" >"$dir/lava.log" 2>&1 || rc=$?
  rm -rf "/var/lib/lava/dispatcher/tmp/$job_id"
  lab_log "lava-run exited $rc (it exits 0 when test cases fail: the log decides)"
  [[ $rc -eq 124 || $rc -eq 137 ]] && lab_fail "lava-run hit the ${LAB_TIMEOUT}s timeout"
  lab_lava_check "$dir" "$krel"
}

# Every case, the bundle, and no kernel splat on the console
# (check-results.py says what it checks).
lab_lava_check() {
  local dir=$1 krel=$2 host=${LAB_HOST_KPERFLAB:-${KPERFLAB_BUILD_DIR:-$LAB_SRC/build}/kperflab}
  LAB_FAILED=0
  [[ -x $host ]] || lab_die "lava: no host kperflab at $host (build it, or --host-kperflab)"
  # shellcheck disable=SC2086 # the probe list is words
  if python3 "$LAB_SRC/lab/lava/check-results.py" "$dir/lava.log" "$dir" "$host" "$krel" \
       ${LAB_LAVA_PROBES:-} >"$dir/check.txt" 2>&1; then
    lab_log "$(tail -n 1 "$dir/check.txt")"
  else
    lab_fail "lava: the job's results do not hold (log $dir/lava.log):"$'\n'"$(head -n 20 "$dir/check.txt")"
  fi
  # The console as LAVA saw it (check-results.py wrote it): serial.log for the splat scan.
  cp "$dir/console.log" "$dir/../serial.log" 2>/dev/null || : >"$dir/../serial.log"
  lab_scan_splats "$dir/.."
  return "$LAB_FAILED"
}
