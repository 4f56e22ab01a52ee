"""The click model (MLP D -> H -> 1, ReLU, sigmoid) and its training loop."""
import math

import numpy as np
import torch
from torch import nn

from metrics import auc


class ClickMLP(nn.Module):
    def __init__(self, d_in, hidden):
        super().__init__()
        self.hidden = nn.Linear(d_in, hidden)
        self.out = nn.Linear(hidden, 1)

    def forward(self, x):  # logits; the exported graph applies the sigmoid
        return self.out(torch.relu(self.hidden(x)))

    def weights(self):
        """fp32 parameters in the ONNX layout: W1 [D,H], b1 [H], W2 [H,1], b2 [1]."""
        t = lambda p: p.detach().cpu().numpy().astype(np.float32)
        return {"W1": t(self.hidden.weight).T.copy(), "b1": t(self.hidden.bias),
                "W2": t(self.out.weight).T.copy(), "b2": t(self.out.bias)}


def set_determinism(seed):
    torch.manual_seed(seed)
    np.random.seed(seed)
    torch.set_num_threads(1)  # same summation order on every machine
    torch.use_deterministic_algorithms(True)


def _logloss(model, x, y):
    with torch.no_grad():
        return nn.functional.binary_cross_entropy_with_logits(model(x), y).item()


def _augment(x, aug, rng):
    """Feature dropout: some rows are shown as an anonymous visitor (user columns as if
    the profile were missing) or as an unknown item (contentId -> OOV column), so those
    OOV columns learn population averages instead of staying untrained."""
    x = x.clone()
    n = x.shape[0]
    anon = torch.from_numpy(rng.random(n) < aug["p_anon"])
    noid = torch.from_numpy(rng.random(n) < aug["p_noid"])
    x[anon] = aug["anon"][anon]              # differs from x only in the user columns
    ids = aug["id_cols"]
    x[noid, ids] = aug["noid"][noid][:, ids]  # only the contentId block is replaced
    return x


def fit(x_train, y_train, x_val, y_val, *, aug, seed, hidden, epochs, lr, weight_decay,
        batch_size, patience=None, init_std=0.01, se_tolerance=2.0, log=print):
    """Train with Adam + L2 (weight decay) on BCE.

    With x_val: early stopping on validation log loss with a noise tolerance.
    Each epoch's per-impression validation losses are compared (paired) with those of the
    epoch with the lowest validation log loss so far (epoch 0 = the untrained, constant
    model); an epoch is acceptable while its loss is not worse by more than `se_tolerance`
    paired standard errors. Training stops after `patience` consecutive unacceptable
    epochs and the last acceptable epoch is returned: (model, epoch, history).
    (With a few dozen validation clicks the plain argmin is noise-dominated and, on OBD,
    is the untrained constant model; the tolerance keeps what the data cannot refute.)

    Without x_val: train for exactly `epochs` epochs (the refit on train+validation)."""
    set_determinism(seed)
    rng = np.random.default_rng(seed)
    x_train, y_train = torch.from_numpy(x_train), torch.from_numpy(y_train).reshape(-1, 1)
    aug = dict(aug, anon=torch.from_numpy(aug["anon"]), noid=torch.from_numpy(aug["noid"]))
    if x_val is not None:
        x_val, y_val = torch.from_numpy(x_val), torch.from_numpy(y_val).reshape(-1, 1)

    model = ClickMLP(x_train.shape[1], hidden)
    with torch.no_grad():
        # Small initial weights: the model starts as (almost) the constant base-rate
        # predictor, so whatever structure it has when early stopping picks an epoch was
        # learned from the data rather than left over from a random initialisation.
        for layer in (model.hidden, model.out):
            layer.weight.normal_(0.0, init_std)
            layer.bias.zero_()
        p = float(y_train.mean())
        model.out.bias.fill_(math.log(p / (1 - p)))
    # L2 on the weight matrices only (not the biases).
    decay = [model.hidden.weight, model.out.weight]
    no_decay = [model.hidden.bias, model.out.bias]
    opt = torch.optim.Adam([{"params": decay, "weight_decay": weight_decay},
                            {"params": no_decay, "weight_decay": 0.0}], lr=lr)
    loss_fn = nn.BCEWithLogitsLoss()

    def val_losses():
        with torch.no_grad():
            logits = model(x_val)
            rows = nn.functional.binary_cross_entropy_with_logits(logits, y_val, reduction="none")[:, 0]
        return rows, logits[:, 0]

    snapshot = lambda: {k: v.clone() for k, v in model.state_dict().items()}
    history = []
    if x_val is not None:
        # Epoch 0 = the untrained model, i.e. (almost exactly) the constant base rate.
        rows0, logits0 = val_losses()
        best = {"epoch": 0, "loss": rows0.mean().item(), "rows": rows0}
        history.append({"epoch": 0, "train_logloss": _logloss(model, x_train, y_train), "val_logloss": best["loss"],
                        "val_auc": auc(y_val.numpy()[:, 0], logits0.numpy()), "val_z_vs_best": 0.0})
        chosen = {"epoch": 0, "state": snapshot()}
        worse_for = 0
    n = x_train.shape[0]
    for epoch in range(1, epochs + 1):
        model.train()
        xe = _augment(x_train, aug, rng)
        order = torch.from_numpy(rng.permutation(n))
        for start in range(0, n, batch_size):
            idx = order[start:start + batch_size]
            opt.zero_grad()
            loss = loss_fn(model(xe[idx]), y_train[idx])
            loss.backward()
            opt.step()
        model.eval()
        entry = {"epoch": epoch, "train_logloss": _logloss(model, x_train, y_train)}
        if x_val is not None:
            rows, logits = val_losses()
            entry["val_logloss"] = rows.mean().item()
            entry["val_auc"] = auc(y_val.numpy()[:, 0], logits.numpy())
            if entry["val_logloss"] < best["loss"]:
                best = {"epoch": epoch, "loss": entry["val_logloss"], "rows": rows}
            # paired z-score of (this epoch - best epoch) per-impression validation losses
            diff = (rows - best["rows"]).double()
            se = diff.std().item() / math.sqrt(len(diff))
            entry["val_z_vs_best"] = diff.mean().item() / se if se > 0 else 0.0
            history.append(entry)
            if entry["val_z_vs_best"] <= se_tolerance:
                chosen = {"epoch": epoch, "state": snapshot()}
                worse_for = 0
            else:
                worse_for += 1
                if patience and worse_for >= patience:
                    break
        else:
            history.append(entry)
    if x_val is not None:
        model.load_state_dict(chosen["state"])
        log(f"  early stopping after {len(history) - 1} epochs: lowest validation log loss at epoch {best['epoch']} "
            f"({best['loss']:.5f}); chose epoch {chosen['epoch']}, the last within {se_tolerance} SE of it")
        return model, chosen["epoch"], history
    return model, epochs, history
