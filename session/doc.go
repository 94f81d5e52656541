// Package session is the frontend session store: pomelo's SessionService, in Go.
//
// A frontend server owns one [Store]. Its connector calls [Store.Create] for every client
// connection, handing over a [Conn] through which the store can kick and close the client.
// Handlers on the frontend use the returned [*Session] directly; backends never hold a
// Session, they see [Info] snapshots and change the real session through sessionremote,
// which serves RPCs over the Store methods that take a session id ([Store.Bind],
// [Store.Push], [Store.KickBySID], ...).
//
// A session may be bound to one uid; a uid may have several sessions, or one under
// [WithSingleSession]. Settings are JSON values kept as raw bytes (see [Settings]) so that
// numbers survive exactly.
//
// # Concurrency
//
// Every method is safe for concurrent use. Lookups by id or uid are O(1) and take only a
// shard's read lock. Hooks ([Store.OnBind], [Store.OnUnbind], [Store.OnClosed]), an
// [Observer] ([WithObserver], for metrics) and [Conn] methods run on the goroutine that caused the event, after every store lock has been
// released, so they may call back into the store. Consequently, when goroutines race to
// bind, unbind and close the same session, the hooks of those events may run concurrently
// and in a different order from the events; callers that need ordered events must
// serialise their own calls for a session.
//
// Settings updates from several writers are last-writer-wins per key, as in pomelo: a
// backend that pushes all the settings of a stale snapshot with [Store.PushAll] overwrites
// keys another backend has pushed since the snapshot was taken. Push single keys with
// [Store.Push] where that matters.
package session
