// hymir-xgb-letor: the XGBoost LambdaMART learning-to-rank baseline. Trains on
// SVMlight/LETOR files, early-stops on a validation set, scores a test file and
// writes a TREC run (qid Q0 docid rank score tag) for `hymir eval`.
// A benchmark program, not part of the library.
//
//   build/bin/hymir-xgb-letor --train train.txt [--valid vali.txt] --test test.txt --run run.trec
//                             [--qrels-out test.qrels.tsv] [--rounds 500] [--eta 0.05] ...
//
// Input lines: "<label> qid:<qid> <index>:<value> ... [# <comment>]", feature
// indices 1-based, absent features 0. The docid is the comment's first token,
// or the token after "docid =" (LETOR 4.0 style "# docid = GX000-00-0 inc = 1");
// without a comment it is "<qid>-<n>" (n: 0-based row within the query).
// Rows of one query need not be contiguous (they are regrouped, order kept).
// Without --valid, a seeded 10 % of the training queries is held out.
// Output is reproducible for a given --seed and --threads; a different thread
// count gives a (slightly) different model, because XGBoost 1.7's LambdaRank
// pair sampling depends on the thread layout.
#include <CLI/CLI.hpp>
#include <algorithm>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <numeric>
#include <random>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "xgb_lambdamart.h"

namespace {

using hymir::bench::RankingMatrix;
using hymir::bench::XgbLambdaMart;
using hymir::bench::XgbParams;
using Clock = std::chrono::steady_clock;

double Since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

// One parsed LETOR file: the matrix plus the ids a run file needs.
struct LetorData {
  RankingMatrix m;
  std::vector<std::string> qids;    // per query, in group order
  std::vector<std::string> docids;  // per row
};

std::string_view Trim(std::string_view s) {
  size_t b = s.find_first_not_of(" \t\r\n");
  if (b == std::string_view::npos) return {};
  size_t e = s.find_last_not_of(" \t\r\n");
  return s.substr(b, e - b + 1);
}

// Next whitespace-separated token of *s (advanced past it); empty at the end.
std::string_view NextToken(std::string_view* s) {
  size_t b = s->find_first_not_of(" \t");
  if (b == std::string_view::npos) {
    *s = {};
    return {};
  }
  size_t e = s->find_first_of(" \t", b);
  if (e == std::string_view::npos) e = s->size();
  std::string_view tok = s->substr(b, e - b);
  s->remove_prefix(e);
  return tok;
}

bool ParseFloat(std::string_view s, float* out) {
  if (s.empty()) return false;
  if (s.front() == '+') s.remove_prefix(1);
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
  return ec == std::errc() && ptr == s.data() + s.size();
}

bool ParseIndex(std::string_view s, uint64_t* out) {
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
  return !s.empty() && ec == std::errc() && ptr == s.data() + s.size();
}

std::string DocIdFromComment(std::string_view comment) {
  std::string_view rest = comment;
  std::string_view first = NextToken(&rest);
  if (first == "docid" || first == "docid=") {
    std::string_view next = NextToken(&rest);
    if (next == "=") next = NextToken(&rest);
    return std::string(next);
  }
  if (first.substr(0, 6) == "docid=") return std::string(first.substr(6));
  return std::string(first);
}

// Re-lays a row-major matrix of `rows` rows from width `from` to width `to`
// (zero padding, or dropping trailing columns when narrower).
void Relayout(std::vector<float>* x, size_t rows, size_t from, size_t to) {
  if (from == to) return;
  std::vector<float> out(rows * to, 0.0f);
  size_t copy = std::min(from, to);
  for (size_t r = 0; r < rows; ++r) {
    std::copy_n(x->begin() + r * from, copy, out.begin() + r * to);
  }
  x->swap(out);
}

// Parses one LETOR file. Returns false with *error set on failure.
bool ReadLetor(const std::string& path, LetorData* data, std::string* error) {
  std::ifstream in(path);
  if (!in) {
    *error = path + ": cannot open";
    return false;
  }
  std::vector<float> x;
  std::vector<float> labels;
  std::vector<uint32_t> row_query;  // query index (first-appearance order) per row
  std::vector<std::string> docids;
  std::vector<std::string> qids;
  std::unordered_map<std::string, uint32_t> qid_index;
  size_t stride = 0;  // allocated width of x
  size_t dim = 0;     // widest row seen
  std::string line;
  uint64_t line_no = 0;
  auto fail = [&](const std::string& msg) {
    *error = path + ":" + std::to_string(line_no) + ": " + msg;
    return false;
  };
  while (std::getline(in, line)) {
    ++line_no;
    std::string_view rest(line);
    std::string_view comment;
    if (size_t hash = rest.find('#'); hash != std::string_view::npos) {
      comment = Trim(rest.substr(hash + 1));
      rest = rest.substr(0, hash);
    }
    rest = Trim(rest);
    if (rest.empty()) continue;

    float label = 0;
    std::string_view tok = NextToken(&rest);
    if (!ParseFloat(tok, &label) || !std::isfinite(label)) {
      return fail("bad label \"" + std::string(tok) + "\"");
    }
    tok = NextToken(&rest);
    if (tok.substr(0, 4) != "qid:" || tok.size() == 4) return fail("expected qid:<id>");
    std::string qid(tok.substr(4));

    size_t row = labels.size();
    if (stride == 0) stride = 64;
    x.resize((row + 1) * stride, 0.0f);
    while (!(tok = NextToken(&rest)).empty()) {
      size_t colon = tok.find(':');
      uint64_t index = 0;
      float value = 0;
      if (colon == std::string_view::npos || !ParseIndex(tok.substr(0, colon), &index) ||
          !ParseFloat(tok.substr(colon + 1), &value)) {
        return fail("bad feature \"" + std::string(tok) + "\"");
      }
      if (index == 0) return fail("feature indices start at 1");
      if (index > (1u << 24)) return fail("feature index " + std::to_string(index) + " too large");
      size_t col = index - 1;
      if (col >= stride) {
        size_t wider = std::max<size_t>(stride * 2, col + 1);
        Relayout(&x, row + 1, stride, wider);
        stride = wider;
      }
      x[row * stride + col] = value;
      dim = std::max(dim, col + 1);
    }

    auto [it, inserted] = qid_index.try_emplace(qid, static_cast<uint32_t>(qids.size()));
    if (inserted) qids.push_back(qid);
    row_query.push_back(it->second);
    labels.push_back(label);
    docids.push_back(comment.empty() ? std::string() : DocIdFromComment(comment));
  }
  if (in.bad()) return fail("read error");
  if (labels.empty()) {
    *error = path + ": no data rows";
    return false;
  }
  const size_t rows = labels.size();
  Relayout(&x, rows, stride, dim);

  // Group rows by query (stable: first-appearance order of queries, file order within one).
  std::vector<unsigned> groups(qids.size(), 0);
  for (uint32_t q : row_query) ++groups[q];
  std::vector<size_t> start(qids.size(), 0);
  for (size_t q = 1; q < qids.size(); ++q) start[q] = start[q - 1] + groups[q - 1];
  std::vector<size_t> order(rows);
  {
    std::vector<size_t> next = start;
    for (size_t r = 0; r < rows; ++r) order[next[row_query[r]]++] = r;
  }
  data->m.dim = dim;
  data->m.x.resize(rows * dim);
  data->m.labels.resize(rows);
  data->docids.resize(rows);
  for (size_t i = 0; i < rows; ++i) {
    size_t r = order[i];
    std::copy_n(x.begin() + r * dim, dim, data->m.x.begin() + i * dim);
    data->m.labels[i] = labels[r];
    data->docids[i] = std::move(docids[r]);
  }
  data->m.groups = std::move(groups);
  data->qids = std::move(qids);
  // Default docids: "<qid>-<row within query>".
  for (size_t q = 0; q < data->qids.size(); ++q) {
    for (size_t i = 0; i < data->m.groups[q]; ++i) {
      std::string& d = data->docids[start[q] + i];
      if (d.empty()) d = data->qids[q] + "-" + std::to_string(i);
    }
  }
  return true;
}

// The queries `picked` (indices into src's groups, ascending) as a new data set.
LetorData SelectQueries(const LetorData& src, const std::vector<size_t>& picked) {
  std::vector<size_t> start(src.m.groups.size() + 1, 0);
  for (size_t q = 0; q < src.m.groups.size(); ++q) start[q + 1] = start[q] + src.m.groups[q];
  LetorData out;
  out.m.dim = src.m.dim;
  const size_t dim = src.m.dim;
  for (size_t q : picked) {
    out.qids.push_back(src.qids[q]);
    out.m.groups.push_back(src.m.groups[q]);
    out.m.x.insert(out.m.x.end(), src.m.x.begin() + start[q] * dim, src.m.x.begin() + start[q + 1] * dim);
    out.m.labels.insert(out.m.labels.end(), src.m.labels.begin() + start[q], src.m.labels.begin() + start[q + 1]);
    out.docids.insert(out.docids.end(), src.docids.begin() + start[q], src.docids.begin() + start[q + 1]);
  }
  return out;
}

// Splits `all` into (train, valid) with a seeded `fraction` of the queries
// (at least one, and at least one left) in valid. Query order is kept.
void SplitQueries(const LetorData& all, double fraction, uint64_t seed, LetorData* train, LetorData* valid) {
  const size_t nq = all.m.groups.size();
  size_t n_valid = static_cast<size_t>(std::llround(fraction * static_cast<double>(nq)));
  n_valid = std::clamp<size_t>(n_valid, 1, nq - 1);
  std::vector<size_t> perm(nq);
  std::iota(perm.begin(), perm.end(), 0);
  std::mt19937_64 rng(seed);  // engine output is specified by the standard: portable
  for (size_t i = nq - 1; i > 0; --i) std::swap(perm[i], perm[rng() % (i + 1)]);
  std::vector<char> in_valid(nq, 0);
  for (size_t i = 0; i < n_valid; ++i) in_valid[perm[i]] = 1;
  std::vector<size_t> t, v;
  for (size_t q = 0; q < nq; ++q) (in_valid[q] ? v : t).push_back(q);
  *train = SelectQueries(all, t);
  *valid = SelectQueries(all, v);
}

void PrintShape(const char* name, const std::string& path, const LetorData& d) {
  std::fprintf(stderr, "%-5s %s: %zu queries, %zu rows, %zu features\n", name, path.c_str(), d.m.groups.size(),
               d.m.rows(), d.m.dim);
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"XGBoost LambdaMART baseline: trains on SVMlight/LETOR files, writes a TREC run"};
  std::string train_path, valid_path, test_path, run_path, qrels_out;
  std::string tag = "xgb";
  double valid_fraction = 0.1;
  int log_every = 10;
  XgbParams p;
  app.add_option("--train", train_path, "Training file (SVMlight/LETOR)")->required()->check(CLI::ExistingFile);
  app.add_option("--valid", valid_path,
                 "Validation file for early stopping (default: hold out --valid-fraction of the training queries)")
      ->check(CLI::ExistingFile);
  app.add_option("--test", test_path, "Test file to score")->required()->check(CLI::ExistingFile);
  app.add_option("--run", run_path, "Output TREC run: qid Q0 docid rank score tag")->required();
  app.add_option("--qrels-out", qrels_out,
                 "Also write the test labels as BEIR qrels TSV (query-id, corpus-id, score; label > 0 only)");
  app.add_option("--tag", tag, "Run tag")->capture_default_str();
  app.add_option("--valid-fraction", valid_fraction, "Held-out query fraction when no --valid")
      ->check(CLI::Range(0.0, 0.9))
      ->capture_default_str();
  app.add_option("--rounds", p.rounds, "Maximum boosting rounds")->check(CLI::PositiveNumber)->capture_default_str();
  app.add_option("--eta", p.eta, "Learning rate")->capture_default_str();
  app.add_option("--max-depth", p.max_depth, "Maximum tree depth")->capture_default_str();
  app.add_option("--min-child-weight", p.min_child_weight, "Minimum hessian per leaf")->capture_default_str();
  app.add_option("--subsample", p.subsample, "Row sampling per tree")->capture_default_str();
  app.add_option("--colsample", p.colsample, "Feature sampling per tree")->capture_default_str();
  app.add_option("--early-stopping", p.early_stopping,
                 "Stop after this many rounds without validation improvement (0: never)")
      ->capture_default_str();
  app.add_option("--threads", p.threads, "Threads (0: all cores)")->capture_default_str();
  app.add_option("--seed", p.seed, "Seed (XGBoost sampling and the validation split)")->capture_default_str();
  app.add_option("--objective", p.objective, "XGBoost objective")->capture_default_str();
  app.add_option("--eval-metric", p.eval_metric, "Validation metric for early stopping")->capture_default_str();
  app.add_option("--tree-method", p.tree_method, "XGBoost tree_method")->capture_default_str();
  app.add_option("--log-every", log_every, "Print the validation metric every N rounds (0: never)")
      ->capture_default_str();
  CLI11_PARSE(app, argc, argv);

  auto t0 = Clock::now();
  std::string error;
  LetorData train, valid, test;
  if (!ReadLetor(train_path, &train, &error)) {
    std::fprintf(stderr, "hymir-xgb-letor: %s\n", error.c_str());
    return 1;
  }
  if (!valid_path.empty()) {
    if (!ReadLetor(valid_path, &valid, &error)) {
      std::fprintf(stderr, "hymir-xgb-letor: %s\n", error.c_str());
      return 1;
    }
  } else {
    if (train.m.groups.size() < 2) {
      std::fprintf(stderr, "hymir-xgb-letor: %s: need at least 2 queries to hold some out\n", train_path.c_str());
      return 1;
    }
    LetorData all = std::move(train);
    SplitQueries(all, valid_fraction, p.seed, &train, &valid);
  }
  if (!ReadLetor(test_path, &test, &error)) {
    std::fprintf(stderr, "hymir-xgb-letor: %s\n", error.c_str());
    return 1;
  }
  // One feature space: the widest file decides, the others get zero columns.
  const size_t dim = std::max({train.m.dim, valid.m.dim, test.m.dim});
  for (LetorData* d : {&train, &valid, &test}) {
    Relayout(&d->m.x, d->m.rows(), d->m.dim, dim);
    d->m.dim = dim;
  }
  PrintShape("train", train_path, train);
  PrintShape("valid", valid_path.empty() ? "(held out of train)" : valid_path, valid);
  PrintShape("test", test_path, test);
  std::fprintf(stderr, "loaded in %.2f s\n", Since(t0));

  auto t1 = Clock::now();
  auto model = XgbLambdaMart::Train(train.m, valid.m, p, &error, [&](int round, double value) {
    if (log_every > 0 && (round + 1) % log_every == 0) {
      std::fprintf(stderr, "round %4d  valid %s %.6f\n", round + 1, p.eval_metric.c_str(), value);
    }
  });
  if (model == nullptr) {
    std::fprintf(stderr, "hymir-xgb-letor: training failed: %s\n", error.c_str());
    return 1;
  }
  std::fprintf(stderr, "trained %d rounds in %.2f s; best iteration %d (valid %s %.6f)\n", model->rounds_trained(),
               Since(t1), model->best_iteration(), p.eval_metric.c_str(), model->best_score());

  auto t2 = Clock::now();
  std::vector<float> scores = model->Predict(test.m.x.data(), test.m.rows(), dim);
  if (scores.size() != test.m.rows()) {
    std::fprintf(stderr, "hymir-xgb-letor: prediction failed: %s\n", model->last_error().c_str());
    return 1;
  }
  std::fprintf(stderr, "scored %zu test rows in %.3f s\n", scores.size(), Since(t2));

  std::FILE* run = std::fopen(run_path.c_str(), "w");
  if (run == nullptr) {
    std::fprintf(stderr, "hymir-xgb-letor: %s: cannot open for writing\n", run_path.c_str());
    return 1;
  }
  std::FILE* qrels = nullptr;
  if (!qrels_out.empty()) {
    qrels = std::fopen(qrels_out.c_str(), "w");
    if (qrels == nullptr) {
      std::fclose(run);
      std::fprintf(stderr, "hymir-xgb-letor: %s: cannot open for writing\n", qrels_out.c_str());
      return 1;
    }
    std::fprintf(qrels, "query-id\tcorpus-id\tscore\n");
  }
  size_t begin = 0;
  std::vector<size_t> order;
  for (size_t q = 0; q < test.m.groups.size(); ++q) {
    const size_t n = test.m.groups[q];
    order.resize(n);
    std::iota(order.begin(), order.end(), begin);
    std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return scores[a] > scores[b]; });
    const char* qid = test.qids[q].c_str();
    for (size_t rank = 0; rank < n; ++rank) {
      size_t r = order[rank];
      std::fprintf(run, "%s Q0 %s %zu %.9g %s\n", qid, test.docids[r].c_str(), rank + 1, static_cast<double>(scores[r]),
                   tag.c_str());
    }
    if (qrels != nullptr) {
      for (size_t r = begin; r < begin + n; ++r) {
        if (test.m.labels[r] > 0) {
          std::fprintf(qrels, "%s\t%s\t%ld\n", qid, test.docids[r].c_str(), std::lround(test.m.labels[r]));
        }
      }
    }
    begin += n;
  }
  bool ok = std::fclose(run) == 0;
  if (qrels != nullptr) ok = std::fclose(qrels) == 0 && ok;
  if (!ok) {
    std::fprintf(stderr, "hymir-xgb-letor: write error\n");
    return 1;
  }
  std::fprintf(stderr, "wrote %s (%zu queries)%s%s\n", run_path.c_str(), test.m.groups.size(),
               qrels_out.empty() ? "" : " and ", qrels_out.c_str());
  return 0;
}
