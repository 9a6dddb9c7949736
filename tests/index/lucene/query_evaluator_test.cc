// The query language's evaluation against a brute-force oracle: every
// document's stored title and text analysed again, match sets and BM25
// scores (phrase frequency = number of exact matches, idf = the sum of the
// terms') computed by hand; on a small index and on the bundled sample.
// Bare-term queries give the plain path's results exactly.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <random>

#include <lucene++/LuceneHeaders.h>

#include "hymir/beir.h"
#include "hymir/index/analyzer.h"
#include "hymir/query_language.h"
#include "index/lucene/index_layout.h"
#include "index/lucene/lucene_util.h"
#include "index/lucene/query_evaluator.h"
#include "index/lucene/snapshot.h"
#include "tests/index/lucene/index_fixture.h"

namespace hymir::index {
namespace {

using testing::TempDir;

struct DocTokens {
  std::string id;
  std::vector<QueryToken> field[2];  // title, text
};

class Oracle {
 public:
  Oracle(const Searcher& s, Bm25Params p) : s_(s), p_(p), stats_(s.Statistics()) {
    auto ids = s.DocumentIds();
    EXPECT_TRUE(ids.ok());
    for (const std::string& id : *ids) {
      auto d = s.GetDocument(id);
      EXPECT_TRUE(d.ok());
      DocTokens t;
      t.id = id;
      t.field[0] = AnalyzePositions(s.analyzer(), d->title);
      t.field[1] = AnalyzePositions(s.analyzer(), d->text);
      docs_.push_back(std::move(t));
    }
  }

  // (id, score) of every match, best first (ties by index order).
  std::vector<std::pair<std::string, double>> Run(const QueryNode& q) const {
    std::vector<std::pair<std::string, double>> out;
    for (const DocTokens& d : docs_) {
      double score = 0;
      if (Match(q, d, 1.0, &score)) out.push_back({d.id, score});
    }
    std::stable_sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.second > b.second; });
    return out;
  }

 private:
  static std::vector<int> Subfields(const std::string& field) {
    if (field == "title") return {0};
    if (field == "text") return {1};
    return {0, 1};  // all (and the default field)
  }
  std::string FieldName(const std::string& field) const { return field.empty() ? "all" : field; }

  double Bm25(const std::string& field, double weight, double f, const DocTokens& d) const {
    double dl = 0;
    for (int sf : Subfields(field)) dl += static_cast<double>(d.field[sf].size());
    const double avgdl = stats_->AverageFieldLength(FieldName(field));
    return weight * f / (f + p_.k1 * (1 - p_.b + p_.b * dl / avgdl));
  }
  double Idf(const std::string& field, const std::string& term) const {
    const std::string f = FieldName(field);
    return Bm25Idf(stats_->DocCount(f), stats_->DocFreq(f, term));
  }

  bool Match(const QueryNode& n, const DocTokens& d, double boost, double* score) const {
    const double b = boost * n.boost;
    switch (n.kind) {
      case QueryNode::Kind::kBoolean: {
        bool any_positive = false, any_should = false, must_ok = true, has_must = false;
        double s = 0;
        for (const QueryClause& c : n.clauses) {
          double cs = 0;
          const bool m = Match(c.node, d, b, &cs);
          if (c.occur == Occur::kMustNot) {
            if (m) return false;
            continue;
          }
          any_positive = true;
          if (c.occur == Occur::kMust) {
            has_must = true;
            must_ok &= m;
          } else {
            any_should |= m;
          }
          if (m) s += cs;
        }
        if (!any_positive || !must_ok || (!has_must && !any_should)) return false;
        *score = s;
        return true;
      }
      case QueryNode::Kind::kTerm: {
        double tf = 0;
        for (int sf : Subfields(n.field)) {
          for (const QueryToken& t : d.field[sf]) tf += t.term == n.text;
        }
        if (tf == 0) return false;
        *score = Bm25(n.field, b * Idf(n.field, n.text), tf, d);
        return true;
      }
      case QueryNode::Kind::kPhrase: {
        EXPECT_EQ(n.slop, 0) << "the oracle scores exact phrases only";
        double freq = 0;
        for (int sf : Subfields(n.field)) {
          std::map<int32_t, std::string> at;
          for (const QueryToken& t : d.field[sf]) at[t.position] = t.term;
          for (const auto& [p, term] : at) {
            bool all = true;
            for (size_t i = 0; i < n.terms.size() && all; ++i) {
              auto it = at.find(p + n.positions[i] - n.positions[0]);
              all = it != at.end() && it->second == n.terms[i];
            }
            freq += all;
          }
        }
        if (freq == 0) return false;
        double idf = 0;
        for (const std::string& t : n.terms) idf += Idf(n.field, t);
        *score = Bm25(n.field, b * idf, freq, d);
        return true;
      }
      case QueryNode::Kind::kPrefix:
      case QueryNode::Kind::kRange: {
        for (int sf : Subfields(n.field)) {
          for (const QueryToken& t : d.field[sf]) {
            bool in;
            if (n.kind == QueryNode::Kind::kPrefix) {
              in = t.term.rfind(n.text, 0) == 0;
            } else {
              in = (!n.lower || t.term > *n.lower || (n.include_lower && t.term == *n.lower)) &&
                   (!n.upper || t.term < *n.upper || (n.include_upper && t.term == *n.upper));
            }
            if (in) {
              *score = b;
              return true;
            }
          }
        }
        return false;
      }
    }
    return false;
  }

  const Searcher& s_;
  Bm25Params p_;
  std::shared_ptr<const CollectionStatistics> stats_;
  std::vector<DocTokens> docs_;
};

// Every match of `q` through the searcher equals the oracle's list (ids in
// order up to ties, scores within 1e-9), and Count() is the match count.
void ExpectOracle(const Searcher& s, const Oracle& oracle, const std::string& q) {
  TextQuery tq;
  tq.text = q;
  tq.syntax = QuerySyntax::kLucene;
  tq.k = 100000;
  auto hits = s.Search(tq);
  ASSERT_TRUE(hits.ok()) << q << ": " << hits.status().ToString();
  auto tree = AnalyzeLuceneQuery(s.analyzer(), q);
  ASSERT_TRUE(tree.ok());
  const auto want = oracle.Run(*tree);
  auto count = s.Count(tq);
  ASSERT_TRUE(count.ok());
  EXPECT_EQ(*count, want.size()) << q;
  ASSERT_EQ(hits->size(), want.size()) << q << " = " << QueryToString(*tree);
  std::map<std::string, double> by_id(want.begin(), want.end());
  for (size_t i = 0; i < hits->size(); ++i) {
    const Hit& h = (*hits)[i];
    ASSERT_TRUE(by_id.count(h.id)) << q << ": " << h.id << " is not a match";
    EXPECT_NEAR(h.score, by_id[h.id], 1e-9 * std::max(1.0, h.score)) << q << " doc " << h.id;
    EXPECT_NEAR(h.score, want[i].second, 1e-9 * std::max(1.0, h.score)) << q << " rank " << i;
  }
}

std::vector<Document> SmallCorpus() {
  using testing::Doc;
  return {
      Doc("d1", "Heart attack", "A heart attack is a medical emergency. Aspirin helps."),
      Doc("d2", "Attack of the heart", "The heart of the attack was an ambush, not a heart problem."),
      Doc("d3", "Aspirin", "Aspirin and heart health: aspirin thins the blood."),
      Doc("d4", "Cardiology review", "Cardiac arrest differs from a heart attack. Cardiologists treat both."),
      Doc("d5", "Blood pressure", "High blood pressure strains the heart; attack risk rises."),
      Doc("d6", "", "heart heart attack attack heart attack"),
      Doc("d7", "Unrelated", "Gardening tips for spring: tomatoes, beans and cardamom."),
  };
}

TEST(QueryEvaluatorTest, MatchesTheOracleOnASmallIndex) {
  TempDir tmp;
  const std::string dir = tmp.Sub("idx");
  ASSERT_OK(testing::BuildIndex(dir, SmallCorpus()));
  ASSERT_OK_AND_ASSIGN(auto s, Searcher::Open(dir));
  Oracle oracle(*s, Bm25Params{});
  for (const std::string q : {"\"heart attack\"",
                              "\"heart of the attack\"",
                              "heart AND attack",
                              "+heart -aspirin",
                              "heart attack -aspirin",
                              "aspirin OR (heart AND blood)",
                              "title:heart",
                              "text:\"heart attack\"",
                              "title:(heart OR aspirin) text:blood",
                              "cardi*",
                              "title:cardi*",
                              "text:[blood TO cardiz]",
                              "text:{blood TO cardiac}",
                              "title:>=heart",
                              "text:<aspirin",
                              "\"heart attack\"^2 aspirin",
                              "(heart attack)^3 +blood",
                              "-heart",
                              "NOT heart",
                              "heart NOT attack",
                              "the",
                              "+\"heart attack\" +\"medical emergency\"",
                              "all:heart title:attack^0.5",
                              "\"attack heart\"",
                              "\"heart attack\" OR cardi*^2",
                              "a AND b OR c heart",
                              "heart AND attack OR aspirin -cardiology"}) {
    ExpectOracle(*s, oracle, q);
  }
}

TEST(QueryEvaluatorTest, PhrasesMatchWithinTitleOrTextNeverAcross) {
  TempDir tmp;
  const std::string dir = tmp.Sub("idx");
  ASSERT_OK(testing::BuildIndex(
      dir, {testing::Doc("x", "blood heart", "attack blood"), testing::Doc("y", "heart attack", "none")}));
  ASSERT_OK_AND_ASSIGN(auto s, Searcher::Open(dir));
  TextQuery tq;
  tq.text = "\"heart attack\"";
  tq.syntax = QuerySyntax::kLucene;
  ASSERT_OK_AND_ASSIGN(auto hits, s->Search(tq));
  EXPECT_EQ(testing::Ids(hits), std::vector<std::string>{"y"});
}

TEST(QueryEvaluatorTest, SloppyPhraseFrequencyIsLucenes) {
  TempDir tmp;
  const std::string dir = tmp.Sub("idx");
  // Whitespace analysis: positions are word indexes.
  ASSERT_OK(testing::BuildIndex(dir,
                                {testing::Doc("near", "", "a x b"), testing::Doc("swapped", "", "b a"),
                                 testing::Doc("far", "", "a x y z b"), testing::Doc("twice", "", "a b q a x b")},
                                AnalyzerKind::kWhitespace));
  ASSERT_OK_AND_ASSIGN(auto s, Searcher::Open(dir));
  auto stats = s->Statistics();
  const double idf = Bm25Idf(4, stats->DocFreq("all", "a")) + Bm25Idf(4, stats->DocFreq("all", "b"));
  const double avgdl = stats->AverageFieldLength("all");
  auto bm25 = [&](double f, double dl) { return idf * f / (f + 0.9 * (1 - 0.4 + 0.4 * dl / avgdl)); };
  auto score = [&](const std::string& q) {
    TextQuery tq;
    tq.text = q;
    tq.syntax = QuerySyntax::kLucene;
    std::map<std::string, double> out;
    auto hits = s->Search(tq);
    EXPECT_TRUE(hits.ok());
    for (const Hit& h : *hits) out[h.id] = h.score;
    return out;
  };
  auto exact = score("\"a b\"");
  EXPECT_EQ(exact.size(), 1u);
  EXPECT_NEAR(exact["twice"], bm25(1, 6), 1e-12);
  auto one = score("\"a b\"~1");  // a x b: distance 1 -> 1/2
  EXPECT_EQ(one.size(), 2u);
  EXPECT_NEAR(one["near"], bm25(0.5, 3), 1e-12);
  EXPECT_NEAR(one["twice"], bm25(1.0 + 0.5, 6), 1e-12);  // "a b" (1) and "a x b" (1/2)
  auto two = score("\"a b\"~2");                         // b a: reversed order costs 2 -> 1/3
  EXPECT_NEAR(two["swapped"], bm25(1.0 / 3, 2), 1e-12);
  EXPECT_EQ(two.count("far"), 0u);
  auto three = score("\"a b\"~3");
  EXPECT_NEAR(three["far"], bm25(0.25, 5), 1e-12);
}

TEST(QueryEvaluatorTest, BareTermsRunThePlainPathExactly) {
  TempDir tmp;
  const std::string dir = tmp.Sub("idx");
  ASSERT_OK(testing::BuildIndex(dir, SmallCorpus()));
  ASSERT_OK_AND_ASSIGN(auto s, Searcher::Open(dir));
  for (const std::string q : {"heart attack", "aspirin blood heart heart", "wi-fi cardiology", "the"}) {
    TextQuery plain;
    plain.text = q;
    TextQuery lucene = plain;
    lucene.syntax = QuerySyntax::kLucene;
    ASSERT_OK_AND_ASSIGN(auto a, s->Search(plain));
    ASSERT_OK_AND_ASSIGN(auto b, s->Search(lucene));
    ASSERT_EQ(a.size(), b.size()) << q;
    for (size_t i = 0; i < a.size(); ++i) {
      EXPECT_EQ(a[i].id, b[i].id) << q;
      EXPECT_EQ(a[i].score, b[i].score) << q;  // bit for bit
    }
    ASSERT_OK_AND_ASSIGN(uint64_t na, s->Count(plain));
    ASSERT_OK_AND_ASSIGN(uint64_t nb, s->Count(lucene));
    EXPECT_EQ(na, nb);
  }
}

TEST(QueryEvaluatorTest, UnknownFieldsAndSyntaxErrorsAreInvalidArgument) {
  TempDir tmp;
  const std::string dir = tmp.Sub("idx");
  auto docs = SmallCorpus();
  docs[0].domain = "med";
  ASSERT_OK(testing::BuildIndex(dir, docs));
  ASSERT_OK_AND_ASSIGN(auto s, Searcher::Open(dir));
  TextQuery tq;
  tq.syntax = QuerySyntax::kLucene;
  tq.text = "price:[1 TO 5]";
  auto r = s->Search(tq);
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(r.status().IsInvalidArgument());
  EXPECT_NE(r.status().message().find("unknown field \"price\""), std::string::npos) << r.status().ToString();
  tq.text = "heart AND (attack";
  r = s->Search(tq);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("syntax error at column 18"), std::string::npos) << r.status().ToString();
  // An exact-value field matches its value, unanalysed.
  tq.text = "+domain:med heart";
  ASSERT_OK_AND_ASSIGN(auto hits, s->Search(tq));
  EXPECT_EQ(testing::Ids(hits), std::vector<std::string>{"d1"});
}

TEST(QueryEvaluatorTest, TopKIsThePrefixOfTheFullRanking) {
  TempDir tmp;
  const std::string dir = tmp.Sub("idx");
  ASSERT_OK(testing::BuildIndex(dir, SmallCorpus()));
  ASSERT_OK_AND_ASSIGN(auto s, Searcher::Open(dir));
  TextQuery tq;
  tq.syntax = QuerySyntax::kLucene;
  tq.text = "heart OR attack OR aspirin -gardening";
  tq.k = 1000;
  ASSERT_OK_AND_ASSIGN(auto all, s->Search(tq));
  for (size_t k = 1; k <= all.size(); ++k) {
    for (size_t offset = 0; offset + k <= all.size(); offset += 2) {
      tq.k = k;
      tq.offset = offset;
      ASSERT_OK_AND_ASSIGN(auto page, s->Search(tq));
      ASSERT_EQ(page.size(), k);
      for (size_t i = 0; i < k; ++i) {
        EXPECT_EQ(page[i].id, all[offset + i].id);
        EXPECT_EQ(page[i].rank, offset + i + 1);
      }
    }
  }
}

// The sample corpus: hand-picked and random structured queries over its
// vocabulary, each against the oracle.
TEST(QueryEvaluatorTest, MatchesTheOracleOnTheSample) {
  TempDir tmp;
  const std::string dir = tmp.Sub("idx");
  ASSERT_OK_AND_ASSIGN(std::vector<Document> corpus, testing::SampleDocuments());
  const std::vector<Document>* docs = &corpus;
  ASSERT_OK(testing::BuildIndex(dir, *docs));
  ASSERT_OK_AND_ASSIGN(auto s, Searcher::Open(dir));
  Oracle oracle(*s, Bm25Params{});
  for (const std::string q :
       {"\"crystalline lens\"", "lens AND protein", "+lens -crystallin", "\"blood flow\" OR oxygen",
        "title:lens^2 text:lens", "prot*", "text:[lens TO lenz]", "(lung OR bronchi) AND microscopy",
        "\"cerebrospinal fluid\" +oxygen", "\"the lens\"", "NOT lens", "lens -(protein OR human)"}) {
    ExpectOracle(*s, oracle, q);
  }
  // Random queries from the sample's own words.
  std::vector<std::string> words;
  for (size_t i = 0; i < docs->size() && words.size() < 400; i += 3) {
    for (const std::string& w : Analyze(AnalyzerKind::kWhitespace, (*docs)[i].text)) {
      if (w.size() > 3 &&
          std::all_of(w.begin(), w.end(), [](char c) { return std::isalpha(static_cast<unsigned char>(c)); }))
        words.push_back(w);
    }
  }
  ASSERT_GT(words.size(), 50u);
  std::mt19937 rng(7);
  auto word = [&] { return words[rng() % words.size()]; };
  const char* ops[] = {" AND ", " OR ", " ", " -", " +", " NOT "};
  for (int i = 0; i < 150; ++i) {
    std::string q = rng() % 3 == 0 ? "\"" + word() + " " + word() + "\"" : word();
    const int n = 1 + static_cast<int>(rng() % 3);
    for (int j = 0; j < n; ++j) {
      q += ops[rng() % 6];
      const int kind = static_cast<int>(rng() % 5);
      if (kind == 0) {
        q += "(" + word() + " OR " + word() + ")";
      } else if (kind == 1) {
        // A phrase taken from a document: it matches at least there.
        const auto toks = Analyze(AnalyzerKind::kWhitespace, (*docs)[rng() % docs->size()].text);
        if (toks.size() > 3) {
          const size_t at = rng() % (toks.size() - 2);
          std::string p = toks[at] + " " + toks[at + 1];
          std::erase_if(p, [](char c) { return c == '"' || c == '\\'; });
          q += "\"" + p + "\"";
        } else {
          q += word();
        }
      } else {
        q += word();
      }
    }
    auto parsed = ParseQuery(q);
    if (!parsed.ok()) continue;  // a word with query syntax in it
    ExpectOracle(*s, oracle, q);
  }
}

// Phrases read positions decoded once per snapshot (Snapshot::Positions);
// with the cache off they read Lucene++ TermPositions for the candidates
// only. Both give the same matches, totals and scores (bit for bit) on random
// phrase, sloppy-phrase and boolean queries over an index with two segments
// and deleted documents.
TEST(QueryEvaluatorTest, CachedPositionsGiveTheResultsOfLuceneTermPositions) {
  TempDir tmp;
  const std::string dir = tmp.Sub("idx");
  ASSERT_OK_AND_ASSIGN(std::vector<Document> corpus, testing::SampleDocuments());
  ASSERT_GT(corpus.size(), 20u);
  ASSERT_OK(testing::BuildIndex(dir, corpus));
  {  // a second segment: every third document again, its words shuffled (the old one deleted)
    auto w = IndexWriter::Open(dir, IndexWriterOptions{});
    ASSERT_TRUE(w.ok()) << w.status().ToString();
    std::mt19937 shuffle(3);
    for (size_t i = 0; i < corpus.size(); i += 3) {
      Document d = corpus[i];
      auto words = Analyze(AnalyzerKind::kWhitespace, d.text);
      std::shuffle(words.begin(), words.end(), shuffle);
      d.text.clear();
      for (const std::string& x : words) d.text += x + " ";
      ASSERT_OK((*w)->Upsert(d));
    }
    ASSERT_OK((*w)->Commit());
  }
  ASSERT_OK_AND_ASSIGN(internal::IndexMeta meta, internal::ReadMeta(dir));
  Lucene::IndexReaderPtr lreader = Lucene::IndexReader::open(
      Lucene::FSDirectory::open(internal::Wide(dir + "/" + internal::kTextDir)), /*readOnly=*/true);
  ASSERT_TRUE(lreader->hasDeletions());
  ASSERT_OK_AND_ASSIGN(std::shared_ptr<internal::Snapshot> snap, internal::Snapshot::Load(lreader, dir, meta, nullptr));
  internal::SnapshotStatistics stats(snap);

  // Phrases of adjacent words of the documents, mixed with other clauses.
  std::mt19937 rng(11);
  auto phrase = [&](size_t len) {
    for (;;) {
      const auto toks = Analyze(AnalyzerKind::kWhitespace, corpus[rng() % corpus.size()].text);
      if (toks.size() <= len) continue;
      const size_t at = rng() % (toks.size() - len);
      std::string p;
      for (size_t i = 0; i < len; ++i) p += (i ? " " : "") + toks[at + i];
      std::erase_if(p, [](char c) { return !std::isalnum(static_cast<unsigned char>(c)) && c != ' '; });
      return "\"" + p + "\"";
    }
  };
  const char* fields[] = {"", "", "title:", "text:"};
  size_t compared = 0, matched = 0;
  for (int i = 0; i < 200; ++i) {
    std::string q = fields[rng() % 4] + phrase(2 + rng() % 3);
    if (rng() % 3 == 0) q += "~" + std::to_string(rng() % 4);
    switch (rng() % 4) {
      case 0:
        q += " " + phrase(2);
        break;
      case 1:
        q = "+" + q + " +" + phrase(2) + "~2";
        break;
      case 2:
        q += " -" + phrase(2);
        break;
      default:
        break;
    }
    auto tree = AnalyzeLuceneQuery(AnalyzerKind::kEnglish, q);
    if (!tree.ok()) continue;  // a word that is query syntax
    internal::EvaluationOptions cached;
    cached.statistics = &stats;
    internal::EvaluationOptions lucene = cached;
    lucene.cached_positions = false;
    for (size_t n : {size_t{10}, size_t{100000}}) {
      ASSERT_OK_AND_ASSIGN(internal::Evaluation a, internal::Evaluate(*snap, *tree, cached, n));
      ASSERT_OK_AND_ASSIGN(internal::Evaluation b, internal::Evaluate(*snap, *tree, lucene, n));
      ASSERT_EQ(a.total, b.total) << q;
      ASSERT_EQ(a.top.size(), b.top.size()) << q;
      for (size_t r = 0; r < a.top.size(); ++r) {
        EXPECT_EQ(a.top[r].doc, b.top[r].doc) << q << " rank " << r;
        EXPECT_EQ(a.top[r].score, b.top[r].score) << q << " rank " << r;
      }
      matched += a.total > 0;
    }
    ++compared;
  }
  EXPECT_GT(compared, 150u);
  EXPECT_GT(matched, 200u);  // most phrases come from the documents (two depths per query)
}

// Snapshot::Positions: each document's positions ascend, the documents and
// their counts are the term's live postings (deleted documents skipped), and
// each document's mask holds its positions.
TEST(QueryEvaluatorTest, DecodedPositionsFollowThePostings) {
  TempDir tmp;
  const std::string dir = tmp.Sub("idx");
  ASSERT_OK(testing::BuildIndex(dir, SmallCorpus()));
  {
    auto w = IndexWriter::Open(dir, IndexWriterOptions{});
    ASSERT_TRUE(w.ok());
    ASSERT_OK((*w)->Upsert(testing::Doc("d6", "", "attack heart")));  // replaces d6
    ASSERT_OK((*w)->Commit());
  }
  ASSERT_OK_AND_ASSIGN(internal::IndexMeta meta, internal::ReadMeta(dir));
  Lucene::IndexReaderPtr lreader = Lucene::IndexReader::open(
      Lucene::FSDirectory::open(internal::Wide(dir + "/" + internal::kTextDir)), /*readOnly=*/true);
  ASSERT_OK_AND_ASSIGN(std::shared_ptr<internal::Snapshot> snap, internal::Snapshot::Load(lreader, dir, meta, nullptr));
  for (int field : {internal::kTitleField, internal::kTextField}) {
    for (const std::wstring term : {L"heart", L"attack", L"aspirin", L"absent"}) {
      auto postings = snap->Postings(field, term);
      auto positions = snap->Positions(field, term);
      ASSERT_NE(positions, nullptr);
      ASSERT_EQ(positions->docs, postings->docs);
      ASSERT_EQ(positions->starts.size(), postings->docs.size() + 1);
      ASSERT_EQ(positions->masks.size(), postings->docs.size());
      for (size_t i = 0; i < postings->docs.size(); ++i) {
        EXPECT_EQ(positions->starts[i + 1] - positions->starts[i], postings->tfs[i]);
        for (uint32_t k = positions->starts[i] + 1; k < positions->starts[i + 1]; ++k)
          EXPECT_LT(positions->pos[k - 1], positions->pos[k]);
        uint64_t mask = 0;  // these documents are short: every position fits
        for (uint32_t k = positions->starts[i]; k < positions->starts[i + 1]; ++k)
          mask |= uint64_t{1} << positions->pos[k];
        EXPECT_EQ(positions->masks[i], mask);
      }
      EXPECT_EQ(snap->Positions(field, term), positions);  // cached
    }
  }
  // The new d6 ("attack heart" in the text): heart at position 1.
  auto heart = snap->Positions(internal::kTextField, L"heart");
  int32_t d6 = -1;
  for (int32_t d = 0; d < snap->max_doc(); ++d) {
    if (snap->id(d) == "d6" && !lreader->isDeleted(d)) d6 = d;
  }
  ASSERT_GE(d6, 0);
  auto it = std::find(heart->docs.begin(), heart->docs.end(), d6);
  ASSERT_NE(it, heart->docs.end());
  const size_t i = static_cast<size_t>(it - heart->docs.begin());
  ASSERT_EQ(heart->starts[i + 1] - heart->starts[i], 1u);
  EXPECT_EQ(heart->pos[heart->starts[i]], 1);
}

// Top-k search without an exact total lets conjunctions and exact phrases
// skip what cannot enter the top k (block maxima, the smallest tf of a
// candidate): the hits are the exhaustive evaluation's, to the bit, on
// random conjunctions, phrases and mixes of them, at several depths.
TEST(QueryEvaluatorTest, SkippingWithoutATotalKeepsTheTopK) {
  TempDir tmp;
  const std::string dir = tmp.Sub("idx");
  // Zipfian words over 4,000 documents: long postings (many blocks), short
  // and long documents, repeated words.
  std::mt19937 gen(17);
  std::vector<std::string> vocab;
  for (int i = 0; i < 60; ++i) vocab.push_back("w" + std::to_string(i));
  std::vector<Document> corpus;
  for (int i = 0; i < 4000; ++i) {
    const int len = 2 + static_cast<int>(gen() % 40);
    std::string text;
    for (int t = 0; t < len; ++t) {
      const double u = std::uniform_real_distribution<double>(0, 1)(gen);
      text += vocab[std::min<size_t>(vocab.size() - 1, static_cast<size_t>(std::pow(60.0, u)) - 1)] + " ";
    }
    corpus.push_back(testing::Doc("d" + std::to_string(i), i % 3 ? "" : vocab[gen() % 8], text));
  }
  const size_t n = corpus.size();
  ASSERT_OK(testing::BuildIndex(dir, corpus, AnalyzerKind::kWhitespace));
  ASSERT_OK_AND_ASSIGN(internal::IndexMeta meta, internal::ReadMeta(dir));
  Lucene::IndexReaderPtr lreader = Lucene::IndexReader::open(
      Lucene::FSDirectory::open(internal::Wide(dir + "/" + internal::kTextDir)), /*readOnly=*/true);
  ASSERT_OK_AND_ASSIGN(std::shared_ptr<internal::Snapshot> snap, internal::Snapshot::Load(lreader, dir, meta, nullptr));
  internal::SnapshotStatistics stats(snap);
  std::vector<std::string> common(vocab.begin(), vocab.begin() + 20);
  std::mt19937 rng(13);
  auto word = [&] { return common[rng() % common.size()]; };
  auto phrase = [&] {
    const auto toks = Analyze(AnalyzerKind::kWhitespace, corpus[rng() % n].text);
    if (toks.size() < 3) return "\"" + word() + " " + word() + "\"";  // may match nowhere
    const size_t at = rng() % (toks.size() - 2);
    std::string p = toks[at] + " " + toks[at + 1];
    std::erase_if(p, [](char c) { return !std::isalnum(static_cast<unsigned char>(c)) && c != ' '; });
    return "\"" + p + "\"";
  };
  size_t compared = 0, skipped = 0;
  for (int i = 0; i < 150; ++i) {
    std::string q;
    switch (i % 5) {
      case 0:
        q = "+" + word() + " +" + word();
        break;
      case 1:
        q = "+" + word() + " +" + word() + " +" + word();
        break;
      case 2:
        q = phrase();
        break;
      case 3:
        q = "+" + word() + " +" + phrase();
        break;
      default:
        q = "text:" + phrase() + (rng() % 2 ? "~1" : "");
        break;
    }
    auto tree = AnalyzeLuceneQuery(AnalyzerKind::kWhitespace, q);
    if (!tree.ok()) continue;
    internal::EvaluationOptions exact;
    exact.statistics = &stats;
    internal::EvaluationOptions skipping = exact;
    skipping.exact_total = false;
    for (size_t k : {size_t{1}, size_t{3}, size_t{10}}) {
      ASSERT_OK_AND_ASSIGN(internal::Evaluation a, internal::Evaluate(*snap, *tree, exact, k));
      ASSERT_OK_AND_ASSIGN(internal::Evaluation b, internal::Evaluate(*snap, *tree, skipping, k));
      ASSERT_EQ(a.top.size(), b.top.size()) << q << " k " << k;
      for (size_t r = 0; r < a.top.size(); ++r) {
        EXPECT_EQ(a.top[r].doc, b.top[r].doc) << q << " k " << k << " rank " << r;
        EXPECT_EQ(a.top[r].score, b.top[r].score) << q << " k " << k << " rank " << r;
      }
      EXPECT_LE(b.total, a.total) << q;
      compared += !a.top.empty();
      skipped += b.total < a.total;
    }
  }
  EXPECT_GT(compared, 250u);
  EXPECT_GT(skipped, 30u);  // the skipping did happen
}

// Top-k phrases skip postings whose tfs bound the phrase below the k-th hit,
// read an exact phrase's frequency in a short document from position masks,
// and, when one field holds every posting of the terms, find positions by
// the phrase field's posting index. The hits equal, to the bit, those of an
// exhaustive evaluation reading positions through Lucene++ TermPositions, on
// exact and sloppy phrases of two and three words, in "all" (some words in
// titles too, so that both the union of title and text and the single-field
// path run), in one field, boosted, with a repeated word, of frequent words
// (their postings found by a dense index) and rarer ones, over documents
// longer and shorter than the masks cover.
TEST(QueryEvaluatorTest, PhraseSkippingKeepsTheHitsOfTheExhaustivePath) {
  TempDir tmp;
  const std::string dir = tmp.Sub("idx");
  std::mt19937 gen(29);
  std::vector<std::string> vocab;
  for (int i = 0; i < 40; ++i) vocab.push_back("w" + std::to_string(i));
  auto zipf = [&] {
    const double u = std::uniform_real_distribution<double>(0, 1)(gen);
    return vocab[std::min<size_t>(vocab.size() - 1, static_cast<size_t>(std::pow(40.0, u)) - 1)];
  };
  std::vector<Document> corpus;
  for (int i = 0; i < 3000; ++i) {
    // Mostly short texts, every tenth one up to 200 words (past the masks' 63 positions).
    const int len = 1 + static_cast<int>(gen() % (i % 10 ? 50 : 200));
    std::string text;
    for (int t = 0; t < len; ++t) text += zipf() + " ";
    // Rarer words (each in about 1/24 of the documents), often adjacent.
    if (gen() % 4 == 0) {
      const int j = static_cast<int>(gen() % 12);
      text += "m" + std::to_string(j) + " m" + std::to_string(j + 1) + " " + zipf();
    }
    // Titles use five of the words only: phrases of the others have no title postings.
    std::string title;
    if (i % 4 == 0) {
      for (int t = 0, n = 1 + static_cast<int>(gen() % 3); t < n; ++t) title += vocab[gen() % 5] + " ";
    }
    corpus.push_back(testing::Doc("d" + std::to_string(i), title, text));
  }
  ASSERT_OK(testing::BuildIndex(dir, corpus, AnalyzerKind::kWhitespace));
  ASSERT_OK_AND_ASSIGN(internal::IndexMeta meta, internal::ReadMeta(dir));
  Lucene::IndexReaderPtr lreader = Lucene::IndexReader::open(
      Lucene::FSDirectory::open(internal::Wide(dir + "/" + internal::kTextDir)), /*readOnly=*/true);
  ASSERT_OK_AND_ASSIGN(std::shared_ptr<internal::Snapshot> snap, internal::Snapshot::Load(lreader, dir, meta, nullptr));
  internal::SnapshotStatistics stats(snap);

  std::mt19937 rng(31);
  auto words = [&](size_t len) {  // adjacent words of a document, or any words
    const auto toks = Analyze(AnalyzerKind::kWhitespace, corpus[rng() % corpus.size()].text);
    std::string p;
    for (size_t i = 0, at = toks.size() > len ? rng() % (toks.size() - len) : 0; i < len; ++i)
      p += (i ? " " : "") + (toks.size() > len && rng() % 5 ? toks[at + i] : zipf());
    return p;
  };
  const char* fields[] = {"", "", "", "title:", "text:"};
  const char* slops[] = {"", "", "", "~1", "~3"};
  size_t compared = 0, skipped = 0;
  for (int i = 0; i < 240; ++i) {
    std::string q = "\"" + words(2 + (i % 4 == 0)) + "\"";
    if (i % 9 == 0) q = "\"" + vocab[rng() % 3] + " " + vocab[rng() % 3] + "\"";  // may repeat a word
    if (i % 6 == 1) {  // the rarer words, together or with a frequent one
      const int j = static_cast<int>(rng() % 12);
      q = "\"m" + std::to_string(j) + " " + (rng() % 3 ? "m" + std::to_string(j + 1) : zipf()) + "\"";
    }
    q = fields[rng() % 5] + q + slops[rng() % 5];
    if (i % 7 == 0) q += "^2.5";
    auto tree = AnalyzeLuceneQuery(AnalyzerKind::kWhitespace, q);
    ASSERT_TRUE(tree.ok()) << q;
    internal::EvaluationOptions exhaustive;
    exhaustive.statistics = &stats;
    exhaustive.cached_positions = false;
    internal::EvaluationOptions decoded = exhaustive;
    decoded.cached_positions = true;
    internal::EvaluationOptions skipping = decoded;
    skipping.exact_total = false;
    for (size_t k : {size_t{1}, size_t{4}, size_t{10}, size_t{50}}) {
      ASSERT_OK_AND_ASSIGN(internal::Evaluation a, internal::Evaluate(*snap, *tree, exhaustive, k));
      ASSERT_OK_AND_ASSIGN(internal::Evaluation b, internal::Evaluate(*snap, *tree, decoded, k));
      ASSERT_OK_AND_ASSIGN(internal::Evaluation c, internal::Evaluate(*snap, *tree, skipping, k));
      ASSERT_EQ(a.total, b.total) << q;
      ASSERT_EQ(a.top.size(), b.top.size()) << q << " k " << k;
      ASSERT_EQ(a.top.size(), c.top.size()) << q << " k " << k;
      for (size_t r = 0; r < a.top.size(); ++r) {
        EXPECT_EQ(a.top[r].doc, b.top[r].doc) << q << " k " << k << " rank " << r;
        EXPECT_EQ(a.top[r].score, b.top[r].score) << q << " k " << k << " rank " << r;
        EXPECT_EQ(a.top[r].doc, c.top[r].doc) << q << " k " << k << " rank " << r;
        EXPECT_EQ(a.top[r].score, c.top[r].score) << q << " k " << k << " rank " << r;
      }
      EXPECT_LE(c.total, a.total) << q;
      compared += a.top.size() == k;
      skipped += c.total < a.total;
    }
  }
  EXPECT_GT(compared, 400u);  // most queries have k hits at every depth
  EXPECT_GT(skipped, 200u);   // and the skipping did happen
}

}  // namespace
}  // namespace hymir::index
