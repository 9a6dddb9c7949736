// hymir-mpi: sharded indexing and search (BM25 with global statistics,
// vector, hybrid), one MPI rank per shard, and data-parallel MoE training.
// Run under mpirun:
//
//   mpirun -np N build/bin/hymir-mpi index  --corpus corpus.jsonl --index DIR [--kg KG]
//   mpirun -np N build/bin/hymir-mpi search --index DIR --query "text"
//   mpirun -np N build/bin/hymir-mpi search --index DIR --queries q.jsonl --run out.trec
//   mpirun -np N build/bin/hymir-mpi train  --index IDX --queries q.jsonl --qrels train.tsv --model M
//   mpirun -np N build/bin/hymir-mpi pretrain --index IDX --model M
//
// `train` is data-parallel training of the MoE re-ranker on an ordinary
// (unsharded) index every rank can read: the ranks extract the features of
// their share of the queries, exchange them, and train together (one
// all-reduce of the gradient per batch); the model equals `hymir train`'s up
// to the order of floating-point additions. `pretrain` is `hymir pretrain`
// with the features split over the ranks, the per-expert stage
// expert-parallel and the joint stage data-parallel.
// Only rank 0 prints; every rank exits with the same code (0 ok, 1 failure,
// 2 usage or missing input).
#include <hymir/beir.h>
#include <hymir/dist/cluster.h>
#include <hymir/dist/data_parallel.h>
#include <hymir/dist/expert_parallel.h>
#include <hymir/dist/sharded_ingest.h>
#include <hymir/dist/sharded_pipeline.h>
#include <hymir/dist/sharded_writer.h>
#include <hymir/dist/sharding.h>
#include <hymir/engine.h>
#include <hymir/features.h>
#include <hymir/index/schema.h>
#include <hymir/knowledge.h>
#include <hymir/pipeline.h>
#include <hymir/pretrain.h>
#include <hymir/reranker.h>
#include <hymir/ranking/moe_trainer.h>
#include <hymir/ranking/qrels.h>
#include <hymir/ranking/run.h>
#include <hymir/train_reranker.h>
#include <hymir/version.h>

#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>

#include "common/app.h"
#include "common/cli_main.h"
#include "common/embed.h"
#include "common/hit_json.h"
#include "common/moe_flags.h"
#include "common/pretrain_flags.h"
#include "common/query_vectors.h"
#include "common/recorded.h"

namespace hymir {
namespace {

struct IndexFlags {
  std::string corpus, index, analyzer;
  std::string schema;  // typed fields of a new sharded index (JSON file, as hymir index --schema)
  uint64_t commit_every = 0;
  bool skip_bad = false;
  std::vector<std::string> vector_fields;  // NAME:DIM[:METRIC[:INDEX]]
  app::EmbedFlags embed;
  std::string kg;  // link documents against this KG (as hymir index --kg)
};

struct SearchFlags {
  std::string query, queries, run, qrels;
  std::string counts;  // --counts: qid<TAB>total per query
  bool json = false;
  bool total = false;        // --total: count every match
  size_t k = 0;              // 0: 10 for --query, 1000 for --queries
  QuerySpec spec;            // the query flags (--alpha: convex fusion)
  PipelineOptions pipeline;  // --index, --kg and --rerank (the KG and the model on rank 0)
  bool no_expand = false;
};

// The exit code every rank returns for an agreed status (printed by the root).
int Finish(const dist::Cluster& cluster, const char* cmd, const Status& agreed, bool usage = false) {
  if (agreed.ok()) return app::kExitOk;
  if (cluster.is_root()) return app::Fail(cmd, agreed, usage);
  return usage || agreed.IsNotFound() ? app::kExitUsage : app::kExitFailure;
}

int RunIndex(const dist::Cluster& cluster, const IndexFlags& flags) {
  const auto start = std::chrono::steady_clock::now();
  dist::ShardedWriterOptions options;
  if (!flags.analyzer.empty()) {
    auto kind = index::ParseAnalyzerKind(flags.analyzer);
    if (!kind.ok()) return Finish(cluster, "index", kind.status(), true);
    options.analyzer = *kind;
  }
  for (const std::string& spec : flags.vector_fields) {
    auto f = index::ParseVectorFieldSpec(spec);
    if (!f.ok()) return Finish(cluster, "index", f.status(), true);
    options.vector_fields.push_back(*f);
  }
  if (!flags.schema.empty()) {  // every rank reads the same file
    auto schema = index::ReadSchemaFile(flags.schema);
    if (Status s = cluster.Agree(schema.status()); !s.ok())
      return Finish(cluster, "index", s, schema.status().IsInvalidArgument());
    options.schema = std::move(schema).value();
  }
  // A plain index is refused before anything is written into it.
  Status plain = std::filesystem::exists(std::filesystem::path(flags.index) / "hymir.json")
                     ? Status::InvalidArgument(flags.index + " is a single (unsharded) hymir index")
                     : Status::OK();
  if (Status s = cluster.Agree(plain); !s.ok()) return Finish(cluster, "index", s);
  // The embedder and the linker analyse as the shards do: an existing sharded
  // index keeps its recorded analyzer.
  index::AnalyzerKind analyzer = options.analyzer.value_or(index::AnalyzerKind::kEnglish);
  if (auto layout = dist::ReadShardLayout(flags.index); layout.ok()) analyzer = layout->analyzer;
  if (!flags.embed.embed.empty()) {  // one LSA model, trained on the whole corpus, for every shard
    auto spec = app::LsaFieldSpec(flags.embed);
    if (!spec.ok()) return Finish(cluster, "index", spec.status(), true);
    options.vector_fields.push_back(*spec);
    auto log = [&](const std::string& line) {
      if (cluster.is_root()) std::fprintf(stderr, "hymir-mpi index: %s\n", line.c_str());
    };
    Status s = dist::ShareLsaEmbedder(cluster, flags.index, flags.corpus,
                                      app::LsaOptionsFor(flags.embed, *spec, analyzer), flags.skip_bad, log);
    if (!s.ok()) return Finish(cluster, "index", s);
  }
  // Entity linking at index time, as `hymir index --kg`.
  std::unique_ptr<KnowledgeContext> kg;
  if (!flags.kg.empty()) {
    auto k = dist::OpenKnowledgeOnEveryRank(cluster, flags.kg, analyzer);
    if (!k.ok()) return Finish(cluster, "index", k.status());
    kg = std::move(k).value();
  }
  // Every rank reads the corpus and takes its share (dist::IngestCorpus);
  // the writer sends each document to the rank owning its shard.
  auto writer = dist::ShardedWriter::Open(cluster, flags.index, options);
  if (!writer.ok()) return Finish(cluster, "index", writer.status());
  IngestOptions ingest;
  ingest.commit_every = flags.commit_every;
  ingest.skip_bad = flags.skip_bad;
  ingest.kg = kg.get();
  if (cluster.is_root())
    ingest.on_skip = [](const Status& s) {
      std::fprintf(stderr, "hymir-mpi index: skipped %s\n", s.message().c_str());
    };
  auto report = dist::IngestCorpus(cluster, flags.corpus, **writer, ingest);
  // A failure anywhere: nothing since the last commit is kept.
  if (!report.ok()) return Finish(cluster, "index", report.status());
  if (Status s = (*writer)->Commit(); !s.ok()) return Finish(cluster, "index", s);
  const uint64_t line_docs = report->parsed, skipped = report->skipped;
  auto per_shard = (*writer)->ShardSizes();
  if (!per_shard.ok()) return Finish(cluster, "index", per_shard.status());
  uint64_t total = 0;
  for (uint64_t n : *per_shard) total += n;
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (cluster.is_root()) {
    std::printf("indexed %llu docs%s into %d shards in %.2f s (%.0f docs/s); live documents %llu:",
                static_cast<unsigned long long>(line_docs),
                skipped ? (" (" + std::to_string(skipped) + " skipped)").c_str() : "", cluster.size(), seconds,
                seconds > 0 ? line_docs / seconds : 0.0, static_cast<unsigned long long>(total));
    for (int r = 0; r < cluster.size(); ++r)
      std::printf(" shard %d %llu%s", r, static_cast<unsigned long long>((*per_shard)[r]),
                  r + 1 < cluster.size() ? "," : "\n");
  }
  return app::kExitOk;
}

// One result as hymir search --json prints it (titles from the gathered documents).
void PrintJson(const PipelineResult& r) {
  nlohmann::json hits = nlohmann::json::array();
  for (const PipelineHit& ph : r.hits) {
    std::string title = ph.document ? ph.document->title : "";
    if (title.empty() && ph.document) title = ph.document->text;
    hits.push_back({{"rank", ph.hit.rank}, {"id", ph.hit.id}, {"score", ph.hit.score}, {"title", title}});
  }
  std::printf("%s\n", app::ResultJson(r, std::move(hits)).dump(2).c_str());
}

int RunSearch(const dist::Cluster& cluster, const SearchFlags& flags) {
  const bool browse = !flags.spec.sort.empty() || !flags.spec.facets.empty();  // every admitted document
  if (!flags.query.empty() && !flags.queries.empty())
    return Finish(cluster, "search", Status::InvalidArgument("give one of --query and --queries"), true);
  if (flags.query.empty() && flags.queries.empty() && !browse)
    return Finish(cluster, "search",
                  Status::InvalidArgument("give --query or --queries (or --sort/--facet to list or count every "
                                          "document the filters admit)"),
                  true);
  if (!flags.queries.empty() && flags.run.empty())
    return Finish(cluster, "search", Status::InvalidArgument("--queries needs --run OUT.trec"), true);
  if (!flags.counts.empty() && flags.queries.empty())
    return Finish(cluster, "search", Status::InvalidArgument("--counts needs --queries"), true);
  if (Status s = CheckQuerySpec(flags.spec, "--filter", "--field"); !s.ok()) return Finish(cluster, "search", s, true);
  // A query not in the language fails the command (exit 1), naming the column.
  const bool lucene = flags.spec.syntax == "lucene";
  auto check_syntax = [&](const std::string& text, const std::string& what) -> Status {
    if (!lucene || IsBareTerms(text)) return Status::OK();
    auto parsed = ParseQuery(text);
    return parsed.ok() ? Status::OK() : parsed.status().WithContext(what);
  };
  if (Status s = check_syntax(flags.query, "--query"); !s.ok()) return Finish(cluster, "search", s);
  auto pipeline_or = dist::ShardedPipeline::Open(cluster, flags.pipeline);
  if (!pipeline_or.ok()) return Finish(cluster, "search", pipeline_or.status());
  dist::ShardedPipeline& pipeline = **pipeline_or;
  QuerySpec spec = flags.spec;
  if (spec.alpha >= 0) spec.fusion = "convex";  // --alpha: convex fusion with that weight
  auto base_or = pipeline.MakeQuery(spec);
  if (!base_or.ok()) return Finish(cluster, "search", base_or.status(), true);
  const HybridQuery& base = *base_or;
  StageOptions stages;
  stages.expand = pipeline.has_kg() && !flags.no_expand;
  stages.count =
      flags.json || !flags.counts.empty() || flags.total || !flags.spec.sort.empty() || !flags.spec.facets.empty();
  stages.snippet_chars = 0;
  const bool reranked = pipeline.has_reranker() && flags.spec.sort.empty();

  if (flags.queries.empty()) {
    std::vector<HybridQuery> one(1, base);
    one[0].text = flags.query;
    one[0].k = flags.k ? flags.k : 10;
    stages.fetch_documents = flags.json;  // the titles
    auto results = pipeline.SearchBatch(one, stages);
    if (!results.ok()) return Finish(cluster, "search", results.status(), results.status().IsInvalidArgument());
    if (cluster.is_root() && flags.json) {
      PrintJson((*results)[0]);
    } else if (cluster.is_root()) {
      auto stage = [](const StageResult& st) {
        return st.present ? std::to_string(st.score).substr(0, 8) + "@" + std::to_string(st.rank) : std::string("-");
      };
      const PipelineResult& r = (*results)[0];
      for (const PipelineHit& ph : r.hits) {
        const SearchHit& h = ph.hit;
        std::printf("%4u  %9.4f  %-16s bm25=%-16s vector=%-16s%s%s\n", h.rank, h.score, h.id.c_str(),
                    stage(h.bm25).c_str(), stage(h.vector).c_str(), reranked ? " rerank=" : "",
                    reranked ? stage(h.rerank).c_str() : "");
      }
      if (r.hits.empty()) std::printf("(no hits)\n");
      std::printf("%s", app::CountsText(r).c_str());
      std::fprintf(stderr, "retriever %s over %d shards\n", RetrieverName(r.retriever), cluster.size());
    }
    return app::kExitOk;
  }

  auto queries = ReadQueries(flags.queries);
  if (Status s = cluster.Agree(queries.status()); !s.ok()) return Finish(cluster, "search", s);
  std::set<std::string> keep;
  if (!flags.qrels.empty()) {
    auto qrels = ranking::Qrels::Read(flags.qrels);
    if (Status s = cluster.Agree(qrels.status()); !s.ok()) return Finish(cluster, "search", s);
    for (const auto& [qid, judged] : qrels->queries()) keep.insert(qid);
  }
  std::ofstream run, counts;
  Status opened;
  if (cluster.is_root()) {
    run.open(flags.run);
    if (!run) opened = Status::IOError(flags.run + ": cannot open for writing");
    if (opened.ok() && !flags.counts.empty()) {
      counts.open(flags.counts);
      if (!counts) opened = Status::IOError(flags.counts + ": cannot open for writing");
    }
  }
  stages.fetch_documents = false;  // a run needs ids and scores only
  if (Status s = cluster.Agree(opened); !s.ok()) return Finish(cluster, "search", s);
  const auto start = std::chrono::steady_clock::now();
  std::vector<HybridQuery> batch;
  size_t done = 0;
  auto flush = [&]() -> Status {
    if (batch.empty()) return Status::OK();
    HYMIR_ASSIGN_OR_RETURN(auto results, pipeline.SearchBatch(batch, stages));
    Status written;
    for (size_t i = 0; i < results.size() && written.ok(); ++i) {  // results: on the root only
      if (counts.is_open()) counts << results[i].query.id << '\t' << results[i].total.value_or(0) << '\n';
      ranking::ScoredDocs ranked;
      for (const PipelineHit& h : results[i].hits) ranked.push_back({h.hit.id, h.hit.score});
      // Sorted by a field: the run keeps the sort's order.
      if (!flags.spec.sort.empty()) ranked = ranking::ScoresFromRanks(std::move(ranked));
      written = ranking::WriteRun(run, results[i].query.id, ranked, "hymir-mpi");
    }
    HYMIR_RETURN_IF_ERROR(cluster.Agree(written));
    done += batch.size();
    batch.clear();
    return Status::OK();
  };
  for (const QueryRecord& rec : *queries) {
    if (!keep.empty() && !keep.count(rec.id)) continue;
    if (Status s = check_syntax(rec.text, flags.queries + ": query " + rec.id); !s.ok())
      return Finish(cluster, "search", s);
    HybridQuery q = base;
    q.id = rec.id;
    q.text = rec.text;
    app::SetQueryVector(rec, "", pipeline.local(), &q);
    q.k = flags.k ? flags.k : 1000;
    batch.push_back(std::move(q));
    if (batch.size() >= 256)
      if (Status s = flush(); !s.ok()) return Finish(cluster, "search", s);
  }
  if (Status s = flush(); !s.ok()) return Finish(cluster, "search", s);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  Status flushed;
  if (cluster.is_root()) {
    run.flush();
    if (!run) flushed = Status::IOError(flags.run + ": write failed");
    if (counts.is_open()) {
      counts.flush();
      if (!counts && flushed.ok()) flushed = Status::IOError(flags.counts + ": write failed");
    }
  }
  if (Status s = cluster.Agree(flushed); !s.ok()) return Finish(cluster, "search", s);
  if (cluster.is_root()) {
    std::fprintf(stderr, "hymir-mpi search: wrote %zu queries to %s (%d shards, %.2f s, %.0f queries/s)\n", done,
                 flags.run.c_str(), cluster.size(), seconds, seconds > 0 ? done / seconds : 0.0);
  }
  return app::kExitOk;
}

struct TrainFlags {
  std::string index, queries, qrels, model;
  app::MoeTrainFlags moe;
  FeatureConfig features;
  size_t depth = 100;
  int emb_dims = 16;
  bool no_domains = false;
  int threads = 0;
};

int RunTrain(const dist::Cluster& cluster, const TrainFlags& f) {
  const auto t0 = std::chrono::steady_clock::now();
  TrainRerankerOptions o;
  auto train = f.moe.Resolve();
  if (!train.ok()) return Finish(cluster, "train", train.status(), true);
  o.train = std::move(train).value();
  o.depth = f.depth;
  o.features = f.features;
  o.features.query_embedding_dims = f.emb_dims;
  o.domain_features = !f.no_domains;
  o.threads = f.threads;
  dist::DataParallelRerankerTraining(cluster, &o);
  if (cluster.is_root()) {
    o.progress = [](const std::string& line) { std::fprintf(stderr, "hymir-mpi train: %s\n", line.c_str()); };
    o.epoch_progress = [](const ranking::EpochReport& e) {
      std::fprintf(stderr, "epoch %3d  loss %.5f  valid nDCG@10 %.4f%s\n", e.epoch, e.train_loss, e.validation_ndcg,
                   e.best ? "  *" : "");
    };
  }
  PipelineOptions popts;  // every rank opens the index (no KG: hymir-mpi train has no --kg)
  popts.index_dir = f.index;
  auto pipeline = Pipeline::Open(popts);
  if (Status s = cluster.Agree(pipeline.status()); !s.ok()) return Finish(cluster, "train", s);
  const Engine& engine = (*pipeline)->engine();
  auto records = ReadQueries(f.queries);
  if (Status s = cluster.Agree(records.status()); !s.ok()) return Finish(cluster, "train", s);
  auto qrels = ranking::Qrels::Read(f.qrels);
  if (Status s = cluster.Agree(qrels.status()); !s.ok()) return Finish(cluster, "train", s);
  const std::vector<TrainingQuery> queries = JudgedQueries(*records, *qrels, &engine);
  if (queries.empty())
    return Finish(cluster, "train", Status::InvalidArgument(f.qrels + ": judges none of the queries in " + f.queries));
  TrainRerankerReport report;
  auto model = TrainReranker(engine, queries, *qrels, o, nullptr, &report);
  if (!model.ok()) return Finish(cluster, "train", model.status());  // every rank has the same error
  Status saved = cluster.is_root() ? model->Save(f.model) : Status::OK();
  if (Status s = cluster.Agree(saved); !s.ok()) return Finish(cluster, "train", s);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const ranking::MoeConfig& c = report.model;
  if (cluster.is_root())
    std::printf(
        "model %s: E=%d S=%d top-%d, best epoch %d of %d, validation nDCG@10 %.4f (%zu train / %zu "
        "validation queries), %d ranks, %.1f s (features %.1f s)\n",
        f.model.c_str(), c.routed_experts, c.shared_experts, c.top_k, report.train.best_epoch, report.train.epochs,
        report.train.best_validation_ndcg, report.train.train_queries, report.train.validation_queries, cluster.size(),
        seconds, report.feature_seconds);
  return app::kExitOk;
}

// Pre-training: the same pseudo-queries on every rank, features split and
// exchanged, experts placed on ranks, the joint stage data-parallel
// (hymir/dist/expert_parallel.h). The KG is not supported here.
int RunPretrain(const dist::Cluster& cluster, const app::PretrainFlags& f) {
  auto o = f.Resolve();
  if (!o.ok()) return Finish(cluster, "pretrain", o.status(), true);
  if (!f.kg.empty())
    return Finish(cluster, "pretrain", Status::InvalidArgument("--kg: hymir-mpi pretrain has no KG features"), true);
  auto pipeline = Pipeline::Open(f.pipeline_options());  // --kg is refused above
  if (Status s = cluster.Agree(pipeline.status()); !s.ok()) return Finish(cluster, "pretrain", s);
  dist::ExpertParallelPretraining(cluster, &*o);
  if (cluster.is_root()) o->progress = [](const std::string& line) { std::fprintf(stderr, "%s\n", line.c_str()); };
  PretrainReport report;
  auto model = Pretrain((*pipeline)->engine(), f.index, *o, nullptr, &report);
  if (Status s = cluster.Agree(model.status()); !s.ok()) return Finish(cluster, "pretrain", s);
  Status saved = cluster.is_root() ? model->Save(f.model) : Status::OK();
  if (saved.ok() && f.record && cluster.is_root()) saved = app::RecordModel(f.index, f.model, "");
  if (Status s = cluster.Agree(saved); !s.ok()) return Finish(cluster, "pretrain", s);
  if (cluster.is_root()) {
    app::PrintPretrainSummary(f.model, *model, report);
    std::printf("%d ranks\n", cluster.size());
  }
  return app::kExitOk;
}

}  // namespace
}  // namespace hymir

int main(int argc, char** argv) {
  using namespace hymir;
  app::IgnoreFileSizeSignal();
  auto cluster_or = dist::Cluster::Init(&argc, &argv);
  if (!cluster_or.ok()) return app::Fail("mpi", cluster_or.status());
  const dist::Cluster& cluster = **cluster_or;

  CLI::App cli{"hymir-mpi: sharded index and search, data-parallel training (run under mpirun, one rank per shard)",
               "hymir-mpi"};
  cli.require_subcommand(1);
  int exit_code = 0;
  IndexFlags ix;
  CLI::App* index_cmd = cli.add_subcommand("index", "Index a BEIR corpus into a sharded index (one shard per rank)");
  index_cmd->add_option("--corpus", ix.corpus, "corpus.jsonl")->required()->check(CLI::ExistingFile);
  index_cmd->add_option("--index", ix.index, "Sharded index directory")->required();
  index_cmd->add_option("--analyzer", ix.analyzer,
                        "english | standard | whitespace | english-lucenepp30 (new index; default english)");
  index_cmd->add_option("--commit-every", ix.commit_every, "Commit every N corpus lines (default: once at the end)");
  index_cmd->add_flag("--skip-bad", ix.skip_bad, "Report malformed lines and continue");
  index_cmd
      ->add_option("--schema", ix.schema,
                   "Typed fields of a new sharded index, a JSON file as for hymir index --schema "
                   "(docs/structured_fields.md); every shard gets them")
      ->check(CLI::ExistingFile);
  index_cmd->add_option("--vector-field", ix.vector_fields,
                        "NAME:DIM[:METRIC[:INDEX]] vector field of a new index, filled from corpus \"vectors\"");
  index_cmd->add_option("--embed", ix.embed.embed,
                        "lsa:DIM: one LSA model, trained on the whole corpus, for every shard");
  index_cmd->add_option("--embed-index", ix.embed.embed_index, "ANN index of the embedded field (default flat)");
  index_cmd
      ->add_option("--kg", ix.kg,
                   "Link documents against this knowledge graph (entity ids stored in field "
                   "kg_entities, as hymir index --kg)")
      ->check(CLI::ExistingDirectory);
  index_cmd->callback([&] { exit_code = RunIndex(cluster, ix); });
  SearchFlags sf;
  CLI::App* search_cmd =
      cli.add_subcommand("search", "Search a sharded index: BM25 with global statistics, vector or hybrid");
  search_cmd->add_option("--index", sf.pipeline.index_dir, "Sharded index directory")
      ->required()
      ->check(CLI::ExistingDirectory);
  search_cmd->add_option("--query", sf.query, "Query text; prints ranked hits");
  search_cmd->add_option("--queries", sf.queries, "BEIR queries.jsonl; needs --run")->check(CLI::ExistingFile);
  search_cmd->add_option("--run", sf.run, "TREC run output");
  search_cmd->add_option("--qrels", sf.qrels, "Only run queries judged in this qrels file")->check(CLI::ExistingFile);
  search_cmd->add_option("--syntax", sf.spec.syntax, "Query syntax: plain or lucene (docs/query_language.md)")
      ->check(CLI::IsMember({"plain", "lucene"}));
  search_cmd->add_option("--k", sf.k, "Hits per query (default 10 for --query, 1000 for --queries)");
  search_cmd->add_option("--offset", sf.spec.offset, "Skip this many hits first");
  search_cmd->add_option("--filter", sf.spec.filters,
                         "FIELD:VALUE exact filter; on typed fields also FIELD:[LO TO HI] ({} exclusive, * open), "
                         "FIELD:>=V, FIELD:<V (repeatable; all must hold)");
  search_cmd->add_option("--sort", sf.spec.sort,
                         "Sort every match by a sortable typed field: FIELD[:asc|desc] (repeatable; ties by score, "
                         "then id), merged over the shards");
  search_cmd->add_option("--facet", sf.spec.facets,
                         "Count values of a facetable typed field over every match on every shard: FIELD[:N] (top N, "
                         "default 10) or FIELD:buckets=B0,B1,...,Bn (repeatable)");
  search_cmd->add_flag("--total", sf.total, "Count every match over the shards (printed as total)");
  search_cmd->add_option("--counts", sf.counts,
                         "With --queries: write qid<TAB>total (the exact number of matching documents) per query");
  search_cmd->add_flag("--json", sf.json, "Print the hits (with titles), total and facets as JSON, as hymir search");
  search_cmd->add_option("--field", sf.spec.fields,
                         "BM25 field[:weight]: title, text or all (repeatable; default all)");
  search_cmd->add_option("--k1", sf.spec.k1, "BM25 k1")->check(CLI::Range(0.0, 100.0));
  search_cmd->add_option("--b", sf.spec.b, "BM25 b")->check(CLI::Range(0.0, 1.0));
  search_cmd
      ->add_option("--retriever", sf.spec.retriever, "bm25 | vector | hybrid (default: hybrid with a vector field)")
      ->check(CLI::IsMember({"auto", "bm25", "vector", "hybrid"}));
  search_cmd->add_option("--alpha", sf.spec.alpha, "Convex fusion: weight of BM25 (default: the index's, 0.9)")
      ->check(CLI::Range(0.0, 1.0));
  search_cmd->add_option("--bm25-depth", sf.spec.bm25_depth, "BM25 candidates fused (default 1000)");
  search_cmd->add_option("--vector-depth", sf.spec.vector_depth, "Vector candidates fused (default 100)");
  search_cmd
      ->add_option("--kg", sf.pipeline.kg_dir,
                   "Knowledge graph directory: KG query expansion (rank 0 expands, as hymir search --kg)")
      ->check(CLI::ExistingDirectory);
  search_cmd->add_flag("--no-expand", sf.no_expand, "With --kg: no query expansion");
  search_cmd
      ->add_option("--rerank", sf.pipeline.rerank_model,
                   "Re-rank with this MoE model on rank 0 (documents and statistics "
                   "gathered from the shards)")
      ->check(CLI::ExistingFile);
  search_cmd->add_option("--rerank-depth", sf.pipeline.rerank_depth, "Candidates re-ranked per query (default 100)")
      ->check(CLI::Range(1, 100000));
  search_cmd->callback([&] { exit_code = RunSearch(cluster, sf); });
  TrainFlags tf;
  CLI::App* train_cmd =
      cli.add_subcommand("train", "Data-parallel MoE training on an (unsharded) index, as hymir train");
  train_cmd->add_option("--index", tf.index, "Index directory")->required()->check(CLI::ExistingDirectory);
  train_cmd->add_option("--queries", tf.queries, "BEIR queries.jsonl")->required()->check(CLI::ExistingFile);
  train_cmd->add_option("--qrels", tf.qrels, "Training judgements")->required()->check(CLI::ExistingFile);
  train_cmd->add_option("--model", tf.model, "Output model file")->required();
  train_cmd->add_option("--threads", tf.threads, "Feature threads per rank (default: all cores)")
      ->check(CLI::Range(0, 1024));
  app::AddMoeTrainFlags(*train_cmd, tf.moe);
  train_cmd
      ->add_option("--validation", tf.moe.options.validation_fraction,
                   "Share of training queries held out for early stopping (default 0.3)")
      ->check(CLI::Range(0.0, 0.9))
      ->group(app::kOptimisationGroup);
  train_cmd->add_option("--depth", tf.depth, "Candidates per query (default 100)")
      ->check(CLI::Range(1, 10000))
      ->group(app::kFeaturesGroup);
  train_cmd->add_option("--embedding-dims", tf.emb_dims, "Query-embedding components fed to the gate (default 16)")
      ->check(CLI::Range(0, 4096))
      ->group(app::kFeaturesGroup);
  train_cmd->add_flag("--no-domain-features", tf.no_domains, "No per-domain gate features")->group(app::kFeaturesGroup);
  app::AddFeatureFlags(*train_cmd, tf.features);
  train_cmd->callback([&] { exit_code = RunTrain(cluster, tf); });
  app::PretrainFlags pf;
  CLI::App* pretrain_cmd = cli.add_subcommand(
      "pretrain", "MoE pre-training on pseudo-queries, as hymir pretrain: experts on ranks, joint stage data-parallel");
  app::AddPretrainFlags(*pretrain_cmd, pf);
  pretrain_cmd->callback([&] { exit_code = RunPretrain(cluster, pf); });
  cli.set_version_flag("--version", std::string("hymir-mpi ") + VersionString(), "Print the version and exit");
  try {
    cli.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // Every rank parses the same arguments; only the root prints.
    if (cluster.is_root()) {
      const int code = cli.exit(e);
      return e.get_exit_code() == 0 ? code : app::kExitUsage;
    }
    return e.get_exit_code() == 0 ? 0 : app::kExitUsage;
  }
  return exit_code;
}
