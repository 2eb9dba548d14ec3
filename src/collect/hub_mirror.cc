#include "collect/hub_mirror.h"

#include <functional>
#include <map>

#include <fmt/format.h>

namespace aitelemetry::collect {
namespace {

using model::Record;
using model::Value;
using store::Filter;

const model::Model& M(const char* name) { return *model::FindModel(name); }

uint64_t Mix(uint64_t h, uint64_t v) {
  h ^= v + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2);
  return h * 0xff51afd7ed558ccdULL;
}

// Visits every row of `m` matching `filters` in pages (keyset order), so loading a large hub
// never holds all its records at once.
Status ForEachRow(store::Store::Writer& w, const model::Model& m, std::vector<Filter> filters,
                  const std::function<void(const Record&)>& fn) {
  store::QuerySpec spec;
  spec.filters = std::move(filters);
  spec.rows = 10000;
  spec.count = false;
  while (true) {
    auto rows = w.Select(m, spec);
    if (!rows) return Fail(rows.error());
    for (const Record& r : *rows) fn(r);
    if (rows->size() < static_cast<size_t>(spec.rows)) return Ok();
    spec.after = std::vector<Value>{rows->back().Key()};
  }
}

}  // namespace

const WritePlan& WritePlan::Of(const model::Model& m) {
  static std::map<const model::Model*, WritePlan> plans = [] {
    std::map<const model::Model*, WritePlan> out;
    for (const auto& model : model::Models()) {
      WritePlan p;
      p.model = &model;
      const auto indexed = store::IndexedFields(model);
      for (size_t i = 1; i < model.fields.size(); ++i) {
        const model::Field& f = model.fields[i];
        if (f.Has(model::kEditable) || f.Has(model::kWriteOnce)) continue;
        if (f.name == "last_seen_at") {
          p.refresh.push_back(static_cast<int>(i));
        } else if (indexed.contains(f.name)) {
          p.indexed.push_back(static_cast<int>(i));
        } else {
          p.values.push_back(static_cast<int>(i));
          p.refresh.push_back(static_cast<int>(i));
        }
      }
      p.state = model.FieldIndex("state");
      p.gone_at = model.FieldIndex("gone_at");
      p.last_active_at = model.FieldIndex("last_active_at");
      p.pod = model.FieldIndex("pod");
      p.project = model.FieldIndex("project");
      if (!model.scope.cluster.empty()) p.scope_cluster = model.FieldIndex(model.scope.cluster);
      if (!model.scope.project.empty()) p.scope_project = model.FieldIndex(model.scope.project);
      out.emplace(&model, std::move(p));
    }
    return out;
  }();
  return plans.at(&m);
}

uint64_t DigestFields(const Record& r, std::span<const int> fields) {
  uint64_t h = 0x84222325cbf29ce4ULL;
  for (int f : fields) {
    const Value& v = r.values[static_cast<size_t>(f)];
    h = Mix(h, v.index());
    if (auto* s = std::get_if<std::string>(&v)) {
      h = Mix(h, std::hash<std::string_view>{}(*s));
    } else if (auto* i = std::get_if<int64_t>(&v)) {
      h = Mix(h, static_cast<uint64_t>(*i));
    } else if (auto* d = std::get_if<double>(&v)) {
      uint64_t bits = 0;
      std::memcpy(&bits, d, sizeof bits);
      h = Mix(h, bits);
    } else if (auto* b = std::get_if<bool>(&v)) {
      h = Mix(h, *b ? 1 : 0);
    }
  }
  return h;
}

std::string AllocationIdent(std::string_view device_key, std::string_view pod,
                            std::string_view container) {
  std::string out(device_key);
  out.push_back('|');
  out.append(pod);
  out.push_back('|');
  out.append(container);
  return out;
}

std::string EventIdent(std::string_view device_key, std::string_view kind, int64_t code) {
  return fmt::format("{}|{}|{}", device_key, kind, code);
}

void HubMirror::Clear() {
  loaded_ = false;
  written_at_ = kNoTime;
  for (auto& m : entities_) Entities().swap(m);
  keys_.Clear();
  allocations_.clear();
  events_.clear();
  names_.assign(1, "");
  name_ids_ = {{"", 0}};
}

uint32_t HubMirror::Name(std::string_view name) {
  if (name.empty()) return 0;
  auto it = name_ids_.find(name);
  if (it != name_ids_.end()) return it->second;
  auto id = static_cast<uint32_t>(names_.size());
  names_.emplace_back(name);
  name_ids_.emplace(std::string(name), id);
  return id;
}

namespace {

// The string at field `i` of `r`; empty when null, not a string, or the model has no such field.
std::string_view Text(const Record& r, int i) {
  if (i < 0) return {};
  const auto* s = std::get_if<std::string>(&r.values[static_cast<size_t>(i)]);
  return s ? std::string_view(*s) : std::string_view();
}

}  // namespace

void HubMirror::Describe(const Record& r, Entity& e) {
  const WritePlan& plan = WritePlan::Of(*r.model);
  e.indexed_digest = DigestFields(r, plan.indexed);
  e.value_digest = DigestFields(r, plan.values);
  e.state = Name(Text(r, plan.state));
  e.gone = plan.gone_at >= 0 && !model::IsNull(r.values[static_cast<size_t>(plan.gone_at)]);
  const auto* active =
      plan.last_active_at < 0
          ? nullptr
          : std::get_if<int64_t>(&r.values[static_cast<size_t>(plan.last_active_at)]);
  e.last_active_at = active ? *active : kNoTime;
  e.holder = 0;
  if (plan.pod >= 0 && plan.project >= 0) {
    std::string_view pod = Text(r, plan.pod);
    if (!pod.empty()) {
      const size_t h = std::hash<std::string_view>{}(Text(r, plan.project));
      e.holder = (h * 0x9e3779b97f4a7c15ULL ^ std::hash<std::string_view>{}(pod)) | 1;
    }
  }
  e.cluster = Name(Text(r, plan.scope_cluster));
  e.project = Name(Text(r, plan.scope_project));
}

Status HubMirror::Load(store::Store::Writer& w, const std::string& hub) {
  Clear();
  hub_ = hub;
  for (size_t i = 0; i < kSyncedModels.size(); ++i) {
    const model::Model& m = M(kSyncedModels[i]);
    auto& out = entities_[i];
    auto st = ForEachRow(w, m, {Filter::Eq(m.scope.hub, hub)},
                         [&](const Record& r) { Describe(r, out[Keep(r.Key())]); });
    if (!st) return st;
  }
  const WritePlan& alloc = WritePlan::Of(M("allocation"));
  auto st = ForEachRow(
      w, M("allocation"), {Filter::Eq("hub", hub), Filter::Eq("state", std::string("open"))},
      [&](const Record& r) {
        Open& o = allocations_[AllocationIdent(r.GetString("device_key"), r.GetString("pod"),
                                               r.GetString("container"))];
        o.key = r.Key();
        o.digest = DigestFields(r, alloc.indexed) ^ (DigestFields(r, alloc.values) * 31);
      });
  if (!st) return st;
  st = ForEachRow(w, M("health-event"), {Filter::Eq("hub", hub), Filter::Null("ended_at")},
                  [&](const Record& r) {
                    std::string kind = r.GetString("kind");
                    if (kind != "xid" && kind != "remapped_rows" && kind != "row_remap_failure") {
                      return;
                    }
                    const auto* code = std::get_if<int64_t>(&r.Get("code"));
                    events_[EventIdent(r.GetString("device_key"), kind, code ? *code : 0)].key =
                        r.Key();
                  });
  if (!st) return st;
  auto row = w.Select(M("hub"), [&] {
    store::QuerySpec spec;
    spec.filters = {Filter::Eq("key", model::HubKey(hub))};
    spec.fields = {"key", "last_sync_at"};
    spec.count = false;
    return spec;
  }());
  if (!row) return Fail(row.error());
  if (!row->empty()) {
    const auto* t = std::get_if<int64_t>(&row->front().Get("last_sync_at"));
    written_at_ = t ? *t : kNoTime;
  }
  loaded_ = true;
  return Ok();
}

}  // namespace aitelemetry::collect
