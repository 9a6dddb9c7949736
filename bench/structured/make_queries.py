#!/usr/bin/env python3
"""Generate Lucene classic-syntax queries from a BEIR corpus (Python 3 standard library only).

    make_queries.py --corpus C.jsonl [--schema S.json] --out Q.jsonl [--n 1000] [--seed 42]

Every query is built from words of the corpus, so most of them match something. Each output line is
{"_id": "sq1", "text": "...", "kind": "..."}; the kinds are

  term       one word (no stop word)               terms      2-3 words, default operator OR
  phrase     "2-4 consecutive words of a document"  sloppy     "phrase"~N, N in 1..4, a middle word dropped
  required   +a +b -c, +a b -c                       bool       AND / OR / NOT with parentheses
  field      title:w, text:"phrase", title:"..."    prefix     abc* (3-5 letters of a corpus word)
  boost      w^2, "phrase"^3                         termrange  title:[ab TO ad] (few)
  negative   -w / NOT w alone (Lucene: no hits; few)

and, with a schema (see scripts/debian_schema.json for the format):

  numrange   int64/double/date ranges: f:[a TO b], f:{a TO b], f:[* TO b], f:>=N, f:<N, f:N
  keyword    keyword/bool terms: section:graphics, tag:"use::editing", -section:x, (a OR b)
  mixed      words combined with ranges and keyword terms: +w +section:x, w AND size:[0 TO 5000]

The same --seed, corpus and schema give the same file.
"""

import argparse
import bisect
import json
import random
import re
import sys
from collections import Counter

# Lucene's EnglishAnalyzer stop words (EnglishAnalyzer.ENGLISH_STOP_WORDS_SET).
STOP = {
    "a", "an", "and", "are", "as", "at", "be", "but", "by", "for", "if", "in", "into", "is", "it", "no",
    "not", "of", "on", "or", "such", "that", "the", "their", "then", "there", "these", "they", "this",
    "to", "was", "will", "with",
}
RESERVED = {"_id", "id", "title", "text", "all", "domain", "vectors"}
WORD = re.compile(r"^[a-z]+$")
STRIP = ".,;:!?()[]{}\"'`"
BARE_VALUE = re.compile(r"^[A-Za-z0-9_.]+$")

# kind -> weight (per mille) without / with a schema
BASE_KINDS = [
    ("term", 140), ("terms", 110), ("phrase", 140), ("sloppy", 90), ("required", 100), ("bool", 130),
    ("field", 100), ("prefix", 90), ("boost", 60), ("termrange", 20), ("negative", 10),
]
SCHEMA_KINDS = [("numrange", 120), ("keyword", 120), ("mixed", 160)]


def words_of(s):
    """Whitespace tokens lower-cased with edge punctuation removed; None where not purely alphabetic.

    A run of consecutive non-None entries is a run of consecutive StandardTokenizer tokens.
    """
    out = []
    for raw in s.split():
        w = raw.strip(STRIP).lower()
        out.append(w if WORD.match(w) else None)
    return out


def content(w):
    return w is not None and w not in STOP and len(w) >= 3


def quote_value(v):
    if BARE_VALUE.match(v) and v not in ("AND", "OR", "NOT", "TO"):
        return v
    return '"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"'


class Corpus:
    def __init__(self, path, schema):
        self.docs = []  # (title_words, text_words)
        self.doc_typed = []  # per document: {keyword/bool field: [values]}
        self.typed = {name: [] for name in schema}  # name -> list of values (all docs, repeats kept)
        self.schema = schema
        with open(path, encoding="utf-8") as f:
            for line_no, line in enumerate(f, 1):
                if not line.strip():
                    continue
                try:
                    o = json.loads(line)
                except json.JSONDecodeError as e:
                    sys.exit(f"{path}:{line_no}: {e}")
                title = o.get("title") or ""
                text = o.get("text") or ""
                self.docs.append((words_of(title), words_of(text)))
                mine = {}
                self.doc_typed.append(mine)
                for name, spec in schema.items():
                    v = o.get(name)
                    if v is None:
                        continue
                    vals = v if isinstance(v, list) else [v]
                    for x in vals:
                        if x is None or x == "":
                            continue
                        self.typed[name].append(x)
                        if spec["type"] in ("keyword", "bool"):
                            mine.setdefault(name, []).append(str(x).lower() if spec["type"] == "bool" else str(x))
        if not self.docs:
            sys.exit(f"{path}: no documents")
        for name, spec in schema.items():
            if spec["type"] in ("int64", "double"):
                self.typed[name] = sorted(float(x) if spec["type"] == "double" else int(x) for x in self.typed[name])
            elif spec["type"] == "date":
                self.typed[name] = sorted(str(x) for x in self.typed[name])
            elif spec["type"] == "bool":
                self.typed[name] = [str(x).lower() for x in self.typed[name]]
            else:
                self.typed[name] = [str(x) for x in self.typed[name]]
        self.distinct = {n: sorted(set(v)) for n, v in self.typed.items() if schema[n]["type"] in ("keyword", "bool")}


class Gen:
    def __init__(self, corpus, rnd):
        self.c = corpus
        self.r = rnd

    def doc(self):
        return self.c.docs[self.r.randrange(len(self.c.docs))]

    def word(self, where="all"):
        """A content word of a random document (frequent words come up more often)."""
        for _ in range(1000):
            t, x = self.doc()
            ws = t if where == "title" else x if where == "text" else t + x
            ws = [w for w in ws if content(w)]
            if ws:
                return self.r.choice(ws)
        raise SystemExit("corpus has too few words to build queries")

    def words_same_doc(self, n):
        for _ in range(1000):
            t, x = self.doc()
            ws = list(dict.fromkeys(w for w in t + x if content(w)))
            if len(ws) >= n:
                return self.r.sample(ws, n)
        return [self.word() for _ in range(n)]

    def phrase(self, where="all", min_len=2, max_len=4):
        """2-4 consecutive words of one document (with at least two content words)."""
        for _ in range(2000):
            t, x = self.doc()
            ws = t if where == "title" else x if where == "text" else t + [None] + x
            n = self.r.randint(min_len, max_len)
            if len(ws) < n:
                continue
            i = self.r.randrange(len(ws) - n + 1)
            run = ws[i:i + n]
            if any(w is None for w in run):
                continue
            if sum(1 for w in run if content(w)) < 2:
                continue
            return run
        return None

    def prefix(self):
        for _ in range(1000):
            w = self.word()
            if len(w) >= 5:
                return w[: self.r.randint(3, min(5, len(w) - 2))]
        return self.word()[:3]

    # ---- typed

    def fields_of(self, *types):
        return [n for n, s in self.c.schema.items() if s["type"] in types and self.c.typed[n]]

    def keyword_clause(self, name=None):
        names = self.fields_of("keyword", "bool")
        if not names:
            return None
        name = name or self.r.choice(names)
        if self.r.random() < 0.5:
            v = self.r.choice(self.c.typed[name])  # by frequency
        else:
            v = self.r.choice(self.c.distinct[name])  # any value, rare ones too
        return f"{name}:{quote_value(v)}"

    def same_doc(self, n_keywords, with_word=False):
        """n keyword clauses (and a content word) of one document, for AND forms that match."""
        for _ in range(1000):
            i = self.r.randrange(len(self.c.docs))
            pairs = [(k, v) for k, vs in self.c.doc_typed[i].items() for v in vs]
            ws = [w for w in self.c.docs[i][0] + self.c.docs[i][1] if content(w)]
            if len(pairs) < n_keywords or (with_word and not ws):
                continue
            cl = [f"{k}:{quote_value(v)}" for k, v in self.r.sample(pairs, n_keywords)]
            return cl + ([self.r.choice(ws)] if with_word else [])
        return None

    def num(self, name, q):
        vals = self.c.typed[name]
        v = vals[min(len(vals) - 1, int(q * len(vals)))]
        return v

    def fmt_num(self, name, v):
        t = self.c.schema[name]["type"]
        if t == "date":
            return '"' + str(v) + '"' if ":" in str(v) else str(v)
        if t == "double":
            return repr(float(v))
        return str(int(v))

    def range_clause(self, name=None):
        names = self.fields_of("int64", "double", "date")
        if not names:
            return None
        name = name or self.r.choice(names)
        r = self.r
        a, b = sorted((r.random(), r.random()))
        lo, hi = self.fmt_num(name, self.num(name, a)), self.fmt_num(name, self.num(name, b))
        form = r.randrange(8)
        if form == 0:
            return f"{name}:[{lo} TO {hi}]"
        if form == 1:
            return f"{name}:{{{lo} TO {hi}}}"
        if form == 2:
            return f"{name}:[{lo} TO {hi}}}"
        if form == 3:
            return f"{name}:[* TO {hi}]"
        if form == 4:
            return f"{name}:[{lo} TO *]"
        if form == 5:
            op = r.choice([">=", ">", "<=", "<"])
            v = self.fmt_num(name, self.num(name, r.uniform(0.5, 0.99) if ">" in op else r.uniform(0.01, 0.5)))
            return f"{name}:{op}{v}"
        if form == 6:
            return f"{name}:{lo}"  # exact value
        # a round-number range, as a person would type it
        t = self.c.schema[name]["type"]
        if t == "int64":
            hi_v = int(self.num(name, b))
            mag = 10 ** max(0, len(str(abs(hi_v))) - 1)
            return f"{name}:[0 TO {max(1, hi_v // mag) * mag}]"
        return f"{name}:[{lo} TO {hi}]"

    # ---- kinds

    def make(self, kind):
        r = self.r
        if kind == "term":
            return self.word()
        if kind == "terms":
            return " ".join(self.words_same_doc(r.randint(2, 3)))
        if kind == "phrase":
            p = self.phrase()
            return p and '"' + " ".join(p) + '"'
        if kind == "sloppy":
            p = self.phrase(min_len=2, max_len=4)
            if not p:
                return None
            if len(p) >= 3 and r.random() < 0.6:
                del p[r.randrange(1, len(p) - 1)]  # a dropped middle word: needs slop to match
            elif r.random() < 0.3:
                p[0], p[1] = p[1], p[0]  # swapped words: needs slop 2
            return '"' + " ".join(p) + '"~' + str(r.randint(1, 4))
        if kind == "required":
            a, b = self.words_same_doc(2)
            c = self.word()
            form = r.randrange(4)
            if form == 0:
                return f"+{a} +{b} -{c}"
            if form == 1:
                return f"+{a} {b} -{c}"
            if form == 2:
                return f"+{a} +{b}"
            p = self.phrase()
            return f'+{a} -"{" ".join(p)}"' if p else f"+{a} -{c}"
        if kind == "bool":
            a, b, c = self.words_same_doc(3)
            d = self.word()
            forms = [
                f"({a} OR {b}) AND {c}",
                f"{a} AND {b}",
                f"{a} AND NOT {d}",
                f"({a} AND {b}) OR {d}",
                f"{a} OR {b} OR {c}",
                f"({a} OR {d}) AND NOT ({b} AND {c})",
                f"{a} AND ({b} OR {c} OR {d})",
                f"NOT {d} AND {a}",
            ]
            p = self.phrase()
            if p:
                forms.append(f'("{" ".join(p)}" OR {a}) AND {b}')
            return r.choice(forms)
        if kind == "field":
            form = r.randrange(5)
            if form == 0:
                return f"title:{self.word('title')}"
            if form == 1:
                p = self.phrase("text")
                return p and f'text:"{" ".join(p)}"'
            if form == 2:
                p = self.phrase("title")
                return p and f'title:"{" ".join(p)}"'
            if form == 3:
                for _ in range(1000):  # a title word and a text word of the same document
                    t, x = self.doc()
                    tw, xw = [w for w in t if content(w)], [w for w in x if content(w)]
                    if tw and xw:
                        return f"title:{r.choice(tw)} AND text:{r.choice(xw)}"
                return None
            return f"title:{self.word('title')} OR {self.word()}"
        if kind == "prefix":
            form = r.randrange(3)
            if form == 0:
                return self.prefix() + "*"
            if form == 1:
                a, b = self.words_same_doc(2)
                if len(a) >= 5:
                    return f"{a[: r.randint(3, min(5, len(a) - 2))]}* AND {b}"
                return f"{self.prefix()}* AND {b}"
            return f"title:{self.prefix()}*"
        if kind == "boost":
            a, b = self.words_same_doc(2)
            form = r.randrange(3)
            if form == 0:
                return f"{a}^2 {b}"
            if form == 1:
                p = self.phrase()
                return p and f'"{" ".join(p)}"^3 OR {a}'
            return f"({a} OR {b})^0.5 {self.word()}^4"
        if kind == "termrange":
            x = self.word("title")
            lo = x[:2]
            step = r.randint(1, 3)
            if ord(lo[1]) + step <= ord("z"):
                hi = lo[0] + chr(ord(lo[1]) + step)
            else:
                hi = chr(min(ord("z"), ord(lo[0]) + 1)) + "a"
            if hi <= lo:
                return None
            return f"title:[{lo} TO {hi}]" if r.random() < 0.5 else f"title:{{{lo} TO {hi}}}"
        if kind == "negative":
            return f"-{self.word()}" if r.random() < 0.5 else f"NOT {self.word()}"
        if kind == "numrange":
            return self.range_clause()
        if kind == "keyword":
            a = self.keyword_clause()
            if a is None:
                return None
            form = r.randrange(4)
            if form == 0:
                return a
            if form == 1:
                both = self.same_doc(2)
                return both and f"{both[0]} AND {both[1]}"
            if form == 2:
                return f"({a} OR {self.keyword_clause()})"
            return f"{a} -{self.keyword_clause()}"
        if kind == "mixed":
            w = self.word()
            k = self.keyword_clause()
            rg = self.range_clause()
            kw = self.same_doc(1, with_word=True)
            if kw and r.random() < 0.5:
                return f"+{kw[1]} +{kw[0]}" if r.random() < 0.5 else f"{kw[1]} AND {kw[0]} AND {rg}"
            forms = [f"{w} AND {rg}", f"+{w} +{k}", f"{w} {k}", f"+{w} +{rg} -{k}", f"({w} OR {self.word()}) AND {k}",
                     f"{k} AND {rg}"]
            p = self.phrase()
            if p:
                forms.append(f'"{" ".join(p)}" AND {rg}')
            forms = [f for f in forms if "None" not in f]
            return r.choice(forms) if forms else None
        raise ValueError(kind)


def read_schema(path):
    if not path:
        return {}
    with open(path, encoding="utf-8") as f:
        s = json.load(f)
    fields = s.get("fields") if isinstance(s, dict) else None
    if not isinstance(fields, dict):
        sys.exit(f'{path}: expected {{"fields": {{...}}}}')
    out = {}
    for name, spec in fields.items():
        t = spec.get("type")
        if t not in ("keyword", "text", "int64", "double", "date", "bool"):
            sys.exit(f"{path}: field {name}: unknown type {t!r}")
        if name in RESERVED:
            sys.exit(f"{path}: field name {name!r} is reserved")
        out[name] = spec
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--corpus", required=True, help="BEIR corpus.jsonl")
    ap.add_argument("--schema", help="schema JSON: adds numeric ranges and keyword terms")
    ap.add_argument("--out", required=True, help="queries.jsonl to write")
    ap.add_argument("--n", type=int, default=1000, help="number of queries (default 1000)")
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--id-prefix", default="sq")
    a = ap.parse_args()

    schema = read_schema(a.schema)
    corpus = Corpus(a.corpus, schema)
    rnd = random.Random(a.seed)
    gen = Gen(corpus, rnd)
    kinds = list(BASE_KINDS)
    if any(s["type"] in ("keyword", "bool", "int64", "double", "date") for s in schema.values()):
        kinds += SCHEMA_KINDS
    names = [k for k, _ in kinds]
    cum = []
    total = 0
    for _, w in kinds:
        total += w
        cum.append(total)

    seen = set()
    out = []
    attempts = 0
    while len(out) < a.n:
        attempts += 1
        if attempts > a.n * 50:
            sys.exit(f"could only build {len(out)} distinct queries")
        kind = names[bisect.bisect_right(cum, rnd.random() * total)]
        q = gen.make(kind)
        if not q or q in seen:
            continue
        seen.add(q)
        out.append({"_id": f"{a.id_prefix}{len(out) + 1}", "text": q, "kind": kind})
    with open(a.out, "w", encoding="utf-8") as f:
        for o in out:
            f.write(json.dumps(o, ensure_ascii=False) + "\n")
    by = Counter(o["kind"] for o in out)
    print(f"{a.out}: {len(out)} queries: " + ", ".join(f"{k} {by[k]}" for k in names if by[k]), file=sys.stderr)


if __name__ == "__main__":
    main()
