# Install rules and packaging (SIO_INSTALL): `cmake --install` puts the
# headers, libsio-actor.a and a CMake package (find_package(sio-actor), target
# sio-actor::sio-actor) under the prefix; `cpack -G DEB` makes libsio-actor-dev.
# The library's own install(TARGETS) is in libsio-actor/CMakeLists.txt.
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

set(SIO_CMAKE_INSTALL_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/sio-actor)
# Minimum versions the package config asks for (the build's own find_package calls).
set(SIO_CAF_MIN 0.17)
set(SIO_NLOHMANN_JSON_MIN 3.10)

install(EXPORT sio-actor-targets NAMESPACE sio-actor:: DESTINATION ${SIO_CMAKE_INSTALL_DIR})
configure_package_config_file(${CMAKE_CURRENT_LIST_DIR}/sio-actorConfig.cmake.in
  ${PROJECT_BINARY_DIR}/sio-actorConfig.cmake
  INSTALL_DESTINATION ${SIO_CMAKE_INSTALL_DIR})
# 0.x: a minor version may break the API.
write_basic_package_version_file(${PROJECT_BINARY_DIR}/sio-actorConfigVersion.cmake
  COMPATIBILITY SameMinorVersion)
install(FILES
  ${PROJECT_BINARY_DIR}/sio-actorConfig.cmake
  ${PROJECT_BINARY_DIR}/sio-actorConfigVersion.cmake
  ${CMAKE_CURRENT_LIST_DIR}/FindCAF.cmake
  DESTINATION ${SIO_CMAKE_INSTALL_DIR})

# cpack -G DEB in the build directory: a -dev package for Debian bookworm that
# depends on Debian's own CAF, OpenSSL and nlohmann_json packages. Boost is not
# needed by consumers (see libsio-actor/CMakeLists.txt).
set(CPACK_PACKAGE_NAME libsio-actor-dev)
set(CPACK_PACKAGE_VENDOR sio-actor)
set(CPACK_PACKAGE_CONTACT "sio-actor maintainers <sio-actor@localhost>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY
  "Socket.IO server library on the C++ Actor Framework (static library and headers)")
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION libdevel)
set(CPACK_DEBIAN_PACKAGE_DEPENDS
  "libcaf-dev (>= 0.17.6), libcaf-dev (<< 0.18~), libcaf-openssl0.17, libssl-dev, nlohmann-json3-dev (>= 3.10)")
set(CPACK_PRE_BUILD_SCRIPTS ${CMAKE_CURRENT_LIST_DIR}/cpack-strip-debug.cmake)
include(CPack)
