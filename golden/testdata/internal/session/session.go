// Package session has the session types the golden cases send.
package session

// ID identifies a session on its frontend server.
type ID uint64

// Info is what a backend learns about a session.
type Info struct {
	ID       ID                `json:"id"`
	UID      string            `json:"uid"`
	Settings map[string]string `json:"settings,omitempty"`
}
