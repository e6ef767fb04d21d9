"""Python client for sessiond, the session server for AI agents.

>>> from sessiond import connect, NewEvent
>>> client = connect("127.0.0.1:50051")

The generated messages and stubs are in ``sessiond.v1`` for calls the
wrapper does not cover.
"""

from sessiond.client import Appended, Event, NewEvent, Session, SessiondClient, SessiondError, connect

__all__ = ["Appended", "Event", "NewEvent", "Session", "SessiondClient", "SessiondError", "connect"]
