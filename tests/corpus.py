"""Where the tests, benchmarks and harnesses find the real photo corpus, and what they say without it.

The corpus (about 90 camera and phone files, shared/data/photos) is never copied into the
repository: it is read from ``../shared/data/photos`` beside the checkout, or from wherever
``FIELDWATCH_PHOTOS`` points (a worktree elsewhere, a copy on another disk).
"""

from __future__ import annotations

import os
from pathlib import Path

#: The environment variable that points at the corpus when it is not beside the checkout.
ENV = "FIELDWATCH_PHOTOS"
#: Where it is by default: ``../shared/data/photos`` from the repository's root.
DEFAULT = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "photos"


def photos_dir() -> Path:
    configured = os.environ.get(ENV, "").strip()
    return Path(configured).expanduser().resolve() if configured else DEFAULT.resolve()


PHOTOS = photos_dir()


def missing() -> str | None:
    """Why the corpus cannot be read, naming the path looked at and the variable; None when it can."""
    if (PHOTOS / "MANIFEST.tsv").is_file():
        return None
    where = f"{ENV}={os.environ[ENV]}" if os.environ.get(ENV, "").strip() else "../shared/data/photos"
    return (f"The photo corpus is not at {PHOTOS} (from {where}; no MANIFEST.tsv there). The photo tests, "
            f"benchmarks and harnesses read real photos from it: put shared/data/photos beside the checkout, "
            f"or point {ENV} at a copy, e.g. `{ENV}=/path/to/shared/data/photos make test`.")


def require() -> Path:
    """The corpus folder, or exit with the reason (for the benchmarks and harnesses)."""
    reason = missing()
    if reason:
        raise SystemExit(reason)
    return PHOTOS
