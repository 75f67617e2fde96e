#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# The run step of lab/lava/kperflab.yaml, on the device under test (POSIX sh:
# busybox in the lab's initramfs, dash on Debian). Settings come from the
# environment (the test definition's params). Reports with lava-test-case:
#   kperflab-build, -module      with BUILD=true, MODULE=build: did it build
#   kperflab-run                 pass when `kperflab run` exited 0
#   <probe>                      pass | fail | skip (the reason is logged)
#   <probe>.<metric>[.p50|.p99]  pass, --measurement and --units (as stored: ns, faults/s)
# and leaves the bundle in $RESULTS. Always exits 0: the verdicts are the
# test cases, and a failed step must not hide the cases already reported.
set -u
KPERFLAB=${KPERFLAB:-kperflab}
PROFILE=${PROFILE:-quick}
PROBES=${PROBES:-}
RUN_ARGS=${RUN_ARGS:-}
BUILD=${BUILD:-false}
MODULE=${MODULE:-}
RESULTS=${RESULTS:-/tmp/kperflab-lava}
UPLOAD_URL=${UPLOAD_URL:-}
LOG_BUNDLE=${LOG_BUNDLE:-false}

say() { echo "kperflab-lava: $*"; }
# Bundle text (a reason, a metric name) for the log. `kperflab export
# --lava` already defangs it; this keeps an older kperflab on the device
# from ending the job: the dispatcher takes "<LAVA_..." anywhere in the log
# for its own signal (<LAVA_SIGNAL_ENDRUN ...>, <LAVA_TEST_RUNNER EXIT>).
say_bundle() { say "$*" | sed 's/<LAVA_/(LAVA_/g'; }
report() { lava-test-case "$@" || say "lava-test-case $1 failed"; }

mkdir -p "$RESULTS"
if [ "$BUILD" = true ]; then
  say "building the suite from $(pwd) (./run.sh deps, ./run.sh build; log $RESULTS/build.log)"
  if ./run.sh deps >"$RESULTS/build.log" 2>&1 && ./run.sh build >>"$RESULTS/build.log" 2>&1; then
    report kperflab-build --result pass
    KPERFLAB=$(pwd)/build/kperflab
  else
    tail -n 20 "$RESULTS/build.log"
    report kperflab-build --result fail
  fi
fi
if [ "$MODULE" = build ]; then
  MODULE=""
  if make -C kmod >"$RESULTS/kmod-build.log" 2>&1; then
    report kperflab-module --result pass
    MODULE=$(pwd)/kmod/kperflab.ko
  else
    tail -n 20 "$RESULTS/kmod-build.log"
    say "kperflab.ko did not build against $(uname -r): the probes that need it will skip"
    report kperflab-module --result fail
  fi
fi
if ! command -v "$KPERFLAB" >/dev/null 2>&1; then
  say "no kperflab at '$KPERFLAB' (set the KPERFLAB parameter)"
  report kperflab-run --result fail
  exit 0
fi
if [ -n "$MODULE" ] && ! grep -q '^kperflab ' /proc/modules 2>/dev/null; then
  insmod "$MODULE" || say "insmod $MODULE failed: the probes that need it will skip"
fi

bundle=$RESULTS/bundle
rm -rf "$bundle"
probe_args=""
for p in $PROBES; do probe_args="$probe_args --probe $p"; done
say "$KPERFLAB run --ktap --profile $PROFILE$probe_args --out $bundle $RUN_ARGS"
# KTAP on stdout into the log as it comes; progress on stderr.
# shellcheck disable=SC2086 # word splitting of the argument lists is wanted
"$KPERFLAB" run --ktap --profile "$PROFILE" $probe_args --out "$bundle" $RUN_ARGS
rc=$?
say "kperflab run exited $rc"
if [ "$rc" -eq 0 ]; then report kperflab-run --result pass; else report kperflab-run --result fail; fi
if [ ! -f "$bundle/meta.json" ]; then
  say "no bundle at $bundle: nothing to report"
  exit 0
fi

cases=$RESULTS/cases.tsv
if ! "$KPERFLAB" export --lava "$bundle" >"$cases"; then
  say "kperflab export --lava failed"
  report kperflab-export --result fail
fi
tab=$(printf '\t')
n=0
# Read on fd 3: a lava-test-case must not eat the list from stdin.
while IFS="$tab" read -r name result value unit note <&3; do
  [ "$result" = pass ] || say_bundle "$name: $result: $note"
  if [ "$value" = - ]; then
    report "$name" --result "$result"
  else
    report "$name" --result "$result" --measurement "$value" --units "$unit"
  fi
  n=$((n + 1))
done 3<"$cases"
say "$n test cases reported"

tarball=$RESULTS/kperflab-bundle.tar.gz
tar -czf "$tarball" -C "$RESULTS" bundle && say "bundle: $bundle, tarball $tarball"
if [ -n "$UPLOAD_URL" ]; then
  if ref=$(curl -sSf -F "file=@$tarball" "$UPLOAD_URL"); then
    lava-test-reference kperflab-bundle --result pass --reference "$ref"
  else
    say "upload to $UPLOAD_URL failed"
    report kperflab-bundle --result fail
  fi
fi
if [ "$LOG_BUNDLE" = true ]; then
  echo "KPERFLAB-BUNDLE-BEGIN $(basename "$tarball")"
  base64 "$tarball"
  echo "KPERFLAB-BUNDLE-END"
fi
exit 0
