// hymir search: one query (ranked hits printed) or a queries file (TREC run),
// through BM25, vector or hybrid retrieval.
#include <hymir/beir.h>
#include <hymir/engine.h>
#include <hymir/knowledge.h>
#include <hymir/ranking/moe_model.h>
#include <hymir/reranker.h>
#include <hymir/ranking/qrels.h>
#include <hymir/ranking/run.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "examples/cli/commands.h"
#include "examples/common/app.h"
#include "examples/common/filters.h"
#include "examples/common/hit_json.h"
#include "examples/common/query_vectors.h"

namespace hymir::cli {
namespace {

struct SearchFlags {
  std::string index;
  std::string query;
  std::string queries;
  std::string run;
  std::string qrels;
  size_t k = 0;  // 0: 10 for --query, 1000 for --queries
  size_t offset = 0;
  std::vector<std::string> filters;  // field:value
  std::vector<std::string> fields;   // field[:weight]
  double k1 = 0.9;
  double b = 0.4;
  bool json = false;
  bool explain = false;
  std::string retriever = "auto";
  std::string fusion;  // "" = the index's default
  double alpha = -1;   // convex alpha; <0 = default
  double rrf_k = 60;
  std::vector<double> weights;
  std::string vector_field;
  std::string vector_file;
  size_t bm25_depth = 1000;
  size_t vector_depth = 100;
  int ef_search = 0;
  int nprobe = 0;
  std::string rerank;  // MoE model file
  size_t rerank_depth = 100;
  double rerank_prior = -1;  // < 0: the model's own retrieval-prior weight
  std::string kg;      // knowledge graph directory
  bool no_expand = false;
  kg::ExpansionOptions kg_expansion;  // --kg-* flags; defaults are the library's
  int threads = 0;
};

// A query vector file: a JSON array, or numbers separated by whitespace/commas.
Result<std::vector<float>> ReadVectorFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) return Status::NotFound(path + ": cannot open");
  std::stringstream ss;
  ss << in.rdbuf();
  std::string text = ss.str();
  std::replace_if(text.begin(), text.end(), [](char c) { return c == ',' || c == '[' || c == ']'; }, ' ');
  std::istringstream nums(text);
  std::vector<float> v;
  std::string tok;
  while (nums >> tok) {
    try {
      size_t used = 0;
      float f = std::stof(tok, &used);
      if (used != tok.size()) throw std::invalid_argument(tok);
      v.push_back(f);
    } catch (...) {
      return Status::InvalidArgument(path + ": \"" + tok + "\" is not a number (element " + std::to_string(v.size()) + ")");
    }
  }
  if (v.empty()) return Status::InvalidArgument(path + ": no numbers");
  return v;
}

Result<std::optional<ranking::FusionOptions>> FusionFromFlags(const SearchFlags& flags, const Engine& engine) {
  if (flags.fusion.empty() && flags.alpha < 0 && flags.weights.empty()) return std::optional<ranking::FusionOptions>();
  ranking::FusionOptions o = engine.default_fusion();
  if (!flags.fusion.empty()) {
    auto m = ranking::ParseFusionMethod(flags.fusion);
    if (!m.ok()) return m.status();
    o = ranking::FusionOptions();
    o.method = *m;
    if (o.method == ranking::FusionMethod::kConvex) o.alpha = Engine::kDefaultAlpha;
  }
  o.rrf_k = flags.rrf_k;
  if (flags.alpha >= 0) o.alpha = flags.alpha;
  if (!flags.weights.empty()) o.weights = flags.weights;
  return std::optional<ranking::FusionOptions>(o);
}

std::string StageText(const StageResult& s) {
  if (!s.present) return "-";
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.4f@%u", s.score, s.rank);
  return buf;
}

int RunSearch(const SearchFlags& flags) {
  if (!flags.queries.empty() && (!flags.query.empty() || !flags.vector_file.empty())) {
    return app::Fail("search", Status::InvalidArgument("--queries cannot be combined with --query/--vector-file"), true);
  }
  if (flags.queries.empty() && flags.query.empty() && flags.vector_file.empty()) {
    return app::Fail("search", Status::InvalidArgument("give --query, --vector-file or --queries"), true);
  }
  if (!flags.queries.empty() && flags.run.empty()) {
    return app::Fail("search", Status::InvalidArgument("--queries needs --run OUT.trec"), true);
  }
  HybridQuery base;
  base.bm25.bm25.k1 = flags.k1;
  base.bm25.bm25.b = flags.b;
  base.offset = flags.offset;
  base.vector_field = flags.vector_field;
  base.bm25_depth = flags.bm25_depth;
  base.vector_depth = flags.vector_depth;
  base.ef_search = flags.ef_search;
  base.nprobe = flags.nprobe;
  if (Status s = app::ParseFilters(flags.filters, &base.filters); !s.ok()) return app::Fail("search", s, true);
  if (Status s = app::ParseFields(flags.fields, &base.bm25.fields); !s.ok()) return app::Fail("search", s, true);
  auto retriever = ParseRetriever(flags.retriever);
  if (!retriever.ok()) return app::Fail("search", retriever.status(), true);
  base.retriever = *retriever;

  auto engine_or = Engine::Open(flags.index);
  if (!engine_or.ok()) return app::Fail("search", engine_or.status());
  const Engine& engine = **engine_or;
  auto fusion = FusionFromFlags(flags, engine);
  if (!fusion.ok()) return app::Fail("search", fusion.status(), true);
  base.fusion = *fusion;
  std::unique_ptr<KnowledgeContext> kg;
  if (!flags.kg.empty()) {
    KnowledgeOptions kopts;
    kopts.expansion = flags.kg_expansion;
    // "none" names no relation; a neighbour weight of 0 follows none (the
    // searcher rejects expansion terms of weight 0).
    std::erase(kopts.expansion.relations, std::string("none"));
    if (kopts.expansion.neighbor_weight == 0) kopts.expansion.relations.clear();
    auto k = KnowledgeContext::Open(flags.kg, engine.searcher().analyzer(), kopts);
    if (!k.ok()) return app::Fail("search", k.status());
    kg = std::move(k).value();
  }
  std::unique_ptr<Reranker> reranker;
  if (!flags.rerank.empty()) {
    auto r = Reranker::Open(engine, flags.rerank, kg.get());
    if (!r.ok()) return app::Fail("search", r.status());
    reranker = std::move(r).value();
    if (flags.rerank_prior >= 0) {  // the same model with another retrieval-prior weight
      ranking::MoeModel model = reranker->model();
      if (Status s = model.set_retrieval_prior("fused_rrank", flags.rerank_prior); !s.ok())
        return app::Fail("search", Status::InvalidArgument("--rerank-prior: " + s.message()), true);
      auto again = Reranker::Create(engine, std::move(model), kg.get());
      if (!again.ok()) return app::Fail("search", again.status());
      reranker = std::move(again).value();
    }
  }
  RerankOptions ropts;
  ropts.depth = flags.rerank_depth;
  ropts.keep_features = flags.explain;
  // KG expansion of a query (when a KG is given and expansion is on).
  auto expand = [&](HybridQuery* q, std::vector<kg::ExpansionTerm>* added) -> Status {
    if (!kg || flags.no_expand) return Status::OK();
    auto terms = kg->ExpandQuery(q);
    if (!terms.ok()) return terms.status();
    if (added) *added = std::move(terms).value();
    return Status::OK();
  };

  if (flags.queries.empty()) {
    HybridQuery q = base;
    q.text = flags.query;
    q.k = flags.k ? flags.k : 10;
    if (!flags.vector_file.empty()) {
      auto v = ReadVectorFile(flags.vector_file);
      if (!v.ok()) return app::Fail("search", v.status(), v.status().IsNotFound());
      q.vector = std::move(v).value();
    }
    std::vector<kg::ExpansionTerm> expansions;
    if (Status s = expand(&q, &expansions); !s.ok()) return app::Fail("search", s);
    RerankedResult reranked;
    Result<std::vector<SearchHit>> hits = std::vector<SearchHit>();
    if (reranker) {
      auto r = reranker->Search(q, ropts);
      if (!r.ok()) return app::Fail("search", r.status(), r.status().IsInvalidArgument());
      reranked = std::move(r).value();
      hits = reranked.hits;
    } else {
      hits = engine.Search(q);
    }
    if (!hits.ok()) return app::Fail("search", hits.status(), hits.status().IsInvalidArgument());
    const Retriever used = engine.ResolveRetriever(q);
    nlohmann::json out = nlohmann::json::array();
    for (const SearchHit& h : *hits) {
      auto doc = engine.searcher().GetDocument(h.id);
      std::string title = doc.ok() ? doc->title : "";
      if (title.empty() && doc.ok()) title = doc->text;
      if (flags.json) {
        nlohmann::json j = {{"rank", h.rank}, {"id", h.id}, {"score", h.score}, {"title", title}};
        if (flags.explain) {
          j["stages"] = app::StagesJson(h);
          if (reranker && h.rerank.present) {
            auto ex = reranker->Explain(reranked, h.id);
            if (ex.ok()) j["moe"] = app::ExplanationJson(*ex);
          }
        }
        out.push_back(j);
      } else {
        if (title.size() > 60) title = title.substr(0, 57) + "...";
        if (flags.explain) {
          std::printf("%4u  %9.4f  %-14s bm25=%-16s vector=%-16s fused=%-16s%s%s %s\n", h.rank, h.score,
                      h.id.c_str(), StageText(h.bm25).c_str(), StageText(h.vector).c_str(),
                      StageText(h.fused).c_str(), reranker ? " rerank=" : "",
                      reranker ? StageText(h.rerank).c_str() : "", title.c_str());
          if (reranker && h.rerank.present) {
            auto ex = reranker->Explain(reranked, h.id);
            if (ex.ok()) {
              std::printf("      experts:");
              for (size_t c = 0; c < ex->routing.chosen.size(); ++c)
                std::printf(" #%d(w %.2f, score %.3f)", ex->routing.chosen[c], ex->routing.weights[c],
                            ex->routed_scores[c]);
              for (size_t sh = 0; sh < ex->shared_scores.size(); ++sh)
                std::printf(" shared%zu(score %.3f)", sh, ex->shared_scores[sh]);
              std::printf("\n      features:");
              for (const auto& fc : ex->top_features)
                std::printf(" %s=%.3g(%+.3f)", fc.feature.c_str(), fc.value, fc.contribution);
              std::printf("\n");
            }
          }
        } else {
          std::printf("%4u  %9.4f  %-16s %s\n", h.rank, h.score, h.id.c_str(), title.c_str());
        }
      }
    }
    if (flags.json) {
      std::printf("%s\n", out.dump(2).c_str());
    } else if (hits->empty()) {
      std::printf("(no hits)\n");
    }
    if (flags.explain && !flags.json) {
      const auto& f = q.fusion ? *q.fusion : engine.default_fusion();
      std::fprintf(stderr, "retriever %s", RetrieverName(used));
      if (used == Retriever::kHybrid) {
        std::fprintf(stderr, ", fusion %s (alpha %.2f, rrf_k %.0f)%s", ranking::FusionMethodName(f.method), f.alpha,
                     f.rrf_k, q.fusion ? "" : engine.has_tuned_fusion() ? " [tuned default]" : " [built-in default]");
      }
      std::fprintf(stderr, "; stage scores shown as score@rank\n");
      if (reranker) {
        std::fprintf(stderr, "re-ranked top %zu with %s: gate chose", ropts.depth, flags.rerank.c_str());
        for (size_t c = 0; c < reranked.routing.chosen.size(); ++c)
          std::fprintf(stderr, " expert %d (weight %.2f)", reranked.routing.chosen[c], reranked.routing.weights[c]);
        std::fprintf(stderr, "\n");
      }
      if (!kg) {
        std::fprintf(stderr, "warning: no knowledge graph configured (--kg DIR): no KG expansion\n");
      } else {
        std::fprintf(stderr, "KG expansion (%s):", flags.no_expand ? "off" : "on");
        for (const auto& e : expansions)
          std::fprintf(stderr, " \"%s\"x%.2f [%s %s %s]", e.text.c_str(), e.weight, e.entity.c_str(),
                       e.relation.empty() ? "synonym" : e.relation.c_str(), e.via_entity.c_str());
        if (expansions.empty()) std::fprintf(stderr, " none");
        std::fprintf(stderr, "\n");
      }
    }
    return app::kExitOk;
  }

  auto queries = ReadQueries(flags.queries);
  if (!queries.ok()) return app::Fail("search", queries.status());
  std::set<std::string> keep;
  const bool filter_by_qrels = !flags.qrels.empty();
  if (filter_by_qrels) {
    auto qrels = ranking::Qrels::Read(flags.qrels);
    if (!qrels.ok()) return app::Fail("search", qrels.status());
    for (const auto& [qid, judged] : qrels->queries()) keep.insert(qid);
  }
  std::ofstream run(flags.run);
  if (!run) return app::Fail("search", Status::IOError(flags.run + ": cannot open for writing"));
  // With --rerank, the gate's routing of each query goes next to the run
  // (RUN.routing.tsv: qid, chosen experts best first, their weights) for
  // `hymir eval --routing-plot`.
  std::ofstream routing;
  if (reranker) {
    routing.open(flags.run + ".routing.tsv");
    if (!routing) return app::Fail("search", Status::IOError(flags.run + ".routing.tsv: cannot open for writing"));
  }
  std::vector<HybridQuery> batch;
  size_t done = 0;
  auto flush = [&]() -> Status {
    if (batch.empty()) return Status::OK();
    std::vector<std::vector<SearchHit>> results;
    if (reranker) {
      auto r = reranker->SearchBatch(batch, ropts, flags.threads);
      if (!r.ok()) return r.status();
      for (size_t i = 0; i < batch.size(); ++i) {
        routing << batch[i].id << '\t';
        const auto& rt = (*r)[i].routing;
        for (size_t c = 0; c < rt.chosen.size(); ++c) routing << (c ? "," : "") << rt.chosen[c];
        routing << '\t';
        for (size_t c = 0; c < rt.weights.size(); ++c) routing << (c ? "," : "") << rt.weights[c];
        routing << '\n';
        results.push_back(std::move((*r)[i].hits));
      }
    } else {
      auto r = engine.SearchBatch(batch);
      if (!r.ok()) return r.status();
      results = std::move(r).value();
    }
    for (size_t i = 0; i < batch.size(); ++i) {
      ranking::ScoredDocs ranked;
      for (const SearchHit& h : results[i]) ranked.push_back({h.id, h.score});
      HYMIR_RETURN_IF_ERROR(ranking::WriteRun(run, batch[i].id, ranked, "hymir"));
    }
    done += batch.size();
    batch.clear();
    return Status::OK();
  };
  for (const QueryRecord& rec : *queries) {
    if (filter_by_qrels && !keep.count(rec.id)) continue;
    HybridQuery q = base;
    q.id = rec.id;
    q.text = rec.text;
    app::SetQueryVector(rec, flags.vector_field, engine, &q);
    q.k = flags.k ? flags.k : 1000;
    if (Status st = expand(&q, nullptr); !st.ok()) return app::Fail("search", st);
    batch.push_back(std::move(q));
    if (batch.size() >= 256) {
      if (Status s = flush(); !s.ok()) return app::Fail("search", s);
    }
  }
  if (Status s = flush(); !s.ok()) return app::Fail("search", s);
  run.flush();
  if (!run) return app::Fail("search", Status::IOError(flags.run + ": write failed"));
  std::fprintf(stderr, "hymir search: wrote %zu queries to %s (retriever %s)\n", done, flags.run.c_str(),
               RetrieverName(engine.ResolveRetriever(base)));
  return app::kExitOk;
}

}  // namespace

void AddSearchCommand(CLI::App& app, int* exit_code) {
  auto flags = std::make_shared<SearchFlags>();
  CLI::App* cmd = app.add_subcommand("search", "Search an index: one --query, or --queries into a TREC --run");
  cmd->add_option("--index", flags->index, "Index directory")->required()->check(CLI::ExistingDirectory);
  cmd->add_option("--query", flags->query, "Query text; prints ranked hits");
  cmd->add_option("--queries", flags->queries, "BEIR queries.jsonl; needs --run")->check(CLI::ExistingFile);
  cmd->add_option("--run", flags->run, "TREC run output (qid Q0 docid rank score hymir)");
  cmd->add_option("--qrels", flags->qrels, "Only run queries judged in this qrels file")->check(CLI::ExistingFile);
  cmd->add_option("--k", flags->k, "Hits per query (default 10 for --query, 1000 for --queries)");
  cmd->add_option("--offset", flags->offset, "Skip this many hits first (pagination)");
  cmd->add_option("--filter", flags->filters, "FIELD:VALUE exact filter, e.g. domain:med (repeatable)");
  cmd->add_option("--field", flags->fields, "BM25 field[:weight]: title, text or all (repeatable; default all)");
  cmd->add_option("--k1", flags->k1, "BM25 k1")->check(CLI::Range(0.0, 100.0));
  cmd->add_option("--b", flags->b, "BM25 b")->check(CLI::Range(0.0, 1.0));
  cmd->add_option("--retriever", flags->retriever, "bm25 | vector | hybrid (default: hybrid when the index has a "
                                                   "vector field, else bm25)")
      ->check(CLI::IsMember({"auto", "bm25", "vector", "hybrid"}));
  cmd->add_option("--fusion", flags->fusion, "rrf | wrrf | minmax | zscore | convex (default: the index's tuned "
                                             "fusion, else convex alpha 0.9)")
      ->check(CLI::IsMember({"rrf", "wrrf", "minmax", "zscore", "convex"}));
  cmd->add_option("--alpha", flags->alpha, "Convex fusion: weight of BM25 in [0,1]")->check(CLI::Range(0.0, 1.0));
  cmd->add_option("--rrf-k", flags->rrf_k, "RRF constant k")->check(CLI::PositiveNumber);
  cmd->add_option("--weights", flags->weights, "Per-retriever weights (BM25, vector) for wrrf/minmax/zscore")
      ->expected(2);
  cmd->add_option("--vector-field", flags->vector_field, "Vector field to search (default: the first)");
  cmd->add_option("--vector-file", flags->vector_file,
                  "Query by a raw vector: a file of numbers (JSON array or whitespace/comma separated)")
      ->check(CLI::ExistingFile);
  cmd->add_option("--bm25-depth", flags->bm25_depth, "BM25 candidates fused (default 1000)");
  cmd->add_option("--vector-depth", flags->vector_depth, "Vector candidates fused (default 100)");
  cmd->add_option("--ef-search", flags->ef_search, "HNSW search breadth (default: the field's, 64)")
      ->check(CLI::Range(1, 100000));
  cmd->add_option("--nprobe", flags->nprobe, "IVF lists probed (default: the field's, 16)")->check(CLI::Range(1, 100000));
  cmd->add_option("--rerank", flags->rerank, "Re-rank with this MoE model (from `hymir train`)")->check(CLI::ExistingFile);
  cmd->add_option("--rerank-prior", flags->rerank_prior,
                  "Weight of the retrieval order blended into the re-ranker's scores, 0 (model only) to 1 (retrieval "
                  "order); default: the model's own (hymir pretrain chooses it)")
      ->check(CLI::Range(0.0, 1.0));
  cmd->add_option("--rerank-depth", flags->rerank_depth, "Candidates re-ranked per query (default 100)")
      ->check(CLI::Range(1, 100000));
  CLI::Option* kg_opt =
      cmd->add_option("--kg", flags->kg, "Knowledge graph directory: KG query expansion (and KG features for --rerank)")
          ->check(CLI::ExistingDirectory);
  cmd->add_flag("--no-expand", flags->no_expand, "With --kg: no query expansion");
  cmd->add_option("--kg-synonym-weight", flags->kg_expansion.synonym_weight,
                  "With --kg: weight of another alias of a linked query entity")
      ->check(CLI::PositiveNumber)
      ->capture_default_str()
      ->needs(kg_opt);
  cmd->add_option("--kg-neighbor-weight", flags->kg_expansion.neighbor_weight,
                  "With --kg: weight of an alias of a neighbour along --kg-relations (0: follow no relation)")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str()
      ->needs(kg_opt);
  cmd->add_option("--kg-relations", flags->kg_expansion.relations,
                  "With --kg: relations followed for neighbours, comma-separated (none: no relation)")
      ->delimiter(',')
      ->capture_default_str()
      ->needs(kg_opt);
  cmd->add_option("--kg-max-terms", flags->kg_expansion.max_terms, "With --kg: expansion terms per query at most")
      ->check(CLI::Range(0, 100000))
      ->capture_default_str()
      ->needs(kg_opt);
  cmd->add_option("--threads", flags->threads, "Re-ranking threads for --queries (default: all cores)")
      ->check(CLI::Range(0, 1024));
  cmd->add_flag("--explain", flags->explain, "Show each stage's score and rank (and, with --rerank, the experts)");
  cmd->add_flag("--json", flags->json, "Print hits as JSON");
  cmd->callback([flags, exit_code] { *exit_code = RunSearch(*flags); });
}

}  // namespace hymir::cli
