"""Rewrites of ONNX files at the protobuf wire level (Debian has no `onnx` Python package): the
messages are lists of (field, wire type, value) kept byte for byte, so what is not touched is
written back as it was. Used to make, from a PyTorch export, the variants real converters
produce: float16 weights with Casts appended after every other node, and nodes out of order."""
import random

import numpy as np

# Field numbers (onnx.proto): ModelProto.graph; GraphProto.node/initializer; TensorProto.dims,
# data_type, float_data, name, raw_data; NodeProto.input/output/name/op_type/attribute;
# AttributeProto.name/i/type.
MODEL_GRAPH, GRAPH_NODE, GRAPH_INITIALIZER = 7, 1, 5
TENSOR_DIMS, TENSOR_TYPE, TENSOR_FLOATS, TENSOR_NAME, TENSOR_RAW = 1, 2, 4, 8, 9
FLOAT, FLOAT16 = 1, 10


def _varint(data, at):
    value = shift = 0
    while True:
        b = data[at]
        at += 1
        value |= (b & 0x7F) << shift
        shift += 7
        if not b & 0x80:
            return value, at


def varint(n):
    out = bytearray()
    while True:
        b, n = n & 0x7F, n >> 7
        out.append(b | (0x80 if n else 0))
        if not n:
            return bytes(out)


def parse(data):
    """[(field, wire type, value)]: an int for varints, bytes for everything else."""
    out, at = [], 0
    while at < len(data):
        key, at = _varint(data, at)
        num, wire = key >> 3, key & 7
        if wire == 0:
            value, at = _varint(data, at)
        elif wire == 2:
            n, at = _varint(data, at)
            value, at = data[at:at + n], at + n
        elif wire in (1, 5):
            n = 8 if wire == 1 else 4
            value, at = data[at:at + n], at + n
        else:
            raise ValueError(f"wire type {wire} at byte {at}")
        out.append((num, wire, value))
    return out


def serialize(fields):
    out = bytearray()
    for num, wire, value in fields:
        out += varint(num << 3 | wire)
        if wire == 0:
            out += varint(value)
        elif wire == 2:
            out += varint(len(value)) + value
        else:
            out += value
    return bytes(out)


def field(num, value):
    if isinstance(value, int):
        return (num, 0, value)
    return (num, 2, value.encode() if isinstance(value, str) else value)


def _edit_graph(model_bytes, edit):
    model = parse(model_bytes)
    model = [(n, w, serialize(edit(parse(v))) if n == MODEL_GRAPH else v) for n, w, v in model]
    return serialize(model)


def _float_values(tensor):
    raw = [v for n, _, v in tensor if n == TENSOR_RAW]
    if raw:
        return np.frombuffer(raw[0], "<f4")
    packed = b"".join(v for n, w, v in tensor if n == TENSOR_FLOATS and w == 2)
    single = b"".join(v for n, w, v in tensor if n == TENSOR_FLOATS and w == 5)
    return np.frombuffer(packed + single, "<f4")


def float16_weights(model_bytes):
    """Every float32 initializer stored as float16 under '<name>_fp16', and a Cast back to
    float32 under the old name appended after all other nodes (as converters that keep the
    graph's inputs and outputs float32 do)."""
    def edit(graph):
        out, casts = [], []
        for num, wire, value in graph:
            if num != GRAPH_INITIALIZER:
                out.append((num, wire, value))
                continue
            t = parse(value)
            kind = [v for n, _, v in t if n == TENSOR_TYPE]
            if kind != [FLOAT]:
                out.append((num, wire, value))
                continue
            name = [v for n, _, v in t if n == TENSOR_NAME][0].decode()
            half = _float_values(t).astype("<f2")
            t = [f for f in t if f[0] in (TENSOR_DIMS,)] + [
                field(TENSOR_TYPE, FLOAT16), field(TENSOR_NAME, name + "_fp16"),
                field(TENSOR_RAW, half.tobytes())]
            out.append((num, 2, serialize(t)))
            to = serialize([field(1, "to"), field(3, FLOAT), field(20, 2)])  # INT attribute
            casts.append(field(GRAPH_NODE, serialize([
                field(1, name + "_fp16"), field(2, name), field(3, name + "_cast"),
                field(4, "Cast"), field(5, to)])))
        return out + casts
    return _edit_graph(model_bytes, edit)


def shuffled_nodes(model_bytes, seed):
    """The same graph with its node list in a random order."""
    def edit(graph):
        nodes = [f for f in graph if f[0] == GRAPH_NODE]
        random.Random(seed).shuffle(nodes)
        return [f for f in graph if f[0] != GRAPH_NODE] + nodes
    return _edit_graph(model_bytes, edit)


def node_ops(model_bytes):
    """The op types of the graph's nodes, in file order."""
    graph = parse([v for n, _, v in parse(model_bytes) if n == MODEL_GRAPH][0])
    return [[v for n, _, v in parse(node) if n == 4][0].decode()
            for num, _, node in graph if num == GRAPH_NODE]

