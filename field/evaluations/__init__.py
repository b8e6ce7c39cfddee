"""Evaluations (issue 15, docs/evaluations.md): enterprises and citizens rate the offices, their sections,
windows and section chiefs (千人评, 百名科长, 窗口月评), and every bad rating is put right (差评整改, after the
好差评 system, 国办发〔2019〕51号).

Modules: models.py (questionnaires, campaigns and targets, invitations, rater contacts, ballots and
their grades, rectifications); policy.py (who may do what: the one table); questionnaires.py
(questions as data, versions, XLSForm-like sheets); campaigns.py (campaigns, targets, one-time
codes); ballots.py (the public vote: once per code, idempotent, rate-limited per address);
rectifications.py (the bad-rating loop, appeals, escalation to a case, the rater's disclosure);
results.py (the figures, in SQL). It sits above cases (an overdue item becomes a case) and below
figures (the office's figures name the campaigns' results).
"""
