package runtime_test

import (
	"context"
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
func (n inprocNetwork) Serve(id string, d runtime.Dispatcher) (rpctest.Listener, error) {
	return inprocListener{n.n, id}, n.n.Serve(id, d)
}

type inprocListener struct {
	n  *runtime.InProc
	id string
}

func (l inprocListener) Stop()                              { l.n.Stop(l.id) }
func (l inprocListener) Shutdown(ctx context.Context) error { return l.n.Shutdown(ctx, l.id) }
