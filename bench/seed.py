"""Bulk seeding for the spatial and list benchmarks: N findings spread over a province.

    python -m bench.seed --size 1000000 [--backend postgis|spatialite|both] [--force]

The schema is built by the migrations (``field.migrate.upgrade``); the small world around the
findings (Chongqing: the province, its city and 20 districts with polygon boundaries, an admin,
two reviewers, a squad and its monitor, one unit per district, the seeded finding categories)
is made through the domain functions, as the app makes it. The findings themselves are
written straight into the tables the app reads (``field_records``, the envelope the review
queue and every spatial query read, and ``findings``), as the app would have written them:

- points as real ones fall: 85 % clustered in towns (six per district, a normal spread of about
  2 km around each), 15 % uniform over the province's box (105.3–110.2 E, 28.2–32.2 N), the sparse
  rural rest; each finding belongs to the district whose polygon holds its point, and is about
  that district's unit;
- one street (``SPARSE_STREET``, under ``SPARSE_DISTRICT``) holds almost nothing: the findings of
  that district whose number is a multiple of 20,000 (two or three at 1M, none at 10k); its
  reviewer (``sparse_reviewer``) is the scope that used to pay for the whole queue;
- ``received_at`` spread evenly over the year before seeding; what arrived in the last 91
  days still waits for review (80 % submitted, 20 % in review: a quarter of all records), the
  rest was decided (85 % accepted, 8 % rejected, 7 % needs information);
- the device time a little before, the time of the event a little before that.

Version rows, custody entries and evidence are not written: neither benchmark reads them.

PostGIS loads with COPY, SpatiaLite with ``executemany`` in one transaction; both drop the
secondary indexes (and SpatiaLite its triggers) around the load, rebuild them, fill the
R*Tree in one statement and ANALYZE. The same seed gives the same findings on both.
A database seeded with the same parameters before is reused (``--force`` seeds it again).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path

import numpy as np
import shapely
from shapely.geometry import Polygon

from .common import DB_PREFIX, OUT_DIR, PG_SERVER, fresh_pg_database

#: Bump when what is seeded changes: older seeded databases are then seeded again.
SEED_VERSION = 3
PROVINCE_BOX = (105.3, 28.2, 110.2, 32.2)
#: Columns × rows of the district grid over the province's box.
GRID = (5, 4)
#: Twenty of Chongqing's districts (GB/T 2260 codes); their polygons here are a jittered grid.
DISTRICTS = [
    ("500101", "万州区"), ("500102", "涪陵区"), ("500103", "渝中区"), ("500104", "大渡口区"), ("500105", "江北区"),
    ("500106", "沙坪坝区"), ("500107", "九龙坡区"), ("500108", "南岸区"), ("500109", "北碚区"), ("500110", "綦江区"),
    ("500111", "大足区"), ("500112", "渝北区"), ("500113", "巴南区"), ("500114", "黔江区"), ("500115", "长寿区"),
    ("500116", "江津区"), ("500117", "合川区"), ("500118", "永川区"), ("500119", "南川区"), ("500120", "璧山区"),
]
#: The district of the district reviewer.
HOME_DISTRICT = "500103"
#: A street whose reviewer's scope holds almost nothing, and its district.
SPARSE_DISTRICT, SPARSE_STREET = "500114", "500114001"
#: Towns per district, the share of findings in towns, and their spread (degrees, ~2 km).
TOWNS, IN_TOWNS, TOWN_SIGMA = 6, 0.85, 0.02
#: Of the sparse district's findings, those numbered a multiple of this are the sparse street's.
SPARSE_ONE_IN = 20_000
PASSWORD = "bench password, not for production"
WAITING_DAYS = 91
SPAN_DAYS = 365


def district_polygons(seed: int = 7) -> list[Polygon]:
    """The grid over the province's box with its inner corners moved at random: a tiling of quadrilaterals."""
    rng = np.random.default_rng(seed)
    cols, rows = GRID
    minx, miny, maxx, maxy = PROVINCE_BOX
    dx, dy = (maxx - minx) / cols, (maxy - miny) / rows
    xs = np.array([[minx + i * dx for i in range(cols + 1)] for _ in range(rows + 1)])
    ys = np.array([[miny + j * dy for _ in range(cols + 1)] for j in range(rows + 1)])
    inner = (slice(1, rows), slice(1, cols))
    xs[inner] += rng.uniform(-0.3, 0.3, xs[inner].shape) * dx
    ys[inner] += rng.uniform(-0.3, 0.3, ys[inner].shape) * dy
    polygons = []
    for j in range(rows):
        for i in range(cols):
            corners = [(xs[j, i], ys[j, i]), (xs[j, i + 1], ys[j, i + 1]), (xs[j + 1, i + 1], ys[j + 1, i + 1]),
                       (xs[j + 1, i], ys[j + 1, i])]
            polygons.append(Polygon([(float(x), float(y)) for x, y in corners]))
    return polygons


@dataclass
class Seeded:
    """A seeded database and what a benchmark needs to query it."""

    backend: str                  # "postgis" or "spatialite"
    url: str
    size: int
    seconds: float                # how long the seeding took (0 when reused)
    reused: bool
    districts: dict = field(default_factory=dict)   # code → {"id", "bounds", "name"}
    users: dict = field(default_factory=dict)       # role name → username

    def app(self, workdir: Path, session_factory=None):
        from api import create_app

        workdir.mkdir(parents=True, exist_ok=True)
        return create_app({"DATABASE_URL": self.url, "SECRET_KEY": "bench", "EVIDENCE_DIR": str(workdir / "evidence")},
                          session_factory=session_factory)

    def headers(self, app, who: str) -> dict:
        """A fresh bearer token for one of the seeded users ("admin", "city_reviewer", "district_reviewer")."""
        from sqlalchemy import select

        from field.accounts import users as accounts
        from field.core.models.platform import User

        with app.extensions["SESSION_FACTORY"]() as s:
            user = s.execute(select(User).where(User.username == self.users[who])).scalar_one()
            token = accounts.issue_token(s, user, "bench", timedelta(hours=2)).token
            s.commit()
        return {"Authorization": f"Bearer {token}"}


# -- the world, through the domain ---------------------------------------------------------------


def _build_world(url: str) -> dict:
    from argon2 import PasswordHasher

    from field.accounts import users as accounts, jurisdictions
    from field.directory import squads, units
    from field.visits import taxonomy
    from field.core.db import make_engine, make_session_factory
    from field.visits.models import FindingCategory
    from field.core.models.platform import JurisdictionLevel, Role, User
    from field.directory.models import UnitKind

    accounts._hasher = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)  # the hashes are not measured
    engine = make_engine(url)
    try:
        with make_session_factory(engine)() as s:
            province = jurisdictions.create_jurisdiction(
                s, actor=None, code="500000", name="重庆市", level=JurisdictionLevel.province,
                boundary=shapely.box(*PROVINCE_BOX))
            city = jurisdictions.create_jurisdiction(
                s, actor=None, code="500100", name="重庆市市辖区", level=JurisdictionLevel.city, parent_id=province.id,
                boundary=shapely.box(*PROVINCE_BOX))
            districts = {}
            for (code, name), polygon in zip(DISTRICTS, district_polygons()):
                d = jurisdictions.create_jurisdiction(s, actor=None, code=code, name=name,
                                                      level=JurisdictionLevel.district, parent_id=city.id,
                                                      boundary=polygon)
                districts[code] = d
            sparse = jurisdictions.create_jurisdiction(s, actor=None, code=SPARSE_STREET, name="正阳街道",
                                                       level=JurisdictionLevel.street,
                                                       parent_id=districts[SPARSE_DISTRICT].id)
            users = {
                "admin": ("bench.admin", Role.admin, province),
                "city_reviewer": ("bench.city.reviewer", Role.reviewer, city),
                "district_reviewer": ("bench.district.reviewer", Role.reviewer, districts[HOME_DISTRICT]),
                "sparse_reviewer": ("bench.sparse.reviewer", Role.reviewer, sparse),
            }
            made = {}
            for key, (username, role, where) in users.items():
                made[key] = accounts.create_user(s, actor=None, username=username, password=PASSWORD,
                                                 display_name=username, role=role, jurisdiction_id=where.id)
            taxonomy.seed_categories(s)
            squad = squads.create_squad(s, made["admin"], name="第一暗访小分队", code_prefix="BEN",
                                        jurisdiction_id=city.id)
            member = squads.enlist(s, made["admin"], squad, real_name="张三", phone="13800000000", password=PASSWORD)
            s.flush()
            unit_of = {}
            for code, d in districts.items():
                unit = units.create_unit(s, None, name=f"{d.name}政务服务中心", kind=UnitKind.department,
                                         jurisdiction_id=d.id)
                unit_of[code] = unit.id
            categories = [(c.id, c.code) for c in s.query(FindingCategory).order_by(FindingCategory.code)
                          .filter(FindingCategory.jurisdiction_id.is_(None))]
            s.commit()
            monitor = s.get(User, member.user_id)
            return {
                "districts": {code: {"id": d.id, "name": d.name, "unit_id": unit_of[code],
                                     "bounds": list(district_polygons()[i].bounds)}
                              for i, (code, d) in enumerate(districts.items())},
                "users": {key: username for key, (username, _, _) in users.items()},
                "monitor_id": monitor.id, "squad_id": squad.id, "categories": categories,
                "sparse_street_id": sparse.id,
            }
    finally:
        engine.dispose()


# -- the findings, generated in bulk -------------------------------------------------------------


def _uuids(rng: np.random.Generator, n: int) -> list[uuid.UUID]:
    raw = rng.bytes(16 * n)
    return [uuid.UUID(bytes=raw[i:i + 16], version=4) for i in range(0, 16 * n, 16)]


def generate(n: int, world: dict, *, seed: int = 20260601, anchor: datetime) -> dict:
    """Column → list of Python values for ``field_records`` and ``findings`` (values, not SQL)."""
    rng = np.random.default_rng(seed)
    minx, miny, maxx, maxy = PROVINCE_BOX
    lon = rng.uniform(minx, maxx, n)
    lat = rng.uniform(miny, maxy, n)
    polygons = district_polygons()
    towns = []
    for polygon in polygons:  # town centres inside each district
        bx0, by0, bx1, by1 = polygon.bounds
        made = 0
        while made < TOWNS:
            x, y = rng.uniform(bx0, bx1), rng.uniform(by0, by1)
            if shapely.contains_xy(polygon, x, y):
                towns.append((x, y))
                made += 1
    in_town = rng.uniform(0, 1, n) < IN_TOWNS
    town = rng.integers(0, len(towns), n)
    centres = np.array(towns)[town]
    lon = np.where(in_town, np.clip(centres[:, 0] + rng.normal(0, TOWN_SIGMA, n), minx, maxx), lon)
    lat = np.where(in_town, np.clip(centres[:, 1] + rng.normal(0, TOWN_SIGMA, n), miny, maxy), lat)
    which = np.full(n, -1)
    for i, polygon in enumerate(district_polygons()):
        inside = shapely.contains_xy(polygon, lon, lat) & (which < 0)
        which[inside] = i
    if (which < 0).any():  # on a shared edge: the grid cell it would be in unjittered
        cols, rows = GRID
        lost = which < 0
        ci = np.clip(((lon[lost] - minx) / (maxx - minx) * cols).astype(int), 0, cols - 1)
        rj = np.clip(((lat[lost] - miny) / (maxy - miny) * rows).astype(int), 0, rows - 1)
        which[lost] = rj * cols + ci
    age_s = rng.uniform(0, SPAN_DAYS * 86400, n)
    received = np.datetime64(anchor.replace(tzinfo=None), "us") - (age_s * 1e6).astype("timedelta64[us]")
    device = received - (rng.uniform(5, 3600, n) * 1e6).astype("timedelta64[us]")
    occurred = device - (rng.uniform(0, 4 * 3600, n) * 1e6).astype("timedelta64[us]")
    waiting = age_s < WAITING_DAYS * 86400
    roll = rng.uniform(0, 1, n)
    state = np.where(waiting, np.where(roll < 0.8, "submitted", "in_review"),
                     np.where(roll < 0.85, "accepted", np.where(roll < 0.93, "rejected", "needs_info")))
    reviewed = received + (rng.uniform(3600, 20 * 86400, n) * 1e6).astype("timedelta64[us]")
    has_review = state != "submitted"
    sev_roll = rng.uniform(0, 1, n)
    severity = np.where(sev_roll < 0.6, "minor", np.where(sev_roll < 0.92, "moderate", "serious"))
    categories = world["categories"]
    cat = rng.integers(0, len(categories), n)
    codes = [c for c, _ in DISTRICTS]
    district_ids = [world["districts"][c]["id"] for c in codes]
    unit_ids = [world["districts"][c]["unit_id"] for c in codes]
    ids = _uuids(rng, n)
    skewed = rng.uniform(0, 1, n) < 0.01
    return {
        "id": ids,
        "lon": lon.tolist(), "lat": lat.tolist(),
        "accuracy_m": np.round(rng.uniform(3, 30, n), 1).tolist(),
        "jurisdiction_id": [world["sparse_street_id"] if codes[i] == SPARSE_DISTRICT and k % SPARSE_ONE_IN == 0
                            else district_ids[i] for k, i in enumerate(which.tolist())],
        "unit_id": [unit_ids[i] for i in which.tolist()],
        "received_at": received, "device_time": device, "occurred_at": occurred,
        "reviewed_at": reviewed, "has_review": has_review.tolist(),
        "review_state": state.tolist(), "severity": severity.tolist(),
        "category_id": [categories[i][0] for i in cat.tolist()],
        "category_code": [categories[i][1] for i in cat.tolist()],
        "flag_clock_skew": skewed.tolist(),
        "district_index": which,
    }


def _stamps(values: np.ndarray, sep: str) -> list[str]:
    text = np.datetime_as_string(values, unit="us").tolist()
    return [t.replace("T", sep) for t in text]


# -- loading -------------------------------------------------------------------------------------


def _load_postgis(url: str, cols: dict, world: dict) -> None:
    import psycopg

    plain = url.replace("postgresql+psycopg://", "postgresql://", 1)
    n = len(cols["id"])
    received = [s + "+00" for s in _stamps(cols["received_at"], " ")]
    device = [s + "+00" for s in _stamps(cols["device_time"], " ")]
    occurred = [s + "+00" for s in _stamps(cols["occurred_at"], " ")]
    reviewed = [s + "+00" if r else "\\N" for s, r in zip(_stamps(cols["reviewed_at"], " "), cols["has_review"])]
    ids = [str(i) for i in cols["id"]]
    monitor, squad = str(world["monitor_id"]), str(world["squad_id"])
    with psycopg.connect(plain, autocommit=True) as conn:
        conn.execute("SET session_replication_role = replica")  # foreign keys hold by construction
        indexes = conn.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename IN ('field_records', 'findings') "
            "AND indexname NOT LIKE 'pk_%'").fetchall()
        for name, _ in indexes:
            conn.execute(f'DROP INDEX "{name}"')
        with conn.transaction():
            with conn.cursor() as cur:
                with cur.copy(
                    "COPY field_records (id, kind, submitted_by_id, device_time, received_at, body_hash, version, "
                    "review_state, reviewed_at, location, accuracy_m, unit_id, squad_id, category_code, flag_unfiled, "
                    "flag_implausible_evidence, flag_clock_skew, flag_far_from_target, declared_attachments, "
                    "created_at, updated_at, jurisdiction_id) FROM STDIN"
                ) as copy:
                    for start in range(0, n, 50_000):
                        lines = []
                        for i in range(start, min(n, start + 50_000)):
                            rid = ids[i]
                            lines.append("\t".join((
                                rid, "finding", monitor, device[i], received[i], hashlib.sha256(rid.encode()).hexdigest(),
                                "1", cols["review_state"][i], reviewed[i],
                                f"SRID=4326;POINT({cols['lon'][i]:.7f} {cols['lat'][i]:.7f})", repr(cols["accuracy_m"][i]),
                                str(cols["unit_id"][i]), squad, cols["category_code"][i], "f", "f",
                                "t" if cols["flag_clock_skew"][i] else "f", "f", "[]", received[i], received[i],
                                str(cols["jurisdiction_id"][i]))))
                        copy.write("\n".join(lines) + "\n")
                with cur.copy("COPY findings (id, category_id, severity, occurred_at, description) FROM STDIN") as copy:
                    for start in range(0, n, 50_000):
                        copy.write("".join(
                            f"{ids[i]}\t{cols['category_id'][i]}\t{cols['severity'][i]}\t{occurred[i]}\t"
                            f"窗口工作人员离岗，群众等候 {i % 97 + 3} 分钟。\n"
                            for i in range(start, min(n, start + 50_000))))
        for _, definition in indexes:
            conn.execute(definition)
        conn.execute("ANALYZE field_records")
        conn.execute("ANALYZE findings")
        conn.execute("ANALYZE jurisdictions")


def _load_spatialite(url: str, cols: dict, world: dict) -> None:
    from field.core.db import make_engine

    def hexid(value) -> str:
        return value.hex if isinstance(value, uuid.UUID) else str(value).replace("-", "")

    n = len(cols["id"])
    received = _stamps(cols["received_at"], " ")
    device = _stamps(cols["device_time"], " ")
    occurred = _stamps(cols["occurred_at"], " ")
    reviewed = [s if r else None for s, r in zip(_stamps(cols["reviewed_at"], " "), cols["has_review"])]
    ids = [i.hex for i in cols["id"]]
    monitor, squad = hexid(world["monitor_id"]), hexid(world["squad_id"])
    engine = make_engine(url)
    raw = engine.raw_connection()
    try:
        con = raw.driver_connection
        cur = con.cursor()
        cur.execute("PRAGMA foreign_keys = OFF")  # they hold by construction
        cur.execute("PRAGMA synchronous = OFF")
        cur.execute("PRAGMA cache_size = -262144")
        saved = cur.execute(
            "SELECT type, name, sql FROM sqlite_master WHERE tbl_name IN ('field_records', 'findings') "
            "AND type IN ('index', 'trigger') AND sql IS NOT NULL").fetchall()
        for kind, name, _ in saved:
            cur.execute(f'DROP {kind.upper()} "{name}"')
        cur.execute("BEGIN")
        cur.executemany(
            "INSERT INTO field_records (id, kind, submitted_by_id, device_time, received_at, body_hash, version, "
            "review_state, reviewed_at, location, accuracy_m, unit_id, squad_id, category_code, flag_unfiled, "
            "flag_implausible_evidence, flag_clock_skew, flag_far_from_target, declared_attachments, created_at, "
            "updated_at, jurisdiction_id) VALUES (?, 'finding', ?, ?, ?, ?, 1, ?, ?, MakePoint(?, ?, 4326), ?, ?, ?, "
            "?, 0, 0, ?, 0, '[]', ?, ?, ?)",
            ((ids[i], monitor, device[i], received[i], hashlib.sha256(str(cols["id"][i]).encode()).hexdigest(),
              cols["review_state"][i], reviewed[i], cols["lon"][i], cols["lat"][i], cols["accuracy_m"][i],
              hexid(cols["unit_id"][i]), squad, cols["category_code"][i], int(cols["flag_clock_skew"][i]),
              received[i], received[i], hexid(cols["jurisdiction_id"][i])) for i in range(n)))
        cur.executemany(
            "INSERT INTO findings (id, category_id, severity, occurred_at, description) VALUES (?, ?, ?, ?, ?)",
            ((ids[i], hexid(cols["category_id"][i]), cols["severity"][i], occurred[i],
              f"窗口工作人员离岗，群众等候 {i % 97 + 3} 分钟。") for i in range(n)))
        # The R*Tree in one statement (what the insert trigger does row by row), west to east.
        cur.execute(
            "INSERT INTO idx_field_records_location (pkid, xmin, xmax, ymin, ymax) "
            "SELECT ROWID, MbrMinX(location), MbrMaxX(location), MbrMinY(location), MbrMaxY(location) "
            "FROM field_records WHERE location IS NOT NULL "
            "ORDER BY MbrMinX(location)")
        for kind, _, sql in saved:
            cur.execute(sql)
        cur.execute("COMMIT")
        cur.execute("ANALYZE")
        cur.execute("PRAGMA foreign_keys = ON")
        cur.close()
    finally:
        raw.close()
        engine.dispose()


# -- the entry point -----------------------------------------------------------------------------


def _marker_params(size: int) -> dict:
    return {"version": SEED_VERSION, "size": size}


def _read_marker(url: str) -> dict | None:
    from sqlalchemy import text

    from field.core.db import make_engine

    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            row = conn.execute(text("SELECT value FROM bench_seed WHERE key = 'seed'")).first()
            return json.loads(row[0]) if row else None
    except Exception:  # no database, no table: not seeded
        return None
    finally:
        engine.dispose()


def _write_marker(url: str, payload: dict) -> None:
    from sqlalchemy import text

    from field.core.db import make_engine

    engine = make_engine(url)
    try:
        with engine.begin() as conn:
            conn.execute(text("CREATE TABLE IF NOT EXISTS bench_seed (key VARCHAR(20) PRIMARY KEY, value TEXT)"))
            conn.execute(text("DELETE FROM bench_seed"))
            conn.execute(text("INSERT INTO bench_seed (key, value) VALUES ('seed', :v)"),
                         {"v": json.dumps(payload, default=str)})
    finally:
        engine.dispose()


def _pg_exists(server: str, name: str) -> bool:
    import psycopg

    with psycopg.connect(f"{server}/postgres", autocommit=True) as conn:
        return conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone() is not None


def label(size: int) -> str:
    return f"{size // 1_000_000}m" if size % 1_000_000 == 0 else f"{size // 1000}k" if size % 1000 == 0 else str(size)


def seeded(backend: str, size: int, *, pg_server: str = PG_SERVER, workdir: Path = OUT_DIR / "work",
           force: bool = False, log=print) -> Seeded:
    """A database of ``backend`` holding ``size`` findings: reused when seeded alike before, else seeded now."""
    from field.core import migrate

    name = f"{DB_PREFIX}_seed_{label(size)}"
    if backend == "postgis":
        url = f"{pg_server.replace('postgresql://', 'postgresql+psycopg://', 1)}/{name}"
        exists = _pg_exists(pg_server, name)
    else:
        path = Path(workdir) / f"{name}.sqlite"
        url = f"sqlite:///{path}"
        exists = path.exists()
    marker = _read_marker(url) if exists and not force else None
    if marker and {k: marker.get(k) for k in ("version", "size")} == _marker_params(size):
        return Seeded(backend, url, size, 0.0, True, marker["districts"], marker["users"])
    started = time.perf_counter()
    if backend == "postgis":
        url = fresh_pg_database(name, pg_server)
    else:
        path.parent.mkdir(parents=True, exist_ok=True)
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
    migrate.upgrade(url)
    world = _build_world(url)
    anchor = datetime.now(timezone.utc).replace(microsecond=0)
    t0 = time.perf_counter()
    cols = generate(size, world, anchor=anchor)
    t1 = time.perf_counter()
    (_load_postgis if backend == "postgis" else _load_spatialite)(url, cols, world)
    seconds = time.perf_counter() - started
    log(f"seeded {size:,} findings on {backend} in {seconds:.1f} s "
        f"(generate {t1 - t0:.1f} s, load and index {time.perf_counter() - t1:.1f} s)")
    districts = {code: {"id": str(d["id"]), "name": d["name"], "bounds": d["bounds"]}
                 for code, d in world["districts"].items()}
    _write_marker(url, {**_marker_params(size), "anchor": anchor.isoformat(), "seconds": seconds,
                        "districts": districts, "users": world["users"]})
    return Seeded(backend, url, size, seconds, False, districts, world["users"])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=10_000)
    parser.add_argument("--backend", choices=("postgis", "spatialite", "both"), default="both")
    parser.add_argument("--force", action="store_true", help="seed again even if seeded alike before")
    args = parser.parse_args(argv)
    for backend in ("postgis", "spatialite") if args.backend == "both" else (args.backend,):
        s = seeded(backend, args.size, force=args.force)
        print(f"{backend}: {s.url} ({'reused' if s.reused else f'seeded in {s.seconds:.1f} s'})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
