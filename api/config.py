"""Configuration: every default in one place, each overridden by an environment variable of the same name."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Mapping

#: The project folder: ``var/`` (database, evidence) lives beside the code by default.
ROOT = Path(__file__).resolve().parent.parent

#: name → (default, type, what it is). The README's configuration table is this table.
SETTINGS: dict[str, tuple[Any, type, str]] = {
    "DATABASE_URL": (f"sqlite:///{ROOT / 'var' / 'fieldwatch.db'}", str,
                     "SQLAlchemy URL; sqlite:/// (SpatiaLite) or postgresql:// (PostGIS)"),
    "DATABASE_CONNECT_TIMEOUT_S": (5, int, "seconds a new PostgreSQL connection may take before the request "
                                           "answers 503"),
    "SECRET_KEY": ("", str, "signs short-lived URLs; set it in production (random if empty)"),
    "TOKEN_TTL_DAYS": (30, int, "lifetime of a device's bearer token"),
    "LOGIN_LIMIT_PER_ACCOUNT": ("5 per minute;20 per hour", str, "failed-login rate limit per username"),
    "LOGIN_LIMIT_PER_ADDRESS": ("20 per minute;100 per hour", str, "failed-login rate limit per client address"),
    "RATELIMIT_STORAGE_URI": ("memory://", str, "flask-limiter storage; redis://host:6379 when running several workers"),
    "TRUSTED_PROXIES": (0, int, "how many reverse proxies set X-Forwarded-For in front of the app"),
    "MAX_JSON_BYTES": (1_048_576, int, "largest JSON request body"),
    "BATCH_MAX_ITEMS": (500, int, "most records one POST /api/v1/batches may carry (422 beyond)"),
    "BATCH_MAX_BYTES": (16 * 1_048_576, int, "largest body of POST /api/v1/batches (413 beyond)"),
    "MAX_JSON_DEPTH": (32, int, "deepest nesting of arrays and objects in a JSON request body (400 beyond, "
                                "checked before the body is parsed)"),
    "MAX_CLOCK_SKEW_S": (600, int, "a phone clock further off than this (seconds) flags its records"),
    "FAR_FROM_TARGET_M": (300.0, float, "a check-in flags far_from_target when its distance to the enterprise, "
                                        "less the fix's accuracy, exceeds this (metres)"),
    "EVIDENCE_STORAGE": ("local", str, "where originals go: local or s3"),
    "EVIDENCE_DIR": (str(ROOT / "var" / "evidence"), str, "root folder of the local evidence store"),
    "S3_ENDPOINT_URL": ("", str, "S3-compatible endpoint (SeaweedFS, MinIO, AWS)"),
    "S3_BUCKET": ("fieldwatch-evidence", str, "bucket for originals and derivatives"),
    "S3_ACCESS_KEY": ("", str, "S3 access key"),
    "S3_SECRET_KEY": ("", str, "S3 secret key"),
    "S3_REGION": ("us-east-1", str, "S3 region"),
    "S3_CONNECT_TIMEOUT_S": (3.0, float, "seconds to connect to the S3 store before a try fails"),
    "S3_READ_TIMEOUT_S": (20.0, float, "seconds the S3 store may stay silent in an answer before a try fails"),
    "S3_MAX_ATTEMPTS": (2, int, "tries of one S3 call (the first included) before the request answers 503"),
    "S3_PREFIX": ("", str, "key prefix inside the bucket (several deployments or test runs sharing one bucket)"),
    "EVIDENCE_MAX_PHOTO_BYTES": (50 * 1024 * 1024, int, "largest photo accepted (tus and multipart), in bytes"),
    "EVIDENCE_MAX_AUDIO_BYTES": (200 * 1024 * 1024, int, "largest audio recording accepted, in bytes"),
    "EVIDENCE_MAX_VIDEO_BYTES": (500 * 1024 * 1024, int, "largest video accepted, in bytes"),
    "EVIDENCE_MAX_PIXELS": (50_000_000, int, "largest photo accepted, in pixels declared by its header "
                                             "(decompression bombs are refused before decoding)"),
    "EVIDENCE_MAX_PARALLEL_DECODES": (2, int, "photos one process decodes at once (first views, the derive "
                                              "worker); each holds 4 bytes a pixel, about 200 MB for 50 MP"),
    "UPLOAD_EXPIRES_HOURS": (72, int, "an unfinished tus upload expires this long after its last chunk"),
    "UPLOAD_MAX_OPEN_PER_USER": (20, int, "unfinished tus uploads one user may have at once (429 beyond)"),
    "UPLOAD_MAX_PENDING_BYTES_PER_USER": (1 << 30, int, "bytes one user's unfinished tus uploads may still "
                                                         "await, in all (429 beyond)"),
    "UPLOAD_MAX_STREAMS_PER_USER": (4, int, "tus uploads of one user receiving bytes at the same moment "
                                            "(429 beyond)"),
    "EVIDENCE_GPS_MAX_DISTANCE_M": (500.0, float, "a photo whose EXIF position lies further than this from its "
                                                  "record's location, beyond both accuracies, is flagged (metres)"),
    "EVIDENCE_TIME_WINDOW_H": (12.0, float, "a photo captured further than this from its record's device time "
                                            "is flagged, unless the record kind has its own window (hours)"),
    "EVIDENCE_SIGNED_URL_SECONDS": (300, int, "lifetime of the signed S3 download URLs given out for evidence"),
    "CUSTODY_SIGNING_KEY": (str(ROOT / "var" / "custody-signing-key.pem"), str,
                            "Ed25519 private key signing custody checkpoints: PEM text, or the path of a PEM file "
                            "(`openssl genpkey -algorithm ed25519`); `fieldwatch seed-demo` makes the default file, "
                            "and without a key `fieldwatch checkpoint` refuses (docs/custody.md)"),
    "CUSTODY_LOG_ORIGIN": ("fieldwatch.local/custody", str,
                           "the custody log's name: first line of every checkpoint and the signing key's name "
                           "(host/path of the deployment; no spaces, no +)"),
    "CUSTODY_CHECKPOINT_DIR": (str(ROOT / "var" / "checkpoints"), str,
                               "where `fieldwatch checkpoint` writes each signed checkpoint as a text file"),
    "SWAGGER_UI_URL": ("", str, "where /docs loads Swagger UI's scripts from; empty: from the app itself "
                                "(/docs/static/, the swagger-ui-bundle-v2 package)"),
    "DEMO_ADMIN_PASSWORD": ("", str, "password of the demo admin made by `make run` (random if empty)"),
    "CONSOLE_SESSION_HOURS": (12, int, "lifetime of a console sign-in (its server-side session row)"),
    "CONSOLE_IDLE_MINUTES": (120, int, "a console session unused this long ends (checked to within 5 minutes)"),
    "ENROLLMENT_MINUTES": (10, int, "an admin's device-enrollment QR code is valid this long (1 to 30 minutes)"),
    "PUBLIC_URL": ("", str, "the server's address phones reach, put in enrollment QR codes (e.g. "
                            "https://fw.example.gov.cn/); empty: the address the admin's browser used"),
    "MAP_TILE_URL": ("", str, "the console map's basemap, a tile URL template ({z}/{x}/{y}, {s}); empty: no basemap, "
                              "the jurisdiction boundaries alone (an offline intranet)"),
    "MAP_TILE_CRS": ("wgs84", str, "the CRS of those tiles: wgs84 (OpenStreetMap, Tianditu) or gcj02 (AMap, Tencent), "
                                   "to which markers are shifted"),
    "MAP_TILE_SUBDOMAINS": ("abc", str, "the values of {s} in MAP_TILE_URL"),
    "MAP_TILE_ATTRIBUTION": ("", str, "the basemap's attribution, shown on the map"),
    "OFFICE_TIME_ZONE": ("Asia/Shanghai", str, "time zone of the dates shown on web pages (the API answers in UTC)"),
    "COMPLAINTS_JURISDICTION": ("", str, "division code of the office that takes the public's complaints when "
                                "they name none (mailbox page, JSON door, Open311)"),
    "PUBLIC_COMPLAINT_LIMIT_PER_ADDRESS": ("5 per minute;30 per day", str,
                                           "complaints the public may file per client address"),
    "PUBLIC_COMPLAINT_LIMIT_PER_CONTACT": ("3 per hour;10 per day", str,
                                           "complaints the public may file per contact (phone or e-mail) given"),
    "PUBLIC_FOLLOW_LIMIT_PER_ADDRESS": ("30 per minute;300 per day", str,
                                        "follow and rate requests per client address (tracking secrets guessed)"),
    "PUBLIC_COMPLAINT_MAX_BYTES": (64 * 1024, int, "largest body of a public complaint without photos"),
    "PUBLIC_COMPLAINT_PHOTO_MAX_BYTES": (10 * 1024 * 1024, int,
                                        "largest photo the public may send with a complaint (at most 3 each)"),
    "PUBLIC_MAP_TILES": ("", str, "tile URL template ({z}/{x}/{y}) of the map on the public complaint page, "
                                  "from the office's own tile server; empty: no map, the address in words only"),
    "PUBLIC_MAP_CENTER": ("106.5516,29.5630", str, "lon,lat the public page's map opens on (WGS-84)"),
}


def _coerce(name: str, raw: str, kind: type):
    if kind is bool:
        return raw.strip().lower() in {"1", "true", "yes", "on"}
    try:
        return kind(raw)
    except ValueError:
        raise SystemExit(f"Configuration: {name}={raw!r} is not a valid {kind.__name__}") from None


def load_config(environ: Mapping[str, str] | None = None, **overrides) -> dict[str, Any]:
    environ = os.environ if environ is None else environ
    config = {}
    for name, (default, kind, _doc) in SETTINGS.items():
        config[name] = _coerce(name, environ[name], kind) if name in environ else default
    config.update(overrides)
    if config["DATABASE_URL"].startswith("postgres://"):
        config["DATABASE_URL"] = "postgresql://" + config["DATABASE_URL"][len("postgres://"):]
    if config["MAP_TILE_CRS"] not in ("wgs84", "gcj02"):
        raise SystemExit(f"Configuration: MAP_TILE_CRS={config['MAP_TILE_CRS']!r} is not wgs84 or gcj02")
    return config
