# Cross build for aarch64 Linux with Debian's gcc-aarch64-linux-gnu; the binaries run under
# qemu-aarch64 (qemu-user-static). Used by .ci/axes: cmake -DCMAKE_TOOLCHAIN_FILE=cmake/aarch64.cmake
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)
set(CMAKE_C_COMPILER aarch64-linux-gnu-gcc)
# Look for libraries and headers in the target's tree only, programs on the host.
set(CMAKE_FIND_ROOT_PATH /usr/aarch64-linux-gnu)
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)
# ctest and add_test run the target's binaries through qemu.
find_program(NNZIP_QEMU_AARCH64 NAMES qemu-aarch64-static qemu-aarch64)
if(NNZIP_QEMU_AARCH64)
  set(CMAKE_CROSSCOMPILING_EMULATOR ${NNZIP_QEMU_AARCH64} -L /usr/aarch64-linux-gnu)
endif()
