"""The Renderer the bootstrap controller uses: cloud-config or Ignition by spec.format."""

from __future__ import annotations

from bootstrap import cloudinit
from bootstrap.reconcile import RenderInput
from capy.errors import InvalidSpec


class BootstrapRenderer:
    def render(self, inp: RenderInput) -> tuple[bytes, str]:
        fmt = inp.spec.get("format") or "cloud-config"
        if fmt == "cloud-config":
            return cloudinit.render(inp), fmt
        raise InvalidSpec(f"spec.format {fmt!r} is not supported by capy yet: use cloud-config")
