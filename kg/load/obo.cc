// OBO flat files (the Gene Ontology's format) into triples.
//
// A file is a header followed by stanzas ("[Term]", "[Typedef]", ...), each a
// list of "tag: value" lines. Values may end in "{modifiers}" and a
// "! comment"; backslash escapes are decoded; quoted strings (def, synonym)
// are read up to their closing quote. A term's triples are held until its
// stanza ends, because `is_obsolete: true` may come after its name.
#include <chrono>
#include <string>
#include <string_view>
#include <vector>

#include "hymir/kg/loader.h"
#include "kg/load/line_loader.h"

namespace hymir::kg {
namespace {

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// Drops a trailing "! comment" and "{modifiers}" (both outside quotes and not
// escaped). Returns false for an unterminated quoted string.
bool StripTrailers(std::string_view value, std::string_view* out) {
  bool quoted = false;
  size_t brace = std::string_view::npos;
  size_t end = value.size();
  for (size_t i = 0; i < value.size(); ++i) {
    const char c = value[i];
    if (c == '\\') {
      ++i;
      continue;
    }
    if (c == '"') quoted = !quoted;
    if (quoted) continue;
    if (c == '!') {
      end = i;
      break;
    }
    if (c == '{' && brace == std::string_view::npos) brace = i;
  }
  if (quoted) return false;
  std::string_view v = Trim(value.substr(0, end));
  if (brace != std::string_view::npos && brace < v.size() && !v.empty() && v.back() == '}')
    v = Trim(v.substr(0, brace));
  *out = v;
  return true;
}

// Decodes OBO escapes: \n and \W are a space here (labels are one line), \t a
// tab, any other escaped character itself.
std::string Unescape(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '\\' || i + 1 == s.size()) {
      out.push_back(s[i]);
      continue;
    }
    const char e = s[++i];
    out.push_back(e == 'n' || e == 'W' ? ' ' : e == 't' ? '\t' : e);
  }
  return out;
}

// Reads the quoted string at the start of `v` into *text; *rest is what follows.
bool ReadQuoted(std::string_view v, std::string* text, std::string_view* rest, std::string* fault) {
  if (v.empty() || v.front() != '"') {
    *fault = "expected a quoted string";
    return false;
  }
  for (size_t i = 1; i < v.size(); ++i) {
    if (v[i] == '\\') {
      ++i;
      continue;
    }
    if (v[i] == '"') {
      *text = std::string(Trim(Unescape(v.substr(1, i - 1))));
      *rest = Trim(v.substr(i + 1));
      return true;
    }
  }
  *fault = "unterminated quoted string";
  return false;
}

std::string_view FirstToken(std::string_view v) {
  v = Trim(v);
  size_t end = v.find_first_of(" \t");
  return end == std::string_view::npos ? v : v.substr(0, end);
}

// The stanza being read and what it will contribute.
struct OboState {
  bool in_term = false;   // inside a [Term] stanza
  std::string id;         // its id, once read
  bool obsolete = false;  // is_obsolete: true
  std::vector<Triple> pending;
  uint64_t terms = 0;
};

// Ends the current stanza: its triples go to *out unless it was obsolete.
void EndStanza(OboState* st, std::vector<Triple>* out) {
  if (st->in_term && !st->id.empty() && !st->obsolete) {
    for (Triple& t : st->pending) out->push_back(std::move(t));
    ++st->terms;
  }
  st->in_term = false;
  st->id.clear();
  st->obsolete = false;
  st->pending.clear();
}

bool Emit(OboState* st, std::string_view relation, std::string object, std::string_view tag, std::string* fault) {
  if (object.empty()) {
    *fault = "empty value of '" + std::string(tag) + "'";
    return false;
  }
  if (relation == kAliasRelation && NormalizeAlias(object).empty()) {
    *fault = "'" + std::string(tag) + "' is empty after normalisation";
    return false;
  }
  st->pending.push_back(Triple{st->id, std::string(relation), std::move(object)});
  return true;
}

bool ParseSynonym(OboState* st, std::string_view tag, std::string_view value, std::string* fault) {
  std::string text;
  std::string_view rest;
  if (!ReadQuoted(value, &text, &rest, fault)) return false;
  std::string_view scope = FirstToken(rest);
  // OBO 1.0 spelled the scope in the tag.
  if (tag == "exact_synonym") scope = "EXACT";
  if (tag == "broad_synonym") scope = "BROAD";
  if (tag == "narrow_synonym") scope = "NARROW";
  if (tag == "related_synonym") scope = "RELATED";
  if (scope.empty() || scope.front() == '[') scope = "RELATED";
  if (scope != "EXACT" && scope != "NARROW" && scope != "RELATED" && scope != "BROAD") {
    *fault = "synonym scope '" + std::string(scope) + "' is not EXACT, NARROW, RELATED or BROAD";
    return false;
  }
  if (scope == "BROAD") return true;  // a broader name would link the wrong term
  return Emit(st, kAliasRelation, std::move(text), tag, fault);
}

bool ParseTermTag(OboState* st, std::string_view tag, std::string_view value, std::string* fault) {
  if (tag == "id") {
    if (!st->id.empty()) {
      *fault = "second id in one stanza";
      return false;
    }
    st->id = Unescape(FirstToken(value));
    if (st->id.empty()) {
      *fault = "empty id";
      return false;
    }
    return true;
  }
  if (st->id.empty()) {
    *fault = "tag '" + std::string(tag) + "' before the stanza's id";
    return false;
  }
  if (tag == "name") return Emit(st, kAliasRelation, Unescape(value), tag, fault);
  if (tag == "synonym" || tag == "exact_synonym" || tag == "broad_synonym" || tag == "narrow_synonym" ||
      tag == "related_synonym") {
    return ParseSynonym(st, tag, value, fault);
  }
  if (tag == "def") {
    std::string text;
    std::string_view rest;
    if (!ReadQuoted(value, &text, &rest, fault)) return false;
    return Emit(st, kDefinitionRelation, std::move(text), tag, fault);
  }
  if (tag == "namespace") return Emit(st, kOboNamespace, Unescape(FirstToken(value)), tag, fault);
  if (tag == "is_a") return Emit(st, kOboIsA, Unescape(FirstToken(value)), tag, fault);
  if (tag == "alt_id") return Emit(st, kOboAltId, Unescape(FirstToken(value)), tag, fault);
  if (tag == "relationship") {
    std::string_view rel = FirstToken(value);
    std::string_view target = FirstToken(Trim(value).substr(rel.size()));
    if (rel.empty() || target.empty()) {
      *fault = "relationship needs a relation and a target";
      return false;
    }
    return Emit(st, "obo:" + Unescape(rel), Unescape(target), tag, fault);
  }
  if (tag == "is_obsolete") {
    st->obsolete = Trim(value) == "true";
    return true;
  }
  return true;  // other tags (comment, xref, subset, ...) are not loaded
}

bool ParseOboLine(OboState* st, const std::string& raw, std::vector<Triple>* out, std::string* fault) {
  if (const size_t bad = internal::FirstBadByte(raw); bad != std::string::npos) {
    *fault = (raw[bad] == '\0' ? "NUL byte at column " : "invalid UTF-8 at column ") + std::to_string(bad + 1);
    return false;
  }
  std::string_view line = Trim(raw);
  if (line.empty() || line.front() == '!') return true;
  if (line.front() == '[') {
    if (line.back() != ']') {
      *fault = "unterminated stanza header";
      return false;
    }
    EndStanza(st, out);
    st->in_term = line == "[Term]";
    return true;
  }
  // The tag ends at the first unescaped ':'.
  size_t colon = std::string_view::npos;
  for (size_t i = 0; i < line.size(); ++i) {
    if (line[i] == '\\') {
      ++i;
    } else if (line[i] == ':') {
      colon = i;
      break;
    }
  }
  if (colon == std::string_view::npos || colon == 0) {
    *fault = "expected 'tag: value'";
    return false;
  }
  if (!st->in_term) return true;  // the header, [Typedef] and [Instance] stanzas
  std::string_view tag = Trim(line.substr(0, colon));
  std::string_view value;
  if (!StripTrailers(line.substr(colon + 1), &value)) {
    *fault = "unterminated quoted string";
    return false;
  }
  return ParseTermTag(st, tag, value, fault);
}

}  // namespace

Result<LoadStats> LoadObo(TripleStore& store, const std::string& path, const LoadOptions& options) {
  auto start = std::chrono::steady_clock::now();
  LoadStats stats;
  OboState state;
  Status s = internal::LoadLines(
      store, path, options,
      [&](const std::string& line, std::vector<Triple>* out, std::string* fault) {
        return ParseOboLine(&state, line, out, fault);
      },
      &stats,
      [&](std::vector<Triple>* out, std::string*) {
        EndStanza(&state, out);
        return true;
      });
  if (!s.ok()) return s;
  stats.entities = state.terms;
  stats.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return stats;
}

}  // namespace hymir::kg
