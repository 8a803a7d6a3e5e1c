"""The content-addressed asset store: formats, limits, integrity, thumbnails, tags, search and clean-up."""

from __future__ import annotations

import hashlib
import io
import struct
import time
import zlib

import numpy as np
import pytest
from PIL import Image

from imagestudio_nb.errors import AssetNotFoundError, DataError, ImageDecodeError
from imagestudio_nb.imaging.codec import decode_image, encode_image
from imagestudio_nb.project import Project


def _png_claiming(width: int, height: int) -> bytes:
    """A tiny PNG whose header claims a huge size: a decompression bomb's calling card."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\x00" * 64))
            + chunk(b"IEND", b""))


@pytest.fixture
def project(workspace):
    return Project.create("Assets")


def _image(seed: int = 0, size=(32, 48)) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 255, (*size, 3), dtype=np.uint8)


@pytest.mark.parametrize("fmt", ["png", "jpeg", "webp"])
def test_each_format_is_stored_under_its_sha256(project, fmt):
    data = encode_image(_image(), fmt)
    info = project.assets.add(data)
    assert info.hash == hashlib.sha256(data).hexdigest()
    assert project.assets.path(info.hash).read_bytes() == data
    assert (info.width, info.height) == (48, 32)
    assert project.assets.read(info.hash) == data


def test_same_bytes_are_stored_once_and_tags_merge(project):
    data = encode_image(_image(), "png")
    first = project.assets.add(data, tags=["sky"])
    second = project.assets.add(data, tags=["blue"])
    assert first.hash == second.hash
    assert len(list(project.assets.folder.iterdir())) == 1
    assert Project.open("Assets").assets.info(first.hash[:10]).tags == ["blue", "sky"]


def test_arrays_and_pil_images_are_encoded_as_png(project):
    info = project.assets.add(_image(1))
    pil_info = project.assets.add(Image.fromarray(_image(2)))
    assert info.mime == pil_info.mime == "image/png"
    np.testing.assert_array_equal(project.assets.read_array(info.hash, mode="RGB"), _image(1))


def test_a_decompression_bomb_is_refused_quickly(project):
    started = time.perf_counter()
    with pytest.raises(ImageDecodeError, match="over the limit|too large"):
        project.assets.add(_png_claiming(100_000, 100_000))
    assert time.perf_counter() - started < 5  # refused from the header, not after inflating
    assert list(project.assets.folder.iterdir()) == []


def test_the_pixel_limit_is_configurable(project):
    with pytest.raises(ImageDecodeError, match="pixels, over the limit of 100"):
        decode_image(encode_image(_image(), "png"), max_pixels=100)


@pytest.mark.parametrize("payload", [b"not an image at all", b"\x89PNG\r\n\x1a\n" + b"\x00" * 40,
                                     encode_image(np.zeros((64, 64, 3), np.uint8), "jpeg")[:200],
                                     b"GIF89a" + b"\x00" * 30])
def test_corrupt_or_unsupported_images_get_a_clear_error(project, payload):
    with pytest.raises(ImageDecodeError):
        project.assets.add(payload)


def test_a_tampered_file_is_detected_on_read(project):
    info = project.assets.add(_image())
    project.assets.path(info.hash).write_bytes(encode_image(_image(9), "png"))
    with pytest.raises(DataError, match="corrupt"):
        project.assets.read(info.hash)


def test_thumbnails_are_small_cached_pngs(project):
    info = project.assets.add(_image(size=(600, 900)))
    data = project.assets.thumbnail(info.hash, 128)
    thumb = Image.open(io.BytesIO(data))
    assert thumb.format == "PNG" and max(thumb.size) == 128 and thumb.size == (128, 85)
    assert (project.path / "cache" / "thumbs" / f"{info.hash}_128.png").read_bytes() == data


def test_unknown_or_ambiguous_references(project):
    with pytest.raises(AssetNotFoundError, match="assets list"):
        project.assets.info("deadbeef")


def test_search_finds_prompts_models_and_tags(project):
    from imagestudio_nb import generate

    generate("a lighthouse in a storm", project=project, size="256x256", seed=1)
    generate("portrait of a cat", project=project, size="256x256", seed=2)
    info = project.assets.list()[0]
    project.assets.tag(info.hash, "seascape")
    assert {r["kind"] for r in project.search("lighth")} == {"generation", "prompt"}
    assert [r["ref"] for r in project.search("seascape")] == [info.hash]
    assert project.search("cat portrait", kind="prompt")[0]["ref"] == "portrait of a cat"
    assert project.search("zebra") == []
    assert project.index.prompts()[0]["uses"] == 1


def test_clean_removes_only_unreferenced_assets(project):
    from imagestudio_nb import generate

    generated = generate("kept by its generation", project=project, size="256x256", seed=3)[0].asset
    on_layer = project.assets.add(_image(4)).hash
    in_checkpoint = project.assets.add(_image(5)).hash
    orphan = project.assets.add(_image(6)).hash
    project.add_layer("image", asset=on_layer)
    temporary = project.add_layer("image", asset=in_checkpoint)
    project.checkpoint("with-it")
    project.remove_layer(temporary)

    planned = project.clean_assets(dry_run=True)
    assert [a["hash"] for a in planned] == [orphan]
    assert project.assets.path(orphan).exists()
    project.clean_assets(dry_run=False)
    reopened = Project.open("Assets")
    assert {a.hash for a in reopened.assets.list()} == {generated, on_layer, in_checkpoint}
    assert not (project.assets.folder / f"{orphan}.png").exists()
