import json
import re
import tomllib
import zipfile
from pathlib import Path

import pytest

from proxy.runtime_bundle import build_lockfile, wheel_entry

REPO = Path(__file__).resolve().parents[2]


def make_wheel(directory: Path, name: str, version: str, requires: list[str]) -> Path:
    path = directory / f"{name.replace('-', '_')}-{version}-py3-none-any.whl"
    metadata = f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n" + "".join(
        f"Requires-Dist: {r}\n" for r in requires
    )
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr(f"{name.replace('-', '_').lower()}/__init__.py", "")
        archive.writestr(f"{name.replace('-', '_')}-{version}.dist-info/METADATA", metadata)
    return path


def test_lockfile_entries_come_from_the_wheels_own_metadata(tmp_path: Path) -> None:
    stock = tmp_path / "stock.json"
    stock.write_text(json.dumps({"info": {"python": "3.14.2"}, "packages": {"numpy": {}}}))
    wheels = [
        make_wheel(tmp_path, "Top_Pkg", "1.0", ["dep-one>=1", 'extra-thing; extra == "fancy"']),
        make_wheel(tmp_path, "dep-one", "2.0", []),
    ]
    lockfile = build_lockfile(stock, wheels)
    assert lockfile["info"] == {"python": "3.14.2"}
    entry = lockfile["packages"]["top-pkg"]  # type: ignore[index]
    assert entry["depends"] == ["dep-one"] and entry["imports"] == ["top_pkg"]
    assert re.fullmatch(r"[0-9a-f]{64}", entry["sha256"])
    assert entry == wheel_entry(wheels[0])


def test_a_missing_dependency_stops_the_build(tmp_path: Path) -> None:
    stock = tmp_path / "stock.json"
    stock.write_text(json.dumps({"info": {}, "packages": {}}))
    with pytest.raises(SystemExit, match="dep-one"):
        build_lockfile(stock, [make_wheel(tmp_path, "top", "1.0", ["dep-one"])])


def test_pyscript_config_loads_every_panel_module() -> None:
    config = tomllib.loads((REPO / "pyscript.toml").read_text())
    listed = {Path(target).name for target in config["files"].values()}
    modules = {path.name for path in (REPO / "panel").glob("*.py")} - {"main.py"}
    assert listed == modules
