# Warning flags for every project target, in one place.
option(AITELEMETRY_WERROR "Treat warnings as errors" OFF)

function(aitelemetry_warnings target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic -Wno-missing-field-initializers)
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
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS;LABELS" ${ARGN})
  if(NOT BUILD_TESTING)
    return()
  endif()
  add_executable(${name} ${ARG_SOURCES})
  target_link_libraries(${name} PRIVATE ${ARG_DEPS} GTest::gtest GTest::gmock GTest::gtest_main)
  aitelemetry_warnings(${name})
  target_compile_definitions(${name} PRIVATE AITELEMETRY_SOURCE_DIR="${PROJECT_SOURCE_DIR}")
  set(labels unit)
  if(ARG_LABELS)
    set(labels ${ARG_LABELS})
  endif()
  gtest_discover_tests(${name} DISCOVERY_MODE PRE_TEST PROPERTIES LABELS "${labels}"
                       WORKING_DIRECTORY ${PROJECT_BINARY_DIR})
endfunction()
