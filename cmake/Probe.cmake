# SPDX-License-Identifier: GPL-2.0-only
# Probe self-registration: a probe folder calls
#   kperflab_add_probe(NAME membarrier SOURCES membarrier.cpp
#                      BPF membarrier.bpf.c LIBS benchmark::benchmark)
# which builds an OBJECT library (so the static registrar objects are never
# dropped by the linker) and appends it to a global list that the kperflab
# executable links.
function(kperflab_add_probe)
  cmake_parse_arguments(P "" "NAME" "SOURCES;BPF;LIBS" ${ARGN})
  set(tgt probe_${P_NAME})
  add_library(${tgt} OBJECT ${P_SOURCES})
  target_link_libraries(${tgt} PUBLIC kperflab_workloads kperflab_host kperflab_results kperflab_core
                        ${P_LIBS})
  target_include_directories(${tgt} PRIVATE ${CMAKE_CURRENT_SOURCE_DIR})
  foreach(bpf ${P_BPF})
    kperflab_bpf_skeleton(${tgt} ${bpf})
  endforeach()
  set_property(GLOBAL APPEND PROPERTY KPERFLAB_PROBE_TARGETS ${tgt})
endfunction()

function(kperflab_link_probes exe)
  get_property(probes GLOBAL PROPERTY KPERFLAB_PROBE_TARGETS)
  foreach(p ${probes})
    # Linking an OBJECT library links its objects (all of them: the
    # registrars are never dropped) and its usage requirements.
    target_link_libraries(${exe} PRIVATE ${p})
  endforeach()
endfunction()
