#!/usr/bin/env bash
# Pre-training, check 4 of docs/training.md (learning curve): mixed TEST
# macro and pooled nDCG@10 after training on 0, 50, 100, 250, 500 and all 1,000 of mixed's TRAIN queries,
# from scratch (`hymir train`) and from the pre-trained model (`hymir
# pretrain`, then `hymir train --init`), three seeds (the seed draws the
# training subset, the pre-training and the training). 0 queries: hybrid,
# and the pre-trained model alone. Writes $WORK/learning_curve.tsv and
# docs/learning_curve.svg.
#   scripts/learning_curve.sh        (WORK as scripts/eval_finetune.sh; its mixed index is reused)
# SYSTEMS="pretrained" re-runs only that system; KEEP_FROM=TSV (an earlier
# learning_curve.tsv) then supplies the other system's rows unchanged.
# PRE_FLAGS: extra `hymir train` flags of the pre-trained system (e.g.
# "--fuse auto": fusion with a model from scratch instead of fine-tuning).
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
data=${DATA:-$here/../shared/data}/mixed
work=${WORK:-/tmp/hymir-pretrain-eval}
hymir=${HYMIR_BIN:-$here/build/bin}/hymir
idx=$work/mixed
SIZES=${SIZES:-0 50 100 250 500 1000}
SEEDS=${SEEDS:-1 2 3}
if [ ! -f "$idx/.indexed" ]; then
  rm -rf "$idx"
  "$hymir" index --corpus "$data/corpus.jsonl" --index "$idx" --embed lsa:256 --threads 2 >/dev/null 2>&1
  touch "$idx/.indexed"
fi
q=$data/qrels/test.tsv
score() {  # run -> "macro pooled"
  "$hymir" eval --qrels "$q" --run "$1" --queries "$data/queries.jsonl" --per-domain |
    awk '$1=="ndcg_cut_10" && $2=="macro"{m=$3} $1=="ndcg_cut_10" && $2=="all"{a=$3} END{print m, a}'
}
search() { "$hymir" search --index "$idx" --queries "$data/queries.jsonl" --qrels "$q" --k 100 --run "$1" "${@:2}" >/dev/null 2>&1; }
out=$work/learning_curve.tsv
SYSTEMS=${SYSTEMS:-scratch pretrained}
keep_from=${KEEP_FROM:-}
[ -n "$keep_from" ] && keep_from=$(cp "$keep_from" "$work/lc.keep.tsv" && echo "$work/lc.keep.tsv")
printf "seed\tqueries\tsystem\tmacro\tpooled\n" >"$out"
kept() {  # seed n system -> the row of KEEP_FROM for a system not re-run (true if printed)
  [ -n "$keep_from" ] || return 1
  case " $SYSTEMS " in *" $3 "*) return 1 ;; esac
  awk -F'\t' -v s="$1" -v n="$2" -v y="$3" '$1==s && $2==n && $3==y' "$keep_from" | grep . >>"$out"
}
search "$work/lc.hybrid.trec"
read -r hm hp < <(score "$work/lc.hybrid.trec")
for seed in $SEEDS; do
  "$hymir" pretrain --index "$idx" --model "$work/lc.pre.$seed.moe" --seed "$seed" >/dev/null 2>&1
  for n in $SIZES; do
    if [ "$n" = 0 ]; then
      printf "%s\t0\tscratch\t%s\t%s\n" "$seed" "$hm" "$hp" >>"$out"
      search "$work/lc.pre.$seed.trec" --rerank "$work/lc.pre.$seed.moe"
      read -r m p < <(score "$work/lc.pre.$seed.trec")
      printf "%s\t0\tpretrained\t%s\t%s\n" "$seed" "$m" "$p" >>"$out"
      continue
    fi
    sub=$work/lc.qrels.$seed.$n.tsv
    python3 - "$data/qrels/train.tsv" "$n" "$seed" "$sub" <<'PY'
import random, sys
src, n, seed, dst = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
lines = open(src).read().splitlines()
ids = sorted({l.split("\t")[0] for l in lines[1:]})
keep = set(random.Random(seed).sample(ids, min(n, len(ids))))
with open(dst, "w") as f:
    f.write(lines[0] + "\n")
    f.writelines(l + "\n" for l in lines[1:] if l.split("\t")[0] in keep)
PY
    for sys in scratch pretrained; do
      kept "$seed" "$n" "$sys" && continue
      case " $SYSTEMS " in *" $sys "*) ;; *) continue ;; esac
      init=""; [ "$sys" = pretrained ] && init="--init $work/lc.pre.$seed.moe ${PRE_FLAGS:-}"
      # shellcheck disable=SC2086
      "$hymir" train --index "$idx" --queries "$data/queries.jsonl" --qrels "$sub" --model "$work/lc.$sys.$seed.$n.moe" \
        --seed "$seed" $init >/dev/null 2>&1
      search "$work/lc.$sys.$seed.$n.trec" --rerank "$work/lc.$sys.$seed.$n.moe"
      read -r m p < <(score "$work/lc.$sys.$seed.$n.trec")
      printf "%s\t%s\t%s\t%s\t%s\n" "$seed" "$n" "$sys" "$m" "$p" >>"$out"
    done
    echo "seed $seed, $n queries done" >&2
  done
done
python3 "$here/scripts/plot_learning_curve.py" "$out" "$hm" "$hp" "$here/docs/learning_curve.svg"
column -t "$out"
