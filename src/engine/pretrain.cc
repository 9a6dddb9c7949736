// Pre-training without judgements: pseudo-queries, the training copy of the
// index, joint or per-cluster expert training, and the held-out check.
#include "hymir/pretrain.h"

#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <numeric>
#include <set>
#include <random>
#include <unordered_map>
#include <unordered_set>

#include "hymir/index/analyzer.h"
#include "hymir/index/bm25.h"
#include "hymir/index/index_writer.h"
#include "hymir/index/kmeans.h"
#include "hymir/index/lsa_embedder.h"
#include "hymir/knowledge.h"
#include "src/engine/parallel.h"
#include "src/engine/sentences.h"

namespace hymir {
namespace {

namespace fs = std::filesystem;

double Seconds(std::chrono::steady_clock::time_point since) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - since).count();
}

std::string_view Trim(std::string_view s) {
  const size_t b = s.find_first_not_of(" \t\r\n");
  if (b == std::string_view::npos) return {};
  const size_t e = s.find_last_not_of(" \t\r\n");
  return s.substr(b, e - b + 1);
}

// Words of `text` for the terms generator: maximal runs of ASCII letters and
// digits and of non-ASCII bytes (UTF-8 letters stay whole).
std::vector<std::string> Words(std::string_view text) {
  std::vector<std::string> out;
  std::string cur;
  for (char ch : text) {
    const unsigned char c = static_cast<unsigned char>(ch);
    if (std::isalnum(c) || c >= 0x80) {
      cur.push_back(static_cast<char>(c < 0x80 ? std::tolower(c) : c));
    } else if (!cur.empty()) {
      out.push_back(std::move(cur));
      cur.clear();
    }
  }
  if (!cur.empty()) out.push_back(std::move(cur));
  return out;
}

class Generator {
 public:
  Generator(const Engine& engine, const GeneratorOptions& o) : engine_(engine), o_(o) {
    stats_ = engine.searcher().Statistics();
  }

  // A query of `kind` from `doc`, or nullopt when the document does not qualify.
  std::optional<PseudoQuery> Make(PseudoQueryKind kind, const Document& doc, std::mt19937_64& rng) {
    switch (kind) {
      case PseudoQueryKind::kTitle:
        return Title(doc);
      case PseudoQueryKind::kInverseCloze:
        return InverseCloze(doc, rng);
      case PseudoQueryKind::kTerms:
        return Terms(doc, rng);
      case PseudoQueryKind::kKnowledge:
        return std::nullopt;  // GenerateKgPseudoQueries
    }
    return std::nullopt;
  }

 private:
  size_t Count(std::string_view text) const { return index::Analyze(engine_.searcher().analyzer(), text).size(); }

  std::optional<PseudoQuery> Title(const Document& doc) const {
    const std::string_view title = Trim(doc.title);
    if (title.empty() || Count(title) == 0 || Count(doc.text) < kMinRestTerms) return std::nullopt;
    PseudoQuery q;
    q.text = std::string(title);
    return q;
  }

  std::optional<PseudoQuery> InverseCloze(const Document& doc, std::mt19937_64& rng) const {
    const std::vector<std::string_view> sentences = internal::SplitSentences(doc.text);
    if (sentences.size() < 2) return std::nullopt;
    std::vector<size_t> counts(sentences.size());
    size_t total = 0;
    for (size_t i = 0; i < sentences.size(); ++i) total += counts[i] = Count(sentences[i]);
    std::vector<size_t> eligible;
    for (size_t i = 0; i < sentences.size(); ++i)
      if (counts[i] >= o_.ict_min_terms && counts[i] <= o_.ict_max_terms && total - counts[i] >= kMinRestTerms)
        eligible.push_back(i);
    if (eligible.empty()) return std::nullopt;
    const size_t pick = eligible[std::uniform_int_distribution<size_t>(0, eligible.size() - 1)(rng)];
    // The sentence views are consecutive pieces of doc.text.
    const std::string_view s = sentences[pick];
    const size_t begin = static_cast<size_t>(s.data() - doc.text.data());
    std::string rest = std::string(Trim(std::string_view(doc.text).substr(0, begin)));
    const std::string_view after = Trim(std::string_view(doc.text).substr(begin + s.size()));
    if (!rest.empty() && !after.empty()) rest += ' ';
    rest += after;
    PseudoQuery q;
    q.text = std::string(Trim(s));
    q.rest_text = std::move(rest);
    return q;
  }

  std::optional<PseudoQuery> Terms(const Document& doc, std::mt19937_64& rng) {
    // Each distinct word analysed alone: its term (stop words have none).
    std::unordered_map<std::string, std::pair<std::string, double>> by_term;  // term -> (surface, tf)
    for (const std::string& w : Words(doc.title + " " + doc.text)) {
      auto it = analysed_.find(w);
      if (it == analysed_.end()) {
        auto t = index::Analyze(engine_.searcher().analyzer(), w);
        it = analysed_.emplace(w, t.size() == 1 ? t[0] : std::string()).first;
      }
      if (it->second.empty()) continue;
      auto& entry = by_term[it->second];
      if (entry.first.empty()) entry.first = w;
      entry.second += 1.0;
    }
    if (by_term.size() < std::max(kMinRestTerms, o_.terms_max)) return std::nullopt;
    const uint64_t n = stats_->DocCount("all");
    // Weighted sampling without replacement (Efraimidis-Spirakis keys u^(1/w)),
    // weight tf x idf; in term order first so the draw does not depend on
    // hash order.
    std::vector<std::pair<std::string, std::pair<std::string, double>>> terms(by_term.begin(), by_term.end());
    std::sort(terms.begin(), terms.end());
    std::uniform_real_distribution<double> u(0.0, 1.0);
    std::vector<std::pair<double, size_t>> keys;
    for (size_t i = 0; i < terms.size(); ++i) {
      const double w = terms[i].second.second * index::Bm25Idf(n, stats_->DocFreq("all", terms[i].first));
      const double r = std::max(u(rng), 1e-300);
      keys.push_back({w > 0 ? std::log(r) / w : -1e300, i});
    }
    const size_t k = std::uniform_int_distribution<size_t>(o_.terms_min, std::max(o_.terms_min, o_.terms_max))(rng);
    std::partial_sort(
        keys.begin(), keys.begin() + std::min(k, keys.size()), keys.end(),
        [](const auto& a, const auto& b) { return a.first > b.first || (a.first == b.first && a.second < b.second); });
    PseudoQuery q;
    for (size_t i = 0; i < std::min(k, keys.size()); ++i) {
      if (!q.text.empty()) q.text += ' ';
      q.text += terms[keys[i].second].second.first;
    }
    return q;
  }

  const Engine& engine_;
  const GeneratorOptions& o_;
  std::shared_ptr<const index::CollectionStatistics> stats_;
  std::unordered_map<std::string, std::string> analysed_;  // word -> its term ("" = none)
};

// nDCG@10 of the retrieval order of `g` (one relevant candidate at most).
double RetrievalNdcg(const ranking::QueryGroup& g) {
  std::vector<double> scores(g.size());
  for (size_t i = 0; i < g.size(); ++i) scores[i] = -static_cast<double>(i);
  return ranking::GroupNdcg(g, scores, 10);
}

// The live documents' ids in id order: index order depends on how many
// threads indexed the corpus, and pre-training must not (the documents it
// samples, the k-means input order, the training index's order).
Result<std::vector<std::string>> SortedDocumentIds(const index::Searcher& searcher) {
  HYMIR_ASSIGN_OR_RETURN(std::vector<std::string> ids, searcher.DocumentIds());
  std::sort(ids.begin(), ids.end());
  return ids;
}

// Builds at `to` (a new directory) the training index: every live document
// of `engine`'s index at `from`, with `rest` replacing the text of the ict
// sources, under the same analyzer, vector fields and default fusion. The
// LSA embedders are retrained on these texts: a model fitted with the
// removed sentences would carry their co-occurrences into the documents'
// vectors. Vectors of fields without an embedder are kept.
Status BuildTrainingIndex(const Engine& engine, const std::string& from, const std::string& to,
                          const std::unordered_map<std::string, std::string>& rest, int threads) {
  const index::Searcher& s = engine.searcher();
  HYMIR_ASSIGN_OR_RETURN(std::vector<std::string> ids, SortedDocumentIds(s));
  std::vector<Document> docs(ids.size());
  HYMIR_RETURN_IF_ERROR(internal::ParallelFor(ids.size(), threads, [&](size_t i) -> Status {
    HYMIR_ASSIGN_OR_RETURN(docs[i], s.GetDocument(ids[i]));
    auto it = rest.find(ids[i]);
    if (it != rest.end()) {
      docs[i].text = it->second;
      // The entities linked at index time include the sentence taken out:
      // dropped, so the KG features link the rest of the text instead.
      docs[i].fields.erase(kKgEntitiesField);
    }
    for (const auto& f : s.vector_fields()) {
      if (!f.embedder.empty()) continue;
      auto v = s.GetVector(f.name, ids[i]);
      if (v.ok()) docs[i].vectors[f.name] = std::move(v).value();
    }
    return Status::OK();
  }));
  std::error_code ec;
  fs::create_directories(fs::path(to) / "vectors", ec);
  if (ec) return Status::IOError(to + ": " + ec.message());
  std::vector<std::string> texts;
  texts.reserve(docs.size());
  for (const auto& d : docs) texts.push_back(d.title + " " + d.text);
  for (const auto& f : s.vector_fields()) {
    if (f.embedder.empty()) continue;
    if (f.embedder != "lsa")
      return Status::InvalidArgument("pretrain: cannot retrain embedder \"" + f.embedder + "\" of field " + f.name);
    index::LsaOptions lsa;
    lsa.dimension = f.dimension;
    lsa.analyzer = s.analyzer();
    // One thread: the model then does not depend on the machine's (or an MPI
    // rank's) thread count (LsaOptions::seed), so every rank of hymir-mpi
    // pretrain trains on the same vectors.
    lsa.threads = 1;
    HYMIR_ASSIGN_OR_RETURN(auto embedder, index::LsaEmbedder::Train(texts, lsa));
    HYMIR_RETURN_IF_ERROR(embedder->Save(to + "/vectors/" + f.name + "." + f.embedder));
  }
  if (fs::exists(fs::path(from) / "fusion.json")) {
    fs::copy_file(fs::path(from) / "fusion.json", fs::path(to) / "fusion.json", ec);
    if (ec) return Status::IOError(to + "/fusion.json: " + ec.message());
  }
  index::IndexWriterOptions wo;
  wo.analyzer = s.analyzer();
  wo.vector_fields = s.vector_fields();
  HYMIR_ASSIGN_OR_RETURN(auto writer, index::IndexWriter::Open(to, wo));
  // In index order, one thread: ties in retrieval go to the earlier document,
  // so the order must not depend on scheduling.
  for (const Document& d : docs) HYMIR_RETURN_IF_ERROR(writer->Upsert(d));
  return writer->Commit();
}

}  // namespace

double PriorObjectiveValue(const PriorTrial& trial, PriorObjective objective, double confidence) {
  if (trial.kinds.empty()) return 0.0;
  double worst = 1e300, mean = 0;
  for (const auto& k : trial.kinds) {
    const double bound = k.mean_gain - confidence * k.standard_error;
    worst = std::min(worst, bound);
    mean += bound / static_cast<double>(trial.kinds.size());
  }
  return objective == PriorObjective::kMeanKind ? mean : worst;
}

Result<PseudoQueryKind> ParsePseudoQueryKind(std::string_view name) {
  if (name == "title") return PseudoQueryKind::kTitle;
  if (name == "ict" || name == "inverse-cloze") return PseudoQueryKind::kInverseCloze;
  if (name == "terms") return PseudoQueryKind::kTerms;
  return Status::InvalidArgument("unknown pseudo-query generator '" + std::string(name) + "' (title|ict|terms)");
}

const char* PseudoQueryKindName(PseudoQueryKind kind) {
  switch (kind) {
    case PseudoQueryKind::kTitle:
      return "title";
    case PseudoQueryKind::kInverseCloze:
      return "ict";
    case PseudoQueryKind::kTerms:
      return "terms";
    case PseudoQueryKind::kKnowledge:
      return "kg";
  }
  return "?";
}

Result<std::vector<PseudoQuery>> GeneratePseudoQueries(const Engine& engine, const GeneratorOptions& options) {
  if (options.kinds.empty()) return Status::InvalidArgument("pretrain: no pseudo-query generator chosen");
  if (options.terms_min == 0 || options.terms_min > options.terms_max)
    return Status::InvalidArgument("pretrain: terms per query must satisfy 1 <= min <= max");
  HYMIR_ASSIGN_OR_RETURN(std::vector<std::string> ids, SortedDocumentIds(engine.searcher()));
  Generator gen(engine, options);
  // One shuffled walk over the documents per generator; round robin so the
  // generators share the queries equally until one runs out.
  struct Walk {
    PseudoQueryKind kind;
    std::vector<size_t> order;
    size_t next = 0;
    size_t made = 0;
    std::mt19937_64 rng;
  };
  std::vector<Walk> walks;
  std::set<PseudoQueryKind> seen;
  for (PseudoQueryKind k : options.kinds) {
    if (!seen.insert(k).second) continue;
    Walk w{k, std::vector<size_t>(ids.size()), 0, 0,
           std::mt19937_64(options.seed * 1000003ULL + static_cast<uint64_t>(k) + 1)};
    std::iota(w.order.begin(), w.order.end(), 0);
    std::shuffle(w.order.begin(), w.order.end(), w.rng);
    walks.push_back(std::move(w));
  }
  std::vector<PseudoQuery> out;
  bool progress = true;
  while (out.size() < options.queries && progress) {
    progress = false;
    for (Walk& w : walks) {
      if (out.size() >= options.queries) break;
      while (w.next < w.order.size()) {
        const std::string& id = ids[w.order[w.next++]];
        HYMIR_ASSIGN_OR_RETURN(Document doc, engine.searcher().GetDocument(id));
        auto q = gen.Make(w.kind, doc, w.rng);
        if (!q) continue;
        q->kind = w.kind;
        q->doc_id = id;
        q->id = std::string("pq:") + PseudoQueryKindName(w.kind) + ":" + std::to_string(w.made++);
        out.push_back(std::move(*q));
        progress = true;
        break;
      }
    }
  }
  if (out.empty())
    return Status::InvalidArgument("pretrain: no document of the index qualifies for the chosen generators");
  return out;
}

namespace {

using Say = std::function<void(const std::string&)>;

// Stage 1: the pseudo-queries, counted per kind in the report.
Result<std::vector<PseudoQuery>> GenerateStage(const Engine& engine, const PretrainOptions& options,
                                               PretrainReport& rep, const Say& say) {
  const auto t = std::chrono::steady_clock::now();
  HYMIR_ASSIGN_OR_RETURN(std::vector<PseudoQuery> pqs, GeneratePseudoQueries(engine, options.generate));
  rep.documents = engine.searcher().NumDocs();
  std::map<PseudoQueryKind, size_t> per;
  for (const auto& q : pqs) ++per[q.kind];
  for (const auto& [k, n] : per) rep.generated.push_back({k, n});
  rep.generate_seconds = Seconds(t);
  std::string line = "pretrain: " + std::to_string(pqs.size()) + " pseudo-queries from " +
                     std::to_string(rep.documents) + " documents (";
  for (size_t i = 0; i < rep.generated.size(); ++i)
    line +=
        (i ? ", " : "") + std::to_string(rep.generated[i].second) + " " + PseudoQueryKindName(rep.generated[i].first);
  say(line + ")");
  return pqs;
}

// Marks a work directory as pretrain's: the owning process id. A directory
// whose owner has died (a killed run) is stale and is removed by the next run.
constexpr const char* kWorkDirOwnerFile = ".hymir-pretrain-owner";

// The process id in `dir`'s owner file; 0 when there is none.
pid_t WorkDirOwner(const std::string& dir) {
  std::ifstream in(dir + "/" + kWorkDirOwnerFile);
  long long pid = 0;
  if (!(in >> pid) || pid <= 0) return 0;
  return static_cast<pid_t>(pid);
}

bool ProcessAlive(pid_t pid) { return pid == ::getpid() || ::kill(pid, 0) == 0 || errno != ESRCH; }

// Removes <temp>/hymir-pretrain-* directories whose owner has died.
void RemoveStaleWorkDirs(const std::string& temp) {
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(temp, ec)) {
    if (e.path().filename().string().rfind("hymir-pretrain-", 0) != 0 || !e.is_directory(ec)) continue;
    const pid_t owner = WorkDirOwner(e.path().string());
    if (owner != 0 && !ProcessAlive(owner)) fs::remove_all(e.path(), ec);
  }
}

// The training copy of the index (ict sources without their sentence) and
// its directory, removed when the copy is destroyed unless kept.
struct TrainingCopy {
  struct Cleanup {  // declared before the engine, so it outlives it
    std::string dir;
    bool keep = false;
    ~Cleanup() {
      std::error_code ec;
      if (!dir.empty() && !keep) fs::remove_all(dir, ec);
      // A kept copy is the caller's from now on: no run removes it as stale.
      if (!dir.empty() && keep) fs::remove(dir + "/" + kWorkDirOwnerFile, ec);
    }
  } cleanup;
  std::unique_ptr<Engine> engine;
};

// Stage 2: builds `copy` when any pseudo-query is an inverse cloze.
Status BuildCopyStage(const Engine& engine, const std::string& index_dir, const PretrainOptions& options,
                      const std::vector<PseudoQuery>& pqs, PretrainReport& rep, const Say& say, TrainingCopy& copy) {
  const auto t = std::chrono::steady_clock::now();
  if (std::none_of(pqs.begin(), pqs.end(), [](const PseudoQuery& q) { return q.rest_text.has_value(); }))
    return Status::OK();
  // Temporary copies left by killed runs (their owner is gone) go first.
  RemoveStaleWorkDirs(fs::temp_directory_path().string());
  std::string work;
  if (options.work_dir.empty()) {
    std::mt19937_64 r(std::random_device{}());
    work = (fs::temp_directory_path() / ("hymir-pretrain-" + std::to_string(::getpid()) + "-" + std::to_string(r())))
               .string();
  } else {
    work = options.work_dir;
    std::error_code ec;
    if (fs::exists(work, ec) && !fs::is_empty(work, ec)) {
      const pid_t owner = WorkDirOwner(work);
      if (owner == 0) return Status::InvalidArgument("pretrain: work directory " + work + " exists and is not empty");
      if (ProcessAlive(owner)) {
        return Status::Busy("pretrain: work directory " + work + " is in use by process " + std::to_string(owner));
      }
      say("pretrain: removing " + work + ", left by a run that did not finish (process " + std::to_string(owner) + ")");
      fs::remove_all(work, ec);
      if (ec) return Status::IOError("pretrain: cannot remove the stale work directory " + work + ": " + ec.message());
    }
  }
  copy.cleanup.dir = work;
  copy.cleanup.keep = options.keep_work_dir;
  {
    std::error_code ec;
    fs::create_directories(work, ec);
    if (ec) return Status::IOError("pretrain: cannot create the work directory " + work + ": " + ec.message());
    std::ofstream owner(work + "/" + kWorkDirOwnerFile);
    owner << ::getpid() << "\n";
    if (!owner) return Status::IOError("pretrain: cannot write " + work + "/" + kWorkDirOwnerFile);
  }
  std::unordered_map<std::string, std::string> rest;
  for (const PseudoQuery& q : pqs)
    if (q.rest_text) rest[q.doc_id] = *q.rest_text;
  HYMIR_RETURN_IF_ERROR(BuildTrainingIndex(engine, index_dir, work, rest, options.threads));
  HYMIR_ASSIGN_OR_RETURN(copy.engine, Engine::Open(work));
  rep.copy_seconds = Seconds(t);
  say("pretrain: training copy of the index with " + std::to_string(rest.size()) + " sentences taken out, " +
      std::to_string(rep.copy_seconds).substr(0, 4) + " s");
  return Status::OK();
}

// Stage 3's result: one labelled group per pseudo-query (the source
// document is the relevant one), and the extractor they come from.
struct Featurised {
  std::unique_ptr<FeatureExtractor> extractor;
  std::vector<ranking::QueryGroup> groups;
};

// Stage 3: candidates and features of this part's pseudo-queries, then
// every part's groups.
Result<Featurised> FeatureStage(const Engine& train_engine, const PretrainOptions& options,
                                const std::vector<PseudoQuery>& pqs, const KnowledgeContext* kg) {
  const size_t parts = static_cast<size_t>(std::max(1, options.part.second));
  const size_t part = static_cast<size_t>(std::max(0, options.part.first));
  if (part >= parts || (parts > 1 && !options.gather_groups))
    return Status::InvalidArgument("pretrain: feature part " + std::to_string(part) + " of " + std::to_string(parts) +
                                   (options.gather_groups ? "" : " without a gather"));
  std::vector<HybridQuery> queries;
  std::vector<size_t> mine;  // indices into pqs of this part's queries
  for (size_t i = part; i < pqs.size(); i += parts) mine.push_back(i);
  queries.reserve(mine.size());
  for (size_t i : mine) {
    HybridQuery q;
    q.id = pqs[i].id;
    q.text = pqs[i].text;
    if (kg && options.kg_uses.expand) HYMIR_RETURN_IF_ERROR(kg->ExpandQuery(&q).status());
    queries.push_back(std::move(q));
  }
  HYMIR_ASSIGN_OR_RETURN(auto hits, RetrieveCandidates(train_engine, queries, options.depth));
  FeatureConfig config = options.features;
  ApplyKgUses(options.kg_uses, kg != nullptr, &config);
  config.domains.clear();
  if (options.domain_features && parts > 1)
    return Status::InvalidArgument("pretrain: domain features are not supported with distributed features");
  if (options.domain_features) {
    HYMIR_ASSIGN_OR_RETURN(config.domains, FeatureExtractor::DomainsOf(train_engine, hits));
  }
  Featurised out;
  HYMIR_ASSIGN_OR_RETURN(out.extractor, FeatureExtractor::Create(train_engine, config, kg));
  HYMIR_ASSIGN_OR_RETURN(out.groups, out.extractor->ExtractBatch(queries, hits, options.threads));
  for (size_t k = 0; k < out.groups.size(); ++k) {
    auto& g = out.groups[k];
    g.labels.assign(g.size(), 0.0);
    for (size_t j = 0; j < g.size(); ++j)
      if (g.doc_ids[j] == pqs[mine[k]].doc_id) g.labels[j] = 1.0;
  }
  if (parts > 1) {
    HYMIR_ASSIGN_OR_RETURN(out.groups, options.gather_groups(out.groups));
    if (out.groups.size() != pqs.size())
      return Status::Internal("pretrain: gathered " + std::to_string(out.groups.size()) + " groups for " +
                              std::to_string(pqs.size()) + " pseudo-queries");
  }
  return out;
}

// The options of every training stage: no domain balancing, and the stages
// start from a model (MoeTrainOptions::init) to train it further, not to
// fine-tune it: no interpolation back, everything learns. No boosted
// expert: pre-training was selected and measured without one (a model
// pre-trained on pseudo-queries keeps its networks only).
ranking::MoeTrainOptions StageOptions(const PretrainOptions& options) {
  ranking::MoeTrainOptions topt = options.train;
  topt.balance_domains = false;
  topt.init = nullptr;
  topt.finetune_alpha = 1.0;
  topt.finetune_routed_only = false;
  topt.tree_expert = false;
  topt.tree_finetune = false;
  return topt;
}

// Stage 4 (per-cluster training): each group's domain becomes its source
// document's k-means cluster over the index's text vectors (-1: none).
Status ClusterStage(const Engine& engine, const ranking::MoeTrainOptions& topt, const std::vector<PseudoQuery>& pqs,
                    std::vector<ranking::QueryGroup>& groups, PretrainReport& rep) {
  // The first field with an embedder (the text embedding), else the first field.
  const auto& fields = engine.searcher().vector_fields();
  std::string field;
  for (const auto& f : fields)
    if (!f.embedder.empty()) {
      field = f.name;
      break;
    }
  if (field.empty() && !fields.empty()) field = fields[0].name;
  HYMIR_ASSIGN_OR_RETURN(std::vector<std::string> ids, SortedDocumentIds(engine.searcher()));
  std::vector<float> vectors;
  std::vector<std::string> clustered;
  size_t dim = 0;
  for (const auto& id : ids) {
    auto v = engine.searcher().GetVector(field, id);
    if (!v.ok()) continue;
    dim = v->size();
    vectors.insert(vectors.end(), v->begin(), v->end());
    clustered.push_back(id);
  }
  index::KMeansOptions ko;
  ko.clusters = topt.model.routed_experts;
  ko.seed = topt.seed;
  HYMIR_ASSIGN_OR_RETURN(auto km, index::KMeans(vectors, dim, ko));
  rep.cluster_sizes = km.sizes;
  std::unordered_map<std::string, int> cluster_of;
  for (size_t i = 0; i < clustered.size(); ++i) cluster_of[clustered[i]] = km.assignment[i];
  for (size_t i = 0; i < groups.size(); ++i) {
    auto it = cluster_of.find(pqs[i].doc_id);
    groups[i].domain = it == cluster_of.end() ? -1 : it->second;
  }
  return Status::OK();
}

// Stage 5: the held-out check queries, the same share of every kind.
struct CheckSplit {
  std::vector<ranking::QueryGroup> train, check;
  std::vector<PseudoQueryKind> check_kinds;
};

CheckSplit SplitCheckQueries(const std::vector<PseudoQuery>& pqs, std::vector<ranking::QueryGroup>& groups,
                             uint64_t seed, double check_fraction) {
  std::map<PseudoQueryKind, std::vector<size_t>> by_kind;
  for (size_t i = 0; i < pqs.size(); ++i) by_kind[pqs[i].kind].push_back(i);
  std::mt19937_64 rng(seed + 7);
  std::vector<bool> is_check(pqs.size(), false);
  for (auto& [k, list] : by_kind) {
    std::shuffle(list.begin(), list.end(), rng);
    const size_t n = list.size() >= 20 ? static_cast<size_t>(check_fraction * list.size()) : 0;
    for (size_t j = 0; j < n; ++j) is_check[list[j]] = true;
  }
  CheckSplit out;
  for (size_t i = 0; i < pqs.size(); ++i) {
    if (is_check[i]) {
      out.check.push_back(std::move(groups[i]));
      out.check_kinds.push_back(pqs[i].kind);
    } else {
      out.train.push_back(std::move(groups[i]));
    }
  }
  return out;
}

// Epoch lines of a training stage.
std::function<void(const ranking::EpochReport&)> EpochLine(const char* stage, const Say& say) {
  return [stage, &say](const ranking::EpochReport& e) {
    char buf[160];
    std::snprintf(buf, sizeof buf, "pretrain %s: epoch %3d  loss %.5f  valid nDCG@10 %.4f%s", stage, e.epoch,
                  e.train_loss, e.validation_ndcg, e.best ? "  *" : "");
    say(buf);
  };
}

// Stage 6a: expert x trained alone (routed expert e on cluster e's
// pseudo-queries, shared experts on all of them), its block copied into
// `full`; an expert with under 10 usable pseudo-queries stays untrained.
Status TrainOneExpert(int x, const ranking::FeatureSchema& schema, const std::vector<ranking::QueryGroup>& train,
                      const ranking::MoeTrainOptions& topt, const Say& say, ranking::MoeModel& full) {
  const ranking::MoeConfig& cfg = topt.model;
  ranking::MoeConfig single = cfg;
  single.routed_experts = 1;
  single.shared_experts = 0;
  single.top_k = 1;
  single.gate_hidden = 0;
  std::vector<ranking::QueryGroup> subset;
  for (const auto& g : train)
    if (x >= cfg.routed_experts || g.domain == x) subset.push_back(g);
  for (auto& g : subset) g.domain = -1;
  size_t usable = 0;
  for (const auto& g : subset)
    if (std::any_of(g.labels.begin(), g.labels.end(), [](double l) { return l > 0; })) ++usable;
  if (usable < 10) {
    say("pretrain: expert " + std::to_string(x) + " has " + std::to_string(usable) +
        " usable pseudo-queries; it starts the joint stage untrained");
    return Status::OK();
  }
  HYMIR_ASSIGN_OR_RETURN(ranking::MoeModel one, ranking::MoeModel::Create(single, schema, topt.seed + 1 + x));
  one.set_normalization(full.normalization());
  ranking::MoeTrainOptions o = topt;
  o.init = &one;
  o.bias_update_rate = 0;
  o.objective.routing_loss = 0;
  o.objective.balance_loss = 0;
  o.parallel = {};
  ranking::TrainReport r;
  HYMIR_ASSIGN_OR_RETURN(ranking::MoeModel trained, ranking::TrainMoe(schema, subset, o, &r));
  const size_t block = full.expert_parameters();
  std::copy(trained.parameters().begin(), trained.parameters().begin() + block,
            full.parameters().begin() + static_cast<size_t>(x) * block);
  char buf[200];
  std::snprintf(buf, sizeof buf, "pretrain: %s expert %d on %zu pseudo-queries: best epoch %d, valid nDCG@10 %.4f",
                x < cfg.routed_experts ? "routed" : "shared", x, subset.size(), r.best_epoch, r.best_validation_ndcg);
  say(buf);
  return Status::OK();
}

// Stage 6: joint training, or per-cluster: every expert alone (expert-parallel
// through options.expert_filter / expert_gather), then everything together,
// the gate pulled towards the clusters.
Result<ranking::MoeModel> TrainStage(const ranking::FeatureSchema& schema,
                                     const std::vector<ranking::QueryGroup>& train,
                                     const ranking::MoeTrainOptions& topt, bool clustered,
                                     const PretrainOptions& options, PretrainReport& rep, const Say& say) {
  if (!clustered) return ranking::TrainMoe(schema, train, topt, &rep.joint, EpochLine("joint", say));
  const ranking::MoeConfig& cfg = topt.model;
  HYMIR_ASSIGN_OR_RETURN(ranking::MoeModel full, ranking::MoeModel::Create(cfg, schema, topt.seed));
  full.set_normalization(ranking::FitNormalization(schema, train, cfg.log_inputs, cfg.ple_bins));
  const int experts = cfg.routed_experts + cfg.shared_experts;
  for (int x = 0; x < experts; ++x) {
    if (options.expert_filter && !options.expert_filter(x)) continue;
    HYMIR_RETURN_IF_ERROR(TrainOneExpert(x, schema, train, topt, say, full));
  }
  if (options.expert_gather) HYMIR_RETURN_IF_ERROR(options.expert_gather(full.parameters(), full.expert_parameters()));
  ranking::MoeTrainOptions o = topt;
  o.init = &full;
  o.objective.routing_loss = options.cluster_routing_loss;
  return ranking::TrainMoe(schema, train, o, &rep.joint, EpochLine("joint", say));
}

// One retrieval-prior weight tried on the check queries: per kind, the
// mean and standard error of the per-query nDCG@10 gain over the retrieval
// order. `raw` are the network's scores (they do not depend on mu).
PriorTrial TryPrior(double mu, const ranking::MoeModel& model, const CheckSplit& split,
                    const std::vector<double>& hybrid, const std::vector<std::vector<double>>& raw) {
  std::map<PseudoQueryKind, std::vector<double>> gains;
  for (size_t i = 0; i < split.check.size(); ++i) {
    std::vector<double> sc = raw[i];
    model.ApplyRetrievalPrior(split.check[i], sc);
    gains[split.check_kinds[i]].push_back(ranking::GroupNdcg(split.check[i], sc, 10) - hybrid[i]);
  }
  PriorTrial trial;
  trial.weight = mu;
  for (const auto& [k, g] : gains) {
    const double n = static_cast<double>(g.size());
    double m = 0, sq = 0;
    for (double x : g) m += x / n;
    for (double x : g) sq += (x - m) * (x - m);
    trial.kinds.push_back({k, m, n > 1 ? std::sqrt(sq / (n - 1) / n) : 0.0});
  }
  return trial;
}

// Stage 7: the retrieval-prior weight mu in {prior_floor, ..., 1} that
// maximises the objective over the kinds' bounds on the check queries
// (ties: the larger mean gain). At mu = 1 every gain is 0, so a model whose
// gains are not clearly positive ends near the retrieval order.
Status PriorStage(const PretrainOptions& options, const CheckSplit& split, ranking::MoeModel& model,
                  PretrainReport& rep, const Say& say) {
  std::vector<double> hybrid(split.check.size());
  std::vector<std::vector<double>> raw(split.check.size());
  for (size_t i = 0; i < split.check.size(); ++i) {
    hybrid[i] = RetrievalNdcg(split.check[i]);
    HYMIR_ASSIGN_OR_RETURN(auto f, model.RunForward(split.check[i]));
    raw[i] = std::move(f.scores);
  }
  double best_mu = 0, best_objective = -1e9, best_mean = -1e9;
  const int first = static_cast<int>(std::ceil(std::clamp(options.prior_floor, 0.0, 1.0) * 10.0 - 1e-9));
  for (int step = first; step <= 10; ++step) {
    const double mu = step / 10.0;
    HYMIR_RETURN_IF_ERROR(model.set_retrieval_prior("fused_rrank", mu));
    PriorTrial trial = TryPrior(mu, model, split, hybrid, raw);
    const double objective = PriorObjectiveValue(trial, options.prior_objective, options.prior_confidence);
    double mean = 0;
    std::string line = "pretrain: prior " + std::to_string(step / 10) + "." + std::to_string(step % 10) + ":";
    for (const auto& kg : trial.kinds) {
      mean += kg.mean_gain / static_cast<double>(trial.kinds.size());
      char buf[64];
      std::snprintf(buf, sizeof buf, " %s %+.4f", PseudoQueryKindName(kg.kind), kg.mean_gain);
      line += buf;
    }
    say(line);
    rep.prior_trials.push_back(std::move(trial));
    if (objective > best_objective + 1e-12 ||
        (std::abs(objective - best_objective) <= 1e-12 && mean > best_mean + 1e-12)) {
      best_mu = mu;
      best_objective = objective;
      best_mean = mean;
    }
  }
  HYMIR_RETURN_IF_ERROR(model.set_retrieval_prior("fused_rrank", best_mu));
  rep.prior_weight = best_mu;
  char buf[160];
  std::snprintf(
      buf, sizeof buf, "pretrain: retrieval prior weight %.1f (%s held-out gain over hybrid %+.4f)", best_mu,
      options.prior_objective == PriorObjective::kMeanKind ? "mean over generators of the" : "the worst generator's",
      best_objective);
  say(buf);
  return Status::OK();
}

// Stage 8: the model vs the hybrid order on the check queries, per kind.
Status CheckStage(const CheckSplit& split, const ranking::MoeModel& model, PretrainReport& rep, const Say& say) {
  std::map<PseudoQueryKind, PretrainCheck> checks;
  for (size_t i = 0; i < split.check.size(); ++i) {
    PretrainCheck& c = checks[split.check_kinds[i]];
    c.kind = split.check_kinds[i];
    ++c.queries;
    c.hybrid_ndcg += RetrievalNdcg(split.check[i]);
    HYMIR_ASSIGN_OR_RETURN(auto s, model.Score(split.check[i]));
    c.model_ndcg += ranking::GroupNdcg(split.check[i], s, 10);
  }
  for (auto& [k, c] : checks) {
    c.hybrid_ndcg /= static_cast<double>(c.queries);
    c.model_ndcg /= static_cast<double>(c.queries);
    rep.checks.push_back(c);
    char buf[160];
    std::snprintf(buf, sizeof buf, "pretrain: held-out %s pseudo-queries (%zu): nDCG@10 hybrid %.4f, model %.4f",
                  PseudoQueryKindName(k), c.queries, c.hybrid_ndcg, c.model_ndcg);
    say(buf);
  }
  return Status::OK();
}

}  // namespace

Result<ranking::MoeModel> Pretrain(const Engine& engine, const std::string& index_dir, const PretrainOptions& options,
                                   const KnowledgeContext* kg, PretrainReport* report) {
  PretrainReport local;
  PretrainReport& rep = report ? *report : local;
  rep = PretrainReport{};
  const Say say = [&](const std::string& line) {
    if (options.progress) options.progress(line);
  };
  const auto t_all = std::chrono::steady_clock::now();
  HYMIR_ASSIGN_OR_RETURN(std::vector<PseudoQuery> pqs, GenerateStage(engine, options, rep, say));
  if (kg && options.kg_uses.pseudo_queries && options.kg_query_share > 0) {
    const auto want = static_cast<size_t>(std::llround(options.kg_query_share * options.generate.queries));
    HYMIR_ASSIGN_OR_RETURN(std::vector<PseudoQuery> more,
                           GenerateKgPseudoQueries(engine, *kg, want, options.generate.seed));
    say("pretrain: " + std::to_string(more.size()) + " knowledge pseudo-queries (entity names and synonyms)");
    if (!more.empty()) rep.generated.push_back({PseudoQueryKind::kKnowledge, more.size()});
    for (auto& q : more) pqs.push_back(std::move(q));
  }
  TrainingCopy copy;
  HYMIR_RETURN_IF_ERROR(BuildCopyStage(engine, index_dir, options, pqs, rep, say, copy));
  const Engine& train_engine = copy.engine ? *copy.engine : engine;

  auto t = std::chrono::steady_clock::now();
  HYMIR_ASSIGN_OR_RETURN(Featurised features, FeatureStage(train_engine, options, pqs, kg));
  for (const auto& g : features.groups)
    for (double l : g.labels) rep.with_source += l > 0;
  rep.feature_seconds = Seconds(t);
  rep.queries_per_second = static_cast<double>(pqs.size()) / std::max(1e-9, Seconds(t_all));
  say("pretrain: candidates and features of " + std::to_string(pqs.size()) + " pseudo-queries (" +
      std::to_string(rep.with_source) + " with their source in the top " + std::to_string(options.depth) + "), " +
      std::to_string(static_cast<int>(rep.queries_per_second)) + " queries/s");

  const ranking::FeatureSchema& schema = features.extractor->schema();
  const ranking::MoeTrainOptions topt = StageOptions(options);
  bool clustered = options.cluster_experts;
  if (clustered && engine.searcher().vector_fields().empty()) {
    say("pretrain: the index has no vector field to cluster: joint pre-training");
    clustered = false;
  }
  if (clustered) HYMIR_RETURN_IF_ERROR(ClusterStage(engine, topt, pqs, features.groups, rep));
  const CheckSplit split = SplitCheckQueries(pqs, features.groups, topt.seed, options.check_fraction);
  rep.train_queries = split.train.size();
  rep.check_queries = split.check.size();

  t = std::chrono::steady_clock::now();
  HYMIR_ASSIGN_OR_RETURN(ranking::MoeModel model, TrainStage(schema, split.train, topt, clustered, options, rep, say));
  rep.train_seconds = Seconds(t);
  const auto& names = schema.pair_features;
  if (options.retrieval_prior && !split.check.empty() &&
      std::find(names.begin(), names.end(), "fused_rrank") != names.end())
    HYMIR_RETURN_IF_ERROR(PriorStage(options, split, model, rep, say));
  HYMIR_RETURN_IF_ERROR(CheckStage(split, model, rep, say));
  return model;
}

}  // namespace hymir
