// Package natsrpc is the NATS transport of sessionrpc: calls travel as NATS
// requests through any NATS server or cluster, so that servers find each
// other by server id alone, wherever they run.
//
// A backend calls through a [Transport]; a frontend serves its
// [runtime.Dispatcher] with [Serve]. Both take a *nats.Conn the application
// builds, with whatever URLs, credentials and TLS its NATS needs ([Connect]
// adds reconnect defaults suited to RPC). Tests and demos can start an
// embedded NATS server with the natsembed sub-package; production code that
// connects to an external NATS never imports it.
//
// # Subjects
//
// Everything lives under a prefix, "sessionrpc" unless [WithSubjectPrefix]
// says otherwise, so that several clusters can share one NATS without
// hearing each other:
//
//	<prefix>.<serverID>   calls to serverID, and control messages for them
//	<inbox>.<callID>      answers, one reply subject per call
//
// A call is a NATS message on <prefix>.<serverID> whose body is the runtime
// request envelope ([runtime.AppendRequest]) and whose reply subject is the
// caller's inbox followed by a call id. The answer is the runtime response
// envelope. Every Transport subscribes once, to <inbox>.*, and matches
// answers to calls by id: no subscription per call.
//
// Server ids are single subject tokens: non-empty, without spaces, control
// characters, '.', '*' or '>'. Other ids are refused with InvalidArgument
// rather than escaped, so that a server's subject is readable in NATS
// monitoring and in permission lists.
//
// Control messages travel on the call subject itself, marked with the
// header Sessionrpc-Control, so that they reach the same subscription as
// calls: NATS keeps one connection's messages to one subscription in order,
// hence a control message always arrives after the call it names.
//
//	cancel  body: the reply subject of a call whose caller gave up; the
//	        server cancels that handler's context.
//	probe   body: reply subjects, one per line; the answer has one byte per
//	        line, '1' when the server still runs that call, '0' when it does
//	        not. An empty probe is a ping.
//
// # Failures
//
// A call to an id nobody serves gets NATS's "no responders" status at once,
// and fails with Unavailable. A call whose caller's deadline passes fails with
// DeadlineExceeded at the deadline; the deadline travels in the envelope, so
// the handler's context ends then too. A cancelled call fails with Canceled at
// once and sends a cancel message.
//
// A server stopped hard with [Server.Close] answers every call it was running
// with Unavailable before it goes, as the operating system resets the TCP
// connections of a process that dies. A process that really dies answers
// nothing: its NATS connection drops and its subscription goes with it. So
// that its callers do not wait for their deadlines (or forever, without one),
// a Transport probes the servers of calls that have waited longer than
// [WithProbeInterval] (default one second): "no responders" means the server
// is gone, and a server that answers but does not know the call (it
// restarted, or the answer was lost while NATS reconnected) has lost it;
// either way the call fails with Unavailable. A call is therefore never left
// waiting more than about two probe intervals after its server died. A server
// that is alive but slow answers '1' and its callers keep waiting.
//
// Unavailable means the call may or may not have run, as with any network:
// make calls that must not run twice idempotent, or check before retrying.
//
// # Identity
//
// NATS authenticates connections to the NATS server, not publishers to each
// other: a subscriber cannot tell who sent a message. The handler's
// [runtime.Peer] therefore carries only the caller's reply subject as its Addr
// (network "nats") and no Identity. Restrict who may publish to
// <prefix>.<serverID> with NATS permissions, or carry signed credentials in
// metadata and check them in an interceptor.
package natsrpc
