"""Rescue and Response: county-lines referrals and casework (issue 15; docs/web-referrals.md)."""
