#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Judge what a guest sent back (sourced by guest.sh):
#   lab_verify MODE OUTDIR KREL   returns 0 pass, 1 fail
# Every check names what it saw; the serial log is the evidence when the
# guest sent nothing.

lab_fail() { printf '[lab] FAIL: %s\n' "$*" >&2; LAB_FAILED=1; }

lab_rc_file() { [[ -f $1 ]] && tr -d '[:space:]' <"$1" || echo missing; }

# Kernel splats anywhere in the guest's log: the fuzzer and the rmmod race
# must leave none. ("module verification failed" taints, harmlessly.)
lab_scan_splats() {
  local out=$1 pattern='Oops|\bBUG:|\bWARNING:|general protection fault|Kernel panic|Call Trace:|UBSAN:|KASAN:|refcount_t:|list_add corruption|list_del corruption|INFO: task .* blocked'
  local f hits
  for f in "$out/result/dmesg.txt" "$out/serial.log"; do
    [[ -f $f ]] || continue
    hits=$(grep -E "$pattern" "$f" | head -n 5 || true)
    [[ -z $hits ]] || lab_fail "kernel splat in $(basename "$f"):"$'\n'"$hits"
  done
}

# The bundle(s) the guest wrote: host dir = the guest's hostname, release dir
# = the guest's kernel release (its own provenance, collected in the guest).
lab_check_bundles() {
  local out=$1 krel=$2 meta n=0
  for meta in "$out"/result/runs/*/*/*/meta.json "$out"/result/ab/[ab]/*/*/*/meta.json; do
    [[ -f $meta ]] || continue
    n=$((n + 1))
    [[ $meta == */"$krel"/*/meta.json ]] ||
      lab_fail "bundle $meta is not filed under the guest's release $krel"
    grep -q '"status": *"complete"' "$meta" ||
      lab_fail "bundle $(dirname "$meta") is not complete"
    # #28: every probe's BPF links were gone when it ended (the runner
    # counts them; a probe that ran and was not counted is a failure too).
    local pj left
    for pj in "$(dirname "$meta")"/*.json; do
      [[ $(basename "$pj") == meta.json ]] && continue
      grep -q '"status": *"\(complete\|partial\)"' "$pj" || continue
      left=$(grep -o '"bpf_links_left": *[0-9]*' "$pj" | grep -o '[0-9]*$' || true)
      [[ $left == 0 ]] ||
        lab_fail "$(basename "$pj" .json): ${left:-no count of} BPF links left attached after the probe ended"
      # #28: the probes that attach programs say what observing cost:
      # a bystander's ratio and their programs' run time, or why not.
      case $(basename "$pj" .json) in
        membarrier | mmap_lock | find_vma)
          grep -q '"effect/bystander' "$pj" ||
            lab_fail "$(basename "$pj" .json): no bystander figure (effect/bystander) nor a reason"
          grep -q '"effect/bpf' "$pj" ||
            lab_fail "$(basename "$pj" .json): no program cost (effect/bpf) nor a reason"
          ;;
        ipi | notifier)  # the module's load against a bystander, measured in the lab
          grep -q '"effect/bystander/ratio"' "$pj" ||
            lab_fail "$(basename "$pj" .json): no bystander ratio of the module's load (effect/bystander/ratio)"
          ;;
      esac
    done
    if [[ -n ${LAB_HOST_KPERFLAB:-} ]]; then
      "$LAB_HOST_KPERFLAB" show "$(dirname "$meta")" >"$out/show.txt" 2>&1 ||
        lab_fail "kperflab show refused the bundle: $(tail -n 3 "$out/show.txt")"
    fi
  done
  [[ $n -gt 0 ]] || lab_fail "the guest wrote no bundle (kperflab-run.log: $(tail -n 5 "$out/result/kperflab-run.log" 2>/dev/null))"
}

# The kmod engineer's guest tests end with "N passed, N failed, N skipped".
lab_check_guest_tests() {
  local out=$1 log=$1/result/guest-tests.log summary passed failed
  [[ -f $log ]] || { lab_fail "no guest-tests.log came back"; return; }
  summary=$(grep -E '^[0-9]+ passed, [0-9]+ failed, [0-9]+ skipped' "$log" | tail -n 1 || true)
  [[ -n $summary ]] || { lab_fail "guest-tests.sh printed no summary: $(tail -n 5 "$log")"; return; }
  lab_log "guest tests: $summary"
  read -r passed _ failed _ <<<"$summary"
  [[ $failed -eq 0 ]] || lab_fail "guest tests: $failed failed:"$'\n'"$(grep -iE 'fail' "$log" | head -n 10)"
  [[ $passed -gt 0 ]] || lab_fail "guest tests: none passed ($summary)"
  [[ $(lab_rc_file "$out/result/guest-tests.rc") == 0 ]] ||
    lab_fail "guest-tests.sh exited $(lab_rc_file "$out/result/guest-tests.rc")"
}

# Bring the guest's bundles into the host's results/runs/, keeping
# <guest-hostname>/<guest release>/<bundle>.
lab_land_bundles() {
  local out=$1 dest=$2 b rel
  for b in "$out"/result/runs/*/*/*/; do
    [[ -f $b/meta.json ]] || continue
    rel=${b#"$out"/result/runs/}; rel=${rel%/}
    mkdir -p "$dest/$(dirname "$rel")"
    rm -rf "${dest:?}/$rel"
    cp -a "$b" "$dest/$rel"
    lab_log "bundle: $dest/$rel"
  done
}

# A/B bundles: both sides under LAB_RUNS_DIR/ab-<release>-<time>/{a,b}, and
# the comparison of b against a next to them (report.txt, .md, .html).
lab_land_ab() {
  local out=$1 krel=$2 dest rc=0
  [[ -d $out/result/ab/a && -d $out/result/ab/b ]] || { lab_fail "A/B: the guest wrote no a/b bundles"; return; }
  dest=$LAB_RUNS_DIR/ab-$krel-$(date -u +%Y%m%dT%H%M%SZ)
  mkdir -p "$dest"
  cp -a "$out/result/ab/a" "$out/result/ab/b" "$dest/"
  lab_log "A/B bundles: $dest/a $dest/b"
  [[ -n ${LAB_HOST_KPERFLAB:-} ]] || { lab_log "A/B: no --host-kperflab, compare them with ./run.sh compare"; return; }
  local f
  for f in text md html; do
    "$LAB_HOST_KPERFLAB" compare "$dest/a" "$dest/b" --format "$f" \
      -o "$dest/report.${f/text/txt}" 2>"$dest/compare.err" || rc=$?
    [[ $rc -eq 0 ]] || { lab_fail "A/B: kperflab compare failed ($rc): $(tail -n 3 "$dest/compare.err")"; return; }
  done
  lab_log "A/B report: $dest/report.txt ($(grep -m1 -E '^[0-9]+ comparisons' "$dest/report.txt"))"
}

lab_verify() {
  local mode=$1 out=$2 krel=$3
  LAB_FAILED=0
  if [[ ! -f $out/result/mode.rc && -f $out/result/hang-tasks.txt ]]; then
    # The guest's watchdog fired: what our programs were doing, in the kernel.
    lab_fail "the guest timed out (its watchdog sent $out/result/hang-tasks.txt and dmesg.txt); our tasks:"$'\n'"$(head -n 100 "$out/result/hang-tasks.txt")"$'\n'"CPUs (sysrq l):"$'\n'"$(sed -n '/sysrq: Show backtrace/,/sysrq: Show Blocked/p' "$out/result/dmesg.txt" 2>/dev/null | head -n 80)"
    lab_scan_splats "$out"
    return 1
  fi
  if [[ ! -f $out/result/mode.rc ]]; then
    lab_fail "the guest sent no results (accel $(cat "$out/accel" 2>/dev/null)); serial log $out/serial.log ends:"$'\n'"$(tail -n 25 "$out/serial.log")"
    return 1
  fi
  [[ $(cat "$out/result/uname.txt") == "$krel" ]] ||
    lab_fail "guest runs $(cat "$out/result/uname.txt"), expected $krel"
  lab_log "guest: $(cat "$out/result/uname.txt"), $(cat "$out/result/ncpu.txt") CPUs, $(cat "$out/accel")"
  if [[ $mode != smoke && -f $out/payload/kperflab/kperflab.ko ]]; then
    [[ $(lab_rc_file "$out/result/insmod.rc") == 0 ]] ||
      lab_fail "insmod kperflab.ko failed: $(cat "$out/result/insmod.log" 2>/dev/null)"
  fi
  [[ $mode == test ]] && lab_check_guest_tests "$out"
  if [[ $mode != smoke ]]; then
    [[ $(lab_rc_file "$out/result/kperflab.rc") == 0 ]] ||
      lab_fail "kperflab run --profile lab exited $(lab_rc_file "$out/result/kperflab.rc"): $(tail -n 5 "$out/result/kperflab-run.log" 2>/dev/null)"
    lab_check_bundles "$out" "$krel"
    if [[ -n ${LAB_AB_ARGS:-} ]]; then
      lab_land_ab "$out" "$krel"
    else
      lab_land_bundles "$out" "$LAB_RUNS_DIR"
    fi
  fi
  lab_scan_splats "$out"
  [[ $LAB_FAILED -eq 0 ]]
}
