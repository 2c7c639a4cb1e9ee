#!/usr/bin/env python3
"""Runs every code example of README.md and docs/*.md (issue 9 item 9).

Fenced blocks are found by their info string:

  ```bash / ```sh / ```shell   run with bash (-e, pipefail) in a fresh temporary folder, with
                               the installed `mlruns` first on PATH, PKG_CONFIG_PATH set to the
                               installed mlruns.pc, HOME and TMPDIR inside the folder, and
                               MLFLOW_TRACKING_URI / MLFLOW_EXPERIMENT_* unset. A block whose
                               lines start with "$ " is a transcript: only those lines (and
                               their "\\" continuations) run; the others are output.
  ```cpp / ```c++ / ```c       compiled with `c++ -std=c++20` / `cc` and
                               `pkg-config --cflags --libs mlruns` (the shared library, found
                               through LD_LIBRARY_PATH); linked and run in its temporary folder
                               when it defines main(), else compiled only.
  ```fortran                   compiled with gfortran together with include/mlruns/mlruns.f90
                               and run, when gfortran is installed (else counted as skipped).
  ```python                    run as a script by --python (default: the Python the package was
                               built for, MLRUNS_BUILD_PYTHON) with the installed `mlruns` package
                               (cmake --install's lib/python3/dist-packages) on PYTHONPATH, in
                               the same fresh folder and environment as shell blocks; skipped
                               (and counted) where the build installed no Python package.

Other blocks (output, ```cmake, ```yaml, plain ```) are not run. A block that cannot run in CI,
or needs context, carries a directive: an HTML comment right before its fence (blank lines and
other directives may sit in between), invisible on a rendered page:

  <!-- ci: skip REASON -->           not run; the reason is required and printed
  <!-- ci: compile-only REASON -->   C/C++/Fortran: built, not run (reason required)
  <!-- ci: needs PROGRAM... -->      skipped (and counted) where one of these is not on PATH
  <!-- ci: needs-python MODULE... --> python: skipped (and counted) where --python cannot import
                                     one of these (e.g. mlflow, which Debian does not package)
  <!-- ci: exit N -->                the block (or program) must exit with status N, not 0
                                     (a death by signal S counts as 128 + S, as in the shell)
  <!-- ci: setup
  shell lines -->                    run first, in the block's folder (files it reads, a $run ...)
  <!-- ci: after
  shell lines -->                    run after the block in its folder; must succeed (checks)
  <!-- ci: template
  source with a line @BLOCK@ -->     C/C++/Fortran: the block's text replaces @BLOCK@ (for a
                                     fragment that needs declarations or a main around it)

Setup and after lines see the same environment as the block; shell setup shares the block's
shell (variables it sets are visible). Compiler messages point at the Markdown file and line
(#line directives); a failing shell line is reported as FILE:LINE too.

Usage: run_doc_examples.py --build BUILD_DIR [--repo REPO] [--jobs N] [--keep] [FILE.md ...]
Exit status 0 when every example passed, 1 otherwise, 2 on a malformed directive.
The documentation of these conventions for writers is docs/design.md ("Examples in the docs").
"""

import argparse
import concurrent.futures
import dataclasses
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

LANGS = {
    "bash": "shell", "sh": "shell", "shell": "shell",
    "cpp": "cpp", "c++": "cpp",
    "c": "c",
    "fortran": "fortran", "f90": "fortran",
    "python": "python", "py": "python",
}
FENCE = re.compile(r"^(\s{0,3})(```+|~~~+)\s*([\w+-]*)")
DIRECTIVE = re.compile(r"^\s*<!--\s*ci:\s*(.*?)\s*(-->)?\s*$")
TIMEOUT_S = 120


class DirectiveError(Exception):
    pass


@dataclasses.dataclass
class Block:
    path: str       # as given, for messages
    rel: str        # relative to the repository
    line: int       # 1-based line of the opening fence
    lang: str       # shell, cpp, c, fortran
    lines: list     # the block's lines (without the fences)
    skip: str = ""
    compile_only: str = ""
    exit_code: int = 0
    needs: list = dataclasses.field(default_factory=list)
    needs_python: list = dataclasses.field(default_factory=list)
    setup: str = ""
    setup_line: int = 0
    after: str = ""
    after_line: int = 0
    template: str = ""
    template_line: int = 0

    @property
    def where(self):
        return f"{self.rel}:{self.line}"


def parse_directive(text, line, pending):
    """Applies one directive to `pending`. `text` is what follows 'ci:' (with the comment's
    further lines, joined by \\n); `line` is the Markdown line of '<!-- ci:'."""
    m = re.match(r"([^\s]+)[ \t]*(\n?)(.*)", text, re.S)
    if not m:
        raise DirectiveError(f"line {line}: empty 'ci:' directive")
    word, newline, rest = m.group(1), m.group(2), m.group(3)
    if word in ("skip", "compile-only"):
        reason = rest.strip()
        if not reason:
            raise DirectiveError(f"line {line}: 'ci: {word}' needs a reason, e.g. 'ci: {word} (needs Slurm)'")
        pending["skip" if word == "skip" else "compile_only"] = " ".join(reason.split())
    elif word == "needs":
        tools = rest.split()
        if not tools:
            raise DirectiveError(f"line {line}: 'ci: needs' names no program")
        pending["needs"] = tools
    elif word == "needs-python":
        modules = rest.split()
        if not modules:
            raise DirectiveError(f"line {line}: 'ci: needs-python' names no module")
        pending["needs_python"] = modules
    elif word == "exit":
        try:
            pending["exit_code"] = int(rest.strip())
        except ValueError:
            raise DirectiveError(f"line {line}: 'ci: exit' needs a number, got {rest.strip()!r}") from None
    elif word in ("setup", "after", "template"):
        if not rest.strip():
            raise DirectiveError(f"line {line}: 'ci: {word}' has no lines")
        if word == "template" and not any(l.strip() == "@BLOCK@" for l in rest.split("\n")):
            raise DirectiveError(f"line {line}: 'ci: template' has no line '@BLOCK@'")
        pending[word] = rest
        pending[word + "_line"] = line + 1 if newline else line
    else:
        raise DirectiveError(f"line {line}: unknown directive 'ci: {word}' "
                             "(skip, compile-only, needs, needs-python, exit, setup, after, template)")


def parse_markdown(path, rel):
    """Returns the runnable blocks of one Markdown file."""
    with open(path, encoding="utf-8") as f:
        lines = f.read().split("\n")
    blocks = []
    pending = {}
    i = 0
    while i < len(lines):
        line = lines[i]
        m = DIRECTIVE.match(line)
        if m:
            start = i + 1
            parts = [m.group(1)]
            if not m.group(2):  # multi-line: up to the line holding -->
                i += 1
                while i < len(lines) and "-->" not in lines[i]:
                    parts.append(lines[i])
                    i += 1
                if i == len(lines):
                    raise DirectiveError(f"{rel}:{start}: 'ci:' comment never closed (-->)")
                last = lines[i].split("-->", 1)[0]
                if last.strip():
                    parts.append(last.rstrip())
            text = "\n".join(parts)
            try:
                parse_directive(text, start, pending)
            except DirectiveError as e:
                raise DirectiveError(f"{rel}:{e}") from None
            i += 1
            continue
        fm = FENCE.match(line)
        if fm:
            indent, fence, info = fm.group(1), fm.group(2), fm.group(3).lower()
            start = i + 1
            body = []
            i += 1
            while i < len(lines) and not lines[i].strip().startswith(fence[:3]):
                text = lines[i]
                body.append(text[len(indent):] if text.startswith(indent) else text.lstrip())
                i += 1
            lang = LANGS.get(info)
            if lang:
                b = Block(path=path, rel=rel, line=start, lang=lang, lines=body)
                for k, v in pending.items():
                    setattr(b, k, v)
                blocks.append(b)
            elif pending:
                raise DirectiveError(f"{rel}:{start}: a 'ci:' directive precedes a block that is "
                                     f"not run ('{info or 'no language'}')")
            pending = {}
            i += 1
            continue
        if line.strip() and pending:
            raise DirectiveError(f"{rel}:{i + 1}: a 'ci:' directive must come right before a code "
                                 "block (only blank lines and other directives in between)")
        i += 1
    if pending:
        raise DirectiveError(f"{rel}: a 'ci:' directive at the end of the file has no block")
    return blocks


# ---- running ------------------------------------------------------------------------------

@dataclasses.dataclass
class Outcome:
    block: Block
    status: str          # "ran", "compiled", "skipped", "failed"
    detail: str = ""
    seconds: float = 0.0


def shell_script(block):
    """The bash script of a shell block, and a map script line -> Markdown line."""
    out = ["set -eo pipefail",
           'trap \'echo "doc-example: command failed (status $?) at script line $LINENO: $BASH_COMMAND" >&2\' ERR']
    where = {}
    if block.setup:
        for k, l in enumerate(block.setup.split("\n")):
            out.append(l)
            where[len(out)] = (block.setup_line + k, "setup")
    transcript = any(l.startswith("$ ") for l in block.lines)
    continuing = False
    for k, l in enumerate(block.lines):
        md_line = block.line + 1 + k
        if transcript:
            if l.startswith("$ "):
                l = l[2:]
            elif not continuing:
                continue  # output shown in the docs
            continuing = l.rstrip().endswith("\\")
        out.append(l)
        where[len(out)] = (md_line, "")
    return "\n".join(out) + "\n", where


def run(cmd, cwd, env, timeout=TIMEOUT_S, shell=False):
    try:
        p = subprocess.run(cmd, cwd=cwd, env=env, shell=shell, stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, timeout=timeout)
        return p.returncode, p.stdout.decode("utf-8", "replace")
    except subprocess.TimeoutExpired as e:
        out = (e.stdout or b"").decode("utf-8", "replace")
        return -1, out + f"\n(timed out after {timeout} s)"


def tail(text, n=40):
    lines = text.rstrip("\n").split("\n")
    if len(lines) > n:
        lines = [f"... ({len(lines) - n} earlier lines)"] + lines[-n:]
    return "\n".join("    " + l for l in lines)


def run_hook(block, which, cwd, env):
    text = getattr(block, which)
    if not text:
        return None
    rc, out = run(["bash", "-eo", "pipefail", "-c", text], cwd, env)
    if rc != 0:
        return f"'ci: {which}' (line {getattr(block, which + '_line')}) exited {rc}:\n{tail(out)}"
    return None


def source_of(block):
    """C/C++ source with #line directives pointing into the Markdown file."""
    rel = block.rel.replace("\\", "/")
    body = f'#line {block.line + 1} "{rel}"\n' + "\n".join(block.lines) + "\n"
    if not block.template:
        return body
    out = []
    for k, l in enumerate(block.template.split("\n")):
        if l.strip() == "@BLOCK@":
            out.append(body)
            out.append(f'#line {block.template_line + k + 1} "{rel}"')
        else:
            if k == 0:
                out.append(f'#line {block.template_line} "{rel}"')
            out.append(l)
    return "\n".join(out) + "\n"


def fortran_source_of(block):
    body = "\n".join(block.lines) + "\n"
    if not block.template:
        return body
    return "\n".join(body if l.strip() == "@BLOCK@" else l for l in block.template.split("\n")) + "\n"


HAS_MAIN = re.compile(r"\bmain\s*\(")
HAS_PROGRAM = re.compile(r"^\s*program\s+\w+", re.IGNORECASE | re.MULTILINE)


def run_block(block, ctx):
    t0 = time.monotonic()
    if block.skip:
        return Outcome(block, "skipped", block.skip)
    missing = [t for t in block.needs if not shutil.which(t, path=ctx.env["PATH"])]
    if missing:
        return Outcome(block, "skipped", f"{', '.join(missing)} not installed (ci: needs)")
    work = os.path.join(ctx.tmp, re.sub(r"[^\w.-]", "_", block.rel) + f"-{block.line}")
    os.makedirs(os.path.join(work, "tmp"))
    env = dict(ctx.env, HOME=work, TMPDIR=os.path.join(work, "tmp"))

    def failed(detail):
        return Outcome(block, "failed", detail, time.monotonic() - t0)

    if block.lang == "shell":
        script, where = shell_script(block)
        with open(os.path.join(work, "example.sh"), "w") as f:
            f.write(script)
        rc, out = run(["bash", "example.sh"], work, env)
        if rc != block.exit_code:
            m = re.search(r"at script line (\d+)", out)
            loc = block.where
            if m and int(m.group(1)) in where:
                md_line, part = where[int(m.group(1))]
                loc = f"{block.rel}:{md_line}" + (" (ci: setup)" if part else "")
            return failed(f"{loc}: shell example exited {rc}"
                          f"{'' if block.exit_code == 0 else f' (expected {block.exit_code})'}:\n{tail(out)}")
        err = run_hook(block, "after", work, env)
        return failed(f"{block.where}: {err}") if err else Outcome(block, "ran", "", time.monotonic() - t0)

    # Compiled languages.
    if block.lang == "python":
        if not ctx.python:
            return Outcome(block, "skipped", "no Python package installed (configure with -DMLRUNS_BUILD_PYTHON=ON)")
        missing = [m for m in block.needs_python if not python_can_import(ctx, m)]
        if missing:
            return Outcome(block, "skipped", f"Python module {', '.join(missing)} not importable (ci: needs-python)")
        err = run_hook(block, "setup", work, env)
        if err:
            return failed(f"{block.where}: {err}")
        with open(os.path.join(work, "example.py"), "w") as f:
            f.write("\n".join(block.lines) + "\n")
        rc, out = run([ctx.python, "example.py"], work, env)
        if rc != block.exit_code:
            lines = [int(n) for n in re.findall(r'File "example.py", line (\d+)', out)]
            loc = f"{block.rel}:{block.line + lines[-1]}" if lines else block.where
            return failed(f"{loc}: python block exited {rc}, expected {block.exit_code}:\n{tail(out)}")
        err = run_hook(block, "after", work, env)
        if err:
            return failed(f"{block.where}: {err}")
        return Outcome(block, "ran", "", time.monotonic() - t0)
    if block.lang == "fortran":
        if not ctx.gfortran:
            return Outcome(block, "skipped", "gfortran is not installed")
        src = fortran_source_of(block)
        with open(os.path.join(work, "example.f90"), "w") as f:
            f.write(src)
        has_main = bool(HAS_PROGRAM.search(src))
        cmd = (f"{ctx.gfortran} -c \"$(pkg-config --variable=includedir mlruns)/mlruns/mlruns.f90\" && "
               f"{ctx.gfortran} {'-c ' if not has_main else ''}example.f90 "
               f"{'mlruns.o -o example $(pkg-config --libs --static mlruns)' if has_main else ''}")
    else:
        src = source_of(block)
        ext = "cpp" if block.lang == "cpp" else "c"
        with open(os.path.join(work, "example." + ext), "w") as f:
            f.write(src)
        has_main = bool(HAS_MAIN.search(src))
        compiler = ctx.cxx if block.lang == "cpp" else ctx.cc
        std = "-std=c++20" if block.lang == "cpp" else "-std=c11"
        if has_main:
            cmd = f"{compiler} {std} -O0 example.{ext} -o example $(pkg-config --cflags --libs mlruns)"
        else:
            cmd = f"{compiler} {std} -O0 -c example.{ext} $(pkg-config --cflags mlruns)"
    rc, out = run(["bash", "-c", cmd], work, env)
    if rc != 0:
        return failed(f"{block.where}: {block.lang} example does not compile:\n{tail(out)}")
    if not has_main or block.compile_only:
        return Outcome(block, "compiled", block.compile_only or "no main()", time.monotonic() - t0)
    err = run_hook(block, "setup", work, env)
    if err:
        return failed(f"{block.where}: {err}")
    rc, out = run([os.path.join(work, "example")], work, env)
    shown = f"killed by signal {-rc}" if rc < 0 else f"exited {rc}"
    if rc < 0:
        rc = 128 - rc  # as the shell reports a death by signal: abort() is 134
    if rc != block.exit_code:
        return failed(f"{block.where}: {block.lang} example {shown}"
                      f"{'' if block.exit_code == 0 else f' (expected {block.exit_code})'}:\n{tail(out)}")
    err = run_hook(block, "after", work, env)
    return failed(f"{block.where}: {err}") if err else Outcome(block, "ran", "", time.monotonic() - t0)


@dataclasses.dataclass
class Context:
    tmp: str
    env: dict
    cxx: str
    cc: str
    gfortran: str
    python: str = ""


_importable = {}


def python_can_import(ctx, module):
    if module not in _importable:
        rc, _ = run([ctx.python, "-c", f"import {module}"], None, ctx.env)
        _importable[module] = rc == 0
    return _importable[module]


def install(build, prefix):
    rc, out = run(["cmake", "--install", build, "--prefix", prefix], None, os.environ, timeout=300)
    if rc != 0:
        sys.exit(f"run_doc_examples: cmake --install {build} failed:\n{tail(out)}")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--repo", default=os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
    ap.add_argument("--build", help="build folder to install from (cmake --install); "
                                    "needed unless --prefix names an installed mlruns")
    ap.add_argument("--prefix", help="an installed mlruns (bin/mlruns, lib/pkgconfig/mlruns.pc)")
    ap.add_argument("--python", help="interpreter for ```python blocks (the one the package was built for)")
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 2)
    ap.add_argument("--keep", action="store_true", help="keep the temporary folders")
    ap.add_argument("--list", action="store_true", help="only list the blocks and their directives")
    ap.add_argument("files", nargs="*", help="Markdown files (default: README.md and docs/*.md)")
    args = ap.parse_args()

    repo = os.path.abspath(args.repo)
    files = args.files or [os.path.join(repo, "README.md")] + sorted(
        os.path.join(repo, "docs", f) for f in os.listdir(os.path.join(repo, "docs")) if f.endswith(".md"))
    blocks = []
    try:
        for f in files:
            absf = os.path.abspath(f)
            rel = os.path.relpath(absf, repo) if absf.startswith(repo + os.sep) else f
            blocks += parse_markdown(absf, rel)
    except DirectiveError as e:
        print(f"run_doc_examples: malformed directive: {e}", file=sys.stderr)
        return 2
    if args.list:
        for b in blocks:
            flags = [k for k in ("skip", "compile_only", "setup", "after", "template") if getattr(b, k)]
            print(f"{b.where}: {b.lang} ({len(b.lines)} lines){' ' + ', '.join(flags) if flags else ''}")
        return 0

    tmp = tempfile.mkdtemp(prefix="mlruns-doc-examples.")
    try:
        prefix = args.prefix
        if not prefix:
            if not args.build:
                sys.exit("run_doc_examples: give --build (or --prefix)")
            prefix = os.path.join(tmp, "prefix")
            install(os.path.abspath(args.build), prefix)
        prefix = os.path.abspath(prefix)
        pc = [os.path.dirname(os.path.join(d, f)) for d, _, fs in os.walk(prefix) for f in fs if f == "mlruns.pc"]
        if not pc or not os.path.exists(os.path.join(prefix, "bin", "mlruns")):
            sys.exit(f"run_doc_examples: no bin/mlruns or mlruns.pc under {prefix}")
        env = {k: v for k, v in os.environ.items()
               if not k.startswith("MLFLOW_") and k not in ("CDPATH", "BASH_ENV", "ENV")}
        env["PATH"] = os.path.join(prefix, "bin") + os.pathsep + env.get("PATH", "")
        env["PKG_CONFIG_PATH"] = pc[0]
        # pkg-config links the shared libmlruns.so.0 (docs/guide.md): found there when run.
        env["LD_LIBRARY_PATH"] = os.path.dirname(pc[0]) + (os.pathsep + env["LD_LIBRARY_PATH"]
                                                            if env.get("LD_LIBRARY_PATH") else "")
        env["LC_ALL"] = "C.UTF-8"
        ccache = shutil.which("ccache")
        cxx = os.environ.get("CXX", "c++")
        cc = os.environ.get("CC", "cc")
        # The Python package, where the build installs one (MLRUNS_BUILD_PYTHON).
        site = [d for d, _, fs in os.walk(prefix) if "__init__.py" in fs and os.path.basename(d) == "mlruns"]
        python = ""
        if site and args.python:
            env["PYTHONPATH"] = os.path.dirname(site[0])
            python = args.python
        ctx = Context(tmp=tmp, env=env, python=python,
                      cxx=f"{ccache} {cxx}" if ccache else cxx,
                      cc=f"{ccache} {cc}" if ccache else cc,
                      gfortran=shutil.which("gfortran") or "")

        t0 = time.monotonic()
        with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
            outcomes = list(pool.map(lambda b: run_block(b, ctx), blocks))
        wall = time.monotonic() - t0
    finally:
        if args.keep:
            print(f"run_doc_examples: kept {tmp}", file=sys.stderr)
        else:
            shutil.rmtree(tmp, ignore_errors=True)

    count = {k: 0 for k in ("ran", "compiled", "skipped", "failed")}
    for o in outcomes:
        count[o.status] += 1
        if o.status == "failed":
            print(f"FAIL {o.detail}\n", file=sys.stderr)
    for o in outcomes:
        if o.status == "skipped":
            print(f"skipped {o.block.where} ({o.block.lang}): {o.detail}")
        elif o.status == "compiled":
            print(f"compiled only {o.block.where} ({o.block.lang}): {o.detail}")
    print(f"doc examples: {len(outcomes)} blocks in {len(files)} files: {count['ran']} ran, "
          f"{count['compiled']} compiled only, {count['skipped']} skipped, {count['failed']} failed "
          f"({wall:.1f} s, {args.jobs} jobs)")
    return 1 if count["failed"] else 0


if __name__ == "__main__":
    sys.exit(main())
