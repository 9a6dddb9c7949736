// hymir search: one query (ranked hits printed) or a queries file (TREC run),
// through BM25, vector or hybrid retrieval.
#include <hymir/beir.h>
#include <hymir/pipeline.h>
#include <hymir/ranking/qrels.h>
#include <hymir/ranking/run.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "commands.h"
#include "common/app.h"
#include "common/hit_json.h"
#include "common/query_vectors.h"
#include "common/recorded.h"

namespace hymir::cli {
namespace {

struct SearchFlags {
  PipelineOptions pipeline;  // --index, --kg, --kg-*, --rerank, --rerank-depth, --threads
  QuerySpec spec;            // the query flags
  std::string query;
  std::string queries;
  std::string run;
  std::string qrels;
  std::string counts;  // --counts: qid<TAB>total per query
  size_t k = 0;        // 0: 10 for --query, 1000 for --queries
  std::string vector_file;
  double rerank_prior = -1;  // < 0: the model's own retrieval-prior weight
  bool no_expand = false;
  bool recorded = false;     // --recorded: the KG and model <index>/pipeline.json names
  bool depth_given = false;  // --rerank-depth was given (it wins over the record)
  bool json = false;
  bool explain = false;
  bool total = false;  // --total: count every match
};

// A query vector file: a JSON array, or numbers separated by whitespace/commas.
Result<std::vector<float>> ReadVectorFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) return Status::NotFound(path + ": cannot open");
  std::stringstream ss;
  ss << in.rdbuf();
  std::string text = ss.str();
  std::replace_if(
      text.begin(), text.end(), [](char c) { return c == ',' || c == '[' || c == ']'; }, ' ');
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
      return Status::InvalidArgument(path + ": \"" + tok + "\" is not a number (element " + std::to_string(v.size()) +
                                     ")");
    }
  }
  if (v.empty()) return Status::InvalidArgument(path + ": no numbers");
  return v;
}

std::string StageText(const StageResult& s) {
  if (!s.present) return "-";
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.4f@%u", s.score, s.rank);
  return buf;
}

// One query: ranked hits (text or JSON), and with --explain every stage.
int PrintOne(const SearchFlags& flags, const Pipeline& pipeline, const PipelineResult& r) {
  nlohmann::json out = nlohmann::json::array();
  for (const PipelineHit& ph : r.hits) {
    const SearchHit& h = ph.hit;
    std::string title = ph.document ? ph.document->title : "";
    if (title.empty() && ph.document) title = ph.document->text;
    if (flags.json) {
      nlohmann::json j = {{"rank", h.rank}, {"id", h.id}, {"score", h.score}, {"title", title}};
      if (flags.explain) {
        j["stages"] = app::StagesJson(h);
        if (ph.moe) j["moe"] = app::ExplanationJson(*ph.moe);
      }
      out.push_back(j);
    } else {
      if (title.size() > 60) title = title.substr(0, 57) + "...";
      if (flags.explain) {
        std::printf("%4u  %9.4f  %-14s bm25=%-16s vector=%-16s fused=%-16s%s%s %s\n", h.rank, h.score, h.id.c_str(),
                    StageText(h.bm25).c_str(), StageText(h.vector).c_str(), StageText(h.fused).c_str(),
                    r.reranked ? " rerank=" : "", r.reranked ? StageText(h.rerank).c_str() : "", title.c_str());
        if (const auto& ex = ph.moe) {
          std::printf("      experts:");
          for (size_t c = 0; c < ex->routing.chosen.size(); ++c)
            std::printf(" #%d(w %.2f, score %.3f)", ex->routing.chosen[c], ex->routing.weights[c],
                        ex->routed_scores[c]);
          for (size_t sh = 0; sh < ex->shared_scores.size(); ++sh)
            std::printf(" shared%zu(score %.3f)", sh, ex->shared_scores[sh]);
          if (ex->trees > 0) std::printf(" trees%zu(score %.3f)", ex->trees, ex->tree_score);
          std::printf("\n      features:");
          for (const auto& fc : ex->top_features)
            std::printf(" %s=%.3g(%+.3f)", fc.feature.c_str(), fc.value, fc.contribution);
          std::printf("\n");
        }
      } else {
        std::printf("%4u  %9.4f  %-16s %s\n", h.rank, h.score, h.id.c_str(), title.c_str());
      }
    }
  }
  if (flags.json) {
    std::printf("%s\n", app::ResultJson(r, std::move(out)).dump(2).c_str());
  } else {
    if (r.hits.empty()) std::printf("(no hits)\n");
    std::printf("%s", app::CountsText(r).c_str());
  }
  if (flags.explain && !flags.json) {
    const Engine& engine = pipeline.engine();
    std::fprintf(stderr, "retriever %s", RetrieverName(r.retriever));
    if (r.retriever == Retriever::kHybrid) {
      std::fprintf(stderr, ", fusion %s (alpha %.2f, rrf_k %.0f)%s", ranking::FusionMethodName(r.fusion.method),
                   r.fusion.alpha, r.fusion.rrf_k,
                   r.query.fusion              ? ""
                   : engine.has_tuned_fusion() ? " [tuned default]"
                                               : " [built-in default]");
    }
    std::fprintf(stderr, "; stage scores shown as score@rank\n");
    if (r.reranked) {
      std::fprintf(stderr, "re-ranked top %zu with %s: gate chose", pipeline.options().rerank_depth,
                   flags.pipeline.rerank_model.c_str());
      for (size_t c = 0; c < r.routing.chosen.size(); ++c)
        std::fprintf(stderr, " expert %d (weight %.2f)", r.routing.chosen[c], r.routing.weights[c]);
      if (pipeline.reranker() && pipeline.reranker()->model().fusion_weight() > 0)
        std::fprintf(stderr, "; fusion weight %.3f (0: the pre-trained model, 1: the model trained on judgements)",
                     r.trust);
      else if (pipeline.reranker() && pipeline.reranker()->model().has_trust())
        std::fprintf(stderr, "; query trust %.3f (0: the pre-trained model, 1: the fine-tuned one)", r.trust);
      std::fprintf(stderr, "\n");
    }
    if (!pipeline.kg()) {
      std::fprintf(stderr, "warning: no knowledge graph configured (--kg DIR): no KG expansion\n");
    } else {
      std::fprintf(stderr, "KG expansion (%s):", flags.no_expand ? "off" : "on");
      for (const auto& e : r.expansions)
        std::fprintf(stderr, " \"%s\"x%.2f [%s %s %s]", e.text.c_str(), e.weight, e.entity.c_str(),
                     e.relation.empty() ? "synonym" : e.relation.c_str(), e.via_entity.c_str());
      if (r.expansions.empty()) std::fprintf(stderr, " none");
      std::fprintf(stderr, "\n");
    }
  }
  return app::kExitOk;
}

int RunSearch(SearchFlags flags) {
  if (!flags.queries.empty() && (!flags.query.empty() || !flags.vector_file.empty())) {
    return app::Fail("search", Status::InvalidArgument("--queries cannot be combined with --query/--vector-file"),
                     true);
  }
  const bool browse = !flags.spec.sort.empty() || !flags.spec.facets.empty();  // every admitted document
  if (flags.queries.empty() && flags.query.empty() && flags.vector_file.empty() && !browse) {
    return app::Fail("search",
                     Status::InvalidArgument("give --query, --vector-file or --queries (or --sort/--facet "
                                             "to list or count every document the filters admit)"),
                     true);
  }
  if (!flags.queries.empty() && flags.run.empty()) {
    return app::Fail("search", Status::InvalidArgument("--queries needs --run OUT.trec"), true);
  }
  if (Status s = CheckQuerySpec(flags.spec, "--filter", "--field"); !s.ok()) return app::Fail("search", s, true);
  if (!flags.counts.empty() && flags.queries.empty()) {
    return app::Fail("search", Status::InvalidArgument("--counts needs --queries"), true);
  }
  const bool lucene = flags.spec.syntax == "lucene";
  // A query that is not in the language fails the command (exit 1), naming
  // the column; it never falls back to another reading.
  auto check_syntax = [&](const std::string& text, const std::string& what) -> Status {
    if (!lucene || IsBareTerms(text)) return Status::OK();
    auto parsed = ParseQuery(text);
    return parsed.ok() ? Status::OK() : parsed.status().WithContext(what);
  };
  if (Status s = check_syntax(flags.query, "--query"); !s.ok()) return app::Fail("search", s);
  if (flags.rerank_prior >= 0) flags.pipeline.rerank_prior = flags.rerank_prior;
  if (flags.recorded) {
    if (Status s = app::ApplyRecorded(&flags.pipeline, flags.depth_given); !s.ok()) return app::Fail("search", s);
  }
  auto pipeline_or = Pipeline::Open(flags.pipeline);
  if (!pipeline_or.ok()) return app::Fail("search", pipeline_or.status());
  const Pipeline& pipeline = **pipeline_or;
  StageOptions stages;
  stages.expand = pipeline.kg() && !flags.no_expand;
  stages.explain = flags.explain;
  stages.count =
      flags.json || !flags.counts.empty() || flags.total || !flags.spec.sort.empty() || !flags.spec.facets.empty();

  if (flags.queries.empty()) {
    QuerySpec spec = flags.spec;
    spec.text = flags.query;
    spec.k = flags.k ? flags.k : 10;
    if (!flags.vector_file.empty()) {
      auto v = ReadVectorFile(flags.vector_file);
      if (!v.ok()) return app::Fail("search", v.status(), v.status().IsNotFound());
      spec.vector = std::move(v).value();
    }
    auto q = pipeline.MakeQuery(spec);
    if (!q.ok()) return app::Fail("search", q.status(), true);
    auto r = pipeline.Search(*q, stages);
    if (!r.ok()) return app::Fail("search", r.status(), r.status().IsInvalidArgument());
    return PrintOne(flags, pipeline, *r);
  }

  auto base = pipeline.MakeQuery(flags.spec);
  if (!base.ok()) return app::Fail("search", base.status(), true);
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
  if (pipeline.reranker()) {
    routing.open(flags.run + ".routing.tsv");
    if (!routing) return app::Fail("search", Status::IOError(flags.run + ".routing.tsv: cannot open for writing"));
  }
  stages.fetch_documents = false;  // a run needs ids and scores only
  stages.explain = false;
  std::ofstream counts;
  if (!flags.counts.empty()) {
    counts.open(flags.counts);
    if (!counts) return app::Fail("search", Status::IOError(flags.counts + ": cannot open for writing"));
  }
  std::vector<HybridQuery> batch;
  size_t done = 0;
  auto flush = [&]() -> Status {
    if (batch.empty()) return Status::OK();
    HYMIR_ASSIGN_OR_RETURN(auto results, pipeline.SearchBatch(batch, stages));
    for (const PipelineResult& r : results) {
      if (r.reranked) {
        routing << r.query.id << '\t';
        for (size_t c = 0; c < r.routing.chosen.size(); ++c) routing << (c ? "," : "") << r.routing.chosen[c];
        routing << '\t';
        for (size_t c = 0; c < r.routing.weights.size(); ++c) routing << (c ? "," : "") << r.routing.weights[c];
        routing << '\n';
      }
      if (counts.is_open()) counts << r.query.id << '\t' << r.total.value_or(0) << '\n';
      ranking::ScoredDocs ranked;
      for (const PipelineHit& h : r.hits) ranked.push_back({h.hit.id, h.hit.score});
      // Sorted by a field: the run keeps the sort's order.
      if (!flags.spec.sort.empty()) ranked = ranking::ScoresFromRanks(std::move(ranked));
      HYMIR_RETURN_IF_ERROR(ranking::WriteRun(run, r.query.id, ranked, "hymir"));
    }
    done += batch.size();
    batch.clear();
    return Status::OK();
  };
  for (const QueryRecord& rec : *queries) {
    if (filter_by_qrels && !keep.count(rec.id)) continue;
    if (Status s = check_syntax(rec.text, flags.queries + ": query " + rec.id); !s.ok()) return app::Fail("search", s);
    HybridQuery q = *base;
    q.id = rec.id;
    q.text = rec.text;
    app::SetQueryVector(rec, flags.spec.vector_field, pipeline.engine(), &q);
    q.k = flags.k ? flags.k : 1000;
    batch.push_back(std::move(q));
    if (batch.size() >= 256) {
      if (Status s = flush(); !s.ok()) return app::Fail("search", s);
    }
  }
  if (Status s = flush(); !s.ok()) return app::Fail("search", s);
  run.flush();
  if (!run) return app::Fail("search", Status::IOError(flags.run + ": write failed"));
  if (counts.is_open()) {
    counts.flush();
    if (!counts) return app::Fail("search", Status::IOError(flags.counts + ": write failed"));
  }
  std::fprintf(stderr, "hymir search: wrote %zu queries to %s (retriever %s)\n", done, flags.run.c_str(),
               RetrieverName(pipeline.engine().ResolveRetriever(*base)));
  return app::kExitOk;
}

}  // namespace

void AddSearchCommand(CLI::App& app, int* exit_code) {
  auto flags = std::make_shared<SearchFlags>();
  CLI::App* cmd = app.add_subcommand("search", "Search an index: one --query, or --queries into a TREC --run");
  cmd->add_option("--index", flags->pipeline.index_dir, "Index directory")->required()->check(CLI::ExistingDirectory);
  cmd->add_option("--query", flags->query, "Query text; prints ranked hits");
  cmd->add_option("--queries", flags->queries, "BEIR queries.jsonl; needs --run")->check(CLI::ExistingFile);
  cmd->add_option("--run", flags->run, "TREC run output (qid Q0 docid rank score hymir)");
  cmd->add_option("--qrels", flags->qrels, "Only run queries judged in this qrels file")->check(CLI::ExistingFile);
  cmd->add_option("--syntax", flags->spec.syntax,
                  "Query syntax: plain (a bag of words) or lucene (the query language: \"phrases\"~N, +required, "
                  "-excluded, AND/OR/NOT, (groups), field:term, prefix*, ^boosts, field:[a TO b]; "
                  "docs/query_language.md)")
      ->check(CLI::IsMember({"plain", "lucene"}));
  cmd->add_option("--counts", flags->counts,
                  "With --queries: write qid<TAB>total (the exact number of matching documents) per query");
  cmd->add_option("--k", flags->k, "Hits per query (default 10 for --query, 1000 for --queries)");
  cmd->add_option("--offset", flags->spec.offset, "Skip this many hits first (pagination)");
  cmd->add_option("--filter", flags->spec.filters,
                  "FIELD:VALUE exact filter, e.g. domain:med; on typed fields also FIELD:[LO TO HI] ({} exclusive, * "
                  "open), FIELD:>=V, FIELD:<V (repeatable; all must hold)");
  cmd->add_option("--sort", flags->spec.sort,
                  "Sort every match by a sortable typed field: FIELD[:asc|desc] (repeatable; ties by score, then id)");
  cmd->add_option("--facet", flags->spec.facets,
                  "Count values of a facetable typed field over every match: FIELD[:N] (top N, default 10) or "
                  "FIELD:buckets=B0,B1,...,Bn (repeatable)");
  cmd->add_flag("--total", flags->total,
                "Count every match (printed as total; with --json an object "
                "{\"total\", \"hits\", \"facets\"})");
  cmd->add_option("--field", flags->spec.fields, "BM25 field[:weight]: title, text or all (repeatable; default all)");
  cmd->add_option("--k1", flags->spec.k1, "BM25 k1")->check(CLI::Range(0.0, 100.0));
  cmd->add_option("--b", flags->spec.b, "BM25 b")->check(CLI::Range(0.0, 1.0));
  cmd->add_option("--retriever", flags->spec.retriever,
                  "bm25 | vector | hybrid (default: hybrid when the index has a "
                  "vector field, else bm25)")
      ->check(CLI::IsMember({"auto", "bm25", "vector", "hybrid"}));
  cmd->add_option("--fusion", flags->spec.fusion,
                  "rrf | wrrf | minmax | zscore | convex (default: the index's tuned "
                  "fusion, else convex alpha 0.9)")
      ->check(CLI::IsMember({"rrf", "wrrf", "minmax", "zscore", "convex"}));
  cmd->add_option("--alpha", flags->spec.alpha, "Convex fusion: weight of BM25 in [0,1]")->check(CLI::Range(0.0, 1.0));
  cmd->add_option("--rrf-k", flags->spec.rrf_k, "RRF constant k")->check(CLI::PositiveNumber);
  cmd->add_option("--weights", flags->spec.weights, "Per-retriever weights (BM25, vector) for wrrf/minmax/zscore")
      ->expected(2);
  cmd->add_option("--vector-field", flags->spec.vector_field, "Vector field to search (default: the first)");
  cmd->add_option("--vector-file", flags->vector_file,
                  "Query by a raw vector: a file of numbers (JSON array or whitespace/comma separated)")
      ->check(CLI::ExistingFile);
  cmd->add_option("--bm25-depth", flags->spec.bm25_depth, "BM25 candidates fused (default 1000)");
  cmd->add_option("--vector-depth", flags->spec.vector_depth, "Vector candidates fused (default 100)");
  cmd->add_option("--ef-search", flags->spec.ef_search, "HNSW search breadth (default: the field's, 64)")
      ->check(CLI::Range(1, 100000));
  cmd->add_option("--nprobe", flags->spec.nprobe, "IVF lists probed (default: the field's, 16)")
      ->check(CLI::Range(1, 100000));
  cmd->add_option("--rerank", flags->pipeline.rerank_model, "Re-rank with this MoE model (from `hymir train`)")
      ->check(CLI::ExistingFile);
  cmd->add_option("--rerank-prior", flags->rerank_prior,
                  "Weight of the retrieval order blended into the re-ranker's scores, 0 (model only) to 1 (retrieval "
                  "order); default: the model's own (hymir pretrain chooses it)")
      ->check(CLI::Range(0.0, 1.0));
  CLI::Option* depth_opt =
      cmd->add_option("--rerank-depth", flags->pipeline.rerank_depth, "Candidates re-ranked per query (default 100)")
          ->check(CLI::Range(1, 100000));
  cmd->add_flag("--recorded", flags->recorded,
                "Also open what the index records in <index>/pipeline.json (the KG of `hymir index --kg`, the model "
                "of `hymir train/pretrain --record`); --kg, --rerank, --rerank-prior and --rerank-depth win over it");
  CLI::Option* kg_opt = cmd->add_option("--kg", flags->pipeline.kg_dir,
                                        "Knowledge graph directory: KG query expansion (and KG features for --rerank)")
                            ->check(CLI::ExistingDirectory);
  cmd->add_flag("--no-expand", flags->no_expand, "With --kg: no query expansion");
  cmd->add_option("--kg-synonym-weight", flags->pipeline.knowledge.expansion.synonym_weight,
                  "With --kg: weight of another alias of a linked query entity")
      ->check(CLI::PositiveNumber)
      ->capture_default_str()
      ->needs(kg_opt);
  cmd->add_option("--kg-neighbor-weight", flags->pipeline.knowledge.expansion.neighbor_weight,
                  "With --kg: weight of an alias of a neighbour along --kg-relations (0: follow no relation)")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str()
      ->needs(kg_opt);
  cmd->add_option("--kg-relations", flags->pipeline.knowledge.expansion.relations,
                  "With --kg: relations followed for neighbours, comma-separated (none: no relation)")
      ->delimiter(',')
      ->capture_default_str()
      ->needs(kg_opt);
  cmd->add_option("--kg-max-terms", flags->pipeline.knowledge.expansion.max_terms,
                  "With --kg: expansion terms per query at most")
      ->check(CLI::Range(0, 100000))
      ->capture_default_str()
      ->needs(kg_opt);
  cmd->add_option("--kg-min-mention-tokens", flags->pipeline.knowledge.expansion.min_mention_tokens,
                  "With --kg: expand only mentions of at least this many words")
      ->check(CLI::Range(1, 64))
      ->capture_default_str()
      ->needs(kg_opt);
  cmd->add_option("--kg-max-ambiguity", flags->pipeline.knowledge.expansion.max_ambiguity,
                  "With --kg: do not expand a mention naming more than this many entities (0: no limit)")
      ->check(CLI::Range(0, 100000))
      ->capture_default_str()
      ->needs(kg_opt);
  cmd->add_option("--threads", flags->pipeline.threads, "Re-ranking threads for --queries (default: all cores)")
      ->check(CLI::Range(0, 1024));
  cmd->add_flag("--explain", flags->explain, "Show each stage's score and rank (and, with --rerank, the experts)");
  cmd->add_flag("--json", flags->json, "Print hits as JSON");
  cmd->callback([flags, exit_code, depth_opt] {
    flags->depth_given = depth_opt->count() > 0;
    *exit_code = RunSearch(*flags);
  });
}

}  // namespace hymir::cli
