"""Intake: takes requests from council portals, applies the statutory rules, keeps each case's timeline."""
