#include "store/change_feed.h"

#include <fmt/format.h>

#include "store/sql_builder.h"
#include "store/store.h"

namespace aitelemetry::store {

using model::Field;
using model::FieldType;
using model::Model;
using model::Record;

namespace {

constexpr uint32_t kFilter = model::kFilterable | model::kSortable;

Field F(std::string name, FieldType type, uint32_t flags, std::string description) {
  Field f;
  f.name = std::move(name);
  f.type = type;
  f.flags = flags;
  f.description = std::move(description);
  return f;
}

Model BuildChangeModel() {
  Model m{"change", "Change", "change_log", "Entity changes for live views, in commit order."};
  m.entity = false;
  m.internal = true;
  // The key is the seq zero-padded to 20 digits: the primary key's order is the seq's order, so
  // "seq > N" is a range scan of the primary key on both backends.
  m.fields = {
      F("key", FieldType::kString, model::kRequired | kFilter, "Seq, zero-padded to 20 digits."),
      F("seq", FieldType::kInt, model::kRequired | kFilter, "Position in the feed, from 1."),
      F("model", FieldType::kString, model::kRequired | model::kFacetable | kFilter,
        "Model of the changed entity."),
      F("entity_key", FieldType::kString, kFilter, "Key of the changed entity; null: a summary."),
      F("op", FieldType::kString, model::kRequired | model::kFacetable | kFilter, "What changed."),
      F("hub", FieldType::kString, model::kRequired | kFilter, "Hub of the entity."),
      F("cluster", FieldType::kString, kFilter, "Cluster of the entity."),
      F("project", FieldType::kString, kFilter, "Project (namespace) of the entity."),
      F("at", FieldType::kTime, model::kRequired | kFilter, "When the change was applied."),
  };
  m.scope = {"hub", "cluster", "project", "", "", false};
  m.time_field = "at";
  return m;
}

std::string SeqKey(int64_t seq) { return fmt::format("{:020d}", seq); }

Status AppendOn(SqlConnection& conn, std::vector<Change>& changes) {
  if (changes.empty()) return Ok();
  const Model& m = ChangeModel();
  if (conn.dialect() == Dialect::kPostgres) {
    // Serialises appenders until commit, so seqs become visible in order and a poller reading
    // "seq > N" never skips a seq that commits later. SQLite's BEGIN IMMEDIATE already does.
    auto lock = conn.Exec("LOCK TABLE change_log IN SHARE ROW EXCLUSIVE MODE");
    if (!lock) return Fail(lock.error());
  }
  int64_t last = 0;
  FieldType types[] = {FieldType::kInt};
  auto q = conn.Query("SELECT MAX(seq) FROM change_log", {}, types, [&](std::vector<Value>& row) {
    if (auto* v = std::get_if<int64_t>(&row[0])) last = *v;
  });
  if (!q) return q;
  std::vector<Record> rows;
  rows.reserve(changes.size());
  for (auto& c : changes) {
    if (c.model.empty() || c.op.empty() || c.hub.empty()) {
      return Fail(ErrorCode::kInvalidArgument, "change feed: a change needs a model, op and hub");
    }
    c.seq = ++last;
    Record r(m);
    r.values[0] = SeqKey(c.seq);
    r.values[1] = c.seq;
    r.values[2] = c.model;
    if (!c.key.empty()) r.values[3] = c.key;
    r.values[4] = c.op;
    r.values[5] = c.hub;
    if (!c.cluster.empty()) r.values[6] = c.cluster;
    if (!c.project.empty()) r.values[7] = c.project;
    r.values[8] = ToUnixNanos(c.at);
    rows.push_back(std::move(r));
  }
  Store::Writer w(conn);
  if (auto st = w.Upsert(m, rows); !st) return st;
  if (conn.dialect() == Dialect::kPostgres) {
    // Delivered at commit to every LISTENing process (ChangeListener): live views on all
    // replicas wake at once instead of at their next poll. Dropped on rollback, like the rows.
    Value payload[] = {std::to_string(last)};
    auto n = conn.Exec("SELECT pg_notify('" + std::string(kChangeChannel) + "', ?)", payload);
    if (!n) return Fail(n.error());
  }
  return Ok();
}

}  // namespace

const Model& ChangeModel() {
  static const Model m = BuildChangeModel();
  return m;
}

Change ChangeOf(const Record& record, std::string op, Timestamp at) {
  const Model& m = *record.model;
  Change c;
  c.model = m.name;
  c.key = record.Key();
  c.op = std::move(op);
  c.hub = record.GetString(m.scope.hub);
  if (!m.scope.cluster.empty()) c.cluster = record.GetString(m.scope.cluster);
  if (!m.scope.project.empty()) c.project = record.GetString(m.scope.project);
  c.at = at;
  return c;
}

Status Store::AppendChanges(std::vector<Change> changes) {
  if (changes.empty()) return Ok();
  return Transaction([&](Writer& w) { return w.AppendChanges(std::move(changes)); });
}

Status Store::Writer::AppendChanges(std::vector<Change> changes) {
  return AppendOn(conn_, changes);
}

Result<std::vector<Change>> Store::ChangesSince(int64_t after_seq,
                                                const std::vector<std::string>& models,
                                                const Scope& scope, int64_t limit) {
  const Model& m = ChangeModel();
  QuerySpec spec;
  Filter after;
  after.field = "key";
  after.kind = Filter::Kind::kRange;
  after.lower = SeqKey(std::max<int64_t>(after_seq, 0));
  after.lower_inclusive = false;
  spec.filters.push_back(std::move(after));
  if (!models.empty()) {
    Filter f;
    f.field = "model";
    for (const auto& name : models) f.values.emplace_back(name);
    spec.filters.push_back(std::move(f));
  }
  spec.rows = std::max<int64_t>(limit, 1);
  spec.count = false;
  auto r = Query(m, spec, scope);
  if (!r) return Fail(r.error());
  std::vector<Change> out;
  out.reserve(r->rows.size());
  for (const auto& row : r->rows) {
    Change c;
    c.seq = std::get<int64_t>(row.values[1]);
    c.model = row.GetString("model");
    c.key = row.GetString("entity_key");
    c.op = row.GetString("op");
    c.hub = row.GetString("hub");
    c.cluster = row.GetString("cluster");
    c.project = row.GetString("project");
    if (auto* at = std::get_if<int64_t>(&row.values[8])) c.at = Timestamp{Nanos{*at}};
    out.push_back(std::move(c));
  }
  return out;
}

Result<int64_t> Store::LastChangeSeq() {
  int64_t last = 0;
  auto st = WithConnection([&](SqlConnection& conn) -> Status {
    FieldType types[] = {FieldType::kInt};
    return conn.Query("SELECT MAX(seq) FROM change_log", {}, types, [&](std::vector<Value>& row) {
      if (auto* v = std::get_if<int64_t>(&row[0])) last = *v;
    });
  });
  if (!st) return Fail(st.error());
  return last;
}

Result<int64_t> Store::TrimChanges(Timestamp before) {
  auto last = LastChangeSeq();
  if (!last) return last;
  return Delete(ChangeModel(),
                {Filter::Less("at", ToUnixNanos(before)), Filter::Less("seq", *last)});
}

}  // namespace aitelemetry::store
