// Package spanview shows recorded spans to a person: a trace as a tree of
// text (clusterdemo -trace) and as a waterfall in SVG (cmd/tracesvg). The
// stdout exporter's JSON has everything and is unreadable; these show the
// name, server, kind, timing, nesting and outcome of each span.
package spanview

import (
	"cmp"
	"slices"
	"time"

	"go.opentelemetry.io/otel/attribute"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"
)

// Span is what the views show of one span.
type Span struct {
	TraceID, SpanID, ParentID string // hex; ParentID is empty for a root
	Name                      string
	Kind                      string // "client", "server", "internal", ...
	// Server is the server that recorded the span: its resource's
	// service.instance.id, or service.name.
	Server string
	// Target is a client span's server.address: the server called.
	Target     string
	Start, End time.Time
	// Status is the call's rpc.response.status_code, or "ERROR" for a span
	// that ended in error without one; empty otherwise.
	Status string
}

// Duration returns how long the span lasted.
func (s Span) Duration() time.Duration { return s.End.Sub(s.Start) }

// FromSDK converts spans an SDK span processor or exporter received.
func FromSDK(spans []sdktrace.ReadOnlySpan) []Span {
	out := make([]Span, 0, len(spans))
	for _, s := range spans {
		v := Span{
			TraceID: s.SpanContext().TraceID().String(),
			SpanID:  s.SpanContext().SpanID().String(),
			Name:    s.Name(),
			Kind:    s.SpanKind().String(),
			Server:  server(s.Resource().Set()),
			Start:   s.StartTime(),
			End:     s.EndTime(),
		}
		if p := s.Parent(); p.IsValid() {
			v.ParentID = p.SpanID().String()
		}
		for _, kv := range s.Attributes() {
			switch kv.Key {
			case semconv.ServerAddressKey:
				v.Target = kv.Value.AsString()
			case semconv.RPCResponseStatusCodeKey:
				v.Status = kv.Value.AsString()
			}
		}
		if v.Status == "" && s.Status().Code.String() == "Error" {
			v.Status = "ERROR"
		}
		out = append(out, v)
	}
	return out
}

func server(res *attribute.Set) string {
	if v, ok := res.Value(semconv.ServiceInstanceIDKey); ok {
		return v.AsString()
	}
	if v, ok := res.Value(semconv.ServiceNameKey); ok {
		return v.AsString()
	}
	return ""
}

// Node is a span in its trace's tree.
type Node struct {
	Span
	Depth    int
	Children []*Node // by start time
}

// Traces groups spans by trace and returns each trace's roots, traces in
// the order of their first root's start. A span whose parent is not among
// spans (it was not recorded, or is in another process that was not
// recorded) is a root.
func Traces(spans []Span) [][]*Node {
	nodes := make(map[string]*Node, len(spans))
	for _, s := range spans {
		nodes[s.TraceID+"/"+s.SpanID] = &Node{Span: s}
	}
	byTrace := map[string][]*Node{}
	var order []string
	for _, s := range spans {
		n := nodes[s.TraceID+"/"+s.SpanID]
		if p := nodes[s.TraceID+"/"+s.ParentID]; s.ParentID != "" && p != nil {
			p.Children = append(p.Children, n)
			continue
		}
		if _, seen := byTrace[s.TraceID]; !seen {
			order = append(order, s.TraceID)
		}
		byTrace[s.TraceID] = append(byTrace[s.TraceID], n)
	}
	byStart := func(a, b *Node) int { return a.Start.Compare(b.Start) }
	out := make([][]*Node, 0, len(order))
	for _, id := range order {
		roots := byTrace[id]
		slices.SortStableFunc(roots, byStart)
		for _, r := range roots {
			setDepth(r, 0, byStart)
		}
		out = append(out, roots)
	}
	slices.SortStableFunc(out, func(a, b []*Node) int { return cmp.Compare(a[0].Start.UnixNano(), b[0].Start.UnixNano()) })
	return out
}

func setDepth(n *Node, d int, order func(a, b *Node) int) {
	n.Depth = d
	slices.SortStableFunc(n.Children, order)
	for _, c := range n.Children {
		setDepth(c, d+1, order)
	}
}

// Flatten returns the nodes of a trace in display order: each node before
// its children, children by start time.
func Flatten(roots []*Node) []*Node {
	var out []*Node
	var walk func(*Node)
	walk = func(n *Node) {
		out = append(out, n)
		for _, c := range n.Children {
			walk(c)
		}
	}
	for _, r := range roots {
		walk(r)
	}
	return out
}

// span kinds as the SDK spells them.
var (
	kindClient = trace.SpanKindClient.String()
	kindServer = trace.SpanKindServer.String()
)
