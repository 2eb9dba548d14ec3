// The model registry: one description of every model (fields, types, units, keys, relations, search
// flags, NGSI-LD names). The SQL schema, JSON, OpenAPI, NGSI-LD @context, facets and forms are all
// derived from it; nothing else lists a model's fields.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "model/value.h"

namespace aitelemetry::model {

// Field flags, OR-ed together.
enum FieldFlag : uint32_t {
  kNone = 0,
  kSearchable = 1u << 0,  // included in full-text `q`
  kFacetable = 1u << 1,   // allowed in facet.field and fq
  kSortable = 1u << 2,    // allowed in sort
  kEditable = 1u << 3,    // may be changed by an admin PATCH
  kRequired = 1u << 4,    // never null
  kStat = 1u << 5,        // numeric, allowed in stats.field
  kFilterable = 1u << 6,  // allowed in fq (facetable implies it)
  kWriteOnce = 1u << 7,   // an upsert keeps the stored value once set (first_seen_at)
};

struct Field {
  std::string name;  // snake_case: the SQL column, the JSON key and the fq/sort/facet name
  FieldType type = FieldType::kString;
  uint32_t flags = kNone;
  std::string unit;         // human unit: "W", "bytes", "ratio", "s", "J", "°C", "Hz"; empty: none
  std::string unit_code;    // UN/CEFACT common code for NGSI-LD unitCode ("WTT", "AD", ...)
  std::string relation;     // name of the model this field's value is a key of; empty: none
  std::string ngsi_name;    // NGSI-LD attribute name (camelCase); the JSON name when empty
  std::string description;  // one sentence, shown in OpenAPI and forms

  bool Has(FieldFlag f) const { return (flags & f) != 0; }
  // Returns the NGSI-LD attribute name (ngsi_name, or name).
  const std::string& NgsiName() const { return ngsi_name.empty() ? name : ngsi_name; }
};

// Which columns place a row inside the hub > cluster > project grant tree.
struct ScopeColumns {
  std::string hub;      // column with the hub name; always set
  std::string cluster;  // column with the cluster name; empty for the hub model
  std::string project;  // column with the namespace; empty when the row is not a project's
  // When `project` is empty, a project grant still reveals rows that one of the project's rows
  // in `via_model` points at through its `via_field` (a node is visible to the projects whose
  // GPUs sit on it). Empty: project grants reveal only ancestors (hub, cluster) and not this row.
  std::string via_model;
  std::string via_field;
  // Ancestor models (hub, cluster) are visible to anyone holding a grant below them.
  bool ancestor = false;
};

struct Model {
  std::string name;       // URL name: "gpu-slice"
  std::string type_name;  // NGSI-LD type and OpenAPI schema name: "GpuSlice"
  std::string table;      // SQL table: "gpu_slice"
  std::string description;
  std::vector<Field> fields;  // fields[0] is "key", the natural key (NERC resource name style)
  ScopeColumns scope;
  bool entity = true;      // has gone/seen lifecycle fields and a current state
  bool internal = false;   // bookkeeping table (inbox, outbox): stored, never served
  std::string time_field;  // the field that orders its history (temporal API), if any
  // A kTime field whose month partitions the table on PostgreSQL (and by which retention deletes);
  // empty: not partitioned. Requires: the key determines it (rows never move between months).
  std::string partition_field;

  // Field name -> index, filled by ValidateModels (FieldIndex scans `fields` without it, and
  // checks what it finds, so a model changed after validation stays correct).
  struct NameHash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  std::unordered_map<std::string, int, NameHash, std::equal_to<>> field_ids;

  // Returns the index of the field named `name`, or -1.
  int FieldIndex(std::string_view name) const;
  // Returns the field named `name`, or nullptr.
  const Field* FindField(std::string_view name) const;
};

// The registry: all models in dependency order (parents first). The returned reference lives for
// the whole program.
const std::vector<Model>& Models();

// Returns the model whose URL name is `name` ("gpu", "gpu-slice"), or nullptr.
const Model* FindModel(std::string_view name);
// Returns the model whose NGSI-LD type is `type_name` ("Gpu"), or nullptr.
const Model* FindModelByType(std::string_view type_name);

// Natural keys, following NERC's Keycloak resource names.
std::string HubKey(std::string_view hub);
std::string ClusterKey(std::string_view hub, std::string_view cluster);
std::string ProjectKey(std::string_view hub, std::string_view cluster, std::string_view ns);
std::string NodeKey(std::string_view hub, std::string_view cluster, std::string_view node);
std::string GpuKey(std::string_view hub, std::string_view cluster, std::string_view node,
                   std::string_view uuid);
std::string SliceKey(std::string_view gpu_key, std::string_view gpu_i_id);

// Extension seam for tests: builds a registry from `models` instead of the built-in one.
// Requires: each model's first field is named "key".
std::vector<Model> ValidateModels(std::vector<Model> models, std::string* error);

}  // namespace aitelemetry::model
