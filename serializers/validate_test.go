package serializers_test

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/cosworth/cosworth/models"
	"github.com/cosworth/cosworth/serializers"
)

// A rule that is not built in panics at plan time without a Validator,
// saying what to add.
func TestRuleNotBuiltIn(t *testing.T) {
	type E struct {
		Phone string `json:"phone" validate:"omitempty,e164"`
	}
	defer func() {
		msg, _ := recover().(string)
		for _, want := range []string{`E.Phone: validate tag "omitempty,e164": rule "e164" is not built into serializers`, "validatorv10.New(nil)", "serializers/validatorv10"} {
			if !strings.Contains(msg, want) {
				t.Errorf("panic %q does not say %q", msg, want)
			}
		}
	}()
	serializers.PlanFor[E]()
}

// ruleFunc is a Validator for the tests in this package: "even" on ints.
type ruleFunc struct{}

func (ruleFunc) Compile(t reflect.Type, tag string) (serializers.Check, error) {
	if tag != "even" || t.Kind() != reflect.Int {
		return nil, errors.New("only even on int")
	}
	return func(v any) (string, string, bool) { return "even", "", v.(int)%2 == 0 }, nil
}

// The Validator sees only the rules that are not built in, and its
// failures are reported with the fallback message.
func TestValidatorInterface(t *testing.T) {
	type E struct {
		N *int `json:"n" validate:"gte=0,even"`
	}
	s := &serializers.Serializer[E]{Validator: ruleFunc{}}
	for body, want := range map[string]string{
		`{"n":4}`:    "",
		`{"n":null}`: "",
		`{"n":3}`:    `{"n":["Invalid value."]}`,
		`{"n":-2}`:   `{"n":["Ensure this value is greater than or equal to 0."]}`,
		`{"n":-1}`:   `{"n":["Ensure this value is greater than or equal to 0.","Invalid value."]}`,
	} {
		var e E
		err := s.Decode(context.Background(), []byte(body), &e, serializers.Create)
		got := ""
		var ve *models.ValidationError
		if errors.As(err, &ve) {
			got = string(ve.AppendJSON(nil))
		} else if err != nil {
			t.Fatalf("%s: %v", body, err)
		}
		if got != want {
			t.Errorf("%s: %q, want %q", body, got, want)
		}
	}
	type bad struct {
		S string `validate:"odd"`
	}
	defer func() {
		if msg, _ := recover().(string); !strings.Contains(msg, `bad.S: validate tag "odd": only even on int`) {
			t.Errorf("panic %q", msg)
		}
	}()
	(&serializers.Serializer[bad]{Validator: ruleFunc{}}).Plan()
}

// The built-in rules beyond lengths and bounds, with their messages
// (validatorv10's tests check that each accepts exactly what
// validator/v10 accepts).
func TestBuiltInFormats(t *testing.T) {
	type E struct {
		Code  string `json:"code" validate:"omitempty,alphanum,startswith=SN"`
		Tag   string `json:"tag" validate:"omitempty,alpha,endswith=x"`
		Hex   string `json:"hex" validate:"omitempty,hexadecimal,contains=f"`
		ID    string `json:"id" validate:"omitempty,uuid"`
		Addr  string `json:"addr" validate:"omitempty,ip"`
		Addr4 string `json:"addr4" validate:"omitempty,ipv4"`
		Addr6 string `json:"addr6" validate:"omitempty,ipv6"`
		Note  string `json:"note" validate:"max=5|len=8"`
		Word  string `json:"word" validate:"omitempty,gt=2,lt=5"`
		Level int    `json:"level" validate:"gt=0|eq=-1"`
		Kind  string `json:"kind" validate:"omitempty,oneof=a b|len=3"`
	}
	s := &serializers.Serializer[E]{}
	for _, tt := range []struct{ body, want string }{
		{`{"code":"SN12","tag":"box","hex":"0xff","id":"123e4567-E89B-12d3-a456-426614174000","addr":"::1","addr4":"::ffff:10.0.0.1","addr6":"fe80::1","note":"12345678","word":"abc","level":-1,"kind":"xyz"}`, ``},
		{`{"code":"SN-1"}`, `{"code":["Invalid value."]}`},
		{`{"code":"X1"}`, `{"code":["Invalid value."]}`},
		{`{"tag":"bo1"}`, `{"tag":["Invalid value.","Invalid value."]}`},
		{`{"hex":"0x"}`, `{"hex":["Invalid value.","Invalid value."]}`},
		{`{"id":"123e4567e89b12d3a456426614174000"}`, `{"id":["Must be a valid UUID."]}`},
		{`{"addr":"fe80::1%eth0"}`, `{"addr":["Enter a valid IPv4 or IPv6 address."]}`},
		{`{"addr4":"::1"}`, `{"addr4":["Enter a valid IPv4 address."]}`},
		{`{"addr6":"10.0.0.1"}`, `{"addr6":["Enter a valid IPv6 address."]}`},
		{`{"note":"123456"}`, `{"note":["Ensure this field has no more than 5 characters."]}`},
		{`{"word":"ab"}`, `{"word":["Ensure this field has more than 2 characters."]}`},
		{`{"word":"abcde"}`, `{"word":["Ensure this field has fewer than 5 characters."]}`},
		{`{"level":0}`, `{"level":["Ensure this value is greater than 0."]}`},
		{`{"kind":"c"}`, `{"kind":["\"c\" is not a valid choice."]}`},
	} {
		var e E
		err := s.Decode(context.Background(), []byte(tt.body), &e, serializers.Partial)
		got := ""
		var ve *models.ValidationError
		if errors.As(err, &ve) {
			got = string(ve.AppendJSON(nil))
		} else if err != nil {
			t.Fatalf("%s: %v", tt.body, err)
		}
		if got != tt.want {
			t.Errorf("%s: %s, want %s", tt.body, got, tt.want)
		}
	}
}

// An alternative that is not built in sends the whole "a|b" to the
// Validator.
func TestAnyNotBuiltIn(t *testing.T) {
	type E struct {
		Tag string `json:"tag" validate:"omitempty,lowercase|uppercase"`
	}
	defer func() {
		if msg, _ := recover().(string); !strings.Contains(msg, `rule "lowercase|uppercase" is not built into serializers`) {
			t.Errorf("panic %q", msg)
		}
	}()
	serializers.PlanFor[E]()
}
