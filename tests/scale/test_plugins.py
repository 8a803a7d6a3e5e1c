"""Provider plug-ins: a sample package built and installed (into a folder of its own), found by entry point."""

from __future__ import annotations

import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

SAMPLE = Path(__file__).parent / "sample_provider_plugin"


def install(source: Path, tmp_path: Path) -> Path:
    """Build and install ``source`` with pip into a target folder (never into the shared environment)."""
    work, site = tmp_path / "build" / source.name, tmp_path / "site"
    shutil.copytree(source, work)  # the build writes beside its sources: keep the repository clean
    done = subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "--no-build-isolation", "--no-index",
                           "--quiet", "--target", str(site), str(work)], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    return site


def run_with(site: Path, code: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True,
                          timeout=120, env={"PYTHONPATH": str(site), "PATH": "/usr/bin:/bin"},
                          cwd=Path(__file__).parents[2])


@pytest.mark.slow
def test_an_installed_plugin_is_found_with_its_capability_table_and_generates(tmp_path):
    site = install(SAMPLE, tmp_path)
    done = run_with(site, """
        from imagestudio_nb.plugins import provider_plugins, plugin_for_model
        from imagestudio_nb.providers.base import ImageRequest, validate_request
        from imagestudio_nb.imaging.codec import decode_image
        plugin = provider_plugins()["sample_solid"]
        assert plugin.distribution == "imagestudio-sample-provider", plugin.distribution
        assert plugin_for_model("solid-1") is plugin and plugin_for_model("gpt-image-1") is None
        caps = plugin.capabilities["solid-1"]
        request = ImageRequest(prompt="a red fox", model="solid-1", size="64x64", n=2, seed=3)
        validate_request(request, caps)
        result = plugin.create_provider(None, None, None).generate(request)
        pixels = decode_image(result.images[0].data)
        assert pixels.shape == (64, 64, 3) and len(result.images) == 2 and (pixels == pixels[0, 0]).all()
        print("ok")
    """)
    assert done.returncode == 0 and done.stdout.strip() == "ok", done.stderr


@pytest.mark.slow
def test_a_plugin_without_the_protocol_is_reported_by_name(tmp_path):
    broken = tmp_path / "broken_src"
    shutil.copytree(SAMPLE, broken)
    (broken / "imagestudio_sample_provider" / "__init__.py").write_text("CAPABILITIES = {}\n")
    site = install(broken, tmp_path)
    done = run_with(site, """
        from imagestudio_nb.errors import ConfigError
        from imagestudio_nb.plugins import provider_plugins
        try:
            provider_plugins()
        except ConfigError as exc:
            print(exc)
    """)
    assert "provider plug-in 'sample_solid'" in done.stdout and "create_provider" in done.stdout, done.stderr
