// Catch2 entry point for the unit tests (one binary, one file per unit).
#define CATCH_CONFIG_MAIN
#include <catch2/catch.hpp>
