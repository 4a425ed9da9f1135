"""Sharing adds no admin page of its own: record shares are kept in the ground floor, and their
page is crm.accounts.admin.RecordShareAdmin."""
