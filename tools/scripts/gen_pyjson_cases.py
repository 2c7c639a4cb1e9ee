#!/usr/bin/python3
"""Generates tests/fixtures/pyjson_cases.json: what Python's json.dumps (default
arguments, as MLflow writes the mlflow.log-model.history tag and MLmodel
signatures, spec §8.3) makes of values with tricky strings and numbers.

    /usr/bin/python3 tools/scripts/gen_pyjson_cases.py > tests/fixtures/pyjson_cases.json

Each case holds the value (as JSON text the C++ test parses) and json.dumps's
output; tests/format/py_json_test.cpp compares mlruns' writer with every case.
"""
import json
import math
import random
import sys

STRINGS = ["", "a", "\"", "\\", "/", "\b\f\n\r\t", "\x00\x01\x1f", "\x7f", "\u00e9", "\u00fc\u00fc",
           "\u5b9f\u9a13", "\U0001F642", "a\U0001F642b", "\u2028\u2029", "\ufeff", "\ufffd",
           "model.onnx", "runs:/abc/model", "it's", "tab\there", "2026-11-29 18:31:19.335169"]
NUMBERS = [0, 1, -1, 2**53, 2**62, -2**62, 0.0, -0.0, 0.5, 1.0, 100.0, 1e-05, 1.5e+300, 1e16, 1e22,
           0.1 + 0.2, 5e-324]
# NaN and +-Infinity (json.dumps writes NaN, Infinity, -Infinity) are not JSON
# the C++ side can parse back; py_json_test.cpp checks them by hand.


def random_value(rng, depth=0):
    kind = rng.choice(["str", "num", "none", "bool", "list", "dict"] if depth < 3 else ["str", "num"])
    if kind == "str":
        return "".join(rng.choice(STRINGS) for _ in range(rng.randint(1, 3)))
    if kind == "num":
        return rng.choice(NUMBERS)
    if kind == "none":
        return None
    if kind == "bool":
        return rng.choice([True, False])
    if kind == "list":
        return [random_value(rng, depth + 1) for _ in range(rng.randint(0, 4))]
    return {rng.choice(STRINGS) + str(i): random_value(rng, depth + 1) for i in range(rng.randint(0, 4))}


def main():
    rng = random.Random(20261129)
    cases = [{"value": json.dumps(v), "dumps": json.dumps(v)} for v in STRINGS + NUMBERS]
    for _ in range(300):
        v = random_value(rng)
        cases.append({"value": json.dumps(v), "dumps": json.dumps(v)})
    json.dump({"generator": "tools/scripts/gen_pyjson_cases.py", "cases": cases}, sys.stdout,
              ensure_ascii=True, indent=0)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
