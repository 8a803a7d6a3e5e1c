"""The public gallery's HTML: an index of published projects and one page per project, with provenance.

Plain HTML and one stylesheet, no script. Every piece of user text (names, prompts, users, layer names)
and every URL goes through ``html.escape``; nothing here reads files or the network.
"""

from __future__ import annotations

import html
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from .layout import document_assets

#: The media type of a snapshot manifest; the project page links it as ``<link rel="alternate">``.
SNAPSHOT_MEDIA_TYPE = "application/vnd.imagestudio.snapshot+json"

STYLESHEET = """body{font:15px/1.45 system-ui,sans-serif;margin:0;background:#f6f6f4;color:#222}
header,main,footer{max-width:1100px;margin:0 auto;padding:1rem 1.5rem}
header h1{margin:.2rem 0}
a{color:#0b5cad}
.meta{color:#666;font-size:.9rem}
.composite{background:#fff;border:1px solid #ddd;border-radius:8px;padding:1rem;text-align:center}
.composite img{max-width:100%;max-height:70vh}
.grid{display:grid;grid-template-columns:repeat(auto-fill,minmax(260px,1fr));gap:1rem}
figure{margin:0;background:#fff;border:1px solid #ddd;border-radius:8px;overflow:hidden}
figure img{width:100%;aspect-ratio:1;object-fit:contain;
  background:repeating-conic-gradient(#eee 0 25%,#fff 0 50%) 0 0/16px 16px}
figcaption{padding:.6rem .8rem}
dl{display:grid;grid-template-columns:max-content 1fr;gap:.15rem .6rem;margin:.4rem 0 0;font-size:.85rem}
dt{color:#777} dd{margin:0;overflow-wrap:anywhere}
.prompt{font-style:italic}
table{border-collapse:collapse;background:#fff;width:100%}
th,td{border:1px solid #ddd;padding:.3rem .5rem;text-align:left;font-size:.9rem}
code{background:#eee;padding:.1rem .3rem;border-radius:3px;overflow-wrap:anywhere}
"""

esc = html.escape


@dataclass(frozen=True)
class PageLinks:
    """Where a project page's links point (already resolved: relative, or absolute with a CDN)."""

    stylesheet: str
    index: str
    manifest: str
    document: str
    composite: str
    page: str                       # the page's own public address, shown for remixing
    asset: Callable[[str, str], str]


def _count(number: Any, noun: str) -> str:
    return f"{esc(str(number))} {noun}{'' if number == 1 else 's'}"


def _provenance(data: Mapping[str, Any]) -> dict[str, tuple[dict[str, Any], int]]:
    """Each asset's generation record and its position among the record's images."""
    found: dict[str, tuple[dict[str, Any], int]] = {}
    for record in data.get("generations") or []:
        for position, digest in enumerate(record.get("assets") or []):
            found.setdefault(digest, (record, position))
    return found


def _rows(pairs: list[tuple[str, Any]]) -> str:
    return "".join(f"<dt>{esc(label)}</dt><dd{' class=prompt' if label == 'Prompt' else ''}>{esc(str(value))}</dd>"
                   for label, value in pairs if value not in (None, "", []))


def _image_card(digest: str, extension: str, info: Mapping[str, Any], layer_names: list[str],
                generation: tuple[dict[str, Any], int] | None, url: str) -> str:
    size = f"{info.get('width', '?')}×{info.get('height', '?')}"
    if generation is not None:
        record, position = generation
        request = record.get("request") or {}
        seeds, revised = record.get("seeds") or [], record.get("revised_prompts") or []
        model = "/".join(str(part) for part in (record.get("provider"), record.get("model")) if part)
        pairs = [("Prompt", request.get("prompt") or record.get("prompt")),
                 ("Revised", revised[position] if position < len(revised) else None),
                 ("Model", model), ("Seed", seeds[position] if position < len(seeds) else request.get("seed")),
                 ("Size", request.get("size") or size), ("User", record.get("user")),
                 ("Time", record.get("created")), ("Kind", record.get("kind"))]
    else:
        pairs = [("Source", info.get("source") or "uploaded"), ("Size", size), ("Time", info.get("created"))]
    pairs += [("Layers", ", ".join(layer_names)), ("SHA-256", digest)]
    title = ", ".join(layer_names) or digest[:12]
    href = esc(url, quote=True)
    return (f'<figure><a href="{href}"><img loading="lazy" src="{href}" alt="{esc(title, quote=True)}"></a>'
            f"<figcaption><strong>{esc(title)}</strong> <span class=meta>{esc(extension.upper())}</span>"
            f"<dl>{_rows(pairs)}</dl></figcaption></figure>")


def project_page(data: Mapping[str, Any], links: PageLinks, *, published_at: str, snapshot_sha256: str) -> str:
    """The HTML page of one published project: its composite, layers and images with their provenance.

    Examples
    --------
    >>> links = PageLinks("s.css", "../../index.html", "snap.json", "doc", "c.png", "https://g/p", lambda d, e: d)
    >>> page = project_page({"meta": {"name": "<b>x</b>", "canvas": {"width": 8, "height": 8}}, "layers": [],
    ...                      "generations": [], "assets": {}}, links, published_at="now", snapshot_sha256="ab" * 32)
    >>> "&lt;b&gt;x&lt;/b&gt;" in page and "<b>x</b>" not in page
    True
    """
    meta = data.get("meta") or {}
    name = esc(str(meta.get("name", "Project")))
    canvas = meta.get("canvas") or {}
    assets = data.get("assets") or {}
    layer_names: dict[str, list[str]] = {}
    for layer in data.get("layers") or []:
        if layer.get("asset"):
            layer_names.setdefault(layer["asset"], []).append(str(layer.get("name") or ""))
    provenance = _provenance(data)
    ordered = sorted(document_assets(dict(data)).items(), key=lambda kv: (str(assets[kv[0]].get("created", "")), kv[0]))
    cards = [_image_card(digest, extension, assets[digest], layer_names.get(digest, []), provenance.get(digest),
                         links.asset(digest, extension)) for digest, extension in ordered]
    layer_rows = "".join(
        f"<tr><td>{esc(str(layer.get('name') or ''))}</td><td>{esc(str(layer.get('kind', '')))}</td>"
        f"<td>{'yes' if layer.get('visible', True) else 'no'}</td><td>{esc(str(layer.get('opacity', 1)))}</td>"
        f"<td>{esc(str(layer.get('blend_mode') or 'normal'))}</td>"
        f"<td>{esc(str(layer.get('asset') or '')[:12])}</td></tr>"
        for layer in reversed(data.get("layers") or []))
    a = lambda url: esc(url, quote=True)  # noqa: E731
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{name} · Image Studio gallery</title>
<link rel="stylesheet" href="{a(links.stylesheet)}">
<link rel="alternate" type="{SNAPSHOT_MEDIA_TYPE}" href="{a(links.manifest)}">
</head><body>
<header><p class=meta><a href="{a(links.index)}">All projects</a></p><h1>{name}</h1>
<p class=meta>Published {esc(published_at)} · canvas {esc(str(canvas.get('width', '?')))}×{esc(str(canvas.get('height', '?')))}
· {_count(len(cards), 'image')} · snapshot <code>{esc(snapshot_sha256[:12])}</code></p></header>
<main>
<section class=composite><h2>Rendered result</h2><a href="{a(links.composite)}"><img src="{a(links.composite)}"
alt="{a(str(meta.get('name', 'Project')))}, all visible layers"></a></section>
<h2>Layers</h2>
<table><thead><tr><th>Name</th><th>Kind</th><th>Visible</th><th>Opacity</th><th>Blend</th><th>Asset</th></tr></thead>
<tbody>{layer_rows}</tbody></table>
<h2>Images and provenance</h2>
<section class=grid>
{chr(10).join(cards)}
</section>
</main>
<footer><h2>Remix</h2>
<p>This page shows a frozen snapshot. Clone it into your own workspace with
<code>imagestudio gallery remix {esc(links.page)}</code> or <code>imagestudio_nb.remix(link)</code>.</p>
<p><a href="{a(links.manifest)}">Snapshot (JSON)</a> · <a href="{a(links.document)}">project document</a></p>
</footer></body></html>
"""


def index_page(entries: list[Mapping[str, Any]], *, stylesheet: str, page_link: Callable[[str], str],
               thumbnail_link: Callable[[Mapping[str, Any]], str]) -> str:
    """The gallery's front page: every published project, newest first, with its composite.

    Examples
    --------
    >>> page = index_page([{"id": "a1", "name": "A & B", "published_at": "t", "images": 2, "page": "p/a1/index.html"}],
    ...                   stylesheet="style.css", page_link=lambda p: p, thumbnail_link=lambda e: "c.png")
    >>> "A &amp; B" in page and 'href="p/a1/index.html"' in page
    True
    """
    items = []
    for entry in sorted(entries, key=lambda e: (str(e.get("published_at", "")), str(e.get("id"))), reverse=True):
        href = esc(page_link(str(entry["page"])), quote=True)
        items.append(f'<figure><a href="{href}"><img loading="lazy" src="{esc(thumbnail_link(entry), quote=True)}" '
                     f'alt="{esc(str(entry.get("name", "")), quote=True)}"></a><figcaption><a href="{href}">'
                     f"<strong>{esc(str(entry.get('name', '')))}</strong></a><br><span class=meta>"
                     f"{_count(entry.get('images', 0), 'image')} · published {esc(str(entry.get('published_at', '')))}"
                     "</span></figcaption></figure>")
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Image Studio gallery</title><link rel="stylesheet" href="{esc(stylesheet, quote=True)}">
</head><body><header><h1>Image Studio gallery</h1><p class=meta>{len(items)} published projects</p></header>
<main><section class=grid>
{chr(10).join(items)}
</section></main></body></html>
"""
