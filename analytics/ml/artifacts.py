"""Trained models on disk: joblib bytes and their SHA-256. A file whose hash no longer matches
the one recorded at training time is refused, never unpickled."""

import hashlib
import io

import joblib


class ArtifactTampered(Exception):
    """The stored artifact is not the one that was trained: its hash differs."""


def artifact_dumps(obj) -> tuple[bytes, str]:
    buffer = io.BytesIO()
    joblib.dump(obj, buffer, compress=3)
    content = buffer.getvalue()
    return content, hashlib.sha256(content).hexdigest()


def artifact_loads(content: bytes, *, sha256: str):
    actual = hashlib.sha256(content).hexdigest()
    if not sha256 or actual != sha256:
        raise ArtifactTampered(f"artifact hash {actual} does not match the recorded {sha256}")
    return joblib.load(io.BytesIO(content))
