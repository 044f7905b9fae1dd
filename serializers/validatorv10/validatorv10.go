// Package validatorv10 lets a serializer check validate rules with
// github.com/go-playground/validator/v10: the rules serializers does not
// build in (hexadecimal, uuid4, dive, e164, ...) and your own, registered
// with RegisterValidation.
//
//	v := validator.New(validator.WithRequiredStructEnabled())
//	_ = v.RegisterValidation("even", isEven)
//	s := &serializers.Serializer[Book]{Validator: validatorv10.New(v)}
//
// Importing this package links validator/v10 (about 1 MB, with its
// mimetype, locale and URN tables). Build with -tags
// validator_novalidatefn too: validator/v10's validateFn rule calls
// reflect.Value.MethodByName, which makes the linker keep every exported
// method of every type in an interface (about 9 MB more in a service that
// uses go-redis). docs/serializers.md and docs/deployment.md say more.
package validatorv10

import (
	"errors"
	"fmt"
	"reflect"

	"github.com/go-playground/validator/v10"

	"github.com/cosworth/cosworth/serializers"
)

// Validator adapts a *validator.Validate to serializers.Validator. It is
// safe for concurrent use, as validator.Validate is once configured.
type Validator struct {
	v *validator.Validate
}

var _ serializers.Validator = (*Validator)(nil)

// New returns a Validator that checks rules with v; nil means
// validator.New(validator.WithRequiredStructEnabled()). Register custom
// rules on v before the first serializer using it builds its plan.
func New(v *validator.Validate) *Validator {
	if v == nil {
		v = validator.New(validator.WithRequiredStructEnabled())
	}
	return &Validator{v: v}
}

// Compile checks tag once against a zero value of t, so an unknown rule,
// a malformed parameter or a rule that does not apply to t is an error
// when the plan is built, and returns the check the serializer runs on
// each decoded value.
func (a *Validator) Compile(t reflect.Type, tag string) (check serializers.Check, err error) {
	func() {
		defer func() {
			if r := recover(); r != nil {
				err = fmt.Errorf("%v (use a validator/v10 rule, or register yours with RegisterValidation on the *validator.Validate given to validatorv10.New)", r)
			}
		}()
		_ = a.v.Var(reflect.Zero(t).Interface(), tag)
	}()
	if err != nil {
		return nil, err
	}
	v := a.v
	return func(x any) (string, string, bool) {
		err := v.Var(x, tag)
		if err == nil {
			return "", "", true
		}
		var ve validator.ValidationErrors
		// A failure inside the value (an element under dive) is not the
		// field's own rule: report no name, so the message is generic.
		if errors.As(err, &ve) && len(ve) > 0 && ve[0].Field() == "" {
			return ve[0].Tag(), ve[0].Param(), false
		}
		return "", "", false
	}, nil
}
