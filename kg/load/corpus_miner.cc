// MineCorpusGraph: phrases, titled documents and their relations, counted by
// sorting packed n-gram keys (no hash table of every n-gram).
#include "hymir/kg/corpus_miner.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include "hymir/kg/entity_linker.h"
#include "kg/load/line_loader.h"

namespace hymir::kg {
namespace {

constexpr uint32_t kSeparator = 0;                  // between title and text, and between documents
constexpr uint32_t kMaxTrigramId = (1u << 21) - 1;  // three ids packed in 63 bits
constexpr size_t kMinTitleTokens = 2;
constexpr size_t kMaxTitleTokens = 6;

// Function words that may sit inside a phrase ("quality of life") but never
// start or end one, besides the linker's stop words.
constexpr std::string_view kFunctionWords[] = {
    "about",        "above",   "after",   "again",   "against", "all",     "also",     "although",      "among",
    "any",          "been",    "before",  "being",   "below",   "between", "both",     "can",           "could",
    "did",          "does",    "doing",   "down",    "during",  "each",    "either",   "few",           "from",
    "further",      "had",     "has",     "have",    "having",  "her",     "here",     "hers",          "him",
    "his",          "how",     "however", "its",     "itself",  "may",     "might",    "more",          "most",
    "much",         "must",    "neither", "nor",     "now",     "off",     "once",     "one",           "only",
    "other",        "our",     "ours",    "out",     "over",    "own",     "same",     "she",           "should",
    "since",        "some",    "than",    "them",    "those",   "through", "thus",     "too",           "two",
    "under",        "until",   "upon",    "very",    "via",     "was",     "were",     "what",          "when",
    "where",        "whether", "which",   "while",   "who",     "whom",    "whose",    "why",           "within",
    "without",      "would",   "yet",     "you",     "your",    "three",   "four",     "five",          "many",
    "several",      "use",     "used",    "using",   "based",   "well",    "whereas",  "per",           "including",
    "respectively", "non",     "not",     "overall", "new",     "total",   "compared", "significantly", "associated"};

uint64_t Pack2(uint32_t a, uint32_t b) { return uint64_t{a} << 32 | b; }
uint64_t Pack3(uint32_t a, uint32_t b, uint32_t c) { return uint64_t{a} << 42 | uint64_t{b} << 21 | c; }

// Sorted keys -> (key, count) runs.
std::vector<std::pair<uint64_t, uint32_t>> CountRuns(std::vector<uint64_t>& keys) {
  std::sort(keys.begin(), keys.end());
  std::vector<std::pair<uint64_t, uint32_t>> runs;
  for (size_t i = 0; i < keys.size();) {
    size_t j = i;
    while (j < keys.size() && keys[j] == keys[i]) ++j;
    runs.emplace_back(keys[i], static_cast<uint32_t>(j - i));
    i = j;
  }
  return runs;
}

uint32_t Lookup(const std::vector<std::pair<uint64_t, uint32_t>>& runs, uint64_t key) {
  auto it = std::lower_bound(runs.begin(), runs.end(), std::make_pair(key, uint32_t{0}));
  return it != runs.end() && it->first == key ? it->second : 0;
}

struct Corpus {
  std::vector<std::string> words{""};  // id 0 = separator
  std::unordered_map<std::string, uint32_t> ids;
  std::vector<bool> content{false};  // may start or end a phrase
  std::vector<uint32_t> tokens;      // every document: title, separator, text, separator
  std::vector<size_t> begin;         // document d's tokens: [begin[d], begin[d + 1])
  std::vector<size_t> text_begin;    // where document d's text starts (after its title)
  std::vector<std::string> doc_ids;
  std::vector<std::vector<uint32_t>> titles;  // titles of 2..6 tokens, else empty
};

uint32_t Intern(Corpus& c, std::string&& w, const std::unordered_set<std::string>& stop) {
  auto [it, fresh] = c.ids.emplace(w, static_cast<uint32_t>(c.words.size()));
  if (fresh) {
    const bool digits = std::all_of(w.begin(), w.end(), [](char ch) { return ch >= '0' && ch <= '9'; });
    c.content.push_back(w.size() >= 3 && !digits && stop.count(w) == 0);
    c.words.push_back(std::move(w));
  }
  return it->second;
}

struct Phrase {
  std::vector<uint32_t> words;
  uint32_t df = 0;
  std::string text;
};

// The phrase candidates: content-bounded bigrams and trigrams frequent and cohesive enough.
std::vector<Phrase> SelectPhrases(const Corpus& c, const MineOptions& o, size_t min_df) {
  const size_t n_docs = c.doc_ids.size();
  std::vector<uint64_t> uni, bi, tri;
  std::vector<uint64_t> du, db, dt;
  for (size_t d = 0; d < n_docs; ++d) {
    du.clear(), db.clear(), dt.clear();
    for (size_t i = c.begin[d]; i < c.begin[d + 1]; ++i) {
      const uint32_t a = c.tokens[i];
      if (a == kSeparator) continue;
      du.push_back(a);
      const uint32_t b = i + 1 < c.begin[d + 1] ? c.tokens[i + 1] : kSeparator;
      if (b == kSeparator) continue;
      db.push_back(Pack2(a, b));
      const uint32_t x = i + 2 < c.begin[d + 1] ? c.tokens[i + 2] : kSeparator;
      if (x != kSeparator && c.content[a] && c.content[x] && a <= kMaxTrigramId && b <= kMaxTrigramId &&
          x <= kMaxTrigramId) {
        dt.push_back(Pack3(a, b, x));
      }
    }
    for (auto* v : {&du, &db, &dt}) {
      std::sort(v->begin(), v->end());
      v->erase(std::unique(v->begin(), v->end()), v->end());
    }
    uni.insert(uni.end(), du.begin(), du.end());
    bi.insert(bi.end(), db.begin(), db.end());
    tri.insert(tri.end(), dt.begin(), dt.end());
  }
  const auto udf = CountRuns(uni);
  const auto bdf = CountRuns(bi);
  const auto tdf = CountRuns(tri);
  const double n = static_cast<double>(n_docs);
  auto npmi = [&](double joint, double left, double right) {
    if (joint <= 0 || left <= 0 || right <= 0) return -1.0;
    const double p = joint / n;
    if (p >= 1) return 1.0;
    return std::log(p / ((left / n) * (right / n))) / -std::log(p);
  };
  std::vector<Phrase> out;
  for (const auto& [key, df] : bdf) {
    const auto a = static_cast<uint32_t>(key >> 32), b = static_cast<uint32_t>(key);
    if (df < min_df || !c.content[a] || !c.content[b]) continue;
    if (npmi(df, Lookup(udf, a), Lookup(udf, b)) < o.min_npmi) continue;
    out.push_back(Phrase{{a, b}, df, {}});
  }
  for (const auto& [key, df] : tdf) {
    const auto a = static_cast<uint32_t>(key >> 42), b = static_cast<uint32_t>(key >> 21 & kMaxTrigramId),
               x = static_cast<uint32_t>(key & kMaxTrigramId);
    if (df < min_df) continue;
    const double left = npmi(df, Lookup(udf, a), Lookup(bdf, Pack2(b, x)));
    const double right = npmi(df, Lookup(bdf, Pack2(a, b)), Lookup(udf, x));
    if (std::min(left, right) < o.min_npmi) continue;
    out.push_back(Phrase{{a, b, x}, df, {}});
  }
  // By text, not by word ids (which follow the order documents came in), so
  // the graph does not depend on that order.
  for (Phrase& p : out) {
    for (uint32_t w : p.words) p.text += (p.text.empty() ? "" : " ") + c.words[w];
  }
  std::sort(out.begin(), out.end(),
            [](const Phrase& l, const Phrase& r) { return l.df != r.df ? l.df > r.df : l.text < r.text; });
  if (out.size() > o.max_phrases) out.resize(o.max_phrases);
  return out;
}

uint64_t SequenceKey(const uint32_t* w, size_t len) {
  uint64_t h = 1469598103934665603ull;
  for (size_t i = 0; i < len; ++i) h = (h ^ w[i]) * 1099511628211ull;
  return h ^ len;
}

}  // namespace

Result<MineStats> MineCorpusGraph(TripleStore& store, const std::function<Result<bool>(Document*)>& next,
                                  const MineOptions& o) {
  if (o.phrases_per_document == 0) return Status::InvalidArgument("MineCorpusGraph: phrases_per_document must be >= 1");
  if (!(o.min_npmi >= -1 && o.min_npmi <= 1)) {
    return Status::InvalidArgument("MineCorpusGraph: min_npmi must be in [-1, 1]");
  }
  const auto start = std::chrono::steady_clock::now();
  const LinkerOptions linker_defaults;
  std::unordered_set<std::string> stop(linker_defaults.single_token_stop_words.begin(),
                                       linker_defaults.single_token_stop_words.end());
  for (std::string_view w : kFunctionWords) stop.emplace(w);
  Corpus c;
  MineStats stats;
  Document doc;
  while (true) {
    doc = Document{};
    HYMIR_ASSIGN_OR_RETURN(bool more, next(&doc));
    if (!more) break;
    c.begin.push_back(c.tokens.size());
    std::vector<uint32_t> title;
    for (std::string& w : SimpleTokenize(doc.title)) title.push_back(Intern(c, std::move(w), stop));
    c.tokens.insert(c.tokens.end(), title.begin(), title.end());
    c.tokens.push_back(kSeparator);
    c.text_begin.push_back(c.tokens.size());
    for (std::string& w : SimpleTokenize(doc.text)) c.tokens.push_back(Intern(c, std::move(w), stop));
    c.tokens.push_back(kSeparator);
    if (title.size() < kMinTitleTokens || title.size() > kMaxTitleTokens) title.clear();
    c.titles.push_back(std::move(title));
    c.doc_ids.push_back(std::move(doc.id));
  }
  c.begin.push_back(c.tokens.size());
  const size_t n_docs = c.doc_ids.size();
  stats.documents = n_docs;
  stats.tokens = c.tokens.size() - 2 * n_docs;
  const size_t min_df = o.min_document_frequency != 0 ? o.min_document_frequency : std::max<size_t>(5, n_docs / 20000);

  std::vector<Phrase> phrases = SelectPhrases(c, o, min_df);
  std::unordered_map<uint64_t, uint32_t> bigram_phrase, trigram_phrase;
  for (uint32_t p = 0; p < phrases.size(); ++p) {
    const auto& w = phrases[p].words;
    if (w.size() == 2) bigram_phrase.emplace(Pack2(w[0], w[1]), p);
    if (w.size() == 3) trigram_phrase.emplace(Pack3(w[0], w[1], w[2]), p);
  }
  // Titles: token sequence -> documents bearing it.
  std::unordered_map<uint64_t, std::vector<uint32_t>> title_docs;
  for (uint32_t d = 0; d < n_docs; ++d) {
    if (!c.titles[d].empty()) title_docs[SequenceKey(c.titles[d].data(), c.titles[d].size())].push_back(d);
  }

  std::vector<Triple> triples;
  const std::string alias(kAliasRelation);
  auto phrase_entity = [&](uint32_t p) { return "mined:p:" + phrases[p].text; };
  auto doc_entity = [&](uint32_t d) { return "mined:d:" + c.doc_ids[d]; };
  std::vector<std::vector<uint32_t>> kept(n_docs);  // each document's top phrases
  std::vector<uint32_t> kept_df(phrases.size(), 0);
  std::vector<std::pair<uint32_t, uint32_t>> tf;  // (phrase, count) of one document
  const double n = static_cast<double>(n_docs);
  for (uint32_t d = 0; d < n_docs; ++d) {
    tf.clear();
    std::vector<uint32_t> mentioned_docs;
    const uint32_t* t = c.tokens.data();
    for (size_t i = c.begin[d]; i + 1 < c.begin[d + 1]; ++i) {
      if (t[i] == kSeparator || t[i + 1] == kSeparator) continue;
      if (auto it = bigram_phrase.find(Pack2(t[i], t[i + 1])); it != bigram_phrase.end())
        tf.emplace_back(it->second, 1);
      if (i + 2 < c.begin[d + 1] && t[i + 2] != kSeparator && std::max({t[i], t[i + 1], t[i + 2]}) <= kMaxTrigramId) {
        if (auto it = trigram_phrase.find(Pack3(t[i], t[i + 1], t[i + 2])); it != trigram_phrase.end()) {
          tf.emplace_back(it->second, 1);
        }
      }
      // Another document's title in this one's text (not in its own title).
      if (i >= c.text_begin[d]) {
        for (size_t len = kMinTitleTokens; len <= kMaxTitleTokens && i + len <= c.begin[d + 1]; ++len) {
          if (t[i + len - 1] == kSeparator) break;
          auto it = title_docs.find(SequenceKey(t + i, len));
          if (it == title_docs.end()) continue;
          for (uint32_t other : it->second) {
            if (other != d && std::equal(c.titles[other].begin(), c.titles[other].end(), t + i)) {
              mentioned_docs.push_back(other);
            }
          }
        }
      }
    }
    std::sort(tf.begin(), tf.end());
    std::vector<std::pair<double, uint32_t>> scored;
    for (size_t i = 0; i < tf.size();) {
      size_t j = i;
      while (j < tf.size() && tf[j].first == tf[i].first) ++j;
      const uint32_t p = tf[i].first;
      scored.emplace_back(-static_cast<double>(j - i) * std::log(n / phrases[p].df), p);
      i = j;
    }
    std::sort(scored.begin(), scored.end());
    if (scored.size() > o.phrases_per_document) scored.resize(o.phrases_per_document);
    for (const auto& [score, p] : scored) {
      kept[d].push_back(p);
      ++kept_df[p];
      triples.push_back({doc_entity(d), "mined:mentions", phrase_entity(p)});
      ++stats.mentions;
    }
    std::sort(mentioned_docs.begin(), mentioned_docs.end());
    mentioned_docs.erase(std::unique(mentioned_docs.begin(), mentioned_docs.end()), mentioned_docs.end());
    if (mentioned_docs.size() > o.phrases_per_document) mentioned_docs.resize(o.phrases_per_document);
    for (uint32_t other : mentioned_docs) {
      triples.push_back({doc_entity(d), "mined:mentions", doc_entity(other)});
      ++stats.mentions;
    }
  }
  stats.read_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

  // Related phrases: co-occurrence among the documents' kept phrases.
  std::vector<uint64_t> pairs;
  for (auto& k : kept) {
    std::sort(k.begin(), k.end());
    for (size_t i = 0; i < k.size(); ++i) {
      for (size_t j = i + 1; j < k.size(); ++j) pairs.push_back(Pack2(k[i], k[j]));
    }
  }
  std::vector<std::vector<std::pair<double, uint32_t>>> related(phrases.size());
  for (const auto& [key, co] : CountRuns(pairs)) {
    if (co < o.min_cooccurrence) continue;
    const auto a = static_cast<uint32_t>(key >> 32), b = static_cast<uint32_t>(key);
    const double pmi = std::log(co * n / (static_cast<double>(kept_df[a]) * kept_df[b]));
    if (pmi <= 0) continue;
    related[a].emplace_back(-pmi, b);
    related[b].emplace_back(-pmi, a);
  }
  for (uint32_t p = 0; p < phrases.size(); ++p) {
    triples.push_back({phrase_entity(p), alias, phrases[p].text});
    triples.push_back({phrase_entity(p), "mined:document_frequency", std::to_string(phrases[p].df)});
    auto& r = related[p];
    std::sort(r.begin(), r.end());
    if (r.size() > o.related_per_phrase) r.resize(o.related_per_phrase);
    for (const auto& [score, q] : r) {
      triples.push_back({phrase_entity(p), "mined:related_to", phrase_entity(q)});
      ++stats.related;
    }
  }
  for (uint32_t d = 0; d < n_docs; ++d) {
    if (c.titles[d].empty()) continue;
    std::string title;
    for (uint32_t w : c.titles[d]) title += (title.empty() ? "" : " ") + c.words[w];
    triples.push_back({doc_entity(d), alias, title});
    ++stats.titled_documents;
  }
  triples.push_back({"mined:source", "mined:documents", std::to_string(n_docs)});
  if (!o.source.empty()) triples.push_back({"mined:source", "mined:from", o.source});
  stats.phrases = phrases.size();
  LoadStats load;
  HYMIR_RETURN_IF_ERROR(
      internal::WriteBatches(store, o.source.empty() ? "mined graph" : o.source, std::move(triples), o.load, &load));
  stats.triples = load.triples;
  stats.added = load.added;
  stats.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return stats;
}

}  // namespace hymir::kg
