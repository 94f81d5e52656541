// Package presence is where users are across a cluster and what happens to
// their sessions: a uid index kept by the frontends, calls on a user
// wherever they are, and the lifecycle of sessions as events for backends.
//
// pomelo users asked for years to find or kick a user across connectors
// (pomelo #230, #579, #742), and pitaya's for session events on backends
// (#32, #382): in sys.sessionRemote every call names one frontend.
//
//	// On each frontend, beside its session store:
//	fe, err := presence.NewFrontend(ctx, nc, store)
//	presence.RegisterPresenceRemoteServer(srv, fe)
//
//	// On a backend:
//	dir, err := presence.NewDirectory(ctx, nc, view, client)
//	locs, err := dir.Locate(ctx, "alice")                        // []Location: frontend, run, sids
//	res := dir.KickByUIDEverywhere(ctx, "alice", "banned")        // each frontend's outcome
//	ds := dir.PushByUIDs(ctx, "onChat", msg, []string{"alice", "bob"})
//	sub, err := presence.Subscribe(ctx, nc, presence.ForUID("alice"))
//
// # The uid index
//
// A JetStream key-value bucket ([DefaultBucket]) holds, under a key made
// of the uid (base64url: keys allow only [-/_=.a-zA-Z0-9], uids are any
// string), the frontends that have sessions of the uid, each with its run
// (incarnation) and the session ids in bind order. Each frontend writes only
// its own part of an entry, with compare-and-set on the entry's revision,
// and removes the entry when it leaves nothing in it. [Directory.Locate] is
// one direct read, whatever the number of frontends; it keeps only the
// parts of runs its cluster view lists, so that a frontend that died drops
// out of every answer within membership's leave bound of its death. A
// reader that knows such a run is gone (the view replaced it with a new run
// of its id, the reader saw it leave, or its part is older than a minute,
// longer than a join takes to spread) also removes it from the index, in
// the background. It tells that run, which writes its part again should it
// be alive after all (it was cut off longer than the leave bound); a
// frontend also writes all of its users again whenever its NATS connection
// comes back.
//
// How far the index lags: a bind, unbind or close is acknowledged once the
// store has made it; the frontend then marks the uid, and one of its index
// workers ([WithIndexWorkers], 4) writes what the store has of the uid then,
// one JetStream round trip (two when another frontend changed the entry
// since). So on a frontend that is not in a burst, the index has a change
// within a few round trips to JetStream of its acknowledgement: a few
// milliseconds (TestIndexLag measures under 10 ms on a loaded 2-core
// machine, and fails past 5 s). A burst of changes queues, and changes of
// one uid coalesce into one write: the lag is then the burst's distinct uids
// over the workers, times a round trip (a mass login of 300,000 users on one
// embedded NATS server took 22 s to index, bench -scale). While JetStream is
// unavailable, the writes wait and are tried again, and the index lags by
// that long. [Frontend.Sync] waits until the index has every change made
// before it.
//
// The index needs JetStream (NATS 2.11 or later, for the markers of removed
// entries to expire). Without JetStream on the NATS server, frontends and
// directories run without it: [Directory.Locate] fails with [ErrNoIndex],
// since the only answer left is asking every frontend, which is what the
// cluster-wide calls then do, by name.
//
// # Cluster-wide calls
//
// [Directory.GetByUIDEverywhere] and [Directory.KickByUIDEverywhere] go to
// the frontends the index names; when there is no index, its entry names no
// live run, or every run it names answers that it has nothing of the uid
// (the index lagged a move), they go to every frontend in membership. Every
// frontend asked gets an [Outcome]: Done, None, or Unavailable with its
// error; [Result.Err] reports a partial failure, never hides it. They
// return by the caller's deadline. [Directory.PushByUIDs] is pomelo's
// channelService.pushMessageByUids: locate, then one sys.presence.pushMessage
// per frontend that holds some of the users, whose connections take the
// message ([session.Conn]'s Send); one [Delivery] per uid.
//
// # Session events
//
// A [Frontend] publishes each bind, unbind and close of its sessions on
// core NATS, on <prefix>.<partition>.<frontend id>, JSON:
//
//	{"type":"bound","frontend":"connector-1","incarnation":"…","seq":17,"partition":42,"sid":7,"uid":"alice"}
//
// [Subscribe] hears every frontend, or with [ForUID] one uid's partition,
// and delivers [Event]s. The store tells a frontend of one session's
// changes in the order they were made (see [session.Observer]), and the
// frontend numbers and publishes them in that order on one connection,
// which NATS keeps: events of one session arrive in order. Delivery is at
// most once: NATS stores nothing, and drops messages for a subscriber that
// falls too far behind. Each run of a frontend numbers its events 1, 2, 3…
// in each of [Partitions] partitions (a uid's events are all in its
// partition, [Partition]), so a subscription that misses some says which: a
// [Gap] event with the numbers missed, before the event that showed it.
package presence
