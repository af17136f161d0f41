"""Local Village Network (issue 7): opportunities for young Londoners, Open Referral UK API."""
