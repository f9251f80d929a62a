# CPACK_PRE_BUILD_SCRIPTS (cmake/install.cmake): strips the debug information
# from the staged static library, as Debian's dh_strip does for -dev packages
# (RelWithDebInfo: 165 MB -> 14 MB). `cmake --install` is not affected.
if(NOT IS_DIRECTORY "${CPACK_TEMPORARY_DIRECTORY}")
  return() # not run by CPack
endif()
find_program(SIO_STRIP NAMES strip)
file(GLOB_RECURSE _sio_archives "${CPACK_TEMPORARY_DIRECTORY}/*.a")
foreach(_a IN LISTS _sio_archives)
  if(SIO_STRIP)
    execute_process(COMMAND ${SIO_STRIP} --strip-debug "${_a}" RESULT_VARIABLE _rc)
    if(NOT _rc EQUAL 0)
      message(FATAL_ERROR "strip --strip-debug ${_a} failed")
    endif()
  endif()
endforeach()
