"""`make manifest-only`: the folder an upstream Airbyte pull request needs, derived from this package.

Airbyte accepts manifest-only connectors: `manifest.yaml` and one `components.py`, run by the
`airbyte/source-declarative-manifest` image. The package stays the one source of truth; this derives
`build/manifest-only/` from it:

- `manifest.yaml`: the package's manifest, with every `source_100ms.components.<Class>` named
  `source_declarative_manifest.components.<Class>`, as the runner loads them;
- `components.py`: every module of `source_100ms/components/` joined in import order, their imports of each
  other removed, so that it imports the CDK and the CDK's own dependencies only (it patches nothing: the speed
  layer is not part of it). A name defined by two modules is an error, not a silent override;
- `metadata.yaml`: the package's, tagged `language:manifest-only` and `cdk:low-code`, with
  `connectorBuildOptions.baseImage` on the `source-declarative-manifest` of the pinned CDK;
- `icon.svg`, `acceptance-test-config.yml` (reading `secrets/config.json`, as Airbyte's CI provides it),
  the docs pages and the integration fixtures.

Usage: `python -m source_100ms.tools.manifest_only [--out build/manifest-only]`.
"""

from __future__ import annotations

import argparse
import ast
import re
import shutil
import sys
import textwrap
from importlib import metadata
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "source_100ms"
COMPONENTS = PACKAGE / "components"
PACKAGE_PREFIX = "source_100ms.components."
RUNNER_PREFIX = "source_declarative_manifest.components."
FIXTURES = [
    "configured_catalog.json",
    "expected_records.jsonl",
    "abnormal_state.json",
    "invalid_config.json",
    "sample_config.json",
]
# Names every module may define alike (the same text in each).
SHARED_NAMES = {"logger"}


class BuildError(Exception):
    """The package cannot be turned into a manifest-only connector as it is."""


def _module_order() -> list[Path]:
    """The component modules, each after the modules it imports."""
    modules = {p.stem: p for p in sorted(COMPONENTS.glob("*.py")) if p.stem != "__init__"}
    needs: dict[str, set[str]] = {}
    for name, path in modules.items():
        tree = ast.parse(path.read_text())
        needs[name] = {
            node.module.rsplit(".", 1)[-1]
            for node in tree.body
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith(PACKAGE_PREFIX)
        }
        unknown = needs[name] - set(modules)
        if unknown:
            raise BuildError(f"components/{name}.py imports {sorted(unknown)} from the package: not a component module")
    order: list[str] = []
    visiting: set[str] = set()

    def visit(name: str) -> None:
        if name in order:
            return
        if name in visiting:
            raise BuildError(f"import cycle among component modules through {name}")
        visiting.add(name)
        for dependency in sorted(needs[name]):
            visit(dependency)
        visiting.discard(name)
        order.append(name)

    for name in modules:
        visit(name)
    return [modules[name] for name in order]


def _split(path: Path) -> tuple[str, list[ast.Import | ast.ImportFrom], str, dict[str, str]]:
    """A module as (docstring, its imports of other packages, body, top-level names defined -> their source)."""
    text = path.read_text()
    tree = ast.parse(text)
    lines = text.splitlines(keepends=True)
    doc = ast.get_docstring(tree) or ""
    imports: list[ast.Import | ast.ImportFrom] = []
    body_start = 0
    for node in tree.body:
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str):
            body_start = node.end_lineno or 0
            continue
        if isinstance(node, ast.Import | ast.ImportFrom):
            if isinstance(node, ast.ImportFrom) and (
                node.module == "__future__" or (node.module or "").startswith("source_100ms")
            ):
                pass
            elif isinstance(node, ast.Import) and any(a.name.startswith("source_100ms") for a in node.names):
                raise BuildError(f"components/{path.name} imports the package with `import source_100ms...`")
            else:
                imports.append(node)
            body_start = node.end_lineno or 0
            continue
        break
    names: dict[str, str] = {}
    for node in tree.body:
        if node.lineno <= body_start:
            continue
        targets: list[str] = []
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            targets = [node.name]
        elif isinstance(node, ast.Assign):
            targets = [t.id for t in node.targets if isinstance(t, ast.Name)]
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            targets = [node.target.id]
        for target in targets:
            names[target] = ast.get_source_segment(text, node) or ""
    return doc, imports, "".join(lines[body_start:]).strip("\n"), names


def _imports_block(nodes: list[ast.Import | ast.ImportFrom]) -> str:
    """The modules' imports merged: one line per module, the standard library first, as isort groups them."""
    plain: set[str] = set()
    from_names: dict[str, set[str]] = {}
    for node in nodes:
        if isinstance(node, ast.Import):
            plain.update(a.name if a.asname is None else f"{a.name} as {a.asname}" for a in node.names)
        else:
            from_names.setdefault(node.module or "", set()).update(
                a.name if a.asname is None else f"{a.name} as {a.asname}" for a in node.names
            )

    def group(module: str) -> int:
        return 0 if module.split(".")[0] in sys.stdlib_module_names else 1

    def names_key(name: str) -> tuple[bool, str]:
        return (not name[0].isupper(), name.lower())

    def statement(module: str, names: list[str]) -> str:
        line = f"from {module} import {', '.join(names)}"
        if len(line) <= 120:
            return line
        return f"from {module} import (\n" + "".join(f"    {name},\n" for name in names) + ")"

    out = []
    for wanted in (0, 1):
        lines = [f"import {name}" for name in sorted(plain) if group(name) == wanted]
        for module in sorted(m for m in from_names if group(m) == wanted):
            names = sorted(from_names[module], key=names_key)
            # As ruff's isort writes them: aliased names each in a statement of their own.
            aliased = [n for n in names if " as " in n]
            lines += [statement(module, [n]) for n in aliased]
            if len(aliased) < len(names):
                lines.append(statement(module, [n for n in names if " as " not in n]))
        if lines:
            out.append("\n".join(lines))
    return "\n\n".join(out)


def components_source() -> str:
    """The one `components.py` of the manifest-only build."""
    imports: list[ast.Import | ast.ImportFrom] = []
    parts: list[str] = []
    defined: dict[str, tuple[str, str]] = {}
    for path in _module_order():
        doc, module_imports, body, names = _split(path)
        for name, source in names.items():
            if name in defined and not (name in SHARED_NAMES and defined[name][1] == source):
                raise BuildError(f"{name} is defined in both components/{defined[name][0]} and components/{path.name}")
            defined[name] = (path.name, source)
        imports.extend(module_imports)
        summary = textwrap.wrap(f"source_100ms/components/{path.name}: {doc.splitlines()[0] if doc else ''}", 116)
        parts.append(f"# {'-' * 100}\n" + "".join(f"# {line}\n" for line in summary) + f"\n\n{body}\n")
    header = (
        '"""source-100ms components for the `source-declarative-manifest` runner.\n\n'
        "Generated by `make manifest-only` from the source-100ms package's `source_100ms/components/` (one section\n"
        "per module, in import order); edit the package, not this file.\n"
        "Each class's docstring says why the CDK's own components were not enough.\n"
        '"""\n\nfrom __future__ import annotations\n\n'
    )
    return header + _imports_block(imports) + "\n\n" + "\n\n".join(parts)


def manifest_source() -> str:
    text = (ROOT / "manifest.yaml").read_text()
    return text.replace(PACKAGE_PREFIX, RUNNER_PREFIX)


def metadata_source() -> str:
    data = yaml.safe_load((ROOT / "metadata.yaml").read_text())
    cdk = metadata.version("airbyte-cdk")
    info = data["data"]
    info["tags"] = ["language:manifest-only", "cdk:low-code"]
    info["connectorBuildOptions"] = {"baseImage": f"docker.io/airbyte/source-declarative-manifest:{cdk}"}
    info.pop("remoteRegistries", None)
    suggested = info.get("suggestedStreams", {}).get("streams", [])
    if not 3 <= len(suggested) <= 10:
        raise BuildError(f"metadata.yaml suggests {len(suggested)} streams; Airbyte's checks want 3 to 10")
    intro = (
        "# Airbyte registry metadata for the manifest-only source-100ms, generated by `make manifest-only` from the\n"
        "# package's metadata.yaml: run by airbyte/source-declarative-manifest with manifest.yaml and components.py.\n"
    )
    return intro + yaml.safe_dump(data, sort_keys=False, width=110)


def acceptance_source() -> str:
    text = (ROOT / "acceptance-test-config.yml").read_text()
    # Upstream CI provides the credentials of a real workspace in secrets/; the package's tests use the sandbox.
    return re.sub(r"integration_tests/sample_config\.json", "secrets/config.json", text)


def build(out: Path) -> Path:
    """Write the manifest-only folder to `out` (replacing it); returns `out`."""
    if out.exists():
        shutil.rmtree(out)
    (out / "integration_tests").mkdir(parents=True)
    (out / "manifest.yaml").write_text(manifest_source())
    (out / "components.py").write_text(components_source())
    (out / "metadata.yaml").write_text(metadata_source())
    (out / "acceptance-test-config.yml").write_text(acceptance_source())
    shutil.copy2(ROOT / "icon.svg", out / "icon.svg")
    docs = out / "docs"
    docs.mkdir()
    for page in ("100ms.md", "100ms-migrations.md"):
        shutil.copy2(ROOT / "docs" / page, docs / page)
    for fixture in FIXTURES:
        shutil.copy2(ROOT / "integration_tests" / fixture, out / "integration_tests" / fixture)
    compile((out / "components.py").read_text(), str(out / "components.py"), "exec")
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m source_100ms.tools.manifest_only", description=__doc__)
    parser.add_argument("--out", default=str(ROOT / "build" / "manifest-only"), help="folder to write")
    args = parser.parse_args(argv)
    try:
        out = build(Path(args.out))
    except BuildError as error:
        print(f"manifest-only build failed: {error}", file=sys.stderr)
        return 1
    print(f"wrote {out}: " + ", ".join(sorted(p.name for p in out.iterdir())))
    return 0


if __name__ == "__main__":
    sys.exit(main())
