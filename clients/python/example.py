import os
import uuid

from sessiond import NewEvent, SessiondError, connect

target = os.environ.get("SESSIOND_TARGET", "127.0.0.1:50051")
app, user = "demo", f"user-{uuid.uuid4().hex[:8]}"

with connect(target) as client:
    session = client.create_session(app, user, state={"user:lang": "en"})
    appended = client.append(app, user, session.id, [
        NewEvent(author="user", content={"role": "user", "parts": [{"text": "Plan a trip"}]}),
        NewEvent(author="planner", state_delta={"city": "Lisbon"}),
    ])
    print("last sequence:", appended.last_sequence)
    print("state:", sorted(client.get_session(app, user, session.id, num_recent_events=0).state.items()))

    for event in client.stream(app, user, session.id):
        print("stored:", event.sequence, event.author)

    # Follow from after sequence 1: the stored rest, then new events as they are appended.
    def append_more():
        client.append(app, user, session.id, NewEvent(author="user", content={"parts": [{"text": "Thanks"}]}))

    for event in client.follow(app, user, session.id, after_sequence=1, on_caught_up=append_more):
        print("followed:", event.sequence, event.author)
        if event.sequence == 3:
            break  # leaving the loop cancels the stream

    try:
        client.get_session(app, user, "no-such-session")
    except SessiondError as error:
        print("error:", error.code.name)
