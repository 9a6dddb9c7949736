// The Python-side holders of C++ objects shared between the binding files.
#ifndef HYMIR_PYTHON_SRC_HOLDERS_H_
#define HYMIR_PYTHON_SRC_HOLDERS_H_

#include <memory>
#include <string>
#include <vector>

#include "hymir/index/index_writer.h"
#include "hymir/index/searcher.h"
#include "hymir/index/text_query.h"
#include "hymir/knowledge.h"
#include "hymir/pipeline.h"
#include "hymir/query_spec.h"
#include "python/src/common.h"

namespace hymir::python {

// hymir.Searcher: its own searcher, or a pipeline's (then `owner` keeps the
// pipeline alive).
struct PySearcher {
  std::unique_ptr<index::Searcher> owned;
  const index::Searcher* searcher = nullptr;
  py::object owner;
};

// hymir.IndexWriter: null after close().
struct PyWriter {
  std::unique_ptr<index::IndexWriter> writer;
  index::IndexWriter& get() {
    if (!writer) throw py::value_error("the IndexWriter is closed");
    return *writer;
  }
};

// hymir.KnowledgeGraph: a KnowledgeContext (an opened KG as the pipeline
// uses it, linked on an index's analyzer).
struct PyKnowledge {
  std::unique_ptr<KnowledgeContext> owned;
  const KnowledgeContext* context = nullptr;
  py::object owner;  // the pipeline, when borrowed from one
};
// The KnowledgeContext of a hymir.KnowledgeGraph (TypeError otherwise).
const KnowledgeContext* KnowledgeOf(const py::handle& object);

// hymir.Pipeline, with the query defaults set_bm25() changes.
struct PyPipeline {
  std::unique_ptr<Pipeline> pipeline;
  QuerySpec defaults;
};

// A search's parameters: the query, its stages and its extra vector lists.
struct SearchArgs {
  QuerySpec spec;
  StageOptions stages;
  std::vector<VectorClause> more_vectors;
};
// Applies search()'s keyword arguments (TypeError for an unknown one).
void ApplySearchKwargs(const py::kwargs& kwargs, SearchArgs* args);
// The query of `args` on `pipeline` (BuildQuery plus the extra vectors).
Result<HybridQuery> MakeQuery(const Pipeline& pipeline, const SearchArgs& args);

// The keyword arguments of a raw BM25 query (Searcher.search).
struct TextQueryArgs {
  std::string text;
  size_t k = 10;
  size_t offset = 0;
  std::string syntax = "plain";
  std::vector<std::string> filters, sort, facets, fields;
  double k1 = 0.9;
  double b = 0.4;
};
TextQueryArgs TextQueryArgsFrom(const std::string& text, size_t k, const py::kwargs& kwargs);
void FillTextQuery(const TextQueryArgs& args, index::TextQuery* query);
// {field: [(value, count), ...]}.
py::dict FacetsToDict(const std::vector<index::FacetResult>& facets);

}  // namespace hymir::python

#endif  // HYMIR_PYTHON_SRC_HOLDERS_H_
