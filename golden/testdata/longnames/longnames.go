// Package longnames has names long enough that generated lines must break
// to stay within 100 columns: signatures, calls, composite literals, the
// functions of the service descriptor, and the route constants, which stop
// aligning.
package longnames

import (
	"context"
	"time"
)

// QueueTicket is what Enqueue returns.
type QueueTicket struct {
	Identifier string
	EnqueuedAt time.Time
}

// MatchmakingCoordinator puts players into matches.
//
//rpcgen:service matchmaking.coordinator
//rpcgen:proxy PlayerMatchmakingSession playerIdentifier
type MatchmakingCoordinator interface {
	// RebalanceEveryQueueInEveryRegionNow moves players between
	// regional queues.
	RebalanceEveryQueueInEveryRegionNow(ctx context.Context, reason string) (int, error)

	// Enqueue puts a player in the queues of their regions.
	Enqueue(ctx context.Context, playerIdentifier string, preferredRegions []string,
		skillRatingsByGameMode map[string]float64, partyMemberIdentifiers []string,
		maximumAcceptableLatency time.Duration) (QueueTicket, error)

	// Leave takes a player out of every queue.
	Leave(ctx context.Context, playerIdentifier string) error
}
