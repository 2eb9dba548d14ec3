# Fuzz targets of the parsers of outside input. Each is a LLVMFuzzerTestOneInput in <name>_fuzz.cc
# beside the code it fuzzes, with a committed corpus (seeds and every past crash) in
# testdata/fuzz/<name>/.
#   Default build (g++): <name>_fuzz_replay runs every input of the corpus once; ctest runs it as
#   fuzz_<name> (label "fuzz"), so CI replays each seed and past crash on every submission.
#   Preset `fuzz` (clang, AITELEMETRY_FUZZ=ON): <name>_fuzzer, a libFuzzer binary with ASan and
#   UBSan; `cmake --build --preset fuzz --target fuzzers` builds them all and scripts/fuzz runs them.
option(AITELEMETRY_FUZZ "Build the libFuzzer binaries (clang only; see the fuzz preset)" OFF)
if(AITELEMETRY_FUZZ)
  add_custom_target(fuzzers)
  file(WRITE ${PROJECT_BINARY_DIR}/fuzzers.txt "")
endif()

# aitelemetry_fuzz_target(NAME SOURCES ... DEPS ... CORPUS dir)
function(aitelemetry_fuzz_target name)
  cmake_parse_arguments(ARG "" "CORPUS" "SOURCES;DEPS" ${ARGN})
  if(AITELEMETRY_FUZZ)
    set(target ${name}_fuzzer)
    add_executable(${target} ${ARG_SOURCES})
    target_link_options(${target} PRIVATE -fsanitize=fuzzer)
    add_dependencies(fuzzers ${target})
    # One line per target for scripts/fuzz: name, binary, corpus.
    file(APPEND ${PROJECT_BINARY_DIR}/fuzzers.txt
         "${name} ${CMAKE_CURRENT_BINARY_DIR}/${target} ${ARG_CORPUS}\n")
  elseif(BUILD_TESTING)
    set(target ${name}_fuzz_replay)
    add_executable(${target} ${ARG_SOURCES} ${PROJECT_SOURCE_DIR}/src/testing/fuzz_replay.cc)
    add_test(NAME fuzz_${name} COMMAND ${target} ${ARG_CORPUS})
    set_tests_properties(fuzz_${name} PROPERTIES LABELS fuzz TIMEOUT 120)
  else()
    return()
  endif()
  target_link_libraries(${target} PRIVATE ${ARG_DEPS})
  target_compile_definitions(${target} PRIVATE AITELEMETRY_SOURCE_DIR="${PROJECT_SOURCE_DIR}")
  aitelemetry_warnings(${target})
endfunction()
