// Package sessionrpc is a framework for pomelo-style game clusters in Go:
// frontend servers hold client connections and sessions, backend servers read,
// bind, push settings to and kick those sessions through typed,
// code-generated RPC.
//
// The packages:
//   - runtime: the transport runtime generated code targets (errors,
//     codec, dispatch, interceptors, the in-process transport);
//   - runtime/jsonwire: what generated code encodes and decodes its
//     argument and result structs with, exactly as encoding/json would;
//   - runtime/tcp and runtime/natsrpc: network transports;
//   - cluster: discovery on NATS (members, their types, addresses and
//     incarnations), a membership-backed TCP resolver, calls by server type;
//   - session: the frontend session store;
//   - sessionremote: sys.sessionRemote, the backend session API, and the
//     session that travels with a call;
//   - presence: where users are across the cluster, calls on a user
//     everywhere, session events;
//   - otelrpc and slogrpc: OpenTelemetry tracing and metrics, and log/slog
//     logging, of calls and sessions;
//   - gen and cmd/rpcgen: the generator.
//
// This file also holds the go:generate lines that regenerate every checked-in
// generated file: run go generate in the repository root.
package sessionrpc

//go:generate go run ./cmd/rpcgen ./sessionremote ./presence ./internal/e2e ./cmd/tracesvg
//go:generate go run ./cmd/rpcgen ./cluster/internal/room ./internal/roomhandler
