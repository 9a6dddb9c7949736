#include "hymir/index/lsa_embedder.h"

#include <omp.h>

#include <algorithm>
#include <iterator>
#include <chrono>
#include <cmath>
#include <cstring>
#include <limits>
#include <unordered_map>

#include "index/embed/randomized_svd.h"
#include "src/core/crc32.h"
#include "src/core/file_util.h"

namespace hymir::index {

struct LsaEmbedder::Model {
  size_t dim = 0;
  AnalyzerKind analyzer = AnalyzerKind::kEnglish;
  std::vector<std::string> terms;  // sorted
  std::vector<float> idf;          // by term id
  std::vector<float> fold;         // terms x dim, row-major: V_k S_k^p
  std::unordered_map<std::string, uint32_t> lookup;

  void BuildLookup() {
    lookup.clear();
    lookup.reserve(terms.size());
    for (uint32_t i = 0; i < terms.size(); ++i) lookup.emplace(terms[i], i);
  }

  // The L2-normalised fold-in of one text into v (dim floats).
  void EmbedOne(const std::string& text, float* v) const;
};

namespace {

constexpr char kMagic[8] = {'H', 'Y', 'M', 'I', 'R', 'L', 'S', 'A'};
// Version 1 models know only the first three analyzers, and their code 0
// ("english") means english-lucenepp30: they were trained on its terms.
// Version 2 stores AnalyzerKind as is. Save() writes version 1 whenever it
// can, so that older builds keep reading those models.
constexpr uint32_t kVersion = 2;
constexpr uint32_t kOldestVersion = 1;
constexpr uint32_t kFirstExactAnalyzerVersion = 2;
constexpr size_t kChunk = 8192;  // documents analysed per parallel batch

#pragma pack(push, 1)
struct Header {
  char magic[8];
  uint32_t version;
  uint32_t dimension;
  uint64_t vocabulary;
  uint32_t analyzer;
  uint64_t payload_size;
  uint32_t payload_crc;
};
#pragma pack(pop)
static_assert(sizeof(Header) == 40);

int ResolveThreads(int threads) { return threads > 0 ? threads : std::max(1, omp_get_max_threads()); }

// Distinct terms of a text with their counts, sorted by term.
std::vector<std::pair<std::string, uint32_t>> TermCounts(AnalyzerKind kind, const std::string& text) {
  std::vector<std::string> tokens = Analyze(kind, text);
  std::sort(tokens.begin(), tokens.end());
  std::vector<std::pair<std::string, uint32_t>> out;
  for (size_t i = 0; i < tokens.size();) {
    size_t j = i + 1;
    while (j < tokens.size() && tokens[j] == tokens[i]) ++j;
    out.emplace_back(std::move(tokens[i]), static_cast<uint32_t>(j - i));
    i = j;
  }
  return out;
}

inline float SublinearTf(uint32_t tf) { return 1.0f + std::log(static_cast<float>(tf)); }

template <typename T>
void Put(std::string* out, const T& v) {
  out->append(reinterpret_cast<const char*>(&v), sizeof v);
}

double Since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

}  // namespace

void LsaEmbedder::Model::EmbedOne(const std::string& text, float* v) const {
  std::fill(v, v + dim, 0.0f);
  double norm = 0;
  std::vector<std::pair<uint32_t, float>> weights;
  for (const auto& [term, tf] : TermCounts(analyzer, text)) {
    auto it = lookup.find(term);
    if (it == lookup.end()) continue;
    const float w = SublinearTf(tf) * idf[it->second];
    weights.emplace_back(it->second, w);
    norm += double(w) * w;
  }
  if (norm <= 0) return;
  const float inv = static_cast<float>(1.0 / std::sqrt(norm));
  for (const auto& [id, w] : weights) {
    const float x = w * inv;
    const float* row = fold.data() + static_cast<size_t>(id) * dim;
    for (size_t c = 0; c < dim; ++c) v[c] += x * row[c];
  }
  double vn = 0;
  for (size_t c = 0; c < dim; ++c) vn += double(v[c]) * v[c];
  if (vn <= 0) return;
  const float vinv = static_cast<float>(1.0 / std::sqrt(vn));
  for (size_t c = 0; c < dim; ++c) v[c] *= vinv;
}

LsaEmbedder::LsaEmbedder(std::unique_ptr<const Model> model) : model_(std::move(model)) {}
LsaEmbedder::~LsaEmbedder() = default;
size_t LsaEmbedder::dimension() const { return model_->dim; }
std::string LsaEmbedder::name() const { return "lsa:" + std::to_string(model_->dim); }
size_t LsaEmbedder::vocabulary_size() const { return model_->terms.size(); }
AnalyzerKind LsaEmbedder::analyzer() const { return model_->analyzer; }

namespace {

// Pass 1's result: per document its (term id, count) pairs, 8 bytes per
// pair, in one exactly sized block per chunk of kChunk documents (no
// doubling of one huge vector), and the terms with their document
// frequencies.
struct PairBlock {
  uint64_t base = 0;  // global offset of the block's first pair
  std::vector<uint32_t> term, tf;
};
struct TermPairs {
  std::unordered_map<std::string, uint32_t> ids;
  std::vector<uint32_t> df;
  std::vector<uint64_t> doc_ptr;  // global pair offsets, documents + 1
  std::vector<PairBlock> blocks;
};

// Pass 1: analyse in parallel chunks; intern distinct terms serially.
TermPairs AnalyseTexts(const std::vector<std::string>& texts, AnalyzerKind analyzer, int threads) {
  const size_t n = texts.size();
  TermPairs p;
  p.doc_ptr.assign(n + 1, 0);
  p.blocks.reserve((n + kChunk - 1) / kChunk);
  std::vector<std::vector<std::pair<std::string, uint32_t>>> chunk(std::min(kChunk, n));
  for (size_t base = 0; base < n; base += kChunk) {
    const size_t m = std::min(kChunk, n - base);
#pragma omp parallel for num_threads(threads) schedule(dynamic, 16)
    for (int64_t i = 0; i < static_cast<int64_t>(m); ++i) chunk[i] = TermCounts(analyzer, texts[base + i]);
    PairBlock& block = p.blocks.emplace_back();
    block.base = p.doc_ptr[base];
    size_t pairs = 0;
    for (size_t i = 0; i < m; ++i) pairs += chunk[i].size();
    block.term.reserve(pairs);
    block.tf.reserve(pairs);
    for (size_t i = 0; i < m; ++i) {
      for (auto& [term, tf] : chunk[i]) {
        auto [it, inserted] = p.ids.try_emplace(std::move(term), static_cast<uint32_t>(p.df.size()));
        if (inserted) p.df.push_back(0);
        ++p.df[it->second];
        block.term.push_back(it->second);
        block.tf.push_back(tf);
      }
      p.doc_ptr[base + i + 1] = block.base + block.term.size();
      chunk[i].clear();
    }
  }
  return p;
}

constexpr uint32_t kDropped = std::numeric_limits<uint32_t>::max();

// The vocabulary: df >= min_df, the max_vocabulary most frequent (ties by
// term), then ordered by term so that ids do not depend on the input order.
// Fills the model's terms and idf; returns the old id -> new id map
// (kDropped for terms left out). Frees the pairs' term map.
Result<std::vector<uint32_t>> SelectVocabulary(TermPairs& p, size_t n, const LsaOptions& options,
                                               LsaEmbedder::Model& model) {
  std::vector<std::pair<uint32_t, const std::string*>> by_df;
  for (const auto& [term, id] : p.ids) {
    if (p.df[id] >= options.min_df) by_df.push_back({id, &term});
  }
  std::sort(by_df.begin(), by_df.end(), [&](const auto& a, const auto& b) {
    return p.df[a.first] != p.df[b.first] ? p.df[a.first] > p.df[b.first] : *a.second < *b.second;
  });
  if (by_df.size() > options.max_vocabulary) by_df.resize(options.max_vocabulary);
  std::sort(by_df.begin(), by_df.end(), [](const auto& a, const auto& b) { return *a.second < *b.second; });
  if (by_df.empty()) {
    return Status::InvalidArgument("LSA: no term occurs in at least min_df = " + std::to_string(options.min_df) +
                                   " of the " + std::to_string(n) + " documents");
  }
  const size_t k = options.dimension;
  const size_t vocab = by_df.size();
  if (k >= std::min(n, vocab)) {
    return Status::InvalidArgument("LSA: dimension " + std::to_string(k) + " must be below min(documents " +
                                   std::to_string(n) + ", vocabulary " + std::to_string(vocab) + ")");
  }
  std::vector<uint32_t> remap(p.df.size(), kDropped);
  model.terms.reserve(vocab);
  model.idf.reserve(vocab);
  for (const auto& [old_id, term] : by_df) {
    remap[old_id] = static_cast<uint32_t>(model.terms.size());
    model.terms.push_back(*term);
    model.idf.push_back(static_cast<float>(std::log(static_cast<double>(n) / p.df[old_id])));
  }
  by_df = {};
  p.ids = {};
  p.df = {};
  return remap;
}

// Pass 2: the TF-IDF matrix in CSR, rows L2-normalised.
internal::CsrMatrix TfIdfMatrix(const TermPairs& p, const std::vector<uint32_t>& remap, const std::vector<float>& idf,
                                size_t n, int threads) {
  internal::CsrMatrix a;
  a.rows = n;
  a.cols = idf.size();
  a.row_ptr.assign(n + 1, 0);
#pragma omp parallel for num_threads(threads) schedule(static)
  for (int64_t d = 0; d < static_cast<int64_t>(n); ++d) {
    const PairBlock& block = p.blocks[d / kChunk];
    uint64_t kept = 0;
    for (uint64_t q = p.doc_ptr[d]; q < p.doc_ptr[d + 1]; ++q) kept += remap[block.term[q - block.base]] != kDropped;
    a.row_ptr[d + 1] = kept;
  }
  for (size_t d = 0; d < n; ++d) a.row_ptr[d + 1] += a.row_ptr[d];
  a.col.resize(a.row_ptr[n]);
  a.val.resize(a.row_ptr[n]);
#pragma omp parallel for num_threads(threads) schedule(static)
  for (int64_t d = 0; d < static_cast<int64_t>(n); ++d) {
    const PairBlock& block = p.blocks[d / kChunk];
    uint64_t out = a.row_ptr[d];
    double norm = 0;
    for (uint64_t q = p.doc_ptr[d] - block.base; q < p.doc_ptr[d + 1] - block.base; ++q) {
      const uint32_t id = remap[block.term[q]];
      if (id == kDropped) continue;
      const float w = SublinearTf(block.tf[q]) * idf[id];
      a.col[out] = id;
      a.val[out] = w;
      norm += double(w) * w;
      ++out;
    }
    if (norm > 0) {
      const float inv = static_cast<float>(1.0 / std::sqrt(norm));
      for (uint64_t q = a.row_ptr[d]; q < out; ++q) a.val[q] *= inv;
    }
  }
  return a;
}

// Randomized SVD: A ~ U_k S_k V_k^T; the model's fold-in matrix V_k S_k^p.
Result<internal::TruncatedSvd> FoldIn(const internal::CsrMatrix& a, const LsaOptions& options, int threads,
                                      LsaEmbedder::Model& model) {
  const size_t k = options.dimension;
  internal::SvdOptions svd_options;
  svd_options.rank = k;
  svd_options.oversampling = options.oversampling;
  svd_options.power_iterations = options.power_iterations;
  svd_options.seed = options.seed;
  svd_options.threads = threads;
  HYMIR_ASSIGN_OR_RETURN(internal::TruncatedSvd svd, internal::RandomizedSvd(a, svd_options));
  // Numerical rank: singular values below 1e-3 * sigma_1 are float round-off
  // of the Gram matrix (its eigenvalues carry ~1e-7 * sigma_1^2 of error).
  const float s1 = svd.singular_values[0];
  size_t rank = 0;
  while (rank < k && svd.singular_values[rank] > 1e-3f * s1) ++rank;
  if (rank < k) {
    return Status::InvalidArgument("LSA: dimension " + std::to_string(k) +
                                   " exceeds the numerical rank of the TF-IDF matrix (" + std::to_string(rank) +
                                   "); use a smaller dimension or more distinct documents");
  }
  std::vector<float> scale(k, 1.0f);
  if (options.sigma_power != 0.0f) {
    for (size_t c = 0; c < k; ++c) scale[c] = std::pow(svd.singular_values[c], options.sigma_power);
  }
  std::vector<float> fold = std::move(svd.v);
  const size_t vocab = model.terms.size();
  for (size_t t = 0; t < vocab; ++t) {
    for (size_t c = 0; c < k; ++c) fold[t * k + c] *= scale[c];
  }
  model.fold = std::move(fold);
  return svd;
}

Result<std::unique_ptr<LsaEmbedder::Model>> TrainModel(const std::vector<std::string>& texts, const LsaOptions& options,
                                                       LsaTrainStats* stats) {
  const auto start = std::chrono::steady_clock::now();
  if (texts.empty()) return Status::InvalidArgument("LSA: no documents to train on");
  if (options.dimension == 0) return Status::InvalidArgument("LSA: dimension must be > 0");
  if (options.power_iterations < 0) return Status::InvalidArgument("LSA: power_iterations must be >= 0");
  if (!std::isfinite(options.sigma_power)) return Status::InvalidArgument("LSA: sigma_power must be finite");
  const size_t n = texts.size();
  const int threads = ResolveThreads(options.threads);
  TermPairs pairs = AnalyseTexts(texts, options.analyzer, threads);
  auto model = std::make_unique<LsaEmbedder::Model>();
  model->dim = options.dimension;
  model->analyzer = options.analyzer;
  HYMIR_ASSIGN_OR_RETURN(std::vector<uint32_t> remap, SelectVocabulary(pairs, n, options, *model));
  const internal::CsrMatrix a = TfIdfMatrix(pairs, remap, model->idf, n, threads);
  pairs = {};
  remap = {};
  const double analysis_seconds = Since(start);
  const auto svd_start = std::chrono::steady_clock::now();
  HYMIR_ASSIGN_OR_RETURN(internal::TruncatedSvd svd, FoldIn(a, options, threads, *model));
  const double svd_seconds = Since(svd_start);
  model->BuildLookup();
  if (stats) {
    stats->documents = n;
    stats->vocabulary = model->terms.size();
    stats->nonzeros = a.val.size();
    stats->analysis_seconds = analysis_seconds;
    stats->svd_seconds = svd_seconds;
    stats->singular_values = svd.singular_values;
    stats->seconds = Since(start);
  }
  return model;
}

}  // namespace

Result<std::unique_ptr<LsaEmbedder>> LsaEmbedder::Train(const std::vector<std::string>& texts,
                                                        const LsaOptions& options, LsaTrainStats* stats) {
  try {
    HYMIR_ASSIGN_OR_RETURN(std::unique_ptr<Model> model, TrainModel(texts, options, stats));
    return std::unique_ptr<LsaEmbedder>(new LsaEmbedder(std::move(model)));
  } catch (const std::exception& e) {  // std::bad_alloc on a corpus too big for memory
    return Status::Internal(std::string("LSA training failed: ") + e.what());
  }
}

Status LsaEmbedder::Embed(const std::vector<std::string>& texts, float* out) const {
  const Model& m = *model_;
  const int64_t count = static_cast<int64_t>(texts.size());
  // Parallel only for big batches outside other parallel regions: callers
  // embedding one text per call from their own threads stay single-threaded.
  const bool parallel = count >= 256 && !omp_in_parallel();
#pragma omp parallel for if (parallel) schedule(dynamic, 32)
  for (int64_t t = 0; t < count; ++t) m.EmbedOne(texts[t], out + static_cast<size_t>(t) * m.dim);
  return Status::OK();
}

Status LsaEmbedder::Save(const std::string& path) const try {
  const Model& m = *model_;
  // One buffer: header space, then the payload; the header is filled last.
  size_t term_bytes = 0;
  for (const auto& t : m.terms) term_bytes += sizeof(uint32_t) + t.size();
  std::string bytes(sizeof(Header), '\0');
  bytes.reserve(sizeof(Header) + term_bytes + (m.idf.size() + m.fold.size()) * sizeof(float));
  for (const auto& t : m.terms) {
    Put(&bytes, static_cast<uint32_t>(t.size()));
    bytes += t;
  }
  bytes.append(reinterpret_cast<const char*>(m.idf.data()), m.idf.size() * sizeof(float));
  bytes.append(reinterpret_cast<const char*>(m.fold.data()), m.fold.size() * sizeof(float));
  Header h;
  std::memcpy(h.magic, kMagic, sizeof kMagic);
  switch (m.analyzer) {
    case AnalyzerKind::kEnglishLegacy:
      h.version = kOldestVersion;
      h.analyzer = static_cast<uint32_t>(AnalyzerKind::kEnglish);
      break;
    case AnalyzerKind::kStandard:
    case AnalyzerKind::kWhitespace:
      h.version = kOldestVersion;
      h.analyzer = static_cast<uint32_t>(m.analyzer);
      break;
    default:  // english and the analyzers added after it: only version 2 knows them
      h.version = kFirstExactAnalyzerVersion;
      h.analyzer = static_cast<uint32_t>(m.analyzer);
      break;
  }
  h.dimension = static_cast<uint32_t>(m.dim);
  h.vocabulary = m.terms.size();
  h.payload_size = bytes.size() - sizeof(Header);
  h.payload_crc = hymir::internal::Crc32(0, bytes.data() + sizeof(Header), h.payload_size);
  std::memcpy(bytes.data(), &h, sizeof h);
  return hymir::internal::WriteFileAtomic(path, bytes).WithContext("saving LSA model");
} catch (const std::exception& e) {
  return Status::Internal(path + ": saving LSA model failed: " + e.what());
}

namespace {

Result<std::unique_ptr<LsaEmbedder::Model>> LoadModel(const std::string& path) {
  using Model = LsaEmbedder::Model;
  auto bytes = hymir::internal::ReadFile(path);
  if (!bytes.ok()) return bytes.status();
  const std::string& b = *bytes;
  Header h;
  if (b.size() < sizeof h) {
    return Status::Corruption(path + ": not an LSA model or truncated (" + std::to_string(b.size()) +
                              " bytes, header needs " + std::to_string(sizeof h) + ")");
  }
  std::memcpy(&h, b.data(), sizeof h);
  if (std::memcmp(h.magic, kMagic, sizeof kMagic) != 0) {
    return Status::Corruption(path + ": not an LSA model (bad magic)");
  }
  if (h.version < kOldestVersion || h.version > kVersion) {
    return Status::NotSupported(path + ": LSA model format version " + std::to_string(h.version) +
                                ", this build reads versions " + std::to_string(kOldestVersion) + " to " +
                                std::to_string(kVersion));
  }
  const uint64_t have = b.size() - sizeof h;
  if (h.payload_size != have) {
    return Status::Corruption(path + ": truncated or extended LSA model (payload " + std::to_string(have) +
                              " bytes, header says " + std::to_string(h.payload_size) + ")");
  }
  if (hymir::internal::Crc32(0, b.data() + sizeof h, have) != h.payload_crc) {
    return Status::Corruption(path + ": LSA model checksum mismatch");
  }
  const AnalyzerKind last_known =
      h.version < kFirstExactAnalyzerVersion ? AnalyzerKind::kWhitespace : std::end(kAllAnalyzerKinds)[-1];
  if (h.analyzer > static_cast<uint32_t>(last_known)) {
    return Status::Corruption(path + ": unknown analyzer " + std::to_string(h.analyzer) + " in a version " +
                              std::to_string(h.version) + " LSA model");
  }
  AnalyzerKind analyzer = static_cast<AnalyzerKind>(h.analyzer);
  if (h.version < kFirstExactAnalyzerVersion && analyzer == AnalyzerKind::kEnglish) {
    analyzer = AnalyzerKind::kEnglishLegacy;  // its vocabulary holds that chain's stems
  }
  // Each term takes at least 4 + 4 + 4 * dimension bytes: bound the sizes
  // before multiplying or allocating anything.
  if (h.dimension == 0 || h.vocabulary == 0 || h.vocabulary > have / (8 + 4 * uint64_t{h.dimension})) {
    return Status::Corruption(path + ": implausible dimension " + std::to_string(h.dimension) + " / vocabulary " +
                              std::to_string(h.vocabulary) + " for a " + std::to_string(have) + "-byte payload");
  }
  auto m = std::make_unique<Model>();
  m->dim = h.dimension;
  m->analyzer = analyzer;
  const char* p = b.data() + sizeof h;
  const char* end = b.data() + b.size();
  m->terms.reserve(h.vocabulary);
  for (uint64_t i = 0; i < h.vocabulary; ++i) {
    uint32_t len;
    if (static_cast<size_t>(end - p) < sizeof len) return Status::Corruption(path + ": truncated vocabulary");
    std::memcpy(&len, p, sizeof len);
    p += sizeof len;
    if (static_cast<size_t>(end - p) < len) return Status::Corruption(path + ": truncated vocabulary");
    m->terms.emplace_back(p, len);
    p += len;
  }
  const uint64_t floats = h.vocabulary * (uint64_t{1} + h.dimension);
  if (static_cast<uint64_t>(end - p) != floats * sizeof(float)) {
    return Status::Corruption(path + ": LSA matrix size does not match vocabulary " + std::to_string(h.vocabulary) +
                              " x dimension " + std::to_string(h.dimension));
  }
  m->idf.resize(h.vocabulary);
  std::memcpy(m->idf.data(), p, m->idf.size() * sizeof(float));
  p += m->idf.size() * sizeof(float);
  m->fold.resize(h.vocabulary * h.dimension);
  std::memcpy(m->fold.data(), p, m->fold.size() * sizeof(float));
  m->BuildLookup();
  return m;
}

}  // namespace

Result<std::unique_ptr<LsaEmbedder>> LsaEmbedder::Load(const std::string& path) {
  try {
    HYMIR_ASSIGN_OR_RETURN(std::unique_ptr<Model> model, LoadModel(path));
    return std::unique_ptr<LsaEmbedder>(new LsaEmbedder(std::move(model)));
  } catch (const std::exception& e) {
    return Status::Internal(path + ": loading LSA model failed: " + e.what());
  }
}

}  // namespace hymir::index
