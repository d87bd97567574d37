"""Layer graphs from weights metadata without weights: a safetensors header gives tensor names and shapes, which
is the evidence that catches a config that lies about the architecture."""

from __future__ import annotations

import json
import struct
from pathlib import Path
from typing import Any, Iterable

from ptmgraph.gnn.layer_graph import GraphError, LayerGraph
from ptmgraph.gnn.trace import from_named_shapes

# The format caps headers at 100 MB; anything claiming more is not a safetensors file.
MAX_HEADER = 100_000_000


def header(path: str | Path) -> dict[str, Any]:
    p = Path(path)
    try:
        with p.open("rb") as fh:
            head = fh.read(8)
            if len(head) < 8:
                raise GraphError(f"{p}: truncated safetensors file (no header length); re-download it")
            (size,) = struct.unpack("<Q", head)
            if size > MAX_HEADER:
                raise GraphError(f"{p}: not a safetensors file (header length {size:,} bytes)")
            raw = fh.read(size)
    except OSError as exc:
        raise GraphError(f"{p}: cannot read ({exc.strerror or exc})") from None
    if len(raw) < size:
        raise GraphError(f"{p}: truncated safetensors header ({len(raw):,} of {size:,} bytes); re-download it")
    try:
        data = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise GraphError(f"{p}: the safetensors header is not valid JSON ({exc})") from None
    if not isinstance(data, dict):
        raise GraphError(f"{p}: the safetensors header is not a JSON object")
    return data


def _shapes(tensors: dict[str, Any], where: str) -> Iterable[tuple[str, tuple[int, ...]]]:
    for name, info in tensors.items():
        if name == "__metadata__":
            continue
        shape = info.get("shape") if isinstance(info, dict) else getattr(info, "shape", None)
        if not isinstance(shape, (list, tuple)):
            raise GraphError(f"{where}: tensor {name!r} has no shape in the header")
        yield name, tuple(int(d) for d in shape)


def graph_from_safetensors(path: str | Path) -> LayerGraph:
    """One file, or every *.safetensors file of a folder (sharded checkpoints), in name order."""
    p = Path(path)
    files = sorted(p.glob("*.safetensors")) if p.is_dir() else [p]
    if not files:
        raise GraphError(f"{p}: no .safetensors files in the folder")
    items: list[tuple[str, tuple[int, ...]]] = []
    for f in files:
        items.extend(_shapes(header(f), str(f)))
    return from_named_shapes(items, view="modules", source=str(p))


def graph_from_hub(repo_id: str) -> LayerGraph:
    """Reads only the safetensors headers of a Hub model (HTTP range requests), never the weights; honours
    HF_ENDPOINT, HF_TOKEN and HF_HUB_OFFLINE like every Hub call of ptmgraph."""
    import os

    from huggingface_hub import HfApi
    from huggingface_hub.errors import NotASafetensorsRepoError, SafetensorsParsingError
    from huggingface_hub.utils import HfHubHTTPError

    api = HfApi(endpoint=os.environ.get("HF_ENDPOINT") or None)
    try:
        meta = api.get_safetensors_metadata(repo_id)
    except (HfHubHTTPError, NotASafetensorsRepoError, SafetensorsParsingError, OSError, ValueError) as exc:
        raise GraphError(f"{repo_id}: no safetensors header could be read from the Hub "
                         f"({' '.join(str(exc).split())[:160]})") from None
    items: list[tuple[str, tuple[int, ...]]] = []
    for name in sorted(meta.files_metadata):
        items.extend(_shapes(meta.files_metadata[name].tensors, f"{repo_id}/{name}"))
    return from_named_shapes(items, view="modules", source=repo_id)
