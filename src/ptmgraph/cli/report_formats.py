"""The lineage-anomaly report as Markdown and as one self-contained HTML file (inline CSS and SVG, no scripts,
nothing fetched), so it can be mailed, attached to a ticket and opened offline."""

from __future__ import annotations

import json
from html import escape
from typing import Any

COLOURS = {"origin": "#c0392b", "model": "#e67e22", "repo": "#2e86c1", "context": "#95a5a6"}
MAX_PICTURE_NODES = 60
_COL, _ROW, _BOX_W, _BOX_H, _PAD = 250, 30, 210, 22, 16


def _md(text: Any) -> str:
    # Names are untrusted: neutralise Markdown and HTML so a hostile id cannot reshape the report.
    return " ".join("".join("\\" + c if c in "\\`*_[]<>|#" else c for c in str(text)).split())


def _code(text: Any) -> str:
    return "`` " + " ".join(str(text).replace("`", "'").split()) + " ``"


def _path(entry: dict[str, Any]) -> str:
    steps = [entry["path"][0]]
    for node, relation in zip(entry["path"][1:], entry["relations"]):
        steps += [f"--{relation}-->", node]
    return " ".join(steps)


def markdown(report: dict[str, Any]) -> str:
    t = report["totals"]
    out = ["# ptmgraph lineage-anomaly report", "",
           f"{t['origins']} flagged origins ({', '.join(f'{k}: {v}' for k, v in t['by_kind'].items()) or 'none'}); "
           f"{t['models_reached']} models reached, {t['repos_exposed']} repositories exposed; "
           f"{t['shown']} origins shown, most far-reaching first.", ""]
    for o in report["origins"]:
        out += [f"## {_md(o['kind'])} ({_md(o['severity'])}) on {_md(o['subject_kind'])} {_md(o['subject'])}", "",
                f"- flag: {_code(o['flag'])} by {_md(o['detector'] or 'user')}", f"- summary: {_md(o['summary'])}",
                f"- evidence: {_code(json.dumps(o['evidence'], sort_keys=True))}"]
        if o.get("explained_by"):
            out.append(f"- path: {_code(_path(o['explained_by']))}")
        for title, key in (("Models reached", "models"), ("Repositories exposed", "repos")):
            if o[key]:
                out += ["", f"{title} ({len(o[key])}):", ""]
                out += [f"- {_md(e['id'])} (depth {e['depth']}): {_code(_path(e))}" for e in o[key]]
        out.append("")
    return "\n".join(out)


def _picture(origin: dict[str, Any]) -> str:
    """The lineage subtree a flag reaches, laid out by depth: origin red, reached models orange, repositories
    blue, every edge on an explaining path drawn red."""
    kind: dict[str, str] = {}
    depth: dict[str, int] = {}
    edges: dict[tuple[str, str], str] = {}
    omitted = 0
    walks = [(e, "model") for e in origin["models"]] + [(e, "repo") for e in origin["repos"]]
    if origin.get("explained_by"):
        walks.append(({"path": origin["explained_by"]["path"], "relations": origin["explained_by"]["relations"]},
                      "origin"))
    kind[origin["subject"]] = "origin"
    depth[origin["subject"]] = 0
    for entry, end_kind in walks:
        new = [n for n in entry["path"] if n not in depth]
        if len(depth) + len(new) > MAX_PICTURE_NODES:
            omitted += 1
            continue
        base = 1 if end_kind == "origin" else 0  # a repo's own finding: its model to the left of it
        for i, node in enumerate(entry["path"]):
            depth.setdefault(node, i if end_kind != "origin" else i - base)
            kind.setdefault(node, "context" if end_kind == "origin" else "model")
        if end_kind != "origin":
            kind[entry["path"][-1]] = end_kind if entry["path"][-1] != origin["subject"] else "origin"
        for a, b, rel in zip(entry["path"], entry["path"][1:], entry["relations"]):
            edges[(a, b)] = rel
    low = min(depth.values())
    columns: dict[int, list[str]] = {}
    for node in depth:
        columns.setdefault(depth[node] - low, []).append(node)
    pos = {node: (_PAD + col * _COL, _PAD + row * _ROW) for col, nodes in columns.items()
           for row, node in enumerate(nodes)}
    width = _PAD * 2 + (max(columns) + 1) * _COL
    height = _PAD * 2 + max(len(c) for c in columns.values()) * _ROW + (_ROW if omitted else 0)
    parts = [f'<svg class="lineage" xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
             f'role="img" aria-label="lineage reached by {escape(origin["flag"])}">']
    for (a, b), rel in edges.items():
        (x1, y1), (x2, y2) = pos[a], pos[b]
        parts.append(f'<line class="path" x1="{x1 + _BOX_W}" y1="{y1 + _BOX_H / 2}" x2="{x2}" y2="{y2 + _BOX_H / 2}"'
                     f' stroke="{COLOURS["origin"]}" stroke-width="2"><title>{escape(rel)}</title></line>')
    for node, (x, y) in pos.items():
        label = node if len(node) <= 30 else node[:29] + "…"
        parts.append(f'<g class="node {kind[node]}"><title>{escape(node)} ({kind[node]})</title>'
                     f'<rect x="{x}" y="{y}" width="{_BOX_W}" height="{_BOX_H}" rx="4" fill="{COLOURS[kind[node]]}"/>'
                     f'<text x="{x + 6}" y="{y + 15}">{escape(label)}</text></g>')
    if omitted:
        parts.append(f'<text x="{_PAD}" y="{height - _PAD / 2}" class="more">+{omitted} more paths not drawn '
                     f'(see the lists below)</text>')
    parts.append("</svg>")
    return "".join(parts)


_CSS = """
body{font:14px system-ui,sans-serif;margin:2em;color:#222}
h1{font-size:1.5em}h2{font-size:1.15em;margin-top:2em}
.totals td,.totals th{padding:2px 10px;text-align:left}
svg.lineage{display:block;border:1px solid #ddd;background:#fafafa;margin:.5em 0;max-width:100%;height:auto}
svg text{font:12px system-ui,sans-serif;fill:#fff}svg text.more{fill:#555}
code{background:#f3f3f3;padding:1px 4px;word-break:break-all}
.legend span{display:inline-block;padding:2px 8px;margin-right:6px;color:#fff;border-radius:3px}
"""


def html(report: dict[str, Any]) -> str:
    t = report["totals"]
    legend = "".join(f'<span style="background:{COLOURS[k]}">{label}</span>' for k, label in (
        ("origin", "flagged origin"), ("model", "model that inherits it"), ("repo", "repository exposed"),
        ("context", "model a finding is about")))
    rows = "".join(f"<tr><th>{escape(k)}</th><td>{v}</td></tr>" for k, v in (
        ("flagged origins", t["origins"]), ("models reached", t["models_reached"]),
        ("repositories exposed", t["repos_exposed"]), ("origins shown", t["shown"]),
        *(("kind: " + k, v) for k, v in t["by_kind"].items()), *(("severity: " + k, v) for k, v in
                                                                 t["by_severity"].items())))
    body = [f"<h1>ptmgraph lineage-anomaly report</h1><table class=totals>{rows}</table>",
            f'<p class="legend">{legend}</p>']
    for o in report["origins"]:
        body.append(f'<section class="origin" id="{escape(o["flag"])}"><h2>{escape(o["kind"])} '
                    f'({escape(o["severity"])}) on {escape(o["subject_kind"])} {escape(o["subject"])}</h2>'
                    f'<p>{escape(o["summary"] or "")}</p><p>flag <code>{escape(o["flag"])}</code> by '
                    f'{escape(o["detector"] or "user")}; evidence '
                    f'<code>{escape(json.dumps(o["evidence"], sort_keys=True))}</code></p>')
        body.append(_picture(o))
        for title, key in (("Models reached", "models"), ("Repositories exposed", "repos")):
            if o[key]:
                items = "".join(f"<li>{escape(e['id'])} (depth {e['depth']}): <code>{escape(_path(e))}</code></li>"
                                for e in o[key])
                body.append(f"<h3>{title} ({len(o[key])})</h3><ul>{items}</ul>")
        body.append("</section>")
    return (f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>ptmgraph report</title>'
            f'<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; style-src \'unsafe-inline\'">'
            f"<style>{_CSS}</style></head><body>{''.join(body)}</body></html>\n")
