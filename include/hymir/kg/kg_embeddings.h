// hymir::kg::KgEmbeddings: TransE embeddings (Bordes et al., "Translating
// Embeddings for Modeling Multi-relational Data", NIPS 2013) of the entities
// and relations of a TripleStore, trained in process, evaluated by link
// prediction on held-out triples, and saved next to the store's RocksDB files
// as <kg_dir>/transe.bin (format: kg/embed/transe_format.h).
//
// In TransE a relation is a translation: for a true triple (h, r, t) the
// vectors satisfy h + r ~= t, so ||h + r - t|| scores a triple (lower = more
// plausible) and entities with similar neighbourhoods get similar vectors.
//
// Thread-safety: a KgEmbeddings is an immutable value once built (Train or
// Load); every const method may be called concurrently from any number of
// threads. Copies share the vectors (copying is cheap). Train() reads the
// store through its thread-safe const API, so the store may be used by other
// threads meanwhile (triples written during training may or may not be seen).
#ifndef HYMIR_KG_KG_EMBEDDINGS_H_
#define HYMIR_KG_KG_EMBEDDINGS_H_

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "hymir/kg/triple_store.h"
#include "hymir/result.h"
#include "hymir/status.h"

namespace hymir::kg {

// Name of the embeddings file inside a KG directory.
inline constexpr std::string_view kTransEFileName = "transe.bin";

enum class TransENorm : uint8_t {
  kL2,  // ||h + r - t||_2 (not squared)
  kL1,  // sum of absolute differences
};

enum class TransEOptimizer : uint8_t {
  kSgd,      // plain mini-batch SGD, as in the paper
  kAdagrad,  // per-coordinate Adagrad (Duchi et al. 2011); converges in fewer epochs
};

struct TransEOptions {
  // Embedding dimension (entities and relations). 1..4096. Default: 64.
  int dim = 64;
  // Passes over the training triples. >= 0 (0 = random vectors). Default: 20.
  int epochs = 20;
  // Step size (SGD: the step; Adagrad: the base rate). > 0. Default: 0.05,
  // for Adagrad: on WordNet (dim 64, 20 epochs) 0.01 reaches filtered MRR
  // 0.04, 0.05 reaches 0.46, 0.1 0.44, 0.2 0.34. With kSgd use the paper's
  // 0.01 (Bordes et al. 2013, WN18) and many more epochs.
  double learning_rate = 0.05;
  // Margin gamma of the ranking loss max(0, gamma + d(pos) - d(neg)). > 0.
  // Default: 1.0 (the paper's value).
  double margin = 1.0;
  // Corrupted triples per true triple and epoch; each replaces the head or
  // the tail (probability 1/2) by a uniformly drawn entity. >= 1. Default: 1.
  int negatives = 1;
  // True triples per mini-batch (one parameter update per batch). >= 1.
  // Default: 1024.
  size_t batch_size = 1024;
  // Seeds initialisation, shuffling, negatives and the held-out split.
  // Training is deterministic for a given (seed, threads). Default: 42.
  uint64_t seed = 42;
  // Fraction of the triples held out of training for LinkPredictionReport
  // (held-out triples keep both ends seen in training). [0, 0.5]. Default: 0.
  double holdout_fraction = 0.0;
  // At most this many held-out triples are ranked (each ranks all entities).
  // 0 = all. Default: 1000.
  size_t eval_max_triples = 1000;
  // Worker threads computing a batch's gradients. >= 1. Default: 1.
  int threads = 1;
  TransENorm norm = TransENorm::kL2;
  // Default: kAdagrad (SGD at 0.01 reaches filtered MRR 0.02 on WordNet in
  // 20 epochs; the paper trains up to 1000).
  TransEOptimizer optimizer = TransEOptimizer::kAdagrad;
  // Called after each epoch with the mean hinge loss per (true, corrupted)
  // pair of that epoch, on the thread calling Train() (need not be
  // thread-safe). May be empty.
  std::function<void(int epoch, double loss)> progress;
  // Triples under these relations are not trained on (labels are not
  // entities). Default: {kAliasRelation}.
  std::vector<std::string> skip_relations = {std::string(kAliasRelation)};
};

// Link prediction on the held-out triples: for each (h, r, t) every entity e
// is scored by ||h + r - e|| and the rank of t is taken (1 = best; ties count
// against t). "raw" ranks among all entities; "filtered" first removes the
// other entities e with (h, r, e) a known triple (Bordes et al. 2013).
struct LinkPredictionReport {
  size_t entities = 0;
  size_t relations = 0;
  size_t train_triples = 0;
  size_t test_triples = 0;       // held out of training
  size_t evaluated_triples = 0;  // ranked: min(test_triples, eval_max_triples)
  double mrr = 0;                // raw mean reciprocal rank of the true tail
  double hits_at_10 = 0;         // raw fraction ranked in the top 10
  double filtered_mrr = 0;
  double filtered_hits_at_10 = 0;
  double random_mrr = 0;  // raw, with the untrained (initial) vectors
  double random_hits_at_10 = 0;
  double seconds = 0;       // training wall time (reading the store excluded)
  double read_seconds = 0;  // reading the triples from the store
  double eval_seconds = 0;  // ranking, trained and random together
};

class KgEmbeddings {
 public:
  // Trains TransE on every triple of `store` except those under
  // options.skip_relations (and the held-out ones). When `report` is given
  // and options.holdout_fraction > 0, fills it with link-prediction figures;
  // with no holdout only the counts and seconds are filled.
  // InvalidArgument naming the field for a bad option; InvalidArgument when
  // the store holds no trainable triple.
  static Result<KgEmbeddings> Train(const TripleStore& store, const TransEOptions& options,
                                    LinkPredictionReport* report = nullptr);

  // Reads <kg_dir>/transe.bin. NotFound naming the file when absent;
  // Corruption naming the file when its magic, version, sizes or CRC32 are
  // wrong (truncated, flipped bytes, another file).
  static Result<KgEmbeddings> Load(const std::string& kg_dir);

  // An empty embedding (no entity, dim 0); Train or Load make useful ones.
  KgEmbeddings();

  // Writes <kg_dir>/transe.bin atomically (temp file, fsync, rename, directory
  // fsync): a crash leaves the old file or the new one. NotFound when kg_dir
  // is not a directory; InvalidArgument for empty (default-constructed)
  // embeddings; IOError naming the file on a failed write.
  Status Save(const std::string& kg_dir) const;

  int dim() const;
  TransENorm norm() const;
  size_t num_entities() const;
  size_t num_relations() const;
  // Names in vector order (index i of the matrices), borrowed from *this.
  std::span<const std::string> EntityNames() const;
  std::span<const std::string> RelationNames() const;

  // The dim() floats of an entity or relation, borrowed from *this (valid
  // while *this or a copy lives); nullopt when the name was not trained.
  std::optional<std::span<const float>> Entity(std::string_view name) const;
  std::optional<std::span<const float>> Relation(std::string_view name) const;

  // Cosine of the two entity vectors in [-1, 1]; 0 when either is unknown.
  double Similarity(std::string_view a, std::string_view b) const;
  // ||h + r - t|| under norm() (lower = more plausible); nullopt when a name is
  // unknown.
  std::optional<double> Distance(std::string_view head, std::string_view relation, std::string_view tail) const;

  struct Data;  // private representation (kg/embed/transe_data.h)

 private:
  explicit KgEmbeddings(std::shared_ptr<const Data> data);
  std::shared_ptr<const Data> data_;
};

}  // namespace hymir::kg

#endif  // HYMIR_KG_KG_EMBEDDINGS_H_
