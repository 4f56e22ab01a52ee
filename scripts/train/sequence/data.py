"""What scripts/train/sequence/tensors.ts writes for the sequence trainer, little-endian binary.

In the data directory, with index.json naming the sizes:
  sequences.rows          int32 [P]      catalogue row of every positive, grouped by visitor, oldest first
  sequences.users         int32 [U + 1]  visitor u's positives are [users[u], users[u+1])
  sequences.split         uint8 [P]      0 train, 1 validation (second to last), 2 test (last)
  sequences.context       float32 [P, Dc]  the visitor/context row at each positive
  sequences.itemFeatures  float32 [P, Di]  the positive item's attribute row
  items.features          float32 [R + n, Di]  attribute row of every catalogue row (rows 0-2: zeros), then of
                                         the n items of the data without a row (index.json itemsWithoutRow)
and, per scored set NAME (groups: one visitor and context, several candidates):
  NAME.history  int32 [H], NAME.historyOffsets int32 [G + 1]   the visitor's rows, oldest first
  NAME.context  float32 [G, Dc]
  NAME.items    int32 [C], NAME.groups int32 [G + 1]            candidate rows per group
  NAME.itemFeatures float32 [C, Di]
Row layout (worker/inference/encode.ts ROWS): 0 padding, 1 unknown item, 2 start, 3.. catalogue.
"""
import json
import os

import numpy as np

ROWS = {"padding": 0, "unknown": 1, "start": 2, "firstItem": 3}


def _read(directory, name, dtype, shape=None):
    data = np.fromfile(os.path.join(directory, name), dtype=dtype)
    return data.reshape(shape) if shape is not None else data


class Sequences:
    """Every visitor's positives and the catalogue's attribute rows."""

    def __init__(self, directory, index):
        self.rows_total = index["rows"]
        self.length = index["length"]
        dc, di = index["contextDims"], index["itemDims"]
        self.context_dims, self.item_dims = dc, di
        self.rows = _read(directory, "sequences.rows", "<i4").astype(np.int64)
        self.users = _read(directory, "sequences.users", "<i4").astype(np.int64)
        self.split = _read(directory, "sequences.split", np.uint8)
        p = len(self.rows)
        self.context = _read(directory, "sequences.context", "<f4", (p, dc))
        self.item_features = _read(directory, "sequences.itemFeatures", "<f4", (p, di))
        self.items_without_row = index["itemsWithoutRow"]
        self.catalogue_features = _read(directory, "items.features", "<f4", (self.rows_total + self.items_without_row, di))

    def visitors(self):
        for u in range(len(self.users) - 1):
            yield slice(int(self.users[u]), int(self.users[u + 1]))

    def windows(self, up_to=0):
        """Training windows: for each visitor's positives s of split <= `up_to` (0: training only; 1:
        with the validation one), tokens ([start] + s)[a:b] predict s[a:b] (position by position,
        causally), in blocks of `length` from the most recent back. Returns (tokens, targets,
        positions) lists; positions index the positives (for context)."""
        tokens, targets, positions = [], [], []
        for span in self.visitors():
            idx = np.arange(span.start, span.stop)[self.split[span] <= up_to]
            if len(idx) == 0:
                continue
            source = np.concatenate([[ROWS["start"]], self.rows[idx[:-1]]])
            for end in range(len(idx), 0, -self.length):
                a = max(0, end - self.length)
                tokens.append(source[a:end])
                targets.append(self.rows[idx[a:end]])
                positions.append(idx[a:end])
        return tokens, targets, positions

    def held_out(self, which):
        """(histories, target positions) of each visitor's validation (1) or test (2) positive."""
        histories, targets = [], []
        for span in self.visitors():
            hit = np.flatnonzero(self.split[span] == which)
            if len(hit) == 0:
                continue
            at = span.start + int(hit[0])
            histories.append(self.rows[span.start:at])
            targets.append(at)
        return histories, np.asarray(targets, dtype=np.int64)

    def seen_by(self):
        """Per visitor, the set of catalogue rows among their positives (never sampled as their negatives)."""
        return [set(self.rows[span].tolist()) for span in self.visitors()]


class ScoredSet:
    """Groups to score: a visitor's history and context, and candidate rows with attribute rows."""

    def __init__(self, directory, name, meta, dc, di):
        read = lambda ext, dtype, shape=None: _read(directory, f"{name}.{ext}", dtype, shape)
        self.name = name
        self.history = read("history", "<i4").astype(np.int64)
        self.history_offsets = read("historyOffsets", "<i4").astype(np.int64)
        self.items = read("items", "<i4").astype(np.int64)
        self.groups = read("groups", "<i4").astype(np.int64)
        g, c = len(self.groups) - 1, len(self.items)
        assert g == meta["groups"] and c == meta["candidates"], f"{name}: sizes differ from index.json"
        self.context = read("context", "<f4", (g, dc))
        self.item_features = read("itemFeatures", "<f4", (c, di))

    def __len__(self):
        return len(self.groups) - 1


def tokens_of(history, length):
    """The model's input for a history (oldest first): ([start] + history)[-length:], as the worker's encoder builds it."""
    return np.concatenate([[ROWS["start"]], history])[-length:]


def load(directory):
    with open(os.path.join(directory, "index.json")) as fh:
        index = json.load(fh)
    sequences = Sequences(directory, index)
    sets = {name: ScoredSet(directory, name, meta, index["contextDims"], index["itemDims"])
            for name, meta in index["sets"].items()}
    return index, sequences, sets
