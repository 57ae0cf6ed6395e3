"""Sign-in accounts, roles and the audit log."""
