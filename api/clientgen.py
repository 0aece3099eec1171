"""api/client: the Python client generated from the OpenAPI document by openapi-python-client.

The package is committed, so that code in `api` (a user CLI) can import it without the
generator; `virtflow docs client` regenerates it and `--check` fails when it drifted from the
document. openapi-python-client is a dev dependency, pinned, and runs with no post hooks, so
its output depends on the document and its version only.
"""

from __future__ import annotations

import filecmp
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from api.settings import REPO_ROOT

CLIENT_DIR = REPO_ROOT / "api" / "client"
CONFIG = {"post_hooks": [], "project_name_override": "virtflow-client"}


def streams_as_text(spec_text: str) -> str:
    """The document as the generator gets it: openapi-python-client knows no server-sent events,
    so a text/event-stream answer is text to it (its schema, one event, is for validators)."""
    spec = json.loads(spec_text)
    for item in spec["paths"].values():
        for operation in item.values():
            responses = operation.get("responses", {}) if isinstance(operation, dict) else {}
            for response in responses.values():
                stream = response.get("content", {}).get("text/event-stream")
                if stream is not None:
                    stream["schema"] = {"type": "string"}
    return json.dumps(spec, indent=2)


def generate(spec_text: str, into: Path) -> None:
    """Write the client package for spec_text at into (which must not exist)."""
    generator = Path(sys.executable).with_name("openapi-python-client")
    if not generator.exists():
        raise RuntimeError(f"{generator} is missing: install the dev dependencies")
    with tempfile.TemporaryDirectory() as tmp:
        spec, config = Path(tmp) / "openapi.json", Path(tmp) / "config.json"
        spec.write_text(streams_as_text(spec_text), encoding="utf-8")
        config.write_text(json.dumps(CONFIG), encoding="utf-8")
        command = [str(generator), "generate", "--path", str(spec), "--meta", "none"]
        command += ["--output-path", str(into), "--config", str(config)]
        subprocess.run(command, check=True, capture_output=True)


def differences(left: Path, right: Path) -> list[str]:
    """Files that differ between two trees, or are in only one of them (caches ignored)."""
    ignore = ["__pycache__"]
    cmp = filecmp.dircmp(left, right, ignore=ignore)
    found = [str(Path(left.name) / name) for name in cmp.left_only + cmp.right_only]
    found += [str(Path(left.name) / name) for name in cmp.diff_files]
    for sub in cmp.common_dirs:
        found += [f"{left.name}/{d}" for d in differences(left / sub, right / sub)]
    return found


def regenerate(spec_text: str, check: bool) -> list[str]:
    """Regenerate api/client (or, with check, only compare): the files that differed."""
    with tempfile.TemporaryDirectory() as tmp:
        fresh = Path(tmp) / "client"
        generate(spec_text, fresh)
        changed = differences(fresh, CLIENT_DIR) if CLIENT_DIR.exists() else ["client"]
        if not check and changed:
            shutil.rmtree(CLIENT_DIR, ignore_errors=True)
            shutil.copytree(fresh, CLIENT_DIR)
    return changed
