// Media ingest on a synthetic collection written as PNG files, searched
// through the Engine: query by example over several vector fields, by
// caption, filters, bad files reported and skipped, nothing committed half.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>

#include "hymir/engine.h"
#include "hymir/features.h"
#include "hymir/index/searcher.h"
#include "hymir/media/media_collection.h"
#include "hymir/media/media_describer.h"
#include "hymir/media/media_ingest.h"
#include "tests/testutil/testutil.h"

namespace hymir::media {
namespace {

namespace fs = std::filesystem;

// Stripes of `colour` on white: vertical stripes (edges at 0/180 degrees)
// or horizontal ones (90/270), `period` pixels apart.
Image Stripes(uint8_t r, uint8_t g, uint8_t b, bool vertical, int period) {
  Image img = SolidImage(64, 64, 255, 255, 255);
  for (int y = 0; y < 64; ++y)
    for (int x = 0; x < 64; ++x)
      if (((vertical ? x : y) / period) % 2 == 0) {
        uint8_t* p = img.pixel(x, y);
        p[0] = r;
        p[1] = g;
        p[2] = b;
      }
  return img;
}

void WritePng(const std::string& path, const Image& img) {
  fs::create_directories(fs::path(path).parent_path());
  auto png = EncodePng(img);
  ASSERT_TRUE(png.ok());
  testing::WriteText(path, std::string(png->begin(), png->end()));
}

// red/: red vertical stripes; blue/: blue horizontal stripes; captions in .txt
// (Tux Paint layout), one broken PNG, one SVG, one _mirror variant.
void WriteCollection(const std::string& root) {
  for (int i = 0; i < 3; ++i) {
    const std::string n = std::to_string(i);
    WritePng(root + "/red/warm/r" + n + ".png", Stripes(220, 10 + 10 * i, 0, true, 4 + i));
    testing::WriteText(root + "/red/warm/r" + n + ".txt", "A red striped flag number " + n + ".\nfr.utf8=Un drapeau\n");
    WritePng(root + "/blue/b" + n + ".png", Stripes(0, 10 + 10 * i, 230, false, 4 + i));
    testing::WriteText(root + "/blue/b" + n + ".txt", "A blue wave " + n + ".\n");
  }
  WritePng(root + "/blue/b0_mirror.png", Stripes(0, 10, 230, false, 4));
  testing::WriteText(root + "/red/broken.png", "not a png at all");
  testing::WriteText(root + "/blue/shape.svg", "<svg xmlns=\"http://www.w3.org/2000/svg\"/>");
  WritePng(root + "/blue/shape_twin.png", Stripes(0, 0, 200, false, 5));  // a stem of its own
  // Sounds: r0 hums at 1 kHz, b0 whistles at 3 kHz, r1's sound is broken.
  for (auto [path, hz] :
       {std::pair<std::string, double>{root + "/red/warm/r0.wav", 1000.0}, {root + "/blue/b0.wav", 3000.0}}) {
    Audio a;
    a.sample_rate = 16000;
    for (int i = 0; i < 8000; ++i) a.samples.push_back(static_cast<float>(0.5 * std::sin(2 * M_PI * hz * i / 16000)));
    ASSERT_TRUE(WriteWav(path, a).ok());
  }
  testing::WriteText(root + "/red/warm/r1.ogg", "not a sound");
}

TEST(MediaCollectionTest, ScansTheStampLayout) {
  testing::TempDir tmp;
  WriteCollection(tmp.path());
  ASSERT_OK_AND_ASSIGN(MediaCollection c, ScanMediaDirectory(tmp.path()));
  std::vector<std::string> ids;
  for (const auto& item : c.items) ids.push_back(item.id);
  EXPECT_EQ(ids, (std::vector<std::string>{"blue/b0", "blue/b1", "blue/b2", "blue/shape", "blue/shape_twin",
                                           "red/broken", "red/warm/r0", "red/warm/r1", "red/warm/r2"}));
  ASSERT_EQ(c.skipped.size(), 1u);
  EXPECT_NE(c.skipped[0].path.find("b0_mirror.png"), std::string::npos);
  const MediaItem& r0 = c.items[6];
  EXPECT_EQ(r0.caption, "A red striped flag number 0.");
  EXPECT_EQ(r0.category, "red");
  EXPECT_EQ(r0.subcategory, "red/warm");
  EXPECT_EQ(c.items[4].caption, "shape twin");  // no .txt: from the file name
  EXPECT_NE(r0.sound.find("r0.wav"), std::string::npos);
  EXPECT_NE(c.items[7].sound.find("r1.ogg"), std::string::npos);
  EXPECT_EQ(c.items[8].sound, "");
  EXPECT_TRUE(ScanMediaDirectory(tmp.Sub("absent")).status().IsNotFound());

  // A file name with spaces gives an id without them (ids refuse whitespace).
  std::filesystem::copy_file(tmp.Sub("blue/b1.png"), tmp.Sub("blue/big owl.png"));
  ASSERT_OK_AND_ASSIGN(MediaCollection spaced, ScanMediaDirectory(tmp.path()));
  ASSERT_TRUE(std::any_of(spaced.items.begin(), spaced.items.end(),
                          [](const MediaItem& i) { return i.id == "blue/big_owl" && i.caption == "big owl"; }));
}

class MediaIngestTest : public ::testing::Test {
 protected:
  void SetUp() override {
    WriteCollection(tmp_.Sub("media"));
    auto c = ScanMediaDirectory(tmp_.Sub("media"));
    ASSERT_TRUE(c.ok());
    collection_ = *c;
    options_.threads = 2;
    options_.descriptors.vocabulary.words = 4;
    options_.progress = [this](size_t done, size_t total) {
      EXPECT_EQ(done, ++progress_calls_);
      EXPECT_EQ(total, collection_.items.size());
    };
  }
  testing::TempDir tmp_;
  MediaCollection collection_;
  IngestOptions options_;
  size_t progress_calls_ = 0;
};

TEST_F(MediaIngestTest, IndexesGoodImagesReportsBadOnesAndSearches) {
  const std::string dir = tmp_.Sub("idx");
  ASSERT_OK_AND_ASSIGN(IngestReport report, IngestMedia(collection_, dir, options_));
  EXPECT_EQ(progress_calls_, collection_.items.size());
  EXPECT_EQ(report.indexed, 7u);
  EXPECT_EQ(report.sounds, 2u);
  ASSERT_EQ(report.failed.size(), 3u);  // in collection order
  EXPECT_NE(report.failed[0].path.find("shape.svg"), std::string::npos);
  EXPECT_NE(report.failed[0].reason.find("SVG"), std::string::npos);
  EXPECT_NE(report.failed[1].path.find("broken.png"), std::string::npos);
  EXPECT_NE(report.failed[2].path.find("r1.ogg"), std::string::npos);  // r1 indexed without its sound
  EXPECT_GT(report.local_descriptors, 0u);

  ASSERT_OK_AND_ASSIGN(MediaDescriber describer, MediaDescriber::Load(dir));
  EXPECT_EQ(describer.vocabulary().words(), 4u);
  ASSERT_OK_AND_ASSIGN(auto engine, Engine::Open(dir));
  ASSERT_OK_AND_ASSIGN(Document doc, engine->searcher().GetDocument("red/warm/r1"));
  EXPECT_EQ(doc.title, "A red striped flag number 1.");
  EXPECT_EQ(doc.domain, "red");
  EXPECT_EQ(doc.fields["subcategory"], "red/warm");

  // Query by example: the stored vectors equal a fresh description of the file.
  ASSERT_OK_AND_ASSIGN(Image r1, ReadImage(tmp_.Sub("media/red/warm/r1.png")));
  ASSERT_OK_AND_ASSIGN(auto vectors, describer.Describe(r1));
  ASSERT_OK_AND_ASSIGN(std::vector<float> stored, engine->searcher().GetVector(kColourField, "red/warm/r1"));
  EXPECT_EQ(stored, vectors[kColourField]);

  HybridQuery q;
  q.vector_field = kColourField;
  q.vector = vectors[kColourField];
  q.more_vectors = {{kTextureField, vectors[kTextureField]}};
  q.k = 3;
  EXPECT_EQ(engine->ResolveRetriever(q), Retriever::kVector);
  ASSERT_OK_AND_ASSIGN(std::vector<SearchHit> hits, engine->Search(q));
  ASSERT_EQ(hits.size(), 3u);
  EXPECT_EQ(hits[0].id, "red/warm/r1");
  for (const auto& h : hits) {
    EXPECT_EQ(h.id.rfind("red/", 0), 0u) << h.id;
    ASSERT_EQ(h.more_vectors.size(), 1u);
    EXPECT_TRUE(h.vector.present);
  }
  // RRF over three lists (BM25 empty): rank 1 in both vector lists.
  EXPECT_EQ(hits[0].vector.rank, 1u);
  EXPECT_EQ(hits[0].more_vectors[0].rank, 1u);
  EXPECT_NEAR(hits[0].score, 2.0 / 61.0, 1e-12);
  EXPECT_NEAR(hits[0].vector.score, 1.0, 1e-5);  // unit Hellinger vector against itself

  // Lists to fuse are searched to vector_depth, not to the page size.
  HybridQuery narrow = q;
  narrow.k = 2;
  narrow.vector_depth = 5;
  ASSERT_OK_AND_ASSIGN(auto lists, engine->Candidates({narrow}));
  ASSERT_EQ(lists[0].size(), 3u);  // BM25, colour, texture
  EXPECT_TRUE(lists[0][0].empty());
  EXPECT_EQ(lists[0][1].size(), 5u);
  EXPECT_EQ(lists[0][2].size(), 5u);
  narrow.more_vectors.clear();  // a single vector list is the answer: page-deep
  ASSERT_OK_AND_ASSIGN(lists, engine->Candidates({narrow}));
  EXPECT_EQ(lists[0][1].size(), 2u);

  // Caption text and image together, with a filter on the category.
  q.text = "blue wave";
  q.filters = {{"domain", {"blue"}}};
  EXPECT_EQ(engine->ResolveRetriever(q), Retriever::kHybrid);
  ASSERT_OK_AND_ASSIGN(hits, engine->Search(q));
  ASSERT_FALSE(hits.empty());
  for (const auto& h : hits) EXPECT_EQ(h.id.rfind("blue/", 0), 0u) << h.id;
  EXPECT_TRUE(hits[0].bm25.present);

  // Text only reaches the captions.
  HybridQuery text;
  text.text = "striped flag";
  ASSERT_OK_AND_ASSIGN(hits, engine->Search(text));
  ASSERT_EQ(hits.size(), 3u);
  for (const auto& h : hits) EXPECT_EQ(h.id.rfind("red/", 0), 0u) << h.id;

  // A clause of the wrong dimension or field names the query.
  q.more_vectors = {{kTextureField, {1.0f}}};
  q.id = "q7";
  Status wrong = engine->Search(q).status();
  EXPECT_TRUE(wrong.IsInvalidArgument());
  EXPECT_NE(wrong.message().find("q7"), std::string::npos) << wrong.ToString();
  q.more_vectors = {{"sound", {1.0f}}};
  EXPECT_TRUE(engine->Search(q).status().IsInvalidArgument());

  // Query by sound: the hum finds r0; documents without a sound have none.
  HybridQuery by_sound;
  by_sound.vector_field = kSoundField;
  ASSERT_OK_AND_ASSIGN(Audio hum, ReadAudio(tmp_.Sub("media/red/warm/r0.wav")));
  ASSERT_OK_AND_ASSIGN(by_sound.vector, describer.DescribeSound(hum));
  ASSERT_OK_AND_ASSIGN(hits, engine->Search(by_sound));
  ASSERT_EQ(hits.size(), 2u);
  EXPECT_EQ(hits[0].id, "red/warm/r0");
  EXPECT_NEAR(hits[0].score, 1.0, 1e-5);
  EXPECT_EQ(hits[1].id, "blue/b0");
  EXPECT_TRUE(engine->searcher().GetVector(kSoundField, "red/warm/r1").status().IsNotFound());
  ASSERT_OK_AND_ASSIGN(Document with_sound, engine->searcher().GetDocument("blue/b0"));
  EXPECT_EQ(with_sound.fields["has_sound"], "yes");

  // A second ingest into the same directory is refused.
  EXPECT_EQ(IngestMedia(collection_, dir, options_).status().code(), Status::Code::kAlreadyExists);
}

TEST_F(MediaIngestTest, OneAndTwoThreadsBuildTheSameIndex) {
  options_.progress = nullptr;
  options_.threads = 1;
  ASSERT_OK(IngestMedia(collection_, tmp_.Sub("one"), options_).status());
  options_.threads = 2;
  ASSERT_OK(IngestMedia(collection_, tmp_.Sub("two"), options_).status());
  ASSERT_OK_AND_ASSIGN(MediaDescriber a, MediaDescriber::Load(tmp_.Sub("one")));
  ASSERT_OK_AND_ASSIGN(MediaDescriber b, MediaDescriber::Load(tmp_.Sub("two")));
  EXPECT_EQ(a.vocabulary().word_vectors(), b.vocabulary().word_vectors());
  ASSERT_OK_AND_ASSIGN(auto s1, index::Searcher::Open(tmp_.Sub("one")));
  ASSERT_OK_AND_ASSIGN(auto s2, index::Searcher::Open(tmp_.Sub("two")));
  for (const char* id : {"blue/b2", "red/warm/r0"}) {
    ASSERT_OK_AND_ASSIGN(auto v1, s1->GetVector(kTextureField, id));
    ASSERT_OK_AND_ASSIGN(auto v2, s2->GetVector(kTextureField, id));
    EXPECT_EQ(v1, v2) << id;
  }
}

TEST_F(MediaIngestTest, NothingDecodableLeavesNoIndex) {
  MediaCollection bad;
  for (const auto& item : collection_.items)
    if (item.path.find("broken") != std::string::npos || item.path.find(".svg") != std::string::npos)
      bad.items.push_back(item);
  ASSERT_EQ(bad.items.size(), 2u);
  options_.progress = nullptr;
  EXPECT_TRUE(IngestMedia(bad, tmp_.Sub("none"), options_).status().IsInvalidArgument());
  EXPECT_TRUE(index::Searcher::Open(tmp_.Sub("none")).status().IsNotFound());
  // Bad options are refused before any work.
  options_.descriptors.patches.cell = 0;
  EXPECT_TRUE(IngestMedia(collection_, tmp_.Sub("opts"), options_).status().IsInvalidArgument());
  EXPECT_FALSE(fs::exists(tmp_.Sub("opts")));
}

TEST_F(MediaIngestTest, ReRankerFeaturesOfEveryVectorField) {
  const std::string dir = tmp_.Sub("idx");
  options_.progress = nullptr;
  ASSERT_OK(IngestMedia(collection_, dir, options_).status());
  ASSERT_OK_AND_ASSIGN(auto engine, Engine::Open(dir));
  FeatureConfig config;
  config.vector_field_features = true;
  ASSERT_OK_AND_ASSIGN(auto extractor, FeatureExtractor::Create(*engine, config));
  const auto& schema = extractor->schema();
  auto column = [](const std::vector<std::string>& names, const std::string& name) {
    auto it = std::find(names.begin(), names.end(), name);
    EXPECT_NE(it, names.end()) << name;
    return static_cast<size_t>(it - names.begin());
  };
  const size_t sim_c = column(schema.pair_features, "vf_sim:colour");
  const size_t rank_c = column(schema.pair_features, "vf_rrank:colour");
  const size_t sim_t = column(schema.pair_features, "vf_sim:texture");
  const size_t rank_t = column(schema.pair_features, "vf_rrank:texture");
  const size_t has_text = column(schema.query_features, "q_has_text");
  const size_t q_colour = column(schema.query_features, "q_vf:colour");
  const size_t q_texture = column(schema.query_features, "q_vf:texture");
  ASSERT_OK_AND_ASSIGN(FeatureConfig back, FeatureExtractor::ConfigFromSchema(schema));
  EXPECT_TRUE(back.vector_field_features);

  // Image query: colour as the primary list, texture as a more_vectors clause.
  ASSERT_OK_AND_ASSIGN(auto colour, engine->searcher().GetVector(kColourField, "blue/b1"));
  ASSERT_OK_AND_ASSIGN(auto texture, engine->searcher().GetVector(kTextureField, "blue/b1"));
  HybridQuery q;
  q.vector_field = kColourField;
  q.vector = colour;
  q.more_vectors = {{kTextureField, texture}};
  q.k = 7;
  ASSERT_OK_AND_ASSIGN(auto hits, engine->Search(q));
  ASSERT_OK_AND_ASSIGN(ranking::QueryGroup g, extractor->Extract(q, hits));
  EXPECT_EQ(g.query_features[has_text], 0.0);
  EXPECT_EQ(g.query_features[q_colour], 1.0);
  EXPECT_EQ(g.query_features[q_texture], 1.0);
  const size_t d = schema.pair_dim();
  for (size_t i = 0; i < hits.size(); ++i) {
    const double* row = g.row(i, d);
    // The similarity is the inner product the vector search scored with.
    ASSERT_OK_AND_ASSIGN(auto v, engine->searcher().GetVector(kColourField, hits[i].id));
    double dot = 0;
    for (size_t k = 0; k < v.size(); ++k) dot += static_cast<double>(v[k]) * colour[k];
    EXPECT_NEAR(row[sim_c], dot, 1e-6) << hits[i].id;
    if (hits[i].vector.present) {
      EXPECT_NEAR(row[sim_c], hits[i].vector.score, 1e-5);
    }
    EXPECT_DOUBLE_EQ(row[rank_c], hits[i].vector.present ? 1.0 / hits[i].vector.rank : 0.0);
    EXPECT_DOUBLE_EQ(row[rank_t], hits[i].more_vectors[0].present ? 1.0 / hits[i].more_vectors[0].rank : 0.0);
  }
  EXPECT_EQ(hits[0].id, "blue/b1");
  EXPECT_NEAR(g.row(0, d)[sim_t], 1.0, 1e-5);  // a unit vector against itself

  // Text query: no vector, so no vector-field similarity or rank.
  HybridQuery text;
  text.text = "blue wave";
  ASSERT_OK_AND_ASSIGN(hits, engine->Search(text));
  ASSERT_FALSE(hits.empty());
  ASSERT_OK_AND_ASSIGN(g, extractor->Extract(text, hits));
  EXPECT_EQ(g.query_features[has_text], 1.0);
  EXPECT_EQ(g.query_features[q_colour], 0.0);
  for (size_t i = 0; i < hits.size(); ++i)
    for (size_t c : {sim_c, rank_c, sim_t, rank_t}) EXPECT_EQ(g.row(i, d)[c], 0.0);
}

TEST(MediaDescriberTest, LoadRefusesDamagedFiles) {
  testing::TempDir tmp;
  EXPECT_TRUE(MediaDescriber::Load(tmp.path()).status().IsNotFound());
  testing::WriteText(tmp.Sub(kMediaFile), "{\"format\": 99}");
  Status s = MediaDescriber::Load(tmp.path()).status();
  EXPECT_TRUE(s.IsCorruption());
  EXPECT_NE(s.message().find(kMediaFile), std::string::npos);
  testing::WriteText(tmp.Sub(kMediaFile), "{]");
  EXPECT_TRUE(MediaDescriber::Load(tmp.path()).status().IsCorruption());
}

}  // namespace
}  // namespace hymir::media
