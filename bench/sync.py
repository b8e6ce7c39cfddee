"""Benchmark 6: a phone's first directory sync of a 5,000-enterprise district, and an empty delta sync.

    python -m bench.sync [--quick] [--enterprises 5000] [--backends postgis spatialite] [--json PATH]

For each database (PostGIS in a fresh database ``fieldwatch_bench_sync`` on ``BENCH_PG_SERVER``,
SpatiaLite in a temporary file), the harness migrates, makes the district 九龙坡区 and its
neighbour 渝中区, and loads their enterprise directories (5,000 and 1,000) the way an office
does: a CSV file through the directory import (``field.imports``, which writes the change-log
rows the phones sync from). The names, addresses, GCJ-02 positions picked on a Chinese map,
flags and contacts are made up but shaped like a real directory; every credit code carries
both check characters.

An inspector of 九龙坡区 then syncs over HTTP through gunicorn with the production settings
(bench/serve.py: 3 processes x 4 threads, gthread; SpatiaLite's file served the same way), a
Python client on one keep-alive connection (bench/serve.py ``Client``: from sending the request
to having read the whole body, one request at a time): so the time is what a phone next to the
server would wait (auth, the change-log query, loading, dumping, compressing, the bytes). The
phone sends ``Accept-Encoding: gzip`` and ``crs=gcj02`` and pages with the default limit until
``has_more`` is false; bytes are summed over the pages as sent (gzip-encoded when the app
compresses) and divided by the enterprises received. Reference: the same enterprises as a
minimal CSV (id,name,credit_code,lon,lat,address), gzipped in one piece, so the ratio is the
feed's overhead over bare data. The empty delta is the last cursor sent again, after 200 more
directory changes in the neighbouring district (in the log, out of scope); its floor is that one
change-log query run alone on a session of this process, interleaved A/B/A/B with the requests.
The server's CPU per empty delta is read from the gunicorn workers' /proc counters.
"""

from __future__ import annotations

import argparse
import csv
import gzip
import io
import os
import random
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

from sqlalchemy import select

from bench.common import DB_PREFIX, OUT_DIR, Options, Row, fresh_pg_database, percentile, print_table, write_json
from bench.serve import Client, serving_database

BENCHMARK = "6 sync"
PG_DATABASE = f"{DB_PREFIX}_sync"
#: Issue targets.
TARGET_BYTES_PER_RECORD = 300
TARGET_EMPTY_DELTA_MS = 10.0
#: A/B rounds of the empty delta and its floor.
ROUNDS = 5
PASSWORD = "correct horse battery"

# -- a directory shaped like a real one -------------------------------------------------------

_PLACES = ("九龙", "渝州", "巴渝", "西彭", "华岩", "含谷", "白市驿", "陶家", "铜罐驿", "石桥铺", "杨家坪", "黄桷坪",
           "谢家湾", "二郎", "中梁山", "金凤", "走马", "巴福", "石板", "渝")
#: Characters of trade names (字号): two of them make one, as in 鑫顺 or 宏远.
_FIRM = ("鑫顺恒泰兴隆昌盛华通达宏远祥瑞丰德源汇信诚嘉利民康永安宝晟博瀚辉煌佳美新锐鼎益聚合众创航凯铭"
         "金银玉龙凤腾飞云海天地山川江河湖森林木火土石星光明阳春秋冬夏东西南北中正和平福禄寿喜乐"
         "强盛久远广大精工力霸豪杰英雄志诚立本亿万千百方圆庆渝巴蜀锦绣富贵吉祥如意雅致清韵润泽")
_TRADES = ("精密机械", "汽车配件", "食品", "建材", "物流", "商贸", "餐饮管理", "电子科技", "医药", "铝业", "模具",
           "包装材料", "环保科技", "建筑工程", "物业管理", "农业开发", "服装", "印务", "家具", "化工", "五金交电",
           "酒店管理", "信息技术", "装饰工程", "再生资源")
_FORMS = ("有限公司", "有限公司", "有限公司", "有限责任公司", "股份有限公司", "科技有限公司")
_STREETS = ("杨家坪正街", "西郊路", "谢家湾正街", "石坪桥横街", "黄桷坪正街", "九龙园区华龙大道", "科园一路", "科园四路",
            "石杨路", "渝州路", "二郎科技新城创业大道", "白市驿镇农科大道", "西彭镇铝城大道", "含谷镇含金路",
            "陶家镇陶然路", "华岩镇华福路", "金凤镇凤笙路", "巴福镇巴福街", "铜罐驿镇建设村", "九滨路")
_SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘"
_TITLES = ("经理", "总经理", "主任", "厂长", "先生", "女士", "店长")
_DISTRICTS = {"500107": "九龙坡区", "500103": "渝中区"}
#: Rough extent of each district (GCJ-02, as picked on AMap).
_BOXES = {"500107": (106.31, 29.29, 106.55, 29.55), "500103": (106.53, 29.54, 106.59, 29.57)}


def credit_code(division: str, serial: int) -> str:
    """A well-formed unified social credit code: an enterprise (91) of ``division``, both checks right."""
    from field.core.credit_code import ALPHABET, _check_character, _organization_check_character

    # Codes given since 2015 have an organisation-code body like MA5U7G8X; older ones are digits.
    if serial % 3:
        body, n = "MA", serial
        for _ in range(6):
            n, digit = divmod(n * 7919 + 13, len(ALPHABET))
            body += ALPHABET[digit]
    else:
        body = f"{serial * 37 + 20000000:08d}"
    first17 = "91" + division + body + _organization_check_character(body)
    return first17 + _check_character(first17)


def directory_csv(division: str, count: int, rng: random.Random, first_serial: int = 0) -> str:
    """The CSV an office imports: ``count`` enterprises of ``division`` (field.imports columns)."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["credit_code", "name", "jurisdiction_code", "address", "lon", "lat", "crs", "accuracy_m",
                     "above_designated_size", "key_enterprise", "key_project", "contact_name", "contact_phone"])
    west, south, east, north = _BOXES[division]
    for i in range(count):
        name = (f"重庆{rng.choice(_PLACES)}{rng.choice(_FIRM)}{rng.choice(_FIRM)}"
                f"{rng.choice(_TRADES)}{rng.choice(_FORMS)}")
        address = f"重庆市{_DISTRICTS[division]}{rng.choice(_STREETS)}{rng.randint(1, 399)}号"
        if rng.random() < 0.3:
            address += f"{rng.randint(1, 30)}幢{rng.randint(1, 28)}-{rng.randint(1, 12)}"
        located = rng.random() < 0.95
        lon = f"{rng.uniform(west, east):.6f}" if located else ""
        lat = f"{rng.uniform(south, north):.6f}" if located else ""
        contact = rng.random() < 0.6
        phone = (f"023-6{rng.randint(1000000, 9999999)}" if rng.random() < 0.5
                 else f"1{rng.choice('3578')}{rng.randint(100000000, 999999999)}")
        writer.writerow([
            credit_code(division, first_serial + i), name, division, address, lon, lat, "gcj02" if located else "",
            "", _yes(rng, 0.12), _yes(rng, 0.05), _yes(rng, 0.02),
            f"{rng.choice(_SURNAMES)}{rng.choice(_TITLES)}" if contact else "", phone if contact else ""])
    return out.getvalue()


def _yes(rng: random.Random, p: float) -> str:
    return "是" if rng.random() < p else "否"


# -- the world --------------------------------------------------------------------------------


class District:
    """A migrated database with two districts' directories imported and an inspector's phone token."""

    def __init__(self, url: str, workdir: Path, enterprises: int, rng: random.Random):
        from api import create_app
        from field.accounts import users as accounts, jurisdictions
        from field.core import migrate
        from field.core.models.platform import JurisdictionLevel, Role
        from stress.world import chongqing

        self.url = url
        migrate.upgrade(url)
        self.app = create_app({"DATABASE_URL": url, "SECRET_KEY": "bench", "EVIDENCE_DIR": str(workdir / "evidence")})
        self.factory = self.app.extensions["SESSION_FACTORY"]
        self.rng = rng
        with self.factory() as s:
            province, city, home = chongqing(s)
            jurisdictions.create_jurisdiction(s, actor=None, code="500103", name="渝中区",
                                              level=JurisdictionLevel.district, parent_id=city.id)
            inspector = accounts.create_user(s, actor=None, username="bench.inspector", password=PASSWORD,
                                             display_name="李明", role=Role.inspector, jurisdiction_id=home.id)
            token = accounts.issue_token(s, inspector, "phone", timedelta(days=1)).token
            s.commit()
        self.headers = {"Authorization": f"Bearer {token}", "Accept-Encoding": "gzip"}
        self.inspector_id = inspector.id
        self.enterprises = enterprises
        started = time.perf_counter()
        self._import("500107", enterprises, 0, workdir)
        self._import("500103", max(1, enterprises // 5), enterprises, workdir)
        self.seed_s = time.perf_counter() - started

    def _import(self, division: str, count: int, first_serial: int, workdir: Path) -> None:
        from field.directory import imports

        path = workdir / f"enterprises-{division}.csv"
        path.write_text(directory_csv(division, count, self.rng, first_serial), encoding="utf-8")
        report = imports.Report()
        with self.factory() as s:
            for _ in imports.import_records(s, "enterprises", imports.read_file(path, "enterprises"), report):
                s.commit()
        if report.created != count or report.rejected:
            raise RuntimeError(f"seeding {division}: {report.created} of {count} created, "
                               f"rejected {report.rejected[:3]}")

    def change_elsewhere(self, count: int) -> None:
        """``count`` edits in the neighbouring district: the log moves on, none of it in the phone's scope."""
        from field.directory import enterprises
        from field.core.models.platform import Jurisdiction
        from field.directory.models import Enterprise

        with self.factory() as s:
            other = s.execute(select(Jurisdiction.id).where(Jurisdiction.code == "500103")).scalar_one()
            rows = s.execute(select(Enterprise).where(Enterprise.jurisdiction_id == other)
                             .order_by(Enterprise.credit_code).limit(count)).scalars().all()
            admin = _office_admin(s, other)
            for i, enterprise in enumerate(rows):
                enterprises.update_enterprise(s, admin, enterprise, {"contact_phone": f"023-6300{i:04d}"})
            s.commit()

    def minimal_csv_gzip(self) -> tuple[int, int]:
        """(enterprises, gzipped bytes) of id,name,credit_code,lon,lat,address of the phone's district, in GCJ-02."""
        from field.core.crs import from_wgs84
        from field.core.models.platform import Jurisdiction
        from field.directory.models import Enterprise

        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(["id", "name", "credit_code", "lon", "lat", "address"])
        count = 0
        with self.factory() as s:
            home = s.execute(select(Jurisdiction.id).where(Jurisdiction.code == "500107")).scalar_one()
            for e in s.execute(select(Enterprise).where(Enterprise.jurisdiction_id == home)).scalars():
                location = e.location
                lon, lat = from_wgs84(location.lon, location.lat, "gcj02") if location else ("", "")
                writer.writerow([e.id, e.name, e.credit_code, _coord(lon), _coord(lat), e.address or ""])
                count += 1
        return count, len(gzip.compress(out.getvalue().encode(), 6))

    def close(self) -> None:
        self.app.extensions["ENGINE"].dispose()


def _coord(value) -> str:
    # The feed's precision (schemas.common.LocationField): 7 decimals.
    return "" if value == "" else repr(round(value, 7))


def _office_admin(session, jurisdiction_id):
    from field.accounts import users as accounts
    from field.core.models.platform import Role, User

    admin = session.execute(select(User).where(User.username == "bench.admin")).scalar_one_or_none()
    if admin is None:
        admin = accounts.create_user(session, actor=None, username="bench.admin", password=PASSWORD,
                                     display_name="管理员", role=Role.admin, jurisdiction_id=jurisdiction_id)
    return admin


# -- measuring --------------------------------------------------------------------------------


def first_sync(district: District, client: Client) -> dict:
    """Page through the feed from no cursor over HTTP; bytes as sent, bytes as JSON, ms per page summed."""
    cursor, pages, sent, raw, records, elapsed, encodings = None, 0, 0, 0, 0, 0.0, set()
    while True:
        query = {"crs": "gcj02", **({"cursor": cursor} if cursor else {})}
        status, headers, body, ms = client.get("/api/v1/sync", query)
        elapsed += ms
        if status != 200:
            raise RuntimeError(f"sync answered {status}: {body[:300]!r}")
        encoding = headers.get("content-encoding", "identity")
        encodings.add(encoding)
        document = gzip.decompress(body) if encoding == "gzip" else body
        payload = _json(document)
        pages += 1
        sent += len(body)
        raw += len(document)
        records += sum(1 for c in payload["changes"] if c["entity"] == "enterprise" and c["op"] == "upsert")
        cursor = payload["cursor"]
        if not payload["has_more"]:
            break
    return {"pages": pages, "sent": sent, "raw": raw, "records": records, "ms": elapsed,
            "cursor": cursor, "encodings": sorted(encodings)}


def _json(document: bytes) -> dict:
    import json

    return json.loads(document)


def gzip_of_pages(district: District, client: Client) -> int:
    """Bytes of the first sync's bodies each gzipped at level 6 here (when the app sends them plain)."""
    cursor, total = None, 0
    while True:
        status, _, body, _ = client.get("/api/v1/sync", {"crs": "gcj02", **({"cursor": cursor} if cursor else {})},
                                        headers={"Accept-Encoding": "identity"})
        total += len(gzip.compress(body, 6))
        payload = _json(body)
        cursor = payload["cursor"]
        if not payload["has_more"]:
            return total


def empty_delta(client: Client, cursor: str):
    """One request sending ``cursor`` again over HTTP: its ms (checked empty)."""
    def once() -> float:
        status, headers, body, ms = client.get("/api/v1/sync", {"crs": "gcj02", "cursor": cursor})
        document = gzip.decompress(body) if headers.get("content-encoding") == "gzip" else body
        if status != 200 or _json(document)["changes"]:
            raise RuntimeError(f"the empty delta was not empty: {status} {document[:200]!r}")
        return ms
    return once


def bare_delta_query(district: District, session, cursor: str):
    """The one query an unchanged directory costs, run alone on an open session (the floor): its ms."""
    from field.core import sync
    from field.core.models.platform import User

    user = session.get(User, district.inspector_id)
    session.rollback()  # nothing held between queries: on SQLite a transaction holds the write lock (IMMEDIATE)

    def once() -> float:
        started = time.perf_counter()
        delta = sync.changes_since(session, user, cursor)
        ms = (time.perf_counter() - started) * 1000
        assert not delta.changes
        session.rollback()
        return ms
    return once


def interleaved(ours, floor, n: int, rounds: int = ROUNDS) -> tuple[list[float], list[float]]:
    """A/B/A/B: ``rounds`` rounds of n/rounds timings of ``ours()`` then as many of ``floor()``."""
    per = max(1, n // rounds)
    a, b = [], []
    for _ in range(rounds):
        a += [ours() for _ in range(per)]
        b += [floor() for _ in range(per)]
    return a, b


def measure(backend: str, url: str, workdir: Path, enterprises: int, repeat: int, delta_repeat: int,
            opts: Options) -> list[Row]:
    district = District(url, workdir, enterprises, random.Random(7))
    try:
        csv_count, csv_gzip = district.minimal_csv_gzip()
        with serving_database(opts, url, f"sync-{backend}") as server:
            client = Client(server.base_url, district.headers)
            load = os.getloadavg()[0]
            runs = [first_sync(district, client) for _ in range(repeat)]
            first = runs[0]
            if first["records"] != enterprises or csv_count != enterprises:
                raise RuntimeError(f"first sync brought {first['records']} enterprises of {enterprises}")
            compressed = "gzip" in first["encodings"]
            wire = first["sent"] if compressed else gzip_of_pages(district, client)
            per_record = wire / enterprises
            floor = csv_gzip / enterprises
            district.change_elsewhere(200)
            ours = empty_delta(client, first["cursor"])
            with district.factory() as session:
                bare = bare_delta_query(district, session, first["cursor"])
                for _ in range(5):  # warm-up
                    ours(), bare()
                cpu_started = server.cpu_seconds()
                empty, floor_times = interleaved(ours, bare, delta_repeat)
                empty_cpu = (server.cpu_seconds() - cpu_started) * 1000 / len(empty)
            load = max(load, os.getloadavg()[0])
            client.close()
    finally:
        district.close()
    case = f"first sync, {enterprises:,} enterprises ({backend})"
    how = ("as sent by the app (Content-Encoding: gzip)" if compressed
           else "the app sends identity; bodies gzipped here at level 6")
    ms = [r["ms"] for r in runs]
    p95_empty = percentile(empty, 95)
    return [
        Row(BENCHMARK, case, "bytes/record gzipped", per_record, "minimal CSV gzipped, B/record", floor,
            per_record / floor, f"<= {TARGET_BYTES_PER_RECORD} B", per_record <= TARGET_BYTES_PER_RECORD,
            f"{first['pages']} pages, {wire:,} B {how}; uncompressed JSON {first['raw'] / enterprises:.0f} B/record;"
            f" directory imported in {district.seed_s:.1f} s"),
        Row(BENCHMARK, case, "ms over HTTP (all pages)", statistics.median(ms), notes=(
            f"HTTP via gunicorn, keep-alive, page after page; median of {repeat}; {first['pages']} pages of the "
            f"default limit; best {min(ms):.0f} ms; load avg {load:.2f}")),
        Row(BENCHMARK, f"empty delta ({backend})", "p95 ms over HTTP", p95_empty, "the change-log query alone, p95 ms",
            percentile(floor_times, 95), p95_empty / percentile(floor_times, 95), f"< {TARGET_EMPTY_DELTA_MS:g} ms",
            p95_empty < TARGET_EMPTY_DELTA_MS,
            f"HTTP via gunicorn, keep-alive, one at a time, A/B x{ROUNDS} with the query alone; {len(empty)} "
            f"requests, p50 {percentile(empty, 50):.2f} ms vs {percentile(floor_times, 50):.2f} ms; 200 changes out "
            f"of scope after the cursor; load avg {load:.2f}"),
        Row(BENCHMARK, f"empty delta ({backend})", "server CPU ms/request", empty_cpu,
            notes="gunicorn workers' user+system CPU over the timed requests (/proc, 10 ms ticks), "
                  "the database server's not in it"),
    ]


def run(opts: Options) -> list[Row]:
    backends = opts.extra.get("sync_backends", ("postgis", "spatialite"))
    enterprises = opts.extra.get("sync_enterprises", 1000 if opts.quick else 5000)
    repeat, delta_repeat = (2, 50) if opts.quick else (3, 200)
    rows: list[Row] = []
    opts.workdir.mkdir(parents=True, exist_ok=True)
    for backend in backends:
        with tempfile.TemporaryDirectory(dir=opts.workdir, prefix="sync-") as tmp:
            if backend == "postgis":
                url = fresh_pg_database(PG_DATABASE, opts.pg_server)
            else:
                url = f"sqlite:///{tmp}/sync.db"
            try:
                rows += measure(backend, url, Path(tmp), enterprises, repeat, delta_repeat, opts)
            finally:
                if backend == "postgis":
                    _drop_pg_database(PG_DATABASE, opts.pg_server)
    return rows


def _drop_pg_database(name: str, server: str) -> None:
    import psycopg

    with psycopg.connect(f"{server}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="1,000 enterprises, fewer repeats")
    parser.add_argument("--enterprises", type=int, help="enterprises in the phone's district (default 5000)")
    parser.add_argument("--backends", nargs="+", choices=("postgis", "spatialite"), default=["postgis", "spatialite"])
    parser.add_argument("--json", type=Path, help=f"write the rows here (e.g. {OUT_DIR / 'sync.json'})")
    args = parser.parse_args(argv)
    extra = {"sync_backends": tuple(args.backends)}
    if args.enterprises:
        extra["sync_enterprises"] = args.enterprises
    rows = run(Options(quick=args.quick, extra=extra))
    print_table(rows)
    for row in rows:
        if row.notes:
            print(f"  {row.case} / {row.figure}: {row.notes}")
    if args.json:
        write_json(rows, args.json)
    return 0


if __name__ == "__main__":
    sys.exit(main())
