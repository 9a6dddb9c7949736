"""The type stubs installed beside the module name every public class, function,
method and property the module has (and nothing it lacks)."""

import ast
import inspect
from pathlib import Path

import hymir

STUB = Path(hymir.__file__).with_name("__init__.pyi")


def stub_names():
    tree = ast.parse(STUB.read_text(encoding="utf-8"))
    top, members = set(), {}
    for node in tree.body:
        if isinstance(node, ast.ClassDef):
            top.add(node.name)
            members[node.name] = {n.name for n in node.body if isinstance(n, ast.FunctionDef)}
        elif isinstance(node, ast.FunctionDef):
            top.add(node.name)
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            top.add(node.target.id)
        elif isinstance(node, ast.ImportFrom):
            top.update(a.asname or a.name for a in node.names)
    return top, members


def test_stub_lists_every_public_name():
    top, _ = stub_names()
    assert set(hymir.__all__) | {"__version__"} <= top


def test_stub_lists_every_method_and_property_of_each_class():
    _, members = stub_names()
    for name, stubbed in members.items():
        cls = getattr(hymir, name)
        if issubclass(cls, BaseException):
            continue
        public = {m for m, _ in inspect.getmembers(cls) if not m.startswith("_")}
        public |= {m for m in ("__iter__", "__len__", "__getitem__", "__enter__", "__exit__", "__init__")
                   if m in vars(cls)}
        assert public <= stubbed | {"__init__"}, f"{name}: {sorted(public - stubbed)} not in the stub"
        assert stubbed <= public | {"__init__"}, f"{name}: {sorted(stubbed - public)} not in the module"
