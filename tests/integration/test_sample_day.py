"""`fieldwatch seed-demo --sample`: a small field day through the API on an empty database, never on one with data."""

from __future__ import annotations

import re

from sqlalchemy import func, select

from field.core.db import make_engine, make_session_factory
from tests.integration.test_cli import cli  # noqa: F401  (fixture)


def test_the_sample_day_gives_the_console_a_working_office_and_is_refused_on_a_used_database(cli, tmp_path,
                                                                                          monkeypatch):
    from field.all_models import Base  # noqa: F401  (every table mapped)
    from field.cases.models import Case, CaseGate
    from field.core.models.evidence import Attachment
    from field.core.models.records import FieldRecord

    monkeypatch.setenv("EVIDENCE_DIR", str(tmp_path / "evidence"))
    assert cli("seed-taxonomy").exit_code == 0
    first = cli("seed-demo", "--sample")
    assert first.exit_code == 0, first.output
    password = re.search(r"password: (\S+)", first.output).group(1)
    assert "demo-reviewer" in first.output and "half-way" in first.output
    engine = make_engine(cli.url)
    with make_session_factory(engine)() as session:
        kinds = dict(session.execute(select(FieldRecord.kind, func.count()).group_by(FieldRecord.kind)).all())
        assert kinds == {"finding": 1, "filing": 1, "report": 1}
        finding = session.execute(select(FieldRecord).where(FieldRecord.kind == "finding")).scalar_one()
        assert finding.flag_implausible_evidence  # the photo taken 12 km away
        assert session.scalar(select(func.count()).select_from(Attachment)) == 2
        case = session.execute(select(Case)).scalar_one()
        assert case.state.value == "deciding"
        assert session.scalar(select(func.count()).select_from(CaseGate)) == 2  # half-way through the four
    engine.dispose()
    # The demo reviewer signs in to the console and sees the finding waiting with its photos.
    from api import create_app
    from tests.web_fixtures import sign_in_with

    app = create_app({"DATABASE_URL": cli.url, "EVIDENCE_DIR": str(tmp_path / "evidence")})
    try:
        client = app.test_client()
        assert sign_in_with(client, "demo-reviewer", password).status_code == 303
        queue = client.get("/console/").get_data(as_text=True)
        assert queue.count('data-test="queue-row"') == 3 and "/thumb" in queue
    finally:
        app.extensions["ENGINE"].dispose()
    again = cli("seed-demo", "--sample")
    assert "no sample" in again.output
