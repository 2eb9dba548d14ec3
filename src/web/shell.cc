#include "web/shell.h"

#include <nlohmann/json.hpp>

#include "model/registry.h"

namespace aitelemetry::web {
namespace {

// A JSON text placed inside <script type="application/json">: "</" must not end the element.
std::string ScriptSafe(std::string json) {
  std::string out;
  out.reserve(json.size());
  for (char c : json) {
    if (c == '<') {
      out += "\\u003c";
    } else {
      out += c;
    }
  }
  return out;
}

}  // namespace

std::string HtmlEscape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::string ModelsJson() {
  nlohmann::json models = nlohmann::json::array();
  for (const auto& m : model::Models()) {
    if (m.internal) continue;
    nlohmann::json fields = nlohmann::json::array();
    for (const auto& f : m.fields) {
      fields.push_back({{"name", f.name},
                        {"type", model::FieldTypeName(f.type)},
                        {"unit", f.unit},
                        {"description", f.description},
                        {"relation", f.relation},
                        {"facet", f.Has(model::kFacetable)},
                        {"filter", f.Has(model::kFilterable) || f.Has(model::kFacetable)},
                        {"sort", f.Has(model::kSortable)},
                        {"search", f.Has(model::kSearchable)},
                        {"stat", f.Has(model::kStat)}});
    }
    models.push_back({{"name", m.name},
                      {"type", m.type_name},
                      {"description", m.description},
                      {"entity", m.entity},
                      {"time_field", m.time_field},
                      {"fields", std::move(fields)}});
  }
  return ScriptSafe(models.dump());
}

std::string RenderShell(const PageSpec& page, const ShellOptions& options) {
  const std::string title = HtmlEscape(page.title);
  std::string html;
  html.reserve(16384);
  html += "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n";
  html += "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n";
  html += "<meta name=\"color-scheme\" content=\"dark light\">\n";
  html += "<title>" + title + " · AI Telemetry</title>\n";
  html += "<link rel=\"icon\" href=\"/static/favicon.svg\" type=\"image/svg+xml\">\n";
  html += "<link rel=\"stylesheet\" href=\"/static/vendor/uPlot.min.css\">\n";
  html += "<link rel=\"stylesheet\" href=\"/static/app.css\">\n";
  html += "<script type=\"module\" src=\"/static/main.js\"></script>\n";
  html += "</head>\n";
  html += "<body data-page=\"" + HtmlEscape(page.page) + "\" data-key=\"" + HtmlEscape(page.key) +
          "\" data-model=\"" + HtmlEscape(page.model) + "\" data-tracing-ui-url=\"" +
          HtmlEscape(options.tracing_ui_url) + "\" data-interval-seconds=\"" +
          std::to_string(options.interval.count()) + "\" data-version=\"" +
          HtmlEscape(options.version) + "\">\n";
  html += R"(<a class="skip" href="#main">Skip to content</a>
<header class="topbar">
  <a class="brand" href="/"><svg aria-hidden="true" viewBox="0 0 24 24" width="22" height="22"><rect x="3" y="3" width="8" height="8" rx="2"/><rect x="13" y="3" width="8" height="8" rx="2" class="b2"/><rect x="3" y="13" width="8" height="8" rx="2" class="b3"/><rect x="13" y="13" width="8" height="8" rx="2" class="b4"/></svg><span>AI Telemetry</span></a>
  <nav aria-label="Main">
    <a href="/" data-nav="fleet">Fleet</a>
    <a href="/sessions" data-nav="sessions">Sessions</a>
    <a href="/search/gpu" data-nav="search">Search</a>
  </nav>
  <div class="topbar-right">
    <span class="live" id="live" title="Live updates"><span class="dot" aria-hidden="true"></span><span id="live-text">connecting</span></span>
    <span class="updated" id="last-updated" aria-live="polite">not loaded yet</span>
    <span class="user" id="user">…</span>
    <button type="button" class="icon-button" id="theme-toggle" aria-label="Switch colour theme" title="Switch colour theme">◐</button>
  </div>
</header>
<div class="banner" id="stale-banner" role="alert" hidden></div>
<main id="main" tabindex="-1">
)";
  html += "<div class=\"page-head\"><div><p class=\"crumbs\" id=\"crumbs\"></p><h1 id=\"title\">" +
          title + "</h1></div><div class=\"page-actions\" id=\"page-actions\"></div></div>\n";
  html +=
      R"(<div id="page" aria-busy="true"><div class="state loading" role="status"><span class="spinner" aria-hidden="true"></span>Loading…</div></div>
<noscript><div class="state">These dashboards need JavaScript. The same data is in the JSON API under <a href="/api/gpu">/api/</a>.</div></noscript>
</main>
)";
  html += "<script type=\"application/json\" id=\"models\">" + ModelsJson() + "</script>\n";
  html += "</body>\n</html>\n";
  return html;
}

}  // namespace aitelemetry::web
