// `hymir kg embed`: trains TransE embeddings on a KG's triples, prints the
// loss per epoch and a link-prediction report on held-out triples, and saves
// the vectors as <kg>/transe.bin.
#include <hymir/kg/kg_embeddings.h>
#include <hymir/kg/triple_store.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <memory>
#include <string>

#include "common/app.h"

namespace hymir::cli {
namespace {

struct EmbedFlags {
  std::string kg;
  int dim = 64;
  int epochs = 20;
  double holdout = 0.01;
  int threads = 1;
  double learning_rate = 0.05;
  double margin = 1.0;
  int negatives = 1;
  size_t batch = 1024;
  uint64_t seed = 42;
  size_t eval_max = 1000;
  std::string norm = "l2";
  std::string optimizer = "adagrad";
};

int RunEmbed(const EmbedFlags& f) {
  kg::TripleStoreOptions store_options;
  store_options.create_if_missing = false;
  store_options.read_only = true;  // training reads the triples; transe.bin is a file beside them
  auto store = kg::TripleStore::Open(f.kg, store_options);
  if (!store.ok()) return app::Fail("kg embed", store.status());

  kg::TransEOptions options;
  options.dim = f.dim;
  options.epochs = f.epochs;
  options.holdout_fraction = f.holdout;
  options.threads = f.threads;
  options.learning_rate = f.learning_rate;
  options.margin = f.margin;
  options.negatives = f.negatives;
  options.batch_size = f.batch;
  options.seed = f.seed;
  options.eval_max_triples = f.eval_max;
  options.norm = f.norm == "l1" ? kg::TransENorm::kL1 : kg::TransENorm::kL2;
  options.optimizer = f.optimizer == "sgd" ? kg::TransEOptimizer::kSgd : kg::TransEOptimizer::kAdagrad;
  options.progress = [&](int epoch, double loss) {
    std::fprintf(stderr, "epoch %d/%d loss %.4f\n", epoch, f.epochs, loss);
  };

  kg::LinkPredictionReport report;
  auto emb = kg::KgEmbeddings::Train(**store, options, &report);
  if (!emb.ok()) return app::Fail("kg embed", emb.status(), emb.status().IsInvalidArgument());
  std::printf(
      "trained TransE dim=%d norm=%s optimizer=%s on %zu triples (%zu entities, %zu relations), "
      "%d epochs in %.2f s (reading the store %.2f s)\n",
      f.dim, f.norm.c_str(), f.optimizer.c_str(), report.train_triples, report.entities, report.relations, f.epochs,
      report.seconds, report.read_seconds);
  if (report.evaluated_triples > 0) {
    std::printf(
        "link prediction (tail, %zu of %zu held-out triples, %.2f s):\n"
        "  trained  MRR %.4f  Hits@10 %.4f  (filtered: MRR %.4f  Hits@10 %.4f)\n"
        "  random   MRR %.4f  Hits@10 %.4f\n",
        report.evaluated_triples, report.test_triples, report.eval_seconds, report.mrr, report.hits_at_10,
        report.filtered_mrr, report.filtered_hits_at_10, report.random_mrr, report.random_hits_at_10);
  } else {
    std::printf("link prediction: no held-out triples (use --holdout > 0)\n");
  }
  Status saved = emb->Save(f.kg);
  if (!saved.ok()) return app::Fail("kg embed", saved);
  std::printf("saved %s/%s\n", f.kg.c_str(), std::string(kg::kTransEFileName).c_str());
  return app::kExitOk;
}

}  // namespace

void AddKgEmbedCommand(CLI::App& kg, int* exit_code) {
  auto f = std::make_shared<EmbedFlags>();
  CLI::App* embed = kg.add_subcommand(
      "embed", "Train TransE embeddings on a KG, report link prediction on held-out triples, save <kg>/transe.bin");
  embed->add_option("--kg", f->kg, "KG directory")->required();
  embed->add_option("--dim", f->dim, "Embedding dimension (default 64)")->check(CLI::Range(1, 4096));
  embed->add_option("--epochs", f->epochs, "Passes over the triples (default 20)")->check(CLI::Range(0, 100000));
  embed->add_option("--holdout", f->holdout, "Fraction of triples held out for evaluation (default 0.01)")
      ->check(CLI::Range(0.0, 0.5));
  embed->add_option("--threads", f->threads, "Training threads (default 1)")->check(CLI::Range(1, 256));
  embed->add_option("--lr", f->learning_rate, "Learning rate (default 0.05; with sgd try 0.01 and many epochs)");
  embed->add_option("--margin", f->margin, "Margin of the ranking loss (default 1.0)");
  embed->add_option("--negatives", f->negatives, "Corrupted triples per true triple (default 1)")
      ->check(CLI::Range(1, 1000));
  embed->add_option("--batch", f->batch, "Triples per mini-batch (default 1024)");
  embed->add_option("--seed", f->seed, "Random seed (default 42)");
  embed->add_option("--eval-max", f->eval_max, "Rank at most this many held-out triples (0 = all; default 1000)");
  embed->add_option("--norm", f->norm, "l2 | l1 (default l2)")->check(CLI::IsMember({"l1", "l2"}));
  embed->add_option("--optimizer", f->optimizer, "adagrad | sgd (default adagrad)")
      ->check(CLI::IsMember({"adagrad", "sgd"}));
  embed->callback([f, exit_code] { *exit_code = RunEmbed(*f); });
}

}  // namespace hymir::cli
