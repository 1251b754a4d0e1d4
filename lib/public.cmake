# lib/public.cmake: the installed libnnzip.a and libnnzip.so, and the install rules of lib/.

# The installed libraries, libnnzip.a and libnnzip.so, export nnz_* only. Hidden visibility
# alone does that for the .so, but a static archive keeps hidden symbols global to the linker
# (a user's own crc32_update would clash with ours). So all objects of nnzip_core, coder, model
# and nc become one relocatable object (ld -r; --whole-archive because libmodel.a holds two
# members named mixer.c.o, which ar x would overwrite), whose hidden symbols objcopy then makes
# local. That one object is archived as libnnzip.a and linked as libnnzip.so.
set(nnz_parts nnzip_core coder model nc)
set(nnz_archives)
foreach(part ${nnz_parts})
  list(APPEND nnz_archives $<TARGET_FILE:${part}>)
endforeach()
set(nnz_object ${CMAKE_CURRENT_BINARY_DIR}/libnnzip.o)
add_custom_command(OUTPUT ${nnz_object}
  COMMAND ${CMAKE_LINKER} -r -o ${nnz_object}.tmp --whole-archive ${nnz_archives} --no-whole-archive
  COMMAND ${CMAKE_OBJCOPY} --localize-hidden ${nnz_object}.tmp ${nnz_object}
  COMMAND ${CMAKE_COMMAND} -E remove ${nnz_object}.tmp
  DEPENDS ${nnz_parts}
  COMMENT "Combining libnnzip's objects into libnnzip.o (only nnz_* global)"
  VERBATIM)
set_source_files_properties(${nnz_object} PROPERTIES EXTERNAL_OBJECT TRUE GENERATED TRUE)
# Both libraries use that object. Left to themselves, the two targets would each run the
# command, and under make -j the runs raced on libnnzip.o.tmp ("objcopy: file format not
# recognized", about one build in six after a change to nc). One target makes it, both wait.
add_custom_target(nnzip_object DEPENDS ${nnz_object})

add_library(nnzip_static STATIC ${nnz_object})
add_library(nnzip_shared SHARED ${nnz_object})
add_dependencies(nnzip_static nnzip_object)
add_dependencies(nnzip_shared nnzip_object)
set_target_properties(nnzip_static nnzip_shared PROPERTIES OUTPUT_NAME nnzip LINKER_LANGUAGE C)
set_target_properties(nnzip_shared PROPERTIES VERSION ${PROJECT_VERSION} SOVERSION ${PROJECT_VERSION_MAJOR})
target_link_libraries(nnzip_shared PRIVATE m Threads::Threads)
if(NOT NNZIP_SANITIZE)
  # Every symbol the .so needs is resolved (libm and libpthread recorded as dependencies).
  # The sanitizer runtimes come from the program instead, so not with them.
  target_link_options(nnzip_shared PRIVATE -Wl,-z,defs)
endif()

# cmake --install: the two libraries, the header and nnzip.pc.
install(TARGETS nnzip_static nnzip_shared
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR} LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR})
install(FILES nnzip.h DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
foreach(dir LIBDIR INCLUDEDIR)
  if(IS_ABSOLUTE "${CMAKE_INSTALL_${dir}}")
    set(NNZ_PC_${dir} "${CMAKE_INSTALL_${dir}}")
  else()
    set(NNZ_PC_${dir} "\${prefix}/${CMAKE_INSTALL_${dir}}")
  endif()
endforeach()
# A sanitized library needs the sanitizer runtimes in the program that links it.
set(NNZ_PC_SANITIZE "")
if(NNZIP_SANITIZE)
  set(NNZ_PC_SANITIZE " -fsanitize=address,undefined")
endif()
# The prefix is known only at install time (cmake --install --prefix DIR), so nnzip.pc is made
# in two steps: now everything but the prefix (whose placeholder is kept), then the prefix.
set(NNZ_PC_PREFIX "@NNZ_PC_PREFIX@")
configure_file(nnzip.pc.in ${CMAKE_CURRENT_BINARY_DIR}/nnzip.pc.in @ONLY)
install(CODE "set(NNZ_PC_PREFIX \"\${CMAKE_INSTALL_PREFIX}\")
  configure_file(\"${CMAKE_CURRENT_BINARY_DIR}/nnzip.pc.in\" \"${CMAKE_CURRENT_BINARY_DIR}/nnzip.pc\" @ONLY)")
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/nnzip.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
