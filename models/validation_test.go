package models_test

import (
	"testing"

	"github.com/cosworth/cosworth/models"
)

func TestValidationErrorBody(t *testing.T) {
	ve := &models.ValidationError{}
	if got := string(ve.AppendJSON(nil)); got != `{"non_field_errors":["Invalid input."]}` {
		t.Errorf("empty: %s", got)
	}
	ve.Add("a", "one")
	ve.Add(`b"<`, "<two>")
	ve.Add("a", "three")
	if got := string(ve.AppendJSON(nil)); got != `{"a":["one","three"],"b\"\u003c":["\u003ctwo\u003e"]}` {
		t.Errorf("body: %s", got)
	}
	if ve.Error() != "a: one" || ve.StatusCode() != 400 {
		t.Errorf("Error %q StatusCode %d", ve.Error(), ve.StatusCode())
	}
}

// TestValidationErrorAllocs guards the body's cost: appended to a buffer
// with room, it allocates nothing.
func TestValidationErrorAllocs(t *testing.T) {
	ve := &models.ValidationError{}
	ve.Add("title", "This field may not be blank.")
	ve.Add("isbn", "Ensure this field has at least 13 characters.")
	buf := make([]byte, 0, 512)
	if got := testing.AllocsPerRun(100, func() { buf = ve.AppendJSON(buf[:0]) }); got != 0 {
		t.Errorf("AppendJSON allocates %.0f times, want 0", got)
	}
}
