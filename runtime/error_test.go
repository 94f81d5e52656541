package runtime

import (
	"context"
	"errors"
	"fmt"
	"testing"
)

var errThing = NewError(NotFound, "thing not found")

func TestErrorIdentitySurvivesTheWire(t *testing.T) {
	sent := fmt.Errorf("%w: id 7", errThing)
	c, key, msg := statusOf(sent)
	got := errorFromStatus(c, key, msg)
	if !errors.Is(got, errThing) {
		t.Fatalf("errors.Is(%v, errThing) = false after the wire", got)
	}
	if got.Code() != NotFound {
		t.Errorf("code = %v, want not_found", got.Code())
	}
	if got.Message() != "thing not found: id 7" {
		t.Errorf("message = %q, want %q", got.Message(), "thing not found: id 7")
	}
	if errors.Is(got, NewError(NotFound, "other")) {
		t.Error("matched a sentinel with another identity")
	}
	if errors.Is(got, NewError(Internal, "thing not found")) {
		t.Error("matched a sentinel with another code")
	}
}

func TestPlainErrorBecomesUnknown(t *testing.T) {
	c, key, msg := statusOf(errors.New("boom"))
	if c != Unknown || key != "" || msg != "boom" {
		t.Fatalf("statusOf(boom) = %v %q %q", c, key, msg)
	}
}

func TestCodeOf(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want Code
	}{
		{nil, OK},
		{errThing, NotFound},
		{fmt.Errorf("wrapped: %w", errThing), NotFound},
		{context.DeadlineExceeded, DeadlineExceeded},
		{fmt.Errorf("x: %w", context.Canceled), Canceled},
		{errors.New("plain"), Unknown},
	} {
		if got := CodeOf(tc.err); got != tc.want {
			t.Errorf("CodeOf(%v) = %v, want %v", tc.err, got, tc.want)
		}
	}
}

func TestStatusErrorsMatchContextErrors(t *testing.T) {
	if !errors.Is(errDeadline, context.DeadlineExceeded) {
		t.Error("DeadlineExceeded status does not match context.DeadlineExceeded")
	}
	if !errors.Is(errCanceled, context.Canceled) {
		t.Error("Canceled status does not match context.Canceled")
	}
	if errors.Is(errCanceled, context.DeadlineExceeded) {
		t.Error("Canceled matches context.DeadlineExceeded")
	}
}

func TestInvalidCodeFromWireIsUnknown(t *testing.T) {
	if got := errorFromStatus(999, "", "x").Code(); got != Unknown {
		t.Fatalf("code 999 became %v, want unknown", got)
	}
	if got := errorFromStatus(OK, "", "x").Code(); got != Unknown {
		t.Fatalf("an error response with code OK became %v, want unknown", got)
	}
}

func TestCodeString(t *testing.T) {
	if got := FailedPrecondition.String(); got != "failed_precondition" {
		t.Errorf("String() = %q", got)
	}
	if got := Code(77).String(); got != "code_77" {
		t.Errorf("String() = %q", got)
	}
	if got := errThing.Error(); got != "rpc error: not_found: thing not found" {
		t.Errorf("Error() = %q", got)
	}
}
