package filters_test

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/cosworth/cosworth/filters"
	"github.com/cosworth/cosworth/internal/dbtest"
	"github.com/cosworth/cosworth/models"
)

const invalidChoice = `["Select a valid choice. That choice is not one of the available choices."]`

// TestLookups runs every lookup on every type it applies to, on
// PostgreSQL and SQLite: the rows found, and django-filter's messages for
// bad values.
func TestLookups(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *bun.DB, log *queryLog) {
		f, err := filters.NewFields(table(db), []string{
			"price_cents__gt", "price_cents__gte", "price_cents__lt", "price_cents__lte", "price_cents__in", "price_cents__range",
			"rating__isnull", "rating__gte", "title__icontains", "title__istartswith", "title__in",
			"author__in", "author__isnull", "in_stock", "in_stock__isnull", "created_at__gte", "created_at__lt", "created_at__range",
		})
		dbtest.Must(t, err, "NewFields")
		many := make([]string, 101)
		for i := range many {
			many[i] = strconv.Itoa(i)
		}
		tests := []struct {
			query string
			want  []int64
			err   string
		}{
			{"price_cents__gt=900", []int64{1, 2, 10}, ""},
			{"price_cents__gte=1000", []int64{1, 2, 10}, ""},
			{"price_cents__lt=500", []int64{5, 6}, ""},
			{"price_cents__lte=500", []int64{3, 4, 5, 6}, ""},
			{"price_cents__gte=500.9", []int64{1, 2, 3, 4, 7, 8, 9, 10}, ""}, // truncated, as Django's int(Decimal)
			{"price_cents__gt=99999999999", nil, ""},                         // beyond int32: compares as the number
			{"price_cents__lt=99999999999", all(), ""},
			{"price_cents__gte=-99999999999", all(), ""},
			{"price_cents__lte=-99999999999", nil, ""},
			{"price_cents__gt=abc", nil, `{"price_cents__gt":["Enter a number."]}`},
			{"price_cents__gt=1+OR+1%3D1", nil, `{"price_cents__gt":["Enter a number."]}`},
			{"price_cents__in=100,500", []int64{3, 4, 5, 6}, ""},
			{"price_cents__in=100,,500,", []int64{3, 4, 5, 6}, ""}, // empty items are ignored
			{"price_cents__in=,", nil, ""},
			{"price_cents__in=100,99999999999", []int64{5, 6}, ""},
			{"price_cents__in=100,x", nil, `{"price_cents__in":["Enter a number."]}`},
			{"price_cents__in=" + strings.Join(many, ","), nil, `{"price_cents__in":["List contains 101 items, it should contain no more than 100."]}`},
			{"price_cents__in=" + strings.Join(many[:100], ","), []int64{}, ""},
			{"price_cents__range=500,800", []int64{3, 4, 7, 8}, ""},
			{"price_cents__range=500", nil, `{"price_cents__range":["Range query expects two values."]}`},
			{"price_cents__range=1,2,3", nil, `{"price_cents__range":["Range query expects two values."]}`},
			{"price_cents__range=x,5", nil, `{"price_cents__range":["Enter a number."]}`},
			{"price_cents__range=,800", nil, ""},
			{"rating__isnull=true", []int64{2, 4, 6, 8, 10}, ""},
			{"rating__isnull=False", []int64{1, 3, 5, 7, 9}, ""},
			{"rating__isnull=1", []int64{2, 4, 6, 8, 10}, ""},
			{"rating__isnull=maybe", all(), ""}, // BooleanWidget: no filter
			{"rating__gte=4.5", []int64{5, 7, 9}, ""},
			{"rating__gte=x", nil, `{"rating__gte":["Enter a number."]}`},
			{"title__icontains=GO", []int64{1, 2}, ""},
			{"title__icontains=%25", []int64{3}, ""}, // % is literal
			{"title__icontains=_", []int64{5}, ""},   // _ is literal
			{"title__icontains=%5C", []int64{7}, ""}, // \ is literal
			{"title__icontains=+", all(), ""},        // blank: no filter
			{"title__icontains=%27%29+OR+1%3D1+--", nil, ""},
			{"title__icontains=a%00", nil, `{"title__icontains":["Null characters are not allowed."]}`},
			{"title__istartswith=A", []int64{5, 6}, ""},
			{"title__istartswith=o%27", []int64{8}, ""},
			{"title__in=axb,id", []int64{6, 10}, ""},
			{"author__in=1", []int64{1, 2, 7, 8}, ""},
			{"author__in=1,2", all(), ""},
			{"author__in=2,2", []int64{3, 4, 5, 6, 9, 10}, ""},
			{"author__in=1,3", nil, `{"author__in":` + invalidChoice + `}`},
			{"author__in=x", nil, `{"author__in":` + invalidChoice + `}`},
			{"author__in=1.0", nil, `{"author__in":` + invalidChoice + `}`},
			{"author__isnull=false", all(), ""},
			{"author__isnull=true", nil, ""},
			{"in_stock=true", []int64{1, 3}, ""},
			{"in_stock__isnull=true", nil, ""},
			{"created_at__gte=2024-01-02T11:04:05Z", []int64{9, 10}, ""},
			{"created_at__lt=2024-01-02T04:04:05Z", []int64{1}, ""},
			{"created_at__range=2024-01-02T04:04:05Z,2024-01-02T06:04:05Z", []int64{2, 3, 4}, ""},
			{"created_at__gte=yesterday", nil, `{"created_at__gte":["Enter a valid date/time."]}`},
			// Parameters combine with AND.
			{"price_cents__gte=500&author__in=1", []int64{1, 2, 7, 8}, ""},
			{"price_cents__lte=500&in_stock=true", []int64{3}, ""},
			{"price_cents__gte=100&price_cents__lt=800&title__icontains=off&rating__isnull=false", []int64{3}, ""},
			// Every bad parameter, in the order given to NewFields.
			{"created_at__gte=x&author__in=9&price_cents__gt=x", nil, `{"price_cents__gt":["Enter a number."],"author__in":` + invalidChoice + `,"created_at__gte":["Enter a valid date/time."]}`},
		}
		for _, tt := range tests {
			got, err := apply(t, db, f, "http://h/books/?"+tt.query)
			if tt.err != "" {
				var fe *models.ValidationError
				if !errors.As(err, &fe) {
					t.Errorf("%s: err = %v, want a *models.ValidationError", tt.query, err)
					continue
				}
				if body := string(fe.AppendJSON(nil)); body != tt.err {
					t.Errorf("%s: body %s, want %s", tt.query, body, tt.err)
				}
				continue
			}
			if err != nil {
				t.Errorf("%s: %v", tt.query, err)
				continue
			}
			if !equal(got, tt.want) {
				t.Errorf("%s: got %v, want %v", tt.query, got, tt.want)
			}
		}
	})
}

// TestDateLookups: a models.Date field (nullable) with comparisons,
// range, in and isnull, on each database.
func TestDateLookups(t *testing.T) {
	for name, open := range dbtest.Dialects(t, (*review)(nil)) {
		t.Run(name, func(t *testing.T) {
			db := open(t)
			d1, d2 := models.Date{Year: 2024, Month: 1, Day: 2}, models.Date{Year: 2024, Month: 3, Day: 4}
			rows := []review{{Title: "first", On: &d1, Stars: 5}, {Title: "second", On: &d2, Stars: 3}, {Title: "undated", Stars: 4}}
			for i := range rows {
				rows[i].CreatedAt = t0.Add(time.Duration(i) * time.Minute)
				_, err := db.NewInsert().Model(&rows[i]).Exec(t.Context())
				dbtest.Must(t, err, "insert")
			}
			f, err := filters.NewFields(db.Table(reflect.TypeFor[review]()), []string{"on__gte", "on__lt", "on__isnull", "on__range", "on__in", "stars__in"})
			dbtest.Must(t, err, "NewFields")
			for _, tt := range []struct{ query, want string }{
				{"on__gte=2024-02-01", "second"},
				{"on__lt=2024-02-01", "first"},
				{"on__isnull=true", "undated"},
				{"on__isnull=false", "first,second"},
				{"on__range=2024-01-01,2024-12-31", "first,second"},
				{"on__range=2024-01-03,2024-03-04", "second"},
				{"on__in=2024-01-02,2024-03-04", "first,second"},
				{"stars__in=3,4", "second,undated"},
				{"on__gte=2024-02-30", `{"on__gte":["Enter a valid date."]}`},
				{"on__range=2024-01-01,someday", `{"on__range":["Enter a valid date."]}`},
				{"on__gte=2024-02-01&stars__in=3,5", "second"},
			} {
				r := httptest.NewRequest(http.MethodGet, "http://h/reviews/?"+tt.query, nil)
				var got []review
				q, err := f.Apply(r, db.NewSelect().Model(&got))
				var s string
				if fe, ok := err.(*models.ValidationError); ok {
					s = string(fe.AppendJSON(nil))
				} else {
					dbtest.Must(t, err, "apply")
					dbtest.Must(t, q.OrderExpr("?TableAlias.id").Scan(t.Context()), "scan")
					var titles []string
					for _, r := range got {
						titles = append(titles, r.Title)
					}
					s = strings.Join(titles, ",")
				}
				if s != tt.want {
					t.Errorf("%s: got %s, want %s", tt.query, s, tt.want)
				}
			}
		})
	}
}

// TestLookupErrors: lookups that do not exist or do not suit a field's
// type are setup errors that say which lookups the field takes.
func TestLookupErrors(t *testing.T) {
	db := dbtest.SQLite(t)
	for _, c := range []struct{ name, want string }{
		{"price_cents__like", `filter "price_cents__like": unknown lookup "like" (lookups: exact, gt, gte, lt, lte, in, range, isnull, icontains, istartswith)`},
		{"price_cents__icontains", `filter "price_cents__icontains": field "price_cents" of book (int32) takes the lookups exact, gt, gte, lt, lte, in, range, isnull, not "icontains"`},
		{"in_stock__gt", `takes the lookups exact, isnull, not "gt"`},
		{"author__gte", `takes the lookups exact, in, isnull, not "gte"`},
		{"secret__gt", `filter field "secret" is not a field of book`},
		{"nope__in", `filter field "nope" is not a field of book`},
	} {
		_, err := filters.NewFields(table(db), []string{c.name})
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want %s", c.name, err, c.want)
		}
	}
	if _, err := filters.NewFields(table(db), []string{"author", "author"}); err == nil {
		t.Error("a filter listed twice is accepted")
	}
}
