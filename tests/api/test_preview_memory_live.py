"""Memory of a web process under parallel first views of large photos' previews (issue 12, §5).

Eight 49-megapixel PNGs (7000 x 7000, made here, each distinct) are uploaded to the app served
by gunicorn as in production (gthread), one worker process with eight threads; then their
eight previews are asked for at once, each the photo's first view, so each request decodes
its photo. The worker's peak resident memory (VmHWM) is read from /proc, outside the process.

The bound (docs/evidence.md, "Memory under parallel previews"): at most
EVIDENCE_MAX_PARALLEL_DECODES full decodes at once per process, each taking 4 bytes per pixel
(Pillow keeps RGB as 32-bit pixels) plus a little working memory; so the peak may grow by
``slots x (4 x pixels x 1.15) + 64 MB`` over the worker's resident memory before the views
(493 MiB, about 518 MB, with the defaults) and not by eight decodes (about 1.6 GB). After the views the worker
gives the freed image memory back (malloc_trim): its resident memory ends within 100 MB of
where it started.
"""

from __future__ import annotations

import io
import platform
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests
from PIL import Image, ImageDraw

from api.config import SETTINGS
from stress.served import drop_database, gunicorn
from stress.world import build
from tests.conftest import fresh_database_url

SIDE = 7000  # 49 MP, under the default EVIDENCE_MAX_PIXELS (50 MP)
PHOTOS = 8
SLOTS = SETTINGS["EVIDENCE_MAX_PARALLEL_DECODES"][0]
MB = 1 << 20
#: One full decode: Pillow holds RGB in 4 bytes a pixel; 15 % for the decoder and the render.
DECODE_BYTES = int(4 * SIDE * SIDE * 1.15)
PEAK_GROWTH_BOUND = SLOTS * DECODE_BYTES + 64 * MB
RETURNED_WITHIN = 100 * MB

pytestmark = pytest.mark.skipif(platform.system() != "Linux", reason="reads /proc/<pid>/status")


@pytest.fixture(scope="module")
def large_pngs(tmp_path_factory) -> list[Path]:
    """Eight distinct 49 MP PNGs of about 0.7 MB each (gradients compress well)."""
    folder = tmp_path_factory.mktemp("large-pngs")
    base = Image.linear_gradient("L").resize((SIDE, SIDE))
    image = Image.merge("RGB", (base, base.transpose(Image.Transpose.ROTATE_90),
                                base.transpose(Image.Transpose.FLIP_TOP_BOTTOM)))
    del base
    paths = []
    for i in range(PHOTOS):
        ImageDraw.Draw(image).rectangle((i * 100, i * 100, i * 100 + 500, i * 100 + 500),
                                        fill=(i * 30 % 256, 255 - i * 20, 90))
        paths.append(folder / f"large-{i}.png")
        image.save(paths[-1], compress_level=1)
    return paths


def _status(pid: int) -> dict[str, int]:
    """VmRSS and VmHWM of a process, in bytes."""
    found = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, value = line.partition(":")
        if name in ("VmRSS", "VmHWM"):
            found[name] = int(value.split()[0]) * 1024
    return found


def _worker_pid(master_pid: int) -> int:
    children = Path(f"/proc/{master_pid}/task/{master_pid}/children").read_text().split()
    assert len(children) == 1, children
    return int(children[0])


def test_eight_parallel_first_views_of_49_megapixel_previews_stay_under_the_memory_bound(
        backend, tmp_path, large_pngs):
    url = fresh_database_url(backend, tmp_path, "_previewmem")
    evidence = str(tmp_path / "evidence")
    world = build(url, evidence)
    try:
        with gunicorn(url, evidence, tmp_path, workers=1, threads=PHOTOS) as served:
            shas = []
            for path in large_pngs:
                resp = requests.post(served.base_url + "/api/v1/evidence", headers=world.monitor_headers, timeout=60,
                                     data={"record_id": str(uuid.uuid4()), "kind": "photo"},
                                     files={"file": (path.name, path.read_bytes(), "image/png")})
                assert resp.status_code == 201, resp.text
                shas.append(resp.json()["sha256"])
            pid = _worker_pid(served.master.pid)
            before = _status(pid)

            def preview(sha: str) -> requests.Response:
                return requests.get(f"{served.base_url}/api/v1/evidence/{sha}/preview",
                                    headers=world.monitor_headers, timeout=120)

            with ThreadPoolExecutor(max_workers=PHOTOS) as pool:
                answers = list(pool.map(preview, shas))
            after = _status(pid)
            errors = served.server_errors()
    finally:
        world.close()
        drop_database(url)

    assert [a.status_code for a in answers] == [200] * PHOTOS, [a.text[:200] for a in answers if a.status_code != 200]
    assert all(Image.open(io.BytesIO(a.content)).size == (1280, 1280) for a in answers)
    assert errors == []
    growth = after["VmHWM"] - before["VmRSS"]
    figures = (f"resident before {before['VmRSS'] // MB} MB, peak {after['VmHWM'] // MB} MB, "
               f"after {after['VmRSS'] // MB} MB; bound on the growth {PEAK_GROWTH_BOUND // MB} MB "
               f"({SLOTS} decodes of {DECODE_BYTES // MB} MB + 64 MB)")
    print(figures)
    assert growth <= PEAK_GROWTH_BOUND, figures
    assert after["VmRSS"] - before["VmRSS"] <= RETURNED_WITHIN, figures
