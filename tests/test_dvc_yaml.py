import ast
import re

import yaml

from tests.conftest import PROJECT


def stage_modules(module: str) -> set[str]:
    """The files of `module` and of every stages module it imports, at any depth (imports
    inside functions included), with stages/__init__.py, which each of them runs first."""
    found, todo = {"stages/__init__.py"}, [module]
    while todo:
        path = f"{todo.pop().replace('.', '/')}.py"
        if path in found:
            continue
        found.add(path)
        for node in ast.walk(ast.parse((PROJECT / path).read_text())):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module == "stages":
                names = [f"stages.{alias.name}" for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            todo += [
                n
                for n in names
                if n.startswith("stages.") and (PROJECT / f"{n.replace('.', '/')}.py").exists()
            ]
    return found


def test_each_stage_depends_on_exactly_the_modules_it_imports():
    stages = yaml.safe_load((PROJECT / "dvc.yaml").read_text())["stages"]
    for name, stage in stages.items():
        module = re.fullmatch(r"python -m (stages\.\w+)", stage["cmd"]).group(1)
        listed = {dep for dep in stage["deps"] if re.fullmatch(r"stages/\w+\.py", dep)}
        assert listed == stage_modules(module), name
