// The query language: lexer, recursive-descent parser, analysis and
// toString. Lucene's classic QueryParser (8.8) is the reference for every
// decision below; docs/query_language.md lists where hymir differs.
#include "hymir/query_language.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <utility>

namespace hymir {

Result<QuerySyntax> ParseQuerySyntax(std::string_view name) {
  if (name == "plain") return QuerySyntax::kPlain;
  if (name == "lucene") return QuerySyntax::kLucene;
  return Status::InvalidArgument("unknown query syntax \"" + std::string(name) + "\" (expected plain or lucene)");
}

const char* QuerySyntaxName(QuerySyntax syntax) { return syntax == QuerySyntax::kLucene ? "lucene" : "plain"; }

namespace {

enum class Tok {
  kEnd,
  kAnd,
  kOr,
  kNot,  // NOT or '!'
  kPlus,
  kMinus,
  kLParen,
  kRParen,
  kColon,
  kStar,    // a lone '*'
  kCarat,   // '^' NUMBER
  kTilde,   // '~' [NUMBER]
  kQuoted,  // "..."
  kTerm,
  kPrefix,  // term'*'
  kWild,    // other wildcards
  kRegex,   // /.../
  kRange,   // [a TO b} etc., lexed whole
};

struct Token {
  Tok kind = Tok::kEnd;
  size_t begin = 0;  // byte offsets in the query text
  size_t end = 0;
  std::string text;            // unescaped image (term, phrase contents, field name)
  std::string number;          // kCarat, kTilde: the number ("" = none)
  bool escaped = false;        // the image had a backslash escape
  bool first_escaped = false;  // its first character was escaped
  bool bare_operator = false;  // '+', '-' or '!' standing alone as a term
  // kRange
  std::optional<std::string> lower, upper;
  bool include_lower = true, include_upper = true;
};

bool IsSpace(std::string_view s, size_t i, size_t* width) {
  const char c = s[i];
  if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
    *width = 1;
    return true;
  }
  // U+3000 IDEOGRAPHIC SPACE, which Lucene's grammar also skips.
  if (static_cast<unsigned char>(c) == 0xE3 && i + 2 < s.size() && static_cast<unsigned char>(s[i + 1]) == 0x80 &&
      static_cast<unsigned char>(s[i + 2]) == 0x80) {
    *width = 3;
    return true;
  }
  return false;
}

bool IsSpaceAt(std::string_view s, size_t i) {
  size_t w;
  return i < s.size() && IsSpace(s, i, &w);
}

// Characters that cannot start a term (Lucene's _TERM_START_CHAR complement,
// whitespace aside). '-' and '+' may continue one.
bool IsSpecial(char c) {
  switch (c) {
    case '+':
    case '-':
    case '!':
    case '(':
    case ')':
    case ':':
    case '^':
    case '[':
    case ']':
    case '"':
    case '{':
    case '}':
    case '~':
    case '*':
    case '?':
    case '\\':
    case '/':
      return true;
    default:
      return false;
  }
}

// Bytes of the UTF-8 sequence starting with `c` (1 for a stray byte).
size_t Utf8Width(unsigned char c) {
  if (c >= 0xF0 && c < 0xF8) return 4;
  if (c >= 0xE0) return c < 0xF0 ? 3 : 1;
  if (c >= 0xC0) return 2;
  return 1;
}

size_t Column(std::string_view s, size_t pos) {
  size_t col = 1;
  for (size_t i = 0; i < pos && i < s.size(); ++i) {
    if ((static_cast<unsigned char>(s[i]) & 0xC0) != 0x80) ++col;
  }
  return col;
}

Status SyntaxError(std::string_view s, size_t pos, const std::string& what) {
  return Status::InvalidArgument("syntax error at column " + std::to_string(Column(s, pos)) + ": " + what);
}

// NUMBER: digits ['.' digits]; returns its length (0 = none).
size_t NumberLength(std::string_view s, size_t i) {
  size_t j = i;
  while (j < s.size() && s[j] >= '0' && s[j] <= '9') ++j;
  if (j == i) return 0;
  if (j + 1 < s.size() && s[j] == '.' && s[j + 1] >= '0' && s[j + 1] <= '9') {
    ++j;
    while (j < s.size() && s[j] >= '0' && s[j] <= '9') ++j;
  }
  return j - i;
}

class Lexer {
 public:
  explicit Lexer(std::string_view s) : s_(s) {}

  Status Run(std::vector<Token>* out) {
    while (true) {
      SkipSpace();
      Token t;
      t.begin = i_;
      if (i_ >= s_.size()) {
        t.kind = Tok::kEnd;
        t.end = i_;
        out->push_back(std::move(t));
        return Status::OK();
      }
      const char c = s_[i_];
      switch (c) {
        case '(':
          Single(Tok::kLParen, &t);
          break;
        case ')':
          Single(Tok::kRParen, &t);
          break;
        case ':':
          Single(Tok::kColon, &t);
          break;
        case '^': {
          const size_t n = NumberLength(s_, i_ + 1);
          if (n == 0) return SyntaxError(s_, i_ + 1, "expected a number after '^'");
          t.kind = Tok::kCarat;
          t.number = std::string(s_.substr(i_ + 1, n));
          i_ += 1 + n;
          break;
        }
        case '~': {
          const size_t n = NumberLength(s_, i_ + 1);
          t.kind = Tok::kTilde;
          t.number = std::string(s_.substr(i_ + 1, n));
          i_ += 1 + n;
          break;
        }
        case '"':
          HYMIR_RETURN_IF_ERROR(Quoted(&t));
          break;
        case '[':
        case '{':
          HYMIR_RETURN_IF_ERROR(Range(&t));
          break;
        case ']':
        case '}':
          return SyntaxError(s_, i_, std::string("unexpected '") + c + "' outside a range");
        case '/':
          HYMIR_RETURN_IF_ERROR(Regex(&t));
          break;
        case '+':
        case '-':
        case '!':
          if (IsSpaceAt(s_, i_ + 1)) {  // Lucene's BAREOPER: the character as a term
            t.kind = Tok::kTerm;
            t.text = std::string(1, c);
            t.bare_operator = true;
            ++i_;
          } else {
            Single(c == '+' ? Tok::kPlus : c == '-' ? Tok::kMinus : Tok::kNot, &t);
          }
          break;
        default:
          HYMIR_RETURN_IF_ERROR(Word(&t));
      }
      t.end = i_;
      out->push_back(std::move(t));
    }
  }

 private:
  void SkipSpace() {
    size_t w;
    while (i_ < s_.size() && IsSpace(s_, i_, &w)) i_ += w;
  }

  void Single(Tok kind, Token* t) {
    t->kind = kind;
    ++i_;
  }

  // Appends the character at i_ (a whole UTF-8 sequence) to *out.
  void TakeChar(std::string* out) {
    const size_t n = std::min(Utf8Width(static_cast<unsigned char>(s_[i_])), s_.size() - i_);
    out->append(s_.substr(i_, n));
    i_ += n;
  }

  Status Quoted(Token* t) {
    const size_t open = i_++;
    while (i_ < s_.size() && s_[i_] != '"') {
      if (s_[i_] == '\\') {
        if (i_ + 1 >= s_.size()) break;
        ++i_;
      }
      TakeChar(&t->text);
    }
    if (i_ >= s_.size()) return SyntaxError(s_, open, "unterminated quote (expected a closing '\"')");
    ++i_;
    t->kind = Tok::kQuoted;
    return Status::OK();
  }

  Status Regex(Token* t) {
    const size_t open = i_++;
    while (i_ < s_.size() && s_[i_] != '/') {
      if (s_[i_] == '\\' && i_ + 1 < s_.size()) ++i_;
      TakeChar(&t->text);
    }
    if (i_ >= s_.size()) return SyntaxError(s_, open, "unterminated regular expression (expected a closing '/')");
    ++i_;
    t->kind = Tok::kRegex;
    return Status::OK();
  }

  // One bound of a range: a quoted string or a run of characters other than
  // whitespace, ']' and '}'. nullopt for '*' (an open end).
  Status Bound(std::optional<std::string>* out, bool* quoted) {
    SkipSpace();
    *quoted = false;
    if (i_ >= s_.size()) return SyntaxError(s_, i_, "unexpected end of query inside a range");
    std::string v;
    if (s_[i_] == '"') {
      Token q;
      HYMIR_RETURN_IF_ERROR(Quoted(&q));
      *quoted = true;
      *out = std::move(q.text);
      return Status::OK();
    }
    const size_t start = i_;
    while (i_ < s_.size() && !IsSpaceAt(s_, i_) && s_[i_] != ']' && s_[i_] != '}') {
      if (s_[i_] == '\\' && i_ + 1 < s_.size()) ++i_;
      TakeChar(&v);
    }
    if (i_ == start) return SyntaxError(s_, i_, "expected a range bound");
    if (v == "*" && s_.substr(start, i_ - start) == "*") {
      out->reset();
    } else {
      *out = std::move(v);
    }
    return Status::OK();
  }

  Status Range(Token* t) {
    t->kind = Tok::kRange;
    t->include_lower = s_[i_] == '[';
    ++i_;
    bool quoted = false;
    HYMIR_RETURN_IF_ERROR(Bound(&t->lower, &quoted));
    SkipSpace();
    if (s_.substr(i_, 2) != "TO" || (i_ + 2 < s_.size() && !IsSpaceAt(s_, i_ + 2))) {
      return SyntaxError(s_, i_, "expected 'TO' in a range");
    }
    i_ += 2;
    HYMIR_RETURN_IF_ERROR(Bound(&t->upper, &quoted));
    SkipSpace();
    if (i_ >= s_.size() || (s_[i_] != ']' && s_[i_] != '}')) {
      return SyntaxError(s_, i_, "expected ']' or '}' to close the range");
    }
    t->include_upper = s_[i_] == ']';
    ++i_;
    return Status::OK();
  }

  Status Word(Token* t) {
    bool wildcard = false, trailing_star_only = true;
    const size_t start = i_;
    while (i_ < s_.size() && !IsSpaceAt(s_, i_)) {
      const char c = s_[i_];
      if (c == '\\') {
        if (i_ + 1 >= s_.size()) return SyntaxError(s_, i_, "a '\\' escapes nothing at the end of the query");
        if (i_ == start) t->first_escaped = true;
        t->escaped = true;
        ++i_;
        TakeChar(&t->text);
        continue;
      }
      if (c == '*' || c == '?') {
        // A '*' ending the word keeps it a prefix; anything after a
        // wildcard, or a '?', makes it a general wildcard.
        if (wildcard || c == '?') trailing_star_only = false;
        wildcard = true;
        t->text += c;
        ++i_;
        continue;
      }
      if (IsSpecial(c) && !((c == '-' || c == '+') && i_ > start)) break;
      if (wildcard) trailing_star_only = false;
      TakeChar(&t->text);
    }
    if (i_ == start) return SyntaxError(s_, i_, std::string("unexpected '") + s_[i_] + "'");
    const std::string_view image = s_.substr(start, i_ - start);
    if (!wildcard) {
      t->kind = Tok::kTerm;
      if (!t->escaped) {
        if (image == "AND" || image == "&&") t->kind = Tok::kAnd;
        if (image == "OR" || image == "||") t->kind = Tok::kOr;
        if (image == "NOT") t->kind = Tok::kNot;
      }
    } else if (image == "*") {
      t->kind = Tok::kStar;
    } else if (trailing_star_only && image.back() == '*' && image.size() > 1) {
      t->kind = Tok::kPrefix;
      t->text.pop_back();
    } else {
      t->kind = Tok::kWild;
    }
    return Status::OK();
  }

  std::string_view s_;
  size_t i_ = 0;
};

const char* Describe(Tok k) {
  switch (k) {
    case Tok::kEnd:
      return "the end of the query";
    case Tok::kAnd:
      return "'AND'";
    case Tok::kOr:
      return "'OR'";
    case Tok::kNot:
      return "'NOT'";
    case Tok::kPlus:
      return "'+'";
    case Tok::kMinus:
      return "'-'";
    case Tok::kLParen:
      return "'('";
    case Tok::kRParen:
      return "')'";
    case Tok::kColon:
      return "':'";
    case Tok::kStar:
      return "'*'";
    case Tok::kCarat:
      return "'^'";
    case Tok::kTilde:
      return "'~'";
    case Tok::kQuoted:
      return "a phrase";
    case Tok::kTerm:
      return "a term";
    case Tok::kPrefix:
      return "a prefix";
    case Tok::kWild:
      return "a wildcard";
    case Tok::kRegex:
      return "a regular expression";
    case Tok::kRange:
      return "a range";
  }
  return "a token";
}

class Parser {
 public:
  Parser(std::string_view s, std::vector<Token> toks, const QueryParseOptions& o)
      : s_(s), t_(std::move(toks)), opts_(o) {}

  Result<QueryNode> Top() {
    HYMIR_ASSIGN_OR_RETURN(QueryNode q, Query("", 0));
    if (Peek().kind == Tok::kRParen) return SyntaxError(s_, Peek().begin, "unmatched ')'");
    if (Peek().kind != Tok::kEnd)
      return SyntaxError(s_, Peek().begin, std::string("unexpected ") + Describe(Peek().kind));
    return q;
  }

 private:
  const Token& Peek(size_t ahead = 0) const { return t_[std::min(p_ + ahead, t_.size() - 1)]; }
  const Token& Next() { return t_[std::min(p_++, t_.size() - 1)]; }

  static bool AllowedAfterRunTerm(Tok k) {
    return k != Tok::kAnd && k != Tok::kOr && k != Tok::kCarat && k != Tok::kColon && k != Tok::kTilde;
  }
  static bool PlainTerm(const Token& t) { return t.kind == Tok::kTerm && !t.bare_operator; }

  bool StartsClause(Tok k) const { return k != Tok::kEnd && k != Tok::kRParen && k != Tok::kAnd && k != Tok::kOr; }

  Result<QueryNode> Query(const std::string& field, size_t depth) {
    QueryNode q;
    q.kind = QueryNode::Kind::kBoolean;
    bool first = true;
    while (true) {
      int conj = 0, mods = 0;
      const Tok k = Peek().kind;
      if (k == Tok::kEnd || k == Tok::kRParen) {
        if (first) {
          return SyntaxError(s_, Peek().begin,
                             k == Tok::kEnd ? "empty query (expected a term, phrase or '(')"
                                            : "expected a term, phrase or '(' before ')'");
        }
        break;
      }
      // A run of bare terms (Lucene's MultiTerm): analysed together.
      if (PlainTerm(Peek()) && PlainTerm(Peek(1)) && AllowedAfterRunTerm(Peek(2).kind)) {
        QueryNode run;
        run.kind = QueryNode::Kind::kTerm;
        run.field = field;
        run.raw.run = true;
        run.text = Next().text;
        while (PlainTerm(Peek()) && AllowedAfterRunTerm(Peek(1).kind)) run.text += " " + Next().text;
        q.clauses.push_back({Occur::kShould, std::move(run)});
        first = false;
        continue;
      }
      if (!first && (k == Tok::kAnd || k == Tok::kOr)) {
        conj = k == Tok::kAnd ? 1 : 2;
        Next();
      } else if (k == Tok::kAnd || k == Tok::kOr) {
        return SyntaxError(s_, Peek().begin, std::string("expected a term, phrase or '(' before ") + Describe(k));
      }
      const Tok m = Peek().kind;
      if (m == Tok::kPlus) {
        mods = 1;
        Next();
      } else if (m == Tok::kMinus || m == Tok::kNot) {
        mods = 2;
        Next();
      }
      if (!StartsClause(Peek().kind) || Peek().kind == Tok::kNot || Peek().kind == Tok::kPlus ||
          Peek().kind == Tok::kMinus) {
        const std::string after = mods ? "an operator" : conj == 1 ? "'AND'" : "'OR'";
        return SyntaxError(s_, Peek().begin,
                           "expected a term, phrase or '(' after " + after + ", got " + Describe(Peek().kind));
      }
      HYMIR_ASSIGN_OR_RETURN(QueryNode c, Clause(field, depth));
      c.raw.conjunction = conj;
      c.raw.modifier = mods;
      if (first && conj == 0 && mods == 0) q.raw.first_query = true;
      q.clauses.push_back({Occur::kShould, std::move(c)});
      first = false;
    }
    return q;
  }

  Result<double> Boost() {
    if (Peek().kind != Tok::kCarat) return 1.0;
    const Token& b = Next();
    float f = 0;
    auto [ptr, ec] = std::from_chars(b.number.data(), b.number.data() + b.number.size(), f);
    if (ec != std::errc() || !std::isfinite(f))
      return SyntaxError(s_, b.begin + 1, "boost \"" + b.number + "\" is not a number");
    return static_cast<double>(f);
  }

  Result<QueryNode> Clause(std::string field, size_t depth) {
    if ((Peek().kind == Tok::kTerm || Peek().kind == Tok::kStar) && Peek(1).kind == Tok::kColon &&
        !Peek().bare_operator) {
      const Token& f = Next();
      Next();
      if (f.kind == Tok::kStar)
        return SyntaxError(s_, f.begin, "'*:' (all fields, or '*:*' for all documents) is not supported");
      field = f.text;
      if (!StartsClause(Peek().kind) || Peek().kind == Tok::kNot || Peek().kind == Tok::kPlus ||
          Peek().kind == Tok::kMinus) {
        return SyntaxError(
            s_, Peek().begin,
            "expected a term, phrase, range or '(' after \"" + field + ":\", got " + Describe(Peek().kind));
      }
    }
    if (Peek().kind == Tok::kLParen) {
      const Token& open = Next();
      if (depth + 1 > opts_.max_depth) {
        return SyntaxError(s_, open.begin, "parentheses nested deeper than " + std::to_string(opts_.max_depth));
      }
      HYMIR_ASSIGN_OR_RETURN(QueryNode q, Query(field, depth + 1));
      if (Peek().kind != Tok::kRParen) {
        return SyntaxError(s_, Peek().begin, std::string("expected ')', got ") + Describe(Peek().kind));
      }
      Next();
      HYMIR_ASSIGN_OR_RETURN(double b, Boost());
      q.boost *= b;
      return q;
    }
    return Term(field);
  }

  Result<QueryNode> Term(const std::string& field) {
    const Token& t = Next();
    QueryNode n;
    n.field = field;
    switch (t.kind) {
      case Tok::kTerm:
      case Tok::kPrefix: {
        n.kind = t.kind == Tok::kTerm ? QueryNode::Kind::kTerm : QueryNode::Kind::kPrefix;
        n.text = t.text;
        if (Peek().kind == Tok::kTilde) {
          if (t.kind == Tok::kTerm) {
            return SyntaxError(s_, Peek().begin, "fuzzy terms (term~) are not supported; escape '~' as '\\~'");
          }
          Next();  // Lucene ignores '~' after a prefix
        }
        HYMIR_ASSIGN_OR_RETURN(n.boost, Boost());
        if (Peek().kind == Tok::kTilde) {
          if (t.kind == Tok::kTerm) {
            return SyntaxError(s_, Peek().begin, "fuzzy terms (term~) are not supported; escape '~' as '\\~'");
          }
          Next();
        }
        if (t.kind == Tok::kTerm && !field.empty() && !t.first_escaped && !t.bare_operator) {
          // hymir's comparison ranges: field:>=a, field:>a, field:<=b, field:<b.
          const std::string& s = n.text;
          size_t op = 0;
          if (s.rfind(">=", 0) == 0 || s.rfind("<=", 0) == 0) {
            op = 2;
          } else if (!s.empty() && (s[0] == '>' || s[0] == '<')) {
            op = 1;
          }
          if (op > 0) {
            if (s.size() == op) return SyntaxError(s_, t.begin, "expected a value after '" + s + "'");
            n.kind = QueryNode::Kind::kRange;
            const std::string v = s.substr(op);
            if (s[0] == '>') {
              n.lower = v;
              n.include_lower = op == 2;
              n.include_upper = true;
            } else {
              n.upper = v;
              n.include_upper = op == 2;
              n.include_lower = true;
            }
            n.text.clear();
          }
        }
        return n;
      }
      case Tok::kQuoted: {
        n.kind = QueryNode::Kind::kPhrase;
        n.text = t.text;
        if (Peek().kind == Tok::kTilde) {
          const Token& slop = Next();
          if (!slop.number.empty()) {
            const double v = std::strtod(slop.number.c_str(), nullptr);
            n.slop = v >= 1e9 ? 1000000000 : static_cast<int32_t>(v);
          }
        }
        HYMIR_ASSIGN_OR_RETURN(n.boost, Boost());
        return n;
      }
      case Tok::kRange: {
        n.kind = QueryNode::Kind::kRange;
        n.lower = t.lower;
        n.upper = t.upper;
        n.include_lower = t.include_lower;
        n.include_upper = t.include_upper;
        HYMIR_ASSIGN_OR_RETURN(n.boost, Boost());
        return n;
      }
      case Tok::kWild:
        return SyntaxError(s_, t.begin,
                           "wildcards other than a trailing '*' are not supported; escape '*' and '?' with '\\'");
      case Tok::kStar:
        return SyntaxError(s_, t.begin, "a lone '*' is not supported (write a prefix such as abc*)");
      case Tok::kRegex:
        return SyntaxError(s_, t.begin, "regular expressions (/.../) are not supported; escape '/' as '\\/'");
      default:
        return SyntaxError(s_, t.begin, std::string("expected a term, phrase, range or '(', got ") + Describe(t.kind));
    }
  }

  std::string_view s_;
  std::vector<Token> t_;
  QueryParseOptions opts_;
  size_t p_ = 0;
};

// ---- analysis ----

std::optional<QueryNode> Analyse(const QueryNode& raw, const QueryTokenizer& tokenize,
                                 const QueryNormalizer& normalize);

QueryNode TermNode(const std::string& field, std::string term) {
  QueryNode n;
  n.kind = QueryNode::Kind::kTerm;
  n.field = field;
  n.text = std::move(term);
  return n;
}

std::optional<QueryNode> AnalyseBoolean(const QueryNode& raw, const QueryTokenizer& tokenize,
                                        const QueryNormalizer& normalize) {
  QueryNode out;
  out.kind = QueryNode::Kind::kBoolean;
  bool collapse_first = false;
  for (size_t i = 0; i < raw.clauses.size(); ++i) {
    const QueryNode& c = raw.clauses[i].node;
    if (c.kind == QueryNode::Kind::kTerm && c.raw.run) {
      std::vector<QueryToken> toks = tokenize(c.field, c.text);
      // A leading run analysing to one term is Lucene's "firstQuery" too.
      if (i == 0 && toks.size() == 1) collapse_first = true;
      for (QueryToken& t : toks) out.clauses.push_back({Occur::kShould, TermNode(c.field, std::move(t.term))});
      continue;
    }
    std::optional<QueryNode> q = Analyse(c, tokenize, normalize);
    // Lucene's addClause with default operator OR: AND makes the previous
    // clause (if not prohibited) and this one required.
    if (!out.clauses.empty() && c.raw.conjunction == 1 && out.clauses.back().occur != Occur::kMustNot) {
      out.clauses.back().occur = Occur::kMust;
    }
    if (!q) continue;
    const bool prohibited = c.raw.modifier == 2;
    const bool required = c.raw.modifier == 1 || (c.raw.conjunction == 1 && !prohibited);
    if (i == 0 && raw.raw.first_query) collapse_first = true;
    out.clauses.push_back({required ? Occur::kMust : prohibited ? Occur::kMustNot : Occur::kShould, std::move(*q)});
  }
  if (out.clauses.empty()) return std::nullopt;
  if (out.clauses.size() == 1 && collapse_first) {
    QueryNode only = std::move(out.clauses[0].node);
    only.boost *= raw.boost;
    return only;
  }
  out.boost = raw.boost;
  return out;
}

std::optional<QueryNode> Analyse(const QueryNode& raw, const QueryTokenizer& tokenize,
                                 const QueryNormalizer& normalize) {
  switch (raw.kind) {
    case QueryNode::Kind::kBoolean:
      return AnalyseBoolean(raw, tokenize, normalize);
    case QueryNode::Kind::kTerm: {
      std::vector<QueryToken> toks = tokenize(raw.field, raw.text);
      if (toks.empty()) return std::nullopt;
      if (toks.size() == 1) {
        QueryNode n = TermNode(raw.field, std::move(toks[0].term));
        n.boost = raw.boost;
        return n;
      }
      // Several tokens, unquoted: a SHOULD group (Lucene's classic parser
      // with autoGeneratePhraseQueries false).
      QueryNode g;
      g.kind = QueryNode::Kind::kBoolean;
      g.boost = raw.boost;
      for (QueryToken& t : toks) g.clauses.push_back({Occur::kShould, TermNode(raw.field, std::move(t.term))});
      return g;
    }
    case QueryNode::Kind::kPhrase: {
      std::vector<QueryToken> toks = tokenize(raw.field, raw.text);
      if (toks.empty()) return std::nullopt;
      if (toks.size() == 1) {
        QueryNode n = TermNode(raw.field, std::move(toks[0].term));
        n.boost = raw.boost;
        return n;
      }
      QueryNode p;
      p.kind = QueryNode::Kind::kPhrase;
      p.field = raw.field;
      p.boost = raw.boost;
      p.slop = raw.slop;
      for (QueryToken& t : toks) {
        p.terms.push_back(std::move(t.term));
        p.positions.push_back(t.position);
      }
      return p;
    }
    case QueryNode::Kind::kPrefix: {
      QueryNode n = raw;
      n.text = normalize(raw.field, raw.text);
      n.raw = {};
      return n;
    }
    case QueryNode::Kind::kRange: {
      QueryNode n = raw;
      if (n.lower) n.lower = normalize(raw.field, *n.lower);
      if (n.upper) n.upper = normalize(raw.field, *n.upper);
      n.raw = {};
      return n;
    }
  }
  return std::nullopt;
}

std::string BoostText(double boost) {
  // Java's Float.toString for ordinary values: shortest digits, ".0" when whole.
  char buf[64];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, static_cast<float>(boost));
  std::string s = ec == std::errc() ? std::string(buf, end) : std::to_string(boost);
  if (s.find_first_of(".e") == std::string::npos) s += ".0";
  return s;
}

// The printers append piece by piece: GCC 12 misreads chains of
// std::string operator+ under -Wrestrict.
void AppendField(const QueryNode& n, std::string* s) {
  if (n.field.empty()) return;
  s->append(n.field);
  s->push_back(':');
}

void AppendBody(const QueryNode& n, std::string* s) {
  switch (n.kind) {
    case QueryNode::Kind::kBoolean: {
      bool first = true;
      for (const QueryClause& c : n.clauses) {
        if (!first) s->push_back(' ');
        first = false;
        if (c.occur == Occur::kMust) s->push_back('+');
        if (c.occur == Occur::kMustNot) s->push_back('-');
        const bool nested = c.node.kind == QueryNode::Kind::kBoolean && c.node.boost == 1.0;
        if (nested) s->push_back('(');
        s->append(QueryToString(c.node));
        if (nested) s->push_back(')');
      }
      return;
    }
    case QueryNode::Kind::kTerm:
      AppendField(n, s);
      s->append(n.text);
      return;
    case QueryNode::Kind::kPrefix:
      AppendField(n, s);
      s->append(n.text);
      s->push_back('*');
      return;
    case QueryNode::Kind::kPhrase: {
      AppendField(n, s);
      s->push_back('"');
      const int32_t last = n.positions.empty() ? -1 : n.positions.back();
      std::vector<std::string> pieces(static_cast<size_t>(std::max(last, -1) + 1));
      for (size_t i = 0; i < n.terms.size() && i < n.positions.size(); ++i) {
        std::string& p = pieces[static_cast<size_t>(n.positions[i])];
        if (!p.empty()) p.push_back('|');
        p.append(n.terms[i]);
      }
      for (size_t i = 0; i < pieces.size(); ++i) {
        if (i) s->push_back(' ');
        s->append(pieces[i].empty() ? std::string("?") : pieces[i]);
      }
      s->push_back('"');
      if (n.slop != 0) {
        s->push_back('~');
        s->append(std::to_string(n.slop));
      }
      return;
    }
    case QueryNode::Kind::kRange:
      AppendField(n, s);
      s->push_back(n.include_lower ? '[' : '{');
      s->append(n.lower ? *n.lower : std::string("*"));
      s->append(" TO ");
      s->append(n.upper ? *n.upper : std::string("*"));
      s->push_back(n.include_upper ? ']' : '}');
      return;
  }
}

void CollectFreeText(const QueryNode& n, std::string* out) {
  switch (n.kind) {
    case QueryNode::Kind::kBoolean:
      for (const QueryClause& c : n.clauses) {
        if (c.node.raw.modifier != 2 && c.occur != Occur::kMustNot) CollectFreeText(c.node, out);
      }
      return;
    case QueryNode::Kind::kTerm:
    case QueryNode::Kind::kPhrase:
      if (n.text.empty()) return;
      if (!out->empty()) *out += ' ';
      *out += n.text;
      return;
    default:
      return;
  }
}

}  // namespace

Result<QueryNode> ParseQuery(std::string_view text, const QueryParseOptions& options) {
  if (text.size() > options.max_length) {
    return Status::InvalidArgument("query of " + std::to_string(text.size()) + " bytes exceeds the limit of " +
                                   std::to_string(options.max_length));
  }
  std::vector<Token> toks;
  HYMIR_RETURN_IF_ERROR(Lexer(text).Run(&toks));
  return Parser(text, std::move(toks), options).Top();
}

QueryNode AnalyzeQuery(const QueryNode& raw, const QueryTokenizer& tokenize, const QueryNormalizer& normalize) {
  std::optional<QueryNode> q = Analyse(raw, tokenize, normalize);
  if (q) return std::move(*q);
  QueryNode empty;
  empty.kind = QueryNode::Kind::kBoolean;
  return empty;
}

std::string QueryToString(const QueryNode& node) {
  std::string out;
  const bool boosted = node.boost != 1.0;
  if (boosted) out.push_back('(');
  AppendBody(node, &out);
  if (boosted) {
    out.append(")^");
    out.append(BoostText(node.boost));
  }
  return out;
}

bool IsBareTerms(std::string_view text) {
  // The lexer's verdict without building tokens (this runs on every query):
  // words of term characters only, none of them an operator.
  size_t i = 0, w = 0;
  while (i < text.size()) {
    if (IsSpace(text, i, &w)) {
      i += w;
      continue;
    }
    const size_t start = i;
    while (i < text.size() && !IsSpaceAt(text, i)) {
      const char c = text[i];
      if (IsSpecial(c) && !((c == '-' || c == '+') && i > start)) return false;
      ++i;
    }
    const std::string_view word = text.substr(start, i - start);
    if (word == "AND" || word == "OR" || word == "NOT" || word == "&&" || word == "||") return false;
  }
  return true;
}

std::vector<std::string> QueryTerms(const QueryNode& node) {
  std::vector<std::string> out;
  std::vector<const QueryNode*> stack = {&node};
  while (!stack.empty()) {
    const QueryNode* n = stack.back();
    stack.pop_back();
    if (n->kind == QueryNode::Kind::kTerm) out.push_back(n->text);
    if (n->kind == QueryNode::Kind::kPhrase) out.insert(out.end(), n->terms.begin(), n->terms.end());
    for (const QueryClause& c : n->clauses) stack.push_back(&c.node);
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

std::string FreeText(const QueryNode& raw) {
  std::string out;
  CollectFreeText(raw, &out);
  return out;
}

}  // namespace hymir
