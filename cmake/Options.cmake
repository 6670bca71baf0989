# Every build option of stripecast, in one place.
option(SC_BUILD_TESTS "Build the CMocka test suite" ON)
option(SC_BUILD_BENCH "Build the benchmarks" ON)
option(SC_WERROR "Treat warnings as errors (CI turns this on)" OFF)
option(SC_SANITIZE "Build with AddressSanitizer and UndefinedBehaviorSanitizer" OFF)
option(SC_FUZZ "Build libFuzzer targets (needs clang)" OFF)
