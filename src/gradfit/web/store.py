"""Where the server keeps sessions and uploads between requests: by id, bounded.

Both are kept in least-recently-used order; beyond their bounds the least recently
used are dropped (a dropped session answers 404 and the page asks to reload).
"""

from __future__ import annotations

import threading
import time
import uuid
from collections import OrderedDict

from gradfit.web.sessions import Session
from gradfit.web.settings import Settings
from gradfit.web.uploads import Upload

__all__ = ["SessionStore"]


class SessionStore:
    """Sessions and uploads by id, least recently used dropped beyond a bound.

    Parameters
    ----------
    max_sessions : int, default=500
    max_uploads : int, default=50
    """

    def __init__(self, max_sessions: int = 500, max_uploads: int = 50) -> None:
        self.sessions: OrderedDict[str, Session] = OrderedDict()
        self.uploads: OrderedDict[str, Upload] = OrderedDict()
        self.max_sessions, self.max_uploads = max_sessions, max_uploads
        self.lock = threading.Lock()

    def create(self, settings: Settings) -> Session:
        """A new session on ``settings``, kept under its id."""
        with self.lock:
            uploads = dict(self.uploads)
        # loading data and solving for the minimum happen outside the lock
        session = Session.create(settings, uploads)
        with self.lock:
            self.sessions[session.id] = session
            while len(self.sessions) > self.max_sessions:
                self.sessions.popitem(last=False)
        return session

    def get(self, session_id: str) -> Session | None:
        """The session, marked as just used (None: unknown or dropped)."""
        with self.lock:
            session = self.sessions.get(session_id)
            if session is not None:
                self.sessions.move_to_end(session_id)
                session.touched = time.monotonic()
            return session

    def get_upload(self, upload_id: str) -> Upload | None:
        """The upload, marked as just used (None: unknown or dropped)."""
        with self.lock:
            upload = self.uploads.get(upload_id)
            if upload is not None:
                self.uploads.move_to_end(upload_id)
            return upload

    def add_upload(self, upload: Upload) -> str:
        """Keep ``upload``; returns its new id."""
        upload_id = uuid.uuid4().hex
        with self.lock:
            self.uploads[upload_id] = upload
            while len(self.uploads) > self.max_uploads:
                self.uploads.popitem(last=False)
        return upload_id
