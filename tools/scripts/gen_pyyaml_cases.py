#!/usr/bin/python3
"""Generates tests/fixtures/pyyaml_scalars.json: what PyYAML (libyaml's
CSafeDumper, as MLflow calls it, spec §2.1) writes for tricky string values.

Run with Debian's /usr/bin/python3 (python3-yaml, built with libyaml):
    /usr/bin/python3 tools/scripts/gen_pyyaml_cases.py > tests/fixtures/pyyaml_scalars.json
    /usr/bin/python3 tools/scripts/gen_pyyaml_cases.py --documents > tests/fixtures/pyyaml_documents.json
The C++ test (tests/format/yaml_emit_test.cpp) compares mlruns' emitter with every case.

"cases" also drive the reader: PyYAML's CSafeLoader (MLflow's reader) loads each "yaml"
back to its "value", and tests/format/pyyaml_load_test.cpp asserts mlruns reads the same.
They include every BMP character PyYAML's emitter escapes (non-printable ones, and
U+0085, U+00A0, U+2028, U+2029 as backslash-N, -_, -L, -P). "loads" are documents other writers
may produce (every escape, folding, duplicate keys, YAML 1.1 ints), with what
CSafeLoader makes of them.
With --documents: whole nested documents (mappings, lists, ints, bools, None,
tricky strings as keys and values) as MLflow dumps them: MLmodel with
yaml.safe_dump (pure-Python SafeDumper, allow_unicode=False) and the Model
Registry's meta.yaml with CSafeDumper and allow_unicode=True (spec §8.3, §9.4).
"""
import json
import random
import sys

import yaml

assert yaml.__with_libyaml__, "needs PyYAML built with libyaml (CSafeDumper)"

FIXED = [
    "", " ", "  ", "a", "0", "123", "597879202354782463", "+1", "-1", "1_000", "0x1F", "0x1A",
    "0123", "0o17", "0b101", "0b2", "1:20", "1:60", "-1:20", "190:20:30", "1.5", ".5", "1.", "1.0e+3",
    "6.02e+23", "1e3", "1.0e3", "1e-05", "1.5e-05", ".inf", "-.inf", "+.INF", ".NaN", ".nan", "nan",
    "inf", "-inf", "1_0.5", "._5", "._", ".", "..", "...", "....", "---", "--- x", "-- x", "--",
    "yes", "Yes", "YES", "yEs", "no", "No", "NO", "true", "True", "TRUE", "tRue", "false", "False",
    "on", "On", "ON", "off", "Off", "OFF", "y", "Y", "n", "N", "~", "null", "Null", "NULL", "nULL",
    "2024-01-01", "2024-1-1", "2024-01-01T10:20:30", "2024-01-01 10:20:30.5 +01:00",
    "2024-01-01t1:20:30Z", "2024-01-01  1:20:30", "20240101", "2024-01-01x", "<<", "=", "<", "<<<",
    "a:b", "a: b", "a:", ":a", ": a", "::", "a, b", "a,b", ",a", "?x", "? x", "?", "x?", "a #b", "a#b",
    "#a", "- x", "-x", "-", "- ", "@x", "&x", "*x", "!x", "|x", ">x", "%x", "[x", "]x", "{x", "}x",
    "`x", "'x", "\"x", "x'", "it's", "say \"hi\"", "a'b'c", "''", "'", "\"", "\\", "a\\b",
    "x ", " x", "a  b", "a   b", "a \tb", "\tx", "x\t", "a\tb", "a\x01b", "\x00", "a\x7fb",
    "a\x1bb", "\x07\x08\x0b\x0c", "a\rb", "a\r\nb", "a\nb", "a\n\nb", "a\n", "\na", "a \nb",
    "a\n b", "a\n\n\nb", "line1\nline2\nline3", "\u00e9t\u00e9", "\u5b9f\u9a13 \u00fc",
    "\U0001F642", "a \U0001F642 b", "\ufeffx", "\u0085", "a\u2028b", "a\u2029b", "\u00a0",
    "a\u00a0b", "\ufffe", "\uffff", "\ue000", "\ud7ff", "caf\u00e9 #1", "x #", "x#",
    "file:///data/mlruns/0", "file:///data/my%20dir/mlruns/789925878442086410",
    "parent-run", "ppo_lr1e-4_g0.99", "rl-trainer", "Default", "demo experiment",
    "lyrical-snake-675", "root", "unknown", "0.1", "100.0", "-0.0", "1e+16",
    "a" * 100, "a " * 60, "x" * 79 + " y", "x" * 80 + " y", "x" * 81 + " y", "x" * 70 + " " + "y" * 20,
]


def long_cases(rng):
    words = ["a", "bb", "ccc", "dddd", "eeeee", "ffffffffff", "x" * 30, "it's", "\u00fc\u00fc",
             "\u5b9f\u9a13", "#", "a:b", "''"]
    out = []
    for n in range(40):
        k = rng.randint(5, 60)
        seps = [" ", " ", " ", "  ", "\n", " \n"] if n % 3 == 0 else [" "]
        s = rng.choice(words)
        for _ in range(k):
            s += rng.choice(seps) + rng.choice(words)
        out.append(s)
        out.append(s + " ")
        out.append(" " + s)
        out.append(s + "\t")  # forces double quotes, folded there too
        out.append(s.replace(" ", "  "))
    return out


def random_cases(rng):
    alphabet = list("ab09 -_.:#?,'\"\\\n\t!&*[]{}|>%@`~=+") + ["\u00e9", "\u5b9f", "\U0001F642",
                                                                 "\u2028", "\x01", "\u00a0"]
    out = []
    for _ in range(1500):
        n = rng.choice([1, 2, 3, 4, 6, 10, 30, 90, 200])
        out.append("".join(rng.choice(alphabet) for _ in range(n)))
    return out


def random_document(rng, values, depth=0):
    doc = {}
    for _ in range(rng.randint(0 if depth else 1, 5)):
        key = rng.choice(values)
        # PyYAML writes empty keys (pure-Python dumper), keys of 128 characters
        # or more and keys with line breaks as "? key"; MLflow's keys never are
        # (mlruns refuses such metadata keys).
        if not key:
            key = "k"
        if len(key.encode("utf-8")) > 100 or any(c in key for c in "\r\n\x85\u2028\u2029"):
            key = key[:20].replace("\n", " ").replace("\r", " ").replace("\x85", " ")
            key = key.replace("\u2028", " ").replace("\u2029", " ")
        kind = rng.choice(["str", "str", "str", "int", "none", "bool", "list", "emptylist", "map", "emptymap"])
        if kind == "str":
            doc[key] = rng.choice(values)
        elif kind == "int":
            doc[key] = rng.choice([0, 1, -5, 435, 1795977096190, 2**62])
        elif kind == "none":
            doc[key] = None
        elif kind == "bool":
            doc[key] = rng.choice([True, False])
        elif kind == "list":
            doc[key] = [rng.choice(values + [None, 7, True]) for _ in range(rng.randint(1, 4))]
        elif kind == "emptylist":
            doc[key] = []
        elif kind == "emptymap":
            doc[key] = {}
        else:
            doc[key] = random_document(rng, values, depth + 1) if depth < 3 else rng.choice(values)
    return doc


def documents():
    rng = random.Random(20261129)
    values = FIXED + long_cases(rng) + random_cases(rng)[:300]
    cases = []
    for i in range(600):
        doc = random_document(rng, values)
        if i % 2 == 0:
            out = yaml.safe_dump(doc, default_flow_style=False)  # MLmodel: Model.to_yaml
            cases.append({"allow_unicode": False, "dumper": "SafeDumper", "document": doc, "yaml": out})
        else:
            out = yaml.dump(doc, Dumper=yaml.CSafeDumper, default_flow_style=False, allow_unicode=True,
                            sort_keys=True)  # registry meta.yaml: write_yaml
            cases.append({"allow_unicode": True, "dumper": "CSafeDumper", "document": doc, "yaml": out})
    json.dump({"generator": "tools/scripts/gen_pyyaml_cases.py --documents",
               "pyyaml": yaml.__version__,
               "cases": cases}, sys.stdout, ensure_ascii=True, indent=0)
    sys.stdout.write("\n")
def escaped_chars():
    """Every BMP code point PyYAML's emitter does not write raw (emitter.py's printable
    test, surrogates excepted: they cannot be UTF-8), plus the four with short escapes."""
    out = []
    for cp in list(range(0, 0x20)) + list(range(0x7F, 0xA1)) + [0x2028, 0x2029, 0xFEFF, 0xFFFE, 0xFFFF]:
        c = chr(cp)
        out.append(c)
        out.append("a" + c + "b")
    return out


def load_cases():
    docs = [
        'name: "\\N\\_\\L\\P|\\N x \\_ y"\n',
        'name: "\\0\\a\\b\\t\\n\\v\\f\\r\\e\\ \\"\\/\\\\"\n',
        'name: "\\x41\\u00e9\\U0001F642\\u2028\\x7f"\n',
        'name: "folded\n  across\n\n  lines \\\n  joined"\n',
        "name: 'single\n  quoted\n\n  lines'\n",
        "name: plain\n  multi\n  line\n",
        'name: "a\u2028b"\n',
        "name: 'a\u2028b'\n",
        "name: a\u2028b\n",
        "name: 'it''s'\n",
        "name: first\nname: second\n",
        "name: !!str 123\n",
        "name: &a anchored\nother: *a\n",
        "name: \"\\t tab \\t\"\n",
        # Plain scalars SafeLoader resolves but cannot construct (value, merge).
        "name: =\n", "name: <<\n", "name: [=]\n", "name: x\n<<: y\n",
        "name: '='\n", "name: \"<<\"\n", "name: =x\n", "name: <<x\n", "name: x=\n",
    ]
    ints = ["3", "+3", "-3", "03", "0o3", "0x1F", "0b101", "1_000", "1:30", "190:20:30", "3.0", "1e3",
            "yes", "~", "null", "''", "'3'", "0", "-0", "9223372036854775807", "9223372036854775808",
            "0x_1F", "08", "1:60", "1:5", "2024-01-01"]
    for v in ints:
        docs.append("creation_time: " + v + "\n")
    out = []
    for d in docs:
        try:
            loaded = yaml.load(d, Loader=yaml.CSafeLoader)
        except yaml.YAMLError:
            out.append({"yaml": d, "key": "", "type": "error", "value": ""})
            continue
        for key, v in loaded.items():
            if key == "other":
                continue
            kind = type(v).__name__
            out.append({"yaml": d, "key": key, "type": kind,
                        "value": v if isinstance(v, str) else repr(v)})
    return out


def input_tag_cases():
    """An input's meta.yaml with one tag value written by another tool: what
    MLflow shows (str() of what CSafeLoader makes of it; None for a null), or
    "error" where CSafeLoader raises."""
    out = []
    for v in ["~", "null", "Null", "NULL", "", "'~'", "=", "<<", "'='", "=x", "yes", "!!null ''"]:
        d = "source_id: x\nsource_type: DATASET\ntags:\n  t: " + v + "\n"
        try:
            loaded = yaml.load(d, Loader=yaml.CSafeLoader)["tags"]["t"]
        except yaml.YAMLError:
            out.append({"yaml": d, "type": "error", "value": ""})
            continue
        out.append({"yaml": d, "type": type(loaded).__name__, "value": str(loaded)})
    return out


def main():
    if sys.argv[1:] == ["--documents"]:
        documents()
        return
    rng = random.Random(20250115)
    values = FIXED + long_cases(rng) + random_cases(rng) + escaped_chars()
    seen = set()
    cases = []
    for key in ["name", "run_name", "user_id", "artifact_location"]:
        for v in values if key in ("name", "run_name") else values[: len(FIXED)]:
            if (key, v) in seen:
                continue
            seen.add((key, v))
            out = yaml.dump({key: v}, Dumper=yaml.CSafeDumper, default_flow_style=False,
                            allow_unicode=True, sort_keys=True)
            # What MLflow reads back: not always `v` (a raw U+0085 or U+2028 is a line
            # break to the loader, folded to a space).
            loaded = yaml.load(out, Loader=yaml.CSafeLoader)[key]
            cases.append({"key": key, "value": v, "yaml": out, "loaded": loaded})
    json.dump({"generator": "tools/scripts/gen_pyyaml_cases.py",
               "pyyaml": yaml.__version__,
               "dumper": "CSafeDumper, default_flow_style=False, allow_unicode=True, sort_keys=True",
               "cases": cases,
               "loader": "CSafeLoader",
               "loads": load_cases(),
               "input_tags": input_tag_cases()}, sys.stdout, ensure_ascii=True, indent=0)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
