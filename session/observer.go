package session

// Observer is told of a store's session events as they happen, whichever path made them: a
// backend's call through sys.sessionRemote or the frontend's own code. Metrics and audit
// logs are built on it. Install one with [WithObserver]; a store without one pays nothing.
//
// Its methods run as the store's hooks do (see the package documentation): on the
// goroutine that caused the event, after the change, with no store lock held, and possibly
// concurrently and out of order for one session when callers race on it. They must be safe
// for concurrent use and quick, as they are on the path of every such change.
type Observer interface {
	// SessionCreated follows [Store.Create].
	SessionCreated(s *Session)
	// SessionBound follows each new binding of s to uid: the event of [Store.OnBind].
	SessionBound(s *Session, uid string)
	// SessionUnbound follows each unbinding of s from uid: the event of [Store.OnUnbind].
	SessionUnbound(s *Session, uid string)
	// SettingsPushed follows each successful [Store.Push] (keys is 1) and [Store.PushAll]
	// (keys is the number of keys it named): the backends' writes to settings.
	SettingsPushed(s *Session, keys int)
	// SessionClosed follows the close of s, the event of [Store.OnClosed], with the same
	// reason. kicked is true when the server closed it ([Session.Kick], [Store.KickBySID],
	// [Store.KickByUID]) and false when its client went away ([Session.Close]).
	SessionClosed(s *Session, reason string, kicked bool)
}

// WithObserver installs o to be told of every session event of the store; see
// [Observer]. A later WithObserver replaces an earlier one.
func WithObserver(o Observer) Option {
	return func(opts *options) { opts.observer = o }
}

// observePush tells the observer of a push of keys keys to s, if *err is nil. Push and
// PushAll defer it, so that it runs once their session lock is released.
func (st *Store) observePush(s *Session, keys int, err *error) {
	if st.obs != nil && *err == nil {
		st.obs.SettingsPushed(s, keys)
	}
}
