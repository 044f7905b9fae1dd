package models_test

import (
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/cosworth/cosworth/internal/dbtest"
	"github.com/cosworth/cosworth/models"
)

func TestParseDate(t *testing.T) {
	tests := []struct {
		in   string
		want models.Date
		ok   bool
	}{
		{"2024-01-02", models.Date{Year: 2024, Month: 1, Day: 2}, true},
		{"2024-1-2", models.Date{Year: 2024, Month: 1, Day: 2}, true},
		{"2024-02-29", models.Date{Year: 2024, Month: 2, Day: 29}, true},
		{"0001-01-01", models.Date{Year: 1, Month: 1, Day: 1}, true},
		{"2023-02-29", models.Date{}, false},
		{"2024-13-01", models.Date{}, false},
		{"2024-00-10", models.Date{}, false},
		{"2024-01-32", models.Date{}, false},
		{"0000-01-01", models.Date{}, false},
		{"24-01-02", models.Date{}, false},
		{"2024/01/02", models.Date{}, false},
		{"2024-01-02T00:00", models.Date{}, false},
		{" 2024-01-02", models.Date{}, false},
		{"2024-001-02", models.Date{}, false},
		{"2024--1-02", models.Date{}, false},
		{"", models.Date{}, false},
	}
	for _, tt := range tests {
		got, err := models.ParseDate(tt.in)
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("ParseDate(%q) = %v, %v; want %v ok=%v", tt.in, got, err, tt.want, tt.ok)
		}
		if err != nil && !errors.Is(err, models.ErrDateFormat) {
			t.Errorf("ParseDate(%q) error %v does not wrap ErrDateFormat", tt.in, err)
		}
	}
}

func TestDateJSONAndText(t *testing.T) {
	d := models.Date{Year: 987, Month: 6, Day: 5}
	b, err := json.Marshal(struct {
		D  models.Date  `json:"d"`
		Z  models.Date  `json:"z"`
		P  *models.Date `json:"p"`
		NP *models.Date `json:"np"`
	}{D: d, P: &d})
	if err != nil || string(b) != `{"d":"0987-06-05","z":null,"p":"0987-06-05","np":null}` {
		t.Fatalf("Marshal = %s, %v", b, err)
	}
	var back struct {
		D models.Date  `json:"d"`
		P *models.Date `json:"p"`
	}
	if err := json.Unmarshal([]byte(`{"d":"2024-03-04","p":null}`), &back); err != nil || back.D != (models.Date{Year: 2024, Month: 3, Day: 4}) || back.P != nil {
		t.Fatalf("Unmarshal = %+v, %v", back, err)
	}
	if err := json.Unmarshal([]byte(`{"d":"2024-03-40"}`), &back); err == nil {
		t.Error("invalid date accepted")
	}
	if err := json.Unmarshal([]byte(`{"d":20240304}`), &back); err == nil {
		t.Error("number accepted as a date")
	}
	if s := d.String(); s != "0987-06-05" {
		t.Errorf("String = %q", s)
	}
	if s := (models.Date{}).String(); s != "" {
		t.Errorf("zero String = %q", s)
	}
	if got := models.DateOf(time.Date(2024, 5, 6, 23, 59, 0, 0, time.UTC)); got != (models.Date{Year: 2024, Month: 5, Day: 6}) {
		t.Errorf("DateOf = %v", got)
	}
	var tx models.Date
	if err := tx.UnmarshalText([]byte("2020-02-02")); err != nil || tx.String() != "2020-02-02" {
		t.Errorf("UnmarshalText = %v, %v", tx, err)
	}
}

func TestDateScanValue(t *testing.T) {
	for _, src := range []any{"2024-05-06", []byte("2024-05-06"), "2024-05-06T00:00:00Z", "2024-05-06 00:00:00+00:00", time.Date(2024, 5, 6, 0, 0, 0, 0, time.UTC)} {
		var d models.Date
		if err := d.Scan(src); err != nil || d != (models.Date{Year: 2024, Month: 5, Day: 6}) {
			t.Errorf("Scan(%#v) = %v, %v", src, d, err)
		}
	}
	var d models.Date
	if err := d.Scan(nil); err != nil || !d.IsZero() {
		t.Errorf("Scan(nil) = %v, %v", d, err)
	}
	if err := d.Scan(42); err == nil {
		t.Error("Scan(42) accepted")
	}
	if v, err := (models.Date{}).Value(); v != nil || err != nil {
		t.Errorf("zero Value = %v, %v", v, err)
	}
}

func TestDateRoundTrip(t *testing.T) {
	for name, open := range dbtest.Dialects(t, allModels...) {
		t.Run(name, func(t *testing.T) {
			db, c := open(t), ctx(t)
			a := &Author{Name: "A", Email: "a@example.com"}
			dbtest.Must(t, insert(c, db, a), "insert author")
			pub := models.Date{Year: 1999, Month: 12, Day: 31}
			b := &Book{Title: "T", AuthorID: a.ID, PublishedOn: &pub, Released: models.Date{Year: 2000, Month: 1, Day: 1}}
			dbtest.Must(t, insert(c, db, b), "insert book")
			nb := &Book{Title: "N", AuthorID: a.ID}
			dbtest.Must(t, insert(c, db, nb), "insert book without dates")
			var got []Book
			if err := db.NewSelect().Model(&got).Order("id").Scan(c); err != nil {
				t.Fatal(err)
			}
			if len(got) != 2 || got[0].PublishedOn == nil || *got[0].PublishedOn != pub || got[0].Released != b.Released {
				t.Fatalf("read back %+v", got)
			}
			if got[1].PublishedOn != nil || !got[1].Released.IsZero() {
				t.Fatalf("null dates read back as %v, %v", got[1].PublishedOn, got[1].Released)
			}
			var n int
			err := db.NewSelect().Model((*Book)(nil)).ColumnExpr("count(*)").Where("published_on = ?", pub).Scan(c, &n)
			if err != nil || n != 1 {
				t.Fatalf("where published_on = date: %d, %v", n, err)
			}
		})
	}
}
