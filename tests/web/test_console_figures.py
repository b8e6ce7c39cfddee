"""The figures page: charts drawn as SVG on the server from field/figures/figures.py, a CSV of its own sections
beside each, the period chosen in a form."""

from __future__ import annotations

import csv
import io
import re
from datetime import date

from tests.integration.test_cases import (  # noqa: F401  (fixtures)
    add_evidence,
    admin,
    directory,
    make_case,
    make_record,
    make_user,
    member,
    office,
)
from tests.web_fixtures import console, scan_page  # noqa: F401


def test_the_figures_page_draws_the_cases_against_the_previous_period_with_a_csv_beside_each(console, office,
                                                                                            make_case):
    make_case(title="一号案")
    make_case(title="二号案", opened_on=date(2026, 8, 20))
    signed_in = console(office["reviewer"])
    page = signed_in.get("/console/figures?from=2026-09-01&to=2026-09-30")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "2026-08-02" in html  # the previous period of the same length
    cases_card = html[html.index('data-test="figure-cases"'):html.index('data-test="figure-handling"')]
    svg = cases_card[cases_card.index("<svg"):cases_card.index("</svg>")]
    values = re.findall(r'class="chart-value(?: muted-value)?">([^<]*)<', svg)
    assert values[:2] == ["1", "1"]  # opened: one in September, one in the 30 days before
    widths = re.findall(r'class="bar-current"', svg)
    assert len(widths) == 4  # opened, closed, dismissed, overdue
    scan = scan_page(html)
    assert (scan.inline_scripts, scan.handlers, scan.styles, scan.scripts) == ([], [], [], [
        "/assets/vendor/htmx-2.0.11/htmx.min.js"])
    links = re.findall(r'href="(/console/figures\.csv\?[^"]+)" data-test="csv-(\w+)"', html)
    assert {section for _href, section in links} == {"cases", "units", "inspections", "points", "callbacks"}
    href = dict((s, h) for h, s in links)["cases"].replace("&amp;", "&")
    resp = signed_in.get(href)
    assert resp.status_code == 200 and resp.mimetype == "text/csv"
    rows = list(csv.reader(io.StringIO(resp.get_data(as_text=True).lstrip("\ufeff"))))
    assert rows[0][0] == "section" and {r[0] for r in rows[1:]} <= {"cases", "warnings"}
    opened = next(r for r in rows if r[0] == "cases" and r[3] == "opened")
    assert opened[4:6] == ["1", "1"]


def test_a_period_that_ends_before_it_starts_is_shown_as_an_error(console, office):
    resp = console(office["reviewer"]).get("/console/figures?from=2026-09-30&to=2026-09-01")
    assert resp.status_code == 422
