package validatorv10_test

import (
	"context"
	"errors"
	"fmt"

	"github.com/go-playground/validator/v10"

	"github.com/cosworth/cosworth/models"
	"github.com/cosworth/cosworth/serializers"
	"github.com/cosworth/cosworth/serializers/validatorv10"
)

// A serializer whose model uses a rule serializers does not build in
// (e164) and a rule of its own (even) gets them from validator/v10. The
// built-in rules of the same tags (required, max) stay native.
func ExampleNew() {
	type Contact struct {
		Name  string `json:"name" validate:"required,max=50"`
		Phone string `json:"phone" validate:"required,e164"`
		Seats int    `json:"seats" validate:"even"`
	}
	v := validator.New(validator.WithRequiredStructEnabled())
	_ = v.RegisterValidation("even", func(fl validator.FieldLevel) bool { return fl.Field().Int()%2 == 0 })
	s := &serializers.Serializer[Contact]{Validator: validatorv10.New(v)}

	var c Contact
	err := s.Decode(context.Background(), []byte(`{"name":"Ada","phone":"555-0100","seats":3}`), &c, serializers.Create)
	var ve *models.ValidationError
	if errors.As(err, &ve) {
		fmt.Println(string(ve.AppendJSON(nil)))
	}
	err = s.Decode(context.Background(), []byte(`{"name":"Ada","phone":"+14155550100","seats":4}`), &c, serializers.Create)
	fmt.Println(err, c.Phone, c.Seats)
	// Output:
	// {"phone":["Invalid value."],"seats":["Invalid value."]}
	// <nil> +14155550100 4
}
