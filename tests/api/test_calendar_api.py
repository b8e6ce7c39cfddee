"""The working-day calendar through the API: official 调休, local overrides, declared and provisional years."""

from datetime import date

from field.core import calendar
from field.core.models.platform import Role


def _days(client, headers, start, end):
    resp = client.get("/api/v1/calendar/days", headers=headers, query_string={"from": start, "to": end})
    assert resp.status_code == 200, resp.get_json()
    return {d["date"]: d["working"] for d in resp.get_json()}


def test_national_day_2025_and_its_make_up_days(client, make_user, login):
    days = _days(client, login(make_user()), "2025-09-27", "2025-10-12")
    assert days["2025-09-28"] is True      # Sunday, worked to make up
    assert not any(days[f"2025-10-0{d}"] for d in range(1, 9))
    assert days["2025-10-09"] is True and days["2025-10-11"] is True   # Saturday, worked
    assert days["2025-10-12"] is False


def test_a_local_holiday_applies_below_the_admins_jurisdiction(client, make_user, login, tree):
    admin = login(make_user(Role.admin, jurisdiction=tree["city"]))
    resp = client.post("/api/v1/calendar/overrides", headers=admin,
                       json={"day": "2025-11-12", "working": False, "note": "local holiday"})
    assert resp.status_code == 201
    street_user = login(make_user(jurisdiction=tree["home_street"]))
    assert _days(client, street_user, "2025-11-12", "2025-11-12") == {"2025-11-12": False}


def test_a_lower_jurisdiction_can_override_a_higher_ones_override(session, make_user, tree):
    city_admin, district_admin = make_user(Role.admin, jurisdiction=tree["city"]), make_user(Role.admin)
    calendar.add_override(session, city_admin, day=date(2025, 11, 12), working=False)
    calendar.add_override(session, district_admin, day=date(2025, 11, 12), working=True)
    assert calendar.calendar_for(session, tree["home"]).is_working_day(date(2025, 11, 12))
    assert not calendar.calendar_for(session, tree["other"]).is_working_day(date(2025, 11, 12))


def test_a_day_of_a_year_without_a_schedule_is_answered_on_weekends_alone_and_marked_provisional(
        client, make_user, login):
    resp = client.get("/api/v1/calendar/days", headers=login(make_user()),
                      query_string={"from": "2031-03-02", "to": "2031-03-03"})
    assert resp.status_code == 200
    assert resp.get_json() == [{"date": "2031-03-02", "working": False, "provisional": True},
                               {"date": "2031-03-03", "working": True, "provisional": True}]


def test_an_admin_declares_a_year_with_its_schedule_and_its_days_follow_it(client, make_user, login):
    admin = login(make_user(Role.admin))
    # A made-up TEST schedule for 2031, not an official one.
    resp = client.post("/api/v1/calendar/years", headers=admin, json={
        "year": 2031, "holidays": ["2031-01-01", "2031-01-22", "2031-01-23"], "makeup_workdays": ["2031-01-19"]})
    assert resp.status_code == 201, resp.get_json()
    assert resp.get_json()["holidays"] == ["2031-01-01", "2031-01-22", "2031-01-23"]
    days = client.get("/api/v1/calendar/days", headers=admin,
                      query_string={"from": "2031-01-01", "to": "2031-01-02"}).get_json()
    assert days == [{"date": "2031-01-01", "working": False, "provisional": False},
                    {"date": "2031-01-02", "working": True, "provisional": False}]


def test_only_admins_change_the_calendar(client, make_user, login):
    resp = client.post("/api/v1/calendar/overrides", headers=login(make_user(Role.reviewer)),
                       json={"day": "2025-11-12", "working": False})
    assert resp.status_code == 403


def test_an_override_can_be_removed_and_a_duplicate_is_a_409(client, make_user, login):
    admin = login(make_user(Role.admin))
    first = client.post("/api/v1/calendar/overrides", headers=admin, json={"day": "2025-11-13", "working": False})
    dup = client.post("/api/v1/calendar/overrides", headers=admin, json={"day": "2025-11-13", "working": True})
    assert dup.status_code == 409
    assert client.delete(f"/api/v1/calendar/overrides/{first.get_json()['id']}", headers=admin).status_code == 204
    assert _days(client, admin, "2025-11-13", "2025-11-13") == {"2025-11-13": True}
