"""Reproducible prompt experiments: a grid run as a batch, kept in the project, scored, compared, re-run.

An experiment is stored as ``<project>/experiments/<id>.json`` (written atomically). Each cell keeps the
request as the user defined it, the request exactly as it was executed (defaults and chosen seeds filled in,
copied from the generation's provenance record) and the digest of the bytes sent, so :meth:`Experiment.rerun`
sends the same request again and :meth:`Experiment.compare` can prove it.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from ..batch import BatchItem, generate_batch
from ..config import Settings, load_config
from ..errors import InvalidArgumentError, NotFoundError
from ..project.document import new_id, now_iso
from ..project.files import write_atomic
from .grid import axis_label, axis_value, expand_grid
from .sheet import ComparisonSheet, SheetCell, draw_sheet

SCHEMA = 1
_RUNNABLE = ("pending", "failed", "partial")


class Experiment:
    """A grid of prompts x models x parameters x seeds and what became of each cell.

    Examples
    --------
    >>> exp = Experiment.define("foxes", prompts=["a red fox", "a blue fox"], seeds=[1, 2],
    ...                         settings=Settings(default_model="local", default_size="256x256"))
    >>> report = exp.run(progress=False)
    >>> [cell["status"] for cell in exp.cells]
    ['ok', 'ok', 'ok', 'ok']
    >>> exp.score(0, 5).cells[0]["score"]
    5
    """

    def __init__(self, data: dict[str, Any], *, project=None, settings: Settings | None = None):
        self.data = data
        self.project = project
        self.settings = settings
        self._results: dict[int, list] = {}

    # --- definition and storage ------------------------------------------------------------------
    @classmethod
    def define(cls, name: str, *, prompts: Sequence[str] | str, models: Sequence[str] | str | None = None,
               params: Mapping[str, Sequence[Any]] | None = None, seeds: Sequence[int | None] | None = None,
               project=None, settings: Settings | None = None) -> Experiment:
        """Define an experiment; with a project it is saved there at once.

        Parameters
        ----------
        prompts, models : list of str
            The prompt and model axes (models default to the configured default, else ``local``).
        params : dict of str -> list
            Further axes: ``{"quality": ["low", "high"], "size": ["1024x1024"]}``; other names are model options.
        seeds : list of int
            The seed axis; for models that take no seed it becomes the number of repeats.
        """
        from ..generation import _open_project

        project = _open_project(project)
        settings = settings or (project.config() if project is not None else load_config())
        prompts = [prompts] if isinstance(prompts, str) else list(prompts)
        models = [models] if isinstance(models, str) else list(models or [settings.default_model or "local"])
        cells = expand_grid(prompts, models, params, seeds, settings=settings)
        data = {"schema": SCHEMA, "id": new_id("x"), "name": name, "created": now_iso(), "user": settings.user,
                "axes": {"prompts": prompts, "models": models, "params": dict(params or {}),
                         "seeds": list(seeds) if seeds else []},
                "cells": cells, "runs": [], "rerun_of": None}
        experiment = cls(data, project=project, settings=settings)
        experiment.save()
        return experiment

    @classmethod
    def load(cls, project, experiment_id: str, *, settings: Settings | None = None) -> Experiment:
        """Open a stored experiment by id (or a unique id prefix, or its name).

        Raises
        ------
        NotFoundError
            Listing the experiments the project holds.
        """
        from ..generation import _open_project

        project = _open_project(project)
        stored = list_experiments(project)
        matches = [e for e in stored if e["id"] == experiment_id] or \
                  [e for e in stored if e["id"].startswith(experiment_id) or e["name"] == experiment_id]
        if len(matches) != 1:
            known = ", ".join(f"{e['id']} ({e['name']})" for e in stored) or "none"
            raise NotFoundError(f"no single experiment {experiment_id!r} in project {project.name!r}; known: {known}")
        data = json.loads(_folder(project).joinpath(f"{matches[0]['id']}.json").read_text(encoding="utf-8"))
        return cls(data, project=project, settings=settings)

    def save(self) -> Path | None:
        """Write ``experiments/<id>.json`` atomically (nothing to do without a project)."""
        if self.project is None:
            return None
        folder = _folder(self.project)
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{self.id}.json"
        write_atomic(path, json.dumps(self.data, indent=1, sort_keys=True, ensure_ascii=False) + "\n")
        return path

    @property
    def id(self) -> str:
        return self.data["id"]

    @property
    def name(self) -> str:
        return self.data["name"]

    @property
    def cells(self) -> list[dict[str, Any]]:
        return self.data["cells"]

    def _settings(self) -> Settings:
        if self.settings is None:
            self.settings = self.project.config() if self.project is not None else load_config()
        return self.settings

    # --- running ---------------------------------------------------------------------------------
    def run(self, *, concurrency: int = 4, executor=None, progress: bool = True):
        """Generate every cell not done yet (pending, failed or partial), batched; return the batch report."""
        todo = [cell for cell in self.cells if cell["status"] in _RUNNABLE]
        items = [BatchItem.from_mapping(cell["request"]) for cell in todo]
        report = generate_batch(items, project=self.project, concurrency=concurrency, executor=executor,
                                progress=progress, settings=self._settings(), namespace=self.id)
        for cell, outcome in zip(todo, report.items):
            if outcome.status == "skipped":  # done by an earlier run that stopped before saving
                record = next((r for r in self.project.generations() if r.get("batch_key") == outcome.key), None)
            else:
                record = outcome.record
                self._results[cell["index"]] = outcome.results
            cell["status"] = "ok" if outcome.status == "skipped" else outcome.status
            cell["error"] = outcome.error
            if record is not None:
                cell.update(generation=record["id"], assets=list(record["assets"]), executed=record["request"],
                            deployment=record.get("deployment"), seeds=record.get("seeds"),
                            revised_prompts=record.get("revised_prompts") or [],
                            wire=(record.get("metadata") or {}).get("wire"))
        self.data["runs"].append({"at": now_iso(), **report.summary()})
        self.save()
        return report

    def rerun(self, *, name: str | None = None, concurrency: int = 4, executor=None,
              progress: bool = True) -> Experiment:
        """Run the executed requests again, as a new experiment that points back to this one.

        Each cell sends exactly the request recorded for it (same prompt, model, size, seed, options and the
        defaults that were filled in), so the service receives the same bytes; :meth:`compare` checks it.

        Raises
        ------
        InvalidArgumentError
            When no cell has been run yet.
        """
        done = [cell for cell in self.cells if cell.get("executed")]
        if not done:
            raise InvalidArgumentError(f"experiment {self.name!r} has no executed cell to re-run; call run() first")
        cells = []
        for cell in done:
            request = _generate_kwargs(cell["executed"], cell.get("deployment"))
            cells.append({**{k: cell[k] for k in ("prompt", "model", "params", "seed", "repeat")},
                          "index": len(cells), "source_index": cell["index"], "request": request,
                          "status": "pending", "error": None})
        data = {**json.loads(json.dumps(self.data)), "id": new_id("x"), "name": name or f"{self.name} (re-run)",
                "created": now_iso(), "cells": cells, "runs": [], "rerun_of": self.id}
        again = Experiment(data, project=self.project, settings=self.settings)
        again.save()
        again.run(concurrency=concurrency, executor=executor, progress=progress)
        return again

    def compare(self, other: Experiment) -> list[dict[str, Any]]:
        """Did ``other`` (a re-run of this experiment) reproduce each executed cell of this one?

        One row per cell of this experiment that was executed: ``same_request`` (the executed request),
        ``same_wire`` (the digest of the bytes sent, known for JSON bodies only) and ``same_images`` (the
        asset hashes). A cell the re-run lacks, or that has no images on either side, is *not* reproduced:
        every flag is ``False`` and ``rerun_index`` is ``None``.

        Examples
        --------
        >>> local = Settings(default_model="local", default_size="256x256")
        >>> exp = Experiment.define("fox", prompts=["a red fox"], seeds=[1], settings=local)
        >>> _ = exp.run(progress=False)
        >>> row = exp.compare(exp.rerun(progress=False))[0]
        >>> row["same_request"], row["same_images"]
        (True, True)
        """
        theirs = {cell.get("source_index", cell["index"]): cell for cell in other.cells}
        rows = []
        for source in self.cells:
            if not source.get("executed"):
                continue  # never ran: there is nothing to reproduce
            cell = theirs.get(source["index"], {})
            wire_a, wire_b = source.get("wire") or {}, cell.get("wire") or {}
            rows.append({"index": source["index"], "rerun_index": cell.get("index"),
                         "same_request": source["executed"] == cell.get("executed"),
                         # A JSON body is hashed; a multipart body (edits) carries a random boundary and is not.
                         "same_wire": bool(wire_a.get("body_sha256")) and wire_a == wire_b,
                         # No images on both sides is not a reproduction of images.
                         "same_images": bool(source.get("assets")) and source.get("assets") == cell.get("assets")})
        return rows

    # --- scoring and annotation ------------------------------------------------------------------
    def cell(self, index: int | None = None, **coordinates: Any) -> dict[str, Any]:
        """One cell by index, or by its coordinates (``prompt=..., seed=..., quality=...``).

        Raises
        ------
        NotFoundError
            When no cell, or more than one, matches.
        """
        if index is not None:
            if not 0 <= index < len(self.cells):
                raise NotFoundError(f"no cell {index}; this experiment has cells 0..{len(self.cells) - 1}")
            return self.cells[index]
        found = [c for c in self.cells if all(axis_value(c, k) == v for k, v in coordinates.items())]
        if len(found) != 1:
            raise NotFoundError(f"{len(found)} cells match {coordinates}; give more coordinates or an index")
        return found[0]

    def score(self, cell: int | Mapping[str, Any], value: float, *, by: str | None = None) -> Experiment:
        """Give a cell a score (any number, e.g. 1-5); saved at once. Returns the experiment (for chaining)."""
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise InvalidArgumentError(f"score must be a number, got {value!r}")
        target = self.cell(cell) if isinstance(cell, int) else self.cell(**cell)
        target["score"], target["scored_by"] = value, by or self._settings().user
        self.save()
        return self

    def annotate(self, cell: int | Mapping[str, Any], note: str, *, by: str | None = None) -> Experiment:
        """Add a note to a cell; saved at once."""
        target = self.cell(cell) if isinstance(cell, int) else self.cell(**cell)
        target.setdefault("notes", []).append({"text": str(note), "by": by or self._settings().user, "at": now_iso()})
        self.save()
        return self

    # --- seeing and exporting --------------------------------------------------------------------
    def sheet(self, *, rows: str = "prompt", columns: Sequence[str] | str | None = None,
              cell: int = 192) -> ComparisonSheet:
        """The comparison grid: one row per value of ``rows``, one column per combination of ``columns``
        (by default every other axis that varies). Each picture is the cell's first image."""
        axes = ["prompt", "model", *self.data["axes"]["params"], "seed" if self.data["axes"]["seeds"] else None]
        varying = [a for a in axes if a and len({json.dumps(axis_value(c, a), default=str) for c in self.cells}) > 1]
        columns = [columns] if isinstance(columns, str) else list(columns or [a for a in varying if a != rows])
        row_keys = _ordered(json.dumps(axis_value(c, rows), default=str) for c in self.cells)
        col_keys = _ordered(json.dumps([axis_value(c, a) for a in columns], default=str) for c in self.cells)
        items = []
        for c in self.cells:
            r = row_keys.index(json.dumps(axis_value(c, rows), default=str))
            k = col_keys.index(json.dumps([axis_value(c, a) for a in columns], default=str))
            notes = len(c.get("notes", []))
            caption = " · ".join(filter(None, [c["status"] if c["status"] != "ok" else "",
                                               f"score {c['score']}" if "score" in c else "",
                                               f"{notes} note{'s' if notes > 1 else ''}" if notes else ""]))
            items.append(SheetCell(r, k, self._picture(c), caption))
        row_labels = [axis_label(rows, json.loads(key)) for key in row_keys]
        col_labels = [" · ".join(axis_label(a, v) for a, v in zip(columns, json.loads(key))) or "result"
                      for key in col_keys]
        picture = draw_sheet(items, row_labels, col_labels, cell=cell, title=self.name)
        return ComparisonSheet(picture, rows=row_labels, columns=col_labels)

    def _picture(self, cell: dict[str, Any]):
        results = self._results.get(cell["index"])
        if results:
            return results[0].image
        if cell.get("assets") and self.project is not None:
            try:
                return self.project.assets.read_array(cell["assets"][0])
            except Exception:  # a missing asset shows as an empty cell rather than breaking the sheet
                return None
        return None

    def _repr_png_(self) -> bytes:
        return self.sheet()._repr_png_()

    def to_records(self) -> list[dict[str, Any]]:
        """One flat row per cell: coordinates, outcome, score and notes."""
        rows = []
        for c in self.cells:
            row = {"experiment": self.id, "cell": c["index"], "prompt": c["prompt"], "model": c["model"],
                   **{f"param.{k}": v for k, v in c["params"].items()}, "seed": c["seed"], "repeat": c["repeat"],
                   "status": c["status"], "generation": c.get("generation"), "assets": " ".join(c.get("assets", [])),
                   "score": c.get("score"), "notes": " | ".join(n["text"] for n in c.get("notes", [])),
                   "revised_prompt": (c.get("revised_prompts") or [None])[0], "error": c.get("error")}
            rows.append(row)
        return rows

    def to_pandas(self):
        """The cells as a pandas DataFrame (needs the ``pandas`` extra)."""
        try:
            import pandas as pd
        except ImportError:
            raise InvalidArgumentError("to_pandas() needs pandas: pip install imagestudio-nb[pandas]") from None
        return pd.DataFrame(self.to_records())

    def to_csv(self, path: str | Path | None = None) -> str:
        """The cells as CSV text; also written to ``path`` when given."""
        rows = self.to_records()
        columns = list(dict.fromkeys(k for row in rows for k in row))
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=columns)
        writer.writeheader()
        writer.writerows(rows)
        if path is not None:
            Path(path).write_text(buffer.getvalue(), encoding="utf-8")
        return buffer.getvalue()

    def to_json(self, path: str | Path | None = None) -> str:
        """The whole experiment (definition, executed requests, outcomes, scores) as JSON text."""
        text = json.dumps(self.data, indent=1, sort_keys=True, ensure_ascii=False)
        if path is not None:
            Path(path).write_text(text + "\n", encoding="utf-8")
        return text

    def __repr__(self) -> str:
        counts: dict[str, int] = {}
        for c in self.cells:
            counts[c["status"]] = counts.get(c["status"], 0) + 1
        status = ", ".join(f"{n} {s}" for s, n in sorted(counts.items()))
        return f"Experiment({self.id}, {self.name!r}, {len(self.cells)} cells: {status})"


def _folder(project) -> Path:
    return Path(project.path) / "experiments"


def _ordered(keys) -> list[str]:
    return list(dict.fromkeys(keys))


def _generate_kwargs(executed: Mapping[str, Any], deployment: str | None) -> dict[str, Any]:
    """``generate()`` keyword arguments that reproduce an executed request exactly."""
    kwargs = {k: v for k, v in executed.items() if k not in ("options", "images", "mask") and v is not None}
    kwargs.update(executed.get("options") or {})
    if deployment:
        kwargs["model"] = deployment  # the same deployment, even if several serve the model
    return kwargs


def list_experiments(project) -> list[dict[str, Any]]:
    """Summaries (id, name, created, cells, rerun_of) of the experiments stored in a project, oldest first."""
    folder = _folder(project)
    found = []
    for path in sorted(folder.glob("*.json")) if folder.exists() else []:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError):
            continue
        found.append({"id": data["id"], "name": data["name"], "created": data["created"],
                      "cells": len(data["cells"]), "rerun_of": data.get("rerun_of")})
    return sorted(found, key=lambda e: (e["created"], e["rerun_of"] is not None))
