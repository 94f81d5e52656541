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
//	<prefix>.<serverID>      calls to serverID, and control messages for them
//	<prefix>.<serverID>.v2   batches of calls to serverID (see Batches)
//	<inbox>.<callID>         answers, one reply subject per call
//	<inbox>._                batches of answers
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
// # Batches
//
// Under load a Transport sends the calls it has for one server together,
// several in one NATS message on <prefix>.<serverID>.v2, and the server
// answers the calls of one caller that finish together in one message on
// <inbox>._: NATS routes, and nats.go reads and writes, one message for
// many calls, which plain request/reply cannot do. A lone call still goes
// at once, in a batch of one. Each call of a batch is its own: it has its
// own id, is charged to the budget, run and answered on its own, and its
// name in probes and cancels is its inbox and id, as the reply subject of a
// single call is; the control messages of a batched call go to the v2
// subject, after the batch that carried it. A batch is the byte 2 and then,
// per call, its id (uvarint), the length of its envelope (4 bytes, big
// endian) and the envelope; a server drops unread a batch of more than 1024
// calls, which no Transport sends (it closes a batch at 256 calls or 64
// KiB, and sends a call over 16 KiB alone).
//
// Servers serve both subjects, so transports of releases before batches
// keep calling them singly. A Transport sends a server batches only once the
// server has answered a hello on its v2 subject with a batch of answers:
// that server takes batches, and its answers reach the transport's inbox.
// Until then, and for 30 seconds after a hello went unanswered, NATS found
// nobody for a batch (a server of an older release took the id) or denied
// publishing one, it sends that server's calls singly; calls of a batch
// nobody took are sent again singly, so none fails for it.
// [WithBatches](false) keeps a Transport or a Server on single calls.
//
// Control messages cost a server little whatever a publisher sends: a cancel
// is one lookup; a probe is checked on the subscription's goroutine (at most
// 128 KiB, fewer than 1000 lines, none empty: what a Transport sends) and
// answered by a goroutine of its own from a queue of 64, at most 100,000
// probed calls a second, with no lock held for longer than one lookup. The
// rest are dropped unanswered.
//
// # Limits
//
// NATS has no connection per caller, so a [Server]'s limits are its own: it
// runs at most [WithMaxConcurrentCalls] handlers at once (default 4096),
// later calls waiting in arrival order, and the bytes of its calls and
// queued answers are bounded by the runtime server's budget
// ([runtime.WithServerBudget]); a call over it is answered ResourceExhausted
// at once, on the subscription's goroutine, without being decoded. Each call
// of a batch counts on its own, as if it had come alone. The subscription
// never waits for a handler.
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
// # Security
//
// Who may call whom is NATS's job, not natsrpc's. NATS authenticates
// connections (user and password, token, NKey, JWT credentials, TLS client
// certificates), all passed to [Connect] as nats.go options; a connection
// NATS refuses fails in Connect, so no Transport or Server exists without
// one. NATS accounts and per-user permissions then decide who may publish
// calls to which server and who may read the answers:
//
//	frontend connector-1: subscribe sessionrpc.connector-1, sessionrpc.connector-1.v2,
//	                                _INBOX_connector-1.>
//	                      publish   sessionrpc.connector-1 (for Serve's id check; optional)
//	                                _INBOX_backend-1.> (batches of answers, per caller)
//	                      allow_responses: true (answers to single calls)
//	backend:              subscribe _INBOX_backend-1.>
//	                      publish   sessionrpc.> (or the frontends it may call,
//	                                each as sessionrpc.<id> and sessionrpc.<id>.v2)
//
// A frontend that may not subscribe to its v2 subject, or may not publish to
// its callers' inboxes (only answer to reply subjects), serves every call
// singly: its callers' hellos go unanswered, and the server stops serving
// batches at the first batch of answers NATS denies (its connection's error
// handler hears of that one violation).
// Give each user an inbox prefix of its own with nats.CustomInboxPrefix and
// allow it to subscribe only there: whoever may subscribe to _INBOX.> reads
// everyone's answers.
//
// NATS drops a publish or subscription it denies and tells only the
// connection, through its error handler. A Transport listens there, so a
// call its user may not make fails at once with PermissionDenied, not at
// its deadline, and so does every call while it may not subscribe to its
// inbox; [Serve] fails if it may not subscribe to its subject. A handler
// set on the connection after [NewTransport] unhooks the transport.
//
// A subscriber cannot tell who published a message: the handler's
// [runtime.Peer] therefore carries only the caller's reply subject as its
// Addr (network "nats") and no Identity: [runtime.RequireIdentity] refuses
// every NATS call as Unauthenticated. To tell callers apart beyond NATS
// permissions, carry signed credentials in metadata and check them in an
// interceptor.
package natsrpc
