package presence

import "context"

// PresenceRemote is the system service a frontend offers for the cluster-wide
// operations of a [Directory], beside sys.sessionRemote: pushing a message to
// users' connections (pomelo's sys.channelRemote.pushMessage) and kicking a
// uid with a count of what it closed. [Frontend] implements it; serve it
// with RegisterPresenceRemoteServer.
//
//rpcgen:service sys.presence
type PresenceRemote interface {
	// PushMessage hands msg, encoded in the client protocol, to every
	// session of each of uids on this frontend, on route (through
	// session.Conn's Send). It returns, for each uid in order, how many of
	// its sessions took the message.
	PushMessage(ctx context.Context, route string, msg []byte, uids []string) ([]int, error)

	// KickByUid kicks every session bound to uid on this frontend, in bind
	// order, with reason, and returns how many it closed.
	KickByUid(ctx context.Context, uid string, reason string) (int, error)
}
