// QueryTrust: coverage of a query by the judged queries (tf-idf cosine) and
// the out-of-fold gain of fine-tuning in its neighbourhood.
#include "hymir/ranking/query_trust.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>

namespace hymir::ranking {
namespace {

double Clamp01(double x) { return x < 0.0 ? 0.0 : (x > 1.0 ? 1.0 : x); }

Status CheckConfig(const QueryTrustConfig& c, bool has_gains) {
  if (c.neighbours < 1) return Status::InvalidArgument("query trust: neighbours must be >= 1");
  if (!(c.width > 0.0) || !std::isfinite(c.width)) return Status::InvalidArgument("query trust: width must be > 0");
  if (!std::isfinite(c.floor)) return Status::InvalidArgument("query trust: floor must be finite");
  if (!(c.gain_scale >= 0.0) || !std::isfinite(c.gain_scale))
    return Status::InvalidArgument("query trust: gain scale must be >= 0");
  if (!(c.gain_shrink >= 0.0) || !std::isfinite(c.gain_shrink))
    return Status::InvalidArgument("query trust: gain shrink must be >= 0");
  if (c.gain_scale > 0.0 && !has_gains)
    return Status::InvalidArgument("query trust: a gain scale needs one out-of-fold gain per judged query");
  return Status::OK();
}

}  // namespace

Result<QueryTrust> QueryTrust::Build(const std::vector<std::vector<std::string>>& judged, std::vector<double> gains,
                                     const QueryTrustConfig& config) {
  if (!gains.empty() && gains.size() != judged.size())
    return Status::InvalidArgument("query trust: " + std::to_string(gains.size()) + " gains for " +
                                   std::to_string(judged.size()) + " judged queries");
  for (double g : gains)
    if (!std::isfinite(g)) return Status::InvalidArgument("query trust: a gain is not finite");
  HYMIR_RETURN_IF_ERROR(CheckConfig(config, !gains.empty()));
  QueryTrust t;
  t.config_ = config;
  std::map<std::string, uint32_t> df;
  for (const auto& q : judged) {
    std::vector<std::string> u(q.begin(), q.end());
    std::sort(u.begin(), u.end());
    u.erase(std::unique(u.begin(), u.end()), u.end());
    for (const auto& w : u) ++df[w];
  }
  const double n = static_cast<double>(judged.size());
  t.oov_idf_ = std::log((n + 1.0) / 0.5);
  for (const auto& [w, d] : df) {
    t.vocabulary_.push_back(w);
    t.idf_.push_back(std::log((n + 1.0) / (d + 0.5)));
  }
  t.postings_.resize(t.vocabulary_.size());
  for (size_t i = 0; i < judged.size(); ++i) {
    t.judged_.push_back(t.Vectorise(judged[i]));
    for (const auto& [id, w] : t.judged_.back()) t.postings_[id].push_back(static_cast<uint32_t>(i));
  }
  t.gains_ = std::move(gains);
  return t;
}

// Unit tf-idf vector over the vocabulary; a term outside it adds the largest
// idf to the norm (it lowers every cosine) but has no entry.
std::vector<std::pair<uint32_t, double>> QueryTrust::Vectorise(const std::vector<std::string>& terms) const {
  std::map<std::string, int> tf;
  for (const auto& w : terms) ++tf[w];
  std::vector<std::pair<uint32_t, double>> v;
  double norm = 0.0;
  for (const auto& [w, c] : tf) {
    const double tfw = 1.0 + std::log(static_cast<double>(c));
    auto it = std::lower_bound(vocabulary_.begin(), vocabulary_.end(), w);
    if (it != vocabulary_.end() && *it == w) {
      const auto id = static_cast<uint32_t>(it - vocabulary_.begin());
      const double x = tfw * idf_[id];
      v.emplace_back(id, x);
      norm += x * x;
    } else {
      norm += (tfw * oov_idf_) * (tfw * oov_idf_);
    }
  }
  norm = std::sqrt(norm);
  for (auto& e : v) e.second = norm > 0 ? e.second / norm : 0.0;
  return v;  // sorted by term id: the vocabulary and the map are both sorted
}

void QueryTrust::Neighbours(const std::vector<std::string>& terms,
                            std::vector<std::pair<double, uint32_t>>& top) const {
  top.clear();
  if (judged_.empty()) return;
  const auto q = Vectorise(terms);
  std::map<uint32_t, double> dot;
  for (const auto& [id, w] : q)
    for (uint32_t j : postings_[id]) {
      const auto& v = judged_[j];
      auto it = std::lower_bound(v.begin(), v.end(), std::make_pair(id, -1e300));
      if (it != v.end() && it->first == id) dot[j] += w * it->second;
    }
  for (const auto& [j, c] : dot) top.emplace_back(c, j);
  const size_t k = std::min(top.size(), static_cast<size_t>(config_.neighbours));
  std::partial_sort(top.begin(), top.begin() + k, top.end(), [](const auto& a, const auto& b) {
    return a.first != b.first ? a.first > b.first : a.second < b.second;
  });
  top.resize(k);
}

double QueryTrust::Similarity(const std::vector<std::string>& terms) const {
  std::vector<std::pair<double, uint32_t>> top;
  Neighbours(terms, top);
  double sum = 0.0;
  for (const auto& [c, j] : top) sum += c;
  // Judged queries sharing no term count as cosine 0 among the neighbours.
  return sum / static_cast<double>(config_.neighbours);
}

double QueryTrust::Trust(const std::vector<std::string>& terms) const {
  if (judged_.empty()) return 0.0;
  std::vector<std::pair<double, uint32_t>> top;
  Neighbours(terms, top);
  double sum = 0.0, gain = 0.0;
  for (const auto& [c, j] : top) {
    sum += c;
    if (!gains_.empty()) gain += c * gains_[j];
  }
  const double coverage = Clamp01((sum / config_.neighbours - config_.floor) / config_.width);
  if (config_.gain_scale <= 0.0) return coverage;
  const double denom = sum + config_.gain_shrink;
  const double g = denom > 0 ? gain / denom : 0.0;
  return coverage * Clamp01(g / config_.gain_scale);
}

QueryTrust::Stored QueryTrust::ToStored() const {
  Stored s;
  s.vocabulary = vocabulary_;
  s.idf = idf_;
  s.offsets.push_back(0);
  for (const auto& v : judged_) {
    for (const auto& [id, w] : v) {
      s.term_ids.push_back(id);
      s.weights.push_back(w);
    }
    s.offsets.push_back(static_cast<uint32_t>(s.term_ids.size()));
  }
  s.gains = gains_;
  s.config = {static_cast<double>(config_.neighbours), config_.floor, config_.width, config_.gain_scale,
              config_.gain_shrink};
  return s;
}

Result<QueryTrust> QueryTrust::FromStored(Stored s) {
  auto bad = [](const std::string& why) { return Status::Corruption("query trust: " + why); };
  if (s.config.size() != 5) return bad("config");
  QueryTrust t;
  // A count read from a file: in range before the cast (casting a double
  // outside int's range, or NaN, is undefined).
  if (!(s.config[0] >= 0 && s.config[0] <= static_cast<double>(std::numeric_limits<int>::max()))) {
    return bad("neighbours");
  }
  t.config_.neighbours = static_cast<int>(s.config[0]);
  t.config_.floor = s.config[1];
  t.config_.width = s.config[2];
  t.config_.gain_scale = s.config[3];
  t.config_.gain_shrink = s.config[4];
  if (s.config[0] != static_cast<double>(t.config_.neighbours)) return bad("neighbours");
  const size_t nq = s.offsets.empty() ? 0 : s.offsets.size() - 1;
  if (Status c = CheckConfig(t.config_, !s.gains.empty()); !c.ok()) return bad(c.message());
  if (s.idf.size() != s.vocabulary.size() || s.offsets.empty() || s.offsets.front() != 0 ||
      s.offsets.back() != s.term_ids.size() || s.weights.size() != s.term_ids.size() ||
      (!s.gains.empty() && s.gains.size() != nq) || !std::is_sorted(s.vocabulary.begin(), s.vocabulary.end()))
    return bad("sizes do not match");
  t.oov_idf_ = std::log((static_cast<double>(nq) + 1.0) / 0.5);
  t.vocabulary_ = std::move(s.vocabulary);
  t.idf_ = std::move(s.idf);
  t.postings_.resize(t.vocabulary_.size());
  for (size_t i = 0; i < nq; ++i) {
    if (s.offsets[i] > s.offsets[i + 1]) return bad("offsets");
    std::vector<std::pair<uint32_t, double>> v;
    for (uint32_t e = s.offsets[i]; e < s.offsets[i + 1]; ++e) {
      if (s.term_ids[e] >= t.vocabulary_.size() || (!v.empty() && v.back().first >= s.term_ids[e]) ||
          !std::isfinite(s.weights[e]))
        return bad("term ids");
      v.emplace_back(s.term_ids[e], s.weights[e]);
      t.postings_[s.term_ids[e]].push_back(static_cast<uint32_t>(i));
    }
    t.judged_.push_back(std::move(v));
  }
  t.gains_ = std::move(s.gains);
  return t;
}

}  // namespace hymir::ranking
