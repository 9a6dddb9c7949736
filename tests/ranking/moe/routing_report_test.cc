// Routing report: the routing file reader, the domain x expert matrix and its
// mutual information, the text table and the SVG heatmap.
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <string>

#include "hymir/ranking/routing_report.h"
#include "tests/testutil/testutil.h"

namespace hymir::ranking {
namespace {

QueryRouting R(const std::string& qid, std::vector<int> chosen) {
  QueryRouting r;
  r.query_id = qid;
  r.chosen = std::move(chosen);
  r.weights.assign(r.chosen.size(), 1.0 / static_cast<double>(r.chosen.size()));
  return r;
}

size_t Count(const std::string& haystack, const std::string& needle) {
  size_t n = 0;
  for (size_t p = haystack.find(needle); p != std::string::npos; p = haystack.find(needle, p + 1)) ++n;
  return n;
}

TEST(RoutingReportTest, ReadsTheFileSearchWrites) {
  testing::TempDir tmp;
  const std::string path = tmp.Sub("run.trec.routing.tsv");
  std::ofstream(path) << "cranfield:1\t1,5\t0.61,0.39\n"
                         "\n"
                         "# a comment\n"
                         "nfcorpus:PLAIN-2\t0\t1\r\n";
  auto r = ReadRoutingFile(path);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->size(), 2u);
  EXPECT_EQ((*r)[0].query_id, "cranfield:1");
  EXPECT_EQ((*r)[0].chosen, (std::vector<int>{1, 5}));
  ASSERT_EQ((*r)[0].weights.size(), 2u);
  EXPECT_DOUBLE_EQ((*r)[0].weights[0], 0.61);
  EXPECT_DOUBLE_EQ((*r)[0].weights[1], 0.39);
  EXPECT_EQ((*r)[1].query_id, "nfcorpus:PLAIN-2");
  EXPECT_EQ((*r)[1].chosen, (std::vector<int>{0}));

  auto missing = ReadRoutingFile(tmp.Sub("absent.tsv"));
  EXPECT_TRUE(missing.status().IsNotFound()) << missing.status().ToString();
}

TEST(RoutingReportTest, MalformedLinesNamePathAndLine) {
  const std::string ok = "q1\t0,1\t0.5,0.5\n";
  const std::pair<std::string, std::string> cases[] = {
      {"q2\t0,1\n", "3 tab-separated fields"},
      {"q2 0 1\n", "3 tab-separated fields"},
      {"q2\t0\t1\textra\n", "3 tab-separated fields"},
      {"\t0\t1\n", "empty query id"},
      {"q2\tx\t1\n", "expert 'x'"},
      {"q2\t-1\t1\n", "expert '-1'"},
      {"q2\t\t1\n", "expert ''"},
      {"q2\t1,1\t0.5,0.5\n", "listed twice"},
      {"q2\t1\tabc\n", "weight 'abc'"},
      {"q2\t1\tnan\n", "weight 'nan'"},
      {"q2\t1,2\t1\n", "2 experts but 1 weights"},
      {"q1\t1\t1\n", "already routed on line 1"},
  };
  for (const auto& [bad, what] : cases) {
    auto r = ParseRoutingFile(ok + bad, "/tmp/r.tsv");
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_TRUE(r.status().IsInvalidArgument()) << r.status().ToString();
    EXPECT_NE(r.status().message().find("/tmp/r.tsv:2: "), std::string::npos) << r.status().ToString();
    EXPECT_NE(r.status().message().find(what), std::string::npos) << r.status().ToString();
  }
  // From a file, the path is the one given.
  testing::TempDir tmp;
  const std::string path = tmp.Sub("bad.tsv");
  std::ofstream(path) << ok << ok << "q3\t0\n";
  auto r = ReadRoutingFile(path);
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(r.status().IsInvalidArgument());
  EXPECT_NE(r.status().message().find(path + ":2: "), std::string::npos) << r.status().ToString();
}

TEST(RoutingReportTest, CountsTopOneByDomain) {
  const std::vector<QueryRouting> routings = {
      R("a1", {0, 2}), R("a2", {0}), R("a3", {1, 0}),
      R("b1", {2, 1}), R("b2", {2}), R("x1", {3, 0}),  // no domain: skipped, but widens the expert range
      R("c1", {1}),
  };
  const std::map<std::string, std::string> domains = {{"a1", "alpha"},      {"a2", "alpha"}, {"a3", "alpha"},
                                                      {"b1", "beta"},       {"b2", "beta"},  {"c1", "gamma"},
                                                      {"unrouted", "delta"}};
  RoutingMatrix m = BuildRoutingMatrix(routings, domains, 0);
  EXPECT_EQ(m.queries, 6u);
  EXPECT_EQ(m.experts, 4);
  EXPECT_EQ(m.domains, (std::vector<std::string>{"alpha", "beta", "gamma"}));
  ASSERT_EQ(m.counts.size(), 3u);
  EXPECT_EQ(m.counts[0], (std::vector<double>{2, 1, 0, 0}));
  EXPECT_EQ(m.counts[1], (std::vector<double>{0, 0, 2, 0}));
  EXPECT_EQ(m.counts[2], (std::vector<double>{0, 1, 0, 0}));

  // The MI from its definition, by hand: p(d) = 3/6, 2/6, 1/6; p(e) = 2/6, 2/6, 2/6.
  const double expected = (2.0 / 6) * std::log2((2.0 / 6) / (0.5 * (2.0 / 6))) +
                          (1.0 / 6) * std::log2((1.0 / 6) / (0.5 * (2.0 / 6))) +
                          (2.0 / 6) * std::log2((2.0 / 6) / ((2.0 / 6) * (2.0 / 6))) +
                          (1.0 / 6) * std::log2((1.0 / 6) / ((1.0 / 6) * (2.0 / 6)));
  EXPECT_NEAR(m.mutual_information_bits, expected, 1e-12);
  const double h = -(0.5 * std::log2(0.5) + (2.0 / 6) * std::log2(2.0 / 6) + (1.0 / 6) * std::log2(1.0 / 6));
  EXPECT_NEAR(m.normalized_mi, expected / h, 1e-12);

  // An explicit expert count wider than what was seen adds empty columns;
  // one too small for a top-1 expert is raised to fit.
  EXPECT_EQ(BuildRoutingMatrix(routings, domains, 8).experts, 8);
  EXPECT_EQ(BuildRoutingMatrix(routings, domains, 8).counts[1].size(), 8u);
  EXPECT_EQ(BuildRoutingMatrix(routings, domains, 2).experts, 3);

  // Nothing with a domain: an empty matrix with 0 bits.
  RoutingMatrix none = BuildRoutingMatrix(routings, {}, 0);
  EXPECT_EQ(none.queries, 0u);
  EXPECT_TRUE(none.domains.empty());
  EXPECT_EQ(none.mutual_information_bits, 0.0);
}

TEST(RoutingReportTest, MutualInformationIsZeroForIndependentRouting) {
  // Every domain spreads over the experts in the same proportions (1:2:1).
  std::vector<QueryRouting> routings;
  std::map<std::string, std::string> domains;
  const int per_expert[] = {1, 2, 1};
  for (const char* d : {"fiqa", "scifact", "trec-covid"}) {
    int i = 0;
    for (int e = 0; e < 3; ++e) {
      for (int k = 0; k < per_expert[e] * 5; ++k) {
        const std::string qid = std::string(d) + ":" + std::to_string(i++);
        routings.push_back(R(qid, {e, (e + 1) % 3}));
        domains[qid] = d;
      }
    }
  }
  RoutingMatrix m = BuildRoutingMatrix(routings, domains, 0);
  EXPECT_EQ(m.queries, 60u);
  EXPECT_NEAR(m.mutual_information_bits, 0.0, 1e-12);
  EXPECT_NEAR(m.normalized_mi, 0.0, 1e-12);

  // One domain only: H(domain) = 0, so MI and its normalisation are 0.
  RoutingMatrix one = BuildRoutingMatrix({R("q1", {0}), R("q2", {1})}, {{"q1", "x"}, {"q2", "x"}}, 0);
  EXPECT_EQ(one.mutual_information_bits, 0.0);
  EXPECT_EQ(one.normalized_mi, 0.0);
}

TEST(RoutingReportTest, MutualInformationIsLog2DForOneToOneRouting) {
  for (int num_domains : {2, 3, 4, 8}) {
    std::vector<QueryRouting> routings;
    std::map<std::string, std::string> domains;
    for (int d = 0; d < num_domains; ++d) {
      for (int k = 0; k < 7; ++k) {
        const std::string qid = "d" + std::to_string(d) + ":" + std::to_string(k);
        // Expert = a permutation of the domain, plus an irrelevant second choice.
        routings.push_back(R(qid, {(d + 1) % num_domains, 99}));
        domains[qid] = "domain" + std::to_string(d);
      }
    }
    RoutingMatrix m = BuildRoutingMatrix(routings, domains, num_domains);
    EXPECT_EQ(m.experts, num_domains);
    EXPECT_NEAR(m.mutual_information_bits, std::log2(num_domains), 1e-12) << num_domains;
    EXPECT_NEAR(m.normalized_mi, 1.0, 1e-12) << num_domains;
  }
}

TEST(RoutingReportTest, TextTableHasSharesTotalsAndMi) {
  const std::vector<QueryRouting> routings = {R("a1", {0}), R("a2", {0}), R("a3", {1}),
                                              R("a4", {0}), R("b1", {1}), R("b2", {1})};
  const std::map<std::string, std::string> domains = {{"a1", "alpha"}, {"a2", "alpha"}, {"a3", "alpha"},
                                                      {"a4", "alpha"}, {"b1", "beta"},  {"b2", "beta"}};
  const std::string text = RoutingMatrixText(BuildRoutingMatrix(routings, domains, 0));
  EXPECT_NE(text.find("domain  queries     e0     e1\n"), std::string::npos) << text;
  EXPECT_NE(text.find("alpha         4   75.0   25.0\n"), std::string::npos) << text;
  EXPECT_NE(text.find("beta          2    0.0  100.0\n"), std::string::npos) << text;
  EXPECT_NE(text.find("all           6   50.0   50.0\n"), std::string::npos) << text;
  EXPECT_NE(text.find("I(domain; top-1 expert) = "), std::string::npos) << text;
  EXPECT_NE(text.find(" bits"), std::string::npos) << text;
  EXPECT_EQ(text.back(), '\n');
}

TEST(RoutingReportTest, SvgHasOneRectPerCellAndTheDomainNames) {
  const std::vector<QueryRouting> routings = {R("a1", {0}), R("a2", {2}), R("b1", {1}), R("c1", {2})};
  const std::map<std::string, std::string> domains = {
      {"a1", "bio<med>"}, {"a2", "bio<med>"}, {"b1", "finance"}, {"c1", "covid & co"}};
  RoutingMatrix m = BuildRoutingMatrix(routings, domains, 4);
  const std::string svg = RoutingMatrixSvg(m, "MoE routing \"test\"");
  EXPECT_EQ(svg.rfind("<?xml", 0), 0u);
  EXPECT_NE(svg.find("<svg xmlns=\"http://www.w3.org/2000/svg\""), std::string::npos);
  EXPECT_NE(svg.find("</svg>"), std::string::npos);
  EXPECT_EQ(Count(svg, "<rect"), 3u * 4u);
  EXPECT_EQ(Count(svg, "<rect"), Count(svg, "</rect>"));
  for (const char* name : {"bio&lt;med&gt;", "finance", "covid &amp; co"}) {
    EXPECT_NE(svg.find(">" + std::string(name) + "</text>"), std::string::npos) << name;
  }
  EXPECT_EQ(svg.find("bio<med>"), std::string::npos) << "unescaped text";
  EXPECT_NE(svg.find("MoE routing &quot;test&quot;"), std::string::npos);
  EXPECT_NE(svg.find(">50.0%</text>"), std::string::npos);
  EXPECT_NE(svg.find(">100.0%</text>"), std::string::npos);
  EXPECT_NE(svg.find("I(domain; top-1 expert) = "), std::string::npos);
  EXPECT_NE(svg.find("top-1 expert</text>"), std::string::npos);
  EXPECT_NE(svg.find(">domain</text>"), std::string::npos);
  // 100% cells are the darkest colour, 0% white.
  EXPECT_NE(svg.find("fill=\"#08306b\""), std::string::npos);
  EXPECT_NE(svg.find("fill=\"#ffffff\" stroke"), std::string::npos);

  // An empty matrix is still a valid document without cells.
  const std::string empty = RoutingMatrixSvg(BuildRoutingMatrix({}, {}, 0), "empty");
  EXPECT_EQ(Count(empty, "<rect"), 0u);
  EXPECT_NE(empty.find("</svg>"), std::string::npos);
}

}  // namespace
}  // namespace hymir::ranking
