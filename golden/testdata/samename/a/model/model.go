// Package model is one of two packages named model.
package model

// User is a user as package a sees it.
type User struct {
	Name string `json:"name"`
}
