package session

// Option configures a [Store] at construction; see [NewStore].
type Option func(*options)

type options struct {
	singleSession bool
	observer      Observer
}

// WithSingleSession makes the store allow at most one session per uid: binding a second
// session to a uid that already has one fails with [ErrSingleSession]. This is pomelo's
// singleSession frontend setting. It only refuses the new binding; kicking the old session
// first (to let the newest login win) is the caller's policy, done with [Store.KickByUID].
func WithSingleSession() Option {
	return func(o *options) { o.singleSession = true }
}
