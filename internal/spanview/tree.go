package spanview

import (
	"fmt"
	"io"
	"text/tabwriter"
	"time"
)

// WriteTree writes one trace as an indented tree, a line per span: the
// span's name under its parent, its kind and server ("client on backend-1 →
// connector-2"), when it started after the trace began, how long it took
// and how the call ended.
//
//	sys.sessionRemote.bind          client on backend-1 → connector-1   +0s      412µs   OK
//	└─ sys.sessionRemote.bind       server on connector-1               +151µs   98µs    OK
func WriteTree(w io.Writer, roots []*Node) error {
	if len(roots) == 0 {
		_, err := fmt.Fprintln(w, "(no spans)")
		return err
	}
	nodes := Flatten(roots)
	begin := roots[0].Start
	tw := tabwriter.NewWriter(w, 0, 0, 3, ' ', 0)
	fmt.Fprintf(tw, "trace %s: %d spans\n", roots[0].TraceID, len(nodes))
	prefix := treePrefixes(roots)
	for i, n := range nodes {
		where := n.Kind
		if n.Server != "" {
			where += " on " + n.Server
		}
		if n.Kind == kindClient && n.Target != "" {
			where += " → " + n.Target
		}
		status := n.Status
		if status == "" {
			status = "-"
		}
		fmt.Fprintf(tw, "%s%s\t%s\t+%s\t%s\t%s\n", prefix[i], n.Name, where, round(n.Start.Sub(begin)), round(n.Duration()), status)
	}
	return tw.Flush()
}

// treePrefixes returns the box-drawing prefix of each node of Flatten(roots).
func treePrefixes(roots []*Node) []string {
	var out []string
	var walk func(n *Node, indent string, last, root bool)
	walk = func(n *Node, indent string, last, root bool) {
		switch {
		case root:
			out = append(out, "")
		case last:
			out = append(out, indent+"└─ ")
		default:
			out = append(out, indent+"├─ ")
		}
		child := indent
		if !root {
			if last {
				child += "   "
			} else {
				child += "│  "
			}
		}
		for i, c := range n.Children {
			walk(c, child, i == len(n.Children)-1, false)
		}
	}
	for _, r := range roots {
		walk(r, "", true, true)
	}
	return out
}

// round shortens a duration for reading: microseconds below a millisecond,
// hundredths of a millisecond above.
func round(d time.Duration) string {
	if d < time.Millisecond {
		return d.Round(time.Microsecond).String()
	}
	return d.Round(10 * time.Microsecond).String()
}
