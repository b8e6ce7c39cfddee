"""Plausibility of a record's evidence: place, time, reuse (exact and perceptual), missing EXIF."""

from __future__ import annotations

import io
import uuid
from datetime import timedelta

import pytest
from PIL import Image

from evidence import pipeline
from field.attachments import derivation, links
from evidence.local_store import LocalBlobStore
from field.core import geo
from field.records import lifecycle as records
from field.core.models.platform import Role
from tests.upload_fixtures import (
    GPS_PHOTO,
    GPS_PHOTO_AT,
    GPS_PHOTO_TAKEN,
    NO_EXIF_PHOTO,
    POLICY,
    SMALL_PHOTO,
    WindowedNote,
    photo_bytes,
    receive_bytes,
    sha256,
    submit_record,
)

#: About 1.1 km east of where the GPS photo was taken (at 43.47° N a degree of longitude is ~80.8 km).
ONE_KM_EAST = (GPS_PHOTO_AT[0] + 0.0136, GPS_PHOTO_AT[1])


@pytest.fixture
def local_store(tmp_path):
    return LocalBlobStore(tmp_path / "evidence")


@pytest.fixture
def thresholds():
    """The configured plausibility thresholds, restored after a test that configures others."""
    before = links.current_thresholds()
    yield before
    links.configure(before)


def codes(flags) -> list[str]:
    return [flag.code for flag in flags]


def _derive(session, store, blob):
    derivation.claim_derivation(session, blob.sha256, lease=timedelta(minutes=1))
    session.commit()
    derivation.record_derivatives(session, blob, pipeline.make_derivatives(store, blob.sha256, policy=POLICY))
    session.commit()


def test_a_photo_taken_where_and_when_the_record_says_raises_no_flag(session, make_user, local_store):
    user = make_user(Role.squad_member)
    record = submit_record(session, user, at=GPS_PHOTO_AT, device_time=GPS_PHOTO_TAKEN + timedelta(hours=2))
    receive_bytes(session, local_store, user, photo_bytes(GPS_PHOTO), record.id)
    assert links.plausibility_for(session, record) == [] and not record.flag_implausible_evidence


def test_a_photo_taken_far_from_the_records_place_is_flagged_with_the_distance(session, make_user,
                                                                               local_store):
    user = make_user(Role.squad_member)
    record = submit_record(session, user, at=ONE_KM_EAST)
    receive_bytes(session, local_store, user, photo_bytes(GPS_PHOTO), record.id)
    flags = links.plausibility_for(session, record)
    assert codes(flags) == ["gps_far_from_record"] and record.flag_implausible_evidence
    assert flags[0].data["distance_m"] == pytest.approx(1100, abs=20)
    assert flags[0].data["distance_m"] == pytest.approx(
        geo.haversine_m(*ONE_KM_EAST, *GPS_PHOTO_AT), abs=1)


def test_the_records_accuracy_widens_the_allowance(session, make_user, local_store, thresholds):
    user = make_user(Role.squad_member)
    vague = submit_record(session, user, at=ONE_KM_EAST, accuracy_m=700)
    receive_bytes(session, local_store, user, photo_bytes(GPS_PHOTO), vague.id)
    assert links.plausibility_for(session, vague) == []
    strict = links.Thresholds(gps_max_distance_m=100)
    assert codes(links.plausibility_for(session, vague, strict)) == ["gps_far_from_record"]


def test_a_place_given_in_gcj02_is_compared_after_conversion_to_wgs84(session, make_user, local_store):
    """In Chongqing the GCJ-02 offset is ~500 m: comparing raw GCJ-02 to EXIF WGS-84 would flag an honest photo."""
    from evidence.photo import read_facts
    from field.core.crs import from_wgs84
    from field.core.locations import GivenLocation

    user = make_user(Role.squad_member)
    photo = photo_bytes("heic/mei__IMG_1034.heic")  # an iPhone 8 photo taken in Guangzhou
    facts = read_facts(io.BytesIO(photo))
    gcj = from_wgs84(facts.gps_lon, facts.gps_lat, "gcj02")
    stored = GivenLocation(*gcj, "gcj02").to_stored()
    assert geo.haversine_m(*gcj, facts.gps_lon, facts.gps_lat) > 300
    record = submit_record(session, user, at=(stored.lon, stored.lat))
    receive_bytes(session, local_store, user, photo, record.id, filename="IMG_1034.heic")
    assert "gps_far_from_record" not in codes(links.plausibility_for(session, record, links.Thresholds(100)))


def test_a_photo_taken_outside_the_records_time_window_is_flagged(session, make_user, local_store):
    user = make_user(Role.squad_member)
    late = submit_record(session, user, at=GPS_PHOTO_AT, device_time=GPS_PHOTO_TAKEN + timedelta(days=3))
    receive_bytes(session, local_store, user, photo_bytes(GPS_PHOTO), late.id)
    flags = links.plausibility_for(session, late)
    assert codes(flags) == ["captured_outside_window"]
    assert flags[0].data["captured_at"] == GPS_PHOTO_TAKEN.isoformat()
    wide = links.Thresholds(time_window=timedelta(days=4))
    assert links.plausibility_for(session, late, wide) == []


def test_a_record_kind_with_its_own_window_is_judged_by_it(session, make_user, local_store):
    user = make_user(Role.squad_member)
    # WindowedNote's evidence window is the hour before its device time: 20 minutes after is outside.
    after = submit_record(session, user, device_time=GPS_PHOTO_TAKEN - timedelta(minutes=20), kind=WindowedNote)
    before = submit_record(session, user, device_time=GPS_PHOTO_TAKEN + timedelta(minutes=20), kind=WindowedNote)
    for record in (after, before):
        receive_bytes(session, local_store, user, photo_bytes(GPS_PHOTO), record.id)
    assert "captured_outside_window" in codes(links.plausibility_for(session, after))
    assert "captured_outside_window" not in codes(links.plausibility_for(session, before))


def test_the_same_file_on_two_records_flags_both(session, make_user, local_store):
    user = make_user(Role.squad_member)
    first, second = submit_record(session, user, at=GPS_PHOTO_AT), submit_record(session, user, at=GPS_PHOTO_AT)
    data = photo_bytes(GPS_PHOTO)
    receive_bytes(session, local_store, user, data, first.id)
    assert links.plausibility_for(session, first) == []
    receive_bytes(session, local_store, user, data, second.id)
    session.refresh(first)
    for record, other in ((first, second), (second, first)):
        flags = links.plausibility_for(session, record)
        assert codes(flags) == ["same_photo_elsewhere"] and flags[0].data["record_ids"] == [str(other.id)]
    assert second.flag_implausible_evidence


def test_reuse_in_another_district_is_counted_without_naming_the_record(session, make_user, tree,
                                                                        local_store):
    here, there = make_user(Role.squad_member), make_user(Role.squad_member, jurisdiction=tree["other"])
    data = photo_bytes(SMALL_PHOTO)
    mine = submit_record(session, here)
    receive_bytes(session, local_store, here, data, mine.id)
    receive_bytes(session, local_store, there, data, submit_record(session, there).id)
    flag = next(f for f in links.plausibility_for(session, mine) if f.code == "same_photo_elsewhere")
    assert flag.data == {"count": 1, "record_ids": []}


def test_the_same_photo_re_encoded_is_flagged_once_both_are_derived(session, make_user, local_store):
    user = make_user(Role.squad_member)
    original = photo_bytes(GPS_PHOTO)
    buffer = io.BytesIO()
    with Image.open(io.BytesIO(original)) as im:
        im.resize((480, 360)).save(buffer, "JPEG", quality=60, exif=im.info.get("exif", b""))
    resent = buffer.getvalue()
    first, second = submit_record(session, user, at=GPS_PHOTO_AT), submit_record(session, user, at=GPS_PHOTO_AT)
    a = receive_bytes(session, local_store, user, original, first.id).blob
    b = receive_bytes(session, local_store, user, resent, second.id).blob
    assert links.plausibility_for(session, second) == []  # no perceptual hash before derivation
    _derive(session, local_store, a)
    _derive(session, local_store, b)
    flags = links.plausibility_for(session, second)
    assert codes(flags) == ["similar_photo_elsewhere"] and flags[0].data["record_ids"] == [str(first.id)]
    session.refresh(first)
    assert first.flag_implausible_evidence and second.flag_implausible_evidence


def test_different_photos_are_not_taken_for_the_same(session, make_user, local_store):
    user = make_user(Role.squad_member)
    first, second = submit_record(session, user), submit_record(session, user)
    for record, name in ((first, GPS_PHOTO), (second, "gps/mei__Sony_DSC-HX5V_2_.jpg")):
        _derive(session, local_store, receive_bytes(session, local_store, user, photo_bytes(name), record.id).blob)
    assert "similar_photo_elsewhere" not in codes(links.plausibility_for(session, second))


def test_a_photo_without_any_exif_is_flagged(session, make_user, local_store):
    user = make_user(Role.squad_member)
    record = submit_record(session, user)
    receive_bytes(session, local_store, user, photo_bytes(NO_EXIF_PHOTO), record.id)
    assert codes(links.plausibility_for(session, record)) == ["no_exif"]


def test_evidence_that_arrives_before_its_record_is_judged_when_the_record_comes(session, make_user,
                                                                                local_store):
    user, record_id = make_user(Role.squad_member), uuid.uuid4()
    receive_bytes(session, local_store, user, photo_bytes(GPS_PHOTO), record_id)
    record = submit_record(session, user, record_id, at=ONE_KM_EAST)
    assert record.flag_implausible_evidence


def test_an_amendment_that_moves_the_record_to_the_photo_clears_the_flag(session, make_user,
                                                                        local_store):
    user, reviewer = make_user(Role.squad_member), make_user(Role.reviewer)
    record = submit_record(session, user, at=ONE_KM_EAST)
    receive_bytes(session, local_store, user, photo_bytes(GPS_PHOTO), record.id)
    assert record.flag_implausible_evidence
    records.review(session, reviewer, record, "needs_info", "Where was this?")

    def apply():
        from shapely.geometry import Point
        record.location = geo.to_db(Point(*GPS_PHOTO_AT))

    records.amend(session, user, record, {"at": list(GPS_PHOTO_AT)}, apply)
    assert not record.flag_implausible_evidence


def test_only_the_submitters_own_attachments_count_for_a_record(session, make_user, local_store):
    user, stranger, record_id = make_user(Role.squad_member), make_user(Role.squad_member), uuid.uuid4()
    receive_bytes(session, local_store, stranger, photo_bytes(NO_EXIF_PHOTO), record_id)
    record = submit_record(session, user, record_id)
    assert links.record_attachments(session, record) == [] and not record.flag_implausible_evidence


def test_attachments_state_lists_declared_evidence_in_order_then_the_undeclared(session, make_user,
                                                                               local_store):
    user = make_user(Role.squad_member)
    gps, small, bare = photo_bytes(GPS_PHOTO), photo_bytes(SMALL_PHOTO), photo_bytes(NO_EXIF_PHOTO)
    record = submit_record(session, user, at=GPS_PHOTO_AT, declared=[sha256(small), sha256(gps)])
    for data in (bare, gps):
        receive_bytes(session, local_store, user, data, record.id)
    state = links.attachments_state(session, record)
    assert [(s.sha256, s.declared, s.arrived) for s in state] == [
        (sha256(small), True, False), (sha256(gps), True, True), (sha256(bare), False, True)]
    assert [codes(s.flags) for s in state] == [[], [], ["no_exif"]]


def test_the_configured_thresholds_are_used_when_none_are_given(session, make_user, local_store,
                                                                thresholds):
    user = make_user(Role.squad_member)
    record = submit_record(session, user, at=ONE_KM_EAST)
    receive_bytes(session, local_store, user, photo_bytes(GPS_PHOTO), record.id)
    links.configure(links.Thresholds(gps_max_distance_m=5_000))
    assert links.refresh_record_flags(session, record) == [] and not record.flag_implausible_evidence
