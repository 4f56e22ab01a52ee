"""Render models/default/MODEL_CARD.md from the run's manifest (all figures from the run)."""


def _f(x, nd=4):
    return f"{x:.{nd}f}"


def _affine(mean, std):
    """'(x − m) / s' with the sign folded in."""
    if mean == 0:
        return f"x / {std}"
    return f"(x {'−' if mean > 0 else '+'} {abs(mean)}) / {std}"


def _feature_rows(specs):
    from features import width
    out = []
    for s in specs:
        if s["kind"] == "categorical":
            detail = f"{len(s['vocabulary'])} values + OOV"
            if "serving" in s:
                detail += f"; served as `{s['serving']}`"
        elif s["kind"] == "numeric":
            detail = f"{_affine(s['mean'], s['std'])}; missing → 0"
        elif s["kind"] == "cyclic":
            detail = f"sin/cos of 2πx/{s['period']}; missing → 0, 0"
        else:
            detail = f"{_affine(s['mean'], s['std'])}; missing → x = {s['default']:g}"
        src = s.get("source", "user × item")
        out.append(f"| `{s['name']}` | {s['kind']} | {src} | {width(s)} | {detail} |")
    return "\n".join(out)


def render(m, visitors, demo_cat):
    t = m["training"]
    sp, mo, te, q, pa = t["split"], t["model"], t["test"], t["quantization"], t["parity"]
    met, ci = te["metrics"], te["aucBootstrap95"]
    ag = pa["rankingAgreementInt8VsFp32"]
    us = t["userFeatureSensitivity"]
    va = t["validation"]
    ai = t["data"]["impressionsWithItemAffinity"]
    d = m["input"]["dims"]

    def row(name, key):
        r = met[key]
        return f"| {name} | {_f(r['auc'])} | {_f(r['logloss'], 5)} |"

    vis = "\n".join(f"| `{v['id']}` | {', '.join(v['top5'])} |" for v in visitors["visitors"])
    return f"""# Model card: `{m['version']}` (edge-personalizer default model)

Click-probability model that the edge-personalizer worker runs with onnxruntime-web to rank
content for a visitor. `model.onnx` (int8 weights) + `manifest.json` (feature contract) are
produced by `bash scripts/train.sh`; every figure below comes from that run
(`manifest.json` → `training` has them all in machine-readable form).

## Data

Open Bandit Dataset, small sample (the `obd/` folder of the zr-obp repository, Apache-2.0):

> Yuta Saito, Shunsuke Aihara, Megumi Matsutani, Yusuke Narita. *Open Bandit Dataset and
> Pipeline: Towards Realistic and Reproducible Off-Policy Evaluation.* arXiv:2008.07146.

Logged impressions of a Japanese fashion e-commerce site's 3-slot recommendation widget,
{t['data']['rows']:,} rows ({t['data']['clicks']} clicks) from all four files (uniform-random and
Bernoulli-Thompson-sampling policies × `men`/`women` campaigns), {sp['start'][:10]} to {sp['end'][:10]}.
Item ids overlap between campaigns, so the content id is `{{campaign}}-{{item_id}}`
({t['data']['items']} items: `men-0`…`men-33`, `women-0`…`women-45`). The `bts` folder hashes
`item_feature_1..3` with a different salt from the `random` folder (a consistent 1:1 relabelling
of the same items); the `random` folder's values are used as every item's attributes
(`obd-items.json`). Rows are used as plain (context, item, click) examples; propensity scores
are not used (no inverse-propensity weighting).

## Features (D = {d})

The encoded row is the concatenation of these blocks, in this order (the exact rules are the
contract in `manifest.json`; the worker's TypeScript encoder implements the same rules):

| name | kind | source | width | encoding |
|---|---|---|---|---|
{_feature_rows(m['features'])}

- User categoricals: values seen ≥ 10 times in train+validation; everything else (and a
  missing profile) → the OOV column. `itemAffinity` is the profile's per-item map
  (OBD `user-item_affinity_{{item_id}}`, non-zero entries only); it is scaled by the RMS of
  its non-zero training values with mean 0, so "no affinity" encodes as 0.
- `hour` / `dayOfWeek` (0 = Sunday) come from the log timestamp in Japan time (UTC+9); the
  worker passes the visitor's local time.
- `position` (slot 1–3) is trained with the real logged slot and always **served as "1"**,
  scoring every candidate as if it were shown in the top slot (position debiasing).
- Not in this model: country, device, referrer class, page category. OBD has no such
  columns, so the manifest does not list them and the worker's values for them are ignored.
- Feature dropout: in every epoch 10% of training rows are shown as an anonymous visitor and
  10% with an unknown content id, so the OOV columns learn population averages (anonymous
  visitors and new items get sensible scores).

## Architecture and training

- {mo['architecture']}; the sigmoid is inside the graph (output `score` = click probability).
  {mo['parameters']:,} parameters.
- Binary cross-entropy, Adam (lr {mo['lr']}, batch {mo['batchSize']}), L2 weight decay
  {mo['weightDecayL2']} on the weight matrices, small initial weights (the untrained model is the
  constant base-rate predictor), fixed seed {mo['seed']}, single-threaded torch (deterministic).
- Time-based split: train {sp['train']['rows']:,} rows / {sp['train']['clicks']} clicks (first 70% of
  the time range), validation {sp['validation']['rows']:,} / {sp['validation']['clicks']}
  (from {sp['validationFrom'][:16]}Z), test {sp['test']['rows']:,} / {sp['test']['clicks']}
  (from {sp['testFrom'][:16]}Z, the last 20%).
- Early stopping on validation log loss, made robust to its noise: each epoch's
  per-impression validation losses are compared (paired) with those of the best epoch so far
  (epoch 0 = the untrained, constant model); training stops after {mo['patience']} consecutive
  epochs that are significantly worse (paired z > {mo['earlyStoppingSeTolerance']}), or at
  {mo['maxEpochs']} epochs, and keeps the last epoch that was not. This run: lowest validation
  log loss at epoch {va['lowestLoglossEpoch']} ({_f(va['lowestLogloss'], 5)}), kept epoch
  {va['chosenEpoch']} ({_f(va['chosenLogloss'], 5)}, z = {va['chosenZvsLowest']:.2f}) after
  {va['epochsRun']} epochs; constant predictor {_f(va['constant_logloss'], 5)}. With
  {sp['validation']['clicks']} validation clicks the plain argmin picks the (almost) untrained model,
  which barely personalises (`--se-tolerance 0` reproduces that choice). The full
  validation curve is in `manifest.json` → `training.validation.curve`.
- Refit on train+validation for the kept number of epochs; that refit model is the one shipped
  and evaluated. Training wall time {mo['trainWallSeconds']} s on 2 CPU cores (both fits).

## Metrics (test period: {te['rows']:,} impressions, **{te['clicks']} clicks**)

| model | AUC | log loss |
|---|---|---|
{row('this model (int8, as shipped)', 'model_int8')}
{row('this model (fp32)', 'model_fp32')}
{row('item popularity (CTR smoothed with ' + str(te['popularitySmoothingPseudoImpressions']) + ' pseudo-impressions)', 'popularity')}
{row('constant (train+validation CTR)', 'constant')}
{row('this model, user side blanked (anonymous)', 'model_int8_userFeaturesBlanked')}

95% bootstrap intervals ({te['bootstrapResamples']} resamples of test rows): AUC model
[{_f(ci['model_int8'][0], 3)}, {_f(ci['model_int8'][1], 3)}], popularity
[{_f(ci['popularity'][0], 3)}, {_f(ci['popularity'][1], 3)}], model − popularity
[{_f(ci['model_int8_minus_popularity'][0], 3)}, {_f(ci['model_int8_minus_popularity'][1], 3)}].

**Read these with care.** With {te['clicks']} test clicks the intervals are wide and include
0.5: on this one-week sample neither the model nor item popularity ranks the held-out days
measurably better than chance, and the model's test log loss is
{'better' if met['model_int8']['logloss'] < met['constant']['logloss'] else 'no better'} than the
constant predictor's. Validation agrees (see above): no structure learned from the first 70% of the
week is confirmed on the next 10%. The test period (Friday night to Sunday morning, Japan
time) also contains a day of week the training data never saw, and its CTR
({te['clicks'] / te['rows']:.2%}) differs from that of the training period
({sp['train']['clicks'] / sp['train']['rows']:.2%}). This is a working, honestly evaluated
default — not evidence of uplift.

User-side inputs do move the rankings: for {us['visitorsSampled']} real test-period visitors ranked
over the 24-item demo catalogue, the top-5 set differs from the anonymous top 5 for
{us['top5SetChanged']:.1%} of them (mean Kendall τ vs the anonymous ranking {us['meanKendallTau']:.3f},
min {us['minKendallTau']:.3f}; top 1 unchanged for {us['top1Agreement']:.1%}). The strongest
user-side signal is `itemAffinity` (in the full data, impressions of an item the visitor has
affinity for were clicked {ai['clicks']} times in {ai['rows']}, {ai['clicks'] / ai['rows']:.1%}, vs
{t['data']['clicks'] / t['data']['rows']:.2%} overall); the hashed user features mostly
reorder items within the top 5, as strong L2 on {t['data']['clicks']} clicks allows only small effects.

## Quantization and parity

- `model.onnx`: each weight matrix is an int8 initializer with one float scale per output
  channel (symmetric, zero point 0), fed through `DequantizeLinear(axis=1)` in front of its
  `MatMul`; biases stay fp32. Ops: DequantizeLinear, MatMul, Add, Relu, Sigmoid; opset 13.
  Both graphs pass `onnx.checker` (full check). `scripts/train.sh` then runs the worker's parity
  test (`test/parity.test.ts`): every `parity.json` case is encoded by the worker's own encoder
  and scored by onnxruntime-web 1.30 inside workerd, failing if any score is off by more than
  the fixture tolerance.
- Size: fp32 graph {q['fp32Bytes']:,} bytes, int8 graph {q['int8Bytes']:,} bytes, ratio **{q['ratio']}×**.
- Score parity on the {pa['testRows']:,} test rows (int8 numpy emulation vs torch fp32): max abs
  error {pa['maxAbsScoreErrorInt8VsTorchFp32']:.2e}, mean {pa['meanAbsScoreErrorInt8VsTorchFp32']:.2e}
  (max relative {pa['maxRelScoreErrorInt8VsTorchFp32']:.2%}).
- Ranking parity over {ag['decisions']:,} test decisions (each scored over all items of its campaign,
  serving encoding): same top-1 {ag['top1Agreement']:.2%}, pairwise order agreement
  {ag['pairwiseOrderAgreement']:.2%}, mean Kendall τ {ag['meanKendallTau']:.4f} (min {ag['minKendallTau']:.4f}).
- `parity.json` holds 6 fixture cases (anonymous, real, partial and unknown inputs) with the
  int8-graph scores the worker's encoder + onnxruntime-web must reproduce within 1e-4.

## Demo data

`demo-catalogue.json`: the 12 most-shown items of each campaign. `demo-visitors.json`: real OBD
visitor profiles whose top 5 (context: hour {visitors['rankingContext']['hour']}, dayOfWeek
{visitors['rankingContext']['dayOfWeek']}) differ from each other and from the anonymous top 5
({', '.join(visitors['anonymousTop5'])}):

| visitor | top 5 |
|---|---|
{vis}

## Intended use

The default/demo model shipped with the edge-personalizer worker: it exercises the full path
(profile + context → features → int8 ONNX → ranking) with real logged data, and is a starting
point to retrain on a site's own impressions and clicks. Not intended for production decisions
as-is.

## Limits

- Tiny click count ({t['data']['clicks']} clicks in total, {te['clicks']} in test): metrics are noisy and
  the model's quality is statistically indistinguishable from popularity and from chance.
- One week of data: day-of-week effects are confounded with the date; the test days include one
  never seen in training.
- OBD has no country / device / referrer / page-category context, so those are not features of
  this model; a model trained on a site's own logs should add them.
- Position debiasing is the simple "serve as position 1" trick; clicks are not
  inverse-propensity weighted, and the `bts` rows inherit the logging policy's item selection.
- User and item categoricals are opaque hashes from OBD; values unseen in training fall into
  an OOV column. The worker's profiles must use the same hash strings to benefit.
- Only 80 items; a new content id gets the OOV contentId column and is scored from its item
  attributes alone.
"""
