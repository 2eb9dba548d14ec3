// Helpers shared by the auth tests: reading fixtures from testdata/.
#pragma once

#include <fstream>
#include <sstream>
#include <string>

namespace aitelemetry::auth::testing {

// Returns the text of src/auth/testdata/`name`, or an empty string when it cannot be read.
inline std::string ReadTestdata(const std::string& name) {
  std::ifstream in(std::string(AITELEMETRY_SOURCE_DIR) + "/src/auth/testdata/" + name);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

}  // namespace aitelemetry::auth::testing
