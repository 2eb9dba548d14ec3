// Helpers shared by the collect tests: fixture loading.
#pragma once

#include <fstream>
#include <sstream>
#include <string>

namespace aitelemetry::collect::testing {

// Returns the contents of src/collect/testdata/<name>, or "" when missing.
inline std::string ReadFixture(const std::string& name) {
  std::ifstream in(std::string(AITELEMETRY_SOURCE_DIR) + "/src/collect/testdata/" + name,
                   std::ios::binary);
  std::ostringstream buf;
  buf << in.rdbuf();
  return buf.str();
}

}  // namespace aitelemetry::collect::testing
