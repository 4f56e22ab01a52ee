"""Evaluation helpers: AUC, log loss, bootstrap CIs, ranking agreement."""
import numpy as np


def _rankdata(a):
    """Average ranks (1-based) with ties, like scipy.stats.rankdata."""
    a = np.asarray(a, dtype=np.float64)
    order = np.argsort(a, kind="mergesort")
    sorted_a = a[order]
    ranks = np.empty(len(a), dtype=np.float64)
    # boundaries of groups of equal values
    edges = np.flatnonzero(np.diff(sorted_a)) + 1
    starts = np.concatenate([[0], edges])
    ends = np.concatenate([edges, [len(a)]])
    for s, e in zip(starts, ends):
        ranks[order[s:e]] = (s + e + 1) / 2.0
    return ranks


def auc(y, p):
    y = np.asarray(y)
    n_pos = int(y.sum())
    n_neg = len(y) - n_pos
    if n_pos == 0 or n_neg == 0:
        return float("nan")
    r = _rankdata(p)
    return float((r[y == 1].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def logloss(y, p, eps=1e-7):
    p = np.clip(np.asarray(p, dtype=np.float64), eps, 1 - eps)
    y = np.asarray(y, dtype=np.float64)
    return float(-np.mean(y * np.log(p) + (1 - y) * np.log(1 - p)))


def bootstrap_auc(y, preds, n_boot=1000, seed=0, level=0.95):
    """Percentile CIs of AUC for each named prediction, resampling test rows (paired),
    plus the CI of AUC(model) - AUC(other) for every other prediction."""
    rng = np.random.default_rng(seed)
    y = np.asarray(y)
    names = list(preds)
    samples = {k: [] for k in names}
    for _ in range(n_boot):
        idx = rng.integers(0, len(y), len(y))
        for k in names:
            samples[k].append(auc(y[idx], np.asarray(preds[k])[idx]))
    lo, hi = (1 - level) / 2 * 100, (1 + level) / 2 * 100
    out = {k: [float(np.nanpercentile(v, lo)), float(np.nanpercentile(v, hi))] for k, v in samples.items()}
    base = np.array(samples[names[0]])
    for k in names[1:]:
        d = base - np.array(samples[k])
        out[f"{names[0]}_minus_{k}"] = [float(np.nanpercentile(d, lo)), float(np.nanpercentile(d, hi))]
    return out


def rank_agreement(scores_a, scores_b):
    """Agreement of two scorings over candidate sets (lists of 1-D arrays, one per
    decision): top-1 agreement, pairwise order agreement, mean Kendall tau-a."""
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
