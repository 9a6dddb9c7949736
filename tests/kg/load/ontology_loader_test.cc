// Ontology loaders: OBO files, the Gene Ontology's GO.sqlite (equal to its
// OBO form) and FOLDOC's dictd files; bad input named by file and line; the
// installed Gene Ontology and FOLDOC when scripts/setup.sh put them there.
#include <sqlite3.h>
#include <zlib.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <set>
#include <string>
#include <vector>

#include "hymir/kg/loader.h"
#include "hymir/kg/triple_store.h"
#include "tests/fuzz/memory_triple_store.h"
#include "tests/testutil/testutil.h"

namespace hymir::kg {
namespace {

using hymir::testing::TempDir;
using hymir::testing::WriteText;

std::unique_ptr<TripleStore> OpenOrDie(const std::string& dir) {
  auto r = TripleStore::Open(dir);
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return r.ok() ? std::move(r).value() : nullptr;
}

std::set<Triple> All(const TripleStore& store) {
  auto all = store.Match(TriplePattern{});
  EXPECT_TRUE(all.ok()) << all.status().ToString();
  return all.ok() ? std::set<Triple>(all->begin(), all->end()) : std::set<Triple>{};
}

const std::string kAlias(kAliasRelation);
const std::string kDef(kDefinitionRelation);

std::string KgSources() {
  const char* env = std::getenv("HYMIR_KG_SOURCES");
  return env != nullptr ? env : "/usr/local/share/hymir/kg-sources";
}

TEST(OboTest, TermsBecomeAliasesDefinitionsAndParents) {
  TempDir tmp;
  const std::string obo = tmp.Sub("t.obo");
  WriteText(obo,
            "format-version: 1.2\n"
            "ontology: test\n"
            "! a comment line\n"
            "\n"
            "[Term]\n"
            "id: T:0001\n"
            "name: heart attack ! the common name\n"
            "namespace: disease\n"
            "def: \"Death of heart muscle \\\"tissue\\\".\" [PMID:1]\n"
            "synonym: \"myocardial infarction\" EXACT []\n"
            "synonym: \"cardiac event\" BROAD []\n"
            "synonym: \"MI\" RELATED [ABBR:x] {source=\"x\"}\n"
            "exact_synonym: \"coronary\\!\" []\n"
            "is_a: T:0002 ! cardiovascular disease\n"
            "relationship: part_of T:0003\n"
            "alt_id: T:9999\n"
            "xref: MESH:D009203\n"
            "\n"
            "[Term]\n"
            "id: T:0002\n"
            "name: cardiovascular\\, disease\n"
            "is_obsolete: false\n"
            "[Term]\n"
            "id: T:0004\n"
            "name: old term\n"
            "is_a: T:0002\n"
            "is_obsolete: true\n"
            "\n"
            "[Typedef]\n"
            "id: part_of\n"
            "name: part of\n");
  TempDir kg;
  auto store = OpenOrDie(kg.Sub("kg"));
  ASSERT_NE(store, nullptr);
  ASSERT_OK_AND_ASSIGN(LoadStats stats, LoadObo(*store, obo));
  EXPECT_EQ(stats.entities, 2u);  // the obsolete term and the typedef are not terms
  EXPECT_EQ(stats.bad_lines, 0u);
  const std::set<Triple> expected = {
      {"T:0001", kAlias, "heart attack"},
      {"T:0001", "obo:namespace", "disease"},
      {"T:0001", kDef, "Death of heart muscle \"tissue\"."},
      {"T:0001", kAlias, "myocardial infarction"},
      {"T:0001", kAlias, "MI"},
      {"T:0001", kAlias, "coronary!"},
      {"T:0001", "obo:is_a", "T:0002"},
      {"T:0001", "obo:part_of", "T:0003"},
      {"T:0001", "obo:alt_id", "T:9999"},
      {"T:0002", kAlias, "cardiovascular, disease"},
  };
  EXPECT_EQ(All(*store), expected);
  ASSERT_OK_AND_ASSIGN(auto hits, store->EntitiesForAlias("Myocardial Infarction"));
  EXPECT_EQ(hits, std::vector<std::string>{"T:0001"});
  EXPECT_EQ(SourceOf("T:0001"), "T");
  EXPECT_EQ(SourceOf("foldoc:C++"), "foldoc");
  EXPECT_EQ(SourceOf("plain"), "");

  ASSERT_OK_AND_ASSIGN(LoadStats again, LoadObo(*store, obo));
  EXPECT_EQ(again.added, 0u);
}

TEST(OboTest, MalformedLinesNameFileAndLineOrAreSkipped) {
  TempDir tmp;
  struct Case {
    std::string text;
    std::string fault;
  };
  for (const Case& c : {
           Case{"[Term]\nname: x\nid: A:1\n", ":2: tag 'name' before the stanza's id"},
           Case{"[Term]\nid: A:1\ndef: \"open [x]\n", ":3: unterminated quoted string"},
           Case{"[Term]\nid: A:1\nsynonym: \"x\" SIMILAR []\n", ":3: synonym scope 'SIMILAR'"},
           Case{"[Term]\nid: A:1\nid: A:2\n", ":3: second id in one stanza"},
           Case{"[Term]\nid: A:1\nno colon here\n", ":3: expected 'tag: value'"},
           Case{"[Term\nid: A:1\n", ":1: unterminated stanza header"},
           Case{"[Term]\nid: A:1\nname: a\xC3\n", ":3: invalid UTF-8"},
           Case{"[Term]\nid: A:1\nrelationship: part_of\n", ":3: relationship needs a relation and a target"},
       }) {
    const std::string path = tmp.Sub("bad.obo");
    WriteText(path, c.text);
    TempDir kg;
    auto store = OpenOrDie(kg.Sub("kg"));
    ASSERT_NE(store, nullptr);
    auto r = LoadObo(*store, path);
    ASSERT_FALSE(r.ok()) << c.text;
    EXPECT_TRUE(r.status().IsInvalidArgument()) << r.status().ToString();
    EXPECT_NE(r.status().message().find(path + c.fault), std::string::npos) << r.status().ToString();
  }
  // Skipping: the bad line is reported, the rest of the stanza and file load.
  const std::string path = tmp.Sub("skip.obo");
  WriteText(path, "[Term]\nid: A:1\nsynonym: \"x\" SIMILAR []\nname: first\n\n[Term]\nid: A:2\nname: second\n");
  TempDir kg;
  auto store = OpenOrDie(kg.Sub("kg"));
  ASSERT_NE(store, nullptr);
  LoadOptions options;
  options.skip_bad = true;
  ASSERT_OK_AND_ASSIGN(LoadStats stats, LoadObo(*store, path, options));
  EXPECT_EQ(stats.bad_lines, 1u);
  ASSERT_EQ(stats.errors.size(), 1u);
  EXPECT_NE(stats.errors[0].find(path + ":3:"), std::string::npos);
  EXPECT_EQ(All(*store), (std::set<Triple>{{"A:1", kAlias, "first"}, {"A:2", kAlias, "second"}}));
}

TEST(LoaderTest, AliasesEmptyAfterNormalisationAreBadLinesNotFailedWrites) {
  TempDir tmp;
  WriteText(tmp.Sub("a.tsv"), "x\thymir:alias\tgood\ny\thymir:alias\t_ _\n");
  WriteText(tmp.Sub("a.obo"), "[Term]\nid: A:1\nname: fine\nsynonym: \"__\" EXACT []\n");
  auto store = OpenOrDie(tmp.Sub("kg"));
  ASSERT_NE(store, nullptr);
  auto tsv = LoadTsv(*store, tmp.Sub("a.tsv"));
  ASSERT_FALSE(tsv.ok());
  EXPECT_NE(tsv.status().message().find(tmp.Sub("a.tsv") + ":2: alias '_ _' is empty after normalisation"),
            std::string::npos)
      << tsv.status().ToString();
  auto obo = LoadObo(*store, tmp.Sub("a.obo"));
  ASSERT_FALSE(obo.ok());
  EXPECT_NE(obo.status().message().find(tmp.Sub("a.obo") + ":4: 'synonym' is empty after normalisation"),
            std::string::npos)
      << obo.status().ToString();
  // The good line before the bad one was kept, as documented.
  ASSERT_OK_AND_ASSIGN(bool good, store->Exists({"x", kAlias, "good"}));
  EXPECT_TRUE(good);
}

// --- GO.sqlite -----------------------------------------------------------

void Exec(sqlite3* db, const std::string& sql) {
  char* err = nullptr;
  ASSERT_EQ(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err), SQLITE_OK) << (err ? err : "") << "\n" << sql;
}

// A GO.db-shaped database: a few terms of each ontology, the "all" root,
// secondary ids, a quote and a '!' in labels.
void WriteSmallGoDb(const std::string& path) {
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  Exec(db,
       "CREATE TABLE go_term (_id INTEGER PRIMARY KEY, go_id CHAR(10) NOT NULL UNIQUE, term VARCHAR(255) NOT NULL,"
       " ontology VARCHAR(9) NOT NULL, definition TEXT NULL);"
       "CREATE TABLE go_synonym (_id INTEGER NOT NULL, synonym VARCHAR(255) NOT NULL, secondary CHAR(10) NULL,"
       " like_go_id SMALLINT);"
       "CREATE TABLE go_bp_parents (_id INTEGER NOT NULL, _parent_id INTEGER NOT NULL,"
       " relationship_type VARCHAR(7) NOT NULL);"
       "CREATE TABLE go_mf_parents AS SELECT * FROM go_bp_parents;"
       "CREATE TABLE go_cc_parents AS SELECT * FROM go_bp_parents;"
       "INSERT INTO go_term VALUES (1, 'GO:0008150', 'biological_process', 'BP', 'A biological process.'),"
       " (2, 'GO:0012501', 'programmed cell death', 'BP', 'Cell death \"programmed\"; see! also {x}.'),"
       " (3, 'GO:0006915', 'apoptotic process', 'BP', NULL),"
       " (4, 'GO:0005634', 'nucleus', 'CC', 'A membrane-bounded organelle.'),"
       " (5, 'GO:0003674', 'molecular_function', 'MF', ''),"
       " (6, 'all', 'all', 'universal', NULL);"
       "INSERT INTO go_synonym VALUES (3, 'apoptosis', NULL, 0), (3, 'GO:0006917', 'GO:0006917', 1),"
       " (3, 'cell suicide', NULL, 0), (4, 'cell nucleus', NULL, 0), (6, 'everything', NULL, 0);"
       "INSERT INTO go_bp_parents VALUES (2, 1, 'isa'), (3, 2, 'isa'), (3, 1, 'part of'), (2, 6, 'isa'),"
       " (3, 4, 'negatively regulates');"
       "INSERT INTO go_cc_parents VALUES (4, 6, 'isa');");
  sqlite3_close(db);
}

std::string OboEscape(const std::string& s, bool quoted) {
  std::string out;
  for (char c : s) {
    if (c == '\\' || c == '!' || c == '{' || c == '}' || (quoted && c == '"')) out.push_back('\\');
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out.push_back(c);
  }
  return out;
}

// The OBO form of a GO.db database, written the way the Gene Ontology's own
// go-basic.obo is (synonym scopes are not in GO.db, so RELATED).
std::string ConvertGoDbToObo(const std::string& path) {
  sqlite3* db = nullptr;
  EXPECT_EQ(sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr), SQLITE_OK);
  auto rows = [&](const std::string& sql) {
    std::vector<std::vector<std::string>> out;
    sqlite3_stmt* st = nullptr;
    EXPECT_EQ(sqlite3_prepare_v2(db, sql.c_str(), -1, &st, nullptr), SQLITE_OK) << sql;
    while (sqlite3_step(st) == SQLITE_ROW) {
      std::vector<std::string> row;
      for (int i = 0; i < sqlite3_column_count(st); ++i) {
        const unsigned char* t = sqlite3_column_text(st, i);
        row.emplace_back(t ? reinterpret_cast<const char*>(t) : "");
      }
      out.push_back(std::move(row));
    }
    sqlite3_finalize(st);
    return out;
  };
  std::string obo = "format-version: 1.2\nontology: go\n";
  const char* ns[][2] = {{"BP", "biological_process"}, {"MF", "molecular_function"}, {"CC", "cellular_component"}};
  for (const auto& t : rows("SELECT _id, go_id, term, ontology, definition FROM go_term WHERE go_id LIKE 'GO:%'")) {
    obo += "\n[Term]\nid: " + t[1] + "\nname: " + OboEscape(t[2], false) + "\n";
    for (const auto& n : ns) {
      if (t[3] == n[0]) obo += std::string("namespace: ") + n[1] + "\n";
    }
    if (!t[4].empty()) obo += "def: \"" + OboEscape(t[4], true) + "\" [GOC:x]\n";
    for (const auto& s : rows("SELECT synonym, secondary, like_go_id FROM go_synonym WHERE _id = " + t[0])) {
      obo += s[2] == "1" ? "alt_id: " + (s[1].empty() ? s[0] : s[1]) + "\n"
                         : "synonym: \"" + OboEscape(s[0], true) + "\" RELATED []\n";
    }
    for (const char* table : {"go_bp_parents", "go_mf_parents", "go_cc_parents"}) {
      for (const auto& p :
           rows(std::string("SELECT g.go_id, p.relationship_type FROM ") + table +
                " p JOIN go_term g ON g._id = p._parent_id WHERE g.go_id LIKE 'GO:%' AND p._id = " + t[0])) {
        std::string rel = p[1];
        std::replace(rel.begin(), rel.end(), ' ', '_');
        obo += rel == "isa" ? "is_a: " + p[0] + " ! parent\n" : "relationship: " + rel + " " + p[0] + "\n";
      }
    }
  }
  sqlite3_close(db);
  return obo;
}

TEST(GeneOntologyTest, SqliteGivesTheTriplesOfItsOboForm) {
  TempDir tmp;
  const std::string db = tmp.Sub("GO.sqlite");
  WriteSmallGoDb(db);
  WriteText(tmp.Sub("go.obo"), ConvertGoDbToObo(db));
  auto from_sqlite = OpenOrDie(tmp.Sub("a"));
  auto from_obo = OpenOrDie(tmp.Sub("b"));
  ASSERT_NE(from_sqlite, nullptr);
  ASSERT_NE(from_obo, nullptr);
  LoadOptions small;
  small.batch_size = 3;  // several atomic writes
  ASSERT_OK_AND_ASSIGN(LoadStats a, LoadGeneOntology(*from_sqlite, db, small));
  ASSERT_OK_AND_ASSIGN(LoadStats b, LoadObo(*from_obo, tmp.Sub("go.obo")));
  EXPECT_EQ(a.entities, 5u);  // "all" is not a term
  EXPECT_EQ(b.entities, 5u);
  const std::set<Triple> sa = All(*from_sqlite);
  EXPECT_EQ(sa, All(*from_obo));
  EXPECT_TRUE(sa.count({"GO:0006915", kAlias, "apoptosis"}));
  EXPECT_TRUE(sa.count({"GO:0006915", "obo:alt_id", "GO:0006917"}));
  EXPECT_TRUE(sa.count({"GO:0006915", "obo:is_a", "GO:0012501"}));
  EXPECT_TRUE(sa.count({"GO:0006915", "obo:part_of", "GO:0008150"}));
  EXPECT_TRUE(sa.count({"GO:0006915", "obo:negatively_regulates", "GO:0005634"}));
  EXPECT_TRUE(sa.count({"GO:0012501", kDef, "Cell death \"programmed\"; see! also {x}."}));
  EXPECT_TRUE(sa.count({"GO:0005634", "obo:namespace", "cellular_component"}));
  for (const Triple& t : sa) EXPECT_NE(t.object, "all") << t.subject << " " << t.relation;
}

TEST(GeneOntologyTest, InstalledGoSqliteGivesTheTriplesOfItsOboForm) {
  const std::string db = KgSources() + "/GO.sqlite";
  if (!std::filesystem::exists(db)) GTEST_SKIP() << db << " not installed (scripts/setup.sh)";
  TempDir tmp;
  WriteText(tmp.Sub("go.obo"), ConvertGoDbToObo(db));
  // The whole ontology twice: compared in memory (the RocksDB path is the test above).
  fuzz::MemoryTripleStore a, b;
  ASSERT_OK_AND_ASSIGN(LoadStats sa, LoadGeneOntology(a, db));
  ASSERT_OK_AND_ASSIGN(LoadStats sb, LoadObo(b, tmp.Sub("go.obo")));
  EXPECT_EQ(sa.entities, 43558u);  // GO.db 3.16: 43,559 rows, less the "all" root
  EXPECT_EQ(sb.entities, sa.entities);
  ASSERT_OK_AND_ASSIGN(uint64_t na, a.Count());
  ASSERT_OK_AND_ASSIGN(uint64_t nb, b.Count());
  EXPECT_EQ(na, nb);
  EXPECT_EQ(a.triples(), b.triples());
  ASSERT_OK_AND_ASSIGN(bool apoptosis, a.Exists({"GO:0006915", kAlias, "apoptosis"}));
  EXPECT_TRUE(apoptosis);
}

TEST(GeneOntologyTest, MissingOrForeignFilesAreNamed) {
  TempDir tmp;
  auto store = OpenOrDie(tmp.Sub("kg"));
  ASSERT_NE(store, nullptr);
  auto missing = LoadGeneOntology(*store, tmp.Sub("none.sqlite"));
  ASSERT_FALSE(missing.ok());
  EXPECT_TRUE(missing.status().IsNotFound());
  WriteText(tmp.Sub("text.sqlite"), "this is not a database\n");
  auto text = LoadGeneOntology(*store, tmp.Sub("text.sqlite"));
  ASSERT_FALSE(text.ok());
  EXPECT_TRUE(text.status().IsInvalidArgument()) << text.status().ToString();
  EXPECT_NE(text.status().message().find(tmp.Sub("text.sqlite")), std::string::npos);
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(tmp.Sub("other.sqlite").c_str(), &db), SQLITE_OK);
  Exec(db, "CREATE TABLE t (x);");
  sqlite3_close(db);
  auto other = LoadGeneOntology(*store, tmp.Sub("other.sqlite"));
  ASSERT_FALSE(other.ok());
  EXPECT_NE(other.status().message().find("not a GO.db database"), std::string::npos) << other.status().ToString();
  ASSERT_OK_AND_ASSIGN(uint64_t count, store->Count());
  EXPECT_EQ(count, 0u);
}

// --- FOLDOC --------------------------------------------------------------

std::string Base64Number(uint64_t v) {
  const char* digits = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  do {
    out.insert(out.begin(), digits[v % 64]);
    v /= 64;
  } while (v != 0);
  return out;
}

// Writes foldoc.index and foldoc.dict(.dz) for entries given as their full text.
void WriteDictd(const std::string& dir, const std::vector<std::pair<std::vector<std::string>, std::string>>& entries,
                bool compress) {
  std::string dict, index;
  for (const auto& [headwords, text] : entries) {
    const uint64_t offset = dict.size();
    dict += text;
    for (const std::string& h : headwords) {
      index += h + "\t" + Base64Number(offset) + "\t" + Base64Number(text.size()) + "\n";
    }
  }
  std::filesystem::create_directories(dir);
  WriteText(dir + "/foldoc.index", index);
  if (!compress) {
    WriteText(dir + "/foldoc.dict", dict);
    return;
  }
  gzFile f = gzopen((dir + "/foldoc.dict.dz").c_str(), "wb");
  ASSERT_NE(f, nullptr);
  ASSERT_EQ(gzwrite(f, dict.data(), static_cast<unsigned>(dict.size())), static_cast<int>(dict.size()));
  gzclose(f);
}

const std::vector<std::pair<std::vector<std::string>, std::string>> kEntries = {
    {{"00-database-short"}, "00-database-short\n     The dictionary\n\n"},
    {{"hash function"},
     "hash function\n\n   <programming> A {hash coding} {function} which assigns\n   a data item to a bucket.\n\n"
     "   (1997-08-03)\n\n"},
    {{"hash coding", "hashing"}, "hash coding\nhashing\n\n   <algorithm> See {hash function}.\n\n"},
    {{"function"},
     "function\n\n   1. <mathematics> A mapping.\n\n   2. <programming> A {subroutine (routine)} that {hash}es.\n\n"},
    {{"TCP", "Transmission Control Protocol"},
     "Transmission Control Protocol\nTCP\n\n   <protocol> The most common {transport layer} protocol.\n\n"},
};

TEST(FoldocTest, EntriesGiveAliasesDefinitionsCategoriesAndCrossReferences) {
  for (bool compress : {true, false}) {
    TempDir tmp;
    WriteDictd(tmp.Sub("dictd"), kEntries, compress);
    auto store = OpenOrDie(tmp.Sub("kg"));
    ASSERT_NE(store, nullptr);
    ASSERT_OK_AND_ASSIGN(LoadStats stats, LoadFoldoc(*store, tmp.Sub("dictd")));
    EXPECT_EQ(stats.entities, 4u);  // the 00-database entry is metadata
    EXPECT_EQ(stats.lines, 7u);
    const std::string hf = "foldoc:hash function", hc = "foldoc:hash coding", fn = "foldoc:function";
    const std::string tcp = "foldoc:Transmission Control Protocol";
    const std::set<Triple> expected = {
        {hf, kAlias, "hash function"},
        {hf, kDef, "A hash coding function which assigns a data item to a bucket."},
        {hf, "foldoc:category", "programming"},
        {hf, "foldoc:see", hc},
        {hf, "foldoc:see", fn},
        {hc, kAlias, "hash coding"},
        {hc, kAlias, "hashing"},
        {hc, kDef, "See hash function."},
        {hc, "foldoc:category", "algorithm"},
        {hc, "foldoc:see", hf},
        {fn, kAlias, "function"},
        {fn, kDef, "1. A mapping. 2. A subroutine (routine) that hashes."},
        {fn, "foldoc:category", "mathematics"},
        {fn, "foldoc:category", "programming"},
        {tcp, kAlias, "Transmission Control Protocol"},
        {tcp, kAlias, "TCP"},
        {tcp, kDef, "The most common transport layer protocol."},
        {tcp, "foldoc:category", "protocol"},
    };
    EXPECT_EQ(All(*store), expected) << (compress ? "dict.dz" : "dict");
  }
}

TEST(FoldocTest, BadIndexLinesNameTheLine) {
  struct Case {
    std::string line;
    std::string fault;
  };
  for (const Case& c : {Case{"word\tA\n", ":2: expected headword<TAB>offset<TAB>length"},
                        Case{"word\tA!\tB\n", ":2: offset and length must be dictd base64 numbers"},
                        Case{"word\tA\tBAAA\n", ":2: entry at 0+262144 lies outside the dictionary"},
                        Case{"\tA\tB\n", ":2: empty headword"}}) {
    TempDir tmp;
    WriteDictd(tmp.Sub("d"), {kEntries[1]}, false);
    {
      std::FILE* f = std::fopen(tmp.Sub("d/foldoc.index").c_str(), "a");
      ASSERT_NE(f, nullptr);
      std::fputs(c.line.c_str(), f);
      std::fclose(f);
    }
    auto store = OpenOrDie(tmp.Sub("kg"));
    ASSERT_NE(store, nullptr);
    auto r = LoadFoldoc(*store, tmp.Sub("d"));
    ASSERT_FALSE(r.ok()) << c.line;
    EXPECT_TRUE(r.status().IsInvalidArgument());
    EXPECT_NE(r.status().message().find(tmp.Sub("d/foldoc.index") + c.fault), std::string::npos)
        << r.status().ToString();
    ASSERT_OK_AND_ASSIGN(uint64_t count, store->Count());
    EXPECT_EQ(count, 0u);  // the index is read whole before anything is written
    LoadOptions skip;
    skip.skip_bad = true;
    ASSERT_OK_AND_ASSIGN(LoadStats stats, LoadFoldoc(*store, tmp.Sub("d"), skip));
    EXPECT_EQ(stats.bad_lines, 1u);
    EXPECT_EQ(stats.entities, 1u);
  }
  TempDir tmp;
  auto store = OpenOrDie(tmp.Sub("kg"));
  ASSERT_NE(store, nullptr);
  auto missing = LoadFoldoc(*store, tmp.path());
  ASSERT_FALSE(missing.ok());
  EXPECT_TRUE(missing.status().IsNotFound());
}

TEST(FoldocTest, InstalledFoldocLinksAbbreviationsToTheirEntries) {
  const std::string dir = KgSources() + "/foldoc";
  if (!std::filesystem::exists(dir + "/foldoc.index")) GTEST_SKIP() << dir << " not installed (scripts/setup.sh)";
  TempDir tmp;
  auto store = OpenOrDie(tmp.Sub("kg"));
  ASSERT_NE(store, nullptr);
  ASSERT_OK_AND_ASSIGN(LoadStats stats, LoadFoldoc(*store, dir));
  EXPECT_EQ(stats.bad_lines, 0u);
  EXPECT_GT(stats.entities, 10000u);
  ASSERT_OK_AND_ASSIGN(auto quick, store->EntitiesForAlias("quicksort"));
  ASSERT_EQ(quick.size(), 1u);
  ASSERT_OK_AND_ASSIGN(auto see, store->Neighbors(quick[0], std::string("foldoc:see")));
  EXPECT_TRUE(std::any_of(see.begin(), see.end(), [](const Neighbor& n) { return n.entity == "foldoc:algorithm"; }));
}

}  // namespace
}  // namespace hymir::kg
