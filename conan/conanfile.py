"""Conan 2 recipe for sio-actor (the project itself; sources are the repo root).

CAF 0.17.6 is not on ConanCenter any more: create it once from the recipe
shipped here, then build sio-actor:

    conan create conan/recipes/caf --version 0.17.6 --build=missing
    conan create conan --build=missing            # package sio-actor
or, for a local build tree (see docs/building.md):
    conan install conan --build=missing
    cmake --preset conan-release && cmake --build --preset conan-release

The CMake side (CMakeLists.txt, cmake/FindCAF.cmake) is the same as for the
Debian build: it needs CAF::core, CAF::io, Boost::headers,
nlohmann_json::nlohmann_json and (tests) Catch2::Catch2 plus include(Catch).
"""
import os
import shutil

from conan import ConanFile
from conan.tools.build import can_run, check_min_cppstd
from conan.tools.cmake import CMake, CMakeDeps, CMakeToolchain, cmake_layout
from conan.tools.files import copy, rmdir

required_conan_version = ">=2.0"


class SioActorConan(ConanFile):
    name = "sio-actor"
    # Keep in sync with project(sio-actor VERSION ...) in CMakeLists.txt.
    version = "0.1.0"
    description = "Socket.IO server built on the C++ Actor Framework and Boost.Beast"
    topics = ("socket.io", "engine.io", "websocket", "actors", "caf")
    # libsio-actor/CMakeLists.txt always builds a static library.
    package_type = "static-library"
    settings = "os", "arch", "compiler", "build_type"
    options = {
        "fPIC": [True, False],
        "with_apps": [True, False],
    }
    default_options = {
        "fPIC": True,
        "with_apps": True,
        # Beast and Asio are header-only: don't build Boost's compiled libraries.
        "boost/*:header_only": True,
        "caf/*:shared": False,
        "caf/*:with_openssl": True, # TLS between cluster nodes
    }

    @property
    def _build_tests(self):
        return not self.conf.get("tools.build:skip_test", default=False, check_type=bool)

    def export_sources(self):
        # This conanfile lives in conan/; the sources are one level up.
        # Copy folder by folder so build trees, .git and tests/node_modules
        # (npm packages for the integration tests) stay out of the export.
        root = os.path.normpath(os.path.join(self.recipe_folder, ".."))
        dst = self.export_sources_folder
        # Top-level file copied directly: a copy() pattern would walk the whole tree.
        os.makedirs(dst, exist_ok=True)
        shutil.copy2(os.path.join(root, "CMakeLists.txt"), dst)
        skip = ("node_modules", "node_modules/*", "artifacts", "artifacts/*",
                "__pycache__", "*/__pycache__", "*/__pycache__/*")
        for folder in ("cmake", "libsio-actor", "apps", "tests"):
            copy(self, "*", os.path.join(root, folder), os.path.join(dst, folder),
                 excludes=skip)

    def config_options(self):
        if self.settings.os == "Windows":
            del self.options.fPIC

    def package_id(self):
        # The apps are built (as a check) but not packaged.
        self.info.options.rm_safe("with_apps")

    def layout(self):
        # Locally (conan install/build) the project root is the parent folder;
        # in the cache the exported sources are the root (folders.root is
        # only used by the local flow).
        self.folders.root = ".."
        cmake_layout(self)

    def requirements(self):
        # The public headers use CAF, Boost and nlohmann_json types, so their
        # headers must reach sio-actor's consumers too.
        self.requires("caf/0.17.6", transitive_headers=True)
        self.requires("boost/1.74.0", transitive_headers=True)
        self.requires("nlohmann_json/3.11.3", transitive_headers=True)
        self.requires("openssl/[>=3 <4]")

    def build_requirements(self):
        if self._build_tests:
            self.test_requires("catch2/[>=2.13.9 <3]")

    def validate(self):
        check_min_cppstd(self, 17)

    def generate(self):
        tc = CMakeToolchain(self)
        tc.cache_variables["SIO_BUILD_TESTS"] = "ON" if self._build_tests else "OFF"
        tc.cache_variables["SIO_BUILD_APPS"] = "ON" if self.options.with_apps else "OFF"
        tc.generate()

        deps = CMakeDeps(self)
        # The names our CMakeLists.txt asks for. The recipes (ours for caf,
        # ConanCenter's for the rest) already declare them; stating them here
        # keeps the build working should a recipe revision rename them.
        deps.set_property("caf", "cmake_file_name", "CAF")
        deps.set_property("caf::caf_core", "cmake_target_name", "CAF::core")
        deps.set_property("caf::caf_io", "cmake_target_name", "CAF::io")
        deps.set_property("caf::caf_openssl", "cmake_target_name", "CAF::openssl")
        deps.set_property("boost", "cmake_file_name", "Boost")
        deps.set_property("boost::headers", "cmake_target_name", "Boost::headers")
        deps.set_property("nlohmann_json", "cmake_file_name", "nlohmann_json")
        deps.set_property("nlohmann_json", "cmake_target_name", "nlohmann_json::nlohmann_json")
        if self._build_tests:
            deps.set_property("catch2", "cmake_file_name", "Catch2")
            deps.set_property("catch2", "cmake_target_name", "Catch2::Catch2")
        deps.generate()

    def build(self):
        cmake = CMake(self)
        cmake.configure()
        cmake.build()
        # Unit tests only: the integration tests are registered only when
        # tests/node_modules exists, which is not exported to the cache.
        if self._build_tests and can_run(self):
            cmake.test()

    def package(self):
        cmake = CMake(self)
        cmake.install()
        # Conan consumers get the config Conan generates (package_info below);
        # the one `cmake --install` writes would compete with it.
        rmdir(self, os.path.join(self.package_folder, "lib", "cmake"))

    def package_info(self):
        self.cpp_info.set_property("cmake_file_name", "sio-actor")
        self.cpp_info.set_property("cmake_target_name", "sio-actor::sio-actor")
        # The name earlier versions of this recipe gave (kept as an alias in the build tree too).
        self.cpp_info.set_property("cmake_target_aliases", ["sio::sio-actor"])
        self.cpp_info.libs = ["sio-actor"]
        # PUBLIC compile definitions of the sio-actor target.
        self.cpp_info.defines = ["BOOST_BEAST_USE_STD_STRING_VIEW", "BOOST_ASIO_NO_DEPRECATED"]
        if self.settings.os in ("Linux", "FreeBSD"):
            self.cpp_info.system_libs = ["pthread"]
