"""The feature-encoding contract shared with the worker (TypeScript encoder).

A manifest lists FeatureSpecs; the encoded row for (profile, context, item) is the
concatenation, in list order, of each spec's block:

  categorical  width len(vocabulary)+1  one-hot of String(value) in vocabulary; the LAST
               column is hot when the value is missing or not in the vocabulary. If the
               spec has "serving", that value is used at serving time (training rows use
               their real value).
  numeric      width 1   (x - mean) / std; missing -> x = default if given, else column = 0
  cyclic       width 2   sin(2*pi*x/period), cos(2*pi*x/period); missing -> 0, 0
  user_item    width 1   x = profile[key][contentId], missing -> default; (x - mean) / std

Value lookup: source "user" -> profile.attributes[key]; "context" -> context[key];
"item" -> the content id for key "contentId", else item.attributes[key].

This module is the reference implementation: training, the int8 parity check and the
parity fixture (models/default/parity.json) are all encoded with `encode()` below.
Math is done in float64 and the row is cast to float32, as the worker does (JS numbers
into a Float32Array).
"""
import math
from collections import Counter

import numpy as np


def js_string(value):
    """String(value) as JavaScript would print it, for the vocabulary comparison."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _sig(x, digits=6):
    """Round to a few significant digits so the manifest stores exactly what we used."""
    return float(f"{x:.{digits}g}")


def width(spec):
    kind = spec["kind"]
    if kind == "categorical":
        return len(spec["vocabulary"]) + 1
    if kind == "cyclic":
        return 2
    return 1  # numeric, user_item


def input_width(specs):
    return sum(width(s) for s in specs)


def lookup(spec, profile, context, item):
    """The raw value a spec reads, or None when it is missing."""
    source, key = spec.get("source"), spec["key"]
    if spec["kind"] == "user_item":
        per_item = (profile or {}).get(key) or {}
        return per_item.get(item.get("contentId"))
    if source == "user":
        return ((profile or {}).get("attributes") or {}).get(key)
    if source == "context":
        return (context or {}).get(key)
    if source == "item":
        if key == "contentId":
            return item.get("contentId")
        return (item.get("attributes") or {}).get(key)
    raise ValueError(f"unknown source {source!r} in spec {spec['name']}")


def encode_block(spec, value):
    kind = spec["kind"]
    if kind == "categorical":
        vocab = spec["vocabulary"]
        out = [0.0] * (len(vocab) + 1)
        idx = vocab.index(js_string(value)) if value is not None and js_string(value) in vocab else len(vocab)
        out[idx] = 1.0
        return out
    if kind == "numeric":
        if value is None:
            if spec.get("default") is None:
                return [0.0]
            value = spec["default"]
        return [(float(value) - spec["mean"]) / spec["std"]]
    if kind == "cyclic":
        if value is None:
            return [0.0, 0.0]
        angle = 2 * math.pi * float(value) / spec["period"]
        return [math.sin(angle), math.cos(angle)]
    if kind == "user_item":
        x = spec["default"] if value is None else float(value)
        return [(x - spec["mean"]) / spec["std"]]
    raise ValueError(f"unknown kind {kind!r}")


def encode(specs, profile, context, item, serving=True):
    """One row (list of float64). serving=True applies the specs' "serving" overrides."""
    row = []
    for spec in specs:
        if serving and "serving" in spec:
            value = spec["serving"]
        else:
            value = lookup(spec, profile, context, item)
        row.extend(encode_block(spec, value))
    return row


def encode_matrix(specs, triples, serving=True):
    """float32 [N, D] from an iterable of (profile, context, item)."""
    return np.asarray([encode(specs, p, c, i, serving) for p, c, i in triples], dtype=np.float32)


def column_slices(specs):
    """name -> slice of that spec's columns in the encoded row."""
    out, start = {}, 0
    for spec in specs:
        w = width(spec)
        out[spec["name"]] = slice(start, start + w)
        start += w
    return out


# ---------------------------------------------------------------------------------
# Fitting the OBD feature set from training rows (vocabularies and normalisation).

USER_CATEGORICAL = [f"user_feature_{k}" for k in range(4)]
ITEM_CATEGORICAL = [f"item_feature_{k}" for k in (1, 2, 3)]


def fit_specs(train_rows, items, min_count=10):
    """FeatureSpecs for the OBD model, fitted on training rows only.

    - user categoricals: values seen >= min_count times in train, sorted; rest -> OOV.
    - itemAffinity: mean 0 and std = RMS of the non-zero training values, so that
      "no affinity" encodes as exactly 0 and a typical interaction count as ~1.
      (The plain std of this 99.8%-zero column is ~0.08 and would blow single
      interactions up to 10-200 standard units, which hurts training and int8.)
    - contentId: the 80 catalogue ids (so the model knows each item).
    - item_feature_0: mean/std over training impressions; missing -> 0 (mean).
    - item categoricals: all values of the catalogue's items, sorted.
    - hour / dayOfWeek: cyclic, from the timestamp in Japan time.
    - position: "1","2","3"; served as "1" (score as if in the top slot).
    """
    specs = []
    for key in USER_CATEGORICAL:
        counts = Counter(r["profile"]["attributes"][key] for r in train_rows)
        vocab = sorted(v for v, n in counts.items() if n >= min_count)
        specs.append({"name": key, "kind": "categorical", "source": "user", "key": key, "vocabulary": vocab})

    nonzero = [v for r in train_rows for cid, v in r["profile"]["itemAffinity"].items() if cid == r["contentId"]]
    rms = math.sqrt(sum(v * v for v in nonzero) / len(nonzero)) if nonzero else 1.0
    specs.append({"name": "itemAffinity", "kind": "user_item", "key": "itemAffinity",
                  "mean": 0.0, "std": _sig(rms), "default": 0.0})

    specs.append({"name": "contentId", "kind": "categorical", "source": "item", "key": "contentId",
                  "vocabulary": catalogue_order(items)})

    x0 = np.array([items[r["contentId"]]["attributes"]["item_feature_0"] for r in train_rows])
    specs.append({"name": "item_feature_0", "kind": "numeric", "source": "item", "key": "item_feature_0",
                  "mean": _sig(x0.mean()), "std": _sig(x0.std())})
    for key in ITEM_CATEGORICAL:
        vocab = sorted({it["attributes"][key] for it in items.values()})
        specs.append({"name": key, "kind": "categorical", "source": "item", "key": key, "vocabulary": vocab})

    specs.append({"name": "hour", "kind": "cyclic", "source": "context", "key": "hour", "period": 24})
    specs.append({"name": "dayOfWeek", "kind": "cyclic", "source": "context", "key": "dayOfWeek", "period": 7})
    specs.append({"name": "position", "kind": "categorical", "source": "context", "key": "position",
                  "vocabulary": ["1", "2", "3"], "serving": "1"})
    return specs


def catalogue_order(items):
    """men-0..men-33, women-0..women-45 (numeric order within a campaign)."""
    return sorted(items, key=lambda cid: (cid.split("-")[0], int(cid.split("-")[1])))
