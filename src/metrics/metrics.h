// The process's own Prometheus metrics: counters, gauges and histograms with label values,
// rendered in the text exposition format for GET /metrics. Thread-safe.
#pragma once

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace aitelemetry::metrics {

enum class Kind { kCounter, kGauge, kHistogram };

// One metric family: a name, help text and label names; children per label values.
class Family {
 public:
  Family(std::string name, std::string help, Kind kind, std::vector<std::string> label_names,
         std::vector<double> buckets = {});

  // Adds `v` (>= 0 for counters) to the child with `label_values` (one per label name).
  void Add(const std::vector<std::string>& label_values, double v);
  // Sets a gauge child's value.
  void Set(const std::vector<std::string>& label_values, double v);
  // Records one observation in a histogram child.
  void Observe(const std::vector<std::string>& label_values, double v);
  // Drops every child (for gauges recomputed from scratch, like entities by state).
  void Clear();

  void Render(std::string& out) const;

 private:
  struct Child {
    double value = 0;
    std::vector<double> bucket_counts;
    double sum = 0;
    uint64_t count = 0;
  };
  Child& At(const std::vector<std::string>& label_values);  // requires mu_ held

  std::string name_, help_;
  Kind kind_;
  std::vector<std::string> label_names_;
  std::vector<double> buckets_;
  mutable std::mutex mu_;
  std::map<std::vector<std::string>, Child> children_;  // guarded by mu_
};

class Registry {
 public:
  // Returns the family named `name`, creating it on first use. Later calls with the same name
  // return the same family (their other arguments are ignored).
  Family& Counter(const std::string& name, const std::string& help,
                  std::vector<std::string> labels = {});
  Family& Gauge(const std::string& name, const std::string& help,
                std::vector<std::string> labels = {});
  Family& Histogram(const std::string& name, const std::string& help,
                    std::vector<std::string> labels, std::vector<double> buckets);

  // Runs before each render, so values read from elsewhere (the store) are fresh.
  void OnCollect(std::function<void()> fn);

  // The text exposition (version 0.0.4) of every family, sorted by name.
  std::string Render() const;

 private:
  Family& Get(const std::string& name, const std::string& help, Kind kind,
              std::vector<std::string> labels, std::vector<double> buckets);
  mutable std::mutex mu_;
  std::map<std::string, std::unique_ptr<Family>> families_;  // guarded by mu_
  std::vector<std::function<void()>> collectors_;            // guarded by mu_
};

}  // namespace aitelemetry::metrics
