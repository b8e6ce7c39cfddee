"""Bulk import: idempotent, keyed by natural keys, bad rows reported with their reason and good rows kept."""

import csv
import json
import time
from datetime import date
from types import SimpleNamespace

import pytest
from click.testing import CliRunner
from flask.cli import ScriptInfo
from sqlalchemy import func, select

from field.directory import imports, monitoring
from field.core.models.platform import Role
from field.core.models.changes import Change
from field.directory.models import Enterprise, Person, Unit
from tests.directory_fixtures import credit_code

HEADER = ",".join(imports.COLUMNS["enterprises"])


def _run(session, kind, path, batch_size=500) -> imports.Report:
    report = imports.Report()
    for _ in imports.import_records(session, kind, imports.read_file(path, kind), report, batch_size=batch_size):
        session.commit()
    return report


def _count(session, model) -> int:
    return session.execute(select(func.count()).select_from(model).where(model.deleted_at.is_(None))).scalar_one()


def _enterprise_rows(n: int, start: int = 0) -> list[str]:
    rows = []
    for i in range(start, start + n):
        lon, lat = 106.3 + (i % 100) * 0.003, 29.3 + (i // 100 % 100) * 0.003
        rows.append(f"{credit_code(i)},企业{i},500107,九龙坡区{i}号,{lon:.6f},{lat:.6f},gcj02,{i % 30},"
                    f"{i % 2},{int(i % 7 == 0)},否,联系人{i},023-{i:08d}")
    return rows


def _wrong_check(code: str) -> str:
    return code[:-1] + ("0" if code[-1] != "0" else "1")


def _write(path, lines):
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.mark.slow
def test_ten_thousand_enterprises_import_quickly_and_twice_leave_ten_thousand(session, tree, tmp_path, backend):
    path = _write(tmp_path / "enterprises.csv", [HEADER, *_enterprise_rows(10_000)])
    started = time.perf_counter()
    first = _run(session, "enterprises", path)
    took = time.perf_counter() - started
    print(f"\n10,000 enterprises on {backend}: {took:.1f} s")
    assert (first.created, first.rejected) == (10_000, [])
    assert took < 60
    changes = session.execute(select(func.count(Change.seq))).scalar_one()
    second = _run(session, "enterprises", path)
    assert (second.created, second.updated, second.unchanged) == (0, 0, 10_000)
    assert _count(session, Enterprise) == 10_000
    # Nothing changed, so nothing was written: no new feed entries either.
    assert session.execute(select(func.count(Change.seq))).scalar_one() == changes


def test_a_file_with_bad_rows_imports_the_good_ones_and_reports_the_bad(session, tree, tmp_path):
    good = _enterprise_rows(3)
    wrong_check = _wrong_check(credit_code(900))
    lines = [HEADER, good[0],
             f"{wrong_check},校验位错,500107,,,,,,,,,,",
             good[1],
             f"{credit_code(901)},辖区不存在,999999,,,,,,,,,,",
             f"{credit_code(902)},经纬度颠倒,500107,,29.5,106.5,,,,,,,",
             f"{credit_code(903)},,500107,,,,,,,,,,",
             f"{credit_code(904)},坐标系未知,500107,,106.5,29.5,bd09mc,,,,,,",
             f"{credit_code(905)},标志不明,500107,,,,,,也许,,,,",
             good[1].replace("企业1,", "重复的企业1,"),
             good[2]]
    report = _run(session, "enterprises", _write(tmp_path / "mixed.csv", lines), batch_size=4)
    assert report.created == 3
    reasons = {r.row: r.reason for r in report.rejected}
    assert sorted(reasons) == [3, 5, 6, 7, 8, 9, 10]
    assert reasons[3].startswith("credit_code:") and "check" in reasons[3]
    assert reasons[5].startswith("jurisdiction_code:")
    assert reasons[6].startswith("lat:") and "swapped" in reasons[6]
    assert reasons[7] == "name: required."
    assert reasons[8].startswith("crs:")
    assert reasons[9].startswith("above_designated_size:")
    assert reasons[10] == "credit_code: the same code as row 4."
    assert _count(session, Enterprise) == 3


def test_a_changed_row_updates_the_enterprise_and_a_moved_one_takes_its_point_along(session, tree, tmp_path, admin):
    path = _write(tmp_path / "e.csv", [HEADER, *_enterprise_rows(2)])
    _run(session, "enterprises", path)
    moved = session.execute(select(Enterprise).where(Enterprise.name == "企业1")).scalar_one()
    point = monitoring.create_point(session, admin, enterprise_id=moved.id, active_from=date(2025, 1, 1))
    session.commit()
    rows = _enterprise_rows(2)
    rows[1] = rows[1].replace(",500107,", ",500107001,").replace("企业1,", "企业一,")
    report = _run(session, "enterprises", _write(tmp_path / "e2.csv", [HEADER, *rows]))
    assert (report.updated, report.unchanged) == (1, 1)
    session.refresh(moved)
    session.refresh(point)
    assert moved.name == "企业一" and moved.jurisdiction_id == tree["home_street"].id
    assert point.jurisdiction_id == tree["home_street"].id


def test_a_geojson_feature_collection_imports_like_the_csv(session, tree, tmp_path):
    doc = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "geometry": {"type": "Point", "coordinates": [106.51, 29.51]},
         "properties": {"credit_code": credit_code(1), "name": "甲", "jurisdiction_code": "500107",
                        "key_project": True, "accuracy_m": 5}},
        {"type": "Feature", "geometry": None,
         "properties": {"credit_code": credit_code(2), "name": "乙", "jurisdiction_code": "500107"}},
        {"type": "Feature", "geometry": {"type": "LineString", "coordinates": [[0, 0], [1, 1]]},
         "properties": {"credit_code": credit_code(3), "name": "丙", "jurisdiction_code": "500107"}},
    ]}
    path = tmp_path / "e.geojson"
    path.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    report = _run(session, "enterprises", path)
    assert report.created == 2 and [(r.row, r.reason.split(" ")[0]) for r in report.rejected] == [(3, "geometry")]
    first = session.execute(select(Enterprise).where(Enterprise.name == "甲")).scalar_one()
    assert first.key_project and first.location.lon == pytest.approx(106.51) and first.location.accuracy_m == 5
    assert _run(session, "enterprises", path).unchanged == 2


def test_a_file_with_an_unknown_column_is_refused_whole(tmp_path):
    path = _write(tmp_path / "e.csv", [HEADER + ",shoe_size", "x"])
    with pytest.raises(imports.ImportFileError, match="shoe_size"):
        imports.read_file(path, "enterprises")


def test_a_gb18030_file_from_excel_reads_as_well_as_utf8(session, tree, tmp_path):
    path = tmp_path / "excel.csv"
    path.write_bytes(("\r\n".join([HEADER, *_enterprise_rows(1)]) + "\r\n").encode("gb18030"))
    assert _run(session, "enterprises", path).created == 1
    assert session.execute(select(Enterprise.address)).scalar_one() == "九龙坡区0号"


def test_units_import_as_a_tree_by_parent_path_and_persons_by_unit_path(session, tree, tmp_path):
    units_csv = _write(tmp_path / "units.csv", [
        "jurisdiction_code,name,kind,parent,address,lon,lat,crs,accuracy_m",
        "500107,区市场监管局,部门,,杨家坪,106.51,29.50,,",
        "500107,登记注册科,科室,区市场监管局,,,,,",
        "500107,综合窗口,window,区市场监管局/登记注册科,,,,,",
        "500107,孤儿科,section,不存在的局,,,,,",
        "500107,错挂,department,区市场监管局/登记注册科,,,,,",
    ])
    report = _run(session, "units", units_csv)
    assert report.created == 3
    assert [(r.row, r.reason.split(":")[0]) for r in report.rejected] == [(5, "parent"), (6, "parent")]
    window = session.execute(select(Unit).where(Unit.name == "综合窗口")).scalar_one()
    section = session.execute(select(Unit).where(Unit.name == "登记注册科")).scalar_one()
    assert window.parent_id == section.id
    assert _run(session, "units", units_csv).unchanged == 3

    persons_csv = _write(tmp_path / "persons.csv", [
        "jurisdiction_code,unit,name,post,rank",
        "500107,区市场监管局/登记注册科,王建国,科长,科级",
        "500107,区市场监管局,李明,副局长,division",
        "500107,区市场监管局,赵六,,厅级",
        "500107,没有的局,钱七,,",
    ])
    report = _run(session, "persons", persons_csv)
    assert report.created == 2 and [r.row for r in report.rejected] == [4, 5]
    assert _run(session, "persons", persons_csv).unchanged == 2
    assert _count(session, Person) == 2


def test_the_command_line_imports_and_writes_the_report_file(app, session, tree, tmp_path):
    from cli import main

    path = _write(tmp_path / "e.csv", [HEADER, *_enterprise_rows(2), f"{_wrong_check(credit_code(7))},坏,500107,,,,,,,,,,"])
    report_file = tmp_path / "rejected.csv"
    # The commands dispose of the engine when done; the test's app runs on the test's connection.
    app.extensions.setdefault("ENGINE", SimpleNamespace(dispose=lambda: None))
    result = CliRunner().invoke(main, ["import", "enterprises", str(path), "--report", str(report_file)],
                                obj=ScriptInfo(create_app=lambda: app))
    assert result.exit_code == 0, result.output
    assert "2 created" in result.output and "1 rejected" in result.output
    with report_file.open(encoding="utf-8-sig") as f:
        rows = list(csv.DictReader(f))
    assert [(r["row"], r["key"]) for r in rows] == [("4", _wrong_check(credit_code(7)))]
    assert rows[0]["reason"].startswith("credit_code:")
    assert _count(session, Enterprise) == 2
    again = CliRunner().invoke(main, ["import", "enterprises", str(path), "--report", str(report_file)],
                               obj=ScriptInfo(create_app=lambda: app))
    assert "0 created, 0 updated, 2 unchanged" in again.output


def test_a_batch_the_database_refuses_is_replayed_row_by_row_and_loses_no_good_row(
        session, tree, tmp_path, monkeypatch):
    # A row that passed every check but breaks a constraint (as if another writer had
    # inserted its code in between): make the first lookup of existing rows miss.
    path = _write(tmp_path / "e.csv", [HEADER, *_enterprise_rows(3)])
    _run(session, "enterprises", _write(tmp_path / "first.csv", [HEADER, *_enterprise_rows(1)]))
    feed_before = session.execute(select(func.count(Change.seq))).scalar_one()
    real_prefetch, calls = imports._EnterpriseRows.prefetch, []

    def blind_once(self, batch):
        calls.append(len(batch))
        if len(calls) > 1:
            real_prefetch(self, batch)

    monkeypatch.setattr(imports._EnterpriseRows, "prefetch", blind_once)
    report = _run(session, "enterprises", path)
    assert calls[0] == 3 and len(calls) == 4  # the batch, then each row again
    assert (report.created, report.unchanged, report.rejected) == (2, 1, [])
    assert _count(session, Enterprise) == 3
    # The refused attempt's feed entries went with it: one entry per enterprise created.
    assert session.execute(select(func.count(Change.seq))).scalar_one() == feed_before + 2


def test_imported_cells_follow_the_text_policy_a_bad_cell_costs_only_its_row(session, tree, tmp_path):
    units_csv = _write(tmp_path / "units.csv", [
        "jurisdiction_code,name,kind,parent,address,lon,lat,crs,accuracy_m",
        "500107,区市场监管局,部门,,杨家坪,106.51,29.50,,",
        "500107,\u200b,科室,区市场监管局,,,,,",
        "500107,登记\u202e科注,科室,区市场监管局,,,,,",
        "500107,综合窗口,窗口,区市场监管局,杨家坪\u2066正街,,,,",
        "500107,Cafe\u0301 窗口,窗口,区市场监管局,,,,,",
    ])
    report = _run(session, "units", units_csv)
    assert [(r.row, r.reason.split(":")[0]) for r in report.rejected] == [(3, "name"), (4, "name"), (5, "address")]
    assert "U+202E" in report.rejected[1].reason
    names = set(session.execute(select(Unit.name)).scalars())
    assert names == {"区市场监管局", "Café 窗口"}
