package main

import (
	"context"
	"fmt"
	"log"
	"os"
	"time"

	"google.golang.org/grpc/status"

	"sessiond/clients/go/sessiond"
	pb "sessiond/clients/go/sessiondv1"
)

func main() {
	target := os.Getenv("SESSIOND_TARGET")
	if target == "" {
		target = "127.0.0.1:50051"
	}
	client, err := sessiond.Dial(target, sessiond.Options{Token: os.Getenv("SESSIOND_TOKEN")})
	if err != nil {
		log.Fatal(err)
	}
	defer client.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	session, err := client.CreateSession(ctx, sessiond.NewSession{
		AppName: "demo", UserID: fmt.Sprintf("user-%d", time.Now().UnixNano()),
		State: map[string]interface{}{"user:lang": "en"},
	})
	if err != nil {
		log.Fatal(err)
	}
	key := sessiond.Key{AppName: session.AppName, UserID: session.UserId, SessionID: session.Id}
	_, last, err := client.Append(ctx, key, nil,
		sessiond.NewEvent{Author: "user", Content: map[string]interface{}{"parts": []interface{}{map[string]interface{}{"text": "Plan a trip"}}}},
		sessiond.NewEvent{Author: "planner", StateDelta: map[string]interface{}{"city": "Lisbon"}},
	)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("last sequence:", last)

	err = client.Stream(ctx, key, 0, func(e *pb.Event) error {
		fmt.Println("stored:", e.Sequence, e.Author)
		return nil
	})
	if err != nil {
		log.Fatal(err)
	}

	// Follow from after sequence 1: the stored rest, then new events as they are appended.
	appendMore := func() {
		if _, _, err := client.Append(ctx, key, nil, sessiond.NewEvent{Author: "user"}); err != nil {
			log.Fatal(err)
		}
	}
	err = client.Follow(ctx, key, 1, appendMore, func(e *pb.Event) error {
		fmt.Println("followed:", e.Sequence, e.Author)
		if e.Sequence == 3 {
			return sessiond.ErrStop
		}
		return nil
	})
	if err != nil {
		log.Fatal(err)
	}

	_, err = client.GetSession(ctx, sessiond.Key{AppName: "demo", UserID: key.UserID, SessionID: "no-such-session"}, 0)
	fmt.Println("error:", status.Code(err))
}
