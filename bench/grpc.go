package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/encoding"
)

// grpc-go runs unary calls over loopback TCP without TLS, through a
// hand-written service descriptor, so that no protoc output is needed. The
// messages are encoded by a codec registered here rather than protobuf:
//
//   - "json" (peer grpc-go): encoding/json of [EchoMsg], the same
//     {"a0": message} that sessionrpc's generated code writes, so that both
//     stacks carry the same bytes;
//   - "raw" (peer grpc-go-raw): the message's bytes as they are, standing in
//     for protobuf, whose encoding of one short string field costs about as
//     little.

// jsonCodec is the grpc codec "json": encoding/json of *EchoMsg.
type jsonCodec struct{}

func (jsonCodec) Name() string                       { return "json" }
func (jsonCodec) Marshal(v any) ([]byte, error)      { return json.Marshal(v) }
func (jsonCodec) Unmarshal(data []byte, v any) error { return json.Unmarshal(data, v) }

// rawCodec is the grpc codec "raw": *EchoMsg as the bytes of its string.
type rawCodec struct{}

func (rawCodec) Name() string { return "raw" }

func (rawCodec) Marshal(v any) ([]byte, error) {
	m, ok := v.(*EchoMsg)
	if !ok {
		return nil, fmt.Errorf("raw codec: cannot encode %T", v)
	}
	return []byte(m.A0), nil
}

func (rawCodec) Unmarshal(data []byte, v any) error {
	m, ok := v.(*EchoMsg)
	if !ok {
		return fmt.Errorf("raw codec: cannot decode into %T", v)
	}
	m.A0 = string(data)
	return nil
}

func init() {
	encoding.RegisterCodec(jsonCodec{})
	encoding.RegisterCodec(rawCodec{})
}

// grpcMethod is the full name of the echo method.
const grpcMethod = "/bench.Echo/Echo"

// grpcEchoDesc is what protoc-gen-go-grpc would generate for
//
//	service Echo { rpc Echo(EchoMsg) returns (EchoMsg); }
var grpcEchoDesc = grpc.ServiceDesc{
	ServiceName: "bench.Echo",
	HandlerType: (*any)(nil),
	Methods: []grpc.MethodDesc{{
		MethodName: "Echo",
		Handler: func(_ any, ctx context.Context, dec func(any) error, _ grpc.UnaryServerInterceptor) (any, error) {
			in := new(EchoMsg)
			if err := dec(in); err != nil {
				return nil, err
			}
			return in, nil
		},
	}},
}

// grpcTarget is a unary echo client; all callers share its ClientConn (so
// one HTTP/2 connection), as a grpc-go program would.
type grpcTarget struct {
	peer string
	cc   *grpc.ClientConn
	srv  *grpc.Server
}

func newGRPC(*env) (target, error)    { return startGRPC("grpc-go", jsonCodec{}.Name()) }
func newGRPCRaw(*env) (target, error) { return startGRPC("grpc-go-raw", rawCodec{}.Name()) }

func startGRPC(peer, codec string) (target, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	srv := grpc.NewServer()
	srv.RegisterService(&grpcEchoDesc, nil)
	go srv.Serve(ln)
	cc, err := grpc.NewClient("passthrough:///"+ln.Addr().String(),
		grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithDefaultCallOptions(grpc.CallContentSubtype(codec)))
	if err != nil {
		srv.Stop()
		return nil, err
	}
	return &grpcTarget{peer: peer, cc: cc, srv: srv}, nil
}

func (t *grpcTarget) name() string { return t.peer }

func (t *grpcTarget) call(ctx context.Context) error {
	var out EchoMsg
	if err := t.cc.Invoke(ctx, grpcMethod, &EchoMsg{A0: message}, &out); err != nil {
		return err
	}
	return checkEcho(out.A0)
}

func (t *grpcTarget) close() { _ = t.cc.Close(); t.srv.Stop() }
