#!/usr/bin/env python3
"""Train the click model on the rows that scripts/train/featurize.ts encoded; tensors only.

Reads DATA/index.json and its CSR sets (csr.py), then:
  1. trains the MLP on `train`, early stopping on `validation` log loss (model.py)
  2. exports the fp32 ONNX graph to DATA/model.fp32.onnx and the int8 one (per-channel
     DequantizeLinear weights) to OUT/model.onnx, opset 13 (quantize.py, export.py)
  3. scores every other set (test, ranking, parity, demo, ...) with the int8 graph (numpy
     emulation) and with the fp32 model: DATA/NAME.int8.f32 and DATA/NAME.fp32.f32
  4. reports int8-vs-fp32 parity (score error on `test`, rank agreement over the groups of
     `ranking`), sizes and the training curve in DATA/report.json

Features, metrics, the manifest and the model card are the TypeScript side's
(scripts/train/pipeline.ts); run the whole thing with `npm run train`.
"""
import argparse
import json
import os
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import csr  # noqa: E402
import export  # noqa: E402
import quantize as Q  # noqa: E402
from metrics import rank_agreement  # noqa: E402
from model import fit  # noqa: E402


def parse_args():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", required=True, help="directory with index.json and the CSR sets")
    ap.add_argument("--out", required=True, help="model directory for model.onnx (int8)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--epochs", type=int, default=30, help="maximum epochs (early stopping usually ends sooner)")
    ap.add_argument("--patience", type=int, default=5)
    ap.add_argument("--hidden", type=int, default=32)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--weight-decay", type=float, default=3e-4, help="L2 on the weight matrices")
    ap.add_argument("--init-std", type=float, default=0.01, help="std of the initial weights")
    ap.add_argument("--se-tolerance", type=float, default=2.0,
                    help="early stopping keeps epochs within this many paired SEs of the best validation loss")
    ap.add_argument("--batch-size", type=int, default=512)
    ap.add_argument("--threads", type=int, default=1,
                    help="torch CPU threads (1: deterministic, and faster for these small batches than 2)")
    return ap.parse_args()


def log(msg):
    print(msg, flush=True)


def score_int8(qparams, s):
    return np.concatenate([Q.score_int8(qparams, x) for x in s.dense_chunks()]) if s.rows else np.zeros(0, np.float32)


def score_fp32_graph(params, s):
    return np.concatenate([Q.score_fp32(params, x) for x in s.dense_chunks()]) if s.rows else np.zeros(0, np.float32)


def main():
    args = parse_args()
    index, sets = csr.load(args.data)
    train, val = sets["train"], sets["validation"]
    log(f"train {train.rows} rows / {int(train.labels.sum())} positives, validation {val.rows} / "
        f"{int(val.labels.sum())}, D={train.dims}")

    t0 = time.time()
    hp = dict(seed=args.seed, threads=args.threads, hidden=args.hidden, epochs=args.epochs, lr=args.lr,
              weight_decay=args.weight_decay, batch_size=args.batch_size, patience=args.patience,
              init_std=args.init_std, se_tolerance=args.se_tolerance)
    model, epoch, history = fit(train, val, log=log, **hp)
    train_seconds = time.time() - t0
    params = model.weights()
    qparams = Q.quantize_params(params)

    io = {"input": index["input"], "output": index["output"]}
    fp32_bytes = export.save(export.fp32_model(params, io), os.path.join(args.data, "model.fp32.onnx"))
    int8_bytes = export.save(export.int8_model(qparams, io), os.path.join(args.out, "model.onnx"))
    sizes = {"fp32Bytes": len(fp32_bytes), "int8Bytes": len(int8_bytes),
             "ratio": round(len(fp32_bytes) / len(int8_bytes), 3)}
    log(f"ONNX fp32 {sizes['fp32Bytes']} B, int8 {sizes['int8Bytes']} B, ratio {sizes['ratio']}")

    scores = {}
    for name, s in sets.items():
        if name in ("train", "validation"):
            continue
        scores[name] = {"int8": score_int8(qparams, s), "fp32": model.scores(s)}
        for kind, values in scores[name].items():
            values.astype("<f4").tofile(os.path.join(args.data, f"{name}.{kind}.f32"))

    test, ranking = scores["test"], scores["ranking"]
    error = np.abs(test["int8"] - test["fp32"])
    groups = sets["ranking"].groups
    bounds = list(zip(groups[:-1], groups[1:]))
    parity = {
        "rows": int(len(error)),
        "maxAbsScoreErrorInt8VsFp32": float(error.max()),
        "meanAbsScoreErrorInt8VsFp32": float(error.mean()),
        "maxAbsScoreErrorFp32GraphVsTorch": float(np.abs(score_fp32_graph(params, sets["test"]) - test["fp32"]).max()),
        "rankAgreementInt8VsFp32": rank_agreement([ranking["fp32"][a:b] for a, b in bounds],
                                                  [ranking["int8"][a:b] for a, b in bounds]),
    }
    log(f"parity int8 vs fp32: {json.dumps(parity)}")
    report = {
        "hyperparameters": {k: v for k, v in hp.items() if k != "threads"},
        "threads": args.threads,
        "architecture": f"MLP {train.dims}->{args.hidden}->1, ReLU, sigmoid",
        "parameters": int(sum(p.numel() for p in model.parameters())),
        "epochs": epoch,
        "epochsRun": len(history) - 1,
        "curve": history,
        "trainWallSeconds": round(train_seconds, 1),
        "opset": export.OPSET,
        "sizes": sizes,
        "parity": parity,
    }
    with open(os.path.join(args.data, "report.json"), "w") as fh:
        json.dump(report, fh, indent=2)


if __name__ == "__main__":
    main()
