"""Key projects and enterprises under assigned service (包保 / 双百 / 365 / 四个一): design in docs/service.md §1.

Below ``approvals``: an approval case may name a key project, whose service secretary then sees it.
"""
