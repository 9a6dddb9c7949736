#!/usr/bin/env python3
"""Per-query trust prototype: per-query blend of the pre-trained and
fine-tuned re-rankers' scores from the run files of scripts/trust_runs.sh; nDCG@10
as trec_eval / hymir eval computes it (checked equal on the hybrid run)."""
import json, math, re, sys, collections, os
D=os.path.join(os.environ.get('DATA', os.path.join(os.path.dirname(os.path.abspath(__file__)), '../../shared/data')), 'mixed')
W=os.environ.get('WORK','/tmp/trust-eval')
DOMS=['cranfield','cisi','med','cacm','scifact']

def read_qrels(p):
    q=collections.defaultdict(dict)
    for i,l in enumerate(open(p)):
        if i==0: continue
        a=l.rstrip('\n').split('\t')
        q[a[0]][a[1]]=int(a[2])
    return q
def read_run(p):
    r=collections.defaultdict(dict)
    for l in open(p):
        a=l.split()
        r[a[0]][a[2]]=float(a[4])
    return r
def ndcg10(scores, rel):
    # trec_eval: sort by score desc, ties by docid desc
    ranked=sorted(scores.items(), key=lambda x:(-x[1], ''.join(chr(255-ord(c)) for c in x[0])))[:10]
    dcg=sum((rel.get(d,0))/math.log2(i+2) for i,(d,_) in enumerate(ranked) if rel.get(d,0)>0)
    ideal=sorted((v for v in rel.values() if v>0), reverse=True)[:10]
    idcg=sum(v/math.log2(i+2) for i,v in enumerate(ideal))
    return dcg/idcg if idcg>0 else 0.0
def z(s):
    v=list(s.values()); n=len(v); m=sum(v)/n
    sd=math.sqrt(sum((x-m)**2 for x in v)/n) or 1.0
    return {k:(x-m)/sd for k,x in s.items()}
def blend(pre, ft, t):
    zp, zf = z(pre), z(ft)
    return {d: zp[d] + t*(zf[d]-zp[d]) for d in zp}

STOP=set("a an the of and or in on at to for with by from is are was were be been being as that this these those it its what which who whom how why when where there their them they can could should would may might must do does did not no any some all such into than then so also about over under between through during before after above below up down out off further once here other only own same too very just more most both each few nor s t will i we you he she me my our your his her have has had having if but because until while again am".split())
def stem(w):
    for suf in ('ational','ization','fulness','ousness','iveness','ments','ation','ness','ment','ings','ing','ies','ied','edly','ed','ly','es','s'):
        if w.endswith(suf) and len(w)-len(suf)>=3:
            return w[:-len(suf)]
    return w
def terms(text):
    return [stem(w) for w in re.findall(r'[a-z0-9]+', text.lower()) if w not in STOP and len(w)>1]

queries={}; qdom={}
for l in open(f'{D}/queries.jsonl'):
    o=json.loads(l); queries[o['_id']]=o['text']; qdom[o['_id']]=o['_id'].split(':')[0]
train=read_qrels(f'{D}/qrels/train.tsv'); test=read_qrels(f'{D}/qrels/test.tsv')
# TF-IDF over all queries' text (query-side only; in the library: the index's idf)
tf={q:collections.Counter(terms(t)) for q,t in queries.items()}
df=collections.Counter(); [df.update(set(c)) for c in tf.values()]
N=len(tf)
def vec(q):
    v={w:(1+math.log(c))*math.log((N+1)/(df[w]+0.5)) for w,c in tf[q].items()}
    n=math.sqrt(sum(x*x for x in v.values())) or 1.0
    return {w:x/n for w,x in v.items()}
V={q:vec(q) for q in queries}
def cos(a,b):
    if len(a)>len(b): a,b=b,a
    return sum(x*b.get(w,0.0) for w,x in a.items())

import hashlib, itertools, os
def fold(q): return int(hashlib.md5(q.encode()).hexdigest(),16)%3
R={}
def run(name):
    if name not in R: R[name]=read_run(f'{W}/run.{name}.trec')
    return R[name]
allq=dict(train); allq.update(test)
def nd(name,q): return ndcg10(run(name)[q], allq[q])
# out-of-fold gain of fine-tuning over the pre-trained model, per judged train query
G={j: nd(f'ft.cv{fold(j)}',j)-nd('pre',j) for j in train} if os.path.exists(W+'/run.ft.cv2.trec') else {}
JV=list(train)

IDX={}
def jindex(J, jkey):
    if jkey not in IDX:
        df=collections.Counter(); [df.update(set(tf[j])) for j in J]
        n=len(J); oov=math.log((n+1)/0.5)
        idf={w:math.log((n+1)/(d+0.5)) for w,d in df.items()}
        def vec(q):
            v={}; nn=0.0
            for w,c in tf[q].items():
                x=(1+math.log(c))*idf.get(w,oov); nn+=x*x
                if w in idf: v[w]=x
            nn=math.sqrt(nn) or 1.0
            return {w:x/nn for w,x in v.items()}
        post=collections.defaultdict(list); JVs={}
        for j in J:
            JVs[j]=vec(j)
            for w,x in JVs[j].items(): post[w].append((j,x))
        IDX[jkey]=(vec,post)
    return IDX[jkey]
def neigh(q, J, k, jkey):
    vec,post=jindex(J,jkey)
    qv=vec(q); dot=collections.Counter()
    for w,x in qv.items():
        for j,y in post.get(w,()): dot[j]+=x*y
    s=sorted(((c,j) for j,c in dot.items()), key=lambda t:(-t[0],t[1]))[:k]
    return s
TOPN=20
TOP={}
def doc_neigh(q,J,k):
    if not TOP:
        H=run('hybrid')
        for x in H: TOP[x]=set(d for d,_ in sorted(H[x].items(), key=lambda y:-y[1])[:TOPN])
    s=sorted(((len(TOP[q]&TOP[j])/TOPN,j) for j in J if j!=q), key=lambda t:(-t[0],t[1]))[:k]
    return [x for x in s if x[0]>0]
def t_rule(rule, nb):
    kind=rule[0]
    k=rule[1]; nbk=nb[:k]
    c=sum(s for s,_ in nbk)/k
    a,w=rule[2],rule[3]
    tc=min(1.0,max(0.0,(c-a)/w)) if w>0 else (1.0 if c>a else 0.0)
    if kind=='cover': return tc
    sw=sum(s for s,_ in nbk)+rule[5]
    g=sum(s*G[j] for s,j in nbk)/sw if sw>0 else 0.0
    gam=rule[4]
    tg=min(1.0,max(0.0,g/gam)) if gam>0 else (1.0 if g>0 else 0.0)
    return tc*tg
def const_rule(c): return ('const',c)

NDC={}
def evaluate(setups, rules):
    """setups: list of (name, [(q, ftrun, J)]) ; returns per rule per setup per domain mean ndcg"""
    out={}
    # precompute neighbours
    cache={}
    for sname, items in setups:
        for q,ft,J,jkey in items:
            cache[(q,jkey,'lex')]=neigh(q,J,50,jkey)
            cache[(q,jkey,'docs')]=doc_neigh(q,J,50)
    for rule in rules:
        res={}
        for sname, items in setups:
            per=collections.defaultdict(list)
            for q,ft,J,jkey in items:
                t = rule[1] if rule[0]=='const' else t_rule(rule[:-1], cache[(q,jkey,rule[-1])])
                t=round(t*20)/20
                key=(q,ft,t)
                if key not in NDC:
                    sc = blend(run('pre')[q], run(ft)[q], t) if 0<t<1 else (run('pre')[q] if t==0 else run(ft)[q])
                    NDC[key]=ndcg10(sc, allq[q])
                per[qdom[q]].append((NDC[key], t))
            res[sname]={d:(sum(x for x,_ in v)/len(v), sum(t for _,t in v)/len(v), len(v)) for d,v in per.items()}
        out[rule]=res
    return out
