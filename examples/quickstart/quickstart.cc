// Index three documents, then search them through hymir::Pipeline.
#include <cstdio>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include <hymir/index/index_writer.h>
#include <hymir/pipeline.h>

hymir::Document Doc(const char* id, const char* title, const char* text, const char* domain) {
  hymir::Document d;  // also: extra fields, typed values, vectors
  d.id = id;
  d.title = title;
  d.text = text;
  d.domain = domain;
  return d;
}

int Fail(const hymir::Status& s) {
  std::fprintf(stderr, "error: %s\n", s.ToString().c_str());
  return 1;
}

int main() {
  const std::string name = "hymir-quickstart-" + std::to_string(std::random_device{}());
  const std::string dir = (std::filesystem::temp_directory_path() / name).string();  // a new directory
  const std::vector<hymir::Document> docs = {Doc("d1", "Heart disease", "Diet and heart disease in adults.", "med"),
                                             Doc("d2", "Heat transfer", "Heat flow over a heart-shaped wing.", "aero"),
                                             Doc("d3", "Heart surgery", "Valve repair in older patients.", "med")};
  {
    auto writer = hymir::index::IndexWriter::Open(dir);  // creates the index; one writer per directory
    if (!writer.ok()) return Fail(writer.status());
    for (const hymir::Document& doc : docs) {
      if (hymir::Status s = (*writer)->Upsert(doc); !s.ok()) return Fail(s);
    }
    if (hymir::Status s = (*writer)->Commit(); !s.ok()) return Fail(s);  // durable and visible
  }
  auto pipeline = hymir::Pipeline::Open(dir);  // the index and whatever it records (KG, model)
  if (!pipeline.ok()) return Fail(pipeline.status());
  hymir::QuerySpec spec;
  spec.text = "heart";
  spec.filters = {"domain:med"};
  auto query = (*pipeline)->MakeQuery(spec);
  if (!query.ok()) return Fail(query.status());
  auto result = (*pipeline)->Search(*query);
  if (!result.ok()) return Fail(result.status());
  for (const hymir::PipelineHit& h : result->hits) {
    std::printf("%u %s %s\n", h.hit.rank, h.hit.id.c_str(), h.document ? h.document->title.c_str() : "");
  }
  std::filesystem::remove_all(dir);
  return 0;
}
