"""Independent reader of TensorBoard event files and projector assets, for tst_tensorboard.

Written from the published formats, without the workbench's code or its .proto files:

* TFRecord framing: uint64 length (little-endian), masked CRC-32C of the length bytes, the
  data, masked CRC-32C of the data. Both CRCs are checked with crcmod's predefined 'crc-32c'
  (or the crc32c package); a record cut short or with a wrong CRC ends the file, and the
  report says where and why, as TensorBoard's reader stops there.
* Protos: the message types are declared below from the field numbers of TensorFlow's
  event.proto, summary.proto, tensor.proto, tensor_shape.proto and TensorBoard's hparams,
  pr_curve, text and projector protos, and built into Python classes at run time with
  python3-protobuf's descriptor pool. A field the writer puts under a number or wire type
  these schemas do not know shows up as an unknown field and is reported.
* Images: PNG and GIF bytes are decoded with PIL.

Usage:
  tb_reader.py events FILE         one JSON object: records, tail problem, events
  tb_reader.py projector LOGDIR    one JSON object: the projector config and its files
  tb_reader.py pr-reference FILE N the PR-curve tensor [6, N] computed directly from
                                   FILE's lines "label prediction [weight]"

Floats that JSON cannot hold are written as the strings "NaN", "Infinity", "-Infinity".
Exits with status 3 when a Python module is missing.
"""

import io
import json
import math
import os
import struct
import sys

try:
    from google.protobuf import descriptor_pb2, descriptor_pool, json_format
    from google.protobuf import message_factory, struct_pb2, text_format
    from PIL import Image
except ImportError as error:
    print(f"missing module: {error}", file=sys.stderr)
    sys.exit(3)

try:
    import crcmod.predefined

    crc32c = crcmod.predefined.mkCrcFun("crc-32c")
except ImportError:
    try:
        from crc32c import crc32c
    except ImportError as error:
        print(f"missing module: {error}", file=sys.stderr)
        sys.exit(3)

# --------------------------------------------------------------------------- schemas

F = descriptor_pb2.FieldDescriptorProto
SCALARS = {
    "double": F.TYPE_DOUBLE, "float": F.TYPE_FLOAT, "int64": F.TYPE_INT64,
    "uint64": F.TYPE_UINT64, "int32": F.TYPE_INT32, "uint32": F.TYPE_UINT32,
    "bool": F.TYPE_BOOL, "string": F.TYPE_STRING, "bytes": F.TYPE_BYTES,
}
ENUMS = {
    "SessionLog.SessionStatus": ["STATUS_UNSPECIFIED", "START", "STOP", "CHECKPOINT"],
    "DataClass": ["DATA_CLASS_UNKNOWN", "DATA_CLASS_SCALAR", "DATA_CLASS_TENSOR",
                  "DATA_CLASS_BLOB_SEQUENCE"],
    "HpDataType": ["DATA_TYPE_UNSET", "DATA_TYPE_STRING", "DATA_TYPE_BOOL",
                   "DATA_TYPE_FLOAT64"],
    "DatasetType": ["DATASET_UNKNOWN", "DATASET_TRAINING", "DATASET_VALIDATION"],
    "Status": ["STATUS_UNKNOWN", "STATUS_SUCCESS", "STATUS_FAILURE", "STATUS_RUNNING"],
}

# message -> [(name, number, type, label, oneof)]; label "" or "repeated"; type is a scalar
# name, "enum:<Enum>", or another message ("google.protobuf.X" for well-known types).
MESSAGES = {
    # tensorflow/core/util/event.proto
    "Event": [
        ("wall_time", 1, "double", "", None), ("step", 2, "int64", "", None),
        ("file_version", 3, "string", "", "what"), ("graph_def", 4, "bytes", "", "what"),
        ("summary", 5, "Summary", "", "what"), ("log_message", 6, "LogMessage", "", "what"),
        ("session_log", 7, "SessionLog", "", "what"),
        ("tagged_run_metadata", 8, "TaggedRunMetadata", "", "what"),
        ("meta_graph_def", 9, "bytes", "", "what"),
        ("source_metadata", 10, "SourceMetadata", "", None),
    ],
    "SourceMetadata": [("writer", 1, "string", "", None)],
    "LogMessage": [("level", 1, "int32", "", None), ("message", 2, "string", "", None)],
    "TaggedRunMetadata": [("tag", 1, "string", "", None), ("run_metadata", 2, "bytes", "", None)],
    "SessionLog": [
        ("status", 1, "enum:SessionLog.SessionStatus", "", None),
        ("checkpoint_path", 2, "string", "", None), ("msg", 3, "string", "", None),
    ],
    # tensorflow/core/framework/summary.proto (+ histogram.proto)
    "HistogramProto": [
        ("min", 1, "double", "", None), ("max", 2, "double", "", None),
        ("num", 3, "double", "", None), ("sum", 4, "double", "", None),
        ("sum_squares", 5, "double", "", None),
        ("bucket_limit", 6, "double", "repeated", None),
        ("bucket", 7, "double", "repeated", None),
    ],
    "SummaryMetadata": [
        ("plugin_data", 1, "SummaryMetadata.PluginData", "", None),
        ("display_name", 2, "string", "", None), ("summary_description", 3, "string", "", None),
        ("data_class", 4, "enum:DataClass", "", None),
    ],
    "SummaryMetadata.PluginData": [
        ("plugin_name", 1, "string", "", None), ("content", 2, "bytes", "", None),
    ],
    "Summary": [("value", 1, "Summary.Value", "repeated", None)],
    "Summary.Image": [
        ("height", 1, "int32", "", None), ("width", 2, "int32", "", None),
        ("colorspace", 3, "int32", "", None), ("encoded_image_string", 4, "bytes", "", None),
    ],
    "Summary.Audio": [
        ("sample_rate", 1, "float", "", None), ("num_channels", 2, "int64", "", None),
        ("length_frames", 3, "int64", "", None), ("encoded_audio_string", 4, "bytes", "", None),
        ("content_type", 5, "string", "", None),
    ],
    "Summary.Value": [
        ("node_name", 7, "string", "", None), ("tag", 1, "string", "", None),
        ("metadata", 9, "SummaryMetadata", "", None),
        ("simple_value", 2, "float", "", "value"),
        ("obsolete_old_style_histogram", 3, "bytes", "", "value"),
        ("image", 4, "Summary.Image", "", "value"),
        ("histo", 5, "HistogramProto", "", "value"),
        ("audio", 6, "Summary.Audio", "", "value"),
        ("tensor", 8, "TensorProto", "", "value"),
    ],
    # tensorflow/core/framework/tensor.proto, tensor_shape.proto (dtype as a plain int)
    "TensorProto": [
        ("dtype", 1, "int32", "", None), ("tensor_shape", 2, "TensorShapeProto", "", None),
        ("version_number", 3, "int32", "", None), ("tensor_content", 4, "bytes", "", None),
        ("half_val", 13, "int32", "repeated", None), ("float_val", 5, "float", "repeated", None),
        ("double_val", 6, "double", "repeated", None), ("int_val", 7, "int32", "repeated", None),
        ("string_val", 8, "bytes", "repeated", None),
        ("scomplex_val", 9, "float", "repeated", None),
        ("int64_val", 10, "int64", "repeated", None), ("bool_val", 11, "bool", "repeated", None),
        ("dcomplex_val", 12, "double", "repeated", None),
        ("uint32_val", 16, "uint32", "repeated", None),
        ("uint64_val", 17, "uint64", "repeated", None),
    ],
    "TensorShapeProto": [
        ("dim", 2, "TensorShapeProto.Dim", "repeated", None),
        ("unknown_rank", 3, "bool", "", None),
    ],
    "TensorShapeProto.Dim": [("size", 1, "int64", "", None), ("name", 2, "string", "", None)],
    # tensorboard/plugins/{text,pr_curve}/plugin_data.proto
    "TextPluginData": [("version", 1, "int32", "", None)],
    "PrCurvePluginData": [
        ("version", 1, "int32", "", None), ("num_thresholds", 2, "uint32", "", None),
    ],
    # tensorboard/plugins/hparams/api.proto and plugin_data.proto
    "HParamsPluginData": [
        ("version", 1, "int32", "", None),
        ("experiment", 2, "Experiment", "", "data"),
        ("session_start_info", 3, "SessionStartInfo", "", "data"),
        ("session_end_info", 4, "SessionEndInfo", "", "data"),
    ],
    "Experiment": [
        ("name", 6, "string", "", None), ("description", 1, "string", "", None),
        ("user", 2, "string", "", None), ("time_created_secs", 3, "double", "", None),
        ("hparam_infos", 4, "HParamInfo", "repeated", None),
        ("metric_infos", 5, "MetricInfo", "repeated", None),
    ],
    "HParamInfo": [
        ("name", 1, "string", "", None), ("display_name", 2, "string", "", None),
        ("description", 3, "string", "", None), ("type", 4, "enum:HpDataType", "", None),
        ("domain_discrete", 5, "google.protobuf.ListValue", "", "domain"),
        ("domain_interval", 6, "Interval", "", "domain"),
    ],
    "Interval": [("min_value", 1, "double", "", None), ("max_value", 2, "double", "", None)],
    "MetricName": [("group", 1, "string", "", None), ("tag", 2, "string", "", None)],
    "MetricInfo": [
        ("name", 1, "MetricName", "", None), ("display_name", 3, "string", "", None),
        ("description", 4, "string", "", None),
        ("dataset_type", 5, "enum:DatasetType", "", None),
    ],
    "SessionStartInfo": [
        ("hparams", 1, "map:google.protobuf.Value", "repeated", None),
        ("model_uri", 2, "string", "", None), ("monitor_url", 3, "string", "", None),
        ("group_name", 4, "string", "", None), ("start_time_secs", 5, "double", "", None),
    ],
    "SessionEndInfo": [
        ("status", 1, "enum:Status", "", None), ("end_time_secs", 2, "double", "", None),
    ],
    # tensorboard/plugins/projector/projector_config.proto
    "SpriteMetadata": [
        ("image_path", 1, "string", "", None),
        ("single_image_dim", 2, "uint32", "repeated", None),
    ],
    "EmbeddingInfo": [
        ("tensor_name", 1, "string", "", None), ("metadata_path", 2, "string", "", None),
        ("bookmarks_path", 3, "string", "", None),
        ("tensor_shape", 4, "uint32", "repeated", None),
        ("sprite", 5, "SpriteMetadata", "", None), ("tensor_path", 6, "string", "", None),
    ],
    "ProjectorConfig": [
        ("model_checkpoint_path", 1, "string", "", None),
        ("embeddings", 2, "EmbeddingInfo", "repeated", None),
        ("model_checkpoint_dir", 3, "string", "", None),
    ],
}

PACKAGE = "tbreader"


def _type_name(name):
    return name if name.startswith("google.") else f".{PACKAGE}.{name}"


def _fill_message(proto, name, fields):
    oneofs = []
    for field_name, number, kind, label, oneof in fields:
        f = proto.field.add(name=field_name, number=number)
        f.label = F.LABEL_REPEATED if label == "repeated" else F.LABEL_OPTIONAL
        if kind in SCALARS:
            f.type = SCALARS[kind]
        elif kind.startswith("enum:"):
            f.type = F.TYPE_ENUM
            f.type_name = _type_name(kind[5:])
        elif kind.startswith("map:"):
            entry = proto.nested_type.add(name=field_name.capitalize() + "Entry")
            entry.options.map_entry = True
            entry.field.add(name="key", number=1, type=F.TYPE_STRING, label=F.LABEL_OPTIONAL)
            entry.field.add(name="value", number=2, type=F.TYPE_MESSAGE,
                            label=F.LABEL_OPTIONAL, type_name="." + kind[4:])
            f.type = F.TYPE_MESSAGE
            f.type_name = _type_name(f"{name}.{entry.name}")
        else:
            f.type = F.TYPE_MESSAGE
            f.type_name = _type_name(kind)
        if oneof is not None:
            if oneof not in oneofs:
                oneofs.append(oneof)
                proto.oneof_decl.add(name=oneof)
            f.oneof_index = oneofs.index(oneof)


def _build_classes():
    file_proto = descriptor_pb2.FileDescriptorProto(
        name="tb_reader_schema.proto", package=PACKAGE, syntax="proto3",
        dependency=["google/protobuf/struct.proto"])
    protos = {}
    for name in sorted(MESSAGES, key=lambda n: n.count(".")):
        parent, _, short = name.rpartition(".")
        container = protos[parent].nested_type if parent else file_proto.message_type
        protos[name] = container.add(name=short)
    for enum_name, values in ENUMS.items():
        parent, _, short = enum_name.rpartition(".")
        container = protos[parent].enum_type if parent else file_proto.enum_type
        enum = container.add(name=short)
        for number, value in enumerate(values):
            enum.value.add(name=value, number=number)
    for name, fields in MESSAGES.items():
        _fill_message(protos[name], name, fields)

    pool = descriptor_pool.DescriptorPool()
    pool.AddSerializedFile(struct_pb2.DESCRIPTOR.serialized_pb)
    pool.AddSerializedFile(file_proto.SerializeToString())
    factory = message_factory.MessageFactory(pool)
    classes = {}
    for name in MESSAGES:
        descriptor = pool.FindMessageTypeByName(f"{PACKAGE}.{name}")
        if hasattr(message_factory, "GetMessageClass"):
            classes[name] = message_factory.GetMessageClass(descriptor)
        else:
            classes[name] = factory.GetPrototype(descriptor)
    return classes


PB = _build_classes()

# --------------------------------------------------------------------------- helpers


def masked_crc(data):
    crc = crc32c(data) & 0xFFFFFFFF
    return (((crc >> 15) | (crc << 17)) + 0xA282EAD8) & 0xFFFFFFFF


def clean(value):
    """Makes floats JSON-safe, recursively."""
    if isinstance(value, float):
        if math.isnan(value):
            return "NaN"
        if math.isinf(value):
            return "Infinity" if value > 0 else "-Infinity"
        return value
    if isinstance(value, dict):
        return {k: clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [clean(v) for v in value]
    return value


def has_unknown_fields(message):
    """True when parsing left fields this schema does not know, at any depth."""
    copy = type(message)()
    copy.CopyFrom(message)
    copy.DiscardUnknownFields()
    return copy.ByteSize() != message.ByteSize()


def parse(name, data):
    message = PB[name]()
    message.ParseFromString(data)
    return message


def read_records(data):
    """The complete records of a TFRecord file, and what stopped the reading early."""
    records, pos = [], 0
    while pos < len(data):
        left = len(data) - pos
        if left < 12:
            return records, {"offset": pos, "reason": "truncated header", "bytes": left}
        header = data[pos:pos + 8]
        (length,) = struct.unpack("<Q", header)
        (length_crc,) = struct.unpack("<I", data[pos + 8:pos + 12])
        if masked_crc(header) != length_crc:
            return records, {"offset": pos, "reason": "length crc mismatch", "bytes": left}
        if left < 12 + length + 4:
            return records, {"offset": pos, "reason": "truncated record", "bytes": left}
        payload = data[pos + 12:pos + 12 + length]
        (data_crc,) = struct.unpack("<I", data[pos + 12 + length:pos + 16 + length])
        if masked_crc(payload) != data_crc:
            return records, {"offset": pos, "reason": "data crc mismatch", "bytes": left}
        records.append(payload)
        pos += 16 + length
    return records, None


def pixels_of(image):
    """Flat channel values of a decoded image in its own mode (L, LA, RGB, RGBA)."""
    flat = []
    for pixel in image.getdata():
        if isinstance(pixel, tuple):
            flat.extend(pixel)
        else:
            flat.append(pixel)
    return flat


MAX_PIXELS = 4096


def decode_image(encoded):
    image = Image.open(io.BytesIO(encoded))
    out = {"format": image.format, "decoded_width": image.width,
           "decoded_height": image.height, "mode": image.mode,
           "frames": getattr(image, "n_frames", 1)}
    small = image.width * image.height <= MAX_PIXELS
    if image.format == "GIF":
        out["loop"] = image.info.get("loop")
        durations, frame_pixels = [], []
        for index in range(out["frames"]):
            image.seek(index)
            durations.append(image.info.get("duration"))
            if small:
                frame_pixels.append(pixels_of(image.convert("RGB")))
        out["durations_ms"] = durations
        if small:
            out["frame_pixels"] = frame_pixels
    elif small:
        out["pixels"] = pixels_of(image)
    return out


def decode_plugin_content(plugin_name, content):
    kinds = {"pr_curves": "PrCurvePluginData", "text": "TextPluginData",
             "hparams": "HParamsPluginData"}
    if plugin_name not in kinds:
        return None
    message = parse(kinds[plugin_name], content)
    decoded = json_format.MessageToDict(message, preserving_proto_field_name=True,
                                        including_default_value_fields=True)
    if plugin_name == "hparams":
        decoded["data"] = message.WhichOneof("data")
    decoded["unknown_fields"] = has_unknown_fields(message)
    return decoded


def decode_value(value):
    out = {"tag": value.tag, "kind": value.WhichOneof("value"),
           "has_metadata": value.HasField("metadata")}
    if value.HasField("metadata"):
        plugin = value.metadata.plugin_data
        out["plugin_name"] = plugin.plugin_name
        out["content_bytes"] = len(plugin.content)
        out["data_class"] = int(value.metadata.data_class)
        content = decode_plugin_content(plugin.plugin_name, plugin.content)
        if content is not None:
            out["content"] = content
    kind = out["kind"]
    if kind == "simple_value":
        out["simple_value"] = value.simple_value
    elif kind == "histo":
        h = value.histo
        out["histo"] = {"min": h.min, "max": h.max, "num": h.num, "sum": h.sum,
                        "sum_squares": h.sum_squares, "bucket_limit": list(h.bucket_limit),
                        "bucket": list(h.bucket)}
    elif kind == "image":
        img = value.image
        out["image"] = {"height": img.height, "width": img.width,
                        "colorspace": img.colorspace,
                        "bytes": len(img.encoded_image_string)}
        out["image"].update(decode_image(img.encoded_image_string))
    elif kind == "tensor":
        t = value.tensor
        out["tensor"] = {
            "dtype": t.dtype, "shape": [d.size for d in t.tensor_shape.dim],
            "float_val": list(t.float_val),
            "string_val": [s.decode("utf-8") for s in t.string_val],
            "content_bytes": len(t.tensor_content),
        }
    return out


def decode_event(payload):
    event = parse("Event", payload)
    out = {"wall_time": event.wall_time, "step": event.step, "what": event.WhichOneof("what"),
           "unknown_fields": has_unknown_fields(event)}
    what = out["what"]
    if what == "file_version":
        out["file_version"] = event.file_version
    elif what == "session_log":
        out["session_log"] = {
            "status": PB["SessionLog"].SessionStatus.Name(event.session_log.status)}
    elif what == "summary":
        out["values"] = [decode_value(v) for v in event.summary.value]
    if event.HasField("source_metadata"):
        out["writer"] = event.source_metadata.writer
    return out


# --------------------------------------------------------------------------- commands


def command_events(path):
    with open(path, "rb") as f:
        data = f.read()
    records, tail = read_records(data)
    return {"file": os.path.basename(path), "size": len(data), "records": len(records),
            "tail": tail, "events": [decode_event(r) for r in records]}


def read_tensor_tsv(path):
    """As TensorBoard's projector reads it: tab-separated floats, one vector a line."""
    rows = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.rstrip("\n")
            if line:
                rows.append([float(x) for x in line.split("\t")])
    return rows


def command_projector(logdir):
    config_path = os.path.join(logdir, "projector_config.pbtxt")
    config = PB["ProjectorConfig"]()
    with open(config_path, encoding="utf-8") as f:
        text_format.Parse(f.read(), config)
    embeddings = []
    for e in config.embeddings:
        base = os.path.dirname(config_path)
        rows = read_tensor_tsv(os.path.join(base, e.tensor_path))
        out = {"tensor_name": e.tensor_name, "tensor_shape": list(e.tensor_shape),
               "tensor_path": e.tensor_path, "metadata_path": e.metadata_path,
               "rows": len(rows), "dims": sorted({len(r) for r in rows}), "vectors": rows}
        if e.metadata_path:
            with open(os.path.join(base, e.metadata_path), encoding="utf-8") as f:
                out["metadata_lines"] = f.read().split("\n")
        if e.HasField("sprite"):
            sprite = Image.open(os.path.join(base, e.sprite.image_path))
            out["sprite"] = {"image_path": e.sprite.image_path,
                             "single_image_dim": list(e.sprite.single_image_dim),
                             "format": sprite.format, "width": sprite.width,
                             "height": sprite.height, "mode": sprite.mode}
            if sprite.width * sprite.height <= MAX_PIXELS:
                out["sprite"]["pixels"] = pixels_of(sprite)
        embeddings.append(out)
    return {"embeddings": embeddings}


def f32(x):
    return struct.unpack("<f", struct.pack("<f", x))[0]


def command_pr_reference(path, num_thresholds):
    """TP, FP, TN, FN, precision, recall at each threshold i / (n - 1), counted directly:
    an example is predicted positive at threshold i when its single-precision bucket
    floor(p * (n - 1)) is at least i (p clamped to [0, 1]), as TensorBoard's pr_curve
    summary defines it."""
    examples = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            parts = line.split()
            if parts:
                weight = float(parts[2]) if len(parts) > 2 else 1.0
                examples.append((parts[0] == "1", f32(float(parts[1])), weight))
    n = num_thresholds
    rows = [[0.0] * n for _ in range(6)]
    for i in range(n):
        tp = fp = tn = fn = 0.0
        for label, p, w in examples:
            if math.isnan(p):
                continue
            bucket = math.floor(f32(min(max(p, 0.0), 1.0) * (n - 1)))
            positive = bucket >= i
            if label and positive:
                tp += w
            elif label:
                fn += w
            elif positive:
                fp += w
            else:
                tn += w
        rows[0][i], rows[1][i], rows[2][i], rows[3][i] = tp, fp, tn, fn
        rows[4][i] = tp / max(1e-7, tp + fp)
        rows[5][i] = tp / max(1e-7, tp + fn)
    return {"num_thresholds": n, "rows": rows}


def main(argv):
    if len(argv) >= 3 and argv[1] == "events":
        result = command_events(argv[2])
    elif len(argv) >= 3 and argv[1] == "projector":
        result = command_projector(argv[2])
    elif len(argv) >= 4 and argv[1] == "pr-reference":
        result = command_pr_reference(argv[2], int(argv[3]))
    else:
        print(__doc__, file=sys.stderr)
        return 2
    json.dump(clean(result), sys.stdout, allow_nan=False, ensure_ascii=False)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
