// Package sessiond is a small typed client for sessiond, the session server
// for AI agents: Dial, then create, get, append, stream and follow sessions.
// The generated messages and stubs are in package sessiondv1 for the calls
// this package does not wrap. A failed call returns an error from which
// status.Code (google.golang.org/grpc/status) reads the gRPC code.
package sessiond

import (
	"context"
	"errors"
	"io"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/metadata"
	"google.golang.org/protobuf/types/known/structpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	pb "sessiond/clients/go/sessiondv1"
)

// Options configure Dial.
type Options struct {
	// Token is sent as "Authorization: Bearer <token>" on every call.
	Token string
	// TLS is used when set; otherwise the connection is plaintext.
	TLS credentials.TransportCredentials
	// DialOptions are passed on to grpc.Dial after the client's own.
	DialOptions []grpc.DialOption
}

// Client calls sessiond's SessionService over one connection.
type Client struct {
	conn  *grpc.ClientConn
	api   pb.SessionServiceClient
	token string
}

// Dial connects to the server at target ("host:port"). The connection is
// made lazily, so Dial fails only on bad options.
func Dial(target string, opts Options) (*Client, error) {
	dial := []grpc.DialOption{grpc.WithDefaultCallOptions(grpc.ForceCodec(protoCodec{}))}
	if opts.TLS != nil {
		dial = append(dial, grpc.WithTransportCredentials(opts.TLS))
	} else {
		dial = append(dial, grpc.WithInsecure())
	}
	conn, err := grpc.Dial(target, append(dial, opts.DialOptions...)...)
	if err != nil {
		return nil, err
	}
	return &Client{conn: conn, api: pb.NewSessionServiceClient(conn), token: opts.Token}, nil
}

// Close closes the connection; open streams end with codes.Canceled.
func (c *Client) Close() error { return c.conn.Close() }

// API is the generated client, for the calls this package does not wrap.
func (c *Client) API() pb.SessionServiceClient { return c.api }

func (c *Client) ctx(ctx context.Context) context.Context {
	if c.token == "" {
		return ctx
	}
	return metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+c.token)
}

// Key names one session.
type Key struct {
	AppName, UserID, SessionID string
}

// NewSession is what CreateSession needs; an empty SessionID lets the server pick one.
type NewSession struct {
	AppName, UserID, SessionID, AgentID string
	State, Metadata                     map[string]interface{}
}

// CreateSession creates a session; codes.AlreadyExists when its id is taken.
func (c *Client) CreateSession(ctx context.Context, s NewSession) (*pb.Session, error) {
	req := &pb.CreateSessionRequest{AppName: s.AppName, UserId: s.UserID, AgentId: s.AgentID}
	if s.SessionID != "" {
		req.SessionId = &s.SessionID
	}
	var err error
	if req.State, err = toStruct(s.State); err != nil {
		return nil, err
	}
	if req.Metadata, err = toStruct(s.Metadata); err != nil {
		return nil, err
	}
	res, err := c.api.CreateSession(c.ctx(ctx), req)
	if err != nil {
		return nil, err
	}
	return res.Session, nil
}

// GetSession returns the session with its events: all when recent is
// negative, else the newest recent ones (0: none). codes.NotFound when missing.
func (c *Client) GetSession(ctx context.Context, key Key, recent int32) (*pb.Session, error) {
	req := &pb.GetSessionRequest{AppName: key.AppName, UserId: key.UserID, SessionId: key.SessionID}
	if recent >= 0 {
		req.NumRecentEvents = &recent
	}
	res, err := c.api.GetSession(c.ctx(ctx), req)
	if err != nil {
		return nil, err
	}
	return res.Session, nil
}

// NewEvent is an event to append; zero ID and Timestamp are assigned by the server.
type NewEvent struct {
	ID, InvocationID, AgentID, Author, Branch string
	Timestamp                                 time.Time
	Content, StateDelta, Metadata             map[string]interface{}
	Partial, TurnComplete                     bool
}

// Event builds the message for e.
func (e NewEvent) Event() (*pb.Event, error) {
	out := &pb.Event{
		Id: e.ID, InvocationId: e.InvocationID, AgentId: e.AgentID, Author: e.Author, Branch: e.Branch,
		Partial: e.Partial, TurnComplete: e.TurnComplete,
	}
	var err error
	if out.Content, err = toStruct(e.Content); err != nil {
		return nil, err
	}
	if out.Metadata, err = toStruct(e.Metadata); err != nil {
		return nil, err
	}
	if e.StateDelta != nil {
		delta, err := toStruct(e.StateDelta)
		if err != nil {
			return nil, err
		}
		out.Actions = &pb.EventActions{StateDelta: delta}
	}
	if !e.Timestamp.IsZero() {
		out.Timestamp = timestamppb.New(e.Timestamp)
	}
	return out, nil
}

// Append stores events atomically with their state deltas and returns the
// server-assigned fields (id, sequence, timestamp) in order and the
// session's last sequence. With expectedLast non-nil the append fails with
// codes.Aborted, storing nothing, when the session's last sequence differs.
func (c *Client) Append(ctx context.Context, key Key, expectedLast *int64, events ...NewEvent) ([]*pb.Event, int64, error) {
	req := &pb.AppendEventsRequest{AppName: key.AppName, UserId: key.UserID, SessionId: key.SessionID, ExpectedLastSequence: expectedLast}
	for _, e := range events {
		m, err := e.Event()
		if err != nil {
			return nil, 0, err
		}
		req.Events = append(req.Events, m)
	}
	res, err := c.api.AppendEvents(c.ctx(ctx), req)
	if err != nil {
		return nil, 0, err
	}
	return res.Events, res.SessionLastSequence, nil
}

// Stream calls fn for each stored event with a sequence above
// afterSequence, in order, and returns when the history is sent (nil) or
// fn returns an error (that error).
func (c *Client) Stream(ctx context.Context, key Key, afterSequence int64, fn func(*pb.Event) error) error {
	return c.events(ctx, key, afterSequence, false, nil, fn)
}

// ErrStop, returned by a Follow or Stream callback, ends the call without error.
var ErrStop = errors.New("sessiond: stop")

// Follow calls fn for each stored event after afterSequence, then calls
// caughtUp (when not nil) once the history is sent, then fn for each new
// event as it is appended, until ctx ends or fn returns an error (ErrStop
// ends Follow with nil). To resume after an error such as codes.Unavailable,
// Follow again with afterSequence set to the last sequence received.
func (c *Client) Follow(ctx context.Context, key Key, afterSequence int64, caughtUp func(), fn func(*pb.Event) error) error {
	return c.events(ctx, key, afterSequence, true, caughtUp, fn)
}

func (c *Client) events(ctx context.Context, key Key, after int64, follow bool, caughtUp func(), fn func(*pb.Event) error) error {
	ctx, cancel := context.WithCancel(c.ctx(ctx))
	defer cancel()
	stream, err := c.api.GetEvents(ctx, &pb.GetEventsRequest{
		AppName: key.AppName, UserId: key.UserID, SessionId: key.SessionID,
		Filter: &pb.EventFilter{AfterSequence: after}, Follow: follow,
	})
	if err != nil {
		return err
	}
	for {
		res, err := stream.Recv()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		for _, e := range res.Events {
			if err := fn(e); err != nil {
				if errors.Is(err, ErrStop) {
					return nil
				}
				return err
			}
		}
		if res.CaughtUp && caughtUp != nil {
			caughtUp()
		}
	}
}

// DeleteSession deletes the session and its events; codes.NotFound when missing.
func (c *Client) DeleteSession(ctx context.Context, key Key) error {
	_, err := c.api.DeleteSession(c.ctx(ctx), &pb.DeleteSessionRequest{AppName: key.AppName, UserId: key.UserID, SessionId: key.SessionID})
	return err
}

func toStruct(m map[string]interface{}) (*structpb.Struct, error) {
	if m == nil {
		return nil, nil
	}
	return structpb.NewStruct(m)
}
