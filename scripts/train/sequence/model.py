"""The sequence ranker's training loop (ranker.py has the network): sampled softmax over uniformly
drawn catalogue items, early stopping on the validation items' NDCG@10 against 99 sampled items
(the evaluation's own protocol).
"""
import time

import numpy as np
import torch
from torch import nn

from data import ROWS
from ranker import SequenceRanker, last_visitors, pad


class Validation:
    """Each sampled visitor's held-out positive against `negatives` items they never took, drawn
    once (so that epochs are compared on the same candidates): HR@10 and NDCG@10. As in the
    evaluation, items are drawn from all of the data's items, and those without a row are scored
    as the unknown row with their attributes."""

    def __init__(self, seqs, which, users, negatives, rng, untrained=None):
        histories, targets = seqs.held_out(which)
        seen = seqs.seen_by()
        owners = [u for span, u in zip(seqs.visitors(), range(len(seen))) if (seqs.split[span] == which).any()]
        pick = np.sort(rng.choice(len(targets), min(users, len(targets)), replace=False))
        self.tokens = [np.concatenate([[ROWS["start"]], histories[i]])[-seqs.length:] for i in pick]
        at = targets[pick]
        self.context = seqs.context[at] if seqs.context_dims else None
        first, rows = ROWS["firstItem"], seqs.rows_total + seqs.items_without_row  # draws past the table: items without a row
        candidates, features = [], []
        # A small catalogue may leave a visitor fewer untaken items than `negatives`: every visitor gets
        # as many as the one with the fewest, so that the candidates stay one rectangular batch.
        untaken = min(rows - first - len(seen[owners[i]] - {ROWS["unknown"]}) for i in pick) if len(pick) else 0
        negatives = max(0, min(negatives, untaken))
        for k, i in enumerate(pick):
            taken = seen[owners[i]]
            drawn = []
            while len(drawn) < negatives:
                for r in rng.integers(first, rows, size=2 * negatives).tolist():
                    if r not in taken and r not in drawn:
                        drawn.append(r)
                        if len(drawn) == negatives:
                            break
            candidates.append([int(seqs.rows[at[k]])] + [r if r < seqs.rows_total else ROWS["unknown"] for r in drawn])
            features.append(np.concatenate([seqs.item_features[at[k]][None], seqs.catalogue_features[drawn]]))
        self.negatives = negatives
        candidates = np.asarray(candidates, dtype=np.int64).reshape(len(pick), negatives + 1)
        if untrained is not None:  # rows that have not trained yet are scored as the unknown row, as items without one are
            candidates = np.where(untrained[candidates], ROWS["unknown"], candidates)
        self.candidates = torch.from_numpy(candidates)
        self.features = torch.from_numpy(np.asarray(features, dtype=np.float32).reshape(len(pick), negatives + 1, seqs.item_dims))
        self.users = len(pick)

    def metrics(self, model, k=10, chunk=1024):
        model.eval()
        hits, gains = [], []
        with torch.no_grad():
            for s in range(0, self.users, chunk):
                u = last_visitors(model, self.tokens[s:s + chunk], None if self.context is None else self.context[s:s + chunk])
                c = self.candidates[s:s + chunk]
                scores = (model.items(c, self.features[s:s + chunk]) * u[:, None, :]).sum(-1) + model.bias(c)[..., 0]
                above = (scores[:, 1:] > scores[:, :1]).sum(1).numpy()
                hits.append(above < k)
                gains.append(np.where(above < k, 1.0 / np.log2(above + 2.0), 0.0))
        return float(np.concatenate(hits).mean()), float(np.concatenate(gains).mean())


def set_determinism(seed, threads):
    torch.manual_seed(seed)
    torch.set_num_threads(threads)
    torch.use_deterministic_algorithms(True)


class Optimizer:
    """Adam for the dense weights, SparseAdam (only the rows a step touched) for the embedding tables."""

    def __init__(self, model, lr, embedding_lr):
        tables = [model.E.weight, model.bias.weight]
        dense = [p for p in model.parameters() if all(p is not t for t in tables)]
        self.parts = [torch.optim.Adam(dense, lr=lr, betas=(0.9, 0.98)),
                      torch.optim.SparseAdam(tables, lr=embedding_lr, betas=(0.9, 0.98))]

    def step(self, loss):
        for part in self.parts:
            part.zero_grad(set_to_none=True)
        loss.backward()
        for part in self.parts:
            part.step()

    def decay(self, factor):
        for part in self.parts:
            for group in part.param_groups:
                group["lr"] *= factor


def fit(seqs, *, seed, threads, d, dropout, lr, embedding_lr, batch_size, negatives, unknown_share, max_epochs, patience,
        validation_users, time_budget, hidden=None, blocks=1, embedding_std=0.01, init="random", decay_after=2, refit_epochs=0, log=print):
    """Adam on sampled softmax: each training position's next item against `negatives` catalogue
    rows drawn uniformly per batch (accidental hits masked). Rare items are shown as the unknown row
    (with their attributes) `unknown_share` of the time, so that unknown items get a learned fallback. After every epoch, NDCG@10 on the validation items; training stops
    after `patience` epochs without a better one, at `max_epochs`, or once `time_budget` CPU seconds
    have been spent, and the best epoch's weights are kept. Returns (model, best epoch, curve, stop)."""
    set_determinism(seed, threads)
    rng = np.random.default_rng(seed)
    first, rows = ROWS["firstItem"], seqs.rows_total
    model = SequenceRanker(rows, d, seqs.length, seqs.context_dims, seqs.item_dims, dropout, rng, hidden, embedding_std, blocks)
    if init == "cooccurrence":
        start = cooccurrence_embeddings(seqs, d, rng)
        if start is not None:
            with torch.no_grad():
                model.E.weight[first:] = torch.from_numpy(start[first:])
    optimizer = Optimizer(model, lr, embedding_lr)
    windows = seqs.windows()
    tokens, targets, _ = windows

    # The unknown row stands for an item the model has no row for: at serving, a new item; in the
    # evaluation, an item seen only as someone's held-out one. Both are rare, so the rarest
    # catalogue items are shown as the unknown row half of the time, as targets, as sampled items
    # and in sequences, and the row learns to score like them.
    # Items seen only as validation items have a row that does not train before the refit: until
    # then they are always the unknown row.
    def rarity(targets):
        counts = np.bincount(np.concatenate(targets), minlength=rows)[first:]
        rare, untrained = np.zeros(rows, dtype=bool), np.zeros(rows, dtype=bool)
        rare[first:] = counts <= max(1, counts[counts > 0].min() if (counts > 0).any() else 1)
        untrained[first:] = counts == 0
        return rare, untrained

    rare, untrained = rarity(targets)

    def unknown(rows_array):
        shown = untrained[rows_array] | (rare[rows_array] & (rng.random(rows_array.shape) < unknown_share))
        return np.where(shown, ROWS["unknown"], rows_array)

    def batches_of(windows):
        order = np.argsort([len(t) for t in windows[0]], kind="stable")
        return [order[i:i + batch_size] for i in range(0, len(order), batch_size)]

    def run_epoch(windows):
        """One pass over the windows in batches of similar length, in a seeded order; the mean loss."""
        tokens, targets, positions = windows
        batches = batches_of(windows)
        model.train()
        total, count = 0.0, 0
        for b in rng.permutation(len(batches)):
            idx = batches[b]
            tok = pad([unknown(tokens[i]) for i in idx])
            pos = pad([positions[i] + 1 for i in idx]) - 1  # -1 = padding
            present = pos >= 0
            at = pos[present]
            ctx = None
            if seqs.context_dims:
                ctx = np.zeros(pos.shape + (seqs.context_dims,), dtype=np.float32)
                ctx[present] = seqs.context[at]
                ctx = torch.from_numpy(ctx)
            u = model.visitors(torch.from_numpy(tok), ctx, training=True)[torch.from_numpy(present)]
            target = torch.from_numpy(unknown(seqs.rows[at]))
            sampled_rows = rng.integers(first, rows, size=negatives)
            sampled = torch.from_numpy(unknown(sampled_rows))
            pos_v = model.items(target, torch.from_numpy(seqs.item_features[at]) if seqs.item_dims else None)
            neg_v = model.items(sampled, torch.from_numpy(seqs.catalogue_features[sampled_rows]) if seqs.item_dims else None)
            pos_logit = (u * pos_v).sum(-1, keepdim=True) + model.bias(target)
            neg_logit = u @ neg_v.T + model.bias(sampled)[:, 0]
            hit = torch.from_numpy(sampled_rows[None, :] == seqs.rows[at][:, None])
            logits = torch.cat([pos_logit, neg_logit.masked_fill(hit, -1e9)], 1)
            loss = nn.functional.cross_entropy(logits, torch.zeros(len(at), dtype=torch.long))
            optimizer.step(loss)
            total += loss.item() * len(at)
            count += len(at)
        return total / count

    validation = Validation(seqs, 1, validation_users, 99, np.random.default_rng(seed + 1), untrained)
    log(f"  {len(tokens)} training windows ({sum(len(t) for t in targets)} positions), {len(batches_of(windows))} batches; "
        f"validation: {validation.users} visitors' second-to-last item vs {validation.negatives} sampled items")
    started, cpu_started = time.time(), time.process_time()
    hr0, ndcg0 = validation.metrics(model)
    curve = [{"epoch": 0, "trainLoss": None, "valHr10": hr0, "valNdcg10": ndcg0, "seconds": round(time.time() - started, 1),
              "cpuSeconds": round(time.process_time() - cpu_started, 1)}]
    log(f"  epoch   0 ({init} item vectors): validation HR@10 {hr0:.4f} NDCG@10 {ndcg0:.4f}")
    best = {"epoch": 0, "ndcg": ndcg0, "state": {k: v.clone() for k, v in model.state_dict().items()}}
    stop = "max epochs"
    for epoch in range(1, max_epochs + 1):
        loss = run_epoch(windows)
        hr, ndcg = validation.metrics(model)
        elapsed, cpu = time.time() - started, time.process_time() - cpu_started
        curve.append({"epoch": epoch, "trainLoss": loss, "valHr10": hr, "valNdcg10": ndcg, "seconds": round(elapsed, 1),
                      "cpuSeconds": round(cpu, 1)})
        better = ndcg > best["ndcg"]
        since = 0 if better else epoch - best["epoch"]
        if since > 0 and since % decay_after == 0:
            optimizer.decay(0.5)  # a plateau: halve the learning rates
        log(f"  epoch {epoch:3d}: train loss {loss:.4f}, validation HR@10 {hr:.4f} NDCG@10 {ndcg:.4f}"
            f"{' (best)' if better else ''} [{elapsed:.0f} s, {cpu:.0f} s CPU]")
        if better:
            best = {"epoch": epoch, "ndcg": ndcg, "state": {k: v.clone() for k, v in model.state_dict().items()}}
        elif epoch - best["epoch"] >= patience:
            stop = "patience"
            break
        # CPU seconds, not wall time: on a machine shared with other jobs the same data trains the same epochs.
        if cpu > time_budget:
            stop = "time budget"
            break
    model.load_state_dict(best["state"])
    refit = []
    if refit_epochs:
        # The validation items have chosen the epoch; they are the visitors' latest transitions before
        # the test ones, so they now train too (the test items never do).
        with_validation = seqs.windows(up_to=1)
        rare, untrained = rarity(with_validation[1])
        for _ in range(refit_epochs):
            refit.append(run_epoch(with_validation))
            log(f"  refit with the validation items: train loss {refit[-1]:.4f}")
    model.eval()
    return model, best["epoch"], curve, stop, refit


def score_sets(model, sets, length, chunk=1024):
    """Scores of every candidate of every group of each set, float32, in order (batched over groups)."""
    from data import tokens_of

    out = {}
    model.eval()
    with torch.no_grad():
        for name, s in sets.items():
            scores = []
            for start in range(0, len(s), chunk):
                groups = range(start, min(len(s), start + chunk))
                tokens = [tokens_of(s.history[s.history_offsets[g]:s.history_offsets[g + 1]], length) for g in groups]
                u = last_visitors(model, tokens, s.context[start:start + len(groups)] if model.context is not None else None)
                lo, hi = int(s.groups[start]), int(s.groups[start + len(groups)])
                rows = torch.from_numpy(s.items[lo:hi])
                owner = torch.from_numpy(np.repeat(np.arange(len(groups)), np.diff(s.groups[start:start + len(groups) + 1])))
                v = model.items(rows, torch.from_numpy(s.item_features[lo:hi]) if model.attributes is not None else None)
                scores.append(((v * u[owner]).sum(-1) + model.bias(rows)[:, 0]).numpy())
            out[name] = np.concatenate(scores).astype(np.float32) if scores else np.zeros(0, np.float32)
    return out


def cooccurrence_embeddings(seqs, d, rng, iterations=3):
    """Item vectors whose dot products approximate the items' cosine co-occurrence over visitors'
    training positives (a randomized SVD of the visitor x item matrix with columns scaled by
    1/sqrt(count)), rescaled to the initial embeddings' row norm. A start where the pooled sequence
    already ranks like item-kNN, which the sampled softmax then refines: it cuts the epochs a
    large, sparse catalogue needs."""
    first, rows = ROWS["firstItem"], seqs.rows_total
    users, items = [], []
    for u, span in enumerate(seqs.visitors()):
        r = seqs.rows[span][seqs.split[span] == 0]
        r = np.unique(r[r >= first])
        users.append(np.full(len(r), u))
        items.append(r)
    users, items = np.concatenate(users), np.concatenate(items)
    if len(items) == 0:
        return None
    counts = np.bincount(items, minlength=rows).astype(np.float64)
    weight = 1.0 / np.sqrt(np.maximum(counts[items], 1.0))
    n_users = int(users.max()) + 1
    by_item = np.argsort(items, kind="stable")

    def x_times(m):  # X @ m, m [rows, k] -> [users, k]
        out = np.zeros((n_users, m.shape[1]))
        np.add.at(out, users, m[items] * weight[:, None])
        return out

    def xt_times(m):  # X^T @ m, m [users, k] -> [rows, k]
        out = np.zeros((rows, m.shape[1]))
        np.add.at(out, items[by_item], m[users[by_item]] * weight[by_item, None])
        return out

    k = min(d, len(np.unique(items)))
    q = rng.standard_normal((rows, k + 8))
    for _ in range(iterations):
        q, _ = np.linalg.qr(xt_times(x_times(q)))
    c = x_times(q)  # [users, k + 8]: X restricted to the basis
    _, s, vt = np.linalg.svd(c, full_matrices=False)
    vectors = (q @ vt.T[:, :k]) * np.sqrt(s[:k])  # [rows, k]
    out = np.zeros((rows, d), dtype=np.float32)
    out[:, :k] = vectors
    norms = np.linalg.norm(out[first:], axis=1)
    scale = 1.0 / max(np.median(norms[norms > 0]) if (norms > 0).any() else 1.0, 1e-12)
    return out * scale  # median row norm 1, as N(0, 1/d) rows have
