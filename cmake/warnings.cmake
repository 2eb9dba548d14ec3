# Warning flags for every project target, in one place.
option(AITELEMETRY_WERROR "Treat warnings as errors" OFF)

function(aitelemetry_warnings target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic -Wno-missing-field-initializers)
  # -Wno-restrict: GCC 12 false positives in std::string (GCC bug 105329); clang has no such flag.
  if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
    target_compile_options(${target} PRIVATE -Wno-restrict)
  endif()
  if(AITELEMETRY_WERROR)
    target_compile_options(${target} PRIVATE -Werror)
  endif()
endfunction()

# aitelemetry_library(NAME SOURCES ... DEPS ...): one static library per folder.
function(aitelemetry_library name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS" ${ARGN})
  add_library(${name} STATIC ${ARG_SOURCES})
  target_include_directories(${name} PUBLIC ${PROJECT_SOURCE_DIR}/src)
  target_link_libraries(${name} PUBLIC ${ARG_DEPS})
  aitelemetry_warnings(${name})
endfunction()

# aitelemetry_test(NAME SOURCES ... DEPS ...): one GoogleTest binary, each TEST registered with ctest.
function(aitelemetry_test name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS;LABELS;FIXTURES" ${ARGN})
  if(NOT BUILD_TESTING)
    return()
  endif()
  add_executable(${name} ${ARG_SOURCES})
  target_link_libraries(${name} PRIVATE ${ARG_DEPS} GTest::gtest GTest::gmock GTest::gtest_main)
  aitelemetry_warnings(${name})
  target_compile_definitions(${name} PRIVATE AITELEMETRY_SOURCE_DIR="${PROJECT_SOURCE_DIR}"
                                             AITELEMETRY_BINARY_DIR="${PROJECT_BINARY_DIR}")
  set(labels unit)
  if(ARG_LABELS)
    set(labels ${ARG_LABELS})
  endif()
  set(props LABELS "${labels}")
  if(ARG_FIXTURES)
    list(APPEND props FIXTURES_REQUIRED "${ARG_FIXTURES}")
  endif()
  gtest_discover_tests(${name} DISCOVERY_MODE PRE_TEST PROPERTIES ${props}
                       WORKING_DIRECTORY ${PROJECT_BINARY_DIR})
endfunction()
