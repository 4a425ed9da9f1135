"""Gunicorn for production: several Uvicorn workers, each serving HTTP and WebSocket (ASGI)."""

import multiprocessing
import os

# Under ASGI every request runs its view in a thread of its own, so a connection kept for reuse
# (CONN_MAX_AGE) is never reused: it stays open until its thread is collected, and 16 concurrent
# clients on four workers used up PostgreSQL's 100 connections in seconds. Close each at the end
# of its request instead; put PgBouncer in front of PostgreSQL to save the connects.
os.environ.setdefault("CONN_MAX_AGE", "0")

bind = os.environ.get("BIND", "0.0.0.0:8000")
worker_class = "uvicorn_worker.UvicornWorker"
workers = int(os.environ.get("WEB_CONCURRENCY", multiprocessing.cpu_count() * 2))
# WebSocket connections stay open for hours; only a worker that stops answering is recycled.
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "60"))
graceful_timeout = 30
keepalive = 5
max_requests = 10_000
max_requests_jitter = 1_000
accesslog = "-"
errorlog = "-"
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
