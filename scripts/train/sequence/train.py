#!/usr/bin/env python3
"""Train the sequence ranker on what scripts/train/sequence/tensors.ts wrote; tensors only.

Reads DATA/index.json and its files (data.py), then:
  1. trains on every visitor's positives before their validation and test ones, early stopping
     on the validation items' NDCG@10 against 99 sampled items, then refits the best epoch's
     weights on the validation positives too for a few epochs (model.py)
  2. exports OUT/model.onnx (int8 embedding rows, float32 elsewhere) and DATA/model.fp32.onnx (export.py)
  3. scores every scored set (the parity fixture) with the int8 graph's exact emulation (the model
     with its dequantized table) and with the fp32 model: DATA/NAME.int8.f32, DATA/NAME.fp32.f32
  4. writes DATA/report.json (hyperparameters, the validation curve, sizes)

Metrics on the test items, the manifest and the model card are the TypeScript side's
(scripts/train/sequence/pipeline.ts, with the worker's encoder and onnxruntime-web); run the whole
thing with `npm run train`.
"""
import argparse
import json
import math
import os
import sys
import time

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import data  # noqa: E402
import export  # noqa: E402
from model import fit, score_sets  # noqa: E402
from ranker import SequenceRanker  # noqa: E402

# Epochs grow as the data shrinks (a small data set needs more passes for as many optimizer steps),
# within these bounds; early stopping, not this cap, usually ends training.
TARGET_STEPS = 20_000
EPOCH_BOUNDS = (20, 400)
# Sampled items per step grow with the catalogue (a tenth of it), within these bounds: the softmax
# over uniformly drawn items approximates the one over the whole catalogue, which the evaluation's
# uniformly drawn items rank against, and a larger catalogue needs more of them for as close an
# approximation. They cost one [positions x negatives] matrix product per step, hence the cap.
NEGATIVE_SHARE = 0.1
NEGATIVE_BOUNDS = (256, 2048)
# Epochs on every positive but the test ones once early stopping has chosen the weights: the
# validation items are each visitor's latest transition before the test one, the nearest in time.
REFIT_EPOCHS = 3


def parse_args():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", required=True, help="directory with index.json and the tensors")
    ap.add_argument("--out", required=True, help="model directory for model.onnx (int8)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--epochs", type=int, default=None, help="maximum epochs (default: by data size)")
    ap.add_argument("--patience", type=int, default=5, help="epochs without a better validation NDCG@10 before stopping")
    ap.add_argument("--time-budget", type=float, default=600.0, help="CPU seconds of training after which no new epoch starts")
    ap.add_argument("--dim", type=int, default=64, help="embedding width d")
    ap.add_argument("--blocks", type=int, default=1, help="self-attention blocks")
    ap.add_argument("--hidden", type=int, default=None, help="feed-forward width (default d)")
    ap.add_argument("--dropout", type=float, default=0.5)
    ap.add_argument("--lr", type=float, default=3e-3, help="Adam, dense weights")
    ap.add_argument("--embedding-lr", type=float, default=3e-3,
                    help="SparseAdam, embedding rows (1e-2 learns faster but stops lower on Amazon Games)")
    ap.add_argument("--batch-size", type=int, default=128, help="training windows per step")
    ap.add_argument("--negatives", type=int, default=None,
                    help="catalogue items sampled per step for the softmax (default: a tenth of the catalogue, 256 to 2048)")
    ap.add_argument("--unknown-share", type=float, default=0.5, help="how often the rarest items are shown as the unknown row")
    ap.add_argument("--refit-epochs", type=int, default=REFIT_EPOCHS,
                    help="epochs with the validation positives after early stopping (0: none)")
    ap.add_argument("--validation-users", type=int, default=10_000)
    ap.add_argument("--threads", type=int, default=1, help="torch CPU threads (1: deterministic)")
    return ap.parse_args()


def log(msg):
    print(msg, flush=True)


def dequantized(model):
    """The model with its table through the int8 round trip: the int8 graph's exact emulation."""
    q = SequenceRanker(model.E.num_embeddings, model.d, model.length, model.context.in_features if model.context else 0,
                       model.attributes.in_features if model.attributes else 0, 0.0, np.random.default_rng(0),
                       model.blocks[0].f1.out_features, blocks=len(model.blocks))
    q.load_state_dict(model.state_dict())
    rows, scale = export.quantize_rows(model.E.weight.detach().numpy())
    with torch.no_grad():
        q.E.weight.copy_(torch.from_numpy(export.dequantize_rows(rows, scale)))
    q.eval()
    return q


def main():
    args = parse_args()
    index, seqs, sets = data.load(args.data)
    windows = seqs.windows()[0]
    steps_per_epoch = max(1, math.ceil(len(windows) / args.batch_size))
    max_epochs = args.epochs or int(min(max(math.ceil(TARGET_STEPS / steps_per_epoch), EPOCH_BOUNDS[0]), EPOCH_BOUNDS[1]))
    catalogue = seqs.rows_total - data.ROWS["firstItem"]
    negatives = args.negatives or int(min(max(round(NEGATIVE_SHARE * catalogue), NEGATIVE_BOUNDS[0]), NEGATIVE_BOUNDS[1]))
    log(f"{len(seqs.users) - 1} visitors, {len(seqs.rows)} positives, {catalogue} catalogue items, "
        f"context {seqs.context_dims} + item {seqs.item_dims} columns; at most {max_epochs} epochs of {steps_per_epoch} steps, "
        f"{negatives} sampled items per step")

    hp = dict(seed=args.seed, threads=args.threads, d=args.dim, blocks=args.blocks, hidden=args.hidden or args.dim,
              dropout=args.dropout, lr=args.lr, embedding_lr=args.embedding_lr,
              batch_size=args.batch_size, negatives=negatives, unknown_share=args.unknown_share, max_epochs=max_epochs,
              patience=args.patience, validation_users=args.validation_users, time_budget=args.time_budget,
              refit_epochs=args.refit_epochs)
    t0, c0 = time.time(), time.process_time()
    model, epoch, curve, stop, refit = fit(seqs, log=log, **hp)
    train_seconds, train_cpu = time.time() - t0, time.process_time() - c0
    weights = model.weights()

    io = {"sequence": index["inputs"]["sequence"], "items": index["inputs"]["items"], "score": index["outputs"]["score"],
          "visitor": index["outputs"]["visitor"]}
    if seqs.context_dims:
        io["context"] = index["inputs"]["context"]
    if seqs.item_dims:
        io["itemFeatures"] = index["inputs"]["itemFeatures"]
    fp32 = export.save(export.build(weights, io, seqs.length, int8=False), os.path.join(args.data, "model.fp32.onnx"))
    int8 = export.save(export.build(weights, io, seqs.length, int8=True), os.path.join(args.out, "model.onnx"))
    sizes = {"fp32Bytes": len(fp32), "int8Bytes": len(int8), "ratio": round(len(fp32) / len(int8), 3)}
    log(f"ONNX fp32 {sizes['fp32Bytes']} B, int8 {sizes['int8Bytes']} B, ratio {sizes['ratio']}")

    emulated = dequantized(model)
    for kind, m in (("fp32", model), ("int8", emulated)):
        for name, scores in score_sets(m, sets, seqs.length).items():
            scores.astype("<f4").tofile(os.path.join(args.data, f"{name}.{kind}.f32"))

    parameters = int(sum(p.numel() for p in model.parameters()))
    report = {
        "hyperparameters": {k: v for k, v in hp.items() if k not in ("threads",)},
        "threads": args.threads,
        "architecture": (f"item embeddings {seqs.rows_total}x{args.dim} (3 reserved rows), positions {seqs.length}x{args.dim}, "
                         f"{args.blocks} SASRec self-attention block{'s' if args.blocks > 1 else ''} "
                         f"(1 head, ReLU feed-forward {args.dim}->{hp['hidden']}->{args.dim}), "
                         f"context projection {seqs.context_dims}->{args.dim}, item attributes {seqs.item_dims}->{args.dim}, item bias"),
        "parameters": parameters,
        "epochs": epoch,
        "epochsRun": len(curve) - 1,
        "maxEpochs": max_epochs,
        "stoppedBy": stop,
        "refitLosses": refit,
        "curve": curve,
        "trainWallSeconds": round(train_seconds, 1),
        "trainCpuSeconds": round(train_cpu, 1),
        "processCpuSeconds": round(time.process_time(), 1),
        "opset": export.OPSET,
        "sizes": sizes,
    }
    with open(os.path.join(args.data, "report.json"), "w") as fh:
        json.dump(report, fh, indent=2)


if __name__ == "__main__":
    main()
