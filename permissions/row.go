package permissions

import (
	"net/http"
	"reflect"
	"strconv"
	"sync"

	"github.com/uptrace/bun/schema"

	"github.com/cosworth/cosworth/authentication"
)

// A RowPermission is a Permission whose object-level check the database
// can also make, as a condition on the object's row. A detail view whose
// object permissions are all RowPermissions updates or deletes an object
// in one statement (UPDATE or DELETE ... WHERE the key AND every
// condition ... RETURNING) instead of reading it, checking it in Go and
// then writing it; when that statement finds no row, the view reads the
// object and answers 404 or 403 (or writes it) exactly as it does without
// RowPermissions. The
// built-in permissions are all RowPermissions, and so are And and Or of
// RowPermissions (Not is checked in Go).
//
// RowCondition returns SQL over the columns of t, the view's table, with
// a ? for each of args (integers, strings or booleans; no other ? in
// cond), that holds only for rows whose object HasObjectPermission(r,
// obj) grants: a row it wrongly leaves out costs the slower path and
// changes no answer, a row it wrongly lets in is written without the Go
// check. An empty cond grants every row. ok is false when it cannot say
// for r (the view then checks in Go). For example, for books whose
// "owner" column holds the owner's username:
//
//	func (ownerOnly) RowCondition(r *http.Request, _ *schema.Table) (string, []any, bool) {
//		p := authentication.PrincipalFrom(r.Context())
//		if p == nil {
//			return "", nil, false
//		}
//		return "owner = ?", []any{p.Username}, true
//	}
type RowPermission interface {
	Permission
	RowCondition(r *http.Request, t *schema.Table) (cond string, args []any, ok bool)
}

// RowConditions returns the row conditions of every permission in perms
// for r, appended to conds and args (empty conditions left out); ok is
// false when one of perms is not a RowPermission or cannot say for r.
func RowConditions(r *http.Request, t *schema.Table, perms []Permission, conds []string, args []any) (_ []string, _ []any, ok bool) {
	for _, p := range perms {
		rp, isRow := p.(RowPermission)
		if !isRow {
			return conds, args, false
		}
		cond, a, ok := rp.RowCondition(r, t)
		if !ok {
			return conds, args, false
		}
		if cond != "" {
			conds = append(conds, cond)
			args = append(args, a...)
		}
	}
	return conds, args, true
}

// RowCondition grants every row: DjangoModelPermissions has no
// object-level check.
func (ModelPerms) RowCondition(*http.Request, *schema.Table) (string, []any, bool) {
	return "", nil, true
}

// RowCondition is every permission's condition.
func (a and) RowCondition(r *http.Request, t *schema.Table) (string, []any, bool) {
	var buf [4]string
	conds, args, ok := RowConditions(r, t, a, buf[:0], nil)
	if !ok {
		return "", nil, false
	}
	return joinConds(conds, "AND"), args, true
}

// joinConds joins conds with op (AND, OR), each in parentheses when there
// are several; none is "".
func joinConds(conds []string, op string) string {
	switch len(conds) {
	case 0:
		return ""
	case 1:
		return conds[0]
	}
	s := "(" + conds[0]
	for _, c := range conds[1:] {
		s += ") " + op + " (" + c
	}
	return s + ")"
}

// RowCondition is the condition of Or's object check: a row passes when
// one of the permissions that grants the request (HasPermission, asked
// again as HasObjectPermission does) grants the row. One of those that
// grants every row grants every row; ok is false when one of them is not
// a RowPermission or cannot say for r, or when none grants the request.
func (o or) RowCondition(r *http.Request, t *schema.Table) (string, []any, bool) {
	var (
		buf  [4]string
		args []any
	)
	conds := buf[:0]
	for _, p := range o {
		if !p.HasPermission(r) {
			continue
		}
		rp, isRow := p.(RowPermission)
		if !isRow {
			return "", nil, false
		}
		cond, a, ok := rp.RowCondition(r, t)
		switch {
		case !ok:
			return "", nil, false
		case cond == "":
			return "", nil, true
		}
		conds = append(conds, cond)
		args = append(args, a...)
	}
	if len(conds) == 0 {
		return "", nil, false
	}
	return joinConds(conds, "OR"), args, true
}

// RowCondition compares the owner's column with the principal's id (or
// username); staff, when Staff is set, are granted every row. The column
// is the field of T that OwnerID (or OwnerName) returns, found once per
// table by calling it on probe values; when it returns anything else (a
// computed value, a relation's field), ok is false and the view checks in
// Go.
func (o OwnerOrReadOnly[T]) RowCondition(r *http.Request, t *schema.Table) (string, []any, bool) {
	if SafeMethod(r.Method) {
		return "", nil, true
	}
	p := authentication.PrincipalFrom(r.Context())
	if p == nil {
		return "", nil, false
	}
	if o.Staff && p.IsStaff {
		return "", nil, true
	}
	switch {
	case o.OwnerID != nil:
		if p.ID == 0 {
			return "", nil, false
		}
		if cond := ownerColumn(t, o.OwnerID); cond != "" {
			return cond, []any{p.ID}, true
		}
	case o.OwnerName != nil:
		if p.Username == "" {
			return "", nil, false
		}
		if cond := ownerColumn(t, o.OwnerName); cond != "" {
			return cond, []any{p.Username}, true
		}
	}
	return "", nil, false
}

// ownerKey identifies one owner accessor on one table.
type ownerKey struct {
	t  *schema.Table
	fn uintptr
}

// ownerConds caches ownerColumn's answers: "" when the accessor is not a
// plain field read.
var ownerConds sync.Map // ownerKey -> string

// ownerColumn returns "alias.column = ?" for the column of t whose field
// get returns, or "" when get does not return one field of T as it is:
// get is called on two probes, each with distinct values in every field
// of get's result type.
func ownerColumn[T any, V int64 | string](t *schema.Table, get func(*T) V) string {
	key := ownerKey{t, reflect.ValueOf(get).Pointer()}
	if v, ok := ownerConds.Load(key); ok {
		return v.(string)
	}
	cond := ""
	if f := probeOwner(t, get); f != nil {
		cond = string(t.SQLAlias) + "." + string(f.SQLName) + " = ?"
	}
	ownerConds.Store(key, cond)
	return cond
}

// probeOwner returns the field of t get reads, or nil.
func probeOwner[T any, V int64 | string](t *schema.Table, get func(*T) V) (found *schema.Field) {
	if t == nil || t.Type != reflect.TypeFor[T]() {
		return nil
	}
	want := reflect.TypeFor[V]()
	var fields []*schema.Field
	for _, f := range t.Fields {
		if f.IndirectType == want && f.StructField.Type == want {
			fields = append(fields, f)
		}
	}
	defer func() {
		if recover() != nil {
			found = nil // get reads through a nil relation: not a column
		}
	}()
	for round := range 2 {
		v := reflect.New(t.Type)
		for i, f := range fields {
			fv := f.Value(v.Elem())
			if !fv.CanSet() {
				return nil
			}
			n := int64(1_000_003 + i*7919 + round*104_729)
			if want.Kind() == reflect.String {
				fv.SetString("cosworth-probe-" + strconv.FormatInt(n, 10))
			} else {
				fv.SetInt(n)
			}
		}
		got := reflect.ValueOf(get(v.Interface().(*T)))
		var match *schema.Field
		for _, f := range fields {
			if f.Value(v.Elem()).Equal(got) {
				if match != nil {
					return nil
				}
				match = f
			}
		}
		if match == nil || (found != nil && match != found) {
			return nil
		}
		found = match
	}
	return found
}
