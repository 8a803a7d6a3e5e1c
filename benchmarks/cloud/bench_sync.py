"""Cloud sync benchmark: a full push of a 200-asset project (1 MB each), then an incremental sync.

Run: ``.venv/bin/python benchmarks/cloud/bench_sync.py [--assets 200] [--repeats 5] [--concurrency 8]``

Against a local Azurite (started here), in the same run:

- full push: ``imagestudio_nb.cloud.push`` of the project into an empty container, beside the raw SDK
  (``ContainerClient.upload_blob`` of the same files, same concurrency, a thread pool) into another
  empty container. Target: push time <= 1.3x the raw SDK.
- incremental sync: one layer's asset replaced by a new 1 MB image, then ``push``. Target: it sends only
  that asset and the document (bytes sent counted on the wire by the SDK's request hook), beside the raw
  SDK uploading that one file.
- push with nothing new: the check of the remote against the sync record (one listing of the project's
  folder, metadata included), beside the raw SDK's single HEAD of the document (the cheapest check
  there is, which sees neither lost assets nor a lost Y state) and its listing of the same folder.

Figures are medians over repeats; the order of ours and raw alternates between repeats, and the median
of each repeat's own ratio is printed too (it is steadier when the machine is shared and busy).
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from imagestudio_nb.cloud import connect, push, start_azurite  # noqa: E402
from imagestudio_nb.project import Project  # noqa: E402

MB = 1024 * 1024


def noise_image(seed: int) -> np.ndarray:
    # Noise does not compress: 592x592 RGB encodes to a PNG of about 1.0 MiB.
    return np.random.default_rng(seed).integers(0, 256, (592, 592, 3), dtype=np.uint8)


def build_project(workspace: Path, count: int) -> Project:
    project = Project.create("Bench", workspace=workspace, owner="bench")
    with project.batch():
        for index in range(count):
            info = project.assets.add(noise_image(index))
            project.add_layer("image", asset=info.hash, name=f"Layer {index}")
    return project


def raw_upload(connection_string: str, container: str, files: list[Path], concurrency: int) -> tuple[float, int]:
    """The reference: the plain SDK uploading the same files with the same concurrency."""
    from azure.storage.blob import BlobServiceClient

    service = BlobServiceClient.from_connection_string(connection_string)
    client = service.get_container_client(container)
    client.create_container()

    def upload(path: Path) -> int:
        data = path.read_bytes()
        client.upload_blob(f"raw/{path.name}", data)
        return len(data)

    started = time.perf_counter()
    with ThreadPoolExecutor(concurrency) as pool:
        sent = sum(pool.map(upload, files))
    return time.perf_counter() - started, sent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--assets", type=int, default=200)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--concurrency", type=int, default=8)
    args = parser.parse_args()

    root = Path(tempfile.mkdtemp(prefix="bench-sync-"))
    server = start_azurite(root / "azurite")
    try:
        started = time.perf_counter()
        project = build_project(root / "workspace", args.assets)
        files = sorted(project.assets.folder.iterdir())
        total = sum(f.stat().st_size for f in files)
        print(f"project: {len(files)} assets, {total / MB:.1f} MiB (built in {time.perf_counter() - started:.1f} s); "
              f"Azurite at 127.0.0.1:{server.port}; concurrency {args.concurrency}")

        full_ours, full_raw, full_sent, full_raw_bytes = [], [], [], []
        inc_ours, inc_raw, inc_sent, inc_assets, inc_expected = [], [], [], [], []
        for repeat in range(args.repeats):
            files = sorted(project.assets.folder.iterdir())  # each repeat adds one asset
            workspace = connect(connection_string=server.connection_string, container=f"ours-{repeat}",
                                concurrency=args.concurrency)
            (project.path / "cache" / "cloud.json").unlink(missing_ok=True)

            def ours() -> None:
                result = push(project, workspace, progress=False)
                assert result.uploaded_assets == len(files) and result.document_uploaded, result
                full_ours.append(result.seconds)
                full_sent.append(result.bytes_sent)

            def raw() -> None:
                seconds, sent = raw_upload(server.connection_string, f"raw-{repeat}", files, args.concurrency)
                full_raw.append(seconds)
                full_raw_bytes.append(sent)

            for step in ((ours, raw) if repeat % 2 == 0 else (raw, ours)):
                step()

            # Incremental: replace one layer's asset with a new 1 MB image, then push.
            layer = project.layers()[repeat % len(project.layers())]["id"]
            info = project.assets.add(noise_image(10_000 + repeat))
            project.update_layer(layer, asset=info.hash)
            result = push(project, workspace, progress=False)
            document = len((project.path / "project.isproj").read_bytes()) + len(project.doc.get_update())
            inc_ours.append(result.seconds)
            inc_sent.append(result.bytes_sent)
            inc_assets.append(result.uploaded_assets)
            inc_expected.append(info.bytes + document)
            seconds, _ = raw_upload(server.connection_string, f"inc-raw-{repeat}", [project.assets.path(info.hash)],
                                    args.concurrency)
            inc_raw.append(seconds)

        # Push with nothing new: what the remote check costs.
        import os

        from azure.storage.blob import BlobServiceClient

        from imagestudio_nb.cloud.layout import ProjectLayout

        layout = ProjectLayout(workspace.prefix, project.id)
        raw_container = BlobServiceClient.from_connection_string(server.connection_string).get_container_client(
            workspace.container_name)
        noop_ours, noop_head, noop_list, noop_requests = [], [], [], []
        for _ in range(max(5, args.repeats * 4)):
            result = push(project, workspace, progress=False)
            assert not result.document_uploaded and result.uploaded_assets == 0, result
            noop_ours.append(result.seconds)
            noop_requests.append(result.requests)
            started = time.perf_counter()
            raw_container.get_blob_client(layout.document).get_blob_properties()
            noop_head.append(time.perf_counter() - started)
            started = time.perf_counter()
            list(raw_container.list_blobs(name_starts_with=layout.root, include=["metadata"]))
            noop_list.append(time.perf_counter() - started)

        med = statistics.median
        print()
        print(f"{'':34}{'ours':>12}{'raw SDK':>12}{'ratio':>9}")
        print(f"{'full push, seconds (median)':34}{med(full_ours):12.3f}{med(full_raw):12.3f}"
              f"{med(full_ours) / med(full_raw):9.2f}   target <= 1.30")
        paired = med([o / r for o, r in zip(full_ours, full_raw)])
        print(f"{'full push, paired ratio (median)':34}{'':24}{paired:9.2f}   (each repeat's ours/raw)")
        print(f"{'full push, MiB/s':34}{total / MB / med(full_ours):12.1f}{total / MB / med(full_raw):12.1f}")
        print(f"{'full push, MiB sent':34}{med(full_sent) / MB:12.2f}{med(full_raw_bytes) / MB:12.2f}"
              f"{med(full_sent) / med(full_raw_bytes):9.3f}")
        print(f"{'incremental, seconds (median)':34}{med(inc_ours):12.3f}{med(inc_raw):12.3f}"
              f"{med(inc_ours) / med(inc_raw):9.2f}   (raw: the one new file only)")
        print(f"{'incremental, bytes sent (median)':34}{med(inc_sent):12,.0f}{med(inc_expected):12,.0f}"
              f"{med(inc_sent) / med(inc_expected):9.3f}   (ref: new asset + JSON + Y state)")
        print(f"incremental assets uploaded per sync: {sorted(set(inc_assets))} (target: [1])")
        print(f"{'nothing new: push, seconds':34}{med(noop_ours):12.4f}{med(noop_head):12.4f}"
              f"{med(noop_ours) / med(noop_head):9.2f}   (raw: one HEAD of the document)")
        print(f"{'nothing new: raw listing, seconds':34}{'':12}{med(noop_list):12.4f}"
              f"{med(noop_ours) / med(noop_list):9.2f}   (raw: the same listing alone)")
        print(f"nothing new: requests per push {sorted(set(noop_requests))} (target: [1])")
        print(f"load average (1, 5, 15 min): {', '.join(f'{x:.1f}' for x in os.getloadavg())}")
        print(f"repeats: {args.repeats}; full push runs (s): ours {[round(x, 2) for x in full_ours]}, "
              f"raw {[round(x, 2) for x in full_raw]}")
    finally:
        server.close()
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
