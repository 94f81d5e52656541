package main

import (
	"context"
	"errors"
	"fmt"
)

//go:generate go tool rpcgen .

// message is the request every peer sends and expects back: 48 bytes, carried
// the way each stack carries a payload (see RESULTS.md for the bytes on the
// wire).
const message = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKL"

// Echo is the service the sessionrpc peers call through generated code: a
// method with one string argument and one string result.
//
//rpcgen:service bench.echo
type Echo interface {
	// Echo returns msg.
	Echo(ctx context.Context, msg string) (string, error)
}

// EchoMsg is the request and the response of the peers that carry a struct
// through a codec (grpc-go, arpc, rpcx): the message in one field, so that
// JSON writes {"a0":"…"}, what sessionrpc's generated code writes for the
// argument of Echo. It is exported because rpcx, like net/rpc, serves only
// exported argument types.
type EchoMsg struct {
	A0 string `json:"a0"`
}

// echoServer implements [Echo].
type echoServer struct{}

func (echoServer) Echo(_ context.Context, msg string) (string, error) { return msg, nil }

// errMismatch is what a call returns when the answer is not the request.
var errMismatch = errors.New("echo mismatch")

// checkEcho reports whether got is the message sent.
func checkEcho(got string) error {
	if got != message {
		return fmt.Errorf("%w: got %q", errMismatch, got)
	}
	return nil
}

// checkEchoBytes is [checkEcho] for an answer in bytes; the comparison does
// not copy them.
func checkEchoBytes(got []byte) error {
	if string(got) != message {
		return fmt.Errorf("%w: got %q", errMismatch, got)
	}
	return nil
}
