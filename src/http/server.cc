#include "http/server.h"

#include <atomic>
#include <mutex>
#include <optional>
#include <set>
#include <thread>
#include <type_traits>
#include <utility>

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/http/span_body.hpp>
#include <boost/beast/ssl.hpp>

namespace aitelemetry::http {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = boost::asio::ip::tcp;

struct Server::Impl {
  ServerOptions options;
  std::shared_ptr<const Router> router;
  asio::io_context ioc;
  asio::thread_pool blocking;
  std::optional<asio::ssl::context> ssl;
  tcp::acceptor acceptor;
  asio::signal_set signals;
  std::atomic<bool> stopping{false};
  std::atomic<int> in_flight{0};
  std::atomic<int> open_streams{0};
  std::mutex mu;
  std::vector<std::function<void()>> on_shutdown;   // guarded by mu
  std::set<std::shared_ptr<StreamSource>> streams;  // guarded by mu: closed when stopping

  Impl(ServerOptions o, std::shared_ptr<const Router> r, int blocking_threads)
      : options(std::move(o)),
        router(std::move(r)),
        blocking(static_cast<size_t>(blocking_threads)),
        acceptor(ioc),
        signals(ioc) {}
};

namespace {

int StatusForParseError(const beast::error_code& ec) {
  if (ec == bhttp::error::header_limit) return 431;
  if (ec == bhttp::error::body_limit) return 413;
  return 400;
}

// A response whose body points into a Response (no copy: cached bodies are 40 KB and more).
using SpanResponse = bhttp::response<bhttp::span_body<const char>>;

// Requires: `r` outlives the returned message (its body is a view of r.Body()).
SpanResponse ToBeast(const Response& r, unsigned version, bool keep_alive, bool head) {
  SpanResponse res{static_cast<bhttp::status>(r.status), version};
  bool has_type = false;
  for (const auto& [k, v] : r.headers) {
    res.insert(k, v);
    if (beast::iequals(k, "content-type")) has_type = true;
  }
  std::string_view body = r.Body();
  if (!has_type && !body.empty()) res.set(bhttp::field::content_type, "text/plain; charset=utf-8");
  res.set(bhttp::field::server, "aitelemetry");
  res.keep_alive(keep_alive);
  if (head) {
    res.content_length(body.size());
  } else {
    res.body() = {body.data(), body.size()};
    res.prepare_payload();
  }
  return res;
}

Response SimpleProblem(int status, const char* detail) { return Problem(status, detail); }

// True when the request's framing is one every reader agrees on: no Transfer-Encoding, or one
// Transfer-Encoding field naming exactly "chunked" (HTTP/1.1, no Content-Length beside it).
// Anything else ("chunked, identity", "gzip", a repeated field) is read differently by different
// proxies, so a body could pass one of them as a second request (request smuggling).
template <class Fields>
bool HasUnambiguousFraming(const Fields& header, unsigned version) {
  size_t encodings = 0;
  std::string_view coding;
  for (const auto& f : header) {
    if (f.name() != bhttp::field::transfer_encoding) continue;
    ++encodings;
    coding = f.value();
  }
  if (encodings == 0) return true;
  while (!coding.empty() && (coding.front() == ' ' || coding.front() == '\t')) {
    coding.remove_prefix(1);
  }
  while (!coding.empty() && (coding.back() == ' ' || coding.back() == '\t'))
    coding.remove_suffix(1);
  return encodings == 1 && version >= 11 && beast::iequals(coding, "chunked") &&
         header.find(bhttp::field::content_length) == header.end();
}

template <class Stream>
asio::awaitable<void> WriteProblem(Stream& stream, int status, const char* detail) {
  Response problem = SimpleProblem(status, detail);
  auto res = ToBeast(problem, 11, false, false);
  co_await bhttp::async_write(stream, res, asio::as_tuple(asio::use_awaitable));
}

// Runs `fn` on the blocking pool and resumes the calling coroutine on its own executor with the
// result. (A bare `co_await post(pool, use_awaitable)` would resume on the caller's executor,
// running `fn` on the I/O thread after all: the work is spawned on the pool and awaited instead.)
template <class F>
asio::awaitable<std::invoke_result_t<F&>> OnPool(asio::thread_pool& pool, F fn) {
  using T = std::invoke_result_t<F&>;
  co_return co_await asio::co_spawn(
      pool.get_executor(), [&fn]() -> asio::awaitable<T> { co_return fn(); }, asio::use_awaitable);
}

// Asks `source` for its next chunk on the blocking pool; the coroutine resumes on its own executor
// whenever the source answers, from whatever thread: no thread waits for a stream's events.
asio::awaitable<std::tuple<std::string, bool>> NextChunk(asio::thread_pool& pool,
                                                         std::shared_ptr<StreamSource> source) {
  return asio::async_initiate<decltype(asio::use_awaitable), void(std::string, bool)>(
      [&pool, source](auto handler) {
        auto executor = asio::get_associated_executor(handler);
        auto shared = std::make_shared<decltype(handler)>(std::move(handler));
        asio::post(pool, [source, shared, executor] {
          source->Next([shared, executor](std::string chunk, bool more) {
            asio::post(executor, [shared, chunk = std::move(chunk), more]() mutable {
              (*shared)(std::move(chunk), more);
            });
          });
        });
      },
      asio::use_awaitable);
}

template <class Stream>
asio::awaitable<void> Serve(Server::Impl& impl, Stream& stream, std::string remote, bool tls) {
  beast::flat_buffer buffer;
  bool first = true;
  for (;;) {
    bhttp::request_parser<bhttp::string_body> parser;
    parser.header_limit(
        static_cast<uint32_t>(impl.options.max_header_bytes + impl.options.max_target_bytes));
    parser.body_limit(impl.options.max_body_bytes);
    beast::get_lowest_layer(stream).expires_after(first ? impl.options.header_timeout
                                                        : impl.options.idle_timeout);
    first = false;
    auto [ec, n] = co_await bhttp::async_read_header(stream, buffer, parser,
                                                     asio::as_tuple(asio::use_awaitable));
    if (ec == bhttp::error::end_of_stream || ec == asio::error::eof ||
        ec == beast::error::timeout || ec == asio::error::operation_aborted ||
        ec == asio::error::connection_reset) {
      co_return;
    }
    if (ec) {
      co_await WriteProblem(stream, StatusForParseError(ec), "malformed or oversized request");
      co_return;
    }
    auto started = std::chrono::steady_clock::now();
    const auto& header = parser.get();
    if (!HasUnambiguousFraming(header, header.version())) {
      co_await WriteProblem(stream, 400, "only a single Transfer-Encoding: chunked is accepted");
      co_return;
    }
    if (header.target().size() > impl.options.max_target_bytes) {
      co_await WriteProblem(stream, 414, "request target too long");
      co_return;
    }
    size_t header_bytes = 0;
    for (const auto& f : header) header_bytes += f.name_string().size() + f.value().size() + 4;
    if (header_bytes > impl.options.max_header_bytes) {
      co_await WriteProblem(stream, 431, "request headers too large");
      co_return;
    }
    if (!parser.is_done()) {
      beast::get_lowest_layer(stream).expires_after(std::chrono::seconds(60));
      auto [ec2, n2] =
          co_await bhttp::async_read(stream, buffer, parser, asio::as_tuple(asio::use_awaitable));
      if (ec2) {
        if (ec2 == bhttp::error::body_limit) {
          co_await WriteProblem(stream, 413, "request body too large");
        }
        co_return;
      }
    }
    auto breq = parser.release();
    beast::get_lowest_layer(stream).expires_never();

    Request req;
    req.method = std::string(breq.method_string());
    req.target = std::string(breq.target());
    req.remote_address = remote;
    req.tls = tls;
    for (const auto& f : breq) {
      std::string name(f.name_string());
      for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      req.headers.emplace_back(std::move(name), std::string(f.value()));
    }
    req.body = std::move(breq.body());
    std::string_view target(req.target);
    auto qpos = target.find('?');
    Response resp;
    auto path = PercentDecode(target.substr(0, qpos));
    if (!path) {
      resp = Problem(400, path.error().message);
    } else {
      req.path = std::move(*path);
      if (qpos != std::string_view::npos) {
        auto q = ParseQuery(target.substr(qpos + 1));
        if (!q) {
          resp = Problem(400, q.error().message);
        } else {
          req.query = std::move(*q);
        }
      }
    }
    impl.in_flight.fetch_add(1);
    if (resp.status == 200) {
      // One match; a route's fast path (a cache hit) answers here, anything else may block and
      // runs on the blocking pool.
      Router::Routed routed = impl.router->Find(req);
      std::optional<Response> fast = impl.router->RunFast(routed, req);
      if (fast) {
        resp = std::move(*fast);
      } else if (routed.route == nullptr) {
        resp = std::move(routed.answer);
      } else {
        resp = co_await OnPool(impl.blocking, [&] { return impl.router->Run(routed, req); });
      }
    }
    bool keep_alive = breq.keep_alive() && !impl.stopping.load() && !resp.stream;
    bool head = req.method == "HEAD";
    size_t bytes = resp.Body().size();
    bool ok = true;
    if (resp.stream && !head) {
      std::shared_ptr<StreamSource> source = resp.stream;
      {
        std::lock_guard lock(impl.mu);
        impl.streams.insert(source);
      }
      impl.open_streams.fetch_add(1);
      impl.in_flight.fetch_sub(1);  // a stream is long-lived: do not hold shutdown for it
      if (impl.stopping.load()) source->Close();
      bhttp::response<bhttp::empty_body> res{static_cast<bhttp::status>(resp.status),
                                             breq.version()};
      for (const auto& [k, v] : resp.headers) res.insert(k, v);
      res.set(bhttp::field::server, "aitelemetry");
      res.chunked(true);
      res.keep_alive(false);
      bhttp::response_serializer<bhttp::empty_body> sr{res};
      beast::get_lowest_layer(stream).expires_after(impl.options.stream_write_timeout);
      auto [wec, wn] =
          co_await bhttp::async_write_header(stream, sr, asio::as_tuple(asio::use_awaitable));
      ok = !wec;
      while (ok) {
        auto [chunk, more] = co_await NextChunk(impl.blocking, source);
        if (!chunk.empty()) {
          bytes += chunk.size();
          // A reader slower than this for one chunk is dropped (the source caps what it queues).
          beast::get_lowest_layer(stream).expires_after(impl.options.stream_write_timeout);
          auto [cec, cn] = co_await asio::async_write(
              stream, bhttp::make_chunk(asio::buffer(chunk)), asio::as_tuple(asio::use_awaitable));
          if (cec) ok = false;
        }
        if (!more) break;
      }
      source->Close();
      if (ok) {
        beast::get_lowest_layer(stream).expires_after(impl.options.stream_write_timeout);
        co_await asio::async_write(stream, bhttp::make_chunk_last(),
                                   asio::as_tuple(asio::use_awaitable));
      }
      {
        std::lock_guard lock(impl.mu);
        impl.streams.erase(source);
      }
      impl.open_streams.fetch_sub(1);
      keep_alive = false;
    } else {
      auto res = ToBeast(resp, breq.version(), keep_alive, head);
      auto [wec, wn] =
          co_await bhttp::async_write(stream, res, asio::as_tuple(asio::use_awaitable));
      impl.in_flight.fetch_sub(1);
      ok = !wec;
    }
    double ms =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started)
            .count();
    spdlog::info("access method={} path={} status={} bytes={} duration_ms={:.3f} remote={}",
                 req.method, req.path, resp.status, bytes, ms, remote);
    if (!ok || !keep_alive) break;
  }
  beast::error_code ignored;
  beast::get_lowest_layer(stream).socket().shutdown(tcp::socket::shutdown_send, ignored);
}

asio::awaitable<void> Session(Server::Impl& impl, tcp::socket socket) {
  beast::error_code ec;
  auto ep = socket.remote_endpoint(ec);
  std::string remote = ec ? "unknown" : ep.address().to_string();
  try {
    if (impl.ssl) {
      beast::ssl_stream<beast::tcp_stream> stream(std::move(socket), *impl.ssl);
      beast::get_lowest_layer(stream).expires_after(impl.options.header_timeout);
      auto [hec] = co_await stream.async_handshake(asio::ssl::stream_base::server,
                                                   asio::as_tuple(asio::use_awaitable));
      if (hec) co_return;
      co_await Serve(impl, stream, remote, true);
    } else {
      beast::tcp_stream stream(std::move(socket));
      co_await Serve(impl, stream, remote, false);
    }
  } catch (const std::exception& e) {
    spdlog::warn("connection from {} ended: {}", remote, e.what());
  }
}

asio::awaitable<void> Accept(Server::Impl& impl) {
  for (;;) {
    auto [ec, socket] = co_await impl.acceptor.async_accept(asio::as_tuple(asio::use_awaitable));
    if (ec) {
      if (impl.stopping.load() || !impl.acceptor.is_open()) co_return;
      continue;
    }
    socket.set_option(tcp::no_delay(true), ec);
    asio::co_spawn(impl.ioc, Session(impl, std::move(socket)), asio::detached);
  }
}

asio::awaitable<void> Drain(Server::Impl& impl) {
  auto deadline = std::chrono::steady_clock::now() + impl.options.shutdown_grace;
  asio::steady_timer timer(impl.ioc);
  while ((impl.in_flight.load() > 0 || impl.open_streams.load() > 0) &&
         std::chrono::steady_clock::now() < deadline) {
    timer.expires_after(std::chrono::milliseconds(20));
    co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
  }
  impl.ioc.stop();
}

void BeginStop(Server::Impl& impl) {
  if (impl.stopping.exchange(true)) return;
  spdlog::info("shutting down: draining {} in-flight request(s)", impl.in_flight.load());
  beast::error_code ec;
  impl.acceptor.close(ec);
  impl.signals.cancel(ec);
  std::vector<std::function<void()>> hooks;
  {
    std::lock_guard lock(impl.mu);
    hooks = impl.on_shutdown;
  }
  for (auto& h : hooks) h();
  std::vector<std::shared_ptr<StreamSource>> streams;
  {
    std::lock_guard lock(impl.mu);
    streams.assign(impl.streams.begin(), impl.streams.end());
  }
  for (auto& source : streams) source->Close();
  asio::co_spawn(impl.ioc, Drain(impl), asio::detached);
}

Result<tcp::endpoint> ParseListen(const std::string& listen) {
  auto colon = listen.rfind(':');
  if (colon == std::string::npos) {
    return Fail(ErrorCode::kInvalidArgument,
                fmt::format("listen: \"{}\" is not HOST:PORT", listen));
  }
  std::string host = listen.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']')
    host = host.substr(1, host.size() - 2);
  if (host.empty() || host == "*") host = "0.0.0.0";
  if (host == "localhost") host = "127.0.0.1";
  int port = -1;
  try {
    size_t used = 0;
    port = std::stoi(listen.substr(colon + 1), &used);
    if (used != listen.size() - colon - 1) port = -1;
  } catch (...) {
    port = -1;
  }
  if (port < 0 || port > 65535) {
    return Fail(ErrorCode::kInvalidArgument, fmt::format("listen: bad port in \"{}\"", listen));
  }
  beast::error_code ec;
  auto addr = asio::ip::make_address(host, ec);
  if (ec) {
    return Fail(ErrorCode::kInvalidArgument,
                fmt::format("listen: \"{}\" is not an IP address", host));
  }
  return tcp::endpoint(addr, static_cast<unsigned short>(port));
}

}  // namespace

Server::Server(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Server::~Server() = default;

Result<std::unique_ptr<Server>> Server::Create(ServerOptions options,
                                               std::shared_ptr<const Router> router) {
  auto ep = ParseListen(options.listen);
  if (!ep) return Fail(ep.error());
  int cores = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  if (options.threads <= 0) options.threads = cores;
  if (options.blocking_threads <= 0) options.blocking_threads = std::max(4, 2 * options.threads);
  auto impl = std::make_unique<Impl>(options, std::move(router), options.blocking_threads);
  if (!options.tls_cert_file.empty() || !options.tls_key_file.empty()) {
    if (options.tls_cert_file.empty() || options.tls_key_file.empty()) {
      return Fail(ErrorCode::kInvalidArgument, "tls: both cert_file and key_file are needed");
    }
    impl->ssl.emplace(asio::ssl::context::tls_server);
    impl->ssl->set_options(asio::ssl::context::default_workarounds | asio::ssl::context::no_sslv2 |
                           asio::ssl::context::no_sslv3 | asio::ssl::context::no_tlsv1 |
                           asio::ssl::context::no_tlsv1_1);
    beast::error_code ec;
    impl->ssl->use_certificate_chain_file(options.tls_cert_file, ec);
    if (ec) {
      return Fail(ErrorCode::kInvalidArgument, fmt::format("tls.cert_file: cannot use {}: {}",
                                                           options.tls_cert_file, ec.message()));
    }
    impl->ssl->use_private_key_file(options.tls_key_file, asio::ssl::context::pem, ec);
    if (ec) {
      return Fail(ErrorCode::kInvalidArgument, fmt::format("tls.key_file: cannot use {}: {}",
                                                           options.tls_key_file, ec.message()));
    }
  }
  beast::error_code ec;
  impl->acceptor.open(ep->protocol(), ec);
  if (!ec) impl->acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) impl->acceptor.bind(*ep, ec);
  if (!ec) impl->acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    return Fail(ErrorCode::kUnavailable,
                fmt::format("listen: cannot bind {}: {}", options.listen, ec.message()));
  }
  return std::unique_ptr<Server>(new Server(std::move(impl)));
}

int Server::port() const { return impl_->acceptor.local_endpoint().port(); }

void Server::OnShutdown(std::function<void()> fn) {
  std::lock_guard lock(impl_->mu);
  impl_->on_shutdown.push_back(std::move(fn));
}

void Server::Stop() {
  asio::post(impl_->ioc, [impl = impl_.get()] { BeginStop(*impl); });
}

void Server::Run(bool handle_signals) {
  Impl& impl = *impl_;
  if (handle_signals) {
    impl.signals.add(SIGINT);
    impl.signals.add(SIGTERM);
    impl.signals.async_wait([&impl](const beast::error_code& ec, int sig) {
      if (ec) return;
      spdlog::info("received signal {}", sig);
      BeginStop(impl);
    });
  }
  asio::co_spawn(impl.ioc, Accept(impl), asio::detached);
  std::vector<std::thread> threads;
  for (int i = 1; i < impl.options.threads; ++i) threads.emplace_back([&impl] { impl.ioc.run(); });
  impl.ioc.run();
  for (auto& t : threads) t.join();
  impl.blocking.join();
}

}  // namespace aitelemetry::http
