"""The encoded rows that scripts/train/featurize.ts writes: CSR sets in little-endian binary.

For a set NAME, in the data directory:
  NAME.indptr   int32 [rows + 1]    row r's non-zeros are [indptr[r], indptr[r+1])
  NAME.indices  int32 [nnz]         column of each non-zero
  NAME.values   float32 [nnz]       value of each non-zero
  NAME.groups   int32 [groups + 1]  rows of group g (one visitor + context) are [groups[g], groups[g+1])
  NAME.labels   uint8 [rows]        0/1, for the sets that have labels
index.json lists the sets with their sizes and the input width `dims`.
"""
import json
import os

import numpy as np
import torch


class Csr:
    def __init__(self, directory, name, meta, dims):
        path = lambda ext: os.path.join(directory, f"{name}.{ext}")
        self.name, self.dims = name, dims
        self.indptr = np.fromfile(path("indptr"), dtype="<i4").astype(np.int64)
        self.indices = np.fromfile(path("indices"), dtype="<i4").astype(np.int64)
        self.values = np.fromfile(path("values"), dtype="<f4")
        self.groups = np.fromfile(path("groups"), dtype="<i4").astype(np.int64)
        self.labels = np.fromfile(path("labels"), dtype=np.uint8).astype(np.float32) if meta["labels"] else None
        self.rows = len(self.indptr) - 1
        assert self.rows == meta["rows"] and len(self.indices) == meta["nnz"], f"{name}: sizes differ from index.json"

    def bags(self, rows=None):
        """(indices, offsets, per-sample weights) of the given rows (all by default) for nn.EmbeddingBag."""
        if rows is None:
            return (torch.from_numpy(self.indices), torch.from_numpy(self.indptr[:-1].copy()),
                    torch.from_numpy(self.values))
        starts = self.indptr[rows]
        lengths = self.indptr[rows + 1] - starts
        offsets = np.zeros(len(rows), dtype=np.int64)
        np.cumsum(lengths[:-1], out=offsets[1:])
        positions = np.repeat(starts - offsets, lengths) + np.arange(int(lengths.sum()))
        return (torch.from_numpy(self.indices[positions]), torch.from_numpy(offsets),
                torch.from_numpy(self.values[positions]))

    def dense_chunks(self, chunk=8192):
        """float32 [n, dims] blocks of consecutive rows, for the ONNX graph emulations."""
        for start in range(0, self.rows, chunk):
            stop = min(self.rows, start + chunk)
            block = np.zeros((stop - start, self.dims), dtype=np.float32)
            lo, hi = self.indptr[start], self.indptr[stop]
            row_of = np.repeat(np.arange(stop - start), np.diff(self.indptr[start:stop + 1]))
            block[row_of, self.indices[lo:hi]] = self.values[lo:hi]
            yield block


def load(directory):
    """(index, {name: Csr}) for every set in index.json."""
    with open(os.path.join(directory, "index.json")) as fh:
        index = json.load(fh)
    return index, {name: Csr(directory, name, meta, index["dims"]) for name, meta in index["sets"].items()}
