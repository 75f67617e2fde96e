# SPDX-License-Identifier: GPL-2.0-only
# Sourced by the lab tests that read the lab entries' bundles.
#   lab_newest_bundle RUNS GLOB PROBE  the newest bundle of a kernel release
#                                      glob that has PROBE.json ("" if none)
#   lab_metric_value BUNDLE PROBE NAME the value of scalar NAME in the first
#                                      repetition of BUNDLE/PROBE.json
lab_newest_bundle() {
  local runs=$1 glob=$2 probe=$3 d best=""
  for d in "$runs"/*/$glob/*/; do
    [[ -f $d/$probe.json ]] && best=$d
  done
  echo "${best%/}"
}

# Pretty-printed JSON, "name": { ..., "value": V }: braces are counted, so
# the nested "labels" object does not end the metric.
lab_metric_value() {
  awk -v key="\"$3\": {" '
    !depth && index($0, key) { depth = 1; next }
    depth {
      if (depth == 1 && /"value":/) { gsub(/[",]/, "", $2); print $2; exit }
      depth += gsub(/{/, "{") - gsub(/}/, "}")
    }' "$1/$2.json"
}
