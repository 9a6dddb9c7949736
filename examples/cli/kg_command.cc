// `hymir kg load|query|neighbors|stats`: the knowledge-graph triple store from
// the command line.
#include <hymir/index/searcher.h>
#include <hymir/kg/corpus_miner.h>
#include <hymir/kg/loader.h>
#include <hymir/kg/triple_store.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "commands.h"
#include "common/app.h"

namespace hymir::cli {
namespace {

struct KgFlags {
  std::string kg;
  // load
  std::string ntriples, tsv, wordnet, obo, go, foldoc;
  bool skip_bad = false;
  size_t batch_size = 20000;
  // mine
  std::string index;
  kg::MineOptions mine;
  // query
  std::string s, p, o;
  size_t limit = 20;
  // neighbors
  std::string entity, relation;
  int hops = 1;
  std::string direction = "both";
};

Result<std::unique_ptr<kg::TripleStore>> OpenExisting(const std::string& dir) {
  kg::TripleStoreOptions options;
  options.create_if_missing = false;
  options.read_only = true;  // query, neighbors, stats: beside a running writer or service
  return kg::TripleStore::Open(dir, options);
}

int RunLoad(const KgFlags& f) {
  int sources =
      !f.ntriples.empty() + !f.tsv.empty() + !f.wordnet.empty() + !f.obo.empty() + !f.go.empty() + !f.foldoc.empty();
  if (sources != 1) {
    return app::Fail("kg load",
                     Status::InvalidArgument("give exactly one of --ntriples, --tsv, --wordnet, --obo, --go, --foldoc"),
                     /*usage=*/true);
  }
  auto store = kg::TripleStore::Open(f.kg);
  if (!store.ok()) return app::Fail("kg load", store.status());
  kg::LoadOptions options;
  options.skip_bad = f.skip_bad;
  options.batch_size = f.batch_size;
  const bool tty = app::StderrIsTerminal();
  int last_decile = -1;
  uint64_t committed_lines = 0;
  options.progress = [&](const kg::LoadProgress& p) {
    int pct = p.bytes_total ? static_cast<int>(100.0 * p.bytes_read / p.bytes_total) : 100;
    if (tty) {
      std::fprintf(stderr, "\r%s: %3d%% (%llu lines, %llu triples)", p.file.c_str(), pct,
                   static_cast<unsigned long long>(p.lines), static_cast<unsigned long long>(p.triples));
      if (pct >= 100) std::fprintf(stderr, "\n");
    } else if (pct / 10 != last_decile) {
      last_decile = pct / 10;
      std::fprintf(stderr, "%s: %d%% (%llu lines, %llu triples)\n", p.file.c_str(), pct,
                   static_cast<unsigned long long>(p.lines), static_cast<unsigned long long>(p.triples));
    }
    if (pct >= 100) last_decile = -1;
    // What survives a crash from here on (LoadOptions::progress): every line read so far.
    if (p.lines != committed_lines) {
      committed_lines = p.lines;
      std::fprintf(stderr, "hymir kg load: committed %llu lines (%llu triples)\n",
                   static_cast<unsigned long long>(p.lines), static_cast<unsigned long long>(p.triples));
    }
  };
  Result<kg::LoadStats> stats = Status::Internal("no source");
  std::string source;
  if (!f.ntriples.empty()) {
    source = f.ntriples;
    stats = kg::LoadNTriples(**store, f.ntriples, options);
  } else if (!f.tsv.empty()) {
    source = f.tsv;
    stats = kg::LoadTsv(**store, f.tsv, options);
  } else if (!f.obo.empty()) {
    source = f.obo;
    stats = kg::LoadObo(**store, f.obo, options);
  } else if (!f.go.empty()) {
    source = f.go;
    stats = kg::LoadGeneOntology(**store, f.go, options);
  } else if (!f.foldoc.empty()) {
    source = f.foldoc;
    stats = kg::LoadFoldoc(**store, f.foldoc, options);
  } else {
    source = f.wordnet;
    stats = kg::LoadWordNet(**store, f.wordnet, options);
  }
  if (!stats.ok()) return app::Fail("kg load", stats.status());
  for (const std::string& e : stats->errors) std::fprintf(stderr, "hymir kg load: skipped %s\n", e.c_str());
  auto count = (*store)->Count();
  // Flushes, verifies and writes the KG's commit record: a load whose record
  // cannot be written is not reported as done.
  if (Status closed = (*store)->Close(); !closed.ok()) return app::Fail("kg load", closed);
  const double secs = stats->seconds;
  std::printf("loaded %s: %llu lines, %llu triples (%llu new), %llu bad lines", source.c_str(),
              static_cast<unsigned long long>(stats->lines), static_cast<unsigned long long>(stats->triples),
              static_cast<unsigned long long>(stats->added), static_cast<unsigned long long>(stats->bad_lines));
  const char* unit = !f.wordnet.empty() ? "synsets" : !f.foldoc.empty() ? "entries" : "terms";
  if (stats->entities) std::printf(", %llu %s", static_cast<unsigned long long>(stats->entities), unit);
  std::printf(" in %.2f s (%.0f triples/s); %s holds %llu triples\n", secs, secs > 0 ? stats->triples / secs : 0.0,
              f.kg.c_str(), static_cast<unsigned long long>(count.value_or(0)));
  return app::kExitOk;
}

int RunMine(const KgFlags& f) {
  auto searcher = index::Searcher::Open(f.index);
  if (!searcher.ok()) return app::Fail("kg mine", searcher.status());
  auto ids = (*searcher)->DocumentIds();
  if (!ids.ok()) return app::Fail("kg mine", ids.status());
  auto store = kg::TripleStore::Open(f.kg);
  if (!store.ok()) return app::Fail("kg mine", store.status());
  kg::MineOptions options = f.mine;
  options.source = std::filesystem::absolute(f.index).lexically_normal().string();
  options.load.batch_size = f.batch_size;
  size_t next = 0;
  auto stats = kg::MineCorpusGraph(
      **store,
      [&](Document* doc) -> Result<bool> {
        if (next == ids->size()) return false;
        HYMIR_ASSIGN_OR_RETURN(*doc, (*searcher)->GetDocument((*ids)[next++]));
        return true;
      },
      options);
  if (!stats.ok()) return app::Fail("kg mine", stats.status());
  auto count = (*store)->Count();
  std::printf(
      "mined %s: %llu documents, %llu tokens; %llu phrases, %llu titled documents, %llu mentions, %llu related; "
      "%llu triples (%llu new) in %.2f s (reading %.2f s); %s holds %llu triples\n",
      f.index.c_str(), static_cast<unsigned long long>(stats->documents),
      static_cast<unsigned long long>(stats->tokens), static_cast<unsigned long long>(stats->phrases),
      static_cast<unsigned long long>(stats->titled_documents), static_cast<unsigned long long>(stats->mentions),
      static_cast<unsigned long long>(stats->related), static_cast<unsigned long long>(stats->triples),
      static_cast<unsigned long long>(stats->added), stats->seconds, stats->read_seconds, f.kg.c_str(),
      static_cast<unsigned long long>(count.value_or(0)));
  return app::kExitOk;
}

int RunQuery(const KgFlags& f) {
  auto store = OpenExisting(f.kg);
  if (!store.ok()) return app::Fail("kg query", store.status());
  kg::TriplePattern pattern;
  if (!f.s.empty()) pattern.subject = f.s;
  if (!f.p.empty()) pattern.relation = f.p;
  if (!f.o.empty()) pattern.object = f.o;
  auto triples = (*store)->Match(pattern, f.limit);
  if (!triples.ok()) return app::Fail("kg query", triples.status());
  for (const kg::Triple& t : *triples) {
    std::printf("%s\t%s\t%s\n", t.subject.c_str(), t.relation.c_str(), t.object.c_str());
  }
  return app::kExitOk;
}

// "-" when the entity has no alias; a read error is an error, not "no alias".
Result<std::string> FirstAlias(const kg::TripleStore& store, const std::string& entity) {
  HYMIR_ASSIGN_OR_RETURN(std::vector<std::string> aliases, store.Aliases(entity, 1));
  return aliases.empty() ? std::string("-") : aliases.front();
}

int RunNeighbors(const KgFlags& f) {
  auto store = OpenExisting(f.kg);
  if (!store.ok()) return app::Fail("kg neighbors", store.status());
  const kg::TripleStore& kg = **store;
  // NAME is an entity when it has edges, else an alias (possibly of several).
  std::vector<std::string> starts;
  auto direct = kg.Neighbors(f.entity, std::nullopt, kg::Direction::kBoth, 1);
  if (!direct.ok()) return app::Fail("kg neighbors", direct.status());
  if (!direct->empty()) {
    starts.push_back(f.entity);
  } else {
    auto linked = kg.EntitiesForAlias(f.entity);
    if (!linked.ok()) return app::Fail("kg neighbors", linked.status());
    starts = std::move(*linked);
  }
  if (starts.empty()) {
    return app::Fail("kg neighbors", Status::NotFound(f.kg + ": no entity or alias '" + f.entity + "'"));
  }
  kg::ExpandOptions options;
  options.max_hops = f.hops;
  options.max_nodes = f.limit == 0 ? 1000000 : f.limit;
  if (!f.relation.empty()) options.relation = f.relation;
  options.direction = f.direction == "out"  ? kg::Direction::kOut
                      : f.direction == "in" ? kg::Direction::kIn
                                            : kg::Direction::kBoth;
  for (const std::string& start : starts) {
    auto alias = FirstAlias(kg, start);
    if (!alias.ok()) return app::Fail("kg neighbors", alias.status());
    std::printf("%s\t%s\n", start.c_str(), alias->c_str());
    auto reached = kg.Expand(start, options);
    if (!reached.ok()) return app::Fail("kg neighbors", reached.status());
    for (const kg::ReachedEntity& r : *reached) {
      auto other = FirstAlias(kg, r.entity);
      if (!other.ok()) return app::Fail("kg neighbors", other.status());
      std::printf("  %d\t%s%s\t%s\t%s\n", r.hops, r.direction == kg::Direction::kIn ? "^" : "", r.relation.c_str(),
                  r.entity.c_str(), other->c_str());
    }
  }
  return app::kExitOk;
}

int RunStats(const KgFlags& f) {
  auto store = OpenExisting(f.kg);
  if (!store.ok()) return app::Fail("kg stats", store.status());
  auto stats = (*store)->Stats();
  if (!stats.ok()) return app::Fail("kg stats", stats.status());
  std::printf(
      "kg            %s\nformat        %u\ntriples       %llu\nterms         %llu\n"
      "subjects      %llu\nrelations     %llu\nalias triples %llu\n",
      f.kg.c_str(), kg::kFormatVersion, static_cast<unsigned long long>(stats->triples),
      static_cast<unsigned long long>(stats->terms), static_cast<unsigned long long>(stats->subjects),
      static_cast<unsigned long long>(stats->relations), static_cast<unsigned long long>(stats->alias_triples));
  return app::kExitOk;
}

}  // namespace

void AddKgEmbedCommand(CLI::App& kg, int* exit_code);  // kg_embed_command.cc
void AddKgLinkCommand(CLI::App& kg, int* exit_code);   // kg_link_command.cc

void AddKgCommand(CLI::App& app, int* exit_code) {
  auto f = std::make_shared<KgFlags>();
  CLI::App* kg = app.add_subcommand(
      "kg", "Knowledge graph (RocksDB triple store): load, mine, query, neighbors, stats, link, embed");
  kg->require_subcommand(1);
  AddKgEmbedCommand(*kg, exit_code);  // `kg embed`, in kg_embed_command.cc
  AddKgLinkCommand(*kg, exit_code);   // `kg link`, in kg_link_command.cc

  CLI::App* load = kg->add_subcommand("load", "Load triples into a KG (created when absent); reloading adds nothing");
  load->add_option("--kg", f->kg, "KG directory")->required();
  load->add_option("--ntriples", f->ntriples, "N-Triples file")->check(CLI::ExistingFile);
  load->add_option("--tsv", f->tsv, "TSV file: subject<TAB>relation<TAB>object")->check(CLI::ExistingFile);
  load->add_option("--wordnet", f->wordnet, "WordNet database directory (e.g. /usr/share/wordnet)")
      ->check(CLI::ExistingDirectory);
  load->add_option("--obo", f->obo, "OBO ontology file (Gene Ontology, Disease Ontology, ...)")
      ->check(CLI::ExistingFile);
  load->add_option("--go", f->go, "Gene Ontology GO.sqlite (Debian r-bioc-go.db; see scripts/setup.sh)")
      ->check(CLI::ExistingFile);
  load->add_option("--foldoc", f->foldoc, "FOLDOC in dictd format: directory with foldoc.index (e.g. /usr/share/dictd)")
      ->check(CLI::ExistingPath);
  load->add_flag("--skip-bad", f->skip_bad, "Report malformed lines and continue (default: stop at the first)");
  load->add_option("--batch-size", f->batch_size,
                   "Triples per atomic write; each write is reported on stderr as \"hymir kg load: committed N "
                   "lines\" (default 20000)")
      ->check(CLI::Range(size_t{1}, size_t{1} << 30));
  load->callback([f, exit_code] { *exit_code = RunLoad(*f); });

  CLI::App* mine = kg->add_subcommand(
      "mine", "Mine a graph from an index's documents: frequent phrases, titled documents, mentions, related phrases");
  mine->add_option("--index", f->index, "Index directory (its stored title and text are read)")->required();
  mine->add_option("--kg", f->kg, "KG directory (created when absent; other sources may share it)")->required();
  mine->add_option("--min-df", f->mine.min_document_frequency,
                   "Documents a phrase must occur in (default 0 = max(5, documents / 20000))");
  mine->add_option("--min-npmi", f->mine.min_npmi, "Normalised PMI a phrase's words must reach (default 0.2)")
      ->check(CLI::Range(-1.0, 1.0));
  mine->add_option("--max-phrases", f->mine.max_phrases, "Phrases kept, most frequent first (default 50000)");
  mine->add_option("--phrases-per-document", f->mine.phrases_per_document, "Phrases each document mentions (default 8)")
      ->check(CLI::Range(size_t{1}, size_t{1000}));
  mine->add_option("--related-per-phrase", f->mine.related_per_phrase, "Related phrases per phrase (default 5)");
  mine->add_option("--batch-size", f->batch_size, "Triples per atomic write (default 20000)")
      ->check(CLI::Range(size_t{1}, size_t{1} << 30));
  mine->callback([f, exit_code] { *exit_code = RunMine(*f); });

  CLI::App* query = kg->add_subcommand("query", "Triples matching a pattern (unset positions match anything)");
  query->add_option("--kg", f->kg, "KG directory")->required();
  query->add_option("--s", f->s, "Subject");
  query->add_option("--p", f->p, "Relation");
  query->add_option("--o", f->o, "Object");
  query->add_option("--limit", f->limit, "At most this many triples (0 = all; default 20)");
  query->callback([f, exit_code] { *exit_code = RunQuery(*f); });

  CLI::App* nb = kg->add_subcommand("neighbors", "Entities within --hops of an entity or of the entities of an alias");
  nb->add_option("--kg", f->kg, "KG directory")->required();
  nb->add_option("--entity", f->entity, "Entity id or alias")->required();
  nb->add_option("--relation", f->relation, "Follow only this relation (default: all but aliases)");
  nb->add_option("--hops", f->hops, "Maximum path length (default 1)")->check(CLI::Range(1, 10));
  nb->add_option("--direction", f->direction, "out | in | both (default both)")
      ->check(CLI::IsMember({"out", "in", "both"}));
  nb->add_option("--limit", f->limit, "At most this many entities per start (0 = no cap; default 20)");
  nb->callback([f, exit_code] { *exit_code = RunNeighbors(*f); });

  CLI::App* stats = kg->add_subcommand("stats", "Counts of a KG: triples, terms, subjects, relations, aliases");
  stats->add_option("--kg", f->kg, "KG directory")->required();
  stats->callback([f, exit_code] { *exit_code = RunStats(*f); });
}

}  // namespace hymir::cli
