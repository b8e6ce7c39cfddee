"""Issue 8's retry storm with small counts: gunicorn workers behind a proxy that swallows answers.

Phones retry with the same UUID (some twice at once); the end state read from the database
must hold every acknowledged record once, with the phone's body, and nothing else.
"""

import uuid
from pathlib import Path

import pytest
from sqlalchemy import delete

from field.core.models.records import FieldRecord, RecordVersion
from field.visits.models import Finding
from stress import retry_storm
from stress.served import drop_database, gunicorn
from stress.world import add_phones, build
from tests.conftest import fresh_database_url


@pytest.fixture
def url(backend, tmp_path):
    url = fresh_database_url(backend, tmp_path, "_storm")
    yield url
    drop_database(url)


@pytest.fixture
def world(url, tmp_path):
    world = build(url, str(tmp_path / "evidence"))
    yield world
    world.close()


def test_a_retry_storm_through_a_lossy_proxy_stores_every_acknowledged_record_once(world, url, tmp_path):
    phones = add_phones(world, 6)
    with gunicorn(url, str(tmp_path / "evidence"), Path(tmp_path), workers=2) as served:
        result = retry_storm.storm(world, phones, served.base_url, records=120, drop=0.3, race=0.5)
        errors = served.server_errors()
    counts = result["counts"]
    assert result["failures"] == [] and errors == []
    assert counts["5xx"] == counts["duplicates"] == counts["lost"] == counts["body mismatches"] == 0
    assert counts["acknowledged"] + counts["unacknowledged"] == counts["sent"] == 120
    assert counts["stored"] == counts["acknowledged"] + counts["unacknowledged, stored"]
    # The storm did storm: answers were swallowed, records resent, some by two threads at once.
    assert counts["dropped"] > 0 and counts["retries"] > 0 and counts["raced retries"] > 0
    assert counts["replayed"] > 0 and counts["created"] > 0


def test_the_storm_check_finds_a_lost_a_twice_made_and_an_altered_record(world):
    """The end check is not blind: a finding deleted after its receipt, a second version of one,
    a changed description and a row no phone sent are each reported."""
    phones = add_phones(world, 2)
    queues = retry_storm.plan(world, phones, 8, retry_storm.office_today(), seed=1)
    client = world.app.test_client()
    for sent in (s for queue in queues for s in queue):
        resp = client.post(retry_storm.PATHS[sent.kind], json=sent.body, headers=sent.phone.headers)
        assert resp.status_code == 201, resp.get_json()
        sent.receipts.append(resp.get_json())
        sent.fresh += 1
    assert retry_storm.check(world, phones, queues)[1] == []

    findings = [s for queue in queues for s in queue if s.kind == "finding"]
    lost, twice, altered = findings[:3]
    stray = uuid.uuid4()
    with world.session() as s:
        s.execute(delete(RecordVersion).where(RecordVersion.record_id == lost.rid))
        s.execute(delete(Finding).where(Finding.id == lost.rid))
        s.execute(delete(FieldRecord).where(FieldRecord.id == lost.rid))
        first = s.get(RecordVersion, (twice.rid, 1))
        s.add(RecordVersion(record_id=twice.rid, version=2, body=first.body, body_hash=first.body_hash,
                            submitted_by_id=first.submitted_by_id))
        s.get(Finding, altered.rid).description = "改过的描述"
        s.commit()
    resp = client.post("/api/v1/findings", json=retry_storm.finding(world.unit_id, stray),
                       headers=phones[0].headers)
    assert resp.status_code == 201
    counts, failures = retry_storm.check(world, phones, queues)
    assert (counts["lost"], counts["duplicates"], counts["body mismatches"]) == (1, 2, 1)
    assert len(failures) == 4
