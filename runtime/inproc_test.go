package runtime_test

import (
	"testing"

	"github.com/sessionrpc/sessionrpc/runtime"
	"github.com/sessionrpc/sessionrpc/runtime/rpctest"
)

func TestInProcConformance(t *testing.T) {
	rpctest.Run(t, func(t *testing.T) rpctest.Network { return inprocNetwork{runtime.NewInProc()} })
}

type inprocNetwork struct{ n *runtime.InProc }

func (n inprocNetwork) Transport() runtime.Transport { return n.n }
func (n inprocNetwork) MaxPayload() int              { return runtime.DefaultMaxPayload }
func (n inprocNetwork) Serve(id string, srv *runtime.Server) (rpctest.Listener, error) {
	return n.n.Serve(id, srv)
}
