"""The click model (MLP D -> H -> 1, ReLU, sigmoid) and its training loop.

The first layer is an nn.EmbeddingBag in "sum" mode over the sparse encoded row: exactly
x @ W1 for the row x, without ever building the dense [N, D] matrix. The exported graph
computes the same thing with a dense MatMul (export.py)."""
import math

import numpy as np
import torch
from torch import nn

from metrics import auc


class ClickMLP(nn.Module):
    def __init__(self, d_in, hidden):
        super().__init__()
        self.hidden = nn.EmbeddingBag(d_in, hidden, mode="sum")
        self.hidden_bias = nn.Parameter(torch.zeros(hidden))
        self.out = nn.Linear(hidden, 1)

    def forward(self, bags):  # logits; the exported graph applies the sigmoid
        indices, offsets, values = bags
        return self.out(torch.relu(self.hidden(indices, offsets, per_sample_weights=values) + self.hidden_bias))

    def weights(self):
        """fp32 parameters in the ONNX layout: W1 [D,H], b1 [H], W2 [H,1], b2 [1]."""
        t = lambda p: p.detach().cpu().numpy().astype(np.float32)
        return {"W1": t(self.hidden.weight).copy(), "b1": t(self.hidden_bias),
                "W2": t(self.out.weight).T.copy(), "b2": t(self.out.bias)}

    def scores(self, csr):
        """Sigmoid scores of every row of a set (fp32)."""
        self.eval()
        with torch.no_grad():
            return torch.sigmoid(self(csr.bags())).numpy()[:, 0]


def _finite(x):
    """JSON has no NaN: an undefined metric (one class only) is null."""
    return None if math.isnan(x) else x


def set_determinism(seed, threads):
    torch.manual_seed(seed)
    np.random.seed(seed)
    torch.set_num_threads(threads)
    torch.use_deterministic_algorithms(True)


def fit(train, val, *, seed, threads, hidden, epochs, lr, weight_decay, batch_size, patience, init_std,
        se_tolerance, log=print):
    """Adam + L2 (weight decay on the weight matrices) on binary cross-entropy, with early stopping
    on validation log loss made robust to its noise.

    Each epoch's per-row validation losses are compared (paired) with those of the epoch with the
    lowest validation log loss so far (epoch 0 = the untrained, constant model); an epoch is
    acceptable while its loss is not worse by more than `se_tolerance` paired standard errors.
    Training stops after `patience` consecutive unacceptable epochs, and the last acceptable epoch
    is returned: (model, epoch, history). With a few dozen validation clicks the plain argmin is
    noise-dominated (on OBD it is the untrained model); the tolerance keeps what the data cannot
    refute. With plenty of validation data it is the argmin within a hair."""
    set_determinism(seed, threads)
    rng = np.random.default_rng(seed)
    base_rate = float(train.labels.mean()) if train.rows else float("nan")
    if not 0 < base_rate < 1:
        raise SystemExit(f"the training split has {'no rows' if not train.rows else f'only {int(base_rate)}-labels'}: "
                         "a click model needs clicks and non-clicks (implicit feedback: leave out the label column)")
    y_train = torch.from_numpy(train.labels).reshape(-1, 1)
    y_val = torch.from_numpy(val.labels).reshape(-1, 1)
    val_bags = val.bags()

    model = ClickMLP(train.dims, hidden)
    with torch.no_grad():
        # Small initial weights: the model starts as (almost) the constant base-rate predictor, so
        # whatever structure it has when early stopping picks an epoch was learned from the data.
        model.hidden.weight.normal_(0.0, init_std)
        model.out.weight.normal_(0.0, init_std)
        model.out.bias.fill_(math.log(base_rate / (1 - base_rate)))
    opt = torch.optim.Adam([{"params": [model.hidden.weight, model.out.weight], "weight_decay": weight_decay},
                            {"params": [model.hidden_bias, model.out.bias], "weight_decay": 0.0}], lr=lr)
    loss_fn = nn.BCEWithLogitsLoss()

    def val_losses():
        model.eval()
        with torch.no_grad():
            logits = model(val_bags)
        rows = nn.functional.binary_cross_entropy_with_logits(logits, y_val, reduction="none")[:, 0]
        return rows, logits[:, 0]

    snapshot = lambda: {k: v.clone() for k, v in model.state_dict().items()}
    rows0, logits0 = val_losses()
    best = {"epoch": 0, "loss": rows0.mean().item(), "rows": rows0}
    history = [{"epoch": 0, "trainLogloss": None, "valLogloss": best["loss"],
                "valAuc": _finite(auc(val.labels, logits0.numpy())), "valZvsBest": 0.0}]
    chosen = {"epoch": 0, "state": snapshot()}
    worse_for = 0
    for epoch in range(1, epochs + 1):
        model.train()
        order = rng.permutation(train.rows)
        total, seen = 0.0, 0
        for start in range(0, train.rows, batch_size):
            idx = order[start:start + batch_size]
            opt.zero_grad()
            loss = loss_fn(model(train.bags(idx)), y_train[idx])
            loss.backward()
            opt.step()
            total += loss.item() * len(idx)
            seen += len(idx)
        rows, logits = val_losses()
        entry = {"epoch": epoch, "trainLogloss": total / seen, "valLogloss": rows.mean().item(),
                 "valAuc": _finite(auc(val.labels, logits.numpy()))}
        if entry["valLogloss"] < best["loss"]:
            best = {"epoch": epoch, "loss": entry["valLogloss"], "rows": rows}
        # paired z-score of (this epoch - best epoch) per-row validation losses
        diff = (rows - best["rows"]).double()
        se = diff.std().item() / math.sqrt(len(diff))
        entry["valZvsBest"] = diff.mean().item() / se if se > 0 else 0.0
        history.append(entry)
        log(f"  epoch {epoch:3d}: train log loss {entry['trainLogloss']:.5f}, validation {entry['valLogloss']:.5f} "
            f"(AUC {entry['valAuc'] if entry['valAuc'] is None else round(entry['valAuc'], 4)}, "
            f"z vs best {entry['valZvsBest']:+.2f})")
        if entry["valZvsBest"] <= se_tolerance:
            chosen = {"epoch": epoch, "state": snapshot()}
            worse_for = 0
        else:
            worse_for += 1
            if worse_for >= patience:
                break
    model.load_state_dict(chosen["state"])
    model.eval()
    log(f"  early stopping after {len(history) - 1} epochs: lowest validation log loss at epoch {best['epoch']} "
        f"({best['loss']:.5f}); kept epoch {chosen['epoch']}, the last within {se_tolerance} SE of it")
    return model, chosen["epoch"], history
