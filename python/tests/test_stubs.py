"""mlruns/_mlruns.pyi matches the extension module: every name in the stub exists, and back."""
import ast
import os

import mlruns
from mlruns import _mlruns

STUB = os.path.join(os.path.dirname(mlruns.__file__), "_mlruns.pyi")


def stub_names():
    tree = ast.parse(open(STUB).read())
    names = {}
    for node in tree.body:
        if isinstance(node, ast.ClassDef):
            members = set()
            for item in node.body:
                if isinstance(item, ast.FunctionDef):
                    members.add(item.name)
                elif isinstance(item, ast.AnnAssign):
                    members.add(item.target.id)
            names[node.name] = members
        elif isinstance(node, ast.FunctionDef):
            names[node.name] = None
        elif isinstance(node, ast.Assign):  # type aliases
            names[node.targets[0].id] = "alias"
    return names


def test_every_stub_name_exists_in_the_module():
    for name, members in stub_names().items():
        if members == "alias":
            continue
        assert hasattr(_mlruns, name), f"_mlruns.pyi declares {name}, the module has none"
        for member in members or ():
            if member == "code":  # set on each exception instance
                continue
            assert hasattr(getattr(_mlruns, name), member), f"_mlruns.pyi declares {name}.{member}"


def test_every_module_name_is_in_the_stub():
    names = stub_names()
    for name in dir(_mlruns):
        if name.startswith("_"):
            continue
        assert name in names, f"_mlruns.{name} is missing from _mlruns.pyi"
        obj = getattr(_mlruns, name)
        if isinstance(obj, type) and not issubclass(obj, BaseException):
            for member in vars(obj):
                if not member.startswith("_"):
                    assert member in names[name], f"_mlruns.{name}.{member} is missing from _mlruns.pyi"


def test_the_package_exports_what_all_names():
    for name in mlruns.__all__:
        assert hasattr(mlruns, name), name
