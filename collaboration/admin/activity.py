"""The activity feed adds no admin page of its own: the log is kept in the ground floor, and
its read-only page is crm.activity.admin.ActivityEventAdmin."""
