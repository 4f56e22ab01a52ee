"""The sequence ranker: SASRec-style self-attention over the visitor's recent items (Kang and
McAuley, ICDM 2018), scoring catalogue items by a dot product with the pooled visitor vector.

The transformer block is SASRec's: the query is the layer-normed input, keys and values are linear
in the raw input, so for the one query the worker needs (the most recent position) the last block's
key and value projections commute with the attention pooling; export.py builds that cheaper graph
(earlier blocks run at every position, as here), which computes exactly what `visitors` computes at
the last position.
"""
import math

import numpy as np
import torch
from torch import nn

from data import ROWS

LN_EPS = 1e-5


class Dropout:
    """Inverted dropout with masks drawn from numpy: Debian's torch draws Bernoulli masks an order
    of magnitude slower than the rest of a training step costs."""

    def __init__(self, p, rng):
        self.p, self.rng = p, rng

    def __call__(self, x, training):
        if not training or self.p == 0:
            return x
        keep = self.rng.random(tuple(x.shape), dtype=np.float32) >= self.p
        return x * torch.from_numpy(keep.astype(np.float32) / np.float32(1 - self.p))


class Block(nn.Module):
    def __init__(self, d, hidden):
        super().__init__()
        self.ln1, self.ln2 = nn.LayerNorm(d, eps=LN_EPS), nn.LayerNorm(d, eps=LN_EPS)
        self.q, self.k, self.v, self.o = (nn.Linear(d, d) for _ in range(4))
        self.f1, self.f2 = nn.Linear(d, hidden), nn.Linear(hidden, d)

    def forward(self, x, mask, drop, training):
        query = self.ln1(x)
        logits = self.q(query) @ self.k(x).transpose(1, 2) / math.sqrt(x.shape[-1]) + mask
        x = query + drop(self.o(torch.softmax(logits, -1) @ self.v(x)), training)
        h = self.ln2(x)
        return h + drop(self.f2(drop(torch.relu(self.f1(h)), training)), training)


class SequenceRanker(nn.Module):
    """score(visitor, item) = u . (E[item] + A item_features) + bias[item], where u pools the
    visitor's sequence (E rows + positions) through one attention block and adds a projection of
    the visitor/context row."""

    def __init__(self, rows, d, length, context_dims, item_dims, dropout, rng, hidden=None, embedding_std=0.01, blocks=1):
        super().__init__()
        self.d, self.length = d, length
        # Sparse gradients: a step touches a few thousand rows, and a dense update of the whole table
        # costs more than the rest of the step on a large catalogue.
        self.E = nn.Embedding(rows, d, padding_idx=ROWS["padding"], sparse=True)
        self.bias = nn.Embedding(rows, 1, sparse=True)
        self.P = nn.Parameter(torch.empty(length, d))
        self.blocks = nn.ModuleList(Block(d, hidden or d) for _ in range(blocks))
        self.ln_out = nn.LayerNorm(d, eps=LN_EPS)
        self.context = nn.Linear(context_dims, d) if context_dims else None
        self.attributes = nn.Linear(item_dims, d, bias=False) if item_dims else None
        self.drop = Dropout(dropout, rng)
        with torch.no_grad():
            # Item rows start near zero (SASRec's Xavier start is about as small): a row grows only as
            # far as its item's positives and negatives push it, so a rarely seen item stays close to
            # its bias instead of scoring at random (most of the sampled items it is ranked against are rare).
            nn.init.normal_(self.E.weight, 0.0, embedding_std)
            self.E.weight[ROWS["padding"]].zero_()
            nn.init.normal_(self.P, 0.0, 1.0 / math.sqrt(d))
            self.bias.weight.zero_()
            for lin in (self.context, self.attributes):
                if lin is not None:
                    nn.init.normal_(lin.weight, 0.0, 0.01)
                    if lin.bias is not None:
                        lin.bias.zero_()
        self.register_buffer("causal", torch.triu(torch.full((length, length), -1e9), 1))

    def visitors(self, tokens, context, training=False):
        """tokens int64 [B, t] right-aligned (0 = padding), context float32 [B, t, Dc] or None ->
        the visitor vector at every position, [B, t, d]."""
        t = tokens.shape[1]
        present = (tokens != ROWS["padding"]).float()[..., None]
        x = self.E(tokens) * math.sqrt(self.d) + self.P[self.length - t:][None]
        x = self.drop(x, training) * present
        mask = self.causal[:t, :t][None] + (1.0 - present.transpose(1, 2)) * -1e9
        for block in self.blocks:
            x = block(x, mask, self.drop, training) * present
        u = self.ln_out(x)
        if self.context is not None:
            u = u + self.context(context)
        return u

    def items(self, rows, features):
        """Candidate vectors [..., d] of catalogue rows (with their attribute rows, or None)."""
        v = self.E(rows)
        if self.attributes is not None:
            v = v + self.attributes(features)
        return v

    def weights(self):
        """fp32 numpy parameters, named as export.py reads them."""
        t = lambda p: p.detach().cpu().numpy().astype(np.float32).copy()
        w = {"E": t(self.E.weight), "bias": t(self.bias.weight)[:, 0], "P": t(self.P),
             "lnf_g": t(self.ln_out.weight), "lnf_b": t(self.ln_out.bias), "blocks": []}
        for b in self.blocks:
            block = {"ln1_g": t(b.ln1.weight), "ln1_b": t(b.ln1.bias), "ln2_g": t(b.ln2.weight), "ln2_b": t(b.ln2.bias)}
            for name in ("q", "k", "v", "o", "f1", "f2"):
                lin = getattr(b, name)
                block[f"W{name}"], block[f"b{name}"] = t(lin.weight).T.copy(), t(lin.bias)
            w["blocks"].append(block)
        if self.context is not None:
            w["Wc"], w["bc"] = t(self.context.weight).T.copy(), t(self.context.bias)
        if self.attributes is not None:
            w["Wa"] = t(self.attributes.weight).T.copy()
        return w


def pad(rows_list):
    """Right-aligned int64 [B, t] (0 = padding) of variable-length row lists."""
    t = max(len(r) for r in rows_list)
    out = np.zeros((len(rows_list), t), dtype=np.int64)
    for i, r in enumerate(rows_list):
        out[i, t - len(r):] = r
    return out


def last_visitors(model, tokens_list, contexts):
    """The visitor vector at the most recent position of each token list, [B, d] (eval mode)."""
    tokens = torch.from_numpy(pad(tokens_list))
    ctx = None if contexts is None else torch.from_numpy(np.repeat(contexts[:, None, :], tokens.shape[1], axis=1))
    return model.visitors(tokens, ctx)[:, -1]
