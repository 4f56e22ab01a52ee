"""Symmetric per-output-channel int8 weight quantisation, and exact numpy emulations of
the fp32 and int8 ONNX graphs (used for parity figures and the parity fixture)."""
import numpy as np


def quantize_weight(w):
    """w: float32 [in, out] (MatMul layout). Returns int8 q [in, out] and float32 scale
    [out] with w ~= q * scale (zero point 0), one scale per output column, i.e. the
    DequantizeLinear axis is 1."""
    w = np.asarray(w, dtype=np.float32)
    max_abs = np.abs(w).max(axis=0)
    scale = np.where(max_abs > 0, max_abs / np.float32(127.0), np.float32(1.0)).astype(np.float32)
    q = np.clip(np.rint(w / scale[None, :]), -127, 127).astype(np.int8)
    return q, scale


def quantize_params(params):
    """fp32 params {W1,b1,W2,b2} -> int8 params {W1_q,W1_scale,b1,W2_q,W2_scale,b2}."""
    q1, s1 = quantize_weight(params["W1"])
    q2, s2 = quantize_weight(params["W2"])
    return {"W1_q": q1, "W1_scale": s1, "b1": params["b1"].astype(np.float32),
            "W2_q": q2, "W2_scale": s2, "b2": params["b2"].astype(np.float32)}


def dequantize(q, scale):
    """ONNX DequantizeLinear(q, scale, zero_point=0, axis=1) in float32."""
    return (q.astype(np.float32) - np.float32(0)) * scale[None, :].astype(np.float32)


def _sigmoid(z):
    return (1.0 / (1.0 + np.exp(-z.astype(np.float64)))).astype(np.float32)


def _mlp(x, w1, b1, w2, b2):
    x = np.asarray(x, dtype=np.float32)
    h = np.maximum(x @ w1 + b1, np.float32(0))
    return _sigmoid(h @ w2 + b2)  # [N, 1]


def score_fp32(params, x):
    """The fp32 graph: Sigmoid(Add(MatMul(Relu(Add(MatMul(x, W1), b1)), W2), b2))."""
    return _mlp(x, params["W1"], params["b1"], params["W2"], params["b2"])[:, 0]


def score_int8(qparams, x):
    """The int8 graph: the same, with W = DequantizeLinear(W_q, W_scale, 0, axis=1)."""
    w1 = dequantize(qparams["W1_q"], qparams["W1_scale"])
    w2 = dequantize(qparams["W2_q"], qparams["W2_scale"])
    return _mlp(x, w1, qparams["b1"], w2, qparams["b2"])[:, 0]
