"""The collaboration app's admin, one module per area."""

from collaboration.admin import activity, calendar, chat, files, notifications, sharing, tasks

__all__ = ["activity", "calendar", "chat", "files", "notifications", "sharing", "tasks"]
