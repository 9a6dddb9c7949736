// hymir-kg-bench: the knowledge-graph module end to end, with a plain RocksDB
// baseline from the same run (a benchmark program, not a test).
//
//   (a) bulk load: WordNet through hymir::kg::LoadWordNet (parse + write),
//       then the same triples through TripleStore::AddBatch into a fresh
//       store, vs the same keys (dictionary term2id/id2term, SPO/POS/OSP,
//       alias lookup, same column-family options) written with plain RocksDB
//       WriteBatch puts and an in-memory dictionary. Generated triples when
//       WordNet is absent (or with --synthetic N).
//   (b) Neighbors (1 hop, both directions) and Expand (1 and 2 hops) p50/p99
//       on the loaded store after reopening it.
//   (c) TransE training time and tail link prediction (MRR, Hits@10) on a
//       holdout, trained vs random vectors.
//
//   build/bin/hymir-kg-bench [--wordnet /usr/share/wordnet] [--synthetic N]
//       [--batch 20000] [--queries 1000] [--dim 64] [--epochs 20]
//       [--holdout 0.01] [--threads 1] [--no-embed] [--work DIR]
//
// Links RocksDB directly only for the baseline, which writes the store's key
// format as docs/format.md documents it (knowledge graph) and
// is then opened through the public TripleStore to check that it holds the
// same triples (so the two contenders write the same keys).
#include <hymir/kg/kg_embeddings.h>
#include <hymir/kg/loader.h>
#include <hymir/kg/triple_store.h>
#include <rocksdb/db.h>
#include <rocksdb/filter_policy.h>
#include <rocksdb/slice_transform.h>
#include <rocksdb/table.h>
#include <rocksdb/write_batch.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <random>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
using hymir::kg::Triple;

double Since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

int Fail(const std::string& what, const hymir::Status& s) {
  std::fprintf(stderr, "hymir-kg-bench: %s: %s\n", what.c_str(), s.ToString().c_str());
  return 1;
}

// A graph shaped loosely like WordNet: a hypernym tree plus random typed
// links, and one alias per entity.
std::vector<Triple> Generate(size_t n_triples, uint64_t seed) {
  std::mt19937_64 rng(seed);
  const size_t entities = std::max<size_t>(16, n_triples / 4);
  auto e = [](size_t i) { return "gen:e" + std::to_string(i); };
  const char* rels[] = {"gen:part_of", "gen:similar_to", "gen:derivation", "gen:member_of"};
  std::vector<Triple> out;
  out.reserve(n_triples);
  for (size_t i = 1; i < entities && out.size() < n_triples; ++i) {
    out.push_back({e(i), "gen:hypernym", e(rng() % i)});
    out.push_back({e(i), std::string(hymir::kg::kAliasRelation), "label " + std::to_string(i)});
  }
  while (out.size() < n_triples) out.push_back({e(rng() % entities), rels[rng() % 4], e(rng() % entities)});
  return out;
}

// The triple store's documented key format (docs/format.md, knowledge graph):
// column families, counters and 8-byte big-endian ids; a 24-byte key per
// triple ordering.
namespace layout {
constexpr const char* kFormatKey = "hymir:kg:format";
constexpr const char* kCountKey = "hymir:kg:count";
constexpr const char* kNextIdKey = "hymir:kg:next_id";
constexpr const char* kCfs[] = {"default", "term2id", "id2term", "spo", "pos", "osp", "alias"};
constexpr size_t kIdBytes = 8;
std::string EncodeId(uint64_t id) {
  std::string s(kIdBytes, '\0');
  for (int i = 7; i >= 0; --i, id >>= 8) s[i] = static_cast<char>(id & 0xff);
  return s;
}
std::string EncodeKey(uint64_t a, uint64_t b, uint64_t c) { return EncodeId(a) + EncodeId(b) + EncodeId(c); }
}  // namespace layout

// The baseline: the store's keys written with plain WriteBatch puts, ids from
// an in-memory map (no dictionary reads, no existence checks).
struct PlainLoad {
  double write_seconds = 0;
  double close_seconds = 0;
};

hymir::Result<PlainLoad> PlainRocksLoad(const std::string& dir, const std::vector<Triple>& triples, size_t batch_size) {
  namespace in = layout;
  rocksdb::BlockBasedTableOptions table;
  table.block_cache = rocksdb::NewLRUCache(64u << 20);
  table.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10));
  rocksdb::ColumnFamilyOptions plain;
  plain.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table));
  rocksdb::ColumnFamilyOptions ordered = plain;
  ordered.prefix_extractor.reset(rocksdb::NewFixedPrefixTransform(in::kIdBytes));
  ordered.memtable_prefix_bloom_size_ratio = 0.05;
  rocksdb::DBOptions db_options;
  db_options.create_if_missing = true;
  db_options.create_missing_column_families = true;
  db_options.max_background_jobs = 2;
  std::vector<rocksdb::ColumnFamilyDescriptor> cfs;
  for (const char* name : in::kCfs) {
    const std::string_view n(name);
    cfs.emplace_back(name, n == "spo" || n == "pos" || n == "osp" ? ordered : plain);
  }
  std::vector<rocksdb::ColumnFamilyHandle*> h;
  rocksdb::DB* raw = nullptr;
  rocksdb::Status s = rocksdb::DB::Open(db_options, dir, cfs, &h, &raw);
  if (!s.ok()) return hymir::Status::IOError(dir + ": " + s.ToString());
  s = raw->Put(rocksdb::WriteOptions(), h[0], in::kFormatKey, std::to_string(hymir::kg::kFormatVersion));
  if (!s.ok()) return hymir::Status::IOError(dir + ": " + s.ToString());
  PlainLoad out;
  const auto start = Clock::now();
  std::unordered_map<std::string, uint64_t> ids;
  uint64_t next = 1;
  rocksdb::WriteBatch batch;
  auto id_of = [&](const std::string& term) {
    auto [it, fresh] = ids.emplace(term, next);
    if (fresh) {
      batch.Put(h[1], term, in::EncodeId(next));
      batch.Put(h[2], in::EncodeId(next), term);
      ++next;
    }
    return it->second;
  };
  for (size_t i = 0; i < triples.size(); ++i) {
    const Triple& t = triples[i];
    const uint64_t a = id_of(t.subject), p = id_of(t.relation), o = id_of(t.object);
    batch.Put(h[3], in::EncodeKey(a, p, o), rocksdb::Slice());
    batch.Put(h[4], in::EncodeKey(p, o, a), rocksdb::Slice());
    batch.Put(h[5], in::EncodeKey(o, a, p), rocksdb::Slice());
    if (t.relation == hymir::kg::kAliasRelation) {
      std::string key = hymir::kg::NormalizeAlias(t.object);
      key.push_back('\0');
      key += in::EncodeId(a);
      batch.Put(h[6], key, rocksdb::Slice());
    }
    if ((i + 1) % batch_size == 0 || i + 1 == triples.size()) {
      batch.Put(h[0], in::kCountKey, in::EncodeId(i + 1));
      batch.Put(h[0], in::kNextIdKey, in::EncodeId(next));
      s = raw->Write(rocksdb::WriteOptions(), &batch);
      if (!s.ok()) return hymir::Status::IOError(dir + ": " + s.ToString());
      batch.Clear();
    }
  }
  out.write_seconds = Since(start);
  const auto close_start = Clock::now();
  for (auto* cf : h) raw->DestroyColumnFamilyHandle(cf);
  delete raw;
  out.close_seconds = Since(close_start);
  return out;
}

struct Percentiles {
  double p50_us = 0, p99_us = 0, mean_results = 0;
};

Percentiles Summarise(std::vector<double>& us, double results) {
  Percentiles p;
  if (us.empty()) return p;
  std::sort(us.begin(), us.end());
  p.p50_us = us[us.size() / 2];
  p.p99_us = us[std::min(us.size() - 1, static_cast<size_t>(0.99 * static_cast<double>(us.size())))];
  p.mean_results = results / static_cast<double>(us.size());
  return p;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"hymir-kg-bench: KG bulk load vs plain RocksDB, neighbour latency, TransE link prediction"};
  std::string wordnet = "/usr/share/wordnet", work;
  size_t synthetic = 0, batch = 20000, queries = 1000;
  int dim = 64, epochs = 20, threads = 1;
  double holdout = 0.01;
  bool no_embed = false;
  app.add_option("--wordnet", wordnet, "WordNet database directory (default /usr/share/wordnet)");
  app.add_option("--synthetic", synthetic, "Use N generated triples instead of WordNet");
  app.add_option("--batch", batch, "Triples per atomic write (default 20000)")->check(CLI::Range(1, 10000000));
  app.add_option("--queries", queries, "Neighbour queries per measurement (default 1000)");
  app.add_option("--dim", dim, "TransE dimension (default 64)");
  app.add_option("--epochs", epochs, "TransE epochs (default 20)");
  app.add_option("--holdout", holdout, "TransE held-out fraction (default 0.01)");
  app.add_option("--threads", threads, "TransE threads (default 1)");
  app.add_flag("--no-embed", no_embed, "Skip (c) TransE");
  app.add_option("--work", work, "Work directory (default: a temp dir, removed)");
  CLI11_PARSE(app, argc, argv);
  std::setvbuf(stdout, nullptr, _IOLBF, 0);  // progress lines show up when piped

  std::string cmdline;
  for (int i = 0; i < argc; ++i) cmdline += (i ? " " : "") + std::string(argv[i]);
  const bool keep = !work.empty();
  if (work.empty()) work = (fs::temp_directory_path() / ("hymir-kg-bench-" + std::to_string(::getpid()))).string();
  fs::remove_all(work);
  fs::create_directories(work);
  const bool use_wordnet = synthetic == 0 && fs::exists(wordnet + "/data.noun");
  std::printf("# %s\n", cmdline.c_str());
  std::printf("hymir-kg info cores=%u source=%s batch=%zu work=%s\n", std::thread::hardware_concurrency(),
              use_wordnet ? wordnet.c_str() : "generated", batch, work.c_str());

  // ---- (a) bulk load ----
  const std::string kg_a = work + "/kg_loader";
  std::vector<Triple> triples;
  hymir::kg::LoadOptions load_options;
  load_options.batch_size = batch;
  {
    auto store = hymir::kg::TripleStore::Open(kg_a);
    if (!store.ok()) return Fail("open " + kg_a, store.status());
    if (use_wordnet) {
      const auto t0 = Clock::now();
      auto stats = hymir::kg::LoadWordNet(**store, wordnet, load_options);
      if (!stats.ok()) return Fail("LoadWordNet", stats.status());
      const double secs = Since(t0);
      std::printf("hymir-kg load_wordnet synsets=%llu triples=%llu added=%llu seconds=%.2f triples_per_s=%.0f\n",
                  static_cast<unsigned long long>(stats->entities), static_cast<unsigned long long>(stats->triples),
                  static_cast<unsigned long long>(stats->added), secs, stats->triples / secs);
      auto all = (*store)->Match(hymir::kg::TriplePattern{}, 0);
      if (!all.ok()) return Fail("Match", all.status());
      triples = std::move(*all);
    } else {
      triples = Generate(synthetic ? synthetic : 500000, 1);
      size_t added = 0;
      for (size_t i = 0; i < triples.size(); i += batch) {
        std::span<const Triple> span(triples.data() + i, std::min(batch, triples.size() - i));
        size_t a = 0;
        hymir::Status s = (*store)->AddBatch(span, &a);
        if (!s.ok()) return Fail("AddBatch", s);
        added += a;
      }
      std::printf("hymir-kg generated triples=%zu distinct=%zu\n", triples.size(), added);
    }
  }
  size_t aliases = 0;
  for (const Triple& t : triples) aliases += t.relation == hymir::kg::kAliasRelation;
  // Both contenders get the same triples in the same order: first as read back
  // from the store (SPO id order, close to the source order), then shuffled.
  std::vector<Triple> shuffled = triples;
  std::shuffle(shuffled.begin(), shuffled.end(), std::mt19937_64(3));
  for (const auto& [order, input] : {std::pair{"store_order", &triples}, std::pair{"shuffled", &shuffled}}) {
    const std::string kg_b = work + "/kg_addbatch_" + order, kg_plain = work + "/plain_" + order;
    double hymir_write = 0, hymir_close = 0;
    {
      auto store = hymir::kg::TripleStore::Open(kg_b);
      if (!store.ok()) return Fail("open " + kg_b, store.status());
      const auto t0 = Clock::now();
      for (size_t i = 0; i < input->size(); i += batch) {
        std::span<const Triple> span(input->data() + i, std::min(batch, input->size() - i));
        hymir::Status s = (*store)->AddBatch(span);
        if (!s.ok()) return Fail("AddBatch", s);
      }
      hymir_write = Since(t0);
      const auto t1 = Clock::now();
      store->reset();
      hymir_close = Since(t1);
    }
    auto plain = PlainRocksLoad(kg_plain, *input, batch);
    if (!plain.ok()) return Fail("plain RocksDB load", plain.status());
    {  // the baseline wrote the store's format: TripleStore reads its triples back
      auto check = hymir::kg::TripleStore::Open(kg_plain);
      if (!check.ok()) return Fail("open the plain RocksDB store as a TripleStore", check.status());
      auto count = (*check)->Count();
      auto first = input->empty() ? hymir::Result<bool>(true) : (*check)->Exists(input->front());
      if (!count.ok() || *count != input->size() || !first.ok() || !*first)
        return Fail("plain RocksDB store", hymir::Status::Internal("does not read back as the same triples: the "
                                                                   "baseline's key format differs from the store's"));
    }
    const double n = static_cast<double>(input->size());
    const double hymir_total = hymir_write + hymir_close, plain_total = plain->write_seconds + plain->close_seconds;
    std::printf("hymir-kg load %s addbatch triples=%zu (aliases %zu) seconds=%.2f (+close %.2f) triples_per_s=%.0f\n",
                order, input->size(), aliases, hymir_write, hymir_close, n / hymir_total);
    std::printf(
        "hymir-kg load %s plain_rocksdb_writebatch triples=%zu seconds=%.2f (+close %.2f) "
        "triples_per_s=%.0f\n",
        order, input->size(), plain->write_seconds, plain->close_seconds, n / plain_total);
    std::printf("hymir-kg load %s ratio addbatch/plain throughput=%.2f\n", order, plain_total / hymir_total);
    fs::remove_all(kg_b);
    fs::remove_all(kg_plain);
  }

  // ---- (b) neighbour latency on the reopened loader store ----
  auto opened = hymir::kg::TripleStore::Open(kg_a);
  if (!opened.ok()) return Fail("reopen " + kg_a, opened.status());
  const hymir::kg::TripleStore& store = **opened;
  std::vector<std::string> starts;
  {
    std::mt19937_64 rng(11);
    std::vector<const Triple*> edges;
    for (const Triple& t : triples) {
      if (t.relation != hymir::kg::kAliasRelation) edges.push_back(&t);
    }
    for (size_t i = 0; i < queries && !edges.empty(); ++i) starts.push_back(edges[rng() % edges.size()]->subject);
  }
  auto time_queries = [&](const char* what, auto&& query) -> int {
    std::vector<double> us;
    double results = 0;
    for (const std::string& s : starts) {
      const auto t0 = Clock::now();
      auto r = query(s);
      us.push_back(Since(t0) * 1e6);
      if (!r.ok()) return Fail(what, r.status());
      results += static_cast<double>(r->size());
    }
    Percentiles p = Summarise(us, results);
    std::printf("hymir-kg latency %s queries=%zu p50_us=%.1f p99_us=%.1f mean_results=%.1f\n", what, us.size(),
                p.p50_us, p.p99_us, p.mean_results);
    return 0;
  };
  hymir::kg::ExpandOptions one, two;
  one.max_hops = 1;
  two.max_hops = 2;
  if (time_queries(
          "neighbors_1hop_both",
          [&](const std::string& s) { return store.Neighbors(s, std::nullopt, hymir::kg::Direction::kBoth); }) != 0 ||
      time_queries("expand_1hop", [&](const std::string& s) { return store.Expand(s, one); }) != 0 ||
      time_queries("expand_2hop", [&](const std::string& s) { return store.Expand(s, two); }) != 0) {
    return 1;
  }

  // ---- (c) TransE ----
  if (!no_embed) {
    hymir::kg::TransEOptions o;
    o.dim = dim;
    o.epochs = epochs;
    o.holdout_fraction = holdout;
    o.threads = threads;
    o.progress = [](int epoch, double loss) { std::printf("hymir-kg transe epoch=%d loss=%.4f\n", epoch, loss); };
    hymir::kg::LinkPredictionReport r;
    auto emb = hymir::kg::KgEmbeddings::Train(store, o, &r);
    if (!emb.ok()) return Fail("TransE", emb.status());
    std::printf(
        "hymir-kg transe dim=%d epochs=%d threads=%d entities=%zu relations=%zu train=%zu test=%zu "
        "read_seconds=%.2f train_seconds=%.2f eval_seconds=%.2f\n",
        dim, epochs, threads, r.entities, r.relations, r.train_triples, r.test_triples, r.read_seconds, r.seconds,
        r.eval_seconds);
    std::printf(
        "hymir-kg transe link_prediction evaluated=%zu trained_mrr=%.4f trained_hits10=%.4f "
        "filtered_mrr=%.4f filtered_hits10=%.4f random_mrr=%.4f random_hits10=%.4f\n",
        r.evaluated_triples, r.mrr, r.hits_at_10, r.filtered_mrr, r.filtered_hits_at_10, r.random_mrr,
        r.random_hits_at_10);
    const auto t0 = Clock::now();
    hymir::Status saved = emb->Save(kg_a);
    if (!saved.ok()) return Fail("Save", saved);
    std::printf("hymir-kg transe save_seconds=%.2f bytes=%llu\n", Since(t0),
                static_cast<unsigned long long>(fs::file_size(kg_a + "/transe.bin")));
  }
  opened->reset();
  if (!keep) fs::remove_all(work);
  return 0;
}
