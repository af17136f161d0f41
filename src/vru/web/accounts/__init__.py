"""Accounts: email-login users, organisations, role groups and the append-only audit log."""
