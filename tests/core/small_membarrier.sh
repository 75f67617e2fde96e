# SPDX-License-Identifier: GPL-2.0-only
# Sourced by CLI tests that need real bundles of this host fast: the
# arguments of a small membarrier run (a few seconds), in the array `small`.
# No bystander windows (2 s a repetition with --repeat: the probe effect has
# tests of its own, tests/integration).
# Usage: . small_membarrier.sh; "$kperflab" run "${small[@]}" ...
small=(--probe membarrier --profile quick --set membarrier.iterations=200
       --set membarrier.states=spin --set membarrier.sweep_commands=private_expedited
       --set membarrier.placement=false --set membarrier.callers_sweep=false
       --set 'membarrier.register_threads=[]' --set membarrier.overhead_rounds=1
       --set membarrier.overhead_calls=10 --set membarrier.delivery_iterations=50
       --set membarrier.global_calls=1 --set membarrier.bystander_rounds=0)
