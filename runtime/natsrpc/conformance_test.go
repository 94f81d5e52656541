package natsrpc_test

import (
	"testing"

	"github.com/sessionrpc/sessionrpc/runtime/rpctest"
)

func TestConformance(t *testing.T) {
	url := startNATS(t).URL()
	rpctest.Run(t, func(t *testing.T) rpctest.Network { return newNetwork(t, url, 0, 0) })
}

// Nodes of the wire before batches (version 1) and of the batch wire
// (version 2) talk: an old transport to a new server, and a new transport to
// an old server, pass the whole suite.
func TestConformanceAcrossWireVersions(t *testing.T) {
	url := startNATS(t).URL()
	t.Run("old transport", func(t *testing.T) {
		rpctest.Run(t, func(t *testing.T) rpctest.Network { return newNetwork(t, url, 1, 0) })
	})
	t.Run("old server", func(t *testing.T) {
		rpctest.Run(t, func(t *testing.T) rpctest.Network { return newNetwork(t, url, 0, 1) })
	})
}
