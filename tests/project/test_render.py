"""Project.render() is the reference renderer; filtered layers are cached as derived assets."""

from __future__ import annotations

import numpy as np

from imagestudio_nb.imaging.chains import apply_chain, chain_hash
from imagestudio_nb.project import Project


def test_render_applies_layer_filters_and_caches_the_result(workspace):
    project = Project.create("Render", width=64, height=48)
    pixels = np.zeros((48, 64, 4), np.uint8)
    pixels[..., 0] = 200
    pixels[..., 3] = 255
    digest = project.assets.add(pixels).hash
    chain = [{"filter": "brightness", "params": {"amount": 0.2}}]
    project.add_layer("image", asset=digest, filters=chain)

    rendered = project.render()
    np.testing.assert_array_equal(rendered, apply_chain(pixels, chain))
    derived = project.path / "cache" / "derived" / f"{digest}_{chain_hash(chain)}.png"
    assert derived.is_file()
    assert np.array_equal(Project.open("Render").render(), rendered)  # second render reads the cache
