"""Local Village Network: opportunities for young Londoners, Open Referral UK API."""
