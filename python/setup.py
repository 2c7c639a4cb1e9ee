"""Builds the mlruns Python package: `pip install --no-build-isolation ./python`.

The extension mlruns._mlruns is built by the repository's CMake project
(option MLRUNS_BUILD_PYTHON, target _mlruns, see python/CMakeLists.txt) with
the static mlruns library linked in, so the installed package needs no
libmlruns.so at run time. Only Debian packages are needed: python3-dev,
pybind11-dev (python3-pybind11), python3-setuptools, cmake, g++ and the
library's own build dependencies (tools/scripts/install-deps.sh).

Environment variables:
  MLRUNS_PYTHON_BUILD_DIR  CMake build folder to use (kept between builds);
                           default: a folder below setuptools' build_temp.
  MLRUNS_CMAKE_ARGS        more arguments for the CMake configure step, e.g.
                           "-DCMAKE_CXX_COMPILER_LAUNCHER=ccache".
  CMAKE_BUILD_PARALLEL_LEVEL  compile jobs (CMake's own variable).
"""
import configparser
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

HERE = Path(__file__).resolve().parent
REPO = HERE.parent


def project_version():
    text = (REPO / "CMakeLists.txt").read_text()
    match = re.search(r"project\(mlruns VERSION ([0-9.]+)", text)
    if not match:
        raise RuntimeError("no 'project(mlruns VERSION x.y.z' in " + str(REPO / "CMakeLists.txt"))
    return match.group(1)


def entry_points():
    """The entry points of python/entry_points.txt (also installed by CMake)."""
    parser = configparser.ConfigParser()
    parser.read(HERE / "entry_points.txt")
    return {group: [f"{k} = {v}" for k, v in parser[group].items()] for group in parser.sections()}


class CMakeBuild(build_ext):
    """Configures and builds the CMake target _mlruns into the package folder."""

    def build_extension(self, ext):
        out_dir = Path(self.get_ext_fullpath(ext.name)).resolve().parent
        build_dir = Path(os.environ.get("MLRUNS_PYTHON_BUILD_DIR") or Path(self.build_temp) / "cmake").resolve()
        build_dir.mkdir(parents=True, exist_ok=True)
        configure = [
            "cmake", "-S", str(REPO), "-B", str(build_dir),
            "-DMLRUNS_BUILD_PYTHON=ON",
            f"-DPython_EXECUTABLE={sys.executable}",
            f"-DMLRUNS_PYTHON_OUTPUT_DIR={out_dir}",
        ]
        if not (build_dir / "CMakeCache.txt").exists():
            # A build folder of its own: the library alone, static, linked into the module.
            # An existing one (e.g. the repository's build/, as tools/scripts/test.sh
            # passes it) keeps its own settings and adds the module.
            configure += ["-DCMAKE_BUILD_TYPE=RelWithDebInfo", "-DMLRUNS_BUILD_TESTS=OFF",
                          "-DMLRUNS_BUILD_TOOLS=OFF", "-DBUILD_SHARED_LIBS=OFF"]
        configure += shlex.split(os.environ.get("MLRUNS_CMAKE_ARGS", ""))
        subprocess.run(configure, check=True)
        subprocess.run(["cmake", "--build", str(build_dir), "--target", "_mlruns"], check=True)


setup(
    name="mlruns",
    version=project_version(),
    description="Write and read MLflow mlruns trees fast and crash-safely; an MLflow tracking-store plugin",
    python_requires=">=3.10",
    packages=["mlruns"],
    package_data={"mlruns": ["py.typed", "_mlruns.pyi"]},
    ext_modules=[Extension("mlruns._mlruns", sources=[])],
    cmdclass={"build_ext": CMakeBuild},
    entry_points=entry_points(),
    zip_safe=False,
)
