package views

import (
	"net/http"

	"github.com/uptrace/bun"

	"github.com/cosworth/cosworth/models"
	"github.com/cosworth/cosworth/pagination"
)

// Paginate reads into rows the page of q that r asks pg for, the way a
// list view does: pg shapes q, the views' query runner counts and reads it
// (on pgx for a PostgreSQL DB opened by models.Open, with bun elsewhere),
// and pg describes the page. q must be built on db with rows as its model;
// when pg does not order the query itself (see pagination.SelfOrdering),
// q should end its ORDER BY with the primary key so pages are stable. Use
// it in an APIView or an action that lists objects of its own, then write
// page.AppendOpen, the rows and page.AppendClose.
func Paginate[T any](r *http.Request, db *bun.DB, q *bun.SelectQuery, pg pagination.Paginator, rows *[]T) (*pagination.Page, error) {
	// Only the read engine is needed: no write checks per call.
	rn := runner[T]{db: db, pgx: models.Pool(db) != nil}
	return paginate(r, &rn, q, pg, rows)
}

// paginate is a page of a list in the three steps every list takes: pg
// shapes q, rn counts and reads, pg describes the page. List views call it
// with their own runner, Paginate with one for db.
func paginate[T any](r *http.Request, rn *runner[T], q *bun.SelectQuery, pg pagination.Paginator, rows *[]T) (*pagination.Page, error) {
	q, win, err := pg.Apply(r, q)
	if err != nil {
		return nil, err
	}
	count, win, err := rn.page(r.Context(), q, rows, win)
	if err != nil {
		return nil, err
	}
	return pg.Page(r, win, count, rows)
}
