package models_test

import (
	"fmt"
	"reflect"
	"strings"
	"sync"
	"testing"

	"github.com/uptrace/bun"

	"github.com/cosworth/cosworth/models"
)

// MetaFor reads a model's tags once; filters, serializers and OpenAPI
// read the same plan.
func ExampleMetaFor() {
	meta, err := models.MetaFor(reflect.TypeFor[Novel]())
	if err != nil {
		panic(err)
	}
	for _, f := range meta.Fields {
		fmt.Printf("%s column=%q read_only=%v foreign_key=%v auto_now=%v\n", f.Name, f.Column, f.ReadOnly, f.ForeignKey, f.AutoNow)
	}
	fmt.Println(meta.Field("writer").Column, meta.ByColumn("writer_id").Name)
	// Output:
	// id column="id" read_only=true foreign_key=false auto_now=false
	// created_at column="created_at" read_only=true foreign_key=false auto_now=false
	// updated_at column="updated_at" read_only=true foreign_key=false auto_now=true
	// title column="title" read_only=false foreign_key=false auto_now=false
	// writer column="writer_id" read_only=false foreign_key=true auto_now=false
	// out column="out" read_only=false foreign_key=false auto_now=false
	// writer_id writer
}

type metaModel struct {
	bun.BaseModel `bun:"table:things"`
	models.Base
	ID       int64             `bun:"id,pk" json:"id"` // shadows Base.ID: the outer field wins
	Name     string            `json:"name" validate:"required,max=10,oneof='a b' c,email|url,dive,max=3" cosworth:"no_trim,unique_message=Taken\\, sorry."`
	Note     *string           `bun:"note" json:"note,omitempty" validate:"omitempty,min=2" cosworth:"default=x"`
	Secret   string            `bun:"-" json:"secret" cosworth:"write_only"`
	Hidden   string            `json:"-"`
	Tags     map[string]string `json:"tags"`
	unexport int               // unexported: not in the plan
}

var _ = metaModel{unexport: 0} // the field exists to be left out

func TestMetaFor(t *testing.T) {
	meta, err := models.MetaOf[metaModel]()
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(meta.Names(false), ","); got != "id,created_at,updated_at,name,note,secret,tags" {
		t.Errorf("names %s", got)
	}
	if got := strings.Join(meta.Names(true), ","); got != "id,created_at,updated_at,name,note,tags" {
		t.Errorf("column names %s", got)
	}
	id := meta.Field("id")
	if id.Index[0] != 2 || id.ReadOnly || id.GoName != "ID" {
		t.Errorf("id is not the outer field: %+v", id)
	}
	name := meta.Field("name")
	if name.Column != "name" || !name.Required || !name.NoTrim || name.UniqueMessage != "Taken, sorry." || name.Nullable {
		t.Errorf("name: %+v", name)
	}
	var rules []string
	for _, r := range name.Rules {
		rules = append(rules, r.Name+"="+r.Param)
	}
	if got := strings.Join(rules, " "); got != "required= max=10 oneof='a b' c = dive= max=3" {
		t.Errorf("rules %q", got)
	}
	if c := name.Rules[2].Choices; len(c) != 2 || c[0] != "a b" || c[1] != "c" {
		t.Errorf("oneof choices %q", c)
	}
	if alt := name.Rules[3]; alt.Tag != "email|url" || len(alt.Any) != 2 || alt.Any[1].Name != "url" {
		t.Errorf("alternatives %+v", alt)
	}
	note := meta.Field("note")
	if !note.OmitEmpty || note.Required || !note.Nullable || !note.HasDefault || note.Default != "x" {
		t.Errorf("note: %+v", note)
	}
	if s := meta.Field("secret"); s.Column != "" || !s.WriteOnly {
		t.Errorf("secret: %+v", s)
	}
	if meta.Field("Hidden") != nil || meta.Field("unexport") != nil || meta.ByColumn("") != nil {
		t.Error("hidden fields are in the plan")
	}
	if !meta.Field("updated_at").AutoNow || meta.Field("created_at").AutoNow {
		t.Error("auto_now is Base.UpdatedAt's only")
	}
}

// One Meta per type, also when goroutines ask for it at once.
func TestMetaForOncePerType(t *testing.T) {
	type fresh struct {
		A int `json:"a"`
	}
	var wg sync.WaitGroup
	metas := make([]*models.Meta, 8)
	for i := range metas {
		wg.Go(func() { metas[i], _ = models.MetaOf[fresh]() })
	}
	wg.Wait()
	for _, m := range metas {
		if m != metas[0] || m == nil {
			t.Fatal("MetaFor built two plans for one type")
		}
	}
}

func TestMetaForErrors(t *testing.T) {
	type dupA struct{ A string }
	type dupB struct{ A string }
	type dup struct {
		dupA
		dupB
	}
	type ptr struct {
		*models.Base
	}
	type badOpt struct {
		A string `cosworth:"readonly"`
	}
	type noMsg struct {
		A string `cosworth:"unique_message="`
	}
	for _, c := range []struct {
		t    reflect.Type
		want string
	}{
		{reflect.TypeFor[int](), "int is not a struct"},
		{reflect.TypeFor[dup](), `two fields named "A" in JSON (A and A)`},
		{reflect.TypeFor[ptr](), "embed models.Base by value"},
		{reflect.TypeFor[badOpt](), `badOpt.A: unknown cosworth tag option "readonly"`},
		{reflect.TypeFor[noMsg](), "unique_message needs a message"},
	} {
		_, err := models.MetaFor(c.t)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v: %v, want %q", c.t, err, c.want)
		}
		if _, again := models.MetaFor(c.t); again != err {
			t.Errorf("%v: the error is not cached", c.t)
		}
	}
}
