#!/usr/bin/env python3
"""Train the default edge-personalizer ranking model on the Open Bandit Dataset sample.

Pipeline (deterministic for a given --seed):
  1. load the four OBD files (random/bts x men/women) as contract-shaped rows (data.py)
  2. split on time: first 70% train, next 10% validation, last 20% test
  3. fit the feature specs (vocabularies, normalisation) on train+validation (features.py)
  4. train an MLP D->H->1 with BCE + L2, early stopping on validation log loss, then
     refit on train+validation for the chosen number of epochs (model.py)
  5. evaluate on the test period vs constant and item-popularity baselines (metrics.py)
  6. int8-quantise the weights and write the fp32 (build dir) and int8 (model dir)
     ONNX graphs, with parity figures (quantize.py, export.py)
  7. write manifest.json, parity.json, obd-items.json, demo-catalogue.json,
     demo-visitors.json and MODEL_CARD.md (demo.py, card.py)

Run through scripts/train.sh (which checks the Python environment), or directly:
  /usr/bin/python3 scripts/train/train.py --obd ../shared/data/obd --out models/default
"""
import argparse
import datetime as dt
import hashlib
import json
import os
import sys
import time
from collections import Counter

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
REPO = os.path.dirname(os.path.dirname(HERE))

import card  # noqa: E402
import data  # noqa: E402
import demo  # noqa: E402
import export  # noqa: E402
import features as F  # noqa: E402
import metrics as MT  # noqa: E402
import quantize as Q  # noqa: E402
from model import fit  # noqa: E402

VERSION = "obd-mlp-1"


def parse_args():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--obd", default=os.path.join(REPO, "..", "shared", "data", "obd"),
                    help="Open Bandit Dataset sample root (default: ../shared/data/obd from the repo root)")
    ap.add_argument("--out", default=os.path.join(REPO, "models", "default"), help="model directory to write")
    ap.add_argument("--build", default=os.path.join(HERE, "out"), help="scratch dir for the fp32 model (not committed)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--epochs", type=int, default=30, help="maximum epochs (early stopping usually ends sooner)")
    ap.add_argument("--patience", type=int, default=10)
    ap.add_argument("--hidden", type=int, default=32)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--weight-decay", type=float, default=3e-4, help="L2 on the weight matrices")
    ap.add_argument("--init-std", type=float, default=0.01, help="std of the initial weights")
    ap.add_argument("--se-tolerance", type=float, default=2.0,
                    help="early stopping keeps epochs within this many paired SEs of the best validation loss")
    ap.add_argument("--batch-size", type=int, default=512)
    ap.add_argument("--min-count", type=int, default=10, help="min train count for a user-feature value")
    ap.add_argument("--p-anon", type=float, default=0.1, help="share of rows shown as anonymous per epoch")
    ap.add_argument("--p-noid", type=float, default=0.1, help="share of rows shown with an unknown contentId")
    ap.add_argument("--bootstrap", type=int, default=1000, help="bootstrap resamples for AUC CIs")
    return ap.parse_args()


def log(msg):
    print(msg, flush=True)


def clicks(rows):
    return int(sum(r["click"] for r in rows))


def labels(rows):
    return np.array([r["click"] for r in rows], dtype=np.float32)


def popularity_baseline(fit_rows, m):
    """Item CTR smoothed towards the global CTR with m pseudo-impressions."""
    shown = Counter(r["contentId"] for r in fit_rows)
    clicked = Counter(r["contentId"] for r in fit_rows if r["click"])
    p0 = clicks(fit_rows) / len(fit_rows)
    return lambda rows: np.array([(clicked[r["contentId"]] + m * p0) / (shown[r["contentId"]] + m) for r in rows])


def main():
    args = parse_args()
    t_start = time.time()
    obd = os.path.normpath(args.obd)
    os.makedirs(args.out, exist_ok=True)
    os.makedirs(args.build, exist_ok=True)

    # 1-2. data and time-based split -------------------------------------------------
    items = data.load_items(obd)
    rows = data.load_rows(obd)
    train, val, test, cuts = data.time_split(rows)
    log(f"OBD rows {len(rows)} clicks {clicks(rows)} | train {len(train)}/{clicks(train)} "
        f"val {len(val)}/{clicks(val)} test {len(test)}/{clicks(test)} (rows/clicks)")
    fit_rows = train + val

    # 3. feature specs and encoding --------------------------------------------------
    specs = F.fit_specs(fit_rows, items, min_count=args.min_count)
    d = F.input_width(specs)
    log(f"features: D={d} " + ", ".join(f"{s['name']}:{F.width(s)}" for s in specs))

    def enc(rs, profile=True, content=True):
        """Training-time encoding (real logged position)."""
        triples = []
        for r in rs:
            item = items[r["contentId"]]
            if not content:
                item = {"contentId": None, "attributes": item["attributes"]}
            triples.append((r["profile"] if profile else None, r["context"], item))
        return F.encode_matrix(specs, triples, serving=False)

    def aug_for(rs):
        return {"anon": enc(rs, profile=False), "noid": enc(rs, content=False), "p_anon": args.p_anon,
                "p_noid": args.p_noid, "id_cols": F.column_slices(specs)["contentId"]}

    x_train, x_val, x_test, x_fit = enc(train), enc(val), enc(test), enc(fit_rows)
    y_train, y_val, y_test, y_fit = labels(train), labels(val), labels(test), labels(fit_rows)

    # 4. train: early stopping on validation, then refit on train+validation -----------
    hp = dict(seed=args.seed, hidden=args.hidden, lr=args.lr, weight_decay=args.weight_decay,
              batch_size=args.batch_size, init_std=args.init_std)
    t0 = time.time()
    log("training (early stopping on validation log loss) ...")
    _, best_epoch, history = fit(x_train, y_train, x_val, y_val, aug=aug_for(train), epochs=args.epochs,
                                 patience=args.patience, se_tolerance=args.se_tolerance, log=log, **hp)
    if best_epoch == 0:
        log("WARNING: early stopping kept the untrained (constant) model")
    log(f"refit on train+validation for {best_epoch} epochs ...")
    model, _, _ = fit(x_fit, y_fit, None, None, aug=aug_for(fit_rows), epochs=best_epoch, log=log, **hp)
    train_seconds = time.time() - t0
    log(f"training wall time {train_seconds:.1f}s")
    model.eval()
    params = model.weights()
    qparams = Q.quantize_params(params)

    # 5. test metrics vs baselines ---------------------------------------------------
    with torch.no_grad():
        p_torch = torch.sigmoid(model(torch.from_numpy(x_test))).numpy()[:, 0]
    p_int8 = Q.score_int8(qparams, x_test)
    p_const = np.full(len(test), y_fit.mean())
    # popularity smoothing chosen on validation (counts from train), then refit on train+val
    m_grid = [10, 30, 100, 300, 1000]
    m_best = min(m_grid, key=lambda m: MT.logloss(y_val, popularity_baseline(train, m)(val)))
    p_pop = popularity_baseline(fit_rows, m_best)(test)
    # ablation: the same model with the user side blanked (as for an anonymous visitor)
    p_anon = Q.score_int8(qparams, enc(test, profile=False))

    def summary(p):
        return {"auc": MT.auc(y_test, p), "logloss": MT.logloss(y_test, p)}

    test_metrics = {"model_int8": summary(p_int8), "model_fp32": summary(p_torch),
                    "popularity": summary(p_pop), "constant": summary(p_const),
                    "model_int8_userFeaturesBlanked": summary(p_anon)}
    ci = MT.bootstrap_auc(y_test, {"model_int8": p_int8, "popularity": p_pop}, n_boot=args.bootstrap,
                          seed=args.seed)
    lowest = min(history, key=lambda h: h["val_logloss"])
    chosen = next(h for h in history if h["epoch"] == best_epoch)
    val_metrics = {"constant_logloss": MT.logloss(y_val, np.full(len(val), y_train.mean())),
                   "lowestLoglossEpoch": lowest["epoch"], "lowestLogloss": lowest["val_logloss"],
                   "chosenEpoch": best_epoch, "chosenLogloss": chosen["val_logloss"],
                   "chosenAuc": chosen["val_auc"], "chosenZvsLowest": chosen["val_z_vs_best"],
                   "epochsRun": len(history) - 1,
                   "curve": [{k: round(v, 5) if isinstance(v, float) else v for k, v in h.items()} for h in history]}
    for k, v in test_metrics.items():
        log(f"  test {k:32s} AUC {v['auc']:.4f}  logloss {v['logloss']:.5f}")
    log(f"  AUC 95% bootstrap CI: {json.dumps(ci)}")

    # 6. ONNX export, quantisation, parity --------------------------------------------
    fp32_path = os.path.join(args.build, "model.fp32.onnx")
    int8_path = os.path.join(args.out, "model.onnx")
    fp32_bytes = export.save(export.fp32_model(params), fp32_path)
    int8_bytes = export.save(export.int8_model(qparams), int8_path)
    sizes = {"fp32Bytes": len(fp32_bytes), "int8Bytes": len(int8_bytes),
             "ratio": round(len(fp32_bytes) / len(int8_bytes), 3)}
    log(f"ONNX fp32 {sizes['fp32Bytes']} B, int8 {sizes['int8Bytes']} B, ratio {sizes['ratio']}")

    # candidate sets: every 5th test decision, scored over its campaign's items (serving encoding)
    decisions = test[::5]
    sets_fp32, sets_int8 = [], []
    for r in decisions:
        cands = [it for cid, it in items.items() if it["campaign"] == r["campaign"]]
        x = F.encode_matrix(specs, [(r["profile"], r["context"], it) for it in cands])
        with torch.no_grad():
            sets_fp32.append(torch.sigmoid(model(torch.from_numpy(x))).numpy()[:, 0])
        sets_int8.append(Q.score_int8(qparams, x))
    agreement = MT.rank_agreement(sets_fp32, sets_int8)
    parity = {
        "testRows": len(test),
        "maxAbsScoreErrorInt8VsTorchFp32": float(np.abs(p_int8 - p_torch).max()),
        "meanAbsScoreErrorInt8VsTorchFp32": float(np.abs(p_int8 - p_torch).mean()),
        "maxRelScoreErrorInt8VsTorchFp32": float((np.abs(p_int8 - p_torch) / p_torch).max()),
        "maxAbsScoreErrorNumpyFp32GraphVsTorch": float(np.abs(Q.score_fp32(params, x_test) - p_torch).max()),
        "rankingAgreementInt8VsFp32": agreement,
    }
    log(f"parity: {json.dumps(parity)}")

    # 7. demo data, fixture, manifest, card --------------------------------------------
    catalogue = F.catalogue_order(items)
    demo_cat = demo.demo_catalogue(rows)
    score_int8 = lambda x: Q.score_int8(qparams, x)
    visitors = demo.pick_visitors(score_int8, specs, rows, items, demo_cat)
    for v in visitors["visitors"]:
        log(f"  {v['id']}: {v['top5']}")
    log(f"  anonymous: {visitors['anonymousTop5']}")
    # how much do user features move rankings? (real visitors from the test period)
    sens_sets_anon, sens_sets_user = [], []
    demo_items = [items[c] for c in demo_cat]
    for r in test[::25]:
        sens_sets_user.append(score_int8(F.encode_matrix(specs, [(r["profile"], demo.DEMO_CONTEXT, it) for it in demo_items])))
        sens_sets_anon.append(score_int8(F.encode_matrix(specs, [(None, demo.DEMO_CONTEXT, it) for it in demo_items])))
    top5_changed = float(np.mean([set(np.argsort(-a)[:5]) != set(np.argsort(-u)[:5])
                                  for a, u in zip(sens_sets_anon, sens_sets_user)]))
    user_sensitivity = dict(MT.rank_agreement(sens_sets_anon, sens_sets_user), top5SetChanged=top5_changed)
    user_sensitivity = {"visitorsSampled": user_sensitivity.pop("decisions"), **user_sensitivity}
    log(f"user-feature sensitivity (anonymous vs real visitor, demo catalogue): {json.dumps(user_sensitivity)}")

    fixture = {"tolerance": 1e-4, "model": "model.onnx", "version": VERSION,
               "note": "expected = numpy emulation of the int8 graph; expectedFp32 = the fp32 graph. "
                       "encodedFirstItem = the encoded feature row of each case's first item.",
               "cases": demo.parity_cases(specs, items, demo_cat, visitors, score_int8,
                                          lambda x: Q.score_fp32(params, x))}

    def write_json(name, obj):
        with open(os.path.join(args.out, name), "w") as fh:
            json.dump(obj, fh, indent=2, ensure_ascii=False)
            fh.write("\n")

    write_json("obd-items.json", [{"contentId": c, "campaign": items[c]["campaign"],
                                   "attributes": items[c]["attributes"]} for c in catalogue])
    write_json("demo-catalogue.json", {"contentIds": demo_cat})
    write_json("demo-visitors.json", visitors)
    write_json("parity.json", fixture)
    aff_rows = [r for r in rows if r["profile"]["itemAffinity"].get(r["contentId"], 0) > 0]
    training = {
        "data": {"source": "Open Bandit Dataset small sample (zr-obp obd/), Saito et al. arXiv:2008.07146, Apache-2.0",
                 "files": [f"{p}/{c}/{c}.csv" for p in data.POLICIES for c in data.CAMPAIGNS],
                 "rows": len(rows), "clicks": clicks(rows), "items": len(items),
                 "impressionsWithItemAffinity": {"rows": len(aff_rows), "clicks": clicks(aff_rows)},
                 "timezone": "hour/dayOfWeek from timestamp in Asia/Tokyo (UTC+9)"},
        "split": {"method": "time-based: first 70% of the time range train, next 10% validation, last 20% test",
                  **cuts,
                  "train": {"rows": len(train), "clicks": clicks(train)},
                  "validation": {"rows": len(val), "clicks": clicks(val)},
                  "test": {"rows": len(test), "clicks": clicks(test)}},
        "model": {"architecture": f"MLP {d}->{args.hidden}->1, ReLU, sigmoid", "loss": "binary cross-entropy",
                  "optimizer": "Adam", "lr": args.lr, "weightDecayL2": args.weight_decay,
                  "batchSize": args.batch_size, "initStd": args.init_std, "maxEpochs": args.epochs,
                  "patience": args.patience, "earlyStoppingSeTolerance": args.se_tolerance,
                  "epochs": best_epoch, "refit": "train+validation for the epoch count kept by early stopping",
                  "featureDropout": {"anonymousUser": args.p_anon, "unknownContentId": args.p_noid},
                  "seed": args.seed, "parameters": int(sum(p.numel() for p in model.parameters())),
                  "trainWallSeconds": round(train_seconds, 1)},
        "validation": val_metrics,
        "test": {"clicks": clicks(test), "rows": len(test), "metrics": test_metrics,
                 "aucBootstrap95": ci, "bootstrapResamples": args.bootstrap,
                 "popularitySmoothingPseudoImpressions": m_best},
        "userFeatureSensitivity": user_sensitivity,
        "quantization": {"scheme": "int8 symmetric per-output-channel weights (DequantizeLinear axis=1), "
                                   "zero point 0, fp32 biases", **sizes},
        "parity": parity,
    }
    manifest = {
        "schemaVersion": 1,
        "version": VERSION,
        "createdAt": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z"),
        "file": "model.onnx",
        "sha256": hashlib.sha256(int8_bytes).hexdigest(),
        "quantization": "int8",
        "input": {"name": "features", "dims": d},
        "output": {"name": "score"},
        "features": specs,
        "catalogue": catalogue,
        "training": training,
    }
    write_json("manifest.json", manifest)
    with open(os.path.join(args.out, "MODEL_CARD.md"), "w") as fh:
        fh.write(card.render(manifest, visitors, demo_cat))
    log(f"wrote {args.out} and {fp32_path} (total {time.time() - t_start:.1f}s)")


if __name__ == "__main__":
    main()
