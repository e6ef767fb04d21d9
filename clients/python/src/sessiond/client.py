"""A small typed client over the generated sessiond stubs.

Every call takes the session's key (app name, user id, session id) and
returns plain dataclasses with dicts for JSON values and aware datetimes for
times. A failed call raises :class:`SessiondError`, whose ``code`` is the
gRPC status.
"""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, Iterator, List, Mapping, Optional, Sequence, Tuple, Union

import grpc
from google.protobuf import json_format, struct_pb2, timestamp_pb2

from sessiond.v1 import session_pb2, session_service_pb2 as api, session_service_pb2_grpc

JsonObject = Dict[str, Any]


class SessiondError(Exception):
    """A call the server (or the connection) failed; ``code`` is the gRPC status, ``details`` its message."""

    def __init__(self, code: grpc.StatusCode, details: str):
        super().__init__(f"{code.name}: {details}")
        self.code = code
        self.details = details

    @classmethod
    def from_rpc(cls, error: grpc.RpcError) -> "SessiondError":
        return cls(error.code(), error.details() or "")  # type: ignore[attr-defined]


@dataclass(frozen=True)
class Event:
    """A stored event (or, with sequence 0, a partial one)."""

    id: str
    sequence: int
    author: str
    invocation_id: str
    agent_id: str
    branch: str
    timestamp: _dt.datetime
    content: Optional[JsonObject]
    state_delta: JsonObject
    metadata: Optional[JsonObject]
    partial: bool
    turn_complete: bool
    error_code: str
    error_message: str
    long_running_tool_ids: List[str]
    interrupted: bool

    @classmethod
    def from_proto(cls, e: session_pb2.Event) -> "Event":
        return cls(
            id=e.id,
            sequence=e.sequence,
            author=e.author,
            invocation_id=e.invocation_id,
            agent_id=e.agent_id,
            branch=e.branch,
            timestamp=_time(e.timestamp),
            content=_dict(e.content) if e.HasField("content") else None,
            state_delta=_dict(e.actions.state_delta) if e.actions.HasField("state_delta") else {},
            metadata=_dict(e.metadata) if e.HasField("metadata") else None,
            partial=e.partial,
            turn_complete=e.turn_complete,
            error_code=e.error_code,
            error_message=e.error_message,
            long_running_tool_ids=list(e.long_running_tool_ids),
            interrupted=e.interrupted,
        )


@dataclass(frozen=True)
class NewEvent:
    """An event to append. Unset id and timestamp are assigned by the server."""

    author: str = ""
    content: Optional[Mapping[str, Any]] = None
    state_delta: Optional[Mapping[str, Any]] = None
    id: str = ""
    invocation_id: str = ""
    agent_id: str = ""
    branch: str = ""
    timestamp: Optional[_dt.datetime] = None
    metadata: Optional[Mapping[str, Any]] = None
    partial: bool = False
    turn_complete: bool = False

    def to_proto(self) -> session_pb2.Event:
        e = session_pb2.Event(
            id=self.id,
            author=self.author,
            invocation_id=self.invocation_id,
            agent_id=self.agent_id,
            branch=self.branch,
            partial=self.partial,
            turn_complete=self.turn_complete,
        )
        if self.content is not None:
            e.content.CopyFrom(_struct(self.content))
        if self.state_delta is not None:
            e.actions.state_delta.CopyFrom(_struct(self.state_delta))
        if self.metadata is not None:
            e.metadata.CopyFrom(_struct(self.metadata))
        if self.timestamp is not None:
            e.timestamp.FromDatetime(self.timestamp.astimezone(_dt.timezone.utc))
        return e


@dataclass(frozen=True)
class Session:
    """A session with its merged state (``app:`` and ``user:`` keys included) and, from get_session, its events."""

    app_name: str
    user_id: str
    id: str
    agent_id: str
    status: str
    state: JsonObject
    metadata: JsonObject
    create_time: _dt.datetime
    update_time: _dt.datetime
    last_sequence: int
    events: List[Event] = field(default_factory=list)

    @classmethod
    def from_proto(cls, s: session_pb2.Session) -> "Session":
        return cls(
            app_name=s.app_name,
            user_id=s.user_id,
            id=s.id,
            agent_id=s.agent_id,
            status=session_pb2.SessionStatus.Name(s.status).removeprefix("SESSION_STATUS_").lower(),
            state=_dict(s.state),
            metadata=_dict(s.metadata),
            create_time=_time(s.create_time),
            update_time=_time(s.update_time),
            last_sequence=s.last_sequence,
            events=[Event.from_proto(e) for e in s.events],
        )


@dataclass(frozen=True)
class Appended:
    """What an append assigned: per event (in order) its id, sequence and timestamp; the session's last sequence."""

    events: List[Tuple[str, int, _dt.datetime]]
    last_sequence: int


class SessiondClient:
    """sessiond's SessionService over one gRPC channel. Use :func:`connect` to make one."""

    def __init__(self, channel: grpc.Channel, *, token: Optional[str] = None, timeout: Optional[float] = 30.0):
        self._channel = channel
        self._stub = session_service_pb2_grpc.SessionServiceStub(channel)
        self._metadata: Tuple[Tuple[str, str], ...] = (("authorization", f"Bearer {token}"),) if token else ()
        self._timeout = timeout

    def __enter__(self) -> "SessiondClient":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Closes the channel; streams still open end with CANCELLED."""
        self._channel.close()

    def create_session(
        self,
        app_name: str,
        user_id: str,
        *,
        session_id: Optional[str] = None,
        state: Optional[Mapping[str, Any]] = None,
        agent_id: str = "",
        metadata: Optional[Mapping[str, Any]] = None,
    ) -> Session:
        """Creates a session (the server picks the id when none is given). ALREADY_EXISTS when the id is taken."""
        req = api.CreateSessionRequest(app_name=app_name, user_id=user_id, agent_id=agent_id)
        if session_id is not None:
            req.session_id = session_id
        if state is not None:
            req.state.CopyFrom(_struct(state))
        if metadata is not None:
            req.metadata.CopyFrom(_struct(metadata))
        return Session.from_proto(self._unary(self._stub.CreateSession, req).session)

    def get_session(self, app_name: str, user_id: str, session_id: str, *, num_recent_events: Optional[int] = None) -> Session:
        """The session with its events (all, or the newest ``num_recent_events``; 0 for none). NOT_FOUND when missing."""
        req = api.GetSessionRequest(app_name=app_name, user_id=user_id, session_id=session_id)
        if num_recent_events is not None:
            req.num_recent_events = num_recent_events
        return Session.from_proto(self._unary(self._stub.GetSession, req).session)

    def delete_session(self, app_name: str, user_id: str, session_id: str) -> None:
        """Deletes the session and its events. NOT_FOUND when missing."""
        self._unary(self._stub.DeleteSession, api.DeleteSessionRequest(app_name=app_name, user_id=user_id, session_id=session_id))

    def append(
        self,
        app_name: str,
        user_id: str,
        session_id: str,
        events: Union[NewEvent, Sequence[NewEvent]],
        *,
        expected_last_sequence: Optional[int] = None,
    ) -> Appended:
        """Appends events atomically, applying their state deltas.

        With ``expected_last_sequence`` the append fails with ABORTED, storing
        nothing, when the session's last sequence differs. An event id already
        stored is an idempotent retry.
        """
        batch = [events] if isinstance(events, NewEvent) else list(events)
        req = api.AppendEventsRequest(app_name=app_name, user_id=user_id, session_id=session_id, events=[e.to_proto() for e in batch])
        if expected_last_sequence is not None:
            req.expected_last_sequence = expected_last_sequence
        res = self._unary(self._stub.AppendEvents, req)
        return Appended(
            events=[(e.id, e.sequence, _time(e.timestamp)) for e in res.events],
            last_sequence=res.session_last_sequence,
        )

    def stream(self, app_name: str, user_id: str, session_id: str, *, after_sequence: int = 0) -> Iterator[Event]:
        """The session's stored events with a sequence above ``after_sequence``, in order, then the iterator ends."""
        req = self._events_request(app_name, user_id, session_id, after_sequence, follow=False)
        yield from self._events(req, timeout=None, on_caught_up=None)

    def follow(
        self,
        app_name: str,
        user_id: str,
        session_id: str,
        *,
        after_sequence: int = 0,
        on_caught_up: Optional[Callable[[], None]] = None,
        timeout: Optional[float] = None,
    ) -> Iterator[Event]:
        """The stored events after ``after_sequence``, then each new one as it is appended.

        ``on_caught_up`` is called once, when the stored history has been sent.
        Leaving the loop cancels the stream. To resume after an error (e.g.
        UNAVAILABLE while the server restarts), follow again with
        ``after_sequence`` set to the last sequence received: nothing is missed
        or repeated.
        """
        req = self._events_request(app_name, user_id, session_id, after_sequence, follow=True)
        yield from self._events(req, timeout=timeout, on_caught_up=on_caught_up)

    def _events_request(self, app_name: str, user_id: str, session_id: str, after_sequence: int, follow: bool) -> api.GetEventsRequest:
        return api.GetEventsRequest(
            app_name=app_name,
            user_id=user_id,
            session_id=session_id,
            filter=api.EventFilter(after_sequence=after_sequence),
            follow=follow,
        )

    def _events(self, req: api.GetEventsRequest, timeout: Optional[float], on_caught_up: Optional[Callable[[], None]]) -> Iterator[Event]:
        call = self._stub.GetEvents(req, timeout=timeout, metadata=self._metadata)
        try:
            for res in call:
                for e in res.events:
                    yield Event.from_proto(e)
                if res.caught_up and on_caught_up is not None:
                    on_caught_up()
        except grpc.RpcError as error:
            raise SessiondError.from_rpc(error) from None
        finally:
            call.cancel()

    def _unary(self, method: Any, req: Any) -> Any:
        try:
            return method(req, timeout=self._timeout, metadata=self._metadata)
        except grpc.RpcError as error:
            raise SessiondError.from_rpc(error) from None


def connect(
    target: str,
    *,
    token: Optional[str] = None,
    credentials: Optional[grpc.ChannelCredentials] = None,
    timeout: Optional[float] = 30.0,
) -> SessiondClient:
    """A client for the server at ``target`` ("host:port"): plaintext, or TLS with ``credentials``.

    ``token`` is sent as ``Authorization: Bearer <token>``; ``timeout`` (seconds)
    bounds each unary call.
    """
    channel = grpc.secure_channel(target, credentials) if credentials is not None else grpc.insecure_channel(target)
    return SessiondClient(channel, token=token, timeout=timeout)


def _struct(value: Mapping[str, Any]) -> struct_pb2.Struct:
    s = struct_pb2.Struct()
    s.update(dict(value))
    return s


def _dict(s: struct_pb2.Struct) -> JsonObject:
    return json_format.MessageToDict(s)


def _time(ts: timestamp_pb2.Timestamp) -> _dt.datetime:
    return _dt.datetime.fromtimestamp(ts.seconds, _dt.timezone.utc) + _dt.timedelta(microseconds=ts.nanos // 1000)
