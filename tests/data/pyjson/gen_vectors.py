#!/usr/bin/python3
"""gen_vectors.py — regenerate the pyjson test vectors from CPython itself.

tests/unit/test_pyjson.c compares src/lib/pyjson.c with what CPython's
json.dumps / repr produce.  This script writes (deterministically, fixed seed):
  floats.txt  "<16 hex digits of the IEEE-754 bits> <repr(float)>" per line
  dumps.txt   "<json.dumps(o)>\t<json.dumps(o, sort_keys=True)>" per line; the
              first column is both the input (loaded with jansson,
              JSON_ALLOW_NUL) and the expected output with sort_keys=False.
With --c it instead prints the curated vectors as a C table for the test.
Run from this directory:  /usr/bin/python3 gen_vectors.py
"""
import json
import random
import struct
import sys

SEED = 20240611


def bits(d):
    return struct.unpack("<Q", struct.pack("<d", d))[0]


def from_bits(u):
    return struct.unpack("<d", struct.pack("<Q", u))[0]


def gen_floats(rnd):
    vals = []
    # Hand-picked edge cases first.
    for d in [0.0, -0.0, 0.1, 0.2, 0.3, 1 / 3, 2 / 3, 1e16, 1e-5, 1e-4, 0.0001, 1e15,
              9999999999999998.0, 1234567890123456.0, 12345678901234567.0, 123456789.12345679,
              5e-324, 1e-323, 2.2250738585072014e-308, 2.225073858507201e-308,
              1.7976931348623157e308, 1e308, 1e22, 1e23, 2.0 ** 53, 2.0 ** 53 + 2,
              2.0 ** 63, 2.0 ** 64, 1.5, 3.0, 100.0, 1e100, 1.5e300, 0.5, 4.35, 0.000123,
              1.0000000000000002, 0.9999999999999999, 1700000000.123456, 1717171717.7171717,
              float("inf"), float("-inf"), float("nan"), 123.456, -1e-7, 9007199254740993.0,
              4.940656458412465e-324, 8.98846567431158e307, 1e-310, 0.30000000000000004]:
        vals.append(bits(d))
    # Powers of two and their neighbours: the lopsided rounding intervals.
    for _ in range(300):
        e = rnd.randint(1, 2046)
        m = rnd.choice([0, 1, (1 << 52) - 1])
        vals.append((e << 52) | m | (rnd.getrandbits(1) << 63))
    # Uniformly random bit patterns (all exponents, subnormals, NaNs, inf).
    for _ in range(1500):
        vals.append(rnd.getrandbits(64))
    # Values that occur in practice: timestamps, small decimals, ratios.
    for _ in range(400):
        vals.append(bits(1.5e9 + rnd.random() * 3e8))
    for _ in range(400):
        vals.append(bits(round(rnd.uniform(-1000, 1000), rnd.randint(0, 6))))
    for _ in range(400):
        vals.append(bits(rnd.random() * 10 ** rnd.randint(-30, 30)))
    return vals


KEYS = ["a", "b", "B", "A", "_", "0", "10", "9", "", " ", "é", "e", "z", "中", "😀", "\u00ff",
        "\uffff", "\ufb01", "\U0010ffff", "\ue000", "Ab", "aB", "ab", "a b", "a\"b", "a\\b",
        "\x01", "\x1f", "\x7f", "\t", "\n", "ä", "Ö", "serial", "signature", "result",
        "value", "tokentype", "key\u2028", "🔑", "\U0001f600x", "ж", "Z9"]

STRS = ["", "plain", "quote\"", "back\\slash", "slash/", "\n\r\t\b\f", "\x00", "a\x00b",
        "\x01\x02\x1f", "\x7f", "\x80", "é", "中文", "😀", "\U0010ffff", "\ud7ff\ue000",
        "\u2028\u2029", "<script>&'", "tab\there", "~", " ", "\ufeff"]


def rnd_float(rnd):
    r = rnd.random()
    if r < 0.3:
        while True:
            d = from_bits(rnd.getrandbits(64))
            if d == d and abs(d) != float("inf"):
                return d
    if r < 0.6:
        return 1577836800.0 + rnd.random() * 1e8  # 2020-01-01 UTC onwards
    if r < 0.8:
        return round(rnd.uniform(-100, 100), rnd.randint(0, 4))
    return rnd.choice([0.0, -0.0, 1e16, 1e-5, 0.1, 5e-324, 1.7976931348623157e308, 1e15, 0.5])


def rnd_value(rnd, depth):
    r = rnd.random()
    if depth < 3 and r < 0.2:
        return {rnd.choice(KEYS): rnd_value(rnd, depth + 1) for _ in range(rnd.randint(0, 5))}
    if depth < 3 and r < 0.35:
        return [rnd_value(rnd, depth + 1) for _ in range(rnd.randint(0, 4))]
    r = rnd.random()
    if r < 0.25:
        return rnd.choice(STRS) + rnd.choice(KEYS)
    if r < 0.5:
        return rnd.choice([0, 1, -1, 42, 2 ** 31, -2 ** 31, 2 ** 63 - 1, -2 ** 63,
                           rnd.randint(-10 ** 12, 10 ** 12)])
    if r < 0.8:
        return rnd_float(rnd)
    return rnd.choice([True, False, None])


def curated():
    return [
        {}, [], "", 0, -0.0, None, True, False, "x",
        {"b": 1, "a": 2},
        {"a": [], "b": {}, "c": [{}], "d": [[]]},
        {"é": 1, "e": 2, "f": 3, "E": 4, "": 5, "10": 6, "9": 7, "中": 8, "😀": 9, "\uffff": 10},
        {"\U0001f600": 1, "\uffff": 2, "\ufb01": 3},
        {"ctl": "\x00\x01\x1f\x7f\x80", "q": "\"\\/", "ws": "\n\r\t\b\f"},
        {"uni": "é中😀\U0010ffff\u2028"},
        [0.1, 1 / 3, 1e16, 1e-5, 123456789.12345679, 5e-324, 1.7976931348623157e308, -0.0],
        [1e15, 1234567890123456.0, 12345678901234567.0, 1e-4, 0.0001, 1.5e300, 3.0, 100.0],
        [9223372036854775807, -9223372036854775808, 0, -1],
        {"result": {"status": True, "value": True}, "version": "privacyIDEA 3.9",
         "id": 1, "jsonrpc": "2.0", "time": 1717171717.7171717, "detail": {"serial": "OATH0001"}},
        {"nested": {"z": {"y": {"x": [1, {"b": None, "a": False}]}}}},
        {"A": 1, "a": 2, "B": 3, "b": 4, "_": 5, "~": 6, "0": 7},
    ]


def c_literal(s):
    out = []
    for byte in s.encode("utf-8"):
        ch = chr(byte)
        if ch == "\\" or ch == "\"":
            out.append("\\" + ch)
        elif 0x20 <= byte < 0x7f and ch != "?":
            out.append(ch)
        else:
            out.append("\\%03o" % byte)
    return "\"" + "".join(out) + "\""


def main():
    if "--c" in sys.argv:
        for o in curated():
            print("\t{ %s,\n\t  %s,\n\t  %s }," % (
                c_literal(json.dumps(o, ensure_ascii=False)),
                c_literal(json.dumps(o, sort_keys=True)), c_literal(json.dumps(o))))
        return
    rnd = random.Random(SEED)
    with open("floats.txt", "w") as f:
        f.write("# floats.txt — generated by gen_vectors.py; do not edit.\n"
                "# <IEEE-754 bits as 16 hex digits> <CPython repr(float)>\n")
        for u in gen_floats(rnd):
            f.write("%016x %r\n" % (u, from_bits(u)))
    with open("dumps.txt", "w") as f:
        f.write("# dumps.txt — generated by gen_vectors.py; do not edit.\n"
                "# <json.dumps(o)>\\t<json.dumps(o, sort_keys=True)>\n")
        for _ in range(1500):
            o = rnd_value(rnd, 0)
            if rnd.random() < 0.7:
                o = {rnd.choice(KEYS): rnd_value(rnd, 1) for _ in range(rnd.randint(1, 8))}
            line = json.dumps(o)
            assert "\t" not in line and "\n" not in line
            f.write("%s\t%s\n" % (line, json.dumps(o, sort_keys=True)))


if __name__ == "__main__":
    main()
