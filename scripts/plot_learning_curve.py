#!/usr/bin/env python3
"""Draws the learning curve (scripts/learning_curve.sh) as an SVG: mixed test
macro and pooled nDCG@10 against the number of training queries, from
scratch and from the pre-trained model (mean of the seeds, each seed a dot),
with hybrid as a dashed line.
  plot_learning_curve.py TSV HYBRID_MACRO HYBRID_POOLED OUT.svg"""
import collections
import sys

tsv, hm, hp, out = sys.argv[1], float(sys.argv[2]), float(sys.argv[3]), sys.argv[4]
rows = [l.rstrip("\n").split("\t") for l in open(tsv)][1:]
vals = collections.defaultdict(list)  # (system, metric, n) -> values
for seed, n, system, macro, pooled in rows:
    vals[(system, "macro", int(n))].append(float(macro))
    vals[(system, "pooled", int(n))].append(float(pooled))
sizes = sorted({int(r[1]) for r in rows})
W, H, M = 420, 300, 50
panels = [("macro", hm), ("pooled", hp)]
svg = []  # the header follows once the legend's height is known
colors = {"scratch-networks": "#ff9896", "scratch": "#d62728", "pretrained": "#1f77b4",
          "fused-networks": "#98df8a", "fused": "#2ca02c", "fused-trust": "#9467bd"}
labels = {"scratch-networks": "from scratch, networks only (earlier run)",
          "scratch": "trained from scratch (boosted expert)",
          "pretrained": "pre-trained, then fine-tuned (alpha 0.5)",
          "fused-networks": "pre-trained, fused, networks only (earlier run)",
          "fused": "pre-trained, fused (--fuse auto, boosted expert)",
          "fused-trust": "pre-trained, fused (--fuse auto --trust)"}
colors = {k: c for k, c in colors.items() if any(key[0] == k for key in vals)}  # the systems in the file
xpos = {n: i for i, n in enumerate(sizes)}
for p, (metric, hyb) in enumerate(panels):
    ox = p * W
    ys = [v for k, vs in vals.items() if k[1] == metric for v in vs] + [hyb]
    lo, hi = min(ys) - 0.005, max(ys) + 0.005
    X = lambda n: ox + M + xpos[n] * (W - 2 * M) / max(1, len(sizes) - 1)
    Y = lambda v: H - M + (v - lo) / (hi - lo) * (2 * M - H)
    svg.append(f'<text x="{ox + W / 2}" y="20" text-anchor="middle" font-size="13">mixed test, {metric} nDCG@10</text>')
    svg.append(f'<line x1="{ox + M}" y1="{H - M}" x2="{ox + W - M}" y2="{H - M}" stroke="black"/>')
    svg.append(f'<line x1="{ox + M}" y1="{M}" x2="{ox + M}" y2="{H - M}" stroke="black"/>')
    for n in sizes:
        svg.append(f'<text x="{X(n)}" y="{H - M + 15}" text-anchor="middle">{n}</text>')
    for t in range(5):
        v = lo + t * (hi - lo) / 4
        svg.append(f'<text x="{ox + M - 4}" y="{Y(v) + 4}" text-anchor="end">{v:.3f}</text>')
    svg.append(f'<text x="{ox + W / 2}" y="{H - 12}" text-anchor="middle">judged training queries</text>')
    svg.append(f'<line x1="{ox + M}" y1="{Y(hyb)}" x2="{ox + W - M}" y2="{Y(hyb)}" stroke="gray" stroke-dasharray="4,3"/>')
    svg.append(f'<text x="{ox + W - M}" y="{Y(hyb) - 4}" text-anchor="end" fill="gray">hybrid</text>')
    for system, color in colors.items():
        pts = []
        for n in sizes:
            v = vals.get((system, metric, n))
            if not v:
                continue
            for x in v:
                svg.append(f'<circle cx="{X(n)}" cy="{Y(x)}" r="2" fill="{color}" opacity="0.5"/>')
            pts.append(f"{X(n)},{Y(sum(v) / len(v))}")
        svg.append(f'<polyline points="{" ".join(pts)}" fill="none" stroke="{color}" stroke-width="2"/>')
# The legend under both panels, two columns, so it hides no line.
for i, (system, color) in enumerate(colors.items()):
    x, y = M + (i % 2) * W, H + 5 + (i // 2) * 15
    svg.append(f'<rect x="{x}" y="{y}" width="10" height="3" fill="{color}"/>')
    svg.append(f'<text x="{x + 14}" y="{y + 5}">{labels[system]}</text>')
total = H + 15 + ((len(colors) + 1) // 2) * 15
svg = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{2 * W}" height="{total}" font-family="sans-serif" font-size="11">',
       f'<rect width="{2 * W}" height="{total}" fill="white"/>'] + svg
svg.append("</svg>")
open(out, "w").write("\n".join(svg) + "\n")
