package longnames

import (
	"testing"

	"github.com/sessionrpc/sessionrpc/internal/wirecheck"
)

// The JSON methods whose lines had to break encode and decode as
// encoding/json does: the constant text split across appends is whole.
func TestBrokenLinesJSON(t *testing.T) {
	prefs := RegionalQueuePreferences{
		PreferredRegions: []string{"eu-west", "eu-north"},
		LatencyLimits:    map[string]int64{"eu-west": 80},
		Fallback: &FallbackRegionSelectionPolicy{
			RegionIdentifiersToTryInOrderOfChoice: [][]map[string]string{
				{{"region": "us-east"}, nil}, nil,
			},
		},
	}
	for _, v := range []wirecheck.Wire{
		&_MatchmakingCoordinator_UpdateRegionalQueuePreferences_Args{},
		&_MatchmakingCoordinator_UpdateRegionalQueuePreferences_Args{A0: "p", A1: prefs},
		&_MatchmakingCoordinator_UpdateRegionalQueuePreferences_Result{R0: prefs},
	} {
		wirecheck.Encode(t, v)
	}
	for _, data := range []string{
		`{"a1":{"preferredRegionIdentifiersInOrderOfPreference":["a"],"maximumAcceptableLatencyPerRegionInMilliseconds":{"a":1}}}`,
		`{"a1":{"fallbackRegionSelectionPolicyWhenEveryPreferredRegionIsFullOrUnreachable":` +
			`{"regionIdentifiersToTryInOrderWhenEveryPreferredRegionIsFullOrUnreachable":[[{"r":"x"},null],null]}}}`,
		`{"a1":{"fallbackRegionSelectionPolicyWhenEveryPreferredRegionIsFullOrUnreachable":null}}`,
		`{"a1":{"preferredRegionIdentifiersInOrderOfPreference":[1]}}`,
	} {
		wirecheck.Decode(t, func() *_MatchmakingCoordinator_UpdateRegionalQueuePreferences_Args {
			return new(_MatchmakingCoordinator_UpdateRegionalQueuePreferences_Args)
		}, []byte(data))
	}
}
