"""Conan 2 recipe for the C++ Actor Framework (CAF) 0.17.6.

ConanCenter dropped CAF 0.17.x, so sio-actor ships this recipe. It follows the
structure of the former conan-center-index recipe (recipes/caf/all) and its
0.17-era CMake switches (CAF_NO_*; the CAF_ENABLE_* switches are 0.18+).

    conan create conan/recipes/caf --version 0.17.6 --build=missing

Consumers get what sio-actor's CMake expects:
    find_package(CAF COMPONENTS core io)  ->  CAF::core, CAF::io
"""
import os

from conan import ConanFile
from conan.errors import ConanInvalidConfiguration
from conan.tools.build import check_min_cppstd
from conan.tools.cmake import CMake, CMakeDeps, CMakeToolchain, cmake_layout
from conan.tools.files import copy, get, replace_in_file, rmdir

required_conan_version = ">=2.0"


class CAFConan(ConanFile):
    name = "caf"
    description = "An open source implementation of the Actor Model in C++"
    license = ("BSD-3-Clause", "BSL-1.0")
    url = "https://github.com/actor-framework/actor-framework"
    homepage = "https://www.actor-framework.org"
    topics = ("actor-framework", "actor-model", "actors")
    package_type = "library"
    settings = "os", "arch", "compiler", "build_type"
    options = {
        "shared": [True, False],
        "fPIC": [True, False],
        "log_level": ["error", "warning", "info", "debug", "trace", "quiet"],
        "with_openssl": [True, False],
    }
    default_options = {
        "shared": False,
        "fPIC": True,
        "log_level": "quiet",
        # sio-actor only needs core and io.
        "with_openssl": False,
    }

    @property
    def _lib_suffix(self):
        # CAF 0.17 names its static libraries caf_core_static, caf_io_static, ...
        return "" if self.options.shared else "_static"

    def config_options(self):
        if self.settings.os == "Windows":
            del self.options.fPIC

    def configure(self):
        if self.options.shared:
            self.options.rm_safe("fPIC")

    def layout(self):
        cmake_layout(self, src_folder="src")

    def requirements(self):
        if self.options.with_openssl:
            self.requires("openssl/[>=1.1 <4]")

    def validate(self):
        if str(self.version) not in self.conan_data.get("sources", {}):
            raise ConanInvalidConfiguration(
                f"This recipe only knows CAF {', '.join(self.conan_data['sources'])}, "
                f"not {self.version}")
        check_min_cppstd(self, 11)
        if self.options.shared and self.settings.os == "Windows":
            raise ConanInvalidConfiguration("CAF 0.17 builds only static libraries on Windows")

    def source(self):
        get(self, **self.conan_data["sources"][str(self.version)], strip_root=True)

    def generate(self):
        tc = CMakeToolchain(self)
        # Cache variables (passed as -D), so CAF's option() calls see them
        # whatever CMP0077 says. The C++ standard comes from the profile
        # (compiler.cppstd) through the toolchain.
        on_off = lambda b: "ON" if b else "OFF"  # noqa: E731
        for switch in ("CAF_NO_EXAMPLES", "CAF_NO_TOOLS", "CAF_NO_UNIT_TESTS",
                       "CAF_NO_PYTHON", "CAF_NO_OPENCL", "CAF_NO_BENCHMARKS",
                       "CAF_NO_AUTO_LIBCPP"):
            tc.cache_variables[switch] = "ON"
        tc.cache_variables["CAF_NO_OPENSSL"] = on_off(not self.options.with_openssl)
        tc.cache_variables["CAF_BUILD_STATIC"] = on_off(not self.options.shared)
        tc.cache_variables["CAF_BUILD_STATIC_ONLY"] = on_off(not self.options.shared)
        tc.cache_variables["CAF_LOG_LEVEL"] = str(self.options.log_level).upper()
        # CAF 0.17's cmake_minimum_required predates 3.5, which CMake >= 4 rejects.
        tc.cache_variables["CMAKE_POLICY_VERSION_MINIMUM"] = "3.5"
        tc.generate()
        CMakeDeps(self).generate()

    def _patch_sources(self):
        src = self.source_folder
        # Keep the toolchain's module path (CMakeDeps find modules) when CAF
        # sets its own; done the same way by the former ConanCenter recipe.
        replace_in_file(self, os.path.join(src, "CMakeLists.txt"),
                        'set(CMAKE_MODULE_PATH "${CMAKE_CURRENT_SOURCE_DIR}/cmake")',
                        'list(APPEND CMAKE_MODULE_PATH "${CMAKE_CURRENT_SOURCE_DIR}/cmake")',
                        strict=False)
        # Headers that newer GCC (11+, 13+) no longer pulls in transitively.
        for header, include in (
                (os.path.join("libcaf_io", "caf", "io", "network", "receive_buffer.hpp"), "<limits>"),
                (os.path.join("libcaf_core", "caf", "detail", "ripemd_160.hpp"), "<cstdint>")):
            path = os.path.join(src, header)
            if os.path.isfile(path):
                replace_in_file(self, path, "#pragma once",
                                f"#pragma once\n\n#include {include}", strict=False)

    def build(self):
        self._patch_sources()
        cmake = CMake(self)
        cmake.configure()
        cmake.build()

    def package(self):
        copy(self, "LICENSE*", src=self.source_folder,
             dst=os.path.join(self.package_folder, "licenses"))
        cmake = CMake(self)
        cmake.install()
        rmdir(self, os.path.join(self.package_folder, "lib", "cmake"))
        rmdir(self, os.path.join(self.package_folder, "share"))

    def package_info(self):
        # find_package(CAF COMPONENTS core io) -> CAF::core, CAF::io
        self.cpp_info.set_property("cmake_file_name", "CAF")

        core = self.cpp_info.components["caf_core"]
        core.set_property("cmake_target_name", "CAF::core")
        core.libs = [f"caf_core{self._lib_suffix}"]
        if self.settings.os == "Windows":
            core.system_libs = ["iphlpapi"]
        elif self.settings.os in ("Linux", "FreeBSD"):
            core.system_libs = ["pthread", "m"]

        io = self.cpp_info.components["caf_io"]
        io.set_property("cmake_target_name", "CAF::io")
        io.libs = [f"caf_io{self._lib_suffix}"]
        io.requires = ["caf_core"]
        if self.settings.os == "Windows":
            io.system_libs = ["ws2_32"]

        if self.options.with_openssl:
            ssl = self.cpp_info.components["caf_openssl"]
            ssl.set_property("cmake_target_name", "CAF::openssl")
            ssl.libs = [f"caf_openssl{self._lib_suffix}"]
            ssl.requires = ["caf_io", "openssl::openssl"]
