// EntityLinker over a token trie. Nodes are dense ids (0 = root); an edge is
// one entry of a hash map keyed by (node << 32 | token id), so the trie costs
// ~40 bytes per edge with no per-node containers. Terminal nodes own a slice
// of one flat candidate array, already sorted by prior.
#include "hymir/kg/entity_linker.h"

#include <algorithm>
#include <atomic>
#include <cctype>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <limits>
#include <system_error>
#include <thread>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <utility>

#include "src/core/binary_io.h"
#include "src/core/crc32.h"
#include "src/core/file_util.h"

namespace hymir::kg {
namespace {

// Heterogeneous lookup: find a std::string key with a std::string_view.
struct StringHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};
template <typename V>
using StringMap = std::unordered_map<std::string, V, StringHash, std::equal_to<>>;

constexpr uint32_t kNoToken = std::numeric_limits<uint32_t>::max();
constexpr uint32_t kNoTerminal = std::numeric_limits<uint32_t>::max();

bool IsTokenByte(unsigned char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c >= 0x80;
}

uint64_t EdgeKey(uint32_t node, uint32_t token) { return (static_cast<uint64_t>(node) << 32) | token; }

struct Terminal {
  uint32_t begin = 0;  // into candidates_
  uint32_t count = 0;  // kept candidates
  uint32_t total = 0;  // entities having the alias
};

class TrieLinker final : public EntityLinker {
 public:
  TrieLinker(TokenizeFn tokenize, LinkerOptions options)
      : tokenize_(std::move(tokenize)), options_(std::move(options)) {}

  Status Init(const TripleStore& store);
  // The cache file of this linker for a store at (generation, count) with
  // tokenizer `tokenizer_id`, and its inverse: false, leaving the linker
  // unusable, unless `data` is such a file for exactly these keys and options.
  std::string Serialize(uint64_t generation, uint64_t count, const std::string& tokenizer_id) const;
  bool Deserialize(std::string_view data, uint64_t generation, uint64_t count, const std::string& tokenizer_id);

  std::vector<EntityMention> Link(std::string_view text) const override {
    std::vector<std::string> tokens = tokenize_(text);
    return Link(std::span<const std::string>(tokens));
  }
  std::vector<EntityMention> Link(std::span<const std::string> tokens) const override;

  std::vector<std::string> Tokenize(std::string_view text) const override { return tokenize_(text); }

  double Prior(std::string_view entity) const override {
    auto it = entity_ids_.find(entity);
    return it == entity_ids_.end() ? 0.0 : priors_[it->second];
  }

  const LinkerStats& stats() const override { return stats_; }
  const LinkerOptions& options() const override { return options_; }
  void set_build_seconds(double s) { stats_.build_seconds = s; }

 private:
  uint32_t TokenId(std::string_view token) const {
    auto it = token_ids_.find(token);
    return it == token_ids_.end() ? kNoToken : it->second;
  }
  uint32_t Child(uint32_t node, uint32_t token) const {
    auto it = edges_.find(EdgeKey(node, token));
    return it == edges_.end() ? 0 : it->second;  // 0 (the root) is never a child
  }

  TokenizeFn tokenize_;
  LinkerOptions options_;
  LinkerStats stats_;
  StringMap<uint32_t> token_ids_;
  std::unordered_map<uint64_t, uint32_t> edges_;
  std::vector<uint32_t> terminal_of_;  // by node: index into terminals_ or kNoTerminal
  std::vector<Terminal> terminals_;
  std::vector<uint32_t> candidates_;   // entity ids
  std::vector<std::string> entities_;  // by entity id
  StringMap<uint32_t> entity_ids_;
  std::vector<double> priors_;  // by entity id
};

Status TrieLinker::Init(const TripleStore& store) {
  const auto start = std::chrono::steady_clock::now();
  TriplePattern pattern;
  pattern.relation = std::string(kAliasRelation);
  auto triples = store.Match(pattern);
  if (!triples.ok()) return triples.status().WithContext("EntityLinker::Build: reading aliases");
  stats_.alias_triples = triples->size();

  std::unordered_set<std::string_view> stop_words(options_.single_token_stop_words.begin(),
                                                  options_.single_token_stop_words.end());
  std::vector<uint32_t> alias_counts;                    // by entity id
  std::vector<std::vector<uint32_t>> node_entities{{}};  // by node; root has none
  StringMap<uint32_t> alias_nodes;                       // alias string -> terminal node (0 = skipped)
  uint32_t next_node = 1;

  auto entity_id = [&](const std::string& entity) {
    auto [it, inserted] = entity_ids_.try_emplace(entity, static_cast<uint32_t>(entities_.size()));
    if (inserted) {
      entities_.push_back(entity);
      alias_counts.push_back(0);
    }
    return it->second;
  };

  for (const Triple& t : *triples) {
    const uint32_t e = entity_id(t.subject);
    ++alias_counts[e];
    auto cached = alias_nodes.find(t.object);
    uint32_t node = 0;
    if (cached != alias_nodes.end()) {
      node = cached->second;
    } else {
      std::vector<std::string> tokens;
      try {
        tokens = tokenize_(t.object);
      } catch (const std::exception& ex) {
        return Status::Internal("EntityLinker::Build: tokenizer threw on alias '" + t.object + "' of " + t.subject +
                                ": " + ex.what());
      }
      bool keep = !tokens.empty() && tokens.size() <= options_.max_alias_tokens;
      if (keep && tokens.size() == 1) {
        keep = tokens[0].size() >= options_.min_single_token_chars && !stop_words.contains(tokens[0]);
      }
      if (keep) {
        for (const std::string& token : tokens) {
          auto [tok, new_token] = token_ids_.try_emplace(token, static_cast<uint32_t>(token_ids_.size()));
          auto [edge, new_edge] = edges_.try_emplace(EdgeKey(node, tok->second), next_node);
          if (new_edge) {
            ++next_node;
            node_entities.emplace_back();
          }
          node = edge->second;
        }
      }
      alias_nodes.emplace(t.object, node);
    }
    if (node == 0) {
      ++stats_.skipped_aliases;
      continue;
    }
    node_entities[node].push_back(e);
  }

  // Priors, for entities reachable from some alias only.
  priors_.assign(entities_.size(), 0.0);
  std::vector<bool> linked(entities_.size(), false);
  for (const auto& list : node_entities) {
    for (uint32_t e : list) linked[e] = true;
  }
  // Degrees are one store scan per entity (most of Build on WordNet); the
  // store allows concurrent reads, so split the entities over threads.
  const size_t n = entities_.size();
  size_t threads =
      options_.build_threads != 0 ? options_.build_threads : std::min<size_t>(8, std::thread::hardware_concurrency());
  threads = std::clamp<size_t>(threads, 1, std::max<size_t>(1, n / 1024));
  std::vector<Status> errors(threads);
  std::atomic<size_t> next{0};  // chunks of 256 entities, taken by whoever is free
  auto degrees = [&](size_t t) {
    for (size_t begin; (begin = next.fetch_add(256)) < n;) {
      for (size_t e = begin; e < std::min(n, begin + 256); ++e) {
        if (!linked[e]) continue;
        auto edges = store.Neighbors(entities_[e], std::nullopt, Direction::kBoth, options_.degree_cap);
        if (!edges.ok()) {
          errors[t] = edges.status().WithContext("EntityLinker::Build: degree of " + entities_[e]);
          next.store(n);
          return;
        }
        priors_[e] =
            std::log1p(static_cast<double>(edges->size())) + 0.5 * std::log1p(static_cast<double>(alias_counts[e]));
      }
    }
  };
  std::vector<std::thread> pool;
  try {
    for (size_t t = 1; t < threads; ++t) pool.emplace_back(degrees, t);
  } catch (const std::system_error&) {
    // No more threads: the ones running (and this one) take every chunk.
  }
  degrees(0);
  for (std::thread& th : pool) th.join();
  for (const Status& st : errors) HYMIR_RETURN_IF_ERROR(st);
  stats_.entities = static_cast<size_t>(std::count(linked.begin(), linked.end(), true));

  terminal_of_.assign(next_node, kNoTerminal);
  // Terminals: distinct entities, best prior first, ties by entity id string.
  for (uint32_t node = 1; node < node_entities.size(); ++node) {
    std::vector<uint32_t>& list = node_entities[node];
    if (list.empty()) continue;
    std::sort(list.begin(), list.end());
    list.erase(std::unique(list.begin(), list.end()), list.end());
    std::sort(list.begin(), list.end(), [&](uint32_t a, uint32_t b) {
      if (priors_[a] != priors_[b]) return priors_[a] > priors_[b];
      return entities_[a] < entities_[b];
    });
    Terminal term;
    term.begin = static_cast<uint32_t>(candidates_.size());
    term.total = static_cast<uint32_t>(list.size());
    term.count = static_cast<uint32_t>(std::min<size_t>(list.size(), options_.max_candidates));
    candidates_.insert(candidates_.end(), list.begin(), list.begin() + term.count);
    terminal_of_[node] = static_cast<uint32_t>(terminals_.size());
    terminals_.push_back(term);
    std::vector<uint32_t>().swap(list);
  }
  stats_.indexed_aliases = terminals_.size();
  stats_.tokens = token_ids_.size();
  stats_.trie_nodes = next_node;
  stats_.build_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return Status::OK();
}

constexpr char kCacheMagic[8] = {'H', 'Y', 'M', 'I', 'R', 'L', 'N', 'K'};
constexpr uint32_t kCacheVersion = 1;

// The options that shape the trie and the priors (not build_threads).
void WriteOptions(internal::BinaryWriter& w, const LinkerOptions& o) {
  w.U64(o.max_alias_tokens);
  w.U64(o.min_single_token_chars);
  w.Strings(o.single_token_stop_words);
  w.U64(o.max_candidates);
  w.U64(o.degree_cap);
}

std::string TrieLinker::Serialize(uint64_t generation, uint64_t count, const std::string& tokenizer_id) const {
  internal::BinaryWriter w;
  w.Raw(kCacheMagic, sizeof kCacheMagic);
  w.U32(kCacheVersion);
  w.U64(generation);
  w.U64(count);
  w.Str(tokenizer_id);
  WriteOptions(w, options_);
  std::vector<std::string> tokens(token_ids_.size());
  for (const auto& [token, id] : token_ids_) tokens[id] = token;
  w.Strings(tokens);
  std::vector<uint64_t> edge_keys;
  std::vector<uint32_t> edge_children;
  edge_keys.reserve(edges_.size());
  edge_children.reserve(edges_.size());
  for (const auto& [key, child] : edges_) {
    edge_keys.push_back(key);
    edge_children.push_back(child);
  }
  w.Pods(edge_keys);
  w.Pods(edge_children);
  w.Pods(terminal_of_);
  w.Pods(terminals_);
  w.Pods(candidates_);
  w.Strings(entities_);
  w.Pods(priors_);
  const std::vector<uint64_t> stats = {stats_.alias_triples, stats_.indexed_aliases, stats_.skipped_aliases,
                                       stats_.entities,      stats_.tokens,          stats_.trie_nodes};
  w.Pods(stats);
  w.U32(internal::Crc32(0, w.out().data(), w.out().size()));
  return std::move(w.out());
}

bool TrieLinker::Deserialize(std::string_view data, uint64_t generation, uint64_t count,
                             const std::string& tokenizer_id) {
  if (data.size() < sizeof kCacheMagic + 4 || std::memcmp(data.data(), kCacheMagic, sizeof kCacheMagic) != 0)
    return false;
  uint32_t stored_crc;
  std::memcpy(&stored_crc, data.data() + data.size() - 4, 4);
  if (internal::Crc32(0, data.data(), data.size() - 4) != stored_crc) return false;
  internal::BinaryReader r(data.substr(sizeof kCacheMagic, data.size() - sizeof kCacheMagic - 4));
  uint32_t version = 0;
  uint64_t stored_generation = 0, stored_count = 0;
  std::string stored_tokenizer;
  if (!r.U32(&version) || version != kCacheVersion || !r.U64(&stored_generation) || !r.U64(&stored_count) ||
      !r.Str(&stored_tokenizer))
    return false;
  if (stored_generation != generation || stored_count != count || stored_tokenizer != tokenizer_id) return false;
  // The options block must match byte for byte.
  internal::BinaryWriter want;
  WriteOptions(want, options_);
  std::string have(want.out().size(), '\0');
  if (!r.Raw(have.data(), have.size()) || have != want.out()) return false;
  std::vector<std::string> tokens;
  std::vector<uint64_t> edge_keys, stats;
  std::vector<uint32_t> edge_children;
  if (!r.Strings(&tokens) || !r.Pods(&edge_keys) || !r.Pods(&edge_children) || !r.Pods(&terminal_of_) ||
      !r.Pods(&terminals_) || !r.Pods(&candidates_) || !r.Strings(&entities_) || !r.Pods(&priors_) || !r.Pods(&stats) ||
      !r.AtEnd())
    return false;
  // Every index in range, so a file that passes cannot make Link() read
  // out of bounds.
  const size_t nodes = terminal_of_.size();
  if (edge_keys.size() != edge_children.size() || priors_.size() != entities_.size() || stats.size() != 6) return false;
  for (size_t i = 0; i < edge_keys.size(); ++i)
    if ((edge_keys[i] >> 32) >= nodes || (edge_keys[i] & 0xffffffffu) >= tokens.size() || edge_children[i] == 0 ||
        edge_children[i] >= nodes)
      return false;
  for (uint32_t t : terminal_of_)
    if (t != kNoTerminal && t >= terminals_.size()) return false;
  for (const Terminal& t : terminals_)
    if (t.count == 0 || static_cast<uint64_t>(t.begin) + t.count > candidates_.size()) return false;
  for (uint32_t e : candidates_)
    if (e >= entities_.size()) return false;
  token_ids_.clear();
  for (size_t i = 0; i < tokens.size(); ++i) token_ids_.emplace(std::move(tokens[i]), static_cast<uint32_t>(i));
  edges_.clear();
  edges_.reserve(edge_keys.size());
  for (size_t i = 0; i < edge_keys.size(); ++i) edges_.emplace(edge_keys[i], edge_children[i]);
  entity_ids_.clear();
  for (size_t i = 0; i < entities_.size(); ++i) entity_ids_.emplace(entities_[i], static_cast<uint32_t>(i));
  stats_.alias_triples = stats[0];
  stats_.indexed_aliases = stats[1];
  stats_.skipped_aliases = stats[2];
  stats_.entities = stats[3];
  stats_.tokens = stats[4];
  stats_.trie_nodes = stats[5];
  stats_.from_cache = true;
  return true;
}

std::vector<EntityMention> TrieLinker::Link(std::span<const std::string> tokens) const {
  std::vector<EntityMention> mentions;
  std::vector<uint32_t> ids(tokens.size());
  for (size_t i = 0; i < tokens.size(); ++i) ids[i] = TokenId(tokens[i]);
  size_t i = 0;
  while (i < ids.size()) {
    uint32_t node = 0;
    size_t best_end = 0;
    const Terminal* best = nullptr;
    for (size_t j = i; j < ids.size() && j - i < options_.max_alias_tokens; ++j) {
      if (ids[j] == kNoToken) break;
      node = Child(node, ids[j]);
      if (node == 0) break;
      if (terminal_of_[node] != kNoTerminal) {
        best_end = j + 1;
        best = &terminals_[terminal_of_[node]];
      }
    }
    if (best == nullptr) {
      ++i;
      continue;
    }
    EntityMention m;
    m.begin = i;
    m.end = best_end;
    for (size_t k = i; k < best_end; ++k) {
      if (k > i) m.alias.push_back(' ');
      m.alias += tokens[k];
    }
    m.num_candidates = best->total;
    m.candidates.reserve(best->count);
    for (uint32_t c = 0; c < best->count; ++c) {
      const uint32_t e = candidates_[best->begin + c];
      m.candidates.push_back(LinkCandidate{entities_[e], priors_[e]});
    }
    m.entity = m.candidates.front().entity;
    m.prior = m.candidates.front().prior;
    mentions.push_back(std::move(m));
    i = best_end;
  }
  return mentions;
}

}  // namespace

std::vector<std::string> SimpleTokenize(std::string_view text) {
  std::vector<std::string> tokens;
  std::string current;
  for (char ch : text) {
    const auto c = static_cast<unsigned char>(ch);
    if (IsTokenByte(c)) {
      current.push_back(c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : ch);
    } else if (!current.empty()) {
      tokens.push_back(std::move(current));
      current.clear();
    }
  }
  if (!current.empty()) tokens.push_back(std::move(current));
  return tokens;
}

Result<std::unique_ptr<EntityLinker>> EntityLinker::Build(const TripleStore& store, TokenizeFn tokenize,
                                                          const LinkerOptions& options) {
  if (options.max_alias_tokens == 0) {
    return Status::InvalidArgument("EntityLinker::Build: max_alias_tokens must be >= 1, got 0");
  }
  if (options.max_candidates == 0) {
    return Status::InvalidArgument("EntityLinker::Build: max_candidates must be >= 1, got 0");
  }
  if (!tokenize) tokenize = SimpleTokenize;
  auto linker = std::make_unique<TrieLinker>(std::move(tokenize), options);
  HYMIR_RETURN_IF_ERROR(linker->Init(store));
  return std::unique_ptr<EntityLinker>(std::move(linker));
}

std::string LinkerCachePath(const std::string& kg_dir, std::string_view tokenizer_id) {
  std::string base;
  if (const char* xdg = std::getenv("XDG_CACHE_HOME"); xdg && xdg[0] == '/') {
    base = xdg;
  } else if (const char* home = std::getenv("HOME"); home && home[0] == '/') {
    base = std::string(home) + "/.cache";
  } else {
    return "";  // nowhere to keep it: built in memory each time
  }
  // The KG by its directory and its commit record (which changes with every
  // writer that closes), so that a KG rebuilt in the same place gets its own file.
  std::error_code ec;
  std::string key = std::filesystem::weakly_canonical(kg_dir, ec).string();
  if (ec) key = kg_dir;
  key.push_back('\0');
  if (auto record = internal::ReadFile(kg_dir + "/HYMIR-KG-COMMIT"); record.ok()) key += *record;
  uint64_t h = 14695981039346656037ULL;  // FNV-1a
  for (unsigned char c : key) h = (h ^ c) * 1099511628211ULL;
  char hex[17];
  std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(h));
  std::string name(tokenizer_id);
  for (char& c : name)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_') c = '-';
  return base + "/hymir/linker-" + hex + "-" + name + ".cache";
}

Result<std::unique_ptr<EntityLinker>> EntityLinker::BuildCached(const TripleStore& store, TokenizeFn tokenize,
                                                                const std::string& tokenizer_id,
                                                                const std::string& cache_path,
                                                                const LinkerOptions& options) {
  const auto start = std::chrono::steady_clock::now();
  if (!tokenize) tokenize = SimpleTokenize;
  const uint64_t generation = store.Generation();
  HYMIR_ASSIGN_OR_RETURN(const uint64_t count, store.Count());
  auto data = cache_path.empty() ? Result<std::string>(Status::NotFound("no cache")) : internal::ReadFile(cache_path);
  if (data.ok() && options.max_alias_tokens > 0 && options.max_candidates > 0) {
    auto linker = std::make_unique<TrieLinker>(tokenize, options);
    if (linker->Deserialize(*data, generation, count, tokenizer_id)) {
      linker->set_build_seconds(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
      return std::unique_ptr<EntityLinker>(std::move(linker));
    }
  }
  // No usable cache: build, and keep the result for the next open.
  HYMIR_ASSIGN_OR_RETURN(auto built, Build(store, std::move(tokenize), options));
  const auto& trie = static_cast<const TrieLinker&>(*built);
  if (!cache_path.empty()) {
    std::error_code ec;
    std::filesystem::create_directories(std::filesystem::path(cache_path).parent_path(), ec);
    (void)internal::WriteFileAtomic(cache_path, trie.Serialize(generation, count, tokenizer_id));
  }
  return built;
}

}  // namespace hymir::kg
