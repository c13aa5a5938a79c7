"""The ingest hot path's C extensions, with one clear error when they are not built.

``ingest/_scan.c`` parses well-formed telemetry into columns and ``ingest/_lines.c``
writes line protocol; both are built by ``pip install -e .`` (``make deps``), which
needs a C compiler and Python's headers. A checkout that was never built fails here,
at start, saying so, not later with a bare ``ModuleNotFoundError``.
"""

from __future__ import annotations

try:
    from ingest._lines import encode as encode_lines
    from ingest._scan import Scanner
except ImportError as exc:  # pragma: no cover - depends on the build
    raise ImportError(
        f"gridwatch's C extensions are not built ({exc}): run `pip install -e .` or `make deps` "
        "(needs a C compiler and Python headers: Debian `gcc python3-dev`)"
    ) from exc

__all__ = ["Scanner", "encode_lines"]
