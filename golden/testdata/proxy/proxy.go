// Package proxy has several proxies over one service.
package proxy

import (
	"context"

	"github.com/sessionrpc/sessionrpc/golden/testdata/internal/session"
)

// Channels manages chat channels.
//
//rpcgen:service chat.channels
//rpcgen:proxy ChannelProxy channel
//rpcgen:proxy MemberProxy sid
type Channels interface {
	// Join adds session sid to channel.
	Join(ctx context.Context, channel string, sid session.ID) error
	// Leave removes session sid from channel.
	Leave(ctx context.Context, channel string, sid session.ID) error
	// Members lists a channel's members.
	Members(ctx context.Context, channel string) ([]session.ID, error)
	// Channels lists the channels of session sid.
	Channels(ctx context.Context, sid session.ID) ([]string, error)
	// Broadcast sends msg to every channel.
	Broadcast(ctx context.Context, msg string) error
	// Kick removes session sid from every channel.
	Kick(ctx context.Context, sid session.ID, reasons ...string) error
}
