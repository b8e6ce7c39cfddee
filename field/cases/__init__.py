"""Accountability cases (问责 / 效能案件): from findings, reports and complaints to closure, on the clock.

Models (models.py). ``Case`` is an office object (not a phone record), scoped by
jurisdiction, numbered ``<year>-<area>-<seq>`` (``2026-500107-0012``): the year of opening,
the 6-digit division code of the case's district (a street's case is numbered in its
district) and a 4-digit sequence per area and year from ``case_counters``, whose row is
locked (``SELECT … FOR UPDATE``; SQLite serialises writers with ``BEGIN IMMEDIATE``) in the
transaction that inserts the case: a rolled-back opening gives its number back, so numbers
have neither gaps nor duplicates (numbering.py). Around it:

- ``case_sources``: field records of any kind (finding, report, inspection, callback …), by
  ``field_records.id``; the kind is read from the envelope, so no record module is imported.
- ``case_complaints`` + ``case_complainant_contacts``: a complaint taken by phone, letter,
  visit or online; who complained sits in its own table, read only by
  ``unmask_complainant`` (complainants.py: admins, with a reason, written to the custody log).
- ``case_subjects``: units and persons of the directory (in scope; a person carries their unit;
  parties.py).
- the clock: ``opened_on`` (office day, Asia/Shanghai) + the kind's limit in working days
  (``DEFAULT_TIME_LIMITS``, overridable per jurisdiction in ``case_time_limits``, snapshot on
  the case as ``time_limit_days``; time_limits.py) on ``field.core.calendar.calendar_for``
  gives ``deadline`` (deadlines.py: counted on weekends alone and marked provisional over a
  year without a declared schedule, recomputed when it is declared); ``case_delay_notices``
  (滞办告知书) are appended, never changed, and the latest new date, when later than the
  deadline, is the ``effective_deadline``. Overdue: not ended and ``effective_deadline`` < today.
- states: opened → investigating → deciding → rectifying → closed, and dismissed (with a
  reason) from any open state; ``InvalidTransition`` (409) names the allowed ones.
- ``case_gates``: the four don't-let-go, each once, with note, who, when and evidence
  (SHA-256s of evidence attached to the case's sources or to the case). Closing without
  all four raises ``GatesMissing`` (409 invalid-transition, ``missing_gates`` listed).
- ``case_dispositions``: per person (rank snapshot at decision) or per unit, with date and
  deciding authority; disciplinary sanctions with their system and grade (parties.py).
- ``case_notices``: 通报 text and date, refused (422 on ``text``) when it contains a monitor's
  real name or phone, or a complainant's name or contact, of the case's jurisdictions
  (notices.py).
- The case view (view.py): source envelopes, every piece of evidence, the timeline; the
  exports (exports.py: CSV, GeoJSON; evidence_zip.py: one case's evidence, verifiable).

Endpoints (api/cases.py, all under /api/v1, office staff only): ``cases`` (list with
``?overdue=true``, open), ``cases/export.csv`` and ``.geojson``, ``cases/<id>`` (view,
change), ``…/transitions``, ``…/sources``, ``…/subjects[/<id>]``, ``…/delay-notices``,
``…/gates``, ``…/dispositions``, ``…/notices``, ``…/timeline``, ``…/evidence[.zip]``,
``…/complainant`` (admins' unmask), ``case-kinds[/<kind>]`` (time limits). docs/cases.md
tells the whole story, the verification of an evidence ZIP included.

Data flow. Every verb takes the session and the acting user, checks the role (office staff
only: anyone else gets the same NotFound as for a missing case; rules.py), changes rows,
flushes and appends one custody entry (``subject_type="case"``), which is what the
timeline reads. Nothing commits; api/cases.py commits once per request.
"""
