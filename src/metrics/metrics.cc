#include "metrics/metrics.h"

#include <cmath>

#include <fmt/format.h>

namespace aitelemetry::metrics {
namespace {

std::string EscapeLabel(const std::string& v) {
  std::string out;
  for (char c : v) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '"') {
      out += "\\\"";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

std::string Number(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  if (v == std::floor(v) && std::fabs(v) < 1e15) return fmt::format("{}", static_cast<int64_t>(v));
  return fmt::format("{}", v);
}

std::string Labels(const std::vector<std::string>& names, const std::vector<std::string>& values,
                   const std::string& extra = "") {
  std::string out;
  for (size_t i = 0; i < names.size(); ++i) {
    if (!out.empty()) out += ',';
    out += fmt::format("{}=\"{}\"", names[i], EscapeLabel(i < values.size() ? values[i] : ""));
  }
  if (!extra.empty()) {
    if (!out.empty()) out += ',';
    out += extra;
  }
  return out.empty() ? "" : "{" + out + "}";
}

}  // namespace

Family::Family(std::string name, std::string help, Kind kind, std::vector<std::string> label_names,
               std::vector<double> buckets)
    : name_(std::move(name)),
      help_(std::move(help)),
      kind_(kind),
      label_names_(std::move(label_names)),
      buckets_(std::move(buckets)) {}

Family::Child& Family::At(const std::vector<std::string>& label_values) {
  auto& c = children_[label_values];
  if (kind_ == Kind::kHistogram && c.bucket_counts.empty())
    c.bucket_counts.assign(buckets_.size(), 0);
  return c;
}

void Family::Add(const std::vector<std::string>& label_values, double v) {
  std::lock_guard lock(mu_);
  At(label_values).value += v;
}

void Family::Set(const std::vector<std::string>& label_values, double v) {
  std::lock_guard lock(mu_);
  At(label_values).value = v;
}

void Family::Observe(const std::vector<std::string>& label_values, double v) {
  std::lock_guard lock(mu_);
  Child& c = At(label_values);
  for (size_t i = 0; i < buckets_.size(); ++i) {
    if (v <= buckets_[i]) c.bucket_counts[i] += 1;
  }
  c.sum += v;
  c.count += 1;
}

void Family::Clear() {
  std::lock_guard lock(mu_);
  children_.clear();
}

void Family::Render(std::string& out) const {
  std::lock_guard lock(mu_);
  const char* type = kind_ == Kind::kCounter ? "counter"
                     : kind_ == Kind::kGauge ? "gauge"
                                             : "histogram";
  out += fmt::format("# HELP {} {}\n# TYPE {} {}\n", name_, help_, name_, type);
  for (const auto& [values, c] : children_) {
    if (kind_ != Kind::kHistogram) {
      out += fmt::format("{}{} {}\n", name_, Labels(label_names_, values), Number(c.value));
      continue;
    }
    for (size_t i = 0; i < buckets_.size(); ++i) {
      out +=
          fmt::format("{}_bucket{} {}\n", name_,
                      Labels(label_names_, values, fmt::format("le=\"{}\"", Number(buckets_[i]))),
                      Number(c.bucket_counts[i]));
    }
    out += fmt::format("{}_bucket{} {}\n", name_, Labels(label_names_, values, "le=\"+Inf\""),
                       c.count);
    out += fmt::format("{}_sum{} {}\n", name_, Labels(label_names_, values), Number(c.sum));
    out += fmt::format("{}_count{} {}\n", name_, Labels(label_names_, values), c.count);
  }
}

Family& Registry::Get(const std::string& name, const std::string& help, Kind kind,
                      std::vector<std::string> labels, std::vector<double> buckets) {
  std::lock_guard lock(mu_);
  auto& f = families_[name];
  if (!f) f = std::make_unique<Family>(name, help, kind, std::move(labels), std::move(buckets));
  return *f;
}

Family& Registry::Counter(const std::string& name, const std::string& help,
                          std::vector<std::string> labels) {
  return Get(name, help, Kind::kCounter, std::move(labels), {});
}
Family& Registry::Gauge(const std::string& name, const std::string& help,
                        std::vector<std::string> labels) {
  return Get(name, help, Kind::kGauge, std::move(labels), {});
}
Family& Registry::Histogram(const std::string& name, const std::string& help,
                            std::vector<std::string> labels, std::vector<double> buckets) {
  return Get(name, help, Kind::kHistogram, std::move(labels), std::move(buckets));
}

void Registry::OnCollect(std::function<void()> fn) {
  std::lock_guard lock(mu_);
  collectors_.push_back(std::move(fn));
}

std::string Registry::Render() const {
  std::vector<std::function<void()>> collectors;
  {
    std::lock_guard lock(mu_);
    collectors = collectors_;
  }
  for (auto& c : collectors) c();
  std::string out;
  std::lock_guard lock(mu_);
  for (const auto& [name, f] : families_) f->Render(out);
  return out;
}

}  // namespace aitelemetry::metrics
