package serializers_test

import (
	"context"
	"encoding/json"
	"errors"
	"math"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cosworth/cosworth/internal/dbtest"
	"github.com/cosworth/cosworth/models"
	"github.com/cosworth/cosworth/serializers"
)

func TestAppendJSON(t *testing.T) {
	s := &serializers.Serializer[Item]{}
	on, note := true, "n"
	it := Item{
		Base:     models.Base{ID: 7, CreatedAt: time.Date(2024, 1, 2, 3, 4, 5, 123456789, time.UTC), UpdatedAt: time.Date(2024, 1, 2, 4, 4, 5, 0, time.FixedZone("X", 3600))},
		Name:     "<a&b>\u2028\"\\\n",
		Count:    -5,
		Small:    -8,
		U:        65535,
		Ratio:    0.1,
		Active:   true,
		MaybeOn:  &on,
		Born:     models.Date{Year: 2024, Month: 2, Day: 29},
		Note:     &note,
		Tags:     []string{"x"},
		Password: "secret",
		Status:   "draft",
		Level:    2,
	}
	want := `{"id":7,"created_at":"2024-01-02T03:04:05.123456Z","updated_at":"2024-01-02T03:04:05Z",` +
		`"name":"\u003ca\u0026b\u003e\u2028\"\\\n","code":"","email":"","site":"","kind":"","count":-5,"small":-8,"u":65535,` +
		`"ratio":0.1,"active":true,"maybe_on":true,"born":"2024-02-29","when":"0001-01-01T00:00:00Z","note":"n","tags":["x"],` +
		`"status":"draft","hex":"","level":2,"raw":""}`
	if got := string(s.AppendJSON(nil, &it)); got != want {
		t.Errorf("AppendJSON\n got %s\nwant %s", got, want)
	}
	var empty Item
	got := string(s.AppendJSON([]byte("prefix"), &empty))
	if !strings.HasPrefix(got, `prefix{"id":0,`) || !strings.Contains(got, `"maybe_on":null`) || !strings.Contains(got, `"born":null`) ||
		!strings.Contains(got, `"note":null`) || !strings.Contains(got, `"tags":null`) || strings.Contains(got, "password") {
		t.Errorf("zero Item: %s", got)
	}
	list := string(s.AppendList(nil, []Item{{Name: "a"}, {Name: "b"}}))
	if !strings.HasPrefix(list, `[{"id":0,`) || !strings.Contains(list, `},{"id":0,`) || !json.Valid([]byte(list)) {
		t.Errorf("AppendList: %s", list)
	}
	if got := string(s.AppendList(nil, nil)); got != "[]" {
		t.Errorf("empty list: %s", got)
	}
}

// TestStringEscapingMatchesEncodingJSON: strings are escaped byte for byte
// as encoding/json escapes them.
func TestStringEscapingMatchesEncodingJSON(t *testing.T) {
	type S struct {
		V string `json:"v"`
	}
	s := &serializers.Serializer[S]{}
	for _, v := range []string{"", "plain", "\x00\x1f\x7f", "<script>&</script>", "\u2028\u2029", "é😀", "bad \xff utf8", "tab\tquote\"back\\"} {
		want, _ := json.Marshal(S{V: v})
		if got := s.AppendJSON(nil, &S{V: v}); string(got) != string(want) {
			t.Errorf("%q: got %s want %s", v, got, want)
		}
	}
}

func TestFloatsAsPython(t *testing.T) {
	type F struct {
		V float64 `json:"v"`
		W float32 `json:"w"`
	}
	s := &serializers.Serializer[F]{}
	tests := []struct {
		v    float64
		want string
	}{
		{0, "0.0"}, {1, "1.0"}, {-2.5, "-2.5"}, {0.1, "0.1"}, {1e15, "1000000000000000.0"}, {1e16, "1e+16"},
		{1.5e16, "1.5e+16"}, {0.0001, "0.0001"}, {0.00001, "1e-05"}, {1.234e-7, "1.234e-07"}, {123456.789, "123456.789"},
		{math.MaxFloat64, "1.7976931348623157e+308"}, {math.Inf(1), "null"}, {math.NaN(), "null"}, {1e100, "1e+100"},
	}
	for _, tt := range tests {
		got := string(s.AppendJSON(nil, &F{V: tt.v}))
		if want := `{"v":` + tt.want + `,"w":0.0}`; got != want {
			t.Errorf("%v: got %s want %s", tt.v, got, want)
		}
	}
	if got := string(s.AppendJSON(nil, &F{W: 0.1})); got != `{"v":0.0,"w":0.1}` {
		t.Errorf("float32 0.1: %s", got)
	}
	// What is written reads back as the same number.
	for _, tt := range tests {
		if math.IsInf(tt.v, 0) || math.IsNaN(tt.v) {
			continue
		}
		if f, err := strconv.ParseFloat(tt.want, 64); err != nil || f != tt.v {
			t.Errorf("%s reads back as %v, %v", tt.want, f, err)
		}
	}
}

type Profile struct {
	models.Base
	Username string `json:"username"`
	Password string `json:"password"`
	OwnerID  int64  `json:"owner"`
	Bio      string `json:"bio"`
}

func TestConfiguredSerializer(t *testing.T) {
	s := &serializers.Serializer[Profile]{
		Fields:    []string{"username", "id", "owner", "password"},
		WriteOnly: []string{"password"},
		ReadOnly:  []string{"owner"},
		Represent: map[string]func([]byte, *Profile) []byte{
			"owner": func(dst []byte, p *Profile) []byte {
				return strconv.AppendQuote(dst, "user-"+strconv.FormatInt(p.OwnerID, 10))
			},
		},
	}
	p := Profile{Base: models.Base{ID: 1}, Username: "ann", Password: "pw", OwnerID: 9, Bio: "bio"}
	if got := string(s.AppendJSON(nil, &p)); got != `{"username":"ann","id":1,"owner":"user-9"}` {
		t.Errorf("AppendJSON: %s", got)
	}
	var in Profile
	if err := s.Decode(context.Background(), []byte(`{"username":"bob","password":"x","owner":5,"bio":"b","id":3}`), &in, serializers.Create); err != nil {
		t.Fatal(err)
	}
	if in.Username != "bob" || in.Password != "x" || in.OwnerID != 0 || in.Bio != "" || in.ID != 0 {
		t.Errorf("Decode: %+v", in)
	}
	plan := s.Plan()
	if len(plan.Fields) != 4 || plan.Fields[0].Name != "username" || !plan.Fields[3].WriteOnly || !plan.Fields[2].ReadOnly {
		t.Errorf("Plan: %+v", plan.Fields)
	}
	if s.Plan() != plan {
		t.Error("plan not cached")
	}

	ex := &serializers.Serializer[Profile]{Exclude: []string{"password", "created_at", "updated_at"}}
	if got := string(ex.AppendJSON(nil, &p)); got != `{"id":1,"username":"ann","owner":9,"bio":"bio"}` {
		t.Errorf("Exclude: %s", got)
	}
}

func TestPlanFor(t *testing.T) {
	p := serializers.PlanFor[Item]()
	if p != serializers.PlanFor[Item]() || p != (&serializers.Serializer[Item]{}).Plan() {
		t.Error("PlanFor is not cached and shared with the default serializer")
	}
	byName := map[string]serializers.Field{}
	for _, f := range p.Fields {
		byName[f.Name] = f
	}
	if f := byName["id"]; !f.ReadOnly || f.Column != "id" || len(f.Index) != 2 || f.GoName != "ID" {
		t.Errorf("id: %+v", f)
	}
	if f := byName["name"]; !f.Required || f.Column != "name" || f.Validate != "required,max=10" {
		t.Errorf("name: %+v", f)
	}
	if f := byName["note"]; !f.Nullable || f.Required {
		t.Errorf("note: %+v", f)
	}
	if f := byName["status"]; !f.HasDefault || f.Default != "draft" {
		t.Errorf("status: %+v", f)
	}
	if f := byName["password"]; !f.WriteOnly {
		t.Errorf("password: %+v", f)
	}
	if p.Fields[0].Name != "id" || p.Fields[3].Name != "name" {
		t.Errorf("order: %v, %v", p.Fields[0].Name, p.Fields[3].Name)
	}
}

type bunNames struct {
	ID        int64  `bun:",pk"`
	UserID    int64  `json:"user_id"`
	HTTPCode  int    `json:"http_code"`
	Renamed   string `bun:"other_name" json:"renamed"`
	NotColumn string `bun:"-" json:"not_column"`
	Rel       *Book  `bun:"rel:belongs-to,join:user_id=id" json:"rel"`
}

func TestColumns(t *testing.T) {
	want := map[string]string{"ID": "id", "user_id": "user_id", "http_code": "http_code", "renamed": "other_name", "not_column": "", "rel": ""}
	for _, f := range serializers.PlanFor[bunNames]().Fields {
		if f.Column != want[f.Name] {
			t.Errorf("%s: column %q, want %q", f.Name, f.Column, want[f.Name])
		}
	}
}

type (
	badFieldTag struct {
		X string `validate:"nosuchrule"`
	}
	badCosworth struct {
		X string `cosworth:"readonly"`
	}
	badDefault struct {
		X int `cosworth:"default=ten"`
	}
	crossField struct {
		A string `validate:"eqfield=B"`
		B string
	}
	dupA struct {
		X string
	}
	dupB struct {
		B string `json:"X"`
	}
	dupNames struct {
		dupA
		dupB
	}
	embedsPointer struct {
		*models.Base
	}
	bothWays struct {
		X string `cosworth:"read_only,write_only"`
	}
	emailOnInt struct {
		X int `validate:"email"`
	}
	noParam struct {
		X string `validate:"max"`
	}
)

func TestPlanPanics(t *testing.T) {
	tests := []struct {
		name string
		plan func()
		want string
	}{
		{"unknown validate rule", func() { serializers.PlanFor[badFieldTag]() }, "badFieldTag.X: validate tag \"nosuchrule\""},
		{"unknown cosworth option", func() { serializers.PlanFor[badCosworth]() }, `unknown cosworth tag option "readonly"`},
		{"bad default", func() { serializers.PlanFor[badDefault]() }, "default=ten is not a valid int"},
		{"cross-field rule", func() { serializers.PlanFor[crossField]() }, "write it as Serializer.Validate"},
		{"duplicate names", func() { serializers.PlanFor[dupNames]() }, `two fields named "X" in JSON (X and B)`},
		{"embedded pointer", func() { serializers.PlanFor[embedsPointer]() }, "embed models.Base by value"},
		{"read and write only", func() { serializers.PlanFor[bothWays]() }, "both read-only and write-only"},
		{"email on int", func() { serializers.PlanFor[emailOnInt]() }, `"email" applies to strings`},
		{"rule without value", func() { serializers.PlanFor[noParam]() }, `"max" needs a value`},
		{"not a struct", func() { serializers.PlanFor[int]() }, "int is not a struct"},
		{"unknown Fields name", func() { (&serializers.Serializer[Item]{Fields: []string{"nmae"}}).Plan() }, `Fields lists "nmae", which is not a JSON field of serializers_test.Item`},
		{"unknown Exclude name", func() { (&serializers.Serializer[Item]{Exclude: []string{"x"}}).Plan() }, `Exclude lists "x"`},
		{"unknown ReadOnly name", func() { (&serializers.Serializer[Item]{ReadOnly: []string{"x"}}).Plan() }, `ReadOnly lists "x"`},
		{"unknown WriteOnly name", func() { (&serializers.Serializer[Item]{WriteOnly: []string{"x"}}).Plan() }, `WriteOnly lists "x"`},
		{"Represent of an excluded field", func() {
			(&serializers.Serializer[Item]{Exclude: []string{"name"}, Represent: map[string]func([]byte, *Item) []byte{"name": nil}}).Plan()
		}, `Represent names "name"`},
		{"nil Represent", func() {
			(&serializers.Serializer[Item]{Represent: map[string]func([]byte, *Item) []byte{"name": nil}}).Plan()
		}, `Represent["name"] is nil`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			defer func() {
				r := recover()
				msg, _ := r.(string)
				if !strings.HasPrefix(msg, "cosworth/serializers: ") || !strings.Contains(msg, tt.want) {
					t.Errorf("panic %v, want a cosworth/serializers: message containing %q", r, tt.want)
				}
			}()
			tt.plan()
		})
	}
}

func TestValidate(t *testing.T) {
	db := dbtest.SQLite(t)
	calls := 0
	s := &serializers.Serializer[Item]{
		Validate: func(ctx context.Context, v *Item, mode serializers.Mode) error {
			calls++
			switch v.Name {
			case "plain":
				return errors.New("Names must not be plain.")
			case "field":
				ve := &models.ValidationError{}
				ve.Add("code", "Code needed for this name.")
				return ve
			case "down":
				return models.ErrUnavailable
			case "query":
				_, err := db.ExecContext(ctx, "SELEC 1")
				return err
			}
			return nil
		},
	}
	ctx := context.Background()
	var it Item
	if err := s.Decode(ctx, []byte(`{"name":""}`), &it, serializers.Create); err == nil || calls != 0 {
		t.Fatalf("Validate ran on invalid fields (calls %d, err %v)", calls, err)
	}
	err := s.Decode(ctx, []byte(`{"name":"plain"}`), &it, serializers.Create)
	var ve *models.ValidationError
	if !errors.As(err, &ve) || string(ve.AppendJSON(nil)) != `{"non_field_errors":["Names must not be plain."]}` {
		t.Errorf("plain error: %v", err)
	}
	err = s.Decode(ctx, []byte(`{"name":"field"}`), &it, serializers.Create)
	if !errors.As(err, &ve) || string(ve.AppendJSON(nil)) != `{"code":["Code needed for this name."]}` {
		t.Errorf("field error: %v", err)
	}
	err = s.Decode(ctx, []byte(`{"name":"down"}`), &it, serializers.Create)
	if !errors.Is(err, models.ErrUnavailable) || errors.As(err, &ve) {
		t.Errorf("unavailable: %v", err)
	}
	// A failed query's text never reaches non_field_errors.
	err = s.Decode(ctx, []byte(`{"name":"query"}`), &it, serializers.Create)
	if err == nil || errors.As(err, &ve) {
		t.Errorf("query error: %v", err)
	}
	if err := s.Decode(ctx, []byte(`{"name":"fine"}`), &it, serializers.Create); err != nil {
		t.Errorf("fine: %v", err)
	}
}

// Defaults of every kind, and a type with its own JSON methods, which
// goes through encoding/json.
type withDefaults struct {
	S  string      `json:"s" cosworth:"default=a\\, b"`
	B  bool        `json:"b" cosworth:"default=true"`
	I8 int8        `json:"i8" cosworth:"default=-3"`
	I  int         `json:"i" cosworth:"default=7"`
	U  uint32      `json:"u" cosworth:"default=9"`
	F  float32     `json:"f" cosworth:"default=0.5"`
	D  models.Date `json:"d" cosworth:"default=2024-01-02"`
	T  time.Time   `json:"t" cosworth:"default=2024-01-02T03:04:05Z"`
	P  *int64      `json:"p" cosworth:"default=5"`
	L  []int       `json:"l" cosworth:"default=[1\\,2]"`
	C  celsius     `json:"c"`
}

type celsius float64

func (c celsius) MarshalJSON() ([]byte, error) {
	return []byte(`"` + strconv.FormatFloat(float64(c), 'f', 1, 64) + `C"`), nil
}

func (c *celsius) UnmarshalJSON(b []byte) error {
	s := strings.TrimSuffix(strings.Trim(string(b), `"`), "C")
	f, err := strconv.ParseFloat(s, 64)
	*c = celsius(f)
	return err
}

func TestDefaultsAndFallback(t *testing.T) {
	s := &serializers.Serializer[withDefaults]{}
	var a, b withDefaults
	ctx := context.Background()
	if err := s.Decode(ctx, []byte(`{"c":"21.5C"}`), &a, serializers.Create); err != nil {
		t.Fatal(err)
	}
	want := `{"s":"a, b","b":true,"i8":-3,"i":7,"u":9,"f":0.5,"d":"2024-01-02","t":"2024-01-02T03:04:05Z","p":5,"l":[1,2],"c":"21.5C"}`
	if got := string(s.AppendJSON(nil, &a)); got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
	if err := s.Decode(ctx, []byte(`{}`), &b, serializers.Create); err != nil {
		t.Fatal(err)
	}
	if a.P == b.P {
		t.Error("pointer default shared between objects")
	}
	*a.P = 6
	a.L[0] = 100
	if *b.P != 5 || b.L[0] != 1 {
		t.Error("changing one object's default changed another's")
	}
	// Defaults are for creation only.
	var c withDefaults
	if err := s.Decode(ctx, []byte(`{}`), &c, serializers.Update); err != nil || c.I != 0 || c.S != "" {
		t.Errorf("Update applied defaults: %+v %v", c, err)
	}
	var ve *models.ValidationError
	if err := s.Decode(ctx, []byte(`{"c":"hot"}`), &c, serializers.Partial); !errors.As(err, &ve) || string(ve.AppendJSON(nil)) != `{"c":["Invalid value."]}` {
		t.Errorf("bad fallback value: %v", err)
	}
}

// Values decoded by encoding/json replace the old value: a map is not
// merged into, and a failed Decode leaves the old slice's elements alone.
func TestFallbackReplaces(t *testing.T) {
	type M struct {
		Name  string            `json:"name" validate:"required"`
		Tags  []string          `json:"tags"`
		Attrs map[string]string `json:"attrs"`
	}
	s := &serializers.Serializer[M]{}
	ctx := context.Background()
	cur := M{Name: "n", Tags: []string{"a", "b"}, Attrs: map[string]string{"old": "1"}}
	v := cur
	if err := s.Decode(ctx, []byte(`{"tags":["x"],"attrs":{"new":"2"},"name":""}`), &v, serializers.Partial); err == nil {
		t.Fatal("blank name accepted")
	}
	if cur.Tags[0] != "a" || len(cur.Attrs) != 1 || v.Tags[0] != "a" {
		t.Fatalf("failed Decode wrote into the old values: %+v", cur)
	}
	if err := s.Decode(ctx, []byte(`{"attrs":{"new":"2"}}`), &v, serializers.Partial); err != nil {
		t.Fatal(err)
	}
	if len(v.Attrs) != 1 || v.Attrs["new"] != "2" || len(cur.Attrs) != 1 || cur.Attrs["old"] != "1" {
		t.Fatalf("map merged: %v (old %v)", v.Attrs, cur.Attrs)
	}
}
