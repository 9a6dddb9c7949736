// The HTTP search service (examples/serve) over real HTTP on loopback: its
// answers equal the library's, bad parameters are named, concurrent
// requests agree, and re-ranking keeps every stage.
#include "serve/search_service.h"

#include <arpa/inet.h>
#include <poll.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>
#include <httplib.h>
#include <omp.h>

#include <nlohmann/json.hpp>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <thread>

#include "hymir/features.h"
#include "hymir/ranking/moe_model.h"
#include "serve/http_server.h"
#include "tests/index/lucene/index_fixture.h"

namespace hymir {
namespace {

using nlohmann::json;
using testing::TempDir;

std::vector<Document> Corpus() {
  std::vector<Document> docs;
  for (int i = 0; i < 40; ++i) {
    std::string text = i % 2 ? "apple pie recipe with cinnamon" : "apple tart and more words about baking bread";
    if (i % 5 == 0) text += " pear";
    docs.push_back(testing::Doc("d" + std::to_string(i), "title " + std::to_string(i), text, i % 3 ? "x" : "y"));
  }
  // Long text for the snippet, with multi-byte characters near the cut.
  std::string long_text;
  for (int i = 0; i < 120; ++i) long_text += "plum\xC3\xA9t\xC3\xA9 ";
  docs.push_back(testing::Doc("long", "", long_text, "x"));
  return docs;
}

class ServeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_OK(testing::BuildIndex(dir_.path(), Corpus()));
    ASSERT_OK_AND_ASSIGN(engine_, Engine::Open(dir_.path()));
  }
  void TearDown() override { Stop(); }

  // Starts a server for a service over the engine (and `reranker`); with
  // `http`, configured as `hymir serve` configures it.
  void Start(const Reranker* reranker = nullptr, const serve::ServerOptions* http = nullptr) {
    serve::ServiceOptions o;
    o.max_k = 50;
    service_ = std::make_unique<serve::SearchService>(*engine_, reranker, nullptr, o);
    if (http) {
      auto s = std::make_unique<serve::HttpServer>(*http);
      port_ = s->Bind("127.0.0.1", 0);
      server_ = std::move(s);
    } else {
      server_ = std::make_unique<httplib::Server>();
      server_->new_task_queue = [] { return new httplib::ThreadPool(4); };
      port_ = server_->bind_to_any_port("127.0.0.1");
    }
    service_->Mount(*server_);
    ASSERT_GT(port_, 0);
    thread_ = std::thread([this] { server_->listen_after_bind(); });
    while (!server_->is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  void Stop() {
    if (server_) server_->stop();
    if (thread_.joinable()) thread_.join();
  }

  struct Got {
    int status = 0;
    json body;
    std::string content_type;
  };
  Got Get(const std::string& target) const {
    httplib::Client client("127.0.0.1", port_);
    auto res = client.Get(target.c_str());
    if (!res) return {};
    Got g{res->status, json(), res->get_header_value("Content-Type")};
    if (g.content_type.rfind("application/json", 0) == 0)
      g.body = json::parse(res->body);
    else
      g.body = res->body;
    return g;
  }

  TempDir dir_;
  std::unique_ptr<Engine> engine_;
  // A test's reranker, which the service points to: a member, so that it
  // outlives the server (TearDown stops it and joins its threads).
  std::unique_ptr<Reranker> reranker_;
  std::unique_ptr<serve::SearchService> service_;
  std::unique_ptr<httplib::Server> server_;
  std::thread thread_;
  int port_ = 0;
};

// The hits of the engine for `text` with k/offset, as (id, rank, score).
std::vector<std::tuple<std::string, uint32_t, double>> EngineHits(const Engine& e, const std::string& text, size_t k,
                                                                  size_t offset = 0,
                                                                  std::vector<index::FieldFilter> filters = {}) {
  HybridQuery q;
  q.text = text;
  q.k = k;
  q.offset = offset;
  q.filters = std::move(filters);
  auto hits = e.Search(q);
  EXPECT_TRUE(hits.ok()) << hits.status().ToString();
  std::vector<std::tuple<std::string, uint32_t, double>> out;
  if (hits.ok())
    for (const auto& h : *hits) out.emplace_back(h.id, h.rank, h.score);
  return out;
}

std::vector<std::tuple<std::string, uint32_t, double>> ServedHits(const json& body) {
  std::vector<std::tuple<std::string, uint32_t, double>> out;
  for (const auto& h : body["hits"]) out.emplace_back(h["id"], h["rank"], h["score"]);
  return out;
}

TEST_F(ServeTest, SearchAnswersWhatTheEngineAnswers) {
  Start();
  Got g = Get("/api/search?q=pear%20apple&k=5");
  ASSERT_EQ(g.status, 200) << g.body;
  EXPECT_EQ(ServedHits(g.body), EngineHits(*engine_, "pear apple", 5));
  EXPECT_EQ(g.body["retriever"], "bm25");
  EXPECT_EQ(g.body["reranked"], false);
  EXPECT_FALSE(g.body.contains("routing"));
  ASSERT_EQ(g.body["hits"].size(), 5u);
  for (const auto& h : g.body["hits"]) {
    EXPECT_TRUE(h["stages"]["bm25"].is_object()) << h;
    EXPECT_TRUE(h["stages"]["rerank"].is_null()) << h;
    EXPECT_EQ(h["title"], "title " + h["id"].get<std::string>().substr(1));
    EXPECT_NE(h["snippet"].get<std::string>().find("pear"), std::string::npos) << h;
  }
  // Pages come out of the same ranking.
  Got page = Get("/api/search?q=pear%20apple&k=4&offset=3");
  ASSERT_EQ(page.status, 200);
  EXPECT_EQ(ServedHits(page.body), EngineHits(*engine_, "pear apple", 4, 3));
  EXPECT_EQ(std::get<1>(ServedHits(page.body).front()), 4u);
}

TEST_F(ServeTest, FiltersRestrictAndRepeatAsEitherValue) {
  Start();
  Got g = Get("/api/search?q=apple&k=50&filter=domain:y");
  ASSERT_EQ(g.status, 200) << g.body;
  EXPECT_EQ(ServedHits(g.body), EngineHits(*engine_, "apple", 50, 0, {{"domain", {"y"}}}));
  EXPECT_EQ(g.body["hits"].size(), 14u);  // i % 3 == 0 for i < 40
  for (const auto& h : g.body["hits"]) EXPECT_EQ(h["domain"], "y");
  Got both = Get("/api/search?q=apple&k=50&filter=domain:y&filter=domain:x");
  ASSERT_EQ(both.status, 200);
  EXPECT_EQ(both.body["hits"].size(), 40u);
}

TEST_F(ServeTest, QueryLanguageSyntaxAndExactTotals) {
  Start();
  Got plain = Get("/api/search?q=apple&k=3&total=1");
  ASSERT_EQ(plain.status, 200) << plain.body;
  EXPECT_EQ(plain.body["syntax"], "plain");
  EXPECT_EQ(plain.body["total"], 40u);  // every document has "apple"
  Got filtered = Get("/api/search?q=%2Bapple%20-domain%3Ay&k=50&syntax=lucene&total=1");
  ASSERT_EQ(filtered.status, 200) << filtered.body;
  EXPECT_EQ(filtered.body["syntax"], "lucene");
  EXPECT_EQ(filtered.body["total"], 26u);  // 40 less the 14 in domain y
  for (const auto& h : filtered.body["hits"]) EXPECT_NE(h["domain"], "y");
  Got bad = Get("/api/search?q=apple%20AND%20(pear&syntax=lucene");
  EXPECT_EQ(bad.status, 400);
  EXPECT_NE(bad.body["error"].get<std::string>().find("syntax error at column 16"), std::string::npos) << bad.body;
  Got unknown = Get("/api/search?q=apple&syntax=sql");
  EXPECT_EQ(unknown.status, 400);
  EXPECT_NE(unknown.body["error"].get<std::string>().find("parameter syntax"), std::string::npos) << unknown.body;
}

TEST_F(ServeTest, BadRequestsAreNamedInJson) {
  Start();
  struct Case {
    std::string target;
    int status;
    std::string mentions;
  };
  const std::vector<Case> cases = {
      {"/api/search", 400, "parameter q"},
      {"/api/search?q=%20%20", 400, "parameter q"},
      {"/api/search?q=apple&k=0", 400, "k=0"},
      {"/api/search?q=apple&k=abc", 400, "k=\"abc\""},
      {"/api/search?q=apple&k=-3", 400, "k=\"-3\""},
      {"/api/search?q=apple&k=51", 400, "[1, 50]"},
      {"/api/search?q=apple&k=10&offset=45", 400, "exceeds"},
      {"/api/search?q=apple&k=1&k=2", 400, "more than once"},
      {"/api/search?q=apple&retriever=bogus", 400, "retriever"},
      {"/api/search?q=apple&filter=nocolon", 400, "FIELD:VALUE"},
      {"/api/search?q=apple&filter=bogus:x", 400, "bogus"},
      {"/api/search?q=apple&rerank=1", 400, "--rerank"},
      {"/api/search?q=apple&expand=1", 400, "--kg"},
      {"/api/search?q=apple&explain=maybe", 400, "explain"},
      {"/api/doc", 400, "parameter id"},
      {"/api/doc?id=nope", 404, "nope"},
      {"/no/such/path", 404, "/no/such/path"},
  };
  for (const Case& c : cases) {
    Got g = Get(c.target);
    EXPECT_EQ(g.status, c.status) << c.target << " " << g.body;
    ASSERT_TRUE(g.body.is_object() && g.body.contains("error")) << c.target << " " << g.body;
    EXPECT_NE(g.body["error"].get<std::string>().find(c.mentions), std::string::npos) << c.target << " " << g.body;
  }
  httplib::Client client("127.0.0.1", port_);
  auto post = client.Post("/api/search?q=apple", "", "text/plain");
  ASSERT_TRUE(post);
  EXPECT_EQ(post->status, 405);
  EXPECT_NE(post->body.find("GET"), std::string::npos) << post->body;
}

TEST_F(ServeTest, DocumentsInfoAndThePage) {
  Start();
  Got d = Get("/api/doc?id=d3");
  ASSERT_EQ(d.status, 200) << d.body;
  EXPECT_EQ(d.body["title"], "title 3");
  EXPECT_EQ(d.body["text"], "apple pie recipe with cinnamon");
  EXPECT_EQ(d.body["domain"], "y");

  Got info = Get("/api/info");
  ASSERT_EQ(info.status, 200);
  EXPECT_EQ(info.body["documents"], engine_->searcher().NumDocs());
  EXPECT_EQ(info.body["documents"], 41u);
  EXPECT_TRUE(info.body["reranker"].is_null());
  EXPECT_EQ(info.body["limits"]["max_k"], 50u);

  Got page = Get("/");
  ASSERT_EQ(page.status, 200);
  EXPECT_EQ(page.content_type.rfind("text/html", 0), 0u) << page.content_type;
  const std::string html = page.body.get<std::string>();
  EXPECT_NE(html.find("<form"), std::string::npos);
  EXPECT_NE(html.find("/api/search?"), std::string::npos);
  EXPECT_NE(html.find("/api/doc?id="), std::string::npos);
}

// A hit whose stored text is damaged is a 500 with a JSON error naming the
// .fdt file, not a hit with an empty title and snippet.
TEST_F(ServeTest, DamagedStoredTextOfAHitIsA500) {
  Start();
  std::string fdt, fdx;
  for (const auto& e : std::filesystem::directory_iterator(dir_.path() + "/text")) {
    const std::string n = e.path().string();
    if (n.size() > 4 && n.compare(n.size() - 4, 4, ".fdt") == 0) fdt = n;
    if (n.size() > 4 && n.compare(n.size() - 4, 4, ".fdx") == 0) fdx = n;
  }
  ASSERT_FALSE(fdt.empty());
  std::ifstream in(fdx, std::ios::binary);
  const std::string index((std::istreambuf_iterator<char>(in)), {});
  // The last document ("long"): from its .fdx pointer to the end of .fdt.
  ASSERT_GE(index.size(), 12u);
  uint64_t begin = 0;
  for (size_t i = index.size() - 8; i < index.size(); ++i) begin = begin << 8 | static_cast<unsigned char>(index[i]);
  const uint64_t end = std::filesystem::file_size(fdt);
  ASSERT_LT(begin + 20, end);
  {  // in place, under the open engine (whose open-time checks passed)
    std::fstream f(fdt, std::ios::in | std::ios::out | std::ios::binary);
    f.seekg(static_cast<std::streamoff>((begin + end) / 2));
    char c = 0;
    f.read(&c, 1);
    c = static_cast<char>(c ^ 0x10);
    f.seekp(static_cast<std::streamoff>((begin + end) / 2));
    f.write(&c, 1);
  }
  Got g = Get("/api/search?q=plum%C3%A9t%C3%A9&k=1");
  EXPECT_EQ(g.status, 500) << g.body.dump();
  ASSERT_TRUE(g.body.is_object()) << g.body.dump();
  EXPECT_NE(g.body.dump().find(".fdt"), std::string::npos) << g.body.dump();
  EXPECT_EQ(Get("/api/doc?id=long").status, 500);
  EXPECT_EQ(Get("/api/search?q=pear&k=3").status, 200);  // other documents still answer
}

TEST_F(ServeTest, SnippetsAreShortenedOnCharacterBoundaries) {
  Start();
  Got g = Get("/api/search?q=plum%C3%A9t%C3%A9&k=1");
  ASSERT_EQ(g.status, 200) << g.body;  // the reply parsed, so it is valid UTF-8
  ASSERT_EQ(g.body["hits"].size(), 1u);
  ASSERT_OK_AND_ASSIGN(Document doc, engine_->searcher().GetDocument("long"));
  const std::string snippet = g.body["hits"][0]["snippet"];
  const std::string ellipsis = "\xE2\x80\xA6";
  ASSERT_GT(snippet.size(), ellipsis.size());
  EXPECT_EQ(snippet.substr(snippet.size() - ellipsis.size()), ellipsis);
  const std::string head = snippet.substr(0, snippet.size() - ellipsis.size());
  EXPECT_LE(head.size(), serve::ServiceOptions().snippet_chars);
  EXPECT_EQ(doc.text.compare(0, head.size(), head), 0);
  EXPECT_LT(head.size(), doc.text.size());
}

TEST_F(ServeTest, ConcurrentRequestsGetTheSerialAnswers) {
  Start();
  const std::vector<std::string> targets = {"/api/search?q=apple&k=7", "/api/search?q=pear&k=3",
                                            "/api/search?q=cinnamon%20bread&k=10", "/api/search?q=apple&k=5&offset=5",
                                            "/api/doc?id=d7"};
  std::vector<json> expected;
  for (const auto& t : targets) {
    Got g = Get(t);
    ASSERT_EQ(g.status, 200) << t;
    if (g.body.contains("took_ms")) g.body.erase("took_ms");
    expected.push_back(g.body);
  }
  std::atomic<int> mismatches{0}, failures{0};
  std::vector<std::thread> clients;
  for (int c = 0; c < 4; ++c) {
    clients.emplace_back([&, c] {
      for (int i = 0; i < 25; ++i) {
        const size_t t = (c + i) % targets.size();
        Got g = Get(targets[t]);
        if (g.status != 200) {
          ++failures;
          continue;
        }
        if (g.body.contains("took_ms")) g.body.erase("took_ms");
        if (g.body != expected[t]) ++mismatches;
      }
    });
  }
  for (auto& t : clients) t.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(mismatches.load(), 0);
}

TEST_F(ServeTest, RerankingKeepsEveryStageAndExplains) {
  ASSERT_OK_AND_ASSIGN(auto features, FeatureExtractor::Create(*engine_, {}));
  ranking::MoeConfig config;  // E=8, top-2, S=1, with random weights
  ASSERT_OK_AND_ASSIGN(auto model, ranking::MoeModel::Create(config, features->schema(), 7));
  ASSERT_OK_AND_ASSIGN(reranker_, Reranker::Create(*engine_, model));
  Start(reranker_.get());

  Got g = Get("/api/search?q=apple%20pear&k=6&explain=1");
  ASSERT_EQ(g.status, 200) << g.body;
  EXPECT_EQ(g.body["reranked"], true);
  EXPECT_EQ(g.body["routing"]["experts"].size(), static_cast<size_t>(config.top_k));
  HybridQuery q;
  q.text = "apple pear";
  q.k = 6;
  ASSERT_OK_AND_ASSIGN(auto direct, reranker_->Search(q));
  ASSERT_EQ(g.body["hits"].size(), direct.hits.size());
  double previous = std::numeric_limits<double>::infinity();
  for (size_t i = 0; i < direct.hits.size(); ++i) {
    const json& h = g.body["hits"][i];
    EXPECT_EQ(h["id"], direct.hits[i].id);
    ASSERT_TRUE(h["stages"]["rerank"].is_object()) << h;
    EXPECT_EQ(h["stages"]["rerank"]["rank"], i + 1);
    const double score = h["stages"]["rerank"]["score"];
    EXPECT_LE(score, previous);
    previous = score;
    EXPECT_TRUE(h["stages"]["fused"].is_object());
    ASSERT_TRUE(h.contains("moe")) << h;
    EXPECT_EQ(h["moe"]["experts"].size(), static_cast<size_t>(config.top_k));
    EXPECT_EQ(h["moe"]["shared"].size(), static_cast<size_t>(config.shared_experts));
    EXPECT_FALSE(h["moe"]["top_features"].empty());
  }
  // rerank=0 answers with the retrieval ranking; the info names the model.
  Got plain = Get("/api/search?q=apple%20pear&k=6&rerank=0");
  ASSERT_EQ(plain.status, 200);
  EXPECT_EQ(ServedHits(plain.body), EngineHits(*engine_, "apple pear", 6));
  Got info = Get("/api/info");
  EXPECT_EQ(info.body["reranker"]["routed_experts"], config.routed_experts);
}

// A raw TCP connection to the server (for what httplib's client cannot send).
int Connect(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

// Sends `bytes` and returns the status line of the answer ("" if none).
std::string RawStatusLine(int port, const std::string& bytes) {
  int fd = Connect(port);
  if (fd < 0) return "";
  size_t sent = 0;
  while (sent < bytes.size()) {
    ssize_t n = ::send(fd, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) break;
    sent += static_cast<size_t>(n);
  }
  timeval tv{20, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  std::string got;
  char buf[512];
  while (got.find("\r\n") == std::string::npos) {
    ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) break;
    got.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  return got.substr(0, got.find("\r\n"));
}

// Idle keep-alive and slow-loris connections each hold a worker
// for as long as the read timeout; with the elastic pool they cannot starve
// the service (before: 4 workers, so 40 idle connections blocked every
// request until their timeouts). The client gives up long before the
// server's 30 s read timeout would free a worker.
TEST_F(ServeTest, IdleAndSlowConnectionsDoNotStarveRequests) {
  serve::ServerOptions http;
  http.read_timeout_s = 30;
  http.keep_alive_timeout_s = 30;
  http.min_threads = 2;
  Start(nullptr, &http);
  std::vector<int> idle;
  for (int i = 0; i < 40; ++i) idle.push_back(Connect(port_));
  for (int i = 0; i < 2; ++i) {  // slow loris: a request that never ends
    int fd = Connect(port_);
    const std::string part = "GET /api/info HTTP/1.1\r\nHost: x\r\n";
    ASSERT_EQ(::send(fd, part.data(), part.size(), MSG_NOSIGNAL), static_cast<ssize_t>(part.size()));
    idle.push_back(fd);
  }
  httplib::Client client("127.0.0.1", port_);
  client.set_connection_timeout(10, 0);
  client.set_read_timeout(10, 0);
  auto res = client.Get("/api/search?q=apple");
  ASSERT_TRUE(res) << "no answer while idle connections are open: " << httplib::to_string(res.error());
  EXPECT_EQ(res->status, 200);
  for (int fd : idle) ::close(fd);
}

// Oversized and malformed requests get 414 / 400 (before: the
// error handler turned them into "405 method  is not allowed").
TEST_F(ServeTest, OversizedAndMalformedRequestsAreRefused) {
  serve::ServerOptions http;
  Start(nullptr, &http);
  const std::string huge = "GET /api/search?q=" + std::string(100 << 10, 'a') + " HTTP/1.1\r\nHost: x\r\n\r\n";
  EXPECT_EQ(RawStatusLine(port_, huge).substr(0, 12), "HTTP/1.1 414") << RawStatusLine(port_, huge);
  const std::string garbage = "\x01\x02 garbage garbage\r\n\r\n";
  EXPECT_EQ(RawStatusLine(port_, garbage).substr(0, 12), "HTTP/1.1 400") << RawStatusLine(port_, garbage);
  // And the service still answers.
  Got g = Get("/api/search?q=apple");
  EXPECT_EQ(g.status, 200);
}

// Reads HTTP responses from `fd` until `want` whole ones (by Content-Length)
// arrived, the peer closed, or `timeout_ms` passed. Sets *closed when the
// peer closed the connection.
struct RawResponse {
  int status = 0;
  std::map<std::string, std::string> headers;  // lower-case names
  std::string body;
};
std::vector<RawResponse> ReadResponses(int fd, size_t want, int timeout_ms, bool* closed) {
  std::vector<RawResponse> out;
  std::string buf;
  *closed = false;
  const auto end = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (out.size() < want || want == 0) {
    // Parse what is complete.
    const size_t head_end = buf.find("\r\n\r\n");
    if (head_end != std::string::npos) {
      RawResponse r;
      std::istringstream head(buf.substr(0, head_end));
      std::string line;
      std::getline(head, line);
      if (line.size() >= 12) r.status = std::atoi(line.c_str() + 9);
      while (std::getline(head, line)) {
        if (!line.empty() && line.back() == '\r') line.pop_back();
        const size_t colon = line.find(':');
        if (colon == std::string::npos) continue;
        std::string name = line.substr(0, colon);
        for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        r.headers[name] = line.substr(line.find_first_not_of(' ', colon + 1));
      }
      const size_t len = std::strtoull(r.headers["content-length"].c_str(), nullptr, 10);
      if (buf.size() >= head_end + 4 + len) {
        r.body = buf.substr(head_end + 4, len);
        buf.erase(0, head_end + 4 + len);
        out.push_back(std::move(r));
        continue;
      }
    }
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(end - std::chrono::steady_clock::now());
    if (left.count() <= 0) break;
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) break;
    char chunk[4096];
    const ssize_t n = ::recv(fd, chunk, sizeof chunk, 0);
    if (n <= 0) {
      *closed = true;
      break;
    }
    buf.append(chunk, static_cast<size_t>(n));
  }
  return out;
}

bool SendAll(int fd, const std::string& bytes) {
  size_t sent = 0;
  while (sent < bytes.size()) {
    const ssize_t n = ::send(fd, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) return false;
    sent += static_cast<size_t>(n);
  }
  return true;
}

// Pipelined requests (several sent before the first answer) are
// answered in order on the connection, at once (before: cpp-httplib 0.11.4
// answered the first, dropped the rest it had read, and the connection hung
// until the keep-alive timeout). A pipelined request with `Connection:
// close` is answered and then the connection is closed.
TEST_F(ServeTest, PipelinedRequestsAreAnsweredInOrder) {
  serve::ServerOptions http;
  http.keep_alive_timeout_s = 30;
  Start(nullptr, &http);
  const int fd = Connect(port_);
  ASSERT_GE(fd, 0);
  std::string batch;
  const std::vector<std::string> targets = {"/api/search?q=apple&k=3", "/api/doc?id=d7",
                                            "/api/search?q=pear&k=2",  "/api/info",
                                            "/api/doc?id=nope",        "/api/search?q=apple&k=abc"};
  for (const std::string& t : targets) batch += "GET " + t + " HTTP/1.1\r\nHost: x\r\n\r\n";
  const auto start = std::chrono::steady_clock::now();
  ASSERT_TRUE(SendAll(fd, batch));
  bool closed = false;
  auto got = ReadResponses(fd, targets.size(), 3000, &closed);
  const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  ASSERT_EQ(got.size(), targets.size()) << "closed " << closed << " after " << ms << " ms";
  EXPECT_LT(ms, 2000) << "pipelined answers must not wait for a timeout";
  for (size_t i = 0; i < targets.size(); ++i) {
    const Got alone = Get(targets[i]);  // the same request on its own connection
    EXPECT_EQ(got[i].status, alone.status) << targets[i];
    const json body = json::parse(got[i].body);
    if (body.contains("hits")) {
      EXPECT_EQ(body["hits"], alone.body["hits"]) << targets[i];
    } else {
      EXPECT_EQ(body, alone.body) << targets[i];
    }
  }
  // Each answer is the answer to its own request.
  EXPECT_EQ(json::parse(got[0].body)["query"], "apple");
  EXPECT_EQ(json::parse(got[1].body)["id"], "d7");
  EXPECT_EQ(json::parse(got[2].body)["query"], "pear");
  EXPECT_EQ(got[4].status, 404);
  EXPECT_EQ(got[5].status, 400);
  // Still open: two more, the second asking to close.
  ASSERT_TRUE(SendAll(fd,
                      "GET /api/doc?id=d1 HTTP/1.1\r\nHost: x\r\n\r\nGET /api/doc?id=d2 HTTP/1.1\r\nHost: x\r\n"
                      "Connection: close\r\n\r\nGET /api/doc?id=d3 HTTP/1.1\r\nHost: x\r\n\r\n"));
  got = ReadResponses(fd, 0, 3000, &closed);
  ASSERT_EQ(got.size(), 2u) << "nothing after the request that asked to close";
  EXPECT_EQ(json::parse(got[0].body)["id"], "d1");
  EXPECT_EQ(json::parse(got[1].body)["id"], "d2");
  EXPECT_EQ(got[1].headers["connection"], "close");
  EXPECT_TRUE(closed) << "the connection is closed after Connection: close";
  ::close(fd);
}

// Beyond max_connections open connections a new one gets 503 with
// `Connection: close` at once (before: it queued behind the others for as
// long as they stayed open), and is served again once one closes.
TEST_F(ServeTest, ConnectionsBeyondTheCapAreRefusedAtOnce) {
  serve::ServerOptions http;
  http.max_connections = 3;
  http.keep_alive_timeout_s = 30;
  http.read_timeout_s = 30;
  Start(nullptr, &http);
  std::vector<int> open;
  for (int i = 0; i < 3; ++i) open.push_back(Connect(port_));
  std::this_thread::sleep_for(std::chrono::milliseconds(200));  // accepted and counted
  for (int round = 0; round < 3; ++round) {
    const int fd = Connect(port_);
    ASSERT_GE(fd, 0);
    const auto start = std::chrono::steady_clock::now();
    ASSERT_TRUE(SendAll(fd, "GET /api/info HTTP/1.1\r\nHost: x\r\n\r\n"));
    bool closed = false;
    auto got = ReadResponses(fd, 1, 5000, &closed);
    const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
    ASSERT_EQ(got.size(), 1u);
    EXPECT_EQ(got[0].status, 503);
    EXPECT_EQ(got[0].headers["connection"], "close");
    EXPECT_NE(json::parse(got[0].body)["error"].get<std::string>().find("too many open connections"),
              std::string::npos);
    EXPECT_LT(ms, 1000);
    ReadResponses(fd, 1, 2000, &closed);
    EXPECT_TRUE(closed) << "a refused connection is closed";
    ::close(fd);
  }
  // The open ones still work, and a slot freed is a slot for a new client.
  ASSERT_TRUE(SendAll(open[0], "GET /api/info HTTP/1.1\r\nHost: x\r\n\r\n"));
  bool closed = false;
  auto got = ReadResponses(open[0], 1, 5000, &closed);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].status, 200);
  ::close(open[2]);
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  Got g = Get("/api/search?q=apple");
  EXPECT_EQ(g.status, 200);
  for (int fd : open) ::close(fd);
}

// A Content-Length that is not a decimal number of bytes is 400 and closes the
// connection (before: `Content-Length: -5` on a GET was answered 200), and a
// query text with a NUL byte is 400 (before: answered as the text up to it).
TEST_F(ServeTest, MalformedContentLengthAndNulInQueryAre400) {
  serve::ServerOptions http;
  Start(nullptr, &http);
  for (const char* value : {"-5", "+5", "abc", "5x", "0x10", "99999999999999999999999"}) {
    const std::string req =
        std::string("GET /api/search?q=apple HTTP/1.1\r\nHost: x\r\nContent-Length: ") + value + "\r\n\r\n";
    EXPECT_EQ(RawStatusLine(port_, req).substr(0, 12), "HTTP/1.1 400") << value << ": " << RawStatusLine(port_, req);
  }
  const std::string post = "POST /api/search?q=apple HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n";
  EXPECT_EQ(RawStatusLine(port_, post).substr(0, 12), "HTTP/1.1 400") << RawStatusLine(port_, post);
  const std::string twice =
      "GET /api/search?q=apple HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nContent-Length: 7\r\n\r\n";
  EXPECT_EQ(RawStatusLine(port_, twice).substr(0, 12), "HTTP/1.1 400") << RawStatusLine(port_, twice);
  const std::string zero = "GET /api/search?q=apple HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n";
  EXPECT_EQ(RawStatusLine(port_, zero).substr(0, 12), "HTTP/1.1 200") << RawStatusLine(port_, zero);
  Got g = Get("/api/search?q=blood%00oxygen");
  EXPECT_EQ(g.status, 400);
  EXPECT_NE(g.body.dump().find("NUL"), std::string::npos) << g.body.dump();
}

// Connects to `port` on 127.0.0.1 from the source address `from` (any
// 127.x.y.z is a loopback address on Linux).
int ConnectFrom(int port, const char* from) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in src{};
  src.sin_family = AF_INET;
  ::inet_pton(AF_INET, from, &src.sin_addr);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&src), sizeof src) != 0) {
    ::close(fd);
    return -1;
  }
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

// One client holding its cap of idle connections gets 503 for more, and
// another client is still served.
TEST_F(ServeTest, OneClientCannotTakeEveryConnection) {
  serve::ServerOptions http;
  http.max_connections_per_ip = 4;
  http.keep_alive_timeout_s = 30;
  http.read_timeout_s = 30;
  Start(nullptr, &http);
  std::vector<int> hog;
  for (int i = 0; i < 4; ++i) hog.push_back(ConnectFrom(port_, "127.0.0.2"));
  for (int fd : hog) ASSERT_GE(fd, 0);
  std::this_thread::sleep_for(std::chrono::milliseconds(200));  // accepted and counted
  for (int round = 0; round < 3; ++round) {
    const int fd = ConnectFrom(port_, "127.0.0.2");
    ASSERT_GE(fd, 0);
    ASSERT_TRUE(SendAll(fd, "GET /api/info HTTP/1.1\r\nHost: x\r\n\r\n"));
    bool closed = false;
    auto got = ReadResponses(fd, 1, 5000, &closed);
    ASSERT_EQ(got.size(), 1u);
    EXPECT_EQ(got[0].status, 503);
    EXPECT_NE(got[0].body.find("from your address"), std::string::npos) << got[0].body;
    ::close(fd);
  }
  for (int i = 0; i < 3; ++i) {
    const int fd = ConnectFrom(port_, "127.0.0.3");
    ASSERT_GE(fd, 0);
    ASSERT_TRUE(SendAll(fd, "GET /api/info HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"));
    bool closed = false;
    auto got = ReadResponses(fd, 1, 5000, &closed);
    ASSERT_EQ(got.size(), 1u);
    EXPECT_EQ(got[0].status, 200);
    ::close(fd);
  }
  // A connection closed frees its place.
  ::close(hog.back());
  hog.pop_back();
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  const int fd = ConnectFrom(port_, "127.0.0.2");
  ASSERT_TRUE(SendAll(fd, "GET /api/info HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"));
  bool closed = false;
  auto got = ReadResponses(fd, 1, 5000, &closed);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].status, 200);
  ::close(fd);
  for (int h : hog) ::close(h);
}

// A request must arrive whole within request_timeout_s of its
// first byte: a slow-loris client trickling bytes (each read well within the
// read timeout) is answered 408 (400 when cut off inside the headers, as
// cpp-httplib answers) and the connection closed, and a request over
// max_header_bytes gets 400 without being read to its end.
TEST_F(ServeTest, SlowAndHugeRequestsAreCutOff) {
  serve::ServerOptions http;
  http.request_timeout_s = 1;
  http.read_timeout_s = 30;
  http.max_header_bytes = 16 << 10;
  Start(nullptr, &http);
  const int fd = Connect(port_);
  ASSERT_GE(fd, 0);
  const auto start = std::chrono::steady_clock::now();
  const std::string part = "GET /api/info HTTP/1.1\r\nHost: x\r\n";
  bool closed = false;
  std::vector<RawResponse> got;
  for (size_t i = 0; i < part.size() && !closed && got.empty(); ++i) {
    if (!SendAll(fd, part.substr(i, 1))) break;
    got = ReadResponses(fd, 1, 150, &closed);
  }
  if (got.empty() && !closed) got = ReadResponses(fd, 1, 3000, &closed);
  const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  ASSERT_EQ(got.size(), 1u) << "closed " << closed << " after " << ms << " ms";
  EXPECT_EQ(got[0].status, 408) << "cut off in the request line";
  EXPECT_LT(ms, 3000);
  ReadResponses(fd, 1, 2000, &closed);
  EXPECT_TRUE(closed);
  ::close(fd);
  // Headers beyond max_header_bytes: 400, and the connection is closed.
  const int fd2 = Connect(port_);
  std::string big = "GET /api/info HTTP/1.1\r\nHost: x\r\n";
  for (int i = 0; i < 400; ++i) big += "X-Filler-" + std::to_string(i) + ": " + std::string(100, 'a') + "\r\n";
  big += "\r\n";
  SendAll(fd2, big);
  got = ReadResponses(fd2, 1, 5000, &closed);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].status, 400);
  ::close(fd2);
  // A body over max_payload_bytes: 413.
  const int fd3 = Connect(port_);
  SendAll(fd3, "POST /api/search HTTP/1.1\r\nHost: x\r\nContent-Length: 10000000\r\n\r\n" + std::string(1000, 'b'));
  got = ReadResponses(fd3, 1, 5000, &closed);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].status, 413);
  ::close(fd3);
  EXPECT_EQ(Get("/api/search?q=apple").status, 200);
}

// Threads of this process.
int ThreadCount() {
  int n = 0;
  for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator("/proc/self/task")) ++n;
  return n;
}

// A handler's OpenMP regions (FAISS opens one per query vector)
// run on the connection's own thread. Before, libgomp gave every connection
// thread a team of its own: one more thread per connection (515 threads at
// wrk -c 256) and, per query, a barrier waiting for a thread the scheduler
// may not run while the handler holds one of the max_active slots. Here: 16
// keep-alive connections, each answered, add at most one thread each.
TEST(HttpServerTest, HandlersOpenNoOpenMpTeamPerConnection) {
  serve::ServerOptions http;
  http.keep_alive_timeout_s = 30;
  http.read_timeout_s = 30;
  serve::HttpServer server(http);
  std::atomic<int> largest_team{0};
  server.Get("/team", [&](const httplib::Request&, httplib::Response& res) {
    int team = 0;
#pragma omp parallel
    {
#pragma omp single
      team = omp_get_num_threads();
    }
    int seen = largest_team.load();
    while (team > seen && !largest_team.compare_exchange_weak(seen, team)) {
    }
    res.set_content(std::to_string(team), "text/plain");
  });
  const int port = server.Bind("127.0.0.1", 0);
  ASSERT_GT(port, 0);
  std::thread listener([&] { server.listen_after_bind(); });
  while (!server.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  const int before = ThreadCount();
  constexpr int kConnections = 16;
  std::vector<int> fds;
  for (int i = 0; i < kConnections; ++i) {
    fds.push_back(Connect(port));
    ASSERT_GE(fds.back(), 0);
  }
  for (int round = 0; round < 2; ++round) {
    for (int fd : fds) ASSERT_TRUE(SendAll(fd, "GET /team HTTP/1.1\r\nHost: x\r\n\r\n"));
    for (int fd : fds) {
      bool closed = false;
      auto got = ReadResponses(fd, 1, 10000, &closed);
      ASSERT_EQ(got.size(), 1u) << "every connection is answered";
      EXPECT_EQ(got[0].status, 200);
      EXPECT_EQ(got[0].body, "1");
    }
  }
  const int added = ThreadCount() - before;
  EXPECT_EQ(largest_team.load(), 1) << "OpenMP team size inside a handler";
  EXPECT_LE(added, kConnections + 2) << "threads added by " << kConnections << " connections";
  for (int fd : fds) ::close(fd);
  server.stop();
  listener.join();
  const serve::ServerStats stats = server.stats();
  EXPECT_EQ(stats.requests, 2u * kConnections);
  EXPECT_EQ(stats.connections, static_cast<uint64_t>(kConnections));
  EXPECT_EQ(stats.peak_connections, static_cast<size_t>(kConnections));
}

}  // namespace
}  // namespace hymir
