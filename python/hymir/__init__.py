"""hymir from Python: hybrid retrieval (exact BM25, vectors, fusion, MoE re-ranking,
knowledge-graph expansion) over an index built by hymir's C++ library.

Start with :class:`Pipeline`::

    import hymir
    pipeline = hymir.Pipeline.open("my-index")
    for hit in pipeline.search("heart disease", k=10):
        print(hit.rank, hit.id, hit.score, hit.bm25, hit.vector)

Documents go in through :class:`IndexWriter` (dicts, NumPy vectors), raw BM25 and
vector queries through :class:`Searcher`, the knowledge graph through
:class:`TripleStore` and :class:`KnowledgeGraph`, training through :func:`pretrain`
and :func:`train_reranker`, evaluation through :func:`evaluate`. Errors raise
subclasses of :class:`Error`. Searching, ingesting and training release the GIL,
so Python threads run them in parallel. See docs/python.md.
"""

from hymir.errors import (
    AlreadyExistsError,
    BusyError,
    CorruptionError,
    Error,
    InternalError,
    InvalidArgumentError,
    IOError,
    NotFoundError,
    NotSupportedError,
)
from hymir._native import (
    Explanation,
    ExpansionTerm,
    FeatureContribution,
    Hit,
    IndexWriter,
    KnowledgeGraph,
    Neighbor,
    Pipeline,
    Qrels,
    ReachedEntity,
    Routing,
    Searcher,
    SearchHit,
    SearchResult,
    Stage,
    StructuredResult,
    TripleStore,
    __version__,
    analyze,
    evaluate,
    free_text,
    has_media,
    ingest_corpus,
    normalize_alias,
    parse_query,
    pretrain,
    read_run,
    record_pipeline,
    train_lsa,
    train_reranker,
    write_run,
)

if has_media:
    from hymir._native import colour_histogram, read_image

__all__ = [
    "AlreadyExistsError",
    "BusyError",
    "CorruptionError",
    "Error",
    "Explanation",
    "ExpansionTerm",
    "FeatureContribution",
    "Hit",
    "IndexWriter",
    "InternalError",
    "InvalidArgumentError",
    "KnowledgeGraph",
    "Neighbor",
    "NotFoundError",
    "NotSupportedError",
    "Pipeline",
    "Qrels",
    "ReachedEntity",
    "Routing",
    "Searcher",
    "SearchHit",
    "SearchResult",
    "Stage",
    "StructuredResult",
    "TripleStore",
    "analyze",
    "evaluate",
    "free_text",
    "has_media",
    "ingest_corpus",
    "normalize_alias",
    "parse_query",
    "pretrain",
    "read_run",
    "record_pipeline",
    "train_lsa",
    "train_reranker",
    "write_run",
]
if has_media:
    __all__ += ["colour_histogram", "read_image"]
