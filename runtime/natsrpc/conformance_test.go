package natsrpc_test

import (
	"testing"

	"github.com/sessionrpc/sessionrpc/runtime/rpctest"
)

func TestConformance(t *testing.T) {
	url := startNATS(t).URL()
	rpctest.Run(t, func(t *testing.T) rpctest.Network { return newNetwork(t, url) })
}
