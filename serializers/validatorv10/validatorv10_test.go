package validatorv10_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/go-playground/validator/v10"

	"github.com/cosworth/cosworth/models"
	"github.com/cosworth/cosworth/serializers"
	"github.com/cosworth/cosworth/serializers/validatorv10"
)

func decode[T any](t *testing.T, s *serializers.Serializer[T], body string) string {
	t.Helper()
	var v T
	err := s.Decode(context.Background(), []byte(body), &v, serializers.Partial)
	var ve *models.ValidationError
	switch {
	case err == nil:
		return ""
	case errors.As(err, &ve):
		return string(ve.AppendJSON(nil))
	}
	t.Fatalf("%s: %v", body, err)
	return ""
}

// A rule registered on the validator.Validate is usable in tags.
func TestCustomValidator(t *testing.T) {
	type E struct {
		N int `json:"n" validate:"even"`
	}
	v := validator.New()
	if err := v.RegisterValidation("even", func(fl validator.FieldLevel) bool { return fl.Field().Int()%2 == 0 }); err != nil {
		t.Fatal(err)
	}
	s := &serializers.Serializer[E]{Validator: validatorv10.New(v)}
	var e E
	if err := s.Decode(context.Background(), []byte(`{"n":4}`), &e, serializers.Create); err != nil || e.N != 4 {
		t.Fatalf("even: %v %d", err, e.N)
	}
	err := s.Decode(context.Background(), []byte(`{"n":3}`), &e, serializers.Create)
	if err == nil || err.Error() != "n: Invalid value." || e.N != 4 {
		t.Fatalf("odd: %v (n %d)", err, e.N)
	}
}

// Rules that are not built in run through validator/v10, with DRF's
// message where DRF has the rule.
func TestRulesNotBuiltIn(t *testing.T) {
	type E struct {
		ID    string   `json:"id" validate:"omitempty,uuid4"`
		Phone *string  `json:"phone" validate:"omitempty,e164"`
		Tags  []string `json:"tags" validate:"max=2,dive,max=3"`
		Note  string   `json:"note" validate:"omitempty,lowercase|numeric"`
		Name  string   `json:"name" validate:"max=5"`
	}
	s := &serializers.Serializer[E]{Validator: validatorv10.New(nil)}
	for _, tt := range []struct{ body, want string }{
		{`{"id":"9b2f7e2c-4b1a-4c55-8d3e-1f2a3b4c5d6e","phone":"+14155552671","tags":["a","bcd"],"note":"abc","name":"x"}`, ``},
		{`{"phone":null,"note":"12"}`, ``},
		{`{"id":"9b2f7e2c-4b1a-1c55-8d3e-1f2a3b4c5d6e"}`, `{"id":["Must be a valid UUID."]}`},
		{`{"phone":"555"}`, `{"phone":["Invalid value."]}`},
		{`{"tags":["a","b","c"]}`, `{"tags":["Ensure this field has no more than 2 elements."]}`},
		{`{"tags":["abcd"]}`, `{"tags":["Invalid value."]}`},
		{`{"note":"Abc"}`, `{"note":["Invalid value."]}`},
		{`{"name":"abcdef"}`, `{"name":["Ensure this field has no more than 5 characters."]}`},
	} {
		if got := decode(t, s, tt.body); got != tt.want {
			t.Errorf("%s: %s, want %s", tt.body, got, tt.want)
		}
	}
}

// A rule validator/v10 does not know, or one that does not apply to the
// field's type, panics when the plan is built.
func TestCompileErrors(t *testing.T) {
	type unknown struct {
		S string `validate:"nosuchrule"`
	}
	type wrongType struct {
		N int `validate:"lowercase"`
	}
	for name, plan := range map[string]func(){
		`unknown.S: validate tag "nosuchrule": Undefined validation function 'nosuchrule'`: func() {
			(&serializers.Serializer[unknown]{Validator: validatorv10.New(nil)}).Plan()
		},
		`wrongType.N: validate tag "lowercase": Bad field type int`: func() {
			(&serializers.Serializer[wrongType]{Validator: validatorv10.New(nil)}).Plan()
		},
	} {
		func() {
			defer func() {
				if msg, _ := recover().(string); !strings.Contains(msg, name) {
					t.Errorf("panic %q, want it to contain %q", msg, name)
				}
			}()
			plan()
		}()
	}
}
