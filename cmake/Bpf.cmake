# SPDX-License-Identifier: GPL-2.0-only
# BPF objects and libbpf skeletons, generated into the build tree.
#   kperflab_bpf_skeleton(<target> foo.bpf.c)
# compiles foo.bpf.c with clang -target bpf into foo.bpf.o (header
# dependencies tracked through a depfile, so touching a shared header
# rebuilds the object and its skeleton), runs `bpftool gen skeleton` into
# foo.skel.h and puts that directory on <target>'s include path.
find_program(BPF_CLANG NAMES clang clang-16 clang-15 clang-14)
find_program(BPFTOOL NAMES bpftool PATHS /usr/sbin /usr/local/sbin)

if(CMAKE_SYSTEM_PROCESSOR MATCHES "x86_64|amd64")
  set(KPERFLAB_BPF_ARCH x86)
elseif(CMAKE_SYSTEM_PROCESSOR MATCHES "aarch64|arm64")
  set(KPERFLAB_BPF_ARCH arm64)
else()
  set(KPERFLAB_BPF_ARCH ${CMAKE_SYSTEM_PROCESSOR})
endif()

set(KPERFLAB_BPF_GEN ${CMAKE_BINARY_DIR}/bpf)
set(KPERFLAB_VMLINUX_H ${KPERFLAB_BPF_GEN}/vmlinux.h)

if(KPERFLAB_BPF)
  if(NOT BPF_CLANG OR NOT BPFTOOL)
    message(FATAL_ERROR "KPERFLAB_BPF needs clang and bpftool (./run.sh installs them)")
  endif()
  if(NOT EXISTS ${KPERFLAB_VMLINUX_BTF})
    message(FATAL_ERROR "no BTF at ${KPERFLAB_VMLINUX_BTF}: set KPERFLAB_VMLINUX_BTF "
                        "to a kernel BTF file, or -DKPERFLAB_BPF=OFF")
  endif()
  # Generated at configure time (a file produced by a rule in another
  # directory cannot be a file dependency with the Makefile generator), and
  # again whenever the BTF file changes (a new kernel).
  file(MAKE_DIRECTORY ${KPERFLAB_BPF_GEN})
  set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS ${KPERFLAB_VMLINUX_BTF})
  execute_process(
    COMMAND ${BPFTOOL} btf dump file ${KPERFLAB_VMLINUX_BTF} format c
    OUTPUT_FILE ${KPERFLAB_VMLINUX_H}.tmp
    RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "bpftool btf dump of ${KPERFLAB_VMLINUX_BTF} failed (${rc})")
  endif()
  file(COPY_FILE ${KPERFLAB_VMLINUX_H}.tmp ${KPERFLAB_VMLINUX_H} ONLY_IF_DIFFERENT)
endif()

function(kperflab_bpf_skeleton target src)
  if(NOT KPERFLAB_BPF)
    return()
  endif()
  get_filename_component(stem ${src} NAME_WE)
  get_filename_component(abs ${src} ABSOLUTE)
  set(obj ${KPERFLAB_BPF_GEN}/${stem}.bpf.o)
  set(skel ${KPERFLAB_BPF_GEN}/${stem}.skel.h)
  add_custom_command(
    OUTPUT ${obj}
    COMMAND ${BPF_CLANG} -g -O2 -target bpf -D__TARGET_ARCH_${KPERFLAB_BPF_ARCH}
            -I${KPERFLAB_BPF_GEN} -I${CMAKE_SOURCE_DIR}/include
            -I${CMAKE_SOURCE_DIR}/bench -I${CMAKE_CURRENT_SOURCE_DIR}
            -Wall -Wno-unused-function
            -MD -MF ${obj}.d -c ${abs} -o ${obj}
    DEPENDS ${abs} ${KPERFLAB_VMLINUX_H}
    DEPFILE ${obj}.d
    COMMENT "BPF ${stem}.bpf.c"
    VERBATIM)
  add_custom_command(
    OUTPUT ${skel}
    COMMAND ${BPFTOOL} gen skeleton ${obj} name ${stem}_bpf > ${skel}.tmp
    COMMAND ${CMAKE_COMMAND} -E rename ${skel}.tmp ${skel}
    DEPENDS ${obj}
    COMMENT "skeleton ${stem}.skel.h"
    VERBATIM)
  add_custom_target(${target}_${stem}_skel DEPENDS ${skel})
  add_dependencies(${target} ${target}_${stem}_skel)
  target_include_directories(${target} PRIVATE ${KPERFLAB_BPF_GEN})
  target_link_libraries(${target} PUBLIC PkgConfig::LIBBPF)
endfunction()
