// Package cluster is sessionrpc's discovery: which servers are up, of what
// type, where, and which run of each ("incarnation"), kept on core NATS; a
// membership-backed TCP resolver; and calls by server type.
//
//	reg, err := cluster.Join(ctx, nc, cluster.Info{ID: "room-1", Type: "room", Addr: "10.0.0.7:3150"})
//	defer reg.Leave(ctx)
//
//	view, err := cluster.NewView(ctx, nc)                  // who is up, and changes as they happen
//	rooms := view.Members(cluster.OfType("room"))
//	events := view.Watch(ctx, cluster.OfType("room"))     // joined, updated, left
//
//	tr := tcp.NewTransport(view)                          // TCP peers found through membership
//	router := cluster.NewRouter(view, runtime.NewClient(tr))
//	err = NewRoomClient(router).Join(cluster.WithRouteKey(ctx, uid), "room", uid)
//
// # Why core NATS
//
// Membership needs only what every NATS server has: publish, subscribe,
// request and "no responders" (NATS 2.2 or later). Many deployments run
// NATS without JetStream, so discovery does not require it: members
// heartbeat, and views expire those that stop. A JetStream key-value
// bucket would need NATS 2.11 or later for expiry markers, would make
// discovery wait out a JetStream leader election (seconds) when a NATS node
// fails, and would still need a heartbeat per member (a bucket-wide MaxAge
// refreshed by Put; a Put clears a per-key TTL). The price of heartbeats is
// that every view hears every member's: N members and N views cost N
// messages published and N² delivered per heartbeat period (a view that
// needs only some types subscribes only to those, [WithTypes]).
//
// # Protocol
//
// Subjects live under a prefix, [DefaultSubjectPrefix] unless
// [WithSubjectPrefix]:
//
//	<prefix>.member.<type>.<id>   a member's announcements and heartbeats
//	<prefix>.whois.<id>           request: the record of id's holder
//	<prefix>.rollcall             request: every member answers with its record
//
// A record is JSON: op (join, update, leave, or none in an answer), id,
// type, frontend, addr, incarnation, started_unix_ns, state (serving,
// draining), version, leave_bound_ms, routes, metadata. A member publishes
// it when it joins, changes ([Registration.Update], [Registration.Drain])
// and leaves, and after its connection to NATS comes back. Between, it
// publishes a heartbeat every third of its leave bound (1 s by default: one
// message per member per second), "hb <incarnation> <version>
// <started_unix_ns>", about 60 bytes.
//
// A view subscribes to the member subjects. A heartbeat of an incarnation
// it has no record of, or of a newer version than its record, makes it
// fetch the record by request on whois, naming the incarnation. A new view
// asks everyone once, with a roll call; members answer within 100 ms, at
// random, so that the answers do not arrive at once.
//
// # Leaving
//
// A member that leaves ([Registration.Leave]) says goodbye and every view
// drops it at once. One that is killed, or cut from NATS, is dropped when
// nothing was heard of it for its leave bound ([DefaultLeaveBound], 3 s):
// within the bound of its last heartbeat, so between half the bound and
// the bound after it died. Before it leaves, a member may drain
// ([Registration.Drain]): routers stop picking it, calls by id still reach
// it.
//
// A view drops nobody while its own connection to NATS is down: it cannot
// tell their silence from its own deafness. When it hears again, every
// member gets a fresh leave bound: the grace. Time the view itself was not
// running (a stalled process, a starved machine) counts as nobody's
// silence. Before it drops anyone it proves its link with a
// round trip to NATS and handles every message that arrived before the
// answer. A member whose NATS node fails reconnects to another and
// announces itself at once; while that takes less than half its leave
// bound, no view notices. When more than a quarter of the members a view
// shows (and at least two) fall silent at once, which is what a NATS node
// failing over or congested looks like, the view gives them one more
// leave bound before it believes it; a real mass failure is reported
// within twice the bound. So a NATS node failing loses no member that
// stayed up.
//
// A member dropped as silent and heard again later (it was cut off longer
// than its bound) comes back into the view, from the record the view kept
// for a while, without every view fetching it at once.
//
// # One id, one server
//
// [Join] first asks whois for its id: a live holder answers, and Join fails
// with [ErrDuplicateID]. No responders means nobody holds it; no answer
// within a third of the leave bound means a holder that died without NATS
// noticing yet, and Join goes ahead. A server restarted right after a kill
// therefore comes back at once, under a new incarnation: views show it and
// report the old incarnation as left (Replaced). Two servers joining under
// one id at the same instant both pass the check; the later start keeps the
// id (equal starts: the greater incarnation), in every view alike, and the
// other gives it up with [ErrDuplicateID] as soon as it hears of the winner
// ([Registration.Done], [Registration.Err]). Start times come from each
// machine's clock: with clocks apart, a restarted server whose clock is
// behind comes back when its old incarnation's leave bound runs out rather
// than at once.
//
// An incarnation is 128 random bits in hex, printed in [Member.Incarnation].
// (ID, Incarnation) names one run of a server: [View.Lookup] says whether
// that run is still up, and [View.ResolveMember] hands it to a transport
// with the address.
package cluster
