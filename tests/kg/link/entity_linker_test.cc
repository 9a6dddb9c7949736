// EntityLinker: leftmost-longest matching over a token trie, the degree prior
// for ambiguous aliases, alias filters, tokenizer plumbing, and WordNet.
#include "hymir/kg/entity_linker.h"

#include <cmath>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "hymir/kg/loader.h"
#include "tests/kg/link/link_testutil.h"

namespace hymir::kg {
namespace {

using hymir::kg::testing::MakeStore;
using hymir::testing::TempDir;

double PriorOf(int degree, int aliases) { return std::log1p(degree) + 0.5 * std::log1p(aliases); }

class EntityLinkerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    store_ = MakeStore(tmp_.Sub("kg"),
                       {
                           {"e:bank_money", "r", "x1"},
                           {"e:bank_money", "r", "x2"},
                           {"e:bank_money", "s", "x3"},
                           {"e:bank_row", "r", "y1"},
                           {"e:bank_row", "r", "y2"},
                           {"z1", "r", "e:bank_river"},
                           {"e:dog", "hyp", "e:canine"},
                           {"e:puppy", "hyp", "e:dog"},
                           {"e:frump", "hyp", "e:person"},
                       },
                       {
                           {"e:bank_money", "bank"},
                           {"e:bank_row", "bank"},
                           {"e:bank_river", "bank"},
                           {"e:bank_tilt", "bank"},
                           {"e:bank_memory", "bank"},
                           {"e:bank_memory", "memory bank"},
                           {"e:dog", "dog"},
                           {"e:dog", "Domestic_Dog"},
                           {"e:frump", "dog"},
                           {"e:hotdog", "hot dog"},
                           {"e:hotdog", "frankfurter"},
                           {"e:nyc", "New York City"},
                           {"e:nys", "New York"},
                           {"e:york", "York"},
                           {"e:ox", "ox"},
                           {"e:the", "the"},
                           {"e:thewho", "The Who"},
                           {"e:long", "a b c d e f g"},
                       });
    ASSERT_NE(store_, nullptr);
  }

  std::unique_ptr<EntityLinker> BuildOrDie(const LinkerOptions& options = {}, TokenizeFn tokenize = {}) {
    auto linker = EntityLinker::Build(*store_, std::move(tokenize), options);
    EXPECT_TRUE(linker.ok()) << linker.status().ToString();
    return linker.ok() ? std::move(linker).value() : nullptr;
  }

  TempDir tmp_;
  std::unique_ptr<TripleStore> store_;
};

TEST(SimpleTokenizeTest, LowerCasesAndSplitsOnPunctuation) {
  EXPECT_EQ(SimpleTokenize("  Hot-dog, PLEASE!  x2 caf\xc3\xa9"),
            (std::vector<std::string>{"hot", "dog", "please", "x2", "caf\xc3\xa9"}));
  EXPECT_TRUE(SimpleTokenize(" ,.;! ").empty());
}

TEST_F(EntityLinkerTest, LongestMatchBeatsShorterPrefix) {
  auto linker = BuildOrDie();
  ASSERT_NE(linker, nullptr);
  auto m = linker->Link("I love New York City and new york, not York.");
  ASSERT_EQ(m.size(), 3u);
  EXPECT_EQ(m[0].begin, 2u);
  EXPECT_EQ(m[0].end, 5u);
  EXPECT_EQ(m[0].alias, "new york city");
  EXPECT_EQ(m[0].entity, "e:nyc");
  EXPECT_EQ(m[1].begin, 6u);
  EXPECT_EQ(m[1].end, 8u);
  EXPECT_EQ(m[1].alias, "new york");
  EXPECT_EQ(m[1].entity, "e:nys");
  EXPECT_EQ(m[2].alias, "york");
  EXPECT_EQ(m[2].entity, "e:york");
  EXPECT_EQ(m[2].num_candidates, 1u);

  // "new york" followed by a token that does not continue "new york city".
  auto partial = linker->Link("new york state");
  ASSERT_EQ(partial.size(), 1u);
  EXPECT_EQ(partial[0].entity, "e:nys");
  // "new" alone names nothing; the walk restarts at "york".
  auto restart = linker->Link("new yorkshire york");
  ASSERT_EQ(restart.size(), 1u);
  EXPECT_EQ(restart[0].begin, 2u);
}

TEST_F(EntityLinkerTest, AmbiguousAliasResolvedByDegreePrior) {
  auto linker = BuildOrDie();
  ASSERT_NE(linker, nullptr);
  auto m = linker->Link("the bank");
  ASSERT_EQ(m.size(), 1u);
  EXPECT_EQ(m[0].begin, 1u);
  EXPECT_EQ(m[0].entity, "e:bank_money");
  EXPECT_DOUBLE_EQ(m[0].prior, PriorOf(3, 1));
  EXPECT_EQ(m[0].num_candidates, 5u);
  ASSERT_EQ(m[0].candidates.size(), 3u);  // default max_candidates
  EXPECT_EQ(m[0].candidates[0].entity, "e:bank_money");
  EXPECT_EQ(m[0].candidates[1].entity, "e:bank_row");
  EXPECT_DOUBLE_EQ(m[0].candidates[1].prior, PriorOf(2, 1));
  EXPECT_EQ(m[0].candidates[2].entity, "e:bank_river");  // incoming edge counts
  EXPECT_DOUBLE_EQ(m[0].candidates[2].prior, PriorOf(1, 1));

  // Two aliases, no edges (0.549) beats one alias, no edges (0.347).
  EXPECT_DOUBLE_EQ(linker->Prior("e:bank_memory"), PriorOf(0, 2));
  EXPECT_DOUBLE_EQ(linker->Prior("e:bank_tilt"), PriorOf(0, 1));
  LinkerOptions all;
  all.max_candidates = 10;
  auto wide = BuildOrDie(all);
  ASSERT_NE(wide, nullptr);
  auto w = wide->Link("bank");
  ASSERT_EQ(w.size(), 1u);
  ASSERT_EQ(w[0].candidates.size(), 5u);
  EXPECT_EQ(w[0].candidates[3].entity, "e:bank_memory");
  EXPECT_EQ(w[0].candidates[4].entity, "e:bank_tilt");

  auto dog = linker->Link("dog");
  ASSERT_EQ(dog.size(), 1u);
  EXPECT_EQ(dog[0].entity, "e:dog");  // degree 2, two aliases vs frump's degree 1
  EXPECT_EQ(dog[0].num_candidates, 2u);
  EXPECT_EQ(dog[0].candidates[1].entity, "e:frump");
}

TEST_F(EntityLinkerTest, NoMatchInsideWords) {
  auto linker = BuildOrDie();
  ASSERT_NE(linker, nullptr);
  EXPECT_TRUE(linker->Link("hotdogs and bulldogs, dogged banking Yorkshire").empty());
  EXPECT_TRUE(linker->Link("").empty());
}

TEST_F(EntityLinkerTest, PunctuationSeparatesTokens) {
  auto linker = BuildOrDie();
  ASSERT_NE(linker, nullptr);
  auto m = linker->Link("Dog, hot-dog! (Domestic dog)");
  ASSERT_EQ(m.size(), 3u);
  EXPECT_EQ(m[0].alias, "dog");
  EXPECT_EQ(m[0].begin, 0u);
  EXPECT_EQ(m[1].alias, "hot dog");
  EXPECT_EQ(m[1].entity, "e:hotdog");
  EXPECT_EQ(m[1].begin, 1u);
  EXPECT_EQ(m[1].end, 3u);
  EXPECT_EQ(m[2].alias, "domestic dog");  // '_' in the alias is a separator too
  EXPECT_EQ(m[2].entity, "e:dog");
  EXPECT_EQ(m[2].num_candidates, 1u);
}

TEST_F(EntityLinkerTest, ShortStopWordAndLongAliasesAreSkipped) {
  auto linker = BuildOrDie();
  ASSERT_NE(linker, nullptr);
  auto m = linker->Link("the ox saw The Who: a b c d e f g");
  ASSERT_EQ(m.size(), 1u);
  EXPECT_EQ(m[0].entity, "e:thewho");
  EXPECT_EQ(m[0].begin, 3u);
  EXPECT_EQ(linker->stats().alias_triples, 18u);
  EXPECT_EQ(linker->stats().skipped_aliases, 3u);  // ox, the, a..g
  EXPECT_EQ(linker->Prior("e:ox"), 0.0);

  LinkerOptions loose;
  loose.min_single_token_chars = 2;
  loose.single_token_stop_words.clear();
  loose.max_alias_tokens = 7;
  auto l2 = BuildOrDie(loose);
  ASSERT_NE(l2, nullptr);
  auto m2 = l2->Link("the ox: a b c d e f g");
  ASSERT_EQ(m2.size(), 3u);
  EXPECT_EQ(m2[0].entity, "e:the");
  EXPECT_EQ(m2[1].entity, "e:ox");
  EXPECT_EQ(m2[2].entity, "e:long");
  EXPECT_EQ(m2[2].end - m2[2].begin, 7u);
}

TEST_F(EntityLinkerTest, TokenizerAppliesToAliasesAndText) {
  // A toy "stemmer": lower-case words with a trailing 's' dropped.
  TokenizeFn stem = [](std::string_view text) {
    std::vector<std::string> out = SimpleTokenize(text);
    for (std::string& t : out) {
      if (t.size() > 3 && t.back() == 's') t.pop_back();
    }
    return out;
  };
  auto linker = BuildOrDie({}, stem);
  ASSERT_NE(linker, nullptr);
  auto m = linker->Link("Banks and hot dogs");
  ASSERT_EQ(m.size(), 2u);
  EXPECT_EQ(m[0].alias, "bank");
  EXPECT_EQ(m[1].alias, "hot dog");
  EXPECT_EQ(linker->Tokenize("Dogs"), std::vector<std::string>{"dog"});

  std::vector<std::string> tokens = {"memory", "bank", "x", "frankfurter"};
  auto s = linker->Link(std::span<const std::string>(tokens));
  ASSERT_EQ(s.size(), 2u);
  EXPECT_EQ(s[0].entity, "e:bank_memory");
  EXPECT_EQ(s[0].end, 2u);
  EXPECT_EQ(s[1].entity, "e:hotdog");
  EXPECT_EQ(s[1].begin, 3u);
  EXPECT_EQ(s, linker->Link("memory bank x frankfurter"));
}

TEST_F(EntityLinkerTest, BadOptionsAndThrowingTokenizerAreErrors) {
  LinkerOptions zero_len;
  zero_len.max_alias_tokens = 0;
  auto a = EntityLinker::Build(*store_, {}, zero_len);
  ASSERT_FALSE(a.ok());
  EXPECT_TRUE(a.status().IsInvalidArgument());
  LinkerOptions zero_cand;
  zero_cand.max_candidates = 0;
  auto b = EntityLinker::Build(*store_, {}, zero_cand);
  ASSERT_FALSE(b.ok());
  EXPECT_TRUE(b.status().IsInvalidArgument());
  auto c = EntityLinker::Build(*store_,
                               [](std::string_view) -> std::vector<std::string> { throw std::runtime_error("boom"); });
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().message().find("boom"), std::string::npos) << c.status().ToString();
}

TEST_F(EntityLinkerTest, EmptyStoreLinksNothing) {
  TempDir tmp;
  auto empty = MakeStore(tmp.Sub("kg"), {}, {});
  ASSERT_NE(empty, nullptr);
  ASSERT_OK_AND_ASSIGN(auto linker, EntityLinker::Build(*empty, {}));
  EXPECT_TRUE(linker->Link("dog bank").empty());
  EXPECT_EQ(linker->stats().trie_nodes, 1u);
}

TEST_F(EntityLinkerTest, ConcurrentLinksAgree) {
  auto linker = BuildOrDie();
  ASSERT_NE(linker, nullptr);
  const std::string text = "New York City bank: hot dog and the who, domestic dog";
  const auto expected = linker->Link(text);
  ASSERT_EQ(expected.size(), 5u);
  std::vector<std::thread> threads;
  std::vector<int> mismatches(4, 0);
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 500; ++i) mismatches[t] += linker->Link(text) != expected;
    });
  }
  for (auto& th : threads) th.join();
  for (int t = 0; t < 4; ++t) EXPECT_EQ(mismatches[t], 0);
}

// BuildCached: the second open loads what the first built, and any change to
// the store, the tokenizer id, the options or the file's bytes rebuilds.
TEST_F(EntityLinkerTest, CacheIsReusedUntilTheStoreChanges) {
  const std::string cache = LinkerCachePath(tmp_.Sub("kg"), "simple");
  const std::string text = "New York City bank: hot dog and the who, domestic dog, memory bank";
  auto build = [&](const std::string& id = "simple", const LinkerOptions& options = {}) {
    auto linker = EntityLinker::BuildCached(*store_, {}, id, cache, options);
    EXPECT_TRUE(linker.ok()) << linker.status().ToString();
    return std::move(linker).value();
  };
  const auto fresh = BuildOrDie();
  const auto expected = fresh->Link(text);
  ASSERT_FALSE(expected.empty());

  auto first = build();
  EXPECT_FALSE(first->stats().from_cache);
  EXPECT_TRUE(std::filesystem::exists(cache));
  auto second = build();
  EXPECT_TRUE(second->stats().from_cache);
  EXPECT_EQ(second->Link(text), expected);
  EXPECT_EQ(second->Prior("e:dog"), fresh->Prior("e:dog"));
  EXPECT_EQ(second->stats().trie_nodes, fresh->stats().trie_nodes);
  EXPECT_EQ(second->stats().entities, fresh->stats().entities);

  // Another tokenizer id or other options: rebuilt (and the cache now holds those).
  EXPECT_FALSE(build("analyzer:english")->stats().from_cache);
  EXPECT_FALSE(build("simple")->stats().from_cache);
  LinkerOptions one;
  one.max_candidates = 1;
  EXPECT_FALSE(build("simple", one)->stats().from_cache);
  EXPECT_TRUE(build("simple", one)->stats().from_cache);

  // A damaged file is rebuilt, not an error.
  std::string bytes;
  {
    std::ifstream in(cache, std::ios::binary);
    bytes.assign(std::istreambuf_iterator<char>(in), {});
  }
  bytes[bytes.size() / 2] ^= 0x20;
  std::ofstream(cache, std::ios::binary | std::ios::trunc) << bytes;
  EXPECT_FALSE(build()->stats().from_cache);
  std::ofstream(cache, std::ios::binary | std::ios::trunc) << "not a cache";
  EXPECT_FALSE(build()->stats().from_cache);
  EXPECT_TRUE(build()->stats().from_cache);

  // Reopening the store keeps the cache; a write makes it stale.
  store_.reset();
  ASSERT_OK_AND_ASSIGN(store_, TripleStore::Open(tmp_.Sub("kg")));
  EXPECT_TRUE(build()->stats().from_cache);
  ASSERT_OK(store_->AddAlias("e:cat", "house cat"));
  auto after = build();
  EXPECT_FALSE(after->stats().from_cache);
  const auto cat = after->Link("a house cat");
  ASSERT_EQ(cat.size(), 1u);
  EXPECT_EQ(cat[0].entity, "e:cat");
  EXPECT_TRUE(build()->stats().from_cache);
  // An unwritable cache path only costs the rebuild.
  auto nowhere = EntityLinker::BuildCached(*store_, {}, "simple", tmp_.Sub("absent-dir/linker.cache"));
  ASSERT_TRUE(nowhere.ok()) << nowhere.status().ToString();
  EXPECT_FALSE((*nowhere)->stats().from_cache);
}

// WordNet (Debian wordnet-base): "dog" is ambiguous (7 noun synsets + a verb).
class WordNetLinkTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (!std::filesystem::exists(std::string(kWordNet) + "/data.noun")) return;
    tmp_ = new TempDir();
    auto store = TripleStore::Open(tmp_->Sub("wn"));
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    store_ = std::move(store).value().release();
    auto loaded = LoadWordNet(*store_, kWordNet);
    ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
    auto linker = EntityLinker::Build(*store_, {});
    ASSERT_TRUE(linker.ok()) << linker.status().ToString();
    linker_ = std::move(linker).value().release();
  }
  static void TearDownTestSuite() {
    delete linker_;
    delete store_;
    delete tmp_;
    linker_ = nullptr;
    store_ = nullptr;
    tmp_ = nullptr;
  }
  void SetUp() override {
    if (linker_ == nullptr) GTEST_SKIP() << kWordNet << " absent (apt-get install wordnet-base)";
  }

  static bool HasAlias(const std::string& entity, const std::string& alias) {
    auto aliases = store_->Aliases(entity);
    if (!aliases.ok()) return false;
    for (const std::string& a : *aliases) {
      if (NormalizeAlias(a) == alias) return true;
    }
    return false;
  }

  static constexpr const char* kWordNet = "/usr/share/wordnet";
  static TempDir* tmp_;
  static TripleStore* store_;
  static EntityLinker* linker_;
};
TempDir* WordNetLinkTest::tmp_ = nullptr;
TripleStore* WordNetLinkTest::store_ = nullptr;
EntityLinker* WordNetLinkTest::linker_ = nullptr;

TEST_F(WordNetLinkTest, DogLinksToANounSynsetNamedDog) {
  EXPECT_GT(linker_->stats().indexed_aliases, 100000u);
  auto m = linker_->Link("my dog");
  ASSERT_EQ(m.size(), 1u);
  EXPECT_EQ(m[0].alias, "dog");
  EXPECT_EQ(m[0].entity.rfind("wn:n:", 0), 0u) << m[0].entity;
  EXPECT_TRUE(HasAlias(m[0].entity, "dog")) << m[0].entity;
  EXPECT_TRUE(HasAlias(m[0].entity, "domestic dog")) << m[0].entity;  // the common sense
  EXPECT_GE(m[0].num_candidates, 7u);
  EXPECT_EQ(m[0].candidates.size(), 3u);

  // "ate" is a WordNet synset too (the goddess), so look for the span.
  auto hot = linker_->Link("I ate a hot dog at the bank");
  ASSERT_GE(hot.size(), 2u);
  const EntityMention* hot_dog = nullptr;
  for (const EntityMention& x : hot) {
    if (x.alias == "hot dog") hot_dog = &x;
    EXPECT_NE(x.alias, "dog");  // never the shorter match inside "hot dog"
  }
  ASSERT_NE(hot_dog, nullptr);
  EXPECT_EQ(hot_dog->end - hot_dog->begin, 2u);
  EXPECT_TRUE(HasAlias(hot_dog->entity, "hot dog")) << hot_dog->entity;
  EXPECT_EQ(hot.back().alias, "bank");
}

}  // namespace
}  // namespace hymir::kg
