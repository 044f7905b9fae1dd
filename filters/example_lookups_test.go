package filters_test

import (
	"fmt"
	"net/http/httptest"
	"reflect"

	"github.com/cosworth/cosworth/filters"
	"github.com/cosworth/cosworth/models"
)

// django-filter's lookups: each entry names a query parameter, a field
// alone for its exact value or field__lookup. Parameters combine with
// AND; bad values are a 400 keyed by the parameter.
func ExampleNewFields_lookups() {
	db := novelsDB()
	defer db.Close()
	f, err := filters.NewFields(db.Table(reflect.TypeFor[Novel]()), []string{"year__gte", "year__lt", "year__in", "year__range", "title__icontains"})
	if err != nil {
		panic(err)
	}
	for _, query := range []string{"?year__gte=1965", "?year__gte=1962&year__lt=1969", "?year__in=1961,1969", "?year__range=1960,1965", "?title__icontains=MESS", "?year__gte=soon&year__range=1960"} {
		r := httptest.NewRequest("GET", "http://example.com/novels/"+query, nil)
		var novels []Novel
		q, err := f.Apply(r, db.NewSelect().Model(&novels).OrderExpr("id"))
		if err != nil {
			fmt.Printf("%-31q 400 %s\n", query, err.(*models.ValidationError).AppendJSON(nil))
			continue
		}
		if err := q.Scan(r.Context()); err != nil {
			panic(err)
		}
		var titles []string
		for _, n := range novels {
			titles = append(titles, n.Title)
		}
		fmt.Printf("%-31q %q\n", query, titles)
	}
	for _, p := range f.Parameters() {
		fmt.Printf("%s: %s\n", p.Name, p.Description)
	}
	_, err = filters.NewFields(db.Table(reflect.TypeFor[Novel]()), []string{"year__icontains"})
	fmt.Println(err)
	// Output:
	// "?year__gte=1965"               ["Dune" "Dune Messiah"]
	// "?year__gte=1962&year__lt=1969" ["Dune"]
	// "?year__in=1961,1969"           ["Dune Messiah" "Solaris"]
	// "?year__range=1960,1965"        ["Dune" "Solaris"]
	// "?title__icontains=MESS"        ["Dune Messiah"]
	// "?year__gte=soon&year__range=1960" 400 {"year__gte":["Enter a number."],"year__range":["Range query expects two values."]}
	// year__gte: Only results whose year is greater than or equal to this value.
	// year__lt: Only results whose year is less than this value.
	// year__in: Only results whose year is one of these comma-separated values (at most 100).
	// year__range: Only results whose year is between these two comma-separated values, inclusive.
	// title__icontains: Only results whose title contains this text, ignoring case.
	// cosworth/filters: filter "year__icontains": field "year" of Novel (int) takes the lookups exact, gt, gte, lt, lte, in, range, isnull, not "icontains"
}
