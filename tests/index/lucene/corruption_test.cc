// Damage never crashes or lies: every file of a small index with a
// vector field (and its forward index) is truncated, zeroed, flipped at head, middle and tail, or
// deleted; opening and searching it must then either fail with an error
// naming the file, or give exactly the undamaged answers. Plus the issue's
// recipes on an index without a manifest (the structural bounds alone), the
// commit manifest itself and CheckIndex.
#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "hymir/index/check_index.h"
#include "src/core/crc32.h"
#include "tests/index/lucene/index_fixture.h"

namespace hymir::index {
namespace {

namespace fs = std::filesystem;
using testing::Doc;
using testing::TempDir;

std::vector<std::string> Words() {
  return {"lens",   "protein", "cell",   "membrane", "retina", "glucose", "insulin", "kidney", "liver",  "blood",
          "vessel", "nerve",   "signal", "growth",   "factor", "tumor",   "virus",   "gene",   "enzyme", "acid"};
}

// A small index: 2 commits (so segments files and a deletion exist), a 4-d
// vector field, typed fields (so the doc values file exists), ids, titles
// and texts drawn from a fixed vocabulary.
Status BuildSmallIndex(const std::string& dir) {
  IndexWriterOptions opts;
  VectorFieldSpec spec;
  spec.name = "emb";
  spec.dimension = 4;
  spec.metric = VectorMetric::kL2;
  opts.vector_fields = {spec};
  auto schema = ParseSchemaJson(R"({"fields": {"size": {"type": "int64", "sort": true, "facet": true},
      "tag": {"type": "keyword", "facet": true}}})");
  if (!schema.ok()) return schema.status();
  opts.schema = *schema;
  auto w = IndexWriter::Open(dir, opts);
  if (!w.ok()) return w.status();
  const auto words = Words();
  for (int i = 0; i < 60; ++i) {
    std::string text;
    for (int j = 0; j < 3 + i % 7; ++j) text += words[(i * 7 + j * 3) % words.size()] + " ";
    Document d = Doc("doc" + std::to_string(i), words[i % words.size()] + " study", text);
    d.vectors["emb"] = {float(i % 5), float(i % 3), float(i % 7), 1.0f};
    d.values["size"] = {int64_t{(i * 37) % 101}};
    d.values["tag"] = {std::string(i % 2 ? "odd" : "even"), "t" + std::to_string(i % 4)};
    HYMIR_RETURN_IF_ERROR((*w)->Upsert(d));
    if (i == 39) HYMIR_RETURN_IF_ERROR((*w)->Commit());
  }
  HYMIR_RETURN_IF_ERROR((*w)->Delete("doc3"));
  HYMIR_RETURN_IF_ERROR((*w)->Commit());
  // A small last commit: its forward index is a delta over the one before.
  Document d = Doc("doc7", "revised study", "lens retina acid");
  d.vectors["emb"] = {1, 1, 1, 1};
  d.values["size"] = {int64_t{50}};
  d.values["tag"] = {std::string("odd")};
  HYMIR_RETURN_IF_ERROR((*w)->Upsert(d));
  return (*w)->Commit();
}

// Everything a reader answers, as one string: searches, stored documents, vectors.
Result<std::string> Answers(const std::string& dir) {
  auto s = Searcher::Open(dir);
  if (!s.ok()) return s.status();
  std::ostringstream out;
  out << (*s)->NumDocs() << "\n";
  for (const std::string q : {"lens protein", "retina", "blood vessel nerve", "acid enzyme gene", "study"}) {
    TextQuery tq;
    tq.text = q;
    tq.k = 20;
    auto hits = (*s)->Search(tq);
    if (!hits.ok()) return hits.status();
    for (const auto& h : *hits) out << h.id << " " << h.score << " ";
    out << "\n";
  }
  // Typed values: a range, a sort and facets read the doc values file.
  TextQuery typed;
  typed.text = "study";
  typed.k = 20;
  typed.ranges = {RangeFilter{"size", "10", "80"}};
  typed.sort = {{"size", true}};
  typed.facets = {{"tag", 10, {}}, {"size", 3, {}}};
  auto tr = (*s)->SearchStructured(typed);
  if (!tr.ok()) return tr.status();
  out << tr->total << ":";
  for (const auto& h : tr->hits) out << h.id << " ";
  for (const auto& f : tr->facets) {
    for (const auto& c : f.counts) out << f.field << "=" << c.value << "/" << c.count << " ";
  }
  out << "\n";
  VectorQuery vq;
  vq.field = "emb";
  vq.vector = {1, 2, 3, 1};
  vq.k = 10;
  auto vh = (*s)->SearchVector(vq);
  if (!vh.ok()) return vh.status();
  for (const auto& h : *vh) out << h.id << " " << h.score << " ";
  out << "\n";
  for (int i = 0; i < 60; i += 7) {
    auto d = (*s)->GetDocument("doc" + std::to_string(i));
    if (!d.ok()) return d.status();
    out << d->id << "|" << d->title << "|" << d->text << "\n";
    // The forward index is read too, so its damage is seen.
    auto a = (*s)->GetAnalysed("doc" + std::to_string(i));
    if (!a.ok()) return a.status();
    for (const auto& t : a->title) out << t << " ";
    for (const auto& t : a->text) out << t << " ";
    for (uint32_t e : a->sentence_ends) out << e << " ";
    out << a->domain.value_or("-") << "\n";
  }
  return out.str();
}

std::string Slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}
void Spit(const std::string& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes;
}

enum class Damage { kTruncateHalf, kTruncateZero, kZeroFill, kFlipHead, kFlipMiddle, kFlipTail, kDelete };
const char* Name(Damage d) {
  switch (d) {
    case Damage::kTruncateHalf:
      return "truncate-half";
    case Damage::kTruncateZero:
      return "truncate-0";
    case Damage::kZeroFill:
      return "zero-fill";
    case Damage::kFlipHead:
      return "flip-head";
    case Damage::kFlipMiddle:
      return "flip-middle";
    case Damage::kFlipTail:
      return "flip-tail";
    case Damage::kDelete:
      return "delete";
  }
  return "?";
}

void Apply(const std::string& path, Damage d) {
  if (d == Damage::kDelete) {
    fs::remove(path);
    return;
  }
  std::string b = Slurp(path);
  auto flip = [&](size_t at) {
    for (size_t i = at; i < std::min(b.size(), at + 16); ++i) b[i] = static_cast<char>(b[i] ^ 0x5a);
  };
  switch (d) {
    case Damage::kTruncateHalf:
      b.resize(b.size() / 2);
      break;
    case Damage::kTruncateZero:
      b.clear();
      break;
    case Damage::kZeroFill:
      b.assign(b.size(), '\0');
      break;
    case Damage::kFlipHead:
      flip(0);
      break;
    case Damage::kFlipMiddle:
      flip(b.size() / 2);
      break;
    case Damage::kFlipTail:
      flip(b.size() > 16 ? b.size() - 16 : 0);
      break;
    case Damage::kDelete:
      break;
  }
  Spit(path, b);
}

std::vector<std::string> FilesUnder(const std::string& dir) {
  std::vector<std::string> out;
  for (const auto& e : fs::recursive_directory_iterator(dir)) {
    if (e.is_regular_file()) out.push_back(fs::relative(e.path(), dir).string());
  }
  std::sort(out.begin(), out.end());
  return out;
}

TEST(CorruptionTest, DamageMatrixNeverCrashesNeverLies) {
  TempDir tmp;
  const std::string clean = tmp.Sub("clean");
  ASSERT_OK(BuildSmallIndex(clean));
  ASSERT_OK_AND_ASSIGN(const std::string expected, Answers(clean));
  const auto files = FilesUnder(clean);
  ASSERT_GT(files.size(), 10u);
  int errors = 0, identical = 0;
  for (const std::string& file : files) {
    for (Damage d : {Damage::kTruncateHalf, Damage::kTruncateZero, Damage::kZeroFill, Damage::kFlipHead,
                     Damage::kFlipMiddle, Damage::kFlipTail, Damage::kDelete}) {
      SCOPED_TRACE(file + " " + Name(d));
      const std::string copy = tmp.Sub("damaged");
      fs::remove_all(copy);
      fs::copy(clean, copy, fs::copy_options::recursive);
      const std::string before = Slurp(copy + "/" + file);
      Apply(copy + "/" + file, d);
      if (d != Damage::kDelete && Slurp(copy + "/" + file) == before) continue;  // e.g. an empty file
      auto got = Answers(copy);
      if (got.ok()) {
        EXPECT_EQ(*got, expected) << "a quiet wrong answer";
        ++identical;
      } else {
        ++errors;
        const std::string msg = got.status().ToString();
        EXPECT_NE(msg.find(fs::path(file).filename().string()), std::string::npos) << msg;
        // hymir check names it too (every byte, not just the small files).
        auto check = CheckIndex(copy);
        ASSERT_FALSE(check.ok());
        EXPECT_NE(check.status().ToString().find(fs::path(file).filename().string()), std::string::npos)
            << check.status().ToString();
      }
    }
  }
  std::printf("damage matrix: %zu files, %d errors naming the file, %d identical answers\n", files.size(), errors,
              identical);
  EXPECT_GT(errors, 50);
  EXPECT_GT(identical, 0);  // e.g. the writer's LOCK file, the previous vector generation
}

// The issue's recipes with the manifest gone (an index written before
// manifests): the structural checks alone turn them into errors.
TEST(CorruptionTest, RecipesWithoutManifestAreErrorsNotCrashes) {
  TempDir tmp;
  const std::string clean = tmp.Sub("clean");
  ASSERT_OK(BuildSmallIndex(clean));
  struct Recipe {
    std::string ext;
    size_t at;
  };
  for (const Recipe& r : {Recipe{".tii", 0}, Recipe{".tis", 0}, Recipe{".tii", 4}, Recipe{".tis", 4}}) {
    SCOPED_TRACE(r.ext + " at " + std::to_string(r.at));
    const std::string copy = tmp.Sub("damaged");
    fs::remove_all(copy);
    fs::copy(clean, copy, fs::copy_options::recursive);
    fs::remove(copy + "/MANIFEST");
    bool damaged = false;
    for (const std::string& f : FilesUnder(copy)) {
      if (fs::path(f).extension() != r.ext) continue;
      std::string b = Slurp(copy + "/" + f);
      for (size_t i = r.at; i < std::min(b.size(), r.at + 16); ++i) b[i] = static_cast<char>(b[i] ^ 0x5a);
      Spit(copy + "/" + f, b);
      damaged = true;
    }
    ASSERT_TRUE(damaged);
    auto got = Answers(copy);
    ASSERT_FALSE(got.ok());
    EXPECT_TRUE(got.status().IsCorruption()) << got.status().ToString();
    EXPECT_NE(got.status().ToString().find(r.ext), std::string::npos) << got.status().ToString();
  }
  // XOR of the first 16 bytes of .frq (a SIGSEGV in Snapshot::Load before
  // the fix): doc ids and frequencies are bounded, so this is an error or an
  // answer, never a crash.
  const std::string copy = tmp.Sub("frq");
  fs::copy(clean, copy, fs::copy_options::recursive);
  fs::remove(copy + "/MANIFEST");
  for (const std::string& f : FilesUnder(copy)) {
    if (fs::path(f).extension() != ".frq") continue;
    std::string b = Slurp(copy + "/" + f);
    for (size_t i = 0; i < std::min<size_t>(b.size(), 16); ++i) b[i] = static_cast<char>(b[i] ^ 0x5a);
    Spit(copy + "/" + f, b);
  }
  auto got = Answers(copy);
  std::printf(".frq flipped: %s\n", got.ok() ? "answered" : got.status().ToString().c_str());
  if (!got.ok()) {
    EXPECT_TRUE(got.status().IsCorruption()) << got.status().ToString();
  }
}

TEST(CorruptionTest, ManifestRecordsEveryCommitAndCheckPassesOnIntactIndex) {
  TempDir tmp;
  ASSERT_OK(BuildSmallIndex(tmp.path()));
  const std::string manifest = Slurp(tmp.Sub("MANIFEST"));
  EXPECT_EQ(manifest.rfind("hymir-commit-manifest 1\n", 0), 0u) << manifest;
  for (const std::string& f : FilesUnder(tmp.path())) {
    // g2: the previous generation, but for the forward file the last
    // commit's delta applies to.
    if (f == "MANIFEST" || f == "LOCK" || (f.find(".g2.") != std::string::npos && f != "vectors/forward.g2.fwd"))
      continue;
    // Segment caches are derived data outside the commit, checked by their
    // own checksums (segment_cache.h; DamageMatrix and segment_cache_test).
    if (f.rfind("cache/", 0) == 0) continue;
    EXPECT_NE(manifest.find(" " + f + "\n"), std::string::npos) << f << " not in\n" << manifest;
  }
  ASSERT_OK_AND_ASSIGN(auto report, CheckIndex(tmp.path()));
  EXPECT_EQ(report.documents, 59u);
  EXPECT_GT(report.files, 10u);
  // A deleted manifest: searchers open unverified, check refuses, a writer records it again.
  fs::remove(tmp.Sub("MANIFEST"));
  EXPECT_OK(Searcher::Open(tmp.path()).status());
  auto no_manifest = CheckIndex(tmp.path());
  ASSERT_FALSE(no_manifest.ok());
  EXPECT_NE(no_manifest.status().ToString().find("MANIFEST"), std::string::npos);
  { ASSERT_OK(IndexWriter::Open(tmp.path()).status()); }
  EXPECT_OK(CheckIndex(tmp.path()).status());
  EXPECT_EQ(Slurp(tmp.Sub("MANIFEST")), manifest);
  // A manifest with a good checksum but a malformed line is Corruption naming it, not an exception.
  std::string body = manifest.substr(0, manifest.rfind("crc32 "));
  const size_t at = body.find("file ");
  body.replace(body.find(' ', body.find(' ', at) + 1) + 1, 8, "zzzzzzzz");
  char crc[16];
  std::snprintf(crc, sizeof crc, "%08x", hymir::internal::Crc32(0, body.data(), body.size()));
  Spit(tmp.Sub("MANIFEST"), body + "crc32 " + crc + "\n");
  auto crafted = Searcher::Open(tmp.path());
  ASSERT_FALSE(crafted.ok());
  EXPECT_TRUE(crafted.status().IsCorruption()) << crafted.status().ToString();
  EXPECT_NE(crafted.status().ToString().find("MANIFEST: malformed line 3"), std::string::npos)
      << crafted.status().ToString();
}

TEST(CorruptionTest, WriterRefusesADamagedIndex) {
  TempDir tmp;
  ASSERT_OK(BuildSmallIndex(tmp.path()));
  for (const std::string& f : FilesUnder(tmp.path())) {
    if (fs::path(f).extension() != ".fdt") continue;
    std::string b = Slurp(tmp.Sub(f));
    b.resize(b.size() / 2);
    Spit(tmp.Sub(f), b);
  }
  auto w = IndexWriter::Open(tmp.path());
  ASSERT_FALSE(w.ok()) << "a writer must not record damage as a good commit";
  EXPECT_NE(w.status().ToString().find(".fdt"), std::string::npos) << w.status().ToString();
}

TEST(CorruptionTest, RefreshVerifiesTheNewCommit) {
  TempDir tmp;
  ASSERT_OK(BuildSmallIndex(tmp.path()));
  ASSERT_OK_AND_ASSIGN(auto searcher, Searcher::Open(tmp.path()));
  {
    ASSERT_OK_AND_ASSIGN(auto w, IndexWriter::Open(tmp.path()));
    Document d = Doc("new", "lens", "retina");
    d.vectors["emb"] = {1, 1, 1, 1};
    ASSERT_OK(w->Upsert(d));
    ASSERT_OK(w->Commit());
  }
  std::string meta = Slurp(tmp.Sub("hymir.json"));
  meta[meta.size() / 2] ^= 0x01;
  Spit(tmp.Sub("hymir.json"), meta);
  Status s = searcher->Refresh();
  ASSERT_FALSE(s.ok());
  EXPECT_TRUE(s.IsCorruption()) << s.ToString();
  EXPECT_NE(s.ToString().find("hymir.json"), std::string::npos) << s.ToString();
  EXPECT_EQ(searcher->NumDocs(), 59u) << "the searcher keeps its last good view";
}

TEST(CorruptionTest, ReopenVerifiesWhatTheNewCommitWroteAndLeavesTheOldSearcherAlone) {
  TempDir tmp;
  ASSERT_OK(BuildSmallIndex(tmp.path()));
  ASSERT_OK_AND_ASSIGN(auto searcher, Searcher::Open(tmp.path()));
  auto commit_one = [&](const std::string& id) {
    ASSERT_OK_AND_ASSIGN(auto w, IndexWriter::Open(tmp.path()));
    Document d = Doc(id, "lens", "retina");
    d.vectors["emb"] = {1, 1, 1, 1};
    ASSERT_OK(w->Upsert(d));
    ASSERT_OK(w->Commit());
  };
  ASSERT_NO_FATAL_FAILURE(commit_one("new"));
  ASSERT_OK_AND_ASSIGN(auto reopened, searcher->Reopen());
  EXPECT_EQ(reopened->NumDocs(), 60u);
  EXPECT_EQ(searcher->NumDocs(), 59u) << "the searcher reopened from keeps its view";
  EXPECT_OK(reopened->GetAnalysed("new").status());
  EXPECT_TRUE(searcher->GetAnalysed("new").status().IsNotFound());
  // The next commit's new forward file (a delta) damaged: the reopen names it.
  ASSERT_NO_FATAL_FAILURE(commit_one("newer"));
  ASSERT_OK_AND_ASSIGN(const uint64_t g, LastCommitGeneration(tmp.path()));
  const std::string delta = "forward.g" + std::to_string(g) + ".fwd";
  std::string bytes = Slurp(tmp.Sub("vectors/" + delta));
  bytes[bytes.size() / 2] ^= 0x01;
  Spit(tmp.Sub("vectors/" + delta), bytes);
  auto bad = reopened->Reopen();
  ASSERT_FALSE(bad.ok());
  EXPECT_TRUE(bad.status().IsCorruption()) << bad.status().ToString();
  EXPECT_NE(bad.status().ToString().find(delta), std::string::npos) << bad.status().ToString();
  EXPECT_EQ(reopened->NumDocs(), 60u);
}

// Found by the looping kill -9 test (tests/cli/kill9_test.cc): a writer
// killed between its Lucene++ commit and the manifest write leaves a durable
// commit newer than MANIFEST. `hymir check` called that Corruption; now it
// checksums what the manifest still covers, reports the commit as unrecorded,
// and still names a damaged file it covers.
TEST(CorruptionTest, CommitNewerThanTheManifestIsUnrecordedNotDamage) {
  TempDir tmp;
  ASSERT_OK(BuildSmallIndex(tmp.path()));
  const std::string before = Slurp(tmp.Sub("MANIFEST"));
  {
    ASSERT_OK_AND_ASSIGN(auto w, IndexWriter::Open(tmp.path()));
    Document d = Doc("new", "lens", "retina");
    d.vectors["emb"] = {1, 1, 1, 1};
    ASSERT_OK(w->Upsert(d));
    ASSERT_OK(w->Commit());
  }
  Spit(tmp.Sub("MANIFEST"), before);  // as if killed before the manifest write
  ASSERT_OK_AND_ASSIGN(auto report, CheckIndex(tmp.path()));
  EXPECT_TRUE(report.unrecorded_commit);
  EXPECT_GT(report.unrecorded_files, 0u);
  EXPECT_GT(report.bytes, 0u) << "the shared segment files are still checksummed";
  EXPECT_EQ(report.documents, 60u);
  ASSERT_OK_AND_ASSIGN(auto s, Searcher::Open(tmp.path()));
  EXPECT_OK(s->GetDocument("new").status());
  // A damaged file the old manifest covers is still named.
  std::string victim;
  for (const auto& e : std::filesystem::directory_iterator(tmp.Sub("text"))) {
    const std::string n = e.path().filename().string();
    if (n.size() > 4 && n.substr(n.size() - 4) == ".fdt" && before.find("text/" + n) != std::string::npos) victim = n;
  }
  ASSERT_FALSE(victim.empty());
  std::string bytes = Slurp(tmp.Sub("text/" + victim));
  bytes[bytes.size() / 2] ^= 0x01;
  Spit(tmp.Sub("text/" + victim), bytes);
  auto damaged = CheckIndex(tmp.path());
  ASSERT_FALSE(damaged.ok());
  EXPECT_NE(damaged.status().ToString().find(victim), std::string::npos) << damaged.status().ToString();
  // A writer records the commit (on an undamaged copy: restore the byte).
  bytes[bytes.size() / 2] ^= 0x01;
  Spit(tmp.Sub("text/" + victim), bytes);
  { ASSERT_OK_AND_ASSIGN(auto w, IndexWriter::Open(tmp.path())); }
  ASSERT_OK_AND_ASSIGN(report, CheckIndex(tmp.path()));
  EXPECT_FALSE(report.unrecorded_commit);
}

}  // namespace
}  // namespace hymir::index
