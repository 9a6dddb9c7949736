// Smoke tests of the `hymir` CLI contract on the bundled sample collection:
// exit codes, outputs, malformed input handling.
#include <gtest/gtest.h>
#include <httplib.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <thread>
#include <sstream>
#include <utility>

#include "hymir/beir.h"
#include "hymir/query_language.h"
#include "hymir/ranking/moe_model.h"
#include "hymir/version.h"
#include "tests/testutil/cli_util.h"
#include "tests/testutil/testutil.h"

namespace hymir {
namespace {

using testing::TempDir;

using testing::Ran;
using testing::Shell;
using testing::Slurp;

// Runs `bin/hymir <args>` through the shell, capturing stdout and stderr.
Ran Hymir(const std::string& args) { return Shell(testing::BinDir() + "/hymir " + args); }

std::string Sample(const std::string& file) { return testing::SampleDir() + "/" + file; }

// Three documents with a 3-d vector each in field "img" (a, b, c on the axes).
void WriteImageCorpus(const std::string& path) {
  testing::WriteText(path,
                     "{\"_id\":\"a\",\"title\":\"red apple\",\"text\":\"fruit\",\"vectors\":{\"img\":[1,0,0]}}\n"
                     "{\"_id\":\"b\",\"title\":\"green apple\",\"text\":\"fruit\",\"vectors\":{\"img\":[0,1,0]}}\n"
                     "{\"_id\":\"c\",\"title\":\"red car\",\"text\":\"vehicle\",\"vectors\":{\"img\":[0,0,1]}}\n");
}

size_t CountLines(const std::string& s) { return static_cast<size_t>(std::count(s.begin(), s.end(), '\n')); }

// Runs `bin/hymir <args>` in a child process whose file-size limit
// (RLIMIT_FSIZE, as `ulimit -f`) is `bytes`. Exit code, or minus the signal
// that killed it; stdout and stderr together.
std::pair<int, std::string> HymirUnderFileSizeLimit(const std::string& args, rlim_t bytes) {
  int fds[2];
  if (::pipe(fds) != 0) return {-1000, ""};
  const std::string cmd = testing::BinDir() + "/hymir " + args;
  const pid_t pid = ::fork();
  if (pid == 0) {
    rlimit limit{bytes, bytes};
    ::setrlimit(RLIMIT_FSIZE, &limit);
    ::dup2(fds[1], STDOUT_FILENO);
    ::dup2(fds[1], STDERR_FILENO);
    ::close(fds[0]);
    ::close(fds[1]);
    ::execl("/bin/sh", "sh", "-c", cmd.c_str(), static_cast<char*>(nullptr));
    ::_exit(127);
  }
  ::close(fds[1]);
  std::string out;
  char buf[4096];
  for (ssize_t n; (n = ::read(fds[0], buf, sizeof buf)) > 0;) out.append(buf, static_cast<size_t>(n));
  ::close(fds[0]);
  int status = 0;
  ::waitpid(pid, &status, 0);
  // sh execs the last command itself, so a signal reaches the status as is.
  if (WIFSIGNALED(status)) return {-WTERMSIG(status), out};
  return {WEXITSTATUS(status), out};
}

// Past the file-size limit a write fails with EFBIG and is an error naming
// the file, not a silent death by SIGXFSZ (exit 153); the KG keeps what it
// had and loads once the limit is lifted.
TEST(CliTest, FileSizeLimitIsACleanErrorNamingTheFile) {
  TempDir tmp;
  const std::string idx = tmp.Sub("idx");
  auto [ix_code, ix_out] =
      HymirUnderFileSizeLimit("index --corpus " + Sample("corpus.jsonl") + " --index " + idx, 64 << 10);
  EXPECT_EQ(ix_code, 1) << ix_out;
  EXPECT_NE(ix_out.find("File too large"), std::string::npos) << ix_out;
  EXPECT_NE(ix_out.find(idx + "/"), std::string::npos) << ix_out;

  std::string tsv;
  for (int i = 0; i < 3000; ++i) tsv += "ex:a" + std::to_string(i) + "\tisa\tex:b" + std::to_string(i) + "\n";
  testing::WriteText(tmp.Sub("g.tsv"), tsv);
  const std::string kg = tmp.Sub("kg");
  for (rlim_t limit : {rlim_t{4} << 10, rlim_t{64} << 10}) {
    auto [code, out] = HymirUnderFileSizeLimit("kg load --kg " + kg + " --tsv " + tmp.Sub("g.tsv"), limit);
    EXPECT_EQ(code, 1) << out;
    EXPECT_NE(out.find("File too large"), std::string::npos) << out;
    EXPECT_NE(out.find(kg + "/"), std::string::npos) << out;
  }
  Ran load = Hymir("kg load --kg " + kg + " --tsv " + tmp.Sub("g.tsv"));
  ASSERT_EQ(load.exit_code, 0) << load.err;
  Ran stats = Hymir("kg stats --kg " + kg);
  ASSERT_EQ(stats.exit_code, 0) << stats.err;
  EXPECT_NE(stats.out.find("triples       3000"), std::string::npos) << stats.out;
}

TEST(CliTest, HelpAndUsageErrors) {
  for (const char* cmd : {"", "index ", "search ", "eval "}) {
    Ran r = Hymir(std::string(cmd) + "--help");
    EXPECT_EQ(r.exit_code, 0) << cmd;
    EXPECT_NE(r.out.find("--"), std::string::npos) << cmd;
  }
  Ran unknown = Hymir("index --corpus " + Sample("corpus.jsonl") + " --index /tmp/x --bogus");
  EXPECT_EQ(unknown.exit_code, 2);
  EXPECT_NE(unknown.err.find("bogus"), std::string::npos) << unknown.err;
  Ran missing = Hymir("index --corpus /nonexistent.jsonl --index /tmp/x");
  EXPECT_EQ(missing.exit_code, 2);
  EXPECT_NE(missing.err.find("nonexistent"), std::string::npos) << missing.err;
  Ran no_index = Hymir("search --index /nonexistent_dir --query x");
  EXPECT_EQ(no_index.exit_code, 2);
  Ran no_cmd = Hymir("frobnicate");
  EXPECT_EQ(no_cmd.exit_code, 2);
}

TEST(CliTest, IndexSearchEvalOnTheSample) {
  TempDir tmp;
  const std::string idx = tmp.Sub("idx");
  Ran ix = Hymir("index --corpus " + Sample("corpus.jsonl") + " --index " + idx + " --threads 2");
  ASSERT_EQ(ix.exit_code, 0) << ix.err;
  EXPECT_NE(ix.out.find("indexed 1033 docs"), std::string::npos) << ix.out;
  EXPECT_NE(ix.out.find("docs/s"), std::string::npos);

  Ran one = Hymir("search --index " + idx + " --query 'crystalline lens vertebrates' --k 3");
  ASSERT_EQ(one.exit_code, 0) << one.err;
  EXPECT_EQ(CountLines(one.out), 3u) << one.out;
  EXPECT_NE(one.out.find("   1 "), std::string::npos);
  EXPECT_NE(one.out.find("lens"), std::string::npos);

  const std::string run = tmp.Sub("run.trec");
  Ran many = Hymir("search --index " + idx + " --queries " + Sample("queries.jsonl") + " --qrels " +
                   Sample("qrels/test.tsv") + " --run " + run + " --k 100");
  ASSERT_EQ(many.exit_code, 0) << many.err;
  std::string run_text = Slurp(run);
  EXPECT_LE(CountLines(run_text), 30u * 100u);
  std::set<std::string> qids;
  {
    std::istringstream lines(run_text);
    std::string line;
    while (std::getline(lines, line)) qids.insert(line.substr(0, line.find(' ')));
  }
  EXPECT_EQ(qids.size(), 30u) << "every judged query is in the run";
  std::istringstream first(run_text);
  std::string qid, q0, doc, tag;
  int rank;
  double score;
  first >> qid >> q0 >> doc >> rank >> score >> tag;
  EXPECT_EQ(q0, "Q0");
  EXPECT_EQ(rank, 1);
  EXPECT_EQ(tag, "hymir");

  Ran ev = Hymir("eval --qrels " + Sample("qrels/test.tsv") + " --run " + run);
  ASSERT_EQ(ev.exit_code, 0) << ev.err;
  for (const char* m : {"ndcg_cut_10", "recall_100", "recall_1000", "map", "recip_rank"}) {
    EXPECT_NE(ev.out.find(m), std::string::npos) << m;
  }
  // BM25 on MED is far better than chance (Java Lucene 8.8 gets 0.665).
  auto pos = ev.out.find("ndcg_cut_10");
  double ndcg = std::stod(ev.out.substr(ev.out.find("all", pos) + 3));
  EXPECT_GT(ndcg, 0.6);
  EXPECT_LT(ndcg, 0.75);

  Ran filtered = Hymir("search --index " + idx + " --query lens --filter domain:med");
  EXPECT_EQ(filtered.exit_code, 2) << "the sample has no domain field: unknown filter field";
  EXPECT_NE(filtered.err.find("domain"), std::string::npos);
}

TEST(CliTest, MalformedLineStopsAndKeepsNothingOfTheBatch) {
  TempDir tmp;
  const std::string corpus = tmp.Sub("bad.jsonl");
  testing::WriteText(corpus,
                     "{\"_id\":\"a\",\"title\":\"\",\"text\":\"alpha words\"}\n"
                     "{\"_id\":\"b\",\"title\":\"\",\"text\":\"beta words\"}\n"
                     "{\"_id\":\"c\",\"text\":\"unterminated}\n"
                     "{\"_id\":\"d\",\"title\":\"\",\"text\":\"delta words\"}\n");
  const std::string idx = tmp.Sub("idx");
  // A committed document that must survive the failed run.
  testing::WriteText(tmp.Sub("good.jsonl"), "{\"_id\":\"old\",\"title\":\"\",\"text\":\"committed words\"}\n");
  ASSERT_EQ(Hymir("index --corpus " + tmp.Sub("good.jsonl") + " --index " + idx).exit_code, 0);

  Ran bad = Hymir("index --corpus " + corpus + " --index " + idx);
  EXPECT_EQ(bad.exit_code, 1);
  EXPECT_NE(bad.err.find(corpus + ":3"), std::string::npos) << bad.err;
  Ran words = Hymir("search --index " + idx + " --query words --k 10");
  ASSERT_EQ(words.exit_code, 0);
  EXPECT_EQ(CountLines(words.out), 1u) << words.out;
  EXPECT_NE(words.out.find("old"), std::string::npos);

  Ran skip = Hymir("index --corpus " + corpus + " --index " + idx + " --skip-bad");
  EXPECT_EQ(skip.exit_code, 0) << skip.err;
  EXPECT_NE(skip.err.find(corpus + ":3"), std::string::npos);
  EXPECT_NE(skip.out.find("indexed 3 docs (1 skipped)"), std::string::npos) << skip.out;
  words = Hymir("search --index " + idx + " --query words --k 10");
  EXPECT_EQ(CountLines(words.out), 4u) << words.out;
}

// A hit whose stored text is damaged makes `hymir search` fail naming the
// .fdt file, never print the hit with an empty title. (No manifest, so the
// damage gets past the checks at open to the document's own checksum.)
TEST(CliTest, DamagedStoredTextOfAHitIsAnError) {
  TempDir tmp;
  const std::string idx = tmp.Sub("idx"), corpus = tmp.Sub("c.jsonl");
  std::string text;
  for (int i = 0; i < 200; ++i) text += "word" + std::to_string(i * 7919 % 1000) + " ";
  testing::WriteText(corpus, "{\"_id\":\"a\",\"title\":\"first\",\"text\":\"canine " + text + "\"}\n" +
                                 "{\"_id\":\"b\",\"title\":\"\",\"text\":\"a cat\"}\n");
  ASSERT_EQ(Hymir("index --corpus " + corpus + " --index " + idx).exit_code, 0);
  std::filesystem::remove(idx + "/MANIFEST");
  std::string fdt, fdx;
  for (const auto& e : std::filesystem::directory_iterator(idx + "/text")) {
    const std::string n = e.path().string();
    if (n.size() > 4 && n.compare(n.size() - 4, 4, ".fdt") == 0) fdt = n;
    if (n.size() > 4 && n.compare(n.size() - 4, 4, ".fdx") == 0) fdx = n;
  }
  ASSERT_FALSE(fdt.empty());
  const std::string index = Slurp(fdx);  // 4-byte header, then a big-endian u64 per document
  ASSERT_GE(index.size(), 20u);
  auto pointer = [&](size_t at) {
    uint64_t v = 0;
    for (size_t i = 0; i < 8; ++i) v = v << 8 | static_cast<unsigned char>(index[at + i]);
    return v;
  };
  const uint64_t begin = pointer(4), end = pointer(12);
  ASSERT_LT(begin + 100, end);
  std::string stored = Slurp(fdt);
  stored[(begin + end) / 2 + 20] ^= 0x02;
  testing::WriteText(fdt, stored);
  Ran r = Hymir("search --index " + idx + " --query canine --k 5");
  EXPECT_EQ(r.exit_code, 1) << r.out;
  EXPECT_NE(r.err.find(".fdt"), std::string::npos) << r.err;
  Ran json = Hymir("search --index " + idx + " --query canine --k 5 --json");
  EXPECT_EQ(json.exit_code, 1) << json.out;
}

TEST(CliTest, SecondWriterIsRefused) {
  TempDir tmp;
  const std::string idx = tmp.Sub("idx");
  ASSERT_EQ(Hymir("index --corpus " + Sample("corpus.jsonl") + " --index " + idx).exit_code, 0);
  // The sample many times over (new ids), so that the background run still
  // holds the lock when the second writer starts.
  const std::string big = tmp.Sub("big.jsonl");
  {
    std::ifstream in(Sample("corpus.jsonl"));
    std::vector<nlohmann::json> docs;
    for (std::string line; std::getline(in, line);) {
      if (!line.empty()) docs.push_back(nlohmann::json::parse(line));
    }
    std::ofstream out(big);
    for (int copy = 0; copy < 20; ++copy) {
      for (nlohmann::json d : docs) {
        d["_id"] = d["_id"].get<std::string>() + "-" + std::to_string(copy);
        out << d.dump() << "\n";
      }
    }
  }
  // Hold the lock from a background indexing run, then try a second writer.
  std::string bg = testing::BinDir() + "/hymir index --corpus " + big + " --index " + idx +
                   " >/dev/null 2>&1 & sleep 0.15; " + testing::BinDir() + "/hymir index --corpus " +
                   Sample("corpus.jsonl") + " --index " + idx + " 2>" + tmp.Sub("err") + "; echo $? >" + tmp.Sub("rc") +
                   "; wait";
  ASSERT_EQ(std::system(bg.c_str()), 0);
  const std::string rc = Slurp(tmp.Sub("rc"));
  if (rc.rfind("0", 0) == 0) GTEST_SKIP() << "the first run finished before the second started";
  EXPECT_EQ(rc, "1\n");
  EXPECT_NE(Slurp(tmp.Sub("err")).find("one writer"), std::string::npos);
}

TEST(CliTest, VectorFieldsRawVectorQueriesAndBadVectors) {
  TempDir tmp;
  const std::string corpus = tmp.Sub("v.jsonl");
  WriteImageCorpus(corpus);
  const std::string idx = tmp.Sub("idx");
  Ran ix = Hymir("index --corpus " + corpus + " --index " + idx + " --vector-field img:3:cosine:hnsw16");
  ASSERT_EQ(ix.exit_code, 0) << ix.err;
  testing::WriteText(tmp.Sub("q.vec"), "[0.1, 0.9, 0.0]");
  Ran vec = Hymir("search --index " + idx + " --vector-file " + tmp.Sub("q.vec") + " --k 2 --explain");
  ASSERT_EQ(vec.exit_code, 0) << vec.err;
  EXPECT_NE(vec.out.find(" b "), std::string::npos) << vec.out;
  EXPECT_LT(vec.out.find(" b "), vec.out.find(" a ")) << vec.out;
  Ran hybrid = Hymir("search --index " + idx + " --query red --vector-file " + tmp.Sub("q.vec") + " --explain");
  ASSERT_EQ(hybrid.exit_code, 0) << hybrid.err;
  EXPECT_NE(hybrid.out.find("bm25="), std::string::npos);
  EXPECT_NE(hybrid.out.find("vector="), std::string::npos);
  EXPECT_NE(hybrid.err.find("retriever hybrid"), std::string::npos) << hybrid.err;

  testing::WriteText(tmp.Sub("bad.vec"), "[1, 2]");
  Ran wrong = Hymir("search --index " + idx + " --vector-file " + tmp.Sub("bad.vec"));
  EXPECT_EQ(wrong.exit_code, 2);
  EXPECT_NE(wrong.err.find("expects 3"), std::string::npos) << wrong.err;

  const std::string bad = tmp.Sub("bad.jsonl");
  testing::WriteText(bad,
                     "{\"_id\":\"d\",\"text\":\"ok\",\"vectors\":{\"img\":[1,1,1]}}\n"
                     "{\"_id\":\"e\",\"text\":\"x\",\"vectors\":{\"img\":[1,2]}}\n");
  Ran r = Hymir("index --corpus " + bad + " --index " + idx);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find(bad + ":2"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("\"e\""), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("expects 3 floats, got 2"), std::string::npos) << r.err;
  testing::WriteText(bad, "{\"_id\":\"f\",\"text\":\"x\",\"vectors\":{\"audio\":[1,2,3]}}\n");
  r = Hymir("index --corpus " + bad + " --index " + idx);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("unknown vector field \"audio\""), std::string::npos) << r.err;
  // Nothing of the failed batches was committed: still 3 documents.
  Ran all = Hymir("search --index " + idx + " --retriever vector --vector-file " + tmp.Sub("q.vec") + " --k 10");
  EXPECT_EQ(CountLines(all.out), 3u) << all.out;
}

// Query vectors in the queries file reach vector and hybrid retrieval.
TEST(CliTest, QueryVectorsFromTheQueriesFile) {
  TempDir tmp;
  testing::WriteText(tmp.Sub("corpus.jsonl"),
                     "{\"_id\":\"a\",\"title\":\"\",\"text\":\"red apple\",\"vectors\":{\"img\":[1,0]}}\n"
                     "{\"_id\":\"b\",\"title\":\"\",\"text\":\"green pear\",\"vectors\":{\"img\":[0,1]}}\n"
                     "{\"_id\":\"c\",\"title\":\"\",\"text\":\"yellow plum\",\"vectors\":{\"img\":[0.6,0.8]}}\n");
  testing::WriteText(tmp.Sub("queries.jsonl"),
                     "{\"_id\":\"q1\",\"text\":\"fruit\",\"vectors\":{\"img\":[1,0.1]}}\n"
                     "{\"_id\":\"q2\",\"text\":\"fruit\",\"vectors\":{\"img\":[0.1,1]}}\n");
  const std::string idx = tmp.Sub("idx");
  ASSERT_EQ(Hymir("index --corpus " + tmp.Sub("corpus.jsonl") + " --index " + idx + " --vector-field img:2").exit_code,
            0);
  Ran r = Hymir("search --index " + idx + " --queries " + tmp.Sub("queries.jsonl") + " --run " + tmp.Sub("run") +
                " --retriever vector --k 3");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::map<std::string, std::string> top;
  std::istringstream lines(Slurp(tmp.Sub("run")));
  std::string qid, q0, doc, tag;
  int rank;
  double score;
  while (lines >> qid >> q0 >> doc >> rank >> score >> tag)
    if (rank == 1) top[qid] = doc;
  EXPECT_EQ(top["q1"], "a");
  EXPECT_EQ(top["q2"], "b");
  // Without a vector, a text query on a field with no embedder cannot use it.
  testing::WriteText(tmp.Sub("text.jsonl"), "{\"_id\":\"q1\",\"text\":\"fruit\"}\n");
  Ran none = Hymir("search --index " + idx + " --queries " + tmp.Sub("text.jsonl") + " --run " + tmp.Sub("run2") +
                   " --retriever vector");
  EXPECT_NE(none.exit_code, 0);
}

TEST(CliTest, EmbedHybridAndTune) {
  TempDir tmp;
  const std::string idx = tmp.Sub("idx");
  Ran ix = Hymir("index --corpus " + Sample("corpus.jsonl") + " --index " + idx + " --embed lsa:64");
  ASSERT_EQ(ix.exit_code, 0) << ix.err;
  EXPECT_NE(ix.err.find("training lsa:64"), std::string::npos);
  Ran s = Hymir("search --index " + idx + " --query 'lens proteins' --explain --json --k 3");
  ASSERT_EQ(s.exit_code, 0) << s.err;
  EXPECT_NE(s.out.find("\"stages\""), std::string::npos);
  EXPECT_NE(s.out.find("\"vector\""), std::string::npos);
  // No word the embedder knows: the zero query vector finds nothing, so
  // hybrid answers as BM25 does (before: arbitrary documents at score 0.1).
  for (const char* retriever : {"hybrid", "bm25", "vector"}) {
    Ran unknown = Hymir("search --index " + idx + " --query 'zzqxv wvvqk' --json --k 3 --retriever " + retriever);
    ASSERT_EQ(unknown.exit_code, 0) << retriever << ": " << unknown.err;
    EXPECT_NE(unknown.out.find("\"hits\": []"), std::string::npos) << retriever << ": " << unknown.out;
  }
  // Smoke test of the tuner's mechanics (the sample only has a test split;
  // quality figures are tuned on real train splits).
  Ran t = Hymir("tune --index " + idx + " --queries " + Sample("queries.jsonl") + " --qrels " +
                Sample("qrels/test.tsv") + " --method convex");
  ASSERT_EQ(t.exit_code, 0) << t.err;
  EXPECT_NE(t.out.find("best: convex alpha="), std::string::npos) << t.out;
  EXPECT_TRUE(std::filesystem::exists(idx + "/fusion.json"));
  Ran tuned = Hymir("search --index " + idx + " --query 'lens proteins' --explain");
  EXPECT_NE(tuned.err.find("[tuned default]"), std::string::npos) << tuned.err;
}

// The re-ranking contract: train -> model file -> search --rerank (single
// query with explain, and a TREC run with its routing file) -> eval; bad
// model files and missing inputs are clear errors.
TEST(CliTest, TrainAndRerank) {
  TempDir tmp;
  const std::string idx = tmp.Sub("idx"), model = tmp.Sub("moe.model");
  Ran ix = Hymir("index --corpus " + Sample("corpus.jsonl") + " --index " + idx + " --embed lsa:32");
  ASSERT_EQ(ix.exit_code, 0) << ix.err;
  // Mechanics only (the sample has one split; quality is measured on real train/test splits).
  Ran tr =
      Hymir("train --index " + idx + " --queries " + Sample("queries.jsonl") + " --qrels " + Sample("qrels/test.tsv") +
            " --model " + model + " --experts 4 --top-k 2 --epochs 3 --depth 50 --no-choose");
  ASSERT_EQ(tr.exit_code, 0) << tr.err;
  EXPECT_NE(tr.err.find("epoch   1"), std::string::npos) << tr.err;
  EXPECT_NE(tr.out.find("E=4 S=1 top-2"), std::string::npos) << tr.out;
  EXPECT_NE(tr.out.find("boosted expert"), std::string::npos) << tr.out;  // on when not chosen
  ASSERT_TRUE(std::filesystem::exists(model));

  Ran one = Hymir("search --index " + idx + " --query 'lens proteins' --k 3 --rerank " + model + " --explain");
  ASSERT_EQ(one.exit_code, 0) << one.err;
  EXPECT_NE(one.out.find("rerank="), std::string::npos) << one.out;
  EXPECT_NE(one.out.find("experts: #"), std::string::npos) << one.out;
  EXPECT_NE(one.out.find("features: "), std::string::npos) << one.out;
  EXPECT_NE(one.err.find("gate chose expert"), std::string::npos) << one.err;
  EXPECT_NE(one.out.find(" trees"), std::string::npos) << one.out;  // the boosted expert's score
  Ran js = Hymir("search --index " + idx + " --query 'lens proteins' --k 2 --rerank " + model + " --explain --json");
  ASSERT_EQ(js.exit_code, 0) << js.err;
  EXPECT_NE(js.out.find("\"moe\""), std::string::npos) << js.out;
  EXPECT_NE(js.out.find("\"rerank\""), std::string::npos) << js.out;

  const std::string run = tmp.Sub("moe.trec");
  Ran batch = Hymir("search --index " + idx + " --queries " + Sample("queries.jsonl") + " --qrels " +
                    Sample("qrels/test.tsv") + " --run " + run + " --rerank " + model + " --rerank-depth 50");
  ASSERT_EQ(batch.exit_code, 0) << batch.err;
  EXPECT_EQ(CountLines(Slurp(run + ".routing.tsv")), 30u);  // one routing line per judged query
  Ran ev = Hymir("eval --qrels " + Sample("qrels/test.tsv") + " --run " + run);
  ASSERT_EQ(ev.exit_code, 0) << ev.err;
  EXPECT_NE(ev.out.find("ndcg_cut_10"), std::string::npos);

  // The optional model shapes train, load and explain through the CLI too.
  const std::string shaped = tmp.Sub("shaped.model");
  Ran tr2 = Hymir("train --index " + idx + " --queries " + Sample("queries.jsonl") + " --qrels " +
                  Sample("qrels/test.tsv") + " --model " + shaped +
                  " --experts 3 --top-k 1 --epochs 2 --depth 30 --ple-bins 2 --linear-skip --list-context "
                  "--weighted-load --no-choose"
                  " --ple-bins 4");  // a repeated flag: the last value wins
  ASSERT_EQ(tr2.exit_code, 0) << tr2.err;
  EXPECT_NE(tr2.out.find("E=3 S=1 top-1 hidden 32, PLE 4 bins, linear skip, list context"), std::string::npos)
      << tr2.out;
  Ran no_trees =
      Hymir("train --index " + idx + " --queries " + Sample("queries.jsonl") + " --qrels " + Sample("qrels/test.tsv") +
            " --model " + tmp.Sub("networks.model") + " --epochs 2 --depth 30 --no-trees");
  ASSERT_EQ(no_trees.exit_code, 0) << no_trees.err;
  EXPECT_EQ(no_trees.out.find("boosted expert"), std::string::npos) << no_trees.out;
  Ran ex2 = Hymir("search --index " + idx + " --query 'lens proteins' --k 2 --rerank " + shaped + " --explain");
  ASSERT_EQ(ex2.exit_code, 0) << ex2.err;
  EXPECT_NE(ex2.out.find("features: "), std::string::npos) << ex2.out;
  EXPECT_EQ(Hymir("train --index " + idx + " --queries " + Sample("queries.jsonl") + " --qrels " +
                  Sample("qrels/test.tsv") + " --model " + shaped + " --ple-bins 65")
                .exit_code,
            2);

  // A damaged model: exit 1 naming the file; a missing one: exit 2.
  std::string bytes = Slurp(model);
  bytes[bytes.size() / 2] ^= 0x10;
  std::ofstream(tmp.Sub("bad.model"), std::ios::binary) << bytes;
  Ran bad = Hymir("search --index " + idx + " --query x --rerank " + tmp.Sub("bad.model"));
  EXPECT_EQ(bad.exit_code, 1) << bad.err;
  EXPECT_NE(bad.err.find("bad.model"), std::string::npos) << bad.err;
  EXPECT_NE(bad.err.find("Corruption"), std::string::npos) << bad.err;
  EXPECT_EQ(Hymir("search --index " + idx + " --query x --rerank " + tmp.Sub("absent.model")).exit_code, 2);
  EXPECT_EQ(Hymir("train --index " + idx + " --queries " + Sample("queries.jsonl") + " --qrels " +
                  tmp.Sub("absent.tsv") + " --model " + tmp.Sub("m2"))
                .exit_code,
            2);
  // A model trained on an index with a vector field needs one: a BM25-only index is refused.
  const std::string plain = tmp.Sub("plain");
  ASSERT_EQ(Hymir("index --corpus " + Sample("corpus.jsonl") + " --index " + plain).exit_code, 0);
  Ran mismatch = Hymir("search --index " + plain + " --query x --rerank " + model);
  EXPECT_EQ(mismatch.exit_code, 1);
  EXPECT_NE(mismatch.err.find("features"), std::string::npos) << mismatch.err;
}

// `hymir serve` as a process: it prints its address, answers over HTTP with
// the re-ranker, stops cleanly on SIGTERM, and refuses a taken port.
struct Server {
  pid_t pid = -1;
  int port = 0;
  std::string first_line;
  Server() = default;
  Server(Server&& o) noexcept : pid(std::exchange(o.pid, -1)), port(o.port), first_line(std::move(o.first_line)) {}
  ~Server() {  // a test that failed half-way leaves no server behind
    if (pid > 0) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, nullptr, 0);
    }
  }
};

Server StartServe(const std::string& args, const std::string& err_file) {
  Server s;
  int out[2];
  if (::pipe(out) != 0) return s;
  s.pid = ::fork();
  if (s.pid == 0) {
    ::dup2(out[1], STDOUT_FILENO);
    ::close(out[0]);
    std::string cmd = "exec " + testing::BinDir() + "/hymir serve " + args + " 2>" + err_file;
    ::execl("/bin/sh", "sh", "-c", cmd.c_str(), static_cast<char*>(nullptr));
    ::_exit(127);
  }
  ::close(out[1]);
  char c;
  while (::read(out[0], &c, 1) == 1 && c != '\n') s.first_line += c;
  ::close(out[0]);
  auto at = s.first_line.rfind(':');
  if (at != std::string::npos) s.port = std::atoi(s.first_line.c_str() + at + 1);
  return s;
}

int StopServe(Server& s) {
  ::kill(s.pid, SIGTERM);
  int status = 0;
  ::waitpid(std::exchange(s.pid, -1), &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

// --kg wiring: pretrain makes knowledge pseudo-queries and a model with the
// fusion features and gate inputs, which search needs the KG to serve;
// train --kg does the same with judgements; --kg-uses chooses the uses.
TEST(CliTest, PretrainTrainAndSearchUseTheKg) {
  TempDir tmp;
  const std::string idx = tmp.Sub("idx"), kg = tmp.Sub("kg"), tsv = tmp.Sub("kg.tsv");
  {
    std::ofstream out(tsv);
    out << "GO:0001\thymir:alias\tcataract\n"
        << "GO:0001\thymir:definition\tclouding of the lens of the eye\n"
        << "GO:0002\thymir:alias\tcrystallin\nGO:0002\thymir:alias\tlens protein\n"
        << "GO:0002\tobo:part_of\tGO:0001\n"
        << "wn:n:1\thymir:alias\tinfant\nwn:n:1\thymir:alias\tbaby\n"
        << "GO:0003\thymir:alias\tarachidonic\nGO:0004\thymir:alias\ttriglycerides\n"
        << "GO:0004\thymir:alias\ttriacylglycerol\nwn:n:2\thymir:alias\tadrenaline\n"
        << "wn:n:2\thymir:alias\tepinephrine\n";
  }
  Ran load = Hymir("kg load --kg " + kg + " --tsv " + tsv);
  ASSERT_EQ(load.exit_code, 0) << load.err;
  Ran ix = Hymir("index --corpus " + Sample("corpus.jsonl") + " --index " + idx + " --embed lsa:32 --kg " + kg);
  ASSERT_EQ(ix.exit_code, 0) << ix.err;
  const std::string small = " --experts 2 --top-k 1 --hidden 8 --epochs 2 --depth 30 --seed 3";
  const std::string pre = tmp.Sub("pre.moe");
  Ran pt = Hymir("pretrain --index " + idx + " --model " + pre + " --queries 150 --kg " + kg +
                 " --kg-uses expand,features,gate,pseudo-queries" + small);
  ASSERT_EQ(pt.exit_code, 0) << pt.err;
  const size_t at = pt.err.find(" knowledge pseudo-queries");
  ASSERT_NE(at, std::string::npos) << pt.err;
  const size_t from = pt.err.rfind("pretrain: ", at) + std::strlen("pretrain: ");
  EXPECT_GT(std::atoi(pt.err.c_str() + from), 0) << pt.err;  // arachidonic, triglycerides, adrenaline: rare
  const std::string q = "search --index " + idx + " --query 'crystallin in cataract' --k 3 --rerank " + pre;
  Ran without = Hymir(q);
  EXPECT_NE(without.exit_code, 0);
  EXPECT_NE(without.err.find("--kg"), std::string::npos) << without.err;
  Ran with = Hymir(q + " --kg " + kg);
  ASSERT_EQ(with.exit_code, 0) << with.err;
  // By default, no knowledge pseudo-queries (they lowered the select split).
  Ran nopq = Hymir("pretrain --index " + idx + " --model " + tmp.Sub("nopq.moe") + " --queries 150 --kg " + kg + small);
  ASSERT_EQ(nopq.exit_code, 0) << nopq.err;
  EXPECT_EQ(nopq.err.find("knowledge pseudo-queries"), std::string::npos) << nopq.err;
  // No KG use at all: the model serves without the KG.
  Ran none = Hymir("pretrain --index " + idx + " --model " + tmp.Sub("none.moe") + " --queries 150 --kg " + kg +
                   " --kg-uses none" + small);
  ASSERT_EQ(none.exit_code, 0) << none.err;
  EXPECT_EQ(Hymir("search --index " + idx + " --query 'lens' --k 3 --rerank " + tmp.Sub("none.moe")).exit_code, 0);
  const std::string train = "train --index " + idx + " --queries " + Sample("queries.jsonl") + " --qrels " +
                            Sample("qrels/test.tsv") + " --epochs 2 --depth 30 --no-choose --kg " + kg;
  Ran tr = Hymir(train + " --model " + tmp.Sub("tr.moe"));
  ASSERT_EQ(tr.exit_code, 0) << tr.err;
  EXPECT_NE(Hymir("search --index " + idx + " --query 'lens' --k 3 --rerank " + tmp.Sub("tr.moe")).exit_code, 0);
  EXPECT_EQ(
      Hymir("search --index " + idx + " --query 'lens' --k 3 --kg " + kg + " --rerank " + tmp.Sub("tr.moe")).exit_code,
      0);
  EXPECT_EQ(Hymir(train + " --model " + tmp.Sub("bad.moe") + " --kg-uses expand,bogus").exit_code, 2);
  EXPECT_EQ(Hymir("pretrain --index " + idx + " --model " + tmp.Sub("bad.moe") + " --kg " + kg + " --kg-uses bogus")
                .exit_code,
            2);
}

// hymir pretrain (no judgements), then hymir train --init (fine-tuning),
// then search --rerank with both; bad generator names are usage errors.
TEST(CliTest, PretrainThenFineTune) {
  TempDir tmp;
  const std::string idx = tmp.Sub("idx"), pre = tmp.Sub("pre.moe"), tuned = tmp.Sub("tuned.moe");
  Ran ix = Hymir("index --corpus " + Sample("corpus.jsonl") + " --index " + idx + " --embed lsa:32");
  ASSERT_EQ(ix.exit_code, 0) << ix.err;
  Ran pt = Hymir("pretrain --index " + idx + " --model " + pre +
                 " --queries 150 --experts 2 --top-k 1 --hidden 8 --epochs 3 --depth 30 --seed 3");
  ASSERT_EQ(pt.exit_code, 0) << pt.err;
  EXPECT_NE(pt.err.find("pseudo-queries from 1033 documents"), std::string::npos) << pt.err;
  EXPECT_NE(pt.err.find("sentences taken out"), std::string::npos) << pt.err;
  EXPECT_NE(pt.out.find("held-out ict"), std::string::npos) << pt.out;
  EXPECT_NE(pt.out.find("held-out terms"), std::string::npos) << pt.out;
  EXPECT_EQ(pt.out.find("held-out title"), std::string::npos) << pt.out;  // MED has no titles
  EXPECT_NE(pt.out.find("E=2 S=1 top-1 hidden 8"), std::string::npos) << pt.out;
  Ran one = Hymir("search --index " + idx + " --query 'lens proteins' --k 3 --rerank " + pre);
  ASSERT_EQ(one.exit_code, 0) << one.err;
  // --record puts the model into <index>/pipeline.json; search --recorded
  // opens it (and only then re-ranks).
  const std::string q = "search --index " + idx + " --query 'lens proteins' --k 3 --explain";
  Ran unrecorded = Hymir(q + " --recorded");
  ASSERT_EQ(unrecorded.exit_code, 0) << unrecorded.err;
  EXPECT_EQ(unrecorded.out.find(" rerank="), std::string::npos) << unrecorded.out;
  ASSERT_EQ(Hymir("pretrain --index " + idx + " --model " + pre +
                  " --queries 150 --experts 2 --top-k 1 --hidden 8 --epochs 3 --depth 30 --seed 3 --record")
                .exit_code,
            0);
  Ran recorded = Hymir(q + " --recorded"), explicit_model = Hymir(q + " --rerank " + pre), plain = Hymir(q);
  ASSERT_EQ(recorded.exit_code, 0) << recorded.err;
  EXPECT_NE(recorded.out.find(" rerank="), std::string::npos) << recorded.out;
  EXPECT_EQ(recorded.out, explicit_model.out);
  EXPECT_EQ(plain.out.find(" rerank="), std::string::npos) << plain.out;  // without --recorded: as before
  EXPECT_EQ(Hymir(q + " --recorded --rerank-depth 5").out, Hymir(q + " --rerank " + pre + " --rerank-depth 5").out);
  // Fine-tuning keeps the pre-trained shape, whatever the shape flags say.
  Ran ft =
      Hymir("train --index " + idx + " --queries " + Sample("queries.jsonl") + " --qrels " + Sample("qrels/test.tsv") +
            " --model " + tuned + " --init " + pre + " --experts 5 --epochs 2 --depth 30 --no-choose");
  ASSERT_EQ(ft.exit_code, 0) << ft.err;
  EXPECT_NE(ft.out.find("E=2 S=1 top-1 hidden 8"), std::string::npos) << ft.out;
  // Recording the fine-tuned model replaces the pre-trained one.
  ASSERT_EQ(
      Hymir("train --index " + idx + " --queries " + Sample("queries.jsonl") + " --qrels " + Sample("qrels/test.tsv") +
            " --model " + tuned + " --init " + pre + " --epochs 2 --depth 30 --record --no-choose")
          .exit_code,
      0);
  EXPECT_EQ(Hymir(q + " --recorded").out, Hymir(q + " --rerank " + tuned).out);
  // A damaged or deleted record is an error naming it (the commit manifest
  // records it), never a search without re-ranking; so is a flipped bit.
  const std::string record = Slurp(idx + "/pipeline.json");
  testing::WriteText(idx + "/pipeline.json", "{\"format\": 1, \"rerank_model\": 7}");
  Ran damaged = Hymir(q + " --recorded");
  EXPECT_EQ(damaged.exit_code, 1);
  EXPECT_NE(damaged.err.find("pipeline.json"), std::string::npos) << damaged.err;
  std::filesystem::remove(idx + "/pipeline.json");
  Ran deleted = Hymir(q + " --recorded");
  EXPECT_EQ(deleted.exit_code, 1);
  EXPECT_NE(deleted.err.find("pipeline.json"), std::string::npos) << deleted.err;
  std::string flipped = record;
  const size_t depth = flipped.find("\"rerank_depth\": ");
  ASSERT_NE(depth, std::string::npos) << record;
  flipped[depth + 16] = static_cast<char>(flipped[depth + 16] ^ 0x01);  // a digit of the depth
  testing::WriteText(idx + "/pipeline.json", flipped);
  Ran bit = Hymir(q + " --recorded");
  EXPECT_EQ(bit.exit_code, 1);
  EXPECT_NE(bit.err.find("pipeline.json"), std::string::npos) << bit.err;
  Ran check = Hymir("check --index " + idx);
  EXPECT_EQ(check.exit_code, 1);
  EXPECT_NE(check.err.find("pipeline.json"), std::string::npos) << check.err;
  testing::WriteText(idx + "/pipeline.json", record);
  ASSERT_EQ(Hymir(q + " --recorded").exit_code, 0);
  const std::string run = tmp.Sub("tuned.trec");
  Ran batch = Hymir("search --index " + idx + " --queries " + Sample("queries.jsonl") + " --qrels " +
                    Sample("qrels/test.tsv") + " --run " + run + " --rerank " + tuned + " --rerank-depth 30");
  ASSERT_EQ(batch.exit_code, 0) << batch.err;
  // Per-query trust: the out-of-fold gains come from --trust-folds fine-tunings;
  // search --explain reports the query's trust.
  const std::string trusted = tmp.Sub("trusted.moe");
  Ran tr = Hymir("train --index " + idx + " --queries " + Sample("queries.jsonl") + " --qrels " +
                 Sample("qrels/test.tsv") + " --model " + trusted + " --init " + pre +
                 " --epochs 2 --depth 30 --trust --trust-gain-scale 0.01 --trust-folds 2");
  ASSERT_EQ(tr.exit_code, 0) << tr.err;
  EXPECT_NE(tr.out.find("per-query trust over"), std::string::npos) << tr.out;
  EXPECT_NE(tr.err.find("trust fold 2/2"), std::string::npos) << tr.err;
  Ran ex = Hymir("search --index " + idx + " --query 'lens proteins' --k 3 --explain --rerank " + trusted);
  ASSERT_EQ(ex.exit_code, 0) << ex.err;
  EXPECT_NE(ex.err.find("query trust"), std::string::npos) << ex.err;
  EXPECT_EQ(Hymir("train --index " + idx + " --queries " + Sample("queries.jsonl") + " --qrels " +
                  Sample("qrels/test.tsv") + " --model " + trusted + " --trust")
                .exit_code,
            2);  // --trust needs --init
  // Knowledge fusion: a model from scratch on the index's full features,
  // fused with the pre-trained one at a weight chosen by cross-validation;
  // the fused file re-ranks, and reports its blend weight in --explain.
  const std::string fused = tmp.Sub("fused.moe");
  Ran fu =
      Hymir("train --index " + idx + " --queries " + Sample("queries.jsonl") + " --qrels " + Sample("qrels/test.tsv") +
            " --model " + fused + " --init " + pre + " --epochs 2 --depth 30 --fuse auto --fuse-folds 2");
  ASSERT_EQ(fu.exit_code, 0) << fu.err;
  EXPECT_NE(fu.err.find("fusion fold 2/2"), std::string::npos) << fu.err;
  EXPECT_NE(fu.err.find("fusion weight 0.75: cross-validated nDCG@10"), std::string::npos) << fu.err;
  EXPECT_TRUE(fu.out.find("fused with") != std::string::npos || fu.out.find("alone is kept") != std::string::npos)
      << fu.out;
  ASSERT_EQ(
      Hymir("train --index " + idx + " --queries " + Sample("queries.jsonl") + " --qrels " + Sample("qrels/test.tsv") +
            " --model " + fused + " --init " + pre + " --epochs 2 --depth 30 --fuse 0.5")
          .exit_code,
      0);
  Ran fx = Hymir("search --index " + idx + " --query 'lens proteins' --k 3 --explain --rerank " + fused);
  ASSERT_EQ(fx.exit_code, 0) << fx.err;
  EXPECT_NE(fx.err.find("fusion weight 0.500"), std::string::npos) << fx.err;
  EXPECT_EQ(Hymir("train --index " + idx + " --queries " + Sample("queries.jsonl") + " --qrels " +
                  Sample("qrels/test.tsv") + " --model " + fused + " --fuse 0.5")
                .exit_code,
            2);  // --fuse needs --init
  EXPECT_EQ(Hymir("train --index " + idx + " --queries " + Sample("queries.jsonl") + " --qrels " +
                  Sample("qrels/test.tsv") + " --model " + fused + " --init " + pre + " --fuse 1.5")
                .exit_code,
            2);
  // By default the configuration is chosen by cross-validation: the choice,
  // why, and every candidate's fold figures are printed; the same seed
  // gives the same model; a flag that sets the configuration wins.
  const std::string chosen = tmp.Sub("chosen.moe"), again = tmp.Sub("again.moe");
  const std::string train = "train --index " + idx + " --queries " + Sample("queries.jsonl") + " --qrels " +
                            Sample("qrels/test.tsv") + " --init " + pre + " --epochs 2 --depth 30 --tree-rounds 20";
  Ran ch = Hymir(train + " --model " + chosen + " --seed 5");
  ASSERT_EQ(ch.exit_code, 0) << ch.err;
  EXPECT_NE(ch.out.find("chose: "), std::string::npos) << ch.out;
  EXPECT_NE(ch.out.find("why: "), std::string::npos) << ch.out;
  EXPECT_NE(ch.out.find("the initial model as it is"), std::string::npos) << ch.out;
  EXPECT_NE(ch.out.find("fused at 0.50, with trees"), std::string::npos) << ch.out;
  EXPECT_NE(ch.out.find("nested estimate: "), std::string::npos) << ch.out;
  EXPECT_NE(ch.out.find("serving cost: "), std::string::npos) << ch.out;
  EXPECT_NE(ch.out.find("candidates' scoring cost"), std::string::npos) << ch.out;
  EXPECT_NE(ch.out.find("shortfall"), std::string::npos) << ch.out;
  ASSERT_EQ(Hymir(train + " --model " + again + " --seed 5").exit_code, 0);
  EXPECT_EQ(Slurp(chosen), Slurp(again));
  // The choice and its figures, without the timings around them.
  auto choice = [](const std::string& out) {
    const size_t from = out.find("chose: ");
    return from == std::string::npos ? std::string() : out.substr(from, out.find("serving cost: ") - from);
  };
  EXPECT_EQ(choice(Hymir(train + " --model " + again + " --seed 5").out), choice(ch.out));
  Ran explicit_fuse = Hymir(train + " --model " + again + " --seed 5 --fuse 0.25");
  ASSERT_EQ(explicit_fuse.exit_code, 0) << explicit_fuse.err;
  EXPECT_EQ(explicit_fuse.out.find("chose: "), std::string::npos) << explicit_fuse.out;
  EXPECT_NE(explicit_fuse.out.find("at weight 0.25"), std::string::npos) << explicit_fuse.out;
  Ran explicit_alpha = Hymir(train + " --model " + again + " --seed 5 --finetune-alpha 0.5");
  ASSERT_EQ(explicit_alpha.exit_code, 0) << explicit_alpha.err;
  EXPECT_EQ(explicit_alpha.out.find("chose: "), std::string::npos) << explicit_alpha.out;
  EXPECT_NE(explicit_alpha.out.find("E=2 S=1 top-1 hidden 8"), std::string::npos) << explicit_alpha.out;
  EXPECT_EQ(Hymir("pretrain --index " + idx + " --model " + pre + " --generators ict,bogus").exit_code, 2);
  EXPECT_EQ(Hymir("train --index " + idx + " --queries " + Sample("queries.jsonl") + " --qrels " +
                  Sample("qrels/test.tsv") + " --model " + tuned + " --init " + tmp.Sub("absent.moe"))
                .exit_code,
            2);
}

// hymir-mpi pretrain on 2 and 3 ranks (features split, experts on ranks,
// joint stage data-parallel) gives hymir pretrain's model.
TEST(CliTest, MpiPretrainEqualsHymirPretrain) {
#ifndef HYMIR_MPIEXEC
  GTEST_SKIP() << "built without MPI (HYMIR_WITH_MPI=OFF)";
#else
  TempDir tmp;
  const std::string idx = tmp.Sub("idx");
  ASSERT_EQ(Hymir("index --corpus " + Sample("corpus.jsonl") + " --index " + idx + " --embed lsa:32").exit_code, 0);
  const std::string common =
      " --index " + idx + " --queries 120 --experts 3 --top-k 1 --hidden 8 --epochs 3 --patience 100 --depth 30";
  Ran one = Hymir("pretrain" + common + " --model " + tmp.Sub("one.moe"));
  ASSERT_EQ(one.exit_code, 0) << one.err;
  EXPECT_NE(one.out.find("per-cluster expert pre-training"), std::string::npos) << one.out;
  ASSERT_OK_AND_ASSIGN(auto alone, ranking::MoeModel::Load(tmp.Sub("one.moe")));
  for (int ranks : {2, 3}) {
    const std::string out = tmp.Sub("ranks" + std::to_string(ranks) + ".moe");
    Ran many =
        Shell(std::string(HYMIR_MPIEXEC) +
              " --allow-run-as-root --oversubscribe --mca btl_vader_single_copy_mechanism none -np " +
              std::to_string(ranks) + " " + testing::BinDir() + "/hymir-mpi pretrain" + common + " --model " + out);
    ASSERT_EQ(many.exit_code, 0) << many.err;
    EXPECT_NE(many.out.find(std::to_string(ranks) + " ranks"), std::string::npos) << many.out;
    ASSERT_OK_AND_ASSIGN(auto together, ranking::MoeModel::Load(out));
    ASSERT_EQ(together.parameters().size(), alone.parameters().size());
    double worst = 0;
    for (size_t i = 0; i < alone.parameters().size(); ++i)
      worst = std::max(worst, std::abs(together.parameters()[i] - alone.parameters()[i]));
    EXPECT_LT(worst, 1e-6) << ranks << " ranks";
    EXPECT_EQ(together.prior_weight(), alone.prior_weight());
    EXPECT_EQ(together.schema(), alone.schema());
  }
#endif
}

// A running `hymir serve` (with the re-ranker) sees a document committed by
// `hymir index` without a restart, within its reload interval.
TEST(CliTest, ServeSeesNewCommitsWithoutARestart) {
  TempDir tmp;
  const std::string idx = tmp.Sub("idx"), model = tmp.Sub("moe.model"), extra = tmp.Sub("extra.jsonl");
  ASSERT_EQ(Hymir("index --corpus " + Sample("corpus.jsonl") + " --index " + idx + " --embed lsa:32").exit_code, 0);
  ASSERT_EQ(Hymir("train --index " + idx + " --queries " + Sample("queries.jsonl") + " --qrels " +
                  Sample("qrels/test.tsv") + " --model " + model + " --experts 2 --epochs 1 --depth 20")
                .exit_code,
            0);
  Server s =
      StartServe("--index " + idx + " --rerank " + model + " --port 0 --reload-interval 50", tmp.Sub("serve.err"));
  ASSERT_GT(s.port, 0) << s.first_line << Slurp(tmp.Sub("serve.err"));
  httplib::Client client("127.0.0.1", s.port);
  auto count = [&]() -> int {
    auto res = client.Get("/api/search?q=zyzzogeton&k=5&retriever=bm25");
    if (!res || res->status != 200) return -1;
    return static_cast<int>(nlohmann::json::parse(res->body)["hits"].size());
  };
  EXPECT_EQ(count(), 0);
  {
    std::ofstream out(extra);
    out << R"({"_id": "new1", "title": "Zyzzogeton", "text": "a genus of leafhoppers"})"
        << "\n";
  }
  ASSERT_EQ(Hymir("index --corpus " + extra + " --index " + idx).exit_code, 0);
  int seen = 0;
  for (int i = 0; i < 400 && seen != 1; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(25));
    seen = count();
  }
  EXPECT_EQ(seen, 1) << Slurp(tmp.Sub("serve.err"));
  auto info = client.Get("/api/info");
  ASSERT_TRUE(info);
  EXPECT_EQ(nlohmann::json::parse(info->body)["documents"], 1034);
  EXPECT_EQ(StopServe(s), 0);
  EXPECT_NE(Slurp(tmp.Sub("serve.err")).find("now serving commit"), std::string::npos);
}

TEST(CliTest, ServeAnswersAndStopsOnSigterm) {
  TempDir tmp;
  const std::string idx = tmp.Sub("idx"), model = tmp.Sub("moe.model");
  ASSERT_EQ(Hymir("index --corpus " + Sample("corpus.jsonl") + " --index " + idx + " --embed lsa:32").exit_code, 0);
  ASSERT_EQ(Hymir("train --index " + idx + " --queries " + Sample("queries.jsonl") + " --qrels " +
                  Sample("qrels/test.tsv") + " --model " + model + " --experts 4 --epochs 2 --depth 30")
                .exit_code,
            0);
  Server s = StartServe("--index " + idx + " --rerank " + model + " --port 0", tmp.Sub("serve.err"));
  ASSERT_GT(s.pid, 0);
  ASSERT_GT(s.port, 0) << s.first_line << Slurp(tmp.Sub("serve.err"));
  EXPECT_NE(s.first_line.find("1033 documents, MoE re-ranking"), std::string::npos) << s.first_line;
  {
    httplib::Client client("127.0.0.1", s.port);
    auto res = client.Get("/api/search?q=lens%20proteins&k=3");
    ASSERT_TRUE(res);
    EXPECT_EQ(res->status, 200) << res->body;
    auto body = nlohmann::json::parse(res->body);
    EXPECT_EQ(body["reranked"], true);
    EXPECT_EQ(body["retriever"], "hybrid");
    EXPECT_EQ(body["hits"].size(), 3u);
    auto page = client.Get("/");
    ASSERT_TRUE(page);
    EXPECT_NE(page->body.find("<form"), std::string::npos);
  }
  // The same port again: refused, naming it.
  // (Under `timeout`: a server that wrongly shares the port would never return.)
  Ran taken =
      Shell("timeout 30 " + testing::BinDir() + "/hymir serve --index " + idx + " --port " + std::to_string(s.port));
  EXPECT_EQ(taken.exit_code, 1);
  EXPECT_NE(taken.err.find(std::to_string(s.port)), std::string::npos) << taken.err;

  EXPECT_EQ(StopServe(s), 0);
  const std::string log = Slurp(tmp.Sub("serve.err"));
  EXPECT_NE(log.find("GET /api/search?q=lens%20proteins&k=3 200"), std::string::npos) << log;
  EXPECT_NE(log.find("hymir serve: stopped"), std::string::npos) << log;

  // Bad inputs fail before listening.
  EXPECT_EQ(Hymir("serve --index " + tmp.Sub("absent")).exit_code, 2);
  std::string bytes = Slurp(model);
  bytes[bytes.size() / 2] ^= 0x10;
  std::ofstream(tmp.Sub("bad.model"), std::ios::binary) << bytes;
  Ran bad = Hymir("serve --index " + idx + " --port 0 --rerank " + tmp.Sub("bad.model"));
  EXPECT_EQ(bad.exit_code, 1);
  EXPECT_NE(bad.err.find("bad.model"), std::string::npos) << bad.err;
}

// hymir-mpi under mpirun: a 2-shard index of the sample (with one LSA model
// for both shards) answers the judged queries as one index does, BM25 and
// hybrid, scores included.
TEST(CliTest, MpiShardedIndexAndSearchEqualOneIndex) {
#ifndef HYMIR_MPIEXEC
  GTEST_SKIP() << "built without MPI (HYMIR_WITH_MPI=OFF)";
#else
  TempDir tmp;
  const std::string mpirun =
      std::string(HYMIR_MPIEXEC) + " --allow-run-as-root --oversubscribe --mca btl_vader_single_copy_mechanism none";
  const std::string mpi = mpirun + " -np 2 " + testing::BinDir() + "/hymir-mpi ";
  Ran ix =
      Shell(mpi + "index --corpus " + Sample("corpus.jsonl") + " --index " + tmp.Sub("sharded") + " --embed lsa:32");
  ASSERT_EQ(ix.exit_code, 0) << ix.err;
  EXPECT_NE(ix.out.find("indexed 1033 docs into 2 shards"), std::string::npos) << ix.out;
  EXPECT_NE(ix.out.find("live documents 1033"), std::string::npos) << ix.out;
  ASSERT_EQ(
      Hymir("index --corpus " + Sample("corpus.jsonl") + " --index " + tmp.Sub("single") + " --embed lsa:32").exit_code,
      0);
  // (qid, doc) -> score of a run.
  auto scores = [](const std::string& text) {
    std::map<std::pair<std::string, std::string>, double> m;
    std::istringstream lines(text);
    std::string qid, q0, doc, tag;
    int rank;
    double score;
    while (lines >> qid >> q0 >> doc >> rank >> score >> tag) m[{qid, doc}] = score;
    return m;
  };
  // `args` + " --run F" with hymir-mpi on the shards and with hymir search on
  // the single index: the (query, document) pairs whose scores differ by
  // more than `tolerance` or that one run lacks, and the sharded run's scores.
  auto compare = [&](const std::string& args, double tolerance,
                     std::map<std::pair<std::string, std::string>, double>* sharded_scores = nullptr) {
    const std::string common = " --queries " + Sample("queries.jsonl") + " --qrels " + Sample("qrels/test.tsv") +
                               " --k 50 " + args + " --run ";
    Ran sr = Shell(mpi + "search --index " + tmp.Sub("sharded") + common + tmp.Sub("mpi.trec"));
    EXPECT_EQ(sr.exit_code, 0) << args << ": " << sr.err;
    EXPECT_EQ(Hymir("search --index " + tmp.Sub("single") + common + tmp.Sub("single.trec")).exit_code, 0) << args;
    const auto sharded = scores(Slurp(tmp.Sub("mpi.trec"))), single = scores(Slurp(tmp.Sub("single.trec")));
    EXPECT_GT(single.size(), 30u * 40u) << args;
    size_t differ = sharded.size() == single.size() ? 0 : 1;
    for (const auto& [key, score] : single) {
      auto it = sharded.find(key);
      if (it == sharded.end() || std::abs(it->second - score) > tolerance) ++differ;
    }
    if (sharded_scores) *sharded_scores = sharded;
    return differ;
  };
  // BM25 with global statistics: the single index's scores; hybrid (the
  // default, with the shared LSA model): the same up to the embedder's
  // floating-point rounding.
  std::map<std::pair<std::string, std::string>, double> hybrid, reranked, expanded, plain;
  EXPECT_EQ(compare("--retriever bm25", 1e-9, &plain), 0u);
  EXPECT_EQ(compare("--retriever hybrid", 1e-5, &hybrid), 0u);

  // MoE re-ranking on rank 0 with the shards' documents and summed
  // statistics: one index's re-ranked scores (to the LSA model's rounding).
  ASSERT_EQ(Hymir("train --index " + tmp.Sub("single") + " --queries " + Sample("queries.jsonl") + " --qrels " +
                  Sample("qrels/test.tsv") + " --model " + tmp.Sub("moe.model") + " --experts 4 --epochs 3 --depth 50")
                .exit_code,
            0);
  EXPECT_EQ(compare("--rerank-depth 50 --rerank " + tmp.Sub("moe.model"), 1e-4, &reranked), 0u);
  EXPECT_NE(reranked, hybrid) << "re-ranking changed no score";

  // KG expansion (rank 0 expands, every rank searches the expanded queries):
  // the single index's BM25 scores with the same KG, and not the unexpanded ones.
  testing::WriteText(tmp.Sub("kg.tsv"),
                     "ex:heart\thymir:alias\theart\nex:heart\thymir:alias\tcardiac\n"
                     "ex:lens\thymir:alias\tlens\nex:lens\thymir:alias\tcrystalline\n"
                     "ex:cancer\thymir:alias\tcancer\nex:cancer\thymir:alias\tneoplasm\n");
  ASSERT_EQ(Hymir("kg load --kg " + tmp.Sub("kg") + " --tsv " + tmp.Sub("kg.tsv")).exit_code, 0);
  EXPECT_EQ(compare("--retriever bm25 --kg " + tmp.Sub("kg"), 1e-9, &expanded), 0u);
  EXPECT_NE(expanded, plain) << "the KG added no term to any judged query";

  // Bad input: the same error, from rank 0 only, and the same exit code.
  Ran wrong = Shell(mpi + "search --index " + tmp.Sub("single") + " --query lens");
  EXPECT_EQ(wrong.exit_code, 2) << wrong.err;
  EXPECT_NE(wrong.err.find("not a sharded index"), std::string::npos) << wrong.err;
  Ran three = Shell(mpirun + " -np 3 " + testing::BinDir() + "/hymir-mpi search --index " + tmp.Sub("sharded") +
                    " --query lens");
  EXPECT_EQ(three.exit_code, 1) << three.err;
  EXPECT_NE(three.err.find("run it with 2 ranks"), std::string::npos) << three.err;
#endif
}

// hymir-mpi train: data-parallel training on 2 ranks gives hymir train's
// model (the re-ranked runs agree to 1e-6).
TEST(CliTest, MpiTrainEqualsHymirTrain) {
#ifndef HYMIR_MPIEXEC
  GTEST_SKIP() << "built without MPI (HYMIR_WITH_MPI=OFF)";
#else
  TempDir tmp;
  const std::string idx = tmp.Sub("idx");
  ASSERT_EQ(Hymir("index --corpus " + Sample("corpus.jsonl") + " --index " + idx + " --embed lsa:32").exit_code, 0);
  const std::string common = " --index " + idx + " --queries " + Sample("queries.jsonl") + " --qrels " +
                             Sample("qrels/test.tsv") + " --experts 4 --epochs 4 --patience 100 --depth 50";
  Ran one = Hymir("train" + common + " --model " + tmp.Sub("one.model"));
  ASSERT_EQ(one.exit_code, 0) << one.err;
  Ran two = Shell(std::string(HYMIR_MPIEXEC) +
                  " --allow-run-as-root --oversubscribe --mca btl_vader_single_copy_mechanism none -np 2 " +
                  testing::BinDir() + "/hymir-mpi train" + common + " --model " + tmp.Sub("two.model"));
  ASSERT_EQ(two.exit_code, 0) << two.err;
  EXPECT_NE(two.out.find("2 ranks"), std::string::npos) << two.out;
  EXPECT_NE(two.err.find("epoch   4"), std::string::npos) << two.err;
  std::map<std::string, std::vector<std::pair<std::string, double>>> runs[2];
  const char* names[2] = {"one", "two"};
  for (int m = 0; m < 2; ++m) {
    const std::string run = tmp.Sub(std::string(names[m]) + ".trec");
    Ran r = Hymir("search --index " + idx + " --queries " + Sample("queries.jsonl") + " --qrels " +
                  Sample("qrels/test.tsv") + " --run " + run + " --k 50 --rerank-depth 50 --rerank " +
                  tmp.Sub(std::string(names[m]) + ".model"));
    ASSERT_EQ(r.exit_code, 0) << r.err;
    std::istringstream lines(Slurp(run));
    std::string qid, q0, doc, tag;
    int rank;
    double score;
    while (lines >> qid >> q0 >> doc >> rank >> score >> tag) runs[m][qid].push_back({doc, score});
  }
  ASSERT_EQ(runs[0].size(), 30u);
  ASSERT_EQ(runs[1].size(), runs[0].size());
  for (const auto& [qid, hits] : runs[0]) {
    const auto& other = runs[1][qid];
    ASSERT_EQ(other.size(), hits.size()) << qid;
    for (size_t i = 0; i < hits.size(); ++i) {
      EXPECT_NEAR(other[i].second, hits[i].second, 1e-6) << qid << " " << i;
      // Documents agree wherever the score is not tied with a neighbour's.
      const bool apart_below = i + 1 == hits.size() || hits[i].second - hits[i + 1].second > 1e-6;
      const bool apart_above = i == 0 || hits[i - 1].second - hits[i].second > 1e-6;
      if (apart_below && apart_above) {
        EXPECT_EQ(other[i].first, hits[i].first) << qid << " " << i;
      }
    }
  }
#endif
}

// --per-domain and --routing-plot on a hand-made run: 5 judged queries, 4 of
// them with a domain (bio: q1, q2; fin: q3, q4).
TEST(CliTest, EvalPerDomainAndRoutingPlot) {
  TempDir tmp;
  const std::string qrels = tmp.Sub("qrels.trec"), run = tmp.Sub("run.trec"), queries = tmp.Sub("queries.jsonl");
  std::ofstream(qrels) << "q1 0 d1 1\nq2 0 d3 1\nq3 0 d5 2\nq4 0 d7 1\nq5 0 d9 1\n";
  // ndcg_cut_10 / recall_100: q1 1/1, q2 1/log2(3)=0.6309/1, q3 1/1, q4 0/0, q5 1/1.
  std::ofstream(run) << "q1 Q0 d1 1 3 t\nq1 Q0 d2 2 2 t\nq2 Q0 d4 1 3 t\nq2 Q0 d3 2 2 t\n"
                        "q3 Q0 d5 1 3 t\nq4 Q0 d8 1 3 t\nq5 Q0 d9 1 3 t\n";
  std::ofstream(queries) << R"({"_id": "q1", "text": "a", "domain": "bio"})"
                            "\n"
                         << R"({"_id": "q2", "text": "b", "domain": "bio"})"
                            "\n"
                         << R"({"_id": "q3", "text": "c", "domain": "fin"})"
                            "\n"
                         << R"({"_id": "q4", "text": "d", "domain": "fin"})"
                            "\n"
                         << R"({"_id": "q5", "text": "e"})"
                            "\n";
  const std::string base = "eval --qrels " + qrels + " --run " + run;
  auto line = [](const std::string& measure, const std::string& what, const std::string& value) {
    std::string m = measure;
    m.resize(22, ' ');
    return m + "\t" + what + "\t" + value + "\n";
  };

  Ran plain = Hymir(base);
  ASSERT_EQ(plain.exit_code, 0) << plain.err;
  Ran pd = Hymir(base + " --per-domain --queries " + queries);
  ASSERT_EQ(pd.exit_code, 0) << pd.err;
  EXPECT_EQ(pd.out.rfind(plain.out, 0), 0u) << "the usual lines come first, unchanged\n" << pd.out;
  EXPECT_EQ(pd.out.substr(plain.out.size()),
            line("ndcg_cut_10", "domain:bio", "0.8155") + line("ndcg_cut_10", "domain:fin", "0.5000") +
                line("ndcg_cut_10", "macro", "0.6577") + line("recall_100", "domain:bio", "1.0000") +
                line("recall_100", "domain:fin", "0.5000") + line("recall_100", "macro", "0.7500"));
  EXPECT_NE(pd.err.find("1 judged queries have no domain"), std::string::npos) << pd.err;

  // Routing, top-1: bio -> 0, 0; fin -> 2, 1; q5 has no domain.
  std::ofstream(run + ".routing.tsv") << "q1\t0,2\t0.7,0.3\nq2\t0,1\t0.6,0.4\nq3\t2,0\t0.8,0.2\n"
                                         "q4\t1,2\t0.5,0.5\nq5\t1\t1\n";
  const std::string svg = tmp.Sub("routing.svg");
  Ran rp = Hymir(base + " --queries " + queries + " --routing-plot " + svg);
  ASSERT_EQ(rp.exit_code, 0) << rp.err;
  EXPECT_EQ(rp.out.rfind(plain.out, 0), 0u) << rp.out;
  const std::string table = rp.out.substr(plain.out.size());
  EXPECT_NE(table.find("domain  queries     e0     e1     e2\n"
                       "bio           2  100.0    0.0    0.0\n"
                       "fin           2    0.0   50.0   50.0\n"
                       "all           4   50.0   25.0   25.0\n"),
            std::string::npos)
      << table;
  EXPECT_NE(table.find("I(domain; top-1 expert) = 1.0000 bits"), std::string::npos) << table;
  const std::string plot = Slurp(svg);
  size_t rects = 0;
  for (size_t p = plot.find("<rect"); p != std::string::npos; p = plot.find("<rect", p + 1)) ++rects;
  EXPECT_EQ(rects, 2u * 3u) << plot;
  EXPECT_NE(plot.find(">bio</text>"), std::string::npos);
  EXPECT_NE(plot.find(">fin</text>"), std::string::npos);
  EXPECT_NE(plot.find("</svg>"), std::string::npos);

  // Both together, and an explicit --routing file.
  std::filesystem::copy_file(run + ".routing.tsv", tmp.Sub("other.tsv"));
  Ran both = Hymir(base + " --per-domain --queries " + queries + " --routing-plot " + svg + " --routing " +
                   tmp.Sub("other.tsv"));
  ASSERT_EQ(both.exit_code, 0) << both.err;
  EXPECT_NE(both.out.find("\tmacro\t0.6577\n"), std::string::npos) << both.out;
  EXPECT_NE(both.out.find("normalized 1.0000"), std::string::npos) << both.out;

  // Usage errors: no --queries, no routing file.
  Ran no_queries = Hymir(base + " --routing-plot " + svg);
  EXPECT_EQ(no_queries.exit_code, 2);
  EXPECT_NE(no_queries.err.find("--queries"), std::string::npos) << no_queries.err;
  Ran no_queries_pd = Hymir(base + " --per-domain");
  EXPECT_EQ(no_queries_pd.exit_code, 2);
  EXPECT_NE(no_queries_pd.err.find("--queries"), std::string::npos) << no_queries_pd.err;
  Ran absent = Hymir(base + " --queries " + queries + " --routing-plot " + svg + " --routing " + tmp.Sub("nope.tsv"));
  EXPECT_EQ(absent.exit_code, 2);
  EXPECT_NE(absent.err.find(tmp.Sub("nope.tsv")), std::string::npos) << absent.err;
  std::filesystem::remove(run + ".routing.tsv");
  Ran absent_default = Hymir(base + " --queries " + queries + " --routing-plot " + svg);
  EXPECT_EQ(absent_default.exit_code, 2);
  EXPECT_NE(absent_default.err.find(run + ".routing.tsv"), std::string::npos) << absent_default.err;

  // A malformed routing line is bad data: exit 1, naming path:line.
  std::ofstream(tmp.Sub("bad.tsv")) << "q1\t0\t1\nq2\t0\n";
  Ran bad = Hymir(base + " --queries " + queries + " --routing-plot " + svg + " --routing " + tmp.Sub("bad.tsv"));
  EXPECT_EQ(bad.exit_code, 1);
  EXPECT_NE(bad.err.find(tmp.Sub("bad.tsv") + ":2:"), std::string::npos) << bad.err;
}

// `hymir index` reports each commit; hymir check verifies every byte
// and names a damaged file (exit 1); per-query vector dimensions; over-long
// ids refused naming file:line; empty and stop-word-only queries give no hits.
TEST(CliTest, CommitsCheckAndBadInput) {
  TempDir tmp;
  const std::string corpus = tmp.Sub("v.jsonl");
  WriteImageCorpus(corpus);
  const std::string idx = tmp.Sub("idx");
  Ran ix = Hymir("index --corpus " + corpus + " --index " + idx + " --vector-field img:3 --commit-every 2");
  ASSERT_EQ(ix.exit_code, 0) << ix.err;
  EXPECT_NE(ix.err.find("committed 2 documents"), std::string::npos) << ix.err;
  EXPECT_NE(ix.err.find("committed 3 documents"), std::string::npos) << ix.err;

  Ran ok = Hymir("check --index " + idx);
  ASSERT_EQ(ok.exit_code, 0) << ok.err;
  EXPECT_NE(ok.out.find("is intact"), std::string::npos) << ok.out;
  EXPECT_NE(ok.out.find("2 of 2 segment caches equal to their segments"), std::string::npos)
      << ok.out;  // --commit-every 2

  // An index in the older format 1 on request; it keeps it, and answers the same.
  const std::string old_idx = tmp.Sub("idx1");
  Ran ix1 = Hymir("index --corpus " + corpus + " --index " + old_idx + " --vector-field img:3 --format-version 1");
  ASSERT_EQ(ix1.exit_code, 0) << ix1.err;
  auto slurp = [](const std::string& path) {
    std::ifstream in(path);
    return std::string(std::istreambuf_iterator<char>(in), {});
  };
  EXPECT_NE(slurp(old_idx + "/hymir.json").find("\"format_version\": 1"), std::string::npos);
  EXPECT_NE(slurp(idx + "/hymir.json").find("\"format_version\": 3"), std::string::npos);
  Ran q1 = Hymir("search --index " + old_idx + " --query red --retriever bm25");
  Ran q2 = Hymir("search --index " + idx + " --query red --retriever bm25");
  ASSERT_EQ(q1.exit_code, 0) << q1.err;
  EXPECT_EQ(q1.out, q2.out);
  Ran bad_format = Hymir("index --corpus " + corpus + " --index " + old_idx + " --format-version 2");
  EXPECT_NE(bad_format.exit_code, 0) << bad_format.err;
  EXPECT_NE(bad_format.err.find("format_version 1"), std::string::npos) << bad_format.err;

  // Query vectors: 6 floats on a 3-d field; a queries file with a 2- and a 4-float vector.
  testing::WriteText(tmp.Sub("q.vec"), "[1, 0, 0, 0, 1, 0]");
  Ran twice = Hymir("search --index " + idx + " --vector-file " + tmp.Sub("q.vec"));
  EXPECT_EQ(twice.exit_code, 2) << twice.out;
  EXPECT_NE(twice.err.find("expects 3 floats, got 6"), std::string::npos) << twice.err;
  testing::WriteText(tmp.Sub("q.jsonl"),
                     "{\"_id\":\"q1\",\"text\":\"x\",\"vectors\":{\"img\":[1,0]}}\n"
                     "{\"_id\":\"q2\",\"text\":\"y\",\"vectors\":{\"img\":[1,0,0,0]}}\n");
  Ran mixed = Hymir("search --index " + idx + " --queries " + tmp.Sub("q.jsonl") + " --run " + tmp.Sub("run") +
                    " --retriever vector");
  EXPECT_NE(mixed.exit_code, 0);
  EXPECT_NE(mixed.err.find("query \"q1\": vector field \"img\" expects 3 floats, got 2"), std::string::npos)
      << mixed.err;

  // An id over the limit: refused naming file:line, nothing indexed.
  testing::WriteText(tmp.Sub("long.jsonl"), "{\"_id\":\"" + std::string(20000, 'x') + "\",\"text\":\"t\"}\n");
  Ran longid = Hymir("index --corpus " + tmp.Sub("long.jsonl") + " --index " + idx);
  EXPECT_EQ(longid.exit_code, 1);
  EXPECT_NE(longid.err.find(tmp.Sub("long.jsonl") + ":1: \"_id\" is 20000 bytes"), std::string::npos) << longid.err;

  // Damage: a flipped byte in the stored fields is exit 1 naming the file.
  std::string fdt;
  for (const auto& e : std::filesystem::directory_iterator(idx + "/text")) {
    if (e.path().extension() == ".fdt") fdt = e.path().string();
  }
  ASSERT_FALSE(fdt.empty());
  std::string bytes = Slurp(fdt);
  bytes[bytes.size() / 2] ^= 0x20;
  std::ofstream(fdt, std::ios::binary | std::ios::trunc) << bytes;
  Ran bad = Hymir("check --index " + idx);
  EXPECT_EQ(bad.exit_code, 1);
  EXPECT_NE(bad.err.find(std::filesystem::path(fdt).filename().string()), std::string::npos) << bad.err;
  Ran search = Hymir("search --index " + idx + " --query apple");
  EXPECT_EQ(search.exit_code, 1);
  EXPECT_NE(search.err.find(std::filesystem::path(fdt).filename().string()), std::string::npos) << search.err;

  // Empty and stop-word-only queries on an index with an embedder: no hits.
  const std::string lsa = tmp.Sub("lsa");
  ASSERT_EQ(Hymir("index --corpus " + Sample("corpus.jsonl") + " --index " + lsa + " --embed lsa:16").exit_code, 0);
  Ran none = Hymir("search --index " + lsa + " --json --query 'the of and'");
  ASSERT_EQ(none.exit_code, 0) << none.err;
  EXPECT_EQ(nlohmann::json::parse(none.out)["hits"].size(), 0u) << none.out;
  testing::WriteText(tmp.Sub("empty.jsonl"),
                     "{\"_id\":\"e\",\"text\":\"\"}\n{\"_id\":\"s\",\"text\":\"to be or not\"}\n");
  Ran empty = Hymir("search --index " + lsa + " --queries " + tmp.Sub("empty.jsonl") + " --run " + tmp.Sub("erun"));
  ASSERT_EQ(empty.exit_code, 0) << empty.err;
  EXPECT_EQ(Slurp(tmp.Sub("erun")), "");
}

// The query language through the CLI: --syntax lucene with --query and
// --queries, "total" in --json output (plain queries too), --counts, and a
// syntax error failing with exit 1 and the column.
TEST(CliTest, SearchWithTheQueryLanguage) {
  TempDir tmp;
  const std::string idx = tmp.Sub("idx");
  ASSERT_EQ(Hymir("index --corpus " + Sample("corpus.jsonl") + " --index " + idx).exit_code, 0);

  Ran phrase = Hymir("search --index " + idx + " --syntax lucene --query '\"crystalline lens\" -human' --json --k 3");
  ASSERT_EQ(phrase.exit_code, 0) << phrase.err;
  const auto pj = nlohmann::json::parse(phrase.out);
  EXPECT_EQ(pj["syntax"], "lucene");
  ASSERT_TRUE(pj.contains("total")) << phrase.out;
  EXPECT_GE(pj["total"].get<uint64_t>(), pj["hits"].size());
  EXPECT_LE(pj["hits"].size(), 3u);

  Ran plain = Hymir("search --index " + idx + " --query 'lens proteins' --json --k 2");
  ASSERT_EQ(plain.exit_code, 0) << plain.err;
  const auto plj = nlohmann::json::parse(plain.out);
  EXPECT_GT(plj["total"].get<uint64_t>(), 2u);
  // Bare terms under the lucene syntax: the same hits and total.
  Ran bare = Hymir("search --index " + idx + " --syntax lucene --query 'lens proteins' --json --k 2");
  ASSERT_EQ(bare.exit_code, 0) << bare.err;
  EXPECT_EQ(nlohmann::json::parse(bare.out)["hits"], plj["hits"]);
  EXPECT_EQ(nlohmann::json::parse(bare.out)["total"], plj["total"]);
  // A conjunction matches no more documents than either term alone.
  Ran both = Hymir("search --index " + idx + " --syntax lucene --query 'lens AND proteins' --json");
  ASSERT_EQ(both.exit_code, 0) << both.err;
  EXPECT_LT(nlohmann::json::parse(both.out)["total"].get<uint64_t>(), plj["total"].get<uint64_t>());

  Ran bad = Hymir("search --index " + idx + " --syntax lucene --query 'lens AND (proteins'");
  EXPECT_EQ(bad.exit_code, 1);
  EXPECT_NE(bad.err.find("syntax error at column 19"), std::string::npos) << bad.err;
  Ran field = Hymir("search --index " + idx + " --syntax lucene --query 'price:[1 TO 2]'");
  EXPECT_NE(field.exit_code, 0);
  EXPECT_NE(field.err.find("unknown field \"price\""), std::string::npos) << field.err;

  // A queries file of lucene queries, with --counts.
  const std::string queries = tmp.Sub("q.jsonl"), run = tmp.Sub("run"), counts = tmp.Sub("counts");
  testing::WriteText(queries,
                     "{\"_id\":\"a\",\"text\":\"\\\"crystalline lens\\\"\"}\n"
                     "{\"_id\":\"b\",\"text\":\"lens AND proteins\"}\n"
                     "{\"_id\":\"c\",\"text\":\"zzzunknown\"}\n");
  Ran batch = Hymir("search --index " + idx + " --syntax lucene --queries " + queries + " --run " + run + " --counts " +
                    counts);
  ASSERT_EQ(batch.exit_code, 0) << batch.err;
  const std::string c = Slurp(counts);
  EXPECT_NE(c.find("b\t" + std::to_string(nlohmann::json::parse(both.out)["total"].get<uint64_t>()) + "\n"),
            std::string::npos)
      << c;
  EXPECT_NE(c.find("c\t0\n"), std::string::npos) << c;
  EXPECT_EQ(CountLines(c), 3u);
  testing::WriteText(queries, "{\"_id\":\"x\",\"text\":\"lens\"}\n{\"_id\":\"y\",\"text\":\"(lens\"}\n");
  Ran bad_batch = Hymir("search --index " + idx + " --syntax lucene --queries " + queries + " --run " + run);
  EXPECT_EQ(bad_batch.exit_code, 1);
  EXPECT_NE(bad_batch.err.find("query y: syntax error at column 6"), std::string::npos) << bad_batch.err;
  Ran counts_alone = Hymir("search --index " + idx + " --query lens --counts " + counts);
  EXPECT_EQ(counts_alone.exit_code, 2);

  // Runs of bare-term queries are byte-identical under either syntax.
  std::string bare_queries;
  auto records = ReadQueries(Sample("queries.jsonl"));
  ASSERT_TRUE(records.ok());
  for (const auto& r : *records) {
    if (IsBareTerms(r.text)) bare_queries += nlohmann::json({{"_id", r.id}, {"text", r.text}}).dump() + "\n";
  }
  testing::WriteText(queries, bare_queries);
  ASSERT_GT(CountLines(bare_queries), 10u);
  ASSERT_EQ(Hymir("search --index " + idx + " --queries " + queries + " --run " + tmp.Sub("plain.run")).exit_code, 0);
  ASSERT_EQ(Hymir("search --index " + idx + " --syntax lucene --queries " + queries + " --run " + tmp.Sub("lucene.run"))
                .exit_code,
            0);
  EXPECT_EQ(Slurp(tmp.Sub("plain.run")), Slurp(tmp.Sub("lucene.run")));
}

}  // namespace
}  // namespace hymir

namespace hymir {
namespace {

TEST(CliTest, VersionIsTheLibrarys) {
  const testing::Ran v = testing::Shell(testing::BinDir() + "/hymir --version");
  EXPECT_EQ(v.exit_code, 0) << v.err;
  EXPECT_EQ(v.out, std::string("hymir ") + VersionString() + "\n");
  const testing::Ran mpi = testing::Shell(testing::BinDir() + "/hymir-mpi --version");
  if (mpi.exit_code != 127) {  // built without MPI: no hymir-mpi
    EXPECT_EQ(mpi.exit_code, 0) << mpi.err;
    EXPECT_EQ(mpi.out, std::string("hymir-mpi ") + VersionString() + "\n");
  }
}

}  // namespace
}  // namespace hymir
