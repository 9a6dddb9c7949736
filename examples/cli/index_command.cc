// hymir index: build or update an index from a BEIR corpus.jsonl.
#include <hymir/beir.h>
#include <hymir/index/index_writer.h>
#include <hymir/index/schema.h>
#include <hymir/ingest.h>
#include <hymir/knowledge.h>
#include <hymir/pipeline.h>

#include <chrono>
#include <cstdio>
#include <filesystem>

#include "commands.h"
#include "common/app.h"
#include "common/embed.h"

namespace hymir::cli {
namespace {

struct IndexFlags {
  std::string corpus;
  std::string index;
  std::string analyzer;
  std::vector<std::string> vector_fields;  // NAME:DIM[:METRIC[:INDEX]]
  std::string embed;                       // lsa:DIM
  std::string kg;                          // link documents against this KG
  std::string embed_index = "flat";
  int embed_power_iterations = -1;  // -1: LsaOptions default
  int threads = 1;
  bool skip_bad = false;
  uint64_t commit_every = 0;
  int format_version = 0;  // 0: the current one
  bool lucenepp_analysis = false;
  bool lucenepp_writer = false;
  std::string schema;  // typed fields of a new index (JSON file)
};

// Progress on stderr: a redrawn bar on a terminal, a plain line every 10 % otherwise.
class Progress {
 public:
  explicit Progress(uint64_t total_bytes) : total_(total_bytes), tty_(app::StderrIsTerminal()) {}

  void Update(uint64_t bytes, uint64_t docs, double seconds) {
    const double frac = total_ ? static_cast<double>(bytes) / static_cast<double>(total_) : 1.0;
    const double rate = seconds > 0 ? docs / seconds : 0.0;
    if (tty_) {
      const int width = 30, filled = static_cast<int>(frac * width);
      std::fprintf(stderr, "\r[%.*s%*s] %3.0f%%  %llu docs  %.0f docs/s", filled, "##############################",
                   width - filled, "", frac * 100, static_cast<unsigned long long>(docs), rate);
      std::fflush(stderr);
    } else {
      const int decile = static_cast<int>(frac * 10);
      if (decile > last_decile_) {
        last_decile_ = decile;
        std::fprintf(stderr, "progress: %3d%%  %llu docs  %.0f docs/s\n", decile * 10,
                     static_cast<unsigned long long>(docs), rate);
      }
    }
  }
  void Finish() {
    if (tty_) std::fprintf(stderr, "\n");
  }

 private:
  uint64_t total_;
  bool tty_;
  int last_decile_ = 0;
};

// Trains the LSA embedder on the corpus (first pass) and stores it inside the
// new index, returning the vector field it fills.
Result<index::VectorFieldSpec> PrepareEmbedder(const IndexFlags& flags, index::AnalyzerKind analyzer) {
  const app::EmbedFlags f{flags.embed, flags.embed_index, flags.embed_power_iterations, flags.skip_bad};
  HYMIR_ASSIGN_OR_RETURN(index::VectorFieldSpec spec, app::LsaFieldSpec(f));
  const std::string path = flags.index + "/vectors/lsa.lsa";
  if (std::filesystem::exists(path)) return spec;  // an existing index keeps its embedder
  HYMIR_RETURN_IF_ERROR(app::TrainLsa(flags.corpus, f, spec, analyzer, path, "hymir index"));
  return spec;
}

int RunIndex(const IndexFlags& flags) {
  index::IndexWriterOptions options;
  if (!flags.analyzer.empty()) {
    auto kind = index::ParseAnalyzerKind(flags.analyzer);
    if (!kind.ok()) return app::Fail("index", kind.status(), /*usage=*/true);
    options.analyzer = *kind;
  }
  if (flags.threads < 1) return app::Fail("index", Status::InvalidArgument("--threads must be >= 1"), true);
  options.format_version = flags.format_version;
  options.lucenepp_analysis = flags.lucenepp_analysis;
  options.lucenepp_writer = flags.lucenepp_writer;
  if (!flags.schema.empty()) {
    auto schema = index::ReadSchemaFile(flags.schema);
    if (!schema.ok()) return app::Fail("index", schema.status(), schema.status().IsInvalidArgument());
    options.schema = std::move(schema).value();
  }
  for (const std::string& spec : flags.vector_fields) {
    auto f = index::ParseVectorFieldSpec(spec);
    if (!f.ok()) return app::Fail("index", f.status(), /*usage=*/true);
    options.vector_fields.push_back(*f);
  }
  // What analyses like the index (the embedder, the linker) follows the
  // index's own analyzer when it exists.
  auto analyzer = index::IndexAnalyzer(flags.index, options);
  if (!analyzer.ok()) return app::Fail("index", analyzer.status());
  if (!flags.embed.empty()) {
    auto f = PrepareEmbedder(flags, *analyzer);
    if (!f.ok()) return app::Fail("index", f.status(), f.status().IsInvalidArgument());
    options.vector_fields.push_back(*f);
  }
  // Entity linking at index time (IngestOptions::kg): the linked entity ids
  // go to the document's kg_entities field, where the KG features read them.
  std::unique_ptr<KnowledgeContext> kg;
  if (!flags.kg.empty()) {
    auto k = KnowledgeContext::Open(flags.kg, *analyzer);
    if (!k.ok()) return app::Fail("index", k.status());
    kg = std::move(k).value();
  }
  // The corpus is checked before the writer creates anything (IngestCorpus
  // opens it again).
  auto corpus = CorpusReader::Open(flags.corpus);
  if (!corpus.ok()) return app::Fail("index", corpus.status());
  auto writer_or = index::IndexWriter::Open(flags.index, options);
  if (!writer_or.ok()) return app::Fail("index", writer_or.status());
  auto& writer = *writer_or;
  const auto start = std::chrono::steady_clock::now();
  Progress progress((*corpus)->file_size());
  IngestOptions ingest;
  ingest.threads = flags.threads;
  ingest.commit_every = flags.commit_every;
  ingest.skip_bad = flags.skip_bad;
  ingest.kg = kg.get();
  ingest.on_progress = [&](const IngestProgress& p) { progress.Update(p.bytes_read, p.added, p.seconds); };
  ingest.on_skip = [](const Status& s) { std::fprintf(stderr, "hymir index: skipped %s\n", s.message().c_str()); };
  ingest.on_commit = [](uint64_t added) {
    std::fprintf(stderr, "hymir index: committed %llu documents\n", static_cast<unsigned long long>(added));
  };
  auto report = IngestCorpus(flags.corpus, *writer, ingest);
  progress.Finish();
  if (!report.ok()) {
    Status rb = writer->Rollback();
    std::fprintf(stderr, "hymir index: error: %s\n", report.status().ToString().c_str());
    std::fprintf(stderr, "hymir index: nothing since the last commit was kept%s\n",
                 rb.ok() ? "" : (" (rollback failed: " + rb.ToString() + ")").c_str());
    return app::kExitFailure;
  }
  Status c = writer->Commit();
  if (!c.ok()) return app::Fail("index", c);
  auto live = writer->NumDocs();
  if (!flags.kg.empty()) {  // Pipeline::Open(index) then opens the KG the documents were linked against
    writer.reset();         // the record goes into the commit manifest, under the writer's lock
    auto recorded = RecordedPipelineOptions(flags.index);
    if (recorded.ok()) recorded->kg_dir = flags.kg;
    Status r = recorded.ok() ? RecordPipelineOptions(flags.index, *recorded) : recorded.status();
    if (!r.ok()) return app::Fail("index", r);
  }
  const uint64_t added = report->added;
  std::fprintf(stderr, "hymir index: committed %llu documents\n", static_cast<unsigned long long>(added));
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("indexed %llu docs (%llu skipped) from %s in %.2f s, %.0f docs/s; index %s holds %llu docs\n",
              static_cast<unsigned long long>(added), static_cast<unsigned long long>(report->skipped),
              flags.corpus.c_str(), secs, secs > 0 ? added / secs : 0.0, flags.index.c_str(),
              static_cast<unsigned long long>(live.value_or(0)));
  return app::kExitOk;
}

}  // namespace

void AddIndexCommand(CLI::App& app, int* exit_code) {
  auto flags = std::make_shared<IndexFlags>();
  CLI::App* cmd = app.add_subcommand("index", "Index a BEIR corpus.jsonl (upsert by _id) and commit");
  cmd->add_option("--corpus", flags->corpus, "Corpus file, one JSON object per line")
      ->required()
      ->check(CLI::ExistingFile);
  cmd->add_option("--index", flags->index, "Index directory (created when absent)")->required();
  cmd->add_option("--analyzer", flags->analyzer,
                  "english | standard | whitespace | english-lucenepp30 | any analyzer of "
                  "docs/structured_fields.md (german, cjk, snowball-french, ...) (new index; default english; "
                  "english-lucenepp30 is the Lucene++ stemmer of format 1-2 indexes)")
      ->check(CLI::Validator(
          [](std::string& name) {
            auto kind = index::ParseAnalyzerKind(name);
            return kind.ok() ? std::string() : kind.status().message();
          },
          "ANALYZER"));
  cmd->add_option("--threads", flags->threads, "Indexing threads")->check(CLI::Range(1, 256));
  cmd->add_option("--format-version", flags->format_version,
                  "On-disk format of a new index: 3 (current), or 2 or 1 for hymir builds before format 3 or 2 "
                  "(these get the english-lucenepp30 analyzer)")
      ->check(CLI::Range(1, 3));
  cmd->add_flag("--lucenepp-analysis", flags->lucenepp_analysis,
                "Analyse with Lucene++'s token streams instead of hymir's chain (english, standard, whitespace; the "
                "same index, slower)");
  cmd->add_flag("--lucenepp-writer", flags->lucenepp_writer,
                "Write a new index's first commit with Lucene++'s IndexWriter instead of hymir's inverter (the same "
                "segment files, slower)");
  cmd->add_flag("--skip-bad", flags->skip_bad,
                "Report malformed lines (and values of the wrong type for the schema) and continue (default: stop, "
                "keep nothing)");
  cmd->add_option("--schema", flags->schema,
                  "Typed fields of a new index, a JSON file {\"fields\": {\"NAME\": {\"type\": "
                  "\"keyword|int64|double|date|bool\", \"sort\": true, \"facet\": true}}} (docs/structured_fields.md)")
      ->check(CLI::ExistingFile);
  cmd->add_option("--vector-field", flags->vector_fields,
                  "Declare a vector field of a new index: NAME:DIM[:METRIC[:INDEX]], METRIC ip|l2|cosine, "
                  "INDEX flat|hnswM|FAISS factory string (repeatable)");
  cmd->add_option("--embed", flags->embed,
                  "Train the built-in embedder on this corpus and fill vector field \"lsa\": lsa:DIM (e.g. lsa:256)");
  cmd->add_option("--kg", flags->kg,
                  "Link documents against this knowledge graph (entity ids stored in field "
                  "kg_entities, read by the KG re-ranking features)")
      ->check(CLI::ExistingDirectory);
  cmd->add_option("--embed-index", flags->embed_index, "ANN index of the embedded field (default flat)");
  cmd->add_option("--embed-power-iterations", flags->embed_power_iterations,
                  "Power iterations of the LSA randomized SVD (default 0: best retrieval on train splits)")
      ->check(CLI::Range(0, 20));
  cmd->add_option("--commit-every", flags->commit_every,
                  "Commit after every N documents (default 0: one commit at the end)");
  cmd->callback([flags, exit_code] { *exit_code = RunIndex(*flags); });
}

}  // namespace hymir::cli
