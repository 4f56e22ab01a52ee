"""AUC (for the validation curve) and ranking agreement (int8 vs fp32)."""
import numpy as np


def auc(y, p):
    """Area under the ROC curve with average ranks for ties; nan without both classes."""
    y = np.asarray(y)
    n_pos = int(y.sum())
    n_neg = len(y) - n_pos
    if n_pos == 0 or n_neg == 0:
        return float("nan")
    p = np.asarray(p, dtype=np.float64)
    order = np.argsort(p, kind="mergesort")
    sorted_p = p[order]
    ranks = np.empty(len(p), dtype=np.float64)
    edges = np.flatnonzero(np.diff(sorted_p)) + 1
    for s, e in zip(np.concatenate([[0], edges]), np.concatenate([edges, [len(p)]])):
        ranks[order[s:e]] = (s + e + 1) / 2.0
    return float((ranks[y == 1].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def rank_agreement(scores_a, scores_b):
    """Agreement of two scorings over candidate sets (lists of 1-D arrays, one per decision):
    top-1 agreement, pairwise order agreement, mean and min Kendall tau-a."""
    top1, pair_agree, pair_total, taus = 0, 0, 0, []
    for a, b in zip(scores_a, scores_b):
        a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
        top1 += int(np.argmax(a) == np.argmax(b))
        iu = np.triu_indices(len(a), 1)
        sa = np.sign(a[:, None] - a[None, :])[iu]
        sb = np.sign(b[:, None] - b[None, :])[iu]
        pair_agree += int((sa == sb).sum())
        pair_total += len(sa)
        taus.append(float((sa * sb).sum() / len(sa)))
    n = len(scores_a)
    return {"decisions": n, "top1Agreement": top1 / n, "pairwiseOrderAgreement": pair_agree / pair_total,
            "meanKendallTau": float(np.mean(taus)), "minKendallTau": float(np.min(taus))}
