"""Suggestions: changes proposed in a fork, reviewed side by side, then merged or rejected by the owner.

Anyone who can open a project can fork it and owns the fork, so a viewer or a commenter proposes edits
there. The fork shares the project's history and its log starts with the state it was forked from, so a
review compares three states (fork point, fork, project) and a merge takes only the fork's own edits,
field by field, keeping what changed in the project meanwhile. The fork's identity (id, name, roles)
never travels back.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
from pycrdt import Doc

from ..errors import InvalidArgumentError
from .document import doc_to_data, now_iso
from .merge import merge_data

if TYPE_CHECKING:
    from .project import Project

_IDENTITY = ("id", "name", "forked_from", "owners", "suggestion", "created")


def suggest(project: Project, name: str | None = None) -> Project:
    """Fork ``project`` to propose changes in it; returns the fork (owned by you)."""
    import re

    user = re.sub(r"[^\w.-]+", "-", project._store.user or "someone").strip("-.") or "someone"
    return project.fork(name or f"{project.name} - suggestion by {user}"[:100])


def _fork_point(fork: Project) -> dict[str, Any]:
    """The project as it was when ``fork`` was made: the first keyframe of the fork's log."""
    keyframes = fork.log.rows(kinds=("keyframe",))
    if not keyframes or fork.meta.get("forked_from") is None:
        raise InvalidArgumentError(f"project {fork.name!r} is not a fork (or its log lost the fork point); "
                                   "nothing to review")
    doc = Doc()
    doc.apply_update(keyframes[0].data)
    return doc_to_data(doc)


def _as_change_to(project: Project, data: dict[str, Any]) -> dict[str, Any]:
    """``data`` with the project's identity, roles and checkpoints: what a merge may change."""
    current = project.to_data()
    meta = {k: v for k, v in data["meta"].items() if k not in _IDENTITY}
    meta.update({k: current["meta"][k] for k in _IDENTITY if k in current["meta"]})
    return {**data, "meta": meta, "roles": current["roles"], "checkpoints": current["checkpoints"]}


@dataclass
class Review:
    """What a fork changes, with the two renders side by side (shown as a picture in a notebook)."""

    fork: str
    changes: dict[str, Any]
    pending: bool  # whether merging now would still change the project
    status: str | None  # "merged", "rejected", or None while open
    before: np.ndarray = field(repr=False)
    after: np.ndarray = field(repr=False)

    @property
    def empty(self) -> bool:
        c = self.changes
        return not (c["layers_added"] or c["layers_removed"] or c["layers_changed"] or c["layers_reordered"]
                    or c["meta_changed"] or c["comments_added"] or c["generations_added"])

    def side_by_side(self) -> np.ndarray:
        """The project (left) and the suggestion (right) on one RGBA image, with a gap between."""
        height = max(self.before.shape[0], self.after.shape[0])
        gap = np.zeros((height, 16, 4), np.uint8)

        def pad(image: np.ndarray) -> np.ndarray:
            return np.pad(image, ((0, height - image.shape[0]), (0, 0), (0, 0)))

        return np.concatenate([pad(self.before), gap, pad(self.after)], axis=1)

    def _repr_png_(self) -> bytes:
        from ..imaging.codec import encode_image

        return encode_image(self.side_by_side(), "png")


def review(project: Project, fork: Project) -> Review:
    """Compare ``fork`` with ``project``: what the fork changed since it was made, and both renders."""
    from .versions import diff_snapshots, snapshot_of

    if (fork.meta.get("forked_from") or {}).get("id") != project.id:
        raise InvalidArgumentError(f"{fork.name!r} was not forked from {project.name!r}")
    base = _as_change_to(project, _fork_point(fork))
    proposed = _as_change_to(project, fork.to_data())
    changes = diff_snapshots(snapshot_of(base), snapshot_of(proposed), "fork point", fork.name)
    scratch = Doc()
    scratch.apply_update(project.doc.get_update())
    pending = merge_data(scratch, proposed, base=base, origin="review")
    status = (fork.meta.get("suggestion") or {}).get("status")
    return Review(fork.name, changes, pending, status, project.render(), fork.render())


def merge(project: Project, fork: Project) -> Review:
    """Take the fork's edits into ``project`` as one change (needs the editor or owner role there).

    Assets the fork added are copied first. Edits made to ``project`` since the fork keep their place:
    only what the fork changed is written. The fork is marked merged.
    """
    outcome = review(project, fork)
    for info in fork.assets.list():
        if info.hash not in project._asset_hashes():
            project.assets.add(fork.assets.read(info.hash), tags=info.tags, source=info.source, decode=False)
    base = _as_change_to(project, _fork_point(fork))
    proposed = _as_change_to(project, fork.to_data())
    roots = {root for root in proposed if proposed[root] != base.get(root)}
    if roots:
        with project._change(*roots):
            merge_data(project.doc, proposed, base=base, origin="local")
    _mark(fork, "merged", project)
    return outcome


def reject(project: Project, fork: Project, *, reason: str | None = None) -> None:
    """Mark the suggestion rejected (it stays as it is, for its author)."""
    if (fork.meta.get("forked_from") or {}).get("id") != project.id:
        raise InvalidArgumentError(f"{fork.name!r} was not forked from {project.name!r}")
    _mark(fork, "rejected", project, reason)


def _mark(fork: Project, status: str, project: Project, reason: str | None = None) -> None:
    record = {"status": status, "by": project._store.user, "at": now_iso(), "reason": reason}
    with fork._change("meta"):
        fork._meta["suggestion"] = record
