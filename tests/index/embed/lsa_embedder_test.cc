// The built-in LSA embedder: topic structure, determinism, persistence and
// clean errors on damaged model files.
#include "hymir/index/lsa_embedder.h"

#include <gtest/gtest.h>

#include <fstream>
#include <random>

#include "tests/testutil/testutil.h"

namespace hymir::index {
namespace {

using testing::TempDir;

// 5 topics with disjoint vocabularies; each document mostly one topic.
std::vector<std::string> TopicCorpus(int docs, std::vector<int>* topic_of) {
  std::mt19937 rng(3);
  std::vector<std::string> out;
  std::uniform_int_distribution<int> word(0, 29), noise(0, 149);
  for (int d = 0; d < docs; ++d) {
    const int t = d % 5;
    topic_of->push_back(t);
    std::string text;
    for (int i = 0; i < 30; ++i) text += "t" + std::to_string(t) + "w" + std::to_string(word(rng)) + " ";
    for (int i = 0; i < 3; ++i) text += "t" + std::to_string(noise(rng) / 30) + "w" + std::to_string(noise(rng) % 30) + " ";
    out.push_back(text);
  }
  return out;
}

float Dot(const float* a, const float* b, size_t d) {
  float s = 0;
  for (size_t i = 0; i < d; ++i) s += a[i] * b[i];
  return s;
}

LsaOptions Small() {
  LsaOptions o;
  o.dimension = 8;
  o.analyzer = AnalyzerKind::kWhitespace;
  return o;
}

TEST(LsaEmbedderTest, SameTopicDocumentsAreCloser) {
  std::vector<int> topic;
  auto texts = TopicCorpus(200, &topic);
  LsaTrainStats stats;
  ASSERT_OK_AND_ASSIGN(auto e, LsaEmbedder::Train(texts, Small(), &stats));
  EXPECT_EQ(e->dimension(), 8u);
  EXPECT_EQ(stats.vocabulary, 150u);
  ASSERT_EQ(stats.singular_values.size(), 8u);
  for (size_t i = 1; i < 8; ++i) EXPECT_GE(stats.singular_values[i - 1], stats.singular_values[i] - 1e-4f);
  std::vector<float> v(texts.size() * 8);
  ASSERT_OK(e->Embed(texts, v.data()));
  double same = 0, other = 0;
  int ns = 0, no = 0;
  for (size_t i = 0; i < 60; ++i) {
    for (size_t j = i + 1; j < 60; ++j) {
      const float c = Dot(&v[i * 8], &v[j * 8], 8);
      if (topic[i] == topic[j]) {
        same += c;
        ++ns;
      } else {
        other += c;
        ++no;
      }
    }
  }
  EXPECT_GT(same / ns, 0.8);
  EXPECT_LT(other / no, 0.3);
  // A query made of one topic's words lands nearest that topic's documents.
  std::vector<float> q(8);
  ASSERT_OK(e->Embed({"t3w1 t3w7 t3w20"}, q.data()));
  int best = 0;
  for (size_t i = 1; i < texts.size(); ++i) {
    if (Dot(q.data(), &v[i * 8], 8) > Dot(q.data(), &v[best * 8], 8)) best = static_cast<int>(i);
  }
  EXPECT_EQ(topic[best], 3);
}

TEST(LsaEmbedderTest, DeterministicAndUnknownTextIsZero) {
  std::vector<int> topic;
  auto texts = TopicCorpus(100, &topic);
  ASSERT_OK_AND_ASSIGN(auto a, LsaEmbedder::Train(texts, Small()));
  ASSERT_OK_AND_ASSIGN(auto b, LsaEmbedder::Train(texts, Small()));
  std::vector<float> va(8), vb(8), z(8, 1.0f);
  ASSERT_OK(a->Embed({texts[7]}, va.data()));
  ASSERT_OK(b->Embed({texts[7]}, vb.data()));
  EXPECT_EQ(va, vb);
  ASSERT_OK(a->Embed({"never seen words"}, z.data()));
  EXPECT_EQ(z, std::vector<float>(8, 0.0f));
}

TEST(LsaEmbedderTest, BadTrainingInputIsInvalidArgument) {
  EXPECT_TRUE(LsaEmbedder::Train({}, Small()).status().IsInvalidArgument());
  LsaOptions big = Small();
  big.dimension = 500;
  std::vector<int> topic;
  EXPECT_TRUE(LsaEmbedder::Train(TopicCorpus(50, &topic), big).status().IsInvalidArgument());
}

TEST(LsaEmbedderTest, SaveLoadRoundTripAndDamagedFiles) {
  TempDir dir;
  std::vector<int> topic;
  auto texts = TopicCorpus(100, &topic);
  ASSERT_OK_AND_ASSIGN(auto e, LsaEmbedder::Train(texts, Small()));
  const std::string path = dir.Sub("m.lsa");
  ASSERT_OK(e->Save(path));
  ASSERT_OK_AND_ASSIGN(auto loaded, LsaEmbedder::Load(path));
  std::vector<float> a(8), b(8);
  ASSERT_OK(e->Embed({texts[3]}, a.data()));
  ASSERT_OK(loaded->Embed({texts[3]}, b.data()));
  EXPECT_EQ(a, b);

  std::string bytes;
  {
    std::ifstream in(path, std::ios::binary);
    bytes.assign(std::istreambuf_iterator<char>(in), {});
  }
  auto expect_bad = [&](const std::string& content, const char* what) {
    testing::WriteText(path, content);
    auto r = LsaEmbedder::Load(path);
    ASSERT_FALSE(r.ok()) << what;
    EXPECT_NE(r.status().message().find(path), std::string::npos) << r.status().ToString();
  };
  expect_bad(bytes.substr(0, bytes.size() / 2), "truncated");
  std::string flipped = bytes;
  flipped[bytes.size() - 5] ^= 0x40;
  expect_bad(flipped, "flipped byte");
  std::string magic = bytes;
  magic[0] = 'X';
  expect_bad(magic, "magic");
  std::string version = bytes;
  version[8] = 9;
  testing::WriteText(path, version);
  EXPECT_EQ(LsaEmbedder::Load(path).status().code(), Status::Code::kNotSupported);
}

}  // namespace
}  // namespace hymir::index
