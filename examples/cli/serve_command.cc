// hymir serve: the search pipeline over HTTP, with a search page
// (examples/serve/search_service.h lists the routes).
#include <httplib.h>
#include <poll.h>
#include <signal.h>
#include <sys/resource.h>
#include <unistd.h>

#include <hymir/live_pipeline.h>
#include <hymir/pipeline.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <string>
#include <thread>

#include "commands.h"
#include "common/app.h"
#include "common/recorded.h"
#include "serve/http_server.h"
#include "serve/search_service.h"

namespace hymir::cli {
namespace {

int g_stop_pipe[2] = {-1, -1};

void OnStopSignal(int) {
  const char byte = 1;
  [[maybe_unused]] ssize_t n = ::write(g_stop_pipe[1], &byte, 1);
}

struct ServeFlags {
  PipelineOptions pipeline;  // --index, --kg, --rerank, --rerank-depth
  std::string host = "127.0.0.1";
  int port = 8080;
  size_t max_k = 1000;
  int threads = 0;
  bool quiet = false;
  int reload_ms = 250;       // --reload-interval: how often to look for a new commit (0: never)
  bool recorded = false;     // --recorded: the KG and model <index>/pipeline.json names
  bool depth_given = false;  // --rerank-depth was given (it wins over the record)
  serve::ServerOptions http;
};

int RunServe(const ServeFlags& flags) {
  PipelineOptions pipeline_options = flags.pipeline;
  if (flags.recorded) {
    if (Status s = app::ApplyRecorded(&pipeline_options, flags.depth_given); !s.ok()) return app::Fail("serve", s);
  }
  LiveOptions live_options;
  live_options.poll_interval = std::chrono::milliseconds(flags.reload_ms);
  if (!flags.quiet) {
    live_options.on_reload = [](uint64_t generation, const Status& s) {
      if (s.ok()) {
        std::fprintf(stderr, "hymir serve: now serving commit %llu\n", static_cast<unsigned long long>(generation));
      } else {
        std::fprintf(stderr, "hymir serve: cannot open the new commit (still serving %llu): %s\n",
                     static_cast<unsigned long long>(generation), s.ToString().c_str());
      }
    };
  }
  auto live_or = LivePipeline::Open(pipeline_options, live_options);
  if (!live_or.ok()) return app::Fail("serve", live_or.status());
  const LivePipeline& live = **live_or;
  const std::shared_ptr<const Pipeline> first = live.Current();
  const Pipeline& pipeline = *first;
  serve::ServiceOptions options;
  options.max_k = flags.max_k;
  serve::SearchService service(live, options);

  serve::ServerOptions http = flags.http;
  if (flags.threads > 0) http.min_threads = static_cast<size_t>(flags.threads);
  http.max_threads = std::max(http.max_threads, http.min_threads);
  // Each open connection is a descriptor: the soft limit (often 1,024) must
  // not refuse connections below --max-connections, so raise it to the hard one.
  rlimit files{};
  if (::getrlimit(RLIMIT_NOFILE, &files) == 0 && files.rlim_cur < files.rlim_max) {
    files.rlim_cur = files.rlim_max;
    ::setrlimit(RLIMIT_NOFILE, &files);
  }
  if (::getrlimit(RLIMIT_NOFILE, &files) == 0 && files.rlim_cur != RLIM_INFINITY &&
      files.rlim_cur < http.max_connections + 64) {
    std::fprintf(stderr,
                 "hymir serve: warning: %llu open files allowed (ulimit -n), fewer than --max-connections %zu + 64\n",
                 static_cast<unsigned long long>(files.rlim_cur), http.max_connections);
  }
  serve::HttpServer server(http);
  // SO_REUSEADDR only: httplib's default adds SO_REUSEPORT, with which a
  // second server on a taken port would start and share its connections.
  server.set_socket_options([](socket_t sock) {
    int yes = 1;
    ::setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
  });
  // Small JSON replies must not wait for Nagle + delayed ACK: without this a
  // keep-alive search took ~47 ms instead of ~3.4 (hymir-serve-bench).
  server.set_tcp_nodelay(true);
  if (!flags.quiet) {
    server.set_logger([](const httplib::Request& req, const httplib::Response& res) {
      std::fprintf(stderr, "%s %s %d\n", req.method.c_str(), req.target.c_str(), res.status);
    });
  }
  service.Mount(server);
  const int port = server.Bind(flags.host, flags.port);
  if (port < 0 && flags.port != 0) {
    return app::Fail("serve", Status::IOError("cannot listen on " + flags.host + ":" + std::to_string(flags.port) +
                                              " (in use, or not an address of this machine)"));
  }
  if (port < 0) return app::Fail("serve", Status::IOError("cannot listen on " + flags.host + " (any port)"));
  std::printf("hymir serve: %llu documents%s%s; listening on http://%s:%d/\n",
              static_cast<unsigned long long>(pipeline.engine().searcher().NumDocs()),
              pipeline.reranker() ? ", MoE re-ranking" : "", pipeline.kg() ? ", KG expansion" : "", flags.host.c_str(),
              port);
  std::fflush(stdout);

  // SIGINT/SIGTERM stop the server: the handler (which may run on any
  // thread, including the libraries' own) only writes to a pipe; the main
  // thread polls it and calls stop(). The accept loop runs on a thread of
  // its own with both signals blocked, as do the connection threads it
  // starts (they inherit its mask), so the signal goes to the main thread.
  // ThreadSanitizer holds a signal back until the interrupted call returns,
  // unless it counts the call as blocking (poll and condition waits, not
  // accept or read in gcc 12's runtime): with the handler due on a thread in
  // accept() or read(), the server stopped only at the next connection.
  if (::pipe(g_stop_pipe) != 0) return app::Fail("serve", Status::IOError("cannot create the stop pipe"));
  struct sigaction action {};
  action.sa_handler = OnStopSignal;
  sigemptyset(&action.sa_mask);
  action.sa_flags = SA_RESTART;
  sigaction(SIGINT, &action, nullptr);
  sigaction(SIGTERM, &action, nullptr);
  std::atomic<bool> done{false};
  bool clean = false;
  std::thread listener([&] {
    sigset_t stop_signals;
    sigemptyset(&stop_signals);
    sigaddset(&stop_signals, SIGINT);
    sigaddset(&stop_signals, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
    clean = server.listen_after_bind();
    done = true;
    OnStopSignal(0);  // wakes the main thread when the server ended on its own
  });
  pollfd stop_pipe{g_stop_pipe[0], POLLIN, 0};
  while (::poll(&stop_pipe, 1, -1) < 0 && errno == EINTR) {
  }
  // A signal before the accept loop started must not be lost.
  while (!done && !server.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  server.stop();
  listener.join();
  signal(SIGINT, SIG_DFL);
  signal(SIGTERM, SIG_DFL);
  if (!clean) return app::Fail("serve", Status::IOError("the server stopped on an error"));
  // What the run looked like (the latencies are the server's own: from a
  // request's arrival to its handler, and in the handler).
  const serve::ServerStats st = server.stats();
  auto q = [](const serve::ServerStats::Quantiles& x) {
    char buf[96];
    std::snprintf(buf, sizeof buf, "p50 %.1f, p90 %.1f, p99 %.1f, max %.1f ms", x.p50, x.p90, x.p99, x.max);
    return std::string(buf);
  };
  std::fprintf(
      stderr,
      "hymir serve: %llu requests on %llu connections (%llu refused); at most %zu connections, %zu "
      "threads, %zu requests waiting at once; %llu to %llu handlers started per second\n"
      "hymir serve: arrival to handler: %s; of which waiting for a slot: %s; handler: %s; slot hand-over: %s\n",
      static_cast<unsigned long long>(st.requests), static_cast<unsigned long long>(st.connections),
      static_cast<unsigned long long>(st.refused + st.refused_per_ip), st.peak_connections, st.peak_threads,
      st.peak_waiting, static_cast<unsigned long long>(st.fewest_per_second),
      static_cast<unsigned long long>(st.most_per_second), q(st.queued).c_str(), q(st.gate).c_str(),
      q(st.handler).c_str(), q(st.handoff).c_str());
  std::fprintf(stderr, "hymir serve: stopped\n");
  return app::kExitOk;
}

}  // namespace

void AddServeCommand(CLI::App& app, int* exit_code) {
  auto flags = std::make_shared<ServeFlags>();
  CLI::App* cmd = app.add_subcommand("serve", "Serve an index over HTTP: a search page on / and a JSON API");
  cmd->add_option("--index", flags->pipeline.index_dir, "Index directory")->required()->check(CLI::ExistingDirectory);
  cmd->add_option("--host", flags->host, "Address to listen on")->capture_default_str();
  cmd->add_option("--port", flags->port, "Port (0: any free port, printed at start)")
      ->check(CLI::Range(0, 65535))
      ->capture_default_str();
  cmd->add_option("--rerank", flags->pipeline.rerank_model, "Re-rank with this MoE model (from `hymir train`)")
      ->check(CLI::ExistingFile);
  CLI::Option* depth_opt =
      cmd->add_option("--rerank-depth", flags->pipeline.rerank_depth, "Candidates re-ranked per query")
          ->check(CLI::Range(1, 100000))
          ->capture_default_str();
  cmd->add_flag("--recorded", flags->recorded,
                "Also open what the index records in <index>/pipeline.json (the KG of `hymir index --kg`, the model "
                "of `hymir train/pretrain --record`); --kg, --rerank and --rerank-depth win over it");
  cmd->add_option("--kg", flags->pipeline.kg_dir,
                  "Knowledge graph directory: KG query expansion (and KG features for --rerank)")
      ->check(CLI::ExistingDirectory);
  cmd->add_option("--max-k", flags->max_k, "Largest offset + k a request may ask for")
      ->check(CLI::Range(1, 100000))
      ->capture_default_str();
  cmd->add_option("--threads", flags->threads,
                  "Request threads kept when idle (default 4; more start, one per "
                  "open connection, up to --max-threads)")
      ->check(CLI::Range(0, 1024));
  cmd->add_option("--max-threads", flags->http.max_threads,
                  "Most request threads at once (one per open connection; connections beyond, up to "
                  "--max-connections, wait for one)")
      ->check(CLI::Range(1, 65536))
      ->capture_default_str();
  cmd->add_option("--read-timeout", flags->http.read_timeout_s, "Seconds a read on a connection may wait")
      ->check(CLI::Range(1, 3600))
      ->capture_default_str();
  cmd->add_option("--request-timeout", flags->http.request_timeout_s,
                  "Seconds a request (line, headers, body) may take to arrive from its first byte")
      ->check(CLI::Range(1, 3600))
      ->capture_default_str();
  cmd->add_option("--max-active", flags->http.max_active_requests,
                  "Requests searched at once; the rest wait in arrival order (0: the number of cores)")
      ->check(CLI::Range(0, 65536))
      ->capture_default_str();
  cmd->add_option("--max-connections", flags->http.max_connections,
                  "Open connections served at once; more get 503 and are closed")
      ->check(CLI::Range(1, 1000000))
      ->capture_default_str();
  cmd->add_option("--max-connections-per-ip", flags->http.max_connections_per_ip,
                  "Open connections from one client address at once; more get 503 and are closed (0: no cap)")
      ->check(CLI::Range(0, 1000000))
      ->capture_default_str();
  cmd->add_option("--write-timeout", flags->http.write_timeout_s, "Seconds a write on a connection may wait")
      ->check(CLI::Range(1, 3600))
      ->capture_default_str();
  cmd->add_option("--keep-alive-timeout", flags->http.keep_alive_timeout_s,
                  "Seconds an idle keep-alive connection stays open")
      ->check(CLI::Range(0, 3600))
      ->capture_default_str();
  cmd->add_option("--keep-alive-max", flags->http.keep_alive_max_requests,
                  "Requests served on one keep-alive connection before it is closed")
      ->check(CLI::Range(1, 1000000))
      ->capture_default_str();
  cmd->add_option("--max-body", flags->http.max_payload_bytes, "Largest request body in bytes (larger: 413)")
      ->check(CLI::Range(0, 1 << 30))
      ->capture_default_str();
  cmd->add_option("--reload-interval", flags->reload_ms,
                  "Milliseconds between checks for a new commit of the index, which is then served without a "
                  "restart (0: serve the commit of the start only)")
      ->check(CLI::Range(0, 3600000))
      ->capture_default_str();
  cmd->add_flag("--quiet", flags->quiet, "Do not log requests or reloads to stderr");
  cmd->callback([flags, exit_code, depth_opt] {
    flags->depth_given = depth_opt->count() > 0;
    *exit_code = RunServe(*flags);
  });
}

}  // namespace hymir::cli
