// Package model is the other package named model.
package model

// User is a user as package b sees it.
type User struct {
	Nick string `json:"nick"`
}
