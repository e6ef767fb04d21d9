package sessiond_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"sessiond/clients/go/sessiond"
	pb "sessiond/clients/go/sessiondv1"
)

// These tests need a live server: SESSIOND_TARGET=host:port.

func dial(t *testing.T) (*sessiond.Client, context.Context, string) {
	t.Helper()
	target := os.Getenv("SESSIOND_TARGET")
	if target == "" {
		t.Fatal("SESSIOND_TARGET is not set")
	}
	client, err := sessiond.Dial(target, sessiond.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(func() { cancel(); client.Close() })
	return client, ctx, fmt.Sprintf("go-%s-%d", t.Name(), time.Now().UnixNano())
}

func text(author, words string) sessiond.NewEvent {
	return sessiond.NewEvent{Author: author, Content: map[string]interface{}{"parts": []interface{}{map[string]interface{}{"text": words}}}}
}

func TestCreateAppendGet(t *testing.T) {
	client, ctx, app := dial(t)
	s, err := client.CreateSession(ctx, sessiond.NewSession{AppName: app, UserID: "u", SessionID: "s1", State: map[string]interface{}{"topic": "cats", "user:lang": "en"}})
	if err != nil {
		t.Fatal(err)
	}
	if s.Id != "s1" || s.LastSequence != 0 || s.State.AsMap()["topic"] != "cats" {
		t.Fatalf("created %v", s)
	}
	key := sessiond.Key{AppName: app, UserID: "u", SessionID: "s1"}
	when := time.Date(2024, 5, 6, 7, 8, 9, 123456000, time.UTC)
	first := text("user", "hi")
	first.ID, first.Timestamp = "e1", when
	second := text("agent", "hello")
	second.StateDelta = map[string]interface{}{"topic": "dogs", "n": 1.0}
	events, last, err := client.Append(ctx, key, nil, first, second)
	if err != nil {
		t.Fatal(err)
	}
	if last != 2 || len(events) != 2 || events[0].Id != "e1" || events[0].Sequence != 1 || events[1].Sequence != 2 {
		t.Fatalf("append assigned %v, last %d", events, last)
	}
	if !events[0].Timestamp.AsTime().Equal(when) {
		t.Fatalf("timestamp %v, want %v", events[0].Timestamp.AsTime(), when)
	}
	got, err := client.GetSession(ctx, key, -1)
	if err != nil {
		t.Fatal(err)
	}
	state := got.State.AsMap()
	if state["topic"] != "dogs" || state["n"] != 1.0 || state["user:lang"] != "en" || len(got.Events) != 2 || got.LastSequence != 2 {
		t.Fatalf("got %v", got)
	}
	if got.Events[0].Content.AsMap()["parts"].([]interface{})[0].(map[string]interface{})["text"] != "hi" {
		t.Fatalf("content %v", got.Events[0].Content)
	}
	recent, err := client.GetSession(ctx, key, 0)
	if err != nil || len(recent.Events) != 0 {
		t.Fatalf("no events wanted: %v %v", recent, err)
	}
}

func TestErrorsCarryTheGRPCCode(t *testing.T) {
	client, ctx, app := dial(t)
	key := sessiond.Key{AppName: app, UserID: "u", SessionID: "s1"}
	if _, err := client.GetSession(ctx, key, -1); status.Code(err) != codes.NotFound {
		t.Fatalf("missing session: %v", err)
	}
	if _, err := client.CreateSession(ctx, sessiond.NewSession{AppName: app, UserID: "u", SessionID: "s1"}); err != nil {
		t.Fatal(err)
	}
	if _, err := client.CreateSession(ctx, sessiond.NewSession{AppName: app, UserID: "u", SessionID: "s1"}); status.Code(err) != codes.AlreadyExists {
		t.Fatalf("taken id: %v", err)
	}
	zero := int64(0)
	if _, _, err := client.Append(ctx, key, &zero, text("user", "1")); err != nil {
		t.Fatal(err)
	}
	_, _, err := client.Append(ctx, key, &zero, text("user", "2"))
	if status.Code(err) != codes.Aborted {
		t.Fatalf("stale append: %v", err)
	}
	if _, err := client.CreateSession(ctx, sessiond.NewSession{UserID: "u"}); status.Code(err) != codes.InvalidArgument {
		t.Fatalf("no app name: %v", err)
	}
	err = client.Stream(ctx, sessiond.Key{AppName: app, UserID: "u", SessionID: "nope"}, 0, func(*pb.Event) error { return nil })
	if status.Code(err) != codes.NotFound {
		t.Fatalf("stream of a missing session: %v", err)
	}
}

func TestStreamAfterSequence(t *testing.T) {
	client, ctx, app := dial(t)
	key := sessiond.Key{AppName: app, UserID: "u", SessionID: "s1"}
	if _, err := client.CreateSession(ctx, sessiond.NewSession{AppName: app, UserID: "u", SessionID: "s1"}); err != nil {
		t.Fatal(err)
	}
	for batch := 0; batch < 2; batch++ {
		events := make([]sessiond.NewEvent, 600)
		for i := range events {
			events[i] = text("user", fmt.Sprint(batch*600+i))
		}
		if _, _, err := client.Append(ctx, key, nil, events...); err != nil {
			t.Fatal(err)
		}
	}
	var seen []int64
	if err := client.Stream(ctx, key, 0, func(e *pb.Event) error { seen = append(seen, e.Sequence); return nil }); err != nil {
		t.Fatal(err)
	}
	for i, s := range seen {
		if s != int64(i+1) {
			t.Fatalf("sequence %d at %d", s, i)
		}
	}
	if len(seen) != 1200 {
		t.Fatalf("%d events", len(seen))
	}
	seen = nil
	if err := client.Stream(ctx, key, 1197, func(e *pb.Event) error { seen = append(seen, e.Sequence); return nil }); err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(seen) != "[1198 1199 1200]" {
		t.Fatalf("after 1197: %v", seen)
	}
	boom := errors.New("boom")
	if err := client.Stream(ctx, key, 0, func(*pb.Event) error { return boom }); err != boom {
		t.Fatalf("callback error: %v", err)
	}
}

func TestFollowHistoryThenLiveThenResume(t *testing.T) {
	client, ctx, app := dial(t)
	key := sessiond.Key{AppName: app, UserID: "u", SessionID: "s1"}
	if _, err := client.CreateSession(ctx, sessiond.NewSession{AppName: app, UserID: "u", SessionID: "s1"}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := client.Append(ctx, key, nil, text("user", "1"), text("agent", "2")); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	caughtUp := false
	var seen []string
	err := client.Follow(ctx, key, 0, func() {
		caughtUp = true
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, _, err := client.Append(ctx, key, nil, text("user", "3"), text("agent", "4")); err != nil {
				t.Error(err)
			}
		}()
	}, func(e *pb.Event) error {
		seen = append(seen, fmt.Sprintf("%d:%s", e.Sequence, e.Author))
		if e.Sequence == 3 {
			return sessiond.ErrStop
		}
		return nil
	})
	wg.Wait()
	if err != nil || !caughtUp || fmt.Sprint(seen) != "[1:user 2:agent 3:user]" {
		t.Fatalf("follow: %v, caught up %v, saw %v", err, caughtUp, seen)
	}
	var resumed []int64
	err = client.Follow(ctx, key, 3, nil, func(e *pb.Event) error {
		resumed = append(resumed, e.Sequence)
		return sessiond.ErrStop
	})
	if err != nil || fmt.Sprint(resumed) != "[4]" {
		t.Fatalf("resume: %v %v", err, resumed)
	}
	// A follower ends when its context does.
	short, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
	defer cancel()
	err = client.Follow(short, key, 4, nil, func(*pb.Event) error { return nil })
	if status.Code(err) != codes.DeadlineExceeded {
		t.Fatalf("follow past its deadline: %v", err)
	}
}
