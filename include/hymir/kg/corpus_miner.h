// hymir::kg::MineCorpusGraph: a knowledge graph mined from a corpus itself,
// for collections no ontology covers.
//
// Entities are frequent phrases and documents:
//   "mined:p:<phrase>"  a word sequence of 2 or 3 tokens (SimpleTokenize)
//                       that starts and ends with a content word (3+
//                       characters, not a number, not a function word), occurs in
//                       at least min_document_frequency documents and whose
//                       words belong together (normalised PMI of the
//                       sequence, its weakest split for three words, at
//                       least min_npmi); alias: the phrase.
//   "mined:d:<id>"      a document whose title has 2 to 6 tokens; alias: the title.
// Relations:
//   (d, "mined:mentions", p)    the document's phrases_per_document phrases
//                               of highest tf-idf;
//   (d, "mined:mentions", d')   the document's text contains the title of d';
//   (p, "mined:related_to", q)  the related_per_phrase phrases q of highest
//                               PMI of co-occurrence with p (among documents'
//                               kept phrases), sharing at least
//                               min_cooccurrence documents, PMI positive.
// Provenance: each phrase carries (p, "mined:document_frequency", "<df>"),
// and the entity "mined:source" records (mined:source, "mined:from",
// options.source) and (mined:source, "mined:documents", "<N>").
//
// Mining reads each document once, keeps the corpus as token ids in memory
// (4 bytes per token) and is deterministic: the same documents give the
// same triples, in whatever order they come. Triples are
// written in atomic batches of options.load.batch_size (see loader.h).
//
// Thread-safety: MineCorpusGraph may run concurrently on different stores.
#ifndef HYMIR_KG_CORPUS_MINER_H_
#define HYMIR_KG_CORPUS_MINER_H_

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>

#include "hymir/document.h"
#include "hymir/kg/loader.h"
#include "hymir/kg/triple_store.h"
#include "hymir/result.h"

namespace hymir::kg {

struct MineOptions {
  // Documents a phrase must occur in. 0 = max(5, documents / 20000). Default: 0.
  size_t min_document_frequency = 0;
  // Normalised PMI (-1..1) a phrase's words must reach. Default: 0.2.
  double min_npmi = 0.2;
  // Phrases kept at most, the most frequent first. Default: 50000.
  size_t max_phrases = 50000;
  // Phrases linked from each document. Default: 8.
  size_t phrases_per_document = 8;
  // Related phrases kept per phrase. Default: 5.
  size_t related_per_phrase = 5;
  // Documents two phrases must share to be related. Default: 3.
  size_t min_cooccurrence = 3;
  // Recorded as the graph's provenance (e.g. the index directory).
  std::string source;
  // Batching and progress of the writes.
  LoadOptions load;
};

struct MineStats {
  uint64_t documents = 0;
  uint64_t tokens = 0;
  uint64_t phrases = 0;           // phrase entities
  uint64_t titled_documents = 0;  // document entities
  uint64_t mentions = 0;          // mined:mentions triples
  uint64_t related = 0;           // mined:related_to triples
  uint64_t triples = 0;           // all triples written
  uint64_t added = 0;             // of which new to the store
  double read_seconds = 0;        // reading and counting the corpus
  double seconds = 0;             // the whole run, writes included
};

// Pulls documents from `next` until it returns false (or an error, which is
// passed on), mines the graph and writes it to `store`. InvalidArgument for
// phrases_per_document == 0 or min_npmi outside [-1, 1].
Result<MineStats> MineCorpusGraph(TripleStore& store, const std::function<Result<bool>(Document*)>& next,
                                  const MineOptions& options = {});

}  // namespace hymir::kg

#endif  // HYMIR_KG_CORPUS_MINER_H_
