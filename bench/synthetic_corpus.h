// Synthetic BEIR corpora for hymir-bench: documents whose words follow a
// Zipfian distribution over a made-up vocabulary, written as corpus.jsonl so
// the Java Lucene baseline can index the very same file.
//
// Words are consonant-vowel syllables ("ba", "kotu", "rimava", ...), shortest
// words taking the most frequent ranks. Every word is checked to come out of
// the English analyzer unchanged (not a stop word, not altered by the Porter
// stemmer), so the index holds exactly `vocab` distinct terms at most and the
// analysed statistics follow the generated ones.
//
// Everything is deterministic for a given seed.
//
// Thread-safety: plain functions; safe to call concurrently.
#ifndef HYMIR_BENCH_SYNTHETIC_CORPUS_H_
#define HYMIR_BENCH_SYNTHETIC_CORPUS_H_

#include <hymir/result.h>

#include <cstdint>
#include <string>
#include <vector>

namespace hymir::bench {

struct SyntheticCorpusOptions {
  // Documents to write. Default: 1,000,000.
  uint64_t docs = 1'000'000;
  // Distinct words. Default: 100,000.
  uint64_t vocab = 100'000;
  // Zipf exponent s: P(rank r) is proportional to 1 / r^s (r = 1..vocab). Default: 1.0.
  double zipf = 1.0;
  // Mean document length in tokens; lengths are log-normal (sigma 0.5), at
  // least 1. Default: 40.
  double mean_doc_len = 40.0;
  // Seed of every random choice. Default: 42.
  uint64_t seed = 42;
  // Adds two typed fields per document (declare them with
  // kSyntheticTypedSchema): "size", an int64 uniform in [0, 1,000,000), and
  // "section", a keyword of 50 values "s0".."s49" with s0 the most frequent.
  // They come from their own random stream, so the text is the same with or
  // without them. Default: false.
  bool typed_fields = false;
};

// The schema (hymir index --schema) of the typed fields above: both sortable,
// section facetable (as the Java Lucene harness allows: keyword fields).
inline constexpr const char* kSyntheticTypedSchema =
    R"({"fields": {"size": {"type": "int64", "sort": true},)"
    R"( "section": {"type": "keyword", "sort": true, "facet": true}}})";

struct SyntheticCorpusInfo {
  uint64_t docs = 0;
  uint64_t tokens = 0;  // words written over all documents
  uint64_t bytes = 0;   // size of the written file
};

// `n` distinct lowercase words that the English analyzer keeps as they are,
// most frequent rank first. InvalidArgument when `n` is larger than the
// syllable scheme can supply (about 10^8).
Result<std::vector<std::string>> MakeVocabulary(uint64_t n);

// Writes the corpus to `path` ({"_id": "d<i>", "title": "", "text": ...} per
// line, then "size" and "section" with typed_fields), replacing the file. IOError names the path when writing fails.
Result<SyntheticCorpusInfo> WriteSyntheticCorpus(const std::string& path, const SyntheticCorpusOptions& options);

}  // namespace hymir::bench

#endif  // HYMIR_BENCH_SYNTHETIC_CORPUS_H_
