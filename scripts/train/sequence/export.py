"""The sequence ranker as an ONNX graph (opset 17), written with onnx.helper.

Inputs (names as the manifest says): `sequence` int32 [1, t] catalogue rows, oldest first;
`items` int32 [N]; optionally `context` float32 [1, Dc] and `item_features` float32 [N, Di].
Outputs: `score` float32 [N] (ranking logits) and `visitor` float32 [1, d].

Only the most recent position's output is needed, and in SASRec's block the keys and values are
linear in the raw input, so the graph pools first and projects after in the last block:
    x      = E[sequence] * sqrt(d) + P[T - t:]                       [t, d]
    x      = Block_i(x) at every position, causally, for each block but the last (--blocks > 1)
    query  = LayerNorm1(x[-1])                                       [1, d]
    a      = softmax(x . (Wk (query Wq + bq)) / sqrt(d))              [1, t]   (q.bk is the same for every key)
    h      = query + (a x) Wv Wo + (bv Wo + bo)                       [1, d]
    h'     = LayerNorm2(h);  h'' = h' + W2 relu(W1 h' + b1) + b2
    visitor = LayerNormOut(h'') + context Wc + bc
    score  = (E[items] + item_features Wa) visitor^T + bias[items]
which is what the training model computes at the last position, at O(t d + d^2) instead of O(t d^2)
for the last block.

In the int8 file the embedding table E (nearly all of the bytes) is int8 with one float scale per
row (symmetric): rows are gathered first and dequantized after (Gather, Cast, Mul), so a decision
reads t + N rows and never the whole table. The other weights are small and stay float32.
"""
import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

OPSET = 17
IR_VERSION = 8  # the IR version of opset 17 (ONNX 1.12)
LN_EPS = 1e-5


def quantize_rows(table):
    """Symmetric int8 per row: table ~= q * scale[:, None]. Returns (q int8 [R, d], scale float32 [R, 1])."""
    table = np.asarray(table, dtype=np.float32)
    max_abs = np.abs(table).max(axis=1, keepdims=True)
    scale = np.where(max_abs > 0, max_abs / np.float32(127.0), np.float32(1.0)).astype(np.float32)
    return np.clip(np.rint(table / scale), -127, 127).astype(np.int8), scale


def dequantize_rows(q, scale):
    return q.astype(np.float32) * scale


class _Graph:
    def __init__(self):
        self.nodes, self.inits = [], []

    def init(self, name, value, dtype=np.float32):
        self.inits.append(numpy_helper.from_array(np.asarray(value, dtype=dtype), name))
        return name

    def op(self, op_type, inputs, output, **attrs):
        self.nodes.append(helper.make_node(op_type, inputs, [output], name=output, **attrs))
        return output


def _folded(w):
    """Weights of the pooled-first graph: Wk folded into the query, Wv and Wo into one matrix."""
    d = w["Wq"].shape[0]
    return {
        "query_key": (w["Wq"] @ w["Wk"].T / np.sqrt(d)).astype(np.float32),  # [d, d]: x . (query Wq Wk^T) / sqrt(d)
        "query_key_b": (w["bq"] @ w["Wk"].T / np.sqrt(d)).astype(np.float32),
        "value_out": (w["Wv"] @ w["Wo"]).astype(np.float32),
        "value_out_b": (w["bv"] @ w["Wo"] + w["bo"]).astype(np.float32),
    }


def _full_block(g, x, b, i, start):
    """A block that is not the last one, at every position (causally): the next block's keys and values."""
    for name in ("ln1_g", "ln1_b", "ln2_g", "ln2_b", "Wq", "bq", "Wk", "bk", "Wv", "bv", "Wo", "bo", "Wf1", "bf1", "Wf2", "bf2"):
        g.init(f"{name}_{i}", b[name])

    def linear(h, name, tag):
        return g.op("Add", [g.op("MatMul", [h, f"W{name}_{i}"], f"{tag}_mm_{i}"), f"b{name}_{i}"], f"{tag}_{i}")

    query = g.op("LayerNormalization", [x, f"ln1_g_{i}", f"ln1_b_{i}"], f"query_{i}", axis=-1, epsilon=LN_EPS)
    keys_t = g.op("Transpose", [linear(x, "k", "keys")], f"keys_t_{i}", perm=[1, 0])
    logits = g.op("Div", [g.op("MatMul", [linear(query, "q", "queries"), keys_t], f"att_mm_{i}"), "sqrt_d"], f"att_scaled_{i}")
    mask = g.op("Slice", ["causal", g.op("Concat", [start, start], f"mask_start_{i}", axis=0), "length2", "axes01"], f"mask_{i}")
    att = g.op("Softmax", [g.op("Add", [logits, mask], f"att_logits_{i}")], f"att_{i}", axis=-1)
    pooled = g.op("MatMul", [att, linear(x, "v", "values")], f"pooled_{i}")
    hn = g.op("LayerNormalization", [g.op("Add", [query, linear(pooled, "o", "attended")], f"h_{i}"), f"ln2_g_{i}", f"ln2_b_{i}"],
              f"h_norm_{i}", axis=-1, epsilon=LN_EPS)
    ff = linear(g.op("Relu", [linear(hn, "f1", "ff1")], f"ff1_relu_{i}"), "f2", "ff2")
    return g.op("Add", [hn, ff], f"block_out_{i}")


def _last_block(g, x, b):
    """The last block at the most recent position only, pooled first (see the module's docstring)."""
    for name in ("ln1_g", "ln1_b", "ln2_g", "ln2_b", "Wf1", "bf1", "Wf2", "bf2"):
        g.init(name, b[name])
    for name, value in _folded(b).items():
        g.init(name, value)
    last = g.op("Slice", [x, "last", "end", "zero"], "x_last")  # [1, d]
    query = g.op("LayerNormalization", [last, "ln1_g", "ln1_b"], "query", axis=-1, epsilon=LN_EPS)
    qk = g.op("Add", [g.op("MatMul", [query, "query_key"], "qk_mm"), "query_key_b"], "qk")  # [1, d]
    att = g.op("Softmax", [g.op("MatMul", [qk, g.op("Transpose", [x], "x_t", perm=[1, 0])], "att_logits")], "att", axis=-1)
    pooled = g.op("MatMul", [att, x], "pooled")  # [1, d]
    h = g.op("Add", [query, g.op("Add", [g.op("MatMul", [pooled, "value_out"], "vo_mm"), "value_out_b"], "vo")], "h")
    hn = g.op("LayerNormalization", [h, "ln2_g", "ln2_b"], "h_norm", axis=-1, epsilon=LN_EPS)
    ff = g.op("Relu", [g.op("Add", [g.op("MatMul", [hn, "Wf1"], "ff1_mm"), "bf1"], "ff1")], "ff1_relu")
    return g.op("Add", [hn, g.op("Add", [g.op("MatMul", [ff, "Wf2"], "ff2_mm"), "bf2"], "ff2")], "h2")


def build(w, io, length, int8):
    """w: SequenceRanker.weights(); io: {"sequence", "items", "context"?, "itemFeatures"?, "score", "visitor"} names."""
    g = _Graph()
    d = w["E"].shape[1]
    if int8:
        q, scale = quantize_rows(w["E"])
        g.init("E_q", q, np.int8)
        g.init("E_scale", scale)

        def lookup(ids, tag):
            rows = g.op("Gather", ["E_q", ids], f"{tag}_q", axis=0)
            scales = g.op("Gather", ["E_scale", ids], f"{tag}_scale", axis=0)
            return g.op("Mul", [g.op("Cast", [rows], f"{tag}_f", to=TensorProto.FLOAT), scales], f"{tag}_e")
    else:
        g.init("E", w["E"])

        def lookup(ids, tag):
            return g.op("Gather", ["E", ids], f"{tag}_e", axis=0)

    for name in ("P", "lnf_g", "lnf_b"):
        g.init(name, w[name])
    g.init("bias", w["bias"])
    g.init("sqrt_d", np.sqrt(d))
    g.init("flat", [-1], np.int64)
    g.init("zero", [0], np.int64)
    g.init("length", [length], np.int64)
    g.init("last", [-1], np.int64)
    g.init("end", [np.iinfo(np.int64).max], np.int64)
    if len(w["blocks"]) > 1:
        # Any t x t window on the diagonal of the causal mask is the causal mask of t positions.
        g.init("causal", np.triu(np.full((length, length), -1e9, dtype=np.float32), 1))
        g.init("length2", [length, length], np.int64)
        g.init("axes01", [0, 1], np.int64)

    seq = g.op("Reshape", [io["sequence"], "flat"], "seq_flat")  # [t]
    x = g.op("Mul", [lookup(seq, "seq"), "sqrt_d"], "seq_scaled")  # [t, d]
    t = g.op("Shape", [seq], "seq_len")
    start = g.op("Sub", ["length", t], "pos_start")
    x = g.op("Add", [x, g.op("Slice", ["P", start, "length", "zero"], "positions")], "x")  # [t, d]
    for i, b in enumerate(w["blocks"][:-1]):
        x = _full_block(g, x, b, i, start)
    h = _last_block(g, x, w["blocks"][-1])
    u = g.op("LayerNormalization", [h, "lnf_g", "lnf_b"], "u_seq", axis=-1, epsilon=LN_EPS)

    inputs = [helper.make_tensor_value_info(io["sequence"], TensorProto.INT32, [1, "t"]),
              helper.make_tensor_value_info(io["items"], TensorProto.INT32, ["N"])]
    if "Wc" in w:
        g.init("Wc", w["Wc"])
        g.init("bc", w["bc"])
        u = g.op("Add", [u, g.op("Add", [g.op("MatMul", [io["context"], "Wc"], "ctx_mm"), "bc"], "ctx")], "u_ctx")
        inputs.append(helper.make_tensor_value_info(io["context"], TensorProto.FLOAT, [1, w["Wc"].shape[0]]))
    u = g.op("Identity", [u], io["visitor"])
    candidates = lookup(io["items"], "cand")  # [N, d]
    if "Wa" in w:
        g.init("Wa", w["Wa"])
        candidates = g.op("Add", [candidates, g.op("MatMul", [io["itemFeatures"], "Wa"], "attr_mm")], "cand_v")
        inputs.append(helper.make_tensor_value_info(io["itemFeatures"], TensorProto.FLOAT, ["N", w["Wa"].shape[0]]))
    dots = g.op("Reshape", [g.op("MatMul", [candidates, g.op("Transpose", [u], "u_t", perm=[1, 0])], "dots"), "flat"], "dots_flat")
    g.op("Add", [dots, g.op("Gather", ["bias", io["items"]], "item_bias", axis=0)], io["score"])

    outputs = [helper.make_tensor_value_info(io["score"], TensorProto.FLOAT, ["N"]),
               helper.make_tensor_value_info(io["visitor"], TensorProto.FLOAT, [1, d])]
    graph = helper.make_graph(g.nodes, "sequence_ranker_int8" if int8 else "sequence_ranker_fp32", inputs, outputs,
                              initializer=g.inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)],
                              producer_name="edge-personalizer/scripts/train/sequence", producer_version="1")
    model.ir_version = IR_VERSION
    onnx.checker.check_model(model, full_check=True)
    return model


def save(model, path):
    data = model.SerializeToString()
    with open(path, "wb") as fh:
        fh.write(data)
    onnx.checker.check_model(path)
    return data
