// The REST API over the model registry: search, one entity, admin PATCH, usage reports and live
// change events. Handlers are thin: they read the caller (api::CallerOf), call the plain
// functions in search.h, usage.h and events.h, and map errors to problem+json in one place.
#pragma once

#include <functional>

#include "api/events.h"
#include "api/response_cache.h"
#include "core/time.h"
#include "http/router.h"
#include "store/store.h"

namespace aitelemetry::api {

struct RestDeps {
  store::Store* store = nullptr;  // Requires: non-null and outliving the router's server
  // The process's live change fan-out for /api/events; null: the route answers 503.
  // Requires: outlives the router's server.
  EventHub* events = nullptr;
  std::function<Timestamp()> now = [] { return Now(); };  // the clock usage defaults read
  // Answers of search, usage and get are kept here, keyed by the caller's scope and the request
  // and labelled with store->Generation(); null: no caching. Requires: outlives the router.
  ResponseCache* cache = nullptr;
};

// Registers, in this order (literal paths before {model}):
//   GET   /api/events          Server-Sent Events of entity changes (`model=`, Last-Event-ID)
//   GET   /api/{model}         search (q, fq, sort, start, rows, fl, facet.field, stats.field,
//                              cursorMark; JSON or CSV). /api/usage with `groupBy` is the usage
//                              report instead of a search of the hourly rows.
//   GET   /api/{model}/{key}   one entity; 404 when absent or invisible to the caller
//   PATCH /api/{model}/{key}   editable fields, admins or holders of a patch grant on the entity
//                              or an ancestor; browser sessions must send X-CSRF-Token
// Every read uses CallerOf(request).scope. Unknown or internal models: 400 naming the model.
// With deps.cache, GET search, usage and one-entity answers (200s only) are cached; a hit is
// served on the I/O thread (a fast route) when the middlewares allow and the store's generation
// can be read without waiting (SQLite), else on the blocking pool. A store without a generation
// is never cached.
void AddRestRoutes(http::Router& router, RestDeps deps);

// The handlers, callable without a server (the routes above call them).
http::Response HandleSearch(const RestDeps& deps, const http::Request& request);
http::Response HandleGet(const RestDeps& deps, const http::Request& request);
http::Response HandlePatch(const RestDeps& deps, const http::Request& request);
http::Response HandleUsage(const RestDeps& deps, const http::Request& request);
http::Response HandleEvents(const RestDeps& deps, const http::Request& request);

}  // namespace aitelemetry::api
