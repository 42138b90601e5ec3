"""The pinned upstream tools, located through the build script that owns them.

`tools/build.sh` is the single place that knows versions and cache paths: it builds what is
missing and prints `NAME<TAB>PATH<TAB>VERSION` lines. When everything is cached it only prints.
"""

from __future__ import annotations

import functools
import subprocess
from dataclasses import dataclass
from pathlib import Path

BUILD_SCRIPT = Path(__file__).resolve().parent.parent / "tools" / "build.sh"


@dataclass(frozen=True)
class Tool:
    name: str
    path: Path
    version: str


class Tools(dict[str, Tool]):
    def path(self, name: str) -> str:
        return str(self[name].path)

    @property
    def capi_source(self) -> Path:
        """The CAPI module source in the Go module cache (CRDs, webhook manifests, metadata)."""
        return self["capi-source"].path


def parse(output: str) -> Tools:
    tools = Tools()
    for line in output.splitlines():
        name, path, version = line.split("\t")
        tools[name] = Tool(name, Path(path), version)
    return tools


@functools.cache
def tools() -> Tools:
    """Build (when missing) and locate every tool; failures carry the build output."""
    result = subprocess.run(
        ["bash", str(BUILD_SCRIPT)], capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        raise RuntimeError(f"building the upstream tools failed:\n{result.stderr[-4000:]}")
    return parse(result.stdout)
