// Bulk loaders filling a hymir::kg::TripleStore from N-Triples, TSV, WordNet
// (Princeton WordNet 3.0 database files, Debian's wordnet-base), OBO
// ontologies (the Gene Ontology's format), the Gene Ontology as Debian's
// r-bioc-go.db ships it (GO.sqlite) and FOLDOC (Debian's dict-foldoc).
//
// Entity ids carry their source before the first ':' ("wn:n:02084071",
// "GO:0008150", "foldoc:quicksort"), so one KG can hold several sources at
// once and a reader can tell them apart (SourceOf). Names and synonyms are
// stored as aliases (kAliasRelation), which is what the entity linker reads.
//
// Loading is idempotent: reloading the same input adds nothing (same term
// ids, same Count()). Triples are written in batches of options.batch_size,
// each batch atomically; a failure in the middle keeps the batches already
// written (reloading after a fix completes the load).
//
// Thread-safety: the functions may run concurrently on different stores;
// concurrent loads into one store are safe (the store serialises writes) but
// interleave. The progress callback runs on the calling thread only, so it
// need not be thread-safe.
#ifndef HYMIR_KG_LOADER_H_
#define HYMIR_KG_LOADER_H_

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "hymir/kg/triple_store.h"
#include "hymir/result.h"

namespace hymir::kg {

struct LoadProgress {
  std::string file;          // file being read
  uint64_t bytes_read = 0;   // in `file`
  uint64_t bytes_total = 0;  // size of `file`
  uint64_t lines = 0;        // lines read so far, over all files
  uint64_t triples = 0;      // triples parsed so far (before duplicate removal)
};

struct LoadOptions {
  // Report each bad line and continue. Default: false (the first bad line
  // fails the load with InvalidArgument "file:line: fault").
  bool skip_bad = false;
  // Triples per atomic write. Default: 20000.
  size_t batch_size = 20000;
  // Called after every batch and at the end of each file; may be empty. When
  // it is called, the triples of every line read so far (LoadProgress::lines)
  // are in the store: a crash after it loses none of them.
  std::function<void(const LoadProgress&)> progress;
  // At most this many bad-line messages are kept in LoadStats::errors (all are
  // counted). Default: 100.
  size_t max_error_messages = 100;
};

struct LoadStats {
  uint64_t lines = 0;               // lines read (comments and blank lines included)
  uint64_t triples = 0;             // triples parsed (aliases included)
  uint64_t added = 0;               // of which new to the store
  uint64_t bad_lines = 0;           // lines skipped as malformed (skip_bad)
  uint64_t entities = 0;            // WordNet: synsets; OBO, GO, FOLDOC: terms/entries; others: 0
  double seconds = 0;               // wall time of the load
  std::vector<std::string> errors;  // "file:line: fault", at most max_error_messages
};

// N-Triples: `<s> <p> <o> .` per line; IRIs, blank nodes (_:b1) and literals
// ("text", "text"@en, "text"^^<type>) are kept verbatim as terms, literals
// with their quotes, language tag or datatype; comments (#) and blank lines
// are skipped.
Result<LoadStats> LoadNTriples(TripleStore& store, const std::string& path, const LoadOptions& options = {});

// TSV: `subject<TAB>relation<TAB>object` per line, no header; fields are
// taken verbatim (no quoting); lines starting with '#' and blank lines are
// skipped; a trailing '\r' is dropped.
Result<LoadStats> LoadTsv(TripleStore& store, const std::string& path, const LoadOptions& options = {});

// WordNet database files data.{noun,verb,adj,adv} in `dir` (Debian:
// /usr/share/wordnet; NotFound when none is there). Each synset becomes the
// entity "wn:<pos>:<offset>" (pos n, v, a, r; adjective satellites are "a")
// with its lemmas as aliases ('_' read as space, adjective markers like
// "(p)" dropped), and these pointers become triples between synsets:
//   @ wn:hypernym   ~ wn:hyponym   @i wn:instance_hypernym   ~i wn:instance_hyponym
//   #m wn:member_holonym   #p wn:part_holonym   %m wn:member_meronym
//   %p wn:part_meronym   & wn:similar_to   + wn:derivation
// Other pointers (antonyms, entailments, ...) are skipped.
Result<LoadStats> LoadWordNet(TripleStore& store, const std::string& dir, const LoadOptions& options = {});

// The relations the ontology loaders write besides aliases.
inline constexpr std::string_view kDefinitionRelation = "hymir:definition";  // (entity, r, definition text)
inline constexpr std::string_view kOboNamespace = "obo:namespace";           // (term, r, "biological_process")
inline constexpr std::string_view kOboIsA = "obo:is_a";                      // (child, r, parent)
inline constexpr std::string_view kOboAltId = "obo:alt_id";                  // (term, r, secondary id)

// An OBO 1.2/1.4 flat file (http://owlcollab.github.io/oboformat/doc/obo-syntax.html):
// every [Term] stanza becomes the entity named by its `id` (e.g. "GO:0008150",
// "DOID:4"), with `name` and every synonym but BROAD ones as aliases, `def`
// under kDefinitionRelation, `namespace` under kOboNamespace, `is_a` parents
// under kOboIsA, `relationship: R X` as (id, "obo:R", X) and `alt_id` under
// kOboAltId. Obsolete terms (`is_obsolete: true`) are skipped with everything
// they say; [Typedef] and [Instance] stanzas, the header and other tags are
// read and ignored. Escapes (\n \t \" \\ ...) are decoded, `! comments` and
// `{modifiers}` dropped. A stanza's tags must follow its `id`; a malformed
// line (a tag without ':', an unterminated quoted string, a synonym scope
// other than EXACT/NARROW/RELATED/BROAD, a second id) is "path:line: fault".
// LoadStats::entities counts the terms loaded.
Result<LoadStats> LoadObo(TripleStore& store, const std::string& path, const LoadOptions& options = {});

// The Gene Ontology from a GO.sqlite file (the database Bioconductor's GO.db
// package, Debian r-bioc-go.db, ships under extdata/): the same triples as
// LoadObo on the equivalent OBO file, i.e. terms "GO:nnnnnnn" with their
// name and synonyms as aliases (GO.sqlite does not keep synonym scopes, so
// all are taken), definition, namespace (biological_process,
// molecular_function, cellular_component), secondary ids, and the is_a /
// part_of / regulates / positively_regulates / negatively_regulates parents
// of the three ontologies' parent tables. NotFound for a missing file,
// InvalidArgument naming the file for one that is not a GO.db database.
// Written in batches of options.batch_size as the line loaders do.
Result<LoadStats> LoadGeneOntology(TripleStore& store, const std::string& sqlite_path, const LoadOptions& options = {});

// FOLDOC, the Free On-line Dictionary of Computing, in dictd format: `path`
// is a directory holding foldoc.index and foldoc.dict.dz (or foldoc.dict;
// Debian's dict-foldoc installs them in /usr/share/dictd), or the path of the
// .index file itself. Each entry becomes "foldoc:<headword>" (its first line,
// as written) with its headwords as aliases, its text (cross-reference braces
// removed, whitespace collapsed, at most 1,000 bytes, cut at a word) under
// kDefinitionRelation, its <category> tags under "foldoc:category" and its
// {cross-references} that name another entry under "foldoc:see". A
// malformed index line or an entry outside the dictionary file is
// "path:line: fault"; the dictd metadata entries (00-database-*) are skipped.
Result<LoadStats> LoadFoldoc(TripleStore& store, const std::string& path, const LoadOptions& options = {});

// The source of an entity id: the text before its first ':' ("wn", "GO",
// "foldoc"), or empty when there is none.
std::string_view SourceOf(std::string_view entity);

// Parses one N-Triples line. Returns false with *fault set for a malformed
// line (including a NUL byte, invalid UTF-8, or an escape N-Triples does not
// define: literals allow \t \b \n \r \f \" \' \\ \uXXXX \UXXXXXXXX, IRIs
// only the last two); true with *is_triple false for a blank or comment line.
// Terms are kept as written (escapes are not decoded).
bool ParseNTriplesLine(const std::string& line, Triple* triple, bool* is_triple, std::string* fault);

}  // namespace hymir::kg

#endif  // HYMIR_KG_LOADER_H_
