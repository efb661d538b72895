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



def _node_parts(node):
    fields = parse(node)
    text = lambda num: [v.decode() for n, _, v in fields if n == num]  # noqa: E731
    return text(1), text(2), text(4)[0], [f for f in fields if f[0] == 5]


def _tensor(name, array, data_type):
    dims = [field(TENSOR_DIMS, int(d)) for d in array.shape]
    return field(GRAPH_INITIALIZER, serialize(
        dims + [field(TENSOR_TYPE, data_type), field(TENSOR_NAME, name),
                field(TENSOR_RAW, np.ascontiguousarray(array).tobytes())]))


def _node(op, inputs, outputs, attributes=()):
    return field(GRAPH_NODE, serialize(
        [field(1, i) for i in inputs] + [field(2, o) for o in outputs] +
        [field(3, outputs[0] + "_" + op), field(4, op)] + list(attributes)))


def _float_weights(graph):
    """{name: array} of a graph's float32 initializers, and of the Identity nodes PyTorch
    shares equal weights through."""
    weights = {}
    for num, _, value in graph:
        if num == GRAPH_INITIALIZER:
            t = parse(value)
            if [v for n, _, v in t if n == TENSOR_TYPE] == [FLOAT]:
                dims = [v for n, w, v in t if n == TENSOR_DIMS and w == 0]
                weights[[v for n, _, v in t if n == TENSOR_NAME][0].decode()] = \
                    _float_values(t).reshape(dims)
    for num, _, value in graph:
        if num == GRAPH_NODE:
            inputs, outputs, op, _ = _node_parts(value)
            if op == "Identity" and inputs[0] in weights:
                weights[outputs[0]] = weights[inputs[0]]
    return weights


def dynamically_quantized(model_bytes):
    """What onnxruntime's dynamic quantization makes of a float model: before every Conv (and
    Gemm with transB=1) a DynamicQuantizeLinear of its input; the layer as ConvInteger
    (MatMulInteger) on uint8 weights with their own scale and zero point; the int32 result
    Cast to float, scaled by the product of the two scales, plus the bias."""
    UINT8 = 2

    def edit(graph):
        weights = _float_weights(graph)
        out = []
        for num, wire, value in graph:
            if num != GRAPH_NODE:
                out.append((num, wire, value))
                continue
            inputs, (y,), op, attrs = _node_parts(value)
            gemm = op == "Gemm" and any(
                parse(a[2])[0][2] == b"transB" and parse(a[2])[1][2] == 1 for a in attrs)
            if op not in ("Conv", "Gemm") or (op == "Gemm" and not gemm) or \
                    inputs[1] not in weights:
                out.append((num, wire, value))
                continue
            w = weights[inputs[1]]
            lo, hi = min(0.0, float(w.min())), max(0.0, float(w.max()))
            scale = np.float32((hi - lo) / 255 if hi > lo else 1.0)
            zp = np.uint8(np.clip(np.rint(-lo / scale), 0, 255))
            q = np.clip(np.rint(w / scale) + zp, 0, 255).astype(np.uint8)
            if gemm:
                q = q.T
            out += [_tensor(y + "_wq", q, UINT8), _tensor(y + "_ws", np.array(scale), FLOAT),
                    _tensor(y + "_wzp", np.array(zp), UINT8)]
            x = inputs[0]
            integer = "ConvInteger" if op == "Conv" else "MatMulInteger"
            to = serialize([field(1, "to"), field(3, FLOAT), field(20, 2)])
            out += [_node("DynamicQuantizeLinear", [x], [y + "_xq", y + "_xs", y + "_xzp"]),
                    _node(integer, [y + "_xq", y + "_wq", y + "_xzp", y + "_wzp"], [y + "_int"],
                          attrs if op == "Conv" else ()),
                    _node("Cast", [y + "_int"], [y + "_float"], [field(5, to)]),
                    _node("Mul", [y + "_xs", y + "_ws"], [y + "_scale"])]
            bias = inputs[2] if len(inputs) > 2 else None
            out.append(_node("Mul", [y + "_float", y + "_scale"], [y + "_scaled" if bias else y]))
            if bias:
                b = weights[bias]
                out += [_tensor(y + "_bias", b.reshape(-1, 1, 1) if op == "Conv" else b, FLOAT),
                        _node("Add", [y + "_scaled", y + "_bias"], [y])]
        return out
    return _edit_graph(model_bytes, edit)


def _value_info(name, dims):
    shape = b"".join(serialize([field(1, serialize([field(1, d) if isinstance(d, int) else
                                                    field(2, d)]))]) for d in dims)
    tensor = serialize([field(1, FLOAT), field(2, shape)])
    return serialize([field(1, name), field(2, serialize([field(1, tensor)]))])


def small_model(nodes, inputs, outputs, initializers, opset=13):
    """An ONNX file from nodes (op, inputs, outputs), inputs and outputs [(name, dims)] (a str
    dim is symbolic) and initializers [(name, array, ONNX type)]."""
    graph = [_node(op, i, o) for op, i, o in nodes] + [field(2, "small")]
    graph += [_tensor(n, a, t) for n, a, t in initializers]
    graph += [field(11, _value_info(n, d)) for n, d in inputs]
    graph += [field(12, _value_info(n, d)) for n, d in outputs]
    return serialize([field(1, 8), field(2, "onnxwire"), field(7, serialize(graph)),
                      field(8, serialize([field(1, ""), field(2, opset)]))])


def qdq_quantized(model_bytes, activation_scale=0.05):
    """Static quantization in the QDQ form: every Conv's weights stored as uint8 and dequantized
    (DequantizeLinear), and its input quantized and dequantized again (QuantizeLinear →
    DequantizeLinear) with a fixed scale and zero point 128, as a calibrated quantizer would
    write it with its own ranges."""
    UINT8 = 2

    def edit(graph):
        weights = _float_weights(graph)
        out = []
        for num, wire, value in graph:
            inputs, outputs, op, attrs = _node_parts(value) if num == GRAPH_NODE else [None] * 4
            if op != "Conv" or inputs[1] not in weights:
                out.append((num, wire, value))
                continue
            y = outputs[0]
            w = weights[inputs[1]]
            lo, hi = min(0.0, float(w.min())), max(0.0, float(w.max()))
            scale = np.float32((hi - lo) / 255 if hi > lo else 1.0)
            zp = np.uint8(np.clip(np.rint(-lo / scale), 0, 255))
            q = np.clip(np.rint(w / scale) + zp, 0, 255).astype(np.uint8)
            out += [_tensor(y + "_wq", q, UINT8), _tensor(y + "_ws", np.array(scale), FLOAT),
                    _tensor(y + "_wzp", np.array(zp), UINT8),
                    _tensor(y + "_xs", np.array(activation_scale, "<f4"), FLOAT),
                    _tensor(y + "_xzp", np.array(128, np.uint8), UINT8),
                    _node("DequantizeLinear", [y + "_wq", y + "_ws", y + "_wzp"], [y + "_w"]),
                    _node("QuantizeLinear", [inputs[0], y + "_xs", y + "_xzp"], [y + "_xq"]),
                    _node("DequantizeLinear", [y + "_xq", y + "_xs", y + "_xzp"], [y + "_x"]),
                    (num, wire, serialize(
                        [field(1, y + "_x"), field(1, y + "_w")] +
                        [field(1, i) for i in inputs[2:]] + [field(2, y), field(3, y),
                                                              field(4, "Conv")] + attrs))]
        return out
    return _edit_graph(model_bytes, edit)
