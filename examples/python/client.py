#!/usr/bin/env python3
"""sessiond from Python: create a session, append events (one with a state
delta), stream them back with GetEvents, and check what the server returns.

Run ./generate.sh first. Exits 0 when every check passes, 1 on a mismatch,
2 when a call fails.
"""

import argparse
import os
import sys
import uuid

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "gen"))

import grpc  # noqa: E402
from google.protobuf import struct_pb2  # noqa: E402
from sessiond.v1 import session_pb2, session_service_pb2, session_service_pb2_grpc  # noqa: E402


def struct(value):
    """A google.protobuf.Struct from a dict."""
    s = struct_pb2.Struct()
    s.update(value)
    return s


def text_event(author, text, state_delta=None):
    event = session_pb2.Event(
        author=author,
        content=struct({"role": "user" if author == "user" else "model", "parts": [{"text": text}]}),
    )
    if state_delta is not None:
        event.actions.state_delta.CopyFrom(struct(state_delta))
    return event


def text_of(event):
    return " ".join(p["text"] for p in event.content["parts"] if "text" in p)


failures = []


def check(condition, message):
    print(("ok   " if condition else "FAIL ") + message)
    if not condition:
        failures.append(message)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--target", default=os.environ.get("SESSIOND_TARGET", "127.0.0.1:50051"),
                        help="host:port of sessiond (default 127.0.0.1:50051, env SESSIOND_TARGET)")
    parser.add_argument("--app", default="python-example")
    args = parser.parse_args()

    with grpc.insecure_channel(args.target) as channel:
        stub = session_service_pb2_grpc.SessionServiceStub(channel)
        user = "py-" + uuid.uuid4().hex[:8]
        key = {"app_name": args.app, "user_id": user}

        created = stub.CreateSession(
            session_service_pb2.CreateSessionRequest(**key, state=struct({"user:lang": "en"})), timeout=10
        ).session
        key["session_id"] = created.id
        print(f"created session {created.id} for {user} in {args.app}")

        first = stub.AppendEvent(
            session_service_pb2.AppendEventRequest(**key, event=text_event("user", "Plan a trip to Lisbon")), timeout=10
        )
        print(f"appended #{first.event.sequence} id={first.event.id}")
        batch = stub.AppendEvents(
            session_service_pb2.AppendEventsRequest(
                **key,
                events=[
                    text_event("planner", "Three days: Alfama, Belem, Sintra.", state_delta={"turns": 1, "city": "Lisbon"}),
                    text_event("user", "Thanks!"),
                ],
            ),
            timeout=10,
        )
        print(f"appended #{', #'.join(str(e.sequence) for e in batch.events)}; last sequence {batch.session_last_sequence}")
        check(first.event.sequence == 1, "first append got sequence 1")
        check([e.sequence for e in batch.events] == [2, 3], "batch got sequences 2 and 3")
        check(batch.session_last_sequence == 3, "session's last sequence is 3")

        # GetEvents streams the history in sequence order, several events per message.
        streamed = []
        for response in stub.GetEvents(session_service_pb2.GetEventsRequest(**key), timeout=10):
            streamed.extend(response.events)
        for e in streamed:
            print(f"  #{e.sequence} {e.author}: {text_of(e)}")
        check([e.sequence for e in streamed] == [1, 2, 3], "GetEvents returned sequences 1, 2, 3")
        check([e.author for e in streamed] == ["user", "planner", "user"], "authors in order")
        check(text_of(streamed[1]) == "Three days: Alfama, Belem, Sintra." if len(streamed) > 1 else False, "content round-trips")
        check(len(streamed) > 1 and dict(streamed[1].actions.state_delta) == {"turns": 1, "city": "Lisbon"},
              "the state delta is stored with its event")

        # With follow=True the server marks the end of the history, then would
        # keep sending new events; cancel once caught up.
        call = stub.GetEvents(session_service_pb2.GetEventsRequest(**key, follow=True), timeout=10)
        history, caught_up = 0, False
        for response in call:
            history += len(response.events)
            if response.caught_up:
                caught_up = True
                call.cancel()
                break
        check(caught_up and history == 3, "follow sends the 3 events, then caught_up")

        session = stub.GetSession(session_service_pb2.GetSessionRequest(**key, num_recent_events=0), timeout=10).session
        state = dict(session.state)
        print(f"state: {state}")
        check(state == {"user:lang": "en", "turns": 1, "city": "Lisbon"}, "state merges the delta with the initial state")
        check(session.last_sequence == 3, "GetSession reports last sequence 3")

    if failures:
        print(f"{len(failures)} check(s) failed", file=sys.stderr)
        return 1
    print("all checks passed")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except grpc.RpcError as error:
        print(f"call failed: {error.code().name}: {error.details()}", file=sys.stderr)
        sys.exit(2)
