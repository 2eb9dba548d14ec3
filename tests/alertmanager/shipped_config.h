// Test helper: Alertmanager configurations made from the shipped one
// (deploy/alertmanager/alertmanager.yml), so the integration tests run its receivers and route as
// shipped, with only addresses, secrets and timings pointed at the test's peers. Header-only.
#pragma once

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <yaml-cpp/yaml.h>

namespace aitelemetry::test_support {

// Returns the shipped configuration, parsed; a null node when it cannot be read.
inline YAML::Node LoadShippedAlertmanagerConfig() {
  try {
    return YAML::LoadFile(std::string(AITELEMETRY_SOURCE_DIR) +
                          "/deploy/alertmanager/alertmanager.yml");
  } catch (const YAML::Exception&) {
    return YAML::Node();
  }
}

// Returns a deep copy of the shipped receiver named `name`; a null node when there is none.
inline YAML::Node ShippedReceiver(const YAML::Node& shipped, const std::string& name) {
  for (const auto& r : shipped["receivers"]) {
    if (r["name"].as<std::string>("") == name) return YAML::Clone(r);
  }
  return YAML::Node();
}

// Returns the shipped route of the receiver `name` (a deep copy), or a null node.
inline YAML::Node ShippedRoute(const YAML::Node& shipped, const std::string& name) {
  for (const auto& r : shipped["route"]["routes"]) {
    if (r["receiver"].as<std::string>("") == name) return YAML::Clone(r);
  }
  return YAML::Node();
}

// One receiver of a test configuration: `receiver` (a shipped one, adjusted) takes the alerts
// whose label `label` has the value `value` (label "": those the shipped route matches), grouped
// as the shipped route groups them, with short waits.
struct TestRoute {
  YAML::Node receiver;
  std::string label;
  std::string value;
};

// Returns a whole configuration: the shipped global section and, for each route, the shipped
// route of "aitelemetry" with its matchers replaced by label="value" and short timings
// (group_wait 1s, group_interval 2s).
inline std::string TestAlertmanagerConfig(const YAML::Node& shipped,
                                          const std::vector<TestRoute>& routes) {
  YAML::Node config;
  config["global"] = YAML::Clone(shipped["global"]);
  config["route"]["receiver"] = "discard";
  YAML::Node receivers(YAML::NodeType::Sequence);
  YAML::Node discard;
  discard["name"] = "discard";
  receivers.push_back(discard);
  for (const auto& r : routes) {
    YAML::Node route = ShippedRoute(shipped, "aitelemetry");
    route["receiver"] = r.receiver["name"];
    if (!r.label.empty()) {
      YAML::Node matchers(YAML::NodeType::Sequence);
      matchers.push_back(r.label + "=\"" + r.value + "\"");
      route["matchers"] = matchers;
    }
    route["group_wait"] = "1s";
    route["group_interval"] = "2s";
    config["route"]["routes"].push_back(route);
    receivers.push_back(r.receiver);
  }
  config["receivers"] = receivers;
  YAML::Emitter out;
  out << config;
  return std::string(out.c_str()) + "\n";
}

}  // namespace aitelemetry::test_support
