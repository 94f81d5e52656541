package session

// DefaultSettingsBudget is the settings budget of a store made without
// [WithSettingsBudget]: 960 KiB. A session's snapshot is its settings plus a few dozen
// bytes of id, frontend id and uid, so a session at this budget still travels in one
// message of a NATS server's default max_payload (1 MiB) with 64 KiB to spare for the
// call envelope, the ids and a uid.
const DefaultSettingsBudget = 1<<20 - 64<<10

// Option configures a [Store] at construction; see [NewStore].
type Option func(*options)

type options struct {
	singleSession  bool
	settingsBudget int
	incarnation    string
	observers      []Observer
}

// WithSingleSession makes the store allow at most one session per uid: binding a second
// session to a uid that already has one fails with [ErrSingleSession]. This is pomelo's
// singleSession frontend setting. It only refuses the new binding; kicking the old session
// first (to let the newest login win) is the caller's policy, done with [Store.KickByUID].
func WithSingleSession() Option {
	return func(o *options) { o.singleSession = true }
}

// WithSettingsBudget sets how large the settings of one session may grow, in bytes of
// their JSON encoding: the settings as one JSON object, keys, quotes and separators
// included, exactly as a snapshot carries them ([Settings.EncodedSize]). A change that
// would take a session's settings past n fails with [ErrSettingsBudget] and changes
// nothing; changes that do not grow the settings, deletions among them, always fit. The
// default is [DefaultSettingsBudget]; n ≤ 0 sets no budget, and then a session can grow
// too large to be read through any transport's payload limit.
func WithSettingsBudget(n int) Option {
	return func(o *options) { o.settingsBudget = n }
}

// WithIncarnation names the run of the frontend process the store lives in: an
// identifier unique to this start of the process, such as the incarnation cluster
// membership announces. Every [Info] the store hands out carries it, so that a backend
// holding a snapshot or a [Ref] from before a restart of the frontend reaches nothing of
// the new run: session ids start again at 1 in every run, and the frontend answers a
// reference naming another incarnation as a session that does not exist. Without it,
// references carry no incarnation and are not checked.
func WithIncarnation(incarnation string) Option {
	return func(o *options) { o.incarnation = incarnation }
}
