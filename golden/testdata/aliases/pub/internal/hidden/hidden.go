// Package hidden can be imported only from within pub.
package hidden

// Token is exposed by pub through an alias.
type Token struct {
	Value string `json:"value"`
}
