"""Assemble the self-hosted Python runtime the panel boots from (a build step, run by make).

Copies Pyodide's runtime files and PyScript's dist from node_modules, adds the downloaded
WebAssembly wheels, and writes a ``pyodide-lock.json`` that lists exactly those wheels with
their own sha256, so Pyodide installs them offline and checks their integrity. A ``DIGEST``
file names the content, so the proxy can serve the bundle under an immutable URL.
"""

import argparse
import hashlib
import json
import re
import shutil
import sys
import zipfile
from email.parser import Parser
from pathlib import Path
from typing import Any

PYODIDE_FILES = ("pyodide.mjs", "pyodide.asm.mjs", "pyodide.asm.wasm", "python_stdlib.zip")
DIGEST_FILE = "DIGEST"


def canonical_name(name: str) -> str:
    """PEP 503 names, which Pyodide's lockfile lookups use too."""
    return re.sub(r"[-_.]+", "-", name).lower()


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def wheel_entry(wheel: Path) -> dict[str, Any]:
    """A lockfile entry for one wheel, read from its own metadata."""
    with zipfile.ZipFile(wheel) as archive:
        metadata_name = next(n for n in archive.namelist() if n.endswith(".dist-info/METADATA"))
        metadata = Parser().parsestr(archive.read(metadata_name).decode())
        top_level = sorted(
            {
                name.split("/")[0].removesuffix(".py")
                for name in archive.namelist()
                if not name.split("/")[0].endswith((".dist-info", ".data"))
            }
        )
    depends = sorted(
        canonical_name(re.split(r"[\s;<>=!~\[(]", requirement.strip(), maxsplit=1)[0])
        for requirement in metadata.get_all("Requires-Dist") or []
        if "extra ==" not in requirement
    )
    name = canonical_name(metadata["Name"])
    return {
        "name": name,
        "version": metadata["Version"],
        "file_name": wheel.name,
        "install_dir": "site",
        "sha256": sha256_of(wheel),
        "package_type": "package",
        "imports": top_level,
        "depends": depends,
        "unvendored_tests": False,
        "tool": {},
    }


def build_lockfile(stock_lockfile: Path, wheels: list[Path]) -> dict[str, Any]:
    """Our wheels only, under Pyodide's own ``info`` block (ABI and Python version)."""
    stock = json.loads(stock_lockfile.read_text())
    packages = {entry["name"]: entry for entry in map(wheel_entry, wheels)}
    missing = {dep for entry in packages.values() for dep in entry["depends"]} - packages.keys()
    if missing:
        raise SystemExit(f"runtime bundle: wheels missing for dependencies {sorted(missing)}")
    return {"info": stock["info"], "packages": dict(sorted(packages.items())), "tool": {}}


def content_digest(directory: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(p for p in directory.rglob("*") if p.is_file() and p.name != DIGEST_FILE):
        digest.update(f"{path.relative_to(directory).as_posix()}\0{sha256_of(path)}\n".encode())
    return digest.hexdigest()[:16]


def build(node_modules: Path, wheel_dir: Path, out: Path) -> str:
    """Write the bundle into ``out`` (replacing it) and return its digest."""
    pyodide_dir = node_modules / "pyodide"
    pyscript_dist = node_modules / "@pyscript" / "core" / "dist"
    wheels = sorted(wheel_dir.glob("*.whl"))
    if not wheels:
        raise SystemExit(f"runtime bundle: no wheels in {wheel_dir}")
    staging = out.with_name(out.name + ".tmp")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    for name in PYODIDE_FILES:
        shutil.copy2(pyodide_dir / name, staging / name)
    for wheel in wheels:
        shutil.copy2(wheel, staging / wheel.name)
    shutil.copytree(pyscript_dist, staging / "pyscript", ignore=shutil.ignore_patterns("*.map"))
    # In-memory IndexedDB for frames where the browser denies storage (PyScript needs one to boot).
    fake_idb = node_modules / "fake-indexeddb"
    for part in ("auto", "build/esm"):
        shutil.copytree(
            fake_idb / part, staging / "fake-indexeddb" / part, ignore=shutil.ignore_patterns("*.map", "*.d.ts")
        )
    lockfile = build_lockfile(pyodide_dir / "pyodide-lock.json", wheels)
    (staging / "pyodide-lock.json").write_text(json.dumps(lockfile, indent=1))
    digest = content_digest(staging)
    (staging / DIGEST_FILE).write_text(digest + "\n")
    shutil.rmtree(out, ignore_errors=True)
    staging.rename(out)
    return digest


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--node-modules", type=Path, default=Path("node_modules"))
    parser.add_argument("--wheels", type=Path, default=Path("build/wheels"))
    parser.add_argument("--out", type=Path, default=Path("build/runtime"))
    args = parser.parse_args(argv)
    digest = build(args.node_modules, args.wheels, args.out)
    print(f"runtime bundle {digest} written to {args.out}", file=sys.stderr)


if __name__ == "__main__":
    main()
