package otelrpc

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"

	"github.com/sessionrpc/sessionrpc/session"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
)

// Names of the session metrics, all counted per frontend (the attribute
// sessionrpc.frontend.id).
const (
	metricSessionsActive = "sessionrpc.session.active"
	metricSessionsBound  = "sessionrpc.session.bound"
	metricBinds          = "sessionrpc.session.binds"
	metricUnbinds        = "sessionrpc.session.unbinds"
	metricPushes         = "sessionrpc.session.pushes"
	metricKicks          = "sessionrpc.session.kicks"

	attrFrontend   = attribute.Key("sessionrpc.frontend.id")
	attrKickReason = attribute.Key("sessionrpc.kick.reason")

	// otherReason is the kick reason of every reason not in the known set.
	otherReason = "other"
)

// StoreOption instruments a [session.Store] with session metrics:
//
//	store := session.NewStore("connector-1", otelrpc.StoreOption())
//
// It is [session.WithObserver] of [NewSessionObserver].
func StoreOption(opts ...Option) session.Option {
	return session.WithObserver(NewSessionObserver(opts...))
}

// NewSessionObserver returns the observer of [StoreOption]. Its metrics,
// per frontend (sessionrpc.frontend.id): live sessions
// (sessionrpc.session.active) and those bound to a uid
// (sessionrpc.session.bound), binds, unbinds and pushes
// (sessionrpc.session.binds, .unbinds, .pushes: a PushAll is one push), and
// kicks by reason (sessionrpc.session.kicks, with sessionrpc.kick.reason one
// of the known reasons of [WithKickReasons] or "other"). A client that
// disconnects is not a kick. One observer may serve several stores.
func NewSessionObserver(opts ...Option) session.Observer {
	cfg := newConfig(opts)
	m := cfg.mp.Meter(scope)
	o := &sessionObserver{reasons: make(map[string]bool, len(cfg.kickReasons))}
	for _, r := range cfg.kickReasons {
		o.reasons[r] = true
	}
	var err error
	counter := func(name, unit, desc string) metric.Int64Counter {
		c, e := m.Int64Counter(name, metric.WithUnit(unit), metric.WithDescription(desc))
		err = errors.Join(err, e)
		return c
	}
	upDown := func(name, unit, desc string) metric.Int64UpDownCounter {
		c, e := m.Int64UpDownCounter(name, metric.WithUnit(unit), metric.WithDescription(desc))
		err = errors.Join(err, e)
		return c
	}
	o.active = upDown(metricSessionsActive, "{session}", "Live sessions: created and not yet closed.")
	o.bound = upDown(metricSessionsBound, "{session}", "Live sessions bound to a uid.")
	o.binds = counter(metricBinds, "{bind}", "New bindings of a session to a uid.")
	o.unbinds = counter(metricUnbinds, "{unbind}", "Unbindings of a session from its uid.")
	o.pushes = counter(metricPushes, "{push}", "Writes of settings by Push and PushAll.")
	o.kicks = counter(metricKicks, "{kick}", "Sessions closed by the server, by reason.")
	if err != nil {
		otel.Handle(err)
	}
	o.stores.Store(&map[string]*storeAttrs{})
	return o
}

type sessionObserver struct {
	active, bound                 metric.Int64UpDownCounter
	binds, unbinds, pushes, kicks metric.Int64Counter
	reasons                       map[string]bool // the known kick reasons

	stores atomic.Pointer[map[string]*storeAttrs] // by frontend id, copied on write
	mu     sync.Mutex                             // serialises additions to stores
}

// storeAttrs are the measurement options of one frontend's metrics.
type storeAttrs struct {
	frontend metric.MeasurementOption
	kicks    map[string]metric.MeasurementOption // by bucketed reason
}

func (o *sessionObserver) attrs(s *session.Session) *storeAttrs {
	id := s.FrontendID()
	if a := (*o.stores.Load())[id]; a != nil {
		return a
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	old := *o.stores.Load()
	if a := old[id]; a != nil {
		return a
	}
	fe := attrFrontend.String(id)
	a := &storeAttrs{frontend: metric.WithAttributeSet(attribute.NewSet(fe)), kicks: make(map[string]metric.MeasurementOption, len(o.reasons)+1)}
	for r := range o.reasons {
		a.kicks[r] = metric.WithAttributeSet(attribute.NewSet(fe, attrKickReason.String(r)))
	}
	a.kicks[otherReason] = metric.WithAttributeSet(attribute.NewSet(fe, attrKickReason.String(otherReason)))
	m := make(map[string]*storeAttrs, len(old)+1)
	for k, v := range old {
		m[k] = v
	}
	m[id] = a
	o.stores.Store(&m)
	return a
}

// SessionCreated implements [session.Observer].
func (o *sessionObserver) SessionCreated(s *session.Session) {
	o.active.Add(context.Background(), 1, o.attrs(s).frontend)
}

// SessionBound implements [session.Observer].
func (o *sessionObserver) SessionBound(s *session.Session, _ string) {
	a := o.attrs(s).frontend
	o.binds.Add(context.Background(), 1, a)
	o.bound.Add(context.Background(), 1, a)
}

// SessionUnbound implements [session.Observer].
func (o *sessionObserver) SessionUnbound(s *session.Session, _ string) {
	a := o.attrs(s).frontend
	o.unbinds.Add(context.Background(), 1, a)
	o.bound.Add(context.Background(), -1, a)
}

// SettingsPushed implements [session.Observer].
func (o *sessionObserver) SettingsPushed(s *session.Session, _ int) {
	o.pushes.Add(context.Background(), 1, o.attrs(s).frontend)
}

// SessionClosed implements [session.Observer].
func (o *sessionObserver) SessionClosed(s *session.Session, reason string, kicked bool) {
	a := o.attrs(s)
	ctx := context.Background()
	o.active.Add(ctx, -1, a.frontend)
	if s.UID() != "" {
		// A closed session keeps its uid but leaves the uid index.
		o.bound.Add(ctx, -1, a.frontend)
	}
	if kicked {
		opt, ok := a.kicks[reason]
		if !ok {
			opt = a.kicks[otherReason]
		}
		o.kicks.Add(ctx, 1, opt)
	}
}
