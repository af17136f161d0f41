"""Rescue and Response: county-lines referrals and casework (docs/web-referrals.md)."""
