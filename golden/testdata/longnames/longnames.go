// Package longnames has names long enough that generated lines must break
// to stay within 100 columns: signatures, calls, composite literals, the
// functions of the service descriptor, the route constants, which stop
// aligning, and the generated JSON of nested values: constant text split
// across appends, and calls whose function literals break.
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

// RegionalQueuePreferences are a player's preferences, nested deep enough,
// under names long enough, that their generated JSON must break.
type RegionalQueuePreferences struct {
	PreferredRegions []string                       `json:"preferredRegionIdentifiersInOrderOfPreference"`
	LatencyLimits    map[string]int64               `json:"maximumAcceptableLatencyPerRegionInMilliseconds,omitempty"`
	Fallback         *FallbackRegionSelectionPolicy `json:"fallbackRegionSelectionPolicyWhenEveryPreferredRegionIsFullOrUnreachable"`
}

// FallbackRegionSelectionPolicy says where a player goes when no preferred
// region has room.
type FallbackRegionSelectionPolicy struct {
	RegionIdentifiersToTryInOrderOfChoice [][]map[string]string `json:"regionIdentifiersToTryInOrderWhenEveryPreferredRegionIsFullOrUnreachable"`
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

	// UpdateRegionalQueuePreferences replaces a player's preferences.
	UpdateRegionalQueuePreferences(ctx context.Context, playerIdentifier string,
		regionalQueuePreferences RegionalQueuePreferences) (RegionalQueuePreferences, error)

	// Leave takes a player out of every queue.
	Leave(ctx context.Context, playerIdentifier string) error
}
