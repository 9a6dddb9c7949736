#!/usr/bin/env python3
"""Query by example over the Tux Paint stamps, with vectors computed in Python.

Every stamp image (DIR/<category>/.../<name>.png, caption in <name>.txt) is decoded
with hymir's image decoder (hymir.read_image: Python itself has no PNG decoder
without extra packages), and described in NumPy by two vectors:

  colour  a joint RGB histogram of the opaque pixels (4 bins per channel, 64
          values), L1-normalised and square-rooted, so the inner product of two
          is their Bhattacharyya coefficient;
  shape   the stamp's silhouette: its alpha mask, padded to a square and
          averaged down to 8 x 8 cells (64 values), L2-normalised.

The vectors go into a new index as NumPy matrices (IndexWriter.add), beside the
caption (title) and the category (domain). Then each query stamp is searched by
example: its own two vectors, fused (min-max) into one ranking, excluding
itself; the hits print every list's score. Finally precision@10 by category
over every stamp (the same category counts as relevant) is printed against a
random ranking.

    PYTHONPATH=build/python python3 examples/python/tuxpaint_search.py \\
        --stamps /usr/share/tuxpaint/stamps --index /tmp/stamps-idx --query animals/marsupials/koala
"""

import argparse
import os
import shutil
import sys
import time

import numpy as np

import hymir

BINS = 4  # per RGB channel
GRID = 8  # silhouette cells per side


def colour_vector(rgba: np.ndarray) -> np.ndarray:
    """The Hellinger-mapped joint RGB histogram of the pixels with alpha >= 128."""
    opaque = rgba[rgba[..., 3] >= 128][:, :3].astype(np.int64)
    if len(opaque) == 0:
        return np.zeros(BINS**3, np.float32)
    q = opaque * BINS // 256
    bins = (q[:, 0] * BINS + q[:, 1]) * BINS + q[:, 2]
    hist = np.bincount(bins, minlength=BINS**3).astype(np.float64)
    return np.sqrt(hist / hist.sum()).astype(np.float32)


def shape_vector(rgba: np.ndarray) -> np.ndarray:
    """The alpha mask on a centred square, averaged over GRID x GRID cells, unit length."""
    alpha = rgba[..., 3].astype(np.float32) / 255.0
    h, w = alpha.shape
    side = -(-max(h, w) // GRID) * GRID  # a multiple of GRID
    square = np.zeros((side, side), np.float32)
    top, left = (side - h) // 2, (side - w) // 2
    square[top:top + h, left:left + w] = alpha
    cells = square.reshape(GRID, side // GRID, GRID, side // GRID).mean(axis=(1, 3)).ravel()
    norm = np.linalg.norm(cells)
    return (cells / norm if norm > 0 else cells).astype(np.float32)


def stamps(root: str):
    """(id, image path, caption, category) of every PNG stamp under `root`, sorted by id."""
    found = []
    for folder, _, files in os.walk(root):
        for name in files:
            if not name.endswith(".png"):
                continue
            path = os.path.join(folder, name)
            rel = os.path.relpath(path, root)[:-4]
            caption = ""
            txt = path[:-4] + ".txt"
            if os.path.exists(txt):
                with open(txt, encoding="utf-8", errors="replace") as f:
                    caption = f.readline().strip()
            found.append((rel, path, caption, rel.split(os.sep)[0]))
    return sorted(found)


def build_index(items, index_dir: str):
    docs, colours, shapes = [], [], []
    skipped = 0
    for doc_id, path, caption, category in items:
        try:
            rgba = hymir.read_image(path)
        except hymir.Error as e:
            print(f"skip {path}: {e}", file=sys.stderr)
            skipped += 1
            continue
        docs.append({"id": doc_id, "title": caption, "domain": category})
        colours.append(colour_vector(rgba))
        shapes.append(shape_vector(rgba))
    vectors = {"colour": np.stack(colours), "shape": np.stack(shapes)}
    with hymir.IndexWriter.open(index_dir, vector_fields=["colour:64:ip", "shape:64:ip"]) as writer:
        report = writer.add(docs, vectors=vectors)  # commits when the block ends
    return report["added"], skipped, vectors, docs


def search_like(pipeline, searcher, doc_id: str, k: int):
    """The stamps most like `doc_id` by colour and shape (min-max fusion), itself excluded."""
    colour, shape = searcher.vector("colour", doc_id), searcher.vector("shape", doc_id)
    result = pipeline.search("", k=k + 1, vector=colour, vector_field="colour", more_vectors={"shape": shape},
                             retriever="vector", fusion="minmax")
    return [h for h in result if h.id != doc_id][:k]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--stamps", default="/usr/share/tuxpaint/stamps", help="Tux Paint stamps directory")
    ap.add_argument("--index", required=True, help="index directory (replaced)")
    ap.add_argument("--query", action="append", default=[], help="stamp id to search by example (repeatable)")
    ap.add_argument("--k", type=int, default=5)
    ap.add_argument("--limit", type=int, default=0, help="index only every n-th stamp so that at most this many")
    args = ap.parse_args()
    if not os.path.isdir(args.stamps):
        print(f"no Tux Paint stamps at {args.stamps} (Debian: tuxpaint-stamps-default); nothing to do")
        return 0
    items = stamps(args.stamps)
    if args.limit and len(items) > args.limit:
        step = -(-len(items) // args.limit)
        items = items[::step]
    shutil.rmtree(args.index, ignore_errors=True)
    t0 = time.time()
    added, skipped, vectors, docs = build_index(items, args.index)
    print(f"indexed {added} stamps ({skipped} skipped) with NumPy colour and shape vectors in "
          f"{time.time() - t0:.1f} s")

    pipeline = hymir.Pipeline.open(args.index)
    searcher = pipeline.searcher
    for query in args.query or [docs[0]["id"]]:
        doc = searcher.doc(query)
        if doc is None:
            print(f"error: no stamp {query!r} in the index (ids are paths without .png, e.g. {docs[0]['id']})",
                  file=sys.stderr)
            return 2
        print(f"\nstamps like {query} ({doc['title']!r}):")
        for position, hit in enumerate(search_like(pipeline, searcher, query, args.k), start=1):
            colour, shape = hit.vector, hit.more_vectors[0]
            print(f"  {position:2d}  {hit.score:.3f}  {hit.id:<40} colour={colour.score if colour else '-':.3}"
                  f"  shape={shape.score if shape else '-':.3}  {hit.title}")

    # Precision@10 by category (the same category is relevant), every stamp a query.
    category = {d["id"]: d["domain"] for d in docs}
    precision = np.mean([np.mean([category[h.id] == category[d["id"]] for h in search_like(pipeline, searcher,
                                                                                            d["id"], 10)])
                         for d in docs])
    counts = np.unique(list(category.values()), return_counts=True)[1]
    random = float(np.sum(counts * (counts - 1)) / (len(docs) * (len(docs) - 1)))
    print(f"\nP@10 by category over {len(docs)} query stamps: {precision:.3f} (random ranking: {random:.3f})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
