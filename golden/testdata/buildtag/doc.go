// Package buildtag has a file that every build includes.
package buildtag
