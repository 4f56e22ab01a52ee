"""Write the fp32 and int8 ONNX graphs (opset 13) by hand with onnx.helper.

Graph (input float32 [N, D] and output float32 [N, 1], named as the manifest says, e.g.
`features` and `score`):
    h     = Relu(MatMul(features, W1) + b1)
    score = Sigmoid(MatMul(h, W2) + b2)
The int8 file stores W1/W2 as int8 initializers with per-output-channel float scales
and an int8 zero point of 0, each fed through DequantizeLinear(axis=1) in front of its
MatMul; biases stay fp32. Ops used: DequantizeLinear, MatMul, Add, Relu, Sigmoid.
"""
import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

OPSET = 13
IR_VERSION = 7  # the IR version of opset 13 (ONNX 1.8); widely supported by runtimes


def _graph(nodes, initializers, d_in, name, io):
    features = helper.make_tensor_value_info(io["input"], TensorProto.FLOAT, ["N", d_in])
    score = helper.make_tensor_value_info(io["output"], TensorProto.FLOAT, ["N", 1])
    graph = helper.make_graph(nodes, name, [features], [score], initializer=initializers)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)],
                              producer_name="edge-personalizer/scripts/train", producer_version="1")
    model.ir_version = IR_VERSION
    onnx.checker.check_model(model, full_check=True)
    return model


def _mlp_nodes(w1, w2, io):
    return [
        helper.make_node("MatMul", [io["input"], w1], ["h_mm"], name="hidden_matmul"),
        helper.make_node("Add", ["h_mm", "b1"], ["h_pre"], name="hidden_bias"),
        helper.make_node("Relu", ["h_pre"], ["h"], name="hidden_relu"),
        helper.make_node("MatMul", ["h", w2], ["logit_mm"], name="out_matmul"),
        helper.make_node("Add", ["logit_mm", "b2"], ["logit"], name="out_bias"),
        helper.make_node("Sigmoid", ["logit"], [io["output"]], name="sigmoid"),
    ]


def fp32_model(params, io):
    inits = [numpy_helper.from_array(params[k].astype(np.float32), k) for k in ("W1", "b1", "W2", "b2")]
    return _graph(_mlp_nodes("W1", "W2", io), inits, params["W1"].shape[0], "click_mlp_fp32", io)


def int8_model(qparams, io):
    inits = []
    nodes = []
    for w in ("W1", "W2"):
        q, s = qparams[f"{w}_q"], qparams[f"{w}_scale"]
        inits += [numpy_helper.from_array(q.astype(np.int8), f"{w}_q"),
                  numpy_helper.from_array(s.astype(np.float32), f"{w}_scale"),
                  numpy_helper.from_array(np.zeros(s.shape, dtype=np.int8), f"{w}_zero_point")]
        nodes.append(helper.make_node("DequantizeLinear", [f"{w}_q", f"{w}_scale", f"{w}_zero_point"], [w],
                                      name=f"{w}_dequantize", axis=1))
    inits += [numpy_helper.from_array(qparams["b1"].astype(np.float32), "b1"),
              numpy_helper.from_array(qparams["b2"].astype(np.float32), "b2")]
    return _graph(nodes + _mlp_nodes("W1", "W2", io), inits, qparams["W1_q"].shape[0], "click_mlp_int8", io)


def save(model, path):
    data = model.SerializeToString()
    with open(path, "wb") as fh:
        fh.write(data)
    onnx.checker.check_model(path)  # re-validate what is on disk
    return data
