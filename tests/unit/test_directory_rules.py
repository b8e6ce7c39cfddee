"""Rules of the directory that need no database: member codes, positions in any CRS, areas, GeoJSON pages."""

import pytest

from api.located import feature_collection
from field.core.crs import distance_m, from_wgs84
from field.core.errors import InvalidInput
from field.core.locations import Area, GivenLocation
from field.directory.squads import MAX_CODES, member_code


def test_member_codes_run_a01_to_a99_then_b01_and_skip_i_and_o():
    assert [member_code("JLP", n) for n in (1, 7, 99, 100)] == ["JLP-A01", "JLP-A07", "JLP-A99", "JLP-B01"]
    letters = {member_code("X", n)[2] for n in range(1, MAX_CODES + 1)}
    assert "I" not in letters and "O" not in letters and len(letters) == 24
    assert len({member_code("X", n) for n in range(1, MAX_CODES + 1)}) == MAX_CODES
    with pytest.raises(ValueError):
        member_code("X", MAX_CODES + 1)


def test_a_gcj02_location_is_stored_as_wgs84_within_a_metre_of_amaps_own_example():
    stored = GivenLocation(116.487585177952, 39.991754014757, "gcj02", 5).to_stored()
    assert distance_m(stored.lon, stored.lat, 116.481499, 39.990475) < 1.0
    assert stored.accuracy_m == 5.0
    assert distance_m(*stored.in_crs("gcj02"), 116.487585177952, 39.991754014757) < 0.05


@pytest.mark.parametrize(("given", "field"), [
    (GivenLocation(106.5, 29.5, "bd09mc"), "location.crs"),
    (GivenLocation(29.5, 106.5), "location.coordinates"),
    (GivenLocation(106.5, 29.5, accuracy_m=-1), "location.accuracy_m"),
    (GivenLocation(106.5, 29.5, accuracy_m=float("nan")), "location.accuracy_m"),
])
def test_a_bad_location_names_the_member_at_fault(given, field):
    with pytest.raises(InvalidInput) as caught:
        given.to_stored()
    assert caught.value.fields[0].field == field


def test_a_file_names_its_own_columns_for_a_bad_location():
    with pytest.raises(InvalidInput) as caught:
        GivenLocation(29.5, 106.5).to_stored(field="", members={})
    assert caught.value.fields[0].field == "lat"


def test_an_area_reads_its_positions_in_the_requests_crs():
    gcj = from_wgs84(106.5, 29.5, "gcj02")
    area = Area.from_query(near=gcj, radius_m=100, crs="gcj02")
    assert distance_m(*area.near, 106.5, 29.5) < 0.05
    box = Area.from_query(bbox=(gcj[0] - 0.01, gcj[1] - 0.01, gcj[0] + 0.01, gcj[1] + 0.01), crs="gcj02").bbox
    assert box[0] < 106.5 < box[2] and box[1] < 29.5 < box[3]


@pytest.mark.parametrize(("query", "field"), [
    ({"radius_m": 100}, "near"), ({"nearest": 3}, "near"),
    ({"bbox": (106.6, 29.4, 106.5, 29.6)}, "bbox"), ({"near": (106.5, 29.5), "crs": "mercator"}, "crs"),
])
def test_an_area_that_cannot_be_is_refused_naming_the_field(query, field):
    with pytest.raises(InvalidInput) as caught:
        Area.from_query(**query)
    assert caught.value.fields[0].field == field


def test_a_page_becomes_a_feature_collection_with_the_location_as_geometry():
    page = {"items": [
        {"id": "a", "name": "甲", "location": {"type": "Point", "coordinates": [106.5, 29.5], "crs": "gcj02",
                                                "accuracy_m": 3.0}},
        {"id": "b", "name": "乙", "location": None}], "next_cursor": "c"}
    doc = feature_collection(page)
    assert doc["type"] == "FeatureCollection" and doc["next_cursor"] == "c"
    first, second = doc["features"]
    assert first == {"type": "Feature", "id": "a", "geometry": {"type": "Point", "coordinates": [106.5, 29.5]},
                     "properties": {"id": "a", "name": "甲", "location_crs": "gcj02", "location_accuracy_m": 3.0}}
    assert second["geometry"] is None and second["properties"] == {"id": "b", "name": "乙"}
