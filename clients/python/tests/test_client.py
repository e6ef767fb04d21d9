"""The sessiond Python client against a live server at SESSIOND_TARGET."""

import datetime as dt
import os
import threading
import unittest
import uuid

import grpc

from sessiond import NewEvent, SessiondError, connect

TARGET = os.environ["SESSIOND_TARGET"]


def text(author, words, **extra):
    return NewEvent(author=author, content={"role": "user", "parts": [{"text": words}]}, **extra)


class ClientTest(unittest.TestCase):
    def setUp(self):
        self.client = connect(TARGET, timeout=20)
        self.app = "py-" + uuid.uuid4().hex[:10]
        self.user = "u1"

    def tearDown(self):
        self.client.close()

    def new_session(self, **kwargs):
        return self.client.create_session(self.app, self.user, **kwargs)

    def test_create_and_get(self):
        created = self.new_session(session_id="s1", state={"topic": "cats", "user:lang": "en", "temp:x": 1}, metadata={"m": True})
        self.assertEqual((created.id, created.app_name, created.user_id, created.status), ("s1", self.app, "u1", "active"))
        self.assertEqual(created.state, {"topic": "cats", "user:lang": "en"})
        self.assertEqual(created.metadata, {"m": True})
        self.assertEqual(created.last_sequence, 0)
        self.assertEqual(created.create_time.tzinfo, dt.timezone.utc)
        got = self.client.get_session(self.app, self.user, "s1")
        self.assertEqual(got, created)
        generated = self.new_session()
        self.assertNotEqual(generated.id, "")
        # user: state is shared with the user's other sessions
        self.assertEqual(generated.state, {"user:lang": "en"})

    def test_append_assigns_sequences_and_applies_state(self):
        s = self.new_session()
        first = self.client.append(self.app, self.user, s.id, text("user", "hi", id="e1"))
        self.assertEqual([(i, q) for i, q, _ in first.events], [("e1", 1)])
        batch = self.client.append(self.app, self.user, s.id, [text("agent", "a", state_delta={"n": 1}), text("user", "b", state_delta={"n": None, "m": 2})])
        self.assertEqual([q for _, q, _ in batch.events], [2, 3])
        self.assertEqual(batch.last_sequence, 3)
        # Retrying a stored id stores nothing twice.
        again = self.client.append(self.app, self.user, s.id, text("user", "hi", id="e1"))
        self.assertEqual((again.events[0][1], again.last_sequence), (1, 3))
        got = self.client.get_session(self.app, self.user, s.id)
        self.assertEqual(got.state, {"m": 2})
        self.assertEqual([e.sequence for e in got.events], [1, 2, 3])
        self.assertEqual(got.events[1].state_delta, {"n": 1})
        self.assertEqual(got.events[0].content, {"role": "user", "parts": [{"text": "hi"}]})
        self.assertEqual(got.events[0].metadata, None)
        self.assertEqual([e.sequence for e in self.client.get_session(self.app, self.user, s.id, num_recent_events=2).events], [2, 3])
        self.assertEqual(self.client.get_session(self.app, self.user, s.id, num_recent_events=0).events, [])

    def test_client_timestamps_and_update_time(self):
        s = self.new_session()
        when = dt.datetime(2024, 5, 6, 7, 8, 9, 123456, tzinfo=dt.timezone.utc)
        res = self.client.append(self.app, self.user, s.id, text("user", "old", timestamp=when))
        self.assertEqual(res.events[0][2], when)
        got = self.client.get_session(self.app, self.user, s.id)
        self.assertEqual(got.events[0].timestamp, when)
        self.assertEqual(got.update_time, when)

    def test_expected_last_sequence_conflict_is_aborted(self):
        s = self.new_session()
        self.client.append(self.app, self.user, s.id, text("user", "one"), expected_last_sequence=0)
        with self.assertRaises(SessiondError) as caught:
            self.client.append(self.app, self.user, s.id, text("user", "two"), expected_last_sequence=0)
        self.assertEqual(caught.exception.code, grpc.StatusCode.ABORTED)
        self.assertIn("expected_last_sequence", caught.exception.details)
        self.assertEqual(self.client.get_session(self.app, self.user, s.id).last_sequence, 1)

    def test_errors_carry_the_grpc_code(self):
        with self.assertRaises(SessiondError) as missing:
            self.client.get_session(self.app, self.user, "nope")
        self.assertEqual(missing.exception.code, grpc.StatusCode.NOT_FOUND)
        self.new_session(session_id="taken")
        with self.assertRaises(SessiondError) as taken:
            self.new_session(session_id="taken")
        self.assertEqual(taken.exception.code, grpc.StatusCode.ALREADY_EXISTS)
        with self.assertRaises(SessiondError) as bad:
            self.client.create_session("", self.user)
        self.assertEqual(bad.exception.code, grpc.StatusCode.INVALID_ARGUMENT)
        self.assertIn("app_name", bad.exception.details)
        with self.assertRaises(SessiondError) as gone:
            list(self.client.stream(self.app, self.user, "nope"))
        self.assertEqual(gone.exception.code, grpc.StatusCode.NOT_FOUND)
        self.client.delete_session(self.app, self.user, "taken")
        with self.assertRaises(SessiondError) as deleted:
            self.client.delete_session(self.app, self.user, "taken")
        self.assertEqual(deleted.exception.code, grpc.StatusCode.NOT_FOUND)

    def test_stream_reads_the_history_after_a_sequence(self):
        s = self.new_session()
        for start in (0, 600):  # at most 1000 events per call
            self.client.append(self.app, self.user, s.id, [text("user", f"m{i}") for i in range(start, start + 600)])
        streamed = [e.sequence for e in self.client.stream(self.app, self.user, s.id)]
        self.assertEqual(streamed, list(range(1, 1201)))
        self.assertEqual([e.sequence for e in self.client.stream(self.app, self.user, s.id, after_sequence=1195)], [1196, 1197, 1198, 1199, 1200])

    def test_follow_sends_history_then_new_events_and_resumes_after_a_sequence(self):
        s = self.new_session()
        self.client.append(self.app, self.user, s.id, [text("user", "1"), text("agent", "2")])
        caught_up = threading.Event()

        def append_later():
            caught_up.wait(10)
            self.client.append(self.app, self.user, s.id, [text("user", "3"), text("agent", "4")])

        writer = threading.Thread(target=append_later)
        writer.start()
        seen = []
        for event in self.client.follow(self.app, self.user, s.id, on_caught_up=caught_up.set, timeout=20):
            seen.append((event.sequence, event.author))
            if event.sequence == 3:
                break
        writer.join()
        self.assertTrue(caught_up.is_set())
        self.assertEqual(seen, [(1, "user"), (2, "agent"), (3, "user")])
        # Resuming after the last sequence received misses nothing and repeats nothing.
        resumed = []
        for event in self.client.follow(self.app, self.user, s.id, after_sequence=seen[-1][0], timeout=20):
            resumed.append(event.sequence)
            break
        self.assertEqual(resumed, [4])

    def test_follow_ends_with_an_error_when_the_session_is_deleted(self):
        s = self.new_session()
        stream = self.client.follow(self.app, self.user, s.id, on_caught_up=lambda: self.client.delete_session(self.app, self.user, s.id), timeout=20)
        with self.assertRaises(SessiondError) as ended:
            for _ in stream:
                pass
        self.assertEqual(ended.exception.code, grpc.StatusCode.NOT_FOUND)


if __name__ == "__main__":
    unittest.main()
