// Package session is the frontend session store: pomelo's SessionService, in Go.
//
// A frontend server owns one [Store]. Its connector calls [Store.Create] for every client
// connection, handing over a [Conn] through which the store can kick and close the client.
// Handlers on the frontend use the returned [*Session] directly; backends never hold a
// Session, they see [Info] snapshots and change the real session through sessionremote,
// which serves RPCs over the Store methods that take a session id ([Store.Bind],
// [Store.Push], [Store.KickBySID], ...).
//
// The connector's [Conn] also delivers messages the server pushes to a client
// ([Session.Send]).
//
// A session may be bound to one uid; a uid may have several sessions, or one under
// [WithSingleSession], listed and kicked in the order they were bound. Settings are JSON
// values kept as raw bytes (see [Settings]) so that numbers survive exactly; how many bytes
// one session's settings may take is the store's budget ([WithSettingsBudget]).
//
// # Concurrency
//
// Every method is safe for concurrent use. Lookups by id are O(1), by uid O(sessions of
// the uid), and take only a shard's read lock. Reading a whole session takes no lock
// while a version of it is current: all its readers share one immutable version of the
// session ([Store.ExportShared]), which nothing modifies; a change makes a new version.
// A session's lock is held only while a change of a few keys is made, so readers never
// queue behind one another on it.
//
// Hooks ([Store.OnBind], [Store.OnUnbind], [Store.OnClosed]) and [Conn] methods run on the
// goroutine that caused the event, after every store lock has been released, so they may
// call back into the store. Consequently, when goroutines race to bind, unbind and close
// the same session, the hooks of those events may run concurrently and in a different
// order from the events; callers that need ordered events must serialise their own calls
// for a session, or use an [Observer] ([WithObserver], [Store.Observe]): observers also
// run without store locks, but are told of one session's events one at a time and in the
// order of the changes, which is what metrics and the cluster's session events need.
//
// # Revisions
//
// Every session has a revision ([Session.Revision], [Info.Revision]): 1 when it is
// created, one more after each change of its uid or settings; calls that change nothing
// leave it. [Store.Push] and [Store.PushAll] are last-writer-wins per key, as in pomelo;
// [Store.PushIf] and [Store.PushAllIf] write only if the session is still at the revision
// the writer read, and otherwise return [ErrRevisionConflict], so that writers who read,
// change and write back lose no one's update.
package session
