package models_test

import (
	"reflect"
	"strings"
	"testing"

	"github.com/cosworth/cosworth/models"
)

type annNoField struct {
	ID int64 `bun:"id,pk" json:"id"`
}

func (*annNoField) Annotations() map[string]string { return map[string]string{"n": "SELECT 1"} }

type annNotScanonly struct {
	ID int64 `bun:"id,pk" json:"id"`
	N  int64 `bun:"n" json:"n"`
}

func (*annNotScanonly) Annotations() map[string]string { return map[string]string{"n": "SELECT 1"} }

type annEmpty struct {
	N int64 `bun:"n,scanonly" json:"n"`
}

func (*annEmpty) Annotations() map[string]string { return map[string]string{"n": " "} }

type annWriteOnly struct {
	N int64 `bun:"n,scanonly" json:"n" cosworth:"write_only"`
}

func (*annWriteOnly) Annotations() map[string]string { return map[string]string{"n": "SELECT 1"} }

type annOK struct {
	ID    int64 `bun:"id,pk" json:"id"`
	Total int64 `bun:"total_x,scanonly" json:"total" validate:"required"`
}

func (*annOK) Annotations() map[string]string {
	return map[string]string{"total": " ?TableAlias.id * 2 "}
}

// TestAnnotations: the model plan of a computed field, and the errors of
// an Annotations method that names no field, a field that is not
// scanonly or write-only, or an empty expression.
func TestAnnotations(t *testing.T) {
	m, err := models.MetaOf[annOK]()
	if err != nil {
		t.Fatal(err)
	}
	f := m.Field("total")
	if !f.Computed || !f.ReadOnly || f.Required || f.Column != "" || f.SelectAs != "total_x" || f.Expr != "?TableAlias.id * 2" {
		t.Errorf("computed field %+v", f)
	}
	if got := strings.Join(m.Names(true), ","); got != "id,total" {
		t.Errorf("Names(true) = %s", got)
	}
	for typ, want := range map[reflect.Type]string{
		reflect.TypeFor[annNoField]():     `Annotations names "n", which is not a JSON field`,
		reflect.TypeFor[annNotScanonly](): "is computed (Annotations) but not tagged bun:\",scanonly\"; tag it `bun:\"n,scanonly\"`",
		reflect.TypeFor[annEmpty]():       `Annotations gives "n" an empty expression`,
		reflect.TypeFor[annWriteOnly]():   "is computed (Annotations) and cannot be write_only",
	} {
		if _, err := models.MetaFor(typ); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%v: %v, want %s", typ, err, want)
		}
	}
}
