"""Streaming readers for the file formats sources use. Each reader keeps ``position`` (bytes consumed) for progress
bars, yields one unit at a time, and turns an unreadable unit into :class:`Skipped` instead of stopping."""

from __future__ import annotations

import csv
import io
import itertools
import json
import os
import re
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any, BinaryIO, NamedTuple

import numpy as np
import orjson

from ptmgraph.errors import PtmgraphError
from ptmgraph.ingest.pipeline import Skipped

CHUNK = 1 << 20
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")  # \ud800-\udfff, as JSON escapes them
SCAN_BLOCK = 16 << 20
NEWLINE = ord("\n")


class Span(NamedTuple):
    """A part of a file: ``lines`` lines from byte ``start`` on, the first of them line number ``first_line``."""

    start: int
    lines: int
    first_line: int


class InputFile:
    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        if not self.path.is_file():
            raise PtmgraphError(f"input file {self.path} does not exist or is not a file")
        self.size = self.path.stat().st_size
        self.position = 0

    def lines(self) -> Iterator[tuple[str, str | Skipped]]:
        """(``file:line``, text) for every non-empty line; undecodable bytes make that line a Skipped."""
        at = f"{self.path}:"  # formatted once: the path is the same on every line
        with self.path.open("rb") as raw:
            for number, line in enumerate(raw, start=1):
                self.position += len(line)
                where = f"{at}{number}"
                try:
                    text = line.decode("utf-8")
                except UnicodeDecodeError as exc:
                    yield where, Skipped(where, f"not valid UTF-8 ({exc.reason})")
                    continue
                if text.strip():
                    yield where, text

    def location(self, line: int) -> str:
        return f"{self.path}:{line}"

    def spans(self, sizes: Iterable[int]) -> list[Span]:
        """The file cut into parts of ``sizes`` lines each (an endless iterable: one size after the other until the
        file ends; the last part may be shorter), so that separate processes can read the parts. One pass that only
        looks for line ends, block by block: memory stays flat, and a 188 MB snapshot takes 0.2 s."""
        spans, start, first_line = [], 0, 1
        sizes = iter(sizes)
        size = next(sizes)
        seen = 0  # lines of the current part before this block
        offset = 0  # of this block in the file
        last = b""
        with self.path.open("rb") as raw:
            while block := raw.read(SCAN_BLOCK):
                ends = block.count(b"\n")
                end = size - seen - 1  # index in this block of the current part's last line end
                if end < ends:  # a part ends in this block (rare: once per part)
                    at = np.flatnonzero(np.frombuffer(block, dtype=np.uint8) == NEWLINE)
                    while end < ends:
                        spans.append(Span(start, size, first_line))
                        start, first_line = offset + int(at[end]) + 1, first_line + size
                        size = next(sizes)
                        end += size
                    seen = ends - (end - size) - 1
                else:
                    seen += ends
                offset += len(block)
                last = block[-1:]
        if start < offset:
            spans.append(Span(start, seen + (last != b"\n"), first_line))
        return spans

    def jsonl(self) -> Iterator[tuple[str, dict[str, Any] | Skipped]]:
        """(``file:line``, object) for every non-empty line; a line that is not a JSON object is a Skipped."""
        for number, value in self.json_lines():
            yield (value.location if isinstance(value, Skipped) else self.location(number)), value

    def json_lines(self, span: Span | None = None) -> Iterator[tuple[int, dict[str, Any] | Skipped]]:
        """:meth:`jsonl` with line numbers instead of locations: a snapshot has millions of lines, and only the bad
        ones need their location spelled out. ``span`` (from :meth:`spans`) reads that part of the file only."""
        # orjson parses the bytes as they are (and checks UTF-8) in a third of json's time; a line it rejects goes
        # to json, which reads a little more (NaN, numbers beyond 64 bits) and says what is wrong otherwise.
        with self.path.open("rb") as raw:
            lines, first = self._lines_of(raw, span)
            for number, line in enumerate(lines, start=first):
                self.position += len(line)
                value = self.json_object(number, line)
                if value is not None:
                    yield number, value

    def _lines_of(self, raw: BinaryIO, span: Span | None) -> tuple[Iterator[bytes], int]:
        """The lines of the open file ``raw`` (or of ``span`` in it), and the number of the first."""
        if span is None:
            return raw, 1
        raw.seek(span.start)
        self.position = span.start
        return itertools.islice(raw, span.lines), span.first_line

    def json_object(self, number: int, line: bytes) -> dict[str, Any] | Skipped | None:
        """Line ``number`` (its bytes) as a JSON object, a Skipped saying why it is not one, or None if blank."""
        try:
            value = orjson.loads(line)
        except orjson.JSONDecodeError:
            if not line.strip():
                return None
            value = _json_or_why_not(self.location(number), line)
        if type(value) is not dict and not isinstance(value, Skipped):
            value = Skipped(self.location(number), f"expected a JSON object, got {type(value).__name__}")
        return value

    def line_blocks(self, size: int, span: Span | None = None) -> Iterator[tuple[int, list[bytes], list[int]]]:
        """The file's lines (or ``span``'s), ``size`` at a time: (number of the first, their bytes, the position
        after each)."""
        with self.path.open("rb") as raw:
            lines, first = self._lines_of(raw, span)
            while block := list(itertools.islice(lines, size)):
                ends = list(itertools.accumulate(map(len, block), initial=self.position))
                del ends[0]
                self.position = ends[-1]
                yield first, block, ends
                first += len(block)

    def csv_rows(self, *, header: bool) -> Iterator[tuple[str, dict[str, str] | list[str] | Skipped]]:
        """Rows as dicts (with a header) or lists; a line the csv module cannot parse is Skipped."""
        names: list[str] | None = None
        for where, text in self.lines():
            if isinstance(text, Skipped):
                yield where, text
                continue
            try:
                rows = list(csv.reader(io.StringIO(text)))
            except csv.Error as exc:
                yield where, Skipped(where, f"malformed CSV ({exc})")
                continue
            if len(rows) != 1:
                yield where, Skipped(where, "malformed CSV (a quoted field spans lines)")
                continue
            row = rows[0]
            if header and names is None:
                names = row
                continue
            if names is not None:
                if len(row) != len(names):
                    yield where, Skipped(where, f"expected {len(names)} columns, found {len(row)}")
                    continue
                yield where, dict(zip(names, row, strict=True))
            else:
                yield where, row

    def json_object_items(self) -> Iterator[tuple[str, tuple[str, Any] | Skipped]]:
        """The members of a top-level JSON object, parsed one at a time, so a huge object needs little memory."""
        decoder = json.JSONDecoder()
        with self.path.open("r", encoding="utf-8", errors="replace") as fp:
            buffer, eof, consumed = "", False, 0

            def fill() -> bool:
                nonlocal buffer, eof
                chunk = fp.read(CHUNK)
                if not chunk:
                    eof = True
                    return False
                buffer += chunk
                return True

            def skip_ws(i: int) -> int:
                while True:
                    while i < len(buffer) and buffer[i] in " \t\r\n":
                        i += 1
                    if i < len(buffer) or eof or not fill():
                        return i

            fill()
            i = skip_ws(0)
            if i >= len(buffer) or buffer[i] != "{":
                raise PtmgraphError(f"{self.path} is not a JSON object ({{...}}): check the file")
            i += 1
            index = 0
            while True:
                i = skip_ws(i)
                if i < len(buffer) and buffer[i] == "}":
                    return
                if i < len(buffer) and buffer[i] == ",":
                    i = skip_ws(i + 1)
                index += 1
                where = f"{self.path}: member #{index}"
                while True:
                    size = len(buffer)  # skip_ws may read on; then a retry sees more even at end of file
                    try:
                        key, end = decoder.raw_decode(buffer, i)
                        j = skip_ws(end)
                        if j >= len(buffer) or buffer[j] != ":":
                            raise ValueError("expected ':' after a key")
                        at = skip_ws(j + 1)  # before reading `buffer`: skip_ws may extend it
                        value, end = decoder.raw_decode(buffer, at)
                        k = skip_ws(end)
                        if k >= len(buffer) or buffer[k] not in ",}":
                            # A value cut by the chunk boundary ("0" of "0.5") parses short: read on and retry.
                            if len(buffer) > size or (not eof and fill()):
                                continue
                            raise ValueError("expected ',' or '}' after a value")
                        break
                    except ValueError as exc:
                        if len(buffer) > size or (not eof and fill()):
                            continue  # the member may just be cut by the chunk boundary
                        yield where, Skipped(where, f"malformed JSON ({exc}); the rest of the file is unreadable")
                        return
                consumed += end - i
                self.position = min(self.size, consumed)
                if not isinstance(key, str):
                    yield where, Skipped(where, "object key is not a string")
                else:
                    yield where, _text_only(where, (key, value), buffer[i:end])
                # Keep the buffer small: drop what has been parsed.
                buffer, i = buffer[end:], 0


def _json_or_why_not(where: str, line: bytes) -> Any:
    try:
        text = line.decode("utf-8")
    except UnicodeDecodeError as exc:
        return Skipped(where, f"not valid UTF-8 ({exc.reason})")
    try:
        value = json.loads(text)
    except ValueError as exc:
        return Skipped(where, f"malformed JSON ({exc})")
    except RecursionError:
        return Skipped(where, "JSON nested too deeply to read")
    return _text_only(where, value, text)


def _text_only(where: str, value: Any, source: str) -> Any:
    """``value`` (read from the JSON text ``source``), or a Skipped where one of its strings holds an escaped lone
    surrogate ("\\ud800"): json reads it, and nothing downstream can store it (it is not text: UTF-8 cannot encode
    it). Only a text with a surrogate's escape is checked: the check took a sixth of reading gh-licenses."""
    if not _SURROGATE_ESCAPE.search(source):
        return value
    try:
        json.dumps(value, ensure_ascii=False).encode("utf-8")
    except RecursionError:
        return Skipped(where, "JSON nested too deeply to read")
    except UnicodeEncodeError:
        return Skipped(where, "a string holds a lone UTF-16 surrogate (an escape such as \\ud800), which is not text")
    return value
