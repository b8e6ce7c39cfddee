"""Callback sampling over HTTP: a CSV in, a reproducible sample out, assigned, called, turned into findings."""

import uuid

from tests.visits_fixtures import cases_csv, world  # noqa: F401

CSV = {"Content-Type": "text/csv"}


def _import(client, headers, raw, name="四月办件"):
    return client.post("/api/v1/callback-batches", headers={**headers, **CSV}, data=raw,
                       query_string={"name": name})


def _sample(client, headers, batch_id, **body):
    return client.post(f"/api/v1/callback-batches/{batch_id}/samples", headers=headers, json=body)


def _assign(client, headers, world, sample_id):
    return client.post("/api/v1/visit-tasks", headers=headers, json={
        "squad_id": str(world.squad.id), "method": "callback", "target": {"sample_id": sample_id},
        "theme": "四月办件回访", "window_start": "2026-05-11T08:30:00+08:00",
        "window_end": "2026-05-22T17:30:00+08:00"})


def test_a_csv_is_imported_once_and_posting_it_again_answers_the_same_batch(client, world, login):
    office = login(world.reviewer)
    raw = cases_csv(6) + "A-X,区规划自然资源局,x,not a date,x,139\n".encode()
    first = _import(client, office, raw)
    assert first.status_code == 201, first.get_json()
    batch = first.get_json()
    assert batch["case_count"] == 6 and batch["rejected"][0]["row"] == 8
    again = _import(client, office, raw, name="又一次")
    assert again.status_code == 200 and again.get_json()["id"] == batch["id"]
    cases = client.get(f"/api/v1/callback-batches/{batch['id']}/cases", headers=office).get_json()["items"]
    assert len(cases) == 6 and cases[0]["applicant_contact"] == "13900000001" and cases[0]["outcome"] is None
    assert cases[0]["unit_id"] == str(world.section.id)


def test_an_import_that_is_not_a_csv_with_the_documented_header_is_refused(client, world, login):
    office = login(world.reviewer)
    as_json = client.post("/api/v1/callback-batches", headers=office, json={"cases": []})
    assert as_json.status_code == 415 and as_json.mimetype == "application/problem+json"
    wrong = _import(client, office, b"number,name\n1,2\n")
    assert wrong.status_code == 422 and wrong.get_json()["errors"][0]["field"] == "_body"
    assert _import(client, login(world.alice.user), cases_csv(1)).status_code == 403


def test_a_seed_reproduces_a_sample_and_a_drawn_seed_is_returned(client, world, login):
    office = login(world.reviewer)
    batch = _import(client, office, cases_csv(30)).get_json()
    one = _sample(client, office, batch["id"], size=5, seed=123456789)
    assert one.status_code == 201, one.get_json()
    two = _sample(client, office, batch["id"], percent=16.66, seed=123456789).get_json()
    assert one.get_json()["case_nos"] == two["case_nos"] and len(two["case_nos"]) == 5
    assert two["requested_percent"] == 16.66 and two["algorithm"] == "fisher-yates-random-v1"
    drawn = _sample(client, office, batch["id"], size=5).get_json()
    replay = _sample(client, office, batch["id"], size=5, seed=drawn["seed"]).get_json()
    assert replay["case_nos"] == drawn["case_nos"]
    shown = client.get(f"/api/v1/callback-samples/{drawn['id']}", headers=office).get_json()
    assert shown["seed"] == drawn["seed"] and shown["case_nos"] == drawn["case_nos"]
    too_many = _sample(client, office, batch["id"], size=31)
    assert too_many.status_code == 422 and too_many.get_json()["errors"][0]["field"] == "size"
    both = _sample(client, office, batch["id"], size=3, percent=5)
    assert both.status_code == 422
    # A percentage is rounded up: 16.67 % of 30 cases is 5.001, so 6 are drawn.
    assert _sample(client, office, batch["id"], percent=16.67).get_json()["size"] == 6


def test_the_assigned_squad_calls_its_cases_and_a_problem_becomes_a_finding(client, world, login):
    office, alice, carol = login(world.reviewer), login(world.alice.user), login(world.carol.user)
    batch = _import(client, office, cases_csv(10)).get_json()
    sample = _sample(client, office, batch["id"], size=3, seed=99).get_json()
    task = _assign(client, office, world, sample["id"])
    assert task.status_code == 201 and task.get_json()["target"] == {
        "kind": "sample", "sample_id": sample["id"], "unit_id": None, "unit_name": None, "unit_kind": None,
        "enterprise_id": None, "enterprise_name": None, "place_name": None, "location": None}
    task_id = task.get_json()["id"]
    assert _assign(client, office, world, sample["id"]).status_code == 409
    cases = client.get(f"/api/v1/visit-tasks/{task_id}/cases", headers=alice).get_json()["items"]
    assert sorted(c["case_no"] for c in cases) == sorted(sample["case_nos"])
    assert all(c["applicant_contact"] for c in cases)
    assert client.get(f"/api/v1/visit-tasks/{task_id}/cases", headers=carol).status_code == 404
    call = {"id": str(uuid.uuid4()), "device_time": "2026-05-13T15:30:00+08:00", "case_id": cases[0]["id"],
            "called_at": "2026-05-13T15:20:00+08:00", "reached": True, "satisfied": False,
            "problem": "被要求先交一笔“加急费”。"}
    made = client.post("/api/v1/callbacks", headers=alice, json=call)
    assert made.status_code == 201, made.get_json()
    assert made.get_json()["task_id"] == task_id and made.get_json()["case_no"] == cases[0]["case_no"]
    assert client.post("/api/v1/callbacks", headers=alice, json=call).status_code == 200
    refused = client.post("/api/v1/callbacks", headers=carol, json={**call, "id": str(uuid.uuid4())})
    assert refused.status_code == 422 and refused.get_json()["errors"][0]["field"] == "case_id"
    outcome = client.get(f"/api/v1/visit-tasks/{task_id}/cases", headers=alice).get_json()["items"]
    assert next(c for c in outcome if c["id"] == cases[0]["id"])["outcome"]["calls"] == 1
    finding = client.post(f"/api/v1/callbacks/{made.get_json()['id']}/findings", headers=office, json={
        "id": str(uuid.uuid4()), "device_time": "2026-05-14T09:00:00+08:00", "category": "arbitrary_fees",
        "severity": "serious", "occurred_at": "2026-04-02T10:00:00+08:00", "description": call["problem"]})
    assert finding.status_code == 201, finding.get_json()
    linked = client.get("/api/v1/findings", headers=office,
                        query_string={"callback_id": made.get_json()["id"]}).get_json()["items"]
    assert [f["id"] for f in linked] == [finding.get_json()["id"]]
    assert linked[0]["unit_id"] == str(world.section.id) and linked[0]["squad_id"] == str(world.squad.id)


def test_samples_and_batches_are_the_offices_alone(client, world, login):
    office, alice = login(world.reviewer), login(world.alice.user)
    batch = _import(client, office, cases_csv(3)).get_json()
    sample = _sample(client, office, batch["id"], size=1).get_json()
    assert client.get(f"/api/v1/callback-batches/{batch['id']}", headers=alice).status_code == 404
    assert client.get(f"/api/v1/callback-samples/{sample['id']}", headers=alice).status_code == 404
    assert client.get("/api/v1/callback-samples", headers=alice).status_code == 403
    listed = client.get("/api/v1/callback-samples", headers=office).get_json()["items"]
    assert [s["id"] for s in listed] == [sample["id"]]


def test_every_list_showing_applicants_contacts_is_a_logged_disclosure_answered_no_store(client, world, login, session):
    """Issue 12 §2: every disclosure of an identity goes into the custody chain, and no cache keeps it."""
    from sqlalchemy import select

    from field.custody.models import CustodyEntry

    office, alice = login(world.reviewer), login(world.alice.user)
    batch = _import(client, office, cases_csv(4)).get_json()
    sample = _sample(client, office, batch["id"], size=2, seed=7).get_json()
    task_id = _assign(client, office, world, sample["id"]).get_json()["id"]

    def shown() -> list:
        session.expire_all()
        return [e for e in session.execute(select(CustodyEntry).where(
            CustodyEntry.kind == "applicant_contacts.shown")).scalars()]

    for path, who, expected_cases in ((f"/api/v1/callback-batches/{batch['id']}/cases", office, 4),
                                      (f"/api/v1/callback-samples/{sample['id']}/cases", office, 2),
                                      (f"/api/v1/visit-tasks/{task_id}/cases", alice, 2)):
        before = len(shown())
        resp = client.get(path, headers=who)
        assert resp.status_code == 200, (path, resp.get_json())
        items = resp.get_json()["items"]
        assert len(items) == expected_cases and all(i["applicant_contact"] for i in items), path
        assert "no-store" in resp.headers.get("Cache-Control", ""), path
        logged = shown()[before:]
        assert len(logged) == 1, path
        entry = logged[0]
        assert sorted(entry.data["case_ids"]) == sorted(i["id"] for i in items), path
        assert not any(i["applicant_contact"] in str(entry.data) for i in items), path  # ids, never the numbers
