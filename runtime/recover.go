package runtime

import (
	"fmt"
	"log/slog"
	"reflect"
	goruntime "runtime"
	"strconv"
)

// ErrPanicked is the Internal error of a call whose handler (or
// interceptor, or codec) panicked. The panic value may hold secrets, so it
// goes to the server's log only, in one record with its stack; the caller
// gets this error, which matches with errors.Is on both sides of the wire.
// Server-side logging built on interceptors or an [Observer] can recognise
// it so as not to log the same panic twice.
var ErrPanicked = NewError(Internal, "internal error")

// panicked logs a recovered panic once, with its value and its stack as a
// list of frames (an array in JSON logs), and returns the error the caller
// gets. where says what panicked.
func panicked(log *slog.Logger, route, where string, p any) *Error {
	log.Error("sessionrpc: "+where+" panicked", "route", route, "panic", fmt.Sprint(p), "stack", stackFrames(4))
	return wrapf(ErrPanicked, "%s: %s panicked", route, where)
}

// stackFrames returns the calling goroutine's stack, skipping skip frames,
// as "function file:line" strings.
func stackFrames(skip int) []string {
	pcs := make([]uintptr, 64)
	n := goruntime.Callers(skip, pcs)
	frames := goruntime.CallersFrames(pcs[:n])
	out := make([]string, 0, n)
	for {
		f, more := frames.Next()
		out = append(out, f.Function+" "+f.File+":"+strconv.Itoa(f.Line))
		if !more {
			return out
		}
	}
}

// errNilError answers a handler or interceptor that returned a nil pointer
// as a non-nil error, such as var e *Error; return e: the caller would see
// an error that crashes when read.
var errNilError = NewError(Internal, "handler returned a nil *runtime.Error")

// nilPointerError reports whether err is a non-nil error interface holding
// a nil pointer.
func nilPointerError(err error) bool {
	if err == nil {
		return false
	}
	if e, ok := err.(*Error); ok {
		return e == nil
	}
	v := reflect.ValueOf(err)
	return v.Kind() == reflect.Pointer && v.IsNil()
}

// checkNilError replaces a nil-pointer error with errNilError, and logs it.
func checkNilError(log *slog.Logger, route string, err error) error {
	if !nilPointerError(err) {
		return err
	}
	log.Error("sessionrpc: handler returned a nil pointer as its error", "route", route, "type", fmt.Sprintf("%T", err))
	if _, ok := err.(*Error); ok {
		return wrapf(errNilError, "%s", route)
	}
	return wrapf(NewError(Internal, fmt.Sprintf("handler returned a nil %T", err)), "%s", route)
}
