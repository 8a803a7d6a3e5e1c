"""Texture sets: seamlessness measured across the wrap edges, normal maps against a known slope, the exported
PBR set read back."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image
from skimage import data

from imagestudio_nb import Project
from imagestudio_nb.errors import InvalidArgumentError
from imagestudio_nb.imaging.tiling import (height_map, make_seamless, normal_map, seam_visibility, texture_set,
                                           tile_preview)
from imagestudio_nb.textures import export_texture_set


@pytest.mark.parametrize("photo", ["rocket", "coffee", "chelsea"])
def test_made_seamless_tiles_have_no_visible_seam(photo):
    image = getattr(data, photo)()[:256, :256]
    before, after = seam_visibility(image), seam_visibility(make_seamless(image))
    assert before > 3 * after and after < 3
    # in the 3x3 preview the tile boundary is no harsher than the tile's own edges were measured to be
    preview = tile_preview(make_seamless(image)).astype(int)
    boundary = np.abs(preview[:, 255] - preview[:, 256]).mean()
    assert boundary < np.abs(np.diff(preview[:, :256], axis=1)).mean() * 3


def test_the_middle_of_the_tile_is_untouched_with_a_narrow_blend():
    image = data.astronaut()[:256, :256]
    tile = make_seamless(image, blend=0.2)
    assert np.array_equal(tile[110:146, 110:146], image[110:146, 110:146])
    with pytest.raises(InvalidArgumentError):
        make_seamless(image, blend=0.7)


def test_normal_map_of_a_slope_leans_the_right_way_and_a_flat_height_points_up():
    slope = np.tile(np.linspace(0, 1, 64, dtype=np.float32), (64, 1))  # rising to the right
    normals = normal_map(slope, strength=8).astype(int)
    inner = normals[10:-10, 10:-10]
    assert (inner[..., 0] < 128).all() and (np.abs(inner[..., 1] - 128) <= 1).all() and (inner[..., 2] < 255).all()
    rising_down = normal_map(slope.T.copy(), strength=8).astype(int)[10:-10, 10:-10]
    assert (rising_down[..., 1] > 128).all()  # OpenGL (green = up): a surface rising towards the bottom faces up
    assert (normal_map(np.full((8, 8), 0.3, np.float32)) == [128, 128, 255]).all()


def test_height_follows_brightness():
    picture = np.zeros((32, 32, 3), np.uint8)
    picture[8:24, 8:24] = 255
    h = height_map(picture, smooth=0)
    assert h[16, 16] == 1.0 and h[0, 0] == 0.0


def test_exported_set_reads_back_and_tiles(tmp_path):
    project = Project.create("textures", workspace=tmp_path)
    paths = export_texture_set(data.rocket()[:128, :128], tmp_path / "out", name="rock", project=project)
    height = np.asarray(Image.open(paths["height"]))
    assert height.dtype == np.uint16 and height.shape == (128, 128) and height.max() == 65535
    normal = np.asarray(Image.open(paths["normal"]))
    assert normal.shape == (128, 128, 3) and seam_visibility(normal) < 3
    assert Image.open(paths["preview"]).size == (384, 384)
    assert len(project.assets.list(tag="texture:rock")) == 4
    maps = texture_set(data.rocket()[:128, :128], seamless=False)
    assert seam_visibility(maps.albedo) > 3  # without the blend the photo keeps its seam
