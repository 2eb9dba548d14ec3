// The server-rendered page shell: the frame every dashboard page shares (navigation, user, theme,
// live status) with the page's identity and settings in data attributes. The page's numbers are
// fetched by its ES module from the public JSON API; the shell carries none.
#pragma once

#include <chrono>
#include <string>
#include <string_view>

namespace aitelemetry::web {

// Settings the pages need from the server's configuration.
struct ShellOptions {
  // Link template for a trace in the tracing UI, with "{trace_id}"; empty: no trace links.
  std::string tracing_ui_url;
  // The collector's sync interval; pages call data stale past three intervals.
  std::chrono::seconds interval{30};
  std::string version;
};

// Which page to render.
struct PageSpec {
  std::string page;   // module name: fleet, cluster, node, gpu, project, sessions, search
  std::string title;  // the <h1> and <title>
  std::string key;    // natural key of the entity shown; empty for list pages
  std::string model;  // the model a search page searches; empty otherwise
};

// Returns the HTML document for `page`. Every interpolated value is HTML-escaped.
std::string RenderShell(const PageSpec& page, const ShellOptions& options);

// Returns the JSON the search pages build their forms from: for each served model its name,
// description and fields (name, type, unit, description and search flags), from the registry.
std::string ModelsJson();

// Escapes &, <, >, " and ' for text and attribute values.
std::string HtmlEscape(std::string_view text);

}  // namespace aitelemetry::web
