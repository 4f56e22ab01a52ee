"""Load the Open Bandit Dataset (OBD) sample into contract-shaped rows.

Every logged impression becomes a dict with the same shapes the worker sees at
serving time, so that one encoder (features.py) serves both training and serving:

    profile = {"attributes": {"user_feature_0": ..., ...},
               "itemAffinity": {"men-3": 2.0, ...}}      # non-zero affinities only
    context = {"hour": 0-23, "dayOfWeek": 0-6 (0=Sunday), "position": "1"|"2"|"3"}
    item    = {"contentId": "men-3", "attributes": {"item_feature_0": float,
               "item_feature_1": str, "item_feature_2": str, "item_feature_3": str}}

Data: Saito et al., "Open Bandit Dataset and Pipeline", arXiv:2008.07146 (Apache-2.0).
"""
import csv
import datetime as dt
import os

POLICIES = ("random", "bts")
CAMPAIGNS = ("men", "women")
# The site is Japanese: hour / day of week are taken in Japan Standard Time (UTC+9),
# which is what the worker passes (the visitor's local time).
JST = dt.timezone(dt.timedelta(hours=9))


def content_id(campaign, item_id):
    """Item ids overlap between campaigns, so the content id carries the campaign."""
    return f"{campaign}-{int(item_id)}"


def load_items(obd_root):
    """The 80 items, keyed by content id.

    The random and bts folders ship the same items, but item_feature_1..3 are hashed
    with a different salt in each folder (a consistent 1:1 relabelling; item_feature_0
    is identical). We use the `random` folder's hashes as the canonical attributes for
    every row, whichever policy logged it.
    """
    items = {}
    for campaign in CAMPAIGNS:
        path = os.path.join(obd_root, "random", campaign, "item_context.csv")
        with open(path, newline="") as fh:
            for rec in csv.DictReader(fh):
                cid = content_id(campaign, rec["item_id"])
                items[cid] = {
                    "contentId": cid,
                    "campaign": campaign,
                    "attributes": {
                        "item_feature_0": float(rec["item_feature_0"]),
                        "item_feature_1": rec["item_feature_1"],
                        "item_feature_2": rec["item_feature_2"],
                        "item_feature_3": rec["item_feature_3"],
                    },
                }
    return items


def _parse_ts(s):
    # e.g. "2019-11-24 00:03:13.442536+00:00"
    return dt.datetime.fromisoformat(s)


def load_rows(obd_root):
    """All impressions of the four files, sorted by timestamp (ties: file order)."""
    rows = []
    for policy in POLICIES:
        for campaign in CAMPAIGNS:
            path = os.path.join(obd_root, policy, campaign, f"{campaign}.csv")
            with open(path, newline="") as fh:
                reader = csv.DictReader(fh)
                aff_cols = [c for c in reader.fieldnames if c.startswith("user-item_affinity_")]
                for rec in reader:
                    ts = _parse_ts(rec["timestamp"])
                    local = ts.astimezone(JST)
                    affinity = {}
                    for col in aff_cols:
                        v = float(rec[col])
                        if v != 0.0:
                            affinity[content_id(campaign, col.rsplit("_", 1)[1])] = v
                    rows.append({
                        "ts": ts.timestamp(),
                        "policy": policy,
                        "campaign": campaign,
                        "contentId": content_id(campaign, rec["item_id"]),
                        "click": int(rec["click"]),
                        "profile": {
                            "attributes": {f"user_feature_{k}": rec[f"user_feature_{k}"] for k in range(4)},
                            "itemAffinity": affinity,
                        },
                        # Python weekday(): Monday=0 .. Sunday=6 -> contract: Sunday=0 .. Saturday=6
                        "context": {
                            "hour": local.hour,
                            "dayOfWeek": (local.weekday() + 1) % 7,
                            "position": rec["position"],
                        },
                    })
    rows.sort(key=lambda r: r["ts"])  # stable sort keeps file order for equal timestamps
    return rows


def time_split(rows, val_start=0.7, test_start=0.8):
    """Split on wall-clock time: [0, 70%) train, [70%, 80%) validation, [80%, 100%] test."""
    t0, t1 = rows[0]["ts"], rows[-1]["ts"]
    cut_val = t0 + val_start * (t1 - t0)
    cut_test = t0 + test_start * (t1 - t0)
    train = [r for r in rows if r["ts"] < cut_val]
    val = [r for r in rows if cut_val <= r["ts"] < cut_test]
    test = [r for r in rows if r["ts"] >= cut_test]
    iso = lambda t: dt.datetime.fromtimestamp(t, dt.timezone.utc).isoformat()
    cuts = {"start": iso(t0), "validationFrom": iso(cut_val), "testFrom": iso(cut_test), "end": iso(t1)}
    return train, val, test, cuts
