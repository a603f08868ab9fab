"""
Decodes and encodes Flight SQL messages with the protobuf runtime, for the codec test.
usage: flight_sql_codec.py GENERATED_DIR   (stdin: JSON list of {"any": hex} or {"encode": name, "fields": {...}})
Prints a JSON list: for "any", the type URL and the message as a dict (names as in the proto,
bytes as hex, presence kept); for "encode", the Any's bytes as hex.
"""
import json
import sys

sys.path.insert(0, sys.argv[1])
import flight_sql_subset_pb2 as pb  # noqa: E402
from google.protobuf import any_pb2  # noqa: E402

PREFIX = "type.googleapis.com/arrow.flight.protocol.sql."


def repeated(field):
    # protobuf 7 has is_repeated; older runtimes only the label.
    return field.is_repeated if hasattr(field, "is_repeated") else field.label == field.LABEL_REPEATED


def as_dict(msg):
    out = {}
    for field, value in msg.ListFields():
        if field.type == field.TYPE_BYTES:
            value = value.hex()
        elif repeated(field):
            value = list(value)
        out[field.name] = value
    return out


def set_fields(msg, fields):
    for name, value in fields.items():
        f = msg.DESCRIPTOR.fields_by_name[name]
        if f.type == f.TYPE_BYTES:
            value = bytes.fromhex(value)
        if repeated(f):
            getattr(msg, name).extend(value)
        else:
            setattr(msg, name, value)


results = []
for item in json.load(sys.stdin):
    if "any" in item:
        packed = any_pb2.Any()
        packed.ParseFromString(bytes.fromhex(item["any"]))
        name = packed.type_url[len(PREFIX):]
        msg = getattr(pb, name)()
        msg.ParseFromString(packed.value)
        results.append({"type_url": packed.type_url, "fields": as_dict(msg)})
    else:
        msg = getattr(pb, item["encode"])()
        set_fields(msg, item["fields"])
        packed = any_pb2.Any()
        packed.Pack(msg, "type.googleapis.com/")
        results.append(packed.SerializeToString().hex())
print(json.dumps(results))
