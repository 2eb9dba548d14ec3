// Writes the OpenAPI document the server serves (JSON, or YAML with --yaml) to stdout, for the
// redocly lint test. --issuer URL adds the openIdConnect scheme as a configured server would.
#include <cstring>
#include <iostream>
#include <string>

#include "api/openapi.h"

int main(int argc, char** argv) {
  aitelemetry::api::OpenApiOptions options;
  options.version = "0.1.0";
  bool yaml = false;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--yaml") == 0) {
      yaml = true;
    } else if (std::strcmp(argv[i], "--issuer") == 0 && i + 1 < argc) {
      options.issuer = argv[++i];
    } else {
      std::cerr << "usage: dump_openapi [--yaml] [--issuer URL]\n";
      return 2;
    }
  }
  auto doc = aitelemetry::api::BuildOpenApi(options);
  std::cout << (yaml ? aitelemetry::api::ToYaml(doc) : doc.dump(2) + "\n");
  return 0;
}
