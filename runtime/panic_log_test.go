package runtime_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"strings"
	"testing"

	"github.com/sessionrpc/sessionrpc/runtime"
)

// A handler's panic is logged once, as one record whose stack is a list of
// frames (an array in JSON), with the panic's value; the caller gets a
// generic Internal error without the value.
func TestPanicLoggedOnceWithItsStack(t *testing.T) {
	var logs bytes.Buffer
	srv := runtime.NewServer(runtime.WithLogger(slog.New(slog.NewJSONHandler(&logs, nil))))
	const secret = "password=hunter2"
	srv.RegisterService(&runtime.ServiceDesc{Name: "p.svc", Methods: []runtime.MethodDesc{{
		Route: "p.svc.boom", NewArgs: func() any { return new(struct{}) },
		Handler: func(context.Context, any, any, any) error { panic(secret) },
	}}}, nil)
	net := runtime.NewInProc()
	if _, err := net.Serve("p", srv); err != nil {
		t.Fatal(err)
	}
	err := runtime.NewClient(net).Invoke(context.Background(), "p", "p.svc.boom", &struct{}{}, nil)
	if runtime.CodeOf(err) != runtime.Internal || strings.Contains(err.Error(), secret) {
		t.Fatalf("caller got %v: want Internal without the panic's value", err)
	}
	if !errors.Is(err, runtime.ErrPanicked) {
		t.Errorf("%v does not match runtime.ErrPanicked", err)
	}
	lines := strings.Split(strings.TrimSpace(logs.String()), "\n")
	if len(lines) != 1 {
		t.Fatalf("%d log records, want one:\n%s", len(lines), logs.String())
	}
	var rec struct {
		Level, Msg, Route, Panic string
		Stack                    []string
	}
	if err := json.Unmarshal([]byte(lines[0]), &rec); err != nil {
		t.Fatalf("log record %s: %v (is stack an array?)", lines[0], err)
	}
	if rec.Level != "ERROR" || rec.Route != "p.svc.boom" || rec.Panic != secret || len(rec.Stack) == 0 {
		t.Fatalf("log record %+v: want ERROR, the route, the panic's value and a stack", rec)
	}
	if !strings.Contains(strings.Join(rec.Stack, "\n"), "panic_log_test.go") {
		t.Errorf("the stack does not reach the handler that panicked:\n%s", strings.Join(rec.Stack, "\n"))
	}
}
