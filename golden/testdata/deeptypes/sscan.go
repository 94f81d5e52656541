package deeptypes

import (
	"fmt"
	"strings"
)

// fmtSscan reads "x:y".
func fmtSscan(s string, x, y *int) (int, error) {
	return fmt.Sscan(strings.Replace(s, ":", " ", 1), x, y)
}
