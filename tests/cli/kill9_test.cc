// The looping kill -9 test: the real writers (`hymir index`,
// `hymir index` with vector fields and upserts that compact them, `hymir kg
// load`) are started and SIGKILLed at a random moment, again and again on the
// same index or KG; after each kill every commit the writer *reported* on
// stderr must have survived, the index or KG must reopen, and `hymir check
// --index` must pass. What a writer did not report may or may not be there,
// but nothing else may change: a document holds its old or its new text,
// never a mix, and every document has its own vector.
//
// Iterations per kind: $HYMIR_KILL9_ITERATIONS (default 3); the seed:
// $HYMIR_KILL9_SEED (default: the clock), printed with every kill point so a
// failure can be replayed. scripts/kill9.sh runs many iterations.
#include <gtest/gtest.h>
#include <hymir/index/index_writer.h>
#include <hymir/index/searcher.h>
#include <hymir/kg/triple_store.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cinttypes>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "tests/testutil/cli_util.h"
#include "tests/testutil/testutil.h"

extern char** environ;

namespace hymir {
namespace {

using testing::TempDir;

int Iterations() {
  const char* e = std::getenv("HYMIR_KILL9_ITERATIONS");
  return e && std::atoi(e) > 0 ? std::atoi(e) : 3;
}

uint64_t Seed() {
  const char* e = std::getenv("HYMIR_KILL9_SEED");
  if (e && *e) return std::strtoull(e, nullptr, 10);
  return static_cast<uint64_t>(std::chrono::system_clock::now().time_since_epoch().count()) % 1000000007ULL;
}

// One run of a writer: the largest count it reported after `prefix` on
// stderr, whether it was killed (or ran to the end), and how long it ran.
struct WriterRun {
  uint64_t reported = 0;
  bool killed = false;
  int exit_code = -1;
  double ms = 0;
  std::string stderr_text;
};

// Starts `args` (argv[0] a path), SIGKILLs it `kill_after_ms` after the start
// (never when < 0), and collects the last number that followed `prefix` on a
// stderr line. Lines written before the kill are read after it too.
WriterRun RunWriter(const std::vector<std::string>& args, const std::string& prefix, double kill_after_ms) {
  WriterRun r;
  int fds[2];
  if (::pipe(fds) != 0) return r;
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, fds[1], STDERR_FILENO);
  posix_spawn_file_actions_addopen(&fa, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_addclose(&fa, fds[0]);
  posix_spawn_file_actions_addclose(&fa, fds[1]);
  std::vector<char*> argv;
  for (const std::string& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  pid_t pid = -1;
  const auto start = std::chrono::steady_clock::now();
  const int rc = ::posix_spawn(&pid, argv[0], &fa, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  ::close(fds[1]);
  if (rc != 0) {
    ::close(fds[0]);
    r.stderr_text = "cannot start " + args[0] + ": " + std::strerror(rc);
    return r;
  }
  auto elapsed_ms = [&] {
    return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  };
  std::string buf;
  auto scan = [&](bool all) {  // complete lines of buf
    size_t nl;
    while ((nl = buf.find('\n')) != std::string::npos || (all && !buf.empty())) {
      std::string line = buf.substr(0, nl == std::string::npos ? buf.size() : nl);
      buf.erase(0, nl == std::string::npos ? buf.size() : nl + 1);
      r.stderr_text += line + "\n";
      if (line.rfind(prefix, 0) == 0) r.reported = std::strtoull(line.c_str() + prefix.size(), nullptr, 10);
    }
  };
  bool sent = false, eof = false;
  char chunk[4096];
  while (!eof) {
    int timeout = -1;
    if (kill_after_ms >= 0 && !sent) {
      const double left = kill_after_ms - elapsed_ms();
      if (left <= 0) {
        ::kill(pid, SIGKILL);
        sent = true;
        continue;
      }
      timeout = static_cast<int>(std::ceil(left));
    }
    pollfd p{fds[0], POLLIN, 0};
    if (::poll(&p, 1, timeout) <= 0) continue;
    ssize_t n = ::read(fds[0], chunk, sizeof(chunk));
    if (n <= 0) {
      eof = true;
      break;
    }
    buf.append(chunk, static_cast<size_t>(n));
    scan(false);
  }
  scan(true);
  ::close(fds[0]);
  int status = 0;
  ::waitpid(pid, &status, 0);
  r.ms = elapsed_ms();
  r.killed = WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL;
  if (WIFEXITED(status)) r.exit_code = WEXITSTATUS(status);
  return r;
}

// "kill at N ms" (or "never") for a run's label.
std::string KillPoint(double kill_ms) {
  return "kill at " + (kill_ms < 0 ? std::string("never") : std::to_string(static_cast<int>(kill_ms)) + " ms");
}

// Iteration 0 must finish (its length, in *full_ms, sets the range of kill
// points); a later one is killed or finishes first, counted in *kills or
// *completed. Fatal failures are the caller's to check.
void TallyRun(const WriterRun& r, int iteration, const std::string& where, double* full_ms, int* kills,
              int* completed) {
  if (iteration == 0) {
    ASSERT_EQ(r.exit_code, 0) << where << "\n" << r.stderr_text;
    *full_ms = r.ms;
  } else {
    ASSERT_TRUE(r.killed || r.exit_code == 0) << where << ": exit " << r.exit_code << "\n" << r.stderr_text;
    ++*(r.killed ? kills : completed);
  }
}

std::string Hymir() { return testing::BinDir() + "/hymir"; }

// ---------------------------------------------------------------------------
// Indexing (text, or text with vectors and upserts).

constexpr int kDim = 8;

// The vector of document `id` at generation `gen`: a pure function of both,
// so the check knows which vector goes with which text.
std::vector<float> VectorOf(const std::string& id, int gen) {
  std::mt19937 rng(static_cast<uint32_t>(std::hash<std::string>()(id) * 31 + gen));
  std::normal_distribution<float> n(0, 1);
  std::vector<float> v(kDim);
  for (float& x : v) x = std::round(n(rng) * 1000) / 1000;  // exact in JSON and float
  return v;
}

std::string TextOf(int j, int gen) {
  return "tok" + std::to_string(j) + " generation gen" + std::to_string(gen) + " filler words for document " +
         std::to_string(j) + " round " + std::to_string(gen % 7);
}

int GenOf(const std::string& text) {
  const std::string marker = " generation gen";
  const size_t at = text.find(marker);
  return at == std::string::npos ? -1 : std::atoi(text.c_str() + at + marker.size());
}

// One iteration's corpus: a random share of a pool of ids in random order,
// each with this generation's text (and vector). Returns the ids in file order.
std::vector<std::string> WriteCorpus(const std::string& path, int pool, int gen, bool vectors, std::mt19937_64& rng) {
  std::vector<int> ids(pool);
  for (int j = 0; j < pool; ++j) ids[j] = j;
  std::shuffle(ids.begin(), ids.end(), rng);
  ids.resize(static_cast<size_t>(pool * (0.6 + 0.4 * (rng() % 1000) / 1000.0)));
  std::ofstream out(path);
  std::vector<std::string> order;
  for (int j : ids) {
    const std::string id = "d" + std::to_string(j);
    order.push_back(id);
    out << "{\"_id\": \"" << id << "\", \"title\": \"title " << j << "\", \"text\": \"" << TextOf(j, gen) << "\"";
    if (vectors) {
      out << ", \"vectors\": {\"emb\": [";
      const auto v = VectorOf(id, gen);
      for (int i = 0; i < kDim; ++i) out << (i ? "," : "") << v[i];
      out << "]}";
    }
    out << "}\n";
  }
  return order;
}

// Checks the index against what the writer reported and returns its state
// (id -> generation) for the next iteration.
void CheckIndex(const std::string& dir, const std::vector<std::string>& order, uint64_t reported, int gen, bool vectors,
                std::map<std::string, int>* state, const std::string& where) {
  auto s_or = index::Searcher::Open(dir);
  if (!s_or.ok() && state->empty() && reported == 0 && s_or.status().IsNotFound()) return;  // nothing ever committed
  ASSERT_TRUE(s_or.ok()) << where << ": " << s_or.status().ToString();
  auto& s = *s_or;
  std::set<std::string> committed(order.begin(), order.begin() + std::min<size_t>(reported, order.size()));
  std::set<std::string> written(order.begin(), order.end());
  ASSERT_OK_AND_ASSIGN(auto ids, s->DocumentIds());
  std::map<std::string, int> now;
  for (const std::string& id : ids) {
    ASSERT_OK_AND_ASSIGN(Document d, s->GetDocument(id));
    const int g = GenOf(d.text);
    const int j = std::atoi(id.c_str() + 1);
    ASSERT_EQ(d.text, TextOf(j, g)) << where << ": " << id << " holds text no writer wrote";
    now[id] = g;
  }
  for (const auto& [id, old_gen] : *state) {
    if (!now.count(id)) ADD_FAILURE() << where << ": " << id << " (generation " << old_gen << ") was lost";
  }
  for (const auto& [id, g] : now) {
    auto old = state->find(id);
    const bool may_be_new = written.count(id) > 0, must_be_new = committed.count(id) > 0;
    if (must_be_new) {
      EXPECT_EQ(g, gen) << where << ": " << id << " was reported committed but holds generation " << g;
    } else if (g == gen) {
      EXPECT_TRUE(may_be_new) << where << ": " << id;
    } else {
      EXPECT_TRUE(old != state->end() && old->second == g)
          << where << ": " << id << " holds generation " << g << ", expected "
          << (old == state->end() ? std::string("nothing") : std::to_string(old->second));
    }
  }
  EXPECT_EQ(s->NumDocs(), now.size()) << where;
  // Searchable: each reported document by its own token (a sample, and the last).
  std::vector<std::string> probe;
  for (size_t i = 0; i < std::min<size_t>(reported, order.size()); i += 37) probe.push_back(order[i]);
  if (reported > 0) probe.push_back(order[std::min<size_t>(reported, order.size()) - 1]);
  for (const std::string& id : probe) {
    index::TextQuery q;
    q.text = "tok" + id.substr(1);
    q.k = 3;
    ASSERT_OK_AND_ASSIGN(auto hits, s->Search(q));
    ASSERT_FALSE(hits.empty()) << where << ": no hit for " << q.text;
    EXPECT_EQ(hits[0].id, id) << where;
  }
  if (vectors && !now.empty()) {
    // Every document has its own vector, and no vector lacks its document.
    for (const auto& [id, g] : now) {
      auto v = s->GetVector("emb", id);
      ASSERT_TRUE(v.ok()) << where << ": " << id << ": " << v.status().ToString();
      const auto want = VectorOf(id, g);
      ASSERT_EQ(v->size(), want.size()) << where << ": " << id;
      for (size_t i = 0; i < want.size(); ++i) {
        ASSERT_NEAR((*v)[i], want[i], 1e-5) << where << ": " << id << " generation " << g << " component " << i;
      }
    }
    index::VectorQuery q;
    q.field = "emb";
    q.vector = std::vector<float>(kDim, 0.25f);
    q.k = now.size() + 10;
    q.exact = true;
    ASSERT_OK_AND_ASSIGN(auto hits, s->SearchVector(q));
    EXPECT_EQ(hits.size(), now.size()) << where;
    const auto& probe_id = now.begin()->first;
    q.vector = VectorOf(probe_id, now.begin()->second);
    q.exact = false;
    q.k = 1;
    ASSERT_OK_AND_ASSIGN(hits, s->SearchVector(q));
    ASSERT_EQ(hits.size(), 1u);
    EXPECT_EQ(hits[0].id, probe_id) << where << ": ANN search";
  }
  *state = std::move(now);
}

void IndexLoop(bool vectors) {
  const uint64_t seed = Seed();
  const int iterations = Iterations();
  std::mt19937_64 rng(seed);
  TempDir tmp;
  const std::string dir = tmp.Sub("idx"), corpus = tmp.Sub("corpus.jsonl");
  const int pool = vectors ? 2000 : 3000;
  std::map<std::string, int> state;
  double full_ms = 0;
  int kills = 0, completed = 0;
  for (int it = 0; it <= iterations; ++it) {
    const int gen = it;
    const auto order = WriteCorpus(corpus, pool, gen, vectors, rng);
    const int every = 40 + static_cast<int>(rng() % 300);
    std::vector<std::string> args = {Hymir(),          "index",
                                     "--corpus",       corpus,
                                     "--index",        dir,
                                     "--commit-every", std::to_string(every),
                                     "--threads",      std::to_string(1 + it % 2)};
    if (vectors && !std::filesystem::exists(dir + "/hymir.json")) {
      args.push_back("--vector-field");
      args.push_back("emb:" + std::to_string(kDim) + ":l2:hnsw16");
    }
    // Iteration 0 runs to the end (the index exists and its length sets the
    // range of kill points); the others are killed uniformly in [0, x] (some
    // runs are shorter and finish first: upserts into a bigger index).
    const double kill_ms = it == 0 ? -1 : std::uniform_real_distribution<double>(0, full_ms)(rng);
    const std::string where = std::string(vectors ? "vectors" : "text") + " seed " + std::to_string(seed) +
                              " iteration " + std::to_string(it) + " " + KillPoint(kill_ms) + " commit every " +
                              std::to_string(every);
    WriterRun r = RunWriter(args, "hymir index: committed ", kill_ms);
    TallyRun(r, it, where, &full_ms, &kills, &completed);
    if (::testing::Test::HasFatalFailure()) return;
    std::printf("kill9 %s: reported %" PRIu64 " of %zu, %s after %.0f ms\n", where.c_str(), r.reported, order.size(),
                r.killed ? "killed" : "finished", r.ms);
    std::fflush(stdout);
    CheckIndex(dir, order, r.reported, gen, vectors, &state, where);
    if (::testing::Test::HasFatalFailure()) return;
    if (!state.empty()) {
      auto check = testing::Shell(Hymir() + " check --index " + dir);
      EXPECT_EQ(check.exit_code, 0) << where << ": hymir check\n" << check.out << check.err;
    }
    if (::testing::Test::HasFailure()) return;
  }
  std::printf("kill9 %s: %d iterations, %d killed, %d finished first, seed %" PRIu64 ": every reported commit kept\n",
              vectors ? "vectors" : "text", iterations, kills, completed, seed);
}

TEST(Kill9Test, TextIndexingKeepsEveryReportedCommit) { IndexLoop(/*vectors=*/false); }

TEST(Kill9Test, VectorIndexingAndCompactionKeepEveryReportedCommit) { IndexLoop(/*vectors=*/true); }

// ---------------------------------------------------------------------------
// KG loading.

std::string Entity(int i) { return "<http://x.org/e" + std::to_string(i) + ">"; }
std::string Relation(int i) { return "<http://x.org/r" + std::to_string(i) + ">"; }

TEST(Kill9Test, KgLoadKeepsEveryReportedBatch) {
  const uint64_t seed = Seed();
  const int iterations = Iterations();
  std::mt19937_64 rng(seed ^ 0x9e3779b97f4a7c15ULL);
  TempDir tmp;
  const std::string kg = tmp.Sub("kg"), nt = tmp.Sub("triples.nt");
  std::set<std::tuple<std::string, std::string, std::string>> durable;  // every reported triple so far
  double full_ms = 0;
  int kills = 0, completed = 0;
  for (int it = 0; it <= iterations; ++it) {
    // Each iteration loads new triples (and some already loaded, as reloads do).
    std::vector<std::tuple<std::string, std::string, std::string>> lines;
    {
      std::ofstream out(nt);
      for (int i = 0; i < 20000; ++i) {
        const int s = static_cast<int>(rng() % 5000) + (i % 3 == 0 ? 0 : it * 5000);
        std::tuple<std::string, std::string, std::string> t{Entity(s), Relation(static_cast<int>(rng() % 12)),
                                                            Entity(static_cast<int>(rng() % 20000))};
        out << std::get<0>(t) << " " << std::get<1>(t) << " " << std::get<2>(t) << " .\n";
        lines.push_back(t);
      }
    }
    const int batch = 200 + static_cast<int>(rng() % 1800);
    // Reopening after a kill replays RocksDB's log, so later runs start
    // slower than the first: kill points over [0, 1.5 x] the first run.
    const double kill_ms = it == 0 ? -1 : std::uniform_real_distribution<double>(0, 1.5 * full_ms)(rng);
    const std::string where = "kg seed " + std::to_string(seed) + " iteration " + std::to_string(it) + " " +
                              KillPoint(kill_ms) + " batch " + std::to_string(batch);
    WriterRun r =
        RunWriter({Hymir(), "kg", "load", "--kg", kg, "--ntriples", nt, "--batch-size", std::to_string(batch)},
                  "hymir kg load: committed ", kill_ms);
    TallyRun(r, it, where, &full_ms, &kills, &completed);
    if (::testing::Test::HasFatalFailure()) return;
    std::printf("kill9 %s: reported %" PRIu64 " of %zu lines, %s after %.0f ms\n", where.c_str(), r.reported,
                lines.size(), r.killed ? "killed" : "finished", r.ms);
    std::fflush(stdout);
    for (size_t i = 0; i < std::min<size_t>(r.reported, lines.size()); ++i) durable.insert(lines[i]);
    if (durable.empty() && !std::filesystem::exists(kg + "/CURRENT")) continue;
    kg::TripleStoreOptions o;
    o.create_if_missing = false;
    o.read_only = true;
    auto store_or = kg::TripleStore::Open(kg, o);
    ASSERT_TRUE(store_or.ok()) << where << ": " << store_or.status().ToString();
    auto& store = *store_or;
    ASSERT_OK_AND_ASSIGN(auto all, store->Match(kg::TriplePattern{}));
    ASSERT_OK_AND_ASSIGN(uint64_t count, store->Count());
    EXPECT_EQ(count, all.size()) << where;
    std::set<std::tuple<std::string, std::string, std::string>> have;
    for (const kg::Triple& t : all) have.insert({t.subject, t.relation, t.object});
    size_t missing = 0;
    for (const auto& t : durable) missing += have.count(t) == 0;
    EXPECT_EQ(missing, 0u) << where << ": reported triples missing";
    // The other two orderings hold them too (a sample).
    size_t n = 0;
    for (const auto& [s, p, o_] : durable) {
      if (++n % 97) continue;
      kg::TriplePattern by_p, by_o;
      by_p.relation = p;
      by_p.object = o_;
      by_o.object = o_;
      ASSERT_OK_AND_ASSIGN(auto a, store->Match(by_p));
      ASSERT_OK_AND_ASSIGN(auto b, store->Match(by_o));
      auto holds = [&](const std::vector<kg::Triple>& ts) {
        for (const kg::Triple& t : ts) {
          if (t.subject == s && t.relation == p && t.object == o_) return true;
        }
        return false;
      };
      EXPECT_TRUE(holds(a) && holds(b)) << where << ": " << s << " " << p << " " << o_ << " missing from an ordering";
    }
    if (::testing::Test::HasFailure()) return;
  }
  std::printf("kill9 kg: %d iterations, %d killed, %d finished first, seed %" PRIu64 ": every reported batch kept\n",
              iterations, kills, completed, seed);
}

}  // namespace
}  // namespace hymir
