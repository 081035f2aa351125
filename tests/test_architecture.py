"""The shape of the code: no import cycles, ingest never imports bot, function-level imports say why.

Imports are read from the source (with ``ast``), including those inside functions, which hide a
cycle from Python until the function runs.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("bot", "ingest")


def project_modules() -> dict[str, Path]:
    modules = {}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            name = ".".join(path.relative_to(ROOT).with_suffix("").parts)
            modules[name.removesuffix(".__init__")] = path
    return modules


MODULES = project_modules()


def _resolve(name: str) -> str | None:
    """The longest project module ``name`` starts with (``bot.cli.render.out`` -> ``bot.cli.render``)."""
    while name and name not in MODULES:
        name = name.rpartition(".")[0]
    return name or None


def imports(module: str) -> list[tuple[str, ast.stmt, bool]]:
    """(imported project module, the import statement, inside a function?) for each project import."""
    path = MODULES[module]
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = []

    def visit(node: ast.AST, in_function: bool) -> None:
        for child in ast.iter_child_nodes(node):
            nested = in_function or isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef))
            targets: list[str] = []
            if isinstance(child, ast.Import):
                targets = [alias.name for alias in child.names]
            elif isinstance(child, ast.ImportFrom):
                base = child.module or ""
                if child.level:
                    parts = module.split(".") if path.name == "__init__.py" else module.split(".")[:-1]
                    base = ".".join(parts[: len(parts) - child.level + 1] + ([base] if base else []))
                targets = [f"{base}.{alias.name}" for alias in child.names] + [base]
            for target in targets:
                resolved = _resolve(target)
                if resolved and resolved != module and not module.startswith(resolved + "."):
                    found.append((resolved, child, in_function))
            visit(child, nested)

    visit(tree, False)
    return found


def graph() -> dict[str, set[str]]:
    return {m: {target for target, _, _ in imports(m)} for m in MODULES}


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def strong(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in edges[v]:
            if w not in index:
                strong(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in edges:
        if v not in index:
            strong(v)
    return found


def test_the_cycle_finder_finds_a_cycle():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_no_import_cycles_among_project_modules():
    assert len(MODULES) > 40
    assert cycles(graph()) == []


def test_ingest_is_a_library_that_never_imports_the_application():
    offenders = {m: sorted(t for t in targets if t.startswith("bot")) for m, targets in graph().items()}
    assert {m: t for m, t in offenders.items() if m.startswith("ingest") and t} == {}


def test_the_lower_rooms_of_bot_never_import_a_front_end():
    """Answering, retrieval and the questions log serve every front end; none reaches up into one."""
    fronts = ("bot.cli", "bot.discord_bot")
    lower = ("bot.answering", "bot.retrieval", "bot.questions", "bot.evaluation")
    offenders = {
        m: sorted(t for t in targets if t.startswith(fronts)) for m, targets in graph().items() if m.startswith(lower)
    }
    assert {m: t for m, t in offenders.items() if t} == {}


def test_a_project_import_inside_a_function_says_why():
    """Cheap project modules are imported at the top; one inside a function keeps a heavy library off a cold path."""
    unexplained = []
    for module, path in MODULES.items():
        lines = path.read_text(encoding="utf-8").splitlines()
        for target, node, in_function in imports(module):
            if not in_function:
                continue
            here = lines[node.lineno - 1]
            above = lines[node.lineno - 2].strip() if node.lineno > 1 else ""
            if "#" not in here and not above.startswith("#"):
                unexplained.append(f"{module}:{node.lineno} imports {target}")
    assert unexplained == []


def test_the_cold_paths_do_not_import_heavy_libraries():
    """`citebot --help` and the answering code load neither torch, nor llama-index, nor discord.py."""
    probe = (
        "import sys\n"
        "import bot.cli.app, bot.services\n"
        "heavy = ('torch', 'sentence_transformers', 'llama_index', 'discord', 'chromadb', 'openai')\n"
        "print(sorted(m for m in heavy if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"


MAX_MODULE_LINES = 400
MAX_CLASS_LINES = 250
MAX_INGEST_TOP_LEVEL = 10


def test_no_module_passes_400_lines():
    """A module past ~400 lines is several things; split it (STYLE.md 12)."""
    long = {
        m: n for m, p in MODULES.items() if (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_MODULE_LINES
    }
    assert long == {}


def test_no_class_passes_250_lines():
    """A class is one job; one past 250 lines does several (STYLE.md 16)."""
    long = {}
    for module, path in MODULES.items():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ClassDef) and (size := node.end_lineno - node.lineno + 1) > MAX_CLASS_LINES:  # type: ignore[operator]
                long[f"{module}.{node.name}"] = size
    assert long == {}


def test_ingest_keeps_its_rooms():
    """ingest/'s top level holds the pipeline and what it shares; every concern has its sub-package."""
    top = sorted(p.name for p in (ROOT / "ingest").glob("*.py"))
    assert len(top) <= MAX_INGEST_TOP_LEVEL, top
    rooms = {p.name for p in (ROOT / "ingest").iterdir() if (p / "__init__.py").is_file()}
    assert {"sources", "documents", "embedding", "index"} <= rooms


def test_the_limit_checks_would_catch_a_long_module_and_class(tmp_path):
    """The size checks count what they claim to: a synthetic module over both limits is caught."""
    source = "class Big:\n" + "    x = 1\n" * MAX_CLASS_LINES + "\n" * (MAX_MODULE_LINES - MAX_CLASS_LINES)
    tree = ast.parse(source)
    big = next(node for node in ast.walk(tree) if isinstance(node, ast.ClassDef))
    assert big.end_lineno - big.lineno + 1 > MAX_CLASS_LINES  # type: ignore[operator]
    assert len(source.splitlines()) > MAX_MODULE_LINES
