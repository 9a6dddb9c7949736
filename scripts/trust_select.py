#!/usr/bin/env python3
"""Per-query trust prototype, step 2.
  scripts/trust_select.py select          rules on TRAIN: LODO and 3-fold (selection)
  scripts/trust_select.py test "RULE"     the chosen rule on TEST, bars 2 and 3, once"""
import sys, os
exec(open(os.path.join(os.path.dirname(os.path.abspath(__file__)), 'trust_proto.py')).read())
mode=sys.argv[1] if len(sys.argv)>1 else 'select'
trainq=list(train)
def lodo_train():
    items=[]
    for d in DOMS:
        J=[j for j in trainq if qdom[j]!=d]
        items+= [(q,f'ft.lodo.{d}',J,'lodo.'+d) for q in trainq if qdom[q]==d]
    return ('lodo',items)
def cv_train():
    items=[]
    for f in range(3):
        J=[j for j in trainq if fold(j)!=f]
        items+= [(q,f'ft.cv{f}',J,f'cv{f}') for q in trainq if fold(q)==f]
    return ('cv3',items)
def lodo_test():
    items=[]
    for d in DOMS:
        J=[j for j in trainq if qdom[j]!=d]
        items+= [(q,f'ft.lodo.{d}',J,'lodo.'+d) for q in test if qdom[q]==d]
    return ('lodo',items)
def all_test():
    return ('all',[(q,'ft.all',trainq,'all') for q in test])

rules=[const_rule(c) for c in (0,0.25,0.5,0.75,1)]
for k in (1,5,20):
    for a in (0.0,0.05,0.1,0.15,0.2,0.3):
        for w in (0.05,0.1,0.2,0.4):
          for rep in ('lex','docs'):
            rules.append(('cover',k,a,w,rep))
            for gam in (0.005,0.02,0.05):
                for lam in (0.0,0.5):
                    rules.append(('gain',k,a,w,gam,lam,rep))
def hyb(setup):
    per=collections.defaultdict(list)
    for q,_,_,_ in setup[1]: per[qdom[q]].append(ndcg10(run('hybrid')[q],allq[q]))
    return {d:sum(v)/len(v) for d,v in per.items()}
def fmt(res):
    pooled=sum(res[d][0]*res[d][2] for d in DOMS)/sum(res[d][2] for d in DOMS)
    return ' '.join(f"{res[d][0]:.4f}" for d in DOMS)+f"  macro {sum(res[d][0] for d in DOMS)/5:.4f} pooled {pooled:.4f}"
if mode=='select':
    setups=[lodo_train(), cv_train()]
    H={s[0]:hyb(s) for s in setups}
    print('hybrid lodo', ' '.join(f"{H['lodo'][d]:.4f}" for d in DOMS), 'cv3', ' '.join(f"{H['cv3'][d]:.4f}" for d in DOMS))
    out=evaluate(setups, rules)
    rows=[]
    for r,res in out.items():
        lm=sum(res['lodo'][d][0] for d in DOMS)/5; cm=sum(res['cv3'][d][0] for d in DOMS)/5
        worst=min(res['lodo'][d][0]-H['lodo'][d] for d in DOMS)
        worst_cv=min(res['cv3'][d][0]-H['cv3'][d] for d in DOMS)
        micro=sum(res['cv3'][d][0]*res['cv3'][d][2] for d in DOMS)/sum(res['cv3'][d][2] for d in DOMS)
        rows.append((r,lm,cm,worst,worst_cv,micro,res))
    import pickle; pickle.dump(rows,open(W+'/select.pkl','wb'))
    ok=[x for x in rows if x[3]>=0]
    print(len(rows),'rules,',len(ok),'leave no LODO domain below hybrid')
    for x in sorted(rows,key=lambda x:-(x[1]+x[2]))[:25]+[x for x in rows if x[0][0]=='const']:
        r,lm,cm,worst,wcv,micro,res=x
        print(r, f"lodo {lm:.4f} cv3 {cm:.4f} mean {(lm+cm)/2:.4f} worstLODO {worst:+.4f} worstCV {wcv:+.4f} micro {micro:.4f}",
              'tL', ' '.join(f"{res['lodo'][d][1]:.2f}" for d in DOMS), 'tC', ' '.join(f"{res['cv3'][d][1]:.2f}" for d in DOMS))
else:
    rule=eval(sys.argv[2])
    for s in (lodo_test(), all_test()):
        H=hyb(s)
        out=evaluate([s], [const_rule(0), const_rule(1), rule])
        print(s[0], 'hybrid', ' '.join(f"{H[d]:.4f}" for d in DOMS), f"macro {sum(H.values())/5:.4f}")
        for r,res in out.items():
            print(s[0], r, fmt(res[s[0]]), ' t', ' '.join(f"{res[s[0]][d][1]:.2f}" for d in DOMS))
