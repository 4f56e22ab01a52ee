"""Demo data for the worker's seed and the parity fixture for the worker's tests."""
from collections import Counter

import numpy as np

import features as F

# Context used for the demo rankings (a weekday evening in Japan); context values other
# than hour / dayOfWeek are ignored by this model.
DEMO_CONTEXT = {"hour": 20, "dayOfWeek": 3}


def demo_catalogue(rows, per_campaign=12):
    """The `per_campaign` most-shown items of each campaign (ties: lower item id)."""
    shown = Counter(r["contentId"] for r in rows)
    out = []
    for campaign in ("men", "women"):
        ids = [c for c in shown if c.startswith(campaign + "-")]
        ids.sort(key=lambda c: (-shown[c], int(c.split("-")[1])))
        out += ids[:per_campaign]
    return out


def item_json(item):
    return {"contentId": item["contentId"], "attributes": dict(item["attributes"])}


def rank(score_fn, specs, profile, context, items):
    """(content ids sorted by descending score, sorted scores)."""
    x = F.encode_matrix(specs, [(profile, context, it) for it in items])
    s = score_fn(x)
    order = np.argsort(-s.astype(np.float64), kind="stable")
    return [items[i]["contentId"] for i in order], s[order]


def _describe(profile, top5, anon_top5):
    attrs = profile["attributes"]
    aff = profile["itemAffinity"]
    leaning = {"cef3390ed299c09874189c387777674a": "mostly seen in the men campaign",
               "81ce123cbb5bd8ce818f60fb3586bba5": "mostly seen in the women campaign"}
    head = f"Real OBD visitor, user_feature_0={attrs['user_feature_0'][:8]}…"
    if attrs["user_feature_0"] in leaning:
        head += f" ({leaning[attrs['user_feature_0']]})"
    parts = [head]
    if aff:
        parts.append("logged affinity for " + ", ".join(f"{c} ({v:g})" for c, v in sorted(aff.items())))
    new = [c for c in top5 if c not in anon_top5]
    via_aff = [c for c in new if c in aff]
    other = [c for c in new if c not in aff]
    txt = f"{len(new)} of the top 5 are not in the anonymous top 5"
    if via_aff:
        txt += f" ({', '.join(via_aff)} via item affinity"
        txt += f"; {', '.join(other)} via user features)" if other else ")"
    elif other:
        txt += f" ({', '.join(other)} via user features)"
    parts.append(txt)
    return "; ".join(parts) + "."


def pick_visitors(score_fn, specs, rows, items_by_id, catalogue, n=4, min_new=2, margin=1e-6):
    """Choose up to n (at least 3) real visitor profiles whose top 5 over the demo catalogue
    each contain >= min_new items missing from the anonymous top 5 and differ pairwise by
    >= min_new items. Greedy: each pick is the candidate least similar to the anonymous
    list and to the visitors already picked (ties: the more common attribute combination).
    Only rankings whose top-6 scores are separated by >= `margin` are eligible, so float
    rounding in another runtime cannot flip them."""
    items = [items_by_id[c] for c in catalogue]
    anon_top, _ = rank(score_fn, specs, None, DEMO_CONTEXT, items)
    anon_top5 = anon_top[:5]

    # distinct real profiles (attributes + non-zero affinities for that row's campaign)
    seen, candidates = set(), []
    for r in rows:
        p = r["profile"]
        key = (tuple(sorted(p["attributes"].items())), tuple(sorted(p["itemAffinity"].items())))
        if key not in seen:
            seen.add(key)
            candidates.append((key, p))
    common = Counter(tuple(sorted(r["profile"]["attributes"].items())) for r in rows)

    eligible = []
    for key, p in candidates:
        top, scores = rank(score_fn, specs, p, DEMO_CONTEXT, items)
        if (-np.diff(scores[:6].astype(np.float64))).min() < margin:
            continue
        top5 = top[:5]
        if len(set(top5) - set(anon_top5)) >= min_new:
            eligible.append((key, p, top5))

    def shared(a, b):  # items in common, plus a little for the same positions
        return len(set(a) & set(b)) + 0.1 * sum(x == y for x, y in zip(a, b))

    chosen = []
    while len(chosen) < n:
        best = None
        for key, p, top5 in eligible:
            if any(key == c[0] for c in chosen):
                continue
            if any(len(set(top5) - set(c[2])) < min_new for c in chosen):
                continue
            others = [anon_top5] + [c[2] for c in chosen]
            rank_key = (max(shared(top5, o) for o in others), sum(shared(top5, o) for o in others),
                        -common[key[0]], key)
            if best is None or rank_key < best[0]:
                best = (rank_key, (key, p, top5))
        if best is None:
            break
        chosen.append(best[1])
    if len(chosen) < 3:
        raise RuntimeError(f"only {len(chosen)} clearly different demo visitors found")

    visitors = []
    for i, (_, p, top5) in enumerate(chosen):
        visitors.append({
            "id": f"demo-visitor-{'abcd'[i]}",
            "description": _describe(p, top5, anon_top5),
            "profile": {"attributes": dict(p["attributes"]), "itemAffinity": dict(sorted(p["itemAffinity"].items()))},
            "top5": top5,
        })
    return {"rankingContext": DEMO_CONTEXT, "catalogue": "demo-catalogue.json",
            "anonymousTop5": anon_top5, "visitors": visitors}


def parity_cases(specs, items_by_id, catalogue, visitors, score_int8, score_fp32):
    """~6 fixture cases covering anonymous, real, partial and unknown inputs."""
    cat_items = [item_json(items_by_id[c]) for c in catalogue]
    v = visitors["visitors"]
    some_item = items_by_id[catalogue[0]]
    cases = [
        {"name": "anonymous visitor, 20 demo items",
         "profile": None, "context": {"hour": 9, "dayOfWeek": 1}, "items": cat_items[:20]},
        {"name": "demo visitor a; context keys the model does not use are ignored",
         "profile": v[0]["profile"],
         "context": {"hour": 21, "dayOfWeek": 5, "country": "JP", "device": "mobile",
                     "pageCategory": "women", "referrerClass": "search"},
         "items": cat_items[4:24]},
        {"name": "demo visitor b, midnight on Sunday",
         "profile": v[1]["profile"], "context": {"hour": 0, "dayOfWeek": 0}, "items": cat_items[:20]},
        {"name": "partial profile: unknown / missing attributes, fractional and off-list affinities",
         "profile": {"attributes": {"user_feature_0": v[2]["profile"]["attributes"]["user_feature_0"],
                                    "user_feature_1": "not-a-known-hash",
                                    "user_feature_3": v[2]["profile"]["attributes"]["user_feature_3"]},
                     "itemAffinity": {catalogue[1]: 0.5, catalogue[14]: 3, "men-999": 7}},
         "context": {"hour": 13, "dayOfWeek": 6}, "items": cat_items[:12]},
        {"name": "unknown items: new content id, unknown hashes, missing attributes",
         "profile": v[3]["profile"] if len(v) > 3 else v[0]["profile"],
         "context": {"hour": 23, "dayOfWeek": 4},
         "items": [
             cat_items[0], cat_items[13],
             {"contentId": "men-999", "attributes": dict(some_item["attributes"])},
             {"contentId": "new-article-1", "attributes": {"item_feature_0": 0.25, "item_feature_1": "unseen-hash",
                                                          "item_feature_2": some_item["attributes"]["item_feature_2"]}},
             {"contentId": catalogue[5], "attributes": {}},
             {"contentId": "bare-item", "attributes": {}},
         ]},
        {"name": "anonymous visitor, empty context (hour/dayOfWeek missing -> 0,0)",
         "profile": None, "context": {}, "items": cat_items[10:24]},
    ]
    for case in cases:
        x = F.encode_matrix(specs, [(case["profile"], case["context"], it) for it in case["items"]])
        case["expected"] = [float(s) for s in score_int8(x)]
        case["expectedFp32"] = [float(s) for s in score_fp32(x)]
        case["encodedFirstItem"] = [float(a) for a in x[0]]
    return cases
