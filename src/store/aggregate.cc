#include "store/aggregate.h"

#include <fmt/format.h>

#include "store/sql_builder.h"
#include "store/store.h"

namespace aitelemetry::store {

using model::Field;
using model::FieldType;
using model::Model;

Status ValidateAggregate(const Model& m, const AggregateSpec& spec) {
  QuerySpec filters;
  filters.filters = spec.filters;
  if (auto st = ValidateQuery(m, filters); !st) return st;
  auto known = [&](const char* what, const std::string& name) -> Result<const Field*> {
    const Field* f = m.FindField(name);
    if (f == nullptr) {
      return Fail(ErrorCode::kInvalidArgument,
                  fmt::format("{}: unknown field \"{}\" of {}", what, name.substr(0, 64), m.name));
    }
    return f;
  };
  for (const auto& g : spec.group_by) {
    if (auto f = known("group", g); !f) return Fail(f.error());
  }
  if (spec.sums.empty()) return Fail(ErrorCode::kInvalidArgument, "aggregate: nothing to sum");
  for (const auto& s : spec.sums) {
    auto f = known("sum", s.field);
    if (!f) return Fail(f.error());
    if (!(*f)->Has(model::kStat)) {
      return Fail(ErrorCode::kInvalidArgument,
                  fmt::format("sum: field \"{}\" of {} is not numeric", s.field, m.name));
    }
    if (!s.only_where_set.empty()) {
      if (auto w = known("sum", s.only_where_set); !w) return Fail(w.error());
    }
  }
  if (!spec.bucket_field.empty()) {
    auto f = known("bucket", spec.bucket_field);
    if (!f) return Fail(f.error());
    if ((*f)->type != FieldType::kTime && (*f)->type != FieldType::kInt) {
      return Fail(
          ErrorCode::kInvalidArgument,
          fmt::format("bucket: field \"{}\" of {} is not a time", spec.bucket_field, m.name));
    }
    if (spec.bucket_width <= 0) {
      return Fail(ErrorCode::kInvalidArgument, "bucket: the width must be positive");
    }
  }
  return Ok();
}

Result<std::vector<AggregateRow>> Store::Aggregate(const Model& m, const AggregateSpec& spec,
                                                   const Scope& scope) {
  if (auto st = ValidateAggregate(m, spec); !st) return Fail(st.error());
  // Identifiers come from the registry (checked above); the width is a number we format, never
  // text from a caller. GROUP BY uses positions so both dialects accept the bucket expression.
  SqlText q;
  std::vector<FieldType> types;
  std::string select;
  std::string positions;
  int position = 0;
  auto column = [&](const std::string& expr, FieldType type) {
    if (!select.empty()) select += ", ";
    select += expr;
    types.push_back(type);
  };
  for (const auto& g : spec.group_by) {
    column(g, m.FindField(g)->type);
    positions += (positions.empty() ? "" : ", ") + std::to_string(++position);
  }
  if (!spec.bucket_field.empty()) {
    column(fmt::format("({0} / {1}) * {1}", spec.bucket_field, spec.bucket_width), FieldType::kInt);
    positions += (positions.empty() ? "" : ", ") + std::to_string(++position);
  }
  for (const auto& s : spec.sums) {
    if (s.only_where_set.empty()) {
      column(fmt::format("SUM({})", s.field), FieldType::kReal);
    } else {
      column(fmt::format("SUM(CASE WHEN {} IS NOT NULL THEN {} END)", s.only_where_set, s.field),
             FieldType::kReal);
    }
  }
  q.sql = fmt::format("SELECT {} FROM {}", select, m.table);
  AppendWhere(m, spec.filters, "", scope, q);
  if (!positions.empty()) {
    q.sql += " GROUP BY " + positions + " ORDER BY " + positions;
  }
  q.sql += " LIMIT ?";
  q.params.emplace_back(spec.max_groups + 1);
  std::vector<AggregateRow> out;
  const size_t groups = spec.group_by.size();
  const bool bucket = !spec.bucket_field.empty();
  auto st = WithConnection([&](SqlConnection& conn) -> Status {
    return conn.Query(q.sql, q.params, types, [&](std::vector<Value>& row) {
      AggregateRow r;
      r.group.assign(std::make_move_iterator(row.begin()),
                     std::make_move_iterator(row.begin() + static_cast<long>(groups)));
      size_t i = groups;
      if (bucket) {
        if (auto* b = std::get_if<int64_t>(&row[i])) r.bucket = *b;
        ++i;
      }
      for (; i < row.size(); ++i) {
        double d;
        if (model::AsDouble(row[i], &d)) {
          r.sums.emplace_back(d);
        } else {
          r.sums.emplace_back(std::nullopt);
        }
      }
      out.push_back(std::move(r));
    });
  });
  if (!st) return Fail(st.error());
  if (static_cast<int64_t>(out.size()) > spec.max_groups) {
    return Fail(ErrorCode::kInvalidArgument,
                fmt::format("aggregate: more than {} groups; narrow the filters or the range",
                            spec.max_groups));
  }
  // A total over no rows is one row of nulls in SQL; report it as no rows.
  if (groups == 0 && !bucket && out.size() == 1) {
    bool any = false;
    for (const auto& s : out[0].sums) any = any || s.has_value();
    if (!any) out.clear();
  }
  return out;
}

}  // namespace aitelemetry::store
