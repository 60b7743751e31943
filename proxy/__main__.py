"""``python -m proxy [--demo] [--settings FILE] [--port N]``: validate the settings, then serve."""

import argparse
import os
from pathlib import Path
from typing import Any

import uvicorn
from pydantic import ValidationError

from .app import create_app
from .assets import RuntimeMissing
from .logs import configure_logging
from .registration import RegistrationError
from .settings import Settings


def load_settings(settings_file: Path | None, overrides: dict[str, Any]) -> Settings:
    """Settings from the environment and an optional file; exit with one line per bad setting."""
    try:
        secrets_dir = os.environ.get("PANEL_SECRETS_DIR") or None  # one file per secret, named like the setting
        return Settings(_env_file=settings_file, _secrets_dir=secrets_dir, **overrides)  # type: ignore[call-arg]
    except ValidationError as error:
        lines = []
        for problem in error.errors(include_url=False):
            name = "PANEL_" + "_".join(str(part) for part in problem["loc"]).upper() if problem["loc"] else "settings"
            lines.append(f"  {name}: {problem['msg']}")
        raise SystemExit("invalid configuration:\n" + "\n".join(lines)) from None


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m proxy", description=__doc__)
    parser.add_argument("--demo", action="store_true", help="run with the simulated desktop and the demo CRM")
    parser.add_argument("--settings", type=Path, help="a settings file (KEY=value lines, as in the environment)")
    parser.add_argument("--port", type=int, help="overrides PORT")
    args = parser.parse_args(argv)
    if args.settings is not None and not args.settings.is_file():
        raise SystemExit(f"settings file not found: {args.settings}")
    overrides: dict[str, Any] = {}
    if args.demo:
        overrides["demo"] = True
    if args.port is not None:
        overrides["PORT"] = args.port
    settings = load_settings(args.settings, overrides)
    configure_logging(settings.log_level, settings.log_pii)
    try:
        if settings.demo:
            from .demo.launcher import run_demo

            run_demo(settings)
        else:
            uvicorn.run(create_app(settings), host=settings.host, port=settings.port, log_config=None)
    except (RuntimeMissing, RegistrationError) as error:
        raise SystemExit(f"cannot start: {error}") from None


if __name__ == "__main__":
    main()
