#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# The catalog caches summaries by format (analysis/summary_codec.h,
# kSummaryFormat): a summary made by code that checked less, or summarised
# differently, must not be read back as if this build had checked it. This
# fails when the files that decide what a summary holds changed since the
# format recorded in summary_format.txt was set: bump kSummaryFormat when
# the checks or the summary changed (not for a comment), then
#   tests/analysis/summary_format.sh --update
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
rec=$root/tests/analysis/summary_format.txt
files=(results/bundle.cpp results/bundle_validate.cpp results/bundle_validate_extra.cpp
       results/validate_internal.h analysis/summary.h analysis/summary.cpp
       results/json_access.cpp core/read_file.cpp core/json_fast.cpp core/hdr_codec.cpp
       core/histogram.cpp
       analysis/summary_codec.h analysis/summary_codec.cpp)
format=$(sed -n 's/^inline constexpr uint32_t kSummaryFormat = \([0-9]*\);.*/\1/p' \
  "$root/analysis/summary_codec.h")
[[ -n $format ]] || { echo "FAIL: no kSummaryFormat in analysis/summary_codec.h"; exit 1; }
sum=$(cd "$root" && cat "${files[@]}" | sha256sum | cut -c1-64)
if [[ ${1:-} == --update ]]; then
  printf 'format %s sha256 %s\n' "$format" "$sum" >"$rec"
  echo "recorded: format $format sha256 $sum"
  exit 0
fi
read -r _ rec_format _ rec_sum <"$rec"
if [[ $sum != "$rec_sum" ]]; then
  if [[ $format == "$rec_format" ]]; then
    echo "FAIL: ${files[*]} changed since summary format $format was recorded:"
    echo "  bump kSummaryFormat in analysis/summary_codec.h if what a bundle's checks or its"
    echo "  summary are changed (cached summaries are then checked again), and run"
    echo "  tests/analysis/summary_format.sh --update"
  else
    echo "FAIL: kSummaryFormat is $format; run tests/analysis/summary_format.sh --update"
  fi
  exit 1
fi
echo "summary format $format: the checks and the summary are the ones it was recorded with"
