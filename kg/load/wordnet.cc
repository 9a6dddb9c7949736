// WordNet 3.0 database files (wndb(5WN)) into triples.
//
// A data line: "offset lex_filenum ss_type w_cnt word lex_id ... p_cnt
// ptr_symbol offset pos source/target ... [frames] | gloss"; w_cnt is two hex
// digits, p_cnt three decimal digits. The license header lines start with two
// spaces.
#include <filesystem>
#include <chrono>
#include <string>
#include <string_view>
#include <vector>

#include "hymir/kg/loader.h"
#include "kg/load/line_loader.h"

namespace hymir::kg {
namespace {

struct PointerName {
  std::string_view symbol;
  std::string_view relation;
};
constexpr PointerName kPointers[] = {
    {"@", "wn:hypernym"},          {"~", "wn:hyponym"},         {"@i", "wn:instance_hypernym"},
    {"~i", "wn:instance_hyponym"}, {"#m", "wn:member_holonym"}, {"#p", "wn:part_holonym"},
    {"%m", "wn:member_meronym"},   {"%p", "wn:part_meronym"},   {"&", "wn:similar_to"},
    {"+", "wn:derivation"},
};

std::string_view RelationFor(std::string_view symbol) {
  for (const auto& p : kPointers) {
    if (p.symbol == symbol) return p.relation;
  }
  return {};
}

bool PosChar(std::string_view tok, char* pos) {
  if (tok.size() != 1) return false;
  switch (tok[0]) {
    case 'n':
    case 'v':
    case 'a':
    case 'r':
      *pos = tok[0];
      return true;
    case 's':
      *pos = 'a';
      return true;  // adjective satellites share the adjective space
    default:
      return false;
  }
}

bool IsOffset(std::string_view tok) {
  if (tok.size() != 8) return false;
  for (char c : tok) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

// "dog" -> "dog", "Canis_familiaris" -> "Canis familiaris", "galore(ip)" -> "galore".
std::string Lemma(std::string_view word) {
  if (!word.empty() && word.back() == ')') {
    size_t open = word.rfind('(');
    if (open != std::string_view::npos && open > 0) word = word.substr(0, open);
  }
  std::string out(word);
  for (char& c : out) {
    if (c == '_') c = ' ';
  }
  return out;
}

bool ParseWordNetLine(const std::string& line, std::vector<Triple>* out, std::string* fault, uint64_t* synsets) {
  if (line.empty() || line[0] == ' ') return true;  // license header
  std::string_view body(line);
  if (size_t bar = body.find(" | "); bar != std::string_view::npos) body = body.substr(0, bar);
  std::vector<std::string_view> tok;
  for (size_t i = 0; i < body.size();) {
    size_t j = body.find(' ', i);
    if (j == std::string_view::npos) j = body.size();
    if (j > i) tok.push_back(body.substr(i, j - i));
    i = j + 1;
  }
  if (tok.size() < 4 || !IsOffset(tok[0])) {
    *fault = "expected an 8-digit synset offset";
    return false;
  }
  char pos;
  if (!PosChar(tok[2], &pos)) {
    *fault = "bad synset type '" + std::string(tok[2]) + "' (expected n, v, a, s or r)";
    return false;
  }
  std::string entity = std::string("wn:") + pos + ":" + std::string(tok[0]);
  size_t w_cnt = 0;
  try {
    w_cnt = std::stoul(std::string(tok[3]), nullptr, 16);
  } catch (...) {
    *fault = "bad word count '" + std::string(tok[3]) + "'";
    return false;
  }
  size_t i = 4;
  // Compared by division: a count near 2^64 must not wrap 2 * w_cnt past the check.
  if (w_cnt == 0 || tok.size() <= i || w_cnt > (tok.size() - i - 1) / 2) {
    *fault = "word list shorter than its count " + std::to_string(w_cnt);
    return false;
  }
  const std::string alias_rel(kAliasRelation);
  for (size_t w = 0; w < w_cnt; ++w, i += 2) {
    std::string lemma = Lemma(tok[i]);
    if (lemma.empty()) {
      *fault = "empty lemma in word " + std::to_string(w + 1);
      return false;
    }
    out->push_back(Triple{entity, alias_rel, std::move(lemma)});
  }
  size_t p_cnt = 0;
  try {
    p_cnt = std::stoul(std::string(tok[i]), nullptr, 10);
  } catch (...) {
    *fault = "bad pointer count '" + std::string(tok[i]) + "'";
    return false;
  }
  ++i;
  if (p_cnt > (tok.size() - i) / 4) {
    *fault = "pointer list shorter than its count " + std::to_string(p_cnt);
    return false;
  }
  for (size_t p = 0; p < p_cnt; ++p, i += 4) {
    char target_pos;
    if (!IsOffset(tok[i + 1]) || !PosChar(tok[i + 2], &target_pos)) {
      *fault = "bad pointer " + std::to_string(p + 1) + " ('" + std::string(tok[i]) + " " + std::string(tok[i + 1]) +
               " " + std::string(tok[i + 2]) + "')";
      return false;
    }
    std::string_view relation = RelationFor(tok[i]);
    if (relation.empty()) continue;
    out->push_back(
        Triple{entity, std::string(relation), std::string("wn:") + target_pos + ":" + std::string(tok[i + 1])});
  }
  ++*synsets;
  return true;
}

}  // namespace

Result<LoadStats> LoadWordNet(TripleStore& store, const std::string& dir, const LoadOptions& options) {
  auto start = std::chrono::steady_clock::now();
  LoadStats stats;
  bool any = false;
  for (const char* name : {"data.noun", "data.verb", "data.adj", "data.adv"}) {
    std::string path = dir + "/" + name;
    std::error_code ec;
    if (!std::filesystem::is_regular_file(path, ec)) continue;
    any = true;
    uint64_t synsets = 0;
    Status s = internal::LoadLines(
        store, path, options,
        [&](const std::string& line, std::vector<Triple>* out, std::string* fault) {
          return ParseWordNetLine(line, out, fault, &synsets);
        },
        &stats);
    stats.entities += synsets;
    if (!s.ok()) return s;
  }
  if (!any) return Status::NotFound(dir + ": no WordNet data files (data.noun, data.verb, data.adj, data.adv)");
  stats.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return stats;
}

}  // namespace hymir::kg
