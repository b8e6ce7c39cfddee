"""Enterprise-inspection filings (涉企检查备案), compulsory-measure approvals and on-site inspection records.

Design (docs/inspections.md has the long form). Modules: inspectors.py (units, who sees what),
coverage.py (the matching rule and its re-judgement), filings.py, measures.py, inspections.py
(on-site records and the unfiled list).

Models (models.py):

- ``InspectorUnit``: which unit (a department or one of its sections) an inspector works
  for; one row per inspector, set by an admin. Filings, records and measure requests are
  made for the inspector's unit at the time the server receives them.
- ``InspectionFiling`` (FieldRecord kind ``filing``): the unit's planned inspection of one
  or more enterprises, of kind ``annual_plan``, ``ad_hoc`` or ``statutory_exempt``, with
  purpose, legal basis (and, when exempt, the basis of the exemption), the planned window
  and the unit's inspectors. Approval is the generic review: ``accepted`` is approved,
  ``rejected`` rejected, with the reviewer's note in the thread.
- ``CompulsoryMeasureApproval``: an office-side object, not a phone record. A compulsory
  measure (行政强制措施: sealing, seizure, freezing, other) planned in a filing or requested
  on its own, for one enterprise; ``requested`` → ``approved`` | ``rejected`` by office
  staff, with who, when and a note. One approval is recorded as taken at most once.
- ``InspectionRecord`` (FieldRecord kind ``inspection``): the on-site check-in (location in
  WGS-84 with accuracy, device time), the enterprise, the filing the phone names (may be
  none), what was checked and found, and the measure: none, order_to_rectify,
  first_violation_exemption (首违免罚), warning, fine (exact yuan, Numeric(12,2)) or
  compulsory_measure (an approved approval of the same unit and enterprise). Measure and
  fine are plain columns so figures (issue 6) can count and sum them per enterprise and
  period; ``inspected_on`` is the day of the inspection in Asia/Shanghai.

Rules:

- Ad-hoc filings must be made 5 working days ahead: the window may start on
  ``calendar_for(unit's jurisdiction).earliest_date_after_notice(filed_on, 5)`` or later,
  else 422 on ``planned_start`` with ``earliest`` in the problem. A notice running into a
  year without a declared schedule is counted on weekends alone and judged on that count
  (``earliest_provisional`` in the problem, ``notice_provisional`` on the filing); it is not
  judged again when the year is declared: the reviewer sees the flag. ``filed_on`` is the
  server's date in Asia/Shanghai when the filing is received: a phone's clock cannot
  backdate a filing, and a filing that waited offline counts from its arrival.
- Annual-plan filings (filed at the start of the year in the campaigns) are not held to the
  5-day rule. Chosen: they may be filed at any time, but a plan is for the future: the window
  may not start before the filing day, and it lies within one calendar year.
- Statutory-exempt filings (safety production and the like) need no prior approval and no
  notice, but are still filed, at the latest on the day the window starts (an emergency
  inspection is filed the same day); they cover inspections unless the office rejects them.
- No window is longer than 366 days or ends before it starts.
- ``approved_filing_covering`` is THE matching rule, also used for the contact-point
  engineer's enforcement-visit reports: an accepted filing, or a statutory-exempt one not
  rejected, of that unit (any unit when None) naming the enterprise, whose window contains
  the day.
- An inspection record's coverage is judged when it arrives (and when it is amended): the
  filing the phone names if that one covers, otherwise any covering filing of the unit;
  none sets ``flag_unfiled``. Because an approval can come after the record (the office
  reviews late), every verb that changes a filing (filing, amending, the review's decision)
  re-judges, explicitly and in its transaction, the records the filing could cover or did
  cover (``coverage.rejudge``; ``register_coverage_recheck`` lets other record kinds take part). Each change of coverage is a custody-log entry.
- The check-in is compared with the enterprise's stored position (both WGS-84):
  ``flag_far_from_target`` when distance − accuracy > ``far_threshold_m``
  (``FAR_FROM_TARGET_M``, 300 m by default), i.e. only when even the most favourable reading
  of the fix is too far. An enterprise without a position gives no distance and no flag.
- The inspection's time is the device time, corrected by the device's clock skew when the
  phone sent ``X-Device-Time``: a phone whose clock reset to 2019 still files its inspection
  on the right day. ``device_time`` is kept as sent.
- A compulsory measure recorded as taken must be approved (409 naming the measure
  otherwise), for the same enterprise and unit (422), and not taken in another record (409).

Visibility: office staff (admin, reviewer) see everything of their jurisdiction subtree;
an inspector sees their unit's filings, records and measure requests, and their own;
every other role sees none of it. Objects belong to the unit's jurisdiction. Ids in a body
that the caller may not see are a 422 naming the field.

Endpoints (api/inspections.py): ``/inspectors/<user_id>/unit`` (GET, PUT, DELETE; admin),
``/me/inspector-unit``, ``/inspection-filings`` (GET, POST), ``/inspection-filings/<id>``
(GET, PUT = amendment), ``/compulsory-measures`` (GET, POST), ``/compulsory-measures/<id>``
(GET), ``/compulsory-measures/<id>/decision`` (POST; office), ``/inspection-records`` (GET,
POST), ``/inspection-records/<id>`` (GET, PUT = amendment), ``/unfiled-inspections`` (GET;
office: every record kind flagged unfiled). Review, comments and versions are the generic
``/records/<id>/…`` endpoints.

Data flow: the view parses with schemas/inspections.py, passes plain dicts (positions as
``GivenLocation``, amounts as ``Decimal``), the server date and the threshold to one
function here, commits once and dumps the result. Submissions go through
``field.records.lifecycle.submit`` (create once per id, 409 for another body) with a canonical body,
so "5000" and "5000.00", or a time in another offset, are the same body.
"""
