// `hymir kg link`: entity mentions of a text in a KG, and with --expand the
// query expansion terms ExpandQuery would add.
#include <hymir/index/analyzer.h>
#include <hymir/knowledge.h>
#include <hymir/kg/entity_linker.h>
#include <hymir/kg/query_expansion.h>
#include <hymir/kg/triple_store.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <memory>
#include <string>

#include "common/app.h"

namespace hymir::cli {
namespace {

struct KgLinkFlags {
  std::string kg;
  std::string text;
  std::string analyzer = "simple";
  bool expand = false;
  size_t max_candidates = 3;
  size_t max_terms = 10;
};

index::AnalyzerKind AnalyzerOf(const std::string& name) {
  auto kind = index::ParseAnalyzerKind(name);  // the flag's check admits only analyzer names
  return kind.ok() ? *kind : index::AnalyzerKind::kStandard;
}

kg::TokenizeFn MakeTokenizer(const std::string& name) {
  if (name == "simple") return kg::SimpleTokenize;
  const index::AnalyzerKind kind = AnalyzerOf(name);
  return [kind](std::string_view text) { return index::Analyze(kind, text); };
}

// The linker cache's tokenizer id: an analyzer's is KnowledgeContext's, so
// `hymir kg link --analyzer english` and `hymir search --kg` share one cache.
std::string TokenizerId(const std::string& name) {
  return name == "simple" ? "simple" : KnowledgeContext::LinkerTokenizerId(AnalyzerOf(name));
}

int RunLink(const KgLinkFlags& f) {
  kg::TripleStoreOptions store_options;
  store_options.create_if_missing = false;
  store_options.read_only = true;
  auto store = kg::TripleStore::Open(f.kg, store_options);
  if (!store.ok()) return app::Fail("kg link", store.status());
  kg::LinkerOptions options;
  options.max_candidates = f.max_candidates;
  const std::string tokenizer_id = TokenizerId(f.analyzer);
  auto linker = kg::EntityLinker::BuildCached(**store, MakeTokenizer(f.analyzer), tokenizer_id,
                                              kg::LinkerCachePath(f.kg, tokenizer_id), options);
  if (!linker.ok()) return app::Fail("kg link", linker.status(), linker.status().IsInvalidArgument());
  const kg::LinkerStats& st = (*linker)->stats();
  std::fprintf(stderr, "linker: %zu aliases (%zu skipped), %zu entities, %zu trie nodes, %s in %.2f s\n",
               st.indexed_aliases, st.skipped_aliases, st.entities, st.trie_nodes,
               st.from_cache ? "loaded from its cache" : "built", st.build_seconds);

  auto mentions = (*linker)->Link(f.text);
  std::printf("%zu mention%s\n", mentions.size(), mentions.size() == 1 ? "" : "s");
  for (const kg::EntityMention& m : mentions) {
    std::printf("[%zu,%zu)\t%s\t%s\tprior %.3f\t%zu candidate%s:", m.begin, m.end, m.alias.c_str(), m.entity.c_str(),
                m.prior, m.num_candidates, m.num_candidates == 1 ? "" : "s");
    for (const kg::LinkCandidate& c : m.candidates) std::printf(" %s(%.3f)", c.entity.c_str(), c.prior);
    std::printf("\n");
  }
  if (!f.expand) return app::kExitOk;

  kg::ExpansionOptions expansion;
  expansion.max_terms = f.max_terms;
  auto terms = kg::ExpandQuery(**store, **linker, f.text, expansion);
  if (!terms.ok()) return app::Fail("kg link", terms.status());
  std::printf("%zu expansion term%s\n", terms->size(), terms->size() == 1 ? "" : "s");
  for (const kg::ExpansionTerm& t : *terms) {
    if (t.relation.empty()) {
      std::printf("%.3f\t%s\t%s\n", t.weight, t.text.c_str(), t.entity.c_str());
    } else {
      std::printf("%.3f\t%s\t%s -%s-> %s\n", t.weight, t.text.c_str(), t.entity.c_str(), t.relation.c_str(),
                  t.via_entity.c_str());
    }
  }
  return app::kExitOk;
}

}  // namespace

void AddKgLinkCommand(CLI::App& kg, int* exit_code) {
  auto f = std::make_shared<KgLinkFlags>();
  CLI::App* link = kg.add_subcommand("link",
                                     "Entity mentions of a text (alias trie, degree prior); --expand adds "
                                     "query expansion terms");
  link->add_option("--kg", f->kg, "KG directory")->required();
  link->add_option("--text", f->text, "Text to link")->required();
  link->add_flag("--expand", f->expand, "Also print the expansion terms (synonyms, hypernyms, similar)");
  link->add_option("--analyzer", f->analyzer,
                   "Tokenizer for aliases and text: simple (lower-case alphanumeric runs), english (stemmed, "
                   "stop words dropped), standard, or english-lucenepp30 (as indexes of format 1-2) "
                   "(default simple)")
      ->check(CLI::IsMember({"simple", "english", "standard", "english-lucenepp30"}));
  link->add_option("--max-candidates", f->max_candidates, "Candidates kept per alias (default 3)")
      ->check(CLI::Range(1, 1000));
  link->add_option("--max-terms", f->max_terms, "At most this many expansion terms (default 10)");
  link->callback([f, exit_code] { *exit_code = RunLink(*f); });
}

}  // namespace hymir::cli
